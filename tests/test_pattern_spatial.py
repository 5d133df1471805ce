"""Spatial weights alignment, Moran's I and LISA against esda; seeds; islands; never mutating the caller's W."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from dcindex.errors import InputError, MethodError
from dcindex.pattern import align_weights, lisa_by_year, moran_by_year, weights_from_edges
from dcindex.pattern.spatial import _row_standardised, folded_p, lisa_sim, moran_sim


@pytest.fixture(scope="module")
def us():
    import libpysal

    inc = pd.read_csv(libpysal.examples.get_path("usjoin.csv"))
    w = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()  # ids '0'..'47' in csv row order
    inc.index = [str(i) for i in range(len(inc))]
    table = inc[[str(y) for y in range(1929, 2010)]]
    table.columns = table.columns.astype(int)
    return table, w


def _lattice(nr=6, nc=5):
    import libpysal

    w = libpysal.weights.lat2W(nr, nc)
    ids = [f"c{i:03d}" for i in range(nr * nc)]
    return libpysal.weights.W({ids[k]: [ids[j] for j in v] for k, v in w.neighbors.items()}, id_order=ids), ids


def test_moran_observed_and_permutation_null_equal_esda(us):
    import esda

    table, w = us
    y = table[1929].to_numpy(float)
    rs = np.random.RandomState(123)
    perms = np.stack([rs.permutation(y.size) for _ in range(199)])
    np.random.seed(123)
    wc = copy.deepcopy(w)
    m = esda.Moran(y, wc, permutations=199)
    sim = moran_sim(y - y.mean(), _row_standardised(w), perms)
    np.testing.assert_allclose(sim, m.sim, rtol=1e-10)
    assert folded_p(sim, m.I) == m.p_sim
    out = moran_by_year(table[[1929, 2009]], w, permutations=99, seed=1)
    assert out["I"].iloc[0] == pytest.approx(m.I, rel=1e-12)
    assert out["z_norm"].iloc[0] == pytest.approx(m.z_norm, rel=1e-12)
    assert (out["p_sim"] == 0.01).all()  # US incomes are strongly clustered


def test_moran_seeded_and_weights_order_and_no_mutation(us):
    table, w = us
    w.transform = "b"
    before = (copy.deepcopy(w.neighbors), copy.deepcopy(w.weights), w.transform, list(w.id_order))
    a = moran_by_year(table[[1929, 1960]], w, permutations=99, seed=5)
    b = moran_by_year(table[[1929, 1960]], w, permutations=99, seed=5)
    c = moran_by_year(table[[1929, 1960]], w, permutations=99, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a["EI_sim"].equals(c["EI_sim"])
    assert (w.neighbors, w.weights, w.transform, list(w.id_order)) == before
    # the same weights listed in another order (as an edge list, reversed) give identical results
    edges = pd.DataFrame([(i, j) for i in reversed(w.id_order) for j in w.neighbors[i]],
                         columns=["focal", "neighbor"])
    d = moran_by_year(table[[1929, 1960]], edges, permutations=99, seed=5)
    pd.testing.assert_frame_equal(a, d)
    # shuffling the data rows does not change I: units are matched by id
    e = moran_by_year(table[[1929, 1960]].sample(frac=1, random_state=3), w, permutations=0)
    np.testing.assert_allclose(e["I"], a["I"], rtol=1e-12)


def test_align_weights_rejects_missing_units_and_restricts_extra():
    w, ids = _lattice()
    with pytest.raises(InputError):
        align_weights(w, ids + ["zzz"])
    sub = ids[:-3]
    wa, notes = align_weights(w, sub)
    assert wa.id_order == sub and any("restricted" in n for n in notes)
    assert all(j in sub for v in wa.neighbors.values() for j in v)


def test_islands_linked_to_nearest_or_error():
    edges = pd.DataFrame({"focal": ["a", "b", "b", "c"], "neighbor": ["b", "a", "c", "b"]})
    units = ["a", "b", "c", "d"]
    with pytest.raises(MethodError):
        align_weights(edges, units)
    coords = pd.DataFrame({"lon": [0.0, 1.0, 2.0, 2.1], "lat": [0.0, 0.0, 0.0, 0.5]}, index=units)
    wa, notes = align_weights(edges, units, coords)
    assert wa.neighbors["d"] == ["c"] and "d" in wa.neighbors["c"]
    assert not wa.islands and any("islands" in n for n in notes)
    with pytest.raises(InputError):
        weights_from_edges(pd.DataFrame({"focal": ["a"], "neighbor": ["a"]}))


def test_lisa_statistics_equal_esda_and_sim_equals_naive_loop():
    import esda

    w, ids = _lattice()
    rng = np.random.default_rng(0)
    y = rng.normal(size=len(ids)) + np.repeat(np.arange(6), 5) * 0.5
    table = pd.DataFrame({2000: y}, index=ids)
    ml = esda.Moran_Local(y, copy.deepcopy(w), permutations=0)
    out = lisa_by_year(table, w, permutations=99, seed=0)
    np.testing.assert_allclose(out["Ii"], ml.Is, rtol=1e-12)
    assert list(out["quadrant"]) == [{1: "HH", 2: "LH", 3: "LL", 4: "HL"}[q] for q in ml.q]
    # vectorised conditional randomisation == naive per-unit loop with the same draws
    Wr = _row_standardised(align_weights(w, ids)[0])
    n = y.size
    rids = np.argsort(rng.random((50, n - 1)), axis=1)[:, :4]
    z = ml.z
    sim = lisa_sim(z, Wr, rids)
    for i in range(n):
        nb = Wr.indices[Wr.indptr[i]:Wr.indptr[i + 1]]
        wv = Wr.data[Wr.indptr[i]:Wr.indptr[i + 1]]
        k = nb.size
        for p in range(50):
            others = [j if j < i else j + 1 for j in rids[p, :k]]
            assert i not in others
            ref = (n - 1) * z[i] * (wv * z[others]).sum() / (z @ z)
            assert sim[p, i] == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_lisa_null_moments_match_conditional_randomisation_theory():
    """Mean and variance of the simulated I_i match esda's analytic conditional moments (Sokal et al. 1998)."""
    import esda

    w, ids = _lattice(8, 8)
    rng = np.random.default_rng(1)
    y = rng.lognormal(size=len(ids))
    ml = esda.Moran_Local(y, copy.deepcopy(w), permutations=0)
    Wr = _row_standardised(align_weights(w, ids)[0])
    P = 20000
    rids = np.argsort(rng.random((P, len(ids) - 1)), axis=1)[:, :4]
    sim = lisa_sim(np.asarray(ml.z), Wr, rids)
    # each draw is a different random set per permutation: Monte Carlo error ~ sd / sqrt(P)
    se = np.sqrt(ml.VIc / P)
    assert np.all(np.abs(sim.mean(0) - ml.EIc) < 5 * se + 1e-12)
    np.testing.assert_allclose(sim.var(0), ml.VIc, rtol=0.1)


def test_lisa_seeded(us):
    table, w = us
    a = lisa_by_year(table[[1929, 2009]], w, permutations=99, seed=3)
    b = lisa_by_year(table[[1929, 2009]], w, permutations=99, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["cluster"]) <= {"HH", "LL", "HL", "LH", "ns"}
    assert (a["cluster"] != "ns").any()


@pytest.mark.slow
def test_lisa_p_values_agree_with_esda_crand():
    """Same conditional randomisation as esda's numba crand: p-values agree within Monte Carlo error."""
    import esda

    w, ids = _lattice(7, 7)
    rng = np.random.default_rng(2)
    y = rng.normal(size=len(ids)) + np.repeat(np.arange(7), 7) * 0.4
    ml = esda.Moran_Local(y, copy.deepcopy(w), permutations=9999, seed=1, n_jobs=1)
    ours = lisa_by_year(pd.DataFrame({1: y}, index=ids), w, permutations=9999, seed=1)
    # sd of a difference of two estimates of p <= 0.5 with 9,999 draws is <= 0.0071; 0.03 is > 4 sd
    assert np.max(np.abs(ours["p_sim"].to_numpy() - ml.p_sim)) < 0.03


def test_china_provinces_moran(shared_data):
    from test_pattern_fixtures import pku_province, province_queen

    t = pku_province(shared_data)
    w, coords = province_queen(shared_data)
    with pytest.raises(MethodError):  # Hainan is an island: never silently dropped
        moran_by_year(t, w, permutations=0)
    m = moran_by_year(t, w, permutations=999, seed=0, coords=coords)
    assert len(m) == 13 and (m["I"] > 0.3).all() and (m["p_sim"] < 0.01).all()
    wa, notes = align_weights(w, list(t.index), coords)
    assert wa.neighbors["460000"] and "460000" in wa.neighbors[wa.neighbors["460000"][0]]
    assert w.islands == ["460000"]  # caller's W untouched
    li = lisa_by_year(t[[2023]], w, permutations=999, seed=0, coords=coords)
    hh = set(li.loc[li["cluster"] == "HH", "unit"])
    assert hh and hh <= {"310000", "320000", "330000", "340000", "350000", "110000", "120000", "130000",
                         "440000", "360000"}


def test_weights_from_polygons_queen_and_island():
    from shapely.geometry import box

    from dcindex.pattern import weights_from_polygons

    geoms = {"a": box(0, 0, 1, 1), "b": box(1, 0, 2, 1), "c": box(1, 1, 2, 2), "d": box(5, 5, 6, 6)}
    w, coords, notes = weights_from_polygons(geoms, geographic=False)
    assert sorted(w.neighbors["a"]) == ["b", "c"]  # queen: the corner (1, 1) counts
    assert w.neighbors["d"] == ["c"] and "d" in w.neighbors["c"]
    assert any("islands" in n for n in notes)
    assert coords.loc["d"].tolist() == [5.5, 5.5]


def test_weights_from_china_geojson(shared_data):
    from dcindex.pattern import weights_from_polygons

    w, coords, notes = weights_from_polygons(shared_data / "cn-boundaries" / "provinces.geojson", id_field="adcode")
    assert w.n == 34 and not w.islands
    assert set(w.neighbors["110000"]) == {"120000", "130000"}
    from test_pattern_fixtures import pku_province

    t = pku_province(shared_data)
    m = moran_by_year(t[[2023]], w, permutations=0, coords=coords)  # restricted to the 31: Hainan re-linked
    assert m["I"].iloc[0] > 0.3


def test_lisa_scatter_columns_slope_is_moran(us):
    table, w = us
    li = lisa_by_year(table[[1950]], w, permutations=0)
    mo = moran_by_year(table[[1950]], w, permutations=0)
    slope = np.polyfit(li["z"], li["lag"], 1)[0]
    assert slope == pytest.approx(mo["I"].iloc[0], rel=1e-10)
