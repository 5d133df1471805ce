"""Two editions: data revision, method change and real change add up to the published change."""
from __future__ import annotations

import numpy as np
import pytest

import dcindex
from dcindex import explain
from dcindex.data import Panel
from dcindex.explain.editions import align_panel

from test_explain_fixtures import framework, panel, simple_build


def revise(res, seed=1, scale=0.05):
    """A new data vintage: every raw value revised by up to +-5 %."""
    rng = np.random.default_rng(seed)
    V = res.panel.values * (1 + scale * rng.uniform(-1, 1, res.panel.values.shape))
    return res.panel.with_values(V)


def three_factor_by_hand(old, new, s, e, unit):
    """Shapley over (data, method, time) written out with its weights (1/3, 1/6, 1/6, 1/3), from explicit builds."""
    fw0, rc0, fw1, rc1 = old.framework, old.recipe, new.framework, new.recipe
    B = {(0, 0): old, (1, 1): new,
         (1, 0): dcindex.build(align_panel(new.panel, fw0), fw0, rc0),
         (0, 1): dcindex.build(align_panel(old.panel, fw1), fw1, rc1)}

    def v(d, m, t):
        b = B[(d, m)]
        return b.scores_array[b.years.index(e if t else s), b.unit_codes.index(unit), -1]

    def phi(i):
        tot = 0.0
        for a in (0, 1):
            for b in (0, 1):
                k = a + b  # size of the coalition of the other two players
                w = 1 / 3 if k in (0, 2) else 1 / 6
                x = [a, b]
                x.insert(i, 1)
                y = [a, b]
                y.insert(i, 0)
                tot += w * (v(*x) - v(*y))
        return tot

    return phi(0), phi(1), phi(2)


def test_three_factors_match_a_hand_written_shapley_and_add_up():
    old = simple_build(T=3, seed=0)
    new = dcindex.build(revise(old), old.framework, old.recipe.replace(aggregate={"method": "geometric"},
                                                                      normalise={"method": "minmax", "low": 1}))
    ec = explain.compare_editions(old, new, start=2017, end=2018)
    t = ec.table.set_index("unit")
    assert (t["path"] == "Shapley over data, method and time").all()
    np.testing.assert_allclose(t["data_revision"] + t["method_change"] + t["real_change"], t["change"], atol=1e-10)
    np.testing.assert_allclose(t["change"], new.scores_array[2, :, -1] - old.scores_array[1, :, -1], atol=1e-12)
    for u in ("u0", "u5"):
        d, m, tm = three_factor_by_hand(old, new, 2017, 2018, u)
        assert t.loc[u, "data_revision"] == pytest.approx(d, abs=1e-10)
        assert t.loc[u, "method_change"] == pytest.approx(m, abs=1e-10)
        assert t.loc[u, "real_change"] == pytest.approx(tm, abs=1e-10)
    wf = ec.waterfall("u0")
    assert wf["cumulative"].iloc[-2] == pytest.approx(t.loc["u0", "new_score"])
    assert "method changes" in ec.summary()
    assert any("aggregate" in c for c in ec.method_changes)


def test_pure_data_revision_has_no_method_part_and_vice_versa():
    old = simple_build(T=2, seed=2)
    new = old.rebuild(data=revise(old))
    t = explain.compare_editions(old, new, start=2017, end=2017).table
    np.testing.assert_allclose(t["method_change"], 0, atol=1e-12)
    np.testing.assert_allclose(t["real_change"], 0, atol=1e-12)
    np.testing.assert_allclose(t["data_revision"], t["change"], atol=1e-12)
    new2 = old.rebuild(normalise={"method": "zscore"})
    t2 = explain.compare_editions(old, new2, start=2016, end=2017).table
    np.testing.assert_allclose(t2["data_revision"], 0, atol=1e-12)
    assert (t2["main_factor"] != "data revision").all()
    np.testing.assert_allclose(t2["data_revision"] + t2["method_change"] + t2["real_change"], t2["change"],
                               atol=1e-10)


def test_new_indicator_merges_data_and_method():
    rng = np.random.default_rng(3)
    fw_old = framework([[("a", 1, 1.0), ("b", 1, 1.0)], [("c", 1, 1.0)]])
    fw_new = framework([[("a", 1, 1.0), ("b", 1, 1.0)], [("c", 1, 1.0), ("z", 1, 1.0)]])
    X = rng.uniform(1, 10, (2, 7, 4))
    old = dcindex.build(panel(fw_old, X[..., :3]), fw_old)
    new = dcindex.build(panel(fw_new, X * 1.01), fw_new)
    ec = explain.compare_editions(old, new, start=2016, end=2017)
    t = ec.table
    assert t["data_revision"].isna().all() and t["revision"].notna().all()
    np.testing.assert_allclose(t["revision"] + t["real_change"], t["change"], atol=1e-10)
    assert any("cannot be separated" in n for n in ec.notes)
    assert any("indicators added: z" in c for c in ec.method_changes)


def test_new_year_takes_the_sequential_path(tmp_path):
    rng = np.random.default_rng(4)
    fw = framework([[("a", 1, 1.0)], [("b", -1, 1.0), ("c", 1, 2.0)]])
    X = rng.uniform(1, 10, (3, 6, 3))
    old = dcindex.build(panel(fw, X[:2]), fw)  # 2016-2017
    V = X.copy()
    V[:2] *= 1.02  # revised history
    new = dcindex.build(panel(fw, V), fw, {"normalise": {"method": "zscore"}})  # 2016-2018, new method
    ec = explain.compare_editions(old, new)  # old 2017 -> new 2018
    t = ec.table
    assert ec.start == 2017 and ec.end == 2018
    assert t["path"].str.startswith("sequential").all()
    np.testing.assert_allclose(t["data_revision"] + t["method_change"] + t["real_change"], t["change"], atol=1e-10)
    # real change measured in the new edition
    j = new.node_index("IDX")
    np.testing.assert_allclose(t["real_change"], new.scores_array[2, :, j] - new.scores_array[1, :, j], atol=1e-12)
    out = ec.to_dir(tmp_path / "ed")
    assert (out / "editions.csv").is_file() and (out / "editions.json").is_file()


def test_align_panel_reorders_columns():
    r = simple_build(T=2)
    p = r.panel
    rev = Panel(units=p.units, years=p.years, indicators=p.indicators[::-1], values=p.values[..., ::-1].copy())
    al = align_panel(rev, r.framework)
    assert al.indicators == r.framework.indicators and np.array_equal(al.values, p.values)


# ------------------------------------------------------------------ year sets: value revision vs reference set
POOLED = {"normalise": {"method": "minmax", "scope": "pooled"}}


def _two_vintages(seed=5, T_old=2, T_new=3, revise_by=0.0, N=7):
    rng = np.random.default_rng(seed)
    fw = framework([[("a", 1, 1.0), ("b", -1, 1.0)], [("c", 1, 2.0)]])
    X = rng.uniform(1, 10, (T_new, N, 3))
    V = X.copy()
    V[:T_old] *= 1 + revise_by * rng.uniform(-1, 1, V[:T_old].shape)
    return fw, X[:T_old], V


def test_added_year_under_pooled_scope_is_a_reference_set_change_not_a_data_revision():
    """QA: with pooled normalisation a newly added year moved every unit's 'data revision' although no value of the
    common years changed. That effect is now its own part; value_revision is exactly 0."""
    fw, Xo, Xn = _two_vintages()
    old = dcindex.build(panel(fw, Xo), fw, POOLED)  # 2016-2017
    new = dcindex.build(panel(fw, Xn), fw, POOLED)  # 2016-2018, same values for 2016-2017
    ec = explain.compare_editions(old, new)  # old 2017 -> new 2018
    t = ec.table
    assert ec.years_added == [2018] and ec.year_split
    assert (t["data_revision"].abs() > 1e-6).any()  # the added year moves the pooled min/max
    np.testing.assert_allclose(t["value_revision"], 0.0, atol=1e-12)
    np.testing.assert_allclose(t["reference_set_change"], t["data_revision"], atol=1e-12)
    np.testing.assert_allclose(t["data_revision"] + t["method_change"] + t["real_change"], t["change"], atol=1e-10)
    # the reference-set change is the new edition's 2017 score minus the old one (same method, same 2017 values)
    j = new.node_index("IDX")
    np.testing.assert_allclose(t["reference_set_change"], new.scores_array[1, :, j] - old.scores_array[1, :, j],
                               atol=1e-12)
    s = ec.summary()
    assert "adds 2018" in s and "reference_set_change" in s and "normalise scope: pooled" in s
    wf = ec.waterfall("u0")
    assert list(wf["code"]) == ["start", "value_revision", "reference_set_change", "method_change", "real_change",
                                "end"]
    assert wf["cumulative"].iloc[-2] == pytest.approx(t.set_index("unit").loc["u0", "new_score"])


def test_added_year_without_pooling_changes_nothing_in_the_common_years():
    fw, Xo, Xn = _two_vintages(seed=6)
    old = dcindex.build(panel(fw, Xo), fw)  # per-year min-max
    new = dcindex.build(panel(fw, Xn), fw)
    t = explain.compare_editions(old, new).table
    np.testing.assert_allclose(t[["data_revision", "value_revision", "reference_set_change"]], 0.0, atol=1e-12)


def test_revised_values_added_year_and_new_method_split_by_hand():
    """Revised values, one added year and a method change, 3-factor Shapley path (start and end in both vintages):
    value_revision is the data player's Shapley value in the game where old/new data are replaced by the
    common-years vintages B/A; reference_set_change is the rest of the data part."""
    fw, Xo, Xn = _two_vintages(seed=7, T_old=3, T_new=4, revise_by=0.05)
    old = dcindex.build(panel(fw, Xo), fw, POOLED)  # 2016-2018
    rc_new = {"normalise": {"method": "zscore", "scope": "pooled"}}
    new = dcindex.build(panel(fw, Xn), fw, rc_new)  # 2016-2019
    ec = explain.compare_editions(old, new, start=2017, end=2018)
    t = ec.table.set_index("unit")
    assert (t["path"] == "Shapley over data, method and time").all()
    A = panel(fw, Xn[:3])  # new values, common years
    B = panel(fw, Xo)  # old values, common years (= the old data)
    builds = {("A", 0): dcindex.build(A, fw, POOLED), ("A", 1): dcindex.build(A, fw, rc_new),
              ("B", 0): old, ("B", 1): dcindex.build(B, fw, rc_new)}
    w = {0: 1 / 3, 1: 1 / 6, 2: 1 / 3}
    for u in ("u0", "u3"):
        n = old.unit_codes.index(u)
        val = sum(w[m + tt] * (builds[("A", m)].scores_array[1 + tt, n, -1]
                               - builds[("B", m)].scores_array[1 + tt, n, -1]) for m in (0, 1) for tt in (0, 1))
        assert t.loc[u, "value_revision"] == pytest.approx(val, abs=1e-10)
    np.testing.assert_allclose(t["value_revision"] + t["reference_set_change"], t["data_revision"], atol=1e-12)
    np.testing.assert_allclose(t["data_revision"] + t["method_change"] + t["real_change"], t["change"], atol=1e-10)
    assert np.abs(t["reference_set_change"]).max() > 1e-6


def test_new_indicator_and_added_year_split_the_merged_revision():
    rng = np.random.default_rng(8)
    fw_old = framework([[("a", 1, 1.0), ("b", 1, 1.0)], [("c", 1, 1.0)]])
    fw_new = framework([[("a", 1, 1.0), ("b", 1, 1.0)], [("c", 1, 1.0), ("z", 1, 1.0)]])
    X = rng.uniform(1, 10, (3, 6, 4))
    old = dcindex.build(panel(fw_old, X[:2, :, :3]), fw_old, POOLED)
    new = dcindex.build(panel(fw_new, X), fw_new, POOLED)
    ec = explain.compare_editions(old, new)
    t = ec.table
    assert t["data_revision"].isna().all() and ec.year_split
    # reference set: new data with and without 2018 (new method) at 2017; the old vintage has no extra years
    A = dcindex.build(panel(fw_new, X[:2]), fw_new, POOLED)
    np.testing.assert_allclose(t["reference_set_change"], new.scores_array[1, :, -1] - A.scores_array[1, :, -1],
                               atol=1e-12)
    np.testing.assert_allclose(t["revision"] + t["real_change"], t["change"], atol=1e-10)
    wf = ec.waterfall("u1")
    assert "reference_set_change" in set(wf["code"])
    assert wf["cumulative"].iloc[-2] == pytest.approx(t.set_index("unit").loc["u1", "new_score"])
