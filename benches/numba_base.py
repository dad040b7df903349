#!/usr/bin/env python3
"""cloudcapex's base model (the investment-policy economics of scenarios/base.toml) written
the way a careful quant writes it in Numba: nopython per-path loops, a `prange` over blocks
of 1,024 paths, each path drawing its own numbers from numba's np.random (the engine uses
ChaCha8 streams, so the two agree statistically, not bit for bit). Equations: docs/model.md;
metrics: docs/outputs.md.

Three statistics modes (`--stats`):
  none       the model only; every value goes into a checksum so nothing is optimised away
  streaming  per quarterly cell: moments (Welford/Chan) and a DDSketch (alpha = 0.005, bucket
             index read from the float's bits), block-local, merged into the run's in block
             order; the values of a block are taken 64 paths at a time, cell-major
  exact      every path's quarterly values kept (paths x cells), np.quantile/mean/std at the end
Per-path scalars are kept one f64 per path in every mode (exact quantiles).

The sketch's dense bucket range per cell covers magnitudes 1e-9 .. 2^40; rarer buckets beyond
it go to an overflow list merged at the end, so quantiles keep the engine's guarantee for any
finite value.

Written from docs/model.md alone, it found two engine bugs, both fixed (discount spreads not
cleared between paths; a running sum of units in service leaving a phantom capacity).

Run: python numba_base.py --paths 100000 --seed 1 --threads 2 --stats streaming
     [--scenario scenarios/base.toml] [--quarterly-csv FILE] [--summary-csv FILE]
Prints one JSON object.
"""

import argparse
import json
import math
import os
import sys
import time
import tomllib

import numpy as np
import numba
from numba import njit, prange

BLOCK = 1024          # paths per block (the engine's BLOCK_SIZE)
BATCH = 64            # paths per statistics batch (the engine's STATS_BATCH)
LEVELS = np.array([0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99])
LEVEL_NAMES = ["p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99"]

# --- DDSketch constants (src/stats/sketch.rs) ------------------------------------------
ALPHA = 0.005
ZERO_THRESHOLD = 1e-9
BUCKET_WIDTH = 2.0 * ALPHA / (1.0 - ALPHA)
BUCKETS_PER_UNIT = 1.0 / BUCKET_WIDTH
SIGNIFICAND_MASK = (1 << 52) - 1
TWO_M52 = 2.0 ** -52
# Dense bucket range per sign: magnitudes 1e-9 .. 2^40 (linear log2 in [-30, 40)).
IDX_MIN = int(math.floor(-30.0 * BUCKETS_PER_UNIT)) - 1
IDX_MAX = int(math.floor(40.0 * BUCKETS_PER_UNIT)) + 1
NB = IDX_MAX - IDX_MIN + 1
OV_BLOCK = 1 << 16      # overflow buckets a block may hold
OV_RUN = 1 << 22        # ... and the run

# --- Parameter slots: index of every assumption in the per-path draw vector ------------
P_EXEC, P_UP_PROB, P_UP_SIZE, P_LEGACY = 0, 1, 2, 3
P_TARGET_UTIL, P_ADJUST, P_GATE_WIDTH, P_PREMIUM_HL = 4, 5, 6, 7
P_BUDGET, P_CF_BUDGET, P_PLAN_AFTER, P_NON_AI = 8, 9, 10, 11
P_MARKUP, P_MARKUP_HL, P_START_PREMIUM, P_SLOPE, P_MAX_PREMIUM, P_PREM_ADJ = 12, 13, 14, 15, 16, 17
P_ALI_SHARE, P_REST_START, P_REST_LONG, P_REST_HL = 18, 19, 20, 21
P_LOSS, P_RETURN = 22, 23
P_MAX_UTIL, P_START_UNMET, P_HW_DECLINE, P_PRICE_DECLINE = 24, 25, 26, 27
P_VAR, P_START_MARGIN, P_FIXED_INFL, P_TAX, P_WC, P_AI_VAR, P_AI_OPEX, P_CAP_COST = 28, 29, 30, 31, 32, 33, 34, 35
P_DISCOUNT, P_TERM_GROWTH, P_TERM_RONIC, P_REINVEST = 36, 37, 38, 39
P_DEMAND_ELAST, P_FIXED_ELAST = 40, 41
P_SEG = 42            # segment s field f at P_SEG + 7 s + f
SEG_FIELDS = ["start_revenue_rmb_bn", "initial_growth", "terminal_growth", "growth_half_life_quarters",
              "shock_persistence", "persistent_shock_sd", "iid_shock_sd"]

# Distribution kinds: fixed, normal(mean, sd), lognormal(mu, sigma), uniform(min, max),
# triangular(min, mode, max), scaled beta (min, width, alpha, beta; PERT is one).
D_FIXED, D_NORMAL, D_LOGNORMAL, D_UNIFORM, D_TRIANGULAR, D_BETA = 0, 1, 2, 3, 4, 5

LEVERS = ["revenue_level", "revenue_growth", "unit_cost", "capacity_additions", "price",
          "plan_size", "discount_rate", "market_tightness"]

# --- Integer configuration (ci[...]) -------------------------------------------------------
(CI_S, CI_AI, CI_C, CI_COMPUTE, CI_H, CI_Q, CI_FIRST, CI_VFIRST, CI_P0, CI_L, CI_UP_FROM,
 CI_HAS_UP, CI_K, CI_E, CI_NEFF, CI_HAS_RISK, CI_HAS_PRICING, CI_HAS_PLAN_AFTER, CI_HAS_AI_VAR,
 CI_HAS_REINVEST, CI_TV, CI_TV_METHOD, CI_HAS_RONIC, CI_NPP, CI_NQM, CI_NS, CI_NCELLS,
 CI_HAS_ELAST, CI_HP) = range(29)
NCI = 29
CF_TOTAL = 0

# Series of one world (ser[w, k, t]).
(S_REV, S_AIREV, S_CAPEX, S_CAP, S_UTIL, S_UNMET, S_DEP, S_EBITA, S_FCF, S_NOPAT, S_WC,
 S_USHARE, S_MSHARE, S_RET, S_PREM, S_PRICE, S_ORDERS, S_GATE, S_OPEX) = range(19)
NSER = 19

ECONOMICS_METRICS = [
    "revenue_total_counterfactual_rmb_bn", "ai_demand_rmb_bn", "capex_rmb_bn", "capex_counterfactual_rmb_bn",
    "ai_capacity_units", "ai_capacity_counterfactual_units", "ai_utilization", "ai_utilization_counterfactual",
    "ai_unmet_demand_rmb_bn", "ai_unmet_demand_counterfactual_rmb_bn", "depreciation_rmb_bn",
    "depreciation_counterfactual_rmb_bn", "ebita_rmb_bn", "ebita_counterfactual_rmb_bn", "ebita_margin",
    "ebita_margin_counterfactual", "fcf_rmb_bn", "fcf_counterfactual_rmb_bn", "incremental_fcf_rmb_bn"]
POLICY_METRICS = [
    "revenue_ai_counterfactual_rmb_bn", "ai_unmet_share", "ai_unmet_share_counterfactual", "ai_market_share",
    "ai_market_share_counterfactual", "ai_customer_retention", "ai_customer_retention_counterfactual",
    "ai_price_per_unit_rmb_bn", "ai_price_premium", "ai_price_premium_counterfactual", "ai_orders_units",
    "ai_orders_counterfactual_units", "ai_investment_gate", "ai_investment_gate_counterfactual", "ai_opex_rmb_bn"]
RETURN_SCALARS = [
    "plan_npv_rmb_bn", "plan_npv_excl_terminal_rmb_bn", "plan_irr", "plan_irr_root_count", "plan_mirr",
    "plan_payback_quarters", "plan_discounted_payback_quarters", "plan_moic", "plan_profitability_index",
    "plan_incremental_capex_rmb_bn", "plan_terminal_value_pv_rmb_bn", "plan_terminal_growth", "plan_terminal_ronic"]
PER_PATH_SCALARS = ["revenue_total_final_year_rmb_bn", "revenue_total_cagr", "plan_npv_rmb_bn", "plan_irr",
                    "plan_payback_quarters", "plan_moic", "plan_incremental_capex_rmb_bn"]


# =========================================================================================
# Scenario
# =========================================================================================

class ScenarioError(SystemExit):
    pass


def refuse(msg):
    raise ScenarioError(f"numba_base.py: {msg}")


def quarter_index(label):
    year, q = label.split("Q")
    return int(year) * 4 + int(q) - 1


def quarter_label(index):
    return f"{index // 4}Q{index % 4 + 1}"


def check_keys(table, allowed, where):
    for k in table:
        if k not in allowed:
            refuse(f"[{where}] key {k!r} is not implemented by this twin")


def param_spec(value, where):
    """(kind, p0, p1, p2, p3) of a number or a distribution table."""
    if isinstance(value, bool):
        refuse(f"{where}: expected a number or a distribution")
    if isinstance(value, (int, float)):
        return (D_FIXED, float(value), 0.0, 0.0, 0.0)
    if not isinstance(value, dict) or "dist" not in value:
        refuse(f"{where}: expected a number or a distribution table")
    kind = value["dist"]
    keys = set(value) - {"dist"}
    if kind == "normal" and keys == {"mean", "sd"}:
        return (D_NORMAL, value["mean"], value["sd"], 0.0, 0.0)
    if kind == "lognormal" and keys == {"mu", "sigma"}:
        return (D_LOGNORMAL, value["mu"], value["sigma"], 0.0, 0.0)
    if kind == "uniform" and keys == {"min", "max"}:
        return (D_UNIFORM, value["min"], value["max"], 0.0, 0.0)
    if kind == "triangular" and keys == {"min", "mode", "max"}:
        return (D_TRIANGULAR, value["min"], value["mode"], value["max"], 0.0)
    if kind == "pert" and keys == {"min", "mode", "max"}:
        lo, mode, hi = value["min"], value["mode"], value["max"]
        width = hi - lo
        return (D_BETA, lo, width, 1 + 4 * (mode - lo) / width, 1 + 4 * (hi - mode) / width)
    if kind == "beta" and keys <= {"alpha", "beta", "min", "max"} and {"alpha", "beta"} <= keys:
        lo, hi = value.get("min", 0.0), value.get("max", 1.0)
        return (D_BETA, lo, hi - lo, value["alpha"], value["beta"])
    refuse(f"{where}: distribution {value!r} is not implemented by this twin")


def support(spec):
    kind, a, b, c, d = spec
    if kind == D_FIXED:
        return a, a
    if kind == D_UNIFORM:
        return a, b
    if kind == D_TRIANGULAR:
        return a, c
    if kind == D_BETA:
        return a, a + b
    return -math.inf, math.inf


def build_model(scenario):
    """Flattens a scenario into the arrays the kernels read; returns (cfg tuple, info dict)."""
    check_keys(scenario, {"description", "name", "simulation", "time", "revenue", "plan", "legacy",
                          "investment", "pricing", "customers", "capacity", "costs", "valuation", "risk",
                          "screen", "consensus"},
               "top level")
    # [screen.ranges] documents ranges for `sensitivity screen` and [consensus.*] published
    # figures set beside the outputs; neither changes a simulated number
    # (docs/scenario-format.md), so the twin accepts and ignores them.
    if "extends" in scenario:
        refuse("`extends` is not implemented (pass a self-contained scenario)")
    tm = scenario.get("time", {})
    check_keys(tm, {"start_quarter", "horizon_quarters"}, "time")
    start = quarter_index(tm.get("start_quarter", "2026Q1"))
    H = int(tm.get("horizon_quarters", 40))
    Q = H + 1
    if H < 12:
        refuse("horizon below 12 quarters is not implemented")

    rev = scenario["revenue"]
    check_keys(rev, {"segments", "correlation", "seasonality"}, "revenue")
    names = sorted(rev["segments"])          # the engine orders segments by name
    S = len(names)
    seasonality = rev.get("seasonality", {})
    check_keys(seasonality, {"q1", "q2", "q3", "q4"}, "revenue.seasonality")
    seas4 = np.array([float(seasonality.get(f"q{k}", 1.0)) for k in range(1, 5)])
    corr = np.eye(S)
    for a, row in rev.get("correlation", {}).items():
        for b, value in row.items():
            i, j = names.index(a), names.index(b)
            corr[i, j] = corr[j, i] = value
    chol = np.linalg.cholesky(corr)

    plan = scenario.get("plan")
    if plan is None:
        refuse("a scenario without [plan] is not implemented (benches/numpy_base.py covers revenue-only runs)")
    if "investment" not in scenario:
        refuse("a scenario without [investment] (the pre-policy rule) is not implemented; use benches/numpy_base.py")
    if "maintenance" in scenario:
        refuse("[maintenance] applies only without [investment]")
    check_keys(plan, {"total_rmb_bn", "start_quarter", "length_quarters", "profile", "weights",
                      "execution_multiplier", "actual_spend_rmb_bn", "upsizing", "assets"}, "plan")
    if "assets" not in plan:
        refuse("default asset classes are not implemented: give [plan.assets]")
    classes = sorted(plan["assets"])
    C = len(classes)
    for c in classes:
        check_keys(plan["assets"][c], {"share", "useful_life_quarters", "in_service_lag_quarters"}, f"plan.assets.{c}")
    share = np.array([float(plan["assets"][c]["share"]) for c in classes])
    life = np.array([int(plan["assets"][c]["useful_life_quarters"]) for c in classes], dtype=np.int64)
    lag = np.array([int(plan["assets"][c].get("in_service_lag_quarters", 0)) for c in classes], dtype=np.int64)
    cap = scenario.get("capacity", {})
    check_keys(cap, {"segment", "asset_class", "max_utilization", "start_unmet_demand_share",
                     "hardware_cost_decline", "price_decline"}, "capacity")
    compute = classes.index(cap.get("asset_class", "ai_compute"))
    ai = names.index(cap.get("segment", "ai"))
    if lag[compute] < 1:
        refuse("a compute lag of 0 is not implemented")
    legacy = scenario.get("legacy", {})
    check_keys(legacy, {"capex_rmb_bn_per_quarter", "compute_share"}, "legacy")
    if "compute_share" in legacy:
        s_l = float(legacy["compute_share"])
        legacy_share = np.array([s_l if k == compute else
                                 (share[k] * (1 - s_l) / (1 - share[compute]) if share[compute] < 1 else 0.0)
                                 for k in range(C)])
    else:
        legacy_share = share.copy()

    p0 = quarter_index(plan.get("start_quarter", "2025Q1")) - start
    L = int(plan.get("length_quarters", 12))
    if p0 > 0:
        refuse("a plan starting after the start quarter is not implemented")
    profile = plan.get("profile", "flat")
    if profile == "flat":
        weights = np.ones(L)
    elif profile == "front_loaded":
        weights = np.array([float(L - k) for k in range(L)])
    elif profile == "back_loaded":
        weights = np.array([float(k + 1) for k in range(L)])
    elif profile == "custom":
        weights = np.array([float(plan["weights"][quarter_label(start + p0 + k)]) for k in range(L)])
    else:
        refuse(f"plan profile {profile!r}")
    total = float(plan.get("total_rmb_bn", 380.0))
    actual = plan.get("actual_spend_rmb_bn", {})
    hist_spend = np.full(L, np.nan)
    for k in range(L):
        if p0 + k <= 0:
            hist_spend[k] = float(actual.get(quarter_label(start + p0 + k),
                                             total * weights[k] / weights.sum() if weights.sum() > 0 else 0.0))
    span = int((life + lag).max())
    first = min(p0, 0) - span - 1
    vfirst = min(p0, 0)
    T = H - first + 1

    # --- parameter table
    NPP = P_SEG + 7 * S
    risk = scenario.get("risk")
    has_risk = risk is not None and risk.get("enabled", True)
    events = sorted(risk.get("events", {})) if has_risk else []
    E = len(events)
    dk = np.zeros(NPP + E, dtype=np.int64)
    dp = np.zeros((NPP + E, 4))
    lows = {}

    def put(k, value, where):
        spec = param_spec(value, where)
        dk[k] = spec[0]
        dp[k] = spec[1:]
        lows[k] = support(spec)

    put(P_EXEC, plan.get("execution_multiplier", 1.0), "plan.execution_multiplier")
    up = plan.get("upsizing")
    if up is not None:
        check_keys(up, {"probability", "size_rmb_bn", "quarter"}, "plan.upsizing")
        put(P_UP_PROB, up["probability"], "plan.upsizing.probability")
        put(P_UP_SIZE, up["size_rmb_bn"], "plan.upsizing.size_rmb_bn")
        up_from = quarter_index(up["quarter"]) - (start + p0)
    else:
        put(P_UP_PROB, 0.0, "-")
        put(P_UP_SIZE, 0.0, "-")
        up_from = 0
    put(P_LEGACY, legacy.get("capex_rmb_bn_per_quarter", 5.0), "legacy.capex_rmb_bn_per_quarter")
    inv = scenario["investment"]
    inv_defaults = {"target_utilization": 0.80, "adjustment_quarters": 4, "gate_width": 0.4,
                    "premium_half_life_quarters": 4, "budget_share_of_revenue": 0.5,
                    "counterfactual_budget_share_of_revenue": 0.2, "non_ai_capex_share_of_revenue": 0.08}
    check_keys(inv, set(inv_defaults) | {"plan_world_budget_share_after_plan", "planning_horizon_quarters"},
               "investment")
    for k, key in [(P_TARGET_UTIL, "target_utilization"), (P_ADJUST, "adjustment_quarters"),
                   (P_GATE_WIDTH, "gate_width"), (P_PREMIUM_HL, "premium_half_life_quarters"),
                   (P_BUDGET, "budget_share_of_revenue"), (P_CF_BUDGET, "counterfactual_budget_share_of_revenue"),
                   (P_NON_AI, "non_ai_capex_share_of_revenue")]:
        put(k, inv.get(key, inv_defaults[key]), f"investment.{key}")
    has_plan_after = "plan_world_budget_share_after_plan" in inv
    put(P_PLAN_AFTER, inv.get("plan_world_budget_share_after_plan", 0.0), "investment.plan_world_budget_share_after_plan")
    # H_p: the order target covers the peak forecast of the H_p quarters from entry into
    # service (1, the default, is the quarter of entry: the older rule).
    hp = inv.get("planning_horizon_quarters", 1)
    if isinstance(hp, bool) or not isinstance(hp, int) or not 1 <= hp <= 8:
        refuse("investment.planning_horizon_quarters: expected an integer in [1, 8]")
    pricing = scenario.get("pricing")
    has_pricing = pricing is not None
    pr_defaults = {"markup": 0.1, "markup_half_life_quarters": 8, "start_premium": 1.0, "premium_slope": 1.2,
                   "max_premium": 3.0, "premium_adjustment": 0.5, "alibaba_share": 0.358,
                   "rest_of_market_start_unmet_share": 0.2, "rest_of_market_long_run_unmet_share": 0.0,
                   "rest_of_market_half_life_quarters": 6}
    # (demand_price_elasticity has no default: absent is the older rule, not a number.)
    # Without [pricing]: PricingDraw::none() (no premium, base price at the calibrated start).
    pr_none = {"markup": 0.0, "markup_half_life_quarters": 1.0, "start_premium": 1.0, "premium_slope": 0.0,
               "max_premium": 1.0, "premium_adjustment": 1.0, "alibaba_share": 1.0,
               "rest_of_market_start_unmet_share": 0.0, "rest_of_market_long_run_unmet_share": 0.0,
               "rest_of_market_half_life_quarters": 1.0}
    if has_pricing:
        check_keys(pricing, set(pr_defaults) | {"demand_price_elasticity"}, "pricing")
    has_elast = has_pricing and "demand_price_elasticity" in pricing
    put(P_DEMAND_ELAST, pricing["demand_price_elasticity"] if has_elast else 0.0, "pricing.demand_price_elasticity")
    for k, key in zip(range(P_MARKUP, P_REST_HL + 1), pr_defaults):
        put(k, (pricing.get(key, pr_defaults[key]) if has_pricing else pr_none[key]), f"pricing.{key}")
    cust = scenario.get("customers")
    if cust is not None:
        check_keys(cust, {"loss_rate", "return_rate"}, "customers")
        put(P_LOSS, cust.get("loss_rate", 0.25), "customers.loss_rate")
        put(P_RETURN, cust.get("return_rate", 0.05), "customers.return_rate")
    else:
        put(P_LOSS, 0.0, "-")
        put(P_RETURN, 0.0, "-")
    put(P_MAX_UTIL, cap.get("max_utilization", 0.85), "capacity.max_utilization")
    put(P_START_UNMET, cap.get("start_unmet_demand_share", 0.15), "capacity.start_unmet_demand_share")
    put(P_HW_DECLINE, cap.get("hardware_cost_decline", 0.15), "capacity.hardware_cost_decline")
    put(P_PRICE_DECLINE, cap.get("price_decline", 0.10), "capacity.price_decline")
    costs = scenario.get("costs", {})
    co_defaults = {"variable_cost_share": 0.6, "start_ebita_margin": 0.09, "fixed_cost_inflation": 0.02,
                   "tax_rate": 0.15, "working_capital_share": 0.05, "ai_variable_cost_share": 0.0,
                   "ai_opex_rate": 0.0, "capacity_cost_rate": 0.0}
    check_keys(costs, set(co_defaults) | {"fixed_cost_revenue_elasticity"}, "costs")
    for k, key in zip(range(P_VAR, P_CAP_COST + 1), co_defaults):
        put(k, costs.get(key, co_defaults[key]), f"costs.{key}")
    put(P_FIXED_ELAST, costs.get("fixed_cost_revenue_elasticity", 0.0), "costs.fixed_cost_revenue_elasticity")
    has_ai_var = "ai_variable_cost_share" in costs
    val = scenario.get("valuation", {})
    check_keys(val, {"discount_rate", "terminal_value", "terminal_method", "terminal_growth", "terminal_ronic",
                     "reinvestment_rate", "trailing_revenue_rmb_bn", "shares_outstanding_bn",
                     "forward_value"}, "valuation")
    # The enterprise value, values per share and the forward value (a third, stopped world)
    # are per-path scalars of the engine that no quarterly metric depends on; this twin
    # computes the plan and counterfactual worlds the agreement check compares, and not
    # those scalars (docs/performance.md says so beside the timings).
    put(P_DISCOUNT, val.get("discount_rate", 0.09), "valuation.discount_rate")
    put(P_TERM_GROWTH, val.get("terminal_growth", 0.02), "valuation.terminal_growth")
    has_ronic = "terminal_ronic" in val
    put(P_TERM_RONIC, val.get("terminal_ronic", 0.0), "valuation.terminal_ronic")
    has_reinvest = "reinvestment_rate" in val
    put(P_REINVEST, val.get("reinvestment_rate", 0.0), "valuation.reinvestment_rate")
    tv_method = {"value_driver": 0, "gordon": 1}.get(val.get("terminal_method", "value_driver"))
    if tv_method is None:
        refuse(f"valuation.terminal_method {val['terminal_method']!r}")
    for s, name in enumerate(names):
        seg = rev["segments"][name]
        check_keys(seg, set(SEG_FIELDS) | {"description"}, f"revenue.segments.{name}")
        for f, field in enumerate(SEG_FIELDS):
            default = 0.0 if field in ("shock_persistence", "persistent_shock_sd", "iid_shock_sd") else None
            value = seg.get(field, default)
            if value is None:
                refuse(f"revenue.segments.{name}.{field} is required")
            put(P_SEG + 7 * s + f, value, f"revenue.segments.{name}.{field}")

    # --- risk
    if has_risk:
        check_keys(risk, {"enabled", "regimes", "events", "centre_growth_shifts"}, "risk")
        regimes = sorted(risk["regimes"])
    else:
        regimes = []
    K = len(regimes)
    init_cdf = np.zeros(max(K, 1))
    trans_cdf = np.zeros((max(K, 1), max(K, 1)))
    gshift = np.zeros((max(K, 1), S))
    vscale = np.ones(max(K, 1))
    dspread = np.zeros(max(K, 1))
    for i, r in enumerate(regimes):
        reg = risk["regimes"][r]
        check_keys(reg, {"description", "initial_probability", "transition", "growth_shift", "volatility_scale",
                         "discount_spread"}, f"risk.regimes.{r}")
        init_cdf[i] = reg.get("initial_probability", 0.0)
        for j, r2 in enumerate(regimes):
            trans_cdf[i, j] = reg.get("transition", {}).get(r2, 0.0)
        for s, name in enumerate(names):
            gshift[i, s] = reg.get("growth_shift", {}).get(name, 0.0) / 4.0
        vscale[i] = reg.get("volatility_scale", 1.0)
        dspread[i] = reg.get("discount_spread", 0.0)
    # Centred growth shifts (docs/model.md, "Risk"): each quarter's mean shift under
    # pi_t = pi_0 P^t, known before any path is drawn, subtracted from the regime's.
    gcentre = np.zeros((S, Q))
    centre = risk.get("centre_growth_shifts", False) if has_risk else False
    if not isinstance(centre, bool):
        refuse("risk.centre_growth_shifts: expected true or false")
    if K and centre:
        pi = init_cdf[:K].copy()
        for t in range(Q):
            if t >= 1:
                gcentre[:, t] = pi @ gshift[:K]
            pi = pi @ trans_cdf[:K, :K]
    if K:
        init_cdf = np.cumsum(init_cdf)
        init_cdf[K - 1] = np.inf
        trans_cdf = np.cumsum(trans_cdf, axis=1)
        trans_cdf[:, K - 1] = np.inf
    hazard = np.zeros((max(E, 1), max(K, 1)))
    repeatable = np.ones(max(E, 1), dtype=np.int64)
    eff = []
    for e, name in enumerate(events):
        ev = risk["events"][name]
        check_keys(ev, {"description", "hazard", "repeatable", "severity", "effects"}, f"risk.events.{name}")
        for i, r in enumerate(regimes):
            hazard[e, i] = ev.get("hazard", {}).get(r, 0.0)
        repeatable[e] = int(ev.get("repeatable", True))
        put(NPP + e, ev.get("severity", 1.0), f"risk.events.{name}.severity")
        for ename in ev.get("effects", {}):        # order is immaterial: effects commute
            x = ev["effects"][ename]
            check_keys(x, {"lever", "segment", "size", "half_life_quarters"}, f"risk.events.{name}.effects.{ename}")
            if x["lever"] not in LEVERS:
                refuse(f"lever {x['lever']!r}")
            lever = LEVERS.index(x["lever"])
            if lever == 7 and not has_pricing:
                refuse("market_tightness needs [pricing]")
            hl = x.get("half_life_quarters")
            eff.append((e, lever, names.index(x["segment"]) if "segment" in x else 0, float(x["size"]),
                        1.0 if hl is None else 0.5 ** (1.0 / hl)))
    NEFF = len(eff)
    eff_i = np.array([[a, b, c] for a, b, c, _, _ in eff] or [[0, 0, 0]], dtype=np.int64)
    eff_f = np.array([[d, g] for _, _, _, d, g in eff] or [[0.0, 1.0]])

    # --- metrics
    qm = ["revenue_total_rmb_bn"] + [f"revenue_{s}_rmb_bn" for s in names]
    qm += ["revenue_total_yoy_growth"] + [f"revenue_{s}_yoy_growth" for s in names]
    metric_first = [0] * (S + 1) + [4] * (S + 1)
    qm += ECONOMICS_METRICS + POLICY_METRICS
    qm += [f"regime_{r}_probability" for r in regimes]
    for e in events:
        qm += [f"event_{e}_fired_share", f"event_{e}_firings"]
    metric_first += [0] * (len(qm) - len(metric_first))
    sm = ["revenue_total_final_year_rmb_bn"] + [f"revenue_{s}_final_year_rmb_bn" for s in names]
    sm += ["revenue_total_cagr", "revenue_total_cumulative_rmb_bn"] + RETURN_SCALARS
    sm += [f"plan_roic_year_{k}" for k in range(1, H // 4 + 1)]
    sm += ["ai_price_to_user_cost_start", "ai_user_cost_start_rmb_bn"]
    for e in events:
        sm += [f"plan_npv_given_{e}_fired_rmb_bn", f"plan_npv_given_{e}_not_fired_rmb_bn"]

    # Refuse what the validation would (so the kernels never meet it silently).
    g_hi = support((dk[P_TERM_GROWTH],) + tuple(dp[P_TERM_GROWTH]))[1]
    r_lo = support((dk[P_DISCOUNT],) + tuple(dp[P_DISCOUNT]))[0]
    if g_hi >= r_lo:
        refuse("terminal growth must stay below the discount rate on every support point")

    ci = np.zeros(NCI, dtype=np.int64)
    ci[CI_S], ci[CI_AI], ci[CI_C], ci[CI_COMPUTE], ci[CI_H], ci[CI_Q] = S, ai, C, compute, H, Q
    ci[CI_FIRST], ci[CI_VFIRST], ci[CI_P0], ci[CI_L] = first, vfirst, p0, L
    ci[CI_UP_FROM], ci[CI_HAS_UP], ci[CI_K], ci[CI_E], ci[CI_NEFF] = up_from, int(up is not None), K, E, NEFF
    ci[CI_HAS_RISK], ci[CI_HAS_PRICING], ci[CI_HAS_PLAN_AFTER] = int(has_risk), int(has_pricing), int(has_plan_after)
    ci[CI_HAS_AI_VAR], ci[CI_HAS_REINVEST] = int(has_ai_var), int(has_reinvest)
    ci[CI_TV], ci[CI_TV_METHOD], ci[CI_HAS_RONIC] = int(val.get("terminal_value", True)), tv_method, int(has_ronic)
    ci[CI_NPP], ci[CI_NQM], ci[CI_NS], ci[CI_NCELLS] = NPP, len(qm), len(sm), len(qm) * Q
    ci[CI_HAS_ELAST], ci[CI_HP] = int(has_elast), hp
    cfv = np.array([total])
    maxlag = int(lag.max())
    seas_t = np.array([seas4[(start % 4 + t) % 4] for t in range(Q + maxlag + hp)])
    # IRR grid in x = ln(1 + quarterly rate) over [-0.9999, 1000], dense (0.0025) near 0 where
    # close pairs of roots occur on this model's flows (numpy_base's 256-point grid missed
    # about half of them: plan_irr_root_count 1.0062 against the engine's 1.0123).
    x_grid = np.concatenate([np.linspace(math.log(1e-4), -0.3, 96, endpoint=False),
                             np.linspace(-0.3, 0.3, 240, endpoint=False),
                             np.linspace(0.3, math.log(1001.0), 96)])
    cfg = (dk, dp, ci, cfv, seas_t, chol, share, legacy_share, life, lag, weights, hist_spend,
           init_cdf, trans_cdf, gshift, vscale, dspread, hazard, repeatable, eff_i, eff_f,
           np.array(metric_first, dtype=np.int64), x_grid, np.exp(-x_grid), gcentre)
    info = dict(quarterly_metrics=qm, scalar_metrics=sm, quarters=Q, start=start, T=T)
    return cfg, info


# =========================================================================================
# The model: one path (nopython)
# =========================================================================================

@njit(cache=True)
def draw(kind, a, b, c, d):
    if kind == D_FIXED:
        return a
    if kind == D_NORMAL:
        return a + b * np.random.standard_normal()
    if kind == D_LOGNORMAL:
        return math.exp(a + b * np.random.standard_normal())
    if kind == D_UNIFORM:
        return a + (b - a) * np.random.random()
    if kind == D_TRIANGULAR:
        u = np.random.random()
        if u < (b - a) / (c - a):
            return a + math.sqrt(u * (c - a) * (b - a))
        return c - math.sqrt((1.0 - u) * (c - a) * (c - b))
    return a + b * np.random.beta(c, d)


@njit(cache=True)
def window_sum(y, lag, life):
    """sum_{j = lag}^{lag + life - 1} y^j."""
    if abs(y - 1.0) < 1e-12:
        return float(life)
    return y ** lag * (1.0 - y ** life) / (1.0 - y)


@njit(cache=True)
def quarterly_rate(annual):
    return (1.0 + annual) ** 0.25 - 1.0


@njit(cache=True)
def npv_at(flows, n, x):
    """sum_j flows[j] e^{-j x} by Horner in v = e^{-x}."""
    v = math.exp(-x)
    acc = 0.0
    for j in range(n - 1, -1, -1):
        acc = acc * v + flows[j]
    return acc


@njit(cache=True)
def x_grid_len(cfg):
    return cfg[22].shape[0]


@njit(cache=True)
def make_workspace(cfg):
    ci = cfg[2]
    S, C, Q, E, K = ci[CI_S], ci[CI_C], ci[CI_Q], ci[CI_E], ci[CI_K]
    T = ci[CI_H] - ci[CI_FIRST] + 1
    nh = -ci[CI_VFIRST]
    n = nh + Q
    NP = ci[CI_NPP] + E
    return (np.zeros(NP),                                  # pv
            np.zeros(Q, dtype=np.int64),                   # regime
            np.zeros((max(E, 1), Q), dtype=np.int64),      # firings
            np.zeros(max(E, 1), dtype=np.int64),           # counts
            np.zeros(max(E, 1) * Q, dtype=np.int64),       # fired event
            np.zeros(max(E, 1) * Q, dtype=np.int64),       # fired quarter
            np.zeros(max(E, 1) * Q),                       # fired severity
            np.zeros((S, Q)),                              # drift shift
            np.zeros((S, Q)),                              # level shift
            np.zeros((7, Q)),                              # vol, unit cost, capacity, price, plan size, spread, tightness
            np.zeros((S, Q)),                              # revenue
            np.zeros((4, S)),                              # z, w, eta, eps
            np.zeros((5, S)),                              # log level, gap, decay, state, terminal
            np.zeros((2, Q)),                              # demand, other
            np.zeros(max(ci[CI_L], 1)),                    # plan spend
            np.zeros((C, T)),                              # capex by class and timeline quarter
            np.zeros(T),                                   # compute units bought
            np.zeros(C),                                   # running depreciation
            np.zeros(C),                                   # capex by class of a quarter
            np.zeros((2, NSER, Q)),                        # series by world
            np.zeros((2, 2, max(nh, 1))),                  # history capex, depreciation by world
            np.zeros((6, n)),                              # incremental capex, fcf, nopat, dep, wc, spread
            np.zeros((4, n)),                              # discount factors, invested, flows, discounted fcf
            np.zeros(C),                                   # saved depreciation state
            np.zeros((2, x_grid_len(cfg))),                # IRR grid: powers, NPVs
            np.zeros(8),                                   # small scratch: capex state, trailing revenue
            np.zeros((2, Q)),                              # deseasonalized demand, forecast growth
            np.zeros((2, 8)))                              # trend price terms lambda + k quarters ahead


@njit(cache=True)
def plan_floor(spend, budgeted, share, sigma, unit_cost, n_units, C, cbc):
    """The plan world's floor: a plan quarter's spend above the budgeted capex replaces it,
    split by class share, and sets the units ordered (docs/model.md); else n_units stays."""
    if spend > budgeted:
        for c in range(C):
            cbc[c] = spend * share[c]
        return spend * sigma / unit_cost
    return n_units


@njit(cache=True)
def allocate(n_units, unit_cost, non_ai, share, sigma, compute, C, capex_by_class):
    """Capex by class of a quarter (policy_world.rs `allocate`): `n_units` loaded compute
    units at `unit_cost`, each class in its plan share, and the non-AI requirement `non_ai`
    on the non-compute classes in proportion to their shares. Returns the total."""
    total = 0.0
    for c in range(C):
        loaded = n_units * unit_cost * share[c] / sigma
        if sigma >= 1.0:
            capex_by_class[c] = loaded + non_ai
        elif c == compute:
            capex_by_class[c] = loaded
        else:
            capex_by_class[c] = loaded + non_ai * share[c] / (1.0 - sigma)
        total += capex_by_class[c]
    return total


@njit(cache=True)
def book(i, capex, units, dep, life, lag, compute, C, state):
    """Vintage accounting of timeline index i (capex.rs `book`): state = [units in service, unit cost,
    step]; returns capex, depreciation, units in service, compute and total gross book value."""
    for c in range(C):
        entering = i - lag[c]
        if entering >= 0:
            dep[c] += capex[c, entering] / life[c]
            leaving = entering - life[c]
            if leaving >= 0:
                dep[c] -= capex[c, leaving] / life[c]
    # Units in service: the sum over the vintages in service (docs/model.md, Capacity), as
    # the engine sums them (a running sum leaves a rounding residue once all have retired).
    newest = i - lag[compute]
    state[0] = 0.0
    if newest >= 0:
        for v in range(max(newest + 1 - life[compute], 0), newest + 1):
            state[0] += units[v]
    state[1] *= state[2]
    cx = 0.0
    dsum = 0.0
    bv = 0.0
    for c in range(C):
        cx += capex[c, i]
        dsum += dep[c]
        bv += dep[c] * life[c]
    return cx, max(dsum, 0.0), max(state[0], 0.0), max(dep[compute] * life[compute], 0.0), max(bv, 0.0)


@njit(cache=True)
def simulate_path(cfg, ws, q, sc):
    """One path, both worlds: writes quarterly values q[m * Q + t] (NaN where undefined) and the
    per-path scalars sc[k]."""
    (dk, dp, ci, cfv, seas, chol, share, legacy_share, life, lag, weights, hist_spend,
     init_cdf, trans_cdf, gshift, vscale, dspread, hazard, repeatable, eff_i, eff_f,
     metric_first, x_grid, v_grid, gcentre) = cfg
    (pv, regime, firings, counts, fired_e, fired_t, fired_sev, drift_shift, level_shift, lev,
     rev, shocks, rstate, dem, plan_spend, capex, units, dep, cbc, ser, hist, inc, val, dep_saved,
     grid, scratch, forecast, ahead) = ws
    S, ai, C, comp, H, Q = ci[CI_S], ci[CI_AI], ci[CI_C], ci[CI_COMPUTE], ci[CI_H], ci[CI_Q]
    first, vfirst, p0, L = ci[CI_FIRST], ci[CI_VFIRST], ci[CI_P0], ci[CI_L]
    K, E, NEFF = ci[CI_K], ci[CI_E], ci[CI_NEFF]
    has_risk = ci[CI_HAS_RISK] == 1
    NPP = ci[CI_NPP]

    # ---- Parameter uncertainty: every assumption drawn once per path.
    for k in range(NPP):
        pv[k] = draw(dk[k], dp[k, 0], dp[k, 1], dp[k, 2], dp[k, 3])

    # ---- Risk: regimes, events, lever series (risk.rs).
    lev[0, :] = 1.0   # volatility scale
    lev[1, :] = 1.0   # unit cost factor
    lev[2, :] = 1.0   # capacity additions factor
    lev[3, :] = 1.0   # price factor
    lev[4, :] = 1.0   # plan size factor
    lev[5, :] = 0.0   # discount spread
    lev[6, :] = 0.0   # market tightness
    drift_shift[:, :] = 0.0
    level_shift[:, :] = 0.0
    nfired = 0
    if has_risk:
        u = np.random.random()
        r = 0
        while r < K - 1 and not (u < init_cdf[r]):
            r += 1
        regime[0] = r
        for e in range(E):
            counts[e] = 0
            firings[e, 0] = 0
        for t in range(1, Q):
            u = np.random.random()
            prev = r
            r = 0
            while r < K - 1 and not (u < trans_cdf[prev, r]):
                r += 1
            regime[t] = r
            for e in range(E):
                u = np.random.random()
                if u < hazard[e, r] and (repeatable[e] == 1 or counts[e] == 0):
                    counts[e] += 1
                    k = NPP + e
                    fired_e[nfired] = e
                    fired_t[nfired] = t
                    fired_sev[nfired] = draw(dk[k], dp[k, 0], dp[k, 1], dp[k, 2], dp[k, 3])
                    nfired += 1
                firings[e, t] = counts[e]
            for s in range(S):
                drift_shift[s, t] = gshift[r, s] - gcentre[s, t]
            lev[0, t] = vscale[r]
            lev[5, t] = dspread[r]
        for f in range(nfired):
            e = fired_e[f]
            for x in range(NEFF):
                if eff_i[x, 0] != e:
                    continue
                lever, seg = eff_i[x, 1], eff_i[x, 2]
                size = eff_f[x, 0] * fired_sev[f]
                for t in range(fired_t[f], Q):
                    if lever == 0:
                        level_shift[seg, t] += math.log1p(size)
                    elif lever == 1:
                        drift_shift[seg, t] += size / 4.0
                    elif lever == 2:
                        lev[1, t] *= 1.0 + size
                    elif lever == 3:
                        lev[2, t] *= 1.0 + size
                    elif lever == 4:
                        lev[3, t] *= 1.0 + size
                    elif lever == 5:
                        lev[4, t] *= 1.0 + size
                    elif lever == 6:
                        lev[5, t] += size
                    else:
                        lev[6, t] += size
                    size *= eff_f[x, 1]

    # ---- Revenue (revenue.rs).
    for s in range(S):
        base = P_SEG + 7 * s
        rstate[0, s] = math.log(pv[base] / seas[0])
        rstate[4, s] = math.log(1.0 + pv[base + 2]) / 4.0
        rstate[1, s] = math.log(1.0 + pv[base + 1]) / 4.0 - rstate[4, s]
        rstate[2, s] = math.exp(-math.log(2.0) / pv[base + 3])
        rstate[3, s] = 0.0
        rev[s, 0] = pv[base]
    for t in range(1, Q):
        for s in range(S):
            shocks[0, s] = np.random.standard_normal()
        for s in range(S):
            shocks[1, s] = np.random.standard_normal()
        for i in range(S):
            a = 0.0
            b = 0.0
            for j in range(i + 1):
                a += chol[i, j] * shocks[0, j]
                b += chol[i, j] * shocks[1, j]
            shocks[2, i] = a
            shocks[3, i] = b
        vol = lev[0, t]
        for s in range(S):
            base = P_SEG + 7 * s
            drift = rstate[4, s] + rstate[1, s] + drift_shift[s, t]
            rstate[1, s] *= rstate[2, s]
            rstate[3, s] = pv[base + 4] * rstate[3, s] + vol * pv[base + 5] * shocks[2, s]
            rstate[0, s] += drift + rstate[3, s] + vol * pv[base + 6] * shocks[3, s]
            rev[s, t] = math.exp(rstate[0, s] + level_shift[s, t]) * seas[t]

    # ---- Economics of both worlds under the investment policy (policy_world.rs).
    for t in range(Q):
        dem[0, t] = rev[ai, t]
        o = 0.0
        for s in range(S):
            if s != ai:
                o += rev[s, t]
        dem[1, t] = o
    D0 = dem[0, 0]
    R0 = D0 + dem[1, 0]
    g0_ai = pv[P_SEG + 7 * ai + 1]

    rate = pv[P_DISCOUNT]
    g_ceiling = pv[P_TERM_GROWTH]
    reinvest = pv[P_REINVEST] if ci[CI_HAS_REINVEST] == 1 else rate
    # Capex draw (capex.rs `draw`).
    step = (1.0 - pv[P_HW_DECLINE]) ** 0.25
    spent = 0.0
    future_w = 0.0
    for k in range(L):
        if not math.isnan(hist_spend[k]):
            spent += hist_spend[k]
        else:
            future_w += weights[k]
    remaining = max(cfv[CF_TOTAL] * pv[P_EXEC] - spent, 0.0)
    for k in range(L):
        if not math.isnan(hist_spend[k]):
            plan_spend[k] = hist_spend[k]
        elif future_w > 0.0:
            plan_spend[k] = remaining * weights[k] / future_w
        else:
            plan_spend[k] = 0.0
    if ci[CI_HAS_UP] == 1:
        u = np.random.random()
        if u < pv[P_UP_PROB]:
            wsum = 0.0
            for k in range(ci[CI_UP_FROM], L):
                wsum += weights[k]
            for k in range(ci[CI_UP_FROM], L):
                plan_spend[k] += pv[P_UP_SIZE] * weights[k] / wsum
    max_util = pv[P_MAX_UTIL]
    demand_scale = 1.0 / (1.0 - pv[P_START_UNMET])
    price_step = (1.0 - pv[P_PRICE_DECLINE]) ** 0.25
    v = pv[P_VAR]
    m0 = pv[P_START_MARGIN]
    fixed_step = (1.0 + pv[P_FIXED_INFL]) ** 0.25
    tax = pv[P_TAX]
    wc_share = pv[P_WC]
    v_ai = pv[P_AI_VAR] if ci[CI_HAS_AI_VAR] == 1 else v
    opex_q = pv[P_AI_OPEX] / 4.0
    capcost_q = pv[P_CAP_COST] / 4.0
    target_util = pv[P_TARGET_UTIL]
    adjust = pv[P_ADJUST]
    gate_width = pv[P_GATE_WIDTH]
    fade = 0.5 ** (1.0 / pv[P_PREMIUM_HL])
    budget_after_cf = pv[P_BUDGET]
    budget_cf = pv[P_CF_BUDGET]
    budget_after_plan = pv[P_PLAN_AFTER] if ci[CI_HAS_PLAN_AFTER] == 1 else pv[P_BUDGET]
    non_ai_share = pv[P_NON_AI]
    long_run = 1.0 + pv[P_MARKUP]
    ratio_decay = 0.5 ** (1.0 / pv[P_MARKUP_HL])
    S0 = pv[P_START_PREMIUM]
    slope = pv[P_SLOPE]
    max_premium = pv[P_MAX_PREMIUM]
    prem_adj = pv[P_PREM_ADJ]
    w_a = pv[P_ALI_SHARE]
    rest_start_u = pv[P_REST_START]
    rest_long_u = pv[P_REST_LONG]
    rest_decay = 0.5 ** (1.0 / pv[P_REST_HL])
    if ci[CI_HAS_PRICING] == 0:
        ratio_decay = 0.0
        rest_decay = 0.0
    loss = pv[P_LOSS]
    ret_rate = pv[P_RETURN]
    has_elast = ci[CI_HAS_ELAST] == 1
    elast = pv[P_DEMAND_ELAST]
    fixed_elast = pv[P_FIXED_ELAST]
    hp = ci[CI_HP]

    # Unit economics of a new loaded compute unit (investment.rs `UnitEconomics`).
    sigma = share[comp]
    ulife = life[comp]
    ulag = lag[comp]
    beta = (1.0 + rate) ** -0.25
    unit_annuity = window_sum(beta, 0, ulife)
    cost_factor = (1.0 - tax) * opex_q * window_sum(beta, ulag, ulife)
    for c in range(C):
        weight = share[c] / sigma
        charge = unit_annuity / window_sum(beta, 0, life[c])
        in_service = beta ** lag[c] * unit_annuity
        shield = tax * in_service / life[c]
        upkeep = (1.0 - tax) * capcost_q * in_service
        cost_factor += weight * (charge - shield + upkeep)
    contribution = (1.0 - tax) * (1.0 - v_ai) * target_util
    user_cost = cost_factor / (contribution * window_sum(beta * step, ulag, ulife))
    rest_of_market_start = D0 * (1.0 - w_a) / w_a
    demand_units_per_rmb = demand_scale / S0

    # Shared pre-plan history (legacy capex in steady state), once for both worlds.
    state = scratch[0:3]
    state[0] = 0.0
    state[1] = step ** first
    state[2] = step
    for c in range(C):
        dep[c] = 0.0
    for t in range(first, vfirst):
        i = t - first
        for c in range(C):
            capex[c, i] = pv[P_LEGACY] * legacy_share[c]
        units[i] = capex[comp, i] / state[1]
        book(i, capex, units, dep, life, lag, comp, C, state)
    saved_units = state[0]
    saved_cost = state[1]
    for c in range(C):
        dep_saved[c] = dep[c]

    pa = 0.0
    px1 = 1.0
    pb = 0.0
    px2 = 1.0
    s_sum0 = 0.0
    s_sum1 = 0.0
    s_sum2 = 0.0
    s_sum3 = 0.0
    price_to_cost = 0.0
    fixed0 = 0.0
    trailing = scratch[4:8]
    # The forecast's demand and growth use demand only: the same in both worlds.
    for t in range(Q):
        if t >= 4:
            growth = math.log(dem[0, t] / dem[0, t - 4]) / 4.0
        else:
            growth = (math.log((dem[0, t] / seas[t]) / (dem[0, 0] / seas[0]))
                      + (4 - t) * math.log1p(g0_ai) / 4.0) / 4.0
        forecast[0, t] = dem[0, t] / seas[t]
        forecast[1, t] = growth
    for w in range(2):
        state[0] = saved_units
        state[1] = saved_cost
        for c in range(C):
            dep[c] = dep_saved[c]
        # Plan quarters before the start quarter: business as usual on the start revenue,
        # the plan world at least the plan's reported spend.
        for t in range(vfirst, 0):
            i = t - first
            budget = budget_cf * R0
            non_ai = non_ai_share * dem[1, 0]
            uc = state[1]
            n_units = max(budget - non_ai, 0.0) * sigma / uc
            tot = allocate(n_units, uc, non_ai, share, sigma, comp, C, cbc)
            if w == 0 and t >= p0 and t < p0 + L:
                n_units = plan_floor(plan_spend[t - p0], tot, share, sigma, uc, n_units, C, cbc)
            for c in range(C):
                capex[c, i] = cbc[c]
            units[i] = n_units
            cx, dp_, U_, cbv, bv = book(i, capex, units, dep, life, lag, comp, C, state)
            hist[w, 0, t - vfirst] = cx
            hist[w, 1, t - vfirst] = dp_

        retention = 1.0
        pw1 = 1.0
        pw2 = 1.0
        rest_decayed = 1.0
        premium = S0
        for k in range(4):
            trailing[k] = R0
        prev_rev = R0
        fixed_growth = 1.0
        for t in range(Q):
            i = t - first
            if has_risk and t > 0:
                f_u, f_c, f_p, f_s, f_m = lev[1, t], lev[2, t], lev[3, t], lev[4, t], lev[6, t]
            else:
                f_u, f_c, f_p, f_s, f_m = 1.0, 1.0, 1.0, 1.0, 0.0
            kappa = state[1]
            unit_cost = kappa * f_u / f_c
            if t == 0 and w == 0:
                # Start calibration on the plan world's start quarter.
                newest = i - max(ulag, 1)
                frm = max(i + 1 - ulag - ulife, 0)
                start_units = 0.0
                for vv in range(frm, newest + 1):
                    start_units += units[vv]
                price_start = D0 / (max_util * start_units)
                base_start = price_start / S0
                if ci[CI_HAS_PRICING] == 1:
                    start_ratio = base_start / user_cost
                    pa = user_cost * long_run
                    px1 = step
                    pb = user_cost * (start_ratio - long_run)
                    px2 = step * ratio_decay
                else:
                    pa = base_start
                    px1 = price_step
                    pb = 0.0
                    px2 = 1.0
                s_sum0 = window_sum(beta * px1, ulag, ulife)
                s_sum1 = window_sum(beta * px1 * fade, ulag, ulife)
                s_sum2 = window_sum(beta * px2, ulag, ulife)
                s_sum3 = window_sum(beta * px2 * fade, ulag, ulife)
                for k in range(hp):
                    ahead[0, k] = px1 ** (ulag + k)
                    ahead[1, k] = px2 ** (ulag + k)
                price_to_cost = price_start / user_cost
            trend_price = pa * pw1 + pb * pw2
            base_price = trend_price * f_u
            # Volume response to the price's distance from its trend: one elasticity for
            # cost pass-through, premium and price events; without the key, RMB demand
            # fixed under pass-through only (V = 1/f_u).
            if has_elast:
                response = (f_u * premium / S0 * f_p) ** (-elast)
            else:
                response = 1.0 / f_u
            demand_units = dem[0, t] * demand_units_per_rmb / trend_price * response

            # Orders, from what is known at t: the peak forecast of the hp quarters from
            # entry into service, each at its own season and trend price, today's response.
            peak = 0.0
            for k in range(hp):
                j = ulag + k
                qk = (forecast[0, t] * math.exp(j * forecast[1, t]) * seas[t + j]
                      / (pa * pw1 * ahead[0, k] + pb * pw2 * ahead[1, k]))
                if k == 0 or qk > peak:
                    peak = qk
            forecast_units = peak * demand_units_per_rmb * response
            target = retention * forecast_units / target_util
            frm = max(i + 1 - ulife, 0)
            pipeline = 0.0
            for vv in range(frm, i):
                pipeline += units[vv]
            retiring = units[i - ulife] if i >= ulife else 0.0
            price_sum = (pa * pw1 * (s_sum0 + (premium - 1.0) * s_sum1)
                         + pb * pw2 * (s_sum2 + (premium - 1.0) * s_sum3))
            npv_u = sigma * (contribution * price_sum / (unit_cost / f_u) - cost_factor)
            gate = min(max(0.5 + npv_u / gate_width, 0.0), 1.0)
            desired = gate * max(retiring + (target - pipeline - retiring) / adjust, 0.0)
            in_window = t >= p0 and t < p0 + L
            if in_window:
                bshare = budget_cf
            elif w == 1:
                bshare = budget_after_cf
            else:
                bshare = budget_after_plan
            rbar = (trailing[0] + trailing[1] + trailing[2] + trailing[3]) / 4.0
            budget = bshare * rbar
            non_ai = non_ai_share * dem[1, t]
            orders = min(desired, max(budget - non_ai, 0.0) / (unit_cost / sigma))
            tot = allocate(orders, unit_cost, non_ai, share, sigma, comp, C, cbc)
            n_units = orders
            if w == 0 and in_window:
                n_units = plan_floor(plan_spend[t - p0] * f_s, tot, share, sigma, unit_cost, n_units,
                                     C, cbc)
            for c in range(C):
                capex[c, i] = cbc[c]
            units[i] = n_units
            cx, dp_, U_, cbv, bv = book(i, capex, units, dep, life, lag, comp, C, state)

            # Service, price, revenue and costs.
            wanted = retention * demand_units
            served = max(min(wanted, max_util * U_), 0.0)
            unmet_share = 1.0 - served / wanted if wanted > 0.0 else 0.0
            price = base_price * premium * f_p
            ai_rev = served * price
            other = dem[1, t]
            total_rev = other + ai_rev
            if t == 0 and w == 0:
                fixed0 = (other * (1.0 - v) + ai_rev - (ai_rev * v_ai + cbv * opex_q)
                          - bv * capcost_q - dp_ - m0 * total_rev)
            fixed = fixed0 * fixed_growth
            if fixed_elast != 0.0:
                # Overheads follow the plan world's total revenue of the quarter R_plan(t)
                # (docs/model.md, "Margins": F(t) = F_0 (1+i)^{t/4} (R_plan(t)/R(0))^{ε_F}),
                # and the counterfactual carries the same F(t): the plan world (w = 0) is
                # simulated first, so its revenue is in ser[0, S_REV, t] when w = 1.
                # R(0) is the reported start revenue (R_plan(0) = R(0)). Not the revenue
                # model's total B(t) (the rule before) nor the world's trailing revenue R̄.
                r_plan = total_rev if w == 0 else ser[0, S_REV, t]
                fixed *= (r_plan / R0) ** fixed_elast
            fixed_growth *= fixed_step
            ebita = (other * (1.0 - v) + ai_rev - (ai_rev * v_ai + cbv * opex_q)
                     - bv * capcost_q - fixed - dp_)
            nopat = ebita * (1.0 - tax)
            wc = wc_share * (total_rev - prev_rev) if t > 0 else 0.0
            rest = rest_of_market_start * dem[0, t] / D0
            ser[w, S_REV, t] = total_rev
            ser[w, S_AIREV, t] = ai_rev
            ser[w, S_CAPEX, t] = cx
            ser[w, S_CAP, t] = U_
            ser[w, S_UTIL, t] = served / U_ if U_ > 0.0 else 0.0
            ser[w, S_UNMET, t] = max(wanted - served, 0.0) * price
            ser[w, S_DEP, t] = dp_
            ser[w, S_EBITA, t] = ebita
            ser[w, S_FCF, t] = nopat + dp_ - cx - wc
            ser[w, S_NOPAT, t] = nopat
            ser[w, S_WC, t] = wc
            ser[w, S_USHARE, t] = unmet_share
            ser[w, S_MSHARE, t] = ai_rev / (ai_rev + rest) if ai_rev + rest > 0.0 else 0.0
            ser[w, S_RET, t] = retention
            ser[w, S_PREM, t] = premium
            ser[w, S_PRICE, t] = price
            ser[w, S_ORDERS, t] = n_units
            ser[w, S_GATE, t] = gate
            ser[w, S_OPEX, t] = cbv * opex_q

            # Next quarter's retention and premium.
            retention = retention * (1.0 - loss * unmet_share) + ret_rate * (1.0 - retention) * (1.0 - unmet_share)
            rest_unmet = min(max(rest_long_u + (rest_start_u - rest_long_u) * rest_decayed + f_m, 0.0), 0.95)
            rest_decayed *= rest_decay
            pw1 *= px1
            pw2 *= px2
            tight = min(max(w_a * unmet_share + (1.0 - w_a) * rest_unmet, 0.0), 0.95)
            target_p = min(1.0 + slope * tight / (1.0 - tight), max_premium)
            premium = premium + prem_adj * (target_p - premium)
            trailing[0] = trailing[1]
            trailing[1] = trailing[2]
            trailing[2] = trailing[3]
            trailing[3] = total_rev
            prev_rev = total_rev

    # ---- Quarterly metrics (mod.rs `simulate_path`, `write_economics`, `write_risk`).
    NQ = ci[CI_NQM] * Q
    for k in range(NQ):
        q[k] = np.nan
    for t in range(Q):
        tot = 0.0
        for s in range(S):
            val_s = ser[0, S_AIREV, t] if s == ai else rev[s, t]
            q[(1 + s) * Q + t] = val_s
            tot += val_s
        q[t] = tot
    for m in range(S + 1):
        for t in range(4, Q):
            lv = q[m * Q + t - 4]
            q[(S + 1 + m) * Q + t] = q[m * Q + t] / lv - 1.0 if lv > 0.0 else 0.0
    base = 2 * (S + 1) * Q
    for t in range(Q):
        q[base + 0 * Q + t] = ser[1, S_REV, t]
        q[base + 1 * Q + t] = ser[0, S_AIREV, t] + ser[0, S_UNMET, t]
        q[base + 2 * Q + t] = ser[0, S_CAPEX, t]
        q[base + 3 * Q + t] = ser[1, S_CAPEX, t]
        q[base + 4 * Q + t] = ser[0, S_CAP, t]
        q[base + 5 * Q + t] = ser[1, S_CAP, t]
        q[base + 6 * Q + t] = ser[0, S_UTIL, t]
        q[base + 7 * Q + t] = ser[1, S_UTIL, t]
        q[base + 8 * Q + t] = ser[0, S_UNMET, t]
        q[base + 9 * Q + t] = ser[1, S_UNMET, t]
        q[base + 10 * Q + t] = ser[0, S_DEP, t]
        q[base + 11 * Q + t] = ser[1, S_DEP, t]
        q[base + 12 * Q + t] = ser[0, S_EBITA, t]
        q[base + 13 * Q + t] = ser[1, S_EBITA, t]
        q[base + 14 * Q + t] = ser[0, S_EBITA, t] / ser[0, S_REV, t]
        q[base + 15 * Q + t] = ser[1, S_EBITA, t] / ser[1, S_REV, t]
        q[base + 16 * Q + t] = ser[0, S_FCF, t]
        q[base + 17 * Q + t] = ser[1, S_FCF, t]
        q[base + 18 * Q + t] = ser[0, S_FCF, t] - ser[1, S_FCF, t]
    base += 19 * Q
    for t in range(Q):
        q[base + 0 * Q + t] = ser[1, S_AIREV, t]
        q[base + 1 * Q + t] = ser[0, S_USHARE, t]
        q[base + 2 * Q + t] = ser[1, S_USHARE, t]
        q[base + 3 * Q + t] = ser[0, S_MSHARE, t]
        q[base + 4 * Q + t] = ser[1, S_MSHARE, t]
        q[base + 5 * Q + t] = ser[0, S_RET, t]
        q[base + 6 * Q + t] = ser[1, S_RET, t]
        q[base + 7 * Q + t] = ser[0, S_PRICE, t]
        q[base + 8 * Q + t] = ser[0, S_PREM, t]
        q[base + 9 * Q + t] = ser[1, S_PREM, t]
        q[base + 10 * Q + t] = ser[0, S_ORDERS, t]
        q[base + 11 * Q + t] = ser[1, S_ORDERS, t]
        q[base + 12 * Q + t] = ser[0, S_GATE, t]
        q[base + 13 * Q + t] = ser[1, S_GATE, t]
        q[base + 14 * Q + t] = ser[0, S_OPEX, t]
    base += 15 * Q
    if has_risk:
        for r in range(K):
            for t in range(Q):
                q[base + t] = 1.0 if regime[t] == r else 0.0
            base += Q
        for e in range(E):
            for t in range(Q):
                q[base + t] = 1.0 if firings[e, t] > 0 else 0.0
                q[base + Q + t] = float(firings[e, t])
            base += 2 * Q

    # ---- Revenue scalars.
    k = 0
    for m in range(S + 1):
        a = 0.0
        for t in range(Q - 4, Q):
            a += q[m * Q + t]
        sc[k] = a
        k += 1
    sc[k] = (q[Q - 1] / q[0]) ** (4.0 / H) - 1.0
    k += 1
    a = 0.0
    for t in range(1, Q):
        a += q[t]
    sc[k] = a
    k += 1

    # ---- Return of the plan (valuation.rs `evaluate`).
    nh = -vfirst
    n = nh + Q
    for j in range(nh):
        dcx = hist[0, 0, j] - hist[1, 0, j]
        inc[0, j] = dcx
        inc[1, j] = -dcx
        inc[2, j] = 0.0
        inc[3, j] = hist[0, 1, j] - hist[1, 1, j]
        inc[4, j] = 0.0
        inc[5, j] = 0.0
    for t in range(Q):
        j = nh + t
        inc[0, j] = ser[0, S_CAPEX, t] - ser[1, S_CAPEX, t]
        inc[1, j] = ser[0, S_FCF, t] - ser[1, S_FCF, t]
        inc[2, j] = ser[0, S_NOPAT, t] - ser[1, S_NOPAT, t]
        inc[3, j] = ser[0, S_DEP, t] - ser[1, S_DEP, t]
        inc[4, j] = ser[0, S_WC, t] - ser[1, S_WC, t]
        inc[5, j] = lev[5, t] if has_risk else 0.0
    df = val[0]
    invested = val[1]
    flows = val[2]
    dfcf = val[3]
    factor = 1.0
    capital = 0.0
    for j in range(n):
        if j > 0:
            factor /= 1.0 + quarterly_rate(rate + inc[5, j])
        df[j] = factor
        capital += inc[0, j] - inc[3, j] + inc[4, j]
        invested[j] = capital
    last_rate = quarterly_rate(rate + inc[5, n - 1])
    tv = 0.0
    tv_growth = np.nan
    tv_ronic = np.nan
    if ci[CI_TV] == 1:
        lo = max(nh, n - 4)
        b_sum = 0.0
        for j in range(lo, n):
            b_sum += inc[2, j]
        base_nopat = b_sum / (n - lo)
        cap_sum = 0.0
        for j in range(n - 4, n):
            cap_sum += invested[j]
        cap_mean = cap_sum / 4.0
        if ci[CI_TV_METHOD] == 1:
            g = quarterly_rate(g_ceiling)
            tv = base_nopat * (1.0 + g) / (last_rate - g)
            tv_growth = g_ceiling
        elif ci[CI_HAS_RONIC] == 1:
            g = quarterly_rate(g_ceiling)
            ronic_q = quarterly_rate(pv[P_TERM_RONIC])
            tv = base_nopat * (1.0 + g) * (1.0 - g / ronic_q) / (last_rate - g)
            tv_growth = g_ceiling
            tv_ronic = pv[P_TERM_RONIC]
        else:
            last_year = cap_sum
            earlier = 0.0
            for j in range(n - 12, n - 8):
                earlier += invested[j]
            if not (last_year == 0.0 or earlier == 0.0 or (last_year > 0.0) != (earlier > 0.0)):
                ga = min(math.sqrt(last_year / earlier) - 1.0, g_ceiling)
                g = quarterly_rate(ga)
                tv = (1.0 + g) * (base_nopat - g * cap_mean) / (last_rate - g)
                tv_growth = ga
                tv_ronic = (1.0 + base_nopat / cap_mean) ** 4 - 1.0 if cap_mean != 0.0 else np.nan
    npv = 0.0
    pv_capex = 0.0
    total_capex = 0.0
    operating = 0.0
    for j in range(n):
        flows[j] = inc[1, j]
        dfcf[j] = inc[1, j] * df[j]
        pv_capex += inc[0, j] * df[j]
        total_capex += inc[0, j]
        operating += inc[1, j] + inc[0, j]
    flows[n - 1] += tv
    for j in range(n):
        npv += flows[j] * df[j]
    tv_pv = tv * df[n - 1]
    # IRR: NPV on a grid of ln(1 + rate), sign changes counted, a unique root bisected.
    ng = x_grid.shape[0]
    on_grid = grid[1]
    # sum_j flows[j] v^j by Horner, eight grid points at a time (independent chains).
    g_i = 0
    while g_i + 8 <= ng:
        v0, v1, v2, v3 = v_grid[g_i], v_grid[g_i + 1], v_grid[g_i + 2], v_grid[g_i + 3]
        v4, v5, v6, v7 = v_grid[g_i + 4], v_grid[g_i + 5], v_grid[g_i + 6], v_grid[g_i + 7]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        for j in range(n - 1, -1, -1):
            fj = flows[j]
            a0 = a0 * v0 + fj
            a1 = a1 * v1 + fj
            a2 = a2 * v2 + fj
            a3 = a3 * v3 + fj
            a4 = a4 * v4 + fj
            a5 = a5 * v5 + fj
            a6 = a6 * v6 + fj
            a7 = a7 * v7 + fj
        on_grid[g_i], on_grid[g_i + 1], on_grid[g_i + 2], on_grid[g_i + 3] = a0, a1, a2, a3
        on_grid[g_i + 4], on_grid[g_i + 5], on_grid[g_i + 6], on_grid[g_i + 7] = a4, a5, a6, a7
        g_i += 8
    while g_i < ng:
        on_grid[g_i] = npv_at(flows, n, x_grid[g_i])
        g_i += 1
    roots = 0
    kroot = -1
    f_prev = on_grid[0]
    f_lo = 0.0
    for g_i in range(1, ng):
        f_cur = on_grid[g_i]
        if (f_prev > 0.0 and f_cur < 0.0) or (f_prev < 0.0 and f_cur > 0.0):
            roots += 1
            if kroot < 0:
                kroot = g_i - 1
                f_lo = f_prev
        f_prev = f_cur
    irr = np.nan
    if roots == 1:
        lo_x = x_grid[kroot]
        hi_x = x_grid[kroot + 1]
        for _ in range(50):
            mid = 0.5 * (lo_x + hi_x)
            f_mid = npv_at(flows, n, mid)
            if (f_mid > 0.0) == (f_lo > 0.0) and f_mid != 0.0:
                lo_x = mid
                f_lo = f_mid
            else:
                hi_x = mid
        irr = math.exp(4.0 * 0.5 * (lo_x + hi_x)) - 1.0
    # MIRR: outlays financed at the path's WACC, inflows reinvested at the reinvestment rate.
    fr = quarterly_rate(rate)
    rr = quarterly_rate(reinvest)
    fv_pos = 0.0
    pv_neg = 0.0
    grow = 1.0
    for j in range(n - 1, -1, -1):
        if flows[j] > 0.0:
            fv_pos += flows[j] * grow
        grow *= 1.0 + rr
    disc = 1.0
    for j in range(n):
        if flows[j] < 0.0:
            pv_neg -= flows[j] * disc
        disc /= 1.0 + fr
    mirr = np.nan
    if fv_pos > 0.0 and pv_neg > 0.0:
        mirr = (fv_pos / pv_neg) ** (4.0 / (n - 1)) - 1.0
    # Paybacks: first index from which cumulative flows stay >= 0 (no TV).
    payback = np.nan
    dpayback = np.nan
    cum = 0.0
    dcum = 0.0
    since = -1
    dsince = -1
    for j in range(n):
        cum += inc[1, j]
        dcum += dfcf[j]
        if cum >= 0.0:
            if since < 0:
                since = j
        else:
            since = -1
        if dcum >= 0.0:
            if dsince < 0:
                dsince = j
        else:
            dsince = -1
    if since >= 0:
        payback = float(since)
    if dsince >= 0:
        dpayback = float(dsince)
    sc[k + 0] = npv
    sc[k + 1] = npv - tv_pv
    sc[k + 2] = irr
    sc[k + 3] = float(roots)
    sc[k + 4] = mirr
    sc[k + 5] = payback
    sc[k + 6] = dpayback
    sc[k + 7] = operating / total_capex if total_capex > 0.0 else np.nan
    sc[k + 8] = (npv + pv_capex) / pv_capex if pv_capex > 0.0 else np.nan
    sc[k + 9] = total_capex
    sc[k + 10] = tv_pv
    sc[k + 11] = tv_growth
    sc[k + 12] = tv_ronic
    k += 13
    year_start = nh + 1
    while year_start + 4 <= n:
        a = 0.0
        b = 0.0
        for j in range(year_start, year_start + 4):
            a += inc[2, j]
            b += invested[j]
        b /= 4.0
        sc[k] = a / b if b > 0.0 else np.nan
        k += 1
        year_start += 4
    sc[k] = price_to_cost
    sc[k + 1] = user_cost
    k += 2
    if has_risk:
        by = min(max(p0 + L - 1, 0), H)
        for e in range(E):
            fired = firings[e, by] > 0
            sc[k] = npv if fired else np.nan
            sc[k + 1] = np.nan if fired else npv
            k += 2


# =========================================================================================
# Statistics
# =========================================================================================

@njit(cache=True)
def bucket_index(magnitude, bits):
    """floor(l(x) / w), l(x) = e + (m - 1) for x = 2^e m, read from the float's bits."""
    exponent = ((bits >> 52) & 0x7FF) - 1023
    ell = exponent + (bits & SIGNIFICAND_MASK) * TWO_M52
    return int(math.floor(ell * BUCKETS_PER_UNIT))


@njit(cache=True)
def linear_exp2(ell):
    e = math.floor(ell)
    return 2.0 ** e * (1.0 + (ell - e))


@njit(cache=True)
def bucket_value(index):
    lower = linear_exp2(index * BUCKET_WIDTH)
    upper = linear_exp2((index + 1) * BUCKET_WIDTH)
    return 2.0 * lower * upper / (lower + upper)


@njit(cache=True)
def block_stats_batch(qbuf, npaths, metric_first, Q, cells, vals, bits,
                      m_n, m_mean, m_m2, sk, sk_lo, sk_hi, sk_zero, sk_min, sk_max, ov, ov_n):
    """Takes a batch of npaths paths (qbuf[j, cell]) into one block's moments and sketches,
    cell by cell. A bucket beyond the dense range (|x| >= 2^40: e.g. the AI segment's
    year-on-year growth after its revenue nearly vanished) goes to the overflow list
    ov[k] = (cell, side, bucket). Returns 0, 1 on a non-finite value, 2 on a full overflow list."""
    for cell in range(cells):
        if cell % Q < metric_first[cell // Q]:
            continue
        ok = True
        for j in range(npaths):
            x = qbuf[j, cell]
            vals[j] = x
            if not math.isfinite(x):
                ok = False
        if not ok:
            return 1
        # Moments of the batch: two passes over deviations from its first value, then Chan.
        shift = vals[0]
        s = 0.0
        for j in range(npaths):
            s += vals[j] - shift
        smean = s / npaths
        ssd = 0.0
        for j in range(npaths):
            d = (vals[j] - shift) - smean
            ssd += d * d
        bmean = shift + smean
        n_a = m_n[cell]
        if n_a == 0:
            m_n[cell] = npaths
            m_mean[cell] = bmean
            m_m2[cell] = ssd
        else:
            tot = n_a + npaths
            delta = bmean - m_mean[cell]
            wgt = npaths / tot
            m_mean[cell] += delta * wgt
            m_m2[cell] += ssd + delta * delta * n_a * wgt
            m_n[cell] = tot
        # Sketch.
        lo_v = sk_min[cell]
        hi_v = sk_max[cell]
        for j in range(npaths):
            x = vals[j]
            if x < lo_v:
                lo_v = x
            if x > hi_v:
                hi_v = x
            if x > ZERO_THRESHOLD:
                side = 0
                idx = bucket_index(x, bits[j]) - IDX_MIN
            elif x < -ZERO_THRESHOLD:
                side = 1
                idx = bucket_index(-x, bits[j] & 0x7FFFFFFFFFFFFFFF) - IDX_MIN
            else:
                sk_zero[cell] += 1
                continue
            if idx < 0 or idx >= NB:
                k = ov_n[0]
                if k >= ov.shape[0]:
                    return 2
                ov[k, 0] = cell
                ov[k, 1] = side
                ov[k, 2] = idx + IDX_MIN
                ov_n[0] = k + 1
                continue
            sk[cell, side, idx] += 1
            if idx < sk_lo[cell, side]:
                sk_lo[cell, side] = idx
            if idx > sk_hi[cell, side]:
                sk_hi[cell, side] = idx
        sk_min[cell] = lo_v
        sk_max[cell] = hi_v
    return 0


@njit(cache=True)
def run_block(cfg, b, npaths_total, seed, qbuf, sc_out, vals,
              m_n, m_mean, m_m2, sk, sk_lo, sk_hi, sk_zero, sk_min, sk_max, ov, ov_n):
    """Simulates block b into its block-local statistics; returns a status code."""
    np.random.seed((seed * 100003 + b) & 0xFFFFFFFF)
    ws = make_workspace(cfg)
    bits = vals.view(np.int64)      # the batch's values read as their bits (same memory)
    ci = cfg[2]
    Q = ci[CI_Q]
    cells = ci[CI_NCELLS]
    metric_first = cfg[21]
    first_path = b * BLOCK
    n_block = min(BLOCK, npaths_total - first_path)
    done = 0
    while done < n_block:
        nb = min(BATCH, n_block - done)
        for j in range(nb):
            simulate_path(cfg, ws, qbuf[j], sc_out[first_path + done + j])
        status = block_stats_batch(qbuf, nb, metric_first, Q, cells, vals, bits,
                                   m_n, m_mean, m_m2, sk, sk_lo, sk_hi, sk_zero, sk_min, sk_max, ov, ov_n)
        if status != 0:
            return status
        done += nb
    return 0


@njit(parallel=True, cache=True)
def run_streaming(cfg, npaths, seed, nslots, sc_out,
                  r_n, r_mean, r_m2, r_sk, r_lo, r_hi, r_zero, r_min, r_max, r_ov, r_ov_n):
    """Blocks in waves of nslots (one per thread), merged into the run's statistics in block order."""
    ci = cfg[2]
    cells = ci[CI_NCELLS]
    nblocks = (npaths + BLOCK - 1) // BLOCK
    b_n = np.zeros((nslots, cells), dtype=np.int64)
    b_mean = np.zeros((nslots, cells))
    b_m2 = np.zeros((nslots, cells))
    b_sk = np.zeros((nslots, cells, 2, NB), dtype=np.uint16)
    b_lo = np.full((nslots, cells, 2), NB, dtype=np.int64)
    b_hi = np.full((nslots, cells, 2), -1, dtype=np.int64)
    b_zero = np.zeros((nslots, cells), dtype=np.int64)
    b_min = np.full((nslots, cells), np.inf)
    b_max = np.full((nslots, cells), -np.inf)
    qbuf = np.zeros((nslots, BATCH, cells))
    vals = np.zeros((nslots, BATCH))
    status = np.zeros(nslots, dtype=np.int64)
    b_ov = np.zeros((nslots, OV_BLOCK, 3), dtype=np.int64)
    b_ov_n = np.zeros((nslots, 1), dtype=np.int64)
    wave = 0
    while wave < nblocks:
        nb = min(nslots, nblocks - wave)
        for slot in prange(nb):
            status[slot] = run_block(cfg, wave + slot, npaths, seed, qbuf[slot], sc_out, vals[slot],
                                     b_n[slot], b_mean[slot], b_m2[slot],
                                     b_sk[slot], b_lo[slot], b_hi[slot], b_zero[slot], b_min[slot], b_max[slot],
                                     b_ov[slot], b_ov_n[slot])
        for slot in range(nb):
            if status[slot] != 0:
                return status[slot]
            for k in range(b_ov_n[slot, 0]):          # overflow buckets, in block order
                if r_ov_n[0] >= r_ov.shape[0]:
                    return 3
                for x in range(3):
                    r_ov[r_ov_n[0], x] = b_ov[slot, k, x]
                r_ov_n[0] += 1
            b_ov_n[slot, 0] = 0
        # Merge the wave's blocks in block order (each cell independently, so cells in parallel).
        for cell in prange(cells):
            for slot in range(nb):
                n_b = b_n[slot, cell]
                if n_b > 0:
                    n_a = r_n[cell]
                    if n_a == 0:
                        r_n[cell] = n_b
                        r_mean[cell] = b_mean[slot, cell]
                        r_m2[cell] = b_m2[slot, cell]
                    else:
                        tot = n_a + n_b
                        delta = b_mean[slot, cell] - r_mean[cell]
                        wgt = n_b / tot
                        r_mean[cell] += delta * wgt
                        r_m2[cell] += b_m2[slot, cell] + delta * delta * n_a * wgt
                        r_n[cell] = tot
                for side in range(2):
                    lo = b_lo[slot, cell, side]
                    hi = b_hi[slot, cell, side]
                    for idx in range(lo, hi + 1):
                        r_sk[cell, side, idx] += b_sk[slot, cell, side, idx]
                        b_sk[slot, cell, side, idx] = 0
                    if hi >= lo:
                        r_lo[cell, side] = min(r_lo[cell, side], lo)
                        r_hi[cell, side] = max(r_hi[cell, side], hi)
                    b_lo[slot, cell, side] = NB
                    b_hi[slot, cell, side] = -1
                r_zero[cell] += b_zero[slot, cell]
                r_min[cell] = min(r_min[cell], b_min[slot, cell])
                r_max[cell] = max(r_max[cell], b_max[slot, cell])
                b_n[slot, cell] = 0
                b_mean[slot, cell] = 0.0
                b_m2[slot, cell] = 0.0
                b_zero[slot, cell] = 0
                b_min[slot, cell] = np.inf
                b_max[slot, cell] = -np.inf
        wave += nb
    return 0


@njit(parallel=True, cache=True)
def sketch_quantiles(levels, r_n, r_sk, r_lo, r_hi, r_zero, r_min, r_max, ov_ptr, ov_idx, ov_cnt, out):
    """Type-7 quantiles from the run's sketches (sketch.rs `quantiles`). Overflow buckets of
    cell c and side s are ov_idx/ov_cnt[ov_ptr[c, s] : ov_ptr[c, s + 1]] (ascending index)."""
    cells = r_n.shape[0]
    nl = levels.shape[0]
    for cell in prange(cells):
        count = r_n[cell]
        if count == 0:
            for k in range(nl):
                out[cell, k] = np.nan
            continue
        ranks = np.empty(nl)
        want = np.empty(2 * nl, dtype=np.int64)
        got = np.full(2 * nl, r_max[cell])
        for k in range(nl):
            ranks[k] = levels[k] * (count - 1)
            want[2 * k] = int(math.floor(ranks[k]))
            want[2 * k + 1] = int(math.ceil(ranks[k]))
        seen = 0
        lo_v = r_min[cell]
        hi_v = r_max[cell]
        # ascending: negative buckets from the largest magnitude, zero, positive buckets
        for part in range(5):
            if part == 0:      # negative overflow (largest magnitudes first)
                start, stop, stp, side = ov_ptr[cell, 2] - 1, ov_ptr[cell, 1] - 1, -1, 3
            elif part == 1:
                start, stop, stp, side = r_hi[cell, 1], r_lo[cell, 1] - 1, -1, 1
            elif part == 2:
                start, stop, stp, side = 0, 1, 1, -1
            elif part == 3:
                start, stop, stp, side = r_lo[cell, 0], r_hi[cell, 0] + 1, 1, 0
            else:              # positive overflow
                start, stop, stp, side = ov_ptr[cell, 0], ov_ptr[cell, 1], 1, 2
            idx = start
            while (stp > 0 and idx < stop) or (stp < 0 and idx > stop):
                if side < 0:
                    c = r_zero[cell]
                    value = 0.0
                elif side >= 2:
                    c = ov_cnt[idx]
                    value = bucket_value(ov_idx[idx])
                    if side == 3:
                        value = -value
                else:
                    c = r_sk[cell, side, idx]
                    value = bucket_value(idx + IDX_MIN)
                    if side == 1:
                        value = -value
                idx += stp
                if c == 0:
                    continue
                value = min(max(value, lo_v), hi_v)
                new_seen = seen + c
                for w in range(2 * nl):
                    if want[w] >= seen and want[w] < new_seen:
                        got[w] = value
                seen = new_seen
        for k in range(nl):
            lo = math.floor(ranks[k])
            if math.ceil(ranks[k]) == lo:
                out[cell, k] = got[2 * k]
            else:
                out[cell, k] = got[2 * k] + (ranks[k] - lo) * (got[2 * k + 1] - got[2 * k])


@njit(parallel=True, cache=True)
def run_exact(cfg, npaths, seed, q_out, sc_out):
    """Every path's quarterly values kept: q_out[path, cell]."""
    nblocks = (npaths + BLOCK - 1) // BLOCK
    for b in prange(nblocks):
        np.random.seed((seed * 100003 + b) & 0xFFFFFFFF)
        ws = make_workspace(cfg)
        first_path = b * BLOCK
        for p in range(first_path, min(first_path + BLOCK, npaths)):
            simulate_path(cfg, ws, q_out[p], sc_out[p])
    return 0


@njit(parallel=True, cache=True)
def run_none(cfg, npaths, seed, sc_out):
    """The model only: each block's values summed into a checksum."""
    ci = cfg[2]
    cells = ci[CI_NCELLS]
    nblocks = (npaths + BLOCK - 1) // BLOCK
    sums = np.zeros(nblocks)
    for b in prange(nblocks):
        np.random.seed((seed * 100003 + b) & 0xFFFFFFFF)
        ws = make_workspace(cfg)
        q = np.zeros(cells)
        acc = 0.0
        first_path = b * BLOCK
        for p in range(first_path, min(first_path + BLOCK, npaths)):
            simulate_path(cfg, ws, q, sc_out[p])
            for c in range(cells):
                if not math.isnan(q[c]):
                    acc += q[c]
        sums[b] = acc
    return sums.sum()


# =========================================================================================
# Driver
# =========================================================================================

def scalar_stats(values):
    v = values[~np.isnan(values)]
    if v.size == 0:
        return dict(count=0, mean=None, sd=None, se=None)
    sd = float(v.std(ddof=1)) if v.size > 1 else float("nan")
    return dict(count=int(v.size), mean=float(v.mean()), sd=sd, se=sd / math.sqrt(v.size),
                quantiles=[float(x) for x in np.quantile(v, LEVELS)])


def run(cfg, info, paths, seed, mode, threads):
    """Runs the model; returns (seconds of the kernel, seconds of finalizing, quarterly stats or None, scalars)."""
    ci = cfg[2]
    cells = int(ci[CI_NCELLS])
    NS = int(ci[CI_NS])
    sc = np.full((paths, NS), np.nan)
    t0 = time.perf_counter()
    quarterly = None
    checksum = None
    if mode == "none":
        checksum = float(run_none(cfg, paths, seed, sc))
        t1 = time.perf_counter()
    elif mode == "streaming":
        r_n = np.zeros(cells, dtype=np.int64)
        r_mean = np.zeros(cells)
        r_m2 = np.zeros(cells)
        r_sk = np.zeros((cells, 2, NB), dtype=np.int64)
        r_lo = np.full((cells, 2), NB, dtype=np.int64)
        r_hi = np.full((cells, 2), -1, dtype=np.int64)
        r_zero = np.zeros(cells, dtype=np.int64)
        r_min = np.full(cells, np.inf)
        r_max = np.full(cells, -np.inf)
        r_ov = np.zeros((OV_RUN, 3), dtype=np.int64)
        r_ov_n = np.zeros(1, dtype=np.int64)
        status = run_streaming(cfg, paths, seed, threads, sc, r_n, r_mean, r_m2, r_sk, r_lo, r_hi,
                               r_zero, r_min, r_max, r_ov, r_ov_n)
        if status == 1:
            raise SystemExit("numba_base.py: a quarterly value is not finite")
        if status in (2, 3):
            raise SystemExit("numba_base.py: too many values beyond the sketch's dense bucket range")
        t1 = time.perf_counter()
        # Overflow buckets as per-cell, per-side sorted (bucket, count) lists.
        ov = r_ov[: r_ov_n[0]]
        key = (ov[:, 0] * 2 + ov[:, 1]) * (1 << 40) + (ov[:, 2] + (1 << 39))
        ukey, ov_cnt = np.unique(key, return_counts=True)
        ov_idx = (ukey % (1 << 40)) - (1 << 39)
        ov_ptr = np.searchsorted(ukey // (1 << 40), np.arange(2 * cells + 1)).reshape(-1)
        ov_ptr2 = np.stack([ov_ptr[0:2 * cells:2], ov_ptr[1:2 * cells:2], ov_ptr[2:2 * cells + 1:2]], axis=1)
        qs = np.empty((cells, len(LEVELS)))
        sketch_quantiles(LEVELS, r_n, r_sk, r_lo, r_hi, r_zero, r_min, r_max, ov_ptr2.astype(np.int64),
                         ov_idx.astype(np.int64), ov_cnt.astype(np.int64), qs)
        sd = np.where(r_n > 1, np.sqrt(r_m2 / np.maximum(r_n - 1, 1)), np.nan)
        quarterly = dict(count=r_n, mean=np.where(r_n > 0, r_mean, np.nan), sd=sd,
                         se=sd / np.sqrt(np.maximum(r_n, 1)), q=qs)
    else:
        qv = np.empty((paths, cells))
        run_exact(cfg, paths, seed, qv, sc)
        t1 = time.perf_counter()
        Q = info["quarters"]
        metric_first = cfg[21]
        defined = np.array([c % Q >= metric_first[c // Q] for c in range(cells)])
        count = np.where(defined, paths, 0)
        mean = np.full(cells, np.nan)
        sd = np.full(cells, np.nan)
        qs = np.full((cells, len(LEVELS)), np.nan)
        d = qv[:, defined]
        if not np.isfinite(d).all():
            raise SystemExit("numba_base.py: a quarterly value is not finite")
        mean[defined] = d.mean(axis=0)
        sd[defined] = d.std(axis=0, ddof=1) if paths > 1 else np.nan
        qs[defined] = np.quantile(d, LEVELS, axis=0).T
        quarterly = dict(count=count, mean=mean, sd=sd, se=sd / math.sqrt(paths), q=qs)
    scalars = {name: scalar_stats(sc[:, k]) for k, name in enumerate(info["scalar_metrics"])}
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, quarterly, scalars, checksum


def finite_or_none(x):
    """NaN and infinities as JSON null (json.dumps would write the invalid token NaN)."""
    if isinstance(x, dict):
        return {k: finite_or_none(v) for k, v in x.items()}
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    parser.add_argument("--stats", choices=["none", "streaming", "exact"], default="streaming")
    parser.add_argument("--scenario", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios", "base.toml"))
    parser.add_argument("--quarterly-csv", default=None)
    parser.add_argument("--summary-csv", default=None)
    args = parser.parse_args()
    if args.paths < 1:
        raise SystemExit("numba_base.py: --paths must be positive")
    numba.set_num_threads(args.threads)
    with open(args.scenario, "rb") as f:
        scenario = tomllib.load(f)
    cfg, info = build_model(scenario)

    # Warm-up (compiles, or loads the cache) on a small path count, timed separately.
    c0 = time.perf_counter()
    run(cfg, info, 64, args.seed + 1, args.stats, args.threads)
    compile_seconds = time.perf_counter() - c0

    kernel, finalize, quarterly, scalars, checksum = run(cfg, info, args.paths, args.seed, args.stats, args.threads)
    out = {
        "paths": args.paths, "seed": args.seed, "threads": args.threads, "stats": args.stats,
        "scenario": os.path.abspath(args.scenario),
        "compile_seconds": compile_seconds,
        ("model_seconds" if args.stats == "none" else "simulate_and_stream_seconds" if args.stats == "streaming"
         else "simulate_and_store_seconds"): kernel,
        "finalize_seconds": finalize,
        "total_seconds": kernel + finalize,
        "numba": numba.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
        "quarterly_metrics": len(info["quarterly_metrics"]), "quarters": info["quarters"],
        "scalars": {k: {"count": v["count"], "mean": v["mean"], "se": v["se"]} for k, v in scalars.items()},
    }
    if checksum is not None:
        out["checksum"] = checksum
    Q = info["quarters"]
    if args.quarterly_csv and quarterly is not None:
        with open(args.quarterly_csv, "w") as f:
            f.write("metric,quarter_index,count,mean,sd,se,p50\n")
            for m, name in enumerate(info["quarterly_metrics"]):
                for t in range(Q):
                    c = m * Q + t
                    vals = [quarterly["mean"][c], quarterly["sd"][c], quarterly["se"][c], quarterly["q"][c, 4]]
                    f.write(f"{name},{t},{int(quarterly['count'][c])}," +
                            ",".join("" if not np.isfinite(x) else repr(float(x)) for x in vals) + "\n")
    if args.summary_csv:
        with open(args.summary_csv, "w") as f:
            f.write("metric,count,mean,sd,se," + ",".join(LEVEL_NAMES) + "\n")
            for name, v in scalars.items():
                qv = v.get("quantiles", [None] * 9)
                f.write(f"{name},{v['count']}," + ",".join("" if x is None or not math.isfinite(x) else repr(x)
                                                           for x in [v["mean"], v["sd"], v["se"]] + qv) + "\n")
    print(json.dumps(finite_or_none(out)))


if __name__ == "__main__":
    main()
