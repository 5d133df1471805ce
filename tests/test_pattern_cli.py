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


def test_cli_without_permutations_or_bootstrap(result_dir):
    """QA: --permutations 0 --bootstrap 0 ended in a KeyError traceback in the summary."""
    d, edges = result_dir
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band", "--edges", str(edges), "--permutations", "0",
                                    "--bootstrap", "0"])
    assert r.exit_code == 0, r.output
    assert "LISA quadrants" in r.output
    s = json.loads((d / "pattern" / "band" / "summary.json").read_text(encoding="utf-8"))
    assert s["settings"]["permutations"] == 0 and "dagum_ci.csv" not in s["files"]


@pytest.mark.parametrize("args,match", [(["--classes", "1"], "classes"), (["--classes", "50"], "classes"),
                                        (["--bootstrap", "-5"], "bootstrap"),
                                        (["--permutations", "-1"], "permutations"),
                                        (["--cutoffs", "decile"], "cutoffs"), (["--growth", "pct"], "growth")])
def test_cli_bad_values_are_errors(result_dir, args, match):
    d, _ = result_dir
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band"] + args)
    assert isinstance(r.exception, InputError), r.output
    assert match in str(r.exception)
    assert not (d / "pattern").exists()  # checked before anything is written


def test_cli_out_is_a_file_and_bad_edges_exit_2(result_dir, tmp_path):
    """QA: --out pointing at a file gave a FileExistsError traceback; an --edges file whose ids match no unit
    gave exit 0 with a note. Both are one-paragraph errors with exit status 2 (through the real entry point)."""
    d, edges = result_dir
    f = tmp_path / "afile"
    f.write_text("x")
    p = subprocess.run([sys.executable, "-m", "dcindex", "pattern", str(d), "--by", "band", "--out", str(f)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "not a folder" in p.stderr and "Traceback" not in p.stderr
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band", "--out", str(f / "sub")] + FAST)
    assert isinstance(r.exception, InputError) and "not a folder" in str(r.exception)
    bad = pd.read_csv(edges, dtype=str).apply(lambda c: c + "_x")
    bad.to_csv(tmp_path / "bad_edges.csv", index=False)
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band", "--edges", str(tmp_path / "bad_edges.csv")]
                           + FAST)
    assert isinstance(r.exception, InputError), r.output
    msg = str(r.exception)
    assert "bad_edges.csv" in msg and "u00_x" in msg and "0 of the 36 units" in msg


def test_cli_controls_and_cutoffs(result_dir, tmp_path):
    d, edges = result_dir
    u = pd.read_csv(d / "units.csv", dtype={"unit": str})
    u["urban"] = np.linspace(0.2, 0.9, len(u))
    u.to_csv(d / "units.csv", index=False)
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band", "--edges", str(edges), "--controls", "urban",
                                    "--cutoffs", "year", "--out", str(tmp_path / "o1")] + FAST)
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "o1" / "summary.json").read_text(encoding="utf-8"))
    assert s["settings"]["cutoffs"] == "yearly" and s["settings"]["controls"] == ["urban"]
    assert "beta_cross_section_conditional" in s["results"]
    assert s["results"]["markov"]["cutoffs"] == "yearly"
    # time-varying controls from a file (unit, year, x): cross-section uses the start year, panel t-1
    rng = np.random.default_rng(0)
    rows = [(unit, y, rng.normal()) for unit in u["unit"] for y in range(2015, 2021)]
    pd.DataFrame(rows, columns=["unit", "year", "x"]).to_csv(tmp_path / "ctrl.csv", index=False)
    r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band", "--edges", str(edges), "--controls",
                                    str(tmp_path / "ctrl.csv"), "--out", str(tmp_path / "o2")] + FAST)
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "o2" / "summary.json").read_text(encoding="utf-8"))
    assert s["settings"]["controls"]["time_varying"] is True
    assert {"beta_cross_section_conditional", "beta_panel_conditional"} <= set(s["results"])
    for bad, match in (("nope", "nope"), (str(tmp_path / "missing.csv"), "not found")):
        r = CliRunner().invoke(_app(), ["pattern", str(d), "--by", "band", "--controls", bad] + FAST)
        assert isinstance(r.exception, InputError) and match in str(r.exception)


def test_run_analyses_pillars_with_lisa(monkeypatch, tmp_path):
    """QA: `dcindex run` passed lisa=False for pillars without any note. Pillars now get every section (with
    lighter resampling); the index keeps the defaults. The pattern capability is replaced by a recorder so
    only the call is tested here (analyse itself is tested above)."""
    from io import StringIO

    from rich.console import Console

    import dcindex.pattern as real
    import dcindex.run as run_mod

    calls = []

    class Recorder:
        @staticmethod
        def analyse(res, **kw):
            calls.append(kw)
            return real.analyse(res, **{**kw, "B": 0, "permutations": 9, "markov_permutations": 0,
                                        "spatial_models": ()})

    monkeypatch.setattr(run_mod, "_capability", lambda name: Recorder if name == "pattern" else None)
    res = run_mod.run(out=tmp_path / "out", by="region4", console=Console(file=StringIO()))
    pillars = [c for c in calls if c["node"] != res.framework.root]
    assert pillars and all("lisa" not in c and c["permutations"] == 199 and c["B"] == 199 for c in pillars)
    for node in res.framework.pillars:
        s = json.loads((tmp_path / "out" / "pattern" / f"region4__{node}" / "summary.json").read_text("utf-8"))
        assert s["settings"]["lisa"] is True and "lisa.csv" in s["files"]
