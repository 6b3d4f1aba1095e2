#!/usr/bin/env python3
"""The handler's token validation beside the Node stack the Teams samples use, in one run.

Usage (from the repository root, with wrk and openssl installed):

    cargo build --release -p handler -p sandbox --example load_target
    python3 bench/compare_node.py [--seconds 10] [--log shipped|warn]

`sandbox/examples/load_target` starts the emulated Entra (fixed port 47470, so its token file of
300,000 distinct users is reused across runs) and the release handler; bench/node-anchor is
express + jsonwebtoken + jwks-rsa in two node:cluster workers against the same Entra. Both get
the same wrk runs (two threads, 64 connections, on the same two cores as the servers):
GET /api/health, POST /api/token/validate with one repeated token and with a new token on every
request. The handler runs with its shipped log filter unless `--log warn`. Prints the table of
issue 24 with the `openssl speed rsa2048` verify time measured in the same run. HANDLER_BIN
names another handler binary to measure (an older build, for a before/after).
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANCHOR = os.path.join(ROOT, "bench", "node-anchor")
CLIENT_ID = "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01"
AUTHORITY = "http://127.0.0.1:47470"
NODE_PORT = 8090
DISTINCT = 300_000
# handler/src/telemetry.rs DEFAULT_FILTER: what runs in Azure when RUST_LOG is not set.
SHIPPED_FILTER = "info,hyper=warn,reqwest=warn,warp=warn"
TICKS = os.sysconf("SC_CLK_TCK")
HANDLER_BIN = os.environ.get("HANDLER_BIN", os.path.join(ROOT, "target", "release", "handler"))


def wait_for_health(port, deadline_s=60.0):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.001)
    return False


def tree(pid):
    """The process and its descendants (node:cluster's workers are children of the primary)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def memory_kib(pids, field):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
    return total


def wrk(url, seconds, script=None, token=None, env=None):
    command = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(command + [url], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": rate, "requests": total, "p99_ms": p99_ms,
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0}


def measure(name, port, pids, token, tokens_file, seconds):
    base = f"http://127.0.0.1:{port}"
    idle_rss = memory_kib(pids, "VmRSS")
    runs = {}
    for label, kwargs in [
        ("health", {"url": f"{base}/api/health"}),
        ("repeated", {"url": f"{base}/api/token/validate", "script": "bench/post.lua", "token": token}),
        ("distinct", {"url": f"{base}/api/token/validate", "script": "bench/distinct_tokens.lua",
                      "env": {"TOKENS": tokens_file, "THREADS": "2"}}),
    ]:
        before = cpu_seconds(pids)
        result = wrk(seconds=seconds, **kwargs)
        result["cpu_us"] = (cpu_seconds(pids) - before) / result["requests"] * 1e6
        runs[label] = result
        print(f"  {name} {label}: {result['rate']:,.0f} req/s, p99 {result['p99_ms']:.2f} ms, "
              f"{result['cpu_us']:.1f} µs server CPU per request, non-2xx {result['non_2xx']}",
              file=sys.stderr)
    runs["idle_rss_mib"] = idle_rss / 1024
    runs["peak_rss_mib"] = memory_kib(pids, "VmHWM") / 1024
    return runs


def start_to_health(command, env, port, runs=5):
    times = []
    for _ in range(runs):
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        ok = wait_for_health(port)
        times.append((time.monotonic() - started) * 1000)
        os.killpg(process.pid, 15)
        process.wait()
        if not ok:
            sys.exit(f"{command[0]} never answered health")
        time.sleep(0.2)
    return statistics.median(times)


def rsa_verify_us():
    out = subprocess.run(["openssl", "speed", "-seconds", "3", "rsa2048"],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("rsa 2048") or l.startswith("rsa  2048"))
    verifies_per_s = float(line.split()[-1])
    return 1e6 / verifies_per_s


def start_load_target(handler_bin, log_filter, log_file):
    """Starts sandbox/examples/load_target (the emulated Entra, and the handler at `handler_bin`
    behind it) and returns the process, the drain of its stdout and the JSON line it printed."""
    target = subprocess.Popen(
        [os.path.join(ROOT, "target", "release", "examples", "load_target"), "--distinct", str(DISTINCT)],
        env={**os.environ, "RUST_LOG": log_filter, "HANDLER_BIN": handler_bin}, stdout=subprocess.PIPE,
        stderr=log_file, cwd=ROOT, start_new_session=True, text=True)
    # The handler's own log lines share the target's stdout; the target's line is the one that
    # names the handler.
    info = {}
    while "handlerPid" not in info:
        line = target.stdout.readline()
        if not line:
            os.killpg(target.pid, 2)
            sys.exit("load_target ended before it printed its URLs")
        try:
            info = json.loads(line)
        except ValueError:
            continue
    # The handler's log lines follow on the same stdout: keep draining them to a file, as the
    # Functions host drains a worker's stdout.
    drain = subprocess.Popen(["cat"], stdin=target.stdout, stdout=log_file)
    return target, drain, info


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--log", choices=["shipped", "warn"], default="shipped")
    args = parser.parse_args()
    handler_log = SHIPPED_FILTER if args.log == "shipped" else "warn"

    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=ANCHOR, check=True)
    verify_us = rsa_verify_us()

    target_out = tempfile.NamedTemporaryFile("w+", delete=False)
    handler_log_file = tempfile.NamedTemporaryFile("w+", delete=False)
    target, drain, info = start_load_target(HANDLER_BIN, handler_log, handler_log_file)
    try:
        handler_port = int(info["handler"].rsplit(":", 1)[1])
        handler_pids = [info["handlerPid"]]
        node_env = {**os.environ, "AUTHORITY": AUTHORITY, "CLIENT_ID": CLIENT_ID, "PORT": str(NODE_PORT)}
        node = subprocess.Popen(["node", "server.mjs"], cwd=ANCHOR, env=node_env,
                                start_new_session=True)
        try:
            if not wait_for_health(NODE_PORT):
                sys.exit("the Node anchor never answered health")
            time.sleep(1)
            node_pids = tree(node.pid)
            print("measuring the Node cluster", file=sys.stderr)
            node_runs = measure("node", NODE_PORT, node_pids, info["ssoToken"], info["tokensFile"], args.seconds)
        finally:
            os.killpg(node.pid, 15)
            node.wait()
        print("measuring the handler", file=sys.stderr)
        handler_runs = measure("handler", handler_port, handler_pids, info["ssoToken"], info["tokensFile"], args.seconds)
    finally:
        os.killpg(target.pid, 2)
        target.wait()

    handler_env = {"FUNCTIONS_CUSTOMHANDLER_PORT": "18071", "ENTRA_CLIENT_ID": CLIENT_ID,
                   "ENTRA_ALLOWED_TENANTS": "*", "ENTRA_AUTHORITY_HOST": "http://127.0.0.1:9",
                   "GRAPH_ENDPOINT": "http://127.0.0.1:9", "RUST_LOG": handler_log,
                   "IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token", "IDENTITY_HEADER": "bench"}
    handler_start = start_to_health([HANDLER_BIN], handler_env, 18071)
    node_start = start_to_health(["node", os.path.join(ANCHOR, "server.mjs")],
                                 {**os.environ, "AUTHORITY": AUTHORITY, "CLIENT_ID": CLIENT_ID, "PORT": "18090"}, 18090)

    h, n = handler_runs, node_runs
    added_us = h["distinct"]["cpu_us"] - h["health"]["cpu_us"]
    rows = [
        ("distinct tokens, req/s", f"{n['distinct']['rate']:,.0f}",
         f"{h['distinct']['rate']:,.0f} ({h['distinct']['rate'] / n['distinct']['rate']:.1f}×)", "≥ 7×"),
        ("server CPU a validation adds above `GET /api/health`", "–",
         f"{added_us:.1f} µs = {added_us / verify_us:.2f}× one RSA-2048 verify ({verify_us:.1f} µs)", "≤ 1.5×"),
        ("repeated token, req/s", f"{n['repeated']['rate']:,.0f}",
         f"{h['repeated']['rate']:,.0f} = {h['repeated']['rate'] / h['health']['rate']:.0%} of health "
         f"({h['health']['rate']:,.0f})", "≥ 90% of health"),
        ("p99 at 64 connections (distinct tokens)", f"{n['distinct']['p99_ms']:.1f} ms",
         f"{h['distinct']['p99_ms']:.1f} ms ({h['distinct']['p99_ms'] / n['distinct']['p99_ms']:.2f}×)", "≤ 0.15×"),
        ("idle RSS / peak after the runs", f"{n['idle_rss_mib']:.0f} / {n['peak_rss_mib']:.0f} MiB",
         f"{h['idle_rss_mib']:.1f} / {h['peak_rss_mib']:.1f} MiB", "≤ 8 / ≤ 32 MiB"),
        ("start → first health 200 (median of 5)", f"{node_start:.0f} ms",
         f"{handler_start:.1f} ms ({node_start / handler_start:.0f}×)", "≥ 40×"),
    ]
    print(f"\nhandler log filter: {handler_log}; wrk -t2 -c64 -d{args.seconds}s; {DISTINCT:,} distinct tokens\n")
    print("| figure | Node cluster | handler | target |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    non_2xx = {f"{who} {run}": r[run]["non_2xx"] for who, r in [("node", n), ("handler", h)]
               for run in ("health", "repeated", "distinct") if r[run]["non_2xx"]}
    if non_2xx:
        print(f"\nnon-2xx answers (the figures above are not comparable): {non_2xx}")
    drain.wait(timeout=5)


if __name__ == "__main__":
    main()
