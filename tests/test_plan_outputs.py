"""Planner outputs: the shipped example end to end, reproducibility, tidy tables, feed-back indicators,
--compare, the CLI (exit 0 / 2), infeasibility explained by rules, and an independent PuLP/CBC cross-check of
the vectorised model."""
from __future__ import annotations

import filecmp
import json

import numpy as np
import pandas as pd
import pytest

from dcindex.plan import PlanInfeasibleError, PlanResult, example_path, load_scenario, plan, toy_scenario

FAST = {"frontier": None}


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("ex") / "a"
    res = plan(example_path(), out=out, rule_costs=False, overrides=FAST)
    return res, out


def test_example_solves_as_mip_and_writes_all_tables(example):
    res, out = example
    assert res.status == "optimal" and res.meta["mip"]
    assert "integer decisions fixed" in res.meta["dual_basis"]
    for name in ("flows", "demand", "buildout", "utilisation", "energy", "emissions", "costs", "shadow_prices",
                 "rules", "indicators"):
        assert (out / f"{name}.csv").is_file(), name
    assert res.demand["unmet_racks"].sum() == pytest.approx(0, abs=1e-6)
    served = res.flows.groupby(["origin_id", "class", "year"])["racks"].sum()
    dem = res.demand.set_index(["origin_id", "class", "year"])["demand_racks"]
    assert np.allclose(served.reindex(dem.index, fill_value=0).to_numpy(), dem.to_numpy(), atol=1e-4)
    assert res.costs["yuan_pv"].sum() == pytest.approx(res.objective_pv, rel=1e-7)
    # emissions two ways: net of green never exceeds location-based
    e = res.emissions
    assert (e["emissions_net_t"] <= e["emissions_location_t"] + 1e-6).all()
    # latency respected: realtime flows within 5 ms
    rt = res.flows[res.flows["class"] == "realtime"]
    assert (rt["latency_ms"] <= 5 + 1e-9).all()
    # hub rules hold in the plan
    b = res.buildout
    assert b.loc[b["hub"], "new_racks"].sum() >= 0.6 * b["new_racks"].sum() - 1e-6
    u = res.utilisation
    hub = u[u["hub"] & (u["installed_racks"] > 0)]
    assert (hub["used_racks"] >= 0.65 * hub["installed_racks"] - 1e-6).all()
    en = res.energy.merge(res.buildout[["site_id", "year", "hub", "region"]], on=["site_id", "year"])
    hub_en = en[en["hub"] & (en["it_mwh"] > 0)]
    cap = np.where(hub_en["region"] == "west", 1.2, 1.25)
    assert (hub_en["pue_effective"].to_numpy() <= cap + 1e-9).all()
    summ = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summ["input_sha256"]["scenario"] and "illustrative_tables" in summ
    assert "东数西算" in summ["scenario_name_zh"]
    # provenance: origins are derived from official statistics (census population), not illustrative
    assert "origins" not in summ["illustrative_tables"] and summ["derived_tables"] == ["origins"]
    assert {"demand", "sites", "latency", "green_supply", "bandwidth"} <= set(summ["illustrative_tables"])
    # the green-share rule holds under its own accounting, site-year by site-year
    gs = res.green_share
    hub_new = gs[gs["rule_applies"] & (gs["new_capacity_electricity_mwh"] > 1e-6)]
    assert len(hub_new) and hub_new["compliant"].astype(bool).all()
    assert (hub_new["green_share_new_capacity"] >= 0.8 - 1e-6).all()
    assert (out / "green_share.csv").is_file()
    # the example exercises an opening decision (Kunming, 30 亿元; not worth it here)
    b = res.buildout
    assert res.meta["n_integer"] > int(res.model.data.integer_build.sum()) * 6
    assert not b.loc[b["site_id"] == "KUNMING", "opened"].any()


def test_sites_and_origins_are_written_with_coordinates_for_the_report(example):
    res, out = example
    sites = pd.read_csv(out / "sites.csv", dtype={"province_code": str})
    origins = pd.read_csv(out / "origins.csv", dtype={"origin_id": str, "province_code": str})
    assert {"site_id", "name", "name_zh", "province_code", "region", "hub", "lat", "lon"} <= set(sites.columns)
    assert {"origin_id", "name_zh", "province_code", "region", "lat", "lon"} <= set(origins.columns)
    assert len(sites) == 15 and len(origins) == 31
    zjk = sites.set_index("site_id").loc["ZJK"]
    assert (zjk["lat"], zjk["lon"], zjk["name_zh"]) == (40.77, 114.88, "张家口集群")
    assert origins.set_index("origin_id").loc["110000", "name_zh"] == "北京"
    # the report's planner view takes the coordinates from the plan folder
    from dcindex.report.plan_view import plan_payload

    p = plan_payload(out)
    assert p["coords_source"] == {"sites": "plan folder", "origins": "plan folder"}
    assert {s["id"]: s["xy"] for s in p["sites"]}["ZJK"] == [114.88, 40.77]
    assert {s["id"]: s["name_zh"] for s in p["sites"]}["ZJK"] == "张家口集群"
    # a toy scenario without coordinates writes no lat/lon, so the report falls back to province centroids
    toy = plan(toy_scenario([{"site_id": "A", "province_code": "110000"}], {("110000", "batch", 2025): 5.0}))
    assert "lat" not in toy.sites.columns and "lat" not in toy.origins.columns


def test_outputs_are_byte_identical(example, tmp_path):
    res, out = example
    plan(example_path(), out=tmp_path / "b", rule_costs=False, overrides=FAST)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(out, tmp_path / "b", names, shallow=False)
    assert not mismatch and not errors


def test_indicators_are_tidy_and_usable_by_the_index(example):
    res, _ = example
    ind = res.indicators
    assert list(ind.columns) == ["unit", "year", "indicator", "value"]
    assert set(ind["indicator"]) == {"plan_hub_utilisation_pct", "plan_green_power_share_pct",
                                     "plan_demand_served_west_hub_pct"}
    assert ind["unit"].str.fullmatch(r"\d{6}").all()
    assert ind["value"].between(0, 100 + 1e-9).all()
    assert not ind.duplicated(["unit", "year", "indicator"]).any()
    west = ind[ind["indicator"] == "plan_demand_served_west_hub_pct"]
    assert len(west) == 31 * 6


def test_indicators_match_a_hand_computation():
    # Beijing (110000): hub H1 (0.6 yuan/kWh) and non-hub N1 (0.4), 100 existing racks each; Inner Mongolia
    # (150000): hub W (region west, 0.3, 100 MWh of green power at 0.1) and a NON-hub site U (0.2), 50 racks each.
    # Demand: origin 110000 120 racks (any site), origin 310000 60 racks (only W is near: 1e6 yuan network cost
    # elsewhere). Cheapest plan: U 50, W 50 (all from 310000), N1 80, H1 0.
    sites = [{"site_id": "H1", "province_code": "110000", "hub": True, "existing_racks": 100, "max_new_racks": 0,
              "grid_price_yuan_per_kwh": 0.6},
             {"site_id": "N1", "province_code": "110000", "hub": False, "existing_racks": 100, "max_new_racks": 0,
              "grid_price_yuan_per_kwh": 0.4},
             {"site_id": "W", "province_code": "150000", "region": "west", "hub": True, "existing_racks": 50,
              "max_new_racks": 0, "grid_price_yuan_per_kwh": 0.3, "green_price_yuan_per_kwh": 0.1},
             {"site_id": "U", "province_code": "150000", "region": "west", "hub": False, "existing_racks": 50,
              "max_new_racks": 0, "grid_price_yuan_per_kwh": 0.2}]
    origins = [{"origin_id": "110000", "region": "east", "province_code": "110000"},
               {"origin_id": "310000", "region": "east", "province_code": "310000"}]
    demand = {("110000", "batch", 2025): 120.0, ("310000", "batch", 2025): 60.0}
    netcost = {("110000", s): 0.0 for s in ("H1", "N1", "W", "U")}
    netcost.update({("310000", "U"): 1e6, ("310000", "W"): 0.0, ("310000", "N1"): 1e6, ("310000", "H1"): 1e6})
    sc = toy_scenario(sites, demand, origins=origins, netcost=netcost, green={("W", 2025): 0.1},
                      rules={"site_limits": {"enabled": True}})
    res = plan(sc)
    used = res.utilisation.set_index("site_id")["used_racks"]
    assert used.to_dict() == pytest.approx({"H1": 0, "N1": 80, "W": 50, "U": 50}, abs=1e-9)
    fl = res.flows.groupby(["origin_id", "site_id"])["racks"].sum()
    assert float(fl[("310000", "W")]) == pytest.approx(50)
    ind = res.indicators.set_index(["indicator", "unit"])["value"]
    # hub utilisation: used / installed racks at hub sites in the province (H1 idle; W full)
    assert ind["plan_hub_utilisation_pct", "110000"] == pytest.approx(0)
    assert ind["plan_hub_utilisation_pct", "150000"] == pytest.approx(100)
    # green share: green / all electricity of the province's sites (W and U: 100 racks x 8.76 MWh x PUE 1.2)
    assert ind["plan_green_power_share_pct", "150000"] == pytest.approx(100 * 100 / (100 * 8.76 * 1.2))
    assert ind["plan_green_power_share_pct", "110000"] == pytest.approx(0)
    # demand served at western HUB sites only (W), never at the non-hub U in the same province (selecting by
    # province counted Beijing's racks at U)
    assert ind["plan_demand_served_west_hub_pct", "110000"] == pytest.approx(0)
    assert ind["plan_demand_served_west_hub_pct", "310000"] == pytest.approx(100 * 50 / 60)


def test_indicator_west_hub_is_selected_by_the_hub_flag_not_the_province():
    # all demand goes to a NON-hub site in Inner Mongolia (a western hub province): 0 % served at western hubs
    sc = toy_scenario([{"site_id": "U", "province_code": "150000", "region": "west", "hub": False}],
                      {("110000", "batch", 2025): 10.0})
    ind = plan(sc).indicators.set_index(["indicator", "unit"])["value"]
    assert ind["plan_demand_served_west_hub_pct", "110000"] == 0


def test_to_dir_from_dir_roundtrip_and_compare(example, tmp_path):
    res, out = example
    back = PlanResult.from_dir(out)
    assert back.objective_pv == pytest.approx(res.objective_pv)
    assert back.totals() == pytest.approx(res.totals())
    alt = plan(example_path(), rule_costs=False, compare=out,
               overrides={**FAST, "rules.hub_share.enabled": False})
    cmp = alt.compare
    assert list(cmp.columns) == ["metric", "key", "unit", "scenario", "baseline", "difference"]
    tot = cmp[(cmp["metric"] == "cost_pv_yuan") & (cmp["key"] == "total")].iloc[0]
    assert tot["difference"] <= 1e-4 * abs(tot["baseline"])  # dropping a rule cannot cost more (within MIP gap)
    assert tot["baseline"] == pytest.approx(res.objective_pv)


def test_frontier_by_carbon_price_and_by_cap():
    sc = toy_scenario([{"site_id": "BJ", "province_code": "110000", "grid_price_yuan_per_kwh": 0.4},
                       {"site_id": "NM", "province_code": "150000", "grid_price_yuan_per_kwh": 0.35,
                        "green_price_yuan_per_kwh": 0.45},
                       {"site_id": "SC", "province_code": "510000", "grid_price_yuan_per_kwh": 0.5}],
                      {("110000", "batch", 2025): 100.0}, green={("NM", 2025): 0.4})
    res = plan(sc, sweep={"parameter": "carbon_price", "values": [0, 50, 150, 400, 1000]})
    fr = res.frontier
    assert fr["status"].eq("optimal").all()
    # higher carbon price: emissions never rise, cost excluding carbon never falls
    assert (np.diff(fr["emissions_net_t"]) <= 1e-6).all()
    assert (np.diff(fr["cost_excl_carbon_pv_yuan"]) >= -1e-6).all()
    assert fr["efficient"].all()
    caps = [float(fr["emissions_net_t"].iloc[0]) * f for f in (1.0, 0.7, 0.4)]
    fc = plan(sc, sweep={"parameter": "emission_cap", "values": caps}).frontier
    assert (fc["emissions_net_t"] <= np.array(caps) + 1e-6).all()
    assert (np.diff(fc["cap_shadow_price_pv_yuan_per_t"]) >= -1e-6).all()
    assert (np.diff(fc["implied_carbon_price_yuan_per_t"]) >= -1e-6).all()


# ------------------------------------------------------------------------------------------ infeasibility
def test_infeasible_utilisation_floor_is_explained():
    sc = toy_scenario([{"site_id": "A", "province_code": "110000", "existing_racks": 100, "max_new_racks": 0}],
                      {("110000", "batch", 2025): 10.0}, rules={"utilisation_floor": {"enabled": True}})
    with pytest.raises(PlanInfeasibleError) as ei:
        plan(sc)
    msg = str(ei.value)
    assert "utilisation_floor" in msg and "55" in msg and "site A" in msg
    d = ei.value.diagnosis
    assert set(d.loc[d["method"] == "deletion_filter", "rule"]) == {"utilisation_floor"}
    el = d[d["method"] == "elastic"]
    assert float(el["violation"].sum()) == pytest.approx(55.0)  # 65 % of 100 racks minus 10 used
    assert "highs_iis" in set(d["method"])


def test_infeasible_hub_share_with_site_limits_names_all_three_rules(tmp_path):
    sc = toy_scenario([{"site_id": "H", "province_code": "130000", "hub": True, "max_new_racks": 10},
                       {"site_id": "N", "province_code": "630000", "hub": False}],
                      {("110000", "batch", 2025): 100.0},
                      rules={"hub_share": {"enabled": True}, "site_limits": {"enabled": True}})
    res = plan(sc, raise_on_infeasible=False, out=tmp_path / "inf")
    assert res.status == "infeasible"
    rules = set(res.diagnosis.loc[res.diagnosis["method"] == "deletion_filter", "rule"])
    assert rules == {"demand", "hub_share", "site_limits"}
    assert (tmp_path / "inf" / "diagnosis.csv").is_file()
    assert "hub_share" in res.summary()


def test_infeasible_modules_and_floor_mip():
    # modules of 100 racks, demand 30, floor 65 %: no build fits, demand cannot be met
    sc = toy_scenario([{"site_id": "A", "province_code": "110000", "module_racks": 100}],
                      {("110000", "batch", 2025): 30.0}, rules={"utilisation_floor": {"enabled": True}})
    with pytest.raises(PlanInfeasibleError) as ei:
        plan(sc)
    rules = set(ei.value.diagnosis.loc[ei.value.diagnosis["method"] == "deletion_filter", "rule"])
    assert rules == {"demand", "utilisation_floor", "modules"}


# ------------------------------------------------------------------------------------------ CLI
def test_cli_plan_runs_and_reports_errors(tmp_path):
    from typer.testing import CliRunner

    from dcindex.cli import _register_all, app

    _register_all()
    r = CliRunner().invoke(app, ["plan", str(example_path()), "--out", str(tmp_path / "o"), "--no-rule-costs",
                                 "--set", "frontier=null", "--set", "solver.relax_integers=true",
                                 "--sweep", "carbon_price=0,200"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "o" / "frontier.csv").is_file()
    fr = pd.read_csv(tmp_path / "o" / "frontier.csv")
    assert fr["value"].tolist() == [0, 200]


def test_cli_exit_status_2(tmp_path):
    import subprocess
    import sys

    bad = subprocess.run([sys.executable, "-m", "dcindex", "plan", str(tmp_path / "none.yaml"), "--out",
                          str(tmp_path / "o")], capture_output=True, text=True)
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    sw = subprocess.run([sys.executable, "-m", "dcindex", "plan", str(example_path()), "--out", str(tmp_path / "o"),
                         "--sweep", "carbon=1"], capture_output=True, text=True)
    assert sw.returncode == 2 and "carbon_price" in sw.stderr


# ------------------------------------------------------------------------------------------ PuLP cross-check
@pytest.mark.parametrize("relax", [True, False])
def test_vectorised_model_matches_constraint_by_constraint_pulp(relax):
    pytest.importorskip("pulp")
    from dcindex.plan.api import solve_scenario
    from dcindex.plan.reference import solve_pulp

    sites = [
        {"site_id": "E", "province_code": "310000", "region": "east", "hub": True, "existing_racks": 40,
         "max_new_racks": 300, "module_racks": 25, "capex_yuan_per_rack": 300, "pue_design": 1.35,
         "pue_best": 1.15, "retrofit_cost_yuan_per_mwh": 900, "grid_price_yuan_per_kwh": 0.8,
         "green_price_yuan_per_kwh": 0.85, "fixed_om_yuan_per_rack_year": 20},
        {"site_id": "W", "province_code": "150000", "region": "west", "hub": True, "existing_racks": 30,
         "max_new_racks": 300, "module_racks": 25, "capex_yuan_per_rack": 250, "pue_design": 1.3,
         "pue_best": 1.1, "retrofit_cost_yuan_per_mwh": 700, "grid_price_yuan_per_kwh": 0.35,
         "green_price_yuan_per_kwh": 0.33},
        {"site_id": "N", "province_code": "630000", "region": "west", "hub": False, "max_new_racks": 200,
         "open_cost_yuan": 3000, "capex_yuan_per_rack": 100, "grid_price_yuan_per_kwh": 0.3,
         "green_price_yuan_per_kwh": 0.28},
    ]
    demand = {("310000", c, y): v * (1.2 if y == 2026 else 1.0) for c, v in (("realtime", 30.0), ("nearline", 40.0),
                                                                             ("batch", 90.0)) for y in (2025, 2026)}
    demand.update({("510000", "batch", y): 50.0 for y in (2025, 2026)})
    origins = [{"origin_id": "310000", "region": "east", "province_code": "310000"},
               {"origin_id": "510000", "region": "west", "province_code": "510000"}]
    lat = {("310000", "E"): 1.5, ("310000", "W"): 14.0, ("310000", "N"): 18.0, ("510000", "E"): 13.0,
           ("510000", "W"): 6.0, ("510000", "N"): 8.0}
    periods = [{"name": "day", "hours": 10, "green_share": 0.7, "grid_price_factor": 1.3},
               {"name": "night", "hours": 14, "green_share": 0.3, "grid_price_factor": 0.8}]
    rules = {r: {"enabled": True} for r in ("latency", "utilisation_floor", "hub_share", "green_share", "pue_cap",
                                            "green_supply", "site_limits", "bandwidth", "emission_cap",
                                            "time_shift")}
    rules["emission_cap"].update({"total_tco2": 2600.0, "accounting": "net"})
    sc = toy_scenario(sites, demand, origins=origins, latency=lat, netcost={k: 20.0 * v for k, v in lat.items()},
                      green={(s, y): g for s, g in (("E", 0.2), ("W", 1.0), ("N", 0.5)) for y in (2025, 2026)},
                      years=[2025, 2026],
                      classes=[{"name": "realtime", "max_latency_ms": 5, "gbps_per_rack": 0.05},
                               {"name": "nearline", "max_latency_ms": 20, "gbps_per_rack": 0.02},
                               {"name": "batch", "gbps_per_rack": 0.01, "shiftable": True}],
                      economics={"discount_rate": 0.06, "capex_lifetime_years": 12, "carbon_price_yuan_per_t": 80},
                      technical={"periods": periods}, rules=rules,
                      bandwidth=[{"from_region": "east", "to_region": "west", "year": y, "limit_gbps": 2.0}
                                 for y in (2025, 2026)],
                      solver={"relax_integers": relax, "mip_rel_gap": 1e-9})
    m, s = solve_scenario(sc)
    assert s.status == "optimal" and m.is_mip == (not relax)
    status, obj, _, _ = solve_pulp(sc)
    assert status == "Optimal"
    assert s.objective == pytest.approx(obj, rel=1e-6)


def test_text_cells_are_protected_against_formula_injection(tmp_path):
    sc = toy_scenario([{"site_id": "=cmd|' /C calc'!A0", "province_code": "110000", "name": "@SUM(1+1)"}],
                      {("110000", "batch", 2025): 5.0})
    plan(sc, out=tmp_path / "o")
    txt = (tmp_path / "o" / "buildout.csv").read_text(encoding="utf-8")
    assert "'=cmd" in txt and "'@SUM" in txt
    assert "\n=cmd" not in txt and ",@SUM" not in txt
