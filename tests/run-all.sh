#!/usr/bin/env bash
# The whole test suite: the Rust tests, then the notebook users' path (a pinned Python
# environment, the pandas consistency check and the notebook executed headless).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --release"
cargo test --release

echo "== Python environment (examples/notebooks/requirements.txt)"
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r examples/notebooks/requirements.txt

export CLOUDCAPEX_BIN="$PWD/target/release/cloudcapex"
echo "== tests/python/test_consistency.py"
"$venv/bin/python" tests/python/test_consistency.py
echo "== benches/compare_numpy.py --check-only (the NumPy twin of the base model is the same model)"
"$venv/bin/python" benches/compare_numpy.py --check-only
echo "== tests/python/run_notebook.py (examples/notebooks/explore.ipynb)"
"$venv/bin/python" tests/python/run_notebook.py
