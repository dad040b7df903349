#!/usr/bin/env python3
"""cloudcapex's base model written the straightforward vectorized NumPy way: every array
holds all paths, loops run over quarters only. Same equations as docs/model.md, same
assumptions (read from scenarios/replace_retirements.toml, the pre-policy economics), NumPy's own random numbers: so its statistics
agree with cloudcapex's within Monte Carlo error, not bit for bit.

It exists to be timed against the Rust engine (benches/compare_numpy.sh runs both) and to
show that the comparison is like for like (compare_numpy.py checks the means agree).

Run: python benches/numpy_base.py --paths 20000 [--scenario scenarios/replace_retirements.toml] [--seed 1]
Prints one JSON object: timings (model, statistics) and the headline statistics.
"""

import argparse
import json
import math
import time
import tomllib
from pathlib import Path

import numpy as np

LEVELS = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99]


def quarter_index(label):
    """'2026Q1' -> absolute quarter number."""
    year, quarter = label.split("Q")
    return int(year) * 4 + int(quarter) - 1


def draw(spec, rng, n):
    """One value per path of a number or a distribution table."""
    if isinstance(spec, (int, float)):
        return np.full(n, float(spec))
    kind = spec["dist"]
    if kind == "triangular":
        return rng.triangular(spec["min"], spec["mode"], spec["max"], n)
    if kind == "uniform":
        return rng.uniform(spec["min"], spec["max"], n)
    if kind == "pert":
        low, mode, high = spec["min"], spec["mode"], spec["max"]
        width = high - low
        return low + width * rng.beta(1 + 4 * (mode - low) / width, 1 + 4 * (high - mode) / width, n)
    if kind == "normal":
        return rng.normal(spec["mean"], spec["sd"], n)
    raise SystemExit(f"numpy_base.py: distribution {kind!r} is not implemented here")


def simulate(scenario, paths, seed):
    """Simulates `paths` paths; returns (quarterly metrics {name: (paths, Q)}, scalars {name: (paths,)})."""
    rng = np.random.default_rng(seed)
    P = paths
    H = scenario["time"]["horizon_quarters"]
    Q = H + 1
    start = quarter_index(scenario["time"]["start_quarter"])
    rev = scenario["revenue"]
    names = list(rev["segments"])
    S = len(names)

    # --- Risk: regimes and events (docs/model.md, "Risk").
    risk = scenario["risk"]
    regimes = list(risk["regimes"])
    K = len(regimes)
    initial = np.array([risk["regimes"][r]["initial_probability"] for r in regimes])
    transition = np.array([[risk["regimes"][r]["transition"].get(j, 0.0) for j in regimes] for r in regimes])
    growth_shift = np.array([[risk["regimes"][r].get("growth_shift", {}).get(s, 0.0) / 4 for s in names] for r in regimes])
    vol_scale_k = np.array([risk["regimes"][r].get("volatility_scale", 1.0) for r in regimes])
    spread_k = np.array([risk["regimes"][r].get("discount_spread", 0.0) for r in regimes])

    def pick(cdf_rows, u):
        return (u[:, None] >= cdf_rows).sum(axis=1).clip(max=K - 1)

    regime = np.empty((P, Q), dtype=np.int64)
    regime[:, 0] = pick(np.broadcast_to(np.cumsum(initial), (P, K)), rng.random(P))
    transition_cdf = np.cumsum(transition, axis=1)
    for t in range(1, Q):
        regime[:, t] = pick(transition_cdf[regime[:, t - 1]], rng.random(P))

    drift_shift = np.zeros((S, P, Q))
    level_shift = np.zeros((S, P, Q))
    factors = {lever: np.ones((P, Q)) for lever in ("unit_cost", "capacity_additions", "price", "plan_size")}
    discount_spread = np.zeros((P, Q))
    volatility = np.ones((P, Q))
    drift_shift[:, :, 1:] = growth_shift[regime[:, 1:]].transpose(2, 0, 1)
    volatility[:, 1:] = vol_scale_k[regime[:, 1:]]
    discount_spread[:, 1:] = spread_k[regime[:, 1:]]

    events = list(risk["events"])
    firings = np.zeros((len(events), P, Q))
    ages = np.arange(Q)
    for e, name in enumerate(events):
        event = risk["events"][name]
        hazard = np.array([event["hazard"].get(r, 0.0) for r in regimes])
        count = np.zeros(P)
        severity = np.zeros((P, Q))
        for t in range(1, Q):
            fire = rng.random(P) < hazard[regime[:, t]]
            if not event.get("repeatable", True):
                fire &= count == 0
            count += fire
            severity[fire, t] = draw(event.get("severity", 1.0), rng, int(fire.sum()))
            firings[e, :, t] = count
        for effect in event["effects"].values():
            half_life = effect.get("half_life_quarters")
            decay = 1.0 if half_life is None else 0.5 ** (1.0 / half_life)
            segment = names.index(effect["segment"]) if "segment" in effect else 0
            lever = effect["lever"]
            for f in range(1, Q):
                hit = severity[:, f] > 0
                if not hit.any():
                    continue
                size = effect["size"] * severity[hit, f][:, None] * decay ** ages[None, : Q - f]
                if lever == "revenue_growth":
                    drift_shift[segment, hit, f:] += size / 4
                elif lever == "revenue_level":
                    level_shift[segment, hit, f:] += np.log1p(size)
                elif lever == "discount_rate":
                    discount_spread[hit, f:] += size
                else:
                    factors[lever][hit, f:] *= 1 + size

    # --- Revenue (docs/model.md, "Revenue").
    seasonal = np.array([rev["seasonality"][q] for q in ("q1", "q2", "q3", "q4")])
    f = seasonal[(start % 4 + np.arange(Q)) % 4]
    corr = np.eye(S)
    for a, row in rev.get("correlation", {}).items():
        for b, value in row.items():
            i, j = names.index(a), names.index(b)
            corr[i, j] = corr[j, i] = value
    L = np.linalg.cholesky(corr)
    seg = {k: np.stack([draw(rev["segments"][s][k], rng, P) for s in names]) for k in (
        "start_revenue_rmb_bn", "initial_growth", "terminal_growth", "growth_half_life_quarters",
        "shock_persistence", "persistent_shock_sd", "iid_shock_sd")}
    revenue = np.empty((S, P, Q))
    revenue[:, :, 0] = seg["start_revenue_rmb_bn"]
    log_level = np.log(seg["start_revenue_rmb_bn"] / f[0])
    terminal = np.log1p(seg["terminal_growth"]) / 4
    gap = np.log1p(seg["initial_growth"]) / 4 - terminal
    decay = np.exp(-math.log(2) / seg["growth_half_life_quarters"])
    state = np.zeros((S, P))
    for t in range(1, Q):
        eta = L @ rng.standard_normal((S, P))
        eps = L @ rng.standard_normal((S, P))
        drift = terminal + gap + drift_shift[:, :, t]
        gap = gap * decay
        state = seg["shock_persistence"] * state + volatility[:, t] * seg["persistent_shock_sd"] * eta
        log_level = log_level + drift + state + volatility[:, t] * seg["iid_shock_sd"] * eps
        revenue[:, :, t] = np.exp(log_level + level_shift[:, :, t]) * f[t]

    # --- Capex, capacity, margins and cash flows in both worlds.
    plan = scenario["plan"]
    classes = list(plan["assets"])
    share = np.array([plan["assets"][c]["share"] for c in classes])
    life = [plan["assets"][c]["useful_life_quarters"] for c in classes]
    lag = [plan["assets"][c]["in_service_lag_quarters"] for c in classes]
    cap = scenario["capacity"]
    compute = classes.index(cap["asset_class"])
    ai = names.index(cap["segment"])
    p0 = quarter_index(plan["start_quarter"]) - start
    length = plan["length_quarters"]
    first = min(p0, 0) - max(a + b for a, b in zip(life, lag)) - 1
    T = H - first + 1

    weights = np.ones(length)  # profile = "flat"
    if plan.get("profile", "flat") != "flat":
        raise SystemExit("numpy_base.py implements the flat plan profile only")
    history = []
    for k in range(length):
        label = f"{(quarter_index(plan['start_quarter']) + k) // 4}Q{(quarter_index(plan['start_quarter']) + k) % 4 + 1}"
        if p0 + k <= 0:
            history.append(plan.get("actual_spend_rmb_bn", {}).get(label, plan["total_rmb_bn"] * weights[k] / weights.sum()))
        else:
            history.append(None)
    multiplier = draw(plan["execution_multiplier"], rng, P)
    legacy = draw(scenario["legacy"]["capex_rmb_bn_per_quarter"], rng, P)
    unit_cost_step = (1 - draw(cap["hardware_cost_decline"], rng, P)) ** 0.25
    spent = sum(h for h in history if h is not None)
    remaining = np.maximum(plan["total_rmb_bn"] * multiplier - spent, 0.0)
    future_weight = sum(w for h, w in zip(history, weights) if h is None)
    plan_spend = np.stack([np.full(P, h) if h is not None else remaining * w / future_weight
                           for h, w in zip(history, weights)], axis=1)
    if "upsizing" in plan:
        up = plan["upsizing"]
        raise_it = rng.random(P) < draw(up["probability"], rng, P)
        size = draw(up["size_rmb_bn"], rng, P)
        frm = quarter_index(up["quarter"]) - quarter_index(plan["start_quarter"])
        w = weights[frm:] / weights[frm:].sum()
        plan_spend[:, frm:] += np.where(raise_it, size, 0.0)[:, None] * w

    max_util = draw(cap["max_utilization"], rng, P)
    demand_scale = 1 / (1 - draw(cap["start_unmet_demand_share"], rng, P))
    price_step = (1 - draw(cap["price_decline"], rng, P)) ** 0.25
    costs = scenario["costs"]
    variable = draw(costs["variable_cost_share"], rng, P)
    start_margin = draw(costs["start_ebita_margin"], rng, P)
    fixed_step = (1 + draw(costs["fixed_cost_inflation"], rng, P)) ** 0.25
    tax = draw(costs["tax_rate"], rng, P)
    wc_share = draw(costs["working_capital_share"], rng, P)
    reported_total = revenue[:, :, 0].sum(axis=0)
    reported_ai = revenue[ai, :, 0]
    other = revenue.sum(axis=0) - revenue[ai]
    vfirst = min(p0, 0)

    worlds = []
    price_start = fixed_start = None
    for world in ("plan", "counterfactual"):
        capex = np.zeros((len(classes), P, T))
        units = np.zeros((P, T))
        dep = np.zeros((len(classes), P))
        in_service = np.zeros(P)
        series = {k: np.zeros((P, Q)) for k in (
            "revenue", "ai_revenue", "capex", "capacity", "utilization", "unmet", "depreciation",
            "ebita", "nopat", "fcf", "wc")}
        history_capex, history_dep = [], []
        previous = reported_total
        for i, t in enumerate(range(first, H + 1)):
            unit_cost = unit_cost_step ** t
            if t > 0:
                unit_cost = unit_cost * factors["unit_cost"][:, t] / factors["capacity_additions"][:, t]

            def maintenance():
                for c in range(len(classes)):
                    source = i - life[c]
                    if c == compute:
                        units[:, i] = units[:, source] if source >= 0 else 0.0
                        capex[c, :, i] = units[:, i] * unit_cost
                    else:
                        capex[c, :, i] = capex[c, :, source] if source >= 0 else 0.0

            if t < p0 and t <= 0:
                capex[:, :, i] = legacy * share[:, None]
                units[:, i] = capex[compute, :, i] / unit_cost
            elif world == "plan" and p0 <= t < p0 + length:
                spend = plan_spend[:, t - p0] * (factors["plan_size"][:, t] if t > 0 else 1.0)
                maintenance()
                use = spend >= capex[:, :, i].sum(axis=0)
                capex[:, use, i] = spend[use] * share[:, None]
                units[use, i] = capex[compute, use, i] / unit_cost[use]
            else:
                maintenance()
            for c in range(len(classes)):
                entering = i - lag[c]
                if entering >= 0:
                    dep[c] += capex[c, :, entering] / life[c]
                    if c == compute:
                        in_service += units[:, entering]
                    leaving = entering - life[c]
                    if leaving >= 0:
                        dep[c] -= capex[c, :, leaving] / life[c]
                        if c == compute:
                            in_service -= units[:, leaving]
            capex_t = capex[:, :, i].sum(axis=0)
            dep_t = np.maximum(dep.sum(axis=0), 0.0)
            compute_units = np.maximum(in_service, 0.0)
            if t < 0:
                if t >= vfirst:
                    history_capex.append(capex_t)
                    history_dep.append(dep_t)
                continue
            if t == 0 and world == "plan":
                price_start = reported_ai / (max_util * compute_units)
                fixed_start = reported_total * (1 - variable - start_margin) - dep_t
            demand = revenue[ai, :, t] * demand_scale
            price = price_start * price_step ** t * factors["price"][:, t]
            full = compute_units * price
            realized = np.minimum(demand, full * max_util)
            total = other[:, t] + realized
            ebita = total * (1 - variable) - fixed_start * fixed_step ** t - dep_t
            nopat = ebita * (1 - tax)
            wc = wc_share * (total - previous) if t > 0 else np.zeros(P)
            row = dict(revenue=total, ai_revenue=realized, capex=capex_t, capacity=compute_units,
                       utilization=np.where(full > 0, realized / np.where(full > 0, full, 1), 0.0),
                       unmet=demand - realized, depreciation=dep_t, ebita=ebita, nopat=nopat,
                       fcf=nopat + dep_t - capex_t - wc, wc=wc)
            for k, v in row.items():
                series[k][:, t] = v
            previous = total
        series["history_capex"] = np.stack(history_capex, axis=1)
        series["history_dep"] = np.stack(history_dep, axis=1)
        worlds.append(series)
    planw, cf = worlds

    # --- The plan's return (docs/model.md, "Return of the plan").
    n_hist = planw["history_capex"].shape[1]
    d_capex = np.concatenate([planw["history_capex"] - cf["history_capex"], planw["capex"] - cf["capex"]], axis=1)
    d_fcf = np.concatenate([-(planw["history_capex"] - cf["history_capex"]), planw["fcf"] - cf["fcf"]], axis=1)
    d_nopat = np.concatenate([np.zeros((P, n_hist)), planw["nopat"] - cf["nopat"]], axis=1)
    d_dep = np.concatenate([planw["history_dep"] - cf["history_dep"], planw["depreciation"] - cf["depreciation"]], axis=1)
    d_wc = np.concatenate([np.zeros((P, n_hist)), planw["wc"] - cf["wc"]], axis=1)
    spread = np.concatenate([np.zeros((P, n_hist)), discount_spread], axis=1)
    n = d_fcf.shape[1]
    val = scenario["valuation"]
    rate = draw(val["discount_rate"], rng, P)
    growth = (1 + draw(val.get("terminal_growth", 0.02), rng, P)) ** 0.25 - 1
    quarterly_rate = (1 + rate[:, None] + spread) ** 0.25 - 1
    discount = np.ones((P, n))
    discount[:, 1:] = np.cumprod(1 / (1 + quarterly_rate[:, 1:]), axis=1)
    flows = d_fcf.copy()
    terminal_value = np.zeros(P)
    if val.get("terminal_value", True):
        base = d_nopat[:, max(n_hist, n - 4):].mean(axis=1)
        terminal_value = base * (1 + growth) / (quarterly_rate[:, -1] - growth)
        flows[:, -1] += terminal_value
    npv = (flows * discount).sum(axis=1)

    # IRR: NPV on a grid of log(1 + rate), count sign changes, bisect the unique roots.
    x_grid = np.concatenate([np.linspace(math.log(1e-4), 0.0, 96, endpoint=False), np.linspace(0.0, math.log(1001.0), 160)])
    j = np.arange(n)
    on_grid = flows @ np.exp(-np.outer(j, x_grid))
    signs = np.sign(on_grid)
    roots = (signs[:, 1:] * signs[:, :-1] < 0).sum(axis=1)
    irr = np.full(P, np.nan)
    unique = np.flatnonzero(roots == 1)
    if unique.size:
        k = (signs[unique, 1:] * signs[unique, :-1] < 0).argmax(axis=1)
        lo, hi = x_grid[k], x_grid[k + 1]
        f_lo = on_grid[unique, k]
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            f_mid = (flows[unique] * np.exp(-np.outer(mid, j))).sum(axis=1)
            left = np.sign(f_mid) == np.sign(f_lo)
            lo, f_lo = np.where(left, mid, lo), np.where(left, f_mid, f_lo)
            hi = np.where(left, hi, mid)
        irr[unique] = np.exp(4 * 0.5 * (lo + hi)) - 1

    def payback(values):
        cumulative = np.cumsum(values, axis=1)
        negative = cumulative < 0
        last_negative = np.where(negative.any(axis=1), n - 1 - np.argmax(negative[:, ::-1], axis=1), -1)
        return np.where(last_negative < n - 1, last_negative + 1, np.nan)

    pv_capex = (d_capex * discount).sum(axis=1)
    total_capex = d_capex.sum(axis=1)
    operating = (d_fcf + d_capex).sum(axis=1)
    invested = np.cumsum(d_capex - d_dep + d_wc, axis=1)
    # Reported revenue is the plan world's: the capacity segment at its realized revenue.
    total = other + planw["ai_revenue"]
    scalars = {
        "revenue_total_final_year_rmb_bn": total[:, -4:].sum(axis=1),
        "revenue_total_cagr": (total[:, -1] / total[:, 0]) ** (4 / H) - 1,
        "revenue_total_cumulative_rmb_bn": total[:, 1:].sum(axis=1),
        "plan_npv_rmb_bn": npv,
        "plan_irr": irr,
        "plan_irr_root_count": roots.astype(float),
        "plan_payback_quarters": payback(d_fcf),
        "plan_discounted_payback_quarters": payback(d_fcf * discount),
        "plan_moic": np.where(total_capex > 0, operating / np.where(total_capex > 0, total_capex, 1), np.nan),
        "plan_profitability_index": np.where(pv_capex > 0, (npv + pv_capex) / np.where(pv_capex > 0, pv_capex, 1), np.nan),
        "plan_incremental_capex_rmb_bn": total_capex,
        "plan_terminal_value_pv_rmb_bn": terminal_value * discount[:, -1],
    }
    for year, start_j in enumerate(range(n_hist + 1, n - 3, 4), start=1):
        quarters = slice(start_j, start_j + 4)
        capital = invested[:, quarters].mean(axis=1)
        scalars[f"plan_roic_year_{year}"] = np.where(capital > 0, d_nopat[:, quarters].sum(axis=1) / np.where(capital > 0, capital, 1), np.nan)

    # Quarterly metrics, as quarterly.csv reports them (the plan world's revenue).
    quarterly = {"revenue_total_rmb_bn": total}
    for s, name in enumerate(names):
        quarterly[f"revenue_{name}_rmb_bn"] = planw["ai_revenue"] if s == ai else revenue[s]
    for name in ["total"] + names:
        level = quarterly[f"revenue_{name}_rmb_bn"]
        growth_yoy = np.full((P, Q), np.nan)
        growth_yoy[:, 4:] = level[:, 4:] / level[:, :-4] - 1
        quarterly[f"revenue_{name}_yoy_growth"] = growth_yoy
    quarterly["revenue_total_counterfactual_rmb_bn"] = cf["revenue"]
    quarterly["ai_demand_rmb_bn"] = planw["ai_revenue"] + planw["unmet"]
    for key in ("capex", "capacity", "utilization", "unmet", "depreciation", "ebita", "fcf"):
        quarterly[f"{key}_plan"] = planw[key]
        quarterly[f"{key}_counterfactual"] = cf[key]
    quarterly["ebita_margin"] = planw["ebita"] / planw["revenue"]
    quarterly["ebita_margin_counterfactual"] = cf["ebita"] / cf["revenue"]
    quarterly["incremental_fcf_rmb_bn"] = planw["fcf"] - cf["fcf"]
    for k, r in enumerate(regimes):
        quarterly[f"regime_{r}_probability"] = (regime == k).astype(float)
    for e, name in enumerate(events):
        quarterly[f"event_{name}_fired_share"] = (firings[e] > 0).astype(float)
        quarterly[f"event_{name}_firings"] = firings[e]
    return quarterly, scalars


def statistics(quarterly, scalars):
    """What quarterly.csv and summary.csv report: count, mean, sd, se and p1 ... p99 per
    quarter and metric; per scalar also P(< 0) and CVaR 5%."""
    out = {"quarterly": {}, "scalars": {}}
    for name, values in quarterly.items():
        defined = ~np.isnan(values[0])
        v = values[:, defined]
        out["quarterly"][name] = {
            "mean": v.mean(axis=0), "sd": v.std(axis=0, ddof=1),
            "quantiles": np.quantile(v, LEVELS, axis=0),
        }
    for name, values in scalars.items():
        v = np.sort(values[~np.isnan(values)])
        if v.size < 2:
            continue
        k = max(1, math.ceil(0.05 * v.size))
        out["scalars"][name] = {
            "count": int(v.size), "mean": float(v.mean()), "sd": float(v.std(ddof=1)),
            "se": float(v.std(ddof=1) / math.sqrt(v.size)),
            "quantiles": [float(q) for q in np.quantile(v, LEVELS)],
            "prob_negative": float((v < 0).mean()), "cvar5": float(v[:k].mean()),
        }
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenario", default=str(Path(__file__).resolve().parents[1] / "scenarios" / "replace_retirements.toml"))
    args = parser.parse_args()
    with open(args.scenario, "rb") as f:
        scenario = tomllib.load(f)
    if "extends" in scenario:
        raise SystemExit("numpy_base.py reads self-contained scenario files only (no `extends`)")
    started = time.perf_counter()
    quarterly, scalars = simulate(scenario, args.paths, args.seed)
    simulated = time.perf_counter()
    stats = statistics(quarterly, scalars)
    finished = time.perf_counter()
    print(json.dumps({
        "paths": args.paths,
        "quarterly_metrics": len(quarterly),
        "model_seconds": simulated - started,
        "statistics_seconds": finished - simulated,
        "seconds": finished - started,
        "scalars": stats["scalars"],
    }))


if __name__ == "__main__":
    main()
