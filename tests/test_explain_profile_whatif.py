"""Profiles (strengths, peers, radar, quadrant) and what-if scenarios."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcindex import explain
from dcindex.errors import InputError
from dcindex.explain.profiles import QUADRANTS
from dcindex.explain.scenarios import parse_change

from test_explain_fixtures import random_builds, simple_build


# ------------------------------------------------------------------------------------------ profile
def test_profile_against_direct_computation(tmp_path):
    r = simple_build(N=12, seed=5)
    p = explain.profile(r, "u4", 2018, margin=3, by="grp")
    t = r.years.index(2018)
    j = r.node_index("IDX")
    R = r.ranks_array[t]
    overall = R[4, j]
    assert p.rank == overall and p.n_units == 12
    for _, row in p.strengths.iterrows():
        rk = R[4, r.node_index(row["code"])]
        assert row["rank"] == rk and row["advantage"] == overall - rk
        want = "strength" if overall - rk >= 3 else ("weakness" if overall - rk <= -3 else "")
        assert row["label"] == want
    # peers: brute-force weighted RMS distance on the normalised values
    X = r.datasets["normalised"][t]
    w = r.framework.effective_weights().reindex(r.framework.indicators).to_numpy()
    w = w / w.sum()
    d = {f"u{m}": np.sqrt(np.sum(w * (X[m] - X[4]) ** 2)) for m in range(12) if m != 4}
    best = sorted(d, key=d.get)[:5]
    assert p.peers["unit"].tolist() == best
    np.testing.assert_allclose(p.peers["distance"], [d[u] for u in best], rtol=1e-12)
    # radar: pillar scores with cross-unit statistics and the group mean
    rad = p.radar.set_index("code")
    for c in ("P1", "P2"):
        col = r.scores_array[t, :, r.node_index(c)]
        assert rad.loc[c, "score"] == col[4] and rad.loc[c, "mean"] == pytest.approx(col.mean())
        grp = r.units["grp"].to_numpy()
        assert rad.loc[c, "group_mean"] == pytest.approx(col[grp == grp[4]].mean())
    # quadrant: level vs change since the first year, split at the medians
    q = p.quadrant.set_index("unit")
    lvl = r.scores_array[t, :, j]
    gr = lvl - r.scores_array[0, :, j]
    hi_l, hi_g = lvl[4] >= np.median(lvl), gr[4] >= np.median(gr)
    assert p.quadrant_label == QUADRANTS[(hi_l, hi_g)]
    assert q.loc["u4", "growth"] == pytest.approx(gr[4])
    out = p.to_dir(tmp_path / "prof")
    assert (out / "strengths.csv").is_file() and (out / "radar.csv").is_file() and "Profile of" in p.summary()


def test_profile_errors():
    r = simple_build()
    with pytest.raises(InputError, match="is an indicator"):
        explain.profile(r, "u1", node="a")
    with pytest.raises(InputError, match="group column 'nope'"):
        explain.profile(r, "u1", by="nope")


# ------------------------------------------------------------------------------------------ what-if
@pytest.mark.parametrize("spec,kind,amount", [("+20%", "pct", 20), ("-5%", "pct", -5), ("+3.5", "add", 3.5),
                                              ("-2", "add", -2), ("*1.2", "mult", 1.2), ("=100", "set", 100),
                                              ("20%", "pct", 20), (4, "add", 4), ({"pct": 10}, "pct", 10)])
def test_parse_change(spec, kind, amount):
    c = parse_change("a", spec)
    assert (c.kind, c.amount) == (kind, amount)


def test_parse_change_rejects_nonsense():
    for bad in ("abc", "+-3", "*5%", {"foo": 1}):
        with pytest.raises(InputError):
            parse_change("a", bad)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_builds(allow_nan=True), st.sampled_from(["+0%", "+0", "*1"]))
def test_zero_change_reproduces_the_build_exactly(res, spec):
    w = explain.whatif(res, {res.framework.indicators[0]: spec}, years="all")
    assert np.array_equal(w.after.scores_array, res.scores_array, equal_nan=True)
    assert np.array_equal(w.after.ranks_array, res.ranks_array, equal_nan=True)
    assert (w.scores["delta"].fillna(0) == 0).all()


def test_zero_change_with_treatment_and_denominators_is_exact():
    import dcindex

    r = dcindex.example()  # denominators and winsorisation
    w = explain.whatif(r, {"income_pc": "+0%", "pct_apps": "*1"}, where="region4=West")
    assert np.array_equal(w.after.scores_array, r.scores_array, equal_nan=True)


def test_whatif_equals_a_manual_rebuild_and_reports_groups(tmp_path):
    r = simple_build(N=9, seed=2)
    w = explain.whatif(r, {"a": "+20%", "c": "+1.5"}, where={"grp": "A"}, by="grp", reference="B")
    V = r.panel.values.copy()
    sel = r.units["grp"].to_numpy() == "A"
    V[-1, sel, 0] *= 1.2
    V[-1, sel, 2] += 1.5
    manual = r.rebuild(data=r.panel.with_values(V))
    assert np.array_equal(manual.scores_array, w.after.scores_array, equal_nan=True)
    assert set(w.selected) == set(r.units.index[sel]) and len(w.applied) == 2 * sel.sum()
    g = w.groups.set_index("group")
    t = len(r.years) - 1
    grp = r.units["grp"].to_numpy()
    for name in ("A", "B", "C"):
        assert g.loc[name, "mean_after"] == pytest.approx(manual.scores_array[t, grp == name, -1].mean())
    assert g.loc["B", "gap_after"] == 0 and g.loc["A", "gap_after"] == pytest.approx(
        g.loc["A", "mean_after"] - g.loc["B", "mean_after"])
    out = w.to_dir(tmp_path / "wi")
    assert (out / "whatif_scores.csv").is_file() and "What-if" in w.summary()
    # other years untouched in the data, selected units flagged
    sc = w.scores[(w.scores.node == "IDX") & (w.scores.year == r.years[-1])]
    assert sc.loc[sc.unit.isin(r.units.index[sel]), "selected"].all()


def test_whatif_units_years_and_set_on_missing():
    r = simple_build(nan_frac=0.15, seed=8)
    k = 1
    t_nan, n_nan = map(int, np.argwhere(np.isnan(r.panel.values[..., k]))[0])
    code = r.unit_codes[n_nan]
    w = explain.whatif(r, [f"b=={5.0}"], units=[code], years=[r.years[t_nan]])
    assert w.after.panel.values[t_nan, n_nan, k] == 5.0
    w2 = explain.whatif(r, {"b": "+10%"}, units=code, years=r.years[t_nan])
    assert any("stay missing" in n for n in w2.notes)
    w3 = explain.whatif(r, {"a": "+10%"}, units=["u0"], years="all")
    assert len(w3.applied) == int(np.sum(~np.isnan(r.panel.values[:, 0, 0])))


def test_whatif_errors():
    r = simple_build()
    with pytest.raises(InputError, match="'zz' is not an indicator"):
        explain.whatif(r, {"zz": "+1%"})
    with pytest.raises(InputError, match="no column 'region'"):
        explain.whatif(r, {"a": "+1%"}, where="region=West")
    with pytest.raises(InputError, match="no unit has grp"):
        explain.whatif(r, {"a": "+1%"}, where="grp=Z")
    with pytest.raises(InputError, match="reference group"):
        explain.whatif(r, {"a": "+1%"}, units=["u1"], by="grp", reference="Q")
    with pytest.raises(InputError, match="no changes"):
        explain.whatif(r, {})
