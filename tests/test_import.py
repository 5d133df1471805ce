"""`dcindex.importer` / `dcindex import` on small files shaped like the real downloads (tests/fixtures/import).

The expected values and unit codes come from the fixture generator's tables (written by hand, codes looked
up in GB/T 2260 by hand), not from the importer, so every test can fail.
"""
from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import typer
import xlrd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import dcindex
from dcindex.cli.importer import register
from dcindex.errors import InputError
from dcindex.importer import detect_layout, import_files, parse_indicator_options, read_official

FIX = Path(__file__).resolve().parent / "fixtures" / "import"
sys.path.insert(0, str(FIX))
import make_import_fixtures as M  # noqa: E402

NBS_SHAPES = ["nbs_gdp_index_gb18030.csv", "nbs_gdp_index.xls", "nbs_gdp_index_tabcomma.csv",
              "nbs_gdp_index_transposed.xlsx"]


def _expected_gdp_index() -> pd.DataFrame:
    rows = [(M.GDP_INDEX_CODES[name], y, v) for name, vals in M.GDP_INDEX.items()
            for y, v in zip(M.GDP_INDEX_YEARS, vals) if v is not None]
    return pd.DataFrame(rows, columns=["unit", "year", "value"]).sort_values(["year", "unit"]).reset_index(drop=True)


def _triples(df: pd.DataFrame) -> pd.DataFrame:
    return df[["unit", "year", "value"]].sort_values(["year", "unit"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ NBS
@pytest.mark.parametrize("name", NBS_SHAPES)
def test_nbs_export_shapes_give_the_published_values(name):
    r = read_official(FIX / name, indicator="gdp_index")
    assert r.layout == "nbs"
    assert list(r.data.columns) == ["unit", "year", "indicator", "value", "source"]
    assert set(r.data["indicator"]) == {"gdp_index"}
    pd.testing.assert_frame_equal(_triples(r.data), _expected_gdp_index(), check_dtype=False)
    # the 2025 column is empty in the real export: 8 cells left out, and said so
    assert any("8 empty or missing" in n for n in r.notes)
    assert any("第五次全国经济普查" in n for n in r.notes)  # the footnote travels in the notes


def test_nbs_indicator_named_by_its_title_line():
    r = read_official(FIX / "nbs_gdp_index_gb18030.csv")
    assert set(r.data["indicator"]) == {"地区生产总值指数"}  # '指标：地区生产总值指数(上年=100)' without the unit
    assert all("指标：地区生产总值指数(上年=100)" in s for s in r.data["source"])


def test_nbs_export_without_indicator_line_needs_a_code():
    with pytest.raises(InputError, match="--indicator"):
        read_official(FIX / "nbs_gdp_index_tabcomma.csv")


@pytest.mark.parametrize("name", NBS_SHAPES)
def test_nbs_source_points_at_the_cell_holding_the_value(name):
    r = read_official(FIX / name, indicator="gdp_index")
    path = FIX / name
    for _, row in r.data.sample(6, random_state=0).iterrows():
        src = row["source"]
        assert src.startswith(name)
        assert "数据来源：国家统计局" in src and "数据库：分省年度数据" in src
        ref = src.split(";")[0][len(name):].strip()
        if path.suffix == ".csv":
            text = path.read_bytes().decode("utf-8" if "tabcomma" in name else "gb18030")
            line, field = [int(x.split()[-1]) for x in ref.split(",")]
            cell = list(csv.reader(io.StringIO(text)))[line - 1][field - 1]
            assert float(cell.strip()) == row["value"]
        elif path.suffix == ".xlsx":
            addr = ref.split("cell ")[1]
            assert openpyxl.load_workbook(path)["sheet1"][addr].value == row["value"]
        else:
            addr = ref.split("cell ")[1]
            col = ord(addr[0]) - 65
            rr = int(addr[1:]) - 1
            assert xlrd.open_workbook(str(path)).sheet_by_index(0).cell_value(rr, col) == row["value"]


def test_nbs_indicators_as_columns_default_names_and_mapping():
    r = read_official(FIX / "nbs_gdp_2023_by_sector.csv")
    names = [c.strip().split(" (")[0] for c in M.GDP2023_COLUMNS]
    assert set(r.data["indicator"]) == set(names)
    assert set(r.data["year"]) == {2023}  # from '时间：2023年'
    for name, vals in M.GDP2023.items():
        got = r.data[r.data["unit"] == M.GDP2023_CODES[name]].set_index("indicator")["value"]
        assert [got[n] for n in names] == [float(v) for v in vals]
    m = read_official(FIX / "nbs_gdp_2023_by_sector.csv",
                      indicator={"地区生产总值": "gdp", "人均地区生产总值 (元/人)": "gdp_pc"})
    assert set(m.data["indicator"]) == {"gdp", "gdp_pc"}
    assert any("3 indicator column(s) not asked for" in n for n in m.notes)
    with pytest.raises(InputError, match="several|one code"):
        read_official(FIX / "nbs_gdp_2023_by_sector.csv", indicator="gdp")
    with pytest.raises(InputError, match="not found") as e:
        read_official(FIX / "nbs_gdp_2023_by_sector.csv", indicator={"地区总产值": "gdp"})
    assert "地区生产总值 (亿元)" in str(e.value)  # the hint lists the indicators the file has


def test_nbs_xlsx_population():
    r = read_official(FIX / "nbs_population_2024.xlsx", indicator={"年末常住人口": "pop"})
    got = r.data.set_index("unit")["value"]
    want = {"110000": 2183, "120000": 1364, "310000": 2480, "420000": 5834, "540000": 370, "650000": 2623}
    assert got.to_dict() == {k: float(v) for k, v in want.items()}
    assert set(r.data["year"]) == {2024}


def _write(tmp_path, name, text, enc="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(enc))
    return p


def test_nbs_one_year_table_without_year_needs_year(tmp_path):
    text = (FIX / "nbs_gdp_2023_by_sector.csv").read_text(encoding="utf-8").replace("时间：2023年 ", "时间： ")
    p = _write(tmp_path, "no_year.csv", text)
    with pytest.raises(InputError, match="--year"):
        read_official(p)
    assert set(read_official(p, year=2023).data["year"]) == {2023}
    with pytest.raises(InputError, match="contradicts"):
        read_official(FIX / "nbs_gdp_2023_by_sector.csv", year=2022)


def test_nbs_national_and_quarterly_tables_are_refused(tmp_path):
    nat = _write(tmp_path, "nat.csv", "数据库：年度数据 \n时间：2021年-2025年 \n指标\t,2024年\t,2023年\t,\n"
                                      "地级区划数 (个) \t,333\t,333\t,\n数据来源：国家统计局")
    with pytest.raises(InputError, match="national"):
        read_official(nat)
    q = _write(tmp_path, "q.csv", "数据库：分省季度数据\n指标：地区生产总值_累计值(亿元)\n时间：最近6季度\n"
                                  "地区,2024年第四季度,2024年第三季度\n北京市,49843.1,36509.2\n数据来源：国家统计局",
               "gb18030")
    with pytest.raises(InputError, match="quarterly"):
        read_official(q)


def test_unmatched_region_names_are_all_listed(tmp_path):
    text = (FIX / "nbs_gdp_index_tabcomma.csv").read_text(encoding="utf-8")
    text = text.replace("北京市\t,", "北平\t,").replace("天津市\t,", "Atlantis\t,")
    p = _write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError) as e:
        read_official(p, indicator="gdp_index")
    msg = str(e.value)
    assert "'北平'" in msg and "'Atlantis'" in msg and "2 value(s) match no province" in msg
    assert "line 4" in msg and "line 5" in msg and "bad.csv" in msg
    # one entry per line, not one per cell of the line (5 years)
    assert "'北平' (line 4);" in msg and "'Atlantis' (line 5)." in msg


def test_non_numbers_are_all_listed_with_cells(tmp_path):
    text = (FIX / "nbs_gdp_index_tabcomma.csv").read_text(encoding="utf-8")
    text = text.replace("105.1\t,", "abc\t,").replace("106.8\t,", "1o6.8\t,")
    p = _write(tmp_path, "nan.csv", text)
    with pytest.raises(InputError) as e:
        read_official(p, indicator="gdp_index")
    msg = str(e.value)
    assert "2 cell(s) are not numbers" in msg and "'abc'" in msg and "'1o6.8'" in msg
    assert "line 4, field 3" in msg


# ------------------------------------------------------------------------------------------- yearbook
def test_yearbook_province_sheet():
    r = read_official(FIX / "yearbook_internet_2022.xlsx")
    assert r.layout == "yearbook"
    assert set(r.data["year"]) == {2022}  # from the title '(2022年)'
    heads = [h.split("(")[0] for h in M.YB_HEAD_ZH[1:]]
    assert set(r.data["indicator"]) == set(heads)
    expected = {(M.YB_CODES[name], h): float(v) for name, vals in M.YB_ROWS if name in M.YB_CODES
                for h, v in zip(heads, vals) if not isinstance(v, str)}
    got = {(u, i): v for u, i, v in zip(r.data["unit"], r.data["indicator"], r.data["value"])}
    assert got == expected  # 全国 skipped, '..' and '—' left out
    assert any("全  国" in n for n in r.notes) and any("2 empty or missing" in n for n in r.notes)
    assert any("互联网宽带接入端口 = 万个" in n for n in r.notes)
    assert all("分地区互联网主要指标(2022年)" in s for s in r.data["source"])


def test_yearbook_city_sheet_with_column_groups_and_province_headings():
    path = FIX / "ccsy_post_telecom_2022.xlsx"
    with pytest.raises(InputError, match="--year"):  # CCSY titles carry no year
        read_official(path, level="city", indicator={"全市 / 互联网宽带接入用户数": "bb"})
    with pytest.raises(InputError, match="matches several columns"):
        read_official(path, level="city", year=2022, indicator={"互联网宽带接入用户数": "bb"})
    r = read_official(path, level="city", year=2022,
                      indicator={"全市 / 互联网宽带接入用户数": "bb", "市辖区/电信业务收入(万元)": "tel_d"})
    rows = dict(M.CCSY_ROWS)
    bb = r.data[r.data["indicator"] == "bb"].set_index("unit")["value"]
    assert bb.to_dict() == {M.CCSY_CODES[n]: float(rows[n][1]) for n in M.CCSY_CODES}
    tel = r.data[r.data["indicator"] == "tel_d"].set_index("unit")["value"]
    assert tel.to_dict() == {M.CCSY_CODES[n]: float(rows[n][5]) for n in M.CCSY_CODES}
    assert any("province heading rows skipped" in n and "河北省" in n and "吉林省" in n and "黑龙江省" in n
               for n in r.notes)
    assert any("全国合计" in n for n in r.notes)
    # default codes are the Chinese header lines
    d = read_official(path, level="city", year=2022)
    assert "全市 / 电信业务收入" in set(d.data["indicator"])
    assert int((d.data["indicator"] == "全市 / 电信业务收入").sum()) == len(M.CCSY_CODES) - 1  # 资阳 ".." left out


def test_yearbook_city_under_the_wrong_province_heading_is_reported(tmp_path):
    wb = openpyxl.load_workbook(FIX / "ccsy_post_telecom_2022.xlsx")
    ws = wb.active
    for row in ws.iter_rows():
        if row[0].value == "台州市":  # Zhejiang's Taizhou listed under 江苏省 -> reported, not silently accepted
            row[0].value = "泰州市"
    p = tmp_path / "moved.xlsx"
    wb.save(p)
    with pytest.raises(InputError, match="not in province 330000"):
        read_official(p, level="city", year=2022)


# ------------------------------------------------------------------------------------------------ PKU
def test_pku_workbook_sheets_by_level():
    prov = read_official(FIX / "pku_dfiic.xlsx", indicator={"index_aggregate": "dfiic", "coverage_breadth": "breadth"})
    assert prov.layout == "pku"
    got = {(u, y, i): v for u, y, i, v in prov.data[["unit", "year", "indicator", "value"]].itertuples(index=False)}
    assert got[("110000", 2011, "dfiic")] == 79.41  # as published
    assert got[("150000", 2023, "breadth")] == 350.0
    assert len(got) == 2 * len(M.PKU_PROV_ROWS)
    city = read_official(FIX / "pku_dfiic.xlsx", level="city", indicator={"index_aggregate": "dfiic"})
    assert sorted(city.data["unit"]) == sorted(M.PKU_CITY_CODES.values())  # 莱芜 2014 keeps 371200 (2018 codes)
    assert all("北京大学数字普惠金融指数" in s and "城市" in s for s in city.data["source"])
    with pytest.raises(InputError, match="county"):
        read_official(FIX / "pku_dfiic.xlsx", sheet="县域", level="city", indicator={"index_aggregate": "x"})
    with pytest.raises(InputError, match="holds cities"):
        read_official(FIX / "pku_dfiic.xlsx", sheet="城市", indicator={"index_aggregate": "x"})


def test_pku_chinese_headers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["年份", "省份", "总指数", "覆盖广度", "数字化程度"])
    ws.append([2022, "广西壮族自治区", 350.1, 340.2, 460.3])
    ws.append([2022, "Tibet", 330.0, None, 440.0])
    p = tmp_path / "pku_zh.xlsx"
    wb.save(p)
    assert detect_layout(p) == "pku"
    r = read_official(p)
    assert set(r.data["indicator"]) == {"index_aggregate", "coverage_breadth", "digitization_level"}
    assert r.data.set_index(["unit", "indicator"])["value"][("450000", "digitization_level")] == 460.3
    assert len(r.data) == 5 and any("1 empty" in n for n in r.notes)


# ------------------------------------------------------------------------------------------ properties
_PROVS = list(M.GDP_INDEX_CODES.items())


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), enc=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]), tabcomma=st.booleans())
def test_nbs_round_trip_of_arbitrary_values(tmp_path, data, enc, tabcomma):
    provs = data.draw(st.lists(st.sampled_from(_PROVS), min_size=1, max_size=8, unique=True))
    years = data.draw(st.lists(st.integers(1990, 2030), min_size=1, max_size=5, unique=True))
    vals = data.draw(st.lists(st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: round(x, 3))),
                              min_size=len(provs) * len(years), max_size=len(provs) * len(years)))
    sep = "\t," if tabcomma else ","
    lines = ["数据库：分省年度数据", "指标：测试指标(万元)", "时间：自定义", sep.join(["地区"] + [f"{y}年" for y in years])]
    it = iter(vals)
    want = []
    for name, code in provs:
        cells = []
        for y in years:
            v = next(it)
            cells.append("" if v is None else repr(v))
            if v is not None:
                want.append((code, y, v))
        lines.append(sep.join([name] + cells))
    lines.append("数据来源：国家统计局")
    p = tmp_path / f"rt_{enc}_{tabcomma}.csv"
    p.write_bytes("\n".join(lines).encode(enc))
    if not want:
        with pytest.raises(InputError, match="no values"):
            read_official(p)
        return
    r = read_official(p)
    got = sorted(zip(r.data["unit"], r.data["year"], r.data["value"]))
    assert got == sorted(want)
    assert set(r.data["indicator"]) == {"测试指标"}


# ----------------------------------------------------------------------------------- several files, IO
def test_import_files_refuses_values_given_twice():
    with pytest.raises(InputError, match="given twice") as e:
        import_files([FIX / "nbs_gdp_index_gb18030.csv", FIX / "nbs_gdp_index.xls"], indicator="gdp")
    assert "nbs_gdp_index_gb18030.csv" in str(e.value) and "nbs_gdp_index.xls" in str(e.value)
    both = import_files([FIX / "nbs_gdp_index_gb18030.csv", FIX / "nbs_gdp_2023_by_sector.csv"])
    assert set(both.data["indicator"]) == {"地区生产总值指数", "地区生产总值", "第一产业增加值", "第二产业增加值",
                                           "第三产业增加值", "人均地区生产总值"}


def test_inputs_are_not_modified():
    files = sorted(FIX.glob("*.xls*")) + sorted(FIX.glob("*.csv"))
    before = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    for f in files:
        try:
            read_official(f, indicator="x" if "tabcomma" in f.name else None,
                          level="city" if "ccsy" in f.name else "province", year=2022 if "ccsy" in f.name else None)
        except InputError:
            pass
    assert before == {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def test_imported_table_builds_an_index():
    r = read_official(FIX / "nbs_gdp_2023_by_sector.csv",
                      indicator={"第三产业增加值": "tertiary", "地区生产总值": "gdp", "人均地区生产总值": "gdp_pc"})
    fw = {"index": {"code": "IDX", "children": [
        {"code": "tertiary", "direction": 1, "denominator": "gdp"},
        {"code": "gdp_pc", "direction": 1}]},
        "denominators": [{"code": "gdp"}]}
    res = dcindex.build(r.data, fw, {"denominate": True})
    raw = res.dataset("denominated", 2023)
    row = M.GDP2023["北京市"]
    assert raw.loc["110000", "tertiary"] == pytest.approx(row[3] / row[0])
    assert res.wide().shape == (8, 1)


def test_parse_indicator_options():
    assert parse_indicator_options(None) is None
    assert parse_indicator_options(["gdp"]) == "gdp"
    assert parse_indicator_options(["地区生产总值=gdp", " 人口 = pop "]) == {"地区生产总值": "gdp", "人口": "pop"}
    with pytest.raises(InputError):
        parse_indicator_options(["gdp", "a=b"])
    with pytest.raises(InputError):
        parse_indicator_options(["gdp", "pop"])
    with pytest.raises(InputError):
        parse_indicator_options(["=gdp"])


# ------------------------------------------------------------------------------------------------ CLI
def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    return app


def test_cli_import_writes_tidy_csv_and_units(tmp_path):
    out, units = tmp_path / "out" / "data.csv", tmp_path / "units.csv"
    r = CliRunner().invoke(_app(), ["import", str(FIX / "nbs_gdp_index_tabcomma.csv"), "--indicator", "gdp_index",
                                    "--out", str(out), "--units-out", str(units)])
    assert r.exit_code == 0, r.output
    d = pd.read_csv(out, dtype={"unit": str})
    assert list(d.columns) == ["unit", "year", "indicator", "value", "source"]
    pd.testing.assert_frame_equal(_triples(d), _expected_gdp_index(), check_dtype=False)
    u = pd.read_csv(units, dtype={"code": str})
    assert sorted(u["code"]) == sorted(M.GDP_INDEX_CODES.values()) and "region4" in u.columns
    assert "40 values" in r.output
    # the written table is what `dcindex build` reads
    fw = {"index": {"code": "I", "children": [{"code": "gdp_index", "direction": 1}]}}
    res = dcindex.build(out, fw, units=units)
    assert res.years == [2020, 2021, 2022, 2023, 2024]


def test_cli_import_error_exits_2_with_message(tmp_path):
    p = subprocess.run([sys.executable, "-m", "dcindex", "import", str(FIX / "nbs_gdp_index_tabcomma.csv"),
                        "--out", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert p.returncode == 2
    assert "--indicator" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "x.csv").exists()


# ---------------------------------------------------------------------------------- real shared files
def test_shared_pku_province_csv_through_the_pku_reader(shared_data):
    path = shared_data / "pku-dfiic" / "province.csv"
    r = read_official(path, indicator={"index_aggregate": "dfiic", "usage_depth": "depth"})
    raw = pd.read_csv(path)
    assert len(r.data) == 2 * len(raw)
    got = r.data[r.data["indicator"] == "dfiic"].set_index(["unit", "year"])["value"]
    want = raw.set_index([raw["prov_code"].map(lambda c: f"{c}0000"), "year"])["index_aggregate"]
    assert np.allclose(got.sort_index().to_numpy(), want.sort_index().to_numpy())
    assert got[("110000", 2011)] == 79.41  # SOURCE.md: Beijing 2011 aggregate 79.41


def test_shared_pku_city_csv_all_cities_match(shared_data):
    path = shared_data / "pku-dfiic" / "city.csv"
    r = read_official(path, level="city", indicator={"index_aggregate": "dfiic"})
    raw = pd.read_csv(path)
    assert len(r.data) == raw["index_aggregate"].notna().sum()
    hz = r.data[(r.data["unit"] == "330100") & (r.data["year"] == 2020)]["value"]
    assert hz.iat[0] == pytest.approx(334.478)  # SOURCE.md: Hangzhou 2020
    assert r.data.groupby("year")["unit"].nunique().max() <= 337


# ----------------------------------------------------------------------------------- variants of real files
def test_nbs_xlsx_with_merged_title_lines_and_other_sheets(tmp_path):
    wb = openpyxl.load_workbook(FIX / "nbs_population_2024.xlsx")
    ws = wb.active
    ws.merge_cells("A1:D1")  # the portal's Excel export spans title lines across the table
    ws.merge_cells("A2:D2")
    wb.create_sheet("说明").append(["数据说明"])
    p = tmp_path / "merged.xlsx"
    wb.save(p)
    r = read_official(p, indicator={"年末常住人口": "pop"})
    assert len(r.data) == len(M.POP2024)
    assert any("other sheets not read: 说明" in n for n in r.notes)


def test_misnamed_and_html_workbooks(tmp_path):
    p = tmp_path / "really_xlsx.xls"
    p.write_bytes((FIX / "nbs_population_2024.xlsx").read_bytes())
    assert len(read_official(p, indicator={"年末常住人口": "pop"}).data) == len(M.POP2024)
    h = tmp_path / "table.xls"
    h.write_text("<html><body><table><tr><td>地区</td></tr></table></body></html>", encoding="utf-8")
    with pytest.raises(InputError, match="HTML"):
        read_official(h)


def test_yearbook_label_columns_are_not_values(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["表1 各地区数字经济指标(2021年)"])
    ws.append(["地区", "Region", "代码", "软件业务收入(亿元)"])
    ws.append(["全国", "National", None, 95000.0])
    ws.append(["北京", "Beijing", 110000, 20000.5])
    ws.append(["陕西", "Shaanxi", 610000, 2500.0])
    ws.append(["山西", "Shanxi", 140000, "—"])
    p = tmp_path / "labels.xlsx"
    wb.save(p)
    r = read_official(p)
    assert r.data[["unit", "indicator", "value"]].values.tolist() == [["110000", "软件业务收入", 20000.5],
                                                                     ["610000", "软件业务收入", 2500.0]]
    assert set(r.data["year"]) == {2021}
    assert any("label columns" in n and "Region" in n and "代码" in n for n in r.notes)


# ------------------------------------------------------------------ dissolved units (莱芜 after 2019)
def _laiwu_values(indicator: str) -> dict:
    col = M.PKU_CITY_HEAD.index(indicator)
    return {(M.PKU_CITY_CODES.get(int(r[3]), {"3701": "370100"}.get(r[3])), int(r[0])): float(r[col])
            for r in M.PKU_LAIWU_ROWS if r[col]}


def test_pku_city_file_with_laiwu_after_its_merger_gives_a_buildable_pair(tmp_path):
    """PKU keeps 莱芜 (371200) in 2019-2020, after its merger into 济南: it stays a unit of its own, the units
    table lists it (kind 'dissolved'), a note says so, and `dcindex build` reads the pair."""
    from dcindex.importer import units_table

    r = read_official(FIX / "pku_city_laiwu.csv", level="city", indicator={"index_aggregate": "dfiic"})
    got = {(u, y): v for u, y, v in r.data[["unit", "year", "value"]].itertuples(index=False)}
    assert got == _laiwu_values("index_aggregate")  # 371200 2017-2020 and 370100 2017-2021, values as published
    note = [n for n in r.notes if "371200" in n]
    assert len(note) == 1 and "2019-2020" in note[0] and "2017-2020" in note[0] and "dissolved" in note[0]
    assert "370100" in note[0] and "drop 371200" in note[0]
    u = units_table(r.data["unit"], "city").set_index("code")
    assert sorted(u.index) == ["370100", "371200"]
    assert u.loc["371200", ["name_zh", "kind", "province_code", "region4"]].tolist() == [
        "莱芜市", "dissolved", "370000", "East"]
    # the CLI writes the same pair, and build reads it
    out, units = tmp_path / "d.csv", tmp_path / "u.csv"
    res = CliRunner().invoke(_app(), ["import", str(FIX / "pku_city_laiwu.csv"), "--level", "city", "-i",
                                      "index_aggregate=dfiic", "--out", str(out), "--units-out", str(units)])
    assert res.exit_code == 0, res.output
    assert "371200" in res.output and "dissolved" in res.output
    fw = {"index": {"code": "I", "children": [{"code": "dfiic", "direction": 1}]}}
    pooled = {"normalise": {"method": "goalposts", "source": "pooled"}}  # 2021 has 济南 only
    b = dcindex.build(out, fw, pooled, units=units)
    assert set(b.units.index) == {"370100", "371200"} and b.years == [2017, 2018, 2019, 2020, 2021]


def test_units_table_covers_county_level_units_and_refuses_unknown_codes():
    from dcindex.importer import units_table

    u = units_table(["429004", "110100", "429004"], "city")
    assert u["code"].tolist() == ["110100", "429004"] and u["kind"].tolist() == ["municipality", "county_pa"]
    assert not any(c.endswith("_source") for c in units_table(["110000"], "province").columns)
    with pytest.raises(InputError, match="999900"):
        units_table(["110100", "999900"], "city")


def test_shared_pku_city_csv_import_and_units_build(shared_data, tmp_path):
    """The real city file: every unit of the data has a row in the units table; 莱芜 is noted; build runs."""
    from dcindex.importer import units_table

    r = read_official(shared_data / "pku-dfiic" / "city.csv", level="city", indicator={"index_aggregate": "dfiic"})
    u = units_table(r.data["unit"], "city")
    assert set(u["code"]) == set(r.data["unit"]) and len(u) == 338
    assert u.set_index("code").loc["371200", "kind"] == "dissolved"
    assert sorted(r.data.loc[r.data["unit"] == "371200", "year"]) == list(range(2011, 2021))
    assert any("371200" in n and "2019-2020" in n for n in r.notes)
    fw = {"index": {"code": "I", "children": [{"code": "dfiic", "direction": 1}]}}
    b = dcindex.build(r.data, fw, {"normalise": {"method": "goalposts", "source": "pooled"}},
                      units=u.set_index("code"))
    assert len(b.units) == 338 and b.years == list(range(2011, 2024))


# ------------------------------------------------------------------------------ panel (a year column)
def test_panel_with_a_year_column_is_read_as_units_x_years_x_indicators():
    assert detect_layout(FIX / "panel_province.csv") == "panel"
    r = read_official(FIX / "panel_province.csv")
    assert r.layout == "panel"
    want = {}
    for row in M.PANEL_ROWS:
        for name, v in zip(M.PANEL_HEAD[3:], row[3:]):
            if v is not None:
                want[(row[1], row[0], name)] = float(v)
    got = {(u, y, i): v for u, y, i, v in r.data[["unit", "year", "indicator", "value"]].itertuples(index=False)}
    assert got == want  # 6 rows x 3 indicators, the empty cell left out
    assert any("1 empty" in n for n in r.notes) and any("label columns" in n and "province" in n for n in r.notes)
    src = r.data.set_index(["unit", "year", "indicator"])["source"]
    assert src[("540000", 2022, "websites_10k")] == "panel_province.csv line 5, field 5"
    sel = read_official(FIX / "panel_province.csv", indicator={"patent_grants": "patents"})
    assert set(sel.data["indicator"]) == {"patents"} and len(sel.data) == 6
    with pytest.raises(InputError, match="--year does not apply") as e:
        read_official(FIX / "panel_province.csv", year=2022)
    assert "year column" in str(e.value)
    with pytest.raises(InputError, match="--layout panel"):
        read_official(FIX / "panel_province.csv", layout="yearbook", year=2022)


def test_panel_shapes_long_and_years_by_regions(tmp_path):
    long = _write(tmp_path, "long.csv", "省份,年份,指标,数值\n北京市,2020年,gdp,36102.6\n上海,2020,gdp,38700.6\n"
                                        "北京市,2021,gdp,40269.6\n全国,2021,gdp,1143670\n")
    r = read_official(long)
    assert r.layout == "panel"
    assert sorted(zip(r.data["unit"], r.data["year"], r.data["value"])) == [
        ("110000", 2020, 36102.6), ("110000", 2021, 40269.6), ("310000", 2020, 38700.6)]
    wide = _write(tmp_path, "yr.csv", "year,北京,Shanghai,全国\n2020,1.5,2.5,9\n2021,1.6,,9\n")
    with pytest.raises(InputError, match="--indicator"):
        read_official(wide)
    r2 = read_official(wide, indicator="x")
    assert sorted(zip(r2.data["unit"], r2.data["year"], r2.data["value"])) == [
        ("110000", 2020, 1.5), ("110000", 2021, 1.6), ("310000", 2020, 2.5)]
    bad = _write(tmp_path, "bad.csv", "year,id,province,x\n2020,110000,天津市,1\n2021,110000,北京市,2\n")
    with pytest.raises(InputError, match="name different units") as e:
        read_official(bad)
    assert "line 2" in str(e.value)
    cities = _write(tmp_path, "c.csv", "year,城市,x\n2020,苏州市,1\n2020,宿州市,2\n")
    with pytest.raises(InputError, match="check --level"):
        read_official(cities)
    assert sorted(read_official(cities, level="city").data["unit"]) == ["320500", "341300"]
    laiwu = _write(tmp_path, "l.csv", "year,城市,x\n2018,莱芜市,1\n2019,莱芜市,2\n")
    with pytest.raises(InputError, match="merged in 2019") as e:  # names are read as of their row's year
        read_official(laiwu, level="city")
    assert "line 3" in str(e.value) and "line 2" not in str(e.value)


def test_shared_province_panel_imports_every_cell(shared_data):
    """cn-province-digital-panel/panel.csv (year, id, province, 24 indicators): every cell comes back."""
    path = shared_data / "cn-province-digital-panel" / "panel.csv"
    r = read_official(path)
    raw = pd.read_csv(path, dtype={"id": str})
    long = raw.drop(columns=["province"]).melt(id_vars=["year", "id"], var_name="indicator").dropna()
    want = {(u, int(y), i): float(v) for y, u, i, v in long.itertuples(index=False)}
    got = {(u, y, i): v for u, y, i, v in r.data[["unit", "year", "indicator", "value"]].itertuples(index=False)}
    assert got.keys() == want.keys()
    assert all(got[k] == pytest.approx(want[k], rel=1e-12) for k in want)
    with pytest.raises(InputError) as e:
        read_official(path, year=2020)
    assert len(str(e.value)) < 400 and "year column" in str(e.value)


def test_duplicate_message_is_short(tmp_path):
    files = [FIX / "nbs_gdp_index_gb18030.csv"] * 4
    with pytest.raises(InputError, match="given twice") as e:
        import_files(files, indicator="gdp")
    msg = str(e.value)
    assert "40 unit-year-indicator cell(s)" in msg and "and 30 more" in msg  # 10 cells listed
    assert msg.count(" vs ") == 20 and msg.count("and 1 more;") == 10  # 3 sources per cell, the 4th counted
    assert "overlapping files" in msg and "--year" not in msg
    one = _write(tmp_path, "yb.csv", "地区,x\n北京,1\n北京,2\n北京,3\n天津,4\n")
    with pytest.raises(InputError, match="given twice") as e:
        read_official(one, year=2020)
    assert "1 unit-year-indicator cell(s)" in str(e.value) and "without --year" in str(e.value)


def test_cli_panel_with_year_exits_2_with_a_short_message(tmp_path):
    p = subprocess.run([sys.executable, "-m", "dcindex", "import", str(FIX / "panel_province.csv"), "--year", "2022",
                        "--out", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "year column" in p.stderr and "drop --year" in p.stderr and len(p.stderr) < 600
    assert not (tmp_path / "x.csv").exists()
