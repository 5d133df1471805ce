"""Inequality measures per year: Gini, Theil T and L, coefficient of variation, Theil between/within.

Unweighted measures treat every unit alike (one province = one observation); the population-weighted
variants treat every *person* alike (each unit's value counted ``w_i`` times). Formulas (W = sum w_i,
mu = sum w_i y_i / W; with w_i = 1 they reduce to the unweighted ones):

    Gini  G = sum_i sum_r w_i w_r |y_i - y_r| / (2 W^2 mu)          (population form, no n/(n-1))
    Theil T = (1/W) sum_i w_i (y_i/mu) ln(y_i/mu)                   (GE(1))
    Theil L = (1/W) sum_i w_i ln(mu/y_i)                            (GE(0), mean log deviation)
    CV      = sqrt((1/W) sum_i w_i (y_i - mu)^2) / mu               (population standard deviation)
    T = T_between + T_within, T_between = sum_g s_g ln(mu_g/mu), T_within = sum_g s_g T_g  (s_g value share)
    L = L_between + L_within, L_between = sum_g p_g ln(mu/mu_g), L_within = sum_g p_g L_g  (p_g weight share)

Unweighted Gini and Theil T (with its decomposition) come from PySAL ``inequality`` (``Gini``, ``Theil``,
``TheilD``). PySAL has neither weighted variants nor Theil L, so those are own code (tested against the
unweighted PySAL values and against integer-weight replication).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import MethodError

__all__ = ["gini", "theil_t", "theil_l", "cv", "theil_decomposition", "inequality_panel"]


def _xw(values: Any, weights: Any) -> tuple[np.ndarray, np.ndarray | None]:
    x = np.asarray(values, dtype=float).ravel()
    w = None if weights is None else np.asarray(weights, dtype=float).ravel()
    if w is not None and (w.shape != x.shape or np.any(~np.isfinite(w)) or np.any(w <= 0)):
        raise MethodError("weights must be positive, finite and one per value.", where="inequality",
                          hint="Pass e.g. population aligned with the values.")
    if np.any(~np.isfinite(x)):
        raise MethodError("values contain missing or infinite entries.", where="inequality",
                          hint="Drop missing units for that year first.")
    return x, w


def gini(values: Any, weights: Any = None) -> float:
    """Gini coefficient (population form); weighted by ``weights`` (e.g. population) if given."""
    x, w = _xw(values, weights)
    if np.any(x < 0):
        raise MethodError("the Gini needs non-negative values.", where="inequality",
                          hint="Use a non-negative scale (e.g. 0-100 scores).")
    if w is None:
        from inequality.gini import Gini

        return float(Gini(x).g)
    # weighted: G = sum_i w_i (2 Wbelow_i + w_i - W) y_i / (W * sum w y) after sorting; own code (no library)
    o = np.argsort(x, kind="stable")
    xs, ws = x[o], w[o]
    W = ws.sum()
    cw = np.cumsum(ws) - ws  # weight strictly below
    num = (ws * xs * (2 * cw + ws - W)).sum()
    return float(num / (W * (ws * xs).sum()))


def theil_t(values: Any, weights: Any = None) -> float:
    """Theil T (GE(1)); zero values contribute 0 (limit of y ln y)."""
    x, w = _xw(values, weights)
    if np.any(x < 0):
        raise MethodError("Theil T needs non-negative values.", where="inequality", hint="Use a non-negative scale.")
    if w is None:
        from inequality.theil import Theil

        return float(np.asarray(Theil(x).T).ravel()[0])
    mu = np.average(x, weights=w)
    r = x / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(r > 0, r * np.log(r), 0.0)
    return float(np.average(term, weights=w))


def theil_l(values: Any, weights: Any = None) -> float:
    """Theil L (mean log deviation, GE(0)); needs strictly positive values."""
    x, w = _xw(values, weights)
    if np.any(x <= 0):
        raise MethodError("Theil L needs strictly positive values.", where="inequality",
                          hint="Use a strictly positive scale; Theil L is undefined with zeros.")
    mu = np.average(x, weights=w)
    return float(np.average(np.log(mu / x), weights=w))


def cv(values: Any, weights: Any = None) -> float:
    """Coefficient of variation with the population (weighted) standard deviation."""
    x, w = _xw(values, weights)
    mu = np.average(x, weights=w)
    return float(np.sqrt(np.average((x - mu) ** 2, weights=w)) / mu)


def theil_decomposition(values: Any, groups: Any, weights: Any = None) -> pd.DataFrame:
    """Between/within decomposition of Theil T and Theil L by ``groups``; tidy (measure, component, value, share)."""
    x, w = _xw(values, weights)
    g = np.asarray(groups).ravel().astype(str)
    labels, codes = np.unique(g, return_inverse=True)
    ww = np.ones_like(x) if w is None else w
    W, S = ww.sum(), (ww * x).sum()
    mu = S / W
    Wg = np.bincount(codes, ww)
    Sg = np.bincount(codes, ww * x)
    mug = Sg / Wg
    pg, sg = Wg / W, Sg / S
    rows = []
    T = theil_t(x, w)
    if w is None:
        from inequality.theil import TheilD

        td = TheilD(x, g)
        Tb = float(np.asarray(td.bg).ravel()[0])
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            Tb = float(np.sum(np.where(sg > 0, sg * np.log(mug / mu), 0.0)))
    rows += [("theil_t", "total", T), ("theil_t", "between", Tb), ("theil_t", "within", T - Tb)]
    if np.all(x > 0):
        L = theil_l(x, w)
        Lb = float(np.sum(pg * np.log(mu / mug)))
        rows += [("theil_l", "total", L), ("theil_l", "between", Lb), ("theil_l", "within", L - Lb)]
    df = pd.DataFrame(rows, columns=["measure", "component", "value"])
    tot = df[df["component"] == "total"].set_index("measure")["value"]
    df["share"] = df["value"] / df["measure"].map(tot)
    return df


def inequality_panel(table: pd.DataFrame, groups: pd.Series | None = None,
                     weights: pd.Series | None = None) -> dict[str, pd.DataFrame]:
    """Per-year Gini, Theil T/L, CV (+ Theil decomposition by ``groups``), unweighted and, if ``weights``
    are given, population-weighted. Returns tidy frames ``measures`` (year, weighted, measure, value) and
    ``theil`` (year, weighted, measure, component, value, share)."""
    meas, dec = [], []
    variants = [(False, None)] + ([(True, weights)] if weights is not None else [])
    for year in table.columns:
        col = table[year].dropna()
        if col.size < 2:
            continue
        for flag, wser in variants:
            wv = None if wser is None else wser.reindex(col.index).to_numpy(float)
            x = col.to_numpy(float)
            row = {"year": int(year), "weighted": flag, "n": int(x.size), "mean": float(np.average(x, weights=wv))}
            row["cv"] = cv(x, wv)
            nonneg, pos = bool(np.all(x >= 0)), bool(np.all(x > 0))
            row["gini"] = gini(x, wv) if nonneg else np.nan
            row["theil_t"] = theil_t(x, wv) if nonneg else np.nan
            row["theil_l"] = theil_l(x, wv) if pos else np.nan
            meas.append(row)
            if groups is not None and nonneg:
                d = theil_decomposition(x, groups.reindex(col.index).to_numpy(), wv)
                d.insert(0, "weighted", flag)
                d.insert(0, "year", int(year))
                dec.append(d)
    m = pd.DataFrame(meas)
    if not m.empty:
        m = m.melt(id_vars=["year", "weighted", "n"], value_vars=["mean", "gini", "theil_t", "theil_l", "cv"],
                   var_name="measure", value_name="value").sort_values(["weighted", "measure", "year"],
                                                                        kind="stable").reset_index(drop=True)
    return {"measures": m, "theil": pd.concat(dec, ignore_index=True) if dec else pd.DataFrame()}
