"""Builders shared by the explain tests (no tests here): small synthetic panels and random builds."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import assume
from hypothesis import strategies as st

import dcindex
from dcindex.data import Panel
from dcindex.errors import MethodError
from dcindex.framework import framework_from_dict


def framework(pillars: list[list[tuple[str, int, float]]], pillar_weights: list[float] | None = None,
              goalposts: dict[str, tuple[float, float]] | None = None, denominators: dict[str, str] | None = None):
    """Index 'IDX' with pillars P1..Pm; each indicator is (code, direction, weight)."""
    children = []
    for i, inds in enumerate(pillars):
        ch = []
        for code, d, w in inds:
            node = {"code": code, "direction": d, "weight": w}
            if goalposts and code in goalposts:
                node["goalposts"] = list(goalposts[code])
            if denominators and code in denominators:
                node["denominator"] = denominators[code]
            ch.append(node)
        children.append({"code": f"P{i + 1}", "weight": (pillar_weights or [1.0] * len(pillars))[i], "children": ch})
    d = {"index": {"code": "IDX", "children": children}}
    if denominators:
        d["denominators"] = [{"code": c} for c in sorted(set(denominators.values()))]
    return framework_from_dict(d)


def units_frame(N: int) -> pd.DataFrame:
    return pd.DataFrame({"name": [f"Unit {i}" for i in range(N)],
                         "grp": ["A" if i % 3 == 0 else ("B" if i % 3 == 1 else "C") for i in range(N)]},
                        index=pd.Index([f"u{i}" for i in range(N)], name="unit"))


def panel(fw, X: np.ndarray, years: list[int] | None = None, denominators: np.ndarray | None = None,
          denominator_codes: list[str] | None = None) -> Panel:
    T, N, K = X.shape
    return Panel(units=units_frame(N), years=years or list(range(2016, 2016 + T)), indicators=list(fw.indicators),
                 values=X, denominator_codes=list(denominator_codes or []), denominators=denominators)


def simple_build(T=3, N=8, seed=0, recipe=None, nan_frac=0.0, goalposts=False, low=1.0, high=10.0):
    """Two pillars (a, b | c, d, e), b has direction -1; uniform data in [low, high]."""
    rng = np.random.default_rng(seed)
    gp = {k: (0.0, 20.0) for k in "abcde"} if goalposts else None
    fw = framework([[("a", 1, 1.0), ("b", -1, 1.0)], [("c", 1, 1.0), ("d", 1, 2.0), ("e", 1, 1.0)]],
                   pillar_weights=[2.0, 1.0], goalposts=gp)
    X = rng.uniform(low, high, (T, N, len(fw.indicators)))
    if nan_frac:
        X[rng.random(X.shape) < nan_frac] = np.nan
    return dcindex.build(panel(fw, X), fw, recipe)


AGGS = ["arithmetic", "geometric", "harmonic", "mazziotta_pareto", "topsis"]


@st.composite
def random_builds(draw, aggs=AGGS, allow_nan=True, weights=("meta", "equal", "entropy", "entropy_pooled")):
    """A random small build: 1-3 pillars of 1-3 indicators, 5-9 units, 2-3 years, a random recipe."""
    n_p = draw(st.integers(1, 3))
    pillars, k = [], 0
    for _ in range(n_p):
        m = draw(st.integers(1, 3))
        inds = []
        for _ in range(m):
            inds.append((f"i{k}", draw(st.sampled_from([1, -1])), draw(st.sampled_from([1.0, 2.0, 0.5]))))
            k += 1
        pillars.append(inds)
    pw = [draw(st.sampled_from([1.0, 2.0, 3.0])) for _ in range(n_p)]
    fw = framework(pillars, pw)
    T = draw(st.integers(2, 3))
    N = draw(st.integers(5, 9))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = rng.lognormal(1.0, 0.6, (T, N, k))
    if allow_nan and draw(st.booleans()):
        hole = rng.random(X.shape) < 0.12
        # keep at least three observed values per indicator and year so normalisation has a range
        for t in range(T):
            for j in range(k):
                if (~hole[t, :, j]).sum() < 3:
                    hole[t, :, j] = False
        X[hole] = np.nan
    agg_top = draw(st.sampled_from(aggs))
    agg_low = draw(st.sampled_from(aggs))
    # TOPSIS scores the unit that is worst on every child 0, which geometric/harmonic aggregation cannot take
    assume(not (agg_low == "topsis" and agg_top in ("geometric", "harmonic") and n_p > 0))
    w = draw(st.sampled_from(weights))
    wspec = {"method": "entropy", "scope": "year"} if w == "entropy" else (
        {"method": "entropy", "scope": "pooled"} if w == "entropy_pooled" else {"method": w})
    recipe = {"normalise": {"method": "minmax", "low": 1, "high": 100},
              "aggregate": {"method": agg_low, "by_level": {3: {"method": agg_top}}},
              "weights": wspec}
    try:
        res = dcindex.build(panel(fw, X), fw, recipe)
    except MethodError:  # e.g. TOPSIS pillars (which can be 0) into a geometric index: not a valid build
        assume(False)
    return res
