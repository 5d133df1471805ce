"""Reading data: encodings, number formats, XLSX, long/wide/COINr formats, units tables, COINr ASEM import."""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import dcindex
from dcindex.build import load_panel
from dcindex.data import (
    attach_units,
    panel_from_long,
    panel_from_wide,
    parse_number,
    parse_numeric,
    read_table,
    read_units,
)
from dcindex.errors import InputError
from dcindex.framework import read_framework

FIX = Path(__file__).parent / "fixtures"
FW = FIX / "mini_framework.yaml"
RECIPE = FIX / "mini_recipe.yaml"
IND = ["broadband", "base_st", "ecom_share", "price"]
UNITS = ["110000", "310000", "440000", "510000", "520000"]
# the raw numbers of tests/fixtures/make_fixtures.py, (year, unit) -> values of IND
RAW = {
    (2021, "110000"): (1200, 30, 35, 45), (2021, "310000"): (1500, 28, 40, 50),
    (2021, "440000"): (5600, 60, 30, 38), (2021, "510000"): (3100, 41, 20, 30),
    (2021, "520000"): (1050, np.nan, 12, 28),
    (2022, "110000"): (1310, 33, 37.5, 44), (2022, "310000"): (1620, 31, 42, np.nan),
    (2022, "440000"): (6020, 66, 31, 37), (2022, "510000"): (3400, 47, 22, np.nan),
    (2022, "520000"): (1200, 20, 13, 27),
}


def expected_values() -> np.ndarray:
    return np.array([[RAW[(y, u)] for u in UNITS] for y in (2021, 2022)], dtype=float)


# ===================================================================================== number parsing
@pytest.mark.parametrize("cell, want", [
    ("1234", 1234.0), ("1,234", 1234.0), ("1,234,567.5", 1234567.5), ("12%", 12.0), ("12.5 %", 12.5),
    ("-3.5", -3.5), ("\u22123.5", -3.5), ("１２３", 123.0), ("1 234", 1234.0), ("1e3", 1000.0), (" 7 ", 7.0),
    ("1，234", 1234.0),  # full-width comma
    (5, 5.0), (2.5, 2.5),
])
def test_parse_number_values(cell, want):
    assert parse_number(cell) == want


@pytest.mark.parametrize("cell", ["", "—", "——", "..", "...", "-", "--", "NA", "n/a", "NaN", "null", "无", "缺失", None])
def test_parse_number_missing_tokens(cell):
    assert math.isnan(parse_number(cell))


@pytest.mark.parametrize("cell", ["abc", "12a", "1,23", "1.2.3", "(5)", "inf", "%", "1,2345", "True"])
def test_parse_number_rejects(cell):
    assert parse_number(cell) is None


def test_parse_numeric_lists_every_offending_cell():
    df = pd.DataFrame({"a": ["1", "abc", "3"], "b": ["12a", "2", "1,23"]}, dtype=object)
    with pytest.raises(InputError) as e:
        parse_numeric(df, ["a", "b"], where="data.csv")
    msg = str(e.value)
    assert msg.startswith("data.csv: 3 cell(s) are not numbers")
    assert "row 3, column 'a': 'abc'" in msg and "row 2, column 'b': '12a'" in msg
    assert "row 4, column 'b': '1,23'" in msg
    assert "How to fix" in msg and "1,234" in msg


def test_parse_numeric_caps_the_list():
    df = pd.DataFrame({"a": [f"x{i}" for i in range(40)]}, dtype=object)
    with pytest.raises(InputError, match=r"40 cell\(s\).*\(and 15 more\)"):
        parse_numeric(df, ["a"])


# ========================================================================================= encodings
@pytest.mark.parametrize("name", ["mini_wide.csv", "mini_wide_bom.csv", "mini_wide_gb18030.csv", "mini_wide.xlsx"])
def test_every_encoding_and_format_reads_the_same_numbers(name):
    fw = read_framework(FW)
    df = read_table(FIX / name)
    assert df.columns[0] == "unit"  # no BOM left in the header
    p = panel_from_wide(df, fw.indicators, denominators=["pop"])
    assert p.unit_codes == UNITS and p.years == [2021, 2022]
    assert np.array_equal(p.values, expected_values(), equal_nan=True)
    assert np.array_equal(p.denominators[..., 0], np.tile([2189, 2487, 12601, 8367, 3856], (2, 1)))


def test_gb18030_chinese_names():
    df = read_table(FIX / "mini_wide_gb18030.csv")
    assert df["name_zh"].iloc[0] == "北京市"
    u = read_units(FIX / "mini_units_gb18030.csv")
    assert u.loc["520000", "name_zh"] == "贵州省" and u.loc["520000", "name"] == "贵州省"
    assert u["pop"].dtype == float and u.loc["440000", "pop"] == 12601


def test_utf16_csv_is_a_clear_error(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes((FIX / "mini_wide.csv").read_text(encoding="utf-8").encode("utf-16"))
    with pytest.raises(InputError, match="neither UTF-8 nor GB18030") as e:
        read_table(p)
    assert "d.csv" in str(e.value) and "UTF-8" in str(e.value)


def test_long_and_wide_native_formats_give_identical_panels():
    fw = read_framework(FW)
    a = load_panel(FIX / "mini_wide.csv", fw)
    b = load_panel(FIX / "mini_long.csv", fw)
    assert a.unit_codes == b.unit_codes and a.years == b.years
    assert np.array_equal(a.values, b.values, equal_nan=True)
    assert np.array_equal(a.denominators, b.denominators, equal_nan=True)


@pytest.mark.parametrize("data, units", [
    ("mini_wide_bom.csv", "mini_units.csv"), ("mini_wide_gb18030.csv", "mini_units_gb18030.csv"),
    ("mini_long.csv", "mini_units.csv"), ("mini_wide.xlsx", "mini_units_gb18030.csv"),
])
def test_every_format_gives_identical_scores(data, units):
    ref = dcindex.build(FIX / "mini_wide.csv", FW, RECIPE, units=FIX / "mini_units.csv")
    res = dcindex.build(FIX / data, FW, RECIPE, units=FIX / units)
    assert np.array_equal(res.scores_array, ref.scores_array, equal_nan=True)
    assert np.array_equal(res.ranks_array, ref.ranks_array, equal_nan=True)
    assert res.units["name"].tolist() == ["北京市", "上海市", "广东省", "四川省", "贵州省"]


def test_coinr_idata_imeta_format_gives_identical_scores():
    ref = dcindex.build(FIX / "mini_wide.csv", FW, RECIPE, units=FIX / "mini_units.csv")
    recipe = ref.recipe.replace(impute={"method": "group_mean", "group": "region_group"})
    res = dcindex.build(FIX / "mini_idata.csv", FIX / "mini_imeta.csv", recipe)
    assert np.array_equal(res.scores_array, ref.scores_array, equal_nan=True)
    assert res.units.loc["510000", "region_group"] == "West" and res.units.loc["510000", "name"] == "Sichuan"


# ====================================================================================== table shapes
def _fw():
    return read_framework(FW)


def test_wide_missing_and_extra_columns():
    df = read_table(FIX / "mini_wide.csv").drop(columns=["price"])
    with pytest.raises(InputError, match="in the framework but not in the data: price"):
        panel_from_wide(df, _fw().indicators, denominators=["pop"], where="w.csv")
    df = read_table(FIX / "mini_wide.csv")
    df["gdp"] = "1"
    with pytest.raises(InputError, match="neither indicators of the framework.*: gdp") as e:
        panel_from_wide(df, _fw().indicators, denominators=["pop"], where="w.csv")
    assert str(e.value).startswith("w.csv:")


def test_wide_duplicate_unit_year_rows_named():
    df = read_table(FIX / "mini_wide.csv")
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    with pytest.raises(InputError, match="duplicate unit-year rows") as e:
        panel_from_wide(df, _fw().indicators, denominators=["pop"], where="w.csv")
    assert "row 5: unit '510000', year 2021" in str(e.value) and "row 12: unit '510000', year 2021" in str(e.value)


def test_year_not_a_whole_number():
    df = read_table(FIX / "mini_wide.csv")
    df.loc[2, "year"] = "2021.5"
    with pytest.raises(InputError, match=r"row 4, column 'year': '2021.5' is not a year"):
        panel_from_wide(df, _fw().indicators, denominators=["pop"])


def test_group_changing_over_years():
    df = read_table(FIX / "mini_idata.csv")
    df.loc[8, "region_group"] = "East"  # 510000 in 2022 (was West in 2021)
    with pytest.raises(InputError, match="'region_group' takes different values.*510000"):
        panel_from_wide(df, _fw().indicators, denominators=["pop"])


@pytest.mark.parametrize("bad, clash", [(" 310000", "' 310000' vs '310000'"), ("310000 ", "'310000' vs '310000 '")])
def test_unit_codes_differing_only_by_whitespace(bad, clash):
    df = read_table(FIX / "mini_wide.csv")
    df.loc[6, "unit"] = bad  # 310000 in 2022
    with pytest.raises(InputError, match="differ only by whitespace or case") as e:
        panel_from_wide(df, _fw().indicators, denominators=["pop"], where="w.csv")
    assert clash in str(e.value)


def test_unit_codes_differing_only_by_case_in_long_data():
    df = pd.DataFrame({"unit": ["bj", "BJ", "sh", "sh"], "year": ["2022"] * 4,
                       "indicator": ["a", "b", "a", "b"], "value": ["1", "2", "3", "4"]}, dtype=object)
    with pytest.raises(InputError, match="'BJ' vs 'bj'"):
        panel_from_long(df, ["a", "b"], where="long.csv")


def test_long_data_errors():
    base = {"unit": ["u1", "u2"], "year": ["2022", "2022"], "indicator": ["a", "a"], "value": ["1", "2"]}
    df = pd.DataFrame(base, dtype=object)
    with pytest.raises(InputError, match="in the framework but not in the data: b"):
        panel_from_long(df, ["a", "b"])
    df2 = pd.DataFrame({k: v + [v[-1]] for k, v in base.items()}, dtype=object)
    with pytest.raises(InputError, match=r"duplicate unit-year-indicator rows: row 3: \(u2, 2022, a\)"):
        panel_from_long(df2, ["a"])
    df3 = pd.DataFrame({**base, "indicator": ["a", "zz"]}, dtype=object)
    with pytest.raises(InputError, match="in the data but not in the framework: zz"):
        panel_from_long(df3, ["a"])
    df4 = pd.DataFrame({**base, "colour": ["r", "g"]}, dtype=object)
    with pytest.raises(InputError, match="unknown columns: colour"):
        panel_from_long(df4, ["a"])


def test_long_data_keeps_cell_sources():
    df = pd.DataFrame({"unit": ["u1", "u2"], "year": ["2022"] * 2, "indicator": ["a", "a"],
                       "value": ["1", "2"], "source": ["NBS 2023 t.1", "NBS 2023 t.2"]}, dtype=object)
    p = panel_from_long(df, ["a"])
    assert p.cell_sources["source"].tolist() == ["NBS 2023 t.1", "NBS 2023 t.2"]


@pytest.mark.parametrize("header_only", [True, False])
def test_empty_data_table_is_a_clear_error(tmp_path, header_only):
    p = tmp_path / "empty.csv"
    p.write_text("unit,year,pop,broadband,base_st,ecom_share,price\n" if header_only else "", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_panel(p, _fw())
    assert "empty.csv" in str(e.value)


# =========================================================================================== units
def test_units_table_attached_and_checked_both_ways(tmp_path):
    fw = _fw()
    panel = load_panel(FIX / "mini_wide.csv", fw)
    u = read_units(FIX / "mini_units.csv")
    p = attach_units(panel, u, where="units.csv")
    assert p.units.loc["440000", "region"] == "East"
    with pytest.raises(InputError, match="in the data but not in the units table: 520000") as e:
        attach_units(panel, u.drop(index="520000"), where="units.csv")
    assert str(e.value).startswith("units.csv:")
    extra = pd.concat([u, u.loc[["520000"]].rename(index={"520000": "530000"})])
    with pytest.raises(InputError, match="in the units table but without data: 530000"):
        attach_units(panel, extra, where="units.csv")


def test_units_table_duplicates_and_case(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("code,name\nBJ,Beijing\nSH,Shanghai\nBJ,Beijing again\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate unit codes in the units table: BJ"):
        read_units(p)
    p.write_text("code,name\nBJ,Beijing\nbj,Beijing\n", encoding="utf-8")
    with pytest.raises(InputError, match="'BJ' vs 'bj'"):
        read_units(p)


def test_units_table_mixed_column_stays_text(tmp_path):
    # a column with a non-number in it is text (a group label), not numbers with the odd cell dropped
    p = tmp_path / "u.csv"
    p.write_text("code,name,zone,pop\nA,a,1,10\nB,b,2,20\nC,c,x,30\n", encoding="utf-8")
    u = read_units(p)
    assert u["pop"].tolist() == [10.0, 20.0, 30.0]
    assert u.loc["C", "zone"] == "x" and u.loc["A", "zone"] == "1"


# ======================================================================================= COINr ASEM
def test_coinr_asem_import(shared_data):
    d = shared_data / "coinr-asem"
    before = {f: hashlib.sha256((d / f).read_bytes()).hexdigest() for f in ("ASEM_iData.csv", "ASEM_iMeta.csv")}
    fw = read_framework(d / "ASEM_iMeta.csv")
    p = load_panel(d / "ASEM_iData.csv", fw)
    assert len(p.unit_codes) == 51 and p.years == [2018] and len(p.indicators) == 49
    assert int(np.isnan(p.values).sum()) == 63  # documented: 63 missing values
    assert sorted(p.denominator_codes) == ["Area", "Energy", "GDP", "Population"]
    assert np.isnan(p.denominators[0, p.unit_codes.index("LAO"), p.denominator_codes.index("Energy")])
    for g in ("GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group"):
        assert g in p.units.columns
    assert p.units.loc["AUS", "name"] == "Australia" and p.units.loc["AUS", "EurAsia_group"] == "Asia"

    def v(unit, ind):
        return p.values[0, p.unit_codes.index(unit), p.indicators.index(ind)]

    # raw values printed in COINr's vignettes (docs/coinr-conventions.md section 0)
    assert v("AUS", "LPI") == pytest.approx(3.793385, abs=5e-7)
    assert v("AUS", "Flights") == pytest.approx(36.05498, abs=5e-6)
    assert v("VNM", "Goods") == pytest.approx(269.0766, abs=5e-5)
    assert v("MLT", "Flights") == pytest.approx(6.75251, abs=5e-6)
    assert v("ESP", "NEET") == pytest.approx(13.3)
    after = {f: hashlib.sha256((d / f).read_bytes()).hexdigest() for f in before}
    assert before == after


def test_coinr_asem_panel_import(shared_data):
    d = shared_data / "coinr-asem"
    fw = read_framework(d / "ASEM_iMeta.csv")
    p = load_panel(d / "ASEM_iData_p.csv", fw)
    assert p.years == [2018, 2019, 2020, 2021, 2022] and len(p.unit_codes) == 51
    assert p.values.shape == (5, 51, 49)


# ============================================================= parse_numeric = parse_number cell by cell
def _cellwise(df, columns):
    """The specification: parse_number on every cell; the error lists the offending cells in order."""
    out, bad = {}, []
    for c in columns:
        vals = []
        for i, v in enumerate(df[c].to_numpy(dtype=object)):
            x = parse_number(v)
            if x is None:
                bad.append(f"row {i + 2}, column '{c}': {str(v)!r}")
                x = np.nan
            vals.append(x)
        out[c] = np.array(vals, dtype=float)
    return out, bad


_cell = hs.one_of(
    hs.text(alphabet="0123456789.eE+- ,%_inaf—１２", max_size=8),
    hs.sampled_from(["", "..", "-", "—", "NA", "nan", "inf", "1_000", "1,234", " 12 ", "12%", "1e400", "007"]),
    hs.floats(allow_nan=True, allow_infinity=True).map(lambda x: repr(x)),
    hs.integers(-10**6, 10**6).map(str),
)
_obj = hs.one_of(hs.none(), hs.floats(allow_nan=True, allow_infinity=False), hs.integers(-10**6, 10**6),
                 hs.booleans())


@settings(max_examples=300, deadline=None)
@given(a=hs.lists(_cell, min_size=1, max_size=12), b=hs.lists(hs.one_of(_cell, hs.none()), min_size=1, max_size=12),
       c=hs.lists(_obj, min_size=1, max_size=12))
def test_parse_numeric_equals_cellwise_parse_number(a, b, c):
    n = min(len(a), len(b), len(c))
    df = pd.DataFrame({"a": a[:n], "b": b[:n], "c": c[:n]}, dtype=object)
    want, bad = _cellwise(df, ["a", "b", "c"])
    if bad:
        with pytest.raises(InputError) as e:
            parse_numeric(df, ["a", "b", "c"])
        assert "; ".join(bad[:25]) in str(e.value)
    else:
        got = parse_numeric(df, ["a", "b", "c"])
        for k in ("a", "b", "c"):
            assert np.array_equal(got[k].to_numpy(), want[k], equal_nan=True), k


def test_parse_numeric_fast_path_is_exact_on_full_precision_text():
    rng = np.random.default_rng(0)
    x = rng.lognormal(size=2000) * 10.0 ** rng.integers(-8, 9, 2000)
    df = pd.DataFrame({"v": [repr(float(v)) for v in x] + ["", "-"]}, dtype=object)
    got = parse_numeric(df, ["v"])["v"].to_numpy()
    assert np.array_equal(got[:-2], x) and np.isnan(got[-2:]).all()


def test_empty_unit_codes_and_missing_years_are_named():
    df = read_table(FIX / "mini_wide.csv")
    df.loc[3, "unit"] = "  "
    df.loc[6, "unit"] = None
    with pytest.raises(InputError, match=r"empty unit code in column 'unit' at row\(s\) 5, 8"):
        panel_from_wide(df, _fw().indicators, denominators=["pop"])
    df = read_table(FIX / "mini_wide.csv")
    df.loc[[4, 7], "year"] = [None, "twenty"]
    with pytest.raises(InputError, match=r"row 6, column 'year': None is not a year"):
        panel_from_wide(df, _fw().indicators, denominators=["pop"])
    df.loc[4, "year"] = "2021"
    with pytest.raises(InputError, match=r"row 9, column 'year': 'twenty' is not a year"):
        panel_from_wide(df, _fw().indicators, denominators=["pop"])


def test_unit_codes_from_spreadsheet_numbers():
    # XLSX gives 110000 (int) or 110000.0 (float) for the same code: both are unit '110000'
    df = pd.DataFrame({"unit": [110000, 110000.0, 310000, "310000"], "year": [2021, 2022, 2021, 2022],
                       "a": [1.0, 2.0, 3.0, 4.0]}, dtype=object)
    p = panel_from_wide(df, ["a"])
    assert p.unit_codes == ["110000", "310000"] and p.values[:, :, 0].tolist() == [[1, 3], [2, 4]]
