"""Size and pandas load time of `paths` as CSV and as Parquet (docs/outputs.md quotes it).

Runs the engine once on scenarios/base.toml with --paths-out 1000 --format csv,parquet, then
loads paths.csv (pd.read_csv) and paths.parquet (pd.read_parquet) in interleaved pairs and
prints each file's size and the median load time.

Run: python benches/parquet_load.py [--paths-out N] [--repeats R]
     (CLOUDCAPEX_BIN: a binary built with --features parquet; default target/release/cloudcapex)
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BIN = os.environ.get("CLOUDCAPEX_BIN", str(ROOT / "target" / "release" / "cloudcapex"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths-out", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([BIN, "run", "scenarios/base.toml", "--paths", str(max(args.paths_out, 1000)),
                        "--paths-out", str(args.paths_out), "--format", "csv,parquet", "--quiet",
                        "--out", out], check=True, cwd=ROOT)
        run = Path(out) / "base"
        files = {"csv": (run / "paths.csv", pd.read_csv), "parquet": (run / "paths.parquet", pd.read_parquet)}
        times = {name: [] for name in files}
        rows = {}
        for _ in range(args.repeats):
            for name, (path, read) in files.items():
                start = time.perf_counter()
                frame = read(path)
                times[name].append(time.perf_counter() - start)
                rows[name] = len(frame)
        assert rows["csv"] == rows["parquet"], rows
        print(f"paths, base scenario, --paths-out {args.paths_out}: {rows['csv']:,} rows; "
              f"pandas {pd.__version__}, median of {args.repeats} interleaved loads")
        print(f"{'format':<8} {'size MB':>9} {'load s':>8}")
        for name, (path, _) in files.items():
            print(f"{name:<8} {path.stat().st_size / 1e6:>9.1f} {statistics.median(times[name]):>8.2f}")
        csv_size, parquet_size = (files[n][0].stat().st_size for n in ("csv", "parquet"))
        print(f"Parquet is {csv_size / parquet_size:.0f}x smaller and loads "
              f"{statistics.median(times['csv']) / statistics.median(times['parquet']):.0f}x faster")


if __name__ == "__main__":
    main()
