#!/usr/bin/env python3
"""The investment-policy economics re-implemented from docs/model.md alone (written by a
reviewer who did not read the Rust source), cell by cell with explicit loops over
vintages, on a deterministic scenario (no shocks, no risk, every assumption fixed): both
worlds' quarterly series, the incremental flows and the return of the plan (NPV with and
without the terminal value, value-driver or Gordon terminal value, its growth and RONIC,
IRR, MIRR, ROIC by year) must agree with the engine's path 0 to 1e-9 relative.

Usage: python3 tests/python/policy_reference.py RUN_DIR
RUN_DIR is one scenario's output folder of `cloudcapex run ... --paths-out 1`
(scenario.toml, paths.csv, path_scalars.csv). tests/run-all.sh runs it on
tests/fixtures/policy_modes.toml, a variant where the gate and the budget bind, and
tests/fixtures/policy_events.toml (a deterministic event moving every lever the policy
reads: unit cost, deliverable units, price, plan size, market tightness).
Standard library only.
"""
import csv, math, sys, tomllib
from collections import defaultdict

HERE = sys.argv[1]
SC = tomllib.load(open(f"{HERE}/scenario.toml", "rb"))
SC.pop("screen", None)  # [screen.ranges]: ranges for `sensitivity screen`, no simulated number


def _drawn(table, where=""):
    """Key paths still written as distributions (the reference needs every input fixed)."""
    if isinstance(table, dict):
        if "dist" in table:
            return [where]
        return [k for key, value in table.items() for k in _drawn(value, f"{where}.{key}" if where else key)]
    return []


# (an event's severity is drawn at each firing: checked below for the events that fire)
_DRAWN = [k for k in _drawn(SC) if not (k.startswith("risk.events.") and k.endswith(".severity"))]
if _DRAWN:
    sys.exit("policy reference: a deterministic scenario is needed, but these inputs are distributions: "
             + ", ".join(_DRAWN))

# ---------------------------------------------------------------- variants (assumptions)
VAR = {
    # trailing revenue R̄(t): 'strict' = t-4..t-1, pre-start (t<0) quarters = reported R(0);
    # 'start_reported' = quarters t<=0 also use the reported start revenue (both worlds)
    "rbar": "strict",
    # legacy split: 'compute_share' = compute K_L*cs, others K_L*(1-cs)*σ_c/(1-σ)
    #               'plan_shares'   = every class K_L*σ_c (doc table literally)
    "legacy": "compute_share",
    # orders' n(v) for Π and retirements: all compute units bought (legacy included)
    "g0": "initial_growth",
}

H = SC["time"]["horizon_quarters"]
sy, sq = SC["time"]["start_quarter"].split("Q")
sy, sq = int(sy), int(sq)
py, pq = SC["plan"]["start_quarter"].split("Q")
p0 = (int(py) - sy) * 4 + (int(pq) - sq)  # -4
L = SC["plan"]["length_quarters"]
plan_end = p0 + L - 1  # 7


def qlabel(t):
    n = sy * 4 + (sq - 1) + t
    return f"{n // 4}Q{n % 4 + 1}"


def qnum(t):
    return (sq - 1 + t) % 4 + 1


seas = SC["revenue"]["seasonality"]
f = lambda t: seas[f"q{qnum(t)}"]

# ---------------------------------------------------------------- revenue segments
segs = SC["revenue"]["segments"]
cap_seg = SC["capacity"]["segment"]
# Regime growth shifts (docs/model.md, "Risk"): the regime's annual shift added to the
# drift from t = 1; with centre_growth_shifts, less its mean under π_t = π_0 Pᵗ. The
# regime is deterministic here (checked with the events below), but π_t is computed as
# the docs define it.
gshift = defaultdict(lambda: defaultdict(float))  # gshift[s][t], annual
risk = SC.get("risk")
if risk and risk.get("enabled", True):
    regs = sorted(risk["regimes"])
    reg0 = next(name for name, r in risk["regimes"].items() if r.get("initial_probability", 0.0) == 1.0)
    gs = {k: risk["regimes"][k].get("growth_shift", {}) for k in regs}
    pi = [risk["regimes"][k].get("initial_probability", 0.0) for k in regs]
    Pm = [[risk["regimes"][i].get("transition", {}).get(j, 0.0) for j in regs] for i in regs]
    for t in range(1, H + 1):
        pi = [sum(pi[i] * Pm[i][j] for i in range(len(regs))) for j in range(len(regs))]
        for s in segs:
            mean = sum(pi[j] * gs[k].get(s, 0.0) for j, k in enumerate(regs))
            gshift[s][t] = gs[reg0].get(s, 0.0) - (mean if risk.get("centre_growth_shifts", False) else 0.0)
# Deterministic events' revenue levers (docs/model.md, "Risk"): `revenue_level` multiplies
# the segment's revenue by Π(1 + e), `revenue_growth` adds Σ e / 4 to its drift. They are
# part of the segment's path.
rev_level = defaultdict(lambda: defaultdict(lambda: 1.0))  # rev_level[s][t]
rev_drift = defaultdict(lambda: defaultdict(float))        # rev_drift[s][t], quarterly log
if risk and risk.get("enabled", True):
    _reg = next(name for name, r in risk["regimes"].items() if r.get("initial_probability", 0.0) == 1.0)
    for _ev in risk.get("events", {}).values():
        if _ev["hazard"].get(_reg, 0.0) != 1.0:
            continue
        for _eff in _ev["effects"].values():
            if _eff["lever"] not in ("revenue_level", "revenue_growth"):
                continue
            _h = _eff.get("half_life_quarters")
            for t in range(1, H + 1):
                e = _eff["size"] * _ev.get("severity", 1.0) * (2 ** (-(t - 1) / _h) if _h else 1.0)
                if _eff["lever"] == "revenue_level":
                    rev_level[_eff["segment"]][t] *= 1 + e
                else:
                    rev_drift[_eff["segment"]][t] += e / 4
Rmod = {}
for s, p in segs.items():
    l = math.log(p["start_revenue_rmb_bn"] / f(0))
    g0, gT, h = p["initial_growth"], p["terminal_growth"], p["growth_half_life_quarters"]
    path = [p["start_revenue_rmb_bn"]]
    for t in range(1, H + 1):
        mu = (math.log(1 + gT) + (math.log(1 + g0) - math.log(1 + gT)) * 2 ** (-(t - 1) / h)) / 4
        mu += gshift[s][t] / 4 + rev_drift[s][t]
        l += mu
        path.append(math.exp(l) * f(t) * rev_level[s][t])
    Rmod[s] = path
D = Rmod[cap_seg]
Dt = [D[t] / f(t) for t in range(H + 1)]
R_other = [sum(Rmod[s][t] for s in segs if s != cap_seg) for t in range(H + 1)]
R0_rep = sum(p["start_revenue_rmb_bn"] for p in segs.values())
A_rep0 = segs[cap_seg]["start_revenue_rmb_bn"]
g0_ai = segs[cap_seg]["initial_growth"]

# ---------------------------------------------------------------- parameters
assets = SC["plan"]["assets"]
cstar = SC["capacity"]["asset_class"]
sig = {c: a["share"] for c, a in assets.items()}
life = {c: a["useful_life_quarters"] for c, a in assets.items()}
lag = {c: a["in_service_lag_quarters"] for c, a in assets.items()}
s_ = sig[cstar]; l_ = life[cstar]; lam = lag[cstar]
cap = SC["capacity"]; cost = SC["costs"]; inv = SC["investment"]; pr = SC["pricing"]
cu = SC["customers"]; val = SC["valuation"]; leg = SC["legacy"]
mu_max = cap["max_utilization"]; u0 = cap["start_unmet_demand_share"]
dhw = cap["hardware_cost_decline"]; delta = (1 - dhw) ** 0.25
kappa = lambda t: delta ** t
v_ = cost["variable_cost_share"]; vA = cost.get("ai_variable_cost_share", v_); eta = cost.get("ai_opex_rate", 0.0)
psi = cost.get("capacity_cost_rate", 0.0)
tau = cost["tax_rate"]; m0 = cost["start_ebita_margin"]; infl = cost["fixed_cost_inflation"]
omega = cost["working_capital_share"]
r = val["discount_rate"]
# The firm's hurdle rate (docs/model.md, "Notation"): the gate's and the user cost's
# discount factor; absent, the investor's discount rate.
r_h = inv.get("hurdle_rate", r); beta = (1 + r_h) ** -0.25
mu_t = inv["target_utilization"]; tau_adj = inv["adjustment_quarters"]; gw = inv["gate_width"]
hS = inv["premium_half_life_quarters"]; phi = 0.5 ** (1 / hS)
b_after = inv["budget_share_of_revenue"]; b_cf = inv["counterfactual_budget_share_of_revenue"]
b_plan_after = inv.get("plan_world_budget_share_after_plan", b_after)
k_nonai = inv["non_ai_capex_share_of_revenue"]
markup = pr["markup"]; gam = 0.5 ** (1 / pr["markup_half_life_quarters"]); S0 = pr["start_premium"]
a_sl = pr["premium_slope"]; Smax = pr["max_premium"]; theta = pr["premium_adjustment"]
wA = pr["alibaba_share"]; ur0 = pr["rest_of_market_start_unmet_share"]
uinf = pr["rest_of_market_long_run_unmet_share"]; hr = pr["rest_of_market_half_life_quarters"]
loss = cu["loss_rate"]; ret = cu["return_rate"]
KL = leg["capex_rmb_bn_per_quarter"]; lcs = leg["compute_share"]
# The three keys of the newer rules (absent: the older ones): the price elasticity of AI
# demand volume ε (None: V = 1/f_u), the order target's planning horizon H_p and the
# fixed costs' elasticity ε_F to the plan world's revenue R_plan(t) (docs/model.md, "Margins").
eps = pr.get("demand_price_elasticity")
Hp = inv.get("planning_horizon_quarters", 1)
epsF = cost.get("fixed_cost_revenue_elasticity", 0.0)

ann = lambda n: sum(beta ** j for j in range(n))
J = range(lam, lam + l_)

# ---------------------------------------------------------------- plan schedule
actual = {}
for k_, v in SC["plan"].get("actual_spend_rmb_bn", {}).items():
    y, q = k_.split("Q"); actual[(int(y) - sy) * 4 + int(q) - sq] = v
wts = [1.0] * L  # flat profile
assert SC["plan"]["profile"] == "flat"
# The recalibrated base has no execution multiplier and no upsizing (absent: 1 and none).
total = SC["plan"]["total_rmb_bn"] * SC["plan"].get("execution_multiplier", 1.0)
assert SC["plan"].get("upsizing", {}).get("probability", 0.0) == 0.0, "upsizing is not re-implemented"
hist = {}
for kk in range(L):
    t = p0 + kk
    if t <= 0:
        hist[t] = actual.get(t, SC["plan"]["total_rmb_bn"] * wts[kk] / sum(wts))
remaining = max(0.0, total - sum(hist.values()))
fut = [kk for kk in range(L) if p0 + kk > 0]
Sk = dict(hist)
for kk in fut:
    Sk[p0 + kk] = remaining * wts[kk] / sum(wts[j] for j in fut)

# ---------------------------------------------------------------- user cost, gate
C = (1 - tau) * (eta / 4) * sum(beta ** j for j in J) + sum(
    (sig[c] / s_) * (ann(l_) / ann(life[c]) - tau * beta ** lag[c] * ann(l_) / life[c]
                     + (1 - tau) * (psi / 4) * beta ** lag[c] * ann(l_)) for c in assets)
c0 = C / ((1 - tau) * (1 - vA) * mu_t * sum((beta * delta) ** j for j in J))

VMIN = -300


def legacy_capex(c):
    if VAR["legacy"] == "compute_share":
        return KL * lcs if c == cstar else KL * (1 - lcs) * sig[c] / (1 - s_)
    if VAR["legacy"] == "noncompute_sigma":
        return KL * lcs if c == cstar else KL * sig[c]
    return KL * sig[c]


def prestart_capex(world, t):
    """t in [p0, -1]: BAU budget b_cf*R(0); plan world at least the plan's reported spend."""
    B = b_cf * R0_rep
    N = k_nonai * R_other[0]
    bau = {c: (N * sig[c] / (1 - s_) if c != cstar else 0.0) + (B - N) * sig[c] for c in assets}
    if world == "plan" and Sk[t] > B:
        return {c: Sk[t] * sig[c] for c in assets}
    return bau


def history(world):
    capex = {c: defaultdict(float) for c in assets}
    units = defaultdict(float)
    for v in range(VMIN, p0):
        for c in assets:
            capex[c][v] = legacy_capex(c)
    for v in range(p0, 0):
        cx = prestart_capex(world, v)
        for c in assets:
            capex[c][v] = cx[c]
    for v in range(VMIN, 0):
        units[v] = capex[cstar][v] / kappa(v)
    return capex, units


def U_at(units, t):
    return sum(units[v] for v in range(t - lam - l_ + 1, t - lam + 1))


_, u_plan_hist = history("plan")
U_plan0 = U_at(u_plan_hist, 0)
P0 = A_rep0 / (mu_max * U_plan0)
G0 = P0 / (S0 * c0)
G = lambda t: (1 + markup) + (G0 - (1 + markup)) * gam ** t
Pb = lambda t: c0 * kappa(t) * G(t)  # f_u = 1 (risk off)


# ---------------------------------------------------------------- deterministic events
# Supported: risk off, or one regime that never changes with events whose hazard there is
# 0 or 1 and whose severity is fixed (docs/model.md, "Risk": an event fires in quarter
# t >= 1 when a uniform falls below the hazard; effect e(t) = a σ 2^{-(t-f)/h}).
LEVERS = ("unit_cost", "capacity_additions", "price", "plan_size", "market_tightness")
factor = {lever: defaultdict(lambda: 1.0) for lever in LEVERS[:4]}
shift = defaultdict(float)
if risk:
    regime = next(name for name, r in risk["regimes"].items() if r["initial_probability"] == 1.0)
    assert risk["regimes"][regime]["transition"][regime] == 1.0, "the regime must never change"
    for event in risk.get("events", {}).values():
        hazard = event["hazard"][regime]
        assert hazard in (0.0, 1.0), "deterministic events only"
        if hazard == 0.0:
            continue
        assert not event.get("repeatable", True), "fires once, in quarter 1"
        sigma = event.get("severity", 1.0)
        assert isinstance(sigma, float), "a fixed severity"
        for effect in event["effects"].values():
            a, h, lever = effect["size"], effect.get("half_life_quarters"), effect["lever"]
            if lever in ("revenue_level", "revenue_growth"):
                continue  # in the revenue model's paths above
            assert lever in LEVERS, lever
            for t in range(1, H + 1):
                e = a * sigma * (2 ** (-(t - 1) / h) if h else 1.0)
                if lever == "market_tightness":
                    shift[t] += e
                else:
                    factor[lever][t] *= 1 + e
f_u, f_c, f_p, f_s = (factor[k] for k in LEVERS[:4])


def u_rest(t):
    return min(0.95, max(0.0, uinf + (ur0 - uinf) * 0.5 ** (t / hr) + shift[t]))


def simulate(world):
    capex, units = history(world)
    M = [1.0]; S = [S0]
    out = defaultdict(dict)
    Rtot = {}
    for t in range(0, H + 1):
        U = U_at(units, t)
        # volume response to the price's distance from its trend (Pb is the trend: f_u = 1)
        V = 1 / f_u[t] if eps is None else (f_u[t] * S[t] / S0 * f_p[t]) ** (-eps)
        Q = D[t] / ((1 - u0) * S0 * Pb(t)) * V
        # --- orders: a unit costs K; the unit-cost factor moves the market's price too
        K = kappa(t) * f_u[t] / f_c[t]
        Pi = sum(units[v] for v in range(t - l_ + 1, t))
        Rr = units[t - l_]
        if t >= 4:
            gh = math.log(D[t] / D[t - 4]) / 4
        else:
            gh = (math.log(Dt[t] / Dt[0]) + (4 - t) * math.log(1 + g0_ai * float(VAR.get("g0scale", 1))) / 4) / 4
        # the peak of the H_p quarters from entry into service, today's response V(t)
        Qh = max(Dt[t] * math.exp((lam + k) * gh) * f(t + lam + k) / ((1 - u0) * S0 * Pb(t + lam + k)) * V
                 for k in range(Hp))
        T = M[t] * Qh / mu_t
        Kg = K / f_u[t]  # the gate expects today's unit-cost factor on both sides
        npv_u = s_ / Kg * ((1 - tau) * (1 - vA) * mu_t * sum(
            beta ** j * Pb(t + j) * (1 + (S[t] - 1) * phi ** j) for j in J) - Kg * C)
        w = min(1.0, max(0.0, 0.5 + npv_u / gw))
        nstar = w * max(0.0, Rr + (T - Pi - Rr) / tau_adj)
        # budget
        if VAR["rbar"] == "strict":
            Rbar = sum(Rtot.get(x, R0_rep) if x >= 0 else R0_rep for x in range(t - 4, t)) / 4
        else:
            Rbar = sum(Rtot[x] if x >= 1 else R0_rep for x in range(t - 4, t)) / 4
        if VAR["rbar"] == "incl_current": Rbar = sum(Rtot.get(x, R0_rep) if x>=0 else R0_rep for x in range(t - 3, t)) / 4 + (R_other[t] + D[t]) / 4
        if t <= plan_end:
            b = b_cf
        else:
            b = b_plan_after if world == "plan" else b_after
        N = k_nonai * R_other[t]
        n = min(nstar, max(0.0, b * Rbar - N) * s_ / K)
        cx = {c: (N * sig[c] / (1 - s_) if c != cstar else 0.0) + n * K * sig[c] / s_ for c in assets}
        if world == "plan" and t in Sk and Sk[t] * f_s[t] > sum(cx.values()):
            cx = {c: Sk[t] * f_s[t] * sig[c] for c in assets}
            n = Sk[t] * f_s[t] * s_ / K
        for c in assets:
            capex[c][t] = cx[c]
        units[t] = n  # f_c = 1
        # --- service
        MQ = M[t] * Q
        served = min(MQ, mu_max * U)
        u = 1 - served / MQ
        P = Pb(t) * f_u[t] * S[t] * f_p[t]
        A = served * P
        Rtot[t] = R_other[t] + A
        dep = sum(capex[c][v] / life[c] for c in assets
                  for v in range(t - lag[c] - life[c] + 1, t - lag[c] + 1))
        gbv = sum(capex[cstar][v] for v in range(t - lam - l_ + 1, t - lam + 1))
        gbv_all = sum(capex[c][v] for c in assets for v in range(t - lag[c] - life[c] + 1, t - lag[c] + 1))
        o = out
        o["U"][t] = U; o["Q"][t] = Q; o["orders"][t] = n; o["gate"][t] = w
        o["capex"][t] = sum(cx.values()); o["served"][t] = served; o["unmet"][t] = u
        o["price"][t] = P; o["premium"][t] = S[t]; o["retention"][t] = M[t]; o["A"][t] = A
        o["R"][t] = Rtot[t]; o["dep"][t] = dep; o["gbv"][t] = gbv; o["gbv_all"][t] = gbv_all; o["demand_rmb"][t] = MQ * P
        o["util"][t] = served / U; o["nstar"][t] = nstar; o["Rbar"][t] = Rbar
        o["mshare"][t] = A / (A + A_rep0 * (1 - wA) / wA * D[t] / D[0])
        # --- next quarter
        ut = wA * u + (1 - wA) * u_rest(t)
        Sst = min(Smax, 1 + a_sl * ut / (1 - ut))
        S.append(S[t] + theta * (Sst - S[t]))
        M.append(M[t] * (1 - loss * u) + ret * (1 - M[t]) * (1 - u))
    for t in range(p0, 0):
        out["capex"][t] = sum(capex[c][t] for c in assets)
        out["dep"][t] = sum(capex[c][v] / life[c] for c in assets
                            for v in range(t - lag[c] - life[c] + 1, t - lag[c] + 1))
    return out


plan = simulate("plan")
cf = simulate("cf")
F0 = (R_other[0] * (1 - v_) + plan["A"][0] * (1 - vA) - eta / 4 * plan["gbv"][0] - psi / 4 * plan["gbv_all"][0]
      - plan["dep"][0] - m0 * plan["R"][0])
# Fixed costs (docs/model.md, "Margins"): F(t) = F_0 (1+i)^{t/4} (R_plan(t)/R(0))^{ε_F},
# R_plan(t) the plan world's total revenue of quarter t (the business as run and reported),
# R(0) the reported start revenue (R_plan(0) = R(0)); the counterfactual carries the same
# F(t). (Not the revenue model's total B(t), the rule before, nor each world's own revenue;
# the budget keeps each world's trailing R̄.)
Rplan = [plan["R"][t] for t in range(H + 1)]
if abs(Rplan[0] - R0_rep) > 1e-12 * R0_rep:
    print(f"note: R_plan(0) = {Rplan[0]!r} differs from the reported R(0) = {R0_rep!r} "
          f"(docs/model.md, \"Margins\": R_plan(0) = R(0)); the docs' denominator R(0) is used")
for o in (plan, cf):
    for t in range(H + 1):
        F = F0 * (1 + infl) ** (t / 4) * (Rplan[t] / R0_rep) ** epsF
        o["fixed"][t] = F
        e = R_other[t] * (1 - v_) + o["A"][t] * (1 - vA) - eta / 4 * o["gbv"][t] - psi / 4 * o["gbv_all"][t] - F - o["dep"][t]
        o["ebita"][t] = e; o["opex"][t] = eta / 4 * o["gbv"][t]
        dwc = 0.0 if t == 0 else omega * (o["R"][t] - o["R"][t - 1])
        o["fcf"][t] = e * (1 - tau) + o["dep"][t] - o["capex"][t] - dwc
inc = {t: -(plan["capex"][t] - cf["capex"][t]) for t in range(p0, 0)}
for t in range(H + 1):
    inc[t] = plan["fcf"][t] - cf["fcf"][t]
# ---------------------------------------------------------------- return of the plan
# docs/model.md, "Return of the plan". Deterministic scenario: one regime, no spreads, so
# every quarter's rate is r_q and the finance rate is the path's WACC.
rq = (1 + r) ** 0.25 - 1
t0 = min(p0, 0)
ts = list(range(t0, H + 1))
flows_ex = [inc[t] for t in ts]  # CF_j without TV, j = t - t0
# incremental invested capital IC(t) = Σ_{s<=t} (ΔCapex − ΔDep + ΔWC) over the valuation
# flows, t >= t_0. Before the start quarter revenue is not simulated, so ΔWC = 0 there
# (and ΔWC(0) = 0), but the plan's pre-start vintages already in service do depreciate:
# ΔDep(t < 0) is the depreciation section's by-vintage difference. (The docs do not say
# which; the engine counts it: with ΔDep(t < 0) = 0 every IC is 1.98 RMB bn higher on
# policy_modes and the TV, RONIC, ROIC, IRR and MIRR disagree by 1e-3..1e-2.)
IC = {}
acc = 0.0
for t in ts:
    dcap = plan["capex"][t] - cf["capex"][t]
    ddep = plan["dep"][t] - cf["dep"][t]
    if t >= 1:
        dwc = omega * ((plan["R"][t] - plan["R"][t - 1]) - (cf["R"][t] - cf["R"][t - 1]))
    else:
        dwc = 0.0
    acc += dcap - ddep + dwc
    IC[t] = acc
Bss = sum((plan["ebita"][t] - cf["ebita"][t]) * (1 - tau) for t in range(H - 3, H + 1)) / 4
Kbar = sum(IC[t] for t in range(H - 3, H + 1)) / 4
Kbar8 = sum(IC[t] for t in range(H - 11, H - 7)) / 4
method = val.get("terminal_method", "value_driver")
g_cap = val.get("terminal_growth", 0.02)
TV, g_ann, ronic_ann = 0.0, None, None
if val.get("terminal_value", True):
    if method == "gordon":
        g_ann = g_cap
        gq = (1 + g_ann) ** 0.25 - 1
        TV = Bss * (1 + gq) / (rq - gq)
    elif method == "value_driver":
        if "terminal_ronic" in val:
            g_ann, ronic_ann = g_cap, val["terminal_ronic"]
            gq = (1 + g_ann) ** 0.25 - 1
            ronq = (1 + ronic_ann) ** 0.25 - 1
            TV = Bss * (1 + gq) * (1 - gq / ronq) / (rq - gq)
        elif Kbar / Kbar8 > 0:
            # "no TV on a path whose incremental capital changes sign over those two
            # years": read as the two yearly means K̄_{T−8}, K̄_T of opposite signs (the
            # engine's reading: a TV where IC(t) crosses 0 inside the window but the
            # means keep their sign); then RONIC is missing too, like g
            ronic_ann = (1 + Bss / Kbar) ** 4 - 1
            g_ann = min(g_cap, (Kbar / Kbar8) ** 0.5 - 1)
            gq = (1 + g_ann) ** 0.25 - 1
            TV = (1 + gq) * (Bss - gq * Kbar) / (rq - gq)
    else:
        sys.exit(f"unknown terminal_method {method}")
flows = list(flows_ex)
flows[-1] += TV
n = len(flows)
npv_at = lambda rho, fl=flows: sum(c_ / (1 + rho) ** j for j, c_ in enumerate(fl))
npv = npv_at(rq)
npv_ex = npv_at(rq, flows_ex)
tv_pv = TV / (1 + rq) ** (n - 1)
# MIRR: finance rate = WACC, reinvestment rate valuation.reinvestment_rate (default WACC)
rr = val.get("reinvestment_rate", r); rrq = (1 + rr) ** 0.25 - 1
fv_in = sum(c_ * (1 + rrq) ** (n - 1 - j) for j, c_ in enumerate(flows) if c_ > 0)
pv_out = sum(-c_ / (1 + rq) ** j for j, c_ in enumerate(flows) if c_ < 0)
mirr = (1 + ((fv_in / pv_out) ** (1 / (n - 1)) - 1)) ** 4 - 1 if fv_in > 0 and pv_out > 0 else None
# IRR: roots of NPV(ρ) on a fine grid in x = ln(1 + ρ), ρ ∈ [−0.9999, 1000], bisected
xs = [math.log(1e-4) + (math.log(1001) - math.log(1e-4)) * i / 200000 for i in range(200001)]


def npv_x(x):
    # Σ CF_j e^{−jx}, scaled by e^{(n−1)x} when x < 0 so it never overflows (same sign)
    if x >= 0:
        return sum(c_ * math.exp(-j * x) for j, c_ in enumerate(flows))
    return sum(c_ * math.exp((n - 1 - j) * x) for j, c_ in enumerate(flows))


vals = [npv_x(x) for x in xs]
roots = []
for i in range(len(xs) - 1):
    a, b = vals[i], vals[i + 1]
    if a == 0.0:
        roots.append(xs[i])
    elif a * b < 0:
        lo, hi = xs[i], xs[i + 1]
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if (npv_x(mid) > 0) == (a > 0):
                lo = mid
            else:
                hi = mid
        roots.append(0.5 * (lo + hi))
irr = math.exp(4 * roots[0]) - 1 if len(roots) == 1 else None
# ROIC of projected year k: incremental NOPAT of quarters 4k−3..4k over the mean IC(t);
# missing when that mean is not positive (docs/outputs.md: "a ratio with no incremental
# capital"; the engine leaves it empty for a negative mean too)
roic = {}
for k in range(1, H // 4 + 1):
    qs = range(4 * k - 3, 4 * k + 1)
    Kk = sum(IC[t] for t in qs) / 4
    roic[k] = sum((plan["ebita"][t] - cf["ebita"][t]) * (1 - tau) for t in qs) / Kk if Kk > 0 else None

mine = {
    "revenue_total_rmb_bn": plan["R"], "revenue_ai_rmb_bn": plan["A"],
    "revenue_total_counterfactual_rmb_bn": cf["R"],
    "revenue_ai_counterfactual_rmb_bn": cf["A"],
    "revenue_core_rmb_bn": dict(enumerate(Rmod["core"])),
    "revenue_international_rmb_bn": dict(enumerate(Rmod["international"])),
    "ai_capacity_units": plan["U"], "ai_capacity_counterfactual_units": cf["U"],
    "capex_rmb_bn": {t: plan["capex"][t] for t in range(H + 1)},
    "capex_counterfactual_rmb_bn": {t: cf["capex"][t] for t in range(H + 1)},
    "ai_unmet_share": plan["unmet"], "ai_unmet_share_counterfactual": cf["unmet"],
    "ai_price_per_unit_rmb_bn": plan["price"], "ai_price_premium": plan["premium"],
    "ai_price_premium_counterfactual": cf["premium"],
    "ai_customer_retention": plan["retention"], "ai_customer_retention_counterfactual": cf["retention"],
    "ai_orders_units": plan["orders"], "ai_orders_counterfactual_units": cf["orders"],
    "ai_investment_gate": plan["gate"], "ai_investment_gate_counterfactual": cf["gate"],
    "depreciation_rmb_bn": plan["dep"], "depreciation_counterfactual_rmb_bn": cf["dep"],
    "ebita_rmb_bn": plan["ebita"], "ebita_counterfactual_rmb_bn": cf["ebita"],
    "fcf_rmb_bn": plan["fcf"], "fcf_counterfactual_rmb_bn": cf["fcf"],
    "incremental_fcf_rmb_bn": {t: inc[t] for t in range(H + 1)},
    "ai_demand_rmb_bn": plan["demand_rmb"], "ai_utilization": plan["util"],
    "ai_utilization_counterfactual": cf["util"],
    "ai_unmet_demand_rmb_bn": {t: plan["demand_rmb"][t] - plan["A"][t] for t in range(H + 1)},
    "ai_unmet_demand_counterfactual_rmb_bn": {t: cf["demand_rmb"][t] - cf["A"][t] for t in range(H + 1)},
    "ai_market_share": plan["mshare"], "ai_market_share_counterfactual": cf["mshare"],
    "ai_opex_rmb_bn": plan["opex"],
    "ebita_margin": {t: plan["ebita"][t] / plan["R"][t] for t in range(H + 1)},
    "ebita_margin_counterfactual": {t: cf["ebita"][t] / cf["R"][t] for t in range(H + 1)},
}
scal = {"plan_npv_rmb_bn": npv, "plan_terminal_value_pv_rmb_bn": tv_pv,
        "plan_npv_excl_terminal_rmb_bn": npv_ex, "plan_terminal_growth": g_ann,
        "plan_terminal_ronic": ronic_ann, "plan_mirr": mirr, "plan_irr": irr,
        "plan_irr_root_count": float(len(roots)),
        **{f"plan_roic_year_{k}": v for k, v in roic.items()},
        "ai_price_to_user_cost_start": P0 / c0, "ai_user_cost_start_rmb_bn": c0,
        "plan_incremental_capex_rmb_bn": sum(plan["capex"][t] - cf["capex"][t] for t in range(t0, H + 1))}

# ---------------------------------------------------------------- compare
eng = defaultdict(dict)
for row in csv.DictReader(open(f"{HERE}/paths.csv")):
    if row["path"] == "0" and row["value"] != "":
        eng[row["metric"]][int(row["quarter_index"])] = float(row["value"])
engs = {row["metric"]: float(row["value"]) for row in csv.DictReader(open(f"{HERE}/path_scalars.csv"))
        if row["path"] == "0" and row["value"] != ""}


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-9) if abs(a - b) > 1e-12 else 0.0


failures = []
for k, mv in mine.items():
    if k not in eng:
        failures.append(f"{k}: not in the engine's output")
        continue
    worst, wt = 0.0, None
    for t in range(H + 1):
        d = rel(mv[t], eng[k][t])
        if d > worst:
            worst, wt = d, t
    print(f"{k:42s} max relative difference {worst:9.2e}" + (f" (t = {wt})" if wt is not None else ""))
    if worst > 1e-9:
        failures.append(f"{k}: {worst:.3e} at t = {wt}")
for k, v in scal.items():
    if v is None:  # missing on the path: the engine's cell must be empty too
        print(f"{k:42s} reference missing, engine {engs.get(k, 'missing')}")
        if k in engs:
            failures.append(f"{k}: missing in the reference, {engs[k]} in the engine")
        continue
    if k not in engs:  # (rel() of a NaN is 0: test presence first)
        print(f"{k:42s} reference {v:.10g}, engine missing")
        failures.append(f"{k}: {v:.10g} in the reference, missing in the engine")
        continue
    d = rel(v, engs[k])
    print(f"{k:42s} reference {v:.10g}, engine {engs[k]}, relative difference {d:.2e}")
    if not d <= 1e-9:
        failures.append(f"{k}: {d:.3e}")
if failures:
    sys.exit("policy reference disagrees with the engine:\n  " + "\n  ".join(failures))
print(f"policy reference: {len(mine)} quarterly metrics and {len(scal)} scalars agree with the engine (1e-9)")
