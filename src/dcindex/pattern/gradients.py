"""Group gradients: per-group level and dispersion per year, gaps and ratios between groups and their trends,
and score x growth quadrants.

* Group statistics per year: n, mean (population-weighted mean too when weights are given), median,
  sd (ddof=1), CV, min, max.
* Gap between groups a and b in year t: mean_a - mean_b; ratio mean_a / mean_b. Pairs are oriented so
  that ``a`` has the higher average over all years (e.g. East - West), unless given explicitly.
* Trend of each gap and of each log ratio: OLS on year (statsmodels) with a t-based confidence interval
  (``cov_type="HAC"`` for Newey-West with one lag). A significantly negative gap slope means the lower
  group is catching up ("narrowing"); significantly positive: "widening"; else "no significant trend".
  With a dozen years this is a descriptive test: residuals may be autocorrelated.
* Quadrants: level in the final year vs growth from the first to the final year (compound annual growth
  rate when all values are positive, otherwise mean annual absolute change), split at the cross-section
  medians: leading (high level, high growth), catching up (low, high), falling behind (high, low),
  lagging (low, low). A value equal to the median counts as high.
"""
from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError
from dcindex.pattern._common import ols_trend

__all__ = ["group_stats", "group_gaps", "gap_trends", "quadrants"]


def group_stats(table: pd.DataFrame, groups: pd.Series, weights: pd.Series | None = None) -> pd.DataFrame:
    """Tidy per-group, per-year statistics."""
    t = table.rename_axis(index="unit", columns="year")
    long = t.stack().rename("value").reset_index().dropna(subset=["value"])  # unit, year, value
    long["group"] = long["unit"].map(groups)
    agg = long.groupby(["year", "group"], sort=True)["value"].agg(
        n="count", mean="mean", median="median", sd="std", min="min", max="max").reset_index()
    agg["cv"] = agg["sd"] / agg["mean"]
    if weights is not None:
        long["w"] = long["unit"].map(weights)
        long["wv"] = long["w"] * long["value"]
        s = long.groupby(["year", "group"], sort=True)[["w", "wv"]].sum().reset_index()
        agg["mean_weighted"] = (s["wv"] / s["w"]).to_numpy()
    return agg


def _pairs(stats: pd.DataFrame, pairs: Any) -> list[tuple[str, str]]:
    labels = sorted(stats["group"].unique())
    if pairs is not None:
        out = [(str(a), str(b)) for a, b in pairs]
        lack = sorted({g for p in out for g in p} - set(labels))
        if lack:
            raise InputError(f"groups {lack} are not in the data.", where="gap pairs",
                             hint=f"Groups present: {labels}.")
        return out
    avg = stats.groupby("group")["mean"].mean()
    return [(a, b) if avg[a] >= avg[b] else (b, a) for a, b in combinations(labels, 2)]


def group_gaps(stats: pd.DataFrame, pairs: Any = None, column: str = "mean") -> pd.DataFrame:
    """Per-year gaps (a - b) and ratios (a / b) of a group statistic for each pair (a, b)."""
    piv = stats.pivot(index="year", columns="group", values=column)
    rows = []
    for a, b in _pairs(stats, pairs):
        d = pd.DataFrame({"year": piv.index, "group_a": a, "group_b": b, "mean_a": piv[a].to_numpy(),
                          "mean_b": piv[b].to_numpy()})
        d["gap"] = d["mean_a"] - d["mean_b"]
        with np.errstate(divide="ignore", invalid="ignore"):
            d["ratio"] = d["mean_a"] / d["mean_b"]
        rows.append(d)
    return pd.concat(rows, ignore_index=True)


def gap_trends(gaps: pd.DataFrame, alpha: float = 0.05, cov_type: str = "nonrobust") -> pd.DataFrame:
    """Linear trend (per year) of each gap and log ratio with a (1 - alpha) CI and a verdict."""
    out = []
    for (a, b), d in gaps.groupby(["group_a", "group_b"], sort=False):
        t = d["year"].to_numpy(float)
        for meas, y in (("gap", d["gap"].to_numpy(float)),
                        ("log_ratio", np.log(d["ratio"].to_numpy(float)) if (d["ratio"] > 0).all()
                         else np.full(len(d), np.nan))):
            tr = ols_trend(y, t, alpha, cov_type)
            verdict = "no significant trend"
            if np.isfinite(tr["ci_high"]) and tr["ci_high"] < 0:
                verdict = "narrowing"
            elif np.isfinite(tr["ci_low"]) and tr["ci_low"] > 0:
                verdict = "widening"
            out.append({"group_a": a, "group_b": b, "measure": meas, **tr,
                        "first": float(y[0]), "last": float(y[-1]), "verdict": verdict})
    return pd.DataFrame(out)


def quadrants(table: pd.DataFrame, start: int | None = None, end: int | None = None) -> pd.DataFrame:
    """Score x growth quadrant of each unit (level in ``end``, growth from ``start`` to ``end``)."""
    years = list(table.columns)
    start = years[0] if start is None else int(start)
    end = years[-1] if end is None else int(end)
    if start not in years or end not in years or end <= start:
        raise InputError(f"invalid period {start}-{end}.", where="quadrants",
                         hint=f"Pick two years among {years}, start < end.")
    d = table[[start, end]].dropna()
    y0, y1 = d[start].to_numpy(float), d[end].to_numpy(float)
    span = end - start
    if np.all(y0 > 0) and np.all(y1 > 0):
        growth, gname = (y1 / y0) ** (1 / span) - 1, "cagr"
    else:
        growth, gname = (y1 - y0) / span, "annual_change"
    lmed, gmed = np.median(y1), np.median(growth)
    hi_l, hi_g = y1 >= lmed, growth >= gmed
    quad = np.select([hi_l & hi_g, ~hi_l & hi_g, hi_l & ~hi_g], ["leading", "catching up", "falling behind"],
                     "lagging")
    return pd.DataFrame({"unit": d.index, "level": y1, "growth": growth, "growth_measure": gname,
                         "level_median": lmed, "growth_median": gmed, "quadrant": quad,
                         "start": start, "end": end})
