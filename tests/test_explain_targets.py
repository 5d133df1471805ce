"""Targets: the LP against an independent greedy solution, plans verified by rebuilding, bounds and caps."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dcindex
from dcindex import explain
from dcindex.errors import InputError

from test_explain_fixtures import framework, panel, simple_build

GP = {"normalise": {"method": "goalposts"}}


def apply_plan(res, plan):
    """Independent check: write the plan's new raw values into the data and rebuild."""
    V = res.panel.values.copy()
    t = res.years.index(plan.year)
    n = res.unit_codes.index(plan.unit)
    for _, r in plan.changes.iterrows():
        V[t, n, res.framework.indicators.index(r["indicator"])] = r["new"]
    return res.rebuild(data=res.panel.with_values(V))


def greedy_min_cost(gain, cost, ub, need):
    """Fractional knapsack (covering form): cheapest cost per gain first. Optimal for one constraint."""
    order = np.argsort(cost / np.where(gain > 0, gain, np.nan))
    y = np.zeros_like(gain)
    left = need
    for i in order:
        if gain[i] <= 0 or left <= 0:
            continue
        take = min(ub[i], left / gain[i])
        y[i] = take
        left -= take * gain[i]
    return (cost @ y) if left <= 1e-12 else np.inf


def test_lp_is_least_cost_against_greedy_and_gains_against_rebuilds():
    r = simple_build(N=8, seed=1, goalposts=True, recipe=GP)
    unit, t, n = "u3", 2, 3
    bounds = {"a": (None, 15.0), "b": (0.5, None), "c": (None, 30.0), "d": (None, 12.0), "e": (None, 14.0)}
    costs = {"a": 1.0, "b": 2.0, "c": 0.5, "d": 1.0, "e": 3.0}
    plan = explain.target(r, unit, rank=1, bounds=bounds, costs=costs, cost_unit="raw")
    assert plan.linear and plan.status == "reached" and plan.verified and "linear programme" in plan.method
    # gains per raw unit measured by rebuilding with a small step (the linear model must be exact)
    j = r.node_index("IDX")
    s0 = r.scores_array[t, n, j]
    fw = r.framework
    g, ub, c = [], [], []
    for k in fw.indicators:
        d = fw.nodes[k].direction
        V = r.panel.values.copy()
        V[t, n, fw.indicators.index(k)] += d * 0.25
        g.append((r.rebuild(data=r.panel.with_values(V)).scores_array[t, n, j] - s0) / 0.25)
        cur = r.panel.values[t, n, fw.indicators.index(k)]
        lo, hi = bounds[k]
        lim = hi if d > 0 else lo
        cap = 20.0 if d > 0 else 0.0  # goalposts [0, 20] in the fixture
        lim = min(lim, cap) if d > 0 else max(lim, cap)
        ub.append(max(0.0, (lim - cur) * d))
        c.append(costs[k])
    g, ub, c = map(np.array, (g, ub, c))
    gl = plan.changes.set_index("indicator")
    need = plan.threshold - plan.score_before + 1e-6
    assert plan.total_cost == pytest.approx(greedy_min_cost(g, c, ub, need), rel=1e-9)
    np.testing.assert_allclose(gl["max_improvement"].to_numpy(), ub, rtol=1e-12)
    after = apply_plan(r, plan)
    assert after.ranks_array[t, n, j] == 1
    assert np.array_equal(after.scores_array, plan.after.scores_array, equal_nan=True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.integers(1, 4), st.integers(0, 6), st.sampled_from([None, 40.0, 150.0]))
def test_linear_plans_verified_by_rebuilding(seed, k, unit, max_change):
    r = simple_build(N=7, seed=seed, goalposts=True, recipe=GP)
    code = f"u{unit}"
    plan = explain.target(r, code, rank=k, max_change=max_change)
    t, n, j = len(r.years) - 1, unit, r.node_index("IDX")
    if plan.status == "already met":
        assert r.ranks_array[t, n, j] <= k
        return
    after = apply_plan(r, plan)
    ch = plan.changes
    # bounds: within the observed range, the cap and max_change; only improvements
    raw = r.panel.values
    for _, row in ch.iterrows():
        col = raw[..., r.framework.indicators.index(row["indicator"])]
        d = row["direction"]
        assert (row["new"] - row["current"]) * d >= -1e-12
        best = np.nanmax(col) if d > 0 else np.nanmin(col)
        assert (best - row["new"]) * d >= -1e-9
        if max_change is not None:
            assert abs(row["new"] - row["current"]) <= abs(row["current"]) * max_change / 100 * (1 + 1e-9)
    if plan.status == "reached":
        assert plan.verified and after.ranks_array[t, n, j] <= k
    else:
        assert plan.status == "unreachable" and after.ranks_array[t, n, j] > k
        # everything useful is at its bound (LP infeasible): no cheaper or better plan exists within them
        assert all(ch["at_bound"] | (ch["change"] == 0))


def test_score_target_and_unreachable_report():
    r = simple_build(N=6, seed=2, goalposts=True, recipe=GP)
    n, t, j = 1, 2, r.node_index("IDX")
    s0 = r.scores_array[t, n, j]
    plan = explain.target(r, "u1", score=s0 + 5)
    assert plan.status == "reached" and apply_plan(r, plan).scores_array[t, n, j] >= s0 + 5 - 1e-9
    assert plan.total_cost > 0 and plan.reached
    bad = explain.target(r, "u1", score=99.0, max_change=5)
    assert bad.status == "unreachable" and not bad.reached and any("unreachable" in x for x in bad.notes)
    assert bad.changes["at_bound"].any()
    met = explain.target(r, "u1", score=s0 - 1)
    assert met.status == "already met" and met.total_cost == 0


def test_heuristic_reaches_rank_targets_under_relative_methods():
    r = simple_build(N=8, seed=6, recipe={"treat": {"method": "winsorise"},
                                          "normalise": {"method": "minmax", "low": 1, "high": 100},
                                          "aggregate": {"method": "geometric",
                                                        "by_level": {2: {"method": "arithmetic"}}}})
    t, j = 2, r.node_index("IDX")
    worst = int(np.argmax(r.ranks_array[t, :, j]))
    plan = explain.target(r, f"u{worst}", rank=3, max_change=300)
    assert not plan.linear and "heuristic" in plan.method and plan.reasons
    after = apply_plan(r, plan)
    if plan.status == "reached":
        assert after.ranks_array[t, worst, j] <= 3
    else:  # then even every indicator at its bound must fail
        assert plan.status == "unreachable"
    assert plan.rebuilds > 0


def test_denominated_goalposts_stay_linear():
    rng = np.random.default_rng(9)
    fw = framework([[("a", 1, 1.0), ("b", 1, 1.0)], [("c", -1, 1.0)]],
                   goalposts={"a": (0, 5), "b": (0, 2), "c": (0, 3)}, denominators={"a": "pop", "c": "pop"})
    X = rng.uniform(1, 10, (2, 7, 3))
    D = rng.uniform(2, 4, (2, 7, 1))
    p = panel(fw, X, denominators=D, denominator_codes=["pop"])
    r = dcindex.build(p, fw, {"denominate": True, "normalise": {"method": "goalposts"}})
    plan = explain.target(r, "u2", rank=2, cost_unit="raw")
    assert plan.linear
    if plan.status != "already met":
        after = apply_plan(r, plan)
        assert after.ranks_array[1, 2, r.node_index("IDX")] <= 2 and plan.verified


def test_target_errors():
    r = simple_build(goalposts=True, recipe=GP)
    with pytest.raises(InputError, match="exactly one target"):
        explain.target(r, "u1")
    with pytest.raises(InputError, match="rank 99"):
        explain.target(r, "u1", rank=99)
    with pytest.raises(InputError, match="'zz' is not an indicator"):
        explain.target(r, "u1", rank=1, bounds={"zz": (0, 1)})
    with pytest.raises(InputError, match="not below"):
        explain.target(r, "u1", rank=1, node="P1", indicators=["c"])
    with pytest.raises(InputError, match="linear"):
        explain.target(simple_build(), "u1", rank=1, method="lp")


def test_fixed_indicators_do_not_move_and_output(tmp_path):
    r = simple_build(N=7, seed=4, goalposts=True, recipe=GP)
    worst = int(np.argmax(r.ranks_array[-1, :, -1]))
    plan = explain.target(r, f"u{worst}", rank=4, fixed=["a", "d"])
    assert set(plan.changes["indicator"]) == {"b", "c", "e"}
    out = plan.to_dir(tmp_path / "t")
    assert (out / "target_plan.csv").is_file() and (out / "target.json").is_file()
    assert "Target for" in plan.summary()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.integers(1, 3),
       st.sampled_from([{"normalise": {"method": "minmax"}},
                        {"normalise": {"method": "minmax", "low": 1, "high": 100},
                         "aggregate": {"method": "topsis"}},
                        {"normalise": {"method": "zscore"}, "treat": {"method": "winsorise"},
                         "weights": {"method": "equal"}}]))
def test_heuristic_plans_verified_by_rebuilding(seed, k, recipe):
    r = simple_build(N=6, T=2, seed=seed, recipe=recipe)
    t, j = len(r.years) - 1, r.node_index("IDX")
    n = int(np.argmax(r.ranks_array[t, :, j]))  # the last unit
    plan = explain.target(r, f"u{n}", rank=k, max_change=400)
    assert plan.status in ("reached", "unreachable") and not plan.linear
    after = apply_plan(r, plan)
    assert np.array_equal(after.scores_array, plan.after.scores_array, equal_nan=True)
    if plan.status == "reached":
        assert after.ranks_array[t, n, j] <= k and plan.verified
    else:  # the plan reported is every indicator at its bound, and it does not reach the target
        assert after.ranks_array[t, n, j] > k and plan.changes["at_bound"][plan.changes["max_improvement"] > 0].all()


def test_heuristic_matches_the_lp_on_a_linear_index():
    # on a linear index the heuristic's measured gains are exact, so its plan costs what the LP's does
    for seed in (1, 2, 3):
        r = simple_build(N=7, seed=seed, goalposts=True, recipe=GP)
        n = int(np.argmax(r.ranks_array[-1, :, -1]))
        lp = explain.target(r, f"u{n}", rank=2)
        hz = explain.target(r, f"u{n}", rank=2, method="heuristic")
        assert lp.status == hz.status == "reached"
        assert lp.total_cost <= hz.total_cost + 1e-6
        assert hz.total_cost <= lp.total_cost * 1.01 + 1e-6


# ------------------------------------------------------------------------------------------ group targets
def apply_group_plan(res, plan):
    """Independent check: write every (unit, indicator) row's new raw value into the data and rebuild."""
    V = res.panel.values.copy()
    t = res.years.index(plan.year)
    for _, r in plan.changes.iterrows():
        V[t, res.unit_codes.index(r["unit"]), res.framework.indicators.index(r["indicator"])] = r["new"]
    return res.rebuild(data=res.panel.with_values(V))


def group_gap(res, t, j, group, reference):
    S = res.scores_array[t, :, j]
    gi = [res.unit_codes.index(u) for u in group]
    ri = [res.unit_codes.index(u) for u in reference]
    return S[ri].mean() - S[gi].mean()


def test_group_gap_lp_is_least_cost_and_verified_by_rebuilding():
    r = simple_build(N=9, seed=1, goalposts=True, recipe=GP)
    t, j = 2, r.node_index("IDX")
    plan = explain.target(r, group="grp=A", reference="grp=B", close_gap=1.0, max_change=60)
    assert plan.linear and plan.status == "reached" and "linear programme" in plan.method
    A = [u for u in r.unit_codes if r.units.loc[u, "grp"] == "A"]
    B = [u for u in r.unit_codes if r.units.loc[u, "grp"] == "B"]
    assert plan.group == A and plan.reference == B
    g0 = group_gap(r, t, j, A, B)
    after = apply_group_plan(r, plan)
    assert np.array_equal(after.scores_array, plan.after.scores_array, equal_nan=True)
    assert group_gap(after, t, j, A, B) <= g0 - 1.0 + 1e-9
    assert plan.gap_after == pytest.approx(group_gap(after, t, j, A, B), abs=1e-12)
    # least cost: the gain of each (unit, indicator) on the gap measured by rebuilding, then the greedy optimum
    ch = plan.changes
    gains = []
    for _, row in ch.iterrows():
        V = r.panel.values.copy()
        k = r.framework.indicators.index(row["indicator"])
        V[t, r.unit_codes.index(row["unit"]), k] += row["direction"] * 0.25
        gains.append((g0 - group_gap(r.rebuild(data=r.panel.with_values(V)), t, j, A, B)) / 0.25)
    gains = np.array(gains)
    best = greedy_min_cost(gains, ch["cost_per_unit"].to_numpy(), ch["max_improvement"].to_numpy(), 1.0)
    assert plan.total_cost == pytest.approx(best, rel=1e-6)
    # only group members change, and no value beyond its bound
    assert set(ch.loc[ch["change"] != 0, "unit"]) <= set(A)
    assert (ch["change"].abs() <= ch["max_improvement"] + 1e-9).all()
    s = plan.summary()
    assert "Group target" in s and "gap" in s and "reached" in s


def test_group_mean_score_heuristic_under_relative_methods(tmp_path):
    r = simple_build(N=8, seed=6, recipe={"normalise": {"method": "minmax", "low": 1, "high": 100}})
    t, j = 2, r.node_index("IDX")
    grp = ["u1", "u4", "u7"]
    m0 = r.scores_array[t, [1, 4, 7], j].mean()
    plan = explain.target(r, group=grp, score=m0 + 4, max_change=200)
    assert not plan.linear and "heuristic" in plan.method
    after = apply_group_plan(r, plan)
    if plan.status == "reached":
        assert after.scores_array[t, [1, 4, 7], j].mean() >= m0 + 4 - 1e-9 and plan.verified
    else:
        assert plan.status == "unreachable"
    out = plan.to_dir(tmp_path / "g")
    assert (out / "target_plan.csv").is_file() and (out / "target_units.csv").is_file()


def test_group_gap_to_all_units_counts_members_in_both_means():
    r = simple_build(N=9, seed=3, goalposts=True, recipe=GP)
    t, j = 2, r.node_index("IDX")
    S = r.scores_array[t, :, j]
    low = [r.unit_codes[i] for i in np.argsort(S)[:3]]
    plan = explain.target(r, group=low, reference="all", gap=S.mean() - S[np.argsort(S)[:3]].mean() - 0.5)
    assert plan.linear and plan.status == "reached" and any("both" in x for x in plan.notes)
    after = apply_group_plan(r, plan)
    Sa = after.scores_array[t, :, j]
    gi = [r.unit_codes.index(u) for u in low]
    assert Sa.mean() - Sa[gi].mean() <= S.mean() - S[gi].mean() - 0.5 + 1e-9


def test_group_target_unreachable_and_errors():
    r = simple_build(N=9, seed=2, goalposts=True, recipe=GP)
    bad = explain.target(r, group="grp=C", score=99.0, max_change=5)
    assert bad.status == "unreachable" and not bad.reached and any("unreachable" in x for x in bad.notes)
    met = explain.target(r, group="grp=A", reference="grp=B", gap=1e6)
    assert met.status == "already met" and met.total_cost == 0 and met.after is r
    with pytest.raises(InputError, match="no rank target"):
        explain.target(r, group="grp=A", rank=1)
    with pytest.raises(InputError, match="needs a reference"):
        explain.target(r, group="grp=A", close_gap=1)
    with pytest.raises(InputError, match="exactly one group target"):
        explain.target(r, group="grp=A", reference="grp=B")
    with pytest.raises(InputError, match="not both"):
        explain.target(r, "u1", group="grp=A", score=3)
    with pytest.raises(InputError, match="must be positive"):
        explain.target(r, group="grp=A", reference="grp=B", close_gap=0)
    with pytest.raises(InputError, match="targets of a group"):
        explain.target(r, "u1", gap=1)
    with pytest.raises(InputError, match="no unit has grp"):
        explain.target(r, group="grp=Z", score=1)
