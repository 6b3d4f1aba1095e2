#!/usr/bin/env bash
# Run azd's `prepackage` hook of the handler service (azure.yaml) as a new user on a stock
# Debian/Ubuntu machine would: Debian's own /usr/bin/python3 first on PATH (externally managed,
# PEP 668: a plain `pip install` into it fails) and an empty HOME, so no Python tool, pip cache or
# virtual environment of an earlier run exists. The hook must still build and check dist.zip.
#
#   scripts/ci/check-package-hook.sh
#
# What is shared with the real HOME, only to keep CI time reasonable (none of it is Python):
#   CARGO_HOME, RUSTUP_HOME   the Rust toolchain and the crate registry (no re-download)
#   CARGO_TARGET_DIR          the zig build's compiled dependencies
#                             (~/.cache/remote-expert/zig-target of the real HOME)
#   CARGO_ZIGBUILD_CACHE_DIR, ZIG_GLOBAL_CACHE_DIR   cargo-zigbuild's compiler wrappers and zig's
#                             own cache, at fixed paths, so cargo does not rebuild the C
#                             dependencies (aws-lc-sys) because a wrapper moved
# Nothing else of HOME is visible: HOME is ~/.cache/remote-expert/empty-home of the real HOME,
# emptied before the run and deleted after it, so the tools' virtual environment, pip's cache and
# everything under its ~/.cache are new each time.
#
# Environment: SYSTEM_PYTHON (default /usr/bin/python3) is the interpreter put first on PATH; the
# check refuses to run if it is not externally managed, since it would then prove nothing.
# Exits non-zero when the hook fails; prints the hook's time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

SYSTEM_PYTHON="${SYSTEM_PYTHON:-/usr/bin/python3}"
die() { echo "check-package-hook.sh: $*" >&2; exit 1; }

[[ -x "$SYSTEM_PYTHON" ]] || die "$SYSTEM_PYTHON not found"
stdlib="$("$SYSTEM_PYTHON" -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"
[[ -f "$stdlib/EXTERNALLY-MANAGED" ]] ||
  die "$SYSTEM_PYTHON is not externally managed ($stdlib/EXTERNALLY-MANAGED missing): the check would prove nothing"

# The hook exactly as azure.yaml declares it (services.handler.hooks.prepackage.posix.run).
hook="$(awk '
  /^  handler:/ { in_handler = 1; next }
  /^  [a-z]/    { in_handler = 0 }
  in_handler && /prepackage:/ { in_hook = 1 }
  in_handler && in_hook && /run:/ { sub(/^[^:]*run:[ ]*/, ""); print; exit }
' azure.yaml)"
[[ -n "$hook" ]] || die "azure.yaml: no prepackage hook found under services.handler"

real_home="$HOME"
real_cache="${XDG_CACHE_HOME:-$real_home/.cache}/remote-expert"
# Empty at the start of every run, but always at the same path: cargo-zigbuild names its compiler
# wrappers after where zig lives (inside the tools' virtual environment under HOME), and a new path
# per run would make cargo rebuild every crate (measured: 199 crates, 284 s, instead of seconds).
fresh_home="$real_cache/empty-home"
rm -rf -- "$fresh_home"
mkdir -p -- "$fresh_home"
trap 'rm -rf -- "$fresh_home"' EXIT

# A PATH a fresh shell would have: the system's directories with Debian's python3 first, plus
# the Rust toolchain's bin. Nothing of pyenv, and no earlier virtual environment.
cargo_home="${CARGO_HOME:-$real_home/.cargo}"
fresh_path="$(dirname "$SYSTEM_PYTHON"):$cargo_home/bin:/usr/local/bin:/usr/bin:/bin"

echo "check-package-hook.sh: running '$hook' as azd would (sh, in the project folder)"
echo "check-package-hook.sh: HOME=$fresh_home (empty), python3 = $SYSTEM_PYTHON ($("$SYSTEM_PYTHON" --version 2>&1), externally managed)"
start=$SECONDS
env -i \
  HOME="$fresh_home" \
  PATH="$fresh_path" \
  LANG=C.UTF-8 \
  TERM="${TERM:-dumb}" \
  CARGO_HOME="$cargo_home" \
  RUSTUP_HOME="${RUSTUP_HOME:-$real_home/.rustup}" \
  CARGO_TARGET_DIR="$real_cache/zig-target" \
  CARGO_ZIGBUILD_CACHE_DIR="$real_cache/cargo-zigbuild" \
  ZIG_GLOBAL_CACHE_DIR="$real_cache/zig-global-cache" \
  CARGO_TERM_COLOR=never \
  ${PIP_FIND_LINKS:+PIP_FIND_LINKS="$PIP_FIND_LINKS"} \
  ${PIP_CERT:+PIP_CERT="$PIP_CERT"} \
  ${PIP_DEFAULT_TIMEOUT:+PIP_DEFAULT_TIMEOUT="$PIP_DEFAULT_TIMEOUT"} \
  sh -c "$hook"
echo "check-package-hook.sh: ok, the hook built and checked dist.zip with $SYSTEM_PYTHON and an empty HOME in $((SECONDS - start)) s"
[[ -x "$fresh_home/.cache/remote-expert/package-tools/bin/cargo-zigbuild" ]] ||
  die "the tools did not land in the project's virtual environment under the fresh HOME"
