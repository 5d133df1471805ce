"""``plan()``: load, build, solve, explain; rule costs, cost-carbon frontier and scenario comparison."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError

from .diagnose import SWITCHABLE, PlanInfeasibleError, diagnose
from .model import build_model, is_feasible_point, map_solution
from .results import (PlanResult, extract_tables, indicators_table, location_tables, parameter_marginals,
                      shadow_price_table)
from .scenario import Scenario, load_scenario
from .solve import solve

_PARAMS = {
    "utilisation_floor": ("min_share", "utilisation_floor.min_share"),
    "hub_share": ("min_share", "hub_share.min_share"),
    "green_share": ("min_share", "green_share.min_share"),
    "pue_cap": ("east/west", None),
}


def _version() -> str:
    try:
        from dcindex import __version__
        return __version__
    except Exception:  # pragma: no cover
        return "unknown"


def as_scenario(scenario: str | Path | Scenario, overrides: dict[str, Any] | None = None) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario.with_changes(overrides) if overrides else scenario
    return load_scenario(scenario, overrides)


def solve_scenario(sc: Scenario, *, duals: bool = True, warm: tuple | None = None):
    """Build and solve; ``warm=(model, x)`` of a related plan is mapped onto the new model as a MIP start."""
    m = build_model(sc)
    start = map_solution(warm[0], warm[1], m) if warm is not None else None
    s = solve(m, time_limit=sc.spec.solver.time_limit_s, mip_gap=sc.spec.solver.mip_rel_gap, duals=duals,
              start=start)
    return m, s


def plan(scenario: str | Path | Scenario, *, out: str | Path | None = None, sweep: dict[str, Any] | None = None,
         compare: str | Path | Scenario | PlanResult | None = None, rule_costs: bool | None = None,
         overrides: dict[str, Any] | None = None, raise_on_infeasible: bool = True) -> PlanResult:
    """Plan compute layout for a scenario (YAML path or :class:`Scenario`).

    sweep: {"parameter": "carbon_price"|"emission_cap", "values": [...], "accounting": "net"|"location"} traces
    the cost-carbon frontier (defaults to the scenario's ``frontier:`` entry). compare: a baseline scenario,
    its path, a result folder or a PlanResult. rule_costs: re-solve with each enabled rule off to report its total
    cost (default: scenario ``outputs.rule_costs``). Infeasible scenarios raise :class:`PlanInfeasibleError`
    naming the conflicting rules (with ``raise_on_infeasible=False`` the result carries the diagnosis).
    """
    sc = as_scenario(scenario, overrides)
    m, s = solve_scenario(sc)
    meta = _meta(sc, m, s)
    if s.status not in ("optimal", "time_limit") or (s.status == "time_limit" and not np.isfinite(s.objective)):
        if s.status == "unbounded":  # pragma: no cover - costs are validated non-negative
            raise InputError("the plan is unbounded.", where=f"scenario '{sc.spec.name}'",
                             hint="check for negative costs or prices.")
        if s.status.startswith("error") or (s.status == "time_limit"):
            raise InputError(f"the solver stopped without a plan ({s.status}).", where=f"scenario '{sc.spec.name}'",
                             hint="raise solver.time_limit_s, loosen solver.mip_rel_gap or set "
                                  "solver.relax_integers: true.")
        diag, msg, hint = diagnose(sc, time_limit=sc.spec.solver.time_limit_s)
        meta["infeasibility"] = msg
        res = PlanResult(name=sc.spec.name, status="infeasible", objective_pv=float("nan"), meta=meta,
                         flows=pd.DataFrame(), demand=pd.DataFrame(), buildout=pd.DataFrame(),
                         utilisation=pd.DataFrame(), energy=pd.DataFrame(), emissions=pd.DataFrame(),
                         costs=pd.DataFrame(), shadow_prices=pd.DataFrame(), rules=pd.DataFrame(),
                         indicators=pd.DataFrame(columns=["unit", "year", "indicator", "value"]), diagnosis=diag,
                         scenario=sc, model=m, solution=s, **location_tables(sc))
        if out is not None:
            res.to_dir(out)
        if raise_on_infeasible:
            raise PlanInfeasibleError(msg, hint=hint, where=f"scenario '{sc.spec.name}'", diagnosis=diag)
        return res
    tabs = extract_tables(sc, m, s)
    sp_ = shadow_price_table(m, s)
    rc = sc.spec.outputs.rule_costs if rule_costs is None else rule_costs
    rules = rules_table(sc, m, s, sp_, rule_costs=rc)
    if rules.attrs.get("rule_costs"):
        meta["rule_costs"] = rules.attrs["rule_costs"]
    ind = indicators_table(sc, tabs, m)
    res = PlanResult(name=sc.spec.name, status=s.status, objective_pv=s.objective, meta=meta, shadow_prices=sp_,
                     rules=rules, indicators=ind, scenario=sc, model=m, solution=s, **tabs, **location_tables(sc))
    fr = sweep if sweep is not None else (sc.spec.frontier.model_dump() if sc.spec.frontier else None)
    if fr:
        res.frontier = frontier(sc, fr["parameter"], fr["values"], fr.get("accounting"))
    if compare is not None:
        base = compare if isinstance(compare, PlanResult) else _baseline(compare)
        res.compare = compare_results(res, base)
    if out is not None:
        res.to_dir(out)
    return res


def _baseline(b) -> PlanResult:
    if isinstance(b, (str, Path)) and not Path(b).exists():
        raise InputError(f"the baseline {b} does not exist.", where="compare (--compare)",
                         hint="pass a baseline scenario .yaml or a result folder written by 'dcindex plan --out'.")
    if isinstance(b, (str, Path)) and Path(b).is_dir() and (Path(b) / "summary.json").is_file():
        return PlanResult.from_dir(b)
    return plan(b, rule_costs=False, overrides={"frontier": None})


def _meta(sc: Scenario, m, s) -> dict[str, Any]:
    t = sc.spec.tables
    tabs = {k: getattr(t, k).model_dump() for k in type(t).model_fields if getattr(t, k) is not None}
    return {
        "scenario_name_zh": sc.spec.name_zh, "dcindex_version": _version(), "solver": "HiGHS (highspy)",
        "mip": bool(m.is_mip), "mip_gap": float(s.mip_gap) if np.isfinite(s.mip_gap) else None,
        "dual_basis": s.dual_basis, "n_variables": int(m.n_cols), "n_constraints": int(m.n_rows),
        "n_integer": int(m.integer.sum()), "input_sha256": dict(sorted(sc.sha256.items())), "tables": tabs,
        "illustrative_tables": sorted(k for k, v in tabs.items() if v["status"] == "illustrative"),
        "derived_tables": sorted(k for k, v in tabs.items() if v["status"] == "derived"),
        "emission_factor_year": sc.spec.emission_factors.year,
        "carbon_accounting_in_objective": sc.spec.economics.carbon_accounting,
        "years": list(sc.years), "units": {"racks": "standard racks (occupied)", "energy": "MWh",
                                           "emissions": "tCO2", "money": "yuan; *_pv = present value at base year"},
    }


def rules_table(sc: Scenario, m, s, sp_: pd.DataFrame, *, rule_costs: bool, only=None) -> pd.DataFrame:
    """One row per rule: switch, parameter, binding rows, marginal value of the parameter (from the duals of the plan,
    per percentage point of a share or 0.01 of PUE), its LP-relaxation view for a MIP, and the total cost of the rule
    (re-solve without it; ``only``: restrict those re-solves to these rule names) with a proven interval."""
    marg = parameter_marginals(m, s)
    rules = sc.spec.rules
    rows = []
    for name in SWITCHABLE + ("time_shift",):
        rr = getattr(rules, name)
        sub = sp_[sp_["rule"] == name] if len(sp_) else sp_
        binding = int((sub["binding"] & (sub["dual_pv"].abs() > 1e-6)).sum()) if len(sub) else 0
        row = {"rule": name, "enabled": bool(rr.enabled), "mode": getattr(rr, "mode", "hard"), "parameter": None,
               "value": None, "binding_rows": binding, "marginal_pv": np.nan, "marginal_unit": None,
               "cost_of_rule_pv": np.nan, "note": ""}
        if name in ("utilisation_floor", "hub_share", "green_share"):
            row["parameter"], row["value"] = "min_share", rr.min_share
            key = f"{name}.min_share"
            if rr.enabled:
                row["marginal_pv"] = marg.get(key, 0.0) * 0.01
                row["marginal_unit"] = "yuan (PV) per percentage point of min_share"
        elif name == "pue_cap":
            row["parameter"], row["value"] = "east/west", f"{rr.east}/{rr.west}"
            if rr.enabled:
                row["marginal_pv"] = (marg.get("pue_cap.east", 0.0) + marg.get("pue_cap.west", 0.0)) * 0.01
                row["marginal_unit"] = "yuan (PV) per 0.01 rise of both PUE caps"
                row["note"] = (f"east cap: {marg.get('pue_cap.east', 0.0) * 0.01:,.6g}; west cap: "
                               f"{marg.get('pue_cap.west', 0.0) * 0.01:,.6g} yuan (PV) per 0.01")
        elif name == "emission_cap" and rr.enabled:
            row["parameter"] = "total_tco2" if rr.total_tco2 is not None else "per_year_tco2"
            row["value"] = rr.total_tco2 if rr.total_tco2 is not None else "per year"
            if rr.total_tco2 is not None and len(sub):
                row["marginal_pv"] = float(sub["dual_pv"].sum())
                row["marginal_unit"] = "yuan (PV) per tCO2 of cap (negative: a looser cap saves money)"
        elif name == "demand":
            row["note"] = "duals: marginal cost of serving one more rack-year (shadow_prices)"
        if m.is_mip and rr.enabled:
            row["note"] = (row["note"] + "; " if row["note"] else "") + "marginals from the LP with integers fixed"
        rows.append(row)
    df = pd.DataFrame(rows)
    # for a MIP, rules acting only on integer decisions (hub share of new modules) have zero dual in the LP with
    # integers fixed; the LP relaxation's marginals are reported beside them as a second, clearly labelled view
    df["marginal_lp_relaxation_pv"] = np.nan
    if m.is_mip:
        m3, s3 = solve_scenario(sc.with_changes({"solver.relax_integers": True}))
        if s3.status == "optimal":
            marg3 = parameter_marginals(m3, s3)
            for i, r in df.iterrows():
                if not r["enabled"]:
                    continue
                if r["rule"] in ("utilisation_floor", "hub_share", "green_share"):
                    df.loc[i, "marginal_lp_relaxation_pv"] = marg3.get(f"{r['rule']}.min_share", 0.0) * 0.01
                elif r["rule"] == "pue_cap":
                    df.loc[i, "marginal_lp_relaxation_pv"] = (marg3.get("pue_cap.east", 0.0)
                                                              + marg3.get("pue_cap.west", 0.0)) * 0.01
                elif r["rule"] == "emission_cap" and "emission_cap" in m3.rows and r["parameter"] == "total_tco2":
                    rb = m3.rows["emission_cap"]
                    df.loc[i, "marginal_lp_relaxation_pv"] = float(s3.row_dual[rb.offset:rb.offset + rb.size].sum())
    else:
        df["marginal_lp_relaxation_pv"] = df["marginal_pv"]
    for c, v in (("cost_of_rule_low_pv", np.nan), ("cost_of_rule_high_pv", np.nan), ("cost_of_rule_bound_pv", np.nan),
                 ("cost_of_rule_flag", ""), ("objective_without_rule_pv", np.nan), ("rule_cost_resolves", "")):
        df[c] = v
    df.attrs["rule_costs"] = None
    if rule_costs:
        df.attrs["rule_costs"] = _rule_costs(sc, m, s, df, only)
    return df


#: rule-cost flags (rules.csv column cost_of_rule_flag; summary and CLI)
FLAG_ZERO = "within solver tolerance"
FLAG_TIME = "re-solve stopped at its time limit"


def _rule_costs(sc: Scenario, m, s, df: pd.DataFrame, only) -> dict:
    """Fill the cost columns of the rules table: objective with all rules minus objective with one rule off.

    LP: exact (two optimal objectives). MIP: both sides are re-solved at ``outputs.rule_cost_mip_gap`` (default half
    of ``solver.mip_rel_gap``); the plan with all rules starts the search without each rule (switching a rule off
    only relaxes the problem, so the search without it never ends above the plan with it), and a plan found without
    a rule that happens to satisfy it improves the plan with all rules (cross-feeding). With incumbents z_on, z_off
    and proven dual bounds L_on, L_off, the true cost lies in [max(0, L_on - z_off), z_on - L_off]: that interval is
    reported (low, high, and the "+-" bound around the point estimate z_on - z_off), and costs whose interval
    reaches 0 are flagged as indistinguishable from zero instead of printing solver noise.
    """
    out = sc.spec.outputs
    gap = out.rule_cost_mip_gap if out.rule_cost_mip_gap is not None else sc.spec.solver.mip_rel_gap / 2.0
    tl = out.rule_cost_time_limit_s if out.rule_cost_time_limit_s is not None else sc.spec.solver.time_limit_s
    zero_tol = 1e-9 * max(1.0, abs(s.objective))
    on_status, on_gap = s.status, s.mip_gap
    z_on, l_on, x_on = s.objective, (s.bound if m.is_mip else s.objective), s.x
    if m.is_mip:
        s_on = solve(m, time_limit=tl, mip_gap=gap, duals=False, start=s.x)
        on_status, on_gap = s_on.status, s_on.mip_gap
        if s_on.status in ("optimal", "time_limit") and np.isfinite(s_on.objective):
            if s_on.objective < z_on:
                z_on, x_on = s_on.objective, s_on.x
            if np.isfinite(s_on.bound):
                l_on = max(l_on, s_on.bound) if np.isfinite(l_on) else s_on.bound
    offs: dict[int, tuple] = {}
    for i, r in df.iterrows():
        if not r["enabled"] or r["rule"] in ("demand", "time_shift") or (only is not None and r["rule"] not in only):
            continue
        sc_off = sc.with_changes({f"rules.{r['rule']}.enabled": False})
        m2 = build_model(sc_off)
        start = map_solution(m, x_on, m2) if m2.is_mip else None
        s2 = solve(m2, time_limit=tl, mip_gap=gap, duals=False, start=start)
        if start is not None and s2.status in ("optimal", "time_limit") and is_feasible_point(m2, start):
            v = float(m2.c @ start + m2.offset)
            if v < s2.objective:  # the solver did not keep the start (tolerances): the start is a plan without the rule
                s2 = replace(s2, objective=v, x=start)
        offs[i] = (m2, s2)
        if m.is_mip and s2.status in ("optimal", "time_limit") and np.isfinite(s2.objective):
            back = map_solution(m2, s2.x, m)
            if is_feasible_point(m, back):
                v = float(m.c @ back + m.offset)
                if v < z_on:  # the plan without the rule satisfies it: a better plan with all rules
                    z_on, x_on = v, back
    for i, (m2, s2) in offs.items():
        flags = []
        ok = s2.status in ("optimal", "time_limit") and np.isfinite(s2.objective)
        if s2.status == "time_limit" or on_status == "time_limit":
            flags.append(FLAG_TIME)
        df.loc[i, "rule_cost_resolves"] = (f"with rule: {on_status}" + (f" (gap {on_gap:.2g})" if m.is_mip else "")
                                           + f"; without: {s2.status}"
                                           + (f" (gap {s2.mip_gap:.2g})" if m2.is_mip and ok else ""))
        if not ok:
            df.loc[i, "cost_of_rule_flag"] = "; ".join(flags + [f"re-solve without the rule failed ({s2.status})"])
            continue
        l_off = s2.bound if m2.is_mip else s2.objective
        if not np.isfinite(l_off):
            l_off = -np.inf
        point = z_on - s2.objective
        if m.is_mip or m2.is_mip:
            lo = max(0.0, l_on - s2.objective) if np.isfinite(l_on) else 0.0
            hi = max(0.0, z_on - l_off)
            point = min(max(point, lo), hi)
        else:
            lo = hi = point
        df.loc[i, "cost_of_rule_pv"] = point
        df.loc[i, "cost_of_rule_low_pv"] = lo
        df.loc[i, "cost_of_rule_high_pv"] = hi
        df.loc[i, "cost_of_rule_bound_pv"] = max(point - lo, hi - point)
        df.loc[i, "objective_without_rule_pv"] = s2.objective
        if hi <= zero_tol:  # proven zero (up to solver tolerances): no noise printed
            df.loc[i, ["cost_of_rule_pv", "cost_of_rule_low_pv", "cost_of_rule_high_pv", "cost_of_rule_bound_pv"]] = 0.0
        elif lo <= zero_tol:  # cannot be told apart from zero at this gap
            flags.insert(0, FLAG_ZERO)
        df.loc[i, "cost_of_rule_flag"] = "; ".join(flags)
    return {"objective_with_all_rules_pv": z_on, "bound_with_all_rules_pv": l_on if np.isfinite(l_on) else None,
            "mip_rel_gap": gap if m.is_mip else None, "time_limit_s": tl,
            "objective_improved_over_plan": bool(z_on < s.objective - zero_tol)}


def frontier(sc: Scenario, parameter: str, values: list[float], accounting: str | None = None) -> pd.DataFrame:
    """Cost-carbon frontier: re-solve over carbon prices (yuan/t, all years) or total emission caps (tCO2)."""
    acc = accounting or (sc.spec.economics.carbon_accounting if parameter == "carbon_price"
                         else sc.spec.rules.emission_cap.accounting)
    rows = []
    warm = None
    for i, v in enumerate(values):
        if parameter == "carbon_price":
            ov = {"economics.carbon_price_yuan_per_t": float(v), "economics.carbon_accounting": acc}
        elif parameter == "emission_cap":
            ov = {"rules.emission_cap": {"enabled": True, "accounting": acc, "total_tco2": float(v)}}
        else:
            raise InputError(f"unknown sweep parameter '{parameter}'.", where="frontier",
                             hint="sweep 'carbon_price' or 'emission_cap'.")
        sci = sc.with_changes(ov)
        m, s = solve_scenario(sci, warm=warm)
        if s.status in ("optimal", "time_limit") and np.isfinite(s.objective):
            warm = (m, s.x)
        row = {"point": i, "parameter": parameter, "value": float(v), "accounting": acc, "status": s.status}
        if s.status in ("optimal", "time_limit") and np.isfinite(s.objective):
            t = extract_tables(sci, m, s)
            c = t["costs"]
            carbon = float(c.loc[c["component"] == "carbon", "yuan_pv"].sum())
            e = t["emissions"]
            row.update({"total_pv_yuan": s.objective, "carbon_cost_pv_yuan": carbon,
                        "cost_excl_carbon_pv_yuan": s.objective - carbon,
                        "emissions_location_t": float(e["emissions_location_t"].sum()),
                        "emissions_net_t": float(e["emissions_net_t"].sum()),
                        "green_mwh": float(e["green_mwh"].sum()),
                        "new_racks_west": float(t["buildout"].loc[t["buildout"]["region"] == "west", "new_racks"].sum())})
            if parameter == "emission_cap":
                # shadow price of the horizon cap (PV yuan per tCO2, on top of the scenario's own carbon price that
                # the objective already charges) and the full marginal price of a tonne emitted in the first planning
                # year, in that year's money: own price + shadow price / discount factor (only when the cap and the
                # carbon price count the same emissions, net or location)
                rb = m.rows["emission_cap"]
                lam = float(-s.row_dual[rb.offset:rb.offset + rb.size].sum())
                row["cap_shadow_price_pv_yuan_per_t"] = lam
                row["implied_carbon_price_yuan_per_t"] = (
                    float(m.data.carbon_price[0] + lam / m.data.df[0])
                    if acc == sci.spec.economics.carbon_accounting else np.nan)
        rows.append(row)
    df = pd.DataFrame(rows)
    if "cost_excl_carbon_pv_yuan" in df:
        col = "emissions_net_t" if acc == "net" else "emissions_location_t"
        ok = df["cost_excl_carbon_pv_yuan"].notna()
        eff = []
        for i, r in df.iterrows():
            if not ok[i]:
                eff.append(False)
                continue
            dom = ((df["cost_excl_carbon_pv_yuan"] <= r["cost_excl_carbon_pv_yuan"] + 1e-6 * abs(r["cost_excl_carbon_pv_yuan"]))
                   & (df[col] <= r[col] + 1e-6 * abs(r[col]))
                   & ((df["cost_excl_carbon_pv_yuan"] < r["cost_excl_carbon_pv_yuan"] - 1e-6 * abs(r["cost_excl_carbon_pv_yuan"]))
                      | (df[col] < r[col] - 1e-6 * abs(r[col]))) & ok)
            eff.append(not bool(dom.any()))
        df["efficient"] = eff
    return df


def compare_results(a: PlanResult, b: PlanResult) -> pd.DataFrame:
    """Tidy contrast of two plans: metric, key, unit, scenario, baseline, difference."""
    rows = []

    def add(metric, key, unit, va, vb):
        rows.append({"metric": metric, "key": key, "unit": unit, "scenario": va, "baseline": vb,
                     "difference": va - vb if (va is not None and vb is not None) else np.nan})

    ta, tb = a.totals(), b.totals()
    units = {"cost_pv_yuan": "yuan (PV)", "emissions_location_t": "tCO2", "emissions_net_t": "tCO2",
             "new_racks": "racks", "new_racks_hub": "racks", "unmet_racks": "rack-years",
             "utilisation_last_year": "share", "idle_racks_last_year": "racks", "green_share": "share"}
    for k in ta:
        add(k, "total", units[k], ta[k], tb[k])
    ca = a.costs.groupby("component")["yuan_pv"].sum() if len(a.costs) else pd.Series(dtype=float)
    cb = b.costs.groupby("component")["yuan_pv"].sum() if len(b.costs) else pd.Series(dtype=float)
    for k in sorted(set(ca.index) | set(cb.index)):
        add("cost_pv_yuan", k, "yuan (PV)", float(ca.get(k, 0.0)), float(cb.get(k, 0.0)))
    na = a.buildout.groupby("site_id")["new_racks"].sum() if len(a.buildout) else pd.Series(dtype=float)
    nb = b.buildout.groupby("site_id")["new_racks"].sum() if len(b.buildout) else pd.Series(dtype=float)
    for k in sorted(set(na.index) | set(nb.index)):
        add("new_racks", k, "racks", float(na.get(k, 0.0)), float(nb.get(k, 0.0)))
    ea = a.emissions.groupby("site_id")["emissions_net_t"].sum() if len(a.emissions) else pd.Series(dtype=float)
    eb = b.emissions.groupby("site_id")["emissions_net_t"].sum() if len(b.emissions) else pd.Series(dtype=float)
    for k in sorted(set(ea.index) | set(eb.index)):
        add("emissions_net_t", k, "tCO2", float(ea.get(k, 0.0)), float(eb.get(k, 0.0)))
    return pd.DataFrame(rows)
