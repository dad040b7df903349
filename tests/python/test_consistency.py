"""pandas recomputes the statistics of quarterly.csv and summary.csv from paths.csv and
path_scalars.csv of a run that keeps every path, and they must agree: means, standard
deviations and exact quantiles to floating-point accuracy, sketch quantiles within the
sketch's stated bound (docs/model.md, "Statistics").

The same run also writes every table as Parquet (`--format csv,parquet`; the binary must
be built with `--features parquet`), and pandas must read the same numbers from both: the
same rows and columns (less the provenance columns, which are the Parquet files'
metadata), numbers equal exactly, categories and dates equal to the CSV's text.

Run: python tests/python/test_consistency.py  (CLOUDCAPEX_BIN overrides the binary)
"""

import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CLOUDCAPEX_BIN", ROOT / "target" / "release" / "cloudcapex"))
PATHS = 3000
RELATIVE_ACCURACY = 0.005  # cloudcapex::stats::RELATIVE_ACCURACY
ZERO_THRESHOLD = 1e-9
LEVELS = {"p1": 0.01, "p5": 0.05, "p10": 0.10, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p90": 0.90, "p95": 0.95, "p99": 0.99}
QUARTERLY = ["revenue_total_rmb_bn", "revenue_ai_rmb_bn", "revenue_total_yoy_growth", "ebita_margin",
             "ai_utilization", "incremental_fcf_rmb_bn", "regime_tension_probability"]
SCALARS = ["plan_npv_rmb_bn", "plan_irr", "revenue_total_cagr", "plan_payback_quarters"]
# Summarised by streaming statistics (not kept per path): sketch quantiles and CVaR.
STREAMED_SCALARS = ["plan_roic_year_5", "plan_npv_given_price_war_fired_rmb_bn", "plan_terminal_value_pv_rmb_bn"]


def sketch_quantile_bound(sorted_values, level):
    rank = level * (len(sorted_values) - 1)
    lo, hi = sorted_values[int(np.floor(rank))], sorted_values[int(np.ceil(rank))]
    return RELATIVE_ACCURACY * max(abs(lo), abs(hi)) + ZERO_THRESHOLD


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def main():
    out = Path(tempfile.mkdtemp())
    cmd = [str(BIN), "run", "--paths", str(PATHS), "--paths-out", str(PATHS), "--seed", "5", "--quiet",
           "--format", "csv,parquet", "--out", str(out)]
    if not BIN.exists():
        cmd = ["cargo", "run", "--release", "--quiet", "--features", "parquet", "--"] + cmd[1:]
    subprocess.run(cmd, check=True, cwd=ROOT)
    run = out / "base"
    quarterly = pd.read_csv(run / "quarterly.csv")
    summary = pd.read_csv(run / "summary.csv").set_index("metric")
    paths = pd.read_csv(run / "paths.csv")
    scalars = pd.read_csv(run / "path_scalars.csv")
    assert paths["path"].nunique() == PATHS and scalars["path"].nunique() == PATHS

    checked = 0
    for metric in QUARTERLY:
        reported = quarterly[quarterly.metric == metric].set_index("quarter_index")
        values = paths[paths.metric == metric].pivot(index="path", columns="quarter_index", values="value")
        for t, row in reported.iterrows():
            x = values[t].dropna()
            if row["count"] == 0:
                assert len(x) == 0, (metric, t)
                continue
            assert row["count"] == len(x) == PATHS, (metric, t, row["count"], len(x))
            assert close(row["mean"], x.mean()), (metric, t, row["mean"], x.mean())
            assert close(row["sd"], x.std(ddof=1), 1e-7) or row["sd"] < 1e-12, (metric, t, row["sd"], x.std())
            assert close(row["se"], x.std(ddof=1) / np.sqrt(len(x)), 1e-7) or row["se"] < 1e-12
            xs = np.sort(x.to_numpy())
            for column, level in LEVELS.items():
                bound = sketch_quantile_bound(xs, level)
                exact = x.quantile(level)  # pandas' default: linear, type 7
                assert abs(row[column] - exact) <= bound * (1 + 1e-9), (metric, t, column, row[column], exact, bound)
            checked += 1

    for metric in SCALARS + STREAMED_SCALARS:
        row = summary.loc[metric]
        streamed = metric in STREAMED_SCALARS
        assert row["quantiles"] == ("sketch" if streamed else "exact"), (metric, row["quantiles"])
        x = scalars[scalars.metric == metric]["value"]
        defined = x.dropna()
        xs = np.sort(defined.to_numpy())
        assert row["count"] == len(defined) and row["missing"] == x.isna().sum(), (metric, row["count"], len(defined))
        assert close(row["mean"], defined.mean()), (metric, row["mean"], defined.mean())
        assert close(row["sd"], defined.std(ddof=1), 1e-7), (metric, row["sd"], defined.std())
        for column, level in LEVELS.items():
            exact = defined.quantile(level)
            if streamed:
                assert abs(row[column] - exact) <= sketch_quantile_bound(xs, level) * (1 + 1e-9), (metric, column, row[column], exact)
            else:
                assert close(row[column], exact), (metric, column, row[column], exact)
        assert close(row["prob_negative"], (defined < 0).mean()), (metric, row["prob_negative"])
        worst = xs[: int(np.ceil(0.05 * len(defined)))]
        if streamed:
            # Each tail value is replaced by its bucket's representative.
            bound = RELATIVE_ACCURACY * np.abs(worst).max() + ZERO_THRESHOLD
            assert abs(row["cvar5"] - worst.mean()) <= bound, (metric, row["cvar5"], worst.mean())
        else:
            assert close(row["cvar5"], worst.mean()), (metric, row["cvar5"], worst.mean())
        checked += 1

    print(f"consistency: {checked} quarterly cells and scalars agree with pandas ({PATHS} paths)")
    tables = same_numbers_in_both_formats(run)
    print(f"consistency: {tables} tables read the same from CSV and Parquet")


PROVENANCE = ["seed", "scenario_sha256", "cloudcapex_version"]


def same_numbers_in_both_formats(run):
    """Every table read from Parquet equals the one read from CSV."""
    tables = ["quarterly", "summary", "convergence", "paths", "path_scalars", "drivers"]
    for table in tables:
        from_csv = pd.read_csv(run / f"{table}.csv")
        from_parquet = pd.read_parquet(run / f"{table}.parquet")
        metadata = pq.read_metadata(run / f"{table}.parquet").metadata
        for key in PROVENANCE:
            assert metadata[key.encode()].decode() == str(from_csv[key].iloc[0]), (table, key)
        from_csv = from_csv.drop(columns=PROVENANCE)
        assert list(from_parquet.columns) == list(from_csv.columns), (table, from_parquet.columns)
        assert len(from_parquet) == len(from_csv), (table, len(from_parquet), len(from_csv))
        for column in from_csv.columns:
            ours, theirs = from_parquet[column], from_csv[column]
            if isinstance(ours.dtype, pd.CategoricalDtype) or ours.dtype == object:
                # Categories and dates (datetime.date) against the CSV's text.
                assert (ours.astype(str).to_numpy() == theirs.astype(str).to_numpy()).all(), (table, column)
            else:
                assert np.array_equal(ours.to_numpy(dtype=float), theirs.to_numpy(dtype=float), equal_nan=True), (table, column)
        assert str(from_parquet["scenario"].dtype) == "category", table
        if "quarter_end" in from_parquet:
            assert isinstance(from_parquet["quarter_end"].iloc[0], datetime.date), table
    return len(tables)


if __name__ == "__main__":
    sys.exit(main())
