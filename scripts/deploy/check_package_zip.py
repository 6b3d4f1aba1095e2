#!/usr/bin/env python3
"""Check the zip that is deployed to Azure Functions (dist.zip).

What the Functions host needs at the root of the package, and what a zip made
on the wrong machine or with the wrong tool gets wrong:

  1. `handler` exists at the root, is a regular file with Unix mode 0755
     (zip entries made without Unix attributes extract as 0644 and the host
     cannot start the handler), and is an x86-64 ELF executable;
  2. `host.json` exists at the root and names `handler` as its executable;
  3. every folder of functions/ in the source tree is a `<Name>/function.json`
     in the zip, and the zip has no function the source tree lacks;
  4. nothing that must not ship: local.settings.json, target/, .git/, dist/.

    python3 scripts/deploy/check_package_zip.py dist.zip [--functions DIR]

Prints "package: N passed, M failed"; exits 1 on failure, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import stat
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ELF_X86_64 = b"\x7fELF\x02\x01"  # magic, 64-bit, little endian
EM_X86_64 = 62


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("zip", type=Path)
    ap.add_argument("--functions", type=Path, default=REPO_ROOT / "functions", help="source function folders")
    args = ap.parse_args()
    if not args.zip.is_file():
        print(f"error: {args.zip} not found", file=sys.stderr)
        return 2
    if not args.functions.is_dir():
        print(f"error: {args.functions} is not a directory", file=sys.stderr)
        return 2

    passed = failed = 0

    def report(ok: bool, label: str, details: list[str] | None = None) -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok    {label}")
        else:
            failed += 1
            print(f"FAIL  {label}")
            for line in details or []:
                print(f"      {line}")

    try:
        archive = zipfile.ZipFile(args.zip)
    except zipfile.BadZipFile as exc:
        report(False, f"{args.zip} is a zip file", [str(exc)])
        print(f"package: {passed} passed, {failed} failed")
        return 1

    with archive:
        infos = {info.filename: info for info in archive.infolist()}

        handler = infos.get("handler")
        if handler is None:
            report(False, "handler at the zip root", ["no entry named 'handler'"])
        else:
            mode = handler.external_attr >> 16
            problems = []
            if handler.create_system != 3:
                problems.append(f"entry made on system {handler.create_system}, not Unix (3): no file modes")
            if not stat.S_ISREG(mode):
                problems.append(f"not a regular file (mode {mode:o})")
            if stat.S_IMODE(mode) != 0o755:
                problems.append(f"mode {stat.S_IMODE(mode):04o}, expected 0755")
            head = archive.read("handler")[:20]
            machine = int.from_bytes(head[18:20], "little") if len(head) >= 20 else -1
            if not head.startswith(ELF_X86_64) or machine != EM_X86_64:
                problems.append("not a 64-bit little-endian x86-64 ELF file")
            report(not problems, "handler at the zip root, mode 0755, x86-64 ELF", problems)

        host = infos.get("host.json")
        if host is None:
            report(False, "host.json at the zip root", ["no entry named 'host.json'"])
        else:
            try:
                config = json.loads(archive.read("host.json"))
                exe = config["customHandler"]["description"]["defaultExecutablePath"]
                report(
                    exe == "handler", "host.json at the zip root runs 'handler'", [f"defaultExecutablePath is {exe!r}"]
                )
            except (ValueError, KeyError, TypeError) as exc:
                report(False, "host.json at the zip root runs 'handler'", [f"cannot read customHandler: {exc}"])

        expected = sorted(d.name for d in args.functions.iterdir() if (d / "function.json").is_file())
        shipped = sorted(
            name.split("/")[0] for name in infos if name.count("/") == 1 and name.endswith("/function.json")
        )
        missing = [f"{name}/function.json missing" for name in expected if name not in shipped]
        extra = [f"{name}/function.json not in {args.functions}" for name in shipped if name not in expected]
        report(
            bool(expected) and not missing and not extra,
            f"the {len(expected)} functions of {args.functions.name}/ and no others",
            missing + extra,
        )

        forbidden = [
            name
            for name in infos
            if name.split("/")[-1] == "local.settings.json"
            or name.split("/")[0] in ("target", ".git", "dist", ".azure")
        ]
        report(not forbidden, "no local settings, build output or repository files", forbidden)

    print(f"package: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
