"""Shadow prices checked by finite differences: re-solve with the parameter moved by +-h and compare the
objective change with the dual-based marginal (envelope theorem). Plus the emission-direction arithmetic of
moving load Beijing -> Inner Mongolia and Shanghai -> Sichuan under the 2022 MEE/NBS grid factors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dcindex.plan import example_path, load_scenario, plan, toy_scenario
from dcindex.plan.api import solve_scenario
from dcindex.plan.results import parameter_marginals

E = 8.76
Y = 2025


def obj(sc, overrides):
    m, s = solve_scenario(sc.with_changes(overrides))
    assert s.status == "optimal"
    return s.objective


def fd_check(sc, key, p, h, marginal, rel=1e-6):
    up, dn = obj(sc, {key: p + h}), obj(sc, {key: p - h})
    central = (up - dn) / (2 * h)
    assert marginal == pytest.approx(central, rel=rel, abs=1e-6 * max(1.0, abs(central)))
    return central


def _rich_toy():
    """Two years, three sites, discounting, every parametrised rule binding (continuous builds: an LP)."""
    sites = [
        {"site_id": "H_EAST", "province_code": "310000", "region": "east", "hub": True, "existing_racks": 100,
         "max_new_racks": 500, "capex_yuan_per_rack": 300, "pue_design": 1.35, "pue_best": 1.15,
         "retrofit_cost_yuan_per_mwh": 900, "grid_price_yuan_per_kwh": 0.8, "green_price_yuan_per_kwh": 0.85},
        {"site_id": "H_WEST", "province_code": "150000", "region": "west", "hub": True, "existing_racks": 50,
         "max_new_racks": 500, "capex_yuan_per_rack": 250, "pue_design": 1.3, "pue_best": 1.1,
         "retrofit_cost_yuan_per_mwh": 700, "grid_price_yuan_per_kwh": 0.35, "green_price_yuan_per_kwh": 0.45},
        {"site_id": "NONHUB", "province_code": "630000", "region": "west", "hub": False, "max_new_racks": 500,
         "capex_yuan_per_rack": 100, "pue_design": 1.2, "pue_best": 1.2, "grid_price_yuan_per_kwh": 0.3,
         "green_price_yuan_per_kwh": 0.28},
    ]
    demand = {("310000", "realtime", 2025): 40.0, ("310000", "realtime", 2026): 45.0,
              ("310000", "batch", 2025): 160.0, ("310000", "batch", 2026): 230.0}
    lat = {("310000", "H_EAST"): 1.5, ("310000", "H_WEST"): 12.0, ("310000", "NONHUB"): 16.0}
    green = {(s, y): 5.0 for s in ("H_EAST", "H_WEST") for y in (2025, 2026)}
    green.update({("NONHUB", 2025): 0.5, ("NONHUB", 2026): 0.5})
    rules = {r: {"enabled": True} for r in ("latency", "utilisation_floor", "hub_share", "green_share", "pue_cap",
                                            "green_supply", "site_limits")}
    rules["utilisation_floor"]["applies_to"] = "hub"
    return toy_scenario(sites, demand, latency=lat, green=green, years=[2025, 2026],
                        classes=[{"name": "realtime", "max_latency_ms": 5}, {"name": "batch"}],
                        economics={"discount_rate": 0.05, "capex_lifetime_years": 10,
                                   "carbon_price_yuan_per_t": 50.0}, rules=rules)


@pytest.fixture(scope="module")
def rich():
    sc = _rich_toy()
    m, s = solve_scenario(sc)
    assert s.status == "optimal" and not m.is_mip
    return sc, m, s


@pytest.mark.parametrize("rule,p,h", [("utilisation_floor", 0.65, 1e-4), ("hub_share", 0.6, 1e-4),
                                      ("green_share", 0.8, 1e-4)])
def test_min_share_marginals_match_finite_differences(rich, rule, p, h):
    sc, m, s = rich
    marg = parameter_marginals(m, s)[f"{rule}.min_share"]
    assert abs(marg) > 1.0, f"{rule} should bind in this case"
    fd_check(sc, f"rules.{rule}.min_share", p, h, marg)


@pytest.mark.parametrize("region,p", [("east", 1.25), ("west", 1.2)])
def test_pue_cap_marginals_match_finite_differences(rich, region, p):
    sc, m, s = rich
    marg = parameter_marginals(m, s)[f"pue_cap.{region}"]
    assert marg < 0  # a looser cap saves money
    fd_check(sc, f"rules.pue_cap.{region}", p, 1e-4, marg)


def test_row_duals_match_finite_differences_of_right_hand_sides(rich):
    sc, m, s = rich
    sp = plan(sc, rule_costs=False).shadow_prices
    # demand: one more batch rack-year in 2026
    d = float(sp[(sp["constraint"] == "demand") & (sp["class"] == "batch") & (sp["year"] == 2026)]["dual_pv"].iloc[0])
    base = sc.raw_tables["demand"].copy()

    def with_demand(delta):
        t = dict(sc.raw_tables)
        dm = base.copy()
        mask = (dm["class"] == "batch") & (dm["year"].astype(int) == 2026)
        dm.loc[mask, "racks"] = dm.loc[mask, "racks"].astype(float) + delta
        t["demand"] = dm
        from dcindex.plan.scenario import build_scenario
        return solve_scenario(build_scenario(sc.raw, t))[1].objective

    h = 0.01
    assert d == pytest.approx((with_demand(h) - with_demand(-h)) / (2 * h), rel=1e-6)
    # green supply at NONHUB 2026 (GWh in the table, dual per MWh; 1 period so profile share is 1)
    g = sp[(sp["rule"] == "green_supply") & (sp["site_id"] == "NONHUB") & (sp["year"] == 2026)]
    gd = float(g["dual_pv"].iloc[0])
    assert gd < 0

    def with_green(delta):
        t = dict(sc.raw_tables)
        gr = t["green_supply"].copy()
        mask = (gr["site_id"] == "NONHUB") & (gr["year"].astype(int) == 2026)
        gr.loc[mask, "green_gwh"] = gr.loc[mask, "green_gwh"].astype(float) + delta / 1000.0
        t["green_supply"] = gr
        from dcindex.plan.scenario import build_scenario
        return solve_scenario(build_scenario(sc.raw, t))[1].objective

    assert gd == pytest.approx((with_green(1.0) - with_green(-1.0)) / 2.0, rel=1e-6)


def test_emission_cap_dual_is_the_implied_carbon_price():
    sc = toy_scenario([{"site_id": "BJ", "province_code": "110000", "grid_price_yuan_per_kwh": 0.4},
                       {"site_id": "SC", "province_code": "510000"}], {("110000", "batch", Y): 100.0})
    free = plan(sc).emissions["emissions_net_t"].sum()
    cap = 0.6 * free
    on = sc.with_changes({"rules.emission_cap": {"enabled": True, "total_tco2": float(cap)}})
    res = plan(on, rule_costs=False)
    dual = float(res.shadow_prices.loc[res.shadow_prices["rule"] == "emission_cap", "dual_pv"].iloc[0])
    central = fd_check(on, "rules.emission_cap.total_tco2", cap, 1.0, dual)
    # moving a rack BJ -> SC costs 0.1 yuan/kWh * 10,512 kWh and saves (0.558-0.1404)*10.512 t
    assert -central == pytest.approx(0.1 * 10512 / ((0.558 - 0.1404) * 10.512), rel=1e-9)


def test_cap_sweep_implied_carbon_price_includes_the_scenarios_own_price():
    # moving a rack BJ -> SC costs 0.1 yuan/kWh * 10,512 kWh and saves (0.558-0.1404) * 10.512 t: the marginal
    # abatement cost is ~239 yuan/t whatever part of it the scenario's own carbon price already pays
    sc = toy_scenario([{"site_id": "BJ", "province_code": "110000", "grid_price_yuan_per_kwh": 0.4},
                       {"site_id": "SC", "province_code": "510000"}], {("110000", "batch", Y): 100.0})
    mac = 0.1 * 10512 / ((0.558 - 0.1404) * 10.512)
    free = plan(sc).emissions["emissions_net_t"].sum()
    rows = {}
    for cp in (0.0, 50.0):
        fr = plan(sc.with_changes({"economics.carbon_price_yuan_per_t": cp}),
                  sweep={"parameter": "emission_cap", "values": [0.6 * free]}).frontier.iloc[0]
        rows[cp] = fr
        assert fr["implied_carbon_price_yuan_per_t"] == pytest.approx(mac, rel=1e-9)
    assert rows[0.0]["cap_shadow_price_pv_yuan_per_t"] - rows[50.0]["cap_shadow_price_pv_yuan_per_t"] == \
        pytest.approx(50.0, rel=1e-9)
    # a cap counted differently from the carbon price (location vs net) has no single implied price
    fr = plan(sc.with_changes({"economics.carbon_price_yuan_per_t": 50.0}),
              sweep={"parameter": "emission_cap", "values": [0.6 * free], "accounting": "location"}).frontier.iloc[0]
    assert np.isnan(fr["implied_carbon_price_yuan_per_t"]) and fr["cap_shadow_price_pv_yuan_per_t"] > 0


def test_example_pue_cap_marginal_by_finite_differences():
    """On the shipped example (LP relaxation, ~10k columns) the PUE-cap marginal matches finite differences."""
    sc = load_scenario(example_path(), {"solver.relax_integers": True, "frontier": None})
    m, s = solve_scenario(sc)
    marg = parameter_marginals(m, s)
    assert marg["pue_cap.west"] < 0
    fd_check(sc, "rules.pue_cap.west", 1.2, 1e-4, marg["pue_cap.west"], rel=1e-4)


# ------------------------------------------------------------------------------------------ emission direction
def _ef(code, year=2022):
    ef = pd.read_csv(example_path().parent / "grid_emission_factor.csv", dtype={"province_code": str})
    return float(ef.loc[(ef["province_code"] == code) & (ef["year"] == year), "value"].iloc[0])


@pytest.mark.parametrize("origin,src,dst", [("110000", "110000", "150000"), ("310000", "310000", "510000")])
def test_emission_change_of_moves_follows_2022_factor_ordering(origin, src, dst):
    """Serve 100 racks of the origin's batch demand at a site in the origin province, then (with that site closed)
    at the destination: the change in emissions at the local grid factor has the sign of ef(dst) - ef(src) and
    equals racks * 8.76 MWh * PUE 1.2 * (ef(dst) - ef(src))."""
    dem = {(origin, "batch", Y): 100.0}
    lim = {"site_limits": {"enabled": True}}

    def run(src_max, dst_max, **dst_extra):
        sites = [{"site_id": "SRC", "province_code": src, "max_new_racks": src_max},
                 {"site_id": "DST", "province_code": dst, "max_new_racks": dst_max, **dst_extra}]
        return plan(toy_scenario(sites, dem, rules=lim, green={("DST", Y): 0.5}), rule_costs=False)

    stay, move = run(1000, 0), run(0, 1000)
    assert stay.flows.groupby("site_id")["racks"].sum().to_dict() == pytest.approx({"SRC": 100})
    assert move.flows.groupby("site_id")["racks"].sum().to_dict() == pytest.approx({"DST": 100})
    e_src = float(stay.emissions["emissions_location_t"].sum())
    e_dst = float(move.emissions["emissions_location_t"].sum())
    assert e_src == pytest.approx(100 * E * 1.2 * _ef(src), rel=1e-12)
    delta = e_dst - e_src
    assert delta == pytest.approx(100 * E * 1.2 * (_ef(dst) - _ef(src)), rel=1e-9)
    assert np.sign(delta) == np.sign(_ef(dst) - _ef(src))
    if src == "110000":
        assert delta > 0  # Beijing 0.558 -> Inner Mongolia 0.6849: the move raises emissions
    else:
        assert delta < 0  # Shanghai 0.5849 -> Sichuan 0.1404: the move cuts emissions
    # net of purchased green power (500 MWh at the destination, bought when cheaper than grid) the count differs
    green = run(0, 1000, green_price_yuan_per_kwh=0.1)
    assert float(green.emissions["emissions_net_t"].sum()) == pytest.approx((100 * E * 1.2 - 500) * _ef(dst))
    assert float(green.emissions["emissions_location_t"].sum()) == pytest.approx(e_dst)


def test_shipped_factors_are_the_shared_facts(shared_facts):
    a = pd.read_csv(example_path().parent / "grid_emission_factor.csv", dtype=str)
    b = pd.read_csv(shared_facts / "grid_emission_factor.csv", dtype=str)
    pd.testing.assert_frame_equal(a, b)
    assert _ef("150000") > _ef("110000") and _ef("510000") < _ef("310000")
