"""Outlier treatment: pure functions on arrays of shape (..., N, K), statistics along the unit axis (-2).

The default follows COINr's two-stage rule (Becker et al., JRC; COINr ``Treat()``):

1. an indicator *passes* if ``|skew| < skew_thresh`` OR ``kurtosis < kurt_thresh`` (sample skewness and
   excess kurtosis, e1071/SAS "type 2" formulas);
2. otherwise Winsorise one side at a time (skew >= 0: every point equal to the current maximum is set to
   the largest remaining value; else the same at the minimum) while it fails and fewer than
   ``max_points`` points sit at Winsorised values;
3. if it still fails, the Winsorisation is discarded and ``log(x - min + 0.01 (max - min))`` is applied to
   the original values.

Every column (indicator x year, or indicator pooled over years) is treated independently; the loop runs
over Winsorisation steps (at most ``max_points``), vectorised over all columns at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcindex.errors import MethodError


def _moments(x: np.ndarray, axis: int = -2):
    """n and central moments m2, m3, m4 (divided by n) along ``axis``, NaN-aware, in one pass."""
    nan = np.isnan(x)
    n = np.sum(~nan, axis=axis)
    x0 = np.where(nan, 0.0, x)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.sum(x0, axis=axis, keepdims=True) / np.expand_dims(n, axis)
        d = np.where(nan, 0.0, x - mu)
        d2 = d * d  # explicit products: much faster than d**3 / d**4
        m2 = np.sum(d2, axis=axis) / n
        m3 = np.sum(d2 * d, axis=axis) / n
        m4 = np.sum(d2 * d2, axis=axis) / n
    return n, m2, m3, m4


def _skew_kurt(x: np.ndarray, axis: int = -2):
    n, m2, m3, m4 = _moments(x, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        g1 = m3 / m2**1.5
        g2 = m4 / m2**2 - 3.0
        G1 = g1 * np.sqrt(n * (n - 1.0)) / (n - 2.0)
        G2 = ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
    G1 = np.where(n >= 3, G1, np.nan)
    G2 = np.where(n >= 4, G2, np.nan)
    return G1, G2


def skew_type2(x: np.ndarray, axis: int = -2) -> np.ndarray:
    """Sample skewness G1 = g1 sqrt(n (n-1)) / (n-2), g1 = m3 / m2^1.5 (Joanes & Gill 1998 "type 2", as
    e1071/SAS/Excel and COINr); NaN-aware; NaN for n < 3."""
    return _skew_kurt(x, axis)[0]


def kurt_type2(x: np.ndarray, axis: int = -2) -> np.ndarray:
    """Sample excess kurtosis G2 = ((n+1) g2 + 6)(n-1) / ((n-2)(n-3)), g2 = m4/m2^2 - 3 (type 2); NaN for n < 4."""
    return _skew_kurt(x, axis)[1]


def _fails(s: np.ndarray, k: np.ndarray, skew: float, kurt: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.abs(s) >= skew) & (k >= kurt)


def fails_rule(x: np.ndarray, skew: float, kurt: float) -> np.ndarray:
    """True where a column FAILS the pass rule ``|skew| < skew OR kurtosis < kurt`` (NaN stats pass)."""
    return _fails(*_skew_kurt(x), skew, kurt)


@dataclass
class TreatInfo:
    """What happened to each column: arrays of shape (..., K)."""

    winsorised_points: np.ndarray  # int: number of distinct points moved (0 when log was applied)
    nwin: np.ndarray  # int: COINr's winsorise.nwin (last high + last low tie-set sizes, before any log)
    side: np.ndarray  # int: +1 high side, -1 low side, 0 none (as last winsorised)
    log: np.ndarray  # bool: log transform applied
    skew_before: np.ndarray
    kurt_before: np.ndarray
    skew_after: np.ndarray
    kurt_after: np.ndarray
    still_fails: np.ndarray  # bool: fails the rule even after treatment
    abandoned: np.ndarray | None = None  # bool: Winsorisation would have made the column constant; left untreated


def winsorise(
    X: np.ndarray, max_points: int = 5, skew: float = 2.0, kurt: float = 3.5, log_fallback: bool = True
) -> tuple[np.ndarray, TreatInfo]:
    """COINr-style Winsorisation with log fallback, vectorised over all leading axes and columns.

    Works on a (units x columns) view; each step recomputes statistics only for the columns still failing.
    Returns the treated copy and a :class:`TreatInfo`. NaN cells stay NaN.
    """
    X = np.asarray(X, dtype=float)
    lead, N, K = X.shape[:-2], X.shape[-2], X.shape[-1]
    # (..., N, K) -> (N, M) with M = prod(lead) * K columns
    Z = np.moveaxis(X, -2, 0).reshape(N, -1)
    M = Z.shape[1]
    s0, k0 = _skew_kurt(Z, axis=0)
    fail0 = _fails(s0, k0, skew, kurt)
    x = Z.copy()
    moved = np.zeros(Z.shape, dtype=bool)
    side = np.zeros(M, dtype=np.int8)
    # COINr's count: sizes of the most recent high-side and low-side tie sets (not cumulative); earlier
    # clipped points sit at the new extreme and are counted again, ties are counted.
    n_hi = np.zeros(M, dtype=np.int64)
    n_lo = np.zeros(M, dtype=np.int64)
    degenerate = np.zeros(M, dtype=bool)
    act = np.flatnonzero(fail0) if max_points > 0 else np.array([], dtype=np.int64)
    s_cur = s0.copy()
    while act.size:
        xa = x[:, act]
        nan = np.isnan(xa)
        hi = s_cur[act] >= 0
        xmax = np.max(np.where(nan, -np.inf, xa), axis=0)
        at_max = xa == xmax
        rest_max = np.max(np.where(at_max | nan, -np.inf, xa), axis=0)
        xmin = np.min(np.where(nan, np.inf, xa), axis=0)
        at_min = xa == xmin
        rest_min = np.min(np.where(at_min | nan, np.inf, xa), axis=0)
        do_hi = hi & np.isfinite(rest_max) & at_max
        do_lo = ~hi & np.isfinite(rest_min) & at_min
        stuck = ~(do_hi | do_lo).any(axis=0)  # a constant column cannot be winsorised further
        new = np.where(do_hi, rest_max, np.where(do_lo, rest_min, xa))
        # a step that would leave a single distinct value (e.g. a share near 100 % everywhere) would make the
        # indicator constant and unusable: the treatment of that column is abandoned and the column returned
        # untreated, as COINr's Treat() does (its skew test is NA there; it warns and keeps the column)
        flat = np.max(np.where(nan, -np.inf, new), axis=0) == np.min(np.where(nan, np.inf, new), axis=0)
        if flat.any():
            degenerate[act[flat]] = True
            stuck |= flat
        xa = new
        x[:, act] = xa
        moved[:, act] |= do_hi | do_lo
        n_hi[act] = np.where(hi, do_hi.sum(axis=0), n_hi[act])
        n_lo[act] = np.where(~hi, do_lo.sum(axis=0), n_lo[act])
        side[act] = np.where(hi, 1, -1)
        sa, ka = _skew_kurt(xa, axis=0)
        s_cur[act] = sa
        keep = ~stuck & _fails(sa, ka, skew, kurt) & ((n_hi[act] + n_lo[act]) < max_points)
        act = act[keep]
    if degenerate.any():  # restore the untreated column
        x[:, degenerate] = Z[:, degenerate]
        moved[:, degenerate] = False
        n_hi[degenerate] = 0
        n_lo[degenerate] = 0
    sw, kw = _skew_kurt(x, axis=0)
    use_log = _fails(sw, kw, skew, kurt) & log_fallback & ~degenerate
    if use_log.any():
        cols = np.flatnonzero(use_log)
        Zc = Z[:, cols]
        with np.errstate(invalid="ignore"):
            mn = np.nanmin(Zc, axis=0)
            mx = np.nanmax(Zc, axis=0)
            x[:, cols] = np.log(Zc - mn + 0.01 * (mx - mn))
        moved[:, cols] = False
        sw[cols], kw[cols] = _skew_kurt(x[:, cols], axis=0)
    npts = moved.sum(axis=0)

    def back(a):  # (M,) -> (..., K)
        return a.reshape(*lead, K)

    out = np.moveaxis(x.reshape(N, *lead, K), 0, -2)
    info = TreatInfo(
        winsorised_points=back(npts),
        nwin=back(n_hi + n_lo),
        side=back(np.where(npts > 0, side, 0).astype(np.int8)),
        log=back(use_log),
        skew_before=back(s0),
        kurt_before=back(k0),
        skew_after=back(sw),
        kurt_after=back(kw),
        still_fails=back(_fails(sw, kw, skew, kurt)),
        abandoned=back(degenerate),
    )
    return np.ascontiguousarray(out), info


def log_transform(X: np.ndarray, shift: bool = False, names: list[str] | None = None) -> np.ndarray:
    """Natural log; non-positive values are an error unless ``shift`` (then log(x - min + 0.01 (max - min)))."""
    X = np.asarray(X, dtype=float)
    if shift:
        mn = np.nanmin(X, axis=-2, keepdims=True)
        mx = np.nanmax(X, axis=-2, keepdims=True)
        return np.log(X - mn + 0.01 * (mx - mn))
    bad = np.nanmin(np.where(np.isnan(X), np.inf, X), axis=tuple(range(X.ndim - 1))) <= 0
    if bad.any():
        which = [names[i] if names else str(i) for i in np.flatnonzero(bad)]
        raise MethodError(
            f"log treatment needs positive values, but indicator(s) {', '.join(which[:20])} have zero or "
            f"negative values.",
            hint="use 'treat: {method: log, shift: true}', 'winsorise', or choose another treatment for them "
                 "with 'by_node'.",
        )
    return np.log(X)
