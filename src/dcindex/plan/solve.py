"""Solve a built model with HiGHS (highspy), and recover duals of a MIP from the LP with integers fixed."""
from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from dcindex._highs import new_highs

from .model import Model

_HINF = highspy.kHighsInf


@dataclass
class Solution:
    status: str                 # "optimal", "infeasible", "time_limit", "unbounded", "error: ..."
    objective: float            # including the constant offset (yuan, PV)
    x: np.ndarray
    row_activity: np.ndarray
    row_dual: np.ndarray        # d objective / d (active row bound)
    col_dual: np.ndarray        # reduced costs
    mip: bool
    mip_gap: float
    dual_basis: str             # "LP" or "LP with integer decisions fixed at the MIP optimum"
    seconds: float
    bound: float = np.nan       # proven lower bound on the optimum (MIP dual bound; the objective for an LP)


def _lp(m: Model, integer: np.ndarray | None = None, col_lo=None, col_hi=None) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    A = m.A
    lp.num_col_ = m.n_cols
    lp.num_row_ = m.n_rows
    lp.col_cost_ = m.c.astype(np.float64)
    fix = lambda a: np.clip(np.asarray(a, np.float64), -_HINF, _HINF)  # noqa: E731
    lp.col_lower_ = fix(m.col_lo if col_lo is None else col_lo)
    lp.col_upper_ = fix(m.col_hi if col_hi is None else col_hi)
    lp.row_lower_ = fix(m.row_lo)
    lp.row_upper_ = fix(m.row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(np.float64)
    lp.offset_ = float(m.offset)
    if integer is not None and integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in integer]
    return lp


def _highs(time_limit: float, mip_gap: float) -> highspy.Highs:
    h = new_highs()  # shared constructor: banner silenced, output off, random_seed 0
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("random_seed", 0)
    return h


_STATUS = {
    "Optimal": "optimal", "Infeasible": "infeasible", "Time limit reached": "time_limit",
    "Unbounded": "unbounded", "Primal infeasible or unbounded": "infeasible",
}


def solve(m: Model, *, time_limit: float = 120.0, mip_gap: float = 1e-4, duals: bool = True,
          start: np.ndarray | None = None) -> Solution:
    """Solve; for a MIP, re-solve the LP with integer columns fixed to obtain duals (and say so).

    ``start``: a full column vector known to be feasible (e.g. the plan before a rule was switched off), given
    to HiGHS as the first incumbent of a MIP.
    """
    h = _highs(time_limit, mip_gap)
    h.passModel(_lp(m, m.integer))
    if start is not None and m.is_mip and len(start) == m.n_cols and np.all(np.isfinite(start)):
        # HiGHS 1.16 mis-translates the objective of a MIP start into the presolved space on some models and then
        # reports a wrong "optimal" objective and bound (seen on the shipped example with the PUE cap off:
        # reported 1.4222e11 while the returned plan costs 1.4590e11 and the true optimum is 1.4432e11). With a
        # start, presolve is therefore off; the objective is also checked against c'x below.
        h.setOptionValue("presolve", "off")
        hs = highspy.HighsSolution()
        hs.col_value = np.asarray(start, float).tolist()
        hs.value_valid = True
        h.setSolution(hs)
    h.run()
    st = h.modelStatusToString(h.getModelStatus())
    status = _STATUS.get(st, f"error: {st}")
    info = h.getInfo()
    secs = h.getRunTime()
    n, r = m.n_cols, m.n_rows
    empty = Solution(status, np.nan, np.full(n, np.nan), np.full(r, np.nan), np.full(r, np.nan),
                     np.full(n, np.nan), m.is_mip, np.nan, "", secs)
    if status not in ("optimal", "time_limit"):
        return empty
    sol = h.getSolution()
    if not sol.value_valid:
        empty.status = "time_limit" if status == "time_limit" else f"error: {st} without a solution"
        return empty
    x = np.asarray(sol.col_value, float)
    act = np.asarray(sol.row_value, float)
    obj = float(info.objective_function_value)
    gap = float(info.mip_gap) if m.is_mip else 0.0
    check = float(m.c @ x + m.offset)
    if abs(check - obj) > 1e-6 * max(1.0, abs(obj)):  # the solver's objective must be that of its plan
        empty.status = f"error: solver objective {obj:.10g} differs from the cost of its plan {check:.10g}"
        return empty
    if not m.is_mip:
        return Solution(status, obj, x, act, np.asarray(sol.row_dual, float), np.asarray(sol.col_dual, float),
                        False, 0.0, "LP", secs, obj if status == "optimal" else np.nan)
    bound = float(info.mip_dual_bound)
    bound = min(bound, obj) if np.isfinite(bound) else np.nan
    if not duals:
        return Solution(status, obj, x, act, np.full(r, np.nan), np.full(n, np.nan), True, gap, "", secs, bound)
    # LP with integers fixed at their optimal values: duals valid for the continuous part of the plan
    lo = m.col_lo.copy()
    hi = m.col_hi.copy()
    xi = np.round(x[m.integer])
    lo[m.integer] = xi
    hi[m.integer] = xi
    h2 = _highs(time_limit, mip_gap)
    h2.passModel(_lp(m, None, lo, hi))
    h2.run()
    st2 = h2.modelStatusToString(h2.getModelStatus())
    secs += h2.getRunTime()
    if st2 != "Optimal":  # pragma: no cover - numerical corner case
        return Solution(status, obj, x, act, np.full(r, np.nan), np.full(n, np.nan), True, gap,
                        f"duals unavailable (fixed LP status {st2})", secs, bound)
    s2 = h2.getSolution()
    return Solution(status, float(h2.getInfo().objective_function_value), np.asarray(s2.col_value, float),
                    np.asarray(s2.row_value, float), np.asarray(s2.row_dual, float), np.asarray(s2.col_dual, float),
                    True, gap, "LP with integer decisions fixed at the MIP optimum", secs, bound)


def is_feasible(m: Model, time_limit: float = 60.0) -> bool:
    """Feasibility check (objective ignored by the caller building the model with feasibility_only)."""
    h = _highs(time_limit, 1.0)  # any feasible point will do for a MIP
    h.passModel(_lp(m, m.integer))
    h.run()
    st = h.modelStatusToString(h.getModelStatus())
    if st in ("Optimal", "Time limit reached") and h.getSolution().value_valid:
        return True
    return False


def highs_iis_rows(m: Model, time_limit: float = 30.0) -> list[int] | None:
    """Rows of an irreducible infeasible subset from HiGHS (LP only); None when unavailable."""
    if m.is_mip:
        return None
    try:
        h = _highs(time_limit, 1e-6)
        h.passModel(_lp(m, None))
        h.setOptionValue("iis_strategy", 2)
        h.run()
        stat, iis = h.getIis()
        if not iis.valid_:
            return None
        return sorted(int(i) for i in iis.row_index_)
    except Exception:  # pragma: no cover - older highspy without IIS
        return None
