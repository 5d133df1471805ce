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

from dcindex.errors import DcindexError
from dcindex.pattern._common import (Panel, as_groups, as_panel, as_unit_weights, atomic_write_text, frame_to_csv,
                                     jsonable)
from dcindex.pattern.convergence import beta_convergence, panel_beta, sigma_convergence, spatial_beta, speed_half_life
from dcindex.pattern.decomposition import DagumResult, dagum, dagum_panel
from dcindex.pattern.dynamics import kde_by_year, markov_chain, rank_mobility, spatial_markov
from dcindex.pattern.gradients import gap_trends, group_gaps, group_stats, quadrants
from dcindex.pattern.inequality import cv, gini, inequality_panel, theil_decomposition, theil_l, theil_t
from dcindex.pattern.spatial import (align_weights, lisa_by_year, moran_by_year, weights_from_edges,
                                     weights_from_polygons)

__all__ = [
    "analyse", "PatternResult", "as_panel",
    "dagum", "DagumResult", "dagum_panel",
    "gini", "theil_t", "theil_l", "cv", "theil_decomposition", "inequality_panel",
    "group_stats", "group_gaps", "gap_trends", "quadrants",
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
        path.mkdir(parents=True, exist_ok=True)
        for name, df in sorted(self.frames.items()):
            atomic_write_text(path / f"{name}.csv", frame_to_csv(df))
        atomic_write_text(path / "summary.json", json.dumps(self.to_dict(), indent=2, ensure_ascii=False,
                                                            sort_keys=True) + "\n")
        return path

    def summary(self) -> str:
        f, s = self.frames, self.scalars
        y0, y1 = self.years[0], self.years[-1]
        L = [f"Regional pattern of {self.label} by {self.by}: {self.n_units} units, {y0}-{y1}"
             + (f", weights={self.weights}" if self.weights else ""), "=" * 78]
        if "group_stats" in f:
            gs = f["group_stats"]
            last = gs[gs["year"] == y1].sort_values("mean", ascending=False)
            L.append(f"Group means {y1}: " + ", ".join(f"{g} {m:.4g}" for g, m in zip(last["group"], last["mean"])))
        if "gap_trends" in f:
            for _, r in f["gap_trends"][f["gap_trends"]["measure"] == "gap"].iterrows():
                L.append(f"  gap {r['group_a']} - {r['group_b']}: {r['first']:.4g} ({y0}) -> {r['last']:.4g} ({y1}), "
                         f"trend {r['slope']:+.4g}/yr [{r['ci_low']:+.4g}, {r['ci_high']:+.4g}] {r['verdict']}")
        elif "group_gaps" in f:
            gg = f["group_gaps"]
            for _, r in gg[gg["year"] == y1].iterrows():
                L.append(f"  gap {r['group_a']} - {r['group_b']} {y1}: {r['gap']:.4g} (ratio {r['ratio']:.3g})")
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
            for meas, v in s["sigma"].items():
                L.append(f"sigma ({meas}): slope {v['slope']:+.4g}/yr, p={v['p_value']:.3g}"
                         + (" -> sigma-convergence" if v.get("converging") else ""))
        for key in ("beta_cross_section_absolute", "beta_cross_section_conditional", "beta_panel_absolute",
                    "beta_panel_conditional", "beta_spatial_lag", "beta_spatial_error", "beta_spatial_durbin"):
            if key in s:
                v = s[key]
                hl = v.get("half_life")
                L.append(f"{key}: beta={v['beta']:+.4g} (p={v['beta_p_value']:.3g})"
                         + (f", speed {v['speed']:.2%}/yr, half-life {hl:.1f} yr" if hl == hl and hl is not None
                            else ", no convergence implied"))
        if "moran" in f and len(f["moran"]):
            m = f["moran"]
            ps = m["p_sim"] if "p_sim" in m else m["p_norm"]
            first = f"Moran's I {int(m['year'].iloc[0])}: {m['I'].iloc[0]:.3f} (p {ps.iloc[0]:.3g})"
            L.append(first if len(m) == 1 else
                     first + f" -> {int(m['year'].iloc[-1])}: {m['I'].iloc[-1]:.3f} (p {ps.iloc[-1]:.3g})")
        if "lisa" in f and len(f["lisa"]):
            li = f["lisa"]
            last = li[li["year"] == li["year"].max()]["cluster"].value_counts()
            L.append("LISA clusters " + str(int(li["year"].max())) + ": "
                     + ", ".join(f"{k} {v}" for k, v in last.items()))
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


def analyse(result_or_table: Any, by: Any, node: str | None = None, weights: Any = None, w: Any = None,
            seed: int | None = 0, *, units: pd.DataFrame | None = None, controls: Any = None,
            coords: pd.DataFrame | None = None, B: int = 999, permutations: int = 999,
            markov_permutations: int = 99, k: int = 4, cutoffs: str = "pooled", pairs: Any = None,
            bw: str | float = "scott", alpha: float = 0.05, spatial_models: tuple[str, ...] = ("lag", "error", "durbin"),
            lisa: bool = True, name: str | None = None) -> PatternResult:
    """Run every pattern analysis on a build result or a unit x year table.

    ``by``: group column of the units table (or a Series indexed by unit); ``node``: which node of a build
    result (default the index root); ``weights``: numeric unit column (e.g. population) for the
    population-weighted variants; ``w``: spatial weights (libpysal W, Graph or edge list; default queen
    contiguity from ``dcindex.china`` for Chinese codes); ``seed``: one seed from which every random
    procedure gets its own child stream, so the same seed gives identical output; ``name`` labels a plain
    table in the summary.
    """
    panel = as_panel(result_or_table, node=node, units=units, name=name)
    table = panel.values
    notes = list(panel.notes)
    g = as_groups(by, panel)
    wts = as_unit_weights(weights, panel)
    wname = None if wts is None else str(wts.name)
    seeds = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(seed).spawn(4)] if seed is not None \
        else [None] * 4
    res = PatternResult(label=panel.label, by=str(g.name), weights=wname, n_units=len(table), years=panel.years,
                        settings=dict(seed=seed, B=B, permutations=permutations,
                                      markov_permutations=markov_permutations, k=k, cutoffs=cutoffs, bw=bw,
                                      alpha=alpha))
    F, S = res.frames, res.scalars

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
    q = _run(notes, "quadrants", quadrants, table) if len(panel.years) > 1 else None
    if q is not None:
        F["quadrants"] = q

    # 2 inequality
    ineq = inequality_panel(table, g, wts)
    F["inequality"] = ineq["measures"]
    if len(ineq["theil"]):
        F["theil_decomposition"] = ineq["theil"]

    # 3 Dagum
    dp = _run(notes, "Dagum decomposition", dagum_panel, table, g, wts, B=B, seed=seeds[0], level=1 - alpha)
    if dp is not None:
        for name in ("components", "groups", "pairs", "ci"):
            if len(dp[name]):
                F[f"dagum_{name}"] = dp[name]
        last = table.columns[-1]
        col = table[last].dropna()
        dl = dagum(col, g.reindex(col.index), None if wts is None else wts.reindex(col.index))
        res.dagum_last = dl
        S["dagum"] = {"year": int(last), "G": dl.G, "Gw": dl.Gw, "Gnb": dl.Gnb, "Gt": dl.Gt,
                      "Gw_share": dl.Gw / dl.G, "Gnb_share": dl.Gnb / dl.G, "Gt_share": dl.Gt / dl.G}

    # 5 convergence (aspatial)
    multi = len(panel.years) > 1
    sig = _run(notes, "sigma convergence", sigma_convergence, table, alpha) if multi else None
    if sig is not None:
        F["sigma_per_year"] = sig["per_year"]
        F["sigma_trend"] = sig["trend"]
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
        out = _run(notes, f"{design} {kind} beta convergence", fn, table, **kw)
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

    # 6 spatial
    units_list = list(table.index)
    if w is None:
        w, why = _china_weights(units_list, notes)
        if w is None:
            notes.append(f"spatial analyses (Moran, LISA, spatial Markov, spatial beta) skipped: {why}; "
                         f"pass w= (libpysal W or edge list with unit codes)")
    if w is not None:
        aligned = _run(notes, "spatial weights", align_weights, w, units_list, coords)
        if aligned is None:
            w = None
        else:
            notes += aligned[1]
    if w is not None:
        mo = _run(notes, "Moran's I", moran_by_year, table, w, permutations=permutations, seed=seeds[1],
                  coords=coords)
        if mo is not None:
            F["moran"] = mo
        if lisa:
            li = _run(notes, "LISA", lisa_by_year, table, w, permutations=permutations, seed=seeds[2], alpha=alpha,
                      coords=coords)
            if li is not None:
                F["lisa"] = li
        if multi:
            sm = _run(notes, "spatial Markov", spatial_markov, table, w, k=k, cutoffs=cutoffs,
                      permutations=markov_permutations, seed=seeds[3], coords=coords)
            if sm is not None:
                F["spatial_markov"] = sm["conditional"]
                S["spatial_markov"] = sm["scalars"]
                notes += [n for n in sm["notes"] if n not in notes]
            for model in spatial_models:
                out = _run(notes, f"spatial beta ({model})", spatial_beta, table, w, model=model,
                           controls=controls, units=panel.units, coords=coords)
                if out is not None:
                    c = out["coefficients"].copy()
                    c.insert(0, "kind", "conditional" if controls is not None else "absolute")
                    c.insert(0, "design", f"spatial_{model}")
                    betas.append(c)
                    S[f"beta_spatial_{model}"] = out["scalars"]
    if betas:
        F["beta_convergence"] = pd.concat(betas, ignore_index=True)
    res.notes = list(dict.fromkeys(notes))
    return res
