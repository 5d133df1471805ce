"""The shipped Digital City Index frameworks and recipes (src/dcindex/data/frameworks)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import dcindex
import dcindex.china as ch
from dcindex.framework import framework_from_dict, read_framework_yaml
from dcindex.importer import framework_path, read_official, recipe_path
from dcindex.recipe import read_recipe

LAYOUT_2522 = {"digital_infrastructure", "data_resources", "digital_economy", "digital_government",
               "digital_culture", "digital_society", "digital_ecology", "technology_innovation",
               "digital_security", "domestic_environment", "international_environment"}
PILLARS = ["INFRA", "INDUSTRY", "INCLUSION", "INNOV"]
# columns of the shared province panel that SOURCE.md flags as traps or second-best
EXCLUDED = {"telecom_revenue_100m_yuan_MIXED", "digital_real_integration_index", "digital_inclusive_finance_index",
            "ipv4_addresses_10k"}


@pytest.fixture(scope="module", params=["province", "city"])
def fw(request):
    return request.param, read_framework_yaml(framework_path(request.param))


def test_four_dimensions_bilingual_and_documented(fw):
    level, f = fw
    assert f.pillars == PILLARS
    assert f.name_zh and f.name_en and f.description
    raw = yaml.safe_load(framework_path(level).read_text(encoding="utf-8"))
    assert {"population", "coverage_gaps_2522", "weights"} <= set(raw["notes"])
    for code in f.indicators + f.aggregates:
        n = f.nodes[code]
        assert n.name_zh and n.name_en, code
    for code in f.indicators:
        n = f.nodes[code]
        assert n.direction in (1, -1) and n.unit and n.source, code
        assert n.tags.get("layout_2522") in LAYOUT_2522, code
        if n.denominator is not None:
            assert n.denominator in f.denominators, code
    used = {f.nodes[c].denominator for c in f.indicators} - {None}
    assert used == set(f.denominators)  # every declared denominator is used, none undeclared


def test_yaml_round_trip_keeps_tags_and_notes(fw):
    _, f = fw
    g = framework_from_dict(yaml.safe_load(f.to_yaml()))
    assert g.indicators == f.indicators
    assert all(g.nodes[c].tags == f.nodes[c].tags and g.nodes[c].note == f.nodes[c].note for c in f.nodes)


def test_recipes_keep_years_comparable():
    for level in ("province", "city"):
        r = read_recipe(recipe_path(level))
        assert r.normalise.spec.method == "goalposts" and r.normalise.spec.source == "pooled"
        assert r.treat.spec.scope == "pooled"
        assert not r.normalise.by_node and not r.normalise.by_level  # one ruler for every indicator


def test_province_indicators_name_existing_shared_columns(shared_data):
    f = read_framework_yaml(framework_path("province"))
    cols = []
    for c in f.indicators:
        file, col = f.nodes[c].tags["shared"].split("#")
        header = pd.read_csv(shared_data / file, nrows=0).columns
        assert col in header, (c, file, col)
        cols.append(col)
    assert not EXCLUDED & set(cols)
    assert len(set(cols)) == len(cols)  # no column used twice


def test_city_indicator_sources(shared_data):
    f = read_framework_yaml(framework_path("city"))
    header = pd.read_csv(shared_data / "pku-dfiic" / "city.csv", nrows=0).columns
    kinds = {}
    for c in f.indicators:
        d = f.nodes[c].tags["data"]
        if d == "ccsy":
            kinds.setdefault("ccsy", []).append(c)
            assert "CCSY" in f.nodes[c].source
        else:
            file, col = d.split("#")
            assert file == "pku-dfiic/city.csv" and col in header
            kinds.setdefault("pku", []).append(c)
    assert len(kinds["pku"]) == 3 and len(kinds["ccsy"]) == 8


def test_city_framework_inclusion_dimension_builds_on_the_shared_pku_file(shared_data):
    """The PKU part of the city framework, on the real city file: a panel on current units with pooled
    goalposts (each indicator spans exactly 0..100 over all city-years, not in each year)."""
    f = read_framework_yaml(framework_path("city"))
    pku = {f.nodes[c].tags["data"].split("#")[1]: c for c in f.indicators if f.nodes[c].tags["data"] != "ccsy"}
    r = read_official(shared_data / "pku-dfiic" / "city.csv", level="city", indicator=pku)
    data = r.data[r.data["unit"] != "371200"]  # 莱芜: merged into 济南 in 2019, reported by PKU until 2020
    sub = f.without([c for c in f.indicators if c not in pku.values()])
    units = ch.units("city")
    units = units[units["code"].isin(set(data["unit"]))].assign(region4=lambda u: u["region4"].astype(str))
    res = dcindex.build(data, sub, recipe_path("city"), units=units)
    assert res.years == list(range(2011, 2024))
    norm = res.datasets["normalised"]
    for k in range(norm.shape[-1]):
        x = norm[..., k]
        assert np.nanmin(x) == pytest.approx(0) and np.nanmax(x) == pytest.approx(100)
        per_year_max = np.nanmax(x, axis=1)
        assert per_year_max[0] < 100  # 2011 is not stretched to 100: years stay comparable
    idx = res.wide()
    assert (idx.notna().sum() >= 333).all()
    assert idx[2023].mean() > idx[2011].mean()  # digital finance grew


def test_bundled_example_units_are_the_china_table_and_indicators_say_what_they_measure():
    from dcindex.run import example_paths

    p = example_paths()
    u = pd.read_csv(p["units"], dtype=str, keep_default_na=False).set_index("code")
    ref = ch.units("province").astype({"region4": str}).set_index("code")
    assert sorted(u.index) == sorted(ref.index)
    for c in ["name_zh", "name_en", "region4", "north_south", "hub", "hub_node"]:
        assert (u[c] == ref.loc[u.index, c]).all(), c
    assert np.allclose(u["population_10k"].astype(float), ref.loc[u.index, "population_2020"] / 1e4)
    f = read_framework_yaml(p["framework"])
    for c in f.indicators:
        assert f.nodes[c].note and f.nodes[c].tags.get("layout_2522") in LAYOUT_2522, c
    d = pd.read_csv(p["data"], dtype={"unit": str})
    assert (d.groupby("indicator")["unit"].nunique() == 31).all()
    assert d["source"].str.contains("http").all()  # every value carries its citation


def test_ipv4_exclusion_and_registrant_address_facts(shared_data):
    """The figures the province YAML gives for excluding IPv4 and keeping domain names/websites are right."""
    raw = yaml.safe_load(framework_path("province").read_text(encoding="utf-8"))["notes"]
    assert "registrant_address" in raw and "decisive" in raw["excluded_columns"]
    p = pd.read_csv(shared_data / "cn-province-digital-panel" / "panel.csv", dtype={"id": str})
    ip = p.pivot(index="year", columns="id", values="ipv4_addresses_10k")
    assert ip.loc[[2015, 2016]].isna().all().all()  # missing for every province
    assert ip.loc[2013].isna().sum() == 1 and np.isnan(ip.loc[2013, "110000"])  # Beijing missing in 2013
    others = ip.drop(columns="110000").sum(axis=1) / 100  # million
    assert round(others[2013]) == 182 and round(others[2014]) == 216
    late = ip.loc[2017:2023]
    assert (late.sum(axis=1) / 100).between(308, 313).all()
    assert (late["110000"] / late.sum(axis=1)).round(3).eq(0.280).all()  # frozen at 28.0 %
    pop = ch.units("province").set_index("code")["population_2020"]
    assert abs(pop["110000"] / pop.sum() * 100 - 1.5) < 0.1  # "about 1.5 % of the population"
    for col, lo, hi in (("domain_names_10k", 0.09, 0.22), ("websites_10k", 0.10, 0.155)):
        s = p.pivot(index="year", columns="id", values=col)
        assert s.notna().all().all() and s.shape == (11, 31)  # complete
        share = s["110000"] / s.sum(axis=1)
        assert share.min() >= lo and share.max() <= hi, (col, share.min(), share.max())
        assert s.sum(axis=1).nunique() == 11  # varies over time
