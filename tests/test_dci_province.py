"""The full province Digital City Index 2013-2023 from ../shared/data (skipped when absent).

Builds it with the shipped framework and recipe from the three shared datasets, checks that the build is
clean (only the expected, documented warnings), that every province has a score in every year, that the
values and their cited sources agree with the raw files, and that the regional pattern analysis reports
the East > Central/West gradient and the North/South gap. Expected rankings are not hard-coded.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dcindex.china as ch
from dcindex import pattern
from dcindex.errors import InputError
from dcindex.importer import (GDP_POP_FILE, PANEL_FILE, average_population, build_province_dci,
                              framework_path, load_province_panel)
from dcindex.framework import read_framework_yaml

YEARS = list(range(2013, 2024))
FAST = dict(B=99, permutations=99, markov_permutations=19, seed=0)


@pytest.fixture(scope="module")
def built(shared_data):
    return build_province_dci(shared_data)


def test_panel_values_and_sources_match_the_raw_files(shared_data):
    imp = load_province_panel(shared_data)
    d = imp.data
    assert list(d.columns) == ["unit", "year", "indicator", "value", "source"]
    assert sorted(d["year"].unique()) == YEARS
    raw = pd.read_csv(shared_data / PANEL_FILE, dtype={"id": str})
    fw = read_framework_yaml(framework_path("province"))
    rng = np.random.default_rng(0)
    panel_rows = d[d["source"].str.startswith(PANEL_FILE)]
    for i in rng.choice(len(panel_rows), 40, replace=False):
        row = panel_rows.iloc[i]
        # "cn-province-digital-panel/panel.csv row N, column C": the cited cell holds the value
        where = row["source"][len(PANEL_FILE):]
        n = int(where.split("row ")[1].split(",")[0])
        col = where.split("column ")[1]
        r = raw.iloc[n - 2]
        assert r[col] == pytest.approx(row["value"]) and r["id"] == row["unit"] and r["year"] == row["year"]
    # coverage: every framework indicator for 31 provinces x 11 years, except the documented gaps
    cov = d.groupby(["indicator", "year"])["unit"].nunique().unstack(fill_value=0)
    gaps = {(i, y): n for i in fw.indicators for y in YEARS if (n := cov.loc[i].get(y, 0)) != 31}
    assert gaps == {("mobile_internet_users", 2013): 0, ("rd_institutions", 2018): 30}
    assert any("mobile_internet_users 2013: reported for 5 of 31" in n for n in imp.notes)
    assert any("rd_institutions 2018: missing for 1 province(s) (540000)" in n for n in imp.notes)
    for den in ("population_10k", "employment_nonprivate_10k"):
        assert (cov.loc[den] == 31).all()


def test_population_is_one_average_series(shared_data):
    d = load_province_panel(shared_data).data
    pop = d[d["indicator"] == "population_10k"].set_index(["unit", "year"])["value"]
    g = pd.read_csv(shared_data / GDP_POP_FILE)
    g["unit"] = ch.match_units(g["province"], "province").to_numpy()
    ye = g.set_index(["unit", "year"])["yearend_population_10k"]
    av = g.set_index(["unit", "year"])["avg_population_10k_derived"]
    assert pop[("110000", 2013)] == pytest.approx((ye[("110000", 2012)] + ye[("110000", 2013)]) / 2)
    assert pop[("230000", 2018)] == pytest.approx((ye[("230000", 2017)] + ye[("230000", 2018)]) / 2)
    assert pop[("440000", 2023)] == pytest.approx(av[("440000", 2023)])
    # where both derivations exist they agree (the splice is checked, not assumed)
    for y in (2019, 2020):
        m = (ye.xs(y - 1, level="year") + ye.xs(y, level="year")) / 2
        assert np.allclose(m.sort_index(), av.xs(y, level="year").sort_index(), rtol=5e-4)


def test_population_splice_refused_when_vintages_disagree(shared_data):
    g = pd.read_csv(shared_data / GDP_POP_FILE)
    g["code"] = ch.match_units(g["province"], "province").to_numpy()
    bad = g.copy()
    bad.loc[(bad["code"] == "420000") & (bad["year"] == 2020), "avg_population_10k_derived"] *= 1.02
    with pytest.raises(InputError, match="420000") as e:
        average_population(bad)
    assert "silent splice" in str(e.value)
    assert (g["avg_population_10k_derived"] == pd.read_csv(shared_data / GDP_POP_FILE)[
        "avg_population_10k_derived"]).sum() > 0  # the caller's frame untouched
    out, notes = average_population(g)
    assert len(out) == 31 * 11 and "agree within" in notes[0]


def test_build_is_clean_and_covers_every_province_and_year(built):
    res, imp = built
    assert res.years == YEARS and len(res.unit_codes) == 31
    # the only warning: the 31 cells of mobile_internet_users 2013 left out by the coverage rule
    assert res.warnings == ["31 indicator value(s) are still missing after imputation; aggregation skipped them "
                            "and rescaled the other weights."]
    assert int(np.isnan(res.datasets["imputed"]).sum()) == 31
    assert res.manifest["counts"]["imputed_cells"] == 1  # rd_institutions, Tibet 2018 (linear)
    idx = res.wide()
    assert idx.notna().all().all() and idx.shape == (31, 11)
    for node in ["INFRA", "INDUSTRY", "INCLUSION", "INNOV"]:
        assert res.wide(node).notna().all().all()
    # pooled goalposts: scores comparable across years; the index rose for every province
    assert (idx[2023] > idx[2013]).all()
    assert np.nanmax(res.datasets["normalised"]) == pytest.approx(100)


def test_regional_pattern_is_reported(built):
    res, _ = built
    pr = pattern.analyse(res, by="region4", **FAST)
    gs = pr["group_stats"].pivot(index="year", columns="group", values="mean")
    assert list(gs.index) == YEARS
    assert (gs.idxmax(axis=1) == "East").all()  # East leads in every year
    gaps = pr["group_gaps"]
    for other in ("Central", "West"):
        g = gaps[(gaps["group_a"] == "East") & (gaps["group_b"] == other)]
        assert len(g) == 11 and (g["gap"] > 0).all() and g["gap"].notna().all()
    s = pr.summary()
    for pair in ("East - Central", "East - West"):  # a line reports each gap (wording is the pattern module's)
        assert any(pair in line and "gap" in line for line in s.splitlines()), pair
    ns = pattern.analyse(res, by="north_south", **FAST)
    g = ns["group_gaps"]
    assert len(g) == 11 and {g["group_a"].iat[0], g["group_b"].iat[0]} == {"North", "South"}
    assert g["gap"].notna().all()
    assert "gap" in ns.summary() and ("South - North" in ns.summary() or "North - South" in ns.summary())
    tr = ns["gap_trends"]
    assert set(tr["measure"]) == {"gap", "log_ratio"} and tr["verdict"].notna().all()


def test_fixed_census_base_variant(shared_data, built):
    res, _ = built
    alt, imp = build_province_dci(shared_data, population="census2020")
    assert alt.years == YEARS and alt.wide().notna().all().all()
    assert any("7th-census" in n for n in imp.notes)
    # a different denominator gives different, but closely related, scores
    a, b = res.wide().stack(), alt.wide().stack()
    assert not np.allclose(a, b) and np.corrcoef(a, b)[0, 1] > 0.99
