"""Attribution: why a score changed over time, why one unit is above another, who was passed and why.

Definitions (all contributions add up *exactly*, up to float rounding, to the difference they explain):

**Arithmetic aggregation** (every aggregate between the indicators and the node is a weighted arithmetic
mean, weights not benefit-of-the-doubt): a unit's score is ``S = sum_k ew_k x_k`` where ``x_k`` is the
normalised value and ``ew_k`` the unit's *effective weight* of indicator k in the node: the product of the
weights along the path, each divided by the sum of the weights of the children the unit actually has (missing
children are dropped and the rest rescaled per unit and year, as the build does). The contribution of
indicator k to ``S_end - S_start`` is ``ew_k,end x_k,end - ew_k,start x_k,start``; it is split into a *value
effect* ``(ew_s + ew_e)/2 * (x_e - x_s)`` and a *weight effect* ``(x_s + x_e)/2 * (ew_e - ew_s)`` (the two-factor
Shapley split of a product; the weight effect is non-zero only with per-year data-driven weights or when the
unit's set of present indicators changes). An indicator present in one year only contributes its whole term
as weight effect (status ``entered``/``left``).

**What "change of the normalised value" means.** ``x`` is the value after the recipe's normalisation. With
per-year min-max (or z-score, ranks, distance to target) it moves when the unit's own value moves *and* when
the year's reference points (min/max, mean/sd, the other units) move. ``raw_effect`` and ``goalpost_drift``
split the value effect accordingly: ``x(v, F)`` is the normalised value of own (treated) value v among field
F (the other units' values that year); ``raw = ((x(v_e, F_s) - x(v_s, F_s)) + (x(v_e, F_e) - x(v_s, F_e)))/2``
and ``drift = dx - raw``. Fixed goalposts, base-year and pooled normalisations have no drift.

**Other aggregations** (geometric, harmonic, Mazziotta-Pareto, TOPSIS, or mixed trees): Shapley values over
the indicators below the node. For a change over time the game is

    v(S) = the unit's score re-aggregated from normalised data in which, for *every* unit, the indicators in
           S take their end-year values and the others their start-year values,

with weights as the build used them (data-driven ``scope: year`` weights recomputed on that data). So
``v(empty)`` is the start-year score and ``v(all)`` the end-year score, and the Shapley values add up to the
change exactly. For Mazziotta-Pareto and TOPSIS the reference points (means/sds, ideal and anti-ideal
points) are recomputed from the same mixed data, so an indicator's contribution includes the effect of
everybody's movement on it ("others improved faster" shows as a negative contribution).
For two units A and B in one year the game swaps their values:

    v(S) = B's score when A and B exchange their values of the indicators in S (all other units unchanged),

so ``v(empty) = S_B`` and ``v(all) = S_A`` (an exchange leaves every cross-unit reference point of the full
swap unchanged) and the values add up to ``S_A - S_B``. Exact enumeration up to 12 indicators, seeded
antithetic permutation sampling beyond (efficiency still exact; standard errors in ``se``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError, MethodError
from dcindex.explain._base import (
    SubtreeEvaluator,
    as_result,
    check_no_bod,
    effective_weights,
    fmt,
    group_of,
    internal_check,
    is_arithmetic,
    normalisation_drift,
    resolve_node,
    resolve_unit,
    resolve_year,
    score_tol,
    signed,
    subtree,
    unit_name,
)
from dcindex.explain._results import text_table, write_outputs
from dcindex.explain.shapley_values import EXACT_MAX, ShapleyValues, check_sampling, shapley

METHODS = ("auto", "closed", "shapley")


# ------------------------------------------------------------------------------------------- result
@dataclass
class Attribution:
    """Contributions of the indicators (and pillars) to a difference of scores at one node."""

    kind: str  # "change" (over time) | "units" (two units)
    node: str
    node_name: str
    unit: str
    unit_name: str
    start_label: str
    end_label: str
    start_score: float
    end_score: float
    method: str
    indicators: pd.DataFrame
    groups: pd.DataFrame
    by_node: pd.DataFrame
    start_rank: float = np.nan
    end_rank: float = np.nan
    other: str | None = None
    other_name: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> float:
        return self.end_score - self.start_score

    @property
    def pillars(self) -> pd.DataFrame:
        """Contribution of each child of the node (the pillars when the node is the index)."""
        return self.groups

    def waterfall(self, by: str = "group") -> pd.DataFrame:
        """Waterfall-ready steps: start bar, one bar per pillar (``by='group'``) or indicator, end bar.

        Columns: ``step, label, kind (start|step|end), value, base, cumulative`` where a step bar spans
        ``base`` to ``base + value`` and ``cumulative`` is the running total after it.
        """
        src = self.groups if by == "group" else self.indicators
        code_col = "group" if by == "group" else "indicator"
        rows = [{"step": 0, "code": "start", "label": self.start_label, "kind": "start",
                 "value": self.start_score, "base": 0.0, "cumulative": self.start_score}]
        run = self.start_score
        for i, r in enumerate(src.itertuples(index=False), start=1):
            v = float(getattr(r, "contribution"))
            rows.append({"step": i, "code": getattr(r, code_col), "label": getattr(r, "name"), "kind": "step",
                         "value": v, "base": run, "cumulative": run + v})
            run += v
        rows.append({"step": len(rows), "code": "end", "label": self.end_label, "kind": "end",
                     "value": self.end_score, "base": 0.0, "cumulative": self.end_score})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "node": self.node, "node_name": self.node_name, "unit": self.unit,
            "unit_name": self.unit_name, "other": self.other, "other_name": self.other_name,
            "start": self.start_label, "end": self.end_label, "start_score": self.start_score,
            "end_score": self.end_score, "change": self.change, "start_rank": self.start_rank,
            "end_rank": self.end_rank, "method": self.method, "notes": list(self.notes),
            "waterfall": self.waterfall().to_dict(orient="records"),
        }

    def summary(self, top: int = 8) -> str:
        if self.kind == "units":
            head = (f"Why {self.unit_name} ({self.unit}) and {self.other_name} ({self.other}) differ on "
                    f"{self.node_name} [{self.node}] in {self.start_label.split()[-1]}: "
                    f"{fmt(self.end_score)} vs {fmt(self.start_score)} (difference {signed(self.change)}; "
                    f"ranks {_r(self.end_rank)} vs {_r(self.start_rank)})")
        else:
            head = (f"Change of {self.node_name} [{self.node}] for {self.unit_name} ({self.unit}), "
                    f"{self.start_label} -> {self.end_label}: {fmt(self.start_score)} -> {fmt(self.end_score)} "
                    f"({signed(self.change)}); rank {_r(self.start_rank)} -> {_r(self.end_rank)}")
        lines = [head, f"  method: {self.method}"]
        if len(self.groups) > 1 or self.groups["group"].iloc[0] != self.indicators["indicator"].iloc[0]:
            lines.append("  by component:")
            lines += text_table(self.groups, [("group", "code", None), ("name", "name", None),
                                              ("contribution", "contribution", signed),
                                              ("share", "share", _pct)], indent="    ")
        ind = self.indicators.reindex(self.indicators["contribution"].abs().sort_values(ascending=False).index)
        lines.append(f"  indicators (largest {min(top, len(ind))} by size):")
        cols = [("indicator", "indicator", None), ("name", "name", None)]
        if self.kind == "units":
            cols += [("norm_a", "A", fmt), ("norm_b", "B", fmt)]
        else:
            cols += [("norm_start", "from", fmt), ("norm_end", "to", fmt)]
        cols += [("contribution", "contribution", signed)]
        if ind["se"].fillna(0).abs().sum() > 0:
            cols.append(("se", "s.e.", lambda v: fmt(v, 3)))
        if "goalpost_drift" in ind and ind["goalpost_drift"].notna().any() and \
                ind["goalpost_drift"].abs().sum() > 1e-12:
            cols += [("raw_effect", "own value", signed), ("goalpost_drift", "goalpost drift", signed)]
        lines += text_table(ind, cols, indent="    ", max_rows=top)
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_dir(self, path: str | Path) -> Path:
        """indicators.csv, components.csv, by_node.csv, waterfall.csv, attribution.json, summary.txt."""
        return write_outputs(path, {"indicators": self.indicators, "components": self.groups,
                                    "by_node": self.by_node, "waterfall": self.waterfall()},
                             {"attribution": self.to_dict()}, self.summary(top=50))

    def __repr__(self) -> str:
        return f"Attribution({self.kind}, node={self.node!r}, unit={self.unit!r}, change={self.change:+.4g})"


def _r(x) -> str:
    return "—" if x is None or pd.isna(x) else str(int(x))


def _pct(x) -> str:
    return "—" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


# -------------------------------------------------------------------------------------- engine
@dataclass
class _Contrib:
    """Contributions for all units: arrays (N, Ks)."""

    inds: list[str]
    contribution: np.ndarray
    se: np.ndarray
    value_effect: np.ndarray
    weight_effect: np.ndarray
    status: np.ndarray  # object (N, Ks): "", "entered", "left", "missing"
    weight_start: np.ndarray
    weight_end: np.ndarray
    method: str
    shap: ShapleyValues | None = None


def _choose(result, aggs, method: str) -> str:
    if method not in METHODS:
        raise InputError(f"unknown attribution method '{method}'.", hint=f"use one of: {', '.join(METHODS)}.")
    check_no_bod(result, aggs, "attribution")
    arith = is_arithmetic(result, aggs)
    if method == "closed" and not arith:
        raise MethodError("the closed-form attribution needs arithmetic aggregation on every level below the node.",
                          hint="use method='auto' (Shapley values for other aggregations).")
    return "closed" if (method == "closed" or (method == "auto" and arith)) else "shapley"


def _closed_form(result, node: str, ta: int, tb: int, ua: np.ndarray, ub: np.ndarray) -> _Contrib:
    """Contribution of each indicator to S[tb, ub] - S[ta, ua] under arithmetic aggregation (rows pair ua/ub)."""
    inds, _ = subtree(result.framework, node)
    kpos = [result.framework.indicators.index(k) for k in inds]
    ewa = effective_weights(result, node, ta)[ua]
    ewb = effective_weights(result, node, tb)[ub]
    xa = result.datasets["normalised"][ta][ua][:, kpos]
    xb = result.datasets["normalised"][tb][ub][:, kpos]
    ta_term = np.where(ewa > 0, ewa * np.nan_to_num(xa), 0.0)
    tb_term = np.where(ewb > 0, ewb * np.nan_to_num(xb), 0.0)
    j = result.node_index(node)
    sa = result.scores_array[ta, ua, j]
    sb = result.scores_array[tb, ub, j]
    has = ~np.isnan(sa) & ~np.isnan(sb)
    contrib = np.where(has[:, None], tb_term - ta_term, np.nan)
    both = ~np.isnan(xa) & ~np.isnan(xb) & has[:, None]
    value = np.where(both, 0.5 * (ewa + ewb) * (xb - xa), np.where(has[:, None], 0.0, np.nan))
    weight = np.where(both, 0.5 * (xa + xb) * (ewb - ewa), contrib)
    status = np.full(contrib.shape, "", dtype=object)
    status[has[:, None] & np.isnan(xa) & ~np.isnan(xb)] = "entered"
    status[has[:, None] & ~np.isnan(xa) & np.isnan(xb)] = "left"
    status[has[:, None] & np.isnan(xa) & np.isnan(xb)] = "missing"
    # the identity must hold: the terms add up to the scores
    tot_a = np.where(has, ta_term.sum(axis=1), np.nan)
    tot_b = np.where(has, tb_term.sum(axis=1), np.nan)
    tol = score_tol(result.scores_array[..., j])
    internal_check(np.allclose(tot_a, np.where(has, sa, np.nan), atol=tol, rtol=0, equal_nan=True)
                   and np.allclose(tot_b, np.where(has, sb, np.nan), atol=tol, rtol=0, equal_nan=True),
                   f"effective weights x normalised values do not add up to the scores of '{node}'")
    zero_se = np.where(has[:, None], np.zeros_like(contrib), np.nan)
    return _Contrib(inds, contrib, zero_se, value, weight, status,
                    np.where(has[:, None], ewa, np.nan), np.where(has[:, None], ewb, np.nan),
                    "closed form (arithmetic): effective weight x normalised value, per indicator")


def _time_contributions(result, node: str, s: int, e: int, method: str, seed, n_permutations: int,
                        exact_max: int, units: list[int] | None = None) -> _Contrib:
    """Contributions for all units (rows of units not in ``units`` may be NaN when that saves work)."""
    inds, aggs = subtree(result.framework, node)
    how = _choose(result, aggs, method)
    N = len(result.unit_codes)
    if how == "closed":
        return _closed_form(result, node, s, e, np.arange(N), np.arange(N))
    ev = SubtreeEvaluator(result, node)
    internal_check(ev.fixed_weights_equal(s, e), "fixed weights differ between the two years")
    ev.check_reproduces(s)
    ev.check_reproduces(e)
    Xs, Xe = ev.year_data(s), ev.year_data(e)
    # without cross-unit dependence the world of the units of interest alone gives the same values
    rows = np.arange(N) if (units is None or not ev.unit_independent) else np.asarray(sorted(set(units)), dtype=int)
    Xs, Xe = Xs[rows], Xe[rows]

    def value_fn(masks):
        worlds = np.where(masks[:, None, :], Xe[None], Xs[None])
        return ev.evaluate(worlds, s)

    sh = shapley(_in_game(value_fn, "mixes of the start- and end-year values"), len(inds), exact_max=exact_max,
                 n_permutations=n_permutations, seed=seed, chunk=_chunk(len(rows), len(inds)))
    j = result.node_index(node)
    tol = score_tol(result.scores_array[..., j])
    internal_check(np.allclose(sh.v_empty, result.scores_array[s, rows, j], atol=tol, rtol=0, equal_nan=True)
                   and np.allclose(sh.v_full, result.scores_array[e, rows, j], atol=tol, rtol=0, equal_nan=True),
                   "the Shapley game does not start and end at the build's scores")
    phi = np.full((N, len(inds)), np.nan)
    se = np.full((N, len(inds)), np.nan)
    phi[rows] = sh.values.T
    se[rows] = sh.se.T
    if len(rows) < N and sh.pair_marginals is not None:  # keep per-unit rows aligned with the result's units
        pm = np.full(sh.pair_marginals.shape[:2] + (N,), np.nan)
        pm[..., rows] = sh.pair_marginals
        sh.pair_marginals = pm
    nan = np.full(phi.shape, np.nan)
    return _Contrib(inds, phi, se, nan, nan, np.full(phi.shape, "", dtype=object), nan, nan,
                    sh.description + "; game: all units' indicators in the coalition at end-year values", sh)


def _in_game(value_fn, what: str):
    """``value_fn`` whose aggregation errors on counterfactual data get the context of the game.

    Only errors raised while the recipe aggregates a mixed data set are re-worded; argument errors (e.g. too few
    permutations) are raised before any evaluation and pass through unchanged."""

    def wrapped(masks):
        try:
            return value_fn(masks)
        except MethodError as exc:
            raise MethodError(
                f"the Shapley attribution evaluates the index on {what}, and on some of them the recipe cannot "
                f"aggregate: {exc.message.rstrip('.')}.",
                hint="this happens when a method that gives zero scores (TOPSIS, min-max from 0) feeds geometric or "
                     "harmonic aggregation; use positive normalised ranges (e.g. minmax low: 1) or explain a node "
                     "below it.") from None

    return wrapped


def _require_defined(result, values: np.ndarray, node: str, inds: list[str], a, b, code: str) -> None:
    """Shapley values are NaN when some coalitions leave an aggregate of the unit without data: say so."""
    if not np.isnan(values).any():
        return
    fw = result.framework
    kpos = [fw.indicators.index(k) for k in inds]
    Xn = result.datasets["normalised"]
    pa = ~np.isnan(Xn[a[0], a[1], kpos])
    pb = ~np.isnan(Xn[b[0], b[1], kpos])
    only_a = ", ".join(k for k, x, y in zip(inds, pa, pb) if x and not y) or "none"
    only_b = ", ".join(k for k, x, y in zip(inds, pa, pb) if y and not x) or "none"
    if a[0] != b[0]:
        what = (f"the data of '{code}' below '{node}' in {result.years[a[0]]} and {result.years[b[0]]} differ in "
                f"which indicators are present (only in {result.years[a[0]]}: {only_a}; only in "
                f"{result.years[b[0]]}: {only_b})")
    else:
        what = (f"the data of '{a[2]}' and '{b[2]}' below '{node}' in {result.years[a[0]]} differ in which "
                f"indicators are present (only '{a[2]}': {only_a}; only '{b[2]}': {only_b})")
    raise InputError(
        what + ", so some mixes of the two leave an aggregate without any data and the Shapley attribution is "
        "undefined.",
        hint="impute the missing values (recipe 'impute', e.g. {method: linear, edges: nearest}), explain a node where "
             "the indicators present are the same, or use arithmetic aggregation (exact closed form).")


def _chunk(N: int, K: int) -> int:
    return int(max(1, min(4096, 2_000_000 // max(1, N * max(K, 1)))))


# -------------------------------------------------------------------------------------- tables
def _raw(result, t: int, n: int, kpos: list[int]) -> np.ndarray:
    return result.datasets["raw"][t][n][kpos]


def _group_table(result, node: str, inds: list[str], contrib: np.ndarray, se_fn, ta: int, ua: int, tb: int,
                 ub: int, total: float) -> pd.DataFrame:
    fw = result.framework
    grp = group_of(fw, node, inds)
    children = fw.children(node) if not fw.nodes[node].is_indicator else [node]
    rows = []
    for c in children:
        members = [i for i, k in enumerate(inds) if grp[k] == c]
        jc = result.node_index(c)
        v = float(np.sum(contrib[members])) if members else 0.0
        rows.append({"group": c, "name": fw.nodes[c].label(), "level": fw.level(c),
                     "score_start": result.scores_array[ta, ua, jc], "score_end": result.scores_array[tb, ub, jc],
                     "contribution": v, "se": float(se_fn(members)),
                     "share": v / total if total not in (0,) and np.isfinite(total) and total != 0 else np.nan,
                     "indicators": len(members)})
    return pd.DataFrame(rows)


def _by_node_table(result, node: str, inds: list[str], contrib: np.ndarray, se_fn) -> pd.DataFrame:
    fw = result.framework
    _, aggs = subtree(fw, node)
    rows = []
    for a in reversed(aggs):  # top-down
        desc = set(fw.descendants(a)) if a != node else set(inds)
        members = [i for i, k in enumerate(inds) if k in desc]
        rows.append({"node": a, "name": fw.nodes[a].label(), "level": fw.level(a), "parent": fw.parent(a),
                     "contribution": float(np.sum(contrib[members])), "se": float(se_fn(members))})
    return pd.DataFrame(rows, columns=["node", "name", "level", "parent", "contribution", "se"])


def _se_fn(c: _Contrib, n: int):
    def f(members):
        if c.shap is None or c.shap.method == "exact" or not members:
            return 0.0
        return c.shap.se_of_sum(members)[n]
    return f


# -------------------------------------------------------------------------------------- public API
def attribute(result, unit, start, end, node=None, *, method: str = "auto", seed: int | None = 0,
              n_permutations: int = 1000, exact_max: int = EXACT_MAX) -> Attribution:
    """Split the change of ``unit``'s score at ``node`` (default: the index) from year ``start`` to ``end`` into
    contributions of the indicators (and of the pillars). See the module docstring for the definitions.

    ``method``: ``auto`` (closed form for arithmetic aggregation, Shapley values otherwise), ``closed`` or
    ``shapley``. Shapley values are exact up to ``exact_max`` indicators, sampled (``n_permutations``,
    ``seed``) beyond.
    """
    check_sampling(n_permutations, exact_max)
    result = as_result(result)
    n, code = resolve_unit(result, unit)
    s = resolve_year(result, start, "start year", default="first")
    e = resolve_year(result, end, "end year", default="last")
    node = resolve_node(result, node)
    _require_score(result, n, code, node, (s, e))
    c = _time_contributions(result, node, s, e, method, seed, n_permutations, exact_max, units=[n])
    return _build_attribution(result, n, code, s, e, node, c)


def _build_attribution(result, n: int, code: str, s: int, e: int, node: str, c: _Contrib) -> Attribution:
    fw = result.framework
    j = result.node_index(node)
    inds = c.inds
    kpos = [fw.indicators.index(k) for k in inds]
    S0, S1 = float(result.scores_array[s, n, j]), float(result.scores_array[e, n, j])
    total = S1 - S0
    dx, raw, drift = normalisation_drift(result, s, e, units=[n])
    dx, raw, drift = dx[0][kpos], raw[0][kpos], drift[0][kpos]
    xs = result.datasets["normalised"][s][n][kpos]
    xe = result.datasets["normalised"][e][n][kpos]
    grp = group_of(fw, node, inds)
    contrib = c.contribution[n]
    closed = c.shap is None
    if not closed:
        _require_defined(result, contrib, node, inds, (s, n, code), (e, n, code), code)
    if closed:
        wbar = 0.5 * (c.weight_start[n] + c.weight_end[n])
        both = ~np.isnan(xs) & ~np.isnan(xe)
        raw_eff = np.where(both, wbar * raw, 0.0)
        drift_eff = np.where(both, wbar * drift, 0.0)
    else:
        raw_eff = drift_eff = np.full(len(inds), np.nan)
    df = pd.DataFrame({
        "indicator": inds,
        "name": [fw.nodes[k].label() for k in inds],
        "group": [grp[k] for k in inds],
        "raw_start": _raw(result, s, n, kpos),
        "raw_end": _raw(result, e, n, kpos),
        "norm_start": xs,
        "norm_end": xe,
        "normalised_change": xe - xs,
        "own_value_change": raw,
        "reference_drift": drift,
        "weight_start": c.weight_start[n],
        "weight_end": c.weight_end[n],
        "contribution": contrib,
        "value_effect": c.value_effect[n],
        "weight_effect": c.weight_effect[n],
        "raw_effect": raw_eff,
        "goalpost_drift": drift_eff,
        "se": c.se[n],
        "share": contrib / total if total != 0 else np.full(len(inds), np.nan),
        "status": c.status[n],
    })
    internal_check(abs(float(np.sum(contrib)) - total) <= score_tol(result.scores_array[..., j]) * 10,
                   "contributions do not add up to the change")
    se_fn = _se_fn(c, n)
    groups = _group_table(result, node, inds, contrib, se_fn, s, n, e, n, total)
    by_node = _by_node_table(result, node, inds, contrib, se_fn)
    notes = _notes(result, node, inds, s, e, closed, c, n)
    df.attrs.update({"unit": code, "node": node, "start": result.years[s], "end": result.years[e],
                     "start_score": S0, "end_score": S1, "change": total, "method": c.method})
    R = result.ranks_array
    return Attribution(
        kind="change", node=node, node_name=fw.nodes[node].label(), unit=code, unit_name=unit_name(result, code),
        start_label=str(result.years[s]), end_label=str(result.years[e]), start_score=S0, end_score=S1,
        method=c.method, indicators=df, groups=groups, by_node=by_node, start_rank=R[s, n, j], end_rank=R[e, n, j],
        notes=notes)


def _require_score(result, n: int, code: str, node: str, ts) -> None:
    j = result.node_index(node)
    if len(ts) == 2 and ts[0] == ts[1]:
        yrs = result.years
        raise InputError(
            f"start and end are the same year ({yrs[ts[0]]})" + (" because this result has one year" if len(yrs) == 1
                                                                  else "") + ", so there is no change to explain.",
            hint="give two different years (--from, --to), or compare two units in one year (--vs / compare_units).")
    for t in ts:
        if np.isnan(result.scores_array[t, n, j]):
            raise InputError(
                f"unit '{code}' has no score for '{node}' in {result.years[t]} (its indicators are missing or the "
                f"unit-year was screened out), so its change cannot be explained.",
                hint="choose years in which the unit has a score (see scores.csv).")


def change(result, unit, start, end, node=None, **kwargs) -> pd.DataFrame:
    """One row per indicator below ``node`` with a ``contribution`` column that adds up (exactly, up to float
    rounding) to the change of ``unit``'s score at ``node`` from ``start`` to ``end``.

    Fixed public name (scripts depend on it). Per-pillar contributions: ``attribute(...).pillars`` or
    ``df.groupby('group')['contribution'].sum()``. Keywords as in :func:`attribute`.
    """
    return attribute(result, unit, start, end, node, **kwargs).indicators


def _notes(result, node, inds, s, e, closed: bool, c: _Contrib, n: int) -> list[str]:
    fw = result.framework
    notes = []
    drifting = [k for k in inds if not _drift_free(result, k)]
    if drifting:
        notes.append(
            "normalisation is per year for " + (", ".join(drifting[:6]) + (" ..." if len(drifting) > 6 else ""))
            + ": a normalised value moves when the unit's own value moves and when the year's reference points "
            "(min/max, mean/sd, other units) move; 'own_value_change' and 'reference_drift' split it"
            + (" and 'raw_effect'/'goalpost_drift' split the value effect." if closed else "."))
    we = c.weight_effect[n]
    if closed and np.max(np.abs(we[~np.isnan(we)]), initial=0) > 0:
        notes.append("the effective weights differ between the years (per-year data-driven weights or a changed "
                     "set of present indicators): see 'weight_effect'.")
    kpos = [fw.indicators.index(k) for k in inds]
    imp = [k for k, i in zip(inds, kpos) if result.imputed_mask[[s, e], n, i].any()]
    if imp:
        notes.append(f"imputed (not observed) values enter for {', '.join(imp)} in {result.years[s]} or "
                     f"{result.years[e]}.")
    if not closed and c.shap is not None and c.shap.method != "exact":
        notes.append("sampled Shapley values: see 'se' for their standard errors; the contributions still add up "
                     "exactly.")
    return notes


def _drift_free(result, code):
    from dcindex.explain._base import _norm_spec, drift_free

    return drift_free(_norm_spec(result, code))


# ------------------------------------------------------------------------------------------- units
def compare_units(result, a, b, year=None, node=None, *, method: str = "auto", seed: int | None = 0,
                  n_permutations: int = 1000, exact_max: int = EXACT_MAX) -> Attribution:
    """Why ``a`` scores above (or below) ``b`` at ``node`` in ``year``: contributions to ``S_a - S_b`` per
    indicator and pillar. ``end_score`` is a's score, ``start_score`` b's (the waterfall runs from b to a)."""
    check_sampling(n_permutations, exact_max)
    result = as_result(result)
    na, ca = resolve_unit(result, a)
    nb, cb = resolve_unit(result, b)
    if na == nb:
        raise InputError(f"both units are '{ca}'.", hint="compare two different units.")
    t = resolve_year(result, year, "year")
    node = resolve_node(result, node)
    fw = result.framework
    j = result.node_index(node)
    for n, cd in ((na, ca), (nb, cb)):
        if np.isnan(result.scores_array[t, n, j]):
            raise InputError(f"unit '{cd}' has no score for '{node}' in {result.years[t]}.",
                             hint="choose a year in which both units have a score.")
    inds, aggs = subtree(fw, node)
    kpos = [fw.indicators.index(k) for k in inds]
    how = _choose(result, aggs, method)
    Sa, Sb = float(result.scores_array[t, na, j]), float(result.scores_array[t, nb, j])
    if how == "closed":
        c = _closed_form(result, node, t, t, np.array([nb]), np.array([na]))
        contrib, se, wb, wa = c.contribution[0], c.se[0], c.weight_start[0], c.weight_end[0]
        value, weight, status = c.value_effect[0], c.weight_effect[0], c.status[0]
        desc, shap = c.method, None
    else:
        ev = SubtreeEvaluator(result, node)
        ev.check_reproduces(t)
        X = ev.year_data(t)
        ia, ib = na, nb
        if ev.unit_independent:  # no cross-unit dependence: the two units alone make the same game
            X, ia, ib = X[[na, nb]], 0, 1

        def value_fn(masks):
            W = np.repeat(X[None], len(masks), axis=0)
            ra, rb = X[ia], X[ib]
            W[:, ia, :] = np.where(masks, rb[None], ra[None])
            W[:, ib, :] = np.where(masks, ra[None], rb[None])
            return ev.evaluate(W, t)[:, ib]

        shap = shapley(_in_game(value_fn, "exchanges of the two units' values"), len(inds), exact_max=exact_max,
                       n_permutations=n_permutations, seed=seed, chunk=_chunk(len(result.unit_codes), len(inds)))
        _require_defined(result, shap.values, node, inds, (t, na, ca), (t, nb, cb), ca)
        tol = score_tol(result.scores_array[..., j])
        internal_check(abs(shap.v_empty - Sb) <= tol and abs(shap.v_full - Sa) <= tol * 10,
                       "the swap game does not start and end at the two units' scores")
        contrib, se = shap.values, shap.se
        nan = np.full(len(inds), np.nan)
        wa = wb = value = weight = nan
        status = np.full(len(inds), "", dtype=object)
        desc = shap.description + "; game: the two units exchange their values of the indicators in the coalition"
    xa = result.datasets["normalised"][t][na][kpos]
    xb = result.datasets["normalised"][t][nb][kpos]
    total = Sa - Sb
    grp = group_of(fw, node, inds)
    df = pd.DataFrame({
        "indicator": inds, "name": [fw.nodes[k].label() for k in inds], "group": [grp[k] for k in inds],
        "raw_a": _raw(result, t, na, kpos), "raw_b": _raw(result, t, nb, kpos),
        "norm_a": xa, "norm_b": xb, "difference": xa - xb,
        "weight_a": wa, "weight_b": wb, "contribution": contrib, "value_effect": value, "weight_effect": weight,
        "se": se, "share": contrib / total if total != 0 else np.full(len(inds), np.nan), "status": status,
        "rank_a": result.ranks_array[t, na, kpos], "rank_b": result.ranks_array[t, nb, kpos],
    })
    internal_check(abs(float(np.sum(contrib)) - total) <= score_tol(result.scores_array[..., j]) * 10,
                   "contributions do not add up to the difference")

    def se_fn(members):
        if shap is None or shap.method == "exact" or not members:
            return 0.0
        return float(shap.se_of_sum(members))

    groups = _group_table(result, node, inds, contrib, se_fn, t, nb, t, na, total)
    groups = groups.rename(columns={"score_start": "score_b", "score_end": "score_a"})
    by_node = _by_node_table(result, node, inds, contrib, se_fn)
    df.attrs.update({"a": ca, "b": cb, "node": node, "year": result.years[t], "score_a": Sa, "score_b": Sb,
                     "difference": total, "method": desc})
    R = result.ranks_array
    yr = result.years[t]
    return Attribution(
        kind="units", node=node, node_name=fw.nodes[node].label(), unit=ca, unit_name=unit_name(result, ca),
        other=cb, other_name=unit_name(result, cb), start_label=f"{unit_name(result, cb)} {yr}",
        end_label=f"{unit_name(result, ca)} {yr}", start_score=Sb, end_score=Sa, method=desc, indicators=df,
        groups=groups, by_node=by_node, start_rank=R[t, nb, j], end_rank=R[t, na, j])


# -------------------------------------------------------------------------------------- rank change
@dataclass
class RankChange:
    """Which units a unit passed or was passed by between two years, and the indicators behind each pair."""

    unit: str
    unit_name: str
    node: str
    start: int
    end: int
    rank_start: float
    rank_end: float
    score_start: float
    score_end: float
    pairs: pd.DataFrame  # one row per unit passed / passed by
    drivers: pd.DataFrame  # long: other, indicator, contribution to the change of the gap
    method: str
    attribution: Attribution

    def summary(self, top: int = 3) -> str:
        lines = [f"Rank of {self.unit_name} ({self.unit}) on {self.node}: {_r(self.rank_start)} in {self.start} -> "
                 f"{_r(self.rank_end)} in {self.end} (score {fmt(self.score_start)} -> {fmt(self.score_end)})",
                 f"  method: {self.method}"]
        for rel, title in (("passed", "passed"), ("passed_by", "was passed by")):
            sub = self.pairs[self.pairs["relation"] == rel]
            if not len(sub):
                lines.append(f"  {title}: nobody")
                continue
            lines.append(f"  {title} {len(sub)} unit(s):")
            lines += text_table(sub, [("other", "unit", None), ("other_name", "name", None),
                                      ("gap_start", f"gap {self.start}", signed),
                                      ("gap_end", f"gap {self.end}", signed),
                                      ("drivers", "made the difference", None)], indent="    ")
        return "\n".join(lines)

    def to_dir(self, path: str | Path) -> Path:
        meta = {"unit": self.unit, "node": self.node, "start": self.start, "end": self.end,
                "rank_start": self.rank_start, "rank_end": self.rank_end, "score_start": self.score_start,
                "score_end": self.score_end, "method": self.method}
        out = write_outputs(path, {"rank_pairs": self.pairs, "rank_drivers": self.drivers}, {"rank_change": meta},
                            self.summary())
        self.attribution.to_dir(Path(out) / "attribution")
        return out


def rank_change(result, unit, start, end, node=None, *, top: int = 3, method: str = "auto",
                seed: int | None = 0, n_permutations: int = 1000, exact_max: int = EXACT_MAX) -> RankChange:
    """Units that ``unit`` passed (above it in ``start``, below in ``end``) or was passed by, with the gap change
    of each pair split per indicator (the difference of the two units' contributions, so it adds up exactly)."""
    check_sampling(n_permutations, exact_max)
    result = as_result(result)
    n, code = resolve_unit(result, unit)
    s = resolve_year(result, start, "start year", default="first")
    e = resolve_year(result, end, "end year", default="last")
    node = resolve_node(result, node)
    j = result.node_index(node)
    _require_score(result, n, code, node, (s, e))
    S0, S1 = result.scores_array[s, :, j], result.scores_array[e, :, j]
    with np.errstate(invalid="ignore"):
        passed = (S0 > S0[n]) & (S1 < S1[n])
        passed_by = (S0 < S0[n]) & (S1 > S1[n])
    others = np.flatnonzero(passed | passed_by)
    c = _time_contributions(result, node, s, e, method, seed, n_permutations, exact_max,
                            units=[n] + others.tolist())
    att = _build_attribution(result, n, code, s, e, node, c)
    fw = result.framework
    rows, drivers = [], []
    for m in others:
        other = result.unit_codes[m]
        rel = "passed" if passed[m] else "passed_by"
        pc = c.contribution[n] - c.contribution[m]  # contributions to the change of the gap S_n - S_m
        gap_change = (S1[n] - S1[m]) - (S0[n] - S0[m])
        sign = 1.0 if gap_change >= 0 else -1.0
        order = np.argsort(-sign * pc)[:top]
        drv = ", ".join(f"{c.inds[i]} ({pc[i]:+.2f})" for i in order if sign * pc[i] > 0)
        rows.append({"other": other, "other_name": unit_name(result, other), "relation": rel,
                     "score_start": S0[m], "score_end": S1[m], "rank_start": result.ranks_array[s, m, j],
                     "rank_end": result.ranks_array[e, m, j], "gap_start": S0[n] - S0[m], "gap_end": S1[n] - S1[m],
                     "gap_change": gap_change, "drivers": drv})
        for i, k in enumerate(c.inds):
            drivers.append({"other": other, "relation": rel, "indicator": k, "name": fw.nodes[k].label(),
                            "contribution": pc[i], "own_contribution": c.contribution[n][i],
                            "other_contribution": c.contribution[m][i]})
    pairs = pd.DataFrame(rows, columns=["other", "other_name", "relation", "score_start", "score_end", "rank_start",
                                        "rank_end", "gap_start", "gap_end", "gap_change", "drivers"])
    pairs = pairs.sort_values(["relation", "rank_end"], kind="stable").reset_index(drop=True)
    drv = pd.DataFrame(drivers, columns=["other", "relation", "indicator", "name", "contribution",
                                         "own_contribution", "other_contribution"])
    return RankChange(unit=code, unit_name=att.unit_name, node=node, start=result.years[s], end=result.years[e],
                      rank_start=att.start_rank, rank_end=att.end_rank, score_start=att.start_score,
                      score_end=att.end_score, pairs=pairs, drivers=drv, method=c.method, attribution=att)


def change_all(result, start, end, node=None, *, method: str = "auto", seed: int | None = 0,
               n_permutations: int = 1000, exact_max: int = EXACT_MAX) -> pd.DataFrame:
    """Contributions for every unit at once: long table ``unit, indicator, group, contribution, se``."""
    check_sampling(n_permutations, exact_max)
    result = as_result(result)
    s = resolve_year(result, start, "start year", default="first")
    e = resolve_year(result, end, "end year", default="last")
    node = resolve_node(result, node)
    c = _time_contributions(result, node, s, e, method, seed, n_permutations, exact_max)
    grp = group_of(result.framework, node, c.inds)
    N, K = c.contribution.shape
    return pd.DataFrame({
        "unit": np.repeat(np.array(result.unit_codes, dtype=object), K),
        "indicator": np.tile(np.array(c.inds, dtype=object), N),
        "group": np.tile(np.array([grp[k] for k in c.inds], dtype=object), N),
        "contribution": c.contribution.reshape(-1),
        "se": c.se.reshape(-1),
    })
