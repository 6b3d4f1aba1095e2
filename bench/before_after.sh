#!/usr/bin/env bash
# Before and after a change, in one session on one machine: criterion (token validation, request
# building) then wrk against the release handler (load_target of this tree drives both binaries,
# so only the handler differs), two rounds each, one thing at a time. BENCHMARKS.md has a run.
# A bench that only the newer tree has (delegated_tokens) must be copied into the before tree,
# adapted to its API, and registered in its handler/Cargo.toml; BENCHMARKS.md says how it was.
# Usage: git worktree add /tmp/before REV && BEFORE_TREE=/tmp/before bench/before_after.sh
set -euo pipefail
export CARGO_TERM_COLOR=never
B=${BEFORE_TREE:?a git worktree of the commit to compare, e.g. git worktree add /tmp/before bc327ab}; A=$(cd "$(dirname "$0")/.." && pwd)
echo "== build"
(cd $B && CARGO_TARGET_DIR=$B/target cargo build -q --release --locked -p handler && CARGO_TARGET_DIR=$B/target cargo bench -q --locked -p handler --no-run)
(cd $A && cargo build -q --release --locked -p handler && cargo build -q --release --locked -p sandbox --example load_target && cargo bench -q --locked -p handler --no-run)
crit() { (cd $1 && CARGO_TARGET_DIR=$1/target cargo bench -q --locked -p handler --bench token_validation --bench request_building --bench delegated_tokens -- --warm-up-time 1 --measurement-time 4 --noplot 2>&1 | grep -E "^[A-Za-z_0-9/.]+ +time:|^[A-Za-z_0-9/.]+$|^ +time:" ); }
for round in 1 2; do
  echo "== criterion round $round: before"; crit $B
  echo "== criterion round $round: after"; crit $A
done
run_wrk() {
  local bin=$1 label=$2 info
  info=$(mktemp)
  HANDLER_BIN=$bin $A/target/release/examples/load_target --distinct 300000 >"$info" 2>/dev/null &
  local pid=$!
  # The target prints its JSON line once the handler answers (RSA-signing the token file first).
  for _ in $(seq 600); do [ -s "$info" ] && break; sleep 0.5; done
  local H S T
  { read -r H; read -r S; read -r T; } < <(python3 -c '
import json, sys
line = json.loads(open(sys.argv[1]).readline())
print(line["handler"], line["ssoToken"], line["tokensFile"], sep="\n")' "$info")
  cd $A
  local keep="Requests/sec|50%|99%|Non-2xx"
  echo "== wrk $label: health"; wrk -t2 -c64 -d5s --latency $H/api/health | grep -E "$keep"
  echo "== wrk $label: one repeated token"; wrk -t2 -c64 -d5s --latency -s bench/post.lua -H "Authorization: Bearer $S" $H/api/token/validate | grep -E "$keep"
  echo "== wrk $label: distinct tokens"; TOKENS=$T THREADS=2 wrk -t2 -c64 -d5s --latency -s bench/distinct_tokens.lua $H/api/token/validate | grep -E "$keep"
  # The on-behalf-of hit path: cached validation, cached Graph token, one call to the fake Graph.
  echo "== wrk $label: GET /api/users/me, one repeated token"; wrk -t2 -c16 -d5s --latency -H "Authorization: Bearer $S" $H/api/users/me | grep -E "$keep"
  kill $pid; wait $pid 2>/dev/null || true
  rm -f "$info"
}
for round in 1 2; do
  run_wrk $B/target/release/handler "before (round $round)"
  run_wrk $A/target/release/handler "after (round $round)"
done
echo "== done"
