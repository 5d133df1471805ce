"""Profiles (strengths, peers, radar, quadrant) and what-if scenarios."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcindex import explain
from dcindex.errors import InputError
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
    # quadrant: the pattern analysis' definition (dcindex.pattern.quadrants), first year to the profile year
    from dcindex.pattern import quadrants

    table = pd.DataFrame(r.scores_array[:, :, j].T, index=r.unit_codes, columns=r.years)
    want = quadrants(table, start=r.years[0], end=2018).set_index("unit")
    q = p.quadrant.set_index("unit")
    assert p.quadrant_label == want.loc["u4", "quadrant"]
    assert q.loc["u4", "growth"] == pytest.approx(want.loc["u4", "growth"])
    assert q.loc["u4", "is_unit"] and q["is_unit"].sum() == 1
    out = p.to_dir(tmp_path / "prof")
    assert (out / "strengths.csv").is_file() and (out / "radar.csv").is_file() and "Profile of" in p.summary()


def test_profile_quadrant_agrees_with_the_pattern_analysis_for_every_unit():
    """One definition of the score x growth quadrant: profile == pattern for every unit (QA: 四川 was 'falling
    behind' in the pattern analysis but 'leading and accelerating' in its profile). The pattern side is the call
    pattern.analyse makes: quadrants(as_panel(result).values, growth=...)."""
    import inspect

    from dcindex.pattern import as_panel, quadrants

    r = simple_build(T=5, N=15, seed=11, nan_frac=0.05,
                     recipe={"impute": {"method": "linear", "edges": "nearest"}})
    table = as_panel(r).values
    has_growth = "growth" in inspect.signature(quadrants).parameters
    for growth in (None, "change", "cagr") if has_growth else (None,):
        want = quadrants(table, **({} if growth is None else {"growth": growth})).set_index("unit")["quadrant"]
        assert len(want) == 15 and want.nunique() >= 3
        got = {u: explain.profile(r, u, growth=growth).quadrant_label for u in r.unit_codes}
        assert got == want.to_dict(), growth
    # a pillar and another period: the same function with the same thresholds
    w2 = quadrants(as_panel(r, node="P2").values, start=2017, end=2019).set_index("unit")["quadrant"]
    for u in r.unit_codes:
        assert explain.profile(r, u, 2019, "P2", since=2017).quadrant_label == w2[u]
    with pytest.raises(InputError, match="not before the profile year"):
        explain.profile(r, "u1", 2017, since=2018)
    with pytest.raises(InputError, match="growth"):
        explain.profile(r, "u1", growth="nope")


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


# ------------------------------------------------------------------------ what-if: non-negative data
def test_whatif_refuses_or_clips_values_made_negative():
    """QA: patent_grants -150% was accepted and rebuilt with a negative count."""
    r = simple_build(N=9, seed=2)  # all raw values in [1, 10]
    with pytest.raises(InputError, match="negative") as ei:
        explain.whatif(r, {"a": "-150%"}, units=["u1"])
    assert "u1 2018" in str(ei.value) and "clip" in str(ei.value)
    for spec in ("-20", {"set": -1}, {"mult": -1}):
        with pytest.raises(InputError, match="negative"):
            explain.whatif(r, {"c": spec}, where={"grp": "A"})
    with pytest.warns(UserWarning, match="clipped to 0"):
        w = explain.whatif(r, {"a": "-150%", "c": "-5%"}, units=["u1", "u2"], negative="clip")
    ap = w.applied.set_index(["unit", "indicator"])
    assert ap.loc[("u1", "a"), "after"] == 0 and ap.loc[("u1", "a"), "clipped"]
    assert not ap.loc[("u1", "c"), "clipped"] and ap.loc[("u1", "c"), "after"] > 0
    assert any("clipped to 0" in n for n in w.notes) and "clipped to 0" in w.summary()
    V = r.panel.values.copy()
    V[-1, [1, 2], 0] = 0.0
    V[-1, [1, 2], 2] *= 0.95
    manual = r.rebuild(data=r.panel.with_values(V))
    assert np.array_equal(manual.scores_array, w.after.scores_array, equal_nan=True)
    # -100 % is allowed (0 is a possible value); indicators with negative data accept negative results
    assert explain.whatif(r, {"a": "-100%"}, units=["u1"]).applied["after"].iloc[0] == 0
    V = r.panel.values.copy()
    V[0, 0, 1] = -3.0
    r2 = r.rebuild(data=r.panel.with_values(V))
    w2 = explain.whatif(r2, {"b": "-20"}, units=["u1"])
    assert w2.applied["after"].iloc[0] < 0 and not w2.notes
    with pytest.raises(InputError, match="negative='nope'"):
        explain.whatif(r, {"a": "+1%"}, units=["u1"], negative="nope")


# ------------------------------------------------------------------------------------ unit names
def _chinese_result():
    import dcindex
    from dcindex.data import Panel

    from test_explain_fixtures import framework

    fw = framework([[("a", 1, 1.0)], [("b", 1, 1.0)]])
    codes = ["110000", "310000", "510000", "520000", "440000"]
    units = pd.DataFrame({"name": ["北京市", "上海市", "四川省", "贵州省", "广东省"]},
                         index=pd.Index(codes, name="unit"))
    X = np.random.default_rng(0).uniform(1, 10, (2, 5, 2))
    return dcindex.build(Panel(units=units, years=[2022, 2023], indicators=["a", "b"], values=X), fw)


def test_units_by_short_chinese_pinyin_and_english_names():
    """QA: --unit 四川 was rejected although 四川省, Sichuan and 510000 worked."""
    r = _chinese_result()
    for name in ("四川", "四川省", "Sichuan", "sichuan", "SICHUAN", "510000", 510000, "Sichuan Province",
                 " 四川 "):
        assert explain.profile(r, name).unit == "510000", name
    assert explain.change(r, "贵州", 2022, 2023)["contribution"].sum() == pytest.approx(
        r.scores_array[1, 3, -1] - r.scores_array[0, 3, -1], abs=1e-12)
    cu = explain.compare_units(r, "Beijing", "上海", 2023)
    assert (cu.unit, cu.other) == ("110000", "310000")
    w = explain.whatif(r, {"a": "+10%"}, units=["四川", "Guangdong"])
    assert set(w.selected) == {"510000", "440000"}
    with pytest.raises(InputError, match="city 510100") as ei:  # a city in a province result
        explain.profile(r, "成都")
    assert "not one of them" in str(ei.value)
    with pytest.raises(InputError, match="close matches: .*510000 四川省"):
        explain.profile(r, "四州")
    with pytest.raises(InputError, match="close matches: 510000 四川省"):
        explain.profile(r, "Sichaun")
    with pytest.raises(InputError, match="not in this result"):
        explain.profile(r, "重庆")  # a province that is not in the result


def test_units_by_own_names_and_close_matches():
    r = simple_build(N=6)
    assert explain.profile(r, "unit 3").unit == "u3"  # names: case-insensitive
    with pytest.raises(InputError, match="close matches: u3 Unit 3"):
        explain.profile(r, "Unti 3")
    with pytest.raises(InputError, match="no unit has a similar code or name"):
        explain.profile(r, "zzzzzz")
