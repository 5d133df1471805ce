"""analyse(): all analyses in one call on tables and build results; reproducibility; notes; real data."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from dcindex.errors import InputError
from dcindex.pattern import PatternResult, analyse


def _lattice_panel(nr=6, nc=6, years=range(2015, 2021), seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"u{r}{c}" for r in range(nr) for c in range(nc)]
    base = np.array([50 + 8 * r for r in range(nr) for _ in range(nc)], float)
    vals = {}
    level = base + rng.normal(0, 3, base.size)
    for y in years:
        level = level * (1.04 + 0.01 * (base.max() - base) / base.max()) + rng.normal(0, 1, base.size)
        vals[y] = level.copy()
    table = pd.DataFrame(vals, index=ids)
    units = pd.DataFrame({"name": ids, "band": ["north" if i < nr // 2 * nc else "south" for i in range(len(ids))],
                          "pop": rng.integers(10, 100, len(ids)).astype(float)}, index=ids)
    edges = []
    for r in range(nr):
        for c in range(nc):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                if 0 <= r + dr < nr and 0 <= c + dc < nc:
                    edges.append((f"u{r}{c}", f"u{r + dr}{c + dc}"))
    return table, units, pd.DataFrame(edges, columns=["focal", "neighbor"])


def _as_build_result(table, units, root="IDX"):
    long = table.rename_axis(index="unit", columns="year").stack().rename("score").reset_index()
    long["node"], long["level"] = root, 2
    other = long.copy()
    other["node"], other["level"], other["score"] = "P1", 1, other["score"] * 0.5
    scores = pd.concat([long, other], ignore_index=True)
    scores["rank"] = scores.groupby(["node", "year"])["score"].rank(ascending=False).astype(int)
    return SimpleNamespace(scores=scores, units=units, framework=SimpleNamespace(root=root, pillars=["P1"]))


FAST = dict(B=49, permutations=49, markov_permutations=19)


def test_analyse_table_all_sections_and_reproducible(tmp_path):
    table, units, edges = _lattice_panel()
    t0, u0, e0 = table.copy(), units.copy(), edges.copy()
    res = analyse(table, by=units["band"], weights=units["pop"], w=edges, seed=3, **FAST)
    assert isinstance(res, PatternResult)
    expected = {"group_stats", "group_gaps", "gap_trends", "quadrants", "inequality", "theil_decomposition",
                "dagum_components", "dagum_groups", "dagum_pairs", "dagum_ci", "sigma_per_year", "sigma_trend",
                "beta_convergence", "kde_density", "kde_summary", "markov_transitions", "markov_classes",
                "rank_mobility", "moran", "lisa", "spatial_markov"}
    assert expected <= set(res.frames)
    assert set(res.frames["beta_convergence"]["design"]) == {"cross_section", "panel", "spatial_lag",
                                                             "spatial_error", "spatial_durbin"}
    assert res.frames["inequality"]["weighted"].any()  # population-weighted variants present
    text = res.summary()
    assert "Dagum" in text and "Moran" in text and "beta" in text
    # caller objects untouched
    pd.testing.assert_frame_equal(table, t0)
    pd.testing.assert_frame_equal(units, u0)
    pd.testing.assert_frame_equal(edges, e0)
    # same seed -> byte-identical output files; different seed -> different bootstrap
    a, b = tmp_path / "a", tmp_path / "b"
    res.to_dir(a)
    analyse(table, by=units["band"], weights=units["pop"], w=edges, seed=3, **FAST).to_dir(b)
    files = sorted(p.name for p in a.iterdir())
    assert "summary.json" in files and "dagum_ci.csv" in files
    assert not any(p.name.startswith(".") for p in a.iterdir())  # no temporary files left behind
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    other = analyse(table, by=units["band"], w=edges, seed=4, **FAST)
    assert not other.frames["dagum_ci"]["lower"].equals(res.frames["dagum_ci"]["lower"])


def test_build_result_input_equals_table_input():
    table, units, edges = _lattice_panel(seed=1)
    br = _as_build_result(table, units)
    r1 = analyse(br, by="band", w=edges, seed=0, **FAST)
    r2 = analyse(table, by=units["band"], w=edges, seed=0, **FAST)
    assert r1.label == "IDX"
    for name in ("dagum_components", "moran", "group_stats", "spatial_markov", "dagum_ci"):
        pd.testing.assert_frame_equal(r1.frames[name], r2.frames[name])
    p1 = analyse(br, by="band", node="P1", w=edges, seed=0, **FAST)
    assert p1.label == "P1"
    assert p1.frames["group_stats"]["mean"].to_numpy() == pytest.approx(r1.frames["group_stats"]["mean"] * 0.5)


def test_notes_for_skipped_parts():
    table, units, _ = _lattice_panel()
    res = analyse(table[[2020]], by=units["band"], **FAST)
    assert any("spatial analyses" in n and "skipped" in n for n in res.notes)
    assert any("year(s)" in n for n in res.notes)
    assert "moran" not in res.frames and "sigma_per_year" not in res.frames
    neg = table - table.mean().mean()  # negative values: log-based and Gini parts explain why they are skipped
    r = analyse(neg, by=units["band"], **FAST)
    assert any("Dagum decomposition" in n and "skipped" in n for n in r.notes)
    assert any(n.startswith("sigma convergence (sd of logs)") for n in r.notes)
    assert any(n.startswith("inequality: Gini and Theil T/L not computed") for n in r.notes)
    assert "sigma_per_year" in r.frames  # sd of levels is still there


def test_bad_groups():
    table, units, _ = _lattice_panel()
    with pytest.raises(InputError):
        analyse(table, by="nonexistent", units=units)
    g = units["band"].copy()
    g.iloc[0] = None
    with pytest.raises(InputError):
        analyse(table, by=g)
    with pytest.raises(InputError):
        analyse(table, by="band", units=units, weights="name")  # not numeric


def test_real_pku_provinces(shared_data, shared_facts, tmp_path):
    """PKU-DFIIC province index by region4, population-weighted with 2020 census population; weights from
    dcindex.china (queen, Hainan joined to its nearest province)."""
    from test_pattern_fixtures import pku_province, region4

    t = pku_province(shared_data)
    pop = pd.read_csv(shared_facts / "population_census2020.csv", dtype={"province_code": str})
    units = pd.DataFrame({"region4": region4(), "population": pop.set_index("province_code")["value"].astype(float)})
    res = analyse(t, by="region4", units=units, weights="population", seed=0, B=199, permutations=199,
                  markov_permutations=19, name="PKU-DFIIC")
    assert "moran" in res.frames, res.notes
    assert any("460000" in n for n in res.notes)  # Hainan island patch reported
    gs = res.frames["group_stats"]
    last = gs[gs["year"] == 2023].set_index("group")["mean"]
    assert last.idxmax() == "East"
    ineq = res.frames["inequality"]
    gini = ineq[(ineq["measure"] == "gini") & (~ineq["weighted"])].set_index("year")["value"]
    assert gini[2011] > 2 * gini[2023]  # the well-known narrowing of provincial digital-finance gaps
    assert res.scalars["sigma"]["sd_log"]["converging"]
    assert res.scalars["beta_cross_section_absolute"]["beta"] < 0
    d = res.scalars["dagum"]
    assert d["G"] == pytest.approx(d["Gw"] + d["Gnb"] + d["Gt"])
    assert (res.frames["moran"]["I"] > 0).all()
    res.to_dir(tmp_path / "p")
    assert (tmp_path / "p" / "summary.json").is_file()


def test_no_permutations_no_bootstrap_summary():
    """QA: permutations=0 -> KeyError 'cluster' in summary() (LISA has no cluster column without a test)."""
    table, units, edges = _lattice_panel()
    res = analyse(table, by=units["band"], w=edges, B=0, permutations=0, markov_permutations=0)
    assert "lisa" in res.frames and "cluster" not in res.frames["lisa"]
    assert "dagum_ci" not in res.frames and "p_sim" not in res.frames["moran"]
    text = res.summary()
    assert "LISA quadrants" in text and "significance not assessed" in text and "p analytic" in text
    assert any("permutations=0" in n for n in res.notes)


def test_lisa_switched_off_is_noted_and_recorded():
    table, units, edges = _lattice_panel()
    res = analyse(table, by=units["band"], w=edges, lisa=False, **FAST)
    assert "lisa" not in res.frames and res.settings["lisa"] is False
    assert any(n.startswith("LISA skipped") for n in res.notes)
    on = analyse(table, by=units["band"], w=edges, lisa_permutations=19, **FAST)
    assert on.settings["lisa"] is True and on.settings["lisa_permutations"] == 19
    assert "cluster" in on.frames["lisa"]


@pytest.mark.parametrize("bad", [dict(k=1), dict(k=50), dict(k=19), dict(B=-5), dict(permutations=-1),
                                 dict(markov_permutations=-3), dict(B=2.5), dict(cutoffs="decile"),
                                 dict(alpha=1.5), dict(growth="pct"), dict(nonpositive="shift"),
                                 dict(spatial_models=("sar",)), dict(lisa_permutations=-1)])
def test_bad_settings_are_errors_not_nan(bad):
    """QA: --classes 1 gave NaN results, --classes 50 with 31 units and --bootstrap -5 were accepted."""
    table, units, _ = _lattice_panel()  # 36 units: at most 18 classes
    with pytest.raises(InputError):
        analyse(table, by=units["band"], **{**FAST, **bad})


def test_cutoffs_year_alias_and_k_bounds():
    table, units, edges = _lattice_panel()
    r = analyse(table, by=units["band"], w=edges, k=18, cutoffs="year", **FAST)
    assert r.settings["cutoffs"] == "yearly" and r.scalars["markov"]["cutoffs"] == "yearly"
    assert r.scalars["spatial_markov"]["cutoffs"] == "yearly"


def test_row_order_does_not_change_any_output(tmp_path):
    """Same seed, rows in another order: byte-identical files (units are sorted by id before any draw)."""
    table, units, edges = _lattice_panel(seed=2)
    a = analyse(table, by=units["band"], weights=units["pop"], w=edges, seed=5, **FAST)
    shuffled = table.sample(frac=1, random_state=1)
    b = analyse(shuffled, by=units["band"].sample(frac=1, random_state=2), weights=units["pop"],
                w=edges.sample(frac=1, random_state=3), seed=5, **FAST)
    a.to_dir(tmp_path / "a")
    b.to_dir(tmp_path / "b")
    for f in sorted(p.name for p in (tmp_path / "a").iterdir()):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert "p_sim" in a.frames["moran"] and "cluster" in a.frames["lisa"]


def test_csv_floats_round_trip_exactly(tmp_path):
    table, units, edges = _lattice_panel()
    res = analyse(table, by=units["band"], w=edges, **FAST)
    res.to_dir(tmp_path)
    for name in ("dagum_components", "moran", "sigma_per_year", "quadrants", "lisa", "beta_convergence"):
        back = pd.read_csv(tmp_path / f"{name}.csv", float_precision="round_trip")
        df = res.frames[name]
        for c in df.columns:
            if pd.api.types.is_float_dtype(df[c]):
                np.testing.assert_array_equal(back[c].to_numpy(float), df[c].to_numpy(float), err_msg=f"{name}.{c}")


def test_to_dir_on_a_file_is_a_clean_error(tmp_path):
    table, units, _ = _lattice_panel()
    res = analyse(table, by=units["band"], **FAST)
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        res.to_dir(f)
    with pytest.raises(InputError, match="not a folder"):
        res.to_dir(f / "sub")


def test_explicit_edge_list_that_matches_no_unit_is_an_error():
    """QA: an --edges file whose ids match no unit gave only a note and exit 0."""
    table, units, edges = _lattice_panel()
    bad = edges.apply(lambda c: "x" + c)
    bad.attrs["source"] = "my_edges.csv"
    with pytest.raises(InputError, match="my_edges.csv") as e:
        analyse(table, by=units["band"], w=bad, **FAST)
    assert "xu00" in str(e.value) and "u00" in str(e.value)
    # automatic weights are still skipped with a note (not the caller's choice)
    r = analyse(table, by=units["band"], **FAST)
    assert any("spatial analyses" in n for n in r.notes)


def test_decimal_ids_in_an_edge_list_are_read_as_integer_codes():
    """'110000.0' (a spreadsheet's float) matches the integer code '110000'."""
    table, units, edges = _lattice_panel()
    codes = {u: str(100000 + 100 * i) for i, u in enumerate(table.index)}
    t2 = table.rename(index=codes)
    g2 = units["band"].rename(index=codes)
    e_int = edges.apply(lambda c: c.map(codes))
    e_dec = e_int.apply(lambda c: c + ".0")
    a = analyse(t2, by=g2, w=e_int, **FAST)
    b = analyse(t2, by=g2, w=e_dec, **FAST)
    pd.testing.assert_frame_equal(a.frames["moran"], b.frames["moran"])
    assert any("read as integer unit codes" in n for n in b.notes)


def test_one_zero_score_keeps_sigma_and_beta_sections():
    """QA: one zero in one year dropped every sigma and beta section for every year."""
    table, units, edges = _lattice_panel()
    t = table.copy()
    t.loc["u03", 2017] = 0.0
    res = analyse(t, by=units["band"], w=edges, **FAST)
    py = res.frames["sigma_per_year"]
    assert len(py) == len(t.columns) and py["cv"].notna().all() and py["sd_log"].notna().all()
    assert (py["n"] == 36).all() and (py["n_log"] == 35).all()
    designs = set(res.frames["beta_convergence"]["design"])
    assert {"cross_section", "panel", "spatial_lag", "spatial_error", "spatial_durbin"} <= designs
    assert res.scalars["beta_cross_section_absolute"]["n"] == 36  # the zero is not in 2015 or 2020
    assert any(n.startswith("sigma convergence (sd of logs)") and "u03 (2017)" in n for n in res.notes)
    assert any(n.startswith("panel beta convergence") and "u03 (2017)" in n for n in res.notes)
    assert any(n.startswith("inequality: Theil L") and "2017" in n for n in res.notes)
    assert not any("skipped" in n for n in res.notes)


def test_conditional_beta_with_controls():
    table, units, edges = _lattice_panel()
    u = units.assign(x=np.linspace(0, 1, len(units)))
    res = analyse(table, by="band", units=u, w=edges, controls=["x"], spatial_models=("lag",), **FAST)
    assert "beta_cross_section_conditional" in res.scalars and "beta_spatial_lag" in res.scalars
    assert res.settings["controls"] == ["x"]
    # the time-invariant control is absorbed by unit effects: panel conditional beta skipped with the reason
    assert any("panel conditional beta convergence skipped" in n and "absorbed" in n for n in res.notes)
    with pytest.raises(InputError, match="nope"):
        analyse(table, by="band", units=u, controls=["nope"], **FAST)


def test_summary_wording():
    from dcindex.pattern import _beta_line, _gap_lines

    ns = {"beta": -0.004, "beta_p_value": 0.36, "speed": 0.004, "half_life": 173.5}
    line = _beta_line("beta_cross_section_absolute", ns, 0.05, 11)
    assert "not significant" in line and "(not significant)" in line and "-> convergence" not in line
    sig = {"beta": -0.03, "beta_p_value": 0.001, "speed": 0.0305, "half_life": 22.7}
    assert "-> convergence, speed 3.05%/yr, half-life 22.7 yr" in _beta_line("beta_cross_section_absolute", sig,
                                                                              0.05, 11)
    panel = _beta_line("beta_panel_absolute", {**sig, "effects": "twoway"}, 0.05, 11)
    assert "Nickell" in panel and "T=11" in panel
    assert "divergence" in _beta_line("beta_spatial_lag", {"beta": 0.02, "beta_p_value": 0.01, "speed": np.nan,
                                                           "half_life": np.nan}, 0.05, 11)
    tr = pd.DataFrame([
        {"group_a": "E", "group_b": "W", "measure": "gap", "slope": 1.2, "ci_low": 1.0, "ci_high": 1.4,
         "first": 8.0, "last": 20.0, "verdict": "widening"},
        {"group_a": "E", "group_b": "W", "measure": "log_ratio", "slope": -0.01, "ci_low": -0.02, "ci_high": -0.005,
         "first": np.log(2.0), "last": np.log(1.5), "verdict": "narrowing"}])
    (line,) = _gap_lines(tr, 2013, 2023)
    assert "absolute gap widening" in line and "relative gap narrowing" in line and "ratio 2 -> 1.5" in line
    # through analyse: the panel line carries the caveat
    table, units, edges = _lattice_panel()
    text = analyse(table, by=units["band"], w=edges, **FAST).summary()
    assert "Nickell" in text and "absolute gap" in text and "relative gap" in text
