"""Golden cases for every core method: impute, treat, normalise, weight, aggregate, rank.

Every expected number is either worked out by hand in the test (the arithmetic is written next to it), or
computed by an independent implementation (scipy.stats, numpy, a plain-Python transcription of COINr's
Winsorisation loop from docs/coinr-conventions.md, a numpy SVD + own varimax for the OECD PCA steps, power
iteration for AHP). Hypothesis checks the invariants.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

from dcindex import aggregate as agg
from dcindex import normalise as norm
from dcindex import treat
from dcindex import weight
from dcindex.errors import DcindexError, MethodError
from dcindex.impute import impute
from dcindex.recipe import (
    ImputeGroupMean,
    ImputeGroupMedian,
    ImputeLinear,
    ImputeLocf,
    ImputeMean,
    ImputeMedian,
    ImputeNone,
)

nan = np.nan


def col(*v):
    """A (N, 1) column: one indicator, N units."""
    return np.array(v, dtype=float).reshape(-1, 1)


def panel(series):
    """(T, N, 1) from a list of per-year unit lists."""
    return np.array(series, dtype=float)[..., None]


# ============================================================================================ impute
class TestImpute:
    def test_none_leaves_missing(self):
        X = panel([[1, nan, 3]])
        out = impute(X, ImputeNone())
        assert np.array_equal(out, X, equal_nan=True)
        assert out is not X

    def test_mean_per_year(self):
        # year 1: observed 1, 3, 8 -> mean 12/3 = 4 ; year 2: observed 2, 6 -> 4 ... choose 2, 10 -> 6
        X = panel([[1, nan, 3, 8], [2, nan, nan, 10]])
        out = impute(X, ImputeMean(method="mean"))
        assert out[0, :, 0].tolist() == [1, 4, 3, 8]
        assert out[1, :, 0].tolist() == [2, 6, 6, 10]

    def test_median_per_year(self):
        # observed 1, 3, 8 -> median 3
        out = impute(panel([[1, nan, 3, 8]]), ImputeMedian(method="median"))
        assert out[0, :, 0].tolist() == [1, 3, 3, 8]

    def test_group_mean(self):
        # groups a a a b b None ; values 1 nan 5 | 3 nan | nan
        # a: (1 + 5) / 2 = 3 ; b: 3 / 1 = 3 ; the unit without a group stays missing
        X = panel([[1, nan, 5, 3, nan, nan]])
        g = np.array(["a", "a", "a", "b", "b", None], dtype=object)
        out = impute(X, ImputeGroupMean(method="group_mean", group="g"), groups=g)
        assert out[0, :5, 0].tolist() == [1, 3, 5, 3, 3]
        assert np.isnan(out[0, 5, 0])

    def test_group_mean_uses_only_own_group_and_year(self):
        # a: (2 + 4)/2 = 3 in year 1, (10 + 30)/2 = 20 in year 2; b's 100 must not leak into a
        X = panel([[2, 4, nan, 100], [10, 30, nan, 100]])
        g = np.array(["a", "a", "a", "b"], dtype=object)
        out = impute(X, ImputeGroupMean(method="group_mean", group="g"), groups=g)
        assert out[:, 2, 0].tolist() == [3, 20]

    def test_group_median(self):
        # a: median(1, 2, 10) = 2 ; b: median(4) = 4
        X = panel([[1, 2, 10, nan, 4, nan]])
        g = np.array(["a", "a", "a", "a", "b", "b"], dtype=object)
        out = impute(X, ImputeGroupMedian(method="group_median", group="g"), groups=g)
        assert out[0, :, 0].tolist() == [1, 2, 10, 2, 4, 4]

    def test_linear_inside_only_by_default(self):
        # unit 0 over 4 years: 1, _, _, 7 -> steps of (7 - 1)/3 = 2: 1, 3, 5, 7
        # unit 1: _, 2, _, 6 -> leading gap stays, 4 in the middle
        # unit 2: 1, _, _, _ -> trailing gap stays
        X = np.array([[1, nan, 1], [nan, 2, nan], [nan, nan, nan], [7, 6, nan]], dtype=float)[..., None]
        out = impute(X, ImputeLinear(method="linear"))
        assert out[:, 0, 0].tolist() == [1, 3, 5, 7]
        assert np.isnan(out[0, 1, 0]) and out[1:, 1, 0].tolist() == [2, 4, 6]
        assert out[0, 2, 0] == 1 and np.isnan(out[1:, 2, 0]).all()

    def test_linear_edges_nearest(self):
        X = np.array([[nan, 1], [2, nan], [nan, nan], [6, nan]], dtype=float)[..., None]
        out = impute(X, ImputeLinear(method="linear", edges="nearest"))
        assert out[:, 0, 0].tolist() == [2, 2, 4, 6]  # leading gap takes the first value
        assert out[:, 1, 0].tolist() == [1, 1, 1, 1]  # trailing gap takes the last value

    def test_linear_uses_the_years_not_the_row_positions(self):
        # years 2010, 2011, 2014 (2012-13 absent from the data): 0 in 2010, 4 in 2014 ->
        # 2011 is 1/4 of the way: 0 + (2011 - 2010) / (2014 - 2010) * 4 = 1 (not the midpoint 2)
        X = np.array([[0.0], [nan], [4.0]])[..., None]
        out = impute(X, ImputeLinear(method="linear"), years=[2010, 2011, 2014])
        assert out[:, 0, 0].tolist() == [0, 1, 4]

    def test_locf(self):
        X = np.array([[1, nan], [nan, 2], [nan, nan], [7, nan]], dtype=float)[..., None]
        out = impute(X, ImputeLocf(method="locf"))
        assert out[:, 0, 0].tolist() == [1, 1, 1, 7]
        assert np.isnan(out[0, 1, 0]) and out[1:, 1, 0].tolist() == [2, 2, 2]

    def test_observed_values_never_change(self):
        rng = np.random.default_rng(1)
        X = rng.normal(size=(4, 9, 3))
        X[rng.random(X.shape) < 0.3] = nan
        g = np.array(list("aaabbbccc"), dtype=object)
        for spec in (ImputeMean(method="mean"), ImputeMedian(method="median"),
                     ImputeGroupMean(method="group_mean", group="g"),
                     ImputeGroupMedian(method="group_median", group="g"),
                     ImputeLinear(method="linear"), ImputeLocf(method="locf")):
            out = impute(X, spec, groups=g)
            obs = ~np.isnan(X)
            assert np.array_equal(out[obs], X[obs]), spec


# ============================================================================================= treat
def coinr_treat_reference(x, winmax=5, skew_thresh=2.0, kurt_thresh=3.5):
    """Plain transcription of COINr's Treat.numeric + winsorise + log_CT (docs/coinr-conventions.md 5.4-5.6).

    Returns (treated vector, nwin, used_log, errored). Statistics are scipy's bias-corrected skew/kurtosis.
    ``errored``: a Winsorisation step made the column constant, so skew/kurtosis are NaN and COINr's pass
    test is NA; R then stops ("missing value where TRUE/FALSE needed") and COINr's Treat() returns the
    column untreated with a warning (docs/coinr-conventions.md 5.1).
    """
    x = np.asarray(x, dtype=float)
    obs = ~np.isnan(x)

    def stats(v):
        v = v[~np.isnan(v)]
        return st.skew(v, bias=False), st.kurtosis(v, bias=False)

    def passes(v):
        s, k = stats(v)
        return (abs(s) < skew_thresh) or (k < kurt_thresh)

    if passes(x):
        return x.copy(), 0, False, False
    w = x.copy()
    nwin = 0
    imax = np.array([], dtype=int)
    imin = np.array([], dtype=int)
    ok = False
    below = nwin < winmax
    while (not ok) and below:
        s, _ = stats(w)
        if s >= 0:
            mx = np.nanmax(w)
            imax = np.flatnonzero(obs & (w == mx))
            rest = w[obs & (w != mx)]
            if rest.size == 0:
                break
            w[imax] = rest.max()
        else:
            mn = np.nanmin(w)
            imin = np.flatnonzero(obs & (w == mn))
            rest = w[obs & (w != mn)]
            if rest.size == 0:
                break
            w[imin] = rest.min()
        nwin = imax.size + imin.size
        below = nwin < winmax
        # a constant column: R's skew/kurtosis are NaN and the pass test NA (checked exactly: scipy's
        # statistics of a constant float column can be finite rounding noise)
        if np.ptp(w[obs]) == 0 or np.isnan(stats(w)).any():
            return x.copy(), 0, False, True
        ok = passes(w)
    if ok:
        return w, nwin, False, False
    mn, mx = np.nanmin(x), np.nanmax(x)
    return np.log(x - mn + 0.01 * (mx - mn)), nwin, True, False


class TestSkewKurtosis:
    def test_against_scipy_bias_corrected(self):
        rng = np.random.default_rng(7)
        X = rng.lognormal(size=(3, 40, 5))
        X[rng.random(X.shape) < 0.15] = nan
        s = treat.skew_type2(X)
        k = treat.kurt_type2(X)
        for t in range(3):
            for j in range(5):
                v = X[t, :, j]
                v = v[~np.isnan(v)]
                assert s[t, j] == pytest.approx(st.skew(v, bias=False), rel=1e-10, abs=1e-12)
                assert k[t, j] == pytest.approx(st.kurtosis(v, bias=False), rel=1e-10, abs=1e-12)

    def test_hand_computed_small_sample(self):
        # x = 0, 0, 3: mean 1, d = -1, -1, 2 ; m2 = 6/3 = 2, m3 = (-1 - 1 + 8)/3 = 2
        # g1 = 2 / 2^1.5 = 0.70711 ; G1 = g1 * sqrt(3*2) / (3-2) = 0.70711 * 2.44949 = 1.73205 (= sqrt 3)
        assert treat.skew_type2(col(0, 0, 3))[0] == pytest.approx(math.sqrt(3), rel=1e-12)
        # fewer than 3 / 4 points: undefined
        assert np.isnan(treat.skew_type2(col(1, 2))[0])
        assert np.isnan(treat.kurt_type2(col(1, 2, 4))[0])


class TestWinsorise:
    def test_single_outlier_high_side(self):
        # 1..10, 30, 100: fails (skew 3.06 >= 2 and kurt 9.74 >= 3.5, values from scipy below);
        # step 1: the max 100 is set to the largest remaining value 30 -> passes (skew 1.71): 1 point
        x = col(*range(1, 11), 30, 100)
        assert st.skew(x.ravel(), bias=False) >= 2 and st.kurtosis(x.ravel(), bias=False) >= 3.5
        out, info = treat.winsorise(x)
        assert out.ravel().tolist() == [*range(1, 11), 30, 30]
        assert info.winsorised_points[0] == 1 and info.nwin[0] == 1
        assert info.side[0] == 1 and not info.log[0] and not info.still_fails[0]

    def test_low_side_when_skew_negative(self):
        x = col(*(-v for v in [*range(1, 11), 30, 100]))
        out, info = treat.winsorise(x)
        assert out.ravel().tolist() == [-v for v in [*range(1, 11), 30, 30]]
        assert info.side[0] == -1 and info.winsorised_points[0] == 1

    def test_ties_move_together_and_count(self):
        # 1..15, 60, 60: skew 2.33, kurt 4.53 (fails); both 60s sit at the max and move to 15 together:
        # 2 points; after: 1..15, 15, 15 passes (skew -0.15)
        x = col(*range(1, 16), 60, 60)
        assert st.skew(x.ravel(), bias=False) >= 2 and st.kurtosis(x.ravel(), bias=False) >= 3.5
        out, info = treat.winsorise(x)
        assert out.ravel().tolist() == [*range(1, 16), 15, 15]
        assert info.winsorised_points[0] == 2 and info.nwin[0] == 2

    def test_ties_overshoot_max_points_and_then_log(self):
        # with max_points = 1 the tied pair still moves (2 > 1 points, COINr does not undo it); it passes
        # after that step, so no log
        out, info = treat.winsorise(col(*range(1, 16), 60, 60), max_points=1)
        assert out.ravel().tolist() == [*range(1, 16), 15, 15]
        assert info.nwin[0] == 2 and not info.log[0]

    def test_log_fallback_when_max_points_zero(self):
        # max_points = 0: no Winsorisation; still fails -> log(x - min + 0.01 (max - min))
        # for 1..10, 30, 100: min 1, max 100 -> log(x - 1 + 0.99) = log(x - 0.01)
        x = col(*range(1, 11), 30, 100)
        out, info = treat.winsorise(x, max_points=0)
        assert np.allclose(out.ravel(), np.log(x.ravel() - 0.01), rtol=0, atol=1e-14)
        assert info.log[0] and info.winsorised_points[0] == 0

    def test_log_fallback_after_max_points_discards_winsorisation(self):
        # heavy tail: 1..20 and 7 doubling outliers; 2 points are not enough (3 would be) -> log of the
        # ORIGINAL values, the Winsorised ones are discarded
        x = col(*range(1, 21), 1000, 2000, 4000, 8000, 16000, 32000, 64000)
        ref, nwin, used_log, _ = coinr_treat_reference(x.ravel(), winmax=2)
        assert not coinr_treat_reference(x.ravel(), winmax=3)[2]
        out, info = treat.winsorise(x, max_points=2)
        assert used_log and info.log[0]
        mn, mx = 1.0, 64000.0
        assert np.allclose(out.ravel(), np.log(x.ravel() - mn + 0.01 * (mx - mn)), rtol=1e-14)
        assert info.nwin[0] == nwin == 2

    def test_passing_column_untouched(self):
        x = col(1, 2, 3, 4, 5, 6, 7, 8)
        out, info = treat.winsorise(x)
        assert np.array_equal(out, x) and info.winsorised_points[0] == 0 and not info.log[0]

    def test_nan_cells_stay_nan_and_are_ignored(self):
        x = col(*range(1, 11), nan, 30, 100, nan)
        out, info = treat.winsorise(x)
        assert np.isnan(out[[10, 13], 0]).all()
        assert out[12, 0] == 30 and info.winsorised_points[0] == 1

    def test_columns_and_years_independent(self):
        a = [*range(1, 11), 30, 100]
        b = [float(v) for v in range(12)]
        X = np.array([np.c_[a, b], np.c_[b, a]], dtype=float)  # (2 years, 12 units, 2 columns)
        out, info = treat.winsorise(X)
        assert out[0, :, 1].tolist() == b and out[1, :, 0].tolist() == b
        assert out[0, -1, 0] == 30 and out[1, -1, 1] == 30
        assert info.winsorised_points.tolist() == [[1, 0], [0, 1]]

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        base=hnp.arrays(np.float64, hs.integers(6, 25),
                        elements=hs.floats(0, 100, allow_nan=False, allow_infinity=False)),
        outliers=hs.lists(hs.floats(200, 1e5, allow_nan=False), min_size=0, max_size=6),
        flip=hs.booleans(), winmax=hs.integers(0, 6),
    )
    def test_matches_plain_transcription_of_coinr(self, base, outliers, flip, winmax):
        x = np.concatenate([base, outliers]).round(3)
        if flip:
            x = -x
        assume(np.unique(x).size >= 4)
        ref, nwin, used_log, errored = coinr_treat_reference(x, winmax=winmax)
        assume(not errored)  # the degenerate case has its own test below
        out, info = treat.winsorise(x.reshape(-1, 1), max_points=winmax)
        assert bool(info.log[0]) == used_log
        assert int(info.nwin[0]) == nwin or used_log is False and nwin == 0 and info.nwin[0] == 0
        assert np.allclose(out.ravel(), ref, rtol=1e-12, atol=1e-12)


    def test_winsorisation_never_makes_a_column_constant(self):
        # 40 units at 100 %, then 99, 98 and 60: low side, 60 -> 98, 98s -> 99, 99s -> 100 = constant
        x = np.array([100.0] * 40 + [99, 98, 60])
        ref, nwin, used_log, errored = coinr_treat_reference(x)
        assert errored and np.array_equal(ref, x)  # COINr: untreated
        out, info = treat.winsorise(x.reshape(-1, 1))
        assert np.unique(out).size > 1
        assert np.array_equal(out.ravel(), x)


class TestLogTreatment:
    def test_log(self):
        out = treat.log_transform(col(1, math.e, 10))
        assert np.allclose(out.ravel(), [0, 1, math.log(10)])

    def test_non_positive_is_error_naming_indicator(self):
        X = np.c_[[1.0, 2, 3], [0.0, 1, 2]]
        with pytest.raises(MethodError, match="ind_b"):
            treat.log_transform(X, names=["ind_a", "ind_b"])

    def test_shift(self):
        # x = -5, 0, 15: min -5, max 15 -> log(x + 5 + 0.2) = log(0.2), log(5.2), log(20.2)
        out = treat.log_transform(col(-5, 0, 15), shift=True)
        assert np.allclose(out.ravel(), np.log([0.2, 5.2, 20.2]))


# ========================================================================================= normalise
class TestNormalise:
    def test_minmax(self):
        # 2, 4, 10: min 2, range 8 -> 0, 2/8, 8/8 -> 0, 25, 100 ; low 1 high 100: 1 + 0.25 * 99 = 25.75
        assert norm.minmax(col(2, 4, 10)).ravel().tolist() == [0, 25, 100]
        assert norm.minmax(col(2, 4, 10), 1, 100).ravel().tolist() == [1, 25.75, 100]

    def test_minmax_ignores_nan(self):
        assert np.array_equal(norm.minmax(col(2, nan, 10)).ravel(), [0, nan, 100], equal_nan=True)

    @pytest.mark.parametrize("values", [(3, 3, 3), (nan, nan, nan)])
    def test_minmax_needs_variance(self, values):
        X = np.c_[[1.0, 2, 3], values]
        with pytest.raises(MethodError, match="ind_b") as e:
            norm.minmax(X[None], names=["ind_a", "ind_b"], years=[2022])
        assert "ind_a" not in str(e.value)

    def test_zscore_sample_sd(self):
        # 2, 4, 9: mean 5; deviations -3, -1, 4; sum of squares 26; sample variance 26/2 = 13
        z = norm.zscore(col(2, 4, 9)).ravel()
        assert np.allclose(z, np.array([-3, -1, 4]) / math.sqrt(13), rtol=1e-14)
        z2 = norm.zscore(col(2, 4, 9), mean=10, sd=2).ravel()
        assert np.allclose(z2, 10 + 2 * np.array([-3, -1, 4]) / math.sqrt(13), rtol=1e-14)
        assert np.allclose(z, st.zscore([2, 4, 9], ddof=1))

    def test_zscore_constant_is_error(self):
        with pytest.raises(MethodError):
            norm.zscore(col(5, 5, 5), names=["k"])

    def test_rank_ties_min(self):
        # 3, 1, 3, 2 -> 1 is lowest (1), 2 next (2), the two 3s share rank 3
        assert norm.rank(col(3, 1, 3, 2)).ravel().tolist() == [3, 1, 3, 2]
        assert norm.rank(col(3, 1, 3, 2)).ravel().tolist() == st.rankdata([3, 1, 3, 2], method="min").tolist()

    def test_rank_keeps_nan(self):
        assert np.array_equal(norm.rank(col(3, nan, 1)).ravel(), [2, nan, 1], equal_nan=True)

    def test_percentile_rank(self):
        # ranks 3, 1, 3, 2 with n = 4: (r - 1)/3 -> 2/3, 0, 2/3, 1/3
        assert np.allclose(norm.percentile_rank(col(3, 1, 3, 2)).ravel(), [2 / 3, 0, 2 / 3, 1 / 3])
        # NaN does not count in n: 3, nan, 1 -> ranks 2, _, 1 with n = 2 -> 1, _, 0
        assert np.array_equal(norm.percentile_rank(col(3, nan, 1)).ravel(), [1, nan, 0], equal_nan=True)
        assert np.allclose(norm.percentile_rank(col(3, 1, 3, 2), scale=100).ravel(), [200 / 3, 0, 200 / 3, 100 / 3])

    def test_target_uncapped_and_capped(self):
        # 2, 4, 10 with target 8: (x - 2) / (8 - 2) -> 0, 1/3, 4/3 ; capped: 0, 1/3, 1
        assert np.allclose(norm.target(col(2, 4, 10), [8]).ravel(), [0, 1 / 3, 4 / 3])
        assert np.allclose(norm.target(col(2, 4, 10), [8], cap=True).ravel(), [0, 1 / 3, 1])

    def test_target_not_better_than_worst_is_error(self):
        with pytest.raises(MethodError, match="k1"):
            norm.target(col(2, 4, 10), [1], names=["k1"])

    def test_goalposts(self):
        # goalposts 0..50: 10 -> 20 ; 60 -> 120 (100 capped) ; -5 -> -10 (0 capped)
        assert norm.goalposts(col(10, 60, -5), [0], [50]).ravel().tolist() == [20, 100, 0]
        assert np.allclose(norm.goalposts(col(10, 60, -5), [0], [50], cap=False).ravel(), [20, 120, -10])

    def test_base_year_mean_reference(self):
        # base year (index 0) values 2, 4, 6: mean 4 ; year 2 values 4, 6, 8 -> 100 x / 4
        X = panel([[2, 4, 6], [4, 6, 8]])
        out = norm.base_year(X, 0, np.array([1.0]))
        assert out[..., 0].tolist() == [[50, 100, 150], [100, 150, 200]]
        # direction -1: inverted ratio 100 * 4 / x
        out = norm.base_year(X, 0, np.array([-1.0]))
        assert np.allclose(out[..., 0], [[200, 100, 400 / 6], [100, 400 / 6, 50]])

    def test_base_year_unit_reference(self):
        # each unit relative to its own base-year value
        X = panel([[2, 4, 5], [3, 2, 10]])
        out = norm.base_year(X, 0, np.array([1.0]), reference="unit")
        assert out[..., 0].tolist() == [[100, 100, 100], [150, 50, 200]]

    def test_base_year_unit_reference_direction_minus_one(self):
        # lower is better: 100 * base / x, so halving the value doubles the score
        X = panel([[2, 4, 5], [1, 8, 5]])
        out = norm.base_year(X, 0, np.array([-1.0]), reference="unit")
        assert out[..., 0].tolist() == [[100, 100, 100], [200, 50, 100]]

    def test_base_year_non_positive_is_error(self):
        with pytest.raises(MethodError, match="kk"):
            norm.base_year(panel([[0, 1, 2], [1, 2, 3]]), 0, np.array([1.0]), names=["kk"])

    @settings(max_examples=60, deadline=None)
    @given(x=hnp.arrays(np.float64, hs.integers(2, 30), elements=hs.floats(-1e6, 1e6, allow_nan=False)),
           a=hs.floats(1e-3, 1e3), b=hs.floats(-1e3, 1e3))
    def test_minmax_scale_invariance(self, x, a, b):
        assume(np.ptp(x) > 1e-6 * max(1.0, np.abs(x).max()))
        y = norm.minmax(col(*x)).ravel()
        z = norm.minmax(col(*(a * x + b))).ravel()
        assert np.allclose(y, z, atol=1e-6)
        assert y.min() == 0 and y.max() == 100

    @settings(max_examples=40, deadline=None)
    @given(x=hnp.arrays(np.float64, hs.integers(3, 20), elements=hs.floats(-100, 100, allow_nan=False)),
           seed=hs.integers(0, 2**31))
    def test_unit_order_invariance_of_all_normalisations(self, x, seed):
        assume(np.ptp(x) > 1e-3)
        p = np.random.default_rng(seed).permutation(x.size)
        X = col(*x)
        for f in (norm.minmax, norm.zscore, norm.rank, norm.percentile_rank,
                  lambda v: norm.target(v, [200.0])):
            assert np.allclose(f(X)[p], f(X[p]), rtol=1e-12, atol=1e-9)


# =========================================================================================== weights
class TestEntropy:
    def test_hand_example_with_zero(self):
        # column 1: 1, 1, 2 -> p = 1/4, 1/4, 1/2 ; H = -(2 (1/4) ln(1/4) + (1/2) ln(1/2)) = 1.5 ln 2
        # column 2: 2, 2, 0 -> p = 1/2, 1/2, 0 with 0 ln 0 = 0 ; H = ln 2
        # e = H / ln 3 ; d = 1 - e ; w = d / sum d
        Y = np.array([[[1, 2], [1, 2], [2, 0]]], dtype=float)
        e1, e2 = 1.5 * math.log(2) / math.log(3), math.log(2) / math.log(3)
        d = np.array([1 - e1, 1 - e2])
        w = weight.entropy(Y)
        assert np.allclose(w[0], d / d.sum(), rtol=1e-12)
        assert w[0, 0] == pytest.approx(0.126824, abs=1e-6)  # 0.053605 / (0.053605 + 0.369070)

    def test_all_zero_column_gets_zero_weight(self):
        Y = np.array([[[1, 0], [3, 0], [2, 0]]], dtype=float)
        assert weight.entropy(Y)[0].tolist() == [1.0, 0.0]

    def test_uniform_column_gets_zero_weight(self):
        Y = np.array([[[5, 1], [5, 2], [5, 9]]], dtype=float)
        w = weight.entropy(Y)[0]
        assert w[0] == pytest.approx(0, abs=1e-12) and w[1] == pytest.approx(1)

    def test_negative_values_refused(self):
        with pytest.raises(MethodError, match="non-negative"):
            weight.entropy(np.array([[[1, -1], [2, 3]]], dtype=float), "P1")

    def test_all_children_constant_refused(self):
        with pytest.raises(MethodError, match="P9"):
            weight.entropy(np.array([[[1, 1], [1, 1], [1, 1]]], dtype=float), "P9")


class TestCritic:
    def test_against_formula(self):
        rng = np.random.default_rng(3)
        Y = rng.random((1, 12, 3)) * 100
        sd = Y[0].std(axis=0, ddof=1)
        R = np.corrcoef(Y[0], rowvar=False)
        C = sd * (1 - R).sum(axis=1)
        assert np.allclose(weight.critic(Y)[0], C / C.sum(), rtol=1e-12)

    def test_two_children_weights_proportional_to_sd(self):
        # C_j = sd_j (1 - r_12) for both, so w ~ sd: child 1 values 0, 1, 2 (sd 1), child 2 0, 4, 2 (sd 2)
        Y = np.array([[[0, 0], [1, 4], [2, 2]]], dtype=float)
        assert np.allclose(weight.critic(Y)[0], [1 / 3, 2 / 3])


def varimax_reference(L, tol=1e-12, max_iter=2000):
    """Kaiser's varimax (raw, no row normalisation), the classic SVD iteration."""
    p, k = L.shape
    R = np.eye(k)
    d = 0.0
    for _ in range(max_iter):
        Lr = L @ R
        u, s, vt = np.linalg.svd(L.T @ (Lr**3 - Lr @ np.diag((Lr**2).sum(axis=0)) / p))
        R = u @ vt
        d_new = s.sum()
        if d_new < d * (1 + tol):
            break
        d = d_new
    return L @ R


def handbook_pca_weights(Z, min_eig=1.0, min_share=0.10, min_cum=0.60):
    """OECD/JRC Handbook (2008) step 6, computed independently: SVD of the standardised data."""
    n, C = Z.shape
    Zs = (Z - Z.mean(axis=0)) / Z.std(axis=0, ddof=1)
    _, s, vt = np.linalg.svd(Zs, full_matrices=False)
    ev = s**2 / (n - 1)  # eigenvalues of the correlation matrix, descending
    share = ev / C
    keep = 0
    while keep < C and ev[keep] > min_eig and share[keep] > min_share:
        keep += 1
    while keep < C and share[:keep].sum() < min_cum:
        keep += 1
    keep = max(keep, 1)
    L = vt[:keep].T * np.sqrt(ev[:keep])
    if keep > 1:
        L = varimax_reference(L)
    sq = L**2
    expl = sq.sum(axis=0)
    scaled = sq / expl  # squared loadings scaled to unity sum per factor
    fw = expl / expl.sum()  # factor's share of the explained variance
    best = scaled.argmax(axis=1)
    w = scaled[np.arange(C), best] * fw[best]
    return w / w.sum(), keep


class TestPCA:
    def test_two_factor_structure_matches_independent_computation(self):
        rng = np.random.default_rng(11)
        f = rng.normal(size=(300, 2))
        load = np.array([[0.9, 0], [0.8, 0.1], [0.7, 0.2], [0.1, 0.85], [0, 0.8], [0.2, 0.6]])
        Z = f @ load.T + 0.4 * rng.normal(size=(300, 6))
        want, keep = handbook_pca_weights(Z)
        assert keep == 2
        w, det = weight.pca(Z[None], "P")
        assert det[0].retained == 2
        assert np.allclose(w[0], want, atol=1e-6)
        assert w[0].sum() == pytest.approx(1)

    def test_one_component_weights_are_normalised_squared_loadings(self):
        # one retained component: no rotation, w_j = L_j^2 / sum L^2
        rng = np.random.default_rng(5)
        f = rng.normal(size=(200, 1))
        Z = f @ np.array([[0.9, 0.8, 0.95]]) + 0.3 * rng.normal(size=(200, 3))
        R = np.corrcoef(Z, rowvar=False)
        ev, vec = np.linalg.eigh(R)
        L1 = vec[:, -1] * math.sqrt(ev[-1])
        assert ev[-1] / 3 > 0.6 and ev[-2] < 1  # precondition: exactly one component retained
        w, det = weight.pca(Z[None], "P")
        assert det[0].retained == 1
        assert np.allclose(w[0], L1**2 / (L1**2).sum(), atol=1e-12)

    def test_too_few_complete_units_refused(self):
        with pytest.raises(MethodError, match="complete units"):
            weight.pca(np.array([[[1, 2, 3], [2, 1, 3], [nan, 1, 1]]], dtype=float), "P")


class TestAHP:
    def test_consistent_matrix_gives_exact_weights(self):
        # a_ij = w_i / w_j with w = (0.5, 0.3, 0.2): lambda_max = n = 3, CI = 0, CR = 0
        w0 = np.array([0.5, 0.3, 0.2])
        A = w0[:, None] / w0[None, :]
        w, lam, cr = weight.ahp(A)
        assert np.allclose(w, w0, rtol=1e-12) and lam == pytest.approx(3) and cr == pytest.approx(0, abs=1e-12)

    def test_saaty_three_criteria_example(self):
        # textbook matrix (1, 3, 5; 1/3, 1, 3; 1/5, 1/3, 1): weights ~ 0.637, 0.258, 0.105,
        # lambda_max ~ 3.039, CI = (3.039 - 3)/2, RI(3) = 0.58, CR ~ 0.033 < 0.1
        A = np.array([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
        v = np.ones(3)
        for _ in range(200):  # power iteration, independent of numpy.linalg.eig
            v = A @ v
            v /= v.sum()
        lam = float(np.mean((A @ v) / v))
        cr = (lam - 3) / 2 / 0.58
        w, lam_d, cr_d = weight.ahp(A)
        assert np.allclose(w, v, rtol=1e-10)
        assert lam_d == pytest.approx(lam, rel=1e-10) and cr_d == pytest.approx(cr, rel=1e-8)
        assert np.allclose(w, [0.637, 0.258, 0.105], atol=5e-4)
        assert cr_d == pytest.approx(0.033, abs=5e-4)

    def test_inconsistent_matrix_refused_unless_allowed(self):
        # intransitive judgements: 1 >> 2 >> 3 >> 1
        A = np.array([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])
        with pytest.raises(MethodError, match=r"CR = .* > 0.1") as e:
            weight.ahp(A, "PILLAR_X")
        assert "PILLAR_X" in str(e.value) and "allow_inconsistent" in str(e.value)
        w, lam, cr = weight.ahp(A, allow_inconsistent=True)
        assert cr > 0.1 and w.sum() == pytest.approx(1)

    def test_not_reciprocal_refused(self):
        with pytest.raises(MethodError, match="reciprocal"):
            weight.ahp(np.array([[1, 3], [3, 1]], dtype=float))


class TestBoD:
    def test_three_units_by_hand(self):
        # A = (2, 1), B = (1, 2), C = (1, 1). A and B are on the frontier: efficiency 1.
        # C: max w1 + w2 s.t. 2 w1 + w2 <= 1, w1 + 2 w2 <= 1 -> w1 = w2 = 1/3, efficiency 2/3,
        # each child contributes 1/3 -> shares 1/2, 1/2
        Y = np.array([[[2, 1], [1, 2], [1, 1]]], dtype=float)
        eff, shares = weight.bod(Y, "P")
        assert np.allclose(eff[0], [1, 1, 2 / 3], atol=1e-9)
        assert np.allclose(shares[0, 2], [0.5, 0.5], atol=1e-9)
        assert np.allclose(shares[0].sum(axis=1), 1)

    def test_dominated_unit(self):
        # D = (1, 0.5) is dominated by A = (2, 1): the best it can do is half of A -> 0.5
        Y = np.array([[[2, 1], [1, 0.5]]], dtype=float)
        eff, _ = weight.bod(Y, "P")
        assert np.allclose(eff[0], [1, 0.5], atol=1e-9)

    def test_min_share_restriction(self):
        rng = np.random.default_rng(2)
        Y = rng.random((1, 8, 3)) + 0.1
        eff, shares = weight.bod(Y, "P", min_share=0.2)
        assert (shares >= 0.2 - 1e-7).all() and (eff <= 1 + 1e-9).all()
        eff0, _ = weight.bod(Y, "P")
        assert (eff <= eff0 + 1e-9).all()  # a restriction can only lower efficiency
        assert eff0.max() == pytest.approx(1)

    def test_missing_values_refused(self):
        with pytest.raises(MethodError, match="complete data"):
            weight.bod(np.array([[[1, nan], [2, 1]]]), "P")


# ========================================================================================= aggregate
class TestAggregate:
    def test_arithmetic_and_missing_child_rescaled(self):
        # 60, 40, 30 with w 1, 2, 1: (60 + 80 + 30) / 4 = 42.5
        # 60, _, 30: the missing child's weight is dropped: (60 + 30) / 2 = 45
        Y = np.array([[60, 40, 30], [60, nan, 30], [nan, nan, nan]])
        out = agg.arithmetic(Y, [1, 2, 1])
        assert out[:2].tolist() == [42.5, 45] and np.isnan(out[2])

    def test_min_coverage(self):
        Y = np.array([[60, nan, 30], [nan, nan, 30]])
        out = agg.arithmetic(Y, [1, 1, 1], min_coverage=0.5)
        assert out[0] == 45 and np.isnan(out[1])  # 2/3 >= 0.5 kept, 1/3 < 0.5 dropped

    def test_geometric(self):
        # (4 * 16)^(1/2) = 8 ; 4^(3/4) 16^(1/4) = 2^1.5 * 2 = 2^2.5
        Y = np.array([[4, 16], [4, 16], [4, nan]])
        out = agg.geometric(Y, np.array([[1, 1], [3, 1], [1, 1]]))
        assert np.allclose(out, [8, 2**2.5, 4])

    def test_geometric_non_positive_refused(self):
        with pytest.raises(MethodError, match="'PIL'"):
            agg.geometric(np.array([[0.0, 5.0]]), [1, 1], node="PIL")

    def test_harmonic(self):
        # 2, 6: 2 / (1/2 + 1/6) = 3 ; weights 1, 3: 4 / (1/2 + 3/6) = 4
        out = agg.harmonic(np.array([[2, 6], [2, 6]]), np.array([[1, 1], [1, 3]]))
        assert np.allclose(out, [3, 4])

    def test_harmonic_zero_refused(self):
        with pytest.raises(MethodError):
            agg.harmonic(np.array([[0.0, 5.0]]), [1, 1], node="PIL")

    def test_mazziotta_pareto(self):
        # Mazziotta & Pareto (2016): z_ij = 100 + 10 (x_ij - M_j) / S_j with population sd S_j;
        # MPI_i = M_zi - S_zi cv_i, cv_i = S_zi / M_zi (negative penalty).
        # Y: child 1 = 1, 2, 3 (mean 2, S = sqrt(2/3)); child 2 = 4, 6, 2 (mean 4, S = sqrt(8/3))
        # a = 10 / sqrt(2/3) = 10 * 2 / sqrt(8/3) = 10 sqrt(1.5) = 12.2474
        # z: unit 1 (100 - a, 100), unit 2 (100, 100 + a), unit 3 (100 + a, 100 - a)
        a = 10 * math.sqrt(1.5)
        Y = np.array([[1, 4], [2, 6], [3, 2]], dtype=float)
        z = np.array([[100 - a, 100], [100, 100 + a], [100 + a, 100 - a]])
        M = z.mean(axis=1)
        S = np.sqrt(((z - M[:, None]) ** 2).mean(axis=1))  # a/2, a/2, a
        assert np.allclose(S, [a / 2, a / 2, a])
        want = M - S * (S / M)
        assert np.allclose(agg.mazziotta_pareto(Y, [1, 1]), want, rtol=1e-12)
        assert np.allclose(agg.mazziotta_pareto(Y, [1, 1], penalty="positive"), M + S * S / M, rtol=1e-12)
        # unit 1: M = 100 - a/2 = 93.8763, S = 6.1237, MPI = 93.8763 - 6.1237^2 / 93.8763 = 93.4768
        assert agg.mazziotta_pareto(Y, [1, 1])[0] == pytest.approx(93.4768, abs=1e-4)

    def test_mazziotta_pareto_balanced_unit_not_penalised(self):
        # a unit at the mean of every child has z = 100 everywhere: MPI = 100
        Y = np.array([[1, 4], [2, 5], [3, 6]], dtype=float)
        assert agg.mazziotta_pareto(Y, [1, 1])[1] == pytest.approx(100)

    def test_topsis(self):
        # Y = (20, 80), (100, 0), (60, 40), w = 0.75, 0.25; ideal (100, 80), anti-ideal (20, 0)
        # unit 1: d+ = |0.75 * -80| = 60, d- = |0.25 * 80| = 20 -> 20 / 80 = 0.25
        # unit 2: d+ = |0.25 * -80| = 20, d- = |0.75 * 80| = 60 -> 0.75
        # unit 3: d+ = sqrt(30^2 + 10^2), d- = sqrt(30^2 + 10^2) -> 0.5
        Y = np.array([[20, 80], [100, 0], [60, 40]], dtype=float)
        assert np.allclose(agg.topsis(Y, [0.75, 0.25]), [25, 75, 50])
        assert np.allclose(agg.topsis(Y, [3, 1], scale=1), [0.25, 0.75, 0.5])  # weights rescaled

    def test_rank_desc_ties_at_min(self):
        S = np.array([10, 30, 30, 20, nan])
        r = agg.rank_desc(S, axis=0)
        assert np.array_equal(r, [4, 1, 1, 3, nan], equal_nan=True)

    @settings(max_examples=60, deadline=None)
    @given(Y=hnp.arrays(np.float64, hs.tuples(hs.integers(3, 12), hs.integers(2, 5)),
                        elements=hs.floats(1, 100, allow_nan=False)),
           seed=hs.integers(0, 2**31))
    def test_unit_order_invariance(self, Y, seed):
        assume((np.ptp(Y, axis=0) > 1e-6).all())
        w = np.linspace(1, 2, Y.shape[1])
        p = np.random.default_rng(seed).permutation(Y.shape[0])
        for f in (agg.arithmetic, agg.geometric, agg.harmonic, agg.mazziotta_pareto, agg.topsis):
            assert np.allclose(f(Y, w)[p], f(Y[p], w), rtol=1e-10)
        r = agg.rank_desc(agg.arithmetic(Y, w), axis=0)
        assert np.array_equal(r[p], agg.rank_desc(agg.arithmetic(Y[p], w), axis=0))

    @settings(max_examples=60, deadline=None)
    @given(Y=hnp.arrays(np.float64, hs.tuples(hs.integers(2, 8), hs.integers(2, 5)),
                        elements=hs.floats(0, 100, allow_nan=False)),
           i=hs.integers(0, 100), j=hs.integers(0, 100), delta=hs.floats(0, 50))
    def test_arithmetic_monotone_in_each_child(self, Y, i, j, delta):
        i, j = i % Y.shape[0], j % Y.shape[1]
        w = np.arange(1, Y.shape[1] + 1, dtype=float)
        Y2 = Y.copy()
        Y2[i, j] += delta
        assert agg.arithmetic(Y2, w)[i] >= agg.arithmetic(Y, w)[i] - 1e-12


class TestDataDrivenWeightsSumToOne:
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(Y=hnp.arrays(np.float64, hs.tuples(hs.integers(8, 20), hs.integers(2, 5)),
                        elements=hs.floats(0, 100, allow_nan=False)))
    def test_sum_to_one(self, Y):
        assume((Y.std(axis=0) > 1e-3).all())
        ws = [weight.entropy(Y[None])]
        try:
            ws.append(weight.critic(Y[None]))
        except MethodError:  # CRITIC is undefined only when every pair of children correlates perfectly (r = 1)
            R = np.corrcoef(Y, rowvar=False)
            assert np.allclose(R, 1)
        for w in ws:
            assert w.shape == (1, Y.shape[1]) and w.sum() == pytest.approx(1) and (w >= 0).all()
        try:
            w, _ = weight.pca(Y[None], "P")
        except DcindexError:
            return
        assert w.sum() == pytest.approx(1) and (w >= 0).all()
