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
