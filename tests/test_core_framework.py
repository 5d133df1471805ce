"""The framework tree: native YAML and COINr iMeta, levels, weights, validation messages."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as hs

from dcindex.errors import DcindexError, FrameworkError, InputError
from dcindex.framework import (
    Framework,
    Node,
    framework_from_dict,
    framework_from_imeta,
    read_framework,
    read_framework_yaml,
)

FIX = Path(__file__).parent / "fixtures"


def imeta(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=object)


IMETA_OK = """Level,iCode,iName,Direction,Weight,Parent,Type
1,a,A,1,1,P1,Indicator
1,b,B,-1,3,P1,Indicator
1,c,C,1,1,P2,Indicator
2,P1,Pillar 1,,1,IDX,Aggregate
2,P2,Pillar 2,,1,IDX,Aggregate
3,IDX,Index,,1,,Aggregate
"""


def small(**over):
    d = {"index": {"code": "IDX", "children": [
        {"code": "P1", "weight": 2, "children": [{"code": "a", "direction": 1}, {"code": "b", "direction": -1}]},
        {"code": "P2", "weight": 1, "children": [{"code": "c", "direction": 1}]},
    ]}}
    d.update(over)
    return d


# ========================================================================================= structure
class TestStructure:
    def test_mini_yaml(self):
        fw = read_framework(FIX / "mini_framework.yaml")
        assert fw.root == "IDX"
        assert fw.indicators == ["broadband", "base_st", "ecom_share", "price"]
        assert fw.aggregates == ["INFRA", "ECON", "IDX"]  # bottom-up
        assert fw.levels == [1, 2, 3] and fw.top_level == 3
        assert fw.pillars == ["INFRA", "ECON"]
        assert fw.nodes["price"].direction == -1 and fw.nodes["broadband"].denominator == "pop"
        assert fw.nodes["broadband"].goalposts == (0.0, 1.0) and fw.nodes["price"].target == 25
        assert fw.nodes["price"].tags == {"note": "lower is better"}
        assert fw.nodes["INFRA"].name_zh == "基础设施"
        assert list(fw.denominators) == ["pop"] and fw.groups == ["region"]

    def test_effective_weights_by_hand(self):
        # INFRA : ECON = 2 : 1 -> 2/3, 1/3; two equal indicators in each -> 1/3, 1/3, 1/6, 1/6
        fw = read_framework(FIX / "mini_framework.yaml")
        eff = fw.effective_weights()
        assert np.allclose(eff[["broadband", "base_st", "ecom_share", "price"]], [1 / 3, 1 / 3, 1 / 6, 1 / 6])
        assert np.allclose(eff[["INFRA", "ECON", "IDX"]], [2 / 3, 1 / 3, 1])
        assert np.allclose(fw.nominal_weights("IDX"), [2 / 3, 1 / 3])

    def test_levels_follow_coinr_for_unbalanced_tree(self):
        # an indicator directly under the index next to a pillar: the index is one above its highest child
        fw = framework_from_dict({"index": {"code": "I", "children": [
            {"code": "x"}, {"code": "P", "children": [{"code": "y"}, {"code": "z"}]}]}})
        assert (fw.level("x"), fw.level("P"), fw.level("I")) == (1, 2, 3)

    def test_imeta_and_yaml_give_the_same_tree(self):
        a = read_framework(FIX / "mini_framework.yaml")
        b = read_framework(FIX / "mini_imeta.csv")
        assert a.indicators == b.indicators and a.aggregates == b.aggregates
        assert all(a.parent(c) == b.parent(c) for c in a.nodes)
        assert np.allclose(a.effective_weights(), b.effective_weights()[a.effective_weights().index])
        assert [a.nodes[c].direction for c in a.indicators] == [b.nodes[c].direction for c in b.indicators]
        assert b.groups == ["region_group"] and list(b.denominators) == ["pop"]

    def test_yaml_round_trip(self):
        fw = read_framework(FIX / "mini_framework.yaml")
        fw2 = framework_from_dict(yaml.safe_load(fw.to_yaml()))
        assert fw2.to_dict() == fw.to_dict()
        assert fw2.nodes == fw.nodes

    def test_gb18030_yaml_with_chinese_names(self, tmp_path):
        p = tmp_path / "fw.yaml"
        p.write_bytes((FIX / "mini_framework.yaml").read_text(encoding="utf-8").encode("gb18030"))
        fw = read_framework_yaml(p)
        assert fw.nodes["ECON"].name_zh == "数字经济"

    def test_with_weights_and_without(self):
        fw = framework_from_dict(small())
        fw2 = fw.with_weights({"P1": 1, "b": 0})
        assert np.allclose(fw2.effective_weights()[["a", "b", "c"]], [0.5, 0, 0.5])
        fw3 = fw.without(["c"])  # P2 becomes empty and goes too
        assert fw3.indicators == ["a", "b"] and "P2" not in fw3.nodes
        with pytest.raises(FrameworkError, match="zzz"):
            fw.with_weights({"zzz": 1})

    def test_asem_imeta(self, shared_data):
        fw = read_framework(shared_data / "coinr-asem" / "ASEM_iMeta.csv")
        assert len(fw.indicators) == 49 and len(fw.aggregates) == 11 and fw.top_level == 4
        assert sorted(fw.pillars) == ["Conn", "Sust"]
        assert sorted(fw.denominators) == ["Area", "Energy", "GDP", "Population"]
        # COINr get_eff_weights (printed in its docs): Goods 0.02 = 1/2 * 1/5 * 1/5 (Conn has 5 pillars,
        # ConEcFin 5 indicators); Renew 1/30 = 1/2 * 1/3 * 1/5 (Sust 3 pillars, Environ 5 indicators)
        eff = fw.effective_weights()
        assert eff["Goods"] == pytest.approx(0.02) and eff["Renew"] == pytest.approx(1 / 30)
        assert eff[fw.indicators].sum() == pytest.approx(1)


@hs.composite
def random_tree(draw):
    """A random tree: node i > 0 has a parent among 0..i-1; leaves are indicators; random weights."""
    n = draw(hs.integers(3, 25))
    parents = [None] + [draw(hs.integers(0, i - 1)) for i in range(1, n)]
    weights = [draw(hs.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5])) for _ in range(n)]
    kids: dict[int, list[int]] = {}
    for i, p in enumerate(parents):
        if p is not None:
            kids.setdefault(p, []).append(i)
    for p, ch in kids.items():  # at least one positive weight per parent
        if sum(weights[c] for c in ch) == 0:
            weights[ch[0]] = 1.0
    nodes = [Node(code=f"n{i}", parent=None if p is None else f"n{p}", weight=weights[i],
                  is_indicator=i not in kids) for i, p in enumerate(parents)]
    return Framework(nodes)


@settings(max_examples=100, deadline=None)
@given(fw=random_tree())
def test_weights_sum_to_one_within_parents_and_over_indicators(fw):
    for agg in fw.aggregates:
        w = fw.nominal_weights(agg)
        assert w.sum() == pytest.approx(1) and (w >= 0).all()
    eff = fw.effective_weights()
    assert eff[fw.indicators].sum() == pytest.approx(1)
    # every aggregate's effective weight is the sum of its children's
    for agg in fw.aggregates:
        assert eff[agg] == pytest.approx(sum(eff[c] for c in fw.children(agg)))


# ======================================================================================== validation
class TestValidationYAML:
    def test_duplicate_codes(self):
        d = small()
        d["index"]["children"][1]["children"].append({"code": "a"})
        with pytest.raises(FrameworkError, match="duplicate node codes: a") as e:
            framework_from_dict(d, source_file="fw.yaml")
        assert "fw.yaml" in str(e.value) and "unique" in str(e.value)

    def test_codes_differing_only_by_case(self):
        d = small()
        d["index"]["children"][1]["children"].append({"code": "A"})
        with pytest.raises(FrameworkError, match="'a' and 'A' differ only by case"):
            framework_from_dict(d)

    @pytest.mark.parametrize("where", ["node", "top"])
    def test_unknown_keys(self, where):
        d = small()
        if where == "node":
            d["index"]["children"][0]["wieght"] = 2
        else:
            d["indexx"] = 1
        with pytest.raises(FrameworkError, match="unknown key '(wieght|indexx)'") as e:
            framework_from_dict(d, source_file="fw.yaml")
        if where == "node":
            assert "node 'P1'" in str(e.value)

    @pytest.mark.parametrize("direction", [0, 2, -2])
    def test_direction_not_plus_minus_one(self, direction):
        d = small()
        d["index"]["children"][0]["children"][1]["direction"] = direction
        with pytest.raises(FrameworkError, match="node 'b'") as e:
            framework_from_dict(d)
        assert "1 or -1" in str(e.value)

    def test_negative_weight(self):
        d = small()
        d["index"]["children"][0]["children"][0]["weight"] = -1
        with pytest.raises(FrameworkError, match="node 'a' has weight -1.0") as e:
            framework_from_dict(d)
        assert "non-negative" in str(e.value)

    def test_all_zero_weights(self):
        d = small()
        for ch in d["index"]["children"][0]["children"]:
            ch["weight"] = 0
        with pytest.raises(FrameworkError, match="children of 'P1' are zero") as e:
            framework_from_dict(d)
        assert "a, b" in str(e.value)

    def test_aggregate_with_indicator_keys(self):
        d = small()
        d["index"]["children"][0]["direction"] = 1
        with pytest.raises(FrameworkError, match="aggregate node 'P1' has indicator-only keys: direction"):
            framework_from_dict(d)

    def test_goalposts_order(self):
        d = small()
        d["index"]["children"][0]["children"][0]["goalposts"] = [5, 1]
        with pytest.raises(FrameworkError, match="'a' has goalposts") as e:
            framework_from_dict(d)
        assert "low < high" in str(e.value)

    def test_undeclared_denominator(self):
        d = small(denominators=[{"code": "pop"}])
        d["index"]["children"][0]["children"][0]["denominator"] = "popp"
        with pytest.raises(FrameworkError, match="'a' names denominator 'popp'") as e:
            framework_from_dict(d)
        assert "pop" in str(e.value)

    def test_yaml_syntax_error_names_line(self, tmp_path):
        p = tmp_path / "bad.yaml"
        p.write_text("index:\n  code: I\n  children: [\n", encoding="utf-8")
        with pytest.raises(FrameworkError, match="line") as e:
            read_framework_yaml(p)
        assert "bad.yaml" in str(e.value)

    def test_missing_file(self, tmp_path):
        with pytest.raises(InputError, match="does not exist"):
            read_framework_yaml(tmp_path / "nope.yaml")

    def test_undecodable_yaml_is_a_clear_error(self, tmp_path):
        # Windows Notepad's "Unicode" (UTF-16 with BOM) is neither UTF-8 nor GB18030
        p = tmp_path / "fw.yaml"
        p.write_bytes(yaml.safe_dump(small()).encode("utf-16"))
        with pytest.raises(DcindexError) as e:
            read_framework_yaml(p)
        assert "fw.yaml" in str(e.value) and "UTF-8" in str(e.value)


class TestValidationIMeta:
    def test_ok(self):
        fw = framework_from_imeta(imeta(IMETA_OK))
        assert fw.indicators == ["a", "b", "c"] and fw.nodes["b"].weight == 3

    def test_orphan(self):
        bad = IMETA_OK.replace("1,c,C,1,1,P2,Indicator", "1,c,C,1,1,P3,Indicator")
        with pytest.raises(FrameworkError, match=r"'c' \(parent 'P3'\)") as e:
            framework_from_imeta(imeta(bad), source_file="iMeta.csv")
        assert "iMeta.csv" in str(e.value)

    def test_cycle(self):
        bad = IMETA_OK.replace("2,P2,Pillar 2,,1,IDX,Aggregate", "2,P2,Pillar 2,,1,P4,Aggregate") \
            + "3,P4,x,,1,P2,Aggregate\n"
        with pytest.raises(FrameworkError, match="cycle: (P2 -> P4 -> P2|P4 -> P2 -> P4)"):
            framework_from_imeta(imeta(bad))

    def test_two_roots(self):
        bad = IMETA_OK + "3,IDX2,Index 2,,1,,Aggregate\n"
        with pytest.raises(FrameworkError, match="exactly one top node") as e:
            framework_from_imeta(imeta(bad))
        assert "IDX, IDX2" in str(e.value)

    def test_duplicate_code(self):
        with pytest.raises(FrameworkError, match="duplicate node codes: a"):
            framework_from_imeta(imeta(IMETA_OK + "1,a,A again,1,1,P2,Indicator\n"))

    @pytest.mark.parametrize("d", ["2", "0", "-1.5"])
    def test_direction(self, d):
        bad = IMETA_OK.replace("1,b,B,-1,3,P1,Indicator", f"1,b,B,{d},3,P1,Indicator")
        with pytest.raises(FrameworkError, match=r"row 3: indicator 'b' has Direction") as e:
            framework_from_imeta(imeta(bad))
        assert "1 or -1" in str(e.value)

    def test_missing_direction(self):
        bad = IMETA_OK.replace("1,b,B,-1,3,P1,Indicator", "1,b,B,,3,P1,Indicator")
        with pytest.raises(FrameworkError, match="'b' has no Direction"):
            framework_from_imeta(imeta(bad))

    def test_negative_and_zero_weights(self):
        with pytest.raises(FrameworkError, match="'b' has weight -3"):
            framework_from_imeta(imeta(IMETA_OK.replace("-1,3,P1", "-1,-3,P1")))
        zero = IMETA_OK.replace("1,a,A,1,1,P1", "1,a,A,1,0,P1").replace("-1,3,P1", "-1,0,P1")
        with pytest.raises(FrameworkError, match="children of 'P1' are zero"):
            framework_from_imeta(imeta(zero))

    def test_weight_not_a_number(self):
        with pytest.raises(InputError, match="row 2, column 'Weight': 'one' is not a number"):
            framework_from_imeta(imeta(IMETA_OK.replace("1,a,A,1,1,P1", "1,a,A,1,one,P1")))

    def test_unknown_column(self):
        df = imeta(IMETA_OK)
        df["Wieght"] = 1
        with pytest.raises(InputError, match="unknown columns: Wieght"):
            framework_from_imeta(df)

    def test_bad_type(self):
        with pytest.raises(InputError, match="Type 'Indicatr'"):
            framework_from_imeta(imeta(IMETA_OK.replace("1,c,C,1,1,P2,Indicator", "1,c,C,1,1,P2,Indicatr")))

    def test_levels_must_agree(self):
        with pytest.raises(FrameworkError, match=r"'IDX' \(Level 4, implied 3\)"):
            framework_from_imeta(imeta(IMETA_OK.replace("3,IDX,Index", "4,IDX,Index")))

    def test_indicator_with_children(self):
        bad = IMETA_OK + "1,d,D,1,1,a,Indicator\n"
        with pytest.raises(FrameworkError, match="'a' is declared as an indicator but has children"):
            framework_from_imeta(imeta(bad))

    def test_aggregate_without_children(self):
        with pytest.raises(FrameworkError, match="aggregate node 'P3' has no children"):
            framework_from_imeta(imeta(IMETA_OK + "2,P3,Empty,,1,IDX,Aggregate\n"))
