#!/usr/bin/env python3
"""Check that a Linux binary runs on an older glibc than the build machine's.

The Functions Linux hosts may run an older glibc than the machine that built
the handler. A dynamically linked binary records, per imported libc symbol, the
symbol version it needs (GLIBC_2.x); the dynamic loader refuses to start it
when the host's libc lacks one of them. This script reads those versions from
`objdump -T` (undefined symbols only) and fails when any is newer than the
target.

Checks:
  1. the file is an x86-64 ELF (`objdump -f`);
  2. the highest GLIBC_x.y it needs is at most --max (default 2.28), printing
     the highest found and the symbols that need it. A static or musl binary
     needs none and passes.

    python3 scripts/deploy/check_glibc.py dist/handler [--max 2.28] [--arch i386:x86-64]

Prints "glibc: N passed, M failed"; exits 1 on failure, 2 on a usage error
(no objdump, no file).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

VERSION = re.compile(r"\bGLIBC_(\d+(?:\.\d+)+)\b")


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def objdump(flag: str, path: Path) -> str:
    result = subprocess.run(["objdump", flag, str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or f"objdump {flag} failed")
    return result.stdout


def required_versions(dynamic_symbols: str) -> dict[str, list[str]]:
    """GLIBC version -> names of the undefined (imported) symbols that need it."""
    needed: dict[str, list[str]] = {}
    for line in dynamic_symbols.splitlines():
        if "*UND*" not in line:
            continue
        match = VERSION.search(line)
        if not match:
            continue
        symbol = line.split()[-1]
        needed.setdefault(match.group(1), []).append(symbol)
    return needed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", type=Path)
    ap.add_argument("--max", default="2.28", help="highest allowed GLIBC version (default %(default)s)")
    ap.add_argument("--arch", default="i386:x86-64", help="expected objdump architecture (default %(default)s)")
    args = ap.parse_args()

    if shutil.which("objdump") is None:
        print("error: objdump not found (apt-get install binutils)", file=sys.stderr)
        return 2
    if not args.binary.is_file():
        print(f"error: {args.binary} is not a file", file=sys.stderr)
        return 2
    try:
        limit = parse_version(args.max)
    except ValueError:
        print(f"error: --max {args.max!r} is not a version like 2.28", file=sys.stderr)
        return 2

    passed = failed = 0
    try:
        header = objdump("-f", args.binary)
    except RuntimeError as exc:
        print(f"FAIL  {args.binary}: not an object file objdump understands ({exc})")
        print("glibc: 0 passed, 1 failed")
        return 1
    arch = re.search(r"architecture:\s*([^,\s]+)", header)
    fmt = re.search(r"file format\s+(\S+)", header)
    if arch and arch.group(1) == args.arch and fmt and fmt.group(1).startswith("elf64"):
        passed += 1
        print(f"ok    {args.binary}: {fmt.group(1)}, {arch.group(1)}")
    else:
        failed += 1
        print(
            f"FAIL  {args.binary}: expected elf64 {args.arch}, found "
            f"{fmt.group(1) if fmt else '?'} {arch.group(1) if arch else '?'}"
        )

    try:
        needed = required_versions(objdump("-T", args.binary))
    except RuntimeError as exc:
        # A fully static binary has no dynamic symbol table at all.
        if "not a dynamic object" in str(exc) or "no dynamic symbol" in str(exc).lower():
            needed = {}
        else:
            print(f"FAIL  {args.binary}: objdump -T failed ({exc})")
            print(f"glibc: {passed} passed, {failed + 1} failed")
            return 1

    if not needed:
        passed += 1
        print(f"ok    {args.binary}: needs no GLIBC symbol versions (static or musl)")
    else:
        versions = sorted(needed, key=parse_version)
        highest = versions[-1]
        too_new = [v for v in versions if parse_version(v) > limit]
        print(f"      versions needed: {', '.join('GLIBC_' + v for v in versions)}")
        if too_new:
            failed += 1
            print(f"FAIL  {args.binary}: needs GLIBC_{highest}, newer than the target GLIBC_{args.max}")
            for version in too_new:
                symbols = sorted(set(needed[version]))
                shown = ", ".join(symbols[:8]) + (f" and {len(symbols) - 8} more" if len(symbols) > 8 else "")
                print(f"      GLIBC_{version}: {shown}")
        else:
            passed += 1
            symbols = sorted(set(needed[highest]))
            print(
                f"ok    {args.binary}: highest GLIBC_{highest} <= GLIBC_{args.max} "
                f"(needed by {', '.join(symbols[:5])}{' ...' if len(symbols) > 5 else ''})"
            )

    print(f"glibc: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
