#!/usr/bin/env python3
"""Times cloudcapex against benches/numpy_base.py (the same base model in vectorized NumPy)
on the same machine, one thread each, and checks that both compute the same model: the
headline means must agree within 5 combined Monte Carlo standard errors.

Run through benches/compare_numpy.sh (builds the binary, prepares the Python environment).
Options: --paths N (default 50,000), --seed S, --check-only (small run, agreement only:
what tests/run-all.sh uses), --json FILE (also write the figures as JSON).
"""

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One thread for NumPy too (BLAS would otherwise use every core for the few matrix products).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy_base  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("CLOUDCAPEX_BIN", ROOT / "target" / "release" / "cloudcapex"))
# The twin implements the pre-policy economics (replace retirements, fixed price decline):
# scenarios/replace_retirements.toml, not the base case's investment policy.
SCENARIO = ROOT / "scenarios" / "replace_retirements.toml"
CHECKED = ["revenue_total_final_year_rmb_bn", "revenue_total_cagr", "plan_npv_rmb_bn",
           "plan_moic", "plan_incremental_capex_rmb_bn", "plan_roic_year_5"]


def run_rust(paths, seed, threads, out):
    started = time.perf_counter()
    subprocess.run([str(BIN), "run", str(SCENARIO), "--paths", str(paths), "--seed", str(seed), "--threads", str(threads),
                    "--quiet", "--out", str(out)], check=True)
    wall = time.perf_counter() - started
    run = json.loads((out / SCENARIO.stem / "run.json").read_text())
    summary = {row["metric"]: row for row in csv.DictReader(open(out / SCENARIO.stem / "summary.csv"))}
    return wall, run["elapsed_seconds"], summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20250224)
    parser.add_argument("--check-only", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    paths = 4000 if args.check_only else args.paths
    with open(SCENARIO, "rb") as f:
        scenario = numpy_base.tomllib.load(f)

    with tempfile.TemporaryDirectory() as tmp:
        rust_wall, rust_seconds, rust = run_rust(paths, args.seed, 1, Path(tmp) / "t1")
        rust2_wall, rust2_seconds, _ = (None, None, None) if args.check_only else run_rust(paths, args.seed, 2, Path(tmp) / "t2")

    started = time.perf_counter()
    quarterly, scalars = numpy_base.simulate(scenario, paths, args.seed)
    modelled = time.perf_counter()
    stats = numpy_base.statistics(quarterly, scalars)
    numpy_seconds = time.perf_counter() - started
    numpy_model_seconds = modelled - started

    failures = []
    print(f"same model? means over {paths} paths (cloudcapex vs NumPy, within 5 combined standard errors)")
    for metric in CHECKED:
        r, n = rust[metric], stats["scalars"][metric]
        se = (float(r["se"]) ** 2 + n["se"] ** 2) ** 0.5
        z = (float(r["mean"]) - n["mean"]) / se
        verdict = "ok" if abs(z) <= 5 else "DISAGREE"
        if verdict != "ok":
            failures.append(metric)
        print(f"  {metric:34} {float(r['mean']):12.4f} {n['mean']:12.4f}   z = {z:+.2f}  {verdict}")
    p_rust, p_numpy = float(rust["plan_npv_rmb_bn"]["prob_negative"]), stats["scalars"]["plan_npv_rmb_bn"]["prob_negative"]
    se = (p_rust * (1 - p_rust) / paths + p_numpy * (1 - p_numpy) / paths) ** 0.5
    z = (p_rust - p_numpy) / se
    print(f"  {'P(plan_npv_rmb_bn < 0)':34} {p_rust:12.4f} {p_numpy:12.4f}   z = {z:+.2f}  {'ok' if abs(z) <= 5 else 'DISAGREE'}")
    if abs(z) > 5:
        failures.append("prob_negative")
    if failures:
        print(f"the NumPy model disagrees with cloudcapex on {failures}: the timing comparison is void", file=sys.stderr)
        return 1
    if args.check_only:
        return 0

    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}",
        "paths": paths,
        "cloudcapex_1_thread_seconds": rust_seconds,
        "cloudcapex_2_threads_seconds": rust2_seconds,
        "numpy_seconds": numpy_seconds,
        "numpy_model_seconds": numpy_model_seconds,
        "ratio_1_thread": numpy_seconds / rust_seconds,
    }
    print()
    print(f"base scenario, {paths} paths, {figures['machine']}")
    print("  both: 40 quarters, 3 segments, regimes and 5 events, two worlds, NPV/IRR/paybacks/ROIC per path,")
    print("  then mean, sd and p1..p99 of 40 quarterly metrics x 41 quarters and of every per-path scalar")
    print(f"  {'engine':34} {'seconds':>9} {'paths/s':>10}")
    print(f"  {'cloudcapex, 1 thread':34} {rust_seconds:9.2f} {paths / rust_seconds:10.0f}")
    print(f"  {'cloudcapex, 2 threads':34} {rust2_seconds:9.2f} {paths / rust2_seconds:10.0f}")
    print(f"  {'NumPy, 1 thread':34} {numpy_seconds:9.2f} {paths / numpy_seconds:10.0f}"
          f"   (model {numpy_model_seconds:.2f} s, statistics {numpy_seconds - numpy_model_seconds:.2f} s)")
    print(f"  cloudcapex is {figures['ratio_1_thread']:.1f}x faster than NumPy on 1 thread "
          f"({numpy_seconds / rust2_seconds:.1f}x on 2 threads against NumPy's one)")
    print("  (cloudcapex seconds: run.json elapsed_seconds, simulation and statistics; process wall "
          f"times {rust_wall:.2f} s and {rust2_wall:.2f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
