#!/usr/bin/env bash
# Every test (the README's test command, and CI's): cargo test --workspace, then the Teams tab's
# node and browser tests (scripts/tab/test-browser.sh). Both always run; scripts/ci/test-totals.sh closes
# with the totals of both ("tests: N passed, N failed") and fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# The sandbox builds the tab with the pinned npm packages (scripts/tab/build-tab.mjs), and its cargo
# tests start it: install them first (scripts/tab/test-browser.sh then skips its own npm ci).
echo "== npm ci (package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error
export TAB_NPM_INSTALLED=1
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
browser=0
scripts/tab/test-browser.sh 2>&1 | tee -a "$log" || browser=$?
if [ "$status" = 0 ]; then status=$browser; fi
echo "tests took $((SECONDS - started)) s"
scripts/ci/test-totals.sh "$log" "$status"
