"""What a rule costs (rules table): total cost of a rule from re-solves with and without it, its proven interval for a
MIP, the marginal value of its parameter per percentage point (integers fixed) and the LP relaxation's view, on
cases whose answers are known by hand; plus the shipped example, where most rules cost nothing and used to print
MIP-gap noise as costs."""
from __future__ import annotations

import numpy as np
import pytest

from dcindex.plan import example_path, load_scenario, plan, toy_scenario
from dcindex.plan.api import FLAG_TIME, FLAG_ZERO, rules_table, solve_scenario
from dcindex.plan.model import build_model, map_solution
from dcindex.plan.results import format_rule_cost, shadow_price_table
from dcindex.plan.solve import solve

E = 8.76  # MWh of IT energy per rack-year at 1 kW
Y = 2025


def rule(res, name):
    return res.rules.set_index("rule").loc[name]


def test_lp_rule_cost_equals_marginal_times_the_points_of_the_share():
    # hub A holds 100 racks on dear power (0.8 yuan/kWh), B is cheap (0.3): the 65 % floor makes A serve 65 racks,
    # costing 65 * 8.76 MWh * PUE 1.2 * 500 yuan/MWh; linear in the share, so it is 65 x the per-point marginal
    sc = toy_scenario([{"site_id": "A", "province_code": "110000", "existing_racks": 100,
                        "grid_price_yuan_per_kwh": 0.8, "max_new_racks": 0},
                       {"site_id": "B", "province_code": "150000", "grid_price_yuan_per_kwh": 0.3}],
                      {("110000", "batch", Y): 100.0},
                      rules={"site_limits": {"enabled": True}, "utilisation_floor": {"enabled": True}})
    res = plan(sc, rule_costs=True)
    r = rule(res, "utilisation_floor")
    per_point = 1 * E * 1.2 * 500
    assert r["marginal_pv"] == pytest.approx(per_point, rel=1e-9)  # per percentage point, not per unit share
    assert r["marginal_lp_relaxation_pv"] == pytest.approx(r["marginal_pv"])  # an LP: one view
    assert r["cost_of_rule_pv"] == pytest.approx(65 * per_point, rel=1e-9)
    assert r["cost_of_rule_pv"] == pytest.approx(65 * r["marginal_pv"], rel=1e-9)
    assert r["cost_of_rule_low_pv"] == r["cost_of_rule_high_pv"] == r["cost_of_rule_pv"]
    assert r["cost_of_rule_bound_pv"] == 0 and r["cost_of_rule_flag"] == ""
    assert r["objective_without_rule_pv"] == pytest.approx(res.objective_pv - 65 * per_point)
    # one percentage point more costs exactly the marginal
    up = plan(sc.with_changes({"rules.utilisation_floor.min_share": 0.66}))
    assert up.objective_pv - res.objective_pv == pytest.approx(r["marginal_pv"], rel=1e-9)
    # a rule that binds nowhere costs exactly 0 (no noise, no flag); the green supply does bind (A would buy green
    # power at 0.5 instead of grid power at 0.8): 65 racks' electricity x 0.3 yuan/kWh
    mo = rule(res, "modules")
    assert mo["cost_of_rule_pv"] == 0 and mo["cost_of_rule_flag"] == ""
    assert rule(res, "green_supply")["cost_of_rule_pv"] == pytest.approx(65 * E * 1.2 * 300, rel=1e-9)


@pytest.fixture(scope="module")
def hub_mip():
    # 95 racks of demand; hub H (capex 100 per rack) builds in modules of 10 racks, non-hub N (capex 10) builds any
    # number. The 60 % hub share needs H >= 57 racks: 6 modules (60 racks) and N 35.
    #   with the rule:      60 * 100 + 35 * 10 = 6,350 (+ energy, the same everywhere)
    #   without it:         95 * 10            =   950        -> the rule costs 5,400
    #   without modules:    57 * 100 + 38 * 10 = 6,080        -> whole modules cost 270
    # With H fixed at 6 modules the hub-share row is slack (60 > 57): its dual, and the marginal from the LP with
    # integers fixed, are 0; the LP relaxation builds H = share * 95, so d cost / d share = 95 * (100 - 10) = 8,550,
    # i.e. 85.5 yuan per percentage point.
    sc = toy_scenario([{"site_id": "H", "province_code": "150000", "hub": True, "capex_yuan_per_rack": 100,
                        "module_racks": 10},
                       {"site_id": "N", "province_code": "630000", "hub": False, "capex_yuan_per_rack": 10}],
                      {("110000", "batch", Y): 95.0}, economics={"capex_lifetime_years": 1},
                      rules={"hub_share": {"enabled": True}})
    return plan(sc, rule_costs=True)


def test_mip_rule_cost_known_by_hand(hub_mip):
    res = hub_mip
    assert res.meta["mip"]
    assert res.objective_pv == pytest.approx(6350 + 95 * E * 1.2 * 500, rel=1e-12)
    hs = rule(res, "hub_share")
    assert hs["cost_of_rule_pv"] == pytest.approx(5400, rel=1e-9)
    assert hs["cost_of_rule_low_pv"] == pytest.approx(5400, rel=1e-9)
    assert hs["cost_of_rule_high_pv"] == pytest.approx(5400, rel=1e-9)
    assert hs["cost_of_rule_flag"] == ""
    assert rule(res, "modules")["cost_of_rule_pv"] == pytest.approx(270, rel=1e-9)
    assert res.meta["rule_costs"]["objective_with_all_rules_pv"] == pytest.approx(res.objective_pv)


def test_mip_marginals_integers_fixed_and_lp_relaxation(hub_mip):
    hs = rule(hub_mip, "hub_share")
    assert hs["marginal_pv"] == pytest.approx(0, abs=1e-9)
    assert hs["marginal_lp_relaxation_pv"] == pytest.approx(85.5, rel=1e-9)
    # both views are in the summary and the CLI line, next to each other
    line = [ln for ln in hub_mip.summary().splitlines() if "- hub_share" in ln][0]
    assert "0 (integers fixed) / 85.5 (LP relaxation)" in line and "5,400 yuan" in line


@pytest.fixture(scope="module")
def example_floor():
    """The shipped example with the rule costs of the utilisation floor (binds nowhere) and the hub share (binds)."""
    sc = load_scenario(example_path(), {"frontier": None})
    m, s = solve_scenario(sc)
    df = rules_table(sc, m, s, shadow_price_table(m, s), rule_costs=True, only=["utilisation_floor", "hub_share"])
    return sc, m, s, df.set_index("rule")


def test_example_floor_cost_is_flagged_not_printed_as_noise(example_floor):
    """QA: the 65 % floor was reported to cost 0.072 亿元, which was MIP-gap noise (the LP relaxation gives 0 and a
    tighter solve reaches the same objective with and without it)."""
    sc, m, s, df = example_floor
    fl = df.loc["utilisation_floor"]
    assert fl["cost_of_rule_flag"] == FLAG_ZERO
    assert fl["cost_of_rule_pv"] == 0 and fl["cost_of_rule_low_pv"] == 0
    # the interval is the re-solve gap: at most about gap x objective on each side
    gap = sc.spec.solver.mip_rel_gap / 2
    assert 0 < fl["cost_of_rule_high_pv"] <= 2 * gap * s.objective
    assert fl["marginal_lp_relaxation_pv"] == pytest.approx(0, abs=1e-6)
    assert format_rule_cost(fl).startswith("≈0 (at most 0.0")
    # a binding rule keeps a proven positive cost with its +- bound
    hs = df.loc["hub_share"]
    assert hs["cost_of_rule_flag"] == "" and hs["cost_of_rule_low_pv"] > 2e7
    assert hs["cost_of_rule_low_pv"] <= hs["cost_of_rule_pv"] <= hs["cost_of_rule_high_pv"]
    assert hs["cost_of_rule_bound_pv"] <= 2 * gap * s.objective
    assert " ± " in format_rule_cost(hs)
    assert hs["marginal_pv"] == pytest.approx(0, abs=1e-6) and hs["marginal_lp_relaxation_pv"] > 1e6


def test_rule_cost_flags_a_resolve_that_stopped_at_its_time_limit():
    sc = load_scenario(example_path(), {"frontier": None, "outputs.rule_cost_time_limit_s": 0.01})
    m, s = solve_scenario(sc)
    df = rules_table(sc, m, s, shadow_price_table(m, s), rule_costs=True, only=["hub_share"]).set_index("rule")
    r = df.loc["hub_share"]
    assert FLAG_TIME in r["cost_of_rule_flag"] and "time_limit" in r["rule_cost_resolves"]
    assert format_rule_cost(r).endswith("[re-solve stopped at its time limit]")
    assert r["cost_of_rule_low_pv"] <= r["cost_of_rule_pv"] <= r["cost_of_rule_high_pv"]  # still a true interval


def test_warm_started_solve_reports_the_objective_of_its_plan(example_floor):
    """HiGHS 1.16 with a MIP start and presolve on reported 'optimal' at 1.4222e11 for the example without the PUE
    cap while returning the start (1.4590e11); the true optimum is about 1.4432e11. Rule costs and the frontier
    warm-start, so the planner turns presolve off for warm starts and checks the objective against c'x."""
    sc, m, s, _ = example_floor
    m2 = build_model(sc.with_changes({"rules.pue_cap.enabled": False}))
    warm = solve(m2, mip_gap=1e-4, duals=False, start=map_solution(m, s.x, m2))
    cold = solve(m2, mip_gap=1e-4, duals=False)
    assert warm.status == "optimal" and cold.status == "optimal"
    assert warm.objective == pytest.approx(float(m2.c @ warm.x + m2.offset), rel=1e-9)
    assert warm.objective >= cold.bound - 1e-6 * abs(cold.bound)
    assert abs(warm.objective - cold.objective) <= 2e-4 * cold.objective
    assert np.isfinite(warm.bound) and warm.bound <= warm.objective
