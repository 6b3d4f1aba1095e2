#!/usr/bin/env python3
"""Server CPU per request of several handler builds, measured alternately in one run.

Usage (from the repository root, after `cargo build --release -p sandbox --example load_target`):

    python3 bench/ab_builds.py [--rounds 2] [--seconds 8] LABEL=BINARY[,ENV=VALUE...] ...

Each build runs behind `sandbox/examples/load_target` (its emulated Entra, 300,000 distinct
users' tokens) with the shipped log filter, and gets the three wrk runs of
bench/compare_node.py: health, one repeated token, a new token every request. Rounds alternate
the order of the builds so that a machine getting busier or quieter does not favour one. The
table gives medians over the rounds: user and system CPU per request from /proc/<pid>/stat,
what a validation adds above health, idle and peak RSS. `ENV=VALUE` pairs are set for that
build only (e.g. an allocator's tuning variables).

A difference under about 1 µs is within what two rounds on a shared 2-core machine repeat to.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_node  # noqa: E402  (its wrk and /proc helpers)

ROOT = compare_node.ROOT
RUNS = ("health", "repeated", "distinct")


def user_and_system_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / compare_node.TICKS, int(fields[12]) / compare_node.TICKS


def start_target(binary, env_pairs, log):
    # load_target clears the handler's environment; a wrapper adds this build's variables.
    wrapper = tempfile.NamedTemporaryFile("w", delete=False, suffix=".sh")
    wrapper.write(f"#!/bin/sh\nexec env {' '.join(env_pairs)} {binary} \"$@\"\n")
    wrapper.close()
    os.chmod(wrapper.name, 0o755)
    return compare_node.start_load_target(wrapper.name, compare_node.SHIPPED_FILTER, log)


def measure(binary, env_pairs, seconds):
    with open(os.devnull, "w") as log:
        target, drain, info = start_target(binary, env_pairs, log)
        try:
            pid = info["handlerPid"]
            base = info["handler"]
            time.sleep(1)
            result = {"idle_mib": compare_node.memory_kib([pid], "VmRSS") / 1024}
            for run, kwargs in (
                ("health", {"url": f"{base}/api/health"}),
                ("repeated", {"url": f"{base}/api/token/validate", "script": "bench/post.lua",
                              "token": info["ssoToken"]}),
                ("distinct", {"url": f"{base}/api/token/validate",
                              "script": "bench/distinct_tokens.lua",
                              "env": {"TOKENS": info["tokensFile"], "THREADS": "2"}}),
            ):
                user0, system0 = user_and_system_seconds(pid)
                load = compare_node.wrk(seconds=seconds, **kwargs)
                user1, system1 = user_and_system_seconds(pid)
                result[run] = {
                    "user": (user1 - user0) / load["requests"] * 1e6,
                    "system": (system1 - system0) / load["requests"] * 1e6,
                    "non_2xx": load["non_2xx"],
                }
            result["peak_mib"] = compare_node.memory_kib([pid], "VmHWM") / 1024
            return result
        finally:
            os.killpg(target.pid, 15)
            target.wait()
            drain.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("builds", nargs="+", metavar="LABEL=BINARY[,ENV=VALUE...]")
    args = parser.parse_args()
    builds = []
    for spec in args.builds:
        label, _, rest = spec.partition("=")
        binary, *env_pairs = rest.split(",")
        builds.append((label, binary, env_pairs))
    results = {label: [] for label, _, _ in builds}
    for round_number in range(args.rounds):
        order = builds if round_number % 2 == 0 else builds[::-1]
        for label, binary, env_pairs in order:
            print(f"round {round_number + 1}: {label}", file=sys.stderr)
            results[label].append(measure(binary, env_pairs, args.seconds))

    def median(rows, *path):
        values = []
        for row in rows:
            for key in path:
                row = row[key]
            values.append(row)
        return statistics.median(values)

    print("| build | health µs (user + sys) | repeated µs | distinct µs | added by a validation"
          " | idle / peak MiB |")
    print("|---|---|---|---|---|---|")
    for label, rows in results.items():
        cells = []
        totals = {}
        for run in RUNS:
            user, system = median(rows, run, "user"), median(rows, run, "system")
            totals[run] = user + system
            cells.append(f"{user + system:.1f} ({user:.1f} + {system:.1f})")
        failures = sum(row[run]["non_2xx"] for row in rows for run in RUNS)
        print(f"| {label} | {' | '.join(cells)} | {totals['distinct'] - totals['health']:.1f} | "
              f"{median(rows, 'idle_mib'):.1f} / {median(rows, 'peak_mib'):.1f} |"
              + (f" {failures} non-2xx!" if failures else ""))


if __name__ == "__main__":
    main()
