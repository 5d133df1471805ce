"""`dcindex pattern` on small result directories written here (scores.csv + units.csv) and on a plain CSV."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from dcindex.cli.pattern import register
from dcindex.errors import InputError

from test_pattern_analyse import _as_build_result, _lattice_panel


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # force sub-command parsing as in the real app
        pass

    register(app)
    return app


@pytest.fixture()
def result_dir(tmp_path):
    table, units, edges = _lattice_panel()
    br = _as_build_result(table, units)
    d = tmp_path / "res"
    d.mkdir()
    br.scores.to_csv(d / "scores.csv", index=False)
    units.rename_axis("unit").reset_index().to_csv(d / "units.csv", index=False)
    edges.to_csv(tmp_path / "edges.csv", index=False)
    return d, tmp_path / "edges.csv"


FAST = ["--bootstrap", "49", "--permutations", "49"]


def test_cli_writes_tables_and_summary(result_dir):
    d, edges = result_dir
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band", "--weights", "pop", "--edges", str(edges)]
                           + FAST)
    assert r.exit_code == 0, r.output
    out = d / "pattern" / "band"  # root node: pattern/<by>, as `dcindex run` writes it
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["label"] == "IDX" and summary["by"] == "band" and summary["weights"] == "pop"
    assert "dagum" in summary["results"] and "spatial_markov" in summary["results"]
    for f in summary["files"]:
        assert (out / f).is_file()
    dc = pd.read_csv(out / "dagum_components.csv")
    assert set(dc["component"]) == {"G", "Gw", "Gnb", "Gt"}
    assert "Dagum" in r.output
    # a pillar goes to pattern/<by>__<node>
    r2 = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band", "--node", "P1", "--edges", str(edges)] + FAST)
    assert r2.exit_code == 0, r2.output
    assert (d / "pattern" / "band__P1" / "summary.json").is_file()


def test_cli_without_weights_notes_spatial_skip(result_dir):
    d, _ = result_dir
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band"] + FAST)
    assert r.exit_code == 0, r.output
    s = json.loads((d / "pattern" / "band" / "summary.json").read_text(encoding="utf-8"))
    assert any("spatial analyses" in n for n in s["notes"])


def test_cli_plain_table(tmp_path):
    table, units, edges = _lattice_panel()
    table.rename_axis("unit").to_csv(tmp_path / "t.csv")
    units.rename_axis("unit").reset_index().to_csv(tmp_path / "u.csv", index=False)
    r = CliRunner().invoke(_app(), ["pattern", str(tmp_path / "t.csv"), "--by", "band", "--units",
                                    str(tmp_path / "u.csv")] + FAST)
    assert r.exit_code == 0, r.output
    assert (tmp_path / "pattern" / "t" / "band" / "summary.json").is_file()


def test_cli_errors(result_dir, tmp_path):
    d, _ = result_dir
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "nope"] + FAST)
    assert isinstance(r.exception, InputError) and "nope" in str(r.exception)
    r = CliRunner().invoke(_app(), ["pattern", str(tmp_path / "missing"), "--by", "band"])
    assert isinstance(r.exception, InputError)
    # through the real entry point: one-paragraph message, exit status 2
    p = subprocess.run([sys.executable, "-m", "dcindex", "pattern", str(d), "--by", "nope"], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 2 and "nope" in p.stderr and "Traceback" not in p.stderr


def test_cli_polygons_real_provinces(shared_data, tmp_path):
    from test_pattern_fixtures import pku_province, region4

    t = pku_province(shared_data)[[2021, 2022, 2023]]
    t.rename_axis("unit").to_csv(tmp_path / "pku.csv")
    region4().rename_axis("unit").reset_index().to_csv(tmp_path / "u.csv", index=False)
    r = CliRunner().invoke(_app(), ["pattern", str(tmp_path / "pku.csv"), "--by", "region4", "--units",
                                    str(tmp_path / "u.csv"), "--polygons",
                                    str(shared_data / "cn-boundaries" / "provinces.geojson")] + FAST)
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "pattern" / "pku" / "region4" / "summary.json").read_text(encoding="utf-8"))
    assert "moran.csv" in s["files"] and any("460000" in n for n in s["notes"])
