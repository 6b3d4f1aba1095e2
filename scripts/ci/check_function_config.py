#!/usr/bin/env python3
"""Check the Azure Functions configuration of this custom-handler app.

Validates host.json and every <Function>/function.json against the vendored
SchemaStore schemas (draft-04, in schemas/), then applies the project's own
rules, which the schemas are too loose to express:

host.json
  * version "2.0", extensions.http.routePrefix "api"
  * customHandler.description.defaultExecutablePath is "handler"
  * customHandler.enableForwardingHttpRequest is true (the handler serves the
    original request at /api/<route>; see docs/functions-host.md)

function.json (one per function folder)
  * the folder name is a valid function name, unique ignoring case
  * exactly one httpTrigger binding: direction "in", authLevel "anonymous",
    an explicit route that does not start with "/" or "api/", and a non-empty
    list of lower-case HTTP methods
  * exactly one http output binding, and no other bindings (with any other
    binding the host stops forwarding the raw request and sends the
    invocation payload instead, which the handler does not speak)
  * no two functions claim the same route and method

local.settings.json.example (source tree only)
  * valid against the local.settings.json schema, FUNCTIONS_WORKER_RUNTIME
    is "custom", and it holds none of the settings the platform sets or that
    must stay unset locally

Two layouts are understood:
  * the source tree (default): ROOT/host.json and ROOT/functions/*/function.json
  * a package such as dist/ (no functions/ folder): ROOT/host.json,
    ROOT/*/function.json and the executable named by defaultExecutablePath,
    which must exist and be executable.

Prints one line per file checked and a final "schema: N passed, M failed"
line. Exit status: 0 when everything passed, 1 when a check failed, 2 on a
usage error (missing root, missing schemas).

Dependencies: the Python standard library and `jsonschema`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

try:
    from jsonschema import Draft4Validator
    from jsonschema.exceptions import SchemaError, best_match
except ImportError:  # pragma: no cover - environment problem, not a check failure
    print("error: the 'jsonschema' package is required (pip install jsonschema)", file=sys.stderr)
    sys.exit(2)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCHEMAS = REPO_ROOT / "schemas"

HOST_SCHEMA = "host.schema.json"
FUNCTION_SCHEMA = "function.schema.json"
LOCAL_SETTINGS_SCHEMA = "local.settings.schema.json"
LOCAL_SETTINGS_EXAMPLE = "local.settings.json.example"

MAX_SCHEMA_MESSAGES = 5
EXPECTED_EXECUTABLE = "handler"
EXPECTED_ROUTE_PREFIX = "api"
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
# The host's own rule for function names (letters, digits, '_' and '-',
# starting with a letter, at most 128 characters), matched ignoring case.
FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,127}$")
# Settings that must not appear in local.settings.json.example: the host or
# the platform sets the first three; the last two must stay unset locally
# (see docs/functions-host.md).
# Set by the host or the platform; a local value would only mislead.
FORBIDDEN_LOCAL_SETTINGS = (
    "FUNCTIONS_CUSTOMHANDLER_PORT",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
)
# Only meaningful in Azure (they make the handler use the managed identity); locally they stay
# empty, which the handler reads as unset.
AZURE_ONLY_LOCAL_SETTINGS = (
    "KEY_VAULT_URI",
    "AZURE_CLIENT_ID",
)


class ConfigError(Exception):
    """A file could not be read as JSON."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ConfigError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8: {exc}") from exc
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc


def _where(error: Any) -> str:
    parts = [str(p) for p in error.absolute_path]
    return "/" + "/".join(parts) if parts else "(root)"


def schema_errors(validator: Draft4Validator, instance: Any, detail: Draft4Validator | None = None) -> list[str]:
    """Return readable schema errors, or [] when the instance is valid.

    `detail` is an optional narrower validator used only to explain a failure;
    the SchemaStore host.json schema is a oneOf over versions, whose own
    errors are too coarse to act on.
    """
    errors = list(validator.iter_errors(instance))
    if not errors:
        return []
    if detail is not None:
        errors = list(detail.iter_errors(instance)) or errors
    explained: list[str] = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        for leaf in explain(error):
            line = f"schema: {_where(leaf)}: {leaf.message}"
            if line not in explained:
                explained.append(line)
    return explained[:MAX_SCHEMA_MESSAGES] or [f"schema: {best_match(errors).message}"]


def explain(error: Any) -> list[Any]:
    """Narrow a oneOf/anyOf failure down to the branch that was meant.

    The SchemaStore schemas pick a binding kind with (nested) oneOf, so one
    wrong field is reported as "not valid under any of the given schemas".
    Choose the branch whose discriminators ("type", then "direction" or
    "version") matched, and report that branch's own errors instead.
    """
    base = len(error.absolute_path)

    def leaf_score(e: Any) -> tuple[int, int, int]:
        path = list(e.absolute_path)
        name = str(path[base]) if len(path) == base + 1 else None
        return (int(name == "type"), int(name in ("direction", "version")), 1)

    def resolve(err: Any) -> tuple[tuple[int, int, int], list[Any]]:
        if err.validator not in ("oneOf", "anyOf") or not err.context:
            return leaf_score(err), [err]
        branches: dict[Any, list[Any]] = {}
        for sub in err.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        candidates = []
        for subs in branches.values():
            resolved = [resolve(sub) for sub in subs]
            total = tuple(sum(part[0][i] for part in resolved) for i in range(3))
            candidates.append((total, [leaf for part in resolved for leaf in part[1]]))
        candidates.sort(key=lambda c: c[0])
        if len(candidates) > 1 and candidates[0][0] == candidates[1][0]:
            return candidates[0][0], [err]  # ambiguous: keep the coarse message
        return candidates[0]

    return resolve(error)[1]


def make_validators(schema_dir: Path) -> dict[str, Any]:
    validators: dict[str, Any] = {}
    for key, name in (("host", HOST_SCHEMA), ("function", FUNCTION_SCHEMA), ("local", LOCAL_SETTINGS_SCHEMA)):
        path = schema_dir / name
        if not path.is_file():
            if key == "local":
                validators[key] = None
                continue
            raise FileNotFoundError(f"schema not found: {path}")
        schema = json.loads(path.read_text(encoding="utf-8"))
        try:
            Draft4Validator.check_schema(schema)
        except SchemaError as exc:
            raise ValueError(f"invalid schema {path}: {exc.message}") from exc
        validators[key] = Draft4Validator(schema)
        if key == "host":
            # Same definitions, but only the version-2 branch: precise messages.
            v2 = {"$ref": "#/definitions/version-2", "definitions": schema["definitions"]}
            validators["host_v2"] = Draft4Validator(v2)
    return validators


def check_host(data: Any, validators: dict[str, Any]) -> list[str]:
    problems = schema_errors(validators["host"], data, validators["host_v2"])
    if not isinstance(data, dict):
        return problems or ["host.json must be a JSON object"]
    if data.get("version") != "2.0":
        problems.append(f'version must be "2.0", found {data.get("version")!r}')
    handler = data.get("customHandler")
    if not isinstance(handler, dict):
        problems.append("customHandler section is missing")
    else:
        description = handler.get("description")
        exe = description.get("defaultExecutablePath") if isinstance(description, dict) else None
        if exe != EXPECTED_EXECUTABLE:
            problems.append(
                f"customHandler.description.defaultExecutablePath must be {EXPECTED_EXECUTABLE!r}, found {exe!r}"
            )
        if handler.get("enableForwardingHttpRequest") is not True:
            problems.append("customHandler.enableForwardingHttpRequest must be true")
        if handler.get("enableProxyingHttpRequest"):
            problems.append(
                "customHandler.enableProxyingHttpRequest must not be set (this app uses enableForwardingHttpRequest)"
            )
    http = data.get("extensions", {}).get("http", {}) if isinstance(data.get("extensions"), dict) else {}
    prefix = http.get("routePrefix") if isinstance(http, dict) else None
    if prefix != EXPECTED_ROUTE_PREFIX:
        problems.append(f"extensions.http.routePrefix must be {EXPECTED_ROUTE_PREFIX!r}, found {prefix!r}")
    return problems


def check_function(name: str, data: Any, validators: dict[str, Any], claimed: dict[tuple[str, str], str]) -> list[str]:
    problems = schema_errors(validators["function"], data)
    if not FUNCTION_NAME.match(name):
        problems.append(f"folder name {name!r} is not a valid function name")
    if not isinstance(data, dict) or not isinstance(data.get("bindings"), list):
        return problems + ["function.json must be an object with a 'bindings' array"]
    if data.get("disabled") is True:
        problems.append("the function is disabled")

    bindings = [b for b in data["bindings"] if isinstance(b, dict)]
    if len(bindings) != len(data["bindings"]):
        problems.append("every binding must be an object")
    triggers = [b for b in bindings if b.get("type") == "httpTrigger"]
    outputs = [b for b in bindings if b.get("type") == "http" and b.get("direction") == "out"]
    others = [b for b in bindings if b not in triggers and b not in outputs]

    if len(triggers) != 1:
        problems.append(f"expected exactly one httpTrigger binding, found {len(triggers)}")
    if len(outputs) != 1:
        problems.append(f"expected exactly one http output binding, found {len(outputs)}")
    if others:
        kinds = ", ".join(sorted({f"{b.get('type')}/{b.get('direction')}" for b in others}))
        problems.append(f"only an httpTrigger and an http output are allowed (found {kinds})")

    for trigger in triggers[:1]:
        if trigger.get("direction") != "in":
            problems.append('httpTrigger direction must be "in"')
        if trigger.get("authLevel") != "anonymous":
            problems.append(f'httpTrigger authLevel must be "anonymous", found {trigger.get("authLevel")!r}')
        route = trigger.get("route")
        if not isinstance(route, str) or not route.strip():
            problems.append("httpTrigger needs an explicit, non-empty route")
            route = None
        elif route.startswith("/"):
            problems.append(f"route {route!r} must not start with '/'")
        elif route == "api" or route.startswith("api/"):
            problems.append(f"route {route!r} must not include the 'api' prefix (host.json adds it)")
        methods = trigger.get("methods")
        if not isinstance(methods, list) or not methods:
            problems.append("httpTrigger methods must be a non-empty list")
        else:
            for method in methods:
                if not isinstance(method, str) or method != method.lower():
                    problems.append(f"method {method!r} must be a lower-case string")
                elif method not in HTTP_METHODS:
                    problems.append(f"method {method!r} is not an HTTP method the trigger supports")
            if len(set(map(str, methods))) != len(methods):
                problems.append("methods contain duplicates")
            if route is not None:
                for method in methods:
                    key = (route.strip("/").lower(), str(method).lower())
                    if key in claimed and claimed[key] != name:
                        problems.append(f"{method.upper()} {route} is already served by {claimed[key]}")
                    claimed.setdefault(key, name)
    return problems


def check_local_settings(data: Any, validators: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if validators.get("local") is not None:
        problems += schema_errors(validators["local"], data)
    if not isinstance(data, dict) or not isinstance(data.get("Values"), dict):
        return problems + ["must be an object with a 'Values' object"]
    values = data["Values"]
    if values.get("FUNCTIONS_WORKER_RUNTIME") != "custom":
        problems.append('Values.FUNCTIONS_WORKER_RUNTIME must be "custom"')
    for key in FORBIDDEN_LOCAL_SETTINGS:
        if key in values:
            problems.append(f"Values.{key} must not be in the example (see docs/functions-host.md)")
    for key in AZURE_ONLY_LOCAL_SETTINGS:
        if values.get(key, "") != "":
            problems.append(f"Values.{key} must be empty locally (see docs/functions-host.md)")
    for key, value in values.items():
        if not isinstance(value, str):
            problems.append(f"Values.{key} must be a string")
    return problems


def function_files(root: Path) -> tuple[bool, list[Path]]:
    """Return (is_source_tree, sorted function.json paths)."""
    functions_dir = root / "functions"
    if functions_dir.is_dir():
        base, source = functions_dir, True
    else:
        base, source = root, False
    found = sorted(p / "function.json" for p in base.iterdir() if p.is_dir() and (p / "function.json").is_file())
    if source:
        # A folder under functions/ without function.json is a mistake, not noise.
        for p in sorted(base.iterdir()):
            if p.is_dir() and not (p / "function.json").is_file():
                found.append(p / "function.json")
    return source, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT,
        help="app root to check: the repository (default) or a package such as dist/",
    )
    parser.add_argument(
        "--schemas", type=Path, default=DEFAULT_SCHEMAS, help="folder with the vendored schemas (default: schemas/)"
    )
    args = parser.parse_args(argv)

    root: Path = args.root.resolve()
    if not root.is_dir():
        print(f"error: root {root} is not a directory", file=sys.stderr)
        return 2
    try:
        validators = make_validators(args.schemas.resolve())
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    results: list[tuple[str, list[str]]] = []

    def record(label: str, problems: list[str]) -> None:
        results.append((label, problems))
        if problems:
            print(f"FAIL {label}")
            for problem in problems:
                print(f"     - {problem}")
        else:
            print(f"ok   {label}")

    host_path = root / "host.json"
    host_data: Any = None
    try:
        host_data = load_json(host_path)
        record("host.json", check_host(host_data, validators))
    except ConfigError as exc:
        record("host.json", [str(exc)])

    source, files = function_files(root)
    if not files:
        record("functions", ["no function folders found" + (" under functions/" if source else "")])

    claimed: dict[tuple[str, str], str] = {}
    seen_names: dict[str, str] = {}
    for path in files:
        name = path.parent.name
        label = str(path.relative_to(root))
        problems: list[str] = []
        if name.lower() in seen_names:
            problems.append(f"function name {name!r} clashes with {seen_names[name.lower()]!r} (names ignore case)")
        seen_names.setdefault(name.lower(), name)
        try:
            data = load_json(path)
            problems += check_function(name, data, validators, claimed)
        except ConfigError as exc:
            problems.append(str(exc))
        record(label, problems)

    if source:
        example = root / LOCAL_SETTINGS_EXAMPLE
        if example.exists():
            try:
                record(LOCAL_SETTINGS_EXAMPLE, check_local_settings(load_json(example), validators))
            except ConfigError as exc:
                record(LOCAL_SETTINGS_EXAMPLE, [str(exc)])
    else:
        exe_name = EXPECTED_EXECUTABLE
        if isinstance(host_data, dict):
            desc = (host_data.get("customHandler") or {}).get("description") or {}
            if isinstance(desc, dict) and isinstance(desc.get("defaultExecutablePath"), str):
                exe_name = desc["defaultExecutablePath"]
        exe = root / exe_name
        problems = []
        if not exe.is_file():
            problems.append("the custom handler executable is missing")
        elif not os.access(exe, os.X_OK):
            problems.append("the custom handler executable is not executable (chmod 755)")
        record(exe_name, problems)
        if (root / "local.settings.json").exists():
            print(f"note {root / 'local.settings.json'} exists; never deploy it")

    failed = sum(1 for _, problems in results if problems)
    passed = len(results) - failed
    print(f"schema: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
