"""`dcindex explain | profile | whatif | target` on result folders."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from dcindex.cli.explain import register
from dcindex.io import load_result

from test_explain_fixtures import simple_build


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    return app


def run(args):
    from dcindex.cli._common import run_app

    try:
        run_app(_app(), [str(a) for a in args])
    except SystemExit as e:
        return e.code
    return 0


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    r = simple_build(N=8, seed=3, recipe={"aggregate": {"method": "geometric"},
                                          "normalise": {"method": "minmax", "low": 1, "high": 100}})
    old = simple_build(N=8, seed=3, T=2)
    r.to_dir(base / "new")
    old.to_dir(base / "old")
    gp = simple_build(N=8, seed=3, goalposts=True, recipe={"normalise": {"method": "goalposts"}})
    gp.to_dir(base / "gp")
    simple_build(N=8, seed=3, T=1).to_dir(base / "single")
    return base


def test_explain_without_unit_gives_the_overview(dirs, tmp_path):
    res = CliRunner().invoke(_app(), ["explain", str(dirs / "new"), "--out", str(tmp_path / "ov")])
    assert res.exit_code == 0, res.output
    assert "Changes of IDX, 2016 -> 2018" in res.output
    mv = pd.read_csv(tmp_path / "ov" / "movers.csv", dtype={"unit": str})
    r = load_result(dirs / "new")
    j = r.node_index("IDX")
    np.testing.assert_allclose(mv["change"], r.scores_array[-1, :, j] - r.scores_array[0, :, j])


def test_explain_change_prints_and_writes(dirs, tmp_path):
    out = tmp_path / "o"
    res = CliRunner().invoke(_app(), ["explain", str(dirs / "new"), "--unit", "u2", "--from", "2016", "--to", "2018",
                                      "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Change of IDX" in res.output and "Rank of" in res.output and "Shapley" in res.output
    ind = pd.read_csv(out / "attribution" / "indicators.csv")
    meta = json.loads((out / "attribution" / "attribution.json").read_text())
    assert ind["contribution"].sum() == pytest.approx(meta["change"], abs=1e-9)
    assert (out / "rank_pairs.csv").is_file()
    # the numbers are those of the Python API on the loaded result
    from dcindex import explain

    df = explain.change(load_result(dirs / "new"), "u2", 2016, 2018)
    np.testing.assert_allclose(ind["contribution"], df["contribution"], atol=1e-12)


def test_explain_vs_and_compare(dirs):
    res = CliRunner().invoke(_app(), ["explain", str(dirs / "new"), "--unit", "u1", "--vs", "u5", "--year", "2017",
                                      "--node", "P2"])
    assert res.exit_code == 0, res.output
    assert "differ on" in res.output
    res = CliRunner().invoke(_app(), ["explain", str(dirs / "new"), "--compare", str(dirs / "old"), "--unit", "u1"])
    assert res.exit_code == 0, res.output
    assert "Editions compared" in res.output and "data revision" in res.output


def test_profile_whatif_target(dirs, tmp_path):
    res = CliRunner().invoke(_app(), ["profile", str(dirs / "new"), "--unit", "Unit 3", "--by", "grp"])
    assert res.exit_code == 0, res.output
    assert "Profile of" in res.output
    res = CliRunner().invoke(_app(), ["whatif", str(dirs / "new"), "--change", "a=+20%", "--change", "c=*1.1",
                                      "--where", "grp=A", "--by", "grp", "--out", str(tmp_path / "w")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "w" / "whatif_scores.csv").is_file()
    res = CliRunner().invoke(_app(), ["target", str(dirs / "gp"), "--unit", "u0", "--rank", "2", "--bound",
                                      "a=:15", "--cost", "b=2", "--max-change", "200", "--out", str(tmp_path / "t")])
    assert res.exit_code in (0, 1), res.output
    plan = json.loads((tmp_path / "t" / "target.json").read_text())
    assert plan["status"] in ("reached", "already met", "unreachable")
    assert (res.exit_code == 0) == (plan["status"] != "unreachable")


def test_errors_exit_2(dirs, capsys):
    assert run(["explain", dirs / "new", "--unit", "nope"]) == 2
    assert "unit 'nope'" in capsys.readouterr().err
    assert run(["explain", dirs / "new", "--vs", "u1"]) == 2
    assert run(["explain", dirs / "single"]) == 2
    assert "one year" in capsys.readouterr().err
    assert run(["explain", dirs / "missing", "--unit", "u1"]) == 2
    assert run(["whatif", dirs / "new", "--change", "a=+abc", "--unit", "u1"]) == 2
    assert run(["whatif", dirs / "new", "--change", "a=+1%"]) == 2
    assert run(["target", dirs / "gp", "--unit", "u1", "--bound", "a=5"]) == 2
    assert "LOW:HIGH" in capsys.readouterr().err


def test_samples_validated_up_front(dirs, capsys):
    """QA: --samples 0 / -3 gave 'the recipe cannot aggregate ...' (an argument error re-worded as a method
    failure)."""
    for bad in ("0", "-3", "1"):
        assert run(["explain", dirs / "new", "--unit", "u1", "--samples", bad]) == 2
        err = capsys.readouterr().err
        assert "at least 2" in err and "--samples" in err and "cannot aggregate" not in err
        assert "Traceback" not in err
    assert run(["explain", dirs / "missing", "--samples", "0"]) == 2  # checked before the folder is read
    assert "at least 2" in capsys.readouterr().err
    assert run(["explain", dirs / "new", "--unit", "u1", "--samples", "2"]) == 0


def test_whatif_negative_values_refused_or_clipped(dirs, tmp_path, capsys):
    assert run(["whatif", dirs / "new", "--change", "a=-150%", "--unit", "u1"]) == 2
    err = capsys.readouterr().err
    assert "negative" in err and "--clip-negative" in err
    assert run(["whatif", dirs / "new", "--change", "a=-150%", "--unit", "u1", "--clip-negative",
                "--out", tmp_path / "w"]) == 0
    assert "clipped to 0" in capsys.readouterr().out
    ap = pd.read_csv(tmp_path / "w" / "whatif_applied.csv")
    assert ap["after"].iloc[0] == 0 and bool(ap["clipped"].iloc[0])


def test_group_target_on_the_command_line(dirs, tmp_path, capsys):
    assert run(["target", dirs / "gp", "--group", "grp=A", "--reference", "grp=B", "--close-gap", "0.5",
                "--out", tmp_path / "g"]) == 0
    out = capsys.readouterr().out
    assert "Group target" in out and "verified by rebuilding" in out
    plan = json.loads((tmp_path / "g" / "target.json").read_text())
    assert plan["status"] == "reached" and plan["gap_after"] <= plan["gap_before"] - 0.5 + 1e-9
    r = load_result(dirs / "gp")
    ch = pd.read_csv(tmp_path / "g" / "target_plan.csv", dtype={"unit": str})
    assert set(ch.loc[ch["change"] != 0, "unit"]) <= set(r.units.index[r.units["grp"] == "A"])
    assert run(["target", dirs / "gp", "--group", "u1,u2", "--score", "99", "--max-change", "1"]) == 1
    assert "unreachable" in capsys.readouterr().out
    assert run(["target", dirs / "gp", "--group", "grp=A", "--unit", "u1", "--score", "3"]) == 2
    assert run(["target", dirs / "gp", "--group", "grp=A", "--close-gap", "1"]) == 2
    assert "reference" in capsys.readouterr().err


def test_chinese_short_names_on_the_command_line(tmp_path, capsys):
    import dcindex
    from dcindex.data import Panel

    from test_explain_fixtures import framework

    fw = framework([[("a", 1, 1.0)], [("b", 1, 1.0)]])
    codes = ["110000", "310000", "510000", "520000"]
    units = pd.DataFrame({"name": ["北京市", "上海市", "四川省", "贵州省"]},
                         index=pd.Index(codes, name="unit"))
    X = np.random.default_rng(1).uniform(1, 10, (2, 4, 2))
    dcindex.build(Panel(units=units, years=[2022, 2023], indicators=["a", "b"], values=X), fw).to_dir(tmp_path / "cn")
    for name in ("四川", "Sichuan", "四川省", "510000"):
        assert run(["profile", tmp_path / "cn", "--unit", name]) == 0
        assert "Profile of 四川省 (510000)" in capsys.readouterr().out
    assert run(["explain", tmp_path / "cn", "--unit", "贵州", "--vs", "Beijing"]) == 0
    capsys.readouterr()
    assert run(["profile", tmp_path / "cn", "--unit", "四州"]) == 2
    assert "close matches" in capsys.readouterr().err
