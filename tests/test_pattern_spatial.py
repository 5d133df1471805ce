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


def test_permutation_results_do_not_depend_on_row_order(us):
    """Same seed, rows in another order: identical permutation p-values (units sorted by id before drawing)."""
    table, w = us
    sub = table[[1929, 1970]]
    shuffled = sub.sample(frac=1, random_state=11)
    a = moran_by_year(sub, w, permutations=99, seed=5)
    b = moran_by_year(shuffled, w, permutations=99, seed=5)
    pd.testing.assert_frame_equal(a, b)
    la = lisa_by_year(sub, w, permutations=99, seed=5)
    lb = lisa_by_year(shuffled, w, permutations=99, seed=5)
    pd.testing.assert_frame_equal(la, lb)


def test_edge_list_ids_checked_and_normalised():
    w, ids = _lattice(4, 4)
    codes = {u: str(110000 + 100 * i) for i, u in enumerate(ids)}
    edges = pd.DataFrame([(codes[i], codes[j]) for i in ids for j in w.neighbors[i]], columns=["focal", "neighbor"])
    units = list(codes.values())
    dec = edges.apply(lambda c: c + ".0")
    wa, notes = align_weights(dec, units)
    ref, _ = align_weights(edges, units)
    assert wa.neighbors == ref.neighbors and any("read as integer" in n for n in notes)
    # a libpysal W with float ids is matched the same way
    from libpysal.weights import W

    wf = W({float(k): [float(j) for j in v] for k, v in ref.neighbors.items()}, silence_warnings=True)
    assert align_weights(wf, units)[0].neighbors == ref.neighbors
    # ids that are not these units: an error naming the file and showing unmatched ids
    other = edges.apply(lambda c: "c" + c)
    other.attrs["source"] = "edges_bad.csv"
    with pytest.raises(InputError, match="edges_bad.csv") as e:
        align_weights(other, units)
    assert "c110000" in str(e.value) and "0 of the 16 units" in str(e.value)
    # non-integer codes are not rewritten: '1.0' stays '1.0'
    assert align_weights(edges, units)[1] == []


def test_city_moran_equals_esda(shared_data):
    """Moran's I of the PKU-DFIIC city index 2020 with queen weights of the 2020 prefecture-level boundaries
    (dcindex.china.spatial_weights, level='city'), against esda on the same W."""
    import warnings

    import esda

    from dcindex.china import match_units, spatial_weights

    if not (shared_data / "cn-boundaries" / "cities-2020.geojson").is_file():
        pytest.skip("cities-2020.geojson is absent")
    d = pd.read_csv(shared_data / "pku-dfiic" / "city.csv")
    d = d[(d["year"] == 2020) & (d["pref_code_year18"] != 3712)]  # 莱芜 merged into 济南 in 2019
    d = d.dropna(subset=["index_aggregate"])
    codes = match_units(d["pref_code_year18"].astype(int).astype(str), level="city", year=2018)
    y = pd.Series(d["index_aggregate"].to_numpy(float), index=codes.to_numpy(), name=2020)
    assert len(y) > 300 and not y.index.duplicated().any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Hainan's prefectures joined to the mainland
        w = spatial_weights(list(y.index), kind="queen", level="city")
    before = (copy.deepcopy(w.neighbors), w.transform)
    out = moran_by_year(y.to_frame(), w, permutations=199, seed=3)
    assert (w.neighbors, w.transform) == before  # the caller's W is never modified
    m = esda.Moran(y.to_numpy(), copy.deepcopy(w), transformation="r", permutations=0)
    r = out.iloc[0]
    assert r["n"] == len(y)
    assert r["I"] == pytest.approx(m.I, rel=1e-12) and r["EI"] == pytest.approx(m.EI, rel=1e-12)
    assert r["z_norm"] == pytest.approx(m.z_norm, rel=1e-10) and r["p_norm"] == pytest.approx(m.p_norm, rel=1e-8)
    assert r["I"] > 0.5 and r["p_sim"] == pytest.approx(1 / 200)  # strongly clustered: no permuted I as large
    # the permutation null equals esda's given the same permutations (esda on the W in the same unit order)
    from libpysal.weights import W

    yy = y.sort_index()
    wo = W({u: list(w.neighbors[u]) for u in yy.index}, {u: list(w.weights[u]) for u in yy.index},
           id_order=list(yy.index), silence_warnings=True)
    rs = np.random.RandomState(7)
    perms = np.stack([rs.permutation(len(yy)) for _ in range(49)])
    np.random.seed(7)
    me = esda.Moran(yy.to_numpy(), wo, transformation="r", permutations=49)
    wa, _ = align_weights(w, list(yy.index))
    sim = moran_sim(yy.to_numpy() - yy.mean(), _row_standardised(wa), perms)
    np.testing.assert_allclose(sim, me.sim, rtol=1e-10)
    assert me.I == pytest.approx(r["I"], rel=1e-12)
