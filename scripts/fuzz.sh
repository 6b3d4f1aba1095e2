#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (FUZZ_SECONDS each, default 30),
# starting from the corpus kept in fuzz/corpus/. Fails if any target finds a crash; the input
# that crashed is left in fuzz/artifacts/<target>/ (turn it into a regression test).
#
# cargo fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain provide them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

SECONDS_EACH="${FUZZ_SECONDS:-30}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

cargo fuzz build -O
failed=0
passed=0
for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target"
  echo "fuzz: $target for ${SECONDS_EACH}s"
  # Grown inputs go to a scratch copy, so a CI run does not churn the committed corpus.
  scratch="$(mktemp -d)"
  cp -r "corpus/$target/." "$scratch/"
  if cargo fuzz run -O "$target" "$scratch" -- \
      -max_total_time="$SECONDS_EACH" -max_len=4096 -print_final_stats=1 2>"$scratch.log"; then
    passed=$((passed + 1))
    grep -E "^Done|stat::number_of_executed_units" "$scratch.log" | head -2 || true
  else
    failed=$((failed + 1))
    tail -40 "$scratch.log"
  fi
  rm -rf "$scratch" "$scratch.log"
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
