#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (FUZZ_SECONDS each, default 30),
# starting from the corpus kept in fuzz/corpus/. Fails if any target finds a crash; the input
# that crashed is left in fuzz/artifacts/<target>/ (turn it into a regression test).
#
# The targets run FUZZ_JOBS at a time (default: one per core); each libFuzzer process uses one
# core, so every target still gets FUZZ_SECONDS of a whole core.
#
# cargo fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain provide them.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"

SECONDS_EACH="${FUZZ_SECONDS:-30}"
JOBS="${FUZZ_JOBS:-$(nproc)}"
CARGO_FUZZ_VERSION="0.13.2"
export RUSTC_BOOTSTRAP=1

# fuzz/ is a workspace of its own with its own Cargo.lock, which must resolve the handler's
# dependencies as the root Cargo.lock does. Checked first, so a stale lock fails in seconds.
if ! cargo metadata --locked --format-version 1 >/dev/null; then
  echo "fuzz: fuzz/Cargo.lock does not match the handler's dependencies; regenerate it from the" >&2
  echo "      root lock: cp Cargo.lock fuzz/Cargo.lock && cargo metadata --manifest-path fuzz/Cargo.toml >/dev/null" >&2
  exit 1
fi

if [[ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
  cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

# The instrumented build (sanitizer, coverage, one codegen unit) is most of this script's time
# and shares nothing with the other builds; kept outside the checkout, as package-linux.sh keeps
# its own, a later run on the same machine rebuilds only what changed. FUZZ_TARGET_DIR overrides.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/remote-expert/fuzz-target}"
mkdir -p "$CARGO_TARGET_DIR"

# One build for every target. cargo fuzz has no --locked of its own; the check above makes
# the build use fuzz/Cargo.lock as it is, and this one would stop if it still changed.
lock_before="$(cksum <Cargo.lock)"
cargo fuzz build -O
if [[ "$(cksum <Cargo.lock)" != "$lock_before" ]]; then
  echo "fuzz: cargo changed fuzz/Cargo.lock during the build" >&2
  exit 1
fi

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# One target: runs it on a scratch copy of its corpus (so a CI run does not churn the committed
# one) and leaves its exit status and log in $logs.
fuzz_one() {
  local target="$1" scratch
  scratch="$(mktemp -d)"
  mkdir -p "corpus/$target"
  cp -r "corpus/$target/." "$scratch/"
  local status=0
  cargo fuzz run -O "$target" "$scratch" -- \
    -max_total_time="$SECONDS_EACH" -max_len=4096 -print_final_stats=1 \
    >"$logs/$target.log" 2>&1 || status=$?
  echo "$status" >"$logs/$target.status"
  rm -rf "$scratch"
}

targets=$(cargo fuzz list)
for target in $targets; do
  while (($(jobs -rp | wc -l) >= JOBS)); do
    wait -n || true
  done
  echo "fuzz: $target for ${SECONDS_EACH}s"
  fuzz_one "$target" &
done
wait

failed=0
passed=0
for target in $targets; do
  if [[ "$(cat "$logs/$target.status" 2>/dev/null)" == 0 ]]; then
    passed=$((passed + 1))
    echo "fuzz: $target ok: $(grep -E "^Done|stat::number_of_executed_units" "$logs/$target.log" | head -2 | tr '\n' ' ')"
  else
    failed=$((failed + 1))
    echo "fuzz: $target FAILED"
    tail -40 "$logs/$target.log"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
