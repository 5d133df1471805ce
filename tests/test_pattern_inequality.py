"""Gini / Theil / CV, weighted variants and Theil decompositions against PySAL and replication."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dcindex.errors import MethodError
from dcindex.pattern import cv, gini, inequality_panel, theil_decomposition, theil_l, theil_t

pos_arrays = arrays(np.float64, st.integers(3, 40), elements=st.floats(0.1, 1e4, allow_nan=False))


@settings(max_examples=50, deadline=None)
@given(pos_arrays)
def test_unweighted_match_pysal_and_definitions(x):
    from inequality.gini import Gini
    from inequality.theil import Theil

    assert gini(x) == pytest.approx(Gini(x).g, rel=1e-12, abs=1e-14)
    n, mu = x.size, x.mean()
    assert gini(x) == pytest.approx(np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * mu), rel=1e-9, abs=1e-12)
    assert theil_t(x) == pytest.approx(float(np.asarray(Theil(x).T).ravel()[0]), rel=1e-12, abs=1e-14)
    assert theil_t(x) == pytest.approx(np.mean(x / mu * np.log(x / mu)), rel=1e-9, abs=1e-12)
    assert theil_l(x) == pytest.approx(np.mean(np.log(mu / x)), rel=1e-9, abs=1e-12)
    assert cv(x) == pytest.approx(np.std(x) / mu, rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(pos_arrays, st.data())
def test_weighted_equals_replication(x, data):
    w = np.array(data.draw(st.lists(st.integers(1, 6), min_size=x.size, max_size=x.size)))
    xr = np.repeat(x, w)
    for f in (gini, theil_t, theil_l, cv):
        assert f(x, w) == pytest.approx(f(xr), rel=1e-9, abs=1e-12)
    # weights all equal to a constant reproduce the unweighted measures
    for f in (gini, theil_t, theil_l, cv):
        assert f(x, np.full(x.size, 3.7)) == pytest.approx(f(x), rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(pos_arrays, st.data())
def test_theil_decomposition(x, data):
    from inequality.theil import TheilD

    g = np.array(data.draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=x.size, max_size=x.size)))
    d = theil_decomposition(x, g).set_index(["measure", "component"])["value"]
    td = TheilD(x, g)
    assert d[("theil_t", "between")] == pytest.approx(float(np.ravel(td.bg)[0]), rel=1e-9, abs=1e-12)
    assert d[("theil_t", "within")] == pytest.approx(float(np.ravel(td.wg)[0]), rel=1e-9, abs=1e-12)
    # Theil L: within = sum_g p_g L_g (own decomposition checked against the definition)
    labels = sorted(set(g))
    p = np.array([np.mean(g == k) for k in labels])
    Lg = np.array([theil_l(x[g == k]) for k in labels])
    assert d[("theil_l", "within")] == pytest.approx(float((p * Lg).sum()), rel=1e-9, abs=1e-12)
    # T within = sum_g s_g T_g
    s = np.array([x[g == k].sum() / x.sum() for k in labels])
    Tg = np.array([theil_t(x[g == k]) for k in labels])
    assert d[("theil_t", "within")] == pytest.approx(float((s * Tg).sum()), rel=1e-7, abs=1e-10)
    # weighted decomposition equals the unweighted one on replicated data
    w = np.array(data.draw(st.lists(st.integers(1, 4), min_size=x.size, max_size=x.size)))
    dw = theil_decomposition(x, g, w).set_index(["measure", "component"])["value"]
    dr = theil_decomposition(np.repeat(x, w), np.repeat(g, w)).set_index(["measure", "component"])["value"]
    pd.testing.assert_series_equal(dw, dr, rtol=1e-7, atol=1e-10)


def test_mexico_theil_published():
    """inequality.theil docstring values for Mexico (hanson98 regimes)."""
    import libpysal

    df = pd.read_csv(libpysal.examples.get_path("mexico.csv"))
    x = df["pcgdp1940"].to_numpy(float)
    assert theil_t(x) == pytest.approx(0.20894344, abs=1e-8)
    d = theil_decomposition(x, df["hanson98"].to_numpy()).set_index(["measure", "component"])["value"]
    assert d[("theil_t", "between")] == pytest.approx(0.0345889, abs=1e-7)
    assert d[("theil_t", "within")] == pytest.approx(0.17435454, abs=1e-8)


def test_errors_and_panel():
    with pytest.raises(MethodError):
        theil_l([1.0, 0.0, 2.0])
    with pytest.raises(MethodError):
        gini([1.0, -1.0, 2.0])
    with pytest.raises(MethodError):
        gini([1.0, 2.0], weights=[1.0, -1.0])
    t = pd.DataFrame({2020: [1.0, 2.0, 3.0, 4.0], 2021: [1.0, 1.0, 5.0, np.nan]}, index=list("abcd"))
    grp = pd.Series(["x", "x", "y", "y"], index=list("abcd"))
    pop = pd.Series([1.0, 2.0, 1.0, 2.0], index=list("abcd"))
    out = inequality_panel(t, grp, pop)
    m = out["measures"].set_index(["year", "weighted", "measure"])["value"]
    assert m[(2021, False, "gini")] == pytest.approx(gini([1.0, 1.0, 5.0]))
    assert m[(2021, True, "gini")] == pytest.approx(gini([1.0, 1.0, 5.0], [1.0, 2.0, 1.0]))
    assert m[(2020, True, "mean")] == pytest.approx((1 + 4 + 3 + 8) / 6)
    assert set(out["theil"]["component"]) == {"total", "between", "within"}
