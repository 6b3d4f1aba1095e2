#!/usr/bin/env bash
# Bounded soak on loopback: mixed routes, many distinct users, RSS sampled every 10 s.
#
#   bench/soak.sh [seconds] [connections] [distinct users]     (defaults 300, 128, 100000)
#
# Starts sandbox/examples/load_target (the release handler as its own process, against fakes),
# drives bench/mixed.lua through it with wrk, and prints the handler's RSS curve and wrk's
# summary. Needs: cargo build --release -p handler; wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL="${1:-300}"
CONNECTIONS="${2:-128}"
USERS="${3:-100000}"

cargo build --release -q -p handler
cargo build --release -q -p sandbox --example load_target
info="$(mktemp)"
./target/release/examples/load_target --distinct "$USERS" >"$info" &
target_pid=$!
trap 'kill -INT $target_pid 2>/dev/null || true' EXIT
until [[ -s "$info" ]]; do sleep 1; done
read -r handler pid tokens < <(python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).readline())
print(d["handler"], d["handlerPid"], d["tokensFile"])' "$info")

echo "time_s,rss_kib"
( for ((t = 0; t <= SECONDS_TOTAL; t += 10)); do
    echo "$t,$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
    sleep 10
  done ) &
sampler=$!
TOKENS="$tokens" THREADS=2 wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TOTAL}s" --latency \
  -s bench/mixed.lua "$handler" >/tmp/soak-wrk.txt
wait "$sampler" || true
echo "peak rss: $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") KiB"
cat /tmp/soak-wrk.txt
