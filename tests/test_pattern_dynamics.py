"""Distribution dynamics against giddy / scipy on the US income data shipped with libpysal."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from dcindex.pattern import kde_by_year, markov_chain, rank_mobility, spatial_markov
from dcindex.pattern.dynamics import spatial_markov_x2_null
from dcindex.pattern.spatial import _row_standardised


@pytest.fixture(scope="module")
def us():
    import libpysal

    inc = pd.read_csv(libpysal.examples.get_path("usjoin.csv"))
    w = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    inc.index = [str(i) for i in range(len(inc))]
    table = inc[[str(y) for y in range(1929, 2010)]].astype(float)
    table.columns = table.columns.astype(int)
    return table, w


def test_markov_matches_giddy_and_shorrocks(us):
    import mapclassify as mc
    from giddy.markov import Markov

    table, _ = us
    rel = table.to_numpy() / table.to_numpy().mean(axis=0)
    ids = mc.Quantiles(rel.ravel(), k=5).yb.reshape(rel.shape)
    ref = Markov(ids, summary=False)
    out = markov_chain(table, k=5, cutoffs="pooled")
    T = out["transitions"].pivot(index="from_class", columns="to_class", values="count").to_numpy()
    P = out["transitions"].pivot(index="from_class", columns="to_class", values="prob").to_numpy()
    np.testing.assert_array_equal(T, ref.transitions)
    np.testing.assert_allclose(P, ref.p)
    assert out["scalars"]["shorrocks_mobility"] == pytest.approx((5 - np.trace(ref.p)) / 4)
    np.testing.assert_allclose(out["classes"]["steady_state"], ref.steady_state, rtol=1e-10)
    assert out["scalars"]["n_transitions"] == 48 * 80
    # per-year cutoffs: every year has (about) n/k units per class
    yr = markov_chain(table, k=4, cutoffs="yearly")
    assert yr["classes"]["initial_share"].tolist() == [0.25] * 4


@pytest.mark.parametrize("cutoffs", ["pooled", "yearly"])
def test_spatial_markov_observed_and_null_equal_giddy(us, cutoffs):
    from giddy.markov import Spatial_Markov

    table, w = us
    sub = table[list(range(1990, 2010))]
    y = sub.to_numpy() / sub.to_numpy().mean(axis=0)
    wr = copy.deepcopy(w)
    wr.transform = "r"
    np.random.seed(7)
    ref = Spatial_Markov(y, wr, k=4, m=4, permutations=30, fixed=(cutoffs == "pooled"))
    ours = spatial_markov(sub, w, k=4, cutoffs=cutoffs, permutations=0)
    sc = ours["scalars"]
    for key, val in (("Q", ref.Q), ("LR", ref.LR), ("x2", ref.x2), ("Q_p_value", ref.Q_p_value)):
        assert sc[key] == pytest.approx(float(val), rel=1e-10)
    T = ours["conditional"].sort_values(["lag_class", "from_class", "to_class"])["count"].to_numpy()
    # the fitted T (giddy's ref.T is from the first pass, before the permutations)
    assert T.sum() == ref.T.sum()
    # permutation null: same permutations -> same x2 realisations as giddy's loop
    rs = np.random.RandomState(7)
    perms = np.stack([rs.permutation(y.shape[0]) for _ in range(30)])
    ref0 = Spatial_Markov(y, wr, k=4, m=4, permutations=0, fixed=(cutoffs == "pooled"))
    null = spatial_markov_x2_null(y, _row_standardised(wr), np.asarray(ref0.class_ids),
                                  np.asarray(ref0.transitions, float), 4, perms,
                                  np.asarray(ref0.lag_cutoffs, float) if cutoffs == "pooled" else None)
    np.testing.assert_allclose(null, ref.x2_realizations.ravel(), rtol=1e-10)


def test_spatial_markov_seeded(us):
    table, w = us
    sub = table[list(range(2000, 2010))]
    a = spatial_markov(sub, w, permutations=49, seed=1)["scalars"]
    b = spatial_markov(sub, w, permutations=49, seed=1)["scalars"]
    assert a == b
    assert 0 < a["x2_perm_p_value"] <= 1


def test_kde_bandwidth_and_modes():
    from scipy.stats import gaussian_kde

    rng = np.random.default_rng(0)
    bimodal = np.concatenate([rng.normal(0, 1, 300), rng.normal(8, 1, 300)]) + 20
    uni = rng.normal(20, 2, 600)
    t = pd.DataFrame({2000: uni, 2001: bimodal}, index=[f"u{i}" for i in range(600)])
    out = kde_by_year(t)
    s = out["summary"].set_index("year")
    assert s.loc[2000, "n_modes"] == 1 and s.loc[2001, "n_modes"] == 2
    assert s.loc[2000, "bandwidth"] == pytest.approx(np.std(uni, ddof=1) * 600 ** (-1 / 5), rel=1e-12)
    d = out["density"]
    for yr in (2000, 2001):
        dd = d[d["year"] == yr]
        assert np.trapezoid(dd["density"], dd["x"]) == pytest.approx(1.0, abs=1e-3)
        np.testing.assert_allclose(dd["density"], gaussian_kde(t[yr].to_numpy())(dd["x"].to_numpy()))
    peaks = [float(p) for p in s.loc[2001, "peaks"].split(";")]
    assert peaks[0] == pytest.approx(20, abs=0.6) and peaks[1] == pytest.approx(28, abs=0.6)
    sil = kde_by_year(t, bw="silverman")["summary"].set_index("year")
    assert sil.loc[2000, "bandwidth"] == pytest.approx(np.std(uni, ddof=1) * (600 * 3 / 4) ** (-1 / 5), rel=1e-12)


def test_rank_mobility_matches_scipy(us):
    from scipy.stats import kendalltau

    table, _ = us
    out = rank_mobility(table[[1929, 1930, 2009]])
    assert list(zip(out["year_from"], out["year_to"])) == [(1929, 1930), (1930, 2009), (1929, 2009)]
    for _, r in out.iterrows():
        ref = kendalltau(table[r["year_from"]], table[r["year_to"]])
        assert r["tau"] == pytest.approx(ref.statistic, rel=1e-10)
