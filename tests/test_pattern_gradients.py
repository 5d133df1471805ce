"""Group gradients, gaps, gap trends and quadrants on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dcindex.errors import InputError
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
    # levels 20, 12, 60, 44 (median 32); CAGR (2)^(1/5)-1, 1.2^(1/5)-1, 1.5^(1/5)-1, 1.1^(1/5)-1
    assert q.loc["a", "growth"] == pytest.approx(2 ** 0.2 - 1)
    assert q["quadrant"].to_dict() == {"a": "catching up", "b": "lagging", "c": "leading", "d": "falling behind"}
    z = quadrants(t - 20)  # non-positive values: mean annual change instead of CAGR
    assert (z["growth_measure"] == "annual_change").all()
    assert z.set_index("unit").loc["c", "growth"] == pytest.approx(4.0)
