#!/usr/bin/env bash
# Runs the side-by-side benchmarks; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
python3 bench/bench.py "$@"
