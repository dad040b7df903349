#!/usr/bin/env bash
# The whole test suite: the Rust tests, then the notebook users' path (a pinned Python
# environment, the pandas consistency check of CSV and Parquet tables and the notebook
# executed headless, the NumPy and Numba twins' agreement with the engine), then a real one-node Slurm cluster running a sharded job
# (tests/slurm.sh), then a bounded fuzzing run (tests/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test --release"
cargo test --release --locked
# The optional Parquet tables (cargo feature `parquet`): its test, which also rebuilds
# target/release/cloudcapex with the feature, so the Python checks below read both formats.
echo "== cargo test --release --features parquet --test parquet"
cargo test --release --locked --features parquet --test parquet

echo "== Python environment (tests/python/requirements.txt: the notebook's plus numpy-financial and pyxirr)"
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

export CLOUDCAPEX_BIN="$PWD/target/release/cloudcapex"
echo "== tests/python/test_consistency.py"
"$venv/bin/python" tests/python/test_consistency.py
echo "== tests/python/policy_reference.py (the investment policy re-implemented from docs/model.md)"
policy_out=$(mktemp -d)
"$CLOUDCAPEX_BIN" run tests/fixtures/policy_modes.toml --paths-out 1 --out "$policy_out/modes" --quiet
"$venv/bin/python" tests/python/policy_reference.py "$policy_out/modes/policy_modes"
# A variant where the gate and the budget bind.
"$CLOUDCAPEX_BIN" run tests/fixtures/policy_modes.toml --paths-out 1 --out "$policy_out/binding" --quiet \
  --set plan.total_rmb_bn=150 --set investment.counterfactual_budget_share_of_revenue=0.6 \
  --set investment.budget_share_of_revenue=0.3 --set pricing.markup=0.0
"$venv/bin/python" tests/python/policy_reference.py "$policy_out/binding/policy_modes"
# Short horizon, the plan world back to a business-as-usual budget: negative incremental
# capital, a path with no terminal value and missing ROIC years.
"$CLOUDCAPEX_BIN" run tests/fixtures/policy_modes.toml --paths-out 1 --out "$policy_out/short" --quiet \
  --set investment.plan_world_budget_share_after_plan=0.2 --set time.horizon_quarters=20
"$venv/bin/python" tests/python/policy_reference.py "$policy_out/short/policy_modes"
# The firm's hurdle rate above the investor's discount rate (investment.hurdle_rate).
"$CLOUDCAPEX_BIN" run tests/fixtures/policy_modes.toml --paths-out 1 --out "$policy_out/hurdle" --quiet \
  --set investment.hurdle_rate=0.12
"$venv/bin/python" tests/python/policy_reference.py "$policy_out/hurdle/policy_modes"
# A deterministic event moving every lever the policy reads.
"$CLOUDCAPEX_BIN" run tests/fixtures/policy_events.toml --paths-out 1 --out "$policy_out/events" --quiet
"$venv/bin/python" tests/python/policy_reference.py "$policy_out/events/policy_events"
rm -rf "$policy_out"
echo "== tests/python/finance_differential.py (cloudcapex::finance against numpy-financial and pyxirr)"
"$venv/bin/python" tests/python/finance_differential.py target/release/examples/finance_batch
echo "== tests/python/salib_roundtrip.py (sensitivity sobol --export-samples / --import-samples with SALib)"
"$venv/bin/python" tests/python/salib_roundtrip.py
echo "== benches/compare_numpy.py --check-only (the NumPy twin of the pre-policy model, scenarios/replace_retirements.toml, is the same model)"
"$venv/bin/python" benches/compare_numpy.py --check-only
echo "== benches/compare_peers.py --check-only (the Numba twin of the base model, benches/numba_base.py, computes the same model)"
bench_venv=target/bench-venv
[ -x "$bench_venv/bin/python" ] || python3 -m venv "$bench_venv"
"$bench_venv/bin/python" -m pip install --quiet --disable-pip-version-check -r benches/requirements.txt
"$bench_venv/bin/python" benches/compare_peers.py --check-only
echo "== tests/python/run_notebook.py (examples/notebooks/explore.ipynb)"
"$venv/bin/python" tests/python/run_notebook.py
echo "== tests/slurm.sh (a one-node Slurm cluster: cloudcapex slurm --submit, 4 array tasks and the merge job)"
tests/slurm.sh
echo "== tests/fuzz.sh (each fuzz target for \${FUZZ_SECONDS:-60}s; docs/reliability.md)"
tests/fuzz.sh
