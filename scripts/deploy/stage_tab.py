#!/usr/bin/env python3
"""Stage the Teams tab (tab/) for Azure Static Web Apps: the tab as scripts/tab/build-tab.mjs builds
it (pages and styles as they are, each page's modules bundled by esbuild with the npm packages
they import, pinned in package-lock.json; `npm ci` is run first when esbuild is not installed),
plus the two files that depend on the deployment.

  config.json               apiBaseUrl (the Function App), clientId, authority, partnerExperts:
                            what tab/config.js reads (tab/config.example.json shows the shape)
  staticwebapp.config.json  the Content-Security-Policy every page is served with, built from
                            tab/content-security-policy.json and the API's origin

azure.yaml runs it as the tab service's predeploy hook (in tab/, with the azd environment's
values as variables), so `azd up` / `azd deploy tab` publishes exactly this folder. Values come
from options, else the environment, else --env-file (e.g. .azure/<env>/.env):

  FUNCTION_APP_URL          --api-url          https://<function app>.azurewebsites.net
  ENTRA_CLIENT_ID           --client-id        the app registration's client id
  ENTRA_AUTHORITY_HOST      --authority        default https://login.microsoftonline.com
  TAB_PARTNER_EXPERTS_FILE  --partner-experts  optional JSON list of experts of partner
                                               organizations ({userId, tenantId, displayName,
                                               mail?, jobTitle?, organization?}): Graph cannot
                                               search another tenant, so the tab offers these

    python3 scripts/deploy/stage_tab.py --out tab/build [--env-file .azure/prod/.env]

Needs Node.js 20 or later and npm. Exit status: 0 staged, 1 refused or the build failed (the
reason is printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from env_file import read_env_file

REPO_ROOT = Path(__file__).resolve().parents[2]
TAB = REPO_ROOT / "tab"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
BUILD_SCRIPT = REPO_ROOT / "scripts" / "tab" / "build-tab.mjs"


class Refused(Exception):
    pass


def origin(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise Refused(f"{name} must be an https origin such as https://host, got {url!r}")
    return f"https://{parts.netloc}"


def partner_experts(path: str) -> list[dict]:
    if not path:
        return []
    try:
        experts = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Refused(f"partner experts file {path}: {exc}") from exc
    if not isinstance(experts, list):
        raise Refused(f"partner experts file {path}: expected a JSON list")
    for i, expert in enumerate(experts):
        if not isinstance(expert, dict) or not GUID.match(str(expert.get("userId", ""))) or not GUID.match(
            str(expert.get("tenantId", ""))
        ) or not str(expert.get("displayName", "")).strip():
            raise Refused(f"partner experts file {path}: entry {i} needs userId and tenantId (GUIDs) and displayName")
    return experts


def content_security_policy(api_origin: str) -> str:
    """tab/content-security-policy.json with its slots filled: the API's origin, and no framing
    host besides Teams (the sandbox's `web::tab_csp` fills the same slots with its own)."""
    policy = json.loads((TAB / "content-security-policy.json").read_text(encoding="utf-8"))
    slots = {"$API_ORIGIN": [api_origin], "$FRAMING_HOSTS": []}
    return "; ".join(
        " ".join([directive["name"], *(source for slot in directive["sources"] for source in slots.get(slot, [slot]))])
        for directive in policy["directives"]
    )


def build(out: Path) -> None:
    """The tab, built into `out` (which is replaced)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise Refused("Node.js 20 or later and npm are needed to build the tab")
    if not (REPO_ROOT / "node_modules" / "esbuild").is_dir():
        ci = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REPO_ROOT)
        if ci.returncode != 0:
            raise Refused("npm ci failed: the tab's build tools are not installed")
    built = subprocess.run(["node", str(BUILD_SCRIPT), str(out)], cwd=REPO_ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        raise Refused(f"the tab's build failed: {built.stderr.strip()}")


def stage(out: Path, api_url: str, client_id: str, authority: str, experts: list[dict]) -> None:
    api = origin(api_url, "FUNCTION_APP_URL")
    authority = origin(authority, "ENTRA_AUTHORITY_HOST")
    if not GUID.match(client_id):
        raise Refused(f"ENTRA_CLIENT_ID must be a GUID, got {client_id!r}")
    build(out)
    config = {
        "apiBaseUrl": api,
        "clientId": client_id.lower(),
        "authority": authority,
        "validMessageOrigins": [],
        "partnerExperts": experts,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    site = {
        "globalHeaders": {
            "Content-Security-Policy": content_security_policy(api),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        },
        "routes": [{"route": "/config.json", "headers": {"Cache-Control": "no-cache"}}],
    }
    (out / "staticwebapp.config.json").write_text(json.dumps(site, indent=2) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder to (re)create, e.g. tab/build")
    ap.add_argument("--env-file", type=Path, help="azd's .azure/<env>/.env")
    ap.add_argument("--api-url")
    ap.add_argument("--client-id")
    ap.add_argument("--authority")
    ap.add_argument("--partner-experts")
    args = ap.parse_args()
    file_values = read_env_file(args.env_file) if args.env_file else {}

    def pick(option: str | None, name: str, default: str = "") -> str:
        return option or os.environ.get(name) or file_values.get(name) or default

    try:
        api_url = pick(args.api_url, "FUNCTION_APP_URL")
        client_id = pick(args.client_id, "ENTRA_CLIENT_ID")
        missing = [n for n, v in (("FUNCTION_APP_URL", api_url), ("ENTRA_CLIENT_ID", client_id)) if not v]
        if missing:
            raise Refused("no value for " + ", ".join(missing) + " (run after azd provision, or pass --env-file)")
        stage(
            args.out,
            api_url,
            client_id,
            pick(args.authority, "ENTRA_AUTHORITY_HOST", "https://login.microsoftonline.com"),
            partner_experts(pick(args.partner_experts, "TAB_PARTNER_EXPERTS_FILE")),
        )
    except Refused as exc:
        print(f"stage_tab: refused: {exc}", file=sys.stderr)
        return 1
    print(f"stage_tab: {args.out} holds the tab for {api_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
