"""Targets: the least-cost set of indicator improvements that lifts a unit to rank k or to score s.

Decision variables are improvements ``y_k >= 0`` of the unit's *raw* values in the target year, in each
indicator's good direction (up for direction 1, down for direction -1), for the indicators below the node
that the user allows (``indicators``, minus ``fixed``) and that the unit has observed.

**Cost**: ``sum_k cost_k * y_k / base_k * 100`` with ``cost_unit='percent'`` (default: one cost unit per 1 %
of the unit's current value; ``base_k`` = |current value|, or the indicator's cross-unit mean absolute value
that year when the current value is zero), or ``sum_k cost_k * y_k`` with ``cost_unit='raw'``. ``costs``
weights indicators (default 1).

**Bounds** on the new raw value: by default no better than the best value observed for the indicator in any
unit and year (plans stay in the observed range); ``bounds={k: (low, high)}`` replaces that, ``max_change``
(percent, scalar or per indicator) limits the change further. With capped goalposts, gains stop at the cap.

**Linear case** (solved exactly with a linear programme, HiGHS): the unit's score is linear in its raw values
and the other units' scores do not depend on them when, below the node, normalisation is ``goalposts`` with
framework goalposts, there is no outlier treatment, weights are fixed (meta, equal, AHP), aggregation is
arithmetic, and (for rank targets) no other unit's value in that year is imputed from the cross-section.
Denomination keeps linearity (a fixed denominator divides the raw value). Then
``score = current + sum_k g_k y_k`` with ``g_k = ew_k * scale / (high_k - low_k) / denominator_k`` (``ew_k`` the
unit's effective weight), and the LP is ``min c.y  s.t.  g.y >= threshold - current + margin, 0 <= y <= u``,
``u_k`` including the goalpost cap. For a rank target ``threshold`` is the k-th highest score of the other
units (ties share the better rank).

**Otherwise** a documented heuristic (sequential linear programming): gains are measured by rebuilding with
each indicator nudged; the LP on those gains gives a direction; a rebuild checks the step and a bisection
finds the smallest step along it that meets the target; repeat from there (at most ``max_iter`` rounds);
then each variable is trimmed by bisection while the target still holds. Not guaranteed least-cost.

**Group targets** (:func:`group_target`, ``target(group=...)``): the same machinery with one variable per
(member, indicator); the measure is the group's mean score, or its mean minus a reference group's mean (a gap
at most ``gap``, or smaller by ``close_gap``); linear case: one LP on ``coef_uk = g_uk (1/|G| - [u in R]/|R|)``.

Every plan is applied to the raw data and the index rebuilt with the same recipe; ``verified`` says whether
the rebuilt result meets the target. When even the bounds do not suffice, ``status`` is ``unreachable`` and
the best reachable score and rank are reported.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError
from dcindex.explain._base import (
    as_result,
    effective_weights,
    fmt,
    is_arithmetic,
    resolve_node,
    resolve_unit,
    resolve_year,
    subtree,
    unit_name,
)
from dcindex.explain._results import text_table, write_outputs


@dataclass
class TargetPlan:
    unit: str
    unit_name: str
    node: str
    year: int
    target: str
    threshold: float
    score_before: float
    rank_before: float
    score_after: float
    rank_after: float
    status: str  # already met | reached | unreachable | not reached (heuristic, reachability unsettled)
    verified: bool
    method: str
    linear: bool
    reasons: list[str]
    changes: pd.DataFrame
    total_cost: float
    rebuilds: int
    after: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return self.status in ("reached", "already met")

    def summary(self) -> str:
        lines = [f"Target for {self.unit_name} ({self.unit}) on {self.node}, {self.year}: {self.target}",
                 f"  now: score {fmt(self.score_before)}, rank {_ri(self.rank_before)}; "
                 f"threshold {fmt(self.threshold)}",
                 f"  method: {self.method}"]
        if not self.linear and self.reasons:
            lines.append("  not linear because: " + "; ".join(self.reasons))
        lines.append(f"  status: {self.status}" + (f" (verified by rebuilding: score {fmt(self.score_after)}, rank "
                                                   f"{_ri(self.rank_after)})" if self.status != "already met" else ""))
        moved = self.changes[self.changes["change"].abs() > 0]
        if len(moved):
            lines.append(f"  plan (total cost {fmt(self.total_cost)}):")
            lines += text_table(moved, [("indicator", "indicator", None), ("name", "name", None),
                                        ("current", "current", lambda v: fmt(v, 4)),
                                        ("new", "new", lambda v: fmt(v, 4)),
                                        ("change_pct", "change %", lambda v: f"{v:+.1f}%" if pd.notna(v) else "—"),
                                        ("cost", "cost", fmt), ("at_bound", "at bound", lambda v: "yes" if v else "")],
                                indent="    ")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("unit", "unit_name", "node", "year", "target", "threshold",
                                              "score_before", "rank_before", "score_after", "rank_after", "status",
                                              "verified", "method", "linear", "reasons", "total_cost", "rebuilds",
                                              "notes")}

    def to_dir(self, path: str | Path) -> Path:
        return write_outputs(path, {"target_plan": self.changes}, {"target": self.to_dict()}, self.summary())


def _ri(v) -> str:
    return "—" if v is None or pd.isna(v) else str(int(v))


# ------------------------------------------------------------------------------------------ helpers
def _denominator(result, code: str, t: int, n: int) -> float:
    fw = result.framework
    if not result.recipe.denominate or not fw.nodes[code].denominator:
        return 1.0
    d = fw.nodes[code].denominator
    p = result.panel
    if d in p.denominator_codes:
        return float(p.denominators[t, n, p.denominator_codes.index(d)])
    if d in p.units.columns:
        return float(p.units[d].iloc[n])
    return np.nan


def linearity(result, node: str, t: int, variables: list[str], rank_target: bool) -> list[str]:
    """Reasons why the unit's score is not linear in its raw values (empty list: linear; see module doc)."""
    fw = result.framework
    rc = result.recipe
    inds, aggs = subtree(fw, node)
    reasons = []
    if not is_arithmetic(result, aggs):
        reasons.append("aggregation below the node is not arithmetic everywhere")
    wm = sorted({rc.weights.resolve(node=a, level=fw.level(a)).method for a in aggs} - {"meta", "equal", "ahp"})
    if wm:
        reasons.append(f"weights depend on the data ({', '.join(wm)})")
    bad_norm = sorted({rc.normalise.resolve(node=k, level=1).method for k in inds
                       if not (rc.normalise.resolve(node=k, level=1).method == "goalposts"
                               and rc.normalise.resolve(node=k, level=1).source == "framework")})
    if bad_norm:
        reasons.append(f"normalisation is not fixed goalposts ({', '.join(bad_norm)}): reference points move with "
                       f"the data")
    bad_treat = sorted({rc.treat.resolve(node=k, level=1).method for k in inds} - {"none"})
    if bad_treat:
        reasons.append(f"outlier treatment ({', '.join(bad_treat)}) depends on the values")
    if rank_target:
        imp = rc.impute
        kpos = [fw.indicators.index(k) for k in variables]
        cross = {imp.resolve(node=k, level=1).method for k in variables} & {"mean", "median", "group_mean",
                                                                            "group_median"}
        if cross and result.imputed_mask[t][:, kpos].any():
            reasons.append("other units' missing values are imputed from the cross-section, which includes this unit")
    return reasons


def _solve_lp(cost: np.ndarray, gain: np.ndarray, need: float, ub: np.ndarray) -> np.ndarray | None:
    """min cost.y  s.t.  gain.y >= need, 0 <= y <= ub  (HiGHS). None when infeasible."""
    import highspy
    from scipy.sparse import csc_matrix

    K = len(cost)
    h = _new_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = K
    lp.num_row_ = 1
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.zeros(K)
    lp.col_upper_ = np.asarray(ub, dtype=float)
    lp.row_lower_ = np.array([float(need)])
    lp.row_upper_ = np.array([highspy.kHighsInf])
    m = csc_matrix(np.asarray(gain, dtype=float).reshape(1, -1))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data.astype(float)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.clip(np.array(h.getSolution().col_value, dtype=float), 0.0, ub)


def _check_plan_inputs(var, method, linear, reasons, who: str, node: str) -> None:
    """Something must be changeable, and the LP method needs an index linear in the raw values."""
    if not var:
        raise InputError(f"no indicator can be changed for {who} below '{node}'.",
                         hint="allow more indicators (indicators=/fixed=) or choose another node.")
    if method == "lp" and not linear:
        raise InputError("the LP method needs an index that is linear in the raw values, and this one is not: "
                         + "; ".join(reasons) + ".", hint="use method='auto' or 'heuristic'.")


def _new_highs():
    from dcindex._highs import new_highs

    return new_highs()


class _Evaluator:
    """Applies improvements to raw values (one variable per (unit, indicator) cell), rebuilds, and measures the
    target margin. ``measure(res) -> (value, threshold, rank)``: the unit's score (or the group's mean, or the
    group gap), what it must reach, and the unit's rank (NaN for groups)."""

    def __init__(self, result, t: int, node: str, cells_n, cells_k, dirs: np.ndarray, measure):
        self.result, self.t, self.node = result, t, node
        self.cells_n = np.asarray(cells_n, dtype=int)
        self.cells_k = np.asarray(cells_k, dtype=int)
        self.dirs = dirs
        self.measure = measure
        self.base = result.panel.values
        self.current = self.base[t, self.cells_n, self.cells_k] if len(self.cells_n) else np.zeros(0)
        self.rebuilds = 0
        self.cache: dict[bytes, tuple] = {}

    def values(self, y: np.ndarray) -> np.ndarray:
        V = self.base.copy()
        V[self.t, self.cells_n, self.cells_k] = self.current + self.dirs * y
        return V

    def run(self, y: np.ndarray):
        key = np.asarray(y, dtype=float).tobytes()
        if key in self.cache:
            return self.cache[key]
        res = self.result.rebuild(data=self.result.panel.with_values(self.values(y)))
        self.rebuilds += 1
        out = (res,) + tuple(self.measure(res))
        self.cache[key] = out
        return out

    def margin(self, y: np.ndarray) -> float:
        _, s, thr, _ = self.run(y)
        return s - thr


def _unit_measure(t: int, j: int, n: int, rank: int | None, score: float | None):
    def measure(res):
        S = res.scores_array[t, :, j]
        return float(S[n]), threshold(S, n, rank, score), float(res.ranks_array[t, n, j])

    return measure


def threshold(S: np.ndarray, n: int, rank: int | None, score: float | None) -> float:
    """Score the unit needs: ``score``, or the rank-th highest score of the other units."""
    if rank is None:
        return float(score)
    others = np.delete(S, n)
    others = np.sort(others[~np.isnan(others)])[::-1]
    if rank > len(others):
        return -np.inf
    return float(others[rank - 1])


def _met(margin: float, tol: float) -> bool:
    return margin >= -tol


# ------------------------------------------------------------------------------------------- main
def target(result, unit=None, *, rank: int | None = None, score: float | None = None, group=None, reference=None,
           gap: float | None = None, close_gap: float | None = None, year=None, node=None,
           indicators: list[str] | None = None, fixed: list[str] | None = None,
           bounds: dict[str, tuple[float | None, float | None]] | None = None,
           max_change: float | dict[str, float] | None = None, costs: dict[str, float] | None = None,
           cost_unit: str = "percent", method: str = "auto", margin: float = 1e-6, max_iter: int = 25,
           trim: bool = True):
    """Least-cost improvements lifting ``unit`` to ``rank`` (1 = top) or ``score`` at ``node`` in ``year``.

    Group targets (``group=`` instead of ``unit``; returns a :class:`GroupTargetPlan`): improvements of the
    group members' raw values so that the group's mean score reaches ``score``, or its gap to the ``reference``
    group's mean (reference mean - group mean) is at most ``gap``, or shrinks by at least ``close_gap``. Groups
    are unit codes/names or a units-table filter as in :func:`dcindex.explain.whatif` (``"hub=supply;
    region4=West"``, ``{"region4": "East"}``); ``reference="all"`` is the mean of all units.

    ``method``: ``auto`` (LP when linear, else heuristic), ``lp`` (error when not linear) or ``heuristic``.
    ``margin``: the plan aims this far above the threshold (score units) so that float rounding cannot undo it.
    See the module docstring for costs, bounds and the two solution methods.
    """
    if method not in ("auto", "lp", "heuristic"):
        raise InputError(f"unknown target method '{method}'.", hint="use auto, lp or heuristic.")
    if cost_unit not in ("percent", "raw"):
        raise InputError(f"unknown cost unit '{cost_unit}'.", hint="use percent or raw.")
    if group is not None:
        if unit is not None:
            raise InputError("give either a unit or a group, not both.",
                             hint="use --unit for one unit's target, --group for a group's mean or gap.")
        return group_target(result, group, score=score, reference=reference, gap=gap, close_gap=close_gap,
                            rank=rank, year=year, node=node, indicators=indicators, fixed=fixed, bounds=bounds,
                            max_change=max_change, costs=costs, cost_unit=cost_unit, method=method, margin=margin,
                            max_iter=max_iter, trim=trim)
    if unit is None:
        raise InputError("no unit given.", hint="give a unit (--unit CODE) or a group (--group 'COLUMN=VALUE').")
    if gap is not None or close_gap is not None or reference is not None:
        raise InputError("gap, close_gap and reference are targets of a group.",
                         hint="pass group= (--group) for a group gap, or rank=/score= for one unit.")
    result = as_result(result)
    n, code = resolve_unit(result, unit)
    t = resolve_year(result, year)
    node = resolve_node(result, node)
    fw = result.framework
    j = result.node_index(node)
    if (rank is None) == (score is None):
        raise InputError("give exactly one target: a rank (e.g. rank=10) or a score (e.g. score=60).",
                         hint="use --rank K or --score S.")
    S = result.scores_array[t, :, j]
    if np.isnan(S[n]):
        raise InputError(f"unit '{code}' has no score for '{node}' in {result.years[t]}.",
                         hint="choose a year in which the unit has a score.")
    n_scored = int(np.sum(~np.isnan(S)))
    if rank is not None:
        rank = int(rank)
        if not 1 <= rank <= n_scored:
            raise InputError(f"rank {rank} is impossible: {n_scored} units have a score in {result.years[t]}.",
                             hint=f"choose a rank between 1 and {n_scored}.")
    allowed = _allowed(fw, node, indicators, fixed, bounds, costs, max_change)
    raw = result.panel.values
    notes: list[str] = []
    missing = [k for k in allowed if np.isnan(raw[t, n, fw.indicators.index(k)])]
    if missing:
        notes.append(f"no raw value in {result.years[t]} for {', '.join(missing)} (missing or imputed): not changed.")
    var = [k for k in allowed if k not in missing]
    kpos = [fw.indicators.index(k) for k in var]
    dirs = np.array([fw.nodes[k].direction for k in var], dtype=float)
    cur = raw[t, n, kpos] if var else np.zeros(0)

    ub, src, c, base = _bounds_costs(result, t, [n] * len(var), var, dirs, bounds, max_change, costs, cost_unit)

    reasons = linearity(result, node, t, var, rank is not None)
    linear = not reasons
    ev = _Evaluator(result, t, node, [n] * len(kpos), kpos, dirs, _unit_measure(t, j, n, rank, score))
    tol = 1e-9 * max(1.0, float(np.nanmax(np.abs(S))))
    thr0 = threshold(S, n, rank, score)
    target_desc = f"rank {rank} or better" if rank is not None else f"score {score:g} or more"
    common = dict(unit=code, unit_name=unit_name(result, code), node=node, year=result.years[t], target=target_desc,
                  score_before=float(S[n]), rank_before=float(result.ranks_array[t, n, j]))
    if _met(S[n] - thr0, tol) if rank is None else result.ranks_array[t, n, j] <= rank:
        return TargetPlan(**common, threshold=thr0, score_after=float(S[n]), rank_after=common["rank_before"],
                          status="already met", verified=True, method="none needed", linear=linear, reasons=reasons,
                          changes=_table(result, var, kpos, dirs, cur, np.zeros(len(var)), c, ub, src, base, t, n),
                          total_cost=0.0, rebuilds=0, after=result, notes=notes)
    _check_plan_inputs(var, method, linear, reasons, f"'{code}'", node)
    gains = None
    if linear and method != "heuristic":
        g, capped, dead = _linear_gains(result, node, t, n, var, kpos, dirs, cur)
        ub = np.minimum(ub, capped)
        if dead:
            notes.append(f"{', '.join(dead)}: the unit is on the wrong side of the bad goalpost, so improvements up to "
                         f"it gain nothing; the LP leaves them unchanged.")
        gains = (g, thr0 - S[n] + margin)

    def meets(score_, thr_, rank_):
        return _met(score_ - thr_, tol) if rank is None else rank_ <= rank

    sol = _solve(ev, c, ub, gains, meets, margin, max_iter, trim, _non_monotone(result, node),
                 lambda v, r: f"the score is {v:.4f} (rank {int(r)})", "score")
    notes += sol["notes"]
    return TargetPlan(**common, threshold=sol["thr"], score_after=sol["value"], rank_after=sol["rank"],
                      status=sol["status"], verified=sol["verified"], method=sol["how"],
                      linear=linear and sol["linear"], reasons=reasons,
                      changes=_table(result, var, kpos, dirs, cur, sol["y"], c, ub, src, base, t, n),
                      total_cost=float(c @ sol["y"]), rebuilds=ev.rebuilds, after=sol["res"], notes=notes)


def _allowed(fw, node: str, indicators, fixed, bounds, costs, max_change) -> list[str]:
    """The indicators below ``node`` that may change (``indicators`` minus ``fixed``), after checking every
    indicator named in the options."""
    inds, _ = subtree(fw, node)
    allowed = list(inds)
    if indicators is not None:
        unknown = [k for k in indicators if k not in inds]
        if unknown:
            raise InputError(f"indicators not below '{node}': {', '.join(unknown)}.",
                             hint=f"choose among: {', '.join(inds)}.")
        allowed = [k for k in inds if k in indicators]
    for k in list(fixed or []) + list((bounds or {}).keys()) + list((costs or {}).keys()) + \
            (list(max_change.keys()) if isinstance(max_change, dict) else []):
        if k not in fw.indicators:
            raise InputError(f"'{k}' is not an indicator of the framework.",
                             hint=f"indicators are: {', '.join(fw.indicators[:25])}.")
    return [k for k in allowed if k not in set(fixed or [])]


_HOW_LP = ("linear programme (HiGHS): the index is linear in the raw values under this recipe, so the plan is "
           "least-cost")
_HOW_HEURISTIC = ("heuristic (the index is not linear in the raw values): sequential linear programming on gains "
                  "measured by rebuilding, bisection along each step, trimming; verified by a rebuild; not "
                  "guaranteed least-cost")


def _solve(ev: _Evaluator, c: np.ndarray, ub: np.ndarray, gains, meets, margin: float, max_iter: int, trim: bool,
           non_monotone: bool, describe, what: str) -> dict:
    """Find and verify a plan: the LP on exact ``gains = (g, need)`` when given (linear case), else (or when the
    LP plan does not verify) the heuristic; when it falls short, every variable at its bound settles whether the
    target is reachable. ``meets(value, threshold, rank)`` decides; ``describe(value, rank)`` words a state."""
    notes: list[str] = []
    linear = gains is not None
    if linear:
        g, need = gains
        y = _solve_lp(c, g, need, ub)
        how = _HOW_LP
        if y is None:
            y_max = np.where(np.isfinite(ub), ub, 0.0)
            res, v_max, thr_max, r_max = ev.run(y_max)
            return dict(y=y_max, res=res, value=v_max, thr=thr_max, rank=r_max, status="unreachable", verified=True,
                        how=how, linear=True,
                        notes=[f"unreachable within the bounds: with every indicator at its bound "
                               f"{describe(v_max, r_max)}, the target needs {thr_max:.4f}."])
        res, v1, thr1, r1 = ev.run(y)
        if not _met(v1 - thr1, 1e-9 * max(1.0, abs(thr1))):
            notes.append(f"the LP plan did not verify ({what} {v1:.6f} vs threshold {thr1:.6f}); continued with the "
                         f"heuristic from it.")
            linear = False
            y = _heuristic(ev, c, ub, y, margin, max_iter, trim)
            how += "; then the heuristic (sequential LP with rebuilds)"
    else:
        y = _heuristic(ev, c, ub, np.zeros(len(ub)), margin, max_iter, trim)
        how = _HOW_HEURISTIC
    res, v1, thr1, r1 = ev.run(y)
    ok = meets(v1, thr1, r1)
    status = "reached" if ok else "not reached"
    if not ok:
        if np.all(np.isfinite(ub)):
            # the heuristic stopped short: try every indicator at its bound
            res_m, v_m, thr_m, r_m = ev.run(ub)
            if meets(v_m, thr_m, r_m):
                y = _heuristic(ev, c, ub, ub.copy(), margin, 0, trim)  # trim down from the bounds
                res, v1, thr1, r1 = ev.run(y)
                ok = meets(v1, thr1, r1)
                status = "reached" if ok else "not reached"
                notes.append("the heuristic's steps stalled; the plan was found by trimming down from every "
                             "indicator at its bound (not least-cost).")
            else:
                y, res, v1, thr1, r1 = ub.copy(), res_m, v_m, thr_m, r_m
                status = "unreachable"
                notes.append(f"unreachable within the bounds: with every indicator at its bound {describe(v_m, r_m)}, "
                             f"the target needs {thr_m:.4f}"
                             + (" (Mazziotta-Pareto and TOPSIS need not improve when one value improves, so "
                                "for them this is strong evidence, not proof)" if non_monotone else "") + ".")
        if status == "not reached":
            notes.append(f"not reached by the heuristic: best found: {describe(v1, r1)}, the target needs "
                         f"{thr1:.4f}; some bounds are infinite, so reachability was not settled.")
    return dict(y=y, res=res, value=v1, thr=thr1, rank=r1, status=status, verified=ok, how=how, linear=linear,
                notes=notes)


def _bounds_costs(result, t: int, cells_n, var: list[str], dirs: np.ndarray, bounds, max_change, costs,
                  cost_unit: str) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Upper bounds of the improvements (raw units, good direction), what sets them, cost per raw unit, and the
    base of percent costs, for variables ``(cells_n[i], var[i])`` (see the module docstring)."""
    fw = result.framework
    raw = result.panel.values
    kpos = [fw.indicators.index(k) for k in var]
    cur = raw[t, np.asarray(cells_n, dtype=int), kpos] if var else np.zeros(0)
    ub = np.full(len(var), np.inf)
    src = [""] * len(var)
    for i, k in enumerate(var):
        col = raw[..., kpos[i]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            best = np.nanmax(col) if dirs[i] > 0 else np.nanmin(col)
        lim, src[i] = best, "best observed value"
        if bounds and k in bounds:
            lo, hi = bounds[k]
            lim = hi if dirs[i] > 0 else lo
            src[i] = "bound"
            if lim is None:
                lim, src[i] = (np.inf if dirs[i] > 0 else -np.inf), "unbounded"
        room = max(0.0, (lim - cur[i]) * dirs[i])
        mc = max_change.get(k) if isinstance(max_change, dict) else max_change
        if mc is not None:
            mroom = abs(cur[i]) * float(mc) / 100.0
            if mroom < room:
                room, src[i] = mroom, f"max change {float(mc):g}%"
        ub[i] = room
    # costs per raw unit of improvement
    w = np.array([float((costs or {}).get(k, 1.0)) for k in var])
    if np.any(w < 0):
        raise InputError("cost weights must be non-negative.", hint="give costs >= 0 per indicator.")
    if cost_unit == "percent":
        base = np.abs(cur).astype(float)
        for i in range(len(var)):
            if base[i] == 0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    base[i] = np.nanmean(np.abs(raw[t, :, kpos[i]])) or 1.0
        c = w / (base / 100.0)
    else:
        base = np.ones(len(var))
        c = w
    return ub, src, c, base


def _non_monotone(result, node: str) -> bool:
    fw = result.framework
    _, aggs = subtree(fw, node)
    return any(result.recipe.aggregate.resolve(node=a, level=fw.level(a)).method in ("mazziotta_pareto", "topsis")
               for a in aggs)


def _linear_gains(result, node, t, n, var, kpos, dirs, cur) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Score gain per raw unit of improvement, and the improvement at which the goalpost cap binds."""
    fw = result.framework
    inds, _ = subtree(fw, node)
    ew = effective_weights(result, node, t)[n]
    g = np.zeros(len(var))
    cap = np.full(len(var), np.inf)
    dead = []
    for i, k in enumerate(var):
        spec = result.recipe.normalise.resolve(node=k, level=1)
        lo, hi = fw.nodes[k].goalposts
        D = _denominator(result, k, t, n)
        g[i] = ew[inds.index(k)] * spec.scale / (hi - lo) / D
        if spec.cap:
            best = hi if dirs[i] > 0 else lo  # the good end in raw (denominated) units
            cap[i] = max(0.0, (best * D - cur[i]) * dirs[i])
            worst = lo if dirs[i] > 0 else hi
            if (cur[i] / D - worst) * dirs[i] < 0:  # below the bad goalpost: improvements first gain nothing
                g[i] = 0.0
                cap[i] = 0.0
                dead.append(k)
    return g, cap, dead


def _heuristic(ev: _Evaluator, c: np.ndarray, ub: np.ndarray, y0: np.ndarray, aim: float, max_iter: int,
               trim: bool) -> np.ndarray:
    """Sequential LP with finite-difference gains, bisection along each step, and trimming (module doc).

    A point meets the target when its margin (score minus threshold, measured by a rebuild) is >= 0; the LP
    steps aim ``aim`` above the threshold."""
    tol = 0.0
    y = np.minimum(np.asarray(y0, dtype=float), ub)
    scale = np.where(np.isfinite(ub) & (ub > 0), ub, np.maximum(np.abs(ev.current), 1.0))
    for _ in range(max_iter):
        m0 = ev.margin(y)
        if _met(m0, tol):
            break
        room = ub - y
        g = np.zeros(len(y))
        for i in range(len(y)):
            if room[i] <= 0:
                continue
            h = min(room[i], 0.05 * scale[i])
            if not np.isfinite(h) or h <= 0:
                continue
            e = y.copy()
            e[i] += h
            g[i] = (ev.margin(e) - m0) / h
        if not np.any(g > 0):
            break
        step = _solve_lp(np.maximum(c, 1e-12), np.maximum(g, 0.0), -m0 + aim, room)
        if step is None:  # the linearisation says it cannot be reached: go to the bounds of the useful variables
            step = np.where(g > 0, np.where(np.isfinite(room), room, 0.0), 0.0)
            if not np.any(step > 0):
                break
        if _met(ev.margin(y + step), tol):
            lo, hi = 0.0, 1.0
            for _ in range(30):
                mid = 0.5 * (lo + hi)
                if _met(ev.margin(y + mid * step), tol):
                    hi = mid
                else:
                    lo = mid
                if hi - lo < 1e-6:
                    break
            y = y + hi * step
            break
        y = np.minimum(y + step, ub)
    if trim and _met(ev.margin(y), tol):
        # trim: lower each variable (most expensive per gain first) as far as the target still holds
        for i in np.argsort(-c * np.where(y > 0, 1.0, 0.0)):
            if y[i] <= 0:
                continue
            lo, hi = 0.0, y[i]
            z = y.copy()
            z[i] = 0.0
            if _met(ev.margin(z), tol):
                y = z
                continue
            for _ in range(25):
                mid = 0.5 * (lo + hi)
                z[i] = mid
                if _met(ev.margin(z), tol):
                    hi = mid
                else:
                    lo = mid
                if hi - lo <= 1e-6 * max(1.0, y[i]):
                    break
            y[i] = hi
    return y


def _table(result, var, kpos, dirs, cur, y, c, ub, src, base, t, n) -> pd.DataFrame:
    fw = result.framework
    new = cur + dirs * y
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(cur != 0, (new - cur) / np.abs(cur) * 100.0, np.nan)
    return pd.DataFrame({
        "indicator": var, "name": [fw.nodes[k].label() for k in var], "direction": dirs.astype(int),
        "current": cur, "new": new, "change": new - cur, "change_pct": pct, "cost": c * y,
        "cost_per_unit": c, "max_improvement": ub, "bound": src,
        "at_bound": np.isfinite(ub) & (y >= ub - 1e-9 * np.maximum(1.0, np.abs(ub))) & (y > 0),
        "normalised_before": result.datasets["normalised"][t, n, kpos] if len(kpos) else np.zeros(0),
    })


# ------------------------------------------------------------------------------------------ group targets
@dataclass
class GroupTargetPlan:
    """Least-cost improvements of a group's members so that the group's mean score reaches a score, or its gap to a
    reference group's mean is at most / shrinks by a given amount; verified by rebuilding (``after``)."""

    group: list[str]
    group_label: str
    reference: list[str] | None
    reference_label: str | None
    node: str
    year: int
    target: str
    measure: str  # "group mean" | "group mean - reference mean"
    threshold: float
    value_before: float
    value_after: float
    status: str
    verified: bool
    method: str
    linear: bool
    reasons: list[str]
    changes: pd.DataFrame  # one row per (unit, indicator)
    units: pd.DataFrame  # group (and reference) members: score before/after, rank before/after
    total_cost: float
    rebuilds: int
    after: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return self.status in ("reached", "already met")

    @property
    def gap_before(self) -> float:
        return -self.value_before if self.reference is not None else np.nan

    @property
    def gap_after(self) -> float:
        return -self.value_after if self.reference is not None else np.nan

    def summary(self) -> str:
        lines = [f"Group target on {self.node}, {self.year}: {self.target}",
                 f"  group: {self.group_label} ({len(self.group)} units: {', '.join(self.group[:12])}"
                 f"{' ...' if len(self.group) > 12 else ''})"]
        if self.reference is not None:
            lines.append(f"  reference: {self.reference_label} ({len(self.reference)} units)")
            lines.append(f"  now: gap {fmt(self.gap_before)} (reference mean - group mean); the target needs a gap of "
                         f"at most {fmt(-self.threshold)}")
        else:
            lines.append(f"  now: group mean {fmt(self.value_before)}; the target needs {fmt(self.threshold)}")
        lines.append(f"  method: {self.method}")
        if not self.linear and self.reasons:
            lines.append("  not linear because: " + "; ".join(self.reasons))
        after = (f"gap {fmt(self.gap_after)}" if self.reference is not None else f"group mean {fmt(self.value_after)}")
        lines.append(f"  status: {self.status}"
                     + (f" (verified by rebuilding: {after})" if self.status != "already met" else ""))
        moved = self.changes[self.changes["change"].abs() > 0]
        if len(moved):
            lines.append(f"  plan (total cost {fmt(self.total_cost)}, {moved['unit'].nunique()} units, {len(moved)} "
                         f"changes):")
            lines += text_table(moved, [("unit", "unit", None), ("unit_name", "name", None),
                                        ("indicator", "indicator", None),
                                        ("current", "current", lambda v: fmt(v, 4)),
                                        ("new", "new", lambda v: fmt(v, 4)),
                                        ("change_pct", "change %", lambda v: f"{v:+.1f}%" if pd.notna(v) else "—"),
                                        ("cost", "cost", fmt), ("at_bound", "at bound", lambda v: "yes" if v else "")],
                                indent="    ", max_rows=40)
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("group", "group_label", "reference", "reference_label", "node", "year",
                                           "target", "measure", "threshold", "value_before", "value_after", "status",
                                           "verified", "method", "linear", "reasons", "total_cost", "rebuilds",
                                           "notes")}
        d.update(gap_before=self.gap_before, gap_after=self.gap_after)
        return d

    def to_dir(self, path: str | Path) -> Path:
        return write_outputs(path, {"target_plan": self.changes, "target_units": self.units},
                             {"target": self.to_dict()}, self.summary())


def _selection(result, spec, what: str) -> tuple[np.ndarray, str]:
    """Boolean mask and label of a group given as unit codes/names, a units-table filter, or "all"."""
    from dcindex.explain.scenarios import select_units

    if isinstance(spec, str) and spec.strip().lower() == "all":
        return np.ones(len(result.unit_codes), dtype=bool), "all units"
    if isinstance(spec, str) and "=" in spec or isinstance(spec, dict):
        mask = select_units(result, where=spec)
        label = spec if isinstance(spec, str) else "; ".join(f"{k}={v}" for k, v in spec.items())
    else:
        items = [x.strip() for x in spec.split(",")] if isinstance(spec, str) else list(spec)
        mask = select_units(result, units=[x for x in items if str(x).strip()])
        label = ", ".join(map(str, items)) if len(items) <= 4 else f"{len(items)} units"
    if not mask.any():
        raise InputError(f"the {what} contains no unit.", hint="check the codes or the filter COLUMN=VALUE.")
    return mask, str(label)


def group_target(result, group, *, score: float | None = None, reference=None, gap: float | None = None,
                 close_gap: float | None = None, rank=None, year=None, node=None, indicators=None, fixed=None,
                 bounds=None, max_change=None, costs=None, cost_unit: str = "percent", method: str = "auto",
                 margin: float = 1e-6, max_iter: int = 25, trim: bool = True) -> GroupTargetPlan:
    """Least-cost improvements of the members of ``group`` (see :func:`target`): variables are the improvements
    ``y_uk`` of every member u's raw value of every allowed indicator k in ``year``, with the bounds and costs of a
    unit target applied to each member. The measure is the group's mean score (units with a score), minus the
    reference group's mean for ``gap``/``close_gap``. Linear case: the measure is ``sum_uk coef_uk y_uk`` with
    ``coef_uk = g_uk (1/|G| - [u in R]/|R|)`` (``g_uk`` the unit's gain per raw unit) -- one LP with HiGHS; otherwise
    the heuristic. Always verified by rebuilding."""
    result = as_result(result)
    t = resolve_year(result, year)
    node = resolve_node(result, node)
    fw = result.framework
    j = result.node_index(node)
    if rank is not None:
        raise InputError("a group has no rank target.",
                         hint="give the group a mean score (score=), a maximum gap (gap=) or a gap reduction "
                              "(close_gap=) to a reference group.")
    if sum(x is not None for x in (score, gap, close_gap)) != 1:
        raise InputError("give exactly one group target: score= (the group's mean score), gap= (the largest "
                         "acceptable gap to the reference mean) or close_gap= (by how much the gap must shrink).",
                         hint="e.g. --group 'hub=supply;region4=West' --reference region4=East --close-gap 5.")
    if (gap is not None or close_gap is not None) and reference is None:
        raise InputError("a gap target needs a reference group.",
                         hint="pass reference= (--reference), e.g. region4=East, or 'all' for the mean of all units.")
    if score is not None and reference is not None:
        raise InputError("score= is the group's own mean score; a reference group goes with gap= or close_gap=.",
                         hint="drop the reference, or give gap=/close_gap= instead of score=.")
    if close_gap is not None and not close_gap > 0:
        raise InputError(f"close_gap must be positive (got {close_gap}).",
                         hint="give by how much (in score points) the gap to the reference mean must shrink.")
    G, glabel = _selection(result, group, "group")
    R, rlabel = (_selection(result, reference, "reference group") if reference is not None else (None, None))
    S = result.scores_array[t, :, j]
    has = ~np.isnan(S)
    notes: list[str] = []
    Gs = G & has
    if not Gs.any():
        raise InputError(f"no unit of the group has a score for '{node}' in {result.years[t]}.",
                         hint="choose another year or node.")
    if (G & ~has).any():
        notes.append(f"group units without a score in {result.years[t]} are left out of the mean: "
                     f"{', '.join(np.array(result.unit_codes)[G & ~has][:10])}.")
    Rs = None
    if R is not None:
        Rs = R & has
        if not Rs.any():
            raise InputError(f"no unit of the reference group has a score for '{node}' in {result.years[t]}.",
                             hint="choose another reference, year or node.")
        if (G & R).any():
            notes.append(f"{int((G & R).sum())} unit(s) belong to both the group and the reference; improving them "
                         f"raises both means.")
    gi = np.flatnonzero(Gs)
    ri = np.flatnonzero(Rs) if Rs is not None else None

    def f(Sx):
        v = float(np.mean(Sx[gi]))
        return v - float(np.mean(Sx[ri])) if ri is not None else v

    f0 = f(S)
    thr0 = float(score) if score is not None else (-float(gap) if gap is not None else f0 + float(close_gap))
    if score is not None:
        target_desc = f"group mean score {score:g} or more"
    elif gap is not None:
        target_desc = f"gap to the reference mean at most {gap:g}"
    else:
        target_desc = f"gap to the reference mean smaller by at least {close_gap:g} (from {-f0:.4f})"

    def measure(res):
        return f(res.scores_array[t, :, res.node_index(node)]), thr0, np.nan

    allowed = _allowed(fw, node, indicators, fixed, bounds, costs, max_change)
    raw = result.panel.values
    cells_n, var = [], []
    n_missing = 0
    for n in gi:
        for k in allowed:
            if np.isnan(raw[t, n, fw.indicators.index(k)]):
                n_missing += 1
            else:
                cells_n.append(int(n))
                var.append(k)
    if n_missing:
        notes.append(f"{n_missing} (unit, indicator) value(s) of the group are missing or imputed in "
                     f"{result.years[t]}: not changed.")
    kpos = [fw.indicators.index(k) for k in var]
    dirs = np.array([fw.nodes[k].direction for k in var], dtype=float)
    cur = raw[t, cells_n, kpos] if var else np.zeros(0)
    ub, src, c, base = _bounds_costs(result, t, cells_n, var, dirs, bounds, max_change, costs, cost_unit)
    reasons = linearity(result, node, t, sorted(set(var), key=fw.indicators.index), True)
    linear = not reasons
    ev = _Evaluator(result, t, node, cells_n, kpos, dirs, measure)
    tol = 1e-9 * max(1.0, float(np.nanmax(np.abs(S))))
    what = "group mean" if ri is None else "group mean - reference mean"
    common = dict(group=[result.unit_codes[i] for i in gi], group_label=glabel,
                  reference=None if ri is None else [result.unit_codes[i] for i in ri], reference_label=rlabel,
                  node=node, year=result.years[t], target=target_desc, measure=what, threshold=thr0,
                  value_before=f0, reasons=reasons)

    def units_table(after):
        Sa = after.scores_array[t, :, after.node_index(node)]
        sel = Gs | (Rs if Rs is not None else False)
        idx = np.flatnonzero(sel)
        return pd.DataFrame({"unit": [result.unit_codes[i] for i in idx],
                             "name": [unit_name(result, result.unit_codes[i]) for i in idx],
                             "in_group": Gs[idx], "in_reference": (Rs[idx] if Rs is not None else False),
                             "score_before": S[idx], "score_after": Sa[idx],
                             "rank_before": result.ranks_array[t, idx, j],
                             "rank_after": after.ranks_array[t, idx, after.node_index(node)]})

    def table(y):
        d = _table(result, var, kpos, dirs, cur, y, c, ub, src, base, t, np.asarray(cells_n, dtype=int))
        d.insert(0, "unit_name", [unit_name(result, result.unit_codes[i]) for i in cells_n])
        d.insert(0, "unit", [result.unit_codes[i] for i in cells_n])
        return d

    if _met(f0 - thr0, tol):
        return GroupTargetPlan(**common, value_after=f0, status="already met", verified=True, method="none needed",
                               linear=linear, changes=table(np.zeros(len(var))), units=units_table(result),
                               total_cost=0.0, rebuilds=0, after=result, notes=notes)
    _check_plan_inputs(var, method, linear, reasons, "the group", node)
    gains = None
    if linear and method != "heuristic":
        coef = np.zeros(len(var))
        dead_all = []
        for n in gi:
            pos = [i for i, m in enumerate(cells_n) if m == n]
            if not pos:
                continue
            g, capped, dead = _linear_gains(result, node, t, n, [var[i] for i in pos], [kpos[i] for i in pos],
                                            dirs[pos], cur[pos])
            share = 1.0 / len(gi) - (1.0 / len(ri) if ri is not None and n in set(ri) else 0.0)
            coef[pos] = g * share
            ub[pos] = np.minimum(ub[pos], capped)
            dead_all += [f"{result.unit_codes[n]}:{k}" for k in dead]
        if dead_all:
            notes.append(f"{', '.join(dead_all[:10])}: on the wrong side of the bad goalpost, so improvements up to it "
                         f"gain nothing; the LP leaves them unchanged.")
        gains = (coef, thr0 - f0 + margin)
    sol = _solve(ev, c, ub, gains, lambda v, thr, r: _met(v - thr, tol), margin, max_iter, trim,
                 _non_monotone(result, node), lambda v, r: f"the {what} is {v:.4f}", what)
    notes += sol["notes"]
    return GroupTargetPlan(**common, value_after=sol["value"], status=sol["status"], verified=sol["verified"],
                           method=sol["how"], linear=linear and sol["linear"], changes=table(sol["y"]),
                           units=units_table(sol["res"]), total_cost=float(c @ sol["y"]), rebuilds=ev.rebuilds,
                           after=sol["res"], notes=notes)
