"""Scenario validation: bad input raises InputError naming table, row and column, with a hint; inputs are never
modified; the shipped example scenario loads without ../shared."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dcindex.errors import DcindexError, InputError
from dcindex.plan import example_path, load_scenario


@pytest.fixture()
def scen(tmp_path) -> Path:
    src = example_path().parent
    dst = tmp_path / "scen"
    shutil.copytree(src, dst)
    return dst / "scenario.yaml"


def _edit(path: Path, fn):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = fn(df)
    df.to_csv(path, index=False)


def _err(path, *needles):
    with pytest.raises(InputError) as ei:
        load_scenario(path)
    msg = str(ei.value)
    for n in needles:
        assert n in msg, msg
    assert "How to fix" in msg
    return msg


def test_example_loads_and_marks_illustrative_tables():
    sc = load_scenario(example_path())
    assert len(sc.origins) == 31 and len(sc.sites) == 15 and sc.classes == ["realtime", "nearline", "batch"]
    st = sc.spec.tables
    assert st.emission_factors.status == "official"
    for name in ("demand", "sites", "latency", "green_supply", "bandwidth"):
        assert getattr(st, name).status == "illustrative"
        assert getattr(st, name).source and getattr(st, name).vintage
    # every illustrative table says so in its rows too
    for f in ("demand.csv", "sites.csv", "latency.csv", "green_supply.csv", "bandwidth.csv"):
        df = pd.read_csv(example_path().parent / f)
        assert df["status"].str.contains("illustrative").all(), f
    ef = pd.read_csv(example_path().parent / "grid_emission_factor.csv")
    assert {"source_url", "source_note"} <= set(ef.columns)
    assert set(sc.tables["sites"]["name_zh"]) >= {"张家口集群", "中卫集群", "庆阳集群", "贵安集群", "和林格尔集群"}


def test_unknown_site_in_latency(scen):
    _edit(scen.parent / "latency.csv", lambda d: d.assign(site_id=d["site_id"].replace({"ZJK": "ZJKX"})))
    _err(scen, "latency", "row 1", "column 'site_id'", "ZJKX")


def test_unknown_origin_in_demand(scen):
    def f(d):
        d.loc[4, "origin_id"] = "990000"
        return d
    _edit(scen.parent / "demand.csv", f)
    _err(scen, "table 'demand'", "row 5 (line 6)", "column 'origin_id'", "990000")


def test_negative_demand(scen):
    def f(d):
        d.loc[2, "racks"] = "-5"
        return d
    _edit(scen.parent / "demand.csv", f)
    _err(scen, "demand", "row 3", "racks", "negative")


def test_pue_below_one(scen):
    def f(d):
        d.loc[0, "pue_design"] = "0.95"
        return d
    _edit(scen.parent / "sites.csv", f)
    _err(scen, "sites", "row 1", "pue_design", "PUE")


def test_latency_missing_pairs(scen):
    _edit(scen.parent / "latency.csv", lambda d: d.iloc[:-3])
    _err(scen, "latency", "3 origin-site pair(s) missing")


def test_units_mixed_up(scen):
    def ef_g(d):
        d.loc[0, "value"] = "568.8"
        return d
    _edit(scen.parent / "grid_emission_factor.csv", ef_g)
    _err(scen, "emission_factors", "row 1", "column 'value'", "units mixed up")


def test_units_mixed_up_unit_column(scen):
    _edit(scen.parent / "grid_emission_factor.csv", lambda d: d.assign(unit="gCO2/kWh"))
    _err(scen, "emission_factors", "column 'unit'", "units mixed up")


def test_price_in_yuan_per_mwh_is_caught(scen):
    def f(d):
        d.loc[3, "grid_price_yuan_per_kwh"] = "650"
        return d
    _edit(scen.parent / "sites.csv", f)
    _err(scen, "sites", "row 4", "grid_price_yuan_per_kwh", "yuan/MWh")


def test_emission_factor_in_t_per_kwh_labelled_kg_is_caught(scen):
    # 0.0005688 tCO2/kWh written in a kgCO2/kWh column (QA: accepted before, emissions 1000 x too small)
    _edit(scen.parent / "grid_emission_factor.csv",
          lambda d: d.assign(value=(d["value"].astype(float) / 1000).map(lambda v: f"{v:.7f}")))
    _err(scen, "emission_factors", "row 1 (line 2)", "column 'value'", "tCO2/kWh labelled kgCO2/kWh", "0.0005688")


def test_capex_in_wan_yuan_is_caught(scen):
    def f(d):
        d.loc[2, "capex_yuan_per_rack"] = "12"  # 12 万元 per rack written as 12 yuan
        return d
    _edit(scen.parent / "sites.csv", f)
    msg = _err(scen, "sites", "row 3 (line 4)", "capex_yuan_per_rack", "万元", "4.8 yuan per kW")
    assert "validation: {plausibility: false}" in msg
    # deliberately tiny numbers pass when the scenario says so
    sc = load_scenario(scen, {"validation.plausibility": False})
    assert float(sc.tables["sites"]["capex_yuan_per_rack"].iloc[2]) == 12


def test_missing_bandwidth_year_is_an_error_not_an_unlimited_corridor(scen):
    _edit(scen.parent / "bandwidth.csv", lambda d: d[~((d["from_region"] == "central") & (d["year"] == "2027"))])
    _err(scen, "bandwidth", "column 'limit_gbps'", "central -> west", "year 2027", "no limit")


def test_latency_in_microseconds_is_caught(scen):
    def f(d):
        d.loc[0, "latency_ms"] = "2210"
        return d
    _edit(scen.parent / "latency.csv", f)
    _err(scen, "latency", "row 1", "latency_ms", "units mixed up")


def test_non_numeric_cell(scen):
    def f(d):
        d.loc[1, "existing_racks"] = "lots"
        return d
    _edit(scen.parent / "sites.csv", f)
    _err(scen, "sites", "row 2", "existing_racks", "'lots'")


def test_unknown_yaml_key_is_an_error(scen):
    raw = yaml.safe_load(scen.read_text(encoding="utf-8"))
    raw["rules"]["utilisation_floor"]["min_shar"] = 0.5
    scen.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _err(scen, "rules.utilisation_floor.min_shar", "unknown key")


def test_table_without_provenance_is_an_error(scen):
    raw = yaml.safe_load(scen.read_text(encoding="utf-8"))
    del raw["tables"]["demand"]["vintage"]
    scen.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _err(scen, "tables.demand.vintage")


def test_years_must_be_consecutive(scen):
    with pytest.raises(InputError, match="consecutive"):
        load_scenario(scen, {"years": [2025, 2027]})


def test_missing_green_supply_rows(scen):
    _edit(scen.parent / "green_supply.csv", lambda d: d[d["site_id"] != "ZJK"])
    _err(scen, "green_supply", "site-year(s) missing", "ZJK")


def test_province_code_format(scen):
    def f(d):
        d.loc[0, "province_code"] = "13"
        return d
    _edit(scen.parent / "sites.csv", f)
    _err(scen, "sites", "row 1", "province_code", "6-digit")


def test_inputs_are_never_modified(scen, tmp_path):
    from dcindex.plan import plan

    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in scen.parent.iterdir()}
    plan(scen, out=tmp_path / "out", rule_costs=False, sweep=None,
         overrides={"solver.relax_integers": True, "frontier": None})
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in scen.parent.iterdir()}
    assert before == after


def test_gb18030_table_is_read(scen):
    p = scen.parent / "sites.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    p.write_bytes(df.to_csv(index=False).encode("gb18030"))
    sc = load_scenario(scen)
    assert "张家口集群" in set(sc.tables["sites"]["name_zh"])


def test_errors_are_dcindex_errors(scen):
    assert issubclass(InputError, DcindexError)


def test_cli_bad_set_value_and_missing_compare_exit_2_without_traceback(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "dcindex", "plan", str(example_path()), "--out", str(tmp_path / "o"),
                        "--set", "rules.hub_share.min_share=["], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "--set rules.hub_share.min_share" in r.stderr and "How to fix" in r.stderr
    assert "Traceback" not in r.stderr and "yaml.parser" not in r.stderr and "ParserError" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "dcindex", "plan", str(example_path()), "--out", str(tmp_path / "o"),
                        "--compare", str(tmp_path / "nonexistent")], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "--compare" in r.stderr and "does not exist" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()  # nothing solved or written


def test_cli_infeasible_scenario_writes_diagnosis_and_exits_2(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "dcindex", "plan", str(example_path()), "--out", str(tmp_path / "o"),
                        "--set", "rules.pue_cap.west=1.05", "--set", "solver.relax_integers=true", "--set",
                        "frontier=null", "--no-rule-costs"], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "pue_cap" in r.stderr and "utilisation_floor" in r.stderr and "How to fix" in r.stderr
    d = pd.read_csv(tmp_path / "o" / "diagnosis.csv")
    assert set(d.loc[d["method"] == "deletion_filter", "rule"]) == {"pue_cap", "utilisation_floor"}
    assert "Traceback" not in r.stderr
