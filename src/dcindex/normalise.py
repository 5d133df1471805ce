"""Normalisation: pure functions on arrays (..., N, K), statistics along the unit axis (-2).

Direction is applied first (values multiplied by Direction, as COINr does), so that after
normalisation higher is always better. Formulas (COINr conventions where COINr has the method):

* ``minmax``: (x - min) / (max - min) * (high - low) + low
* ``zscore``: (x - mean) / sd * sd' + mean', sample sd (n - 1)
* ``rank``: rank with ties at the minimum (1 = worst)
* ``percentile_rank``: (rank_min - 1) / (n - 1)
* ``target``: (x - min) / (target - min), uncapped unless ``cap`` (COINr ``n_dist2targ``)
* ``goalposts``: (x - low) / (high - low), capped to [0, 1], times ``scale``
* ``base_year``: 100 * x / reference, reference = base-year mean across units (or the unit's own value)
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import rankdata

from dcindex.errors import MethodError


def _check_variance(lo: np.ndarray, hi: np.ndarray, names: list[str] | None, years: list | None, method: str):
    """Constant or all-missing columns cannot be min-max/z-scored: say which indicator and year."""
    bad = ~(hi > lo)  # NaN (all missing) or equal
    if not bad.any():
        return
    where = np.argwhere(bad)
    items = []
    for w in where[:15]:
        k = int(w[-1])
        nm = names[k] if names else f"column {k}"
        if years is not None and len(w) > 1 and len(years) > 1:
            items.append(f"{nm} ({years[int(w[0])]})")
        else:
            items.append(nm)
    more = f" and {len(where) - 15} more" if len(where) > 15 else ""
    raise MethodError(
        f"normalisation '{method}' needs variation, but these indicators are constant or all missing: "
        f"{', '.join(items)}{more}.",
        hint="remove the indicator from the framework, impute it, or use 'scope: pooled' / 'goalposts' so "
             "that the bounds come from all years.",
    )


def minmax(X, low=0.0, high=100.0, *, names=None, years=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mn = np.nanmin(X, axis=-2, keepdims=True)
        mx = np.nanmax(X, axis=-2, keepdims=True)
    _check_variance(mn[..., 0, :], mx[..., 0, :], names, years, "minmax")
    return (X - mn) / (mx - mn) * (high - low) + low


def zscore(X, mean=0.0, sd=1.0, *, names=None, years=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mu = np.nanmean(X, axis=-2, keepdims=True)
        s = np.nanstd(X, axis=-2, ddof=1, keepdims=True)
    _check_variance(np.zeros_like(s[..., 0, :]), s[..., 0, :], names, years, "zscore")
    return (X - mu) / s * sd + mean


def rank(X):
    """Ranks along units, ties at the minimum rank, NaN stays NaN (1 = lowest value)."""
    return rankdata(X, method="min", axis=-2, nan_policy="omit")


def percentile_rank(X, scale=1.0):
    r = rank(X)
    n = np.sum(~np.isnan(X), axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r - 1.0) / (n - 1.0) * scale


def target(X, targets, cap=False, scale=1.0, *, names=None, years=None):
    """COINr n_dist2targ: (x - min) / (target - min); X and targets already direction-adjusted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mn = np.nanmin(X, axis=-2, keepdims=True)
    t = np.asarray(targets, dtype=float)
    if np.isnan(t).any():
        miss = [names[i] if names else str(i) for i in np.flatnonzero(np.isnan(t))]
        raise MethodError(f"normalisation 'target' needs a target for every indicator; missing for "
                          f"{', '.join(miss[:20])}.", hint="add 'target' to these indicators in the framework.")
    denom = t - mn
    bad = ~(denom > 0)
    if bad.any():
        ks = np.unique(np.argwhere(bad)[:, -1])
        which = [names[k] if names else str(k) for k in ks]
        raise MethodError(
            f"normalisation 'target': the target is not better than the worst value for "
            f"{', '.join(which[:20])} (target - min <= 0 after applying Direction).",
            hint="check the target values and directions of these indicators.")
    out = (X - mn) / denom
    if cap:
        out = np.minimum(out, 1.0)
    return out * scale


def goalposts(X, lo, hi, scale=100.0, cap=True):
    """(x - lo) / (hi - lo) with per-indicator goalposts already direction-adjusted (lo = worst)."""
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    out = (X - lo) / (hi - lo)
    if cap:
        out = np.clip(out, 0.0, 1.0)
    return out * scale


def base_year(X, base_index: int, direction, reference="mean", scale=100.0, *, names=None):
    """Values relative to the base year (axis 0 = years): 100 x / ref on raw (not direction-adjusted) X.

    For direction -1 indicators the ratio is inverted (100 ref / x) so that higher is always better.
    """
    base = X[base_index]
    if reference == "mean":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.nanmean(base, axis=-2, keepdims=True)[None]
    else:
        ref = base[None]
    bad = ~(np.nanmin(np.where(np.isnan(X), np.inf, X), axis=(0, 1)) > 0)
    if bad.any():
        which = [names[k] if names else str(k) for k in np.flatnonzero(bad)]
        raise MethodError(f"normalisation 'base_year' divides by values, so they must be positive; not so for "
                          f"{', '.join(which[:20])}.", hint="use minmax or goalposts for these indicators.")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = X / ref
        ratio = np.where(np.asarray(direction) > 0, ratio, 1.0 / ratio)
    return ratio * scale
