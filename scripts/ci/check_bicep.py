#!/usr/bin/env python3
"""Syntax-check every Bicep file under infra/ without the Bicep CLI.

The Bicep compiler is not installable from the package registries this project
can reach, so two independent parsers from PyPI stand in for `bicep build`:

  * pycep-parser (a Lark grammar): raises on the first syntax error it meets;
  * tree-sitter-bicep: parses error-tolerantly; every ERROR or missing node in
    its tree is reported with its position.

A file passes when both parsers accept it. Known grammar gap: tree-sitter-bicep
1.1.0 predates the `extension <name>` statement (Bicep's Microsoft Graph
extension), so such a line is blanked out before tree-sitter sees it; pycep
still parses the file as written.

Also checked, because `bicep build` cannot run here either:
  * main.parameters.json names only parameters that infra/main.bicep declares,
    and every main.bicep parameter without a default is given a value there;
  * no output hands out a key or secret (listKeys()/listConnectionStrings()/
    listSecrets() or a name containing "secret", "password" or "key" other than
    the vault's own name and URI);
  * every `maximumInstanceCount` parameter has exactly the platform's range
    (FLEX_MAX_INSTANCES_RANGE, with its source);
  * re-provisioning never weakens the app registration: pass 1 of
    app-registration.bicep (finalize: false, no identifier URI, no Teams
    pre-authorizations) is deployed only when the parameter that azd fills
    from the previous provision's ENTRA_CLIENT_ID output is empty, and pass 2
    then gets its appId from somewhere other than pass 1;
  * every module that uses the Microsoft Graph Bicep extension (public cloud
    only) is deployed under a condition that checks environment().name against
    AzureCloud and fail()s with a message elsewhere;
  * infra/teams-client-apps.json (the Teams / Microsoft 365 / Outlook clients
    that the app registration pre-authorizes and the handler allows by default)
    is a list of {clientId, name}, the Bicep pre-authorizes exactly it through
    loadJsonContent(), no .bicep file repeats one of its ids, and every
    load*() path resolves;
  * the Teams tab's Static Web App (the `tab` azd service) feeds its origin
    to everything that needs it: main.bicep deploys modules/staticwebapp.bicep
    tagged azd-service-name 'tab' on the Free plan; the tab host falls back to
    its defaultHostName; that origin is in the Function App's CORS origins and,
    with /auth-end.html (a page tab/ has), in the consent redirect URIs of both
    app-registration passes; and the outputs scripts/deploy/stage_tab.py and
    scripts/deploy/package_teams_app.py read (TAB_URL, TAB_HOST, FUNCTION_APP_URL,
    ENTRA_CLIENT_ID, ENTRA_APP_ID_URI, ENTRA_AUTHORITY_HOST) exist.

  * pass 1 of the app registration (finalize false) deploys no
    Microsoft.Graph/applications resource with identifierUris or
    api.preAuthorizedApplications: they are left out (the Graph extension's
    upsert is a PATCH, so an omitted property keeps its value), never [];
  * Key Vault purge protection, createMode (recover) and a name suffix are
    main.bicep parameters that main.parameters.json fills from azd's
    environment and that reach the vault;
  * unconditional diagnostic settings send Key Vault AuditEvent and the
    Function App's FunctionAppLogs to the workspace of monitoring.bicep;
  * Application Insights accepts only Entra-authenticated telemetry: the
    component sets DisableLocalAuth: true, APPLICATIONINSIGHTS_AUTHENTICATION_STRING
    is Authorization=AAD with the ClientId that AZURE_CLIENT_ID also carries,
    and roles.bicep grants that identity Monitoring Metrics Publisher on the
    component, unconditionally;
  * the identity's one role on the ACS resource exists only in managedIdentity
    mode, is scoped to that resource, is Contributor, and docs/deployment.md
    says why no custom role is used.

Neither parser resolves resource types or API versions: that still needs
`az bicep build` / a what-if deployment (docs/deployment.md).

Prints one line per file and a closing "bicep: N passed, M failed" line; exits
1 when anything failed, 2 on a usage error (missing parser packages).

    python3 scripts/ci/check_bicep.py [--root DIR]     (default: the repository)

Needs: pycep-parser==0.7.1 tree-sitter==0.26.1 tree-sitter-bicep==1.1.0
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

try:
    import tree_sitter_bicep
    from pycep import BicepParser
    from tree_sitter import Language, Parser
except ImportError as exc:  # pragma: no cover - environment problem
    print(
        f"error: {exc.name} is missing; pip install pycep-parser==0.7.1 tree-sitter==0.26.1 tree-sitter-bicep==1.1.0",
        file=sys.stderr,
    )
    sys.exit(2)

REPO_ROOT = Path(__file__).resolve().parents[2]

# The platform's range for functionAppConfig.scaleAndConcurrency.maximumInstanceCount on Flex
# Consumption: "Currently the lowest maximum instance count value is 1, and the highest supported
# maximum instance count value is 1000" (Event-driven scaling in Azure Functions, "Limit
# scale-out", learn.microsoft.com/azure/azure-functions/event-driven-scaling#limit-scale-out,
# ms.date 2026-08-03). Before the 2026 roll-out the lowest value was 40 (same page in 2025, and
# flex-consumption-plan#considerations); a region that has not been rolled out may still refuse
# values below 40, which only a deployment shows (docs/deployment.md).
FLEX_MAX_INSTANCES_RANGE = (1, 1000)
TEAMS_CLIENT_APPS = Path("infra/teams-client-apps.json")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# azd keeps every output of the last provision in .azure/<env>/.env; this one is the client id.
PREVIOUS_CLIENT_ID_ENV = "ENTRA_CLIENT_ID"
GRAPH_EXTENSION_LINE = re.compile(r"^\s*extension\s+microsoftGraph\w*", re.MULTILINE)
LOAD_FUNCTIONS = ("loadJsonContent", "loadTextContent", "loadFileAsBase64", "loadYamlContent")
EXTENSION_LINE = re.compile(r"^(\s*)extension\s+\S+.*$", re.MULTILINE)
SECRET_FUNCTIONS = re.compile(r"\blist(Keys|ConnectionStrings|Secrets|AccountSas|ServiceSas)\s*\(")
SECRET_NAME = re.compile(r"secret|password|key", re.IGNORECASE)
# Output names that contain "key" but name the vault, not a key.
ALLOWED_KEY_OUTPUTS = re.compile(r"^KEY_VAULT_(NAME|URI)$|^keyVault", re.IGNORECASE)
MAX_ERRORS_PER_FILE = 5


def mask_extension_lines(text: str) -> str:
    """Replace `extension foo` statements by a comment of the same length."""

    def blank(match: re.Match[str]) -> str:
        line = match.group(0)
        indent = match.group(1)
        return indent + "//" + " " * max(0, len(line) - len(indent) - 2)

    return EXTENSION_LINE.sub(blank, text)


def tree_sitter_errors(parser: Parser, text: str) -> list[str]:
    tree = parser.parse(mask_extension_lines(text).encode("utf-8"))
    problems: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            row, col = node.start_point
            problems.append(f"{row + 1}:{col + 1}: missing {node.type!r}")
        elif node.type == "ERROR":
            row, col = node.start_point
            snippet = text.splitlines()[row][col : col + 40] if row < len(text.splitlines()) else ""
            problems.append(f"{row + 1}:{col + 1}: unexpected input {snippet.strip()!r}")
            continue  # one report per error region
        stack.extend(reversed(node.children))
    return problems


def pycep_error(path: Path) -> tuple[str | None, dict | None]:
    try:
        return None, BicepParser().parse(file_path=path)
    except Exception as exc:  # Lark raises several exception types
        line = getattr(exc, "line", None)
        column = getattr(exc, "column", None)
        where = f"{line}:{column}: " if line is not None else ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"{where}{type(exc).__name__}: {first}", None


def output_problems(path: Path, text: str, parsed: dict | None) -> list[str]:
    """Outputs must never carry keys or secrets."""
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("output "):
            continue
        parts = stripped.split()
        name = parts[1] if len(parts) > 1 else ""
        if SECRET_FUNCTIONS.search(stripped):
            problems.append(f"{number}:1: output {name} calls a list*() function (a key or secret)")
        if SECRET_NAME.search(name) and not ALLOWED_KEY_OUTPUTS.search(name):
            problems.append(f"{number}:1: output name {name!r} suggests a secret")
    if parsed:
        for name, output in (parsed.get("outputs") or {}).items():
            if any(d.get("type") == "secure" for d in output.get("decorators", []) if isinstance(d, dict)):
                problems.append(f"output {name} is @secure(): outputs are stored in the deployment history")
    return problems


def parameter_file_problems(root: Path) -> tuple[int, int]:
    main = root / "infra" / "main.bicep"
    params_file = root / "infra" / "main.parameters.json"
    if not main.is_file() or not params_file.is_file():
        print(
            f"FAIL  {params_file.relative_to(root) if params_file.is_relative_to(root) else params_file}: "
            "infra/main.bicep and infra/main.parameters.json must both exist"
        )
        return 0, 1
    error, parsed = pycep_error(main)
    if parsed is None:
        print(f"FAIL  infra/main.parameters.json: cannot compare, main.bicep does not parse ({error})")
        return 0, 1
    try:
        values = json.loads(params_file.read_text(encoding="utf-8"))["parameters"]
    except (ValueError, KeyError) as exc:
        print(f"FAIL  infra/main.parameters.json: not a deployment parameters file ({exc})")
        return 0, 1
    declared = parsed.get("parameters") or {}
    problems = [f"parameter {name!r} is not declared in main.bicep" for name in values if name not in declared]
    text = main.read_text(encoding="utf-8")
    for name in declared:
        # pycep reports a missing default as None; look at the source to tell "= null" apart.
        has_default = re.search(rf"^\s*param\s+{re.escape(name)}\s+[^=\n]*=", text, re.MULTILINE)
        nullable = re.search(rf"^\s*param\s+{re.escape(name)}\s+\S+\?", text, re.MULTILINE)
        if not has_default and not nullable and name not in values:
            problems.append(f"required parameter {name!r} has no value")
    if problems:
        print("FAIL  infra/main.parameters.json")
        for problem in problems:
            print(f"      {problem}")
        return 0, 1
    print(f"ok    infra/main.parameters.json ({len(values)} values for {len(declared)} parameters)")
    return 1, 0


# --- structure helpers (tree-sitter-bicep) ---------------------------------------------------


def node_text(node) -> str:
    return node.text.decode("utf-8") if node.text is not None else ""


def literal(node) -> str | None:
    """The value of a string node without interpolation, else None."""
    if node is None or node.type != "string":
        return None
    if any(child.type == "interpolation" for child in node.named_children):
        return None
    return "".join(node_text(c) for c in node.named_children if c.type in ("string_content", "escape_sequence"))


def object_properties(obj) -> dict[str, object]:
    """{key: value node} of an object node."""
    props = {}
    if obj is None or obj.type != "object":
        return props
    for prop in obj.named_children:
        if prop.type != "object_property" or len(prop.named_children) < 2:
            continue
        key = prop.named_children[0]
        name = literal(key) if key.type == "string" else node_text(key)
        if name is not None:
            props[name] = prop.named_children[-1]
    return props


class Template:
    """One parsed .bicep file: its variables, parameters (with decorators) and modules."""

    def __init__(self, parser: Parser, path: Path):
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.tree = parser.parse(mask_extension_lines(self.text).encode("utf-8"))
        self.variables: dict[str, object] = {}
        self.parameters: dict[str, tuple[object, object | None]] = {}  # name -> (declaration, decorators)
        self.modules: list[tuple[str, str, object | None, object | None]] = []  # (symbol, path, condition, body)
        # (symbol, type@version, condition, body, existing)
        self.resources: list[tuple[str, str, object | None, object | None, bool]] = []
        previous = None
        for node in self.tree.root_node.named_children:
            if node.type == "variable_declaration" and len(node.named_children) >= 2:
                self.variables[node_text(node.named_children[0])] = node.named_children[-1]
            elif node.type == "parameter_declaration" and node.named_children:
                decorators = previous if previous is not None and previous.type == "decorators" else None
                self.parameters[node_text(node.named_children[0])] = (node, decorators)
            elif node.type == "resource_declaration" and len(node.named_children) >= 3:
                symbol = node_text(node.named_children[0])
                rtype = literal(node.named_children[1]) or ""
                rest = node.named_children[-1]
                head = node_text(node).split("{", 1)[0]
                existing = re.search(r"\bexisting\b", head) is not None
                if rest.type == "if_statement":
                    condition = rest.named_children[0] if rest.named_children else None
                    body = rest.named_children[-1] if len(rest.named_children) >= 2 else None
                else:
                    condition, body = None, rest
                self.resources.append((symbol, rtype, condition, body, existing))
            elif node.type == "module_declaration" and len(node.named_children) >= 3:
                symbol = node_text(node.named_children[0])
                target = literal(node.named_children[1]) or ""
                rest = node.named_children[2]
                if rest.type == "if_statement":
                    condition = rest.named_children[0] if rest.named_children else None
                    body = rest.named_children[-1] if len(rest.named_children) >= 2 else None
                else:
                    condition, body = None, rest
                self.modules.append((symbol, target, condition, body))
            if node.type != "comment":
                previous = node

    def expand(self, node, seen: frozenset[str] = frozenset()) -> str:
        """The text of an expression with every variable replaced by its own (expanded) text."""
        if node is None:
            return ""
        if node.type == "identifier" and node_text(node) in self.variables and node_text(node) not in seen:
            name = node_text(node)
            return "(" + self.expand(self.variables[name], seen | {name}) + ")"
        if not node.children:
            return node_text(node)
        pieces = []
        cursor = node.start_byte
        source = node.text or b""
        for child in node.children:
            pieces.append(source[cursor - node.start_byte : child.start_byte - node.start_byte].decode("utf-8"))
            pieces.append(self.expand(child, seen))
            cursor = child.end_byte
        pieces.append(source[cursor - node.start_byte :].decode("utf-8"))
        return "".join(pieces)

    def identifiers(self, node, seen: frozenset[str] = frozenset()) -> set[str]:
        """Every identifier an expression depends on, through variables (which are included)."""
        found: set[str] = set()
        if node is None:
            return found
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "object_property" and current.named_children:
                stack.extend(current.named_children[1:])  # the key is not a reference
                continue
            if current.type == "call_expression" and current.named_children:
                stack.extend(current.named_children[1:])  # nor is the function's name
                continue
            if current.type == "identifier":
                name = node_text(current)
                found.add(name)
                if name in self.variables and name not in seen:
                    found |= self.identifiers(self.variables[name], seen | {name})
                continue
            stack.extend(current.named_children)
        return found

    def decorator_args(self, name: str) -> dict[str, str]:
        """{decorator name: argument text} of parameter `name`."""
        _, decorators = self.parameters[name]
        result = {}
        if decorators is None:
            return result
        for decorator in decorators.named_children:
            call = decorator.named_children[0] if decorator.named_children else None
            if call is None or call.type != "call_expression" or not call.named_children:
                continue
            args = call.named_children[1] if len(call.named_children) > 1 else None
            result[node_text(call.named_children[0])] = node_text(args.named_children[0]) if args and args.named_children else ""
        return result


def report(ok: bool, label: str, problems: list[str]) -> tuple[int, int]:
    if ok:
        print(f"ok    {label}")
        return 1, 0
    print(f"FAIL  {label}")
    for problem in problems:
        print(f"      {problem}")
    return 0, 1


def max_instances_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """Every maximumInstanceCount parameter has exactly the platform's range (and a default in it)."""
    low, high = FLEX_MAX_INSTANCES_RANGE
    problems = []
    found = 0
    for path, template in templates.items():
        if "maximumInstanceCount" not in template.parameters:
            continue
        found += 1
        rel = path.relative_to(root)
        args = template.decorator_args("maximumInstanceCount")
        for decorator, want in (("minValue", low), ("maxValue", high)):
            got = args.get(decorator)
            if got is None:
                problems.append(f"{rel}: maximumInstanceCount has no @{decorator}({want})")
            elif got.strip() != str(want):
                problems.append(f"{rel}: maximumInstanceCount has @{decorator}({got}), the platform's is {want}")
        declaration, _ = template.parameters["maximumInstanceCount"]
        default = declaration.named_children[-1]
        if default.type == "number" and not low <= int(node_text(default)) <= high:
            problems.append(f"{rel}: maximumInstanceCount default {node_text(default)} is outside {low}..{high}")
    if not found:
        problems.append("no maximumInstanceCount parameter found under infra/")
    return problems


def module_file(main: Path, target: str) -> Path:
    return (main.parent / target).resolve()


def app_registration_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """Pass 1 (the weak object) only while the app does not exist; pass 2 then needs another appId source."""
    main_path = (root / "infra" / "main.bicep").resolve()
    main = templates.get(main_path)
    if main is None:
        return ["infra/main.bicep not found"]
    try:
        values = json.loads((root / "infra" / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    except (OSError, ValueError, KeyError) as exc:
        return [f"infra/main.parameters.json unreadable ({exc})"]
    pattern = re.compile(r"^\$\{" + PREVIOUS_CLIENT_ID_ENV + r"(=[^}]*)?\}$")
    fed = {name for name, v in values.items() if isinstance(v, dict) and pattern.match(str(v.get("value", "")))}
    problems = []
    if not fed:
        problems.append(
            f"no parameter in infra/main.parameters.json takes ${{{PREVIOUS_CLIENT_ID_ENV}}} (the client id the "
            "previous provision stored), so main.bicep cannot tell that the app registration already exists"
        )
    if not re.search(rf"^\s*output\s+{PREVIOUS_CLIENT_ID_ENV}\s", main.text, re.MULTILINE):
        problems.append(f"infra/main.bicep has no output {PREVIOUS_CLIENT_ID_ENV}, so azd never stores it")
    passes = []
    for symbol, target, condition, body in main.modules:
        if not target.endswith("app-registration.bicep"):
            continue
        params = object_properties(object_properties(body).get("params"))
        finalize = node_text(params["finalize"]) if "finalize" in params else "false"
        passes.append((symbol, finalize, condition, params))
    if not passes:
        problems.append("infra/main.bicep deploys no modules/app-registration.bicep")
    first = {symbol for symbol, finalize, _, _ in passes if finalize == "false"}
    for symbol, finalize, condition, params in passes:
        if finalize == "false":
            used = main.identifiers(condition)
            if not fed & used:
                problems.append(
                    f"module {symbol} (pass 1: no identifierUris, no preAuthorizedApplications) is deployed on every "
                    f"provision: its condition {main.expand(condition) or '(none)'} does not depend on "
                    f"{' / '.join(sorted(fed)) or 'the previous client id'}, so re-provisioning strips the App ID URI "
                    "and the Teams pre-authorizations until pass 2"
                )
        elif finalize == "true":
            sources = main.identifiers(params.get("appId"))
            if first and not sources - first - set(main.variables):
                problems.append(
                    f"module {symbol} (pass 2) takes its appId only from pass 1 ({', '.join(sorted(first))}), "
                    "which does not run once the app exists"
                )
    return problems


# Properties that pass 1 of the app registration must leave out (never send as []), with the path
# of each inside the Microsoft.Graph/applications body.
PASS1_OMITTED = (("identifierUris",), ("api", "preAuthorizedApplications"))


def condition_holds(template: Template, condition, assume: dict[str, bool]) -> bool:
    """Whether a resource condition can hold given `assume` (other identifiers are taken as true)."""
    if condition is None:
        return True
    text = template.expand(condition)
    expression = text.replace("&&", " and ").replace("||", " or ")
    expression = re.sub(r"!(?!=)", " not ", expression)
    names = set(re.findall(r"[A-Za-z_]\w*", expression)) - {"and", "or", "not", "true", "false"}
    values = {name: assume.get(name, True) for name in names}
    values.update({"true": True, "false": False})
    try:
        return bool(eval(expression, {"__builtins__": {}}, values))  # noqa: S307 - a boolean expression of the template's own
    except Exception:
        return True  # cannot tell: treat as deployed, so the rule stays strict


def pass1_application_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """Pass 1 (finalize false) omits identifierUris and api.preAuthorizedApplications; nobody sends them empty."""
    path = (root / "infra" / "modules" / "app-registration.bicep").resolve()
    template = templates.get(path)
    if template is None:
        return ["infra/modules/app-registration.bicep not found"]
    if "finalize" not in template.parameters:
        return ["app-registration.bicep has no finalize parameter (pass 1 = finalize false)"]
    problems = []
    applications = [r for r in template.resources if r[1].startswith("Microsoft.Graph/applications@") and not r[4]]
    if not applications:
        return ["app-registration.bicep declares no Microsoft.Graph/applications resource"]
    pass1 = [r for r in applications if condition_holds(template, r[2], {"finalize": False})]
    if not pass1:
        problems.append("no Microsoft.Graph/applications resource is deployed in pass 1 (finalize false)")
    for symbol, _, condition, body, _ in applications:
        in_pass1 = any(symbol == r[0] for r in pass1)
        for keys in PASS1_OMITTED:
            node = body
            for key in keys:
                node = object_properties(node).get(key) if node is not None else None
            label = ".".join(keys)
            if node is None:
                # Left out of the literal; a property given by a variable or union() is expanded below.
                expanded = template.expand(body) if body is not None else ""
                if in_pass1 and re.search(rf"\b{keys[-1]}\s*:", expanded):
                    problems.append(f"resource {symbol} (pass 1) sets {label} through a variable or function; leave it out")
                continue
            value = template.expand(node)
            if in_pass1:
                problems.append(
                    f"resource {symbol} is deployed in pass 1 (finalize false) and sends {label}: {value}; leave the "
                    "property out, since an existing app would lose it until pass 2 (the Graph extension's upsert is a "
                    "PATCH: an omitted property is kept, [] clears it)"
                )
            elif re.search(r"\[\s*\]", value):
                problems.append(f"resource {symbol} sends {label} as {value}, which can be an empty list")
    return problems


def module_params(main: Template, target_name: str) -> tuple[str, dict[str, object]] | None:
    """(symbol, {param: value node}) of the one module of main.bicep that deploys modules/<target_name>."""
    for symbol, target, _, body in main.modules:
        if target.endswith("/" + target_name):
            return symbol, object_properties(object_properties(body).get("params"))
    return None


# Key Vault after `azd down`: purge protection keeps the name taken for the retention period, so
# the template must let azd choose purge protection, recovery and another name (issue 22).
KEY_VAULT_AZD_PARAMETERS = {
    "keyVaultPurgeProtection": "KEY_VAULT_PURGE_PROTECTION",
    "keyVaultCreateMode": "KEY_VAULT_CREATE_MODE",
    "keyVaultNameSuffix": "KEY_VAULT_NAME_SUFFIX",
}


def key_vault_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """Purge protection, createMode (recover) and a name suffix reach the vault from azd's environment."""
    main = templates.get((root / "infra" / "main.bicep").resolve())
    vault = templates.get((root / "infra" / "modules" / "keyvault.bicep").resolve())
    if main is None or vault is None:
        return ["infra/main.bicep or infra/modules/keyvault.bicep is missing"]
    problems = []
    try:
        values = json.loads((root / "infra" / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    except (OSError, ValueError, KeyError) as exc:
        return [f"infra/main.parameters.json unreadable ({exc})"]
    for name, variable in KEY_VAULT_AZD_PARAMETERS.items():
        if name not in main.parameters:
            problems.append(f"main.bicep has no parameter {name}")
        value = str((values.get(name) or {}).get("value", ""))
        if not re.match(r"^\$\{" + variable + r"(=[^}]*)?\}$", value):
            problems.append(f"main.parameters.json does not fill {name} from ${{{variable}}} (found {value or 'nothing'})")
    found = module_params(main, "keyvault.bicep")
    if found is None:
        return problems + ["main.bicep does not deploy modules/keyvault.bicep"]
    symbol, params = found
    wiring = {
        "enablePurgeProtection": "keyVaultPurgeProtection",
        "createMode": "keyVaultCreateMode",
        "name": "keyVaultNameSuffix",
    }
    for param, source in wiring.items():
        if source not in main.identifiers(params.get(param)):
            problems.append(f"module {symbol}: {param} does not use {source}")
    if "createMode" not in vault.parameters or "'recover'" not in vault.decorator_args("createMode").get("allowed", ""):
        problems.append("keyvault.bicep has no createMode parameter that allows 'recover'")
    resources = [r for r in vault.resources if r[1].startswith("Microsoft.KeyVault/vaults@") and not r[4]]
    if len(resources) != 1:
        return problems + [f"keyvault.bicep declares {len(resources)} vaults, expected 1"]
    properties = object_properties(object_properties(resources[0][3]).get("properties"))
    if "createMode" not in vault.identifiers(properties.get("createMode")):
        problems.append("keyvault.bicep: properties.createMode is not the createMode parameter")
    if "enablePurgeProtection" not in vault.identifiers(properties.get("enablePurgeProtection")):
        problems.append("keyvault.bicep: properties.enablePurgeProtection is not the enablePurgeProtection parameter")
    return problems


# Resource logs that must reach the Log Analytics workspace: (resource type scoped, category).
REQUIRED_DIAGNOSTICS = (("Microsoft.KeyVault/vaults", "AuditEvent"), ("Microsoft.Web/sites", "FunctionAppLogs"))


def diagnostics_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """Key Vault AuditEvent and the Function App's FunctionAppLogs go to monitoring.bicep's workspace."""
    main_path = (root / "infra" / "main.bicep").resolve()
    main = templates.get(main_path)
    if main is None:
        return ["infra/main.bicep not found"]
    problems = []
    satisfied: set[tuple[str, str]] = set()
    for path, template in templates.items():
        declared = {symbol: rtype.split("@")[0] for symbol, rtype, _, _, _ in template.resources}
        for symbol, rtype, condition, body, existing in template.resources:
            if not rtype.startswith("Microsoft.Insights/diagnosticSettings@") or existing:
                continue
            props = object_properties(body)
            scope = node_text(props["scope"]) if "scope" in props else ""
            scoped_type = declared.get(scope, "")
            settings = object_properties(props.get("properties"))
            workspace = settings.get("workspaceId")
            if workspace is None or not (template.identifiers(workspace) & set(template.parameters)):
                problems.append(f"{path.relative_to(root)}: {symbol} has no workspaceId from a parameter")
                continue
            logs = settings.get("logs")
            for entry in (logs.named_children if logs is not None and logs.type == "array" else []):
                entry_props = object_properties(entry)
                category = literal(entry_props.get("category"))
                enabled = node_text(entry_props["enabled"]) if "enabled" in entry_props else ""
                if category and enabled == "true" and condition is None:
                    satisfied.add((scoped_type, category))
            # Which module of main.bicep deploys this file, and is its workspace the monitoring one?
            for msymbol, target, mcondition, mbody in main.modules:
                if module_file(main_path, target) != path:
                    continue
                mparams = object_properties(object_properties(mbody).get("params"))
                for param in template.identifiers(workspace) & set(template.parameters):
                    value = main.expand(mparams.get(param)) if param in mparams else ""
                    if "monitoring.outputs.logAnalyticsWorkspaceId" not in value:
                        problems.append(
                            f"module {msymbol}: {param} is {value or 'not set'}, not monitoring.outputs.logAnalyticsWorkspaceId"
                        )
                if mcondition is not None:
                    problems.append(f"module {msymbol} (diagnostic settings) is conditional: {main.expand(mcondition)}")
    for rtype, category in REQUIRED_DIAGNOSTICS:
        if (rtype, category) not in satisfied:
            problems.append(
                f"no unconditional diagnostic setting sends {category} of a {rtype} resource to the Log Analytics workspace"
            )
    deployed = {module_file(main_path, target) for _, target, _, _ in main.modules}
    for path, template in templates.items():
        if path != main_path and any(r[1].startswith("Microsoft.Insights/diagnosticSettings@") for r in template.resources):
            if path not in deployed:
                problems.append(f"{path.relative_to(root)} declares diagnostic settings but main.bicep does not deploy it")
    return list(dict.fromkeys(problems))  # one line per problem, not one per setting


# The role the identity gets on the ACS resource in managedIdentity mode, and why it is not a custom
# role with only the token exchange's actions: Azure Communication Services does not honour custom
# role definitions (Microsoft support, "Custom IAM roles are not supported for Azure Communication
# Services", blakedrumm.com, 2025), Microsoft publishes no action list for teamsUser/
# :exchangeAccessToken, and its Entra ID quickstart assigns Contributor. docs/deployment.md says
# so under ACS_ROLE_DOC_HEADING; this rule keeps the assignment as narrow as it can be otherwise.
ACS_ROLE_ALLOWED = {"b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor"}
ACS_ROLE_DOC_HEADING = "### Why Contributor on ACS, not a custom role"


def acs_role_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """The ACS role: only in managedIdentity mode, only on the ACS resource, a known role, documented."""
    roles = templates.get((root / "infra" / "modules" / "roles.bicep").resolve())
    if roles is None:
        return ["infra/modules/roles.bicep not found"]
    problems = []
    declared = {symbol: rtype.split("@")[0] for symbol, rtype, _, _, _ in roles.resources}
    on_acs = []
    for symbol, rtype, condition, body, existing in roles.resources:
        if not rtype.startswith("Microsoft.Authorization/roleAssignments@"):
            continue
        props = object_properties(body)
        scope = node_text(props["scope"]) if "scope" in props else ""
        if declared.get(scope) == "Microsoft.Communication/communicationServices":
            on_acs.append((symbol, condition, props))
        elif not scope:
            problems.append(f"roles.bicep: {symbol} has no scope (it would apply to the whole resource group)")
    if len(on_acs) != 1:
        return problems + [f"roles.bicep assigns {len(on_acs)} roles on the ACS resource, expected exactly 1"]
    symbol, condition, props = on_acs[0]
    if condition is None:
        problems.append(f"roles.bicep: {symbol} is unconditional; it is needed only in managedIdentity mode")
    main = templates.get((root / "infra" / "main.bicep").resolve())
    found = module_params(main, "roles.bicep") if main else None
    if condition is not None and found:
        msymbol, mparams = found
        gates = roles.identifiers(condition) & set(roles.parameters)
        if not any("acsAuthMode == 'managedIdentity'" in main.expand(mparams.get(g)) for g in gates if g in mparams):
            problems.append(f"module {msymbol}: the parameter gating {symbol} is not acsAuthMode == 'managedIdentity'")
    role = roles.expand(object_properties(props.get("properties")).get("roleDefinitionId"))
    ids = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", role))
    if len(ids) != 1 or not ids <= set(ACS_ROLE_ALLOWED):
        problems.append(f"roles.bicep: {symbol} grants {ids or role}, not one of {ACS_ROLE_ALLOWED}")
    doc = (root / "docs" / "deployment.md").read_text(encoding="utf-8")
    if ACS_ROLE_DOC_HEADING not in doc:
        problems.append(f"docs/deployment.md has no section {ACS_ROLE_DOC_HEADING!r} saying why the role is not narrower")
    return problems


MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"


def app_setting_value(template: Template, name: str) -> str | None:
    """The expanded value of app setting `name` in a template's appSettings, or None."""
    stack = [template.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "object":
            props = object_properties(node)
            if "name" in props and literal(props["name"]) == name and "value" in props:
                return template.expand(props["value"])
        stack.extend(node.named_children)
    return None


def telemetry_auth_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """Application Insights takes only Entra-authenticated telemetry, from the app's identity.

    Local auth is off on the component; APPLICATIONINSIGHTS_AUTHENTICATION_STRING names the
    identity whose client id is also AZURE_CLIENT_ID (the handler refuses two identities); that
    identity holds Monitoring Metrics Publisher on the component, which ingestion requires.
    """
    problems = []
    modules = root / "infra" / "modules"
    monitoring = templates.get((modules / "monitoring.bicep").resolve())
    functionapp = templates.get((modules / "functionapp.bicep").resolve())
    roles = templates.get((modules / "roles.bicep").resolve())
    if monitoring is None or functionapp is None or roles is None:
        return ["monitoring.bicep, functionapp.bicep or roles.bicep not found"]
    components = [
        body for _, rtype, _, body, existing in monitoring.resources
        if rtype.startswith("Microsoft.Insights/components@") and not existing
    ]
    if len(components) != 1:
        problems.append(f"monitoring.bicep declares {len(components)} Application Insights components, expected 1")
    else:
        local = object_properties(object_properties(components[0]).get("properties")).get("DisableLocalAuth")
        if local is None or node_text(local) != "true":
            problems.append("monitoring.bicep: the component does not set DisableLocalAuth: true")
    auth = app_setting_value(functionapp, "APPLICATIONINSIGHTS_AUTHENTICATION_STRING")
    client = app_setting_value(functionapp, "AZURE_CLIENT_ID")
    if auth is None:
        problems.append("functionapp.bicep does not set APPLICATIONINSIGHTS_AUTHENTICATION_STRING")
    else:
        parts = {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in auth.strip("'").split(";") if "=" in p}
        if parts.get("Authorization") != "AAD":
            problems.append(f"APPLICATIONINSIGHTS_AUTHENTICATION_STRING is {auth}, without Authorization=AAD")
        if client is None or parts.get("ClientId") != "${" + client.strip() + "}":
            problems.append(f"APPLICATIONINSIGHTS_AUTHENTICATION_STRING's ClientId ({parts.get('ClientId')}) is not AZURE_CLIENT_ID ({client})")
    declared = {symbol: rtype.split("@")[0] for symbol, rtype, _, _, _ in roles.resources}
    publishers = []
    for symbol, rtype, condition, body, _ in roles.resources:
        if not rtype.startswith("Microsoft.Authorization/roleAssignments@"):
            continue
        props = object_properties(body)
        scope = node_text(props["scope"]) if "scope" in props else ""
        role = roles.expand(object_properties(props.get("properties")).get("roleDefinitionId"))
        if declared.get(scope) == "Microsoft.Insights/components" and MONITORING_METRICS_PUBLISHER in role:
            publishers.append((symbol, condition, props))
    if len(publishers) != 1:
        problems.append(f"roles.bicep grants Monitoring Metrics Publisher on the component {len(publishers)} times, expected 1")
    else:
        symbol, condition, props = publishers[0]
        if condition is not None:
            problems.append(f"roles.bicep: {symbol} is conditional; ingestion refuses the identity without it")
        inner = object_properties(props.get("properties"))
        if node_text(inner.get("principalId")) != "principalId":
            problems.append(f"roles.bicep: {symbol} is not granted to the app's identity (principalId)")
    return problems


def sovereign_cloud_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """Modules with the Microsoft Graph extension run only in AzureCloud; elsewhere fail() explains."""
    main_path = (root / "infra" / "main.bicep").resolve()
    main = templates.get(main_path)
    if main is None:
        return ["infra/main.bicep not found"]
    problems = []
    if GRAPH_EXTENSION_LINE.search(main.text):
        problems.append("infra/main.bicep declares the Microsoft Graph extension itself; keep Graph resources in modules")
    graph_modules = 0
    for symbol, target, condition, _ in main.modules:
        path = module_file(main_path, target)
        if not path.is_file() or not GRAPH_EXTENSION_LINE.search(path.read_text(encoding="utf-8")):
            continue
        graph_modules += 1
        expanded = main.expand(condition)
        missing = []
        if not re.search(r"environment\(\)\.name", expanded):
            missing.append("environment().name")
        if "azurecloud" not in expanded.lower():
            missing.append("'AzureCloud'")
        if not re.search(r"\bfail\(\s*'", expanded):
            missing.append("fail('...')")
        if missing:
            problems.append(
                f"module {symbol} ({target}) uses the Microsoft Graph extension, which deploys only in the public "
                f"cloud, but its condition lacks {', '.join(missing)}: {expanded or '(unconditional)'}"
            )
    if not graph_modules:
        problems.append("no module of infra/main.bicep uses the Microsoft Graph extension (expected the app registration)")
    return problems


def client_apps_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """infra/teams-client-apps.json is well formed, loaded by the Bicep, and the only copy of its ids."""
    problems = []
    path = root / TEAMS_CLIENT_APPS
    ids: list[str] = []
    try:
        apps = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{TEAMS_CLIENT_APPS}: {exc}"]
    if not isinstance(apps, list) or not apps:
        problems.append(f"{TEAMS_CLIENT_APPS}: expected a non-empty JSON array")
        apps = []
    for index, app in enumerate(apps):
        if not isinstance(app, dict) or set(app) != {"clientId", "name"}:
            problems.append(f"{TEAMS_CLIENT_APPS}[{index}]: expected exactly {{\"clientId\", \"name\"}}, got {app!r}")
            continue
        if not isinstance(app["clientId"], str) or not GUID.match(app["clientId"]):
            problems.append(f"{TEAMS_CLIENT_APPS}[{index}]: clientId {app['clientId']!r} is not a lower-case GUID")
        else:
            ids.append(app["clientId"])
        if not isinstance(app["name"], str) or not app["name"].strip():
            problems.append(f"{TEAMS_CLIENT_APPS}[{index}]: name must be a non-empty string")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"{TEAMS_CLIENT_APPS}: client ids listed twice: {', '.join(duplicates)}")

    load_call = re.compile(r"\b(" + "|".join(LOAD_FUNCTIONS) + r")\(\s*'([^']+)'")
    loaded_by: list[Path] = []
    for bicep, template in templates.items():
        rel = bicep.relative_to(root)
        for function, target in load_call.findall(template.text):
            resolved = (bicep.parent / target).resolve()
            if not resolved.is_file():
                problems.append(f"{rel}: {function}('{target}') does not resolve to a file")
            elif resolved == path.resolve():
                loaded_by.append(bicep)
        for client_id in ids:
            if client_id in template.text.lower():
                problems.append(f"{rel}: repeats {client_id} of {TEAMS_CLIENT_APPS}; load the file instead")
    preauthorizing = [b for b, t in templates.items() if re.search(r"\bpreAuthorizedApplications\s*:", t.text)]
    if not preauthorizing:
        problems.append("no .bicep file sets preAuthorizedApplications")
    for bicep in preauthorizing:
        if bicep not in loaded_by:
            problems.append(
                f"{bicep.relative_to(root)} sets preAuthorizedApplications without loadJsonContent('{TEAMS_CLIENT_APPS.name}')"
            )
    return problems


# What scripts/deploy/stage_tab.py (the tab's config.json and CSP) and scripts/deploy/package_teams_app.py (the
# Teams manifest) read from azd's .env, i.e. from main.bicep's outputs.
TAB_OUTPUTS = ("TAB_URL", "TAB_HOST", "FUNCTION_APP_URL", "ENTRA_CLIENT_ID", "ENTRA_APP_ID_URI", "ENTRA_AUTHORITY_HOST")


def tab_site_problems(root: Path, templates: dict[Path, Template]) -> list[str]:
    """The tab's Static Web App and its origin reach CORS, consent redirect and the outputs."""
    main_path = (root / "infra" / "main.bicep").resolve()
    main = templates.get(main_path)
    site_path = (root / "infra" / "modules" / "staticwebapp.bicep").resolve()
    site = templates.get(site_path)
    if main is None or site is None:
        return ["infra/main.bicep or infra/modules/staticwebapp.bicep is missing"]
    problems = []
    site_modules = [(sym, body) for sym, target, _, body in main.modules if module_file(main_path, target) == site_path]
    if len(site_modules) != 1:
        return [f"main.bicep deploys modules/staticwebapp.bicep {len(site_modules)} times, expected once"]
    symbol, body = site_modules[0]
    params = object_properties(object_properties(body).get("params"))
    if literal(params.get("azdServiceName")) != "tab":
        problems.append(f"module {symbol}: azdServiceName is not 'tab' (azure.yaml's tab service finds the site by it)")
    if "'azd-service-name': azdServiceName" not in site.text:
        problems.append("staticwebapp.bicep does not tag the site with azd-service-name")
    if not re.search(r"sku:\s*\{\s*name:\s*'Free'", site.text):
        problems.append("staticwebapp.bicep: the site is not on the Free plan")

    host = main.variables.get("normalizedTabHost")
    if host is None or f"{symbol}.outputs.defaultHostName" not in main.expand(host):
        problems.append(f"normalizedTabHost does not fall back to {symbol}.outputs.defaultHostName")
    cors = main.variables.get("corsOrigins")
    if cors is None or "normalizedTabHost" not in main.identifiers(cors):
        problems.append("the Function App's CORS origins (corsOrigins) do not include the tab's origin")
    registrations = [
        body for _, target, _, body in main.modules
        if module_file(main_path, target) == (root / "infra" / "modules" / "app-registration.bicep").resolve()
    ]
    for registration in registrations:
        redirect = object_properties(object_properties(registration).get("params")).get("consentRedirectUris")
        text = main.expand(redirect) if redirect is not None else ""
        if "normalizedTabHost" not in main.identifiers(redirect) or "/auth-end.html" not in text:
            problems.append("an app-registration pass does not register https://<tab host>/auth-end.html as consent redirect URI")
    if not (root / "tab" / "auth-end.html").is_file():
        problems.append("tab/auth-end.html, the consent redirect page, is missing")
    for name in TAB_OUTPUTS:
        if not re.search(rf"^output\s+{name}\s", main.text, re.MULTILINE):
            problems.append(f"main.bicep has no output {name}")
    return problems


def template_rule_results(root: Path, parser: Parser, files: list[Path]) -> tuple[int, int]:
    templates = {}
    for path in files:
        try:
            templates[path.resolve()] = Template(parser, path)
        except (OSError, UnicodeDecodeError):
            continue
    passed = failed = 0
    low, high = FLEX_MAX_INSTANCES_RANGE
    for label, problems in (
        (f"maximumInstanceCount is @minValue({low}) @maxValue({high}) everywhere", max_instances_problems(root, templates)),
        ("re-provisioning skips pass 1 of the app registration once the app exists", app_registration_problems(root, templates)),
        ("pass 1 of the app registration sends no identifierUris / preAuthorizedApplications (omitted, not [])", pass1_application_problems(root, templates)),
        ("the Microsoft Graph modules are gated to AzureCloud with fail() elsewhere", sovereign_cloud_problems(root, templates)),
        ("Key Vault purge protection, recover mode and name suffix are azd parameters", key_vault_problems(root, templates)),
        ("Key Vault AuditEvent and FunctionAppLogs go to the Log Analytics workspace", diagnostics_problems(root, templates)),
        ("the ACS role: managedIdentity mode only, on the ACS resource, reason documented", acs_role_problems(root, templates)),
        ("Application Insights: local auth off, Entra auth string of AZURE_CLIENT_ID, Metrics Publisher role", telemetry_auth_problems(root, templates)),
        (f"{TEAMS_CLIENT_APPS} is the one list of pre-authorized Teams clients", client_apps_problems(root, templates)),
        ("the tab's Static Web App feeds CORS, the consent redirect URI and the outputs", tab_site_problems(root, templates)),
    ):
        p, f = report(not problems, label, problems)
        passed += p
        failed += f
    return passed, failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root (default: %(default)s)")
    args = ap.parse_args()
    root: Path = args.root.resolve()
    files = sorted((root / "infra").rglob("*.bicep"))
    if not files:
        print(f"error: no .bicep files under {root / 'infra'}", file=sys.stderr)
        return 2

    parser = Parser(Language(tree_sitter_bicep.language()))
    passed = failed = 0
    for path in files:
        rel = path.relative_to(root)
        text = path.read_text(encoding="utf-8")
        problems: list[str] = []
        error, parsed = pycep_error(path)
        if error:
            problems.append(f"pycep: {error}")
        problems += [f"tree-sitter: {p}" for p in tree_sitter_errors(parser, text)]
        problems += [f"outputs: {p}" for p in output_problems(path, text, parsed)]
        if problems:
            failed += 1
            print(f"FAIL  {rel}")
            for problem in problems[:MAX_ERRORS_PER_FILE]:
                tool, _, rest = problem.partition(": ")
                if re.match(r"^\d+:\d+", rest):
                    print(f"      {rel}:{rest} [{tool}]")
                else:
                    print(f"      {rel}: {problem}")
            if len(problems) > MAX_ERRORS_PER_FILE:
                print(f"      ... and {len(problems) - MAX_ERRORS_PER_FILE} more")
        else:
            passed += 1
            print(f"ok    {rel}")

    p, f = parameter_file_problems(root)
    passed += p
    failed += f
    p, f = template_rule_results(root, parser, files)
    passed += p
    failed += f
    print(f"bicep: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
