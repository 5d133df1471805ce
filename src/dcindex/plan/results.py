"""PlanResult: tidy tables of a solved plan, summary(), to_dir()/from_dir(), and feed-back indicators."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_write_text, write_csv, write_workbook
from .model import Model, green_share_pue
from .scenario import Scenario
from .solve import Solution

TABLES = ("flows", "demand", "buildout", "utilisation", "energy", "emissions", "green_share", "costs",
          "shadow_prices", "rules", "indicators", "sites", "origins", "frontier", "diagnosis")
#: tables that may be absent (older result folders, infeasible plans)
OPTIONAL = ("green_share", "sites", "origins", "frontier", "diagnosis")

_TOL = 1e-6


@dataclass
class PlanResult:
    """Result of :func:`dcindex.plan.plan`. Every table is a tidy DataFrame (one row per observation).

    flows (origin x class x site x year racks), demand (met/unmet), buildout, utilisation (installed, used, idle
    racks), energy (MWh), emissions (tCO2, two ways), green_share (green share of the electricity of new capacity
    per site and year, the accounting of the green-share rule), costs (yuan and present value by component),
    shadow_prices (dual of every rule row), rules (one row per rule: marginal value of its parameter and total
    cost of the rule with its proven interval), indicators (unit, year, indicator, value for the index), sites and
    origins (identity and location: lat, lon, name_zh for maps), frontier (when swept), diagnosis (when infeasible).
    """

    name: str
    status: str
    objective_pv: float
    meta: dict[str, Any]
    flows: pd.DataFrame
    demand: pd.DataFrame
    buildout: pd.DataFrame
    utilisation: pd.DataFrame
    energy: pd.DataFrame
    emissions: pd.DataFrame
    costs: pd.DataFrame
    shadow_prices: pd.DataFrame
    rules: pd.DataFrame
    indicators: pd.DataFrame
    frontier: pd.DataFrame | None = None
    diagnosis: pd.DataFrame | None = None
    compare: pd.DataFrame | None = None
    green_share: pd.DataFrame | None = None
    sites: pd.DataFrame | None = None
    origins: pd.DataFrame | None = None
    scenario: Scenario | None = field(default=None, repr=False)
    model: Model | None = field(default=None, repr=False)
    solution: Solution | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ convenience
    def tables(self) -> dict[str, pd.DataFrame]:
        """All non-empty tables by name (for reports: flow map from flows, utilisation bars, frontier)."""
        out = {}
        for name in TABLES + ("compare",):
            df = getattr(self, name)
            if df is not None:
                out[name] = df
        return out

    def totals(self) -> dict[str, float]:
        e = self.emissions
        b = self.buildout
        u = self.utilisation
        last = u["year"].max() if len(u) else None
        ul = u[u["year"] == last] if last is not None else u
        inst = float(ul["installed_racks"].sum()) if len(ul) else 0.0
        return {
            "cost_pv_yuan": float(self.objective_pv),
            "emissions_location_t": float(e["emissions_location_t"].sum()) if len(e) else 0.0,
            "emissions_net_t": float(e["emissions_net_t"].sum()) if len(e) else 0.0,
            "new_racks": float(b["new_racks"].sum()) if len(b) else 0.0,
            "new_racks_hub": float(b.loc[b["hub"], "new_racks"].sum()) if len(b) else 0.0,
            "unmet_racks": float(self.demand["unmet_racks"].sum()) if len(self.demand) else 0.0,
            "utilisation_last_year": float(ul["used_racks"].sum() / inst) if inst > 0 else float("nan"),
            "idle_racks_last_year": float(ul["idle_racks"].sum()) if len(ul) else 0.0,
            "green_share": float(self.energy["green_mwh"].sum() / max(self.energy["facility_mwh"].sum(), 1e-12))
            if len(self.energy) else float("nan"),
        }

    def summary(self) -> str:
        """A short plain-text account of the plan: status, costs, emissions, build-out, what the rules cost."""
        lines = [f"Plan '{self.name}': {self.status}"]
        if self.status not in ("optimal", "time_limit"):
            if self.diagnosis is not None and len(self.diagnosis):
                lines.append(self.meta.get("infeasibility", ""))
            return "\n".join(lines)
        t = self.totals()
        lines.append(f"  total cost (present value): {t['cost_pv_yuan'] / 1e8:,.2f} hundred-million yuan (亿元)")
        lines.append(f"  emissions over the horizon: {t['emissions_location_t'] / 1e6:,.3f} MtCO2 at the local grid "
                     f"factor; {t['emissions_net_t'] / 1e6:,.3f} MtCO2 net of purchased green power")
        lines.append(f"  new racks: {t['new_racks']:,.0f} ({t['new_racks_hub']:,.0f} at hub sites); unmet demand: "
                     f"{t['unmet_racks']:,.0f} rack-years")
        lines.append(f"  utilisation in the last year: {t['utilisation_last_year']:.1%}; idle racks "
                     f"{t['idle_racks_last_year']:,.0f}; green share of electricity {t['green_share']:.1%}")
        if self.meta.get("mip"):
            lines.append(f"  mixed-integer plan (gap {self.meta.get('mip_gap', 0):.2g}); shadow prices are duals of the "
                         "LP with integer decisions fixed at the optimum")
        r = self.rules
        if r is not None and len(r):
            rc = self.meta.get("rule_costs") or {}
            lines.append("  rules: marginal value of the parameter (duals" + (" of the LP with integers fixed; the LP "
                         "relaxation's view beside it" if self.meta.get("mip") else "") + "); cost of the rule = "
                         "objective with it minus objective with it switched off" +
                         (f" (re-solved to gap {rc['mip_rel_gap']:.2g}; ± and the interval are proven by the "
                          "solver's bounds)" if rc.get("mip_rel_gap") else "") + ":")
            for _, row in r.iterrows():
                if not row["enabled"]:
                    continue
                parts = [f"binding rows {int(row['binding_rows'])}"]
                mv = format_marginal(row, bool(self.meta.get("mip")))
                if mv:
                    parts.append(mv)
                cr = format_rule_cost(row)
                if cr:
                    parts.append("cost of rule " + cr)
                lines.append(f"    - {row['rule']}: " + "; ".join(parts))
            if rc.get("objective_improved_over_plan"):
                lines.append(f"    (the re-solves found a plan with all rules at "
                             f"{rc['objective_with_all_rules_pv'] / 1e8:,.2f} 亿元, within the MIP gap of the plan above;"
                             " rule costs use it)")
        if self.frontier is not None and len(self.frontier):
            lines.append(f"  cost-carbon frontier: {len(self.frontier)} points (see frontier table)")
        ill = self.meta.get("illustrative_tables")
        if ill:
            lines.append(f"  note: tables {', '.join(ill)} hold illustrative assumptions, not official statistics")
        der = self.meta.get("derived_tables")
        if der:
            lines.append(f"  note: tables {', '.join(der)} are derived from official statistics (see their sources)")
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover
        return self.summary()

    # ------------------------------------------------------------------ files
    def to_dir(self, path: str | Path) -> Path:
        """Write every table as UTF-8 CSV, all of them in plan.xlsx, plus summary.json and summary.txt; every file
        atomically and deterministically (byte-identical for the same scenario)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name in TABLES + ("compare",):
            df = getattr(self, name)
            if df is None:
                continue
            write_csv(df, path / f"{name}.csv")
        meta = {"name": self.name, "status": self.status, "objective_pv_yuan": _clean(self.objective_pv),
                **{k: _clean(v) for k, v in self.meta.items()}}
        atomic_write_text(path / "summary.json", json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        atomic_write_text(path / "summary.txt", self.summary() + "\n")
        if self.status in ("optimal", "time_limit"):
            write_workbook({k: v for k, v in self.tables().items() if len(v.columns)}, path / "plan.xlsx")
        return path

    @classmethod
    def from_dir(cls, path: str | Path) -> "PlanResult":
        """Read a result folder written by :meth:`to_dir` (for --compare against an earlier run)."""
        path = Path(path)
        meta = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        kw = {}
        for name in TABLES + ("compare",):
            p = path / f"{name}.csv"
            kw[name] = pd.read_csv(p, dtype={"site_id": str, "origin_id": str, "unit": str, "province_code": str},
                                   keep_default_na=True) if p.is_file() else None
            if kw[name] is not None and name in ("buildout", "utilisation", "green_share", "sites") and "hub" in kw[name]:
                kw[name]["hub"] = kw[name]["hub"].astype(str).str.lower().eq("true")
        for name in TABLES:
            if kw.get(name) is None and name not in OPTIONAL:
                kw[name] = pd.DataFrame()
        name = meta.pop("name")
        status = meta.pop("status")
        obj = meta.pop("objective_pv_yuan")
        return cls(name=name, status=status, objective_pv=float(obj) if obj is not None else float("nan"), meta=meta,
                   **kw)


def _isnum(v) -> bool:
    try:
        return v is not None and np.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def format_marginal(row, mip: bool) -> str:
    """'marginal X unit' (LP) or 'marginal X (integers fixed) / Y (LP relaxation) unit' (MIP); '' if none."""
    if not _isnum(row.get("marginal_pv")):
        return ""
    unit = row.get("marginal_unit") or ""
    a = _num(float(row["marginal_pv"]))
    if mip and _isnum(row.get("marginal_lp_relaxation_pv")):
        return f"marginal {a} (integers fixed) / {_num(float(row['marginal_lp_relaxation_pv']))} (LP relaxation) {unit}"
    return f"marginal {a} {unit}"


def format_rule_cost(row, compact: bool = False) -> str:
    """'7.528 ± 0.040 亿元 (proven 7.468–7.567)', '≈0 (at most 0.067 亿元; within solver tolerance)', '5,400 yuan'
    or '' if none; '[re-solve stopped at its time limit]' appended when a re-solve hit its time limit. Amounts of a
    million yuan or more are shown in 亿元 (hundred-million yuan), smaller ones in yuan."""
    flag = row.get("cost_of_rule_flag")
    flag = flag if isinstance(flag, str) else ""
    if not _isnum(row.get("cost_of_rule_pv")):
        return f"not available ({flag})" if flag else ""
    p = float(row["cost_of_rule_pv"])
    lo, hi, b = (float(row[k]) if _isnum(row.get(k)) else np.nan
                 for k in ("cost_of_rule_low_pv", "cost_of_rule_high_pv", "cost_of_rule_bound_pv"))
    big = max(abs(p), abs(hi) if np.isfinite(hi) else 0.0) >= 1e6
    money = (lambda v: f"{v / 1e8:,.3f}") if big else (lambda v: f"{v:,.0f}")  # noqa: E731
    unit = " 亿元" if big else " yuan"
    if compact:  # CLI table: '0.919±0.050 亿元', '≈0 (≤0.037 亿元)', '5,400 yuan', '... [time limit]'
        if "within solver tolerance" in flag:
            txt = "≈0" + (f" (≤{money(hi)}{unit})" if np.isfinite(hi) and hi > 0 else "")
        elif np.isfinite(b) and b > 0:
            txt = f"{money(p)}±{money(b)}{unit}"
        else:
            txt = f"{money(p)}{unit}"
        return txt + (" [time limit]" if "time limit" in flag else "")
    if "within solver tolerance" in flag:
        txt = "≈0 (" + (f"at most {money(hi)}{unit}; " if np.isfinite(hi) and hi > 0 else "") + \
            "within solver tolerance)"
    elif np.isfinite(b) and b > 0:
        txt = f"{money(p)} ± {money(b)}{unit} (proven {money(lo)}–{money(hi)})"
    else:
        txt = f"{money(p)}{unit}"
    if "time limit" in flag:
        txt += " [re-solve stopped at its time limit]"
    return txt


def _clean(v):
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if isinstance(v, (np.floating,)):
        return _clean(float(v))
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


# ---------------------------------------------------------------------------------------------------------------
def extract_tables(sc: Scenario, m: Model, s: Solution) -> dict[str, pd.DataFrame]:
    """Turn the solution vector into tidy tables (nominal yuan per year and present value)."""
    D = m.data
    V = m.vars
    nO, nC, nS, nY, nP = len(D.origins), len(D.classes), len(D.sites), len(D.years), len(D.periods)
    val = lambda name: s.x[V[name].offset:V[name].offset + V[name].size].reshape(V[name].shape)  # noqa: E731
    st = sc.tables["sites"].set_index("site_id")
    x = val("x")
    u = val("u")
    build = val("build") * D.module[:, None]
    idle = val("idle")
    e = val("grid")
    g = val("green")
    r = val("retrofit")
    years = np.array(D.years)
    # flows
    o_, c_, s_, y_ = np.nonzero(x > _TOL)
    racks = x[o_, c_, s_, y_]
    flows = pd.DataFrame({
        "origin_id": np.array(D.origins, dtype=object)[o_], "class": np.array(D.classes, dtype=object)[c_],
        "site_id": np.array(D.sites, dtype=object)[s_], "year": years[y_], "racks": racks,
        "latency_ms": D.latency[o_, s_],
        "network_cost_yuan": racks * D.netcost[o_, s_] * D.class_netfactor[c_],
        "to_west_site_from_nonwest_origin": np.array([reg != "west" for reg in D.origin_region], bool)[o_] & D.west[s_],
    })
    # demand balance
    oo, cc, yy = np.indices((nO, nC, nY))
    dem = pd.DataFrame({
        "origin_id": np.array(D.origins, dtype=object)[oo.ravel()], "class": np.array(D.classes, dtype=object)[cc.ravel()],
        "year": years[yy.ravel()], "demand_racks": D.demand.ravel(), "served_racks": x.sum(axis=2).ravel(),
        "unmet_racks": u.ravel(),
    })
    # build-out
    ss, yy2 = np.indices((nS, nY))
    cum = np.cumsum(build, axis=1)
    opened = np.ones((nS, nY))
    if "open" in V:
        w = val("open")
        iopen = np.flatnonzero(D.openable)
        opened[iopen] = np.cumsum(w, axis=1)
    sites_arr = np.array(D.sites, dtype=object)
    used = x.sum(axis=(0, 1))
    installed = D.existing[:, None] + cum
    base_site = pd.DataFrame({"site_id": sites_arr[ss.ravel()], "year": years[yy2.ravel()]})
    buildout = base_site.assign(
        name=st.loc[list(sites_arr[ss.ravel()]), "name"].to_numpy(), hub=D.hub[ss.ravel()],
        region=np.array(D.site_region, dtype=object)[ss.ravel()],
        new_racks=build.ravel(), modules=(build / D.module[:, None]).ravel(), module_racks=D.module[ss.ravel()],
        cumulative_new_racks=cum.ravel(), installed_racks=installed.ravel(), opened=opened.ravel() > 0.5)
    zh = st["name_zh"] if "name_zh" in st.columns else st["name"]
    buildout = buildout.assign(name_zh=zh.loc[list(sites_arr[ss.ravel()])].to_numpy())
    buildout = buildout[["site_id", "name", "name_zh", "hub", "region", "year", "new_racks", "modules",
                         "module_racks", "cumulative_new_racks", "installed_racks", "opened"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(installed > _TOL, used / np.where(installed > _TOL, installed, 1), np.nan)
    utilisation = base_site.assign(
        name=buildout["name"].to_numpy(), name_zh=buildout["name_zh"].to_numpy(), hub=D.hub[ss.ravel()], region=buildout["region"].to_numpy(),
        province_code=np.array(D.site_province, dtype=object)[ss.ravel()],
        installed_racks=installed.ravel(), used_racks=used.ravel(), idle_racks=idle.ravel(),
        utilisation=util.ravel())
    # energy per site, year, period
    nonshift = ~D.shiftable
    nb = x[:, nonshift].sum(axis=(0, 1))  # (S, Y)
    if "batch_run" in V:
        q = val("batch_run")
    else:
        q = np.zeros((nS, nY, nP))
    it_racks = nb[:, :, None] + q
    it = it_racks * D.eps[None, None, :]
    fac = D.pue_design[:, None, None] * it - r
    s3, y3, p3 = np.indices((nS, nY, nP))
    with np.errstate(invalid="ignore", divide="ignore"):
        pue_eff = np.where(it > _TOL, fac / np.where(it > _TOL, it, 1), np.nan)
    energy = pd.DataFrame({
        "site_id": sites_arr[s3.ravel()], "year": years[y3.ravel()], "period": np.array(D.periods, dtype=object)[p3.ravel()],
        "it_racks_running": it_racks.ravel(), "it_mwh": it.ravel(), "facility_mwh": fac.ravel(),
        "grid_mwh": e.ravel(), "green_mwh": g.ravel(), "retrofit_saved_mwh": r.ravel(), "pue_effective": pue_eff.ravel(),
    })
    # emissions, two ways (t = MWh * kgCO2/kWh)
    el = (e + g).sum(axis=2)
    gy = g.sum(axis=2)
    ey = e.sum(axis=2)
    emissions = base_site.assign(
        province_code=np.array(D.site_province, dtype=object)[ss.ravel()], ef_kgco2_per_kwh=D.ef[ss.ravel()],
        electricity_mwh=el.ravel(), green_mwh=gy.ravel(), grid_mwh=ey.ravel(),
        emissions_location_t=(el * D.ef[:, None]).ravel(), emissions_net_t=(ey * D.ef[:, None]).ravel())
    # costs by component, nominal per year, and PV
    comp: dict[str, np.ndarray] = {}
    comp["capex_annuity"] = (cum * (D.capex * D.annuity)[:, None]).sum(axis=0)
    comp["fixed_om_new"] = (cum * D.fixed_om[:, None]).sum(axis=0)
    comp["fixed_om_existing"] = np.full(nY, float((D.existing * D.fixed_om).sum()))
    comp["site_opening_annuity"] = np.zeros(nY)
    if "open" in V:
        iopen = np.flatnonzero(D.openable)
        comp["site_opening_annuity"] = (np.cumsum(val("open"), axis=1) * (D.open_cost[iopen] * D.annuity)[:, None]).sum(0)
    comp["grid_electricity"] = (e * D.grid_price[:, None, None] * D.price_factor[None, None, :]).sum(axis=(0, 2))
    comp["green_electricity"] = (g * D.green_price[:, None, None]).sum(axis=(0, 2))
    comp["retrofit"] = (r * D.retrofit_cost[:, None, None]).sum(axis=(0, 2))
    comp["network"] = (x * (D.netcost[:, None, :, None] * D.class_netfactor[None, :, None, None])).sum(axis=(0, 1, 2))
    pen = sc.spec.rules.demand.penalty or 0.0
    comp["unmet_penalty"] = u.sum(axis=(0, 1)) * (pen if sc.spec.rules.demand.mode == "soft" else 0.0)
    acc_loc = sc.spec.economics.carbon_accounting == "location"
    em = (ey if not acc_loc else el) * D.ef[:, None]
    comp["carbon"] = em.sum(axis=0) * D.carbon_price
    soft_pen = np.zeros(nY)
    soft_pv = 0.0
    for name, vb in V.items():
        if name.startswith("slack_"):
            cvec = m.c[vb.offset:vb.offset + vb.size]
            sv = s.x[vb.offset:vb.offset + vb.size]
            rb = m.rows[name[len("slack_"):]]
            if rb.year_axis is not None:
                yidx = np.indices(rb.shape)[rb.year_axis].ravel()
                np.add.at(soft_pen, yidx, cvec * sv / D.df[yidx])
            else:
                soft_pv += float(cvec @ sv)
    comp["rule_penalties"] = soft_pen
    rows = []
    for k_, arr in comp.items():
        for yi, yv in enumerate(D.years):
            rows.append({"year": yv, "component": k_, "yuan": float(arr[yi]), "yuan_pv": float(arr[yi] * D.df[yi])})
    if soft_pv:
        rows.append({"year": np.nan, "component": "rule_penalties_horizon", "yuan": soft_pv, "yuan_pv": soft_pv})
    costs = pd.DataFrame(rows)
    # green share of new capacity (the accounting of the green-share rule, see docs/plan.md): per period, racks
    # running on new capacity n = max(0, L - existing) (existing stock first); their electricity at the site's
    # effective PUE; the site's green purchases count towards new capacity first
    gsr = sc.spec.rules.green_share
    applies = np.zeros(nS, bool)
    if gsr.enabled:
        applies = D.hub.copy() if gsr.applies_to == "hub" else np.ones(nS, bool)
    n_new = np.maximum(0.0, it_racks - D.existing[:, None, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        f_new = np.where(it_racks > _TOL, fac * n_new / np.where(it_racks > _TOL, it_racks, 1.0), 0.0).sum(axis=2)
    it_new = (n_new * D.eps[None, None, :]).sum(axis=2)
    pue_cnt = green_share_pue(D, sc.spec.rules)
    green_y = g.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_new = np.where(f_new > _TOL, np.minimum(green_y, f_new) / np.where(f_new > _TOL, f_new, 1.0), np.nan)
    app2 = np.broadcast_to(applies[:, None], (nS, nY))
    minsh = np.where(app2, gsr.min_share, np.nan)
    compliant = np.where(app2 & (f_new > _TOL), share_new >= minsh - 1e-6, None).astype(object)
    compliant[~(app2 & (f_new > _TOL))] = None
    green_share = base_site.assign(
        hub=D.hub[ss.ravel()], rule_applies=app2.ravel(), existing_racks=D.existing[ss.ravel()],
        new_capacity_it_mwh=it_new.ravel(), new_capacity_electricity_mwh=f_new.ravel(),
        pue_counted=np.where(app2, pue_cnt[:, None], np.nan).ravel(),
        new_capacity_electricity_counted_mwh=np.where(app2, pue_cnt[:, None] * it_new, np.nan).ravel(),
        green_mwh=green_y.ravel(), green_share_new_capacity=share_new.ravel(), min_share=minsh.ravel(),
        compliant=compliant.ravel())
    return {"flows": flows, "demand": dem, "buildout": buildout, "utilisation": utilisation, "energy": energy,
            "emissions": emissions, "green_share": green_share, "costs": costs}


def location_tables(sc: Scenario) -> dict[str, pd.DataFrame]:
    """Identity and location of sites and origins (lat, lon, name_zh where the scenario's tables give them), for
    maps such as the report's flow map."""
    out = {}
    for name, key, cols in (("sites", "site_id", ("name", "name_zh", "province_code", "region", "hub", "lat", "lon")),
                            ("origins", "origin_id", ("name_zh", "province_code", "region", "lat", "lon"))):
        t = sc.tables[name]
        df = pd.DataFrame({key: t[key].astype(str)})
        for c in cols:
            if c not in t.columns:
                continue
            v = t[c]
            if c in ("lat", "lon"):
                v = pd.to_numeric(v.astype(str).str.strip().replace("", None), errors="coerce")
            df[c] = v.to_numpy()
        out[name] = df
    return out


def shadow_price_table(m: Model, s: Solution) -> pd.DataFrame:
    """Dual of every rule row (yuan PV per unit of the row) and the largest latency relaxation gains."""
    D = m.data
    frames = []
    axis_names = {"origin": D.origins, "class": D.classes, "year": D.years, "period": D.periods,
                  "corridor": [f"{a}->{b}" for a, b in D.corridors], "scope": ["horizon"]}
    for name, rb in m.rows.items():
        if rb.rule in ("energy",):
            continue
        idx = np.indices(rb.shape).reshape(len(rb.shape), -1)
        dual = s.row_dual[rb.offset:rb.offset + rb.size]
        act = s.row_activity[rb.offset:rb.offset + rb.size]
        lo = m.row_lo[rb.offset:rb.offset + rb.size]
        hi = m.row_hi[rb.offset:rb.offset + rb.size]
        cols: dict[str, Any] = {"rule": rb.rule, "constraint": name}
        for ax, lab in enumerate(rb.labels):
            if lab == "site":
                sidx = rb.site_index[idx[ax]] if rb.site_index is not None else idx[ax]
                cols["site_id"] = np.array(D.sites, dtype=object)[sidx]
            else:
                cols[{"origin": "origin_id"}.get(lab, lab)] = np.array(axis_names[lab], dtype=object)[idx[ax]]
        df = pd.DataFrame(cols, index=np.arange(rb.size))
        df["dual_pv"] = dual
        if rb.year_axis is not None:
            df["dual_in_year_money"] = dual / D.df[idx[rb.year_axis]]
        else:
            df["dual_in_year_money"] = np.nan
        tol = 1e-6 * np.maximum(1.0, np.abs(act))
        df["binding"] = (np.abs(act - lo) <= tol) | (np.abs(act - hi) <= tol)
        df["unit"] = rb.unit
        frames.append(df)
    # latency: reduced costs of blocked origin-site pairs (negative = the pair would lower cost if allowed)
    if len(m.latency_blocked):
        X = m.vars["x"]
        rc = s.col_dual[m.latency_blocked]
        gain = rc < -1e-6
        if gain.any():
            loc = np.unravel_index(m.latency_blocked[gain] - X.offset, X.shape)
            df = pd.DataFrame({"rule": "latency", "constraint": "latency_bound",
                               "origin_id": np.array(D.origins, dtype=object)[loc[0]],
                               "class": np.array(D.classes, dtype=object)[loc[1]],
                               "site_id": np.array(D.sites, dtype=object)[loc[2]],
                               "year": np.array(D.years)[loc[3]], "dual_pv": rc[gain],
                               "dual_in_year_money": rc[gain] / D.df[loc[3]], "binding": True,
                               "unit": "yuan (PV) per rack-year if the origin-site pair were allowed"})
            # keep the most valuable site per origin, class and year
            df = df.sort_values(["origin_id", "class", "year", "dual_pv", "site_id"]).groupby(
                ["origin_id", "class", "year"], sort=True).head(1)
            frames.append(df)
    cols = ["rule", "constraint", "year", "site_id", "origin_id", "class", "period", "corridor", "scope", "dual_pv",
            "dual_in_year_money", "binding", "unit"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    for c in cols:
        if c not in out:
            out[c] = np.nan if c not in ("site_id", "origin_id", "class", "period", "corridor", "scope") else None
    out["basis"] = s.dual_basis
    return out[cols + ["basis"]].reset_index(drop=True)


def parameter_marginals(m: Model, s: Solution) -> dict[str, float]:
    """d objective / d parameter for scalar rule parameters, by the envelope theorem:
    sum over the rule's rows of dual * (db/dp - (dA/dp) x*)."""
    out: dict[str, float] = {}
    for (name, param), (A1, b1) in m.dparam.items():
        rb = m.rows[name]
        dual = s.row_dual[rb.offset:rb.offset + rb.size]
        drhs = b1 - A1 @ s.x
        out[param] = out.get(param, 0.0) + float(dual @ drhs)
    return out


def indicators_table(sc: Scenario, tabs: dict[str, pd.DataFrame], m: Model) -> pd.DataFrame:
    """Feed-back indicators per province (GB/T 2260 code) and year, in tidy form: unit, year, indicator, value.

    plan_hub_utilisation_pct: used / installed racks at hub sites located in the province (%);
    plan_green_power_share_pct: green / total electricity of sites located in the province (%);
    plan_demand_served_west_hub_pct: share of the province's demand (origins located in it) served at western hub
    sites, i.e. sites with ``hub = true`` and ``region = west`` in the sites table (%). Sites are selected by these
    flags, not by province, so a non-hub site in a western hub province does not count.
    """
    D = m.data
    rows = []
    ut = tabs["utilisation"]
    hub = ut[ut["hub"]]
    if len(hub):
        gsum = hub.groupby(["province_code", "year"], sort=True)[["used_racks", "installed_racks"]].sum()
        gsum = gsum[gsum["installed_racks"] > _TOL]
        for (p, y), r in gsum.iterrows():
            rows.append((p, int(y), "plan_hub_utilisation_pct", 100.0 * r["used_racks"] / r["installed_racks"]))
    em = tabs["emissions"]
    gs = em.groupby(["province_code", "year"], sort=True)[["green_mwh", "electricity_mwh"]].sum()
    gs = gs[gs["electricity_mwh"] > _TOL]
    for (p, y), r in gs.iterrows():
        rows.append((p, int(y), "plan_green_power_share_pct", 100.0 * r["green_mwh"] / r["electricity_mwh"]))
    fl = tabs["flows"]
    dm = tabs["demand"]
    orig = sc.tables["origins"].set_index("origin_id")["province_code"]
    west_hub = {s_ for s_, h, w in zip(D.sites, D.hub, D.west) if h and w}
    if len(dm):
        dm = dm.assign(province_code=dm["origin_id"].map(orig))
        tot = dm.groupby(["province_code", "year"], sort=True)["demand_racks"].sum()
        west = fl[fl["site_id"].isin(west_hub)]
        west = west.assign(province_code=west["origin_id"].map(orig)).groupby(["province_code", "year"])["racks"].sum()
        for (p, y), t in tot.items():
            if t > _TOL:
                rows.append((p, int(y), "plan_demand_served_west_hub_pct", 100.0 * float(west.get((p, y), 0.0)) / t))
    out = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value"])
    return out.sort_values(["indicator", "unit", "year"], kind="mergesort").reset_index(drop=True)
