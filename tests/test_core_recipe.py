"""The recipe: public keys and method names, per-level/per-node overrides, validation messages."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import dcindex
from dcindex.errors import DcindexError, InputError, RecipeError
from dcindex.recipe import Recipe, coinr_recipe, read_recipe

FIX = Path(__file__).parent / "fixtures"

README_RECIPE = """
denominate: true
impute: {method: group_mean, group: EurAsia_group}
treat: {method: winsorise, max_points: 5, skew: 2.0, kurtosis: 3.5}
normalise: {method: minmax, low: 0, high: 100}
weights: {method: meta}
aggregate: {method: arithmetic}
"""


def test_defaults():
    r = Recipe()
    assert r.denominate is False
    assert r.impute.spec.method == "none" and r.treat.spec.method == "none"
    assert (r.normalise.spec.method, r.normalise.spec.low, r.normalise.spec.high) == ("minmax", 0, 100)
    assert r.weights.spec.method == "meta" and r.aggregate.spec.method == "arithmetic"


def test_readme_recipe_parses_with_every_value():
    r = Recipe.from_any(yaml.safe_load(README_RECIPE))
    assert r.denominate is True
    assert r.impute.spec.group == "EurAsia_group"
    t = r.treat.spec
    assert (t.method, t.max_points, t.skew, t.kurtosis) == ("winsorise", 5, 2.0, 3.5)
    assert r == coinr_recipe()


@pytest.mark.parametrize("method", ["none", "mean", "median", "linear", "locf"])
def test_every_impute_method_name(method):
    assert Recipe.from_any({"impute": method}).impute.spec.method == method


@pytest.mark.parametrize("spec", [
    {"method": "minmax"}, {"method": "zscore", "mean": 100, "sd": 10}, {"method": "rank"},
    {"method": "percentile_rank"}, {"method": "target"}, {"method": "goalposts", "source": "pooled"},
    {"method": "base_year", "year": 2020, "reference": "unit"},
])
def test_every_normalise_method_name(spec):
    assert Recipe.from_any({"normalise": spec}).normalise.spec.method == spec["method"]


@pytest.mark.parametrize("method", ["meta", "equal", "entropy", "critic", "pca", "ahp", "bod"])
def test_every_weights_method_name(method):
    assert Recipe.from_any({"weights": {"method": method}}).weights.spec.method == method


@pytest.mark.parametrize("method", ["arithmetic", "geometric", "harmonic", "mazziotta_pareto", "topsis"])
def test_every_aggregate_method_name(method):
    assert Recipe.from_any({"aggregate": method}).aggregate.spec.method == method


def test_overrides_node_beats_level_beats_default():
    r = Recipe.from_any({"aggregate": {"method": "arithmetic", "by_level": {3: {"method": "geometric"}},
                                       "by_node": {"ECON": "harmonic", "IDX": {"method": "topsis"}}}})
    a = r.aggregate
    assert a.resolve(node="INFRA", level=2).method == "arithmetic"
    assert a.resolve(node="ECON", level=2).method == "harmonic"
    assert a.resolve(node="OTHER", level=3).method == "geometric"
    assert a.resolve(node="IDX", level=3).method == "topsis"


def test_string_level_keys_from_yaml_are_levels():
    r = Recipe.from_any(yaml.safe_load("aggregate:\n  method: arithmetic\n  by_level: {'3': geometric}\n"))
    assert r.aggregate.resolve(level=3).method == "geometric"


def test_round_trip_through_plain_and_yaml(tmp_path):
    r = Recipe.from_any({
        "denominate": "strict", "impute": {"method": "linear", "edges": "nearest"},
        "treat": {"method": "winsorise", "scope": "pooled", "by_node": {"x": {"method": "log", "shift": True}}},
        "normalise": {"method": "zscore", "mean": 100, "sd": 10, "by_level": {1: {"method": "rank"}}},
        "weights": {"method": "entropy", "by_node": {"IDX": "equal"}},
        "aggregate": {"method": "geometric", "min_coverage": 0.5},
    })
    assert Recipe.from_any(r.to_plain()) == r
    p = tmp_path / "r.yaml"
    p.write_text(r.to_yaml(), encoding="utf-8")
    assert read_recipe(p) == r


def test_replace_one_step():
    r = coinr_recipe().replace(normalise={"method": "rank"})
    assert r.normalise.spec.method == "rank" and r.impute == coinr_recipe().impute
    with pytest.raises(RecipeError, match="unknown recipe step 'normalize'"):
        coinr_recipe().replace(normalize={"method": "rank"})


# ========================================================================================= errors
@pytest.mark.parametrize("d, needle", [
    ({"normalize": {"method": "minmax"}}, "unknown key 'normalize' in recipe"),
    ({"normalise": {"method": "minmax", "lo": 1}}, "unknown key 'lo' in normalise"),
    ({"treat": {"method": "winsorise", "maxpoints": 3}}, "unknown key 'maxpoints' in treat"),
    ({"aggregate": {"method": "arithmetic", "by_levels": {}}}, "unknown key 'by_levels'"),
    ({"normalise": {"method": "minmaks"}}, "'minmaks'"),
    ({"weights": {"method": "entropie"}}, "'entropie'"),
    ({"normalise": {"method": "minmax", "low": 5, "high": 1}}, "low < high"),
    ({"normalise": {"method": "zscore", "sd": 0}}, "normalise"),
    ({"treat": {"method": "winsorise", "max_points": -1}}, "max_points"),
    ({"impute": {"method": "group_mean"}}, "group"),
    ({"denominate": "maybe"}, "denominate"),
])
def test_invalid_recipes_are_named(d, needle):
    with pytest.raises(RecipeError) as e:
        Recipe.from_any(d, where="recipe.yaml")
    msg = str(e.value)
    assert needle in msg and msg.startswith("recipe.yaml: invalid recipe") and "How to fix" in msg


def test_recipe_file_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_recipe(tmp_path / "nope.yaml")
    p = tmp_path / "r.yaml"
    p.write_text("normalise: {method: minmax\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="cannot parse YAML"):
        read_recipe(p)
    p.write_bytes("normalise: {method: rank}\n".encode("utf-16"))
    with pytest.raises(DcindexError, match="r.yaml"):
        read_recipe(p)
    p.write_text("# only a comment\n", encoding="utf-8")
    assert read_recipe(p) == Recipe()
    p.write_text("- minmax\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="mapping"):
        read_recipe(p)


@pytest.mark.parametrize("step, spec, needle", [
    ("normalise", {"method": "minmax", "by_node": {"prise": {"method": "rank"}}}, "prise"),
    ("aggregate", {"method": "arithmetic", "by_node": {"ECONN": "geometric"}}, "ECONN"),
    ("weights", {"method": "meta", "by_node": {"IDXX": "equal"}}, "IDXX"),
    ("aggregate", {"method": "arithmetic", "by_level": {7: "geometric"}}, "7"),
    # an indicator step overridden on an aggregate (or the reverse) would never apply
    ("treat", {"method": "none", "by_node": {"ECON": {"method": "log"}}}, "ECON"),
    ("aggregate", {"method": "arithmetic", "by_node": {"price": "geometric"}}, "price"),
])
def test_overrides_naming_nothing_in_the_framework_are_errors(step, spec, needle):
    # a typo in a node code must not be silently ignored (the build would run the default instead)
    with pytest.raises(RecipeError) as e:
        dcindex.build(FIX / "mini_wide.csv", FIX / "mini_framework.yaml", {step: spec})
    assert needle in str(e.value)


def test_excluding_an_overridden_indicator_is_not_an_error():
    res = dcindex.build(FIX / "mini_wide.csv", FIX / "mini_framework.yaml",
                        {"normalise": {"method": "minmax", "by_node": {"price": {"method": "rank"}}}})
    r = res.rebuild(exclude=["price"])
    assert "price" not in r.framework.indicators
