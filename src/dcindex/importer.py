"""Official-data import: the layouts analysts actually download, turned into dcindex's tidy long table.

``read_official(path, layout=..., level=...)`` reads one file; ``import_files([...])`` reads several and
checks that no value is given twice. The result is ``unit, year, indicator, value, source``: ``unit`` is the
current GB/T 2260 code (names matched with :func:`dcindex.china.match_units`, one error listing every name
that matched nothing), ``source`` says where the value came from (file, sheet and cell, and the file's own
source line such as ``数据来源：国家统计局``). Missing cells (empty, ``..``, ``—``) are left out and counted in
the notes; any other text where a number belongs is an error listing the cells.

Layouts
-------
``nbs``
    NBS data-portal exports (国家数据, data.stats.gov.cn; CSV in UTF-8 or GB18030, XLS or XLSX): title lines
    ``数据库：分省年度数据``, optionally ``指标：地区生产总值(亿元)`` and ``时间：最近10年``, then a header row
    whose first cell is ``地区`` (regions as rows; years such as ``2023年`` or indicators as columns) or
    ``时间`` (years as rows, regions as columns), then footnotes ``注：...`` and ``数据来源：国家统计局``.
    Exports of the current portal end every cell with a tab (``北京市\\t,47353.7\\t,``); both are read.
    National tables (``数据库：年度数据``, rows = indicators) have no regions and are refused.
``yearbook``
    Yearbook-style sheets (China Statistical Yearbook, China City Statistical Yearbook, provincial
    yearbooks): a title, perhaps a unit line (``单位：万户``), a header of one or more rows (merged cells,
    Chinese and English lines), region names as rows (``北  京``, ``北京 Beijing``), indicators (or years) as
    columns, footnotes. National and regional total rows (全国, 东部地区 ...) are skipped; in city tables,
    province heading rows are skipped and give the province of the cities below them.
``pku``
    The PKU Digital Financial Inclusion Index workbook (北京大学数字普惠金融指数) and CSVs converted from it:
    columns ``year``, ``prov_name``/``prov_code`` or ``pref_name_year18``/``pref_code_year18``/``city_name``...,
    and the index columns ``index_aggregate, coverage_breadth, usage_depth, payment, insurance,
    monetary_fund, investment, credit, credit_investigation, digitization_level`` (Chinese headers such as
    总指数/覆盖广度 are understood too).

``panel``
    A table with a year column (``year``, ``年份``, ``年度``, ``时间`` ...) and one row per unit and year:
    indicators as columns (``year, id, province, broadband_ports_10k, ...``), or ``indicator`` and ``value``
    columns, or regions as columns (one indicator). The unit column is the one whose values all match units;
    names are matched as of their row's year.

``layout="auto"`` picks ``nbs`` when a title line starts with ``数据库``, ``pku`` when a header holds the PKU
index columns, ``panel`` when a header has a year column with years below it, else ``yearbook``.

Dissolved units that a file still reports (PKU-DFIIC keeps 莱芜 371200 to 2020, after its 2019 merger into
济南) stay units of their own, with a note; :func:`units_table` gives the units table for the imported codes,
dissolved and county-level units included, so that data and units always build together.

Indicator codes: ``indicator="gdp"`` names the single indicator of a file; a mapping ``{"地区生产总值":
"gdp", ...}`` picks and renames indicators of a multi-indicator file (keys match the header text with or
without its unit); without it the indicator's own name (unit removed) is used.

Also here: :func:`load_province_panel`, the documented loader that assembles the province Digital City
Index panel 2013-2023 from the three shared research datasets, and the paths of the shipped frameworks.

Own code: no library reads these layouts (title/footnote lines, merged header cells, Chinese region
names); cells are read with the csv module, openpyxl and xlrd.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from dcindex.data import decode_bytes, parse_number
from dcindex.errors import InputError

LAYOUTS = ("auto", "nbs", "yearbook", "pku", "panel")
_MUNICIPALITY_CITIES = frozenset({"110100", "120100", "310100", "500100"})
LEVELS = ("province", "city")
OUTPUT_COLUMNS = ["unit", "year", "indicator", "value", "source"]

_YEAR_RE = re.compile(r"^\s*((?:19|20)\d{2})\s*年?\s*$")
_SUBANNUAL_RE = re.compile(r"^\s*(?:19|20)\d{2}\s*年?\s*(?:第?[一二三四1-4]季度|[0-9]{1,2}\s*月|[上下]半年|Q[1-4])", re.I)
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_UNIT_PAREN_RE = re.compile(r"\s*[(（]([^()（）]*)[)）]\s*$")
_META_RE = re.compile(r"^\s*(数据库|指标|时间|地区)\s*[：:]\s*(.*)$")
_FOOT_RE = re.compile(r"^\s*(注\s*[：:]|注\s*\d|数据来源\s*[：:]|资料来源\s*[：:]|来源\s*[：:]|说明\s*[：:]|Note|Source)", re.I)
_UNIT_LINE_RE = re.compile(r"^\s*(单位|计量单位|Unit)\s*[：:]\s*(.+)$", re.I)

#: Row labels of totals and regional aggregates in official tables (compared without spaces).
AGGREGATE_ROWS = frozenset([
    "全国", "全国合计", "全国总计", "合计", "总计", "总体", "全国平均", "平均",
    "东部", "中部", "西部", "东北", "东部地区", "中部地区", "西部地区", "东北地区",
    "地级以上城市", "地级及以上城市", "全部地级以上城市", "全市合计",
    "national", "nationaltotal", "total", "china", "全国national", "全国nationaltotal",
])

#: PKU-DFIIC index columns (canonical names as in the official workbook) and Chinese header aliases.
PKU_INDEX_COLUMNS = ("index_aggregate", "coverage_breadth", "usage_depth", "payment", "insurance",
                     "monetary_fund", "investment", "credit", "credit_investigation", "digitization_level")
_PKU_ALIASES = {
    "index_aggregate": ("总指数", "数字普惠金融指数", "数字普惠金融总指数", "综合指数"),
    "coverage_breadth": ("覆盖广度", "数字金融覆盖广度", "覆盖广度指数"),
    "usage_depth": ("使用深度", "数字金融使用深度", "使用深度指数"),
    "payment": ("支付", "支付业务"),
    "insurance": ("保险", "保险业务"),
    "monetary_fund": ("货币基金", "货币基金业务"),
    "investment": ("投资", "投资业务"),
    "credit": ("信贷", "信贷业务"),
    "credit_investigation": ("信用", "信用业务", "征信"),
    "digitization_level": ("数字化程度", "普惠金融数字化程度", "数字化程度指数"),
    "year": ("年份", "年度"),
    "prov_name": ("省份", "省份名称", "省", "省名"),
    "prov_code": ("省份代码", "省代码"),
    "city_name": ("城市", "城市名称", "地级市", "市", "城市名"),
    "city_code": ("城市代码", "地级市代码"),
}
_PKU_CITY_CODE_COLUMNS = ("pref_code_year18", "pref_code_year14", "city_code", "prefecture_code")
_PKU_CITY_NAME_COLUMNS = ("pref_name_year18", "pref_name_year14", "city_name", "pref_name_year18_eng",
                          "city_name_eng")
_PKU_CITATION = ("北京大学数字普惠金融指数 PKU-DFIIC (北京大学数字金融研究中心、蚂蚁集团研究院); 郭峰等 (2020)"
                 "《测度中国数字普惠金融发展：指数编制与空间特征》, 经济学(季刊) 19(4):1401-1418")


# ------------------------------------------------------------------------------------------ results
@dataclass
class ImportResult:
    """A tidy long table (``unit, year, indicator, value, source``) and notes on what was skipped and why."""

    data: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    layout: str | None = None

    def __repr__(self) -> str:
        d = self.data
        return (f"ImportResult({len(d)} values, {d['unit'].nunique()} units, {d['indicator'].nunique()} indicators, "
                f"years {d['year'].min() if len(d) else '-'}-{d['year'].max() if len(d) else '-'}, "
                f"{len(self.notes)} notes)")


# -------------------------------------------------------------------------------------------- grids
@dataclass
class _Grid:
    """The cells of one sheet (or CSV) as text/number, merged cells filled, with addresses for citations."""

    rows: list[list[Any]]
    file: str
    sheet: str | None
    kind: str  # "csv" | "xlsx" | "xls"

    def ref(self, r: int, c: int) -> str:
        if self.kind == "csv":
            return f"line {r + 1}, field {c + 1}"
        return f"cell {_col_letter(c)}{r + 1}"

    def where(self) -> str:
        return self.file + (f" [sheet '{self.sheet}']" if self.sheet else "")

    def cell(self, r: int, c: int) -> Any:
        row = self.rows[r]
        return row[c] if c < len(row) else None


def _col_letter(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        s = chr(65 + rem) + s
    return s


def _clean(v: Any) -> Any:
    """Strip text cells (tabs, spaces, full-width spaces); empty text becomes None; numbers stay numbers."""
    if v is None:
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return None if np.isnan(f) else v
    s = str(v).replace("\u3000", " ").strip(" \t\r\n\ufeff")
    return s if s else None


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_grids(path: Path, sheet: str | int | None, name: str | None = None) -> list[_Grid]:
    """All sheets of a workbook (or the one asked for), or the single table of a CSV/TSV."""
    where = str(path)
    if not path.exists():
        raise InputError("the file does not exist.", where=where, hint="check the path and spelling.")
    if not path.is_file():
        raise InputError("this is not a file.", where=where, hint="give the path of a CSV, XLS or XLSX file.")
    suffix = path.suffix.lower()
    name = name or path.name
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head.startswith(b"PK\x03\x04"):  # xlsx, whatever the suffix says
            return _xlsx_grids(path, name, sheet)
        if head.startswith(b"\xd0\xcf\x11\xe0"):  # BIFF (.xls)
            return _xls_grids(path, name, sheet)
        if suffix in (".xlsx", ".xlsm", ".xls") and head.lstrip().startswith(b"<"):
            raise InputError("this 'Excel' file is an HTML page (some sites save web tables with an .xls name).",
                             where=where, hint="open it in Excel or WPS and save it as .xlsx or CSV, then import that.")
        if suffix in (".xlsx", ".xlsm", ".xls"):
            raise InputError("the file is not an Excel workbook (no XLS or XLSX signature).", where=where,
                             hint="check the download, or save it again from Excel/WPS as .xlsx.")
        raw = path.read_bytes()
    except InputError:
        raise
    except PermissionError:
        raise InputError("the file cannot be read (permission denied).", where=where,
                         hint="check file permissions or close it in Excel.") from None
    except Exception as exc:  # openpyxl/xlrd parse errors
        raise InputError(f"cannot read the workbook: {exc}.", where=where,
                         hint="check that it is a valid XLS/XLSX file (re-save it from Excel or WPS).") from None
    if sheet not in (None, 0, "0"):
        raise InputError(f"--sheet {sheet!r} was given but a CSV file has no sheets.", where=where,
                         hint="drop the sheet option for CSV files.")
    text, _ = decode_bytes(raw, where)
    lines = text.splitlines()
    sample = "\n".join(lines[:40])
    delim = "," if sample.count(",") >= sample.count("\t") // 2 and "," in sample else "\t"
    if suffix in (".tsv", ".tab"):
        delim = "\t"
    rows = [[_clean(c) for c in r] for r in csv.reader(io.StringIO(text), delimiter=delim)]
    rows = [_trim(r) for r in rows]
    return [_Grid(rows=rows, file=name, sheet=None, kind="csv")]


def _trim(r: list[Any]) -> list[Any]:
    while r and r[-1] is None:
        r = r[:-1]
    return r


def _xlsx_grids(path: Path, name: str, sheet) -> list[_Grid]:
    import openpyxl

    # from bytes: openpyxl refuses an .xlsx saved under another suffix; not read-only: merged ranges are needed
    wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), data_only=True)
    try:
        sheets = _pick_sheets(wb.sheetnames, sheet, str(path))
        out = []
        for sn in sheets:
            ws = wb[sn]
            rows = [[_clean(c) for c in r] for r in ws.iter_rows(values_only=True)]
            for rng in ws.merged_cells.ranges:
                v = ws.cell(rng.min_row, rng.min_col).value
                v = _clean(v)
                for r in range(rng.min_row - 1, rng.max_row):
                    for c in range(rng.min_col - 1, rng.max_col):
                        while len(rows) <= r:
                            rows.append([])
                        while len(rows[r]) <= c:
                            rows[r].append(None)
                        rows[r][c] = v
            out.append(_Grid(rows=[_trim(r) for r in rows], file=name, sheet=sn, kind="xlsx"))
        return out
    finally:
        wb.close()


def _xls_grids(path: Path, name: str, sheet) -> list[_Grid]:
    import xlrd

    book = xlrd.open_workbook(str(path), formatting_info=True)
    sheets = _pick_sheets(book.sheet_names(), sheet, str(path))
    out = []
    for sn in sheets:
        sh = book.sheet_by_name(sn)
        rows = []
        for r in range(sh.nrows):
            row = []
            for c in range(sh.ncols):
                cell = sh.cell(r, c)
                if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(None)
                elif cell.ctype == xlrd.XL_CELL_NUMBER:
                    row.append(cell.value)
                else:
                    row.append(_clean(str(cell.value)))
            rows.append(row)
        for rlo, rhi, clo, chi in sh.merged_cells:
            v = rows[rlo][clo] if rlo < len(rows) and clo < len(rows[rlo]) else None
            for r in range(rlo, rhi):
                for c in range(clo, chi):
                    if r < len(rows) and c < len(rows[r]):
                        rows[r][c] = v
        out.append(_Grid(rows=[_trim(r) for r in rows], file=name, sheet=sn, kind="xls"))
    return out


def _pick_sheets(names: list[str], sheet, where: str) -> list[str]:
    if sheet is None:
        return list(names)
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
        i = int(sheet)
        if not 0 <= i < len(names):
            raise InputError(f"sheet number {i} does not exist (the workbook has {len(names)} sheet(s): "
                             f"{', '.join(names)}).", where=where, hint="sheets are numbered from 0, or give the name.")
        return [names[i]]
    if sheet not in names:
        raise InputError(f"no sheet named {sheet!r}; sheets are: {', '.join(names)}.", where=where,
                         hint="give one of these names with --sheet.")
    return [sheet]


# ------------------------------------------------------------------------------------ small helpers
def _norm(s: Any) -> str:
    """Comparison key of a label: NFKC, no whitespace, casefolded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _text(s))).casefold()


def split_unit(label: str) -> tuple[str, str | None]:
    """'地区生产总值 (亿元)' -> ('地区生产总值', '亿元'); a label without a trailing parenthesis has no unit."""
    s = unicodedata.normalize("NFKC", label).strip()
    m = _UNIT_PAREN_RE.search(s)
    if m and m.start() > 0:
        return s[: m.start()].strip(), m.group(1).strip() or None
    return s, None


def _year_of(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return int(f) if f.is_integer() and 1900 <= f <= 2100 else None
    m = _YEAR_RE.match(unicodedata.normalize("NFKC", str(v)))
    return int(m.group(1)) if m else None


def _region_text(v: Any) -> str:
    """A region cell as a name to match: the Chinese part of bilingual cells ('北  京 Beijing' -> '北  京')."""
    s = _text(v).strip()
    if _CJK_RE.search(s):
        s = re.sub(r"[A-Za-z][A-Za-z .,'’\-()]*$", "", s).strip()
        s = re.sub(r"^[\d.\s]+(?=[\u3400-\u9fff])", "", s)  # leading numbering '1. 北京'
    return s


def _zh_only(label: str) -> str:
    """The Chinese part of a bilingual header ('全  市 Total City' -> '全  市'); Latin-only labels unchanged."""
    if not _CJK_RE.search(label):
        return label.strip()
    return re.sub(r"\s*[A-Za-z][A-Za-z0-9 ,.'’&\-/()]*$", "", label).strip()


def _squeeze(s: str) -> str:
    """Drop the spaces yearbooks put between Chinese characters ('全  市' -> '全市')."""
    return re.sub(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])", "", s.strip())


def _is_aggregate(name: str) -> bool:
    k = _norm(name)
    return k in AGGREGATE_ROWS or k.startswith("全国")


def _try_match(names: list[str], level: str) -> list[str | None]:
    """Codes for names that match exactly one unit of ``level``, None for the others (never raises)."""
    from dcindex.china import match_units

    out: list[str | None] = []
    for n in names:
        try:
            out.append(match_units([n], level).iat[0])
        except InputError:
            out.append(None)
    return out


def _indicator_selector(indicator: str | Mapping[str, str] | None):
    """Normalise the ``indicator`` argument: (single_code, mapping) with mapping keys normalised."""
    if indicator is None:
        return None, None
    if isinstance(indicator, str):
        s = indicator.strip()
        if not s:
            raise InputError("empty indicator code.", hint="give a code such as --indicator gdp.")
        return s, None
    mapping = {}
    for k, v in dict(indicator).items():
        if not str(v).strip():
            raise InputError(f"indicator mapping {k!r} has an empty code.", hint="write NAME=CODE.")
        mapping[str(k)] = str(v).strip()
    return None, mapping


def parse_indicator_options(options: Iterable[str] | None) -> str | dict[str, str] | None:
    """CLI ``--indicator`` values: one bare CODE, or any number of NAME=CODE (NAME as in the file's header)."""
    opts = [o for o in (options or []) if o is not None and str(o).strip()]
    if not opts:
        return None
    pairs = [o for o in opts if "=" in o]
    if pairs and len(pairs) != len(opts):
        raise InputError(f"--indicator mixes a bare code with NAME=CODE pairs: {', '.join(opts)}.",
                         hint="use one bare code for a single-indicator file, or NAME=CODE for every indicator.")
    if not pairs:
        if len(opts) > 1:
            raise InputError(f"several bare indicator codes given ({', '.join(opts)}).",
                             hint="a bare code names the single indicator of a file; for several indicators "
                                  "write NAME=CODE (e.g. --indicator '地区生产总值=gdp').")
        return opts[0].strip()
    out: dict[str, str] = {}
    for p in pairs:
        k, v = p.split("=", 1)
        if not k.strip() or not v.strip():
            raise InputError(f"--indicator {p!r} is not NAME=CODE.", hint="write e.g. --indicator '地区生产总值=gdp'.")
        out[k.strip()] = v.strip()
    return out


@dataclass
class _Column:
    """One value column (or row) of a table: its label parts and what it holds."""

    pos: int
    label: str
    names: list[str]  # candidate names for matching (header cells, without units)
    unit: str | None = None
    year: int | None = None


def _choose_indicators(cols: list[_Column], single: str | None, mapping: dict[str, str] | None,
                       where: str, notes: list[str], fixed_name: str | None = None) -> dict[int, str]:
    """Position -> indicator code for the value columns that are indicators."""
    if single is not None:
        if len(cols) > 1:
            raise InputError(
                f"the file has {len(cols)} indicators ({'; '.join(c.label for c in cols[:12])}) but one code "
                f"was given ({single!r}).", where=where,
                hint="map each wanted indicator to a code: --indicator 'NAME=CODE' (repeat the option).")
        return {cols[0].pos: single}
    if mapping is None:
        out = {}
        for c in cols:
            out[c.pos] = c.names[0] if c.names else c.label
        return out
    out: dict[int, str] = {}
    unknown = []
    for key, code in mapping.items():
        k = _norm(split_unit(key)[0])
        kf = _norm(key)
        hits = [c for c in cols if k in {_norm(n) for n in c.names} or kf == _norm(c.label)]
        if not hits:
            unknown.append(key)
        elif len(hits) > 1:
            raise InputError(f"indicator name {key!r} matches several columns: "
                             f"{'; '.join(c.label for c in hits)}.", where=where,
                             hint="use the full header text (e.g. '全市 / 互联网宽带接入用户数') as NAME.")
        else:
            out[hits[0].pos] = code
    if unknown:
        avail = "; ".join(c.label for c in cols[:40])
        raise InputError(f"indicator name(s) not found in the file: {', '.join(map(repr, unknown))}.",
                         where=where, hint=f"the file's indicators are: {avail}.")
    skipped = [c.label for c in cols if c.pos not in out]
    if skipped:
        notes.append(f"{where}: {len(skipped)} indicator column(s) not asked for and skipped: "
                     + "; ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else ""))
    return out


# ------------------------------------------------------------------------------------------ values
class _Collector:
    """Collects (unit name, year, indicator, cell) and turns them into the tidy table."""

    def __init__(self, grid: _Grid, level: str, source_tail: str):
        self.grid = grid
        self.level = level
        self.tail = source_tail
        self.rows: list[dict[str, Any]] = []
        self.bad: list[str] = []
        self.nbad = 0
        self.missing = 0

    def add(self, r: int, c: int, region: str, row_label: str, year: int, indicator: str,
            province: str | None = None, vintage: int | None = None) -> None:
        raw = self.grid.cell(r, c)
        x = parse_number(raw)
        if x is None:
            self.nbad += 1
            if len(self.bad) < 25:
                self.bad.append(f"{self.grid.ref(r, c)} ({row_label}, {indicator}, {year}): {str(raw)!r}")
            return
        if np.isnan(x):
            self.missing += 1
            return
        self.rows.append({"region": region, "row_label": row_label, "year": year, "indicator": indicator,
                          "value": float(x), "province": province, "vintage": vintage,
                          "source": f"{self.grid.where()} {self.grid.ref(r, c)}" + (f"; {self.tail}" if self.tail else "")})

    def finish(self, notes: list[str], region_column: str) -> pd.DataFrame:
        from dcindex.china import match_units

        where = self.grid.where()
        if self.nbad:
            more = f" (and {self.nbad - len(self.bad)} more)" if self.nbad > len(self.bad) else ""
            raise InputError(f"{self.nbad} cell(s) are not numbers: " + "; ".join(self.bad) + more + ".",
                             where=where,
                             hint="numbers may be written 1234, 1,234 or 12.5; missing values as empty, '..' or "
                                  "'—'; fix or clear the other cells.")
        if self.missing:
            notes.append(f"{where}: {self.missing} empty or missing-marked cell(s) ('..', '—', '-') left out.")
        if not self.rows:
            raise InputError("no values found in the table.", where=where,
                             hint="check the layout (--layout) and that the table holds numbers.")
        d = pd.DataFrame(self.rows)
        labels = pd.Series(d["region"].to_numpy(), index=pd.Index(d["row_label"].to_numpy()))
        prov = d["province"].tolist() if d["province"].notna().any() else None
        vint = d["vintage"].tolist() if d["vintage"].notna().any() else None
        codes = match_units(labels, self.level, year=vint, province=prov,
                            where=f"{where}, {region_column}")
        d["unit"] = codes.to_numpy()
        return d[["unit", "year", "indicator", "value", "source"]]


def _footnotes(grid: _Grid, start: int) -> tuple[list[str], str | None]:
    """Footnote lines from row ``start`` on, and the data-source line if any."""
    notes, src = [], None
    for r in range(start, len(grid.rows)):
        t = " ".join(dict.fromkeys(_text(v) for v in grid.rows[r] if v is not None)).strip()  # merged: once
        if not t:
            continue
        if re.match(r"^\s*(数据来源|资料来源|来源|Source)\s*[：:]", t, re.I):
            src = t
        else:
            notes.append(t)
    return notes, src


def _first_cell(row: list[Any]) -> tuple[int, Any]:
    for i, v in enumerate(row):
        if v is not None:
            return i, v
    return -1, None


# ------------------------------------------------------------------------------------------- NBS
def _is_nbs(grid: _Grid) -> bool:
    for row in grid.rows[:6]:
        _, v = _first_cell(row)
        if isinstance(v, str) and re.match(r"^\s*数据库\s*[：:]", v):
            return True
    return False


def _read_nbs(grid: _Grid, level: str, indicator, year: int | None, notes: list[str]) -> pd.DataFrame:
    where = grid.where()
    meta: dict[str, str] = {}
    header = None
    for r, row in enumerate(grid.rows):
        _, v = _first_cell(row)
        if v is None:
            continue
        s = _text(v)
        m = _META_RE.match(s)
        if m and len({_text(x) for x in row if x is not None}) == 1:  # one cell, or one merged across
            meta[m.group(1)] = m.group(2).strip()
            continue
        if _norm(s) in ("地区", "时间", "指标", "地区/指标", "region", "time", "indicator"):
            header = r
            break
        raise InputError(f"line {r + 1}: {s!r} is neither a title line (数据库：/指标：/时间：) nor a header row "
                         f"starting with 地区, 时间 or 指标.", where=where,
                         hint="this does not look like an NBS data-portal export; try --layout yearbook.")
    if header is None:
        raise InputError("no header row (a row starting with 地区, 时间 or 指标) after the title lines.", where=where,
                         hint="check that the export is complete, or try --layout yearbook.")
    db = meta.get("数据库", "")
    hrow = grid.rows[header]
    corner = _norm(hrow[0])
    # data block: until the first footnote line or the end
    end = len(grid.rows)
    for r in range(header + 1, len(grid.rows)):
        _, v = _first_cell(grid.rows[r])
        if v is not None and isinstance(v, str) and _FOOT_RE.match(v):
            end = r
            break
    foot, src_line = _footnotes(grid, end)
    tail = "; ".join(x for x in (f"数据库：{db}" if db else "", src_line or "") if x)
    if foot:
        notes.append(f"{where}: footnotes: " + " | ".join(foot))
    if corner in ("指标", "indicator"):
        raise InputError(f"this export has indicators as rows ({'数据库：' + db if db else 'no region rows'}); it "
                         f"holds national data, not regions.", where=where,
                         hint="export a regional database (分省年度数据, 主要城市年度数据) with 地区 as rows "
                              "or columns.")
    single, mapping = _indicator_selector(indicator)
    meta_ind = meta.get("指标")
    meta_year = _year_of(meta.get("时间", "")) if meta.get("时间") else None
    cols: list[_Column] = []
    for c in range(1, len(hrow)):
        v = hrow[c]
        if v is None:
            continue
        s = _text(v)
        if _SUBANNUAL_RE.match(s):
            raise InputError(f"header {grid.ref(header, c)} is {s!r}: quarterly/monthly data.", where=where,
                             hint="export annual data (年度数据); dcindex works with annual values.")
        name, unit = split_unit(s)
        cols.append(_Column(pos=c, label=s, names=[_squeeze(name)], unit=unit, year=_year_of(s)))
    if not cols:
        raise InputError("the header row has no columns after its first cell.", where=where,
                         hint="check the export.")
    col_years = [c.year for c in cols]
    coll = _Collector(grid, level, tail)
    data_rows = [r for r in range(header + 1, end) if _first_cell(grid.rows[r])[1] is not None]
    if corner in ("地区", "region", "地区/指标"):
        if all(y is not None for y in col_years):
            # regions x years; the indicator comes from the title line or the option
            ind_label = meta_ind
            if single is None and mapping is None and not ind_label:
                raise InputError("the export has years as columns but no '指标：' line naming its indicator.",
                                 where=where, hint="name it with --indicator CODE.")
            name, unit = split_unit(ind_label) if ind_label else (single or "", None)
            code = _choose_indicators([_Column(pos=0, label=ind_label or single or "", names=[name], unit=unit)],
                                      single, mapping, where, notes)
            if not code:
                return pd.DataFrame(columns=OUTPUT_COLUMNS)
            code = code[0]
            if ind_label:
                coll.tail = f"指标：{ind_label}; " + coll.tail
            for r in data_rows:
                region = _region_text(grid.rows[r][0])
                if _is_aggregate(region):
                    continue
                for c in cols:
                    coll.add(r, c.pos, region, f"line {r + 1}" if grid.kind == "csv" else f"row {r + 1}",
                             c.year, code)
        elif any(y is not None for y in col_years):
            bad = [c.label for c in cols if c.year is None]
            raise InputError(f"the header mixes years and other labels ({', '.join(bad[:5])}).", where=where,
                             hint="export one indicator with years as columns, or one year with indicators "
                                  "as columns.")
        else:
            # regions x indicators; the year comes from '时间：2023年' or the option
            yr = year if year is not None else meta_year
            if yr is None:
                raise InputError(f"the export has indicators as columns and its time line is "
                                 f"{meta.get('时间', '(absent)')!r}, not a single year.", where=where,
                                 hint="give the year with --year YYYY.")
            if year is not None and meta_year is not None and year != meta_year:
                raise InputError(f"--year {year} contradicts the file's time line '时间：{meta.get('时间')}'.",
                                 where=where, hint="drop --year or fix it.")
            chosen = _choose_indicators(cols, single, mapping, where, notes)
            for r in data_rows:
                region = _region_text(grid.rows[r][0])
                if _is_aggregate(region):
                    continue
                for c in cols:
                    if c.pos in chosen:
                        coll.add(r, c.pos, region, f"line {r + 1}" if grid.kind == "csv" else f"row {r + 1}",
                                 yr, chosen[c.pos])
        return coll.finish(notes, "column '地区'")
    # years as rows, regions as columns
    if not meta_ind and single is None:
        raise InputError("the export has regions as columns but no '指标：' line naming its indicator.",
                         where=where, hint="name it with --indicator CODE.")
    name, unit = split_unit(meta_ind) if meta_ind else (single, None)
    code = _choose_indicators([_Column(pos=0, label=meta_ind or single, names=[name], unit=unit)],
                              single, mapping, where, notes)
    if not code:
        return pd.DataFrame(columns=OUTPUT_COLUMNS)
    if meta_ind:
        coll.tail = f"指标：{meta_ind}; " + coll.tail
    for r in data_rows:
        y = _year_of(grid.rows[r][0])
        if y is None:
            s = _text(grid.rows[r][0])
            raise InputError(f"{grid.ref(r, 0)}: {s!r} is not a year.", where=where,
                             hint="export annual data with 时间 as rows, or with 地区 as rows.")
        for c in cols:
            region = _region_text(c.label)
            if _is_aggregate(region):
                continue
            coll.add(r, c.pos, region, f"column {c.label}", y, code[0])
    return coll.finish(notes, "header row")


# -------------------------------------------------------------------------------------- yearbook
def _read_yearbook(grid: _Grid, level: str, indicator, year: int | None, notes: list[str]) -> pd.DataFrame:
    where = grid.where()
    ph = _panel_header(grid)
    if ph is not None:
        raise InputError(f"the table has a year column ({_text(grid.cell(*ph))!r}, column {_col_letter(ph[1])}): it "
                         f"is a panel with one row per unit and year, not a one-year yearbook sheet.", where=where,
                         hint="use --layout panel (or --layout auto) and no --year.")
    nrows = len(grid.rows)
    # 1. the region column and the first data row: the first text cell that is a unit or a total row
    first, rcol = None, None
    for r in range(nrows):
        row = grid.rows[r]
        for c, v in enumerate(row[:3]):
            if not isinstance(v, str):
                continue
            name = _region_text(v)
            if not name or _META_RE.match(name) or _UNIT_LINE_RE.match(name):
                continue
            if _is_aggregate(name) or _try_match([name], level)[0] is not None or (
                    level == "city" and _try_match([name], "province")[0] is not None):
                if any(x is not None for x in row[c + 1:]):
                    first, rcol = r, c
                    break
        if first is not None:
            break
    if first is None:
        raise InputError(f"no row names a {level} (or 全国) in the first three columns.", where=where,
                         hint="check --level (province or city) and that regions are rows; NBS exports need their "
                              "数据库： line (--layout nbs); tables already in dcindex's tidy or wide format go "
                              "straight to 'dcindex build'.")
    # 2. the header block: rows right above the first data row holding labels in value columns
    hdr = []
    r = first - 1
    while r >= 0:
        row = grid.rows[r]
        vals = {_text(v) for v in row[rcol + 1:] if v is not None}
        if len(vals) >= 2 or (len(vals) == 1 and len(row) - rcol - 1 <= 2):
            hdr.insert(0, r)
            r -= 1
            continue
        break
    if not hdr:
        raise InputError(f"no header row above the first data row ({grid.ref(first, rcol)}).", where=where,
                         hint="the sheet needs column headings (indicator names or years) above the data.")
    title_rows = list(range(0, hdr[0]))
    title = " ".join(dict.fromkeys(_text(v) for r in title_rows for v in grid.rows[r] if v is not None))
    unit_line = None
    for r in title_rows:
        for v in grid.rows[r]:
            m = _UNIT_LINE_RE.match(_text(v)) if v is not None else None
            if m:
                unit_line = m.group(2).strip()
    # 3. value columns and their labels
    width = max(len(grid.rows[r]) for r in hdr + [first])
    cols: list[_Column] = []
    for c in range(rcol + 1, width):
        parts: list[str] = []
        for r in hdr:
            v = grid.cell(r, c)
            if v is None:
                continue
            t = _text(v)
            if _UNIT_LINE_RE.match(t):
                continue
            if t not in parts:
                parts.append(t)
        if not parts:
            if any(grid.cell(r, c) is not None for r in range(first, min(nrows, first + 50))):
                raise InputError(f"column {_col_letter(c)} holds values but has no heading.", where=where,
                                 hint="give every value column a heading (indicator name or year).")
            continue
        names, zh_parts, unit = [], [], None
        for p in parts:
            nm, un = split_unit(p)
            unit = unit or un
            names.append(nm)
            zh = _zh_only(nm)
            names.append(zh)
            if _CJK_RE.search(zh):
                zh_parts.append(_squeeze(zh))
        label = " / ".join(parts)
        # the default code: the Chinese header lines ('全市 / 互联网宽带接入用户数'); also accepted as NAME
        names.insert(0, " / ".join(zh_parts) if zh_parts else _squeeze(split_unit(label)[0]))
        names.append(" / ".join(split_unit(p)[0] for p in parts))
        names = [n for n in dict.fromkeys(names) if n]
        cols.append(_Column(pos=c, label=label, names=names, unit=unit or unit_line,
                            year=_year_of(parts[-1])))  # a year column: its (last) heading is a year
    # columns of names or codes next to the region column (an English-name column, 代码) are labels, not values
    label_cols = []
    for c in list(cols):
        cells = [grid.cell(r, c.pos) for r in range(first, min(nrows, first + 400))]
        cells = [v for v in cells if v is not None and not (isinstance(v, str) and _FOOT_RE.match(v))]
        is_code = _norm(split_unit(c.names[-1])[0]) in {"代码", "code", "区划代码", "行政区划代码", "地区代码",
                                                         "城市代码", "省份代码", "adcode"}
        texts = [v for v in cells if parse_number(v) is None]
        if is_code or (cells and len(texts) == len(cells)):
            label_cols.append(c.label)
            cols.remove(c)
    if label_cols:
        notes.append(f"{where}: label columns (names/codes, not values) skipped: {'; '.join(label_cols)}.")
    if not cols:
        raise InputError("no value columns next to the region column.", where=where, hint="check the sheet.")
    # 4. data rows (until a footnote or the end), skipping totals and (city level) province headings
    end = nrows
    for r in range(first, nrows):
        v = grid.cell(r, rcol)
        _, fv = _first_cell(grid.rows[r])
        if isinstance(fv, str) and _FOOT_RE.match(fv):
            end = r
            break
    foot, src_line = _footnotes(grid, end)
    if foot:
        notes.append(f"{where}: footnotes: " + " | ".join(foot))
    tail_parts = []
    if title:
        tail_parts.append(title[:200])
    if src_line:
        tail_parts.append(src_line)
    single, mapping = _indicator_selector(indicator)
    years_as_columns = all(c.year is not None for c in cols)
    if not years_as_columns and any(c.year is not None for c in cols):
        raise InputError("the header mixes years and indicator names ("
                         + ", ".join(c.label for c in cols[:6]) + ").", where=where,
                         hint="keep either years or indicators as columns (one sheet per layout).")
    if years_as_columns:
        if single is None and mapping is None:
            raise InputError("the sheet has years as columns; name its indicator with --indicator CODE.",
                             where=where, hint="e.g. --indicator broadband_subscribers.")
        if mapping is not None:
            raise InputError("the sheet has years as columns: give one bare --indicator CODE, not NAME=CODE.",
                             where=where, hint="e.g. --indicator broadband_subscribers.")
        chosen = {c.pos: single for c in cols}
    else:
        yr_title = sorted({int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年", title)})
        yr = year
        if yr is None:
            if len(yr_title) == 1:
                yr = yr_title[0]
            else:
                raise InputError(
                    "the sheet's title does not state a single year"
                    + (f" (it mentions {', '.join(map(str, yr_title))})" if yr_title else "")
                    + "; a yearbook edition usually reports the previous year.", where=where,
                    hint="give the data year with --year YYYY (e.g. --year 2022 for the 2023 yearbook).")
        chosen = _choose_indicators(cols, single, mapping, where, notes)
    coll = _Collector(grid, level, "; ".join(tail_parts))
    skipped_aggr, headings = [], []
    province = None
    for r in range(first, end):
        v = grid.cell(r, rcol)
        if v is None:
            if any(x is not None for x in grid.rows[r][rcol + 1:]):
                raise InputError(f"row {r + 1} has values but no region name in column {_col_letter(rcol)}.",
                                 where=where, hint="fill in the region name or delete the row.")
            continue
        region = _region_text(v)
        if _is_aggregate(region):
            skipped_aggr.append(region)
            continue
        if level == "city":
            as_city = _try_match([region], "city")[0]
            as_prov = _try_match([region], "province")[0]
            if as_city in _MUNICIPALITY_CITIES:  # 北京市 ... 重庆市: a city row that starts a new "province"
                province = as_city[:2] + "0000"
            elif as_prov is not None and (
                    as_city is None or re.search(r"(省|自治区)$", _squeeze(region))
                    or all(grid.cell(r, c.pos) is None for c in cols)):
                # a province heading (吉林省 is a heading, 吉林市 a city; a bare 吉林 with no values a heading)
                province = as_prov
                headings.append(region)
                continue
        for c in cols:
            if c.pos not in chosen:
                continue
            y = c.year if years_as_columns else yr
            coll.add(r, c.pos, region, f"row {r + 1}", y, chosen[c.pos],
                     province=province if level == "city" else None)
    if skipped_aggr:
        notes.append(f"{where}: total/aggregate rows skipped: {', '.join(dict.fromkeys(skipped_aggr))}.")
    if headings:
        notes.append(f"{where}: province heading rows skipped (their cities follow): "
                     f"{', '.join(dict.fromkeys(headings))}.")
    units = {c.pos: c.unit for c in cols if c.unit}
    if units and not years_as_columns:
        notes.append(f"{where}: units: " + "; ".join(f"{chosen[p]} = {u}" for p, u in units.items() if p in chosen))
    return coll.finish(notes, f"column {_col_letter(rcol)}")


# ------------------------------------------------------------------------------------------- PKU
def _pku_canonical(label: Any) -> str | None:
    k = _norm(label)
    if not k:
        return None
    k2 = k.replace("-", "_")
    known = set(PKU_INDEX_COLUMNS) | {"year", "prov_name", "prov_code", "prov_name_eng", "city_name", "city_code",
                                      "city_name_eng", "county_name", "county_code", "prefecture_code",
                                      *_PKU_CITY_CODE_COLUMNS, *_PKU_CITY_NAME_COLUMNS}
    if k2 in known:
        return k2
    for canon, aliases in _PKU_ALIASES.items():
        if k in {_norm(a) for a in aliases}:
            return canon
    return None


def _pku_header(grid: _Grid) -> int | None:
    for r, row in enumerate(grid.rows[:15]):
        canon = {_pku_canonical(v) for v in row if v is not None}
        if "year" in canon and canon & set(PKU_INDEX_COLUMNS):
            return r
    return None


def _read_pku(grid: _Grid, level: str, indicator, notes: list[str]) -> pd.DataFrame:
    where = grid.where()
    h = _pku_header(grid)
    if h is None:
        raise InputError("no PKU-DFIIC header (a row with 'year' and index columns such as 'index_aggregate').",
                         where=where, hint="check the sheet (--sheet) or the layout (--layout).")
    hdr = grid.rows[h]
    canon: dict[str, int] = {}
    for c, v in enumerate(hdr):
        k = _pku_canonical(v)
        if k and k not in canon:
            canon[k] = c
    if "county_code" in canon or "county_name" in canon:
        raise InputError("this is the county-level (县域) sheet; dcindex units are provinces and cities.",
                         where=where, hint="choose the province (省级) or city (城市/地级市) sheet with --sheet.")
    if level == "province":
        ucol = canon.get("prov_code", canon.get("prov_name", canon.get("prov_name_eng")))
        pcol = None
        if any(k in canon for k in (*_PKU_CITY_CODE_COLUMNS, "city_name", "pref_name_year18")):
            raise InputError("this sheet holds cities but --level is province.", where=where,
                             hint="use --level city, or the province (省级) sheet.")
    else:
        ucol = next((canon[k] for k in (*_PKU_CITY_CODE_COLUMNS, *_PKU_CITY_NAME_COLUMNS) if k in canon), None)
        pcol = canon.get("prov_name", canon.get("prov_code"))
        if ucol is None and "prov_code" in canon:
            raise InputError("this sheet holds provinces but --level is city.", where=where,
                             hint="use --level province, or the city (城市/地级市) sheet.")
    if ucol is None:
        raise InputError(f"no {level} name or code column in the PKU-DFIIC header.", where=where,
                         hint="expected prov_code/prov_name (province) or pref_code_year18/city_name (city).")
    ycol = canon["year"]
    vintage = 2018 if _norm(hdr[ucol]) == "pref_code_year18" or _norm(hdr[ucol]) == "pref_name_year18" else (
        2014 if _norm(hdr[ucol]) in ("pref_code_year14", "pref_name_year14") else None)
    cols = [_Column(pos=canon[k], label=_text(hdr[canon[k]]), names=[k]) for k in PKU_INDEX_COLUMNS if k in canon]
    single, mapping = _indicator_selector(indicator)
    chosen = _choose_indicators(cols, single, mapping, where, notes)
    coll = _Collector(grid, level, _PKU_CITATION)
    skipped_desc = 0
    for r in range(h + 1, len(grid.rows)):
        row = grid.rows[r]
        if all(v is None for v in row):
            continue
        y = _year_of(grid.cell(r, ycol))
        if y is None:
            # a description row under the header (Chinese labels), or a footnote
            if r == h + 1 or isinstance(grid.cell(r, ycol), str) and not any(
                    isinstance(grid.cell(r, c.pos), (int, float)) for c in cols):
                skipped_desc += 1
                continue
            raise InputError(f"{grid.ref(r, ycol)}: {grid.cell(r, ycol)!r} is not a year.", where=where,
                             hint="fix the year or delete the row.")
        unit_raw = grid.cell(r, ucol)
        if unit_raw is None:
            raise InputError(f"{grid.ref(r, ucol)}: empty {_text(hdr[ucol])}.", where=where,
                             hint="fill in the unit name/code or delete the row.")
        prov = _text(grid.cell(r, pcol)) if pcol is not None and grid.cell(r, pcol) is not None else None
        for c in cols:
            if c.pos in chosen:
                coll.add(r, c.pos, _text(unit_raw), f"row {r + 1}", y, chosen[c.pos], province=prov,
                         vintage=vintage)
    if skipped_desc:
        notes.append(f"{where}: {skipped_desc} row(s) without a year (descriptions) skipped.")
    return coll.finish(notes, f"column '{_text(hdr[ucol])}'")


# ----------------------------------------------------------------------------------------- panel
#: Headers of a year column (compared with _norm).
_YEAR_HEADERS = frozenset(["year", "years", "年份", "年度", "年", "时间", "统计年度", "数据年份", "yr", "time"])
_INDICATOR_HEADERS = frozenset(["indicator", "indicators", "variable", "指标", "指标名称", "变量", "icode"])
_REGION_HEADERS = frozenset([
    "地区", "省份", "省", "省区", "省市", "省份名称", "地区名称", "城市", "城市名称", "市", "地级市", "地市", "region",
    "province", "city", "prefecture", "unit", "ucode", "code", "id", "代码", "区划代码", "行政区划代码", "地区代码",
    "城市代码", "省份代码", "adcode", "name", "名称"])
_VALUE_HEADERS = frozenset(["value", "values", "数值", "值", "指标值", "取值"])


def _panel_header(grid: _Grid) -> tuple[int, int] | None:
    """(header row, year column) of a table with a year column (one row per unit and year), else None."""
    for r, row in enumerate(grid.rows[:15]):
        ycols = [c for c, v in enumerate(row) if v is not None and _norm(v) in _YEAR_HEADERS]
        if not ycols or sum(v is not None for v in row) < 3:
            continue
        yc = ycols[0]
        below = [grid.cell(x, yc) for x in range(r + 1, min(len(grid.rows), r + 12))
                 if any(v is not None for v in grid.rows[x])][:5]
        if below and all(_year_of(v) is not None for v in below):
            return r, yc
    return None


def _read_panel(grid: _Grid, level: str, indicator, notes: list[str]) -> pd.DataFrame:
    """A table with a year column: one row per unit and year (indicators as columns, or indicator + value
    columns), or years as rows and regions as columns."""
    where = grid.where()
    h, ycol = _panel_header(grid)
    hdr = grid.rows[h]
    labels = {c: _text(v) for c, v in enumerate(hdr) if v is not None and c != ycol}
    # data rows: until a footnote line or the end
    rows, src_line = [], None
    for r in range(h + 1, len(grid.rows)):
        _, fv = _first_cell(grid.rows[r])
        if fv is None:
            continue
        if isinstance(fv, str) and _FOOT_RE.match(fv):
            foot, src_line = _footnotes(grid, r)
            if foot:
                notes.append(f"{where}: footnotes: " + " | ".join(foot))
            break
        rows.append(r)
    if not rows:
        raise InputError("the table has a year column but no data rows.", where=where, hint="check the file.")
    for c in range(max(len(grid.rows[r]) for r in rows)):
        if c != ycol and c not in labels and any(grid.cell(r, c) is not None for r in rows):
            raise InputError(f"column {_col_letter(c)} holds values but has no heading.", where=where,
                             hint="give every column a heading (unit, year, indicator names).")
    years = {}
    bad_years = []
    for r in rows:
        y = _year_of(grid.cell(r, ycol))
        if y is None:
            bad_years.append(f"{grid.ref(r, ycol)}: {_text(grid.cell(r, ycol))!r}")
        years[r] = y
    if bad_years:
        raise InputError(f"{len(bad_years)} cell(s) of the year column {labels.get(ycol, _text(hdr[ycol]))!r} are "
                         f"not years: " + "; ".join(bad_years[:20])
                         + (f" and {len(bad_years) - 20} more" if len(bad_years) > 20 else "") + ".",
                         where=where, hint="write years as 2023 or 2023年, one year per row.")
    # which columns name units: every distinct value matches a unit of this level
    sample = rows[:2000]

    def cells(c: int) -> list[Any]:
        return [grid.cell(r, c) for r in sample if grid.cell(r, c) is not None]

    def looks_like_codes(c: int) -> bool:  # numeric GB/T 2260 codes (2, 4, 6, 9 or 12 digits)
        vs = cells(c)
        return bool(vs) and all(re.fullmatch(r"(?:\d{2}|\d{4}|\d{6}|\d{9}|\d{12})(?:\.0+)?", _text(v).strip())
                                for v in vs)

    def names_units(c: int) -> bool:
        vals = list(dict.fromkeys(_region_text(v) for v in cells(c)))
        vals = [v for v in vals if not _is_aggregate(v)]
        if not vals or any(m is None for m in _try_match(vals[:5], level)):
            return False
        return all(m is not None for m in _try_match(vals[5:400], level))

    text_cols = [c for c in labels if cells(c) and all(parse_number(v) is None for v in cells(c))]
    unit_cols = [c for c in labels if (c in text_cols or looks_like_codes(c)) and names_units(c)]
    text_cols += [c for c in unit_cols if c not in text_cols]
    ind_col = next((c for c in text_cols if _norm(labels[c]) in _INDICATOR_HEADERS), None)
    val_col = next((c for c in labels if _norm(labels[c]) in _VALUE_HEADERS), None)
    single, mapping = _indicator_selector(indicator)
    coll = _Collector(grid, level, src_line or "")
    lab = (lambda r: f"line {r + 1}") if grid.kind == "csv" else (lambda r: f"row {r + 1}")
    if not unit_cols:
        # years as rows, regions as columns (a one-indicator table)?
        region_cols = [c for c in labels if not _is_aggregate(_region_text(labels[c]))]
        matched = _try_match([_region_text(labels[c]) for c in region_cols], level)
        if region_cols and all(m is not None for m in matched):
            if single is None:
                raise InputError("the table has years as rows and regions as columns; name its indicator with "
                                 "--indicator CODE.", where=where, hint="e.g. --indicator gdp.")
            skipped = [labels[c] for c in labels if c not in region_cols]
            if skipped:
                notes.append(f"{where}: total/aggregate columns skipped: {', '.join(skipped)}.")
            for r in rows:
                for c in region_cols:
                    coll.add(r, c, _region_text(labels[c]), f"column {labels[c]}", years[r], single,
                             vintage=years[r])
            return coll.finish(notes, "header row")
        # a column headed like a region column whose names do not all match: match_units lists the others
        named = [c for c in text_cols if _norm(labels[c]) in _REGION_HEADERS]
        other = "city" if level == "province" else "province"

        def share(c: int, lev: str) -> float:
            vals = list(dict.fromkeys(_region_text(v) for v in cells(c)))[:200]
            return sum(m is not None for m in _try_match(vals, lev)) / max(len(vals), 1)

        wrong_level = [c for c in text_cols if share(c, other) > 0.5 and share(c, level) < 0.5]
        if named and not wrong_level:
            unit_cols = named[:1]
        else:
            raise InputError(f"the table has a year column ({labels.get(ycol, _text(hdr[ycol]))!r}, column "
                             f"{_col_letter(ycol)}) but no column whose values are {level} names or codes "
                             f"(columns: {', '.join(labels.values())}).", where=where,
                             hint=(f"check --level: column {labels[wrong_level[0]]!r} holds {other} names. "
                                   if wrong_level else "") + "Name the region column 地区, 省份, 城市 or region "
                                  "(its names are then matched and those that match nothing listed).")
    ucol = unit_cols[0]
    # other unit columns (a code next to a name) must say the same unit on every row
    def codes_of(c: int) -> list[str | None]:
        names = [_region_text(grid.cell(r, c)) for r in rows]
        distinct = list(dict.fromkeys(names))
        m = dict(zip(distinct, _try_match(distinct, level)))
        return [m[n] for n in names]

    a = codes_of(ucol)
    for c in unit_cols[1:]:
        b = codes_of(c)
        bad = [r for r, x, y in zip(rows, a, b) if x is not None and y is not None and x != y]
        if bad:
            raise InputError(f"columns {labels[ucol]!r} and {labels[c]!r} name different units on "
                             f"{len(bad)} row(s): " + "; ".join(
                                 f"{lab(r)}: {_text(grid.cell(r, ucol))!r} vs {_text(grid.cell(r, c))!r}"
                                 for r in bad[:20]) + (f" and {len(bad) - 20} more" if len(bad) > 20 else "") + ".",
                             where=where, hint="fix the code or the name on those rows.")
    label_cols = [c for c in text_cols if c not in (ucol, ind_col, val_col)]
    if ind_col is not None and val_col is not None:
        # tidy long: unit, year, indicator, value
        inds = list(dict.fromkeys(_text(grid.cell(r, ind_col)) for r in rows if grid.cell(r, ind_col) is not None))
        cols = [_Column(pos=i, label=n, names=[_squeeze(split_unit(n)[0]), n]) for i, n in enumerate(inds)]
        chosen = _choose_indicators(cols, single, mapping, where, notes)
        code_of = {inds[i]: code for i, code in chosen.items()}
        for r in rows:
            name = _text(grid.cell(r, ind_col))
            if not name:
                raise InputError(f"{grid.ref(r, ind_col)}: empty indicator name.", where=where,
                                 hint="fill it in or delete the row.")
            if name in code_of:
                if _is_aggregate(_region_text(grid.cell(r, ucol))):
                    continue
                coll.add(r, val_col, _region_text(grid.cell(r, ucol)), lab(r), years[r], code_of[name],
                         vintage=years[r])
    else:
        vcols = [c for c in labels if c not in text_cols and c != ucol]
        if not vcols:
            raise InputError("no indicator columns next to the unit and year columns.", where=where,
                             hint="indicators go in columns with numbers (or in 'indicator' and 'value' columns).")
        cols = []
        for c in vcols:
            nm, unit = split_unit(labels[c])
            cols.append(_Column(pos=c, label=labels[c], names=[_squeeze(nm)], unit=unit))
        chosen = _choose_indicators(cols, single, mapping, where, notes)
        skipped_aggr = []
        for r in rows:
            region = _region_text(grid.cell(r, ucol))
            if not region:
                raise InputError(f"{grid.ref(r, ucol)}: empty {labels[ucol]!r}.", where=where,
                                 hint="fill in the unit name/code or delete the row.")
            if _is_aggregate(region):
                skipped_aggr.append(region)
                continue
            for c in cols:
                if c.pos in chosen:
                    coll.add(r, c.pos, region, lab(r), years[r], chosen[c.pos], vintage=years[r])
        if skipped_aggr:
            notes.append(f"{where}: total/aggregate rows skipped: {', '.join(dict.fromkeys(skipped_aggr))}.")
        units_ = {chosen[c.pos]: c.unit for c in cols if c.unit and c.pos in chosen}
        if units_:
            notes.append(f"{where}: units: " + "; ".join(f"{k} = {u}" for k, u in units_.items()))
    if label_cols:
        notes.append(f"{where}: label columns (names/codes, not values) skipped: "
                     f"{'; '.join(labels[c] for c in label_cols)}.")
    notes.append(f"{where}: panel layout: units from column {labels[ucol]!r}, years from column "
                 f"{labels.get(ycol, _text(hdr[ycol]))!r} ({min(years.values())}-{max(years.values())}); each "
                 f"unit name/code is read as of its row's year.")
    return coll.finish(notes, f"column {labels[ucol]!r}")


# -------------------------------------------------------------------------------------------- API
def detect_layout(path: str | Path, sheet: str | int | None = None) -> str:
    """'nbs', 'pku', 'panel' or 'yearbook' for the (first) sheet of a file."""
    grids = _read_grids(Path(path), sheet)
    return _detect(grids[0])


def _detect(grid: _Grid) -> str:
    if _is_nbs(grid):
        return "nbs"
    if _pku_header(grid) is not None:
        return "pku"
    if _panel_header(grid) is not None:
        return "panel"
    return "yearbook"


def read_official(path: str | Path, *, layout: str = "auto", level: str = "province",
                  indicator: str | Mapping[str, str] | None = None, year: int | None = None,
                  sheet: str | int | None = None, name: str | None = None) -> ImportResult:
    """Read one official file into the tidy long table (see the module docstring for layouts and options).

    ``sheet``: a sheet name or 0-based number; by default the first sheet (PKU workbooks: the sheet of
    ``level``, e.g. 省级 or 城市). ``name``: how the file is named in ``source`` (default: its file name).
    """
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}.", hint=f"use one of {', '.join(LAYOUTS)}.")
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}.", hint="use province or city.")
    p = Path(path)
    grids = _read_grids(p, sheet, name)
    grid = grids[0]
    notes: list[str] = []
    if sheet is None and len(grids) > 1:
        grid = _pick_pku_sheet(grids, level) if any(_pku_header(g) is not None for g in grids) else grids[0]
        others = [g.sheet for g in grids if g is not grid]
        notes.append(f"{p.name}: read sheet '{grid.sheet}'; other sheets not read: {', '.join(map(str, others))} "
                     f"(choose one with --sheet).")
    lay = _detect(grid) if layout == "auto" else layout
    if lay == "nbs":
        df = _read_nbs(grid, level, indicator, year, notes)
    elif lay == "pku":
        if year is not None:
            raise InputError("--year does not apply to PKU-DFIIC files (they have a year column).", where=str(p),
                             hint="drop --year.")
        df = _read_pku(grid, level, indicator, notes)
    elif lay == "panel":
        if _panel_header(grid) is None:
            raise InputError("no header row with a year column (year, 年份, 年度 ...) whose cells below are years.",
                             where=grid.where(), hint="check the file, or use --layout auto.")
        if year is not None:
            h, yc = _panel_header(grid)
            raise InputError(f"--year does not apply: the table has a year column ({_text(grid.cell(h, yc))!r}, "
                             f"column {_col_letter(yc)}) and is read as a panel of all its years.",
                             where=grid.where(), hint="drop --year (select years after the import if needed).")
        df = _read_panel(grid, level, indicator, notes)
    else:
        df = _read_yearbook(grid, level, indicator, year, notes)
    df = _check_duplicates(df, str(p))
    notes += _dissolved_notes(df, level, lay)
    return ImportResult(data=df.sort_values(["indicator", "year", "unit"], kind="stable").reset_index(drop=True),
                        notes=notes, layout=lay)


def _pick_pku_sheet(grids: list[_Grid], level: str) -> _Grid:
    want = ("省",) if level == "province" else ("市", "城市", "地级")
    cands = [g for g in grids if _pku_header(g) is not None]
    for g in cands:
        sn = g.sheet or ""
        low = sn.lower()
        if any(w in sn for w in want) and "县" not in sn or (level == "province" and "prov" in low) or (
                level == "city" and ("city" in low or "pref" in low)):
            return g
    return cands[0]


def _check_duplicates(df: pd.DataFrame, where: str, one_file: bool = True) -> pd.DataFrame:
    key = ["unit", "year", "indicator"]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        d = df[dup].sort_values(key, kind="stable")
        groups = d.groupby(key, sort=False)
        items = []
        for (u, y, i), g in groups:
            vals = [f"{v:g} ({s})" for v, s in zip(g["value"], g["source"])]
            items.append(f"{u} {y} {i}: " + " vs ".join(vals[:3])
                         + (f" and {len(vals) - 3} more" if len(vals) > 3 else ""))
            if len(items) >= 10:
                break
        n = groups.ngroups
        more = f"; and {n - len(items)} more" if n > len(items) else ""
        per_cell = int(groups.size().max())
        hint = ("two names of the same unit (e.g. an old and a new name), or overlapping files: keep one value "
                "per unit, year and indicator.")
        if one_file and per_cell > 2:
            hint = ("a unit appears on many rows for one year: if the table has a year column, import it without "
                    "--year (it is read as a panel); otherwise " + hint)
        raise InputError(f"{n} unit-year-indicator cell(s) are given twice or more ({int(dup.sum())} values): "
                         + "; ".join(items) + more + ".", where=where, hint=hint)
    return df


def _dissolved_notes(df: pd.DataFrame, level: str, layout: str | None) -> list[str]:
    """A note per dissolved unit (莱芜 371200 ...) kept as a unit of its own, with the years it has data for."""
    if level != "city" or df.empty:
        return []
    from dcindex.china import code_changes

    cc = code_changes()
    cc = cc[cc["change"].isin(["merged", "split"])].set_index("old_code")
    out = []
    for code in sorted(set(df["unit"]) & set(cc.index)):
        r = cc.loc[code]
        yrs = sorted(df.loc[df["unit"] == code, "year"].unique())
        after = [y for y in yrs if y >= int(r["year"])]
        succ = ", ".join(f"{c} {n}" for c, n in zip(r["new_code"].split(";"), r["new_name_zh"].split(";")))
        why = "; PKU-DFIIC codes units by the 2018 list" if layout == "pku" else ""
        out.append(f"{code} {r['old_name_zh']} was {r['change']} into {succ} in {r['year']}, but the file reports "
                   f"it separately for {_year_span(yrs)}"
                   + (f" ({len(after)} year(s) after the change: {_year_span(after)}{why})" if after else
                      (f" ({why[2:]})" if why else ""))
                   + f". It is kept as a unit of its own (kind 'dissolved' in the units table), next to {succ} "
                     f"with the file's own values; for a panel of current units only, drop {code} or aggregate "
                     f"it into the successor yourself.")
    return out


def _year_span(yrs: list[int]) -> str:
    yrs = sorted(int(y) for y in yrs)
    if yrs == list(range(yrs[0], yrs[-1] + 1)):
        return f"{yrs[0]}-{yrs[-1]}" if len(yrs) > 1 else str(yrs[0])
    return ", ".join(map(str, yrs))


def units_table(codes: Iterable[str], level: str = "province") -> pd.DataFrame:
    """The units table (code, names, groupings) for the unit codes of an import, as ``dcindex build`` reads it.

    Every code gets a row: current units, province-administered county-level units (仙桃 ...) and dissolved
    units that the data report separately (莱芜 371200, ``kind = "dissolved"``). Citation columns
    (``*_source``) are left out."""
    from dcindex.china import units as china_units

    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}.", hint="use province or city.")
    want = list(dict.fromkeys(str(c) for c in codes))
    u = (china_units("city", include_county_level=True, include_dissolved=True) if level == "city"
         else china_units("province"))
    u = u[u["code"].isin(set(want))].copy()
    missing = sorted(set(want) - set(u["code"]))
    if missing:
        raise InputError(f"{len(missing)} unit code(s) are not {level} codes of dcindex.china: "
                         f"{', '.join(missing[:20])}" + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
                         + ".", hint=f"check --level ({level}) or write the units table yourself.")
    u["region4"] = u["region4"].astype(str)
    return u.drop(columns=[c for c in u.columns if c.endswith("_source")]).reset_index(drop=True)


def import_files(paths: Iterable[str | Path], *, layout: str = "auto", level: str = "province",
                 indicator: str | Mapping[str, str] | None = None, year: int | None = None,
                 sheet: str | int | None = None) -> ImportResult:
    """Read several files (same options for each) and concatenate; a value given twice is an error."""
    paths = list(paths)
    if not paths:
        raise InputError("no input files.", hint="give one or more CSV/XLS/XLSX files.")
    parts, notes, lays = [], [], []
    for p in paths:
        r = read_official(p, layout=layout, level=level, indicator=indicator, year=year, sheet=sheet)
        parts.append(r.data)
        notes += r.notes
        lays.append(r.layout)
    df = pd.concat(parts, ignore_index=True)
    df = _check_duplicates(df, ", ".join(map(str, paths)), one_file=False)
    df = df.sort_values(["indicator", "year", "unit"], kind="stable").reset_index(drop=True)
    return ImportResult(data=df, notes=notes, layout=lays[0] if len(set(lays)) == 1 else "mixed")


# ============================================================================ shipped frameworks
FRAMEWORKS = {"province": "dci_province", "city": "dci_city"}


def framework_path(level: str = "province") -> Path:
    """Path of the shipped Digital City Index framework YAML for ``level`` (province or city)."""
    if level not in FRAMEWORKS:
        raise InputError(f"no shipped framework for {level!r}.", hint="use province or city.")
    return Path(str(resources.files("dcindex") / "data" / "frameworks" / f"{FRAMEWORKS[level]}.yaml"))


def recipe_path(level: str = "province") -> Path:
    """Path of the shipped panel recipe for the Digital City Index of ``level``."""
    if level not in FRAMEWORKS:
        raise InputError(f"no shipped recipe for {level!r}.", hint="use province or city.")
    return Path(str(resources.files("dcindex") / "data" / "frameworks" / f"{FRAMEWORKS[level]}_recipe.yaml"))


# ====================================================================== province panel (shared data)
PANEL_FILE = "cn-province-digital-panel/panel.csv"
GDP_POP_FILE = "cn-province-gdp-population/panel.csv"
PKU_PROVINCE_FILE = "pku-dfiic/province.csv"
PROVINCE_YEARS = tuple(range(2013, 2024))
POPULATION_METHODS = ("average", "census2020")


def _shared_column(tag: Any, code: str) -> tuple[str, str]:
    if not isinstance(tag, str) or "#" not in tag:
        raise InputError(f"indicator '{code}' has no 'shared' tag of the form 'dataset/file.csv#column'.",
                         where=str(framework_path("province")),
                         hint="every indicator of the province framework names its shared-data column.")
    f, c = tag.split("#", 1)
    return f.strip(), c.strip()


def average_population(gdp_pop: pd.DataFrame, years: Iterable[int] = PROVINCE_YEARS, *,
                       where: str = GDP_POP_FILE, tolerance: float = 0.005) -> tuple[pd.DataFrame, list[str]]:
    """Annual average resident population (10k persons) by province code and year, with a source per value.

    Years up to 2020: mean of the year-end resident population of the year and the year before (the
    definition NBS uses for per-capita GDP); later years: GDP / per-capita GDP (``avg_population_10k_derived``).
    Where both exist (2019, 2020) they must agree within ``tolerance`` (relative), which shows that the two
    pieces are one series of one vintage; otherwise an InputError names the provinces that disagree.
    ``gdp_pop`` has columns ``year, code, yearend_population_10k, avg_population_10k_derived``.
    """
    P = gdp_pop.pivot(index="year", columns="code", values="yearend_population_10k")
    A = gdp_pop.pivot(index="year", columns="code", values="avg_population_10k_derived")
    notes: list[str] = []
    overlap = [y for y in A.index if y in P.index and y - 1 in P.index and A.loc[y].notna().all()
               and P.loc[y].notna().all() and P.loc[y - 1].notna().all()]
    worst = 0.0
    for y in overlap:
        mean_ye = (P.loc[y - 1] + P.loc[y]) / 2
        rel = ((mean_ye - A.loc[y]) / A.loc[y]).abs()
        worst = max(worst, float(rel.max()))
        if (rel > tolerance).any():
            bad = ", ".join(f"{c} ({mean_ye[c]:.1f} vs {A.loc[y, c]:.1f})" for c in rel.index[rel > tolerance])
            raise InputError(f"year {y}: the mean of year-end populations and the GDP-derived average population "
                             f"disagree by more than {tolerance:.1%} for {bad}; the two pieces would be a "
                             f"silent splice of different vintages.", where=where,
                             hint="use population='census2020', or supply one consistent population series.")
    rows = []
    for y in years:
        for c in P.columns:
            a = A.loc[y, c] if y in A.index else np.nan
            if y in A.index and pd.notna(a):
                rows.append((c, y, float(a), f"{where}: avg_population_10k_derived {y} (= GDP / per-capita GDP; "
                                                f"NBS 分省年度数据)"))
            elif y in P.index and y - 1 in P.index and pd.notna(P.loc[y, c]) and pd.notna(P.loc[y - 1, c]):
                rows.append((c, y, float((P.loc[y - 1, c] + P.loc[y, c]) / 2),
                             f"{where}: mean of yearend_population_10k {y - 1} and {y} (NBS 年末常住人口)"))
            else:
                raise InputError(f"no population for province {c} in {y}.", where=where,
                                 hint="the average needs year-end population of the year and the year before, "
                                      "or GDP and per-capita GDP.")
    out = pd.DataFrame(rows, columns=["unit", "year", "value", "source"])
    first_derived = min((y for y in A.index if A.loc[y].notna().all()), default=None)
    notes.append("population denominator = annual average resident population (10k): mean of consecutive "
                 "year-end values" + (f" up to {first_derived - 1}, GDP / per-capita GDP from {first_derived}"
                                      if first_derived is not None else "")
                 + (f"; in the overlap {', '.join(map(str, overlap))} the two agree within {worst:.3%} "
                    f"(one vintage, no level break)" if overlap else "; no overlap year to check the splice"))
    return out, notes


def load_province_panel(shared_dir: str | Path, *, population: str = "average",
                        years: Iterable[int] = PROVINCE_YEARS, min_year_coverage: float = 0.5) -> ImportResult:
    """Assemble the province Digital City Index data 2013-2023 from ``../shared/data`` as a tidy long table.

    Every indicator of the shipped province framework names its column (tag ``shared``); values are read
    unchanged, with ``source`` = file, row and column. Denominators added as rows:

    * ``population_10k`` -- ``population="average"`` (default): annual average resident population, see
      :func:`average_population` (one consistent series 2013-2023; verified in the overlap years);
      ``"census2020"``: the 7th-census count of 2020-11-01 for every year (a fixed base, from
      ``dcindex.china.units``; flat in time, so per-capita growth then includes population growth).
    * ``employment_nonprivate_10k`` -- urban non-private employment (same panel), for the IT share.

    Area (``area_km2``, for the optical-cable density) is a column of the units table
    (``dcindex.china.units("province")``), not a data row. ``min_year_coverage``: an indicator-year
    reported for fewer than this share of the provinces is left out for all of them (notes say which), so
    that every province's score of that year rests on the same indicators (2013 mobile internet users: 5 of
    31). The three files are read, never modified.
    """
    from dcindex.china import match_units, units as china_units
    from dcindex.framework import read_framework_yaml

    if population not in POPULATION_METHODS:
        raise InputError(f"unknown population method {population!r}.",
                         hint=f"use one of {', '.join(POPULATION_METHODS)}.")
    base = Path(shared_dir)
    years = list(years)
    notes: list[str] = []
    fw = read_framework_yaml(framework_path("province"))
    need: dict[str, list[tuple[str, str]]] = {}
    for code in fw.indicators:
        f, col = _shared_column(fw.nodes[code].tags.get("shared"), code)
        need.setdefault(f, []).append((code, col))
    frames: list[pd.DataFrame] = []

    def read(rel: str) -> pd.DataFrame:
        p = base / rel
        if not p.is_file():
            raise InputError("shared data file not found.", where=str(p),
                             hint="pass the folder that holds cn-province-digital-panel/, pku-dfiic/ and "
                                  "cn-province-gdp-population/ (../shared/data).")
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[])
        df.attrs["source_file"] = rel
        return df

    # --- the digital panel (wide: one row per province-year)
    panel = read(PANEL_FILE)
    panel_codes = match_units(panel["id"], "province", where=f"{PANEL_FILE}, column 'id'")
    name_codes = match_units(panel["province"], "province", where=f"{PANEL_FILE}, column 'province'")
    if (panel_codes != name_codes).any():
        i = int(np.flatnonzero((panel_codes != name_codes).to_numpy())[0])
        raise InputError(f"row {i + 2}: code {panel['id'].iat[i]} and name {panel['province'].iat[i]} disagree.",
                         where=PANEL_FILE, hint="fix the row.")
    pyear = panel["year"].astype(int)
    in_years = pyear.isin(years).to_numpy()

    def wide_rows(df: pd.DataFrame, codes: pd.Series, yrs: pd.Series, pairs: list[tuple[str, str]], rel: str):
        out = []
        for ind, col in pairs:
            if col not in df.columns:
                raise InputError(f"column '{col}' (for indicator '{ind}') is not in the file.", where=rel,
                                 hint="check the 'shared' tag of the indicator in the framework.")
            vals = pd.to_numeric(df[col].replace("", np.nan), errors="raise")
            rows = np.arange(len(df)) + 2
            out.append(pd.DataFrame({"unit": codes.to_numpy(), "year": yrs.to_numpy(), "indicator": ind,
                                     "value": vals.to_numpy(dtype=float),
                                     "source": [f"{rel} row {r}, column {col}" for r in rows]}))
        return out

    if PANEL_FILE in need:
        frames += [f[in_years] for f in wide_rows(panel, panel_codes, pyear, need.pop(PANEL_FILE), PANEL_FILE)]
    frames += [f[in_years] for f in wide_rows(panel, panel_codes, pyear,
                                               [("employment_nonprivate_10k", "employment_nonprivate_10k")],
                                               PANEL_FILE)]
    # --- PKU-DFIIC through the PKU reader (the shared CSV keeps the official workbook's column names)
    if PKU_PROVINCE_FILE in need:
        pairs = need.pop(PKU_PROVINCE_FILE)
        r = read_official(base / PKU_PROVINCE_FILE, layout="pku", level="province",
                          indicator={col: ind for ind, col in pairs}, name=PKU_PROVINCE_FILE)
        frames.append(r.data[r.data["year"].isin(years)])
    if need:
        raise InputError(f"framework indicators name shared files this loader does not read: {', '.join(need)}.",
                         where=str(framework_path("province")), hint="fix the 'shared' tags.")
    # --- population
    gp = read(GDP_POP_FILE)
    gp["code"] = match_units(gp["province"], "province", where=f"{GDP_POP_FILE}, column 'province'").to_numpy()
    gp["year"] = gp["year"].astype(int)
    for c in ("yearend_population_10k", "avg_population_10k_derived"):
        gp[c] = pd.to_numeric(gp[c].replace("", np.nan))
    if population == "average":
        pop, pnotes = average_population(gp, years)
        notes += pnotes
    else:
        u = china_units("province")
        pop = pd.DataFrame([(c, y, float(p) / 1e4, f"7th census 2020-11-01 (fixed base): {s}")
                            for y in years for c, p, s in zip(u["code"], u["population_2020"],
                                                               u["population_2020_source"])],
                           columns=["unit", "year", "value", "source"])
        notes.append("population denominator = 7th-census resident population (2020-11-01) for every year "
                     "(fixed base; no splice)")
    pop.insert(2, "indicator", "population_10k")
    frames.append(pop)
    df = pd.concat(frames, ignore_index=True)
    # --- indicator-years with too little coverage
    n_units = df["unit"].nunique()
    cov = df.dropna(subset=["value"]).groupby(["indicator", "year"])["unit"].nunique()
    drop = [(i, y, int(n)) for (i, y), n in cov.items() if n < min_year_coverage * n_units]
    for i, y, n in drop:
        mask = (df["indicator"] == i) & (df["year"] == y)
        df = df[~mask]
        notes.append(f"{i} {y}: reported for {n} of {n_units} provinces only; left out for all provinces that year")
    empty = df.groupby(["indicator", "year"])["value"].apply(lambda s: s.isna().all())
    for (i, y), e in empty.items():
        if e:
            notes.append(f"{i} {y}: not reported for any province (missing in the source)")
    miss = df[df["value"].isna()]
    partial = miss.groupby(["indicator", "year"]).size()
    for (i, y), n in partial.items():
        if not empty.get((i, y), False):
            who = ", ".join(miss[(miss["indicator"] == i) & (miss["year"] == y)]["unit"])
            notes.append(f"{i} {y}: missing for {n} province(s) ({who})")
    df = df.dropna(subset=["value"])
    df = _check_duplicates(df, str(base))
    df = df.sort_values(["indicator", "year", "unit"], kind="stable").reset_index(drop=True)
    return ImportResult(data=df[OUTPUT_COLUMNS], notes=notes, layout="shared-province")


def province_units() -> pd.DataFrame:
    """The units table for province builds: codes, names, groupings and area (numeric) from dcindex.china."""
    from dcindex.china import units as china_units

    u = china_units("province")
    u["region4"] = u["region4"].astype(str)
    keep = ["code", "name_zh", "name_en", "region4", "region4_zh", "north_south", "north_south_zh", "hub",
            "hub_node", "area_km2"]
    out = u[keep].copy()
    out.insert(1, "name", out["name_zh"])
    return out


def build_province_dci(shared_dir: str | Path, *, population: str = "average", recipe: Any = None):
    """Build the province Digital City Index 2013-2023 from ``../shared/data`` (framework and recipe shipped).

    Returns ``(BuildResult, ImportResult)``; the import notes list every value left out and why.
    """
    from dcindex.build import build

    imp = load_province_panel(shared_dir, population=population)
    res = build(imp.data, framework_path("province"), recipe if recipe is not None else recipe_path("province"),
                units=province_units())
    return res, imp
