#!/usr/bin/env bash
# Build the Azure package: dist/ and dist.zip with a handler that runs on the Functions Linux
# hosts, whose glibc may be older than the build machine's.
#
#   scripts/deploy/package-linux.sh                  build with cargo-zigbuild, zip, check
#   scripts/deploy/package-linux.sh --install-tools  first install zig, cargo-zigbuild and jsonschema into
#                                             the project's own virtual environment if missing
#
# How: `cargo zigbuild --target x86_64-unknown-linux-gnu.<glibc>` links against the symbol
# versions of that glibc (zig ships their stubs), so no old sysroot, Docker or musl target is
# needed; zig's C compiler also builds aws-lc-sys. Then scripts/deploy/package.sh lays out dist/ and
# writes dist.zip, scripts/deploy/check_glibc.py proves the glibc floor and
# scripts/deploy/check_package_zip.py checks the zip (handler mode 0755, host.json, every function).
#
# The Python tools live in a virtual environment of the project's own (PACKAGE_TOOLS_VENV), never
# in the system Python: Debian 12, Ubuntu 24.04 and GitHub's ubuntu runners mark their python3 as
# "externally managed" (PEP 668), and `pip install` there stops with
# "error: externally-managed-environment". --install-tools creates the environment with
# `python3 -m venv` (Debian and Ubuntu need their python3-venv package for that), installs the
# pinned wheels from PyPI into it, and puts its bin/ first on PATH, so zig, cargo-zigbuild and the
# `python3` that runs the checks (scripts/ci/check_function_config.py needs jsonschema) all come from
# it. A later run reuses it as long as the pinned versions are unchanged.
#
# Environment (all optional):
#   GLIBC_TARGET       oldest glibc to support (default 2.28: Debian 10 / RHEL 8 era)
#   CARGO_TARGET_DIR   cargo's target dir (default: ~/.cache/remote-expert/zig-target, outside
#                      the work tree, so CI clones reuse compiled dependencies and a developer's
#                      own `cargo build` is never blocked by this one)
#   PACKAGE_TOOLS_VENV the tools' virtual environment (default:
#                      ~/.cache/remote-expert/package-tools; XDG_CACHE_HOME is honoured)
#   PYTHON             the interpreter that creates it (default: python3 on PATH)
#   ZIGLANG_VERSION, CARGO_ZIGBUILD_VERSION, JSONSCHEMA_VERSION   the pinned PyPI versions
#   SOURCE_DATE_EPOCH  timestamp of the zip entries (see scripts/deploy/package.sh)
#
# Writes dist/ and dist.zip at the repository root (deleting the previous ones).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

GLIBC_TARGET="${GLIBC_TARGET:-2.28}"
ZIGLANG_VERSION="${ZIGLANG_VERSION:-0.17.1}"
CARGO_ZIGBUILD_VERSION="${CARGO_ZIGBUILD_VERSION:-0.24.1}"
JSONSCHEMA_VERSION="${JSONSCHEMA_VERSION:-4.26.0}"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/remote-expert"
VENV="${PACKAGE_TOOLS_VENV:-$CACHE_DIR/package-tools}"
PYTHON="${PYTHON:-python3}"
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

# What the environment must hold; written into it as a stamp, so a changed pin reinstalls.
REQUIREMENTS=("ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION" "jsonschema==$JSONSCHEMA_VERSION")
STAMP="$VENV/remote-expert-tools.txt"

venv_current() {
  [[ -x "$VENV/bin/python" && -x "$VENV/bin/cargo-zigbuild" && -f "$STAMP" ]] &&
    [[ "$(cat "$STAMP")" == "${REQUIREMENTS[*]}" ]]
}

install_tools() {
  command -v "$PYTHON" >/dev/null 2>&1 ||
    die "$PYTHON not found: install Python 3 (Debian/Ubuntu: sudo apt install python3 python3-venv)"
  if [[ ! -x "$VENV/bin/python" ]]; then
    echo "package-linux.sh: creating the tools' virtual environment $VENV ($("$PYTHON" --version 2>&1))"
    mkdir -p "$(dirname "$VENV")"
    # A half-made environment (ensurepip missing) is removed, so the next run starts clean.
    if ! "$PYTHON" -m venv "$VENV"; then
      rm -rf -- "$VENV"
      die "'$PYTHON -m venv' failed: on Debian/Ubuntu install python3-venv (sudo apt install python3-venv), then run again"
    fi
  fi
  # Binary wheels only: nothing is compiled, nothing is fetched from outside PyPI.
  echo "package-linux.sh: installing ${REQUIREMENTS[*]} from PyPI into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    "${REQUIREMENTS[@]}"
  printf '%s' "${REQUIREMENTS[*]}" >"$STAMP"
}

if [[ $INSTALL -eq 1 ]] && ! venv_current; then
  install_tools
fi
# The project's environment first: its python3 (with jsonschema), zig and cargo-zigbuild win
# over whatever else is on PATH.
if [[ -x "$VENV/bin/python" ]]; then
  export PATH="$VENV/bin:$PATH"
  export VIRTUAL_ENV="$VENV"
fi

have_zig() { command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1; }
have_zigbuild() { command -v cargo-zigbuild >/dev/null 2>&1; }
have_zig || die "zig not found: run with --install-tools (installs it into $VENV)"
have_zigbuild || die "cargo-zigbuild not found: run with --install-tools (installs it into $VENV)"
python3 -c 'import jsonschema' 2>/dev/null ||
  die "python3 ($(command -v python3)) lacks jsonschema, which the package check needs: run with --install-tools"
echo "package-linux.sh: zig $(zig version 2>/dev/null || python3 -m ziglang version)," \
  "$(cargo-zigbuild --version), $(command -v python3)"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE_DIR/zig-target}"
mkdir -p "$CARGO_TARGET_DIR"
echo "package-linux.sh: target x86_64-unknown-linux-gnu (glibc $GLIBC_TARGET), CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

CARGO_SUBCOMMAND=zigbuild \
  CARGO_ARGS="--locked --target x86_64-unknown-linux-gnu.$GLIBC_TARGET" \
  "$ROOT/scripts/deploy/package.sh" --zip

python3 "$ROOT/scripts/deploy/check_glibc.py" "$ROOT/dist/handler" --max "$GLIBC_TARGET"
python3 "$ROOT/scripts/deploy/check_package_zip.py" "$ROOT/dist.zip"
