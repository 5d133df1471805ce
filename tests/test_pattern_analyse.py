"""analyse(): all analyses in one call on tables and build results; reproducibility; notes; real data."""
from __future__ import annotations

import copy
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
    assert any("Dagum decomposition skipped" in n for n in r.notes)
    assert any("sigma convergence skipped" in n for n in r.notes)


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
