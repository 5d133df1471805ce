"""Uncertainty analysis: every draw is checked against the plain pipeline (``dcindex.build``) built independently
from the draw's recorded parameters; degenerate cases collapse to the nominal build; conflicts are errors;
failed draws are reported; the same seed gives identical output."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

import dcindex
from dcindex.data import Panel
from dcindex.errors import InputError, RecipeError
from dcindex.framework import Framework, Node
from dcindex.recipe import Recipe
from dcindex.uncertainty import UncertaintySpec, rank_desc


# ------------------------------------------------------------------------------------------- fixtures
def synthetic(n_units=24, n_years=3, seed=0, missing=0.03):
    """Small panel: 9 indicators in 3 pillars in 2 sub-indices; skewed positive values, a few missing."""
    rng = np.random.default_rng(seed)
    nodes = [Node("Index", None), Node("A", "Index"), Node("B", "Index", weight=2.0),
             Node("P1", "A"), Node("P2", "A", weight=0.5), Node("P3", "B")]
    inds = [f"x{k}" for k in range(9)]
    for k, c in enumerate(inds):
        nodes.append(Node(c, ["P1", "P2", "P3"][k // 3], is_indicator=True, direction=-1 if k == 4 else 1,
                          weight=1.0 + (k % 2)))
    fw = Framework(nodes)
    u = rng.normal(size=(1, n_units, 1))
    z = u * rng.uniform(0.4, 1.0, size=(1, 1, 9)) + rng.normal(scale=0.7, size=(n_years, n_units, 9))
    X = np.exp(0.6 * z)
    X[..., 4] = 10.0 - z[..., 4]
    X[rng.random(X.shape) < missing] = np.nan
    units = pd.DataFrame({"name": [f"u{i}" for i in range(n_units)], "grp": ["g1", "g2"] * (n_units // 2)},
                         index=pd.Index([f"U{i:02d}" for i in range(n_units)], name="unit"))
    return Panel(units=units, years=list(range(2020, 2020 + n_years)), indicators=inds, values=X), fw


RECIPE = {"impute": {"method": "group_mean", "group": "grp"},
          "treat": {"method": "winsorise", "max_points": 3},
          "normalise": {"method": "minmax", "low": 1, "high": 100}}


@pytest.fixture(scope="module")
def small():
    panel, fw = synthetic()
    return dcindex.build(panel, fw, RECIPE)


def root_scores(res):
    return res.scores_array[..., res.framework.all_codes.index(res.framework.root)]


def root_ranks(res):
    return res.ranks_array[..., res.framework.all_codes.index(res.framework.root)]


# ------------------------------------------------------------------------------------------------ ranks
@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0, 2.5, 2.5, 3.0, -1.0, np.nan, 7.25]), min_size=1, max_size=30),
       st.integers(1, 4))
def test_rank_desc_equals_scipy_min_ranks(vals, reps):
    A = np.tile(np.array(vals, dtype=float), (reps, 1))
    A[1:] = A[1:] * np.arange(2, reps + 1)[:, None] if reps > 1 else A[1:]
    want = rankdata(-A, method="min", axis=-1, nan_policy="omit")
    np.testing.assert_array_equal(rank_desc(A, axis=-1), want)


def test_rank_desc_along_axis(small):
    S = root_scores(small)
    np.testing.assert_array_equal(rank_desc(S, axis=1), root_ranks(small))


# ---------------------------------------------------------------------------------- degenerate cases
def test_no_uncertain_choice_collapses_to_nominal(small):
    u = dcindex.uncertainty(small, {"n": 16, "seed": 3})
    r = u.ranks
    assert len(r) == len(small.unit_codes) * len(small.years)
    want = root_ranks(small).reshape(-1)
    for c in ("mean_rank", "median_rank", "q05_rank", "q95_rank"):
        np.testing.assert_array_equal(r[c].to_numpy(), want)
    np.testing.assert_array_equal(r["nominal_rank"].to_numpy(), want)
    for c in ("mean_score", "median_score", "q05_score", "q95_score"):
        np.testing.assert_allclose(r[c].to_numpy(), root_scores(small).reshape(-1), rtol=1e-13)
    assert u.sensitivity is None and u.n_failed == 0
    assert "at least two" in u.sensitivity_note


CATEGORICAL = [
    ("normalise", [{"method": "minmax", "low": 1, "high": 100}, {"method": "zscore", "mean": 10, "sd": 2},
                   {"method": "rank"}, {"method": "minmax", "scope": "pooled"}]),
    ("treat", [{"method": "none"}, {"method": "winsorise", "max_points": 1}, {"method": "log", "shift": True}]),
    ("impute", [{"method": "mean"}, {"method": "median"}, {"method": "linear", "edges": "nearest"}]),
    ("aggregate", [{"method": "arithmetic"}, {"method": "geometric"}, {"method": "harmonic"},
                   {"method": "arithmetic", "by_level": {4: {"method": "geometric"}}},
                   {"method": "mazziotta_pareto"}]),
]


@pytest.mark.parametrize("step,alts", CATEGORICAL, ids=[c[0] for c in CATEGORICAL])
def test_one_categorical_choice_equals_separate_builds(small, step, alts):
    u = dcindex.uncertainty(small, {"n": 64, "seed": 1, "choices": [{"type": step, "alternatives": alts}]})
    assert u.n_failed == 0 and not u.design_sa
    labels = u.draws[step].to_numpy()
    seen = 0
    for j, alt in enumerate(alts):
        built = dcindex.build(small.panel, small.framework, small.recipe.replace(**{step: alt}))
        rows = np.flatnonzero(labels == u.factors[0]["labels"][j])
        assert len(rows) > 0, f"alternative {j} never drawn"
        seen += len(rows)
        for d in rows:
            np.testing.assert_allclose(u.scores_array[d], root_scores(built), rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(u.ranks_array[d], root_ranks(built))
    assert seen == len(u.draws)


def test_vary_expands_the_nominal_step(small):
    u = dcindex.uncertainty(small, {"n": 32, "choices": [{"type": "treat", "vary": {"max_points": [0, 1, 2]}}]})
    assert u.factors[0]["labels"] == ["max_points=0", "max_points=1", "max_points=2"]
    d = int(np.flatnonzero(u.draws["treat"] == "max_points=1")[0])
    want = dcindex.build(small.panel, small.framework,
                         small.recipe.replace(treat={**small.recipe.treat.to_plain(), "max_points": 1}))
    np.testing.assert_allclose(u.scores_array[d], root_scores(want), rtol=1e-12)


# ------------------------------------------------------------------------- every choice, draw by draw
FULL = {"n": 40, "seed": 7, "choices": [
    {"type": "impute", "name": "Imputation", "alternatives": [{"method": "group_mean", "group": "grp"},
                                                              {"method": "median"}]},
    {"type": "treat", "name": "Winsor", "vary": {"max_points": [1, 2, 3]}},
    {"type": "normalise", "name": "Norm", "alternatives": [{"method": "minmax", "low": 1, "high": 100},
                                                           {"method": "zscore", "mean": 10, "sd": 2}]},
    {"type": "weights", "name": "W", "levels": [1, 2], "amount": 0.3},
    {"type": "weights", "name": "Wd", "nodes": ["A", "B"], "distribution": "dirichlet", "concentration": 20},
    {"type": "aggregate", "name": "Agg", "alternatives": [{"method": "arithmetic"}, {"method": "geometric"}]},
    {"type": "exclude", "name": "Drop", "nodes": ["x1", "P3"]},
    {"type": "noise", "name": "Noise", "relative": 0.03, "by_indicator": {"x0": 0.1}},
]}


def _independent_build(res, spec, draw_row):
    """Rebuild one draw with dcindex.build from the draws table only (no use of the engine)."""
    fw = res.framework
    ch = {c["name"]: c for c in spec["choices"]}
    alt = lambda name, lab, labels: ch[name]["alternatives"][labels.index(lab)]  # noqa: E731
    recipe = res.recipe.replace(
        impute=alt("Imputation", draw_row["Imputation"], ["group_mean(group=grp)", "median"]),
        treat={**res.recipe.treat.to_plain(), "max_points": int(draw_row["Winsor"].split("=")[1])},
        normalise=alt("Norm", draw_row["Norm"], ["minmax(low=1.0)", "zscore(mean=10.0, sd=2.0)"]),
        aggregate={"method": draw_row["Agg"]},
        weights={"method": "meta"},
    )
    w = {c: float(draw_row[f"w:{c}"]) for c in fw.all_codes if f"w:{c}" in draw_row.index}
    fw2 = fw.with_weights(w)
    if draw_row["Drop"] != "none":
        fw2 = fw2.without([draw_row["Drop"]])
    # documented noise: x (1 + s e), e ~ N(0, 1) from numpy default_rng([seed, key])
    sig = np.array([ch["Noise"]["by_indicator"].get(c, ch["Noise"]["relative"]) for c in fw.indicators])
    e = np.random.default_rng([spec["seed"], int(draw_row["Noise"])]).standard_normal(res.panel.values.shape)
    X = res.panel.values * (1 + sig * e)
    keep = [fw.indicators.index(c) for c in fw2.indicators]
    p = res.panel
    panel = Panel(units=p.units, years=p.years, indicators=list(fw2.indicators), values=X[..., keep])
    return dcindex.build(panel, fw2, recipe)


def test_every_draw_equals_plain_build(small):
    u = dcindex.uncertainty(small, FULL)
    assert u.design_sa and len(u.draws) == (40 // 10) * 10 and u.n_failed == 0
    for d in range(0, len(u.draws), 3):
        row = u.draws.iloc[d]
        b = _independent_build(small, FULL, row)
        np.testing.assert_allclose(u.scores_array[d], root_scores(b), rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(u.ranks_array[d], root_ranks(b))
        rb = u.replay(d)
        np.testing.assert_allclose(root_scores(rb), root_scores(b), rtol=1e-12, atol=1e-12)


def test_weight_perturbation_follows_coinr_and_dirichlet(small):
    u = dcindex.uncertainty(small, FULL)
    fw = small.framework
    # uniform: w' = w (1 + 0.3 (2U - 1)) -> within +-30 % of the nominal share, relative
    for c in fw.nodes_at_level(1) + fw.nodes_at_level(2):
        nom = float(fw.nominal_weights(fw.parent(c))[fw.children(fw.parent(c)).index(c)])
        rel = u.draws[f"w:{c}"].to_numpy() / nom
        assert rel.min() >= 0.7 - 1e-12 and rel.max() <= 1.3 + 1e-12
        assert rel.min() < 0.85 and rel.max() > 1.15
    # Dirichlet on A and B keeps their total (1) and its mean near the nominal shares
    tot = u.draws["w:A"] + u.draws["w:B"]
    np.testing.assert_allclose(tot.to_numpy(), 1.0, rtol=1e-12)
    assert abs(u.draws["w:B"].mean() - 2 / 3) < 0.05


def test_coinr_pool_design(small):
    spec = {"n": 48, "seed": 2, "sensitivity": False, "choices": [
        {"type": "weights", "levels": [2, 3], "amount": 0.25, "pool": 5}]}
    u = dcindex.uncertainty(small, spec)
    sets = u.draws[[c for c in u.draws.columns if c.startswith("w:")]].drop_duplicates()
    assert len(sets) <= 5


# --------------------------------------------------------------------------------------- conflicts
def test_geometric_with_zero_producing_normalisation_is_refused(small):
    spec = {"n": 20, "choices": [
        {"type": "normalise", "name": "Normalisation", "alternatives": [{"method": "minmax", "low": 0, "high": 100},
                                                                        {"method": "rank"}]},
        {"type": "aggregate", "name": "Aggregation", "alternatives": [{"method": "arithmetic"},
                                                                      {"method": "geometric"}]}]}
    with pytest.raises(RecipeError) as ei:
        dcindex.uncertainty(small, spec)
    msg = str(ei.value)
    assert "Normalisation = minmax" in msg and "Aggregation = geometric" in msg and "How to fix" in msg


def test_conflict_with_nominal_normalisation_is_refused():
    panel, fw = synthetic()
    res = dcindex.build(panel, fw, {**RECIPE, "normalise": {"method": "minmax", "low": 0, "high": 100}})
    with pytest.raises(RecipeError, match="nominal normalisation"):
        dcindex.uncertainty(res, {"n": 8, "choices": [{"type": "aggregate", "alternatives": ["arithmetic",
                                                                                              "geometric"]}]})


@pytest.mark.parametrize("spec,match", [
    ({"choices": [{"type": "treat", "vary": {"max_pts": [1, 2]}}]}, "no parameter 'max_pts'"),
    ({"choices": [{"type": "weights", "levels": [4]}]}, "carry no weights"),
    ({"choices": [{"type": "exclude", "nodes": ["nope"]}]}, "unknown or root"),
    ({"choices": [{"type": "treat", "vary": {"max_points": [1, 2]}},
                  {"type": "treat", "alternatives": ["none", "log"]}]}, "both vary 'treat'"),
    ({"choices": [{"type": "normalise", "alternatives": [{"method": "minmax"}]}]}, "at least two"),
    ({"choices": [{"type": "normalise", "alternatives": [{"method": "minmaxx"}, {"method": "rank"}]}]},
     "not a valid recipe step"),
    ({"chioces": []}, "unknown key 'chioces'"),
    ({"choices": [{"type": "shuffle"}]}, "unknown choice type"),
    ({"choices": [{"type": "noise", "by_indicator": {"zz": 0.1}}]}, "unknown indicator"),
    ({"choices": [{"type": "weights", "levels": [1], "name": "w"}, {"type": "weights", "nodes": ["x0"]}]},
     "perturbed by two choices"),
])
def test_bad_specifications_are_errors_with_hints(small, spec, match):
    with pytest.raises(RecipeError, match=match) as ei:
        dcindex.uncertainty(small, {"n": 8, **spec})
    assert ei.value.hint


# ------------------------------------------------------------------------------------- failed draws
def test_failed_draws_are_counted_with_reasons_not_silent():
    panel, fw = synthetic(seed=3)
    res = dcindex.build(panel, fw, {**RECIPE, "treat": {"method": "log"}})  # log needs positive values
    spec = {"n": 64, "seed": 5, "choices": [
        {"type": "noise", "relative": 0.0, "by_indicator": {"x0": 0.35}},
        {"type": "aggregate", "alternatives": ["arithmetic", "harmonic"]}]}
    u = dcindex.uncertainty(res, spec)
    failed = u.draws[u.draws["status"] == "failed"]
    assert 0 < len(failed) < len(u.draws)
    assert failed["reason"].str.contains("log treatment needs positive values").all()
    assert u.n_failed == len(failed)
    assert np.isnan(u.scores_array[~u.ok]).all() and not np.isnan(u.scores_array[u.ok]).all(axis=(1, 2)).any()
    assert "failed" in u.summary() and u.to_json()["n_failed"] == len(failed)
    # statistics use the successful draws only
    ok_ranks = u.ranks_array[u.ok]
    np.testing.assert_allclose(u.ranks["mean_rank"].to_numpy(), ok_ranks.mean(axis=0).reshape(-1))
    # Sobol estimates leave out the base samples with a failed run, and say so
    assert u.design_sa and "left out of the Sobol estimates" in u.sensitivity_note


# ------------------------------------------------------------------------------ statistics and pairs
def test_statistics_are_numpy_quantiles_over_draws(small):
    u = dcindex.uncertainty(small, {**FULL, "n": 60, "score_scale": "raw"})
    R, S = u.ranks_array[u.ok], u.scores_array[u.ok]
    r = u.ranks
    # ranks: exact (the quantiles come from rank counts, not a sort)
    np.testing.assert_array_equal(r["median_rank"], np.quantile(R, 0.5, axis=0).reshape(-1))
    np.testing.assert_array_equal(r["q05_rank"], np.quantile(R, 0.05, axis=0).reshape(-1))
    np.testing.assert_array_equal(r["q95_rank"], np.quantile(R, 0.95, axis=0).reshape(-1))
    np.testing.assert_array_equal(r["mean_rank"], R.mean(axis=0).reshape(-1))
    np.testing.assert_allclose(r["q95_score"], np.quantile(S, 0.95, axis=0).reshape(-1), rtol=1e-14)
    np.testing.assert_allclose(r["mean_score"], S.mean(axis=0).reshape(-1), rtol=1e-13)
    assert (r["q05_rank"] <= r["median_rank"]).all() and (r["median_rank"] <= r["q95_rank"]).all()
    assert (r["score_scale"] == "raw").all() and "MIX SCALES" in u.summary()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 60), st.integers(0, 10_000))
def test_rank_quantiles_by_counting_equal_numpy(n_units, n_draws, seed):
    from dcindex.uncertainty import rank_quantiles

    rng = np.random.default_rng(seed)
    R = rng.integers(1, n_units + 1, size=(n_draws, 7)).astype(float)
    qs = [0.0, 0.05, 0.3, 0.5, 0.95, 1.0]
    m, q = rank_quantiles(R, qs, n_units)
    np.testing.assert_array_equal(q, np.quantile(R, qs, axis=0))
    np.testing.assert_array_equal(m, R.mean(axis=0))


def test_score_intervals_are_on_the_nominal_scale_when_the_scale_varies(small, tmp_path):
    """QA: with min-max [1, 100] and z-score (10, 2) alternatives, CHE had nominal score 68.38 and q05 11.11 (a
    z-score): the interval mixed two scales. Each draw's scores are now mapped linearly onto the nominal scale."""
    spec = {"n": 64, "seed": 2, "choices": [
        {"type": "normalise", "name": "Norm", "alternatives": [{"method": "minmax", "low": 1, "high": 100},
                                                               {"method": "zscore", "mean": 10, "sd": 2}]},
        {"type": "weights", "levels": [2], "amount": 0.2}]}
    u = dcindex.uncertainty(small, spec)
    r = u.ranks
    assert (r["score_scale"] == "nominal").all() and u.score_scale == "nominal"
    # the documented map, computed independently: same mean and sd as the nominal scores over all unit-years
    S0 = root_scores(small)
    S = u.scores_array[u.ok]
    m, sd = S.reshape(len(S), -1).mean(axis=1), S.reshape(len(S), -1).std(axis=1)
    Sn = S0.mean() + (S - m[:, None, None]) / sd[:, None, None] * S0.std()
    np.testing.assert_allclose(r["q05_score"], np.quantile(Sn, 0.05, axis=0).reshape(-1), rtol=1e-12)
    np.testing.assert_allclose(r["median_score"], np.quantile(Sn, 0.5, axis=0).reshape(-1), rtol=1e-12)
    np.testing.assert_allclose(r["mean_score"], Sn.mean(axis=0).reshape(-1), rtol=1e-12)
    # the nominal score lies inside its interval for (nearly) every unit-year, and the interval is narrow; on
    # the raw scale the interval spans the gap between the two scales
    inside = ((r["q05_score"] <= r["nominal_score"] + 1e-9) & (r["nominal_score"] <= r["q95_score"] + 1e-9)).mean()
    raw = dcindex.uncertainty(small, {**spec, "score_scale": "raw"}).ranks
    width = (r["q95_score"] - r["q05_score"]).median()
    width_raw = (raw["q95_score"] - raw["q05_score"]).median()
    assert inside > 0.9 and width < 0.3 * width_raw
    assert (raw["q05_score"] < 20).mean() > 0.9  # z-scores (mean 10, sd 2) next to min-max scores
    # ranks do not depend on the score scale
    np.testing.assert_array_equal(r["median_rank"], raw["median_rank"])
    assert "nominal scale" in u.summary() and "Norm" in u.score_scale_note()
    u.to_dir(tmp_path / "u")
    assert pd.read_csv(tmp_path / "u" / "ranks.csv")["score_scale"].eq("nominal").all()
    import json

    assert json.loads((tmp_path / "u" / "summary.json").read_text(encoding="utf-8"))["score_scale"] == "nominal"
    # weights alone do not change the scale: raw scores, said so
    w = dcindex.uncertainty(small, {"n": 16, "choices": [spec["choices"][1]]})
    assert w.score_scale == "raw" and "own scale" in w.summary()


def test_pair_and_overtake_probabilities(small):
    u = dcindex.uncertainty(small, {**FULL, "n": 60, "pairs": "U01:U02,U03:U07"})
    R = u.ranks_array[u.ok]
    ui = {c: i for i, c in enumerate(small.unit_codes)}
    p = u.pairs
    assert len(p) == 2 * len(small.years)
    for _, row in p.iterrows():
        t = small.years.index(row["year"])
        a, b = R[:, t, ui[row["unit_a"]]], R[:, t, ui[row["unit_b"]]]
        assert row["p_a_above_b"] == pytest.approx(np.mean(a < b))
        assert row["p_a_above_b"] + row["p_b_above_a"] + np.mean(a == b) == pytest.approx(1.0)
    o = u.overtakes
    first = o[(o["year_from"] == 2020) & (o["year_to"] == 2022) & (o["unit_a"] == "U03")].iloc[0]
    a, b = R[:, :, ui["U03"]], R[:, :, ui["U07"]]
    assert first["p_a_overtook_b"] == pytest.approx(np.mean((a[:, 0] > b[:, 0]) & (a[:, 2] < b[:, 2])))
    assert first["p_b_overtook_a"] == pytest.approx(np.mean((b[:, 0] > a[:, 0]) & (b[:, 2] < a[:, 2])))
    assert set(zip(o["year_from"], o["year_to"])) == {(2020, 2022), (2020, 2021), (2021, 2022)}


def test_top10_pairs(small):
    u = dcindex.uncertainty(small, {**FULL, "n": 20})
    last = u.pairs[u.pairs["year"] == 2022]
    assert len(last) == 45
    adj = u.pairs_table()
    assert len(adj) == 9 and (np.abs(adj["nominal_rank_a"] - adj["nominal_rank_b"]) == 1).all()


@pytest.mark.parametrize("pairs", ["U01-U02", "U01:ZZZ", "U01:U01"])
def test_bad_pairs(small, pairs):
    with pytest.raises(InputError):
        dcindex.uncertainty(small, {"n": 8, "pairs": pairs})


# ------------------------------------------------------------------------------------ reproducibility
def _dir_hash(path):
    h = hashlib.sha256()
    for f in sorted(path.iterdir()):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_same_seed_identical_output_any_threads(small, tmp_path):
    a = dcindex.uncertainty(small, FULL, n_jobs=1, chunk_elements=500)
    b = dcindex.uncertainty(small, FULL, n_jobs=2)
    c = dcindex.uncertainty(small, {**FULL, "seed": 8})
    np.testing.assert_array_equal(a.scores_array, b.scores_array)
    a.to_dir(tmp_path / "a")
    b.to_dir(tmp_path / "b")
    c.to_dir(tmp_path / "c")
    assert _dir_hash(tmp_path / "a") == _dir_hash(tmp_path / "b")
    assert _dir_hash(tmp_path / "a") != _dir_hash(tmp_path / "c")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted([
        "convergence.csv", "draws.csv", "overtakes.csv", "pairs.csv", "ranks.csv", "sensitivity.csv",
        "sensitivity_units.csv", "spec.yaml", "summary.json", "summary.txt"])


def test_default_threads_use_every_core_and_do_not_change_the_output(small, tmp_path, monkeypatch):
    import sys

    mod = sys.modules["dcindex.uncertainty"]
    monkeypatch.setattr(mod.os, "cpu_count", lambda: 3)
    assert mod._n_threads(None) == 3
    a = dcindex.uncertainty(small, FULL, chunk_elements=300)  # three threads
    b = dcindex.uncertainty(small, FULL, n_jobs=1)
    c = dcindex.uncertainty(small, FULL, n_jobs=5, chunk_elements=700)
    for u, name in ((a, "a"), (b, "b"), (c, "c")):
        u.to_dir(tmp_path / name)
    assert _dir_hash(tmp_path / "a") == _dir_hash(tmp_path / "b") == _dir_hash(tmp_path / "c")
    with pytest.raises(InputError, match="threads"):
        dcindex.uncertainty(small, FULL, n_jobs=0)


@pytest.mark.parametrize("kw", [{"seed": -1}, {"n": 1}, {"bootstrap": -5}])
def test_keyword_overrides_are_validated(small, kw):
    with pytest.raises(RecipeError, match="override") as ei:
        dcindex.uncertainty(small, FULL, **kw)
    assert ei.value.hint and list(kw)[0] in str(ei.value)


def test_spec_yaml_roundtrip(small, tmp_path):
    import yaml

    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(FULL), encoding="utf-8")
    sp = UncertaintySpec.from_any(p)
    assert sp.to_plain()["choices"][3]["amount"] == 0.3
    u1 = dcindex.uncertainty(small, p)
    u2 = dcindex.uncertainty(small, UncertaintySpec.from_any(sp.to_plain()))
    np.testing.assert_array_equal(u1.scores_array, u2.scores_array)


def test_summary_and_headline(small):
    u = dcindex.uncertainty(small, {**FULL, "n": 30})
    s = u.summary()
    assert "Sobol indices" in s and "convergence" in s and "\n" not in u.headline()
    assert isinstance(Recipe.from_any(small.recipe), Recipe)
