"""Output safety and provenance: inputs never overwritten, clean errors for unwritable folders, stale derived
outputs removed, per-value sources kept, rebuild provenance, and input checks that guard against silent
misreads (field counts, uncomputed formulas, undeclared denominators, iMeta 'Other' columns)."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import dcindex
from dcindex.cli import main
from dcindex.errors import FrameworkError, InputError

FIX = Path(__file__).parent / "fixtures"


def cli(args, capsys):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    cap = capsys.readouterr()
    return e.value.code, cap.out, cap.err


def sha(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def test_out_folder_holding_the_inputs_is_refused(tmp_path, capsys):
    for f in ("mini_wide.csv", "mini_units.csv"):
        shutil.copy(FIX / f, tmp_path / f)
    shutil.copy(FIX / "mini_framework.yaml", tmp_path / "framework.yaml")
    shutil.copy(FIX / "mini_recipe.yaml", tmp_path / "recipe.yaml")
    shutil.copy(FIX / "mini_units.csv", tmp_path / "units.csv")
    before = {p.name: sha(p) for p in tmp_path.iterdir()}
    code, so, se = cli(["build", tmp_path / "mini_wide.csv", "--framework", tmp_path / "framework.yaml",
                        "--units", tmp_path / "units.csv", "--recipe", tmp_path / "recipe.yaml",
                        "--out", tmp_path], capsys)
    assert code == 2 and "overwrite input file" in se and "Traceback" not in se
    assert {p.name: sha(p) for p in tmp_path.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("bad", ["afile/sub", "/proc/dcindex-nope/x"])
def test_unwritable_out_is_a_clean_error(tmp_path, capsys, bad, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    code, so, se = cli(["build", FIX / "mini_wide.csv", "--framework", FIX / "mini_framework.yaml",
                        "--out", bad], capsys)
    assert code == 2 and "Traceback" not in se and "How to fix" in se


def test_stale_derived_outputs_are_removed(tmp_path):
    r1 = dcindex.build(FIX / "mini_wide.csv", FIX / "mini_framework.yaml", FIX / "mini_recipe.yaml",
                       units=FIX / "mini_units.csv")
    r1.to_dir(tmp_path)
    (tmp_path / "pattern").mkdir()
    (tmp_path / "pattern" / "x.csv").write_text("old")
    (tmp_path / "report.html").write_text("old")
    (tmp_path / "mine.txt").write_text("user file")
    r1.to_dir(tmp_path)  # same scores: nothing removed
    assert (tmp_path / "report.html").exists() and r1.stale_removed == []
    r2 = r1.rebuild(aggregate={"method": "geometric"}, normalise={"method": "minmax", "low": 1, "high": 100})
    r2.to_dir(tmp_path)
    assert not (tmp_path / "pattern").exists() and not (tmp_path / "report.html").exists()
    assert (tmp_path / "mine.txt").read_text() == "user file"
    assert sorted(r2.stale_removed) == ["pattern", "report.html"]


def test_per_value_sources_travel_with_the_result(tmp_path):
    long = pd.read_csv(FIX / "mini_long.csv", dtype=str)
    long["source"] = [f"table {i}, 统计年鉴" for i in range(len(long))]
    long.to_csv(tmp_path / "long.csv", index=False)
    res = dcindex.build(tmp_path / "long.csv", FIX / "mini_framework.yaml", FIX / "mini_recipe.yaml",
                        units=FIX / "mini_units.csv")
    out = res.to_dir(tmp_path / "res")
    saved = pd.read_csv(out / "inputs" / "data.csv", dtype=str)
    assert "source" in saved.columns
    got = saved.set_index(["unit", "year", "indicator"])["source"]
    want = long.set_index(["unit", "year", "indicator"])["source"]
    assert got.loc[want.index].tolist() == want.tolist()
    wb = openpyxl.load_workbook(out / "index.xlsx", read_only=True)
    assert "Sources" in wb.sheetnames
    again = dcindex.load(out)
    assert again.panel.cell_sources is not None and again.manifest["scores_sha256"] == res.manifest["scores_sha256"]


def test_rebuild_records_what_changed():
    res = dcindex.build(FIX / "mini_wide.csv", FIX / "mini_framework.yaml", FIX / "mini_recipe.yaml",
                        units=FIX / "mini_units.csv")
    r2 = res.rebuild(data=FIX / "mini_long.csv")
    assert r2.manifest["inputs"]["data"]["sha256"] == sha(FIX / "mini_long.csv")
    assert r2.manifest["inputs"]["data"]["path"].endswith("mini_long.csv")
    assert r2.manifest["inputs"]["rebuilt_from"] == res.manifest["scores_sha256"]
    r3 = res.rebuild(normalise={"method": "rank"})
    assert r3.manifest["inputs"]["changes"]["normalise"]["method"] == "rank"
    r4 = res.rebuild(data=FIX / "mini_long.csv", units=FIX / "mini_units.csv")
    assert r4.manifest["inputs"]["units"]["sha256"] == sha(FIX / "mini_units.csv")


def test_aggregated_data_set():
    res = dcindex.build(FIX / "mini_wide.csv", FIX / "mini_framework.yaml", FIX / "mini_recipe.yaml",
                        units=FIX / "mini_units.csv")
    agg = res.dataset("aggregated", 2022)
    assert list(agg.columns) == res.framework.aggregates
    assert np.array_equal(agg["IDX"].to_numpy(), res.wide()[2022].to_numpy(), equal_nan=True)


def test_row_with_an_extra_field_is_an_error_naming_the_row(tmp_path):
    lines = (FIX / "mini_wide.csv").read_text(encoding="utf-8").splitlines()
    lines[2] += ",7"
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 3 has"):
        dcindex.build(tmp_path / "d.csv", FIX / "mini_framework.yaml")


def test_xlsx_formula_without_cached_value_is_an_error(tmp_path):
    df = pd.read_csv(FIX / "mini_wide.csv", dtype=str)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append(list(row))
    ws.cell(row=2, column=df.columns.get_loc("base_st") + 1, value="=10+20")
    wb.save(tmp_path / "d.xlsx")
    with pytest.raises(InputError, match="formulas without a computed value"):
        dcindex.build(tmp_path / "d.xlsx", FIX / "mini_framework.yaml")


def test_undeclared_denominator_is_a_framework_error(tmp_path):
    text = (FIX / "mini_framework.yaml").read_text(encoding="utf-8")
    start = text.index("denominators:")
    end = text.index("groups:")
    (tmp_path / "fw.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(FrameworkError, match="names denominator 'pop', which is not declared"):
        dcindex.read_framework(tmp_path / "fw.yaml")


def test_imeta_other_columns_are_accepted(tmp_path):
    meta = pd.read_csv(FIX / "mini_imeta.csv", dtype=str)
    meta = pd.concat([meta, pd.DataFrame([{"iCode": "gdp_note", "iName": "GDP (reference)", "Type": "Other"}])])
    meta.to_csv(tmp_path / "meta.csv", index=False)
    data = pd.read_csv(FIX / "mini_idata.csv", dtype=str)
    data["gdp_note"] = "1"
    data.to_csv(tmp_path / "data.csv", index=False)
    res = dcindex.build(tmp_path / "data.csv", tmp_path / "meta.csv")
    ref = dcindex.build(FIX / "mini_idata.csv", FIX / "mini_imeta.csv")
    assert np.array_equal(res.scores_array, ref.scores_array, equal_nan=True)
