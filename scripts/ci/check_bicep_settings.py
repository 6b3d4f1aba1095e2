#!/usr/bin/env python3
"""Compare the settings the handler reads with the app settings the Bicep sets.

The handler's list is `SETTING_NAMES` in handler/src/config/mod.rs (read with a
regular expression, so no Rust build is needed). The Bicep's list is every
`{ name: '...', value: ... }` object under a `siteConfig.appSettings` property
in infra/**/*.bicep, read with tree-sitter-bicep (variables that appSettings
refers to by name are followed).

Rules:
  1. every name in SETTING_NAMES is either set by the Bicep or listed in
     NOT_SET_BY_BICEP below, with the reason;
  2. no name in NOT_SET_BY_BICEP is set by the Bicep (several are secrets or
     belong to the platform), and every name in it is still in SETTING_NAMES;
  3. every name the Bicep sets is in SETTING_NAMES or is a known platform
     setting (PLATFORM_SETTINGS), and none is one that Flex Consumption
     deprecates or rejects or that would reintroduce a storage key
     (FORBIDDEN_ON_FLEX);
  4. each name is set once, as a plain string literal;
  5. no Flex Consumption site (a Microsoft.Web/sites resource of kind
     functionapp,linux with properties.functionAppConfig) sets a site or
     siteConfig property that Flex Consumption rejects or deprecates
     (FLEX_REJECTED_SITE_PROPERTIES; newer regions refuse them with ARM error
     51021, older ones ignore them);
  6. every handler setting the Bicep sets is also in
     local.settings.json.example, so a local run has the same knobs as Azure.

Prints one line per rule check and "settings: N passed, M failed"; exits 1 on
a failure, 2 on a usage error.

    python3 scripts/ci/check_bicep_settings.py [--root DIR]

Needs: tree-sitter==0.26.1 tree-sitter-bicep==1.1.0
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

try:
    import tree_sitter_bicep
    from tree_sitter import Language, Node, Parser
except ImportError as exc:  # pragma: no cover - environment problem
    print(f"error: {exc.name} is missing; pip install tree-sitter==0.26.1 tree-sitter-bicep==1.1.0", file=sys.stderr)
    sys.exit(2)

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_RS = Path("handler/src/config/mod.rs")

# Settings of SETTING_NAMES that the Bicep deliberately does not set.
NOT_SET_BY_BICEP = {
    # The Functions host picks a port and sets it for each start of the handler.
    "FUNCTIONS_CUSTOMHANDLER_PORT": "set by the Functions host",
    # App Service / Functions set these when a managed identity is assigned.
    "IDENTITY_ENDPOINT": "set by the platform (managed identity endpoint)",
    "IDENTITY_HEADER": "set by the platform (managed identity endpoint)",
    # Local development only: in Azure both secrets come from Key Vault (KEY_VAULT_URI), and a
    # secret in an app setting would be readable by anyone who can read the site's configuration.
    "ENTRA_CLIENT_SECRET": "local development only; in Azure it is read from Key Vault",
    "ACS_CONNECTION_STRING": "local development only; in Azure it is read from Key Vault",
    # Only for VMs without the App Service identity endpoint; Functions always has one.
    "MANAGED_IDENTITY_ALLOW_IMDS": "VMs only; never wanted on Functions",
    # Optional operator settings (extra trusted roots behind TLS inspection); no default value.
    "SSL_CERT_FILE": "optional operator setting, no default",
    "SSL_CERT_DIR": "optional operator setting, no default",
}

# Settings the Functions host or the platform reads, allowed in the Bicep.
PLATFORM_SETTINGS = [
    re.compile(r"^AzureWebJobsStorage__[A-Za-z]+$"),  # identity-based host storage
    re.compile(r"^APPLICATIONINSIGHTS_[A-Z_]+$"),
    re.compile(r"^FUNCTIONS_[A-Z_]+$"),
    re.compile(r"^WEBSITE_[A-Z_]+$"),
]

# App settings that Flex Consumption deprecates (the runtime, scale and package come from
# functionAppConfig): the table "Flex Consumption plan deprecations" in "App settings reference for
# Azure Functions" (https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations,
# ms.date 2025-12-22), plus the settings that "Flex Consumption plan hosting", "Considerations"
# (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#considerations) says are
# not supported. A plain AzureWebJobsStorage would be a connection string with a key.
FORBIDDEN_ON_FLEX = {
    "ENABLE_ORYX_BUILD": "replaced by remoteBuild when deploying to Flex Consumption",
    "FUNCTIONS_EXTENSION_VERSION": "set by the Flex Consumption backend",
    "FUNCTIONS_WORKER_RUNTIME": "replaced by functionAppConfig.runtime.name",
    "FUNCTIONS_WORKER_RUNTIME_VERSION": "replaced by functionAppConfig.runtime.version",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY": "replaced by functionAppConfig.scaleAndConcurrency.triggers",
    "FUNCTIONS_WORKER_PROCESS_COUNT": "not valid on Flex Consumption",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED": "not valid on Flex Consumption",
    "SCM_DO_BUILD_DURING_DEPLOYMENT": "replaced by remoteBuild when deploying to Flex Consumption",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": "replaced by functionAppConfig.deployment (and a storage key)",
    "WEBSITE_CONTENTOVERVNET": "not used for networking on Flex Consumption",
    "WEBSITE_CONTENTSHARE": "replaced by functionAppConfig.deployment",
    "WEBSITE_DNS_SERVER": "DNS comes from the integrated virtual network on Flex Consumption",
    "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT": "replaced by functionAppConfig.scaleAndConcurrency.maximumInstanceCount",
    "WEBSITE_NODE_DEFAULT_VERSION": "replaced by functionAppConfig.runtime.version",
    "WEBSITE_RUN_FROM_PACKAGE": "Flex deploys from functionAppConfig.deployment.storage",
    "WEBSITE_SKIP_CONTENTSHARE_VALIDATION": "no content share on Flex Consumption",
    "WEBSITE_VNET_ROUTE_ALL": "not used for networking on Flex Consumption",
    "WEBSITE_TIME_ZONE": "not supported on Flex Consumption (Considerations)",
    "TZ": "not supported on Flex Consumption (Considerations)",
    "WEBSITE_LOAD_CERTIFICATES": "certificates are not supported on Flex Consumption (Considerations)",
    "AzureWebJobsStorage": "a storage connection string with a key; use AzureWebJobsStorage__*",
}

# Site and siteConfig properties that a Flex Consumption site must not set. Newer Flex stamps
# refuse them with ARM error 51021 ("The following site configuration property (Site.SiteConfig.X)
# for Flex Consumption sites is invalid. Please remove or rename it before retrying."); older
# stamps ignore them, so a template can pass in one region and fail in the next.
# Source: the same "Flex Consumption plan deprecations" table (properties.X / siteConfig.X), names
# compared case-insensitively. `reserved` is the ARM name of the table's `isReserved`.
FLEX_REJECTED_SITE_PROPERTIES = {
    "alwaysOn": "not valid on Flex Consumption",
    "containerSize": "renamed functionAppConfig.scaleAndConcurrency.instanceMemoryMB",
    "dnsConfiguration": "custom DNS comes from the integrated virtual network",
    "ftpsState": "FTPS is not supported; FTP stays off through basicPublishingCredentialsPolicies/ftp",
    "isReserved": "not valid on Flex Consumption",
    "reserved": "not valid on a Flex Consumption site (isReserved); set it on the plan",
    "isXenon": "not valid on Flex Consumption",
    "javaVersion": "replaced by functionAppConfig.runtime.version",
    "linuxFxVersion": "replaced by functionAppConfig.runtime",
    "netFrameworkVersion": "replaced by functionAppConfig.runtime.version",
    "powerShellVersion": "replaced by functionAppConfig.runtime.version",
    "functionAppScaleLimit": "renamed functionAppConfig.scaleAndConcurrency.maximumInstanceCount",
    "preWarmedInstanceCount": "renamed functionAppConfig.scaleAndConcurrency.alwaysReady",
    "use32BitWorkerProcess": "32-bit is not supported",
    "vnetBackupRestoreEnabled": "not used for networking on Flex Consumption",
    "vnetContentShareEnabled": "not used for networking on Flex Consumption",
    "vnetImagePullEnabled": "not used for networking on Flex Consumption",
    "vnetRouteAllEnabled": "not used for networking on Flex Consumption",
    "windowsFxVersion": "not valid on Flex Consumption",
    # Not in the table, but named in verbatim ARM 51021 rejections (Site.SiteConfig.
    # FunctionsRuntimeScaleMonitoringEnabled; microsoft/azure-pipelines-tasks#21032, Microsoft Q&A
    # 2277522), and scale monitoring is built into Flex.
    "functionsRuntimeScaleMonitoringEnabled": "rejected with ARM error 51021 on Flex Consumption",
}
LOCAL_SETTINGS_EXAMPLE = Path("local.settings.json.example")


def setting_names(config_rs: Path) -> list[str]:
    text = config_rs.read_text(encoding="utf-8")
    match = re.search(r"pub\s+const\s+SETTING_NAMES\s*:\s*&\[&str\]\s*=\s*&\[(.*?)\];", text, re.DOTALL)
    if not match:
        raise ValueError(f"SETTING_NAMES not found in {config_rs}")
    body = re.sub(r"//[^\n]*", "", match.group(1))
    names = re.findall(r'"([^"\\]+)"', body)
    if not names:
        raise ValueError(f"SETTING_NAMES in {config_rs} is empty")
    return names


def node_text(node: Node) -> str:
    return node.text.decode("utf-8") if node.text is not None else ""


def property_key(prop: Node) -> str | None:
    key = prop.named_children[0] if prop.named_children else None
    if key is None:
        return None
    if key.type == "string":
        return literal(key)
    return node_text(key)


def property_value(prop: Node) -> Node | None:
    children = prop.named_children
    return children[-1] if len(children) >= 2 else None


def literal(node: Node) -> str | None:
    """The value of a string node without interpolation, else None."""
    if node.type != "string":
        return None
    if any(child.type == "interpolation" for child in node.named_children):
        return None
    return "".join(node_text(c) for c in node.named_children if c.type in ("string_content", "escape_sequence"))


def walk(node: Node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


class SettingsCollector:
    def __init__(self, root: Node, source: str, rel: Path):
        self.rel = rel
        self.source = source
        self.variables: dict[str, Node] = {}
        for node in root.named_children:
            if node.type == "variable_declaration" and len(node.named_children) >= 2:
                self.variables[node_text(node.named_children[0])] = node.named_children[-1]
        self.root = root
        self.names: list[tuple[str, int]] = []
        self.problems: list[str] = []

    def collect(self) -> None:
        for node in walk(self.root):
            if node.type == "object_property" and property_key(node) == "appSettings":
                value = property_value(node)
                if value is not None:
                    self.collect_value(value, set())

    def collect_value(self, value: Node, seen: set[str]) -> None:
        for node in walk(value):
            if node.type == "identifier" and node_text(node) in self.variables:
                name = node_text(node)
                if name not in seen:
                    seen.add(name)
                    self.collect_value(self.variables[name], seen)
            if node.type != "object":
                continue
            props = {property_key(p): p for p in node.named_children if p.type == "object_property"}
            if "name" not in props or "value" not in props:
                continue
            name_node = property_value(props["name"])
            line = node.start_point[0] + 1
            text = literal(name_node) if name_node is not None else None
            if text is None:
                self.problems.append(
                    f"{self.rel}:{line}: app setting name is not a plain string literal: "
                    f"{node_text(name_node) if name_node is not None else '?'}"
                )
            else:
                self.names.append((text, line))


def resource_type(node: Node) -> str:
    target = node.named_children[1] if len(node.named_children) > 1 else None
    return (literal(target) or "") if target is not None else ""


def resource_body(node: Node) -> Node | None:
    body = node.named_children[-1] if node.named_children else None
    if body is not None and body.type == "if_statement":
        body = body.named_children[-1] if body.named_children else None
    return body if body is not None and body.type == "object" else None


def object_properties(obj: Node | None) -> dict[str, Node]:
    if obj is None or obj.type != "object":
        return {}
    return {
        key: value
        for prop in obj.named_children
        if prop.type == "object_property"
        for key, value in [(property_key(prop), property_value(prop))]
        if key is not None and value is not None
    }


def flex_site_problems(root_node: Node, rel: Path) -> tuple[int, list[str]]:
    """(Flex sites found, problems): site/siteConfig properties that Flex Consumption refuses."""
    rejected = {name.lower(): (name, why) for name, why in FLEX_REJECTED_SITE_PROPERTIES.items()}
    problems: list[str] = []
    sites = 0
    resources = [n for n in walk(root_node) if n.type == "resource_declaration"]
    for node in resources:
        if resource_type(node).split("@")[0].lower() != "microsoft.web/sites":
            continue
        body = object_properties(resource_body(node))
        kind = literal(body["kind"]) if "kind" in body else None
        properties = object_properties(body.get("properties"))
        if not kind or "functionapp" not in kind.lower() or "linux" not in kind.lower():
            continue
        if "functionAppConfig" not in properties:
            continue
        sites += 1
        symbol = node_text(node.named_children[0])
        scopes = [("properties", properties), ("properties.siteConfig", object_properties(properties.get("siteConfig")))]
        # A child `config` resource named 'web' is the same siteConfig.
        for child in resources:
            child_type = resource_type(child).split("@")[0].lower()
            child_body = object_properties(resource_body(child))
            name = literal(child_body["name"]) if "name" in child_body else None
            if child_type in ("microsoft.web/sites/config", "config") and name == "web":
                scopes.append((f"config/web {node_text(child.named_children[0])}", object_properties(child_body.get("properties"))))
        for scope, props in scopes:
            for key, value in props.items():
                if key.lower() in rejected:
                    line = value.start_point[0] + 1
                    name, why = rejected[key.lower()]
                    problems.append(f"{rel}:{line}: site {symbol} sets {scope}.{key}: {why}")
    return sites, problems


def local_example_names(root: Path) -> set[str] | None:
    try:
        data = json.loads((root / LOCAL_SETTINGS_EXAMPLE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    values = data.get("Values") if isinstance(data, dict) else None
    return set(values) if isinstance(values, dict) else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=REPO_ROOT)
    args = ap.parse_args()
    root: Path = args.root.resolve()

    try:
        handler_names = setting_names(root / CONFIG_RS)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bicep_files = sorted((root / "infra").rglob("*.bicep"))
    if not bicep_files:
        print(f"error: no .bicep files under {root / 'infra'}", file=sys.stderr)
        return 2

    parser = Parser(Language(tree_sitter_bicep.language()))
    set_by_bicep: list[tuple[str, str]] = []  # (name, "file:line")
    extraction_problems: list[str] = []
    flex_sites = 0
    flex_problems: list[str] = []
    for path in bicep_files:
        rel = path.relative_to(root)
        source = path.read_text(encoding="utf-8")
        # tree-sitter-bicep 1.1.0 does not know `extension x`; blank it (see check_bicep.py).
        masked = re.sub(r"^(\s*)extension\s+\S+.*$", lambda m: " " * len(m.group(0)), source, flags=re.MULTILINE)
        tree = parser.parse(masked.encode("utf-8"))
        collector = SettingsCollector(tree.root_node, source, rel)
        collector.collect()
        extraction_problems += collector.problems
        set_by_bicep += [(name, f"{rel}:{line}") for name, line in collector.names]
        sites, problems = flex_site_problems(tree.root_node, rel)
        flex_sites += sites
        flex_problems += problems

    print(f"handler reads {len(handler_names)} settings ({CONFIG_RS}); the Bicep sets {len(set_by_bicep)} app settings")
    passed = failed = 0

    def report(ok: bool, label: str, details: list[str]) -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok    {label}")
        else:
            failed += 1
            print(f"FAIL  {label}")
            for line in details:
                print(f"      {line}")

    bicep_names = {name for name, _ in set_by_bicep}
    where = {}
    for name, loc in set_by_bicep:
        where.setdefault(name, loc)

    report(not extraction_problems, "every app setting name is a literal", extraction_problems)

    if not set_by_bicep:
        report(False, "the Bicep sets app settings", ["no siteConfig.appSettings entries found under infra/"])

    counts = Counter(name for name, _ in set_by_bicep)
    dupes = [f"{name} is set {n} times (first at {where[name]})" for name, n in counts.items() if n > 1]
    report(not dupes, "each app setting is set once", dupes)

    missing = [
        f"{name}: read by the handler, not set by the Bicep and not in NOT_SET_BY_BICEP"
        for name in handler_names
        if name not in bicep_names and name not in NOT_SET_BY_BICEP
    ]
    report(not missing, "every handler setting is wired or explained", missing)

    leaked = [
        f"{name} ({where[name]}): must not be set by the Bicep: {NOT_SET_BY_BICEP[name]}"
        for name in sorted(bicep_names)
        if name in NOT_SET_BY_BICEP
    ]
    report(not leaked, "no platform-owned or local-only setting is set by the Bicep", leaked)

    stale = [
        f"{name}: in NOT_SET_BY_BICEP but not in SETTING_NAMES"
        for name in NOT_SET_BY_BICEP
        if name not in handler_names
    ]
    report(not stale, "the not-set-by-Bicep list matches SETTING_NAMES", stale)

    unknown = [
        f"{name} ({where[name]}): neither a handler setting nor a known platform setting"
        for name in sorted(bicep_names)
        if name not in handler_names
        and name not in FORBIDDEN_ON_FLEX
        and not any(p.match(name) for p in PLATFORM_SETTINGS)
    ]
    report(not unknown, "every Bicep app setting is known", unknown)

    forbidden = [
        f"{name} ({where[name]}): {FORBIDDEN_ON_FLEX[name]}"
        for name in sorted(bicep_names)
        if name in FORBIDDEN_ON_FLEX
    ]
    report(not forbidden, "no setting that Flex Consumption deprecates or that carries a key", forbidden)

    if not flex_sites:
        flex_problems.append("no Flex Consumption site (Microsoft.Web/sites, functionapp,linux, functionAppConfig) found")
    report(not flex_problems, "no Flex Consumption site sets a site property Flex rejects", flex_problems)

    example = local_example_names(root)
    if example is None:
        local_missing = [f"{LOCAL_SETTINGS_EXAMPLE}: missing or not JSON with a Values object"]
    else:
        local_missing = [
            f"{name} ({where[name]}): set by the Bicep but missing from {LOCAL_SETTINGS_EXAMPLE} Values"
            for name in sorted(bicep_names)
            if name in handler_names and name not in example
        ]
    report(not local_missing, f"every handler setting the Bicep sets is in {LOCAL_SETTINGS_EXAMPLE}", local_missing)

    print(f"settings: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
