"""SALib interoperability: the engine's exported Saltelli design, evaluated by the engine
(--import-samples) and analysed by SALib's sobol.analyze, gives the engine's own Sobol
indices (same estimators: Saltelli 2010 first order, Jansen total; SALib standardizes the
evaluations by the mean of all of them and uses ddof 0 over 2n values, the engine centres
on the mean of f(A), f(B) and uses 2n - 1, differences of order 1/n: a relative tolerance
of 2%), the same for second-order indices (Saltelli 2002) on SALib's
calc_second_order=True design; and a
design sampled by SALib itself from the exported problem.json is evaluated by the engine.

Run: python tests/python/salib_roundtrip.py  (CLOUDCAPEX_BIN = the release binary)
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import sobol
from SALib.sample import sobol as sobol_sample

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CLOUDCAPEX_BIN", str(ROOT / "target" / "release" / "cloudcapex"))
SCENARIO = ["tests/fixtures/breakeven.toml", "--metric", "revenue_total_final_year_rmb_bn",
            "--set", 'revenue.segments.cloud.start_revenue_rmb_bn={ dist = "uniform", min = 5, max = 15 }',
            "--set", 'revenue.segments.cloud.initial_growth={ dist = "uniform", min = 0.1, max = 0.4 }',
            "--set", "revenue.segments.cloud.iid_shock_sd=0.05"]
SAMPLES = 256


def ccx(*args):
    subprocess.run([BIN, "sensitivity", "sobol", *SCENARIO, *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ccx("--samples", str(SAMPLES), "--export-samples", str(tmp / "design"))
        problem = json.loads((tmp / "design" / "problem.json").read_text())
        samples = pd.read_csv(tmp / "design" / "samples.csv")
        assert list(samples.columns) == problem["names"], (samples.columns, problem["names"])
        ccx("--import-samples", str(tmp / "design" / "samples.csv"), "--out", str(tmp / "out"), "--quiet")
        evaluations = pd.read_csv(next((tmp / "out").glob("sobol_*/evaluations.csv")))
        y = evaluations["revenue_total_final_year_rmb_bn"].to_numpy()
        assert len(y) == SAMPLES * (problem["num_vars"] + 2), len(y)
        salib = sobol.analyze(problem, y, calc_second_order=False, print_to_console=False)
        ccx("--samples", str(SAMPLES), "--bootstrap", "10", "--out", str(tmp / "engine"), "--quiet")
        engine = pd.read_csv(next((tmp / "engine").glob("sobol_*/sobol.csv"))).set_index("input")
        for k, name in enumerate(problem["names"]):
            for ours, theirs in [(engine.loc[name, "first_order"], salib["S1"][k]),
                                 (engine.loc[name, "total"], salib["ST"][k])]:
                assert abs(ours - theirs) <= 0.02 * max(abs(ours), 1e-2), (name, ours, theirs)
        # Second-order indices: SALib's calc_second_order=True design, its S2 against the engine's.
        ccx("--samples", str(SAMPLES), "--second-order", "--export-samples", str(tmp / "design2"))
        problem2 = json.loads((tmp / "design2" / "problem.json").read_text())
        assert problem2["calc_second_order"] is True
        ccx("--import-samples", str(tmp / "design2" / "samples.csv"), "--out", str(tmp / "out2"), "--quiet")
        y = pd.read_csv(next((tmp / "out2").glob("sobol_*/evaluations.csv")))["revenue_total_final_year_rmb_bn"].to_numpy()
        assert len(y) == SAMPLES * (2 * problem2["num_vars"] + 2), len(y)
        salib2 = sobol.analyze(problem2, y, calc_second_order=True, print_to_console=False)
        ccx("--samples", str(SAMPLES), "--second-order", "--bootstrap", "10", "--out", str(tmp / "engine2"), "--quiet")
        engine2 = pd.read_csv(next((tmp / "engine2").glob("sobol_*/sobol_second_order.csv")))
        names = problem2["names"]
        assert len(engine2) == len(names) * (len(names) - 1) // 2
        for row in engine2.itertuples():
            theirs = salib2["S2"][names.index(row.input_1), names.index(row.input_2)]
            assert abs(row.second_order - theirs) <= 0.02 * max(abs(row.second_order), 1e-2), (row, theirs)
        # A design drawn by SALib itself, evaluated by the engine.
        design = sobol_sample.sample(problem, 64, calc_second_order=False, seed=1)
        design = np.clip(design, 0.0, np.nextafter(1.0, 0.0))
        np.savetxt(tmp / "salib.txt", design)
        ccx("--import-samples", str(tmp / "salib.txt"), "--out", str(tmp / "salib_out"), "--quiet")
        y2 = pd.read_csv(next((tmp / "salib_out").glob("sobol_*/evaluations.csv")))["revenue_total_final_year_rmb_bn"]
        assert len(y2) == len(design) and y2.notna().all()
        s2 = sobol.analyze(problem, y2.to_numpy(), calc_second_order=False)
        assert s2["ST"][0] > 0.5, s2["ST"]  # the start revenue dominates
    print(f"SALib round trip: {problem['num_vars']} inputs, {SAMPLES} base rows; S1, ST and S2 equal to the engine's within 2%")


if __name__ == "__main__":
    sys.exit(main())
