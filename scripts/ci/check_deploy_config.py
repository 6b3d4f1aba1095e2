#!/usr/bin/env python3
"""Check azure.yaml and the Teams app template (teams/).

azure.yaml (the Azure Developer CLI's schema is not shipped by any package in
the registries this project reaches, so its rules are checked in code):
  * it parses; `name` is set; `infra.path` holds `<module>.bicep`;
  * two services, named as the `azd-service-name` tags the Bicep puts on
    the Function App and the Static Web App: the handler (`host: function`,
    `language: custom`, an existing `project` folder and `dist: dist.zip`,
    what scripts/deploy/package-linux.sh writes) and the tab (`host:
    staticwebapp`, project tab/, no `language`, a predeploy hook running
    scripts/deploy/stage_tab.py into the `dist` folder azd uploads, git-ignored);
  * every hook `run:` that names a script points at an executable file;
  * `language: custom` is an azd ALPHA feature (azd 1.20.0 or later, and only
    after `azd config set alpha.language.custom on` or with
    AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true; otherwise azd refuses to load the
    project). So when a service uses it, azure.yaml's requiredVersions.azd
    must exclude older azd, and docs/deployment.md and README.md (where users
    start) must each name the minimum version and both ways to switch it on
    (AZD_CUSTOM_LANGUAGE_MENTIONS).

teams/ (validated against the Teams manifest JSON schema of the template's
manifestVersion, taken from the npm package @microsoft/app-manifest, which
Microsoft publishes with every schema version; the download is cached in
~/.cache/remote-expert):
  * the template is JSON with only known {{PLACEHOLDER}}s;
  * scripts/deploy/package_teams_app.py fills it with sample values, and the result
    passes the schema, the SSO rules (webApplicationInfo, identifier URI) and
    the icon rules (color 192x192, outline 32x32 white on transparent);
  * the same script refuses a template with an unfilled placeholder;
  * teams/color.png and teams/outline.png are byte for byte what
    scripts/deploy/make_teams_icons.py draws.

    python3 scripts/ci/check_deploy_config.py [--root DIR] [--schema FILE] [--no-schema]

Prints "deploy config: N passed, M failed"; exits 1 on failure, 2 on a usage
error. --no-schema skips only the download and the schema validation (offline
use); CI runs without it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem
    print("error: PyYAML is required (pip install pyyaml)", file=sys.stderr)
    sys.exit(2)

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_PACKAGE = "@microsoft/app-manifest"
MANIFEST_PACKAGE_VERSION = "1.1.2"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "remote-expert"
SAMPLE_CLIENT_ID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"

# `language: custom` in azure.yaml. Source: Azure/azure-dev, read 2026-08 (HEAD ae35809f):
#   * CHANGELOG.md, 1.20.0 (2025-10-08): "[#5771] Add custom language support" (not in 1.19.x);
#   * cli/azd/resources/alpha_features.yaml: id `language.custom` (still alpha in 1.31.2);
#   * cli/azd/cmd/container.go: a service with language 'custom' while the feature is off fails the
#     project load: "<service> service is using language 'custom' (alpha) but it is not enabled.
#     Please enable it using the command: "azd config set alpha.language.custom on"";
#   * cli/azd/pkg/alpha/alpha_feature_manager.go: AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM overrides the
#     config, parsed with Go's strconv.ParseBool, so `true` works and `on` does NOT (the config
#     file, by contrast, takes `on`/`off`).
AZD_CUSTOM_LANGUAGE_MIN_VERSION = (1, 20, 0)
AZD_CUSTOM_LANGUAGE_MENTIONS = (
    "1.20.0",
    "azd config set alpha.language.custom on",
    "AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true",
)
AZD_CUSTOM_LANGUAGE_DOCS = ("docs/deployment.md", "README.md")
SAMPLE_HOST = "tab.contoso.example"


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def report(self, ok: bool, label: str, details: list[str] | None = None) -> bool:
        if ok:
            self.passed += 1
            print(f"ok    {label}")
        else:
            self.failed += 1
            print(f"FAIL  {label}")
            for line in details or []:
                print(f"      {line}")
        return ok


def azd_service_tag(root: Path) -> set[str]:
    """Values given to the Function App's azd-service-name tag in the Bicep."""
    names: set[str] = set()
    for path in (root / "infra").rglob("*.bicep"):
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r"azdServiceName:\s*'([^']+)'", text))
        names.update(re.findall(r"param\s+azdServiceName\s+string\s*=\s*'([^']+)'", text))
        names.update(re.findall(r"'azd-service-name':\s*'([^']+)'", text))
    return names


def version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?", text.strip())
    return tuple(int(part) for part in match.groups()) if match else None


def required_azd_problems(required: object) -> list[str]:
    """requiredVersions.azd must rule out every azd older than AZD_CUSTOM_LANGUAGE_MIN_VERSION."""
    minimum = ".".join(map(str, AZD_CUSTOM_LANGUAGE_MIN_VERSION))
    if not isinstance(required, str) or not required.strip():
        return [f"requiredVersions.azd is not set; language: custom needs \">= {minimum}\""]
    lower_bounds = re.findall(r"(>=|>)\s*(v?[0-9][0-9A-Za-z.+-]*)", required)
    if "||" in required or not lower_bounds:
        return [f"requiredVersions.azd is {required!r}; expected a lower bound such as \">= {minimum}\""]
    problems = []
    for _operator, text in lower_bounds:
        version = version_tuple(text)
        if version is None:
            problems.append(f"requiredVersions.azd: cannot read version {text!r}")
        elif version < AZD_CUSTOM_LANGUAGE_MIN_VERSION:
            problems.append(f"requiredVersions.azd {required!r} admits azd older than {minimum}")
    return problems


def check_custom_language(root: Path, doc: dict, checks: Checks) -> None:
    services = doc.get("services") or {}
    custom = [name for name, service in services.items() if isinstance(service, dict) and service.get("language") == "custom"]
    if not custom:
        return
    required = (doc.get("requiredVersions") or {}).get("azd") if isinstance(doc.get("requiredVersions"), dict) else None
    problems = required_azd_problems(required)
    checks.report(not problems, "azure.yaml: requiredVersions.azd rules out azd without language: custom", problems)

    problems = []
    for rel in AZD_CUSTOM_LANGUAGE_DOCS:
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"{rel}: {exc}")
            continue
        for needle in AZD_CUSTOM_LANGUAGE_MENTIONS:
            if needle not in text:
                problems.append(f"{rel} does not say {needle!r}")
    checks.report(
        not problems,
        f"docs: service {', '.join(custom)} uses language: custom (azd alpha); "
        + " and ".join(AZD_CUSTOM_LANGUAGE_DOCS)
        + " say how to enable it",
        problems,
    )


def check_azure_yaml(root: Path, checks: Checks) -> None:
    path = root / "azure.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        checks.report(False, "azure.yaml parses", [str(exc)])
        return
    if not checks.report(isinstance(doc, dict), "azure.yaml is a mapping", ["top level is not a mapping"]):
        return

    checks.report(isinstance(doc.get("name"), str) and bool(doc["name"].strip()), "azure.yaml: name is set")

    infra = doc.get("infra") or {}
    infra_path = root / infra.get("path", "infra")
    module = infra.get("module", "main")
    problems = []
    if infra.get("provider", "bicep") != "bicep":
        problems.append(f"infra.provider is {infra.get('provider')!r}, expected bicep")
    if not (infra_path / f"{module}.bicep").is_file():
        problems.append(f"{infra_path.relative_to(root)}/{module}.bicep not found")
    if not (infra_path / f"{module}.parameters.json").is_file():
        problems.append(f"{infra_path.relative_to(root)}/{module}.parameters.json not found")
    checks.report(not problems, "azure.yaml: infra points at the Bicep and its parameters", problems)

    services = doc.get("services") or {}
    tags = azd_service_tag(root)
    problems = []
    if not isinstance(services, dict):
        services = {}
    handlers = {n: s for n, s in services.items() if isinstance(s, dict) and s.get("host") == "function"}
    tabs = {n: s for n, s in services.items() if isinstance(s, dict) and s.get("host") == "staticwebapp"}
    if len(handlers) != 1 or len(tabs) != 1 or len(services) != 2:
        problems.append(
            f"expected two services, the handler (host: function) and the tab (host: staticwebapp), found {sorted(services)}"
        )
    if tags != set(services):
        problems.append(f"services {sorted(services)} but the Bicep tags resources azd-service-name={sorted(tags)}")
    for name, service in handlers.items():
        if service.get("language") != "custom":
            problems.append(f"language is {service.get('language')!r}, expected custom (no azd build for Rust)")
        project = root / str(service.get("project", "."))
        if not project.is_dir():
            problems.append(f"project folder {service.get('project')!r} not found")
        if service.get("dist") != "dist.zip":
            problems.append(f"dist is {service.get('dist')!r}, expected dist.zip (written by scripts/deploy/package-linux.sh)")
        hooks = service.get("hooks") or {}
        if "prepackage" not in hooks:
            problems.append("no prepackage hook builds the package")
    checks.report(not problems, "azure.yaml: the handler service matches the Bicep and the packaging", problems)

    check_tab_service(root, tabs, checks)

    problems = []
    hook_sets = [doc.get("hooks") or {}] + [(s or {}).get("hooks") or {} for s in services.values()]
    for hooks in hook_sets:
        for hook_name, hook in hooks.items():
            variants = [hook] if "run" in (hook or {}) else [v for v in (hook or {}).values() if isinstance(v, dict)]
            for variant in variants:
                run = str(variant.get("run", ""))
                for script in re.findall(r"(?:^|\s)(?:\.\./|\./)?(scripts/[\w./-]+)", run):
                    target = root / script
                    if not target.is_file():
                        problems.append(f"{hook_name}: {script} not found")
                    elif not os.access(target, os.X_OK):
                        problems.append(f"{hook_name}: {script} is not executable")
    checks.report(not problems, "azure.yaml: hook scripts exist and are executable", problems)

    check_custom_language(root, doc, checks)
    check_prerequisites(root, doc, checks)


# What a new machine needs before `azd up` (issue 22): the preflight that names each missing item
# runs as azd's preup and preprovision hooks (azd up packages before it provisions, so preup is
# what comes before the Rust build), the Rust target the package is built for is in
# rust-toolchain.toml, and docs/deployment.md names every prerequisite.
PREFLIGHT = "scripts/deploy/preflight.sh"
PREFLIGHT_HOOKS = ("preup", "preprovision")
RUST_TARGET = "x86_64-unknown-linux-gnu"
PREREQUISITE_MENTIONS = (
    "scripts/deploy/preflight.sh",
    "Node.js",
    "npx",
    "rustup",
    RUST_TARGET,
    "python3-venv",
    "binutils",
    "1.20.0",
    "azd config set alpha.language.custom on",
    "AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true",
    "list-flexconsumption-runtimes",
)


def hook_runs(hook: object) -> list[str]:
    if not isinstance(hook, dict):
        return []
    variants = [hook] if "run" in hook else [v for v in hook.values() if isinstance(v, dict)]
    return [str(v.get("run", "")) for v in variants]


def check_prerequisites(root: Path, doc: dict, checks: Checks) -> None:
    problems = []
    project_hooks = doc.get("hooks") or {}
    for name in PREFLIGHT_HOOKS:
        runs = hook_runs(project_hooks.get(name))
        if not runs or not all(PREFLIGHT in run for run in runs):
            problems.append(f"azure.yaml: the project hook {name} does not run {PREFLIGHT} ({runs or 'no such hook'})")
    checks.report(not problems, f"azure.yaml: {PREFLIGHT} runs as the {' and '.join(PREFLIGHT_HOOKS)} hooks", problems)

    problems = []
    try:
        import tomllib

        toolchain = tomllib.loads((root / "rust-toolchain.toml").read_text(encoding="utf-8")).get("toolchain", {})
    except (OSError, ValueError) as exc:
        toolchain = {}
        problems.append(f"rust-toolchain.toml: {exc}")
    if RUST_TARGET not in (toolchain.get("targets") or []):
        problems.append(
            f"rust-toolchain.toml has no targets = [\"{RUST_TARGET}\"]: on macOS and arm64 hosts rustup would not "
            "install the target the Azure package is built for"
        )
    checks.report(not problems, f"rust-toolchain.toml installs the {RUST_TARGET} target", problems)

    text = (root / "docs" / "deployment.md").read_text(encoding="utf-8")
    problems = [f"docs/deployment.md does not mention {needle!r}" for needle in PREREQUISITE_MENTIONS if needle not in text]
    checks.report(not problems, "docs/deployment.md names every prerequisite the preflight checks", problems)


def check_tab_service(root: Path, tabs: dict, checks: Checks) -> None:
    """The tab service: tab/ as it is, staged by scripts/deploy/stage_tab.py into the folder azd uploads."""
    problems = []
    for name, service in tabs.items():
        project = root / str(service.get("project", ""))
        if service.get("project") != "tab" or not (project / "index.html").is_file():
            problems.append(f"{name}: project is {service.get('project')!r}, expected tab (with index.html)")
        if "language" in service:
            problems.append(f"{name}: language {service['language']!r} would make azd build the tab; it has no build")
        dist = str(service.get("dist", ""))
        run = ""
        hook = (service.get("hooks") or {}).get("predeploy") or {}
        for variant in [hook] if "run" in hook else [v for v in hook.values() if isinstance(v, dict)]:
            run += " " + str(variant.get("run", ""))
        if "scripts/deploy/stage_tab.py" not in run:
            problems.append(f"{name}: no predeploy hook runs scripts/deploy/stage_tab.py")
        elif not re.search(rf"--out\s+{re.escape(dist)}(\s|$)", run) or not dist:
            problems.append(f"{name}: the hook stages into {run.strip()!r} but azd uploads dist {dist!r}")
        ignored = (root / ".gitignore").read_text(encoding="utf-8").splitlines() if (root / ".gitignore").is_file() else []
        if f"/{service.get('project')}/{dist}" not in ignored:
            problems.append(f"{name}: the staged folder {service.get('project')}/{dist} is not in .gitignore")
    checks.report(not problems, "azure.yaml: the tab service deploys tab/ as staged by scripts/deploy/stage_tab.py", problems)


def fetch_teams_schema(version: str) -> Path:
    """The Teams manifest schema for `version` (e.g. "1.22") from the npm package, cached."""
    target = CACHE / "app-manifest" / MANIFEST_PACKAGE_VERSION / f"v{version}" / "MicrosoftTeams.schema.json"
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found; install Node.js/npm or pass --schema FILE or --no-schema")
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{MANIFEST_PACKAGE}@{MANIFEST_PACKAGE_VERSION}"
        last = None
        for _ in range(2):  # one retry for a registry hiccup
            result = subprocess.run(
                [npm, "pack", spec, "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                check=False,
                timeout=180,
            )
            if result.returncode == 0:
                break
            last = result.stderr.strip()
        else:
            raise RuntimeError(f"npm pack {spec} failed: {last}")
        tarball = next(Path(tmp).glob("*.tgz"))
        member = f"package/build/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
        with tarfile.open(tarball) as tar:
            try:
                data = tar.extractfile(member)
            except KeyError as exc:
                raise RuntimeError(f"{spec} has no schema for manifest version {version}") from exc
            if data is None:
                raise RuntimeError(f"{member} is not a file in {spec}")
            content = data.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return target


def run_packager(root: Path, args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "CLIENT_ID",
            "ENTRA_CLIENT_ID",
            "APP_ID_URI",
            "ENTRA_APP_ID_URI",
            "TAB_URL",
            "TAB_HOST",
            "TAB_DOMAIN",
            "TAB_CONFIGURATION_URL",
            "TEAMS_APP_ID",
        )
    }
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "deploy" / "package_teams_app.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def check_teams(root: Path, checks: Checks, schema: Path | None, use_schema: bool) -> None:
    template = root / "teams" / "manifest.json"
    try:
        text = template.read_text(encoding="utf-8")
        manifest = json.loads(text)
    except (OSError, ValueError) as exc:
        checks.report(False, "teams/manifest.json is JSON", [str(exc)])
        return
    checks.report(True, "teams/manifest.json is JSON")

    version = str(manifest.get("manifestVersion", ""))
    schema_url = str(manifest.get("$schema", ""))
    checks.report(
        bool(re.fullmatch(r"1\.\d+", version)) and schema_url.endswith(f"/teams/v{version}/MicrosoftTeams.schema.json"),
        "teams/manifest.json: $schema matches manifestVersion",
        [f"manifestVersion {version!r}, $schema {schema_url!r}"],
    )

    if use_schema and schema is None:
        try:
            schema = fetch_teams_schema(version)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            checks.report(False, f"Teams manifest schema v{version} from {MANIFEST_PACKAGE}", [str(exc)])
            return

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "teams-app.zip"
        sample = [
            "--client-id",
            SAMPLE_CLIENT_ID,
            "--app-id-uri",
            f"api://{SAMPLE_HOST}/{SAMPLE_CLIENT_ID}",
            "--tab-url",
            f"https://{SAMPLE_HOST}/tab",
            "--developer-name",
            "Contoso",
            "--template",
            str(template),
            "--icons",
            str(root / "teams"),
            "--out",
            str(out),
        ]
        if use_schema and schema is not None:
            sample += ["--schema", str(schema)]
        result = run_packager(root, sample, {})
        label = "teams: template filled with sample values passes " + (
            f"the v{version} schema, SSO and icon rules" if use_schema else "SSO and icon rules (schema skipped)"
        )
        checks.report(
            result.returncode == 0 and out.is_file(), label, (result.stderr or result.stdout).strip().splitlines()
        )

        broken = Path(tmp) / "manifest.json"
        broken.write_text(text.replace("{{TAB_DOMAIN}}", "{{TAB_DOMAIN_TYPO}}", 1), encoding="utf-8")
        # The same run against a template with a placeholder the script does not know: refused.
        args = [a if a != str(template) else str(broken) for a in sample]
        result = run_packager(root, args, {})
        checks.report(
            result.returncode == 1 and "TAB_DOMAIN_TYPO" in result.stderr,
            "teams: an unfilled placeholder is refused",
            [f"exit {result.returncode}: {(result.stderr or result.stdout).strip()}"],
        )


def check_icons_reproducible(root: Path, checks: Checks) -> None:
    """The committed icons are exactly what scripts/deploy/make_teams_icons.py draws."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [sys.executable, str(root / "scripts" / "deploy" / "make_teams_icons.py"), "--out", tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        problems = [] if result.returncode == 0 else [result.stderr.strip()]
        for name in ("color.png", "outline.png"):
            committed = root / "teams" / name
            drawn = Path(tmp) / name
            if not committed.is_file():
                problems.append(f"teams/{name} missing")
            elif drawn.is_file() and committed.read_bytes() != drawn.read_bytes():
                problems.append(f"teams/{name} differs from what scripts/deploy/make_teams_icons.py draws; re-run it")
        checks.report(not problems, "teams: icons are reproducible from scripts/deploy/make_teams_icons.py", problems)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=REPO_ROOT)
    ap.add_argument("--schema", type=Path, help="Teams manifest schema file to use instead of the npm package")
    ap.add_argument("--no-schema", action="store_true", help="skip the Teams schema download and validation")
    args = ap.parse_args()
    root = args.root.resolve()
    if args.schema is not None and not args.schema.is_file():
        print(f"error: {args.schema} not found", file=sys.stderr)
        return 2

    checks = Checks()
    check_azure_yaml(root, checks)
    check_teams(root, checks, args.schema, not args.no_schema)
    check_icons_reproducible(root, checks)
    print(f"deploy config: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
