"""Explain and plan on the real provincial panel (../shared/data/cn-province-digital-panel; skipped when absent).

A small framework from four of its columns, 31 provinces, 2013-2023: infrastructure (broadband ports, mobile
base stations) and industry/innovation (software revenue, patent grants).
"""
from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

import dcindex
from dcindex import explain
from dcindex.framework import framework_from_dict

COLS = ["broadband_ports_10k", "mobile_base_stations_10k", "software_revenue_100m_yuan", "patent_grants"]


def _framework(goalposts: dict | None = None):
    def ind(c):
        d = {"code": c, "direction": 1}
        if goalposts:
            d["goalposts"] = list(goalposts[c])
        return d

    return framework_from_dict({"index": {"code": "DIGI", "children": [
        {"code": "INFRA", "children": [ind(COLS[0]), ind(COLS[1])]},
        {"code": "INDUS", "children": [ind(COLS[2]), ind(COLS[3])]},
    ]}})


@pytest.fixture(scope="module")
def data(shared_data):
    p = shared_data / "cn-province-digital-panel" / "panel.csv"
    if not p.is_file():
        pytest.skip("panel.csv absent")
    raw = pd.read_csv(p, dtype={"id": str})
    raw = raw[(raw["year"] >= 2013) & (raw["year"] <= 2023)]
    df = raw[["id", "year", "province"] + COLS].rename(columns={"id": "unit", "province": "name"})
    prov = pd.read_csv(resources.files("dcindex") / "data" / "china" / "provinces.csv", dtype={"code": str})
    units = prov[["code", "name_zh", "region4", "hub"]].rename(columns={"code": "unit"}).set_index("unit")
    units["name"] = units["name_zh"]
    return df, units


def test_arithmetic_change_sums_and_drift(data):
    df, units = data
    r = dcindex.build(df, _framework(), {"normalise": {"method": "minmax"}}, units=units)
    assert len(r.unit_codes) == 31 and r.years[0] == 2013 and r.years[-1] == 2023
    for u in ("510000", "520000", "440000"):
        att = explain.attribute(r, u, 2013, 2023)
        d = att.indicators
        assert d["contribution"].sum() == pytest.approx(att.change, abs=1e-9)
        both = d["value_effect"].notna()
        np.testing.assert_allclose((d["raw_effect"] + d["goalpost_drift"])[both], d["value_effect"][both], atol=1e-9)
    assert "四川" in explain.attribute(r, "四川省", 2013, 2023).summary()


def test_mpi_shapley_and_rank_change(data):
    df, units = data
    r = dcindex.build(df, _framework(), {"normalise": {"method": "minmax", "low": 1, "high": 100},
                                         "aggregate": {"method": "mazziotta_pareto"}}, units=units)
    j = r.node_index("DIGI")
    allc = explain.change_all(r, 2015, 2023)
    got = allc.groupby("unit", sort=False)["contribution"].sum().to_numpy()
    np.testing.assert_allclose(got, r.scores_array[-1, :, j] - r.scores_array[2, :, j], atol=1e-8)
    rc = explain.rank_change(r, "520000", 2015, 2023)
    for _, p in rc.pairs.iterrows():
        s = rc.drivers.loc[rc.drivers.other == p["other"], "contribution"].sum()
        assert s == pytest.approx(p["gap_change"], abs=1e-8)
    cu = explain.compare_units(r, "110000", "510000", 2023)
    assert cu.indicators["contribution"].sum() == pytest.approx(cu.change, abs=1e-8)


def test_whatif_western_supply_hubs_and_profile(data):
    df, units = data
    r = dcindex.build(df, _framework(), None, units=units)
    w = explain.whatif(r, {"mobile_base_stations_10k": "+20%", "broadband_ports_10k": "+20%"},
                       where={"hub": "supply", "region4": "West"}, by="region4", reference="East")
    sel = units.loc[r.unit_codes]
    assert set(w.selected) == set(sel.index[(sel["hub"] == "supply") & (sel["region4"] == "West")])
    g = w.groups.set_index("group")
    assert g.loc["West", "gap_after"] > g.loc["West", "gap_before"]  # the West closes on the East
    zero = explain.whatif(r, {"patent_grants": "+0%"}, where="hub=supply")
    assert np.array_equal(zero.after.scores_array, r.scores_array, equal_nan=True)
    p = explain.profile(r, "510000", 2023, by="region4")
    assert p.n_units == 31 and len(p.peers) == 5 and p.quadrant_label
    assert explain.profile(r, "四川", 2023).unit == "510000"  # short Chinese name (dcindex.china.match_units)
    with pytest.raises(dcindex.errors.InputError, match="negative"):
        explain.whatif(r, {"patent_grants": "-150%"}, units=["510000"])


def test_profile_quadrants_equal_the_pattern_analysis_for_all_provinces(data):
    """QA: 四川 was 'falling behind' in the pattern analysis and 'leading and accelerating' in its profile."""
    df, units = data
    r = dcindex.build(df, _framework(), None, units=units)
    pat = dcindex.pattern.analyse(r, by="region4", B=9, permutations=9, markov_permutations=9, lisa=False,
                                  spatial_models=())
    want = pat["quadrants"].set_index("unit")["quadrant"]
    assert len(want) == 31
    got = {u: explain.profile(r, u).quadrant_label for u in r.unit_codes}
    assert got == want.to_dict()


def test_linear_target_on_real_goalposts(data):
    df, units = data
    hi = df[COLS].max() * 1.2
    fw = _framework({c: (0.0, float(hi[c])) for c in COLS})
    r = dcindex.build(df, fw, {"normalise": {"method": "goalposts"}}, units=units)
    plan = explain.target(r, "510000", rank=3, year=2023, max_change=150)
    assert plan.linear
    t, n, j = r.years.index(2023), r.unit_codes.index("510000"), r.node_index("DIGI")
    V = r.panel.values.copy()
    for _, row in plan.changes.iterrows():
        V[t, n, fw.indicators.index(row["indicator"])] = row["new"]
    after = r.rebuild(data=r.panel.with_values(V))
    if plan.status == "reached":
        assert after.ranks_array[t, n, j] <= 3
    else:
        assert plan.status == "unreachable" and after.ranks_array[t, n, j] > 3


def test_editions_new_year_and_new_weights(data):
    df, units = data
    old = dcindex.build(df[df["year"] <= 2022], _framework(), None, units=units)
    new = dcindex.build(df, _framework(), {"weights": {"method": "entropy", "scope": "pooled"}}, units=units)
    ec = explain.compare_editions(old, new)
    t = ec.table.dropna(subset=["change"])
    assert len(t) == 31 and ec.start == 2022 and ec.end == 2023
    np.testing.assert_allclose(t["data_revision"].fillna(0) + t["method_change"].fillna(0) + t["real_change"],
                               t["change"], atol=1e-9)
