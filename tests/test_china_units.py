"""Reference tables of the China layer: provinces, cities, groupings, agglomerations, data-centre clusters."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import dcindex.china as ch
from dcindex.errors import InputError

# Groupings as specified in issue 3 (the specification, not derived data)
SPEC_REGION4 = {
    "East": "11 12 13 31 32 33 35 37 44 46", "Central": "14 34 36 41 42 43",
    "West": "15 45 50 51 52 53 54 61 62 63 64 65", "Northeast": "21 22 23",
}
SPEC_NORTH = "11 12 13 14 15 21 22 23 37 41 61 62 63 64 65".split()
SPEC_DEMAND = "11 12 13 31 32 33 34 44 50 51".split()
SPEC_SUPPLY = "15 52 62 64".split()


def test_provinces_table_matches_specification():
    p = ch.units("province")
    assert len(p) == 31 and p["code"].is_unique
    assert all(re.fullmatch(r"\d{2}0000", c) for c in p["code"])
    got = {r: sorted(p.loc[p["region4"] == r, "code"].str[:2]) for r in SPEC_REGION4}
    assert got == {r: sorted(v.split()) for r, v in SPEC_REGION4.items()}
    assert sorted(p.loc[p["north_south"] == "North", "code"].str[:2]) == sorted(SPEC_NORTH)
    assert (p["north_south"] == "South").sum() == 16
    assert sorted(p.loc[p["hub"] == "demand", "code"].str[:2]) == sorted(SPEC_DEMAND)
    assert sorted(p.loc[p["hub"] == "supply", "code"].str[:2]) == sorted(SPEC_SUPPLY)
    assert set(p.loc[~p["code"].str[:2].isin(SPEC_DEMAND + SPEC_SUPPLY), "hub"]) == {"none"}
    assert p.set_index("code").loc["150000", ["name_zh", "short_zh", "name_en", "pinyin"]].tolist() == [
        "内蒙古自治区", "内蒙古", "Inner Mongolia", "Neimenggu"]
    assert set(p["region4_zh"]) == {"东部", "中部", "西部", "东北"}
    assert p["hub_node"].replace("", pd.NA).dropna().nunique() == 8


def test_province_names_agree_with_independent_sources(shared_data):
    """Chinese and English names agree with PKU-DFIIC and the NBS export (two independent files)."""
    p = ch.units("province").set_index("code")
    pku = pd.read_csv(shared_data / "pku-dfiic" / "province.csv", dtype=str)
    pku = pku[["prov_name", "prov_name_eng", "prov_code"]].drop_duplicates()
    assert len(pku) == 31
    for r in pku.itertuples():
        code = r.prov_code + "0000"
        assert p.loc[code, "name_zh"] == r.prov_name
        assert p.loc[code, "name_en"] == r.prov_name_eng
    nbs = pd.read_csv(shared_data / "cn-province-gdp-population" / "panel.csv", dtype=str)
    pairs = nbs[["province", "name_en"]].drop_duplicates()
    by_zh = p.reset_index().set_index("name_zh")
    for r in pairs.itertuples():
        assert by_zh.loc[r.province, "name_en"] == r.name_en


def test_area_and_population_are_the_cited_facts(shared_facts):
    p = ch.units("province").set_index("code")
    for fname, col in (("area_km2.csv", "area_km2"), ("population_census2020.csv", "population_2020")):
        facts = pd.read_csv(shared_facts / fname, dtype={"province_code": str})
        assert len(facts) == 31
        for r in facts.itertuples():
            assert p.loc[r.province_code, col] == pytest.approx(float(r.value))
            assert r.source_url in p.loc[r.province_code, f"{col}_source"]


def test_census_population_total_is_the_published_national_figure():
    # 7th census communiqué No. 2: national total 1,411,778,724 persons, of which 2,000,000 active military
    # personnel are not allocated to provinces
    assert ch.units("province")["population_2020"].sum() + 2_000_000 == 1_411_778_724


def test_province_area_agrees_with_polygon_area():
    """Official land areas vs the equal-area projected area of the shipped (generalised) polygons."""
    from dcindex.china.boundaries import areas_km2

    p = ch.units("province").set_index("code")
    b = ch.boundaries("province").set_index("code")
    poly = pd.Series(areas_km2(list(b["geometry"])), index=b.index)
    rel = (poly / p["area_km2"] - 1).abs()
    assert rel.median() < 0.02, rel.sort_values().tail()
    # Two known outliers, documented in docs/china.md: Ningxia's cited 66,400 km² is the long-quoted official
    # figure while its polygons (echarts and leiii/census alike) measure ~51,900 km²; Shanghai's polygon
    # includes estuary shoals beyond its 6,340.5 km² land area. All others are within 6%.
    assert set(rel[rel > 0.06].index) == {"310000", "640000"}, rel.sort_values().tail()


def test_ningxia_polygon_area_agrees_with_independent_polygons(shared_data):
    import json

    from shapely.geometry import shape

    from dcindex.china.boundaries import areas_km2

    gj = json.loads((shared_data / "cn-boundaries" / "cities-2020.geojson").read_text(encoding="utf-8"))
    leiii = areas_km2([shape(f["geometry"]) for f in gj["features"]
                       if str(f["properties"]["province_code"]) == "640000"]).sum()
    ours = areas_km2(list(ch.boundaries("province").set_index("code").loc[["640000"], "geometry"]))[0]
    assert ours == pytest.approx(leiii, rel=0.01)
    assert 51_000 < ours < 53_000


def test_city_table_shape_and_kinds():
    c = ch.units("city")
    assert len(c) == 337 and c["code"].is_unique
    assert c["kind"].value_counts().to_dict() == {"prefecture": 333, "municipality": 4}
    full = ch.units("city", include_county_level=True)
    assert (full["kind"] == "county_pa").sum() == 31
    assert all(re.fullmatch(r"\d{6}", x) for x in full["code"])
    assert (full["code"].str[:2] == full["province_code"].str[:2]).all()
    assert full["name_zh"].is_unique


def test_cities_reconcile_with_census_2020(shared_data):
    """Same units as the 2020 census table (leiii/census); 新星市 (set up 2021) is the only addition."""
    cen = pd.read_csv(shared_data / "cn-city-census-2020" / "census.csv", dtype=str)
    cen = cen[~cen["city_code"].isin(["810000", "820000"])]
    full = ch.units("city", include_county_level=True).set_index("code")
    assert set(full.index) - set(cen["city_code"]) == {"659011"}
    assert set(cen["city_code"]) <= set(full.index)
    for r in cen.itertuples():
        assert full.loc[r.city_code, "name_zh"] == r.city
        assert full.loc[r.city_code, "province_code"] == r.province_code


def test_cities_reconcile_with_pku_codes_2018_and_2014(shared_data):
    """Every PKU-DFIIC city-year matches through its 2018 code, its 2014 code and its name."""
    pku = pd.read_csv(shared_data / "pku-dfiic" / "city.csv", dtype=str)
    # year = the vintage of the codes and names (the columns say: 2018 and 2014 lists; PKU keeps 莱芜 in
    # 2019-2020 because it uses the 2018 list)
    by18 = ch.match_units(pku["pref_code_year18"], "city", year=2018)
    by14 = ch.match_units(pku["pref_code_year14"], "city", year=2014)
    byname = ch.match_units(pku["pref_name_year18"], "city", year=2018)
    assert (by18 == by14).all() and (by18 == byname).all()
    full = ch.units("city").set_index("code")
    cur = by18[by18 != "371200"]
    assert set(cur) == set(full.index)  # all 337 current units occur
    assert (full.loc[cur, "name_zh"].to_numpy() == pku.loc[cur.index, "pref_name_year18"].to_numpy()).all()
    # 莱芜 appears up to 2018 (data for 2019-2020 too: the 2018 code list) and keeps its own code
    assert set(pku.loc[by18 == "371200", "year"].astype(int)) <= set(range(2011, 2021))
    with pytest.raises(InputError, match="莱芜"):
        ch.match_units(pku["pref_name_year18"], "city")  # without year: the dissolved unit is reported


def test_city_english_names_agree_with_pku(shared_data):
    """English/pinyin names vs PKU-DFIIC's English names, an independent transliteration."""
    pku = pd.read_csv(shared_data / "pku-dfiic" / "city.csv", dtype=str)
    pku = pku[["pref_code_year18", "pref_name_year18_eng"]].drop_duplicates()
    pku["code"] = ch.match_units(pku["pref_code_year18"], "city", year=2015).to_numpy()
    c = ch.units("city").set_index("code")
    norm = lambda s: re.sub(r"[^a-z]", "", s.lower())  # noqa: E731
    bad = []
    for r in pku.itertuples():
        if r.code not in c.index:
            continue
        row = c.loc[r.code]
        forms = {norm(x) for x in [row["name_en"], row["pinyin"], *row["aliases"].split(";")] if x}
        if norm(r.pref_name_year18_eng) not in forms:
            bad.append((r.code, r.pref_name_year18_eng, row["name_en"]))
    # Known typos in the PKU file (保定 "baoji", 韶关 "Shangqiu", 茂名 "Maomig", 南宁 "Nnaning") and its
    # "-shi" forms (三明, 三沙); everything else must agree.
    known = {"130600", "440200", "440900", "450100", "350400", "460300"}
    assert {b[0] for b in bad} == known, bad


def test_short_names_agree_with_echarts_names():
    """Short Chinese names vs the names in the echarts city map (an independent naming)."""
    b = ch.boundaries("city")
    c = ch.units("city", include_county_level=True).set_index("code")
    for r in b.itertuples():
        sz = c.loc[r.code, "short_zh"]
        assert r.name in (sz, sz + "盟", sz + "县"), (r.code, r.name, sz)


def test_agglomerations_follow_the_plans():
    ua = ch.agglomerations()
    assert len(ua) == 19 and ua["id"].is_unique
    m = ch.agglomeration_members()
    codes = set(ch.units("city", include_county_level=True)["code"])
    assert set(m["code"]) <= codes
    assert set(m["coverage"]) <= {"full", "partial", "fringe"}
    assert not m.duplicated(["agglomeration", "code"]).any()
    n = m.groupby("agglomeration").size()
    # sizes stated in the plans: 26 cities (YRD 2016), 30 (Central Plains 2016), 31 (Middle Yangtze 2015),
    # 20 (West Coast 2011), 15 (Beibu Gulf 2017), 11 (Harbin-Changchun 2016), 4 (HBOY 2018), 2+11 (BTH)
    for k, v in {"yrd": 26, "cpl": 30, "myr": 31, "wcs": 20, "bbg": 15, "hc": 11, "hbey": 4, "jjj": 13,
                 "prd": 9}.items():
        assert n[k] == v
    c = ch.units("city").set_index("code")
    assert c.loc["130400", "agglomeration"] == "jjj"  # 邯郸: BTH (home province) before Central Plains
    assert c.loc["140800", "agglomeration"] == "cpl"  # 运城: full member of Central Plains, partial of Guanzhong
    assert c.loc["361100", "agglomeration"] == "myr"  # 上饶: Middle Yangtze (Jiangxi) before West Coast
    assert c.loc["610100", "agglomeration_zh"] == "关中平原城市群"


def test_data_centre_clusters():
    dc = ch.dc_clusters()
    assert dc["cluster"].nunique() == 10
    assert set(dc["hub_node"]) == set(ch.hub_nodes()["id"]) and len(ch.hub_nodes()) == 8
    prov = ch.units("province").set_index("code")
    for r in dc.itertuples():  # each cluster city lies in a province of its hub node
        assert prov.loc[r.code[:2] + "0000", "hub_node"] == r.hub_node
    demo = set(dc.loc[dc["cluster"] == "yrd_demo", "code"])
    assert demo == {"310100", "320500", "330400"}  # 青浦 / 吴江 / 嘉善
    c = ch.units("city").set_index("code")
    assert c.loc["520100", "dc_cluster"] == "guian" and c.loc["150100", "dc_hub_node"] == "nmg"


def test_add_groups_does_not_mutate_and_attaches_columns():
    df = pd.DataFrame({"code": ["110000", "460000", "650000"], "x": [1.0, 2.0, 3.0]})
    before = df.copy()
    out = ch.add_groups(df, "province")
    pd.testing.assert_frame_equal(df, before)
    assert out["region4"].astype(str).tolist() == ["East", "East", "West"]
    assert out["north_south"].tolist() == ["North", "South", "North"]
    assert out["hub"].tolist() == ["demand", "none", "none"]
    cities = pd.DataFrame({"code": ["130400", "429004"]})
    oc = ch.add_groups(cities, "city", all_agglomerations=True)
    assert oc["ua_jjj"].tolist() == [True, False] and oc["ua_cpl"].tolist() == [True, False]
    assert oc["ua_myr"].tolist() == [False, True]
    mine = out.assign(my_group=["a", "b", "a"])  # users add their own groupings freely
    assert mine.groupby("my_group")["x"].sum().to_dict() == {"a": 4.0, "b": 2.0}


def test_add_groups_errors_name_all_bad_codes():
    df = pd.DataFrame({"code": ["110000", "北京", "990000"]})
    with pytest.raises(InputError) as e:
        ch.add_groups(df, "province")
    assert "北京" in str(e.value) and "990000" in str(e.value) and "match_units" in str(e.value)
    same = ch.add_groups(pd.DataFrame({"code": ["110100"], "province_code": ["110000"]}), "city")
    assert same["province_code"].tolist() == ["110000"] and same["region4"].astype(str).tolist() == ["East"]
    with pytest.raises(InputError, match="already exist"):
        ch.add_groups(pd.DataFrame({"code": ["110000"], "region4": ["x"]}), "province")
    with pytest.raises(InputError, match="level"):
        ch.units("county")


def test_code_changes_table_is_consistent():
    cc = ch.code_changes()
    cur = set(ch.units("city", include_county_level=True)["code"])
    for r in cc.itertuples():
        for new in r.new_code.split(";"):
            assert new in cur, r
        if r.change in ("recode", "merged", "split"):
            assert r.old_code not in cur or r.old_code == r.new_code, r
    assert set(cc["change"]) == {"rename", "recode", "split", "merged"}


def test_agglomeration_home_provinces_are_the_member_provinces():
    """home_provinces = the provinces of the member cities (full or partial; fringe is not membership)."""
    ua = ch.agglomerations().set_index("id")
    m = ch.agglomeration_members()
    m = m[m["coverage"] != "fringe"]
    prov = ch.units("city", include_county_level=True).set_index("code")["province_code"].str[:2]
    for ua_id, g in m.groupby("agglomeration"):
        assert ua.loc[ua_id, "home_provinces"].split(";") == sorted(set(prov[g["code"]])), ua_id
        # the plan's core province(s) hold members of it
        assert set(ua.loc[ua_id, "core_provinces"].split(";")) <= set(prov[g["code"]]), ua_id
    assert ua.loc["gzp", "home_provinces"] == "14;61;62" and ua.loc["cpl", "home_provinces"] == "13;14;34;37;41"
    # the primary agglomeration follows the core province: cities in two plans stay with their own province's
    c = ch.units("city").set_index("code")["agglomeration"]
    assert c[["130400", "130500", "140800", "360600", "361000", "361100", "371500", "371700"]].tolist() == [
        "jjj", "jjj", "cpl", "myr", "myr", "myr", "sdp", "sdp"]


def test_build_script_derives_the_shipped_home_provinces():
    import importlib.util

    from dcindex.china.units import _read

    path = Path(__file__).resolve().parents[1] / "scripts" / "build_china_units.py"
    spec = importlib.util.spec_from_file_location("build_china_units", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    shipped = _read("agglomerations.csv")
    broken = shipped.assign(home_provinces="")
    derived = mod.home_provinces(broken, _read("city_agglomerations.csv"), _read("cities.csv"))
    pd.testing.assert_frame_equal(derived, shipped)


def test_dissolved_units_table_and_groups():
    """莱芜 (merged into 济南 2019) and 巢湖 (split 2011) on request, with groupings from province/successors."""
    d = ch.units("city", include_dissolved=True).set_index("code")
    assert len(d) == 339 and set(d.index[d["kind"] == "dissolved"]) == {"371200", "341400"}
    assert d.loc["371200", ["name_zh", "name_en", "province_code", "region4", "agglomeration"]].tolist() == [
        "莱芜市", "Laiwu", "370000", "East", "sdp"]
    assert d.loc["341400", ["province_code", "region4", "hub", "agglomeration"]].tolist() == [
        "340000", "Central", "demand", "yrd"]
    assert len(ch.units("city")) == 337  # not by default
    g = ch.add_groups(pd.DataFrame({"code": ["371200", "370100"]}), "city")
    assert g["agglomeration"].tolist() == ["sdp", "sdp"] and g["province_code"].tolist() == ["370000"] * 2
