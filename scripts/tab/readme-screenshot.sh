#!/usr/bin/env bash
# Regenerates the README's pictures of the Teams tab: docs/images/teams-tab.png (the personal
# tab once the field worker started a session), docs/images/teams-tab-meeting.png (the tab in
# the meeting's side panel) and docs/images/sandbox-telemetry.png (the sandbox's telemetry page
# after that session). Runs those two browser stories against the sandbox
# (scripts/tab/test-browser.sh) and keeps the screenshots they take. Never edited by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -f tests/browser/output/3-field-worker-session-started.png tests/browser/output/4-meeting-side-panel.png \
  tests/browser/output/3c-telemetry-after-the-session.png
scripts/tab/test-browser.sh --test-name-pattern "field worker finds the expert|side panel the field worker"
cp tests/browser/output/3-field-worker-session-started.png docs/images/teams-tab.png
cp tests/browser/output/4-meeting-side-panel.png docs/images/teams-tab-meeting.png
cp tests/browser/output/3c-telemetry-after-the-session.png docs/images/sandbox-telemetry.png
echo "docs/images/teams-tab.png, teams-tab-meeting.png and sandbox-telemetry.png regenerated"
