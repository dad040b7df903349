#!/usr/bin/env bash
# One command: cloudcapex against the same pre-policy model (scenarios/replace_retirements.toml) in vectorized NumPy, side by side on
# this machine, one thread each (benches/compare_numpy.py). Arguments pass through, e.g.
#   benches/compare_numpy.sh --paths 100000
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r examples/notebooks/requirements.txt
exec "$venv/bin/python" benches/compare_numpy.py "$@"
