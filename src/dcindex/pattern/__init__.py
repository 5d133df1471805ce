"""Regional pattern analysis of a dcindex build result or any unit x year table.

One function per analysis (group gradients, inequality, Dagum decomposition, convergence, spatial
autocorrelation, distribution dynamics) and :func:`analyse`, which runs all of them and returns a
:class:`PatternResult` with ``summary()``, tidy DataFrames and ``to_dir(path)``. Methods, formulas and
conventions are documented in ``docs/pattern.md``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import DcindexError, InputError
from dcindex.pattern._common import (Panel, as_groups, as_panel, as_unit_weights, atomic_write_text, frame_to_csv,
                                     jsonable, prepare_out_dir)
from dcindex.pattern.convergence import beta_convergence, panel_beta, sigma_convergence, spatial_beta, speed_half_life
from dcindex.pattern.decomposition import DagumResult, dagum, dagum_panel
from dcindex.pattern.dynamics import kde_by_year, markov_chain, rank_mobility, spatial_markov
from dcindex.pattern.gradients import GROWTH_MEASURES, gap_trends, group_gaps, group_stats, quadrants
from dcindex.pattern.inequality import cv, gini, inequality_panel, theil_decomposition, theil_l, theil_t
from dcindex.pattern.spatial import (align_weights, lisa_by_year, moran_by_year, weights_from_edges,
                                     weights_from_polygons)

__all__ = [
    "analyse", "PatternResult", "as_panel",
    "dagum", "DagumResult", "dagum_panel",
    "gini", "theil_t", "theil_l", "cv", "theil_decomposition", "inequality_panel",
    "group_stats", "group_gaps", "gap_trends", "quadrants", "GROWTH_MEASURES",
    "sigma_convergence", "beta_convergence", "panel_beta", "spatial_beta", "speed_half_life",
    "moran_by_year", "lisa_by_year", "align_weights", "weights_from_edges", "weights_from_polygons",
    "kde_by_year", "markov_chain", "spatial_markov", "rank_mobility",
]

_CN_CODE = re.compile(r"^(\d{2}|\d{4}|\d{6})$")


@dataclass
class PatternResult:
    """All pattern analyses for one variable (index or pillar) and one grouping.

    ``frames``: tidy DataFrames by name (written as ``<name>.csv``); ``scalars``: headline numbers by
    section (written to ``summary.json``); ``notes``: what was skipped or adjusted, and why.
    """

    label: str
    by: str
    weights: str | None
    n_units: int
    years: list[int]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    scalars: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dagum_last: DagumResult | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"label": self.label, "by": self.by, "weights": self.weights, "n_units": self.n_units,
                         "years": self.years, "settings": self.settings, "results": self.scalars,
                         "notes": self.notes, "files": sorted(f"{k}.csv" for k in self.frames)})

    def to_dir(self, path: str | Path) -> Path:
        """Write every frame as ``<name>.csv`` and ``summary.json`` into ``path`` (each file atomically)."""
        path = Path(path)
        prepare_out_dir(path)  # a clean InputError when path (or a parent) is a file
        for name, df in sorted(self.frames.items()):
            atomic_write_text(path / f"{name}.csv", frame_to_csv(df))
        atomic_write_text(path / "summary.json", json.dumps(self.to_dict(), indent=2, ensure_ascii=False,
                                                            sort_keys=True) + "\n")
        return path

    def summary(self) -> str:
        f, s = self.frames, self.scalars
        y0, y1 = self.years[0], self.years[-1]
        alpha = float(self.settings.get("alpha", 0.05))
        L = [f"Regional pattern of {self.label} by {self.by}: {self.n_units} units, {y0}-{y1}"
             + (f", weights={self.weights}" if self.weights else ""), "=" * 78]
        if "group_stats" in f:
            gs = f["group_stats"]
            last = gs[gs["year"] == y1].sort_values("mean", ascending=False)
            L.append(f"Group means {y1}: " + ", ".join(f"{g} {m:.4g}" for g, m in zip(last["group"], last["mean"])))
        if "gap_trends" in f:
            L += _gap_lines(f["gap_trends"], y0, y1)
        elif "group_gaps" in f:
            gg = f["group_gaps"]
            for _, r in gg[gg["year"] == y1].iterrows():
                L.append(f"  gap {r['group_a']} - {r['group_b']} {y1}: {r['gap']:.4g} (ratio {r['ratio']:.3g})")
        if "quadrants" in f and len(f["quadrants"]):
            q = f["quadrants"]
            counts = q["quadrant"].value_counts()
            L.append(f"Score x growth {int(q['start'].iloc[0])}-{int(q['end'].iloc[0])} (median split, growth = "
                     f"{'absolute change per year' if q['growth_measure'].iloc[0] == 'change' else 'CAGR'}): "
                     + ", ".join(f"{lab} {int(counts.get(lab, 0))}" for lab in
                                 ("leading", "catching up", "falling behind", "lagging")))
        if "inequality" in f:
            ineq = f["inequality"]
            for flag, tag in ((False, "Gini"), (True, f"Gini ({self.weights}-weighted)")):
                m = ineq[(ineq["weighted"] == flag) & (ineq["measure"] == "gini")].dropna(subset=["value"])
                if len(m) > 1:
                    L.append(f"{tag} {int(m['year'].iloc[0])}: {m['value'].iloc[0]:.4f} -> "
                             f"{int(m['year'].iloc[-1])}: {m['value'].iloc[-1]:.4f}")
                elif len(m):
                    L.append(f"{tag} {int(m['year'].iloc[0])}: {m['value'].iloc[0]:.4f}")
        if "dagum" in s:
            d = s["dagum"]
            tag = f" ({self.weights}-weighted)" if self.weights else ""
            L.append(f"Dagum{tag} {d['year']}: G={d['G']:.4f} = Gw {d['Gw']:.4f} ({d['Gw_share']:.0%}) + Gnb "
                     f"{d['Gnb']:.4f} ({d['Gnb_share']:.0%}) + Gt {d['Gt']:.4f} ({d['Gt_share']:.0%})")
        if "sigma" in s:
            names = {"sd_log": "sd of logs", "cv": "CV", "sd": "sd of levels"}
            for meas, v in s["sigma"].items():
                if v.get("slope") is None or v["slope"] != v["slope"]:
                    continue
                verdict = ("sigma-convergence (dispersion falling)" if v.get("converging") else
                           "dispersion rising" if v.get("ci_low") is not None and v["ci_low"] > 0 else
                           "no significant trend")
                L.append(f"sigma ({names.get(meas, meas)}): slope {v['slope']:+.4g}/yr "
                         f"[{v['ci_low']:+.4g}, {v['ci_high']:+.4g}], p={v['p_value']:.3g} -> {verdict}")
        for key in ("beta_cross_section_absolute", "beta_cross_section_conditional", "beta_panel_absolute",
                    "beta_panel_conditional", "beta_spatial_lag", "beta_spatial_error", "beta_spatial_durbin"):
            if key in s:
                L.append(_beta_line(key, s[key], alpha, len(self.years)))
        if "moran" in f and len(f["moran"]):
            m = f["moran"].dropna(subset=["I"])
            if len(m):
                ps = m["p_sim"] if "p_sim" in m else m["p_norm"]
                tag = "" if "p_sim" in m else " analytic"
                first = f"Moran's I {int(m['year'].iloc[0])}: {m['I'].iloc[0]:.3f} (p{tag} {ps.iloc[0]:.3g})"
                L.append(first if len(m) == 1 else
                         first + f" -> {int(m['year'].iloc[-1])}: {m['I'].iloc[-1]:.3f} (p{tag} {ps.iloc[-1]:.3g})")
        if "lisa" in f and len(f["lisa"]):
            li = f["lisa"]
            yl = int(li["year"].max())
            cur = li[li["year"] == yl]
            if "cluster" in cur:
                counts = cur["cluster"].value_counts()
                L.append(f"LISA clusters {yl} (pseudo p <= {alpha:g}): "
                         + ", ".join(f"{k} {v}" for k, v in counts.items()))
            else:  # no permutations: quadrants of the Moran scatter plot, no significance
                counts = cur["quadrant"].value_counts()
                L.append(f"LISA quadrants {yl} (no permutation test, significance not assessed): "
                         + ", ".join(f"{k} {v}" for k, v in counts.items()))
        if "markov" in s:
            L.append(f"Markov ({s['markov']['k']} classes, {s['markov']['cutoffs']} cutoffs): Shorrocks mobility "
                     f"{s['markov']['shorrocks_mobility']:.3f}")
        if "spatial_markov" in s:
            v = s["spatial_markov"]
            L.append(f"Spatial Markov: Q={v['Q']:.2f} (p={v['Q_p_value']:.3g}), LR={v['LR']:.2f} "
                     f"(p={v['LR_p_value']:.3g}), x2 permutation p={v.get('x2_perm_p_value', float('nan')):.3g}")
        if "rank_mobility" in f and len(f["rank_mobility"]):
            r = f["rank_mobility"].iloc[-1]
            L.append(f"Kendall tau {int(r['year_from'])}-{int(r['year_to'])}: {r['tau']:.3f}")
        L += [f"note: {n}" for n in self.notes]
        return "\n".join(L)

    def __repr__(self) -> str:
        return f"<PatternResult {self.label} by {self.by}: {len(self.frames)} tables, {len(self.notes)} notes>"


def _gap_lines(trends: pd.DataFrame, y0: int, y1: int) -> list[str]:
    """One line per pair with both verdicts: the absolute gap (difference of means) and the relative gap (log of
    the ratio of means). They can disagree: a constant ratio with rising levels is a widening absolute gap."""
    out = []
    for (a, b), d in trends.groupby(["group_a", "group_b"], sort=False):
        m = d.set_index("measure")
        parts = []
        if "gap" in m.index:
            r = m.loc["gap"]
            parts.append(f"absolute gap {_verdict(r)} ({r['first']:.4g} in {y0} -> {r['last']:.4g} in {y1}, "
                         f"{r['slope']:+.4g}/yr [{r['ci_low']:+.4g}, {r['ci_high']:+.4g}])")
        if "log_ratio" in m.index:
            r = m.loc["log_ratio"]
            if r["first"] == r["first"]:
                parts.append(f"relative gap {_verdict(r)} (ratio {np.exp(r['first']):.3g} -> {np.exp(r['last']):.3g}, "
                             f"log ratio {r['slope']:+.3g}/yr [{r['ci_low']:+.3g}, {r['ci_high']:+.3g}])")
            else:
                parts.append("relative gap not defined (a group mean <= 0)")
        out.append(f"  {a} - {b}: " + "; ".join(parts))
    return out


def _verdict(r: pd.Series) -> str:
    v = str(r["verdict"])
    return "with no significant trend" if v == "no significant trend" else v


def _beta_line(key: str, v: dict[str, Any], alpha: float, n_years: int) -> str:
    """A beta-convergence line: speed and half-life are findings only when beta is significant at alpha."""
    beta, p = v["beta"], v["beta_p_value"]
    hl = v.get("half_life")
    has_speed = hl is not None and hl == hl
    sig = p == p and p <= alpha
    line = f"{key}: beta={beta:+.4g} (p={p:.3g}"
    if not sig:
        line += f", not significant at {alpha:g})"
        if has_speed:
            line += f"; implied speed {v['speed']:.2%}/yr, half-life {hl:.1f} yr (not significant)"
    elif has_speed:
        line += f") -> convergence, speed {v['speed']:.2%}/yr, half-life {hl:.1f} yr"
    elif beta > 0:
        line += ") -> divergence"
    else:
        line += ") -> no speed implied (1 + beta*tau <= 0)"
    if key.startswith("beta_panel") and v.get("effects", "twoway") in ("twoway", "unit"):
        line += (f" [caveat: unit fixed effects with T={n_years} years -> Nickell bias: beta is biased downward "
                 f"(towards convergence), so the speed is overstated; descriptive]")
    return line


def _china_weights(units: list[str], notes: list[str]) -> tuple[Any, str | None]:
    """Queen weights from dcindex.china when the units are Chinese administrative codes; (None, reason) otherwise.

    Warnings of the weights builder (e.g. islands joined to their nearest unit) become notes."""
    import warnings

    if not all(_CN_CODE.match(u) for u in units):
        return None, "no spatial weights given (w=None) and the units are not Chinese administrative codes"
    try:
        from dcindex.china import spatial_weights  # another capability; optional here
    except ImportError:
        return None, "no spatial weights given and dcindex.china.spatial_weights is not available"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            w = spatial_weights(units, kind="queen")
    except DcindexError as exc:
        return None, f"dcindex.china.spatial_weights failed: {exc.render()}"
    notes.append("spatial weights: queen contiguity of the units' polygons (dcindex.china.spatial_weights)")
    notes += [f"spatial weights: {c.message}" for c in caught if issubclass(c.category, UserWarning)]
    return w, None


def _run(notes: list[str], section: str, fn, *args, **kwargs):
    """Run one analysis; a user-facing error becomes a note saying the section was skipped and why."""
    try:
        return fn(*args, **kwargs)
    except DcindexError as exc:
        notes.append(f"{section} skipped: {exc.render()}")
        return None


def _check_count(name: str, value: Any, minimum: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be a whole number >= {minimum}, got {value!r}.", where="pattern settings",
                         hint=hint)
    return int(value)


def _validate(B, permutations, markov_permutations, lisa_permutations, k, cutoffs, alpha, spatial_models, growth,
              nonpositive, n_units) -> str:
    """Check the settings before any work; returns the normalised Markov cutoff rule."""
    from dcindex.pattern.convergence import NONPOSITIVE
    from dcindex.pattern.dynamics import check_classes, check_cutoffs
    from dcindex.pattern.gradients import GROWTH_MEASURES

    _check_count("the number of bootstrap replications (B, --bootstrap)", B, 0,
                 "Use 0 for no confidence intervals, or e.g. 999.")
    _check_count("the number of permutations (--permutations)", permutations, 0,
                 "Use 0 for analytic p-values only, or e.g. 999.")
    _check_count("markov_permutations", markov_permutations, 0, "Use 0 to skip the permutation test, or e.g. 99.")
    if lisa_permutations is not None:
        _check_count("lisa_permutations", lisa_permutations, 0, "Use 0 for LISA quadrants only, or e.g. 999.")
    check_classes(k, n_units)
    cut = check_cutoffs(cutoffs)
    try:
        ok = 0 < float(alpha) < 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"alpha must be between 0 and 1, got {alpha!r}.", where="pattern settings",
                         hint="Use e.g. 0.05 for 95% confidence intervals.")
    bad = [m for m in spatial_models if m not in ("lag", "error", "durbin")]
    if bad:
        raise InputError(f"unknown spatial models {bad}.", where="pattern settings",
                         hint='Use any of "lag", "error", "durbin" (or none).')
    if growth not in GROWTH_MEASURES:
        raise InputError(f"unknown growth measure {growth!r}.", where="pattern settings",
                         hint='Use "change" (absolute change per year) or "cagr".')
    if nonpositive not in NONPOSITIVE:
        raise InputError(f"unknown nonpositive option {nonpositive!r}.", where="pattern settings",
                         hint='Use "exclude" or "error".')
    return cut


def _check_controls(controls: Any, panel: Panel) -> None:
    """Controls the caller names must exist and be numeric (an error, not a skipped section)."""
    if controls is None:
        return
    if isinstance(controls, str):
        raise InputError(f"controls must be a list of column names or a DataFrame, got the string {controls!r}.",
                         where="pattern controls", hint=f"e.g. controls=[{controls!r}].")
    if isinstance(controls, pd.DataFrame):
        if controls.empty:
            raise InputError("the controls table is empty.", where="pattern controls", hint="Give one row per unit.")
        cols = [c for c in controls.columns if c not in ("unit", "year")]
        frame = controls[cols]
        where = str(controls.attrs.get("source", "controls table"))
    else:
        cols = [str(c) for c in controls]
        lack = [c for c in cols if c not in panel.units.columns]
        if lack:
            raise InputError(f"control columns {lack} are not in the units table.", where="pattern controls",
                             hint=f"Available unit columns: {list(map(str, panel.units.columns))}.")
        frame = panel.units[cols]
        where = "units table"
    if not cols:
        raise InputError("no control columns given.", where="pattern controls",
                         hint="Name at least one numeric control (e.g. urbanisation).")
    for c in cols:
        v = pd.to_numeric(frame[c], errors="coerce")
        if v.isna().all():
            raise InputError(f"control {c!r} has no numeric values.", where=where,
                             hint="Controls must be numbers (decimal point); check the column.")


def _describe_controls(controls: Any) -> Any:
    if controls is None:
        return None
    if isinstance(controls, pd.DataFrame):
        cols = [c for c in controls.columns if c not in ("unit", "year")]
        return {"columns": [str(c) for c in cols], "time_varying": bool({"unit", "year"} <= set(controls.columns)),
                "source": controls.attrs.get("source")}
    return [str(c) for c in controls]


def analyse(result_or_table: Any, by: Any, node: str | None = None, weights: Any = None, w: Any = None,
            seed: int | None = 0, *, units: pd.DataFrame | None = None, controls: Any = None,
            coords: pd.DataFrame | None = None, B: int = 999, permutations: int = 999,
            markov_permutations: int = 99, k: int = 4, cutoffs: str = "pooled", pairs: Any = None,
            bw: str | float = "scott", alpha: float = 0.05, spatial_models: tuple[str, ...] = ("lag", "error", "durbin"),
            lisa: bool = True, lisa_permutations: int | None = None, growth: str = "change",
            nonpositive: str = "exclude", name: str | None = None) -> PatternResult:
    """Run every pattern analysis on a build result or a unit x year table.

    ``by``: group column of the units table (or a Series indexed by unit); ``node``: which node of a build
    result (default the index root); ``weights``: numeric unit column (e.g. population) for the
    population-weighted variants; ``w``: spatial weights (libpysal W, Graph or edge list; default queen
    contiguity from ``dcindex.china`` for Chinese codes; weights given here that do not fit the units raise
    an error, automatic ones are skipped with a note); ``seed``: one seed from which every random procedure
    gets its own child stream, so the same seed gives identical output; ``controls``: conditional beta
    controls (unit columns, a DataFrame indexed by unit, or a long unit, year, ... table); ``cutoffs``:
    Markov class cutoffs "pooled" or "yearly" ("year"); ``growth``: quadrant growth measure ("change" or
    "cagr"); ``nonpositive``: "exclude" (log-based measures leave out values <= 0 with a note) or "error";
    ``lisa``/``lisa_permutations``: LISA on/off and its permutations (default ``permutations``); ``name``
    labels a plain table in the summary. Settings are checked before any work (:class:`InputError`).
    """
    panel = as_panel(result_or_table, node=node, units=units, name=name)
    table = panel.values
    notes = list(panel.notes)
    cutoffs = _validate(B, permutations, markov_permutations, lisa_permutations, k, cutoffs, alpha,
                        tuple(spatial_models), growth, nonpositive, len(table))
    B, permutations, k = int(B), int(permutations), int(k)
    _check_controls(controls, panel)
    lisa_perm = permutations if lisa_permutations is None else int(lisa_permutations)
    g = as_groups(by, panel)
    wts = as_unit_weights(weights, panel)
    wname = None if wts is None else str(wts.name)
    seeds = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(seed).spawn(4)] if seed is not None \
        else [None] * 4
    res = PatternResult(label=panel.label, by=str(g.name), weights=wname, n_units=len(table), years=panel.years,
                        settings=dict(seed=seed, B=B, permutations=permutations,
                                      markov_permutations=markov_permutations, k=k, cutoffs=cutoffs, bw=bw,
                                      alpha=alpha, lisa=bool(lisa), lisa_permutations=lisa_perm if lisa else None,
                                      growth=growth, nonpositive=nonpositive,
                                      controls=_describe_controls(controls),
                                      spatial_models=list(spatial_models)))
    F, S = res.frames, res.scalars

    # spatial weights first: weights the caller gave that do not fit the units fail before any work
    units_list = list(table.index)
    explicit = w is not None
    if w is None:
        w, why = _china_weights(units_list, notes)
        if w is None:
            notes.append(f"spatial analyses (Moran, LISA, spatial Markov, spatial beta) skipped: {why}; "
                         f"pass w= (libpysal W or edge list with unit codes)")
    if w is not None:
        # weights the caller chose must fit the units (an error otherwise); automatic ones are skipped with a note
        aligned = align_weights(w, units_list, coords) if explicit else \
            _run(notes, "spatial weights", align_weights, w, units_list, coords)
        if aligned is None:
            w = None
        else:
            w = aligned[0]  # one W in the data's unit order, islands linked; per-year subsets are taken from it
            notes += aligned[1]

    # 1 gradients
    gs = group_stats(table, g, wts)
    F["group_stats"] = gs
    gaps = group_gaps(gs, pairs)
    F["group_gaps"] = gaps
    if len(panel.years) >= 3:
        F["gap_trends"] = gap_trends(gaps, alpha)
    else:
        notes.append(f"only {len(panel.years)} year(s): gap trends, convergence over time, Markov chains and rank "
                     f"mobility need more years and were skipped where not computable")
    q = _run(notes, "quadrants", quadrants, table, growth=growth) if len(panel.years) > 1 else None
    if q is not None:
        F["quadrants"] = q
        if q.attrs.get("excluded_units"):
            notes.append(f"quadrants: units without a value in the first or last year left out: "
                         f"{q.attrs['excluded_units'][:8]}")

    # 2 inequality
    ineq = inequality_panel(table, g, wts)
    F["inequality"] = ineq["measures"]
    if len(ineq["theil"]):
        F["theil_decomposition"] = ineq["theil"]
    notes += _inequality_notes(table)

    # 3 Dagum
    dp = _run(notes, "Dagum decomposition", dagum_panel, table, g, wts, B=B, seed=seeds[0], level=1 - alpha)
    if dp is not None:
        for name_ in ("components", "groups", "pairs", "ci"):
            if len(dp[name_]):
                F[f"dagum_{name_}"] = dp[name_]
        notes += dp["notes"]
        dl = dp["last"]
        res.dagum_last = dl
        last_year = int(F["dagum_components"]["year"].max())
        S["dagum"] = {"year": last_year, "G": dl.G, "Gw": dl.Gw, "Gnb": dl.Gnb, "Gt": dl.Gt,
                      "Gw_share": dl.Gw / dl.G, "Gnb_share": dl.Gnb / dl.G, "Gt_share": dl.Gt / dl.G}

    # 5 convergence (aspatial)
    multi = len(panel.years) > 1
    sig = _run(notes, "sigma convergence", sigma_convergence, table, alpha, nonpositive) if multi else None
    if sig is not None:
        F["sigma_per_year"] = sig["per_year"]
        F["sigma_trend"] = sig["trend"]
        notes += sig["notes"]
        S["sigma"] = {r["measure"]: {k_: r[k_] for k_ in ("slope", "ci_low", "ci_high", "p_value", "converging")}
                      for _, r in sig["trend"].iterrows()}
    betas = []
    specs = [("cross_section", "absolute", beta_convergence, dict())]
    if controls is not None:
        specs.append(("cross_section", "conditional", beta_convergence, dict(controls=controls, units=panel.units)))
    if len(panel.years) >= 3:
        specs.append(("panel", "absolute", panel_beta, dict()))
        if controls is not None:
            specs.append(("panel", "conditional", panel_beta, dict(controls=controls, units=panel.units)))
    for design, kind, fn, kw in specs if multi else []:
        out = _run(notes, f"{design} {kind} beta convergence", fn, table, nonpositive=nonpositive, **kw)
        if out is not None:
            c = out["coefficients"].copy()
            c.insert(0, "kind", kind)
            c.insert(0, "design", design)
            betas.append(c)
            S[f"beta_{design}_{kind}"] = out["scalars"]
            notes += out.get("notes", [])

    # 4 dynamics (aspatial)
    kd = _run(notes, "kernel density", kde_by_year, table, bw=bw, weights=wts)
    if kd is not None:
        F["kde_density"], F["kde_summary"] = kd["density"], kd["summary"]
    if multi:
        mk = _run(notes, "Markov chain", markov_chain, table, k=k, cutoffs=cutoffs)
        if mk is not None:
            F["markov_transitions"], F["markov_classes"] = mk["transitions"], mk["classes"]
            S["markov"] = mk["scalars"]
            notes += mk["notes"]
        F["rank_mobility"] = rank_mobility(table)

    # 6 spatial (weights prepared at the start)
    if w is not None:
        if permutations == 0:
            notes.append("permutations=0: Moran's I has analytic (normality) p-values only"
                         + (" and LISA has quadrants without a significance test (no cluster column)"
                            if lisa and lisa_perm == 0 else ""))
        mo = _run(notes, "Moran's I", moran_by_year, table, w, permutations=permutations, seed=seeds[1],
                  coords=coords)
        if mo is not None:
            F["moran"] = mo
        if lisa:
            li = _run(notes, "LISA", lisa_by_year, table, w, permutations=lisa_perm, seed=seeds[2], alpha=alpha,
                      coords=coords)
            if li is not None:
                F["lisa"] = li
                if lisa_perm == 0 and permutations != 0:
                    notes.append("LISA without permutations: quadrants only, no significance test (no cluster "
                                 "column)")
        else:
            notes.append("LISA skipped (lisa=False); Moran's I per year is in moran.csv")
        if multi:
            sm = _run(notes, "spatial Markov", spatial_markov, table, w, k=k, cutoffs=cutoffs,
                      permutations=markov_permutations, seed=seeds[3], coords=coords)
            if sm is not None:
                F["spatial_markov"] = sm["conditional"]
                S["spatial_markov"] = sm["scalars"]
                notes += [n for n in sm["notes"] if n not in notes]
            for model in spatial_models:
                out = _run(notes, f"spatial beta ({model})", spatial_beta, table, w, model=model,
                           controls=controls, units=panel.units, coords=coords, nonpositive=nonpositive)
                if out is not None:
                    c = out["coefficients"].copy()
                    c.insert(0, "kind", "conditional" if controls is not None else "absolute")
                    c.insert(0, "design", f"spatial_{model}")
                    betas.append(c)
                    S[f"beta_spatial_{model}"] = out["scalars"]
                    notes += [n for n in out.get("notes", []) if n.startswith("spatial beta")]
    if betas:
        F["beta_convergence"] = pd.concat(betas, ignore_index=True)
    res.notes = list(dict.fromkeys(notes))
    return res


def _inequality_notes(table: pd.DataFrame) -> list[str]:
    """Which years lack which inequality measures because of their domain (never silently NaN)."""
    notes = []
    neg = [int(y) for y in table.columns if (table[y].dropna() < 0).any()]
    zero = [int(y) for y in table.columns if (table[y].dropna() <= 0).any() and int(y) not in neg]
    if neg:
        notes.append(f"inequality: Gini and Theil T/L not computed for years with negative values: {neg}")
    if zero:
        notes.append(f"inequality: Theil L (mean log deviation, needs values > 0) not computed for years with a "
                     f"value of 0: {zero}")
    return notes
