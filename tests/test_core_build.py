"""The build pipeline end to end: hand-computed builds, per-level/per-node overrides, panels, rebuild,
outputs (scores.csv/.parquet, index.xlsx, manifest.json), byte-identical reruns, load, atomic writes."""
from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import dcindex
from dcindex import io as dio
from dcindex import treat
from dcindex.errors import InputError, MethodError, RecipeError

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"
FW = FIX / "mini_framework.yaml"
RECIPE = FIX / "mini_recipe.yaml"
DATA = FIX / "mini_wide.csv"
UNITS = FIX / "mini_units.csv"


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------- tiny framework
def fw3(**gp):
    """IDX > P1 (a, b with weight 3), P2 (c, direction -1); optional goalposts/targets per indicator."""
    def ind(code, direction=1, weight=1.0):
        d = {"code": code, "direction": direction, "weight": weight}
        d.update(gp.get(code, {}))
        return d
    return {"index": {"code": "IDX", "children": [
        {"code": "P1", "children": [ind("a"), ind("b", weight=3)]},
        {"code": "P2", "children": [ind("c", -1)]},
    ]}}


def data3(a=(10, 20, 30), b=(1, 3, 2), c=(7, 5, 3), year=2022):
    return pd.DataFrame({"unit": ["u1", "u2", "u3"], "year": [year] * 3, "a": a, "b": b, "c": c})


def score(res, node, year=None):
    return res.wide(node)[year or res.years[-1]].to_numpy()


# ======================================================================================== golden
class TestHandComputedBuilds:
    def test_minmax_arithmetic(self):
        # minmax 0-100: a = 10, 20, 30 -> 0, 50, 100 ; b = 1, 3, 2 -> 0, 100, 50 ;
        # c (direction -1) = 7, 5, 3 -> (7 - c) / 4 -> 0, 50, 100
        # P1 = (1 a + 3 b) / 4 -> 0, (50 + 300)/4 = 87.5, (100 + 150)/4 = 62.5 ; P2 = c
        # IDX = (P1 + P2) / 2 -> 0, 68.75, 81.25 ; ranks 3, 2, 1
        res = dcindex.build(data3(), fw3())
        assert score(res, "a").tolist() == [0, 50, 100] and score(res, "c").tolist() == [0, 50, 100]
        assert score(res, "P1").tolist() == [0, 87.5, 62.5]
        assert score(res, "IDX").tolist() == [0, 68.75, 81.25]
        assert res.wide("IDX", what="rank")[2022].tolist() == [3, 2, 1]
        assert res.wide("P1", what="rank")[2022].tolist() == [3, 1, 2]

    def test_missing_child_weights_rescaled(self):
        # b missing for u2: b = 1, _, 2 -> 0, _, 100 ; P1(u2) = a only = 50 ; P1(u3) = (100 + 300)/4 = 100
        # IDX = (0 + 0)/2, (50 + 50)/2, (100 + 100)/2
        res = dcindex.build(data3(b=(1, np.nan, 2)), fw3())
        assert score(res, "P1").tolist() == [0, 50, 100]
        assert score(res, "IDX").tolist() == [0, 50, 100]
        assert any("still missing" in w for w in res.warnings)

    def test_by_level_geometric_index(self):
        # minmax 1-100: a -> 1, 50.5, 100 ; b -> 1, 100, 50.5 ; c -> 1, 50.5, 100
        # P1 = (a + 3b)/4 -> 1, 87.625, 62.875 ; IDX (level 3) = sqrt(P1 * P2) by geometric mean
        rc = {"normalise": {"method": "minmax", "low": 1, "high": 100},
              "aggregate": {"method": "arithmetic", "by_level": {3: {"method": "geometric"}}}}
        res = dcindex.build(data3(), fw3(), rc)
        assert np.allclose(score(res, "P1"), [1, 87.625, 62.875])
        assert np.allclose(score(res, "IDX"), [1, math.sqrt(87.625 * 50.5), math.sqrt(62.875 * 100)])

    def test_by_node_overrides(self):
        # c normalised by rank of -c: -7, -5, -3 -> 1, 2, 3 ; P1 with equal weights: (a + b)/2 -> 0, 75, 75
        # IDX = (P1 + P2)/2 -> 0.5, 38.5, 39
        rc = {"normalise": {"method": "minmax", "by_node": {"c": {"method": "rank"}}},
              "weights": {"method": "meta", "by_node": {"P1": "equal"}}}
        res = dcindex.build(data3(), fw3(), rc)
        assert score(res, "c").tolist() == [1, 2, 3]
        assert score(res, "P1").tolist() == [0, 75, 75]
        assert score(res, "IDX").tolist() == [0.5, 38.5, 39]
        wt = res.weights_table().set_index("node")
        assert wt.loc["a", "weight"] == 0.5 and wt.loc["a", "nominal_weight"] == 0.25

    def test_goalposts_from_framework_capped(self):
        # a: goalposts 0..40 -> 10, 20, 50 -> 25, 50, 125 capped to 100
        # b: 0..4 -> 25, 75, 50 ; c (direction -1): goalposts 2..10 -> (10 - c)/8 -> 37.5, 62.5, 87.5
        f = fw3(a={"goalposts": [0, 40]}, b={"goalposts": [0, 4]}, c={"goalposts": [2, 10]})
        res = dcindex.build(data3(a=(10, 20, 50)), f, {"normalise": {"method": "goalposts"}})
        assert score(res, "a").tolist() == [25, 50, 100]
        assert score(res, "b").tolist() == [25, 75, 50]
        assert score(res, "c").tolist() == [37.5, 62.5, 87.5]

    def test_goalposts_missing_in_framework_is_error(self):
        with pytest.raises(RecipeError, match="missing for a, b, c"):
            dcindex.build(data3(), fw3(), {"normalise": {"method": "goalposts"}})

    def test_goalposts_pooled_are_comparable_across_years(self):
        # a over both years: 10, 20, 30 | 20, 30, 50 -> pooled min 10, max 50: (a - 10)/40
        df = pd.concat([data3(year=2021), data3(a=(20, 30, 50), year=2022)])
        res = dcindex.build(df, fw3(), {"normalise": {"method": "goalposts", "source": "pooled"}})
        assert res.wide("a")[2021].tolist() == [0, 25, 50]
        assert res.wide("a")[2022].tolist() == [25, 50, 100]
        # per-year minmax rescales each year to 0..100: 0, 50, 100 and 0, 33.3, 100
        per_year = dcindex.build(df, fw3())
        assert per_year.wide("a")[2021].tolist() == [0, 50, 100]
        assert np.allclose(per_year.wide("a")[2022], [0, 100 / 3, 100])

    def test_minmax_pooled_scope(self):
        df = pd.concat([data3(year=2021), data3(a=(20, 30, 50), year=2022)])
        res = dcindex.build(df, fw3(), {"normalise": {"method": "minmax", "scope": "pooled"}})
        assert res.wide("a")[2021].tolist() == [0, 25, 50] and res.wide("a")[2022].tolist() == [25, 50, 100]

    def test_base_year_mean_reference_and_direction(self):
        # a: 2021 = 10, 20, 30 (mean 20); 2022 = 20, 30, 50 -> 100 a / 20
        # c (direction -1): 2021 = 7, 5, 3 (mean 5); 2022 = 6, 4, 2 -> 100 * 5 / c
        df = pd.concat([data3(year=2021), data3(a=(20, 30, 50), c=(6, 4, 2), year=2022)])
        res = dcindex.build(df, fw3(), {"normalise": {"method": "base_year", "year": 2021}})
        assert res.wide("a")[2021].tolist() == [50, 100, 150] and res.wide("a")[2022].tolist() == [100, 150, 250]
        assert np.allclose(res.wide("c")[2021], [500 / 7, 100, 500 / 3])
        assert np.allclose(res.wide("c")[2022], [500 / 6, 125, 250])
        unit = dcindex.build(df, fw3(), {"normalise": {"method": "base_year", "year": 2021, "reference": "unit"}})
        assert np.allclose(unit.wide("a")[2022], [200, 150, 500 / 3])  # 20/10, 30/20, 50/30

    def test_base_year_not_in_data(self):
        with pytest.raises(RecipeError, match="base year 2015"):
            dcindex.build(data3(), fw3(), {"normalise": {"method": "base_year", "year": 2015}})

    def test_target_with_direction(self):
        # a (target 25): (a - 10)/(25 - 10) -> 0, 2/3, 4/3 (uncapped)
        # c (direction -1, target 4): (max - c)/(max - target) = (7 - c)/3 -> 0, 2/3, 4/3
        f = fw3(a={"target": 25}, b={"target": 3}, c={"target": 4})
        res = dcindex.build(data3(), f, {"normalise": {"method": "target"}})
        assert np.allclose(score(res, "a"), [0, 2 / 3, 4 / 3]) and np.allclose(score(res, "c"), [0, 2 / 3, 4 / 3])
        capped = dcindex.build(data3(), f, {"normalise": {"method": "target", "cap": True, "scale": 100}})
        assert np.allclose(score(capped, "c"), [0, 200 / 3, 100])

    def test_linear_imputation_over_uneven_years(self):
        # the data have 2010, 2011 and 2014 only; u2's 2011 value is 1/4 of the way from 10 to 30 -> 15
        df = pd.concat([data3(a=(10, 10, 20), year=2010), data3(a=(20, np.nan, 30), year=2011),
                        data3(a=(30, 30, 40), year=2014)])
        res = dcindex.build(df, fw3(), {"impute": {"method": "linear"}})
        assert res.dataset("imputed", 2011).loc["u2", "a"] == 15

    def test_zscore_and_percentile_rank_in_build(self):
        res = dcindex.build(data3(), fw3(), {"normalise": {"method": "zscore", "mean": 100, "sd": 10}})
        # a = 10, 20, 30: mean 20, sample sd 10 -> 90, 100, 110
        assert np.allclose(score(res, "a"), [90, 100, 110])
        pr = dcindex.build(data3(), fw3(), {"normalise": {"method": "percentile_rank"}})
        assert score(pr, "c").tolist() == [0, 0.5, 1]  # direction applied first

    def test_denominate_and_impute_golden_on_mini(self):
        res = dcindex.build(DATA, FW, RECIPE, units=UNITS)
        den = res.dataset("denominated", 2021)
        assert den.loc["110000", "broadband"] == pytest.approx(1200 / 2189, rel=1e-15)
        imp22, imp21 = res.dataset("imputed", 2022), res.dataset("imputed", 2021)
        # group means (region), same year: price 310000 (East: 44, 37 -> 40.5); 510000 (West: 27)
        assert imp22.loc["310000", "price"] == 40.5 and imp22.loc["510000", "price"] == 27
        assert imp21.loc["520000", "base_st"] == 41  # West in 2021: only 510000 = 41
        assert res.manifest["counts"]["imputed_cells"] == 3 and res.manifest["counts"]["missing_raw"] == 3

    def test_treatment_pooled_scope_uses_all_years(self):
        rng = np.random.default_rng(4)
        a = np.r_[rng.normal(10, 1, 12), rng.normal(10, 1, 11), 60.0]  # the outlier sits in 2022
        df = pd.DataFrame({"unit": [f"u{i}" for i in range(12)] * 2, "year": [2021] * 12 + [2022] * 12,
                           "a": a, "b": rng.normal(size=24), "c": rng.normal(size=24)})
        res = dcindex.build(df, fw3(), {"treat": {"method": "winsorise", "scope": "pooled"}})
        want, _ = treat.winsorise(df[["a", "b", "c"]].to_numpy()[None])
        got = res.datasets["treated"].reshape(1, 24, 3)
        assert np.allclose(got, want)
        assert res.treatment["year"].tolist() == ["pooled"] * 3

    def test_winsorisation_counted_in_manifest(self):
        a = [*range(1, 11), 30, 100]
        df = pd.DataFrame({"unit": [f"u{i:02d}" for i in range(12)], "year": 2022, "a": a,
                           "b": np.arange(12.0), "c": np.arange(12.0) % 5})
        res = dcindex.build(df, fw3(), {"treat": {"method": "winsorise"}})
        assert res.dataset("treated")["a"].tolist() == [*range(1, 11), 30, 30]
        assert res.manifest["counts"]["treated_cells"] == 1 and res.manifest["counts"]["winsorised_columns"] == 1
        row = res.treatment.set_index("indicator").loc["a"]
        assert row["treatment"] == "winsorised" and row["winsorised_points"] == 1 and row["side"] == "high"

    def test_geometric_needs_positive_scores(self):
        with pytest.raises(MethodError, match="geometric aggregation of 'P1'"):
            dcindex.build(data3(), fw3(), {"aggregate": "geometric"})


# ============================================================================= weights in a build
AHP = {"P1": [[1, 3], [1 / 3, 1]], "IDX": [[1, 2], [0.5, 1]]}


@pytest.mark.parametrize("method", ["meta", "equal", "entropy", "critic", "pca", "ahp", "bod"])
def test_every_weighting_gives_weights_summing_to_one(method):
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"unit": [f"u{i}" for i in range(15)], "year": 2022,
                       "a": rng.random(15), "b": rng.random(15), "c": rng.random(15)})
    f = fw3()
    f["index"]["ahp"] = AHP["IDX"]
    f["index"]["children"][0]["ahp"] = AHP["P1"]
    res = dcindex.build(df, f, {"weights": {"method": method}})
    wt = res.weights_table().set_index("node")
    for parent in ("P1", "P2", "IDX"):
        kids = res.framework.children(parent)
        assert wt.loc[kids, "weight"].sum() == pytest.approx(1), parent
    assert wt.loc[["a", "b", "c"], "effective_weight"].sum() == pytest.approx(1)
    if method == "ahp":
        assert wt.loc["a", "weight"] == pytest.approx(0.75) and wt.loc["P1", "weight"] == pytest.approx(2 / 3)
        assert res.weights["P1"].info["CR"] == pytest.approx(0)
    if method == "bod":
        assert np.nanmax(score(res, "IDX")) == pytest.approx(100)  # the best unit is efficient


def test_ahp_inconsistent_matrix_refused_in_build():
    f = fw3()
    f["index"]["children"][0]["children"].append({"code": "d", "direction": 1})
    f["index"]["children"][0]["ahp"] = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    df = data3().assign(d=[3, 1, 2])
    with pytest.raises(MethodError, match="'P1' is inconsistent: CR"):
        dcindex.build(df, f, {"weights": "ahp"})
    res = dcindex.build(df, f, {"weights": {"method": "ahp", "allow_inconsistent": True}})
    assert any("CR" in w for w in res.warnings)


# ======================================================================================= invariants
def _random_frame(draw_values, n):
    return pd.DataFrame({
        "unit": [f"u{i:02d}" for i in range(n)] * 2, "year": [2021] * n + [2022] * n,
        "zone_group": (["x", "y"] * n)[:n] * 2,
        "a": draw_values[0], "b": draw_values[1], "c": draw_values[2],
    })


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=hs.integers(5, 12), seed=hs.integers(0, 2**31), perm_seed=hs.integers(0, 2**31))
def test_scores_and_ranks_invariant_to_unit_order(n, seed, perm_seed):
    rng = np.random.default_rng(seed)
    vals = [np.round(rng.lognormal(size=2 * n), 3) for _ in range(3)]
    for v in vals:
        v[rng.random(2 * n) < 0.1] = np.nan
    df = _random_frame(vals, n)
    for v in vals:  # every year of every indicator needs some variation
        if any(np.nanmax(v[s]) == np.nanmin(v[s]) for s in (slice(0, n), slice(n, 2 * n))):
            return
    rc = {"impute": {"method": "group_mean", "group": "zone_group"}, "treat": {"method": "winsorise"}}
    p = np.random.default_rng(perm_seed).permutation(len(df))
    try:
        a = dcindex.build(df, fw3(), rc)
    except MethodError as e:  # e.g. a column made constant by Winsorisation: the same in any order
        with pytest.raises(MethodError) as e2:
            dcindex.build(df.iloc[p].reset_index(drop=True), fw3(), rc)
        assert str(e2.value) == str(e.value)
        return
    b = dcindex.build(df.iloc[p].reset_index(drop=True), fw3(), rc)
    for node in ("a", "P1", "IDX"):
        wa, wb = a.wide(node), b.wide(node).loc[a.wide(node).index]
        assert np.allclose(wa, wb, equal_nan=True, rtol=1e-12, atol=1e-9)
        ra, rb = a.wide(node, what="rank"), b.wide(node, what="rank").loc[wa.index]
        assert np.array_equal(ra, rb, equal_nan=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=hs.lists(hs.floats(0, 100, allow_nan=False), min_size=4, max_size=8),
       i=hs.integers(0, 100), delta=hs.floats(0.01, 500))
def test_arithmetic_index_monotone_in_a_positive_indicator(a, i, delta):
    n = len(a)
    if max(a) - min(a) < 1e-6:
        return
    rng = np.random.default_rng(n)
    base = pd.DataFrame({"unit": [f"u{k}" for k in range(n)], "year": 2022, "a": a,
                         "b": rng.random(n), "c": rng.random(n)})
    i %= n
    up = base.copy()
    up.loc[i, "a"] += delta
    s0 = dcindex.build(base, fw3()).wide("IDX")[2022].iloc[i]
    s1 = dcindex.build(up, fw3()).wide("IDX")[2022].iloc[i]
    assert s1 >= s0 - 1e-9


# ========================================================================================= rebuild
@pytest.fixture(scope="module")
def base():
    return dcindex.build(DATA, FW, RECIPE, units=UNITS)


class TestRebuild:
    @pytest.mark.parametrize("change", [
        {"normalise": {"method": "zscore", "mean": 100, "sd": 10}},
        {"aggregate": {"method": "geometric"}, "normalise": {"method": "minmax", "low": 1, "high": 100}},
        {"impute": {"method": "mean"}},
        {"treat": {"method": "none"}},
        {"weights": {"method": "equal"}},
        {"denominate": False},
    ])
    def test_rebuild_equals_fresh_build(self, base, change):
        r = base.rebuild(**change)
        fresh = dcindex.build(DATA, FW, dcindex.Recipe.from_any(RECIPE).replace(**change), units=UNITS)
        assert np.array_equal(r.scores_array, fresh.scores_array, equal_nan=True)
        assert np.array_equal(r.ranks_array, fresh.ranks_array, equal_nan=True)
        assert r.recipe == fresh.recipe

    def test_rebuild_with_node_weights_and_exclude(self, base, tmp_path):
        d = yaml.safe_load(FW.read_text(encoding="utf-8"))
        d["index"]["children"][0]["weight"] = 1  # INFRA 2 -> 1
        p = tmp_path / "fw.yaml"
        p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
        fresh = dcindex.build(DATA, p, RECIPE, units=UNITS)
        assert np.array_equal(base.rebuild(node_weights={"INFRA": 1}).scores_array, fresh.scores_array)
        d["index"]["children"][1]["children"].pop()  # drop price (from the framework and the data)
        p.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
        data = tmp_path / "data.csv"
        pd.read_csv(DATA, dtype=str).drop(columns=["price"]).to_csv(data, index=False)
        fresh2 = dcindex.build(data, p, RECIPE, units=UNITS)
        r2 = base.rebuild(node_weights={"INFRA": 1}, exclude=["price"])
        assert r2.framework.indicators == ["broadband", "base_st", "ecom_share"]
        assert np.array_equal(r2.scores_array, fresh2.scores_array, equal_nan=True)

    def test_rebuild_unknown_change(self, base):
        with pytest.raises(RecipeError, match="normalize"):
            base.rebuild(normalize={"method": "rank"})


# ========================================================================================= outputs
@pytest.fixture(scope="module")
def mini_result():
    return dcindex.build(DATA, FW, RECIPE, units=UNITS)


@pytest.fixture(scope="module")
def outdir(mini_result, tmp_path_factory):
    return mini_result.to_dir(tmp_path_factory.mktemp("out") / "results")


def read_scores_csv(p):
    return pd.read_csv(p, dtype={"unit": str, "node": str})


class TestOutputs:
    def test_scores_csv_columns_and_rows(self, outdir, mini_result):
        df = read_scores_csv(outdir / "scores.csv")
        assert list(df.columns) == ["unit", "year", "node", "level", "score", "rank"]
        assert len(df) == 5 * 2 * 7  # units x years x nodes
        assert df["node"].iloc[0] == "IDX"  # index rows first
        idx = df[(df.node == "IDX") & (df.year == 2022)].set_index("unit")["score"]
        assert np.array_equal(idx.loc[mini_result.unit_codes].to_numpy(), mini_result.wide()[2022].to_numpy())
        assert set(df.loc[df.node == "price", "level"]) == {1} and set(df.loc[df.node == "IDX", "level"]) == {3}

    def test_parquet_equals_csv(self, outdir):
        a = read_scores_csv(outdir / "scores.csv")
        b = pd.read_parquet(outdir / "scores.parquet")
        b["unit"] = b["unit"].astype(str)
        b["node"] = b["node"].astype(str)
        assert list(b.columns) == list(a.columns)
        for c in a.columns:
            if c == "score":
                assert np.array_equal(a[c].to_numpy(float), b[c].to_numpy(float), equal_nan=True)
            else:
                assert a[c].astype(str).tolist() == b[c].astype(str).tolist(), c

    def test_csv_floats_round_trip_exactly(self, outdir, mini_result):
        a = read_scores_csv(outdir / "scores.csv")
        assert np.array_equal(a["score"].to_numpy(), mini_result.scores["score"].to_numpy(), equal_nan=True)

    def test_xlsx_sheets(self, outdir, mini_result):
        wb = openpyxl.load_workbook(outdir / "index.xlsx")
        for s in ("Index", "Level 2", "Indicators (normalised)", "Raw data", "Weights", "Framework", "Flags",
                  "Recipe", "Provenance"):
            assert s in wb.sheetnames, s
        x = pd.read_excel(outdir / "index.xlsx", sheet_name="Index", dtype={"unit": str})
        x22 = x[x.year == 2022].set_index("unit")["IDX"]
        assert np.allclose(x22.loc[mini_result.unit_codes], mini_result.wide()[2022])
        w = pd.read_excel(outdir / "index.xlsx", sheet_name="Weights")
        assert {"nominal_weight", "weight", "nominal_effective_weight", "effective_weight"} <= set(w.columns)
        flags = pd.read_excel(outdir / "index.xlsx", sheet_name="Flags", dtype=str)
        assert len(flags[flags.flag == "imputed"]) == 3

    def test_manifest(self, outdir, mini_result):
        m = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
        assert m["dcindex_version"] == dcindex.__version__
        for role, path in (("data", DATA), ("framework", FW), ("recipe", RECIPE), ("units", UNITS)):
            assert m["inputs"][role]["sha256"] == sha(path), role
        assert m["inputs_sha256"]["data"] == sha(DATA) and m["inputs_sha256"]["units"] == sha(UNITS)
        assert m["recipe"]["impute"] == {"method": "group_mean", "group": "region"}
        assert m["counts"]["imputed_cells"] == 3 == int(mini_result.imputed_mask.sum())
        assert m["counts"]["treated_cells"] == int(mini_result.treated_mask.sum())
        assert m["units"] == 5 and m["years"] == [2021, 2022]
        S = np.ascontiguousarray(mini_result.scores_array, dtype="<f8")
        assert m["scores_sha256"] == hashlib.sha256(S.tobytes()).hexdigest()

    def test_load_reproduces_scores(self, outdir, mini_result):
        res = dcindex.load(outdir)
        assert np.array_equal(res.scores_array, mini_result.scores_array, equal_nan=True)
        assert not any("did not reproduce" in w for w in res.warnings)
        assert res.units.loc["510000", "region"] == "West"

    def test_inputs_folder_rebuilds_the_same(self, outdir, mini_result):
        r = dcindex.build(outdir / "inputs" / "data.csv", outdir / "framework.yaml", outdir / "recipe.yaml",
                          units=outdir / "inputs" / "units.csv")
        assert np.array_equal(r.scores_array, mini_result.scores_array, equal_nan=True)


def all_files(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_byte_identical_outputs_in_two_folders_and_two_processes(tmp_path):
    before = {p: sha(p) for p in (DATA, FW, RECIPE, UNITS)}
    a = dcindex.build(DATA, FW, RECIPE, units=UNITS).to_dir(tmp_path / "a")
    b = dcindex.build(DATA, FW, RECIPE, units=UNITS).to_dir(tmp_path / "b" / "nested")
    fa, fb = all_files(a), all_files(b)
    assert sorted(fa) == sorted(fb) and len(fa) >= 10
    assert [k for k in fa if fa[k] != fb[k]] == []
    # a separate process (fresh hash seeds, fresh imports) through the command line
    exe = Path(sys.executable).parent / "dcindex"
    r = subprocess.run([str(exe), "build", str(DATA), "--framework", str(FW), "--recipe", str(RECIPE),
                        "--units", str(UNITS), "--out", str(tmp_path / "c")], capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": "123"})
    assert r.returncode == 0, r.stderr
    fc = all_files(tmp_path / "c")
    assert [k for k in fa if fa[k] != fc.get(k)] == []
    assert {p: sha(p) for p in before} == before  # inputs never modified


# ================================================================================ formula injection
def test_formula_injection_neutralised_in_xlsx(tmp_path):
    evil = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\tTAB"]
    units = pd.read_csv(UNITS, dtype=str)
    units["name_zh"] = evil
    units["name_en"] = ["=1+1", "ok", "ok", "ok", "ok"]
    up = tmp_path / "units.csv"
    units.to_csv(up, index=False)
    out = dcindex.build(DATA, FW, RECIPE, units=up).to_dir(tmp_path / "out")
    wb = openpyxl.load_workbook(out / "index.xlsx")
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.lstrip("'") in evil:
                    assert cell.value.startswith("'"), (ws.title, cell.coordinate, cell.value)
                    seen.add(cell.value[1:])
    assert seen == set(evil)  # every name reached the workbook, every one as inert text
    # the CSV keeps the exact names (it is data, not a spreadsheet)
    u = pd.read_csv(out / "units.csv", dtype=str, keep_default_na=False)
    assert u["name_zh"].tolist() == evil


# ==================================================================================== atomic writes
def test_existing_output_replaced_whole_and_no_temp_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scores.csv").write_bytes(b"x" * 5_000_000)  # an old, much larger file
    (out / "manifest.json").write_text("{old}", encoding="utf-8")
    dcindex.build(DATA, FW, RECIPE, units=UNITS).to_dir(out)
    ref = dcindex.build(DATA, FW, RECIPE, units=UNITS).to_dir(tmp_path / "ref")
    assert (out / "scores.csv").read_bytes() == (ref / "scores.csv").read_bytes()
    assert (out / "manifest.json").read_bytes() == (ref / "manifest.json").read_bytes()
    assert [p.name for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")] == []


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "scores.csv"
    target.write_text("old content\n", encoding="utf-8")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(dio.os, "replace", boom)
    with pytest.raises(OSError):
        dio.atomic_write_text(target, "new content\n")
    assert target.read_text(encoding="utf-8") == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


def test_output_files_respect_umask(tmp_path):
    # written through a temporary file, but readable like any file the user writes (not 0600)
    old = os.umask(0o022)
    try:
        p = dio.atomic_write_text(tmp_path / "x.csv", "a\n")
    finally:
        os.umask(old)
    assert (p.stat().st_mode & 0o777) == 0o644


def test_output_path_that_is_a_file(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        dcindex.build(DATA, FW, RECIPE, units=UNITS).to_dir(f)


def test_missing_scores_round_trip(tmp_path):
    # u4 has no data in 2021: no score, no rank (NA in CSV and parquet), and load() reproduces it
    df = pd.DataFrame({"unit": ["u1", "u2", "u3", "u4"] * 2, "year": [2021] * 4 + [2022] * 4,
                       "a": [1, 2, 3, np.nan, 2, 3, 4, 5], "b": [3, 1, 2, np.nan, 1, 2, 3, 4],
                       "c": [7, 5, 3, np.nan, 6, 5, 4, 3]})
    res = dcindex.build(df, fw3())
    assert np.isnan(res.wide()[2021]["u4"]) and pd.isna(res.wide(what="rank")[2021]["u4"])
    out = res.to_dir(tmp_path / "o")
    a, b = pd.read_csv(out / "scores.csv"), pd.read_parquet(out / "scores.parquet")
    assert a["rank"].isna().sum() == b["rank"].isna().sum() == 6  # 6 nodes of u4 in 2021
    assert np.array_equal(dcindex.load(out).scores_array, res.scores_array, equal_nan=True)


def test_coinr_asem_result_folder_reloads_exactly(shared_data, tmp_path):
    d = shared_data / "coinr-asem"
    res = dcindex.build(d / "ASEM_iData.csv", d / "ASEM_iMeta.csv", dcindex.coinr_recipe())
    out = res.to_dir(tmp_path / "asem")
    back = dcindex.load(out)
    assert np.array_equal(back.scores_array, res.scores_array, equal_nan=True)
    assert back.manifest["scores_sha256"] == res.manifest["scores_sha256"]
