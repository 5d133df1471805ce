"""Sobol sensitivity indices: SALib's estimators vectorised over outputs (checked against SALib itself and the
Ishigami function's analytic indices) and the sensitivity analysis of an index (known zero effects, COINr's ASEM
vignette ordering)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.analyze import sobol as salib_analyze
from SALib.sample import sobol as salib_sample

import dcindex
from dcindex.data import Panel
from dcindex.framework import Framework, Node
from dcindex.recipe import coinr_recipe
from dcindex.sensitivity import ishigami, ishigami_indices, sobol_indices, split_saltelli

REF = json.loads((Path(__file__).parent / "data" / "coinr_reference.json").read_text(encoding="utf-8"))["values"]

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


def test_analytic_ishigami_indices():
    S1, ST = ishigami_indices()
    # published values (Sobol & Levitan 1999; Saltelli et al. 2010, Table 1)
    np.testing.assert_allclose(S1, [0.3139, 0.4424, 0.0], atol=5e-5)
    np.testing.assert_allclose(ST, [0.5576, 0.4424, 0.2437], atol=5e-5)


def test_ishigami_indices_recovered():
    X = salib_sample.sample(ISHIGAMI, 2**13, calc_second_order=False, seed=11)
    si = sobol_indices(ishigami(X), 3, bootstrap=200, seed=3)
    S1, ST = ishigami_indices()
    np.testing.assert_allclose(si.S1[:, 0], S1, atol=0.02)
    np.testing.assert_allclose(si.ST[:, 0], ST, atol=0.02)
    # the analytic values lie within the bootstrap intervals (95 %), allowing a little slack
    assert np.all(np.abs(si.ST[:, 0] - ST) <= 1.5 * si.ST_conf[:, 0] + 1e-3)


@pytest.mark.parametrize("groups", [None, ["g1", "g2", "g2", "g3"]])
def test_vectorised_equals_salib_analyze(groups):
    prob = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4}
    if groups:
        prob["groups"] = groups
    X = salib_sample.sample(prob, 256, calc_second_order=False, seed=5)
    Ys = np.column_stack([X[:, 0] + X[:, 1] * X[:, 2] + 0.1 * X[:, 3], np.sin(6 * X[:, 1]) + X[:, 3] ** 2,
                          3.0 + 0 * X[:, 0]])
    G = len(set(groups)) if groups else 4
    v = sobol_indices(Ys, G, bootstrap=50, seed=9)
    for m in range(2):
        s = salib_analyze.analyze(prob, Ys[:, m], calc_second_order=False, num_resamples=50, seed=9)
        np.testing.assert_allclose(v.S1[:, m], s["S1"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(v.ST[:, m], s["ST"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(v.S1_conf[:, m], s["S1_conf"], rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(v.ST_conf[:, m], s["ST_conf"], rtol=1e-8, atol=1e-12)
    # a constant output has zero variance and zero indices
    assert v.variance[2] == 0 and np.all(v.S1[:, 2] == 0) and np.all(v.ST[:, 2] == 0)


def test_single_precision_bootstrap_is_within_rounding_of_double():
    """The per-unit intervals use float32 products: the half-widths agree with float64 to ~1e-5 relative."""
    prob = {"num_vars": 3, "names": list("abc"), "bounds": [[0, 1]] * 3}
    X = salib_sample.sample(prob, 512, calc_second_order=False, seed=1)
    rng = np.random.default_rng(0)
    Y = np.column_stack([X[:, 0] * 300 + X[:, 1] * 40 * k + rng.normal(size=len(X)) for k in range(50)]).round()
    a = sobol_indices(Y, 3, bootstrap=80, seed=3)
    b = sobol_indices(Y, 3, bootstrap=80, seed=3, conf_dtype=np.float32)
    np.testing.assert_array_equal(a.S1, b.S1)
    np.testing.assert_array_equal(a.ST, b.ST)
    np.testing.assert_allclose(b.S1_conf, a.S1_conf, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(b.ST_conf, a.ST_conf, rtol=1e-4, atol=1e-7)


def test_split_saltelli_layout():
    Y = np.arange(12.0)
    A, AB, B = split_saltelli(Y, 2)
    np.testing.assert_array_equal(A[:, 0], [0, 4, 8])
    np.testing.assert_array_equal(AB[:, 1, 0], [2, 6, 10])
    np.testing.assert_array_equal(B[:, 0], [3, 7, 11])


# ------------------------------------------------------------------------------------ index SA
def _normal_panel(n_units=30, seed=4, n_years=1):
    """Indicators without outliers: the Winsorisation limit cannot matter (passes the skew/kurtosis rule)."""
    rng = np.random.default_rng(seed)
    nodes = [Node("Index", None), Node("P1", "Index"), Node("P2", "Index")]
    inds = [f"x{k}" for k in range(6)]
    nodes += [Node(c, "P1" if k < 3 else "P2", is_indicator=True) for k, c in enumerate(inds)]
    X = 50 + 10 * rng.normal(size=(n_years, n_units, 6)) + 5 * rng.normal(size=(1, n_units, 1))
    units = pd.DataFrame({"name": [f"u{i}" for i in range(n_units)]},
                         index=pd.Index([f"U{i:02d}" for i in range(n_units)], name="unit"))
    return (Panel(units=units, years=list(range(2021, 2021 + n_years)), indicators=inds, values=X),
            Framework(nodes))


def test_index_sa_factor_without_effect_has_zero_indices():
    panel, fw = _normal_panel()
    res = dcindex.build(panel, fw, {"treat": {"method": "winsorise", "max_points": 5},
                                    "normalise": {"method": "minmax", "low": 1, "high": 100}})
    assert (res.treatment["treatment"] == "none").all()
    spec = {"n": 1200, "seed": 2, "choices": [
        {"type": "treat", "name": "winsor", "vary": {"max_points": [1, 2, 3, 4, 5]}},
        {"type": "aggregate", "name": "agg", "alternatives": ["arithmetic", "geometric", "harmonic"]},
        {"type": "weights", "name": "w", "levels": [2], "amount": 0.5}]}
    u = dcindex.uncertainty(res, spec)
    s = u.sensitivity[u.sensitivity["year"] == "all"].set_index("factor")
    # AB rows of a factor without effect equal the A rows: the total index is exactly zero
    assert s.at["winsor", "ST"] == 0.0
    assert abs(s.at["winsor", "S1"]) <= max(0.05, s.at["winsor", "S1_conf"])
    assert s.at["w", "ST"] > 0.05 and s.at["agg", "ST"] > 0.0
    # convergence table: its last row is the full estimate
    c = u.convergence
    last = c[c["n_base"] == c["n_base"].max()].set_index("factor")
    np.testing.assert_allclose(last["ST"], s.loc[last.index, "ST"], rtol=1e-12)
    assert c["n_base"].is_monotonic_increasing
    # per-unit rank indices: the same estimator per unit; factor without effect has ST = 0 for every unit
    su = u.sensitivity_units
    assert (su.loc[su["factor"] == "winsor", "ST"].fillna(0) == 0).all()
    assert set(su["unit"]) == set(res.unit_codes)


def test_target_is_coinr_mean_absolute_rank_change():
    panel, fw = _normal_panel(seed=9)
    res = dcindex.build(panel, fw, {"normalise": {"method": "minmax", "low": 1, "high": 100}})
    spec = {"n": 400, "seed": 1, "bootstrap": 0, "choices": [
        {"type": "aggregate", "alternatives": ["arithmetic", "geometric"]},
        {"type": "weights", "levels": [1, 2], "amount": 0.4}]}
    u = dcindex.uncertainty(res, spec)
    R0 = res.ranks_array[..., res.framework.all_codes.index("Index")]
    y = np.abs(u.ranks_array - R0[None]).mean(axis=(1, 2))
    prob = {"num_vars": 2, "names": ["aggregate", "weights"], "bounds": [[0, 1]] * 2}
    s = salib_analyze.analyze(prob, y, calc_second_order=False, num_resamples=10, seed=2)
    got = u.sensitivity[u.sensitivity["year"] == "all"].set_index("factor")
    np.testing.assert_allclose(got.loc[["aggregate", "weights"], "S1"], s["S1"], rtol=1e-10)
    np.testing.assert_allclose(got.loc[["aggregate", "weights"], "ST"], s["ST"], rtol=1e-10)


def test_per_year_targets_equal_salib_analyze():
    """The per-year targets use the vectorised estimators (SALib is called once, for the headline target);
    they equal SALib's analyze on each year's mean |rank shift|, bootstrap intervals included."""
    panel, fw = _normal_panel(seed=4, n_years=3)
    res = dcindex.build(panel, fw, {"normalise": {"method": "minmax", "low": 1, "high": 100}})
    spec = {"n": 300, "seed": 3, "bootstrap": 30, "choices": [
        {"type": "aggregate", "alternatives": ["arithmetic", "geometric"]},
        {"type": "weights", "levels": [1, 2], "amount": 0.4}]}
    u = dcindex.uncertainty(res, spec)
    assert len(res.years) > 1
    R0 = res.ranks_array[..., res.framework.all_codes.index("Index")]
    prob = {"num_vars": 2, "names": ["aggregate", "weights"], "bounds": [[0, 1]] * 2}
    for t, yr in enumerate(res.years):
        y = np.abs(u.ranks_array[:, t] - R0[t][None]).mean(axis=1)
        s = salib_analyze.analyze(prob, y, calc_second_order=False, num_resamples=30, seed=4)
        got = u.sensitivity[u.sensitivity["year"] == str(yr)].set_index("factor").loc[["aggregate", "weights"]]
        for k in ("S1", "ST", "S1_conf", "ST_conf"):
            np.testing.assert_allclose(got[k], s[k], rtol=1e-10, atol=1e-12)


@pytest.mark.shared
def test_asem_vignette_ordering(shared_data):
    """COINr's sensitivity vignette: aggregation has the largest total effect (~0.6), Winsorisation the smallest
    (~0.05). Only the ordering and rough size are published (no numeric indices)."""
    d = shared_data / "coinr-asem"
    res = dcindex.build(d / "ASEM_iData.csv", d / "ASEM_iMeta.csv", coinr_recipe())
    spec = {"n": 3000, "seed": 1, "bootstrap": 100, "choices": [
        {"type": "treat", "name": "Winmax", "vary": {"max_points": [1, 2, 3, 4, 5]}},
        {"type": "normalise", "name": "Normalisation", "alternatives": [
            {"method": "minmax", "low": 1, "high": 100}, {"method": "zscore", "mean": 10, "sd": 2}]},
        {"type": "weights", "name": "Weights", "levels": [2, 3], "amount": 0.25, "pool": 100},
        {"type": "aggregate", "name": "Aggregation", "alternatives": ["arithmetic", "geometric"]}]}
    u = dcindex.uncertainty(res, spec)
    s = u.sensitivity[u.sensitivity["year"] == "all"].set_index("factor")["ST"]
    assert s.idxmax() == "Aggregation" and s.idxmin() == "Winmax"
    assert 0.4 < s["Aggregation"] < 0.9 and s["Winmax"] < 0.15
    # nominal ranks are COINr's (SA_res$RankStats$Nominal printed in the vignette); its Monte Carlo rank
    # statistics (N = 100 random runs, no seed) agree with ours to within their sampling error
    r = u.ranks.set_index("unit")
    cols = {"UA_rank_Mean": ("mean_rank", 1.0), "UA_rank_Median": ("median_rank", 1.0),
            "UA_rank_Q5": ("q05_rank", 2.0), "UA_rank_Q95": ("q95_rank", 2.0)}
    n = 0
    for v in REF:
        if v["pipeline"] == "example_build" and v["id"].startswith("example.UA.RankStats.Nominal."):
            assert r.at[v["uCode"], "nominal_rank"] == v["value"]
            n += 1
        if v["pipeline"] == "sensitivity_vignette_UA":
            col, tol = cols[v["quantity"]]
            assert abs(r.at[v["uCode"], col] - v["value"]) <= tol, (v["id"], r.at[v["uCode"], col])
            n += 1
    assert n == 30
