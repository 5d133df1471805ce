"""The same planning model written constraint by constraint through PuLP (solved with its bundled CBC).

Not used by :func:`dcindex.plan.plan`. It exists as (1) the baseline of bench/bench_plan.py (a generic
modelling layer building one constraint at a time) and (2) an independent check of the vectorised matrix
builder in model.py: tests compare optimal objectives of both on small scenarios. Needs ``pulp``
(test extra). Soft-rule slacks are not mirrored (hard rules only).
"""
from __future__ import annotations

import numpy as np

from .model import green_share_pue, model_data, opening_big_m
from .scenario import Scenario


def build_pulp(sc: Scenario):
    """Return (problem, variables dict, objective offset) for a scenario with hard rules."""
    import warnings

    with warnings.catch_warnings():  # PuLP 3.x deprecates LpVariable(...) in favour of a 4.0 API
        warnings.simplefilter("ignore", DeprecationWarning)
        return _build_pulp(sc)


def _build_pulp(sc: Scenario):
    import pulp

    D = model_data(sc)
    spec = sc.spec
    R = spec.rules
    O, C, S, Y, P = (range(len(D.origins)), range(len(D.classes)), range(len(D.sites)), range(len(D.years)),
                     range(len(D.periods)))
    df = D.df
    rem = [sum(df[t] for t in Y if t >= y) for y in Y]
    prob = pulp.LpProblem("plan", pulp.LpMinimize)
    x, u, b, idle, q, r, e, g, w = {}, {}, {}, {}, {}, {}, {}, {}, {}
    blocked = lambda o, c, s: R.latency.enabled and D.latency[o, s] > D.class_maxlat[c] + 1e-12  # noqa: E731
    for o in O:
        for c in C:
            for s in S:
                for y in Y:
                    x[o, c, s, y] = pulp.LpVariable(f"x_{o}_{c}_{s}_{y}", 0, 0 if blocked(o, c, s) else None)
            for y in Y:
                soft = R.demand.mode == "soft" or not R.demand.enabled
                u[o, c, y] = pulp.LpVariable(f"u_{o}_{c}_{y}", 0, None if soft else 0)
    for s in S:
        for y in Y:
            cat = "Integer" if (D.integer_build[s] and not spec.solver.relax_integers) else "Continuous"
            b[s, y] = pulp.LpVariable(f"b_{s}_{y}", 0, None, cat=cat)
            idle[s, y] = pulp.LpVariable(f"idle_{s}_{y}", 0)
            for p in P:
                q[s, y, p] = pulp.LpVariable(f"q_{s}_{y}_{p}", 0)
                r[s, y, p] = pulp.LpVariable(f"r_{s}_{y}_{p}", 0)
                e[s, y, p] = pulp.LpVariable(f"e_{s}_{y}_{p}", 0)
                g[s, y, p] = pulp.LpVariable(f"g_{s}_{y}_{p}", 0)
    opens = [s for s in S if D.openable[s]]
    for s in opens:
        for y in Y:
            cat = "Continuous" if spec.solver.relax_integers else "Binary"
            w[s, y] = pulp.LpVariable(f"w_{s}_{y}", 0, 1, cat=cat)
    k = D.module
    acc_loc = spec.economics.carbon_accounting == "location"
    obj = []
    for (o, c, s, y), v in x.items():
        obj.append(D.netcost[o, s] * D.class_netfactor[c] * df[y] * v)
    if R.demand.enabled and R.demand.mode == "soft":
        for (o, c, y), v in u.items():
            obj.append(R.demand.penalty * df[y] * v)
    for (s, y), v in b.items():
        obj.append(k[s] * (D.capex[s] * D.annuity + D.fixed_om[s]) * rem[y] * v)
    for (s, y), v in w.items():
        obj.append(D.open_cost[s] * D.annuity * rem[y] * v)
    for (s, y, p) in r:
        obj.append(D.retrofit_cost[s] * df[y] * r[s, y, p])
        obj.append((D.grid_price[s] * D.price_factor[p] * df[y] + D.ef[s] * D.carbon_price[y] * df[y]) * e[s, y, p])
        obj.append((D.green_price[s] * df[y] + (D.ef[s] * D.carbon_price[y] * df[y] if acc_loc else 0.0)) * g[s, y, p])
    prob += pulp.lpSum(obj)
    offset = float((D.existing * D.fixed_om).sum() * df.sum())
    shift = [c for c in C if D.shiftable[c]]
    nonshift = [c for c in C if not D.shiftable[c]]
    has_shift = bool(shift)
    shift_on = has_shift and R.time_shift.enabled

    def it_racks(s, y, p):
        terms = [x[o, c, s, y] for o in O for c in nonshift]
        if has_shift:
            terms.append(q[s, y, p])
        return pulp.lpSum(terms)

    def cum_b(s, y):
        return pulp.lpSum(k[s] * b[s, t] for t in Y if t <= y)

    for o in O:
        for c in C:
            for y in Y:
                prob += pulp.lpSum(x[o, c, s, y] for s in S) + u[o, c, y] == D.demand[o, c, y]
    for s in S:
        for y in Y:
            used = pulp.lpSum(x[o, c, s, y] for o in O for c in C)
            prob += used + idle[s, y] - cum_b(s, y) == D.existing[s]
            if has_shift:
                batch = pulp.lpSum(x[o, c, s, y] for o in O for c in shift)
                if shift_on:
                    prob += pulp.lpSum(D.hours[p] / 24.0 * q[s, y, p] for p in P) == batch
                    for p in P:
                        prob += it_racks(s, y, p) - cum_b(s, y) <= D.existing[s]
                else:
                    for p in P:
                        prob += q[s, y, p] == batch
            for p in P:
                it = it_racks(s, y, p)
                prob += e[s, y, p] + g[s, y, p] + r[s, y, p] - D.pue_design[s] * D.eps[p] * it == 0
                prob += r[s, y, p] - (D.pue_design[s] - D.pue_best[s]) * D.eps[p] * it <= 0
                if R.green_supply.enabled:
                    prob += g[s, y, p] <= D.green_avail[s, y] * D.green_profile[p]
    if R.pue_cap.enabled:
        for s in S:
            cap = R.pue_cap.west if D.west[s] else R.pue_cap.east
            if (R.pue_cap.applies_to == "hub" and not D.hub[s]) or D.pue_design[s] <= cap + 1e-12:
                continue
            for y in Y:
                for p in P:
                    prob += r[s, y, p] - (D.pue_design[s] - cap) * D.eps[p] * it_racks(s, y, p) >= 0
    nnew = {}
    if R.green_share.enabled:
        sh = R.green_share.min_share
        pue_att = green_share_pue(D, R)
        for s in S:
            if R.green_share.applies_to == "hub" and not D.hub[s]:
                continue
            for y in Y:
                for p in P:  # racks running on new capacity (existing stock first)
                    nnew[s, y, p] = pulp.LpVariable(f"n_{s}_{y}_{p}", 0)
                    prob += nnew[s, y, p] - it_racks(s, y, p) >= -D.existing[s]
                prob += (pulp.lpSum(g[s, y, p] for p in P)
                         - sh * pulp.lpSum(pue_att[s] * D.eps[p] * nnew[s, y, p] for p in P) >= 0)
    if R.utilisation_floor.enabled:
        us = R.utilisation_floor.min_share
        for s in S:
            if (R.utilisation_floor.applies_to == "hub" and not D.hub[s]) or not (D.existing[s] > 0 or D.max_new[s] > 0):
                continue
            for y in Y:
                prob += pulp.lpSum(x[o, c, s, y] for o in O for c in C) - us * cum_b(s, y) >= us * D.existing[s]
    if R.hub_share.enabled:
        sh = R.hub_share.min_share
        groups = [list(Y)] if R.hub_share.scope == "horizon" else [[y] for y in Y]
        for ys in groups:
            prob += pulp.lpSum((float(D.hub[s]) - sh) * k[s] * b[s, y] for s in S for y in ys) >= 0
    big_m = opening_big_m(D, R)
    lim_hard = R.site_limits.enabled and R.site_limits.mode == "hard"
    for s in S:
        if D.openable[s]:
            m_s = D.max_new[s] if (lim_hard and np.isfinite(D.max_new[s])) else big_m[s]
            for y in Y:
                prob += cum_b(s, y) - m_s * pulp.lpSum(w[s, t] for t in Y if t <= y) <= 0
            prob += pulp.lpSum(w[s, y] for y in Y) <= 1
        if R.site_limits.enabled and np.isfinite(D.max_new[s]) and not (D.openable[s] and lim_hard):
            prob += pulp.lpSum(k[s] * b[s, y] for y in Y) <= D.max_new[s]
    if R.bandwidth.enabled:
        for kk, (fr, to) in enumerate(D.corridors):
            for y in Y:
                if not np.isfinite(D.corridor_limit[kk, y]):
                    continue
                prob += pulp.lpSum(D.class_gbps[c] * x[o, c, s, y] for o in O for c in C for s in S
                                   if D.origin_region[o] == fr and D.site_region[s] == to) <= D.corridor_limit[kk, y]
    ec = R.emission_cap
    if ec.enabled:
        def em(ys):
            terms = [D.ef[s] * e[s, y, p] for s in S for y in ys for p in P]
            if ec.accounting == "location":
                terms += [D.ef[s] * g[s, y, p] for s in S for y in ys for p in P]
            return pulp.lpSum(terms)
        if ec.total_tco2 is not None:
            prob += em(list(Y)) <= ec.total_tco2
        else:
            for y in Y:
                prob += em([y]) <= ec.per_year_tco2[D.years[y]]
    return prob, {"x": x, "u": u, "b": b, "w": w, "e": e, "g": g, "r": r, "q": q, "idle": idle, "n": nnew}, offset


def solve_pulp(sc: Scenario, *, time_limit: float | None = None, msg: bool = False):
    """Build and solve with CBC; returns (status, objective incl. offset, build seconds, solve seconds)."""
    import time

    import pulp

    t0 = time.perf_counter()
    prob, _vars, offset = build_pulp(sc)
    t1 = time.perf_counter()
    import warnings

    with warnings.catch_warnings():  # PULP_CBC_CMD (the bundled CBC) is deprecated for PuLP 4.0
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=msg, timeLimit=time_limit, gapRel=sc.spec.solver.mip_rel_gap)
        prob.solve(solver)
    t2 = time.perf_counter()
    status = pulp.LpStatus[prob.status]
    val = pulp.value(prob.objective)
    return status, (float(val) + offset) if val is not None else float("nan"), t1 - t0, t2 - t1
