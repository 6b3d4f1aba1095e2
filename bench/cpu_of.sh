#!/usr/bin/env bash
# Prints the CPU seconds (user + system) a process has used so far: cpu_of.sh PID
set -euo pipefail
ticks=$(getconf CLK_TCK)
read -r -a stat < "/proc/$1/stat"
echo "scale=4; (${stat[13]} + ${stat[14]}) / $ticks" | bc
