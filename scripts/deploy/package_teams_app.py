#!/usr/bin/env python3
"""Build the Teams app package dist/teams-app.zip from teams/manifest.json.

The manifest in the repository is a template with {{PLACEHOLDER}}s. This
script fills them in, checks the result, and zips manifest.json with the two
icons (teams/color.png, teams/outline.png) at the root of the zip, which is
what Teams expects to be uploaded (Teams admin center, or Apps > Manage your
apps > Upload an app).

Values come from command-line options, else from environment variables, else
from an env file (e.g. azd's .azure/<env>/.env via --env-file), in that order:

  placeholder            option                   environment (first one set)
  CLIENT_ID              --client-id              CLIENT_ID, ENTRA_CLIENT_ID
  APP_ID_URI             --app-id-uri             APP_ID_URI, ENTRA_APP_ID_URI
  TAB_URL                --tab-url                TAB_URL          (default https://<TAB_HOST>/)
  TAB_DOMAIN             --tab-domain             TAB_DOMAIN, TAB_HOST (default: host of TAB_URL)
  TAB_CONFIGURATION_URL  --tab-configuration-url  TAB_CONFIGURATION_URL (default <TAB_URL>/configure.html)
  TEAMS_APP_ID           --teams-app-id           TEAMS_APP_ID     (default: derived from CLIENT_ID)
  DEVELOPER_NAME         --developer-name         DEVELOPER_NAME   (default "Remote Expert")
  DEVELOPER_URL          --developer-url          DEVELOPER_URL    (default https://<TAB_DOMAIN>/)
  PRIVACY_URL            --privacy-url            PRIVACY_URL      (default https://<TAB_DOMAIN>/privacy)
  TERMS_URL              --terms-url              TERMS_URL        (default https://<TAB_DOMAIN>/terms)
  APP_VERSION            --app-version            APP_VERSION      (default 1.0.0)

It refuses to write a package when a placeholder is left unfilled, when a value
is malformed, or when APP_ID_URI is not exactly api://<TAB_DOMAIN>/<CLIENT_ID>
(lower-case host): Teams single sign-on fails with "resourceDisabled" otherwise.
With --schema FILE (and the jsonschema package) the manifest is also validated
against that JSON schema.

    python3 scripts/deploy/package_teams_app.py --client-id ... --app-id-uri ... --tab-url ...
    python3 scripts/deploy/package_teams_app.py --env-file .azure/dev/.env --tab-url https://tab.contoso.example/tab

Exit status: 0 written, 1 refused (the reason is printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import struct
import sys
import uuid
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from env_file import read_env_file

REPO_ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# Namespace for deriving a stable Teams app id from the client id when none is given.
TEAMS_APP_NAMESPACE = uuid.UUID("6f0e3c52-3f7e-4a55-9d7b-2f3c1e0a9b41")
ICONS = {"color.png": (192, 192), "outline.png": (32, 32)}


class Refused(Exception):
    pass


def first(*candidates: str | None) -> str:
    for value in candidates:
        if value is not None and value.strip():
            return value.strip()
    return ""


def https_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise Refused(f"{name} must be an https URL, got {value!r}")
    return value


def resolve(args: argparse.Namespace, env: dict[str, str]) -> dict[str, str]:
    def pick(option: str | None, *names: str) -> str:
        return first(option, *(env.get(n) for n in names))

    values: dict[str, str] = {}
    values["CLIENT_ID"] = pick(args.client_id, "CLIENT_ID", "ENTRA_CLIENT_ID").lower()
    values["APP_ID_URI"] = pick(args.app_id_uri, "APP_ID_URI", "ENTRA_APP_ID_URI")
    tab_host = pick(None, "TAB_HOST")
    values["TAB_URL"] = pick(args.tab_url, "TAB_URL") or (f"https://{tab_host}/" if tab_host else "")
    tab_domain = pick(args.tab_domain, "TAB_DOMAIN", "TAB_HOST")
    if not tab_domain and values["TAB_URL"]:
        tab_domain = urlsplit(values["TAB_URL"]).hostname or ""
    values["TAB_DOMAIN"] = tab_domain
    base = values["TAB_URL"].rstrip("/")
    values["TAB_CONFIGURATION_URL"] = pick(args.tab_configuration_url, "TAB_CONFIGURATION_URL") or (
        f"{base}/configure.html" if base else ""
    )
    values["TEAMS_APP_ID"] = pick(args.teams_app_id, "TEAMS_APP_ID") or (
        str(uuid.uuid5(TEAMS_APP_NAMESPACE, values["CLIENT_ID"])) if GUID.match(values["CLIENT_ID"]) else ""
    )
    values["DEVELOPER_NAME"] = pick(args.developer_name, "DEVELOPER_NAME") or "Remote Expert"
    site = f"https://{tab_domain}" if tab_domain else ""
    values["DEVELOPER_URL"] = pick(args.developer_url, "DEVELOPER_URL") or (f"{site}/" if site else "")
    values["PRIVACY_URL"] = pick(args.privacy_url, "PRIVACY_URL") or (f"{site}/privacy" if site else "")
    values["TERMS_URL"] = pick(args.terms_url, "TERMS_URL") or (f"{site}/terms" if site else "")
    values["APP_VERSION"] = pick(args.app_version, "APP_VERSION") or "1.0.0"
    return values


def validate_values(values: dict[str, str]) -> None:
    missing = [k for k, v in values.items() if not v]
    if missing:
        raise Refused("no value for " + ", ".join(missing) + " (see --help for the options and variables)")
    for key in ("CLIENT_ID", "TEAMS_APP_ID"):
        if not GUID.match(values[key]):
            raise Refused(f"{key} must be a GUID, got {values[key]!r}")
    domain = values["TAB_DOMAIN"]
    if domain != domain.lower():
        raise Refused(f"TAB_DOMAIN must be lower case (Teams on Android fails otherwise), got {domain!r}")
    if not DOMAIN.match(domain):
        raise Refused(f"TAB_DOMAIN must be a host name without scheme, port or path, got {domain!r}")
    for key in ("TAB_URL", "TAB_CONFIGURATION_URL", "DEVELOPER_URL", "PRIVACY_URL", "TERMS_URL"):
        https_url(key, values[key])
    for key in ("TAB_URL", "TAB_CONFIGURATION_URL"):
        host = urlsplit(values[key]).hostname or ""
        if host != domain:
            raise Refused(f"{key} is served from {host!r}, but TAB_DOMAIN is {domain!r}; SSO needs one host")
    expected = f"api://{domain}/{values['CLIENT_ID']}"
    if values["APP_ID_URI"] != expected:
        raise Refused(
            f"APP_ID_URI is {values['APP_ID_URI']!r}, but Teams SSO needs {expected!r} "
            "(api://<tab host, lower case>/<client id>; a mismatch gives 'resourceDisabled')"
        )
    if not SEMVER.match(values["APP_VERSION"]):
        raise Refused(f"APP_VERSION must be MAJOR.MINOR.PATCH, got {values['APP_VERSION']!r}")
    if len(values["DEVELOPER_NAME"]) > 32:
        raise Refused("DEVELOPER_NAME is longer than 32 characters")


def render(template: str, values: dict[str, str]) -> dict:
    unknown = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if unknown:
        raise Refused("the template has placeholders this script does not fill: " + ", ".join(unknown))

    def fill(match: re.Match[str]) -> str:
        # Values go into JSON strings: escape them as JSON would.
        return json.dumps(values[match.group(1)])[1:-1]

    text = PLACEHOLDER.sub(fill, template)
    left = PLACEHOLDER.findall(text)
    if left:
        raise Refused("placeholders left unfilled: " + ", ".join(sorted(set(left))))
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Refused(f"the filled-in manifest is not valid JSON: {exc}") from exc


def png_problems(name: str, data: bytes, size: tuple[int, int]) -> list[str]:
    """Size, colour type and (for the outline icon) white-or-transparent pixels."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return [f"{name} is not a PNG file"]
    width, height, depth, color_type = struct.unpack(">IIBB", data[16:26])
    problems = []
    if (width, height) != size:
        problems.append(f"{name} is {width}x{height}, Teams wants {size[0]}x{size[1]}")
    if name != "outline.png":
        return problems
    if depth != 8 or color_type != 6:
        return problems + [f"{name} must be 8-bit RGBA (transparent background)"]
    idat = b""
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4
    previous = bytearray(stride)
    offenders = 0
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - 4] if i >= 4 else 0
            up = previous[i]
            up_left = previous[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                line[i] = (line[i] + predictor) & 0xFF
        for i in range(0, stride, 4):
            r, g, b, a = line[i : i + 4]
            if a and (r, g, b) != (255, 255, 255):
                offenders += 1
        previous = line
    if offenders:
        problems.append(f"{name}: {offenders} pixels are neither white nor fully transparent")
    return problems


def validate_manifest(manifest: dict, schema_path: Path | None) -> None:
    info = manifest.get("webApplicationInfo") or {}
    if not info.get("id") or not info.get("resource"):
        raise Refused("webApplicationInfo needs id and resource for single sign-on")
    if manifest.get("$schema", "").find(f"/v{manifest.get('manifestVersion')}/") < 0:
        raise Refused("$schema does not name the manifestVersion's schema")
    if schema_path is None:
        return
    try:
        from jsonschema import Draft4Validator
    except ImportError as exc:
        raise Refused("--schema needs the jsonschema package (pip install jsonschema)") from exc
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    errors = sorted(Draft4Validator(schema).iter_errors(manifest), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'/'.join(str(p) for p in e.path) or '(root)'}: {e.message}" for e in errors[:10]]
        raise Refused("the manifest does not match its schema:\n  " + "\n  ".join(lines))


def write_zip(out: Path, manifest: dict, icons: dict[str, bytes]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = (1980, 1, 1, 0, 0, 0)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        entries = [("manifest.json", (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))]
        entries += sorted(icons.items())
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    os.replace(tmp, out)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    ap.add_argument("--template", type=Path, default=REPO_ROOT / "teams" / "manifest.json")
    ap.add_argument("--icons", type=Path, default=REPO_ROOT / "teams", help="folder with color.png and outline.png")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "dist" / "teams-app.zip")
    ap.add_argument("--env-file", type=Path, help="KEY=VALUE file read after the environment (e.g. .azure/<env>/.env)")
    ap.add_argument("--schema", type=Path, help="JSON schema to validate the manifest against")
    for opt in (
        "client-id",
        "app-id-uri",
        "tab-url",
        "tab-domain",
        "tab-configuration-url",
        "teams-app-id",
        "developer-name",
        "developer-url",
        "privacy-url",
        "terms-url",
        "app-version",
    ):
        ap.add_argument(f"--{opt}")
    args = ap.parse_args()

    env: dict[str, str] = {}
    if args.env_file:
        if not args.env_file.is_file():
            print(f"error: {args.env_file} not found", file=sys.stderr)
            return 2
        env.update(read_env_file(args.env_file))
    env.update({k: v for k, v in os.environ.items() if v.strip()})  # the environment wins over the file

    try:
        values = resolve(args, env)
        validate_values(values)
        manifest = render(args.template.read_text(encoding="utf-8"), values)
        icons: dict[str, bytes] = {}
        problems: list[str] = []
        for name, size in ICONS.items():
            declared = (manifest.get("icons") or {}).get(name.split(".")[0])
            if declared != name:
                problems.append(f"manifest icons.{name.split('.')[0]} is {declared!r}, expected {name!r}")
            path = args.icons / name
            if not path.is_file():
                problems.append(f"{path} not found (python3 scripts/deploy/make_teams_icons.py draws it)")
                continue
            icons[name] = path.read_bytes()
            problems += png_problems(name, icons[name], size)
        if problems:
            raise Refused("; ".join(problems))
        validate_manifest(manifest, args.schema)
    except Refused as exc:
        print(f"package_teams_app: refused: {exc}", file=sys.stderr)
        return 1

    write_zip(args.out, manifest, icons)
    print(
        f"package_teams_app: wrote {args.out} (manifest {manifest['manifestVersion']}, "
        f"app id {values['TEAMS_APP_ID']}, client id {values['CLIENT_ID']}, tab {values['TAB_URL']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
