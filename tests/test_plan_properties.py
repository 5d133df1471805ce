"""Property tests on random small scenarios: the vectorised HiGHS model and the constraint-by-constraint PuLP/CBC
model agree on feasibility and optimum; reported costs add up to the objective; demand is met; rules hold."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcindex.plan import toy_scenario
from dcindex.plan.api import solve_scenario
from dcindex.plan.results import extract_tables

pulp = pytest.importorskip("pulp")

PROV = ["110000", "150000", "310000", "510000", "520000", "640000"]


@st.composite
def scenarios(draw):
    ns = draw(st.integers(2, 3))
    years = [2025, 2026][: draw(st.integers(1, 2))]
    sites = []
    for i in range(ns):
        sites.append({
            "site_id": f"S{i}", "province_code": draw(st.sampled_from(PROV)),
            "region": draw(st.sampled_from(["east", "west"])), "hub": draw(st.booleans()),
            "existing_racks": draw(st.sampled_from([0, 20, 60])),
            "max_new_racks": draw(st.sampled_from([50, 200])),
            "capex_yuan_per_rack": draw(st.integers(0, 400)),
            "pue_design": draw(st.sampled_from([1.2, 1.3, 1.4])), "pue_best": 1.15,
            "retrofit_cost_yuan_per_mwh": draw(st.integers(100, 900)),
            "grid_price_yuan_per_kwh": draw(st.sampled_from([0.3, 0.5, 0.8])),
            "green_price_yuan_per_kwh": draw(st.sampled_from([0.25, 0.45, 0.9])),
            "module_racks": draw(st.sampled_from([0, 0, 20])),
        })
        if sites[-1]["existing_racks"] == 0:  # greenfield sites may need opening
            sites[-1]["open_cost_yuan"] = draw(st.sampled_from([0, 0, 2000]))
    classes = [{"name": "realtime", "max_latency_ms": 5}, {"name": "batch", "shiftable": draw(st.booleans())}]
    demand = {("310000", c["name"], y): float(draw(st.integers(0, 80))) for c in classes for y in years}
    lat = {("310000", s["site_id"]): float(draw(st.sampled_from([2.0, 8.0]))) for s in sites}
    green = {(s["site_id"], y): draw(st.sampled_from([0.0, 0.3, 2.0])) for s in sites for y in years}
    rules = {r: {"enabled": draw(st.booleans())} for r in ("latency", "utilisation_floor", "hub_share", "green_share",
                                                            "pue_cap", "site_limits", "time_shift")}
    rules["hub_share"]["scope"] = draw(st.sampled_from(["horizon", "year"]))
    periods = [{"name": "day", "hours": 12, "grid_price_factor": 1.3, "green_share": 0.6},
               {"name": "night", "hours": 12, "grid_price_factor": 0.7, "green_share": 0.4}]
    return toy_scenario(sites, demand, latency=lat, green=green, years=years, classes=classes, rules=rules,
                        technical={"periods": periods},
                        economics={"discount_rate": 0.05, "capex_lifetime_years": 8, "carbon_price_yuan_per_t": 40})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_scenarios_agree_with_pulp_and_keep_invariants(sc):
    from dcindex.plan.reference import solve_pulp

    m, s = solve_scenario(sc)
    status, obj, _, _ = solve_pulp(sc)
    if s.status != "optimal":
        assert s.status == "infeasible" and status == "Infeasible"
        return
    assert status == "Optimal"
    assert s.objective == pytest.approx(obj, rel=1e-6, abs=1e-4)
    t = extract_tables(sc, m, s)
    assert t["costs"]["yuan_pv"].sum() == pytest.approx(s.objective, rel=1e-7, abs=1e-4)
    d = t["demand"]
    assert np.allclose(d["served_racks"] + d["unmet_racks"], d["demand_racks"], atol=1e-6)
    assert (t["utilisation"]["idle_racks"] >= -1e-6).all()
    if sc.spec.rules.utilisation_floor.enabled:
        u = t["utilisation"]
        hub = u[u["hub"] & (u["installed_racks"] > 0)]
        assert (hub["used_racks"] >= 0.65 * hub["installed_racks"] - 1e-6).all()
    e = t["emissions"]
    assert (e["emissions_net_t"] <= e["emissions_location_t"] + 1e-9).all()
    gs = t["green_share"]
    assert gs.loc[gs["compliant"].notna(), "compliant"].astype(bool).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(["latency", "utilisation_floor", "hub_share", "green_share", "pue_cap",
                                     "site_limits", "modules", "site_opening"]))
def test_switching_a_rule_off_never_costs_more(sc, rule):
    """Every rule except time shifting only restricts the plan, so switching it off never raises the optimum
    (the site-opening big-M once made site_limits off dearer)."""
    m, s = solve_scenario(sc)
    if s.status != "optimal" or not getattr(sc.spec.rules, rule).enabled:
        return
    m2, s2 = solve_scenario(sc.with_changes({f"rules.{rule}.enabled": False}))
    assert s2.status == "optimal"
    assert s2.objective <= s.objective + 1e-7 * max(1.0, abs(s.objective))
