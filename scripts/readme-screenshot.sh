#!/usr/bin/env bash
# Regenerates docs/images/teams-tab.png, the README's picture of the Teams tab: runs the field
# worker's browser story against the sandbox (scripts/test-browser.sh) and keeps the screenshot
# it takes once the session is started. The picture is never edited by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f tests/browser/output/3-field-worker-session-started.png
scripts/test-browser.sh --test-name-pattern "field worker finds the expert"
cp tests/browser/output/3-field-worker-session-started.png docs/images/teams-tab.png
echo "docs/images/teams-tab.png regenerated"
