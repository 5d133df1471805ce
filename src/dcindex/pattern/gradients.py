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
* Quadrants (:func:`quadrants`, the one definition used across dcindex): score in the final year vs growth
  from the first to the final year, each split at its cross-section median (a value equal to the median
  counts as high): leading (high score, high growth), catching up (low score, high growth), falling behind
  (high score, low growth), lagging (low, low). Growth is the absolute change per year by default
  (``growth="change"``), or the compound annual growth rate (``growth="cagr"``, positive values only).
"""
from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError, MethodError
from dcindex.pattern._common import ols_trend

__all__ = ["group_stats", "group_gaps", "gap_trends", "quadrants", "QUADRANTS", "GROWTH_MEASURES"]

#: quadrant label by (high score, high growth)
QUADRANTS = {(True, True): "leading", (False, True): "catching up", (True, False): "falling behind",
             (False, False): "lagging"}
GROWTH_MEASURES = ("change", "cagr")


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


def quadrants(data: Any, start: int | None = None, end: int | None = None, *, growth: str = "change",
              unit: str | list[str] | None = None, node: str | None = None) -> pd.DataFrame:
    """Score x growth quadrant of each unit: THE definition of the quadrants in dcindex.

    ``data``: a unit x year table (index unit code, one column per year), a long ``unit, year, score`` table
    or a build result (``node`` picks the node, default the index). ``start``/``end``: the period (default the
    first and last year). ``unit``: one code (or a list) to return only those rows; the thresholds are always
    computed over all units with values in both years.

    * score = the value in ``end``;
    * growth = ``"change"`` (default): absolute change per year, (y_end - y_start) / (end - start), in the
      units of the score (points per year); ``"cagr"``: compound annual growth rate
      (y_end / y_start)^(1 / (end - start)) - 1, which needs positive values in both years. The default is
      the absolute change because index scores are bounded and often normalised per year (0 for the year's
      lowest unit): a growth rate is undefined at 0 and explodes near it, so a low base alone would look like
      catching up; on a common score scale a point gained counts the same for every unit;
    * "high" = at or above the cross-section median (a median split, so about half of the units are high);
    * leading (high score, high growth), catching up (low score, high growth), falling behind (high score,
      low growth), lagging (low score, low growth).

    Returns a tidy DataFrame, one row per unit: unit, score_start, score, growth, growth_measure,
    score_median, growth_median (the thresholds), high_score, high_growth, quadrant, start, end, n_units.
    Units without a value in ``start`` or ``end`` are left out (listed in ``df.attrs["excluded_units"]``).
    """
    from dcindex.pattern._common import as_panel

    if growth not in GROWTH_MEASURES:
        raise InputError(f"unknown growth measure {growth!r}.", where="quadrants",
                         hint='Use growth="change" (absolute change per year) or growth="cagr" '
                              '(compound annual growth rate, positive values only).')
    panel = as_panel(data, node=node, where="quadrants")
    table = panel.values
    years = list(table.columns)
    start = years[0] if start is None else int(start)
    end = years[-1] if end is None else int(end)
    if start not in years or end not in years or end <= start:
        raise InputError(f"invalid period {start}-{end}.", where="quadrants",
                         hint=f"Pick two years among {years}, start < end.")
    both = table[[start, end]]
    d = both.dropna()
    excluded = [str(u) for u in both.index.difference(d.index)]
    if len(d) < 2:
        raise MethodError(f"only {len(d)} unit(s) have values in both {start} and {end}.", where="quadrants",
                          hint="Quadrants compare units with each other; pick years with data for most units.")
    y0, y1 = d[start].to_numpy(float), d[end].to_numpy(float)
    span = end - start
    if growth == "cagr":
        bad = (y0 <= 0) | (y1 <= 0)
        if bad.any():
            raise MethodError(f"growth='cagr' needs positive values; units {list(d.index[bad])[:8]} have a value "
                              f"<= 0 in {start} or {end}.", where="quadrants",
                              hint='Use growth="change" (absolute change per year), which is defined for any '
                                   'values.')
        g = (y1 / y0) ** (1 / span) - 1
    else:
        g = (y1 - y0) / span
    lmed, gmed = float(np.median(y1)), float(np.median(g))
    hi_l, hi_g = y1 >= lmed, g >= gmed
    out = pd.DataFrame({"unit": [str(u) for u in d.index], "score_start": y0, "score": y1, "growth": g,
                        "growth_measure": growth, "score_median": lmed, "growth_median": gmed,
                        "high_score": hi_l, "high_growth": hi_g,
                        "quadrant": [QUADRANTS[(bool(a), bool(b))] for a, b in zip(hi_l, hi_g)],
                        "start": start, "end": end, "n_units": len(d)})
    if unit is not None:
        want = [str(unit).strip()] if isinstance(unit, str) else [str(u).strip() for u in unit]
        unknown = [u for u in want if u not in table.index]
        if unknown:
            raise InputError(f"unit(s) {unknown} are not in the data.", where="quadrants",
                             hint=f"Use unit codes such as {list(map(str, table.index[:5]))}.")
        lacking = [u for u in want if u in excluded]
        if lacking:
            raise MethodError(f"unit(s) {lacking} have no value in {start} or {end}.", where="quadrants",
                              hint="Pick a period in which the unit has scores (start=..., end=...).")
        out = out.set_index("unit").loc[want].reset_index()
    out.attrs["excluded_units"] = excluded
    return out
