#!/usr/bin/env python3
"""The base case's figures next to their anchors (../shared/data/README.md), from a run's
quarterly.csv and summary.csv: both worlds' AI revenue (start, peak, horizon), unmet AI
demand, capex/revenue by fiscal year, the plan world's EBITA margin FY26-FY28, three-year
revenue CAGR from FY26, median YoY growth over the last five years, P(0)/c(0), NPV.

Run: python3 benches/anchors.py OUT/base   (standard library only)
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path


def load(folder):
    q = defaultdict(dict)
    for r in csv.DictReader(open(folder / "quarterly.csv")):
        q[r["metric"]][r["quarter_label"]] = r
    s = {r["metric"]: r for r in csv.DictReader(open(folder / "summary.csv"))}
    return q, s


def fiscal_year(label):
    year, quarter = int(label[:4]), int(label[-1])
    return year + 1 if quarter >= 2 else year  # FY ends in March: 2026Q1 is FY26


def main():
    folder = Path(sys.argv[1])
    q, s = load(folder)
    mean = lambda m, l: float(q[m][l]["mean"]) if m in q and l in q[m] and q[m][l]["mean"] else float("nan")
    labels = list(q["revenue_total_rmb_bn"].keys())
    print(f"paths {s['plan_npv_rmb_bn']['count']}; {labels[0]} to {labels[-1]}")
    ai_cf = "revenue_ai_counterfactual_rmb_bn" if "revenue_ai_counterfactual_rmb_bn" in q else None
    for name, metric in [("plan", "revenue_ai_rmb_bn"), ("counterfactual", ai_cf)]:
        if metric is None:
            continue
        series = [(l, mean(metric, l)) for l in labels]
        peak = max(series, key=lambda x: x[1])
        print(f"AI revenue mean, {name}: start {series[0][1]:.2f}, peak {peak[1]:.2f} ({peak[0]}), horizon {series[-1][1]:.2f}")
    for name, suffix in [("plan", ""), ("counterfactual", "_counterfactual")]:
        unmet, demand_a = mean(f"ai_unmet_demand{suffix}_rmb_bn", labels[-1]), mean("ai_demand_rmb_bn", labels[-1])
        share = q.get(f"ai_unmet_share{suffix}", {}).get(labels[-1])
        text = f"{float(share['mean']):.3f}" if share else f"{unmet / demand_a:.3f} (unmet/demand of means)" if suffix == "" else "n/a"
        print(f"unmet share of AI demand at the horizon, {name}: {text}")
    by_fy = defaultdict(lambda: defaultdict(float))
    for l in labels:
        fy = fiscal_year(l)
        for m in ["capex_rmb_bn", "capex_counterfactual_rmb_bn", "revenue_total_rmb_bn", "revenue_total_counterfactual_rmb_bn", "ebita_rmb_bn"]:
            by_fy[fy][m] += mean(m, l)
        by_fy[fy]["n"] += 1
    print("fiscal year: capex/revenue plan, counterfactual; plan EBITA margin; revenue plan (sums of quarterly means)")
    for fy in sorted(by_fy):
        d = by_fy[fy]
        if d["n"] < 4:
            continue
        print(f"  FY{fy % 100:02d}: {d['capex_rmb_bn'] / d['revenue_total_rmb_bn']:.3f}, {d['capex_counterfactual_rmb_bn'] / d['revenue_total_counterfactual_rmb_bn']:.3f}; "
              f"margin {d['ebita_rmb_bn'] / d['revenue_total_rmb_bn']:.3f}; revenue {d['revenue_total_rmb_bn']:.1f}")
    fy26 = 158.132  # reported FY26 revenue (data/README.md)
    full = [fy for fy in sorted(by_fy) if by_fy[fy]["n"] == 4]
    if 2029 in by_fy and by_fy[2029]["n"] == 4:
        print(f"three-year revenue CAGR FY26 (reported 158.1) to FY29: {(by_fy[2029]['revenue_total_rmb_bn'] / fy26) ** (1 / 3) - 1:.3f}")
    last = labels[-20:]
    med = sorted(float(q["revenue_total_yoy_growth"][l]["p50"]) for l in last)
    print(f"median total YoY growth over the last five years (median of quarterly medians): {med[len(med) // 2]:.4f}")
    for m in ["ai_price_to_user_cost_start", "plan_npv_rmb_bn"]:
        if m in s:
            r = s[m]
            print(f"{m}: mean {float(r['mean']):.3f} (se {float(r['se']):.3f}), median {float(r['p50']):.3f}, P(<0) {float(r['prob_negative']):.3f}")


if __name__ == "__main__":
    main()
