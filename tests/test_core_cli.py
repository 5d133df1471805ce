"""`dcindex build` and `dcindex run` from the command line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dcindex
from dcindex.cli import main

FIX = Path(__file__).parent / "fixtures"


def cli(args, capsys):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    cap = capsys.readouterr()
    return e.value.code, cap.out, cap.err


def test_build_native_format(tmp_path, capsys):
    out = tmp_path / "res"
    code, so, se = cli(["build", FIX / "mini_wide_gb18030.csv", "--framework", FIX / "mini_framework.yaml",
                        "--units", FIX / "mini_units_gb18030.csv", "--recipe", FIX / "mini_recipe.yaml",
                        "--out", out], capsys)
    assert code == 0, se
    for f in ("scores.csv", "scores.parquet", "index.xlsx", "manifest.json", "weights.csv", "framework.yaml",
              "recipe.yaml", "units.csv", "inputs/data.csv", "inputs/units.csv"):
        assert (out / f).is_file(), f
    assert "广东省" in so and "数字发展指数" in so  # ranking table with Chinese names
    ref = dcindex.build(FIX / "mini_wide.csv", FIX / "mini_framework.yaml", FIX / "mini_recipe.yaml",
                        units=FIX / "mini_units.csv")
    s = pd.read_csv(out / "scores.csv", dtype={"unit": str})
    idx = s[(s.node == "IDX") & (s.year == 2022)].set_index("unit")["score"]
    assert np.array_equal(idx.loc[ref.unit_codes].to_numpy(), ref.wide()[2022].to_numpy())
    top = s[(s.node == "IDX") & (s.year == 2022) & (s["rank"] == 1)]["unit"].item()
    assert top == ref.wide()[2022].idxmax() and f"1 │ {top}" in so


def test_build_coinr_format(tmp_path, capsys):
    rec = tmp_path / "r.yaml"
    rec.write_text((FIX / "mini_recipe.yaml").read_text(encoding="utf-8").replace("group: region",
                                                                               "group: region_group"),
                   encoding="utf-8")
    code, so, se = cli(["build", FIX / "mini_idata.csv", "--meta", FIX / "mini_imeta.csv", "--recipe", rec,
                        "--out", tmp_path / "o"], capsys)
    assert code == 0, se
    m = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert m["counts"]["imputed_cells"] == 3 and m["framework"]["indicators"] == 4


def test_build_without_year_column(tmp_path, capsys):
    df = pd.read_csv(FIX / "mini_wide.csv", dtype=str)
    one = df[df.year == "2022"].drop(columns=["year"])
    p = tmp_path / "d.csv"
    one.to_csv(p, index=False)
    code, so, se = cli(["build", p, "--framework", FIX / "mini_framework.yaml", "--year", "2022",
                        "--recipe", FIX / "mini_recipe.yaml", "--units", FIX / "mini_units.csv",
                        "--out", tmp_path / "o"], capsys)
    assert code == 0, se
    s = pd.read_csv(tmp_path / "o" / "scores.csv")
    assert set(s.year) == {2022} and len(s) == 5 * 7


def test_meta_and_framework_together_or_neither(tmp_path, capsys):
    code, _, se = cli(["build", FIX / "mini_idata.csv", "--meta", FIX / "mini_imeta.csv", "--framework",
                       FIX / "mini_framework.yaml", "--out", tmp_path / "o"], capsys)
    assert code == 2 and "either --meta" in se and "Traceback" not in se
    code, _, se = cli(["build", FIX / "mini_wide.csv", "--out", tmp_path / "o"], capsys)
    assert code == 2 and "no framework given" in se


def test_usage_error_exits_2(capsys):
    code, _, se = cli(["build", "x.csv"], capsys)  # --out missing
    assert code == 2 and "--out" in se


def test_brackets_in_unit_names_survive_the_terminal(tmp_path, capsys):
    units = pd.read_csv(FIX / "mini_units.csv", dtype=str)
    units["name_zh"] = ["[bold]北京", "上海 [SAR]", "广东", "四川", "贵州"]
    up = tmp_path / "u.csv"
    units.to_csv(up, index=False)
    code, so, se = cli(["build", FIX / "mini_wide.csv", "--framework", FIX / "mini_framework.yaml", "--units", up,
                        "--recipe", FIX / "mini_recipe.yaml", "--out", tmp_path / "o"], capsys)
    assert code == 0, se
    assert "[bold]北京" in so and "上海 [SAR]" in so


def test_python_dash_m_and_help():
    r = subprocess.run([sys.executable, "-m", "dcindex", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "build" in r.stdout and "run" in r.stdout


def test_run_bundled_example(tmp_path, capsys):
    """The README's main job: build the bundled example, print the ranking, write every output."""
    code, so, se = cli(["run", "--out", tmp_path / "o"], capsys)
    assert code == 0, se[-2000:]
    assert "Traceback" not in se
    s = pd.read_csv(tmp_path / "o" / "scores.csv", dtype={"unit": str})
    ex = dcindex.example()
    root = ex.framework.root
    idx = s[s.node == root].set_index("unit")["score"]
    assert np.allclose(idx.loc[ex.unit_codes].to_numpy(), ex.wide()[ex.years[-1]].to_numpy(), rtol=0, atol=0)
    assert len(s) == len(ex.unit_codes) * len(ex.years) * len(ex.nodes)
    assert (tmp_path / "o" / "index.xlsx").is_file() and (tmp_path / "o" / "manifest.json").is_file()


def test_main_can_be_called_repeatedly_without_growing_the_app(capsys):
    from dcindex.cli import app

    for _ in range(3):
        cli(["--help"], capsys)
    n = len(app.registered_commands)
    cli(["--help"], capsys)
    assert len(app.registered_commands) == n
    names = [c.name for c in app.registered_commands]
    assert len(names) == len(set(names))
