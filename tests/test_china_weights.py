"""Spatial weights for provinces and cities."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import shape

import dcindex.china as ch
from dcindex.errors import InputError

PROVS = list(ch.units("province")["code"])


def _queen_quiet(codes, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ch.spatial_weights(codes, "queen", **kw)


def test_beijing_and_hand_checked_neighbours():
    w = _queen_quiet(PROVS)
    nb = {k: set(v) for k, v in w.neighbors.items()}
    assert nb["110000"] == {"120000", "130000"}
    assert nb["120000"] == {"110000", "130000"}
    assert nb["310000"] == {"320000", "330000"}
    assert nb["500000"] == {"510000", "520000", "430000", "420000", "610000"}
    assert nb["650000"] == {"540000", "630000", "620000"}
    assert nb["440000"] == {"350000", "360000", "430000", "450000", "460000"}  # 460000 by the island patch
    assert nb["460000"] == {"440000"}


def test_hainan_is_patched_and_reported():
    with pytest.warns(UserWarning, match="460000->440000"):
        w = ch.spatial_weights(PROVS)
    assert w.dcindex_info["islands_patched"] == {"460000": ["440000"]}
    assert not w.islands and w.n == 31 and w.dcindex_info["n_components"] == 1
    kept = _queen_quiet(PROVS, islands="keep")
    assert kept.islands == ["460000"]


def test_province_queen_equals_libpysal_on_shared_decoded_copy(shared_data):
    """Same contiguity as libpysal's Queen on the independently decoded, unsimplified polygons."""
    from libpysal.weights import Queen

    gj = json.loads((shared_data / "cn-boundaries" / "provinces.geojson").read_text(encoding="utf-8"))
    geo = {str(f["properties"]["adcode"]): shapely.make_valid(shape(f["geometry"]), method="structure",
                                                          keep_collapsed=False) for f in gj["features"]}
    ref = Queen.from_iterable([geo[c] for c in PROVS], ids=PROVS, silence_warnings=True)
    ours = _queen_quiet(PROVS, islands="keep")
    assert {k: set(v) for k, v in ours.neighbors.items()} == {k: set(map(str, v)) for k, v in ref.neighbors.items()}
    assert ref.islands == ["460000"]
    # Hainan's nearest province by polygon distance in the reference geometry is Guangdong as well
    from dcindex.china.boundaries import project

    g = project([geo[c] for c in PROVS])
    i = PROVS.index("460000")
    d = {PROVS[j]: shapely.distance(g[i], g[j]) for j in range(31) if j != i}
    assert min(d, key=d.get) == "440000" and sorted(d, key=d.get)[1] == "450000"


def test_ids_keep_given_codes_and_order():
    given_codes = ["5224", 1100, "1200", "130100"]  # old 4-digit code, ints, current codes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = ch.spatial_weights(given_codes, "knn", k=1, level="city")
    assert w.id_order == ["5224", "1100", "1200", "130100"]
    assert w.neighbors["1100"] == ["1200"]


def test_subset_order_and_level_detection():
    sub = ["440000", "110000", "130000", "120000", "460000"]
    w = _queen_quiet(sub)
    assert w.id_order == sub and w.dcindex_info["level"] == "province"
    assert set(w.neighbors["110000"]) == {"120000", "130000"}
    assert w.neighbors["460000"] == ["440000"] and "460000" in w.neighbors["440000"]
    # a unit cut off by the subset is joined to its nearest given unit
    w2 = _queen_quiet(["110000", "120000", "650000"])
    assert w2.dcindex_info["islands_patched"] == {"650000": ["110000"]} or \
        w2.dcindex_info["islands_patched"] == {"650000": ["120000"]}


def _haversine(a, b, r=6371.0088):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    lon1, lat1, lon2, lat2 = map(np.radians, (a[0], a[1], b[0], b[1]))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(h))


def test_knn_matches_brute_force_great_circle():
    w = ch.spatial_weights(PROVS, "knn", k=4)
    xy = w.dcindex_info["centroids"]
    for i in PROVS:
        d = {j: _haversine(xy.loc[i], xy.loc[j]) for j in PROVS if j != i}
        assert set(w.neighbors[i]) == set(sorted(d, key=d.get)[:4])
    assert set(w.neighbors["110000"]) == {"120000", "130000", "140000", "370000"}


def test_inverse_distance_weights_by_hand():
    w = ch.spatial_weights(PROVS, "distance")
    info = w.dcindex_info
    xy = info["centroids"]
    nn = max(min(_haversine(xy.loc[i], xy.loc[j]) for j in PROVS if j != i) for i in PROVS)
    assert info["threshold_km"] == pytest.approx(nn, rel=1e-6) and not w.islands
    for i in ("110000", "460000", "650000"):
        for j, wij in zip(w.neighbors[i], w.weights[i]):
            d = _haversine(xy.loc[i], xy.loc[j])
            assert d <= info["threshold_km"] * (1 + 1e-9)
            assert wij == pytest.approx(1 / d, rel=1e-6)
    with pytest.warns(UserWarning, match="without neighbours"):
        band = ch.spatial_weights(PROVS, "distance", threshold=300, binary=True)
    assert set(band.weights["110000"]) == {1.0}
    assert set(band.neighbors["110000"]) == {j for j in PROVS if j != "110000"
                                             and _haversine(xy.loc["110000"], xy.loc[j]) <= 300}


def test_city_queen_weights():
    cities = list(ch.units("city")["code"])
    with pytest.warns(UserWarning, match="460100->440800"):
        w = ch.spatial_weights(cities)
    assert w.n == 337 and w.id_order == cities and not w.islands
    # Hainan's four prefecture-level units have no contiguous prefecture (the island's counties are
    # province-administered); 三沙 is a point (永兴岛)
    assert set(w.dcindex_info["islands_patched"]) == {"460100", "460200", "460300", "460400"}
    assert w.dcindex_info["n_components"] == 1
    assert set(w.neighbors["110100"]) == {"120100", "130600", "130700", "130800", "131000"}
    # 上海: 苏州, 嘉兴 by land, 南通 (Chongming island's land border), 舟山 (shoals; leiii/census has it too)
    assert set(w.neighbors["310100"]) == {"320500", "330400", "320600", "330900"}
    s = w.sparse
    assert (abs(s - s.T) > 0).nnz == 0  # symmetric


def test_city_weights_with_county_level_units_connect_hainan():
    codes = [c for c in ch.units("city", include_county_level=True)["code"]
             if c not in ("659008", "659009", "659010", "659011")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = ch.spatial_weights(codes)
    assert w.dcindex_info["islands_patched"] == {"460300": ["469006"]}  # 三沙 -> 万宁
    assert w.dcindex_info["components_linked"] == [("460100", "440800")]  # 海口 - 湛江 across the strait
    assert w.n_components == 1


def test_errors():
    with pytest.raises(InputError, match="Unknown weights kind"):
        ch.spatial_weights(PROVS, "rook")
    with pytest.raises(InputError, match="repeated: 110000"):
        ch.spatial_weights(["110000", "110000", "120000"])
    with pytest.raises(InputError, match="same current unit"):
        ch.spatial_weights(["520500", "522400", "110100"], level="city")
    with pytest.raises(InputError) as e:
        ch.spatial_weights(["110100", "659008", "659011"], level="city")
    assert "659008" in str(e.value) and "659011" in str(e.value) and "points=" in str(e.value)
    with pytest.raises(InputError, match="Atlantis"):
        ch.spatial_weights(["110000", "Atlantis"])
    w = ch.spatial_weights(["110100", "659008"], "knn", k=1, level="city", points={"659008": (81.0, 44.0)})
    assert w.neighbors["659008"] == ["110100"]


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(PROVS), min_size=2, max_size=12, unique=True), st.integers(1, 3))
def test_weights_invariants(codes, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = ch.spatial_weights(codes)
        kn = ch.spatial_weights(codes, "knn", k=min(k, len(codes) - 1))
    full = _queen_quiet(PROVS, islands="keep")
    added = {(a, b) for a, bs in q.dcindex_info["islands_patched"].items() for b in bs}
    added |= set(q.dcindex_info.get("components_linked", []))
    added |= {(b, a) for a, b in added}
    for i in codes:  # queen on a subset = the full queen restricted to it, plus the reported patches
        extra = set(q.neighbors[i]) - (set(full.neighbors[i]) & set(codes))
        assert set(full.neighbors[i]) & set(codes) <= set(q.neighbors[i])
        assert {(i, j) for j in extra} <= added
    assert q.id_order == codes and not q.islands and q.n_components == 1
    assert all(len(v) == min(k, len(codes) - 1) for v in kn.neighbors.values())
