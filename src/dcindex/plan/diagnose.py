"""Explain an infeasible scenario: which rules conflict, where, and by how much.

Method (rule level, works for LP and MIP): a deletion filter over the switchable rules finds an irreducible
set of rules that cannot hold together (switching off any one of them makes the plan feasible; Chinneck's
deletion filter applied to rule groups instead of single rows). For each rule in that set an elastic solve
(the rule's rows get slack, the others stay hard, minimise the slack) says how far it must be relaxed, row by
row. For LP models HiGHS's own irreducible infeasible subset of rows is added (method 'highs_iis').
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dcindex.errors import DcindexError

from .model import build_model
from .scenario import Scenario
from .solve import highs_iis_rows, is_feasible, solve

SWITCHABLE = ("demand", "latency", "utilisation_floor", "hub_share", "green_share", "pue_cap", "green_supply",
              "bandwidth", "emission_cap", "site_limits", "modules", "site_opening")
_INTEGRALITY = ("modules", "site_opening")

RULE_TEXT = {
    "demand": "demand must be met",
    "latency": "latency bounds of the demand classes",
    "utilisation_floor": "rack utilisation floor",
    "hub_share": "minimum share of new capacity at hub sites",
    "green_share": "minimum green-power share of new capacity at hub sites",
    "pue_cap": "PUE caps",
    "green_supply": "green electricity available per site",
    "bandwidth": "east-west bandwidth limits",
    "emission_cap": "emission cap",
    "site_limits": "maximum new racks per site",
    "modules": "capacity built in whole modules",
    "site_opening": "sites opened as whole (binary) decisions",
}


class PlanInfeasibleError(DcindexError):
    """The scenario's rules cannot all hold; ``diagnosis`` holds the conflicting rules and violations."""

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None,
                 diagnosis: pd.DataFrame | None = None):
        super().__init__(message, hint=hint, where=where)
        self.diagnosis = diagnosis


def enabled_rules(sc: Scenario) -> list[str]:
    r = sc.spec.rules
    out = []
    for name in SWITCHABLE:
        rr = getattr(r, name)
        if not rr.enabled:
            continue
        if name == "demand" and rr.mode == "soft":
            continue  # penalised demand cannot conflict
        if getattr(rr, "mode", "hard") == "soft":
            continue
        out.append(name)
    if sc.spec.solver.relax_integers:
        out = [n for n in out if n not in _INTEGRALITY]
    return out


def _with(sc: Scenario, on: list[str], all_rules: list[str]) -> Scenario:
    return sc.with_changes({f"rules.{r}.enabled": False for r in all_rules if r not in on})


def _feasible(sc: Scenario, on: list[str], all_rules: list[str], tl: float) -> bool:
    return is_feasible(build_model(_with(sc, on, all_rules), feasibility_only=True), time_limit=tl)


def diagnose(sc: Scenario, *, time_limit: float = 60.0) -> tuple[pd.DataFrame, str, str]:
    """Return (diagnosis table, message, hint) for an infeasible scenario."""
    active = enabled_rules(sc)
    if _feasible(sc, active, active, time_limit):
        msg = ("the full model is infeasible but every rule set is feasible when checked separately; this points to "
               "numerical trouble (very large or very small coefficients).")
        return pd.DataFrame(columns=["method", "rule"]), msg, "rescale the input units (GWh, racks) and retry."
    if not _feasible(sc, [], active, time_limit):
        msg = ("the plan is infeasible even with every switchable rule off: the structural constraints (capacity "
               "accounting, energy balance) cannot hold with these data.")
        return pd.DataFrame({"method": ["structure"], "rule": ["structure"]}), msg, \
            "check existing racks, period hours and green availability for impossible values."
    conflict = list(active)
    for r in list(active):  # deletion filter over rule groups
        trial = [q for q in conflict if q != r]
        if not _feasible(sc, trial, active, time_limit):
            conflict = trial
    rows = []
    for r in conflict:
        rows.append({"method": "deletion_filter", "rule": r, "description": RULE_TEXT[r], "constraint": None,
                     "where": None, "violation": np.nan, "unit": None})
    # how far each conflicting rule must give way when the others hold
    for r in conflict:
        if r in _INTEGRALITY:
            continue
        sub = _with(sc, conflict, active)
        m = build_model(sub, soft_all={r}, soft_penalty=1.0, elastic_only=True)
        s = solve(m, time_limit=time_limit, mip_gap=1e-6, duals=False)
        if s.status not in ("optimal", "time_limit") or not np.isfinite(s.objective):
            continue
        rows.extend(_violations(m, s, r))
    # HiGHS IIS on the LP restricted to the conflicting rules
    sub = _with(sc, conflict, active)
    m = build_model(sub, feasibility_only=True)
    iis = highs_iis_rows(m, time_limit=time_limit)
    if iis:
        for ri in iis[:50]:
            name, where = _row_label(m, ri)
            rows.append({"method": "highs_iis", "rule": m.rows[name].rule, "description": RULE_TEXT.get(
                m.rows[name].rule, "structural constraint"), "constraint": name, "where": where,
                "violation": np.nan, "unit": None})
    diag = pd.DataFrame(rows, columns=["method", "rule", "description", "constraint", "where", "violation", "unit"])
    parts = []
    for r in conflict:
        v = diag[(diag["method"] == "elastic") & (diag["rule"] == r)]
        if len(v):
            top = v.sort_values("violation", ascending=False).iloc[0]
            parts.append(f"{r} ({RULE_TEXT[r]}) must give way by {_num(v['violation'].sum())} {top['unit']} in "
                         f"total over its rows, most at {top['where']} ({_num(top['violation'])})")
        else:
            parts.append(f"{r} ({RULE_TEXT[r]})")
    msg = ("the scenario is infeasible: these rules cannot all hold together (switching off any one of them makes "
           "the plan feasible): " + "; ".join(parts) + ".")
    hint = ("relax or switch off one of these rules in the scenario file (rules.<name>.enabled: false, "
            "rules.<name>.mode: soft with a penalty, or change its parameter); diagnosis.csv lists the rows.")
    return diag, msg, hint


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.4g}"


def _row_label(m, ri: int) -> tuple[str, str]:
    D = m.data
    for name, rb in m.rows.items():
        if rb.offset <= ri < rb.offset + rb.size:
            loc = np.unravel_index(ri - rb.offset, rb.shape)
            return name, _label(D, rb, loc)
    raise IndexError(ri)  # pragma: no cover


def _label(D, rb, loc) -> str:
    parts = []
    for ax, lab in enumerate(rb.labels):
        i = int(loc[ax])
        if lab == "site":
            parts.append(f"site {D.sites[rb.site_index[i] if rb.site_index is not None else i]}")
        elif lab == "origin":
            parts.append(f"origin {D.origins[i]}")
        elif lab == "class":
            parts.append(f"class {D.classes[i]}")
        elif lab == "year":
            parts.append(f"year {D.years[i]}")
        elif lab == "period":
            parts.append(f"period {D.periods[i]}")
        elif lab == "corridor":
            parts.append(f"corridor {D.corridors[i][0]}->{D.corridors[i][1]}")
        else:
            parts.append("whole horizon")
    return ", ".join(parts)


def _violations(m, s, rule: str) -> list[dict]:
    D = m.data
    out = []
    if rule == "demand":
        U = m.vars["u"]
        v = s.x[U.offset:U.offset + U.size]
        for i in np.flatnonzero(v > 1e-6):
            o, c, y = np.unravel_index(i, U.shape)
            out.append({"method": "elastic", "rule": rule, "description": RULE_TEXT[rule], "constraint": "demand",
                        "where": f"origin {D.origins[o]}, class {D.classes[c]}, year {D.years[y]}",
                        "violation": float(v[i]), "unit": "racks unmet"})
        return out
    if rule == "latency":
        X = m.vars["x"]
        cols = m.latency_blocked
        v = s.x[cols]
        for j in np.flatnonzero(v > 1e-6):
            o, c, st, y = np.unravel_index(cols[j] - X.offset, X.shape)
            out.append({"method": "elastic", "rule": rule, "description": RULE_TEXT[rule], "constraint": "latency_bound",
                        "where": f"origin {D.origins[o]}, class {D.classes[c]}, site {D.sites[st]}, year {D.years[y]}",
                        "violation": float(v[j]), "unit": "racks served beyond the latency bound"})
        return out
    for name, vb in m.vars.items():
        if not name.startswith("slack_"):
            continue
        rb = m.rows[name[len("slack_"):]]
        if rb.rule != rule:
            continue
        v = s.x[vb.offset:vb.offset + vb.size]
        unit = rb.unit.split(" per ", 1)[1] if " per " in rb.unit else ""
        for i in np.flatnonzero(v > 1e-6):
            out.append({"method": "elastic", "rule": rule, "description": RULE_TEXT[rule], "constraint": rb.name,
                        "where": _label(D, rb, np.unravel_index(i, rb.shape)), "violation": float(v[i]), "unit": unit})
    return out
