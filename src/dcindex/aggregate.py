"""Aggregation of children scores Y (..., N, C) with weights w broadcastable to Y into (..., N).

Missing children are dropped and the remaining weights rescaled (COINr ``a_amean`` convention); with
``min_coverage`` a unit needs at least that share of its children (by count) to get a score. All leading
axes (years, Monte Carlo draws) are batch axes.
"""
from __future__ import annotations

import numpy as np

from dcindex.errors import MethodError

METHODS = ("arithmetic", "geometric", "harmonic", "mazziotta_pareto", "topsis")


def _prep(Y, w):
    Y = np.asarray(Y, dtype=float)
    w = np.broadcast_to(np.asarray(w, dtype=float), Y.shape)
    present = ~np.isnan(Y)
    wp = np.where(present, w, 0.0)
    wsum = wp.sum(axis=-1)
    return Y, w, present, wp, wsum


def _coverage(out, present, min_coverage):
    if min_coverage > 0:
        cov = present.mean(axis=-1)
        out = np.where(cov + 1e-12 >= min_coverage, out, np.nan)
    return out


def _positive(Y, present, node, method):
    if np.any(present & (Y <= 0)):
        raise MethodError(
            f"{method} aggregation of '{node}' needs positive values, but some children scores are zero or "
            f"negative.",
            hint="normalise to a positive range (e.g. 'normalise: {method: minmax, low: 1, high: 100}') or use "
                 "arithmetic aggregation for this node (aggregate.by_node).")


def arithmetic(Y, w, *, min_coverage=0.0, node="?"):
    """Weighted arithmetic mean over the present children: sum(w y) / sum(w)."""
    Y, w, present, wp, wsum = _prep(Y, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(wsum > 0, np.sum(np.where(present, Y, 0.0) * wp, axis=-1) / wsum, np.nan)
    return _coverage(out, present, min_coverage)


def geometric(Y, w, *, min_coverage=0.0, node="?"):
    """Weighted geometric mean: exp(sum(w ln y) / sum(w)); children must be positive."""
    Y, w, present, wp, wsum = _prep(Y, w)
    _positive(Y, present, node, "geometric")
    with np.errstate(invalid="ignore", divide="ignore"):
        lg = np.where(present, np.log(np.where(present, Y, 1.0)), 0.0)
        out = np.where(wsum > 0, np.exp(np.sum(lg * wp, axis=-1) / wsum), np.nan)
    return _coverage(out, present, min_coverage)


def harmonic(Y, w, *, min_coverage=0.0, node="?"):
    """Weighted harmonic mean: sum(w) / sum(w / y); children must be positive."""
    Y, w, present, wp, wsum = _prep(Y, w)
    _positive(Y, present, node, "harmonic")
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(present, wp / np.where(present, Y, 1.0), 0.0).sum(axis=-1)
        out = np.where(wsum > 0, wsum / inv, np.nan)
    return _coverage(out, present, min_coverage)


def mazziotta_pareto(Y, w, *, penalty="negative", min_coverage=0.0, node="?"):
    """Mazziotta-Pareto Index (Mazziotta & Pareto 2016, Soc Indic Res 127:983-1003).

    Children are standardised across units to z = 100 + 10 (y - mean) / sd (population sd); for each unit
    M = weighted mean of z, S = weighted population sd of z, cv = S / M, and MPI = M - S cv (negative
    penalty: unbalanced profiles score lower) or M + S cv.
    """
    Y, w, present, wp, wsum = _prep(Y, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.nanmean(Y, axis=-2, keepdims=True)
        sd = np.nanstd(Y, axis=-2, keepdims=True)
        if np.any(present & ~(sd > 0)):
            raise MethodError(f"Mazziotta-Pareto aggregation of '{node}': a child is constant across units.",
                              hint="remove constant children or use arithmetic aggregation for this node.")
        z = 100.0 + 10.0 * (Y - mu) / sd
        zz = np.where(present, z, 0.0)
        M = np.sum(zz * wp, axis=-1) / wsum
        S = np.sqrt(np.sum(np.where(present, (z - M[..., None]) ** 2, 0.0) * wp, axis=-1) / wsum)
        cv = S / M
        out = M - S * cv if penalty == "negative" else M + S * cv
        out = np.where(wsum > 0, out, np.nan)
    return _coverage(out, present, min_coverage)


def topsis(Y, w, *, scale=100.0, min_coverage=0.0, node="?"):
    """TOPSIS closeness (Hwang & Yoon 1981) on the normalised children.

    v = w y with w rescaled over the unit's present children; ideal / anti-ideal = max / min over units of
    each child; d+ and d- are Euclidean distances over the present children; score = scale d- / (d+ + d-)
    (0.5 scale when a unit is at the same distance zero from both, i.e. every child is constant).
    """
    Y, w, present, wp, wsum = _prep(Y, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        wn = wp / wsum[..., None]
        best = np.nanmax(Y, axis=-2, keepdims=True)
        worst = np.nanmin(Y, axis=-2, keepdims=True)
        dp = np.sqrt(np.sum(np.where(present, (wn * (Y - best)) ** 2, 0.0), axis=-1))
        dm = np.sqrt(np.sum(np.where(present, (wn * (Y - worst)) ** 2, 0.0), axis=-1))
        tot = dp + dm
        out = np.where(tot > 0, dm / tot, 0.5) * scale
        out = np.where(wsum > 0, out, np.nan)
    return _coverage(out, present, min_coverage)


def aggregate(Y, w, spec, node="?"):
    """Dispatch on a recipe aggregation spec."""
    m = spec.method
    if m == "arithmetic":
        return arithmetic(Y, w, min_coverage=spec.min_coverage, node=node)
    if m == "geometric":
        return geometric(Y, w, min_coverage=spec.min_coverage, node=node)
    if m == "harmonic":
        return harmonic(Y, w, min_coverage=spec.min_coverage, node=node)
    if m == "mazziotta_pareto":
        return mazziotta_pareto(Y, w, penalty=spec.penalty, min_coverage=spec.min_coverage, node=node)
    if m == "topsis":
        return topsis(Y, w, scale=spec.scale, min_coverage=spec.min_coverage, node=node)
    raise MethodError(f"unknown aggregation method '{m}'.")  # pragma: no cover


def rank_desc(S: np.ndarray, axis: int = -2) -> np.ndarray:
    """Ranks along ``axis``, highest score = 1, ties at the minimum rank, NaN stays NaN."""
    from scipy.stats import rankdata

    return rankdata(-np.asarray(S, dtype=float), method="min", axis=axis, nan_policy="omit")
