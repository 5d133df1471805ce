"""Attribution of a change over time, of the gap between two units and of rank changes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dcindex
from dcindex import explain
from dcindex.errors import InputError, MethodError
from dcindex.explain._base import normalisation_drift

from test_explain_fixtures import AGGS, framework, panel, random_builds, simple_build


def hand_build(missing_b_2017: bool = False):
    """3 units, a in pillar P1 (weight 2), b in P2 (weight 1), per-year min-max 0-100."""
    fw = framework([[("a", 1, 1.0)], [("b", 1, 1.0)]], pillar_weights=[2.0, 1.0])
    X = np.array([
        [[0.0, 2.0], [5.0, 4.0], [10.0, 6.0]],     # 2016
        [[0.0, 2.0], [8.0, 3.0], [20.0, 6.0]],     # 2017
    ])
    if missing_b_2017:
        X[1, 1, 1] = np.nan
    return dcindex.build(panel(fw, X, years=[2016, 2017]), fw)


def test_hand_computed_arithmetic():
    r = hand_build()
    df = explain.change(r, "u1", 2016, 2017).set_index("indicator")
    # 2016: a -> 50, b -> 50, score 50; 2017: a -> 40 (8 in [0, 20]), b -> 25 (3 in [2, 6]), score 2/3*40 + 1/3*25 = 35
    assert df.attrs["start_score"] == pytest.approx(50) and df.attrs["end_score"] == pytest.approx(35)
    assert df.loc["a", "contribution"] == pytest.approx(2 / 3 * (40 - 50))
    assert df.loc["b", "contribution"] == pytest.approx(1 / 3 * (25 - 50))
    assert df["contribution"].sum() == pytest.approx(-15)
    # own value vs goalpost drift for a: x(8 in 2016's field {0, 10}) = 80, x(5 in 2017's field {0, 20}) = 25
    raw = ((80 - 50) + (40 - 25)) / 2
    assert df.loc["a", "own_value_change"] == pytest.approx(raw)
    assert df.loc["a", "reference_drift"] == pytest.approx(-10 - raw)
    assert df.loc["a", "raw_effect"] == pytest.approx(2 / 3 * raw)
    assert df.loc["a", "goalpost_drift"] == pytest.approx(2 / 3 * (-10 - raw))
    # b's field {2, 6} did not move: no drift
    assert df.loc["b", "reference_drift"] == pytest.approx(0, abs=1e-12)
    assert df.loc["b", "raw_effect"] == pytest.approx(df.loc["b", "value_effect"])
    att = explain.attribute(r, "u1", 2016, 2017)
    assert att.pillars.set_index("group")["contribution"].to_dict() == pytest.approx(
        {"P1": 2 / 3 * -10, "P2": 1 / 3 * -25})
    wf = att.waterfall()
    assert wf["cumulative"].iloc[-2] == pytest.approx(35) and wf["kind"].tolist() == ["start", "step", "step", "end"]


def test_hand_computed_missing_child_rescales_weights():
    r = hand_build(missing_b_2017=True)
    df = explain.change(r, "u1", 2016, 2017).set_index("indicator")
    # 2017: P2 missing, the index is P1 alone (weight rescaled to 1): score 40
    assert df.attrs["end_score"] == pytest.approx(40)
    assert df.loc["a", "weight_start"] == pytest.approx(2 / 3) and df.loc["a", "weight_end"] == pytest.approx(1)
    assert df.loc["a", "contribution"] == pytest.approx(40 - 2 / 3 * 50)
    assert df.loc["b", "contribution"] == pytest.approx(-50 / 3)
    assert df.loc["b", "status"] == "left"
    assert df.loc["a", "value_effect"] + df.loc["a", "weight_effect"] == pytest.approx(df.loc["a", "contribution"])
    assert df.loc["a", "weight_effect"] == pytest.approx(0.5 * (50 + 40) * (1 - 2 / 3))
    assert df["contribution"].sum() == pytest.approx(-10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_builds(), st.data())
def test_contributions_add_up_for_random_builds(res, data):
    j = res.node_index("IDX")
    S = res.scores_array[..., j]
    ok = [n for n in range(S.shape[1]) if np.isfinite(S[0, n]) and np.isfinite(S[-1, n])]
    if not ok:
        return
    n = data.draw(st.sampled_from(ok))
    tol = 1e-8 * max(1.0, np.nanmax(np.abs(S)))
    Xn = res.datasets["normalised"]
    try:
        att = explain.attribute(res, res.unit_codes[n], res.years[0], res.years[-1])
    except InputError as exc:
        # documented: Shapley values are undefined when the unit's present indicators differ between the years
        assert "differ in which indicators are present" in str(exc)
        assert not np.array_equal(np.isnan(Xn[0, n]), np.isnan(Xn[-1, n]))
        return
    df = att.indicators
    assert abs(df["contribution"].sum() - (S[-1, n] - S[0, n])) <= tol
    assert abs(att.pillars["contribution"].sum() - (S[-1, n] - S[0, n])) <= tol
    # per pillar = sum of its indicators
    g = df.groupby("group")["contribution"].sum()
    for _, row in att.pillars.iterrows():
        assert abs(row["contribution"] - g.get(row["group"], 0.0)) <= tol
    # two units in the last year
    other = [m for m in ok if m != n and np.isfinite(S[-1, m])]
    if other:
        m = data.draw(st.sampled_from(other))
        try:
            cu = explain.compare_units(res, res.unit_codes[n], res.unit_codes[m], res.years[-1])
        except InputError as exc:
            assert "differ in which indicators are present" in str(exc)
            assert not np.array_equal(np.isnan(Xn[-1, n]), np.isnan(Xn[-1, m]))
            return
        assert abs(cu.indicators["contribution"].sum() - (S[-1, n] - S[-1, m])) <= tol


@pytest.mark.parametrize("nan_frac", [0.0, 0.1])
def test_closed_form_equals_shapley_when_the_game_is_linear(nan_frac):
    # arithmetic, fixed weights, no missing values: the world game is linear, its Shapley values are ew * dx
    r = simple_build(nan_frac=0.0, recipe={"normalise": {"method": "minmax"}})
    a = explain.change(r, "u2", 2016, 2018, method="closed")
    b = explain.change(r, "u2", 2016, 2018, method="shapley")
    np.testing.assert_allclose(a["contribution"], b["contribution"], atol=1e-10)
    if nan_frac:  # with missing values both still add up (they differ: the presence pattern is not linear)
        r = simple_build(nan_frac=nan_frac, seed=4)
        for m in ("closed", "shapley"):
            df = explain.change(r, "u2", 2016, 2018, method=m)
            assert df["contribution"].sum() == pytest.approx(df.attrs["change"], abs=1e-9)


@pytest.mark.parametrize("agg", AGGS)
def test_symmetry_and_dummy_indicators(agg):
    # c and d are identical columns with equal weights in one pillar: equal contributions; e never changes: zero
    rng = np.random.default_rng(7)
    fw = framework([[("a", 1, 1.0), ("b", 1, 1.0)], [("c", 1, 1.0), ("d", 1, 1.0), ("e", 1, 1.0)]])
    X = rng.uniform(1, 10, (2, 9, 5))
    X[:, :, 3] = X[:, :, 2]
    X[1, :, 4] = X[0, :, 4]
    r = dcindex.build(panel(fw, X), fw, {"normalise": {"method": "minmax", "low": 1, "high": 100},
                                         "aggregate": {"method": agg}})
    for u in ("u0", "u4"):
        df = explain.change(r, u, 2016, 2017, method="shapley").set_index("indicator")
        assert df.loc["c", "contribution"] == pytest.approx(df.loc["d", "contribution"], abs=1e-10)
        assert df.loc["e", "contribution"] == pytest.approx(0.0, abs=1e-10)
        assert df["contribution"].sum() == pytest.approx(df.attrs["change"], abs=1e-9)
    cu = explain.compare_units(r, "u1", "u3", 2017, method="shapley").indicators.set_index("indicator")
    assert cu.loc["c", "contribution"] == pytest.approx(cu.loc["d", "contribution"], abs=1e-10)


def test_per_year_data_driven_weights_show_a_weight_effect():
    r = simple_build(recipe={"weights": {"method": "entropy", "scope": "year"}})
    df = explain.change(r, "u3", 2016, 2018)
    assert df["weight_effect"].abs().sum() > 1e-6
    assert df["contribution"].sum() == pytest.approx(df.attrs["change"], abs=1e-9)
    np.testing.assert_allclose(df["value_effect"] + df["weight_effect"], df["contribution"], atol=1e-12)
    # the same build explained with Shapley values (weights recomputed on each mixed data set) also adds up
    sh = explain.change(r, "u3", 2016, 2018, method="shapley")
    assert sh["contribution"].sum() == pytest.approx(df.attrs["change"], abs=1e-9)


def test_sampled_shapley_is_close_and_exactly_efficient():
    r = simple_build(recipe={"aggregate": {"method": "geometric"}, "normalise": {"method": "minmax", "low": 1,
                                                                                  "high": 100}})
    exact = explain.change(r, "u5", 2016, 2018)
    est = explain.change(r, "u5", 2016, 2018, exact_max=2, n_permutations=400, seed=1)
    assert est["contribution"].sum() == pytest.approx(est.attrs["change"], abs=1e-9)
    assert (est["se"] > 0).all()
    z = (est["contribution"] - exact["contribution"]).abs() / est["se"]
    assert z.max() < 4.5
    again = explain.change(r, "u5", 2016, 2018, exact_max=2, n_permutations=400, seed=1)
    assert np.array_equal(again["contribution"], est["contribution"])
    att = explain.attribute(r, "u5", 2016, 2018, exact_max=2, n_permutations=400, seed=1)
    assert (att.pillars["se"] > 0).all()


def test_drift_zero_for_fixed_and_pooled_normalisation():
    for rc in ({"normalise": {"method": "goalposts"}}, {"normalise": {"method": "minmax", "scope": "pooled"}}):
        r = simple_build(goalposts=True, recipe=rc)
        dx, raw, drift = normalisation_drift(r, 0, 2)
        np.testing.assert_allclose(drift, 0, atol=1e-12)
        np.testing.assert_allclose(raw, dx, atol=1e-12)


@pytest.mark.parametrize("method", ["minmax", "zscore", "rank", "percentile_rank"])
def test_drift_against_a_loop(method):
    r = simple_build(N=6, recipe={"normalise": {"method": method}})
    dx, raw, drift = normalisation_drift(r, 0, 2)
    Xn = r.datasets["normalised"]
    # brute force: rebuild the whole index with the unit's year-0 values replaced by its year-2 values
    for n in (0, 3):
        V = r.panel.values.copy()
        V[0, n] = V[2, n]
        a_se = r.rebuild(data=r.panel.with_values(V)).datasets["normalised"][0, n]
        V = r.panel.values.copy()
        V[2, n] = V[0, n]
        a_es = r.rebuild(data=r.panel.with_values(V)).datasets["normalised"][2, n]
        expect = 0.5 * ((a_se - Xn[0, n]) + (Xn[2, n] - a_es))
        np.testing.assert_allclose(raw[n], expect, atol=1e-9)


def test_rank_change_pairs_match_the_scores():
    r = simple_build(N=10, seed=3, recipe={"aggregate": {"method": "topsis"}})
    j = r.node_index("IDX")
    S0, S1 = r.scores_array[0, :, j], r.scores_array[-1, :, j]
    for u in range(10):
        rc = explain.rank_change(r, f"u{u}", 2016, 2018)
        passed = {f"u{m}" for m in range(10) if S0[m] > S0[u] and S1[m] < S1[u]}
        by = {f"u{m}" for m in range(10) if S0[m] < S0[u] and S1[m] > S1[u]}
        assert set(rc.pairs.loc[rc.pairs.relation == "passed", "other"]) == passed
        assert set(rc.pairs.loc[rc.pairs.relation == "passed_by", "other"]) == by
        for _, p in rc.pairs.iterrows():
            s = rc.drivers.loc[rc.drivers.other == p["other"], "contribution"].sum()
            assert s == pytest.approx(p["gap_change"], abs=1e-9)
    txt = rc.summary()
    assert "Rank of" in txt


def test_change_all_and_output_folder(tmp_path):
    r = simple_build(recipe={"aggregate": {"method": "mazziotta_pareto"}})
    allc = explain.change_all(r, 2016, 2018)
    j = r.node_index("IDX")
    got = allc.groupby("unit", sort=False)["contribution"].sum().to_numpy()
    np.testing.assert_allclose(got, r.scores_array[-1, :, j] - r.scores_array[0, :, j], atol=1e-9)
    att = explain.attribute(r, "Unit 2", 2016, 2018, node="P2")  # by name, at a pillar
    assert att.unit == "u2" and set(att.indicators["indicator"]) == {"c", "d", "e"}
    out = att.to_dir(tmp_path / "att")
    for f in ("indicators.csv", "components.csv", "by_node.csv", "waterfall.csv", "attribution.json", "summary.txt"):
        assert (out / f).is_file()
    first = (out / "indicators.csv").read_bytes()
    att.to_dir(tmp_path / "att")
    assert (out / "indicators.csv").read_bytes() == first
    back = pd.read_csv(out / "indicators.csv")
    assert back["contribution"].sum() == pytest.approx(att.change)


def test_an_indicator_node_explains_itself():
    r = simple_build()
    df = explain.change(r, "u1", 2016, 2017, node="a")
    assert len(df) == 1 and df["contribution"].iloc[0] == pytest.approx(df["normalised_change"].iloc[0])


def test_bad_input_is_named():
    r = simple_build()
    with pytest.raises(InputError, match="unit 'u99'"):
        explain.change(r, "u99", 2016, 2017)
    with pytest.raises(InputError, match="2030"):
        explain.change(r, "u1", 2016, 2030)
    with pytest.raises(InputError, match="node 'X'"):
        explain.change(r, "u1", 2016, 2017, node="X")
    with pytest.raises(InputError, match="same year"):
        explain.change(r, "u1", 2017, 2017)
    with pytest.raises(InputError, match="both units"):
        explain.compare_units(r, "u1", "Unit 1")
    with pytest.raises(MethodError, match="closed-form"):
        explain.change(r.rebuild(aggregate={"method": "geometric"}, normalise={"method": "minmax", "low": 1}),
                       "u1", 2016, 2017, method="closed")
    bod = r.rebuild(weights={"method": "bod"})
    with pytest.raises(MethodError, match="benefit of the doubt"):
        explain.change(bod, "u1", 2016, 2017)
    V = r.panel.values.copy()
    V[0, 0, :] = np.nan  # u0 has no data in 2016, hence no score
    with pytest.raises(InputError, match="unit 'u0' has no score for 'IDX' in 2016"):
        explain.change(r.rebuild(data=r.panel.with_values(V)), "u0", 2016, 2018)


@pytest.mark.parametrize("wmethod", ["critic", "pca", "entropy"])
def test_per_year_weights_recomputed_in_every_world(wmethod):
    # data-driven weights with scope: year are recomputed on each mixed data set; the game must still start and
    # end at the build's scores (explain checks that internally) and add up
    # (P2 has three children; the core's PCA weights of a two-child node hit an argmax tie and are not invariant
    # to the order of the units, which the swap game would rightly refuse)
    r = simple_build(N=14, seed=12, recipe={"weights": {"method": "meta",
                                                        "by_node": {"P2": {"method": wmethod, "scope": "year"}}},
                                            "normalise": {"method": "minmax", "low": 1, "high": 100},
                                            "aggregate": {"method": "geometric"}})
    assert not np.allclose(r.weights["P2"].used[0], r.weights["P2"].used[-1])  # the weights do move
    for u in ("u0", "u9"):
        df = explain.change(r, u, 2016, 2018)
        assert df["contribution"].sum() == pytest.approx(df.attrs["change"], abs=1e-9)
    cu = explain.compare_units(r, "u0", "u9", 2018)
    assert cu.indicators["contribution"].sum() == pytest.approx(cu.change, abs=1e-9)


def test_undefined_games_are_explained():
    # TOPSIS pillars into a geometric index: in the mix "a from 2016, b from 2017" u0 is worst on both children of
    # P1, its TOPSIS score is 0 and the geometric mean is undefined, although both real years are fine
    fw = framework([[("a", 1, 1.0), ("b", 1, 1.0)], [("c", 1, 1.0)]])
    X = np.array([[[0, 5, 3], [5, 0, 4], [10, 10, 5]], [[5, 0, 3], [0, 5, 4], [10, 10, 5]]], dtype=float)
    r = dcindex.build(panel(fw, X, years=[2016, 2017]), fw, {"normalise": {"method": "minmax", "low": 1},
                                                              "aggregate": {"method": "topsis",
                                                                            "by_level": {3: {"method": "geometric"}},
                                                                            "by_node": {"P2": "arithmetic"}}})
    with pytest.raises(MethodError, match="evaluates the index on mixes"):
        explain.change(r, "u0", 2016, 2017)
    # disjoint present indicators in a pillar: some mixes have no data at all
    fw = framework([[("a", 1, 1.0), ("b", 1, 1.0)]])
    X = np.array([[[np.nan, 2], [1, 3], [4, 5]], [[3, np.nan], [2, 1], [6, 4]]], dtype=float)
    r = dcindex.build(panel(fw, X, years=[2016, 2017]), fw, {"normalise": {"method": "minmax", "low": 1},
                                                              "aggregate": {"method": "geometric"}})
    with pytest.raises(InputError, match="only in 2016: b; only in 2017: a"):
        explain.change(r, "u0", 2016, 2017)
    assert explain.change(r, "u1", 2016, 2017)["contribution"].sum() == pytest.approx(
        r.scores_array[1, 1, -1] - r.scores_array[0, 1, -1], abs=1e-9)


def test_too_few_permutations_is_an_argument_error_not_an_aggregation_failure():
    """QA: --samples 0 was re-worded by the game context into 'the recipe cannot aggregate ...'."""
    r = simple_build(N=6, seed=1, recipe={"aggregate": {"method": "geometric"},
                                          "normalise": {"method": "minmax", "low": 1, "high": 100}})
    for bad in (0, 1, -3, 2.5):
        for call in (lambda: explain.attribute(r, "u1", 2016, 2018, n_permutations=bad, exact_max=2),
                     lambda: explain.compare_units(r, "u1", "u2", n_permutations=bad, exact_max=2),
                     lambda: explain.overview(r, n_permutations=bad, exact_max=2)):
            with pytest.raises(InputError, match="at least 2") as ei:
                call()
            assert "cannot aggregate" not in str(ei.value) and "--samples" in str(ei.value)
    # validated up front even when the exact enumeration would not sample
    with pytest.raises(InputError, match="at least 2"):
        explain.attribute(r, "u1", 2016, 2018, n_permutations=0)
    from dcindex.explain.shapley_values import shapley

    with pytest.raises(InputError, match="at least 2"):
        shapley(lambda m: m.sum(axis=1).astype(float), 4, exact_max=2, n_permutations=1)
    att = explain.attribute(r, "u1", 2016, 2018, n_permutations=2, exact_max=2)
    assert att.indicators["contribution"].sum() == pytest.approx(att.change, abs=1e-9)


def test_overview_of_every_unit(tmp_path):
    r = simple_build(N=9, seed=5, recipe={"aggregate": {"method": "harmonic"},
                                          "normalise": {"method": "minmax", "low": 1, "high": 100}})
    ov = explain.overview(r)
    j = r.node_index("IDX")
    ch = r.scores_array[-1, :, j] - r.scores_array[0, :, j]
    np.testing.assert_allclose(ov.movers["change"], ch)
    np.testing.assert_allclose(ov.pillars[["P1", "P2"]].sum(axis=1), ch, atol=1e-9)
    for _, m in ov.movers.iterrows():  # the main driver is the indicator with the largest part in the change's sign
        d = explain.change(r, m["unit"], 2016, 2018).set_index("indicator")["contribution"]
        assert m["main_driver"] == (d.idxmax() if m["change"] >= 0 else d.idxmin())
    out = ov.to_dir(tmp_path / "ov")
    assert {"movers.csv", "contributions.csv", "pillar_contributions.csv", "overview.json"} <= {
        p.name for p in out.iterdir()}
    with pytest.raises(InputError, match="one year"):
        explain.overview(dcindex.example())
