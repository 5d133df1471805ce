"""`dcindex uncertainty` and `dcindex audit` on a saved result directory (in-process through the CLI entry point)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

import dcindex
from dcindex.cli import main
from dcindex.data import Panel
from dcindex.framework import Framework, Node


@pytest.fixture(scope="module")
def result_dir(tmp_path_factory):
    rng = np.random.default_rng(0)
    nodes = [Node("Index", None), Node("P1", "Index"), Node("P2", "Index", weight=2)]
    nodes += [Node(c, "P1" if i < 3 else "P2", is_indicator=True) for i, c in enumerate("abcdef")]
    units = pd.DataFrame({"name": [f"unit {i}" for i in range(15)]},
                         index=pd.Index([f"U{i:02d}" for i in range(15)], name="unit"))
    panel = Panel(units=units, years=[2021, 2022], indicators=list("abcdef"),
                  values=rng.lognormal(size=(2, 15, 6)) + rng.normal(size=(1, 15, 1)) ** 2)
    res = dcindex.build(panel, Framework(nodes), {"treat": {"method": "winsorise", "max_points": 2},
                                                   "normalise": {"method": "minmax", "low": 1, "high": 100}})
    d = tmp_path_factory.mktemp("res") / "out"
    res.to_dir(d)
    spec = {"n": 60, "seed": 4, "choices": [
        {"type": "treat", "name": "Winsorisation", "vary": {"max_points": [1, 2, 3]}},
        {"type": "aggregate", "name": "Aggregation", "alternatives": ["arithmetic", "geometric"]},
        {"type": "weights", "name": "Weights", "levels": [2], "amount": 0.25}]}
    (d.parent / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return d


def run(argv):
    with pytest.raises(SystemExit) as ei:
        main(argv)
    return ei.value.code


def test_uncertainty_command(result_dir, capsys):
    code = run(["uncertainty", str(result_dir), "--spec", str(result_dir.parent / "spec.yaml"), "--n", "100",
                "--seed", "2", "--pairs", "top10"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Sobol indices" in out and "P(A above B)" in out and "Overtaking between 2021 and 2022" in out
    u = result_dir / "uncertainty"
    s = json.loads((u / "summary.json").read_text(encoding="utf-8"))
    assert s["n_requested"] == 100 and s["seed"] == 2 and s["n_draws"] == 100
    ranks = pd.read_csv(u / "ranks.csv", dtype={"unit": str})
    assert len(ranks) == 30 and {"median_rank", "q05_rank", "q95_rank", "median_score"} <= set(ranks.columns)
    # the same result through the Python API (the CLI adds nothing of its own)
    res = dcindex.load(result_dir)
    api = dcindex.uncertainty(res, result_dir.parent / "spec.yaml", n=100, seed=2)
    np.testing.assert_allclose(ranks["mean_rank"], api.ranks["mean_rank"])


def test_uncertainty_explicit_pairs_and_ua_only(result_dir, capsys, tmp_path):
    code = run(["uncertainty", str(result_dir), "--spec", str(result_dir.parent / "spec.yaml"), "--pairs",
                "U01:U02,U03:U04", "--no-sensitivity", "--out", str(tmp_path / "u")])
    out = capsys.readouterr().out
    assert code == 0, out
    p = pd.read_csv(tmp_path / "u" / "pairs.csv")
    assert set(zip(p["unit_a"], p["unit_b"])) == {("U01", "U02"), ("U03", "U04")}
    assert not (tmp_path / "u" / "sensitivity.csv").exists()


def test_uncertainty_bad_input_exits_2(result_dir, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("n: 10\nchoices:\n  - {type: aggregate, alternatives: [arithmetic], wrong: 1}\n", encoding="utf-8")
    assert run(["uncertainty", str(result_dir), "--spec", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'wrong'" in err and "How to fix" in err
    assert run(["uncertainty", str(result_dir), "--spec", str(result_dir.parent / "spec.yaml"),
                "--pairs", "U01:NOPE"]) == 2
    assert "unknown unit" in capsys.readouterr().err
    assert run(["uncertainty", str(tmp_path), "--spec", str(result_dir.parent / "spec.yaml")]) == 2
    assert "manifest.json" in capsys.readouterr().err


@pytest.mark.parametrize("opt,val,word", [("--seed", "-1", "seed"), ("--n", "1", "n"), ("--n", "0", "n"),
                                          ("--threads", "0", "threads")])
def test_bad_overrides_exit_2_without_traceback(result_dir, capsys, opt, val, word):
    """QA: --seed -1 and --n 1 skipped validation and ended in a pydantic traceback (exit 1)."""
    code = run(["uncertainty", str(result_dir), "--spec", str(result_dir.parent / "spec.yaml"), opt, val])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "How to fix" in err and word in err


def test_too_many_draws_are_refused_before_the_design_is_built(result_dir, capsys, monkeypatch):
    """QA: --n 6000000 built the whole sampling design (45 s, 2.3 GB) before the memory check refused it."""
    import sys

    mod = sys.modules["dcindex.uncertainty"]

    def boom(*a, **k):
        raise AssertionError("the design was built before the memory check")

    monkeypatch.setattr(mod, "_design", boom)
    code = run(["uncertainty", str(result_dir), "--spec", str(result_dir.parent / "spec.yaml"), "--n", "60000000"])
    err = capsys.readouterr().err
    assert code == 2 and "GB" in err and "How to fix" in err and "Traceback" not in err


def test_all_pairs_are_written_not_printed(result_dir, capsys, tmp_path):
    """QA: --pairs all printed every pair (1,275 rows for 51 units); now the 20 most uncertain are printed and
    all are in pairs.csv."""
    code = run(["uncertainty", str(result_dir), "--spec", str(result_dir.parent / "spec.yaml"), "--pairs", "all",
                "--n", "60", "--out", str(tmp_path / "u")])
    out = capsys.readouterr().out
    assert code == 0, out
    p = pd.read_csv(tmp_path / "u" / "pairs.csv")
    assert len(p) == 105 * 2  # 15 units: 105 pairs, 2 years
    assert "Showing the 20 of 105 pairs whose order is most uncertain" in out and "pairs.csv" in out
    table = out.split("probability that A ranks above B")[1].split("Overtaking")[0]
    assert sum(line.count("U") >= 2 for line in table.splitlines()) == 20
    # the printed ones are the most uncertain of the last year
    last = p[p["year"] == 2022]
    gap = (last["p_a_above_b"] - last["p_b_above_a"]).abs().sort_values()
    assert gap.iloc[19] <= gap.iloc[20] or gap.iloc[:20].max() <= gap.iloc[20:].min()


def test_tables_show_unit_names(result_dir, capsys, tmp_path):
    code = run(["uncertainty", str(result_dir), "--spec", str(result_dir.parent / "spec.yaml"), "--n", "40",
                "--out", str(tmp_path / "u")])
    out = capsys.readouterr().out
    assert code == 0
    summary = out.split("Ranks in 2022")[1].split("Sobol")[0]
    import re

    rows = re.findall(r"^  (U\d\d) unit (\d+) ", summary, flags=re.M)  # "U07 unit 7": the name next to the code
    assert len(rows) == 10 and all(int(code[1:]) == int(num) for code, num in rows)
    pairs = out.split("probability that A ranks above B")[1]
    assert re.search(r"U\d\d unit \d+", pairs)


def test_audit_command(result_dir, capsys):
    assert run(["audit", str(result_dir)]) == 0
    out = capsys.readouterr().out
    assert "dcindex statistical audit" in out and "Leave one out" in out
    a = json.loads((result_dir / "audit" / "audit.json").read_text(encoding="utf-8"))
    assert a["index"] == "Index" and a["headline"].endswith(".")
    loo = pd.read_csv(result_dir / "audit" / "leave_one_out.csv")
    assert set(loo["node"]) == set("abcdef") | {"P1", "P2"}
    assert run(["audit", str(result_dir), "--stats-dataset", "nope"]) == 2
    assert run(["audit", str(result_dir), "--bootstrap", "-3"]) == 2
    assert "bootstrap" in capsys.readouterr().err
