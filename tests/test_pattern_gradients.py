"""Group gradients, gaps, gap trends and quadrants on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dcindex.errors import InputError, MethodError
from dcindex.pattern import gap_trends, group_gaps, group_stats, quadrants


@pytest.fixture()
def small():
    t = pd.DataFrame({2020: [10.0, 20.0, 4.0, 6.0, 5.0], 2021: [12.0, 22.0, 6.0, 8.0, np.nan],
                      2022: [13.0, 23.0, 9.0, 11.0, 8.0]}, index=["a", "b", "c", "d", "e"])
    g = pd.Series(["E", "E", "W", "W", "W"], index=t.index)
    pop = pd.Series([1.0, 3.0, 2.0, 2.0, 4.0], index=t.index)
    return t, g, pop


def test_group_stats_hand(small):
    t, g, pop = small
    s = group_stats(t, g, pop).set_index(["year", "group"])
    assert s.loc[(2020, "E"), "mean"] == 15 and s.loc[(2020, "W"), "median"] == 5
    assert s.loc[(2021, "W"), "n"] == 2 and s.loc[(2021, "W"), "mean"] == 7  # NaN left out
    assert s.loc[(2020, "E"), "sd"] == pytest.approx(np.std([10, 20], ddof=1))
    assert s.loc[(2020, "E"), "mean_weighted"] == pytest.approx((10 + 60) / 4)
    assert s.loc[(2021, "W"), "mean_weighted"] == pytest.approx((12 + 16) / 4)
    assert s.loc[(2020, "W"), "cv"] == pytest.approx(1 / 5)


def test_gaps_orientation_and_values(small):
    t, g, _ = small
    s = group_stats(t, g)
    gaps = group_gaps(s)
    assert set(zip(gaps["group_a"], gaps["group_b"])) == {("E", "W")}  # higher average first
    gg = gaps.set_index("year")
    assert gg.loc[2020, "gap"] == 10 and gg.loc[2020, "ratio"] == 3
    assert gg.loc[2022, "gap"] == pytest.approx(18 - 28 / 3)
    rev = group_gaps(s, pairs=[("W", "E")]).set_index("year")
    assert rev.loc[2020, "gap"] == -10
    with pytest.raises(InputError):
        group_gaps(s, pairs=[("E", "North")])


def test_gap_trend_matches_linregress_and_verdicts():
    from scipy.stats import linregress

    years = np.arange(2010, 2022)
    rng = np.random.default_rng(0)
    rows = []
    for y, gap in zip(years, 30 - 1.5 * (years - 2010) + rng.normal(0, 0.5, years.size)):
        rows.append({"year": y, "group_a": "East", "group_b": "West", "mean_a": 100.0, "mean_b": 100 - gap,
                     "gap": gap, "ratio": 100 / (100 - gap)})
    for y in years:
        rows.append({"year": y, "group_a": "South", "group_b": "North", "mean_a": 50.0, "mean_b": 49.0,
                     "gap": 1.0 + 0.3 * np.sin(y), "ratio": 50 / 49})
    gaps = pd.DataFrame(rows)
    tr = gap_trends(gaps).set_index(["group_a", "measure"])
    ref = linregress(years, gaps[gaps["group_a"] == "East"]["gap"])
    assert tr.loc[("East", "gap"), "slope"] == pytest.approx(ref.slope, rel=1e-10)
    assert tr.loc[("East", "gap"), "se"] == pytest.approx(ref.stderr, rel=1e-10)
    assert tr.loc[("East", "gap"), "p_value"] == pytest.approx(ref.pvalue, rel=1e-6)
    assert tr.loc[("East", "gap"), "verdict"] == "narrowing"
    assert tr.loc[("South", "gap"), "verdict"] == "no significant trend"
    lo, hi = tr.loc[("East", "gap"), ["ci_low", "ci_high"]]
    from scipy.stats import t as tdist

    half = tdist.ppf(0.975, years.size - 2) * ref.stderr
    assert (lo, hi) == pytest.approx((ref.slope - half, ref.slope + half), rel=1e-8)


def test_quadrants_hand():
    t = pd.DataFrame({2015: [10.0, 10.0, 40.0, 40.0], 2020: [20.0, 12.0, 60.0, 44.0]}, index=list("abcd"))
    q = quadrants(t).set_index("unit")
    # default growth: absolute change per year (20-10)/5 = 2, 0.4, 4, 0.8 (median 1.4); scores 20, 12, 60, 44
    # (median 32)
    assert (q["growth_measure"] == "change").all()
    assert q["growth"].to_dict() == pytest.approx({"a": 2.0, "b": 0.4, "c": 4.0, "d": 0.8})
    assert (q["score_median"] == 32).all() and q["growth_median"].to_numpy() == pytest.approx([1.4] * 4)
    assert q["quadrant"].to_dict() == {"a": "catching up", "b": "lagging", "c": "leading", "d": "falling behind"}
    assert q.loc["a", "score_start"] == 10 and q.loc["a", "score"] == 20 and (q["n_units"] == 4).all()
    # CAGR on request: (2)^(1/5)-1, 1.2^(1/5)-1, 1.5^(1/5)-1, 1.1^(1/5)-1 -- here the same quadrants
    c = quadrants(t, growth="cagr").set_index("unit")
    assert c.loc["a", "growth"] == pytest.approx(2 ** 0.2 - 1) and (c["growth_measure"] == "cagr").all()
    assert c["quadrant"].to_dict() == q["quadrant"].to_dict()


def test_quadrants_growth_measure_is_fixed_not_switched_by_the_data():
    """Before: CAGR when all values were positive, absolute change otherwise -- two definitions chosen silently by
    the data. Now one measure, chosen by the caller; CAGR on non-positive values is an error."""
    t = pd.DataFrame({2015: [10.0, 10.0, 40.0, 40.0], 2020: [20.0, 12.0, 60.0, 44.0]}, index=list("abcd"))
    shifted = quadrants(t - 20)  # non-positive values: still the absolute change, same numbers
    assert (shifted["growth_measure"] == "change").all()
    np.testing.assert_allclose(shifted["growth"], quadrants(t)["growth"])
    with pytest.raises(MethodError, match="cagr"):
        quadrants(t - 20, growth="cagr")
    with pytest.raises(InputError):
        quadrants(t, growth="percent")
    with pytest.raises(InputError):
        quadrants(t, start=2020, end=2015)


def test_quadrants_for_one_unit_uses_thresholds_of_all_units():
    t = pd.DataFrame({2015: [10.0, 10.0, 40.0, 40.0, np.nan], 2018: [1.0, 2.0, 3.0, 4.0, 5.0],
                      2020: [20.0, 12.0, 60.0, 44.0, 30.0]}, index=["a", "b", "c", "d", "e"])
    full = quadrants(t)
    assert full.attrs["excluded_units"] == ["e"] and set(full["unit"]) == set("abcd")
    one = quadrants(t, unit="d")
    assert list(one["unit"]) == ["d"] and one["quadrant"].iloc[0] == "falling behind"
    assert one.iloc[0].to_dict() == full[full["unit"] == "d"].iloc[0].to_dict()
    two = quadrants(t, unit=["c", "a"])
    assert list(two["unit"]) == ["c", "a"]
    later = quadrants(t, start=2018, unit="e")  # 'e' has values in 2018 and 2020
    assert later["n_units"].iloc[0] == 5 and later["growth"].iloc[0] == pytest.approx(12.5)
    with pytest.raises(InputError, match="zz"):
        quadrants(t, unit="zz")
    with pytest.raises(MethodError):
        quadrants(t, unit="e")  # no value in 2015


def test_quadrants_accept_a_build_result_and_match_the_pattern_analysis():
    from test_pattern_analyse import _as_build_result, _lattice_panel

    from dcindex.pattern import analyse

    table, units, edges = _lattice_panel()
    br = _as_build_result(table, units)
    q = quadrants(br, node="P1")
    pd.testing.assert_frame_equal(q, quadrants(table * 0.5))
    res = analyse(br, by="band", w=edges, B=0, permutations=0, markov_permutations=0, spatial_models=())
    pd.testing.assert_frame_equal(res.frames["quadrants"], quadrants(br))
