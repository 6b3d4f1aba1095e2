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
    the vault's own name and URI).

Neither parser resolves resource types or API versions: that still needs
`az bicep build` / a what-if deployment (docs/deployment.md).

Prints one line per file and a closing "bicep: N passed, M failed" line; exits
1 when anything failed, 2 on a usage error (missing parser packages).

    python3 scripts/check_bicep.py [--root DIR]     (default: the repository)

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

REPO_ROOT = Path(__file__).resolve().parent.parent
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
    print(f"bicep: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
