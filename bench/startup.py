#!/usr/bin/env python3
"""Process start to first 200 on /api/health, and idle RSS, of the release handler.

Usage: cargo build --release -p handler && python3 bench/startup.py [runs]

The handler is pointed at a closed loopback port for Entra, so nothing leaves the machine;
health answers 200 "degraded" in that state, which is what a cold start looks like anyway.
"""
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("HANDLER_BIN", os.path.join(ROOT, "target", "release", "handler"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(port):
    return {
        "FUNCTIONS_CUSTOMHANDLER_PORT": str(port),
        "ENTRA_CLIENT_ID": "6a0e4b2c-7d1f-4a5e-9c3b-0d3c2e1f0a01",
        "ENTRA_ALLOWED_TENANTS": "*",
        "ENTRA_AUTHORITY_HOST": "http://127.0.0.1:9",
        "GRAPH_ENDPOINT": "http://127.0.0.1:9",
        "RUST_LOG": "warn",
    }


def health_ok(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/api/health")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def one_start():
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([BINARY], env=env_for(port), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = started + 10
        while not health_ok(port):
            if time.perf_counter() > deadline:
                raise SystemExit("handler did not answer within 10 s")
            time.sleep(0.0005)
        elapsed_ms = (time.perf_counter() - started) * 1000
        time.sleep(1.0)
        return elapsed_ms, rss_kib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    results = [one_start() for _ in range(runs)]
    starts = sorted(r[0] for r in results)
    rss = sorted(r[1] for r in results)
    print(f"runs: {runs}")
    print(f"start to first 200 on /api/health: median {statistics.median(starts):.1f} ms, "
          f"min {starts[0]:.1f} ms, max {starts[-1]:.1f} ms")
    print(f"idle RSS after 1 s: median {statistics.median(rss) / 1024:.1f} MiB, max {rss[-1] / 1024:.1f} MiB")
    print(f"binary size: {os.path.getsize(BINARY) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
