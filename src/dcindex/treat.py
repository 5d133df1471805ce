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


def skew_type2(x: np.ndarray, axis: int = -2) -> np.ndarray:
    """Sample skewness G1 = g1 * sqrt(n (n-1)) / (n-2), g1 = m3 / m2^1.5 (Joanes & Gill 1998, type 2); NaN-aware."""
    n = np.sum(~np.isnan(x), axis=axis)
    mu = np.nanmean(x, axis=axis, keepdims=True)
    d = x - mu
    m2 = np.nanmean(d**2, axis=axis)
    m3 = np.nanmean(d**3, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        g1 = m3 / m2**1.5
        return g1 * np.sqrt(n * (n - 1.0)) / (n - 2.0)


def kurt_type2(x: np.ndarray, axis: int = -2) -> np.ndarray:
    """Sample excess kurtosis G2 = ((n+1) g2 + 6) (n-1) / ((n-2)(n-3)), g2 = m4/m2^2 - 3 (type 2); NaN-aware."""
    n = np.sum(~np.isnan(x), axis=axis)
    mu = np.nanmean(x, axis=axis, keepdims=True)
    d = x - mu
    m2 = np.nanmean(d**2, axis=axis)
    m4 = np.nanmean(d**4, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        g2 = m4 / m2**2 - 3.0
        return ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))


def fails_rule(x: np.ndarray, skew: float, kurt: float) -> np.ndarray:
    """True where a column FAILS the pass rule ``|skew| < skew OR kurtosis < kurt`` (NaN stats pass)."""
    s = skew_type2(x)
    k = kurt_type2(x)
    with np.errstate(invalid="ignore"):
        return (np.abs(s) >= skew) & (k >= kurt)


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


def winsorise(
    X: np.ndarray, max_points: int = 5, skew: float = 2.0, kurt: float = 3.5, log_fallback: bool = True
) -> tuple[np.ndarray, TreatInfo]:
    """COINr-style Winsorisation with log fallback, vectorised over all leading axes and columns.

    Returns the treated copy and a :class:`TreatInfo`. NaN cells stay NaN.
    """
    X = np.asarray(X, dtype=float)
    x = X.copy()
    nan = np.isnan(x)
    skew0 = skew_type2(X)
    kurt0 = kurt_type2(X)
    active = fails_rule(X, skew, kurt)
    moved = np.zeros(X.shape, dtype=bool)
    side = np.zeros(active.shape, dtype=np.int8)
    # COINr's count: sizes of the most recent high-side and low-side tie sets (not cumulative); earlier
    # clipped points sit at the new extreme and are counted again, ties are counted.
    n_hi = np.zeros(active.shape, dtype=np.int64)
    n_lo = np.zeros(active.shape, dtype=np.int64)
    if max_points <= 0:
        active = np.zeros_like(active)
    while active.any():
        s = skew_type2(x)
        hi = s >= 0
        with np.errstate(invalid="ignore"):
            # high side: points at the max move to the largest remaining value
            xmax = np.max(np.where(nan, -np.inf, x), axis=-2, keepdims=True)
            at_max = x == xmax
            rest_max = np.max(np.where(at_max | nan, -np.inf, x), axis=-2, keepdims=True)
            xmin = np.min(np.where(nan, np.inf, x), axis=-2, keepdims=True)
            at_min = x == xmin
            rest_min = np.min(np.where(at_min | nan, np.inf, x), axis=-2, keepdims=True)
        act = active[..., None, :]
        do_hi = act & hi[..., None, :] & at_max & np.isfinite(rest_max)
        do_lo = act & ~hi[..., None, :] & at_min & np.isfinite(rest_min)
        stuck = active & ~(do_hi | do_lo).any(axis=-2)  # a constant column cannot be winsorised further
        x = np.where(do_hi, rest_max, x)
        x = np.where(do_lo, rest_min, x)
        moved |= do_hi | do_lo
        n_hi = np.where(active & hi, do_hi.sum(axis=-2), n_hi)
        n_lo = np.where(active & ~hi, do_lo.sum(axis=-2), n_lo)
        side = np.where(active, np.where(hi, 1, -1), side).astype(np.int8)
        active = active & ~stuck & fails_rule(x, skew, kurt) & ((n_hi + n_lo) < max_points)
    still = fails_rule(x, skew, kurt)
    use_log = still & log_fallback
    if use_log.any():
        with np.errstate(invalid="ignore"):
            mn = np.nanmin(X, axis=-2, keepdims=True)
            mx = np.nanmax(X, axis=-2, keepdims=True)
            logged = np.log(X - mn + 0.01 * (mx - mn))
        x = np.where(use_log[..., None, :], logged, x)
        moved = np.where(use_log[..., None, :], False, moved)
    npts = moved.sum(axis=-2)
    info = TreatInfo(
        winsorised_points=npts,
        nwin=n_hi + n_lo,
        side=np.where(npts > 0, side, 0).astype(np.int8),
        log=use_log,
        skew_before=skew0,
        kurt_before=kurt0,
        skew_after=skew_type2(x),
        kurt_after=kurt_type2(x),
        still_fails=fails_rule(x, skew, kurt),
    )
    return x, info


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
