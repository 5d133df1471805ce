"""Imputation of missing indicator values: pure functions on arrays of shape (T, N, K).

Cross-sectional methods (mean, median, group mean/median) work per year and indicator; ``linear`` and
``locf`` work along time (axis 0) within each unit and indicator. Cells that stay missing are left NaN
(aggregation then drops them and rescales the other weights) and are reported by the build.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from dcindex.errors import RecipeError


def impute(X: np.ndarray, spec, *, groups: np.ndarray | None = None, years=None) -> np.ndarray:
    """Return a copy of ``X`` (T, N, K) with missing values filled according to ``spec``.

    ``groups``: labels per unit (length N; None/NaN = no group) for ``group_mean``/``group_median``.
    ``years``: the T years of axis 0; ``linear`` interpolates in time (years need not be evenly spaced).
    """
    m = spec.method
    if m == "none" or not np.isnan(X).any():
        return X.copy()
    if m in ("mean", "median"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns stay NaN
            fill = np.nanmean(X, axis=-2, keepdims=True) if m == "mean" else np.nanmedian(X, axis=-2, keepdims=True)
        return np.where(np.isnan(X), fill, X)
    if m in ("group_mean", "group_median"):
        if groups is None:
            raise RecipeError(f"imputation '{m}' needs the group column '{spec.group}'.")
        return _group_fill(X, groups, median=(m == "group_median"))
    if m == "linear":
        # method="index" interpolates in the years themselves; "linear" would treat rows as equally spaced
        return _along_time(X, lambda df: df.interpolate(method="index", axis=0,
                                                        limit_area=None if spec.edges == "nearest" else "inside")
                           .pipe(lambda d: d.ffill().bfill() if spec.edges == "nearest" else d), years)
    if m == "locf":
        return _along_time(X, lambda df: df.ffill(axis=0))
    raise RecipeError(f"unknown imputation method '{m}'.")  # pragma: no cover (validated by the recipe)


def _along_time(X: np.ndarray, fn, years=None) -> np.ndarray:
    """Apply a pandas column-wise time operation to every (unit, indicator) series at once."""
    T = X.shape[0]
    index = pd.Index(np.asarray(years, dtype=float) if years is not None else np.arange(T, dtype=float))
    flat = pd.DataFrame(X.reshape(T, -1), index=index)
    return fn(flat).to_numpy(dtype=float).reshape(X.shape)


def _group_fill(X: np.ndarray, groups: np.ndarray, *, median: bool) -> np.ndarray:
    labels = pd.Series(groups, dtype=object)
    valid = labels.notna().to_numpy()
    codes, uniq = pd.factorize(labels[valid])
    out = X.copy()
    miss = np.isnan(X)
    idx_valid = np.flatnonzero(valid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for g in range(len(uniq)):  # loop over groups (few), vectorised over years and indicators
            members = idx_valid[codes == g]
            sub = X[..., members, :]
            fill = np.nanmedian(sub, axis=-2, keepdims=True) if median else np.nanmean(sub, axis=-2, keepdims=True)
            out[..., members, :] = np.where(miss[..., members, :], fill, sub)
    return out
