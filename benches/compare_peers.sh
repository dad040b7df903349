#!/usr/bin/env bash
# One command: cloudcapex side by side with its Numba twin (base scenario) and NumPy twin
# (pre-policy economics), interleaved, after checking that they compute the same model
# (benches/compare_peers.py). Arguments pass through, e.g.
#   benches/compare_peers.sh --paths 100000 1000000 --threads 1 2 --pairs 3
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r benches/requirements.txt
exec "$venv/bin/python" benches/compare_peers.py "$@"
