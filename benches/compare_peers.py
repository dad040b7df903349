#!/usr/bin/env python3
"""cloudcapex side by side with the peers a quant would write: the Numba twin of the base
model (benches/numba_base.py: per-path @njit loops, prange over blocks of 1,024 paths, the
engine's streaming statistics) and, on the pre-policy economics it implements, the
vectorized NumPy twin (benches/numpy_base.py).

First it checks that the twins compute the same model (a second implementation of the
economics is also a check of it): every quarterly mean of the base scenario within Monte
Carlo error (|z| <= 5; with ~2,200 cells a max |z| near 3.5 is chance) and the headline
scalars. Then it times them, interleaved, compute time only: the engine's run.json
`elapsed_seconds` (simulation and statistics; no file writing), the twins' own timers
after a warm-up call (Numba's JIT compile reported separately).

Run through benches/compare_peers.sh (builds the binary, prepares the pinned environment).
Options: --paths N [N ...] (default 100000), --threads T [T ...] (default 1 2), --pairs K
(default 3), --check-only (agreement at 20,000 paths only), --json FILE.
"""

import argparse
import csv
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("CLOUDCAPEX_BIN", ROOT / "target" / "release" / "cloudcapex"))
BASE = ROOT / "scenarios" / "base.toml"
PRE_POLICY = ROOT / "scenarios" / "replace_retirements.toml"
SEED = 20250224
SCALARS = ["revenue_total_final_year_rmb_bn", "revenue_total_cagr", "plan_npv_rmb_bn", "plan_irr",
           "plan_moic", "plan_incremental_capex_rmb_bn", "plan_terminal_value_pv_rmb_bn"]


def engine(scenario, paths, threads, out):
    """Runs the engine; returns (compute seconds, quarterly rows, summary rows)."""
    subprocess.run([str(BIN), "run", str(scenario), "--paths", str(paths), "--seed", str(SEED),
                    "--threads", str(threads), "--quiet", "--out", str(out)], check=True)
    folder = out / scenario.stem
    run = json.loads((folder / "run.json").read_text())
    return run["elapsed_seconds"], folder


def twin(script, args, threads):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS=str(max(threads, 1)))
    done = subprocess.run([sys.executable, str(ROOT / "benches" / script), *args], check=True,
                          capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def numba_run(paths, threads, stats, extra=()):
    return twin("numba_base.py", ["--paths", str(paths), "--seed", str(SEED), "--threads", str(threads),
                                  "--stats", stats, "--scenario", str(BASE), *extra], threads)


def agreement(paths, tmp):
    """Engine and Numba twin on the base scenario: z of every quarterly mean and of the
    headline scalars. Returns the disagreements and the twin's first-call (JIT) seconds."""
    _, folder = engine(BASE, paths, 2, tmp / "agree")
    twin_csv = tmp / "twin_quarterly.csv"
    result = numba_run(paths, 2, "streaming", ["--quarterly-csv", str(twin_csv)])
    mine = {(r["metric"], int(r["quarter_index"])): r for r in csv.DictReader(open(folder / "quarterly.csv"))}
    zs, exact_mismatch = [], []
    for r in csv.DictReader(open(twin_csv)):
        key = (r["metric"], int(r["quarter_index"]))
        e = mine.get(key)
        if e is None or not e["mean"] or not r["mean"]:
            continue
        em, tm = float(e["mean"]), float(r["mean"])
        ese, tse = float(e["se"] or 0), float(r["se"] or 0)
        # Constant cells (the start quarter, a fixed order) agree to rounding; their
        # standard errors are rounding noise (1e-16), so z means nothing there.
        if abs(em - tm) <= 1e-9 * max(1.0, abs(em)):
            continue
        if ese == 0 or tse == 0:
            exact_mismatch.append((key, em, tm))
            continue
        zs.append(((em - tm) / math.hypot(ese, tse), key))
    zs.sort(key=lambda z: -abs(z[0]))
    failures = [f"{k[0]} t={k[1]} z={z:+.2f}" for z, k in zs if abs(z) > 5]
    failures += [f"{k[0]} t={k[1]}: {a} vs {b} (no variance)" for k, a, b in exact_mismatch]
    print(f"same model? base scenario, {paths} paths, seed {SEED}: engine vs Numba twin")
    print(f"  {len(zs)} quarterly cells with variance: max |z| = {abs(zs[0][0]):.2f} ({zs[0][1][0]} t={zs[0][1][1]}), "
          f"{sum(abs(z) > 3 for z, _ in zs)} above 3, {sum(abs(z) > 5 for z, _ in zs)} above 5")
    print(f"  {len(mine) - len(zs)} cells constant (equal to 1e-9) or undefined: {len(exact_mismatch)} differ")
    summary = {r["metric"]: r for r in csv.DictReader(open(folder / "summary.csv"))}
    for name in SCALARS:
        e, t = summary[name], result["scalars"][name]
        z = (float(e["mean"]) - t["mean"]) / math.hypot(float(e["se"]), t["se"])
        verdict = "ok" if abs(z) <= 5 else "DISAGREE"
        if verdict != "ok":
            failures.append(f"{name} z={z:+.2f}")
        print(f"  {name:34} {float(e['mean']):12.4f} {t['mean']:12.4f}   z = {z:+.2f}  {verdict}")
    return failures, result["compile_seconds"]


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, nargs="+", default=[100_000])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--check-only", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    # The JIT compile, cold if numba's cache is empty, timed on its own (the agreement run's
    # warm-up call is the first).
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        failures, cold = agreement(20_000 if args.check_only else 50_000, tmp)
        if failures:
            print("the twin disagrees with the engine: " + "; ".join(failures[:10]), file=sys.stderr)
            print("the timing comparison would be void", file=sys.stderr)
            return 1
        if args.check_only:
            return 0
        numba_run(64, 1, "none")  # compiles the model-only kernel once, untimed
        warm = numba_run(64, 1, "streaming")["compile_seconds"]
        print(f"\nNumba JIT: first call of this session {cold:.1f} s (a cold compile takes about a minute or more; "
              f"with numba's on-disk cache the next process's first call takes {warm:.1f} s)")

        rows = []
        for paths in args.paths:
            for threads in args.threads:
                times = {"engine": [], "numba_streaming": [], "numba_model_only": []}
                for _ in range(args.pairs):
                    seconds, _ = engine(BASE, paths, threads, tmp / "time")
                    times["engine"].append(seconds)
                    times["numba_streaming"].append(numba_run(paths, threads, "streaming")["total_seconds"])
                    times["numba_model_only"].append(numba_run(paths, threads, "none")["total_seconds"])
                ratios = [n / e for n, e in zip(times["numba_streaming"], times["engine"])]
                rows.append({"paths": paths, "threads": threads, **{k: v for k, v in times.items()},
                             "numba_over_engine": median(ratios),
                             "numba_model_only_over_engine_full": median(
                                 [n / e for n, e in zip(times["numba_model_only"], times["engine"])])})
        numpy_row = None
        if 1 in args.threads and min(args.paths) <= 200_000:
            paths = min(args.paths)
            e_times, n_times = [], []
            for _ in range(args.pairs):
                seconds, _ = engine(PRE_POLICY, paths, 1, tmp / "numpy")
                e_times.append(seconds)
                n_times.append(twin("numpy_base.py", ["--paths", str(paths), "--seed", str(SEED),
                                                      "--scenario", str(PRE_POLICY)], 1)["seconds"])
            numpy_row = {"paths": paths, "engine": e_times, "numpy": n_times,
                         "numpy_over_engine": median([n / e for n, e in zip(n_times, e_times)])}

    import numba  # noqa: E402 (versions for the record)
    import numpy as np  # noqa: E402
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"NumPy {np.__version__}, Numba {numba.__version__}")
    print(f"\ncompute seconds, median of {args.pairs} interleaved runs each ({machine})")
    print(f"  {'paths':>9} {'threads':>7} {'engine':>8} {'Numba':>8} {'Numba/engine':>13} {'Numba model only':>17}")
    for r in rows:
        print(f"  {r['paths']:>9} {r['threads']:>7} {median(r['engine']):8.2f} {median(r['numba_streaming']):8.2f} "
              f"{r['numba_over_engine']:13.2f} {median(r['numba_model_only']):17.2f}")
    print("  engine: cloudcapex run --quiet (run.json elapsed_seconds: simulation and the default statistics)")
    print("  Numba: the same model and statistics (moments + 0.5% sketch per quarterly cell, scalars exact);")
    print("  'model only': the twin without statistics. Ratios are of each interleaved pair, then the median.")
    if numpy_row:
        print(f"\npre-policy economics (scenarios/replace_retirements.toml), {numpy_row['paths']} paths, 1 thread: "
              f"engine {median(numpy_row['engine']):.2f} s, NumPy twin {median(numpy_row['numpy']):.2f} s, "
              f"NumPy/engine {numpy_row['numpy_over_engine']:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "jit_first_call_seconds": cold,
                                         "jit_cached_seconds": warm, "rows": rows, "numpy": numpy_row},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
