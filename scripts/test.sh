#!/usr/bin/env bash
# Every test (the README's test command, and CI's): cargo test --workspace, then the Teams tab's
# tests in a real browser (scripts/test-browser.sh). Closes with the totals of both.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo_status=0
cargo test --workspace --locked 2>&1 | tee "$log" || cargo_status=$?
browser_status=0
scripts/test-browser.sh 2>&1 | tee -a "$log" || browser_status=$?
# cargo prints one summary per test binary, the last often an empty doc-test run; count them all,
# then the tab's closing line.
awk '
  /^test result:/ { passed += $4; failed += $6 }
  /^tab: [0-9]+ passed, [0-9]+ failed$/ { passed += $2; failed += $4 }
  END { printf "tests: %d passed, %d failed\n", passed, failed }
' "$log"
[ "$cargo_status" = 0 ] && [ "$browser_status" = 0 ]
