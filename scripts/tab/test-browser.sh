#!/usr/bin/env bash
# The Teams tab's tests: its modules under node's test runner (tests/tab/), then the tab in
# Debian's Chromium against the sandbox (tests/browser/, playwright-core). Installs what it needs
# on a fresh machine: the pinned npm packages (npm ci) and, as root, chromium through apt.
# Closes with "tab: N passed, N failed". Screenshots land in tests/browser/output/. Arguments
# go to node's test runner, e.g. --test-name-pattern "field worker".
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "test-browser: Node.js 20 or later and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's chromium (never a browser download of Playwright's)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "test-browser: $chromium is missing; install Debian's chromium (apt-get install --no-install-recommends chromium) or set CHROMIUM_PATH" >&2
    exit 1
  fi
fi

if [ "${TAB_NPM_INSTALLED:-}" != 1 ]; then
  echo "== npm ci (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "== cargo build -p sandbox"
cargo build -p sandbox --locked --quiet

echo "== the tab's tests (node $(node --version), $("$chromium" --version 2>/dev/null | head -1))"
tap=$(mktemp)
started=$SECONDS
status=0
node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "$@" tests/tab/ tests/browser/ || status=$?
passed=$(awk '/^# pass /{print $3}' "$tap")
failed=$(awk '/^# fail /{print $3}' "$tap")
rm -f "$tap"
echo "browser tests took $((SECONDS - started)) s; screenshots in tests/browser/output/"
echo "tab: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
