"""Planner model: hand-solvable cases with known optimum, and every rule switched on/off moving the plan the
expected way. Toy numbers: 1 kW per rack, 8.76 MWh of IT energy per rack-year, discount rate 0, lifetime 1 yr
(annuity = capex), so costs can be added up by hand."""
from __future__ import annotations

import pytest

from dcindex.plan import plan, toy_scenario

E = 8.76  # MWh IT energy per rack-year at 1 kW
Y = 2025


def site(sid, prov="110000", **kw):
    return {"site_id": sid, "province_code": prov, **kw}


def used(res, sid, year=Y):
    u = res.utilisation
    return float(u.loc[(u["site_id"] == sid) & (u["year"] == year), "used_racks"].iloc[0])


def new(res, sid):
    b = res.buildout
    return float(b.loc[b["site_id"] == sid, "new_racks"].sum())


def test_hand_solvable_lp_optimum():
    # 100 racks; A: capex 10, B: capex 20; PUE 1.2; grid 0.5 yuan/kWh -> all at A
    sc = toy_scenario([site("A", capex_yuan_per_rack=10), site("B", "150000", capex_yuan_per_rack=20)],
                      {("110000", "batch", Y): 100.0}, economics={"capex_lifetime_years": 1})
    res = plan(sc)
    assert res.status == "optimal"
    assert res.objective_pv == pytest.approx(100 * 10 + 100 * E * 1.2 * 500, rel=1e-9)
    assert new(res, "A") == pytest.approx(100) and new(res, "B") == pytest.approx(0)
    # reported cost components add up to the objective
    assert res.costs["yuan_pv"].sum() == pytest.approx(res.objective_pv, rel=1e-9)


def test_existing_capacity_then_cheapest_new_and_discounting():
    # A has 60 existing racks (fixed O&M 5 per rack-year counted in the objective), B new capex 30
    sc = toy_scenario([site("A", existing_racks=60, fixed_om_yuan_per_rack_year=5, max_new_racks=0),
                       site("B", capex_yuan_per_rack=30, grid_price_yuan_per_kwh=0.4)],
                      {("110000", "batch", 2025): 50.0, ("110000", "batch", 2026): 100.0}, years=[2025, 2026],
                      economics={"capex_lifetime_years": 1, "discount_rate": 0.1},
                      rules={"site_limits": {"enabled": True}})
    res = plan(sc)
    d = 1 / 1.1
    # 2025: 50 at A or B? B energy is cheaper: 0.4 vs 0.5 yuan/kWh over 8.76*1.2 MWh = 1051.2 yuan/rack-yr
    # saving vs capex 30 (per year it exists): building at B pays -> B takes all, A idle.
    # annuity charged each year from the build year; lifetime 1 yr at 10 %: CRF = 0.1*1.1/(1.1-1) = 1.1
    a = 1.1 * 30
    exp = 60 * 5 * (1 + d) + (50 * a * (1 + d) + 50 * a * d) + (50 + 100 * d) * E * 1.2 * 400
    assert res.objective_pv == pytest.approx(exp, rel=1e-9)
    assert res.costs["yuan_pv"].sum() == pytest.approx(res.objective_pv, rel=1e-9)


def test_modules_make_it_a_mip_with_known_optimum():
    # demand 120, modules of 50 racks at A (capex 1): 3 modules, 30 idle racks
    sc = toy_scenario([site("A", capex_yuan_per_rack=1, module_racks=50)], {("110000", "batch", Y): 120.0},
                      economics={"capex_lifetime_years": 1})
    res = plan(sc)
    assert res.meta["mip"] and res.meta["n_integer"] == 1
    assert new(res, "A") == pytest.approx(150)
    assert res.objective_pv == pytest.approx(150 * 1 + 120 * E * 1.2 * 500, rel=1e-9)
    assert float(res.utilisation["idle_racks"].sum()) == pytest.approx(30)
    assert "integer decisions fixed" in res.meta["dual_basis"]
    off = plan(sc.with_changes({"rules.modules.enabled": False}))
    assert new(off, "A") == pytest.approx(120) and not off.meta["mip"]


def test_site_opening_threshold():
    # B saves 0.1 yuan/kWh * 10.512 MWh = 1051.2 yuan per rack-year but costs 50,000 to open
    sites = [site("A", capex_yuan_per_rack=0), site("B", capex_yuan_per_rack=0, grid_price_yuan_per_kwh=0.4,
                                                   open_cost_yuan=50000, max_new_racks=1000)]
    small = plan(toy_scenario(sites, {("110000", "batch", Y): 40.0}, economics={"capex_lifetime_years": 1}))
    big = plan(toy_scenario(sites, {("110000", "batch", Y): 60.0}, economics={"capex_lifetime_years": 1}))
    assert new(small, "B") == 0 and new(big, "B") == pytest.approx(60)  # break-even at 47.6 racks
    assert big.objective_pv == pytest.approx(50000 + 60 * E * 1.2 * 400, rel=1e-9)
    assert bool(big.buildout.loc[big.buildout["site_id"] == "B", "opened"].iloc[0])


# ---------------------------------------------------------------------------------------------- rules on/off
def _pair(sc, rule, **params):
    on = plan(sc.with_changes({f"rules.{rule}.enabled": True, **{f"rules.{rule}.{k}": v for k, v in params.items()}}))
    off = plan(sc.with_changes({f"rules.{rule}.enabled": False}))
    assert on.objective_pv >= off.objective_pv - 1e-6  # a rule can only cost
    return on, off


def test_utilisation_floor_fills_idle_hub_capacity():
    # hub A has 100 existing racks but expensive power; B is cheap: without the floor A stays idle
    sc = toy_scenario([site("A", existing_racks=100, grid_price_yuan_per_kwh=0.8, max_new_racks=0),
                       site("B", "150000", grid_price_yuan_per_kwh=0.3)], {("110000", "batch", Y): 100.0},
                      rules={"site_limits": {"enabled": True}})
    on, off = _pair(sc, "utilisation_floor", min_share=0.65)
    assert used(off, "A") == pytest.approx(0)
    assert used(on, "A") == pytest.approx(65)
    assert on.objective_pv - off.objective_pv == pytest.approx(65 * E * 1.2 * 500, rel=1e-9)


def test_hub_share_moves_new_capacity_to_hubs():
    sc = toy_scenario([site("H", capex_yuan_per_rack=100, hub=True), site("N", "630000", capex_yuan_per_rack=10,
                                                                           hub=False)],
                      {("110000", "batch", Y): 100.0}, economics={"capex_lifetime_years": 1})
    on, off = _pair(sc, "hub_share", min_share=0.6)
    assert new(off, "H") == pytest.approx(0) and new(on, "H") == pytest.approx(60)
    assert on.objective_pv - off.objective_pv == pytest.approx(60 * 90, rel=1e-9)


def test_green_share_forces_green_power_for_new_hub_capacity():
    sc = toy_scenario([site("H", green_price_yuan_per_kwh=0.6, grid_price_yuan_per_kwh=0.5)],
                      {("110000", "batch", Y): 100.0}, green=1e6, rules={"green_supply": {"enabled": True}})
    on, off = _pair(sc, "green_share", min_share=0.8)
    assert off.energy["green_mwh"].sum() == pytest.approx(0)
    tot = on.energy["facility_mwh"].sum()
    assert on.energy["green_mwh"].sum() / tot == pytest.approx(0.8)
    # emissions net of green fall; at the local grid factor they do not change
    assert on.emissions["emissions_net_t"].sum() < off.emissions["emissions_net_t"].sum()
    assert on.emissions["emissions_location_t"].sum() == pytest.approx(off.emissions["emissions_location_t"].sum())


def test_green_share_exempts_existing_stock():
    # 100 existing racks, 150 demand: only the 50 racks beyond the stock need 80 % green
    sc = toy_scenario([site("H", existing_racks=100, green_price_yuan_per_kwh=0.6)], {("110000", "batch", Y): 150.0},
                      green=1e6, rules={"green_supply": {"enabled": True}, "green_share": {"enabled": True}})
    res = plan(sc)
    assert res.energy["green_mwh"].sum() == pytest.approx(0.8 * 50 * E * 1.2)


def test_green_share_gives_no_credit_for_retrofit_savings_of_the_existing_stock():
    # 100 existing racks at design PUE 1.3; the hub PUE cap 1.25 forces a retrofit. 150 racks of demand: 50 run on
    # new capacity, whose electricity is 50 * 8.76 * 1.25 MWh and needs 80 % green. The earlier formulation
    # subtracted the existing stock at its design PUE (100 * 8.76 * 1.3 MWh) from the site's retrofitted total and
    # so asked for only 0.8 * (150 * 1.25 - 100 * 1.3) * 8.76 = 403 MWh.
    sc = toy_scenario([site("H", existing_racks=100, pue_design=1.3, pue_best=1.1, retrofit_cost_yuan_per_mwh=900,
                            green_price_yuan_per_kwh=0.6)], {("110000", "batch", Y): 150.0}, green=1e6,
                      rules={"green_share": {"enabled": True}, "pue_cap": {"enabled": True}})
    res = plan(sc)
    assert res.energy["pue_effective"].iloc[0] == pytest.approx(1.25)
    assert res.energy["green_mwh"].sum() == pytest.approx(0.8 * 50 * E * 1.25, rel=1e-9)
    gs = res.green_share.iloc[0]
    assert gs["new_capacity_it_mwh"] == pytest.approx(50 * E)
    assert gs["new_capacity_electricity_mwh"] == pytest.approx(50 * E * 1.25)
    assert gs["green_share_new_capacity"] == pytest.approx(0.8) and gs["compliant"]


def test_green_share_counts_new_capacity_per_period_not_net_over_the_day():
    # 100 existing racks; 100 racks of batch work that may shift into the cheap night, where more than the existing
    # racks then run (on new capacity). Netting the site's electricity over the day against the existing stock (the
    # earlier formulation) found no new-capacity electricity when all work ran at night, so no green power was
    # bought; per period, the night's racks beyond the stock need 80 % green (annual total, green is dear here).
    periods = [{"name": "day", "hours": 12, "grid_price_factor": 1.5}, {"name": "night", "hours": 12,
                                                                         "grid_price_factor": 0.5}]
    sc = toy_scenario([site("H", existing_racks=100, green_price_yuan_per_kwh=0.9, capex_yuan_per_rack=1)],
                      {("110000", "batch", Y): 100.0}, green=1e6, classes=[{"name": "batch", "shiftable": True}],
                      technical={"periods": periods},
                      rules={"green_share": {"enabled": True}, "time_shift": {"enabled": True}},
                      economics={"capex_lifetime_years": 1})
    res = plan(sc)
    en = res.energy.set_index("period")
    night = float(en.loc["night", "it_racks_running"])
    assert night > 100 + 1  # new capacity runs at night
    f_new = (night - 100) * E / 2 * 1.2
    assert res.energy["green_mwh"].sum() == pytest.approx(0.8 * f_new, rel=1e-9)
    gs = res.green_share.iloc[0]
    assert gs["new_capacity_electricity_mwh"] == pytest.approx(f_new)
    assert bool(gs["compliant"])


def test_pue_cap_forces_retrofit_and_cuts_energy():
    sc = toy_scenario([site("H", pue_design=1.3, pue_best=1.1, retrofit_cost_yuan_per_mwh=900)],
                      {("110000", "batch", Y): 100.0})
    on, off = _pair(sc, "pue_cap", east=1.25, west=1.2)
    assert off.energy["pue_effective"].iloc[0] == pytest.approx(1.3)
    assert on.energy["pue_effective"].iloc[0] == pytest.approx(1.25)
    assert on.energy["facility_mwh"].sum() < off.energy["facility_mwh"].sum()
    assert on.emissions["emissions_location_t"].sum() < off.emissions["emissions_location_t"].sum()


def test_green_supply_limits_cheap_green_power():
    sc = toy_scenario([site("H", green_price_yuan_per_kwh=0.3)], {("110000", "batch", Y): 100.0},
                      green={("H", Y): 0.5})  # 0.5 GWh = 500 MWh
    on = plan(sc)
    off = plan(sc.with_changes({"rules.green_supply.enabled": False}))
    assert on.objective_pv >= off.objective_pv
    assert off.energy["green_mwh"].sum() == pytest.approx(100 * E * 1.2)
    assert on.energy["green_mwh"].sum() == pytest.approx(500)


def test_latency_keeps_realtime_close():
    sc = toy_scenario([site("NEAR", grid_price_yuan_per_kwh=0.8), site("FAR", "150000", grid_price_yuan_per_kwh=0.3)],
                      {("110000", "realtime", Y): 100.0, ("110000", "batch", Y): 50.0},
                      latency={("110000", "NEAR"): 2.0, ("110000", "FAR"): 12.0},
                      classes=[{"name": "realtime", "max_latency_ms": 5}, {"name": "batch"}])
    on, off = _pair(sc, "latency")
    assert used(off, "FAR") == pytest.approx(150) and used(on, "NEAR") == pytest.approx(100)
    sp = on.shadow_prices
    lat = sp[sp["rule"] == "latency"]
    # allowing one realtime rack at FAR would save the energy price difference (reduced cost of the blocked pair;
    # FAR is in use, so the dual of its energy balance is its grid price and the reduced cost is not degenerate)
    assert float(lat["dual_pv"].iloc[0]) == pytest.approx(-E * 1.2 * 500, rel=1e-9)
    fd = plan(sc.with_changes({"rules.latency.enabled": False}), rule_costs=False)
    assert on.objective_pv - fd.objective_pv == pytest.approx(100 * E * 1.2 * 500, rel=1e-9)


def test_bandwidth_caps_east_west_flows():
    sc = toy_scenario([site("E", region="east", grid_price_yuan_per_kwh=0.8),
                       site("W", "150000", region="west", grid_price_yuan_per_kwh=0.3)],
                      {("110000", "batch", Y): 100.0}, classes=[{"name": "batch", "gbps_per_rack": 0.1}],
                      bandwidth=[{"from_region": "east", "to_region": "west", "year": Y, "limit_gbps": 4.0}])
    on, off = _pair(sc, "bandwidth")
    assert used(off, "W") == pytest.approx(100) and used(on, "W") == pytest.approx(40)
    bw = on.shadow_prices[on.shadow_prices["rule"] == "bandwidth"]
    assert float(bw["dual_pv"].iloc[0]) == pytest.approx(-E * 1.2 * 500 / 0.1, rel=1e-9)  # yuan per Gbps


def test_emission_cap_binds_and_shifts_load_to_cleaner_grid():
    # Beijing grid 0.558 vs Sichuan 0.1404 kgCO2/kWh (2022); Beijing cheaper
    sc = toy_scenario([site("BJ", "110000", grid_price_yuan_per_kwh=0.4), site("SC", "510000")],
                      {("110000", "batch", Y): 100.0})
    free = plan(sc)
    cap = 0.5 * free.emissions["emissions_net_t"].sum()
    on = plan(sc.with_changes({"rules.emission_cap": {"enabled": True, "total_tco2": float(cap)}}))
    assert on.emissions["emissions_net_t"].sum() == pytest.approx(cap, rel=1e-9)
    assert used(on, "SC") > used(free, "SC")
    assert on.objective_pv > free.objective_pv


def test_site_limits_push_builds_elsewhere():
    sc = toy_scenario([site("A", capex_yuan_per_rack=10, max_new_racks=30), site("B", capex_yuan_per_rack=50)],
                      {("110000", "batch", Y): 100.0}, economics={"capex_lifetime_years": 1})
    on, off = _pair(sc, "site_limits")
    assert new(off, "A") == pytest.approx(100) and new(on, "A") == pytest.approx(30)
    sl = on.shadow_prices[on.shadow_prices["rule"] == "site_limits"]
    assert float(sl.loc[sl["site_id"] == "A", "dual_pv"].iloc[0]) == pytest.approx(-40)


def test_site_limits_off_never_costs_more_with_site_opening():
    # N (non-hub) serves all 100 racks; the hub share of new capacity (60 %) then needs 150 racks built at the
    # openable hub H (they stay idle). Switching site limits off must not make that impossible: the opening row's
    # big-M was total demand + one module (101 racks) and silently capped H, which made the plan dearer.
    sites = [site("N", "630000", hub=False, capex_yuan_per_rack=0, grid_price_yuan_per_kwh=0.3),
             site("H", "150000", hub=True, capex_yuan_per_rack=10, grid_price_yuan_per_kwh=5.0, open_cost_yuan=100,
                  max_new_racks=1000)]
    sc = toy_scenario(sites, {("110000", "batch", Y): 100.0}, economics={"capex_lifetime_years": 1},
                      rules={"hub_share": {"enabled": True}})
    on, off = _pair(sc, "site_limits")
    assert new(on, "H") == pytest.approx(150) and new(off, "H") == pytest.approx(150)
    assert on.objective_pv == pytest.approx(100 + 150 * 10 + 100 * E * 1.2 * 300, rel=1e-9)
    assert off.objective_pv == pytest.approx(on.objective_pv, rel=1e-9)


def test_opening_big_m_allows_batch_compressed_into_one_period():
    # 100 racks of batch work may shift into the cheap night: an openable site then needs 200 racks, more than the
    # total demand (the earlier big-M, 101 racks, forced half the work into the expensive day)
    periods = [{"name": "day", "hours": 12, "grid_price_factor": 1.5}, {"name": "night", "hours": 12,
                                                                         "grid_price_factor": 0.5}]
    sc = toy_scenario([site("B", capex_yuan_per_rack=1, open_cost_yuan=10, max_new_racks=1000)],
                      {("110000", "batch", Y): 100.0}, classes=[{"name": "batch", "shiftable": True}],
                      technical={"periods": periods}, rules={"time_shift": {"enabled": True}},
                      economics={"capex_lifetime_years": 1})
    on, off = _pair(sc, "site_limits")
    assert new(off, "B") == pytest.approx(200) and new(on, "B") == pytest.approx(200)
    assert off.objective_pv == pytest.approx(on.objective_pv, rel=1e-9)
    assert on.energy.set_index("period").loc["day", "it_racks_running"] == pytest.approx(0)


def test_time_shift_moves_batch_to_cheap_period_with_daily_conservation():
    periods = [{"name": "day", "hours": 12, "grid_price_factor": 1.5}, {"name": "night", "hours": 12,
                                                                         "grid_price_factor": 0.5}]
    sc = toy_scenario([site("A", existing_racks=200, max_new_racks=0)], {("110000", "batch", Y): 100.0},
                      classes=[{"name": "batch", "shiftable": True}], technical={"periods": periods},
                      rules={"site_limits": {"enabled": True}})
    on = plan(sc.with_changes({"rules.time_shift.enabled": True}))
    off = plan(sc.with_changes({"rules.time_shift.enabled": False}))
    assert on.objective_pv < off.objective_pv  # shifting is a freedom: it can only save
    en = on.energy.set_index("period")
    assert en.loc["night", "it_racks_running"] == pytest.approx(200)  # all batch work at night, capacity bound
    assert en.loc["day", "it_racks_running"] == pytest.approx(0)
    assert (en["it_mwh"].sum()) == pytest.approx(100 * E)  # daily energy conserved
    assert off.energy["it_racks_running"].tolist() == pytest.approx([100, 100])


def test_soft_demand_leaves_unprofitable_demand_unmet():
    sc = toy_scenario([site("A", capex_yuan_per_rack=10)], {("110000", "batch", Y): 100.0},
                      rules={"demand": {"mode": "soft", "penalty": 1000.0}}, economics={"capex_lifetime_years": 1})
    res = plan(sc)
    assert res.demand["unmet_racks"].sum() == pytest.approx(100)  # serving costs 5,266 > 1,000 per rack-year
    assert res.objective_pv == pytest.approx(100 * 1000)


def test_carbon_price_moves_load_to_lower_factor_site():
    sc = toy_scenario([site("BJ", "110000", grid_price_yuan_per_kwh=0.45), site("SC", "510000")],
                      {("110000", "batch", Y): 100.0})
    cheap = plan(sc)
    # moving saves (0.558-0.1404) t/MWh * 10.512 MWh = 4.39 t per rack at an extra 525.6 yuan: >120 yuan/t pays
    hi = plan(sc.with_changes({"economics.carbon_price_yuan_per_t": 130}))
    lo = plan(sc.with_changes({"economics.carbon_price_yuan_per_t": 110}))
    assert used(cheap, "BJ") == pytest.approx(100) and used(lo, "BJ") == pytest.approx(100)
    assert used(hi, "SC") == pytest.approx(100)


def test_unknown_class_on_latency_blocks_everything_is_reported_as_infeasible():
    from dcindex.plan import PlanInfeasibleError

    sc = toy_scenario([site("A")], {("110000", "realtime", Y): 10.0}, latency=50.0,
                      classes=[{"name": "realtime", "max_latency_ms": 5}], rules={"latency": {"enabled": True}})
    with pytest.raises(PlanInfeasibleError) as ei:
        plan(sc)
    assert "latency" in str(ei.value) and "demand" in str(ei.value)


def test_soft_rule_prices_the_violation_instead_of_failing():
    # the floor would need 65 of 100 existing racks used but demand is 10: hard is infeasible, soft pays 55 racks
    sc = toy_scenario([site("A", existing_racks=100, max_new_racks=0)], {("110000", "batch", Y): 10.0},
                      rules={"utilisation_floor": {"enabled": True, "mode": "soft", "penalty": 100.0}})
    res = plan(sc)
    pen = res.costs.loc[res.costs["component"] == "rule_penalties", "yuan_pv"].sum()
    assert pen == pytest.approx(55 * 100.0)
    assert res.objective_pv == pytest.approx(5500 + 10 * E * 1.2 * 500)
    sp = res.shadow_prices
    assert float(sp.loc[sp["rule"] == "utilisation_floor", "dual_pv"].iloc[0]) == pytest.approx(100.0)
    assert "illustrative" in res.summary()
