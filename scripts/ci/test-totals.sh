#!/usr/bin/env bash
# Closes a test run with its true totals: reads the log of `cargo test` (every test binary's
# `test result:` line, libtest's and the custom harnesses' alike) and the command's exit status,
# prints `tests: N passed, N failed`, and exits non-zero when anything failed, when a test
# binary ended without a result line (it crashed, or did not build), when the command itself
# failed, or when no test ran at all.
#
#   scripts/ci/test-totals.sh LOG [EXIT_STATUS]
#
# Other runners can be added here: one more pattern per runner, summed into the same totals.
set -euo pipefail

log="${1:?usage: scripts/ci/test-totals.sh LOG [EXIT_STATUS]}"
status="${2:-0}"

read -r binaries results passed failed ignored < <(awk '
  # cargo announces each test binary it runs ("Running ...", "Doc-tests ...") on stderr.
  /^ *Running / || /^ *Doc-tests / { binaries++ }
  /^test result: / {
    results++
    if (match($0, /[0-9]+ passed/))  passed  += substr($0, RSTART, RLENGTH - 7)
    if (match($0, /[0-9]+ failed/))  failed  += substr($0, RSTART, RLENGTH - 7)
    if (match($0, /[0-9]+ ignored/)) ignored += substr($0, RSTART, RLENGTH - 8)
  }
  # scripts/tab/test-browser.sh closes with the totals of the Teams tab node and browser tests.
  /^tab: [0-9]+ passed, [0-9]+ failed$/ { passed += $2; failed += $4 }
  # scripts/ci/check-openapi.sh closes with the totals of the OpenAPI checks.
  /^openapi: [0-9]+ passed, [0-9]+ failed$/ { passed += $2; failed += $4 }
  END { printf "%d %d %d %d %d\n", binaries, results, passed, failed, ignored }
' "$log")

verdict=0
if ((results < binaries)); then
  echo "test-totals: $((binaries - results)) of $binaries test binaries ended without a 'test result:' line (crashed or did not run)"
  verdict=1
fi
if ((status != 0)); then
  echo "test-totals: the test command exited with status $status"
  verdict=1
fi
if ((failed > 0)); then
  verdict=1
fi
if ((passed == 0)); then
  echo "test-totals: no test passed (none ran)"
  verdict=1
fi
echo "test-totals: $binaries test binaries, $ignored ignored"
echo "tests: $passed passed, $failed failed"
exit "$verdict"
