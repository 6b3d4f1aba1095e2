#!/usr/bin/env bash
# Build the Azure package: dist/ and dist.zip with a handler that runs on the Functions Linux
# hosts, whose glibc may be older than the build machine's.
#
#   scripts/package-linux.sh                  build with cargo-zigbuild, zip, check
#   scripts/package-linux.sh --install-tools  first pip-install zig and cargo-zigbuild if missing
#
# How: `cargo zigbuild --target x86_64-unknown-linux-gnu.<glibc>` links against the symbol
# versions of that glibc (zig ships their stubs), so no old sysroot, Docker or musl target is
# needed; zig's C compiler also builds aws-lc-sys. Then scripts/package.sh lays out dist/ and
# writes dist.zip, scripts/check_glibc.py proves the glibc floor and
# scripts/check_package_zip.py checks the zip (handler mode 0755, host.json, every function).
#
# Environment (all optional):
#   GLIBC_TARGET       oldest glibc to support (default 2.28: Debian 10 / RHEL 8 era)
#   CARGO_TARGET_DIR   cargo's target dir (default: ~/.cache/remote-expert/zig-target, outside
#                      the work tree, so CI clones reuse compiled dependencies and a developer's
#                      own `cargo build` is never blocked by this one)
#   ZIGLANG_VERSION, CARGO_ZIGBUILD_VERSION   versions --install-tools installs from PyPI
#   SOURCE_DATE_EPOCH  timestamp of the zip entries (see scripts/package.sh)
#
# Writes dist/ and dist.zip at the repository root (deleting the previous ones).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

GLIBC_TARGET="${GLIBC_TARGET:-2.28}"
ZIGLANG_VERSION="${ZIGLANG_VERSION:-0.17.1}"
CARGO_ZIGBUILD_VERSION="${CARGO_ZIGBUILD_VERSION:-0.24.1}"
INSTALL=0

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --install-tools) INSTALL=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "package-linux.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "package-linux.sh: $*" >&2; exit 1; }

have_zig() { command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1; }
have_zigbuild() { command -v cargo-zigbuild >/dev/null 2>&1; }

if ! have_zig || ! have_zigbuild; then
  if [[ $INSTALL -eq 1 ]]; then
    # Both ship as binary wheels on PyPI: nothing is compiled, nothing is fetched from elsewhere.
    echo "package-linux.sh: installing ziglang==$ZIGLANG_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check \
      "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash >/dev/null 2>&1 || true; fi
    # pip may put the cargo-zigbuild executable in a scripts folder that is not on PATH.
    for dir in "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" \
      "$(python3 -m site --user-base 2>/dev/null)/bin"; do
      if ! have_zigbuild && [[ -x "$dir/cargo-zigbuild" ]]; then
        export PATH="$dir:$PATH"
      fi
    done
  fi
  have_zig || die "zig not found: pip install ziglang (or run with --install-tools)"
  have_zigbuild || die "cargo-zigbuild not found: pip install cargo-zigbuild (or run with --install-tools)"
fi
echo "package-linux.sh: zig $(zig version 2>/dev/null || python3 -m ziglang version)," \
  "$(cargo-zigbuild --version)"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/remote-expert/zig-target}"
mkdir -p "$CARGO_TARGET_DIR"
echo "package-linux.sh: target x86_64-unknown-linux-gnu (glibc $GLIBC_TARGET), CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

CARGO_SUBCOMMAND=zigbuild \
  CARGO_ARGS="--locked --target x86_64-unknown-linux-gnu.$GLIBC_TARGET" \
  "$ROOT/scripts/package.sh" --zip

python3 "$ROOT/scripts/check_glibc.py" "$ROOT/dist/handler" --max "$GLIBC_TARGET"
python3 "$ROOT/scripts/check_package_zip.py" "$ROOT/dist.zip"
