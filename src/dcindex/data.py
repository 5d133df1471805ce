"""Reading indicator tables and holding them as panel arrays.

Text encodings seen in Chinese offices (UTF-8, UTF-8 with BOM, GB18030/GBK) are detected without the user
saying which. Numbers written as ``1,234``, ``12%`` (read as 12, in percent units), full-width digits and
``−`` are understood; ``""``, ``—``, ``..``, ``-``, ``NA`` and similar mean missing; anything else that is not a
number is an error listing the offending cells.

The :class:`Panel` holds values as arrays of shape ``(T, N, K)`` (years x units x indicators), the
layout every core function works on.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from dcindex.errors import InputError

#: Cell texts read as missing values.
MISSING_TOKENS = frozenset(
    ["", "-", "--", "—", "——", "–", "－", "..", "...", "…", "……", "na", "n/a", "nan", "null", "none", "#n/a", "无", "缺失"]
)
_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


# ------------------------------------------------------------------------------------------- files
def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def decode_bytes(raw: bytes, where: str) -> tuple[str, str]:
    """Decode file bytes: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK/GB2312)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError("the file is neither UTF-8 nor GB18030/GBK text.", where=where,
                     hint="save it as CSV UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)').")


def read_yaml(path: str | Path, *, what: str, option: str, error: type = InputError) -> Any:
    """Read a YAML file safely (``yaml.safe_load``; UTF-8, UTF-8 BOM or GB18030) with one-paragraph errors.

    ``what`` names the file in messages ("framework", "recipe", ...), ``option`` the CLI option that gave it;
    YAML syntax errors are raised as ``error`` with line and column.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputError(f"the {what} file does not exist or is not a file.", where=str(p),
                         hint=f"check the path given to {option}.")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what} file: {exc.strerror or exc}.", where=str(p),
                         hint="check the file's permissions.") from None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"the {what} file is neither UTF-8 nor GB18030/GBK text (UTF-16?).", where=str(p),
                         hint="save it as UTF-8 (in Notepad: Save as > Encoding: UTF-8).")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        pos = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(f"cannot parse YAML{pos}: {getattr(exc, 'problem', exc)}.", where=str(p),
                    hint="fix the YAML syntax (indentation, colons, quotes).") from None


def read_table(path: str | Path, *, numeric: bool = False, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX/XLS file into a DataFrame of strings (missing cells as None).

    All cells are kept as text so that number parsing can report offending cells precisely; use
    :func:`parse_numeric` on the value columns.
    """
    p = Path(path)
    where = str(p)
    if not p.exists():
        raise InputError("the file does not exist.", where=where, hint="check the path and spelling.")
    if not p.is_file():
        raise InputError("this is not a file.", where=where, hint="give the path of a CSV or XLSX file.")
    suffix = p.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            df = pd.read_excel(p, sheet_name=sheet or 0, dtype=object, engine="openpyxl", header=0)
            _check_uncomputed_formulas(p, sheet or 0, df, where)
        elif suffix == ".xls":
            df = pd.read_excel(p, sheet_name=sheet or 0, dtype=object, header=0)
        else:
            raw = p.read_bytes()
            text, _ = decode_bytes(raw, where)
            sep = "\t" if suffix in (".tsv", ".tab") else ","
            try:
                # pyarrow's reader: multi-threaded, and it refuses rows whose field count differs from the
                # header (pandas' C reader would silently shift or pad them)
                df = pd.read_csv(io.BytesIO(text.encode("utf-8")), sep=sep, dtype=str, keep_default_na=False,
                                 na_values=[], engine="pyarrow")
            except pd.errors.ParserError:
                _check_field_counts(text, sep, where)  # names the rows; raises
                raise
    except InputError:
        raise
    except PermissionError:
        raise InputError("the file cannot be read (permission denied).", where=where,
                         hint="check file permissions or close it in Excel.") from None
    except Exception as exc:  # pandas/openpyxl parse errors
        raise InputError(f"cannot read the table: {exc}.", where=where,
                         hint="check that it is a valid CSV (comma-separated) or XLSX file.") from None
    df.columns = [_clean_header(c) for c in df.columns]
    dup = df.columns[df.columns.duplicated()].tolist()
    if dup:
        raise InputError(f"duplicate column names: {', '.join(map(str, dup))}.", where=where,
                         hint="give every column a unique header.")
    df = df.astype(object).where(pd.notna(df), None)
    df.attrs["source_file"] = where
    return df


def _check_field_counts(text: str, sep: str, where: str) -> None:
    """Every CSV row must have as many fields as the header; pandas would otherwise shift columns silently."""
    import csv

    bad: list[str] = []
    nbad = 0
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header = next(reader, None)
    if header is None:
        return
    n = len(header)
    for i, row in enumerate(reader, start=2):
        if row and len(row) != n and any(c.strip() for c in row):
            nbad += 1
            if len(bad) < 10:
                bad.append(f"row {i} has {len(row)} fields")
    if nbad:
        raise InputError(
            f"{nbad} row(s) do not have the header's {n} fields: " + "; ".join(bad)
            + ("; ..." if nbad > len(bad) else "") + ".", where=where,
            hint="remove stray commas (or quote text containing commas) so every row has one value per column.")


def _check_uncomputed_formulas(path: Path, sheet: Any, df: pd.DataFrame, where: str) -> None:
    """Formula cells saved without a computed value (workbooks written by scripts) would read as empty."""
    empty = df.isna().to_numpy()
    if not empty.any():
        return
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet]
        cells = []
        for r, c in np.argwhere(empty)[:100000]:
            v = ws.cell(row=int(r) + 2, column=int(c) + 1).value
            if isinstance(v, str) and v.startswith("="):
                cells.append(f"{openpyxl.utils.get_column_letter(int(c) + 1)}{int(r) + 2}")
    finally:
        wb.close()
    if cells:
        raise InputError(
            f"{len(cells)} cell(s) hold formulas without a computed value ({', '.join(cells[:15])}"
            + (" ..." if len(cells) > 15 else "") + "), so their values are unknown.",
            where=where, hint="open the file in Excel or LibreOffice and save it (values are then stored), or "
                              "paste the cells as values.")


def _clean_header(c: Any) -> str:
    s = unicodedata.normalize("NFKC", str(c)).strip()
    return s


def parse_number(cell: Any) -> float | None:
    """Parse one cell; returns NaN for missing tokens and None when the text is not a number."""
    if cell is None:
        return np.nan
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        return float(cell)
    s = unicodedata.normalize("NFKC", str(cell)).strip().replace("\u2212", "-")
    if s.casefold() in MISSING_TOKENS:
        return np.nan
    s = s.replace(" ", "")
    pct = s.endswith("%")
    if pct:
        s = s[:-1]
    if _THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    if _NUM_RE.match(s):
        return float(s)
    return None


_PLAIN_CHARS_RE = re.compile(r"[^0-9.eE+\- \x00]")
_MISSING_EXACT = np.array(sorted(MISSING_TOKENS | {"NA", "N/A", "NaN", "NULL", "None", "#N/A"}), dtype=object)


def _fast_floats(vals: np.ndarray, res: np.ndarray) -> np.ndarray:
    """Fill ``res`` from a plain column in one C loop; return the positions left for :func:`parse_number`.

    Own code because pandas.to_numeric accepts more than the documented formats ('inf', '1_000' ...) and uses
    its own strtod. Here a column whose present cells are all plain decimal text (only the characters
    ``0-9 . e E + -`` and spaces, which is exactly the grammar ``float()`` and :data:`_NUM_RE` share) or all
    numbers (XLSX) is converted with ``float()`` semantics via ``astype(float)``; empty cells and the usual
    missing tokens become NaN (as :func:`parse_number` makes them); any other column goes cell by cell.
    """
    n = len(vals)
    everything = np.arange(n)
    if n == 0:
        return everything
    kind = pd.api.types.infer_dtype(vals, skipna=True)
    if kind not in ("string", "floating", "integer", "mixed-integer-float", "empty"):
        return everything
    absent = pd.isna(vals)
    if kind == "string":
        absent |= vals == ""
    for attempt in (0, 1):
        if attempt:  # a missing token such as '-' or '..' made float() fail: take them out, try once more
            if kind != "string":
                return everything
            absent |= pd.Series(vals, dtype=object).isin(_MISSING_EXACT).to_numpy()
        present = ~absent
        sv = vals[present]
        if kind == "string" and _PLAIN_CHARS_RE.search("\x00".join(sv)):
            if attempt:
                return everything
            continue
        try:
            res[present] = sv.astype(float)
            break
        except (ValueError, TypeError):
            if attempt:
                return everything
    res[absent] = np.nan  # empty, None/NaN or a missing token: what parse_number returns for them
    return np.empty(0, dtype=np.int64)


def parse_numeric(df: pd.DataFrame, columns: Iterable[str], *, where: str | None = None,
                  row_offset: int = 2) -> pd.DataFrame:
    """Parse ``columns`` to float; one error lists every offending cell (row as in the file, 1-based)."""
    where = where or df.attrs.get("source_file", "table")
    out = {}
    bad: list[str] = []
    nbad = 0
    for col in columns:
        vals = df[col].to_numpy(dtype=object)
        res = np.empty(len(vals), dtype=float)
        todo = _fast_floats(vals, res)
        for i in todo:
            v = vals[i]
            x = parse_number(v)
            if x is None:
                nbad += 1
                if len(bad) < 25:
                    bad.append(f"row {i + row_offset}, column '{col}': {str(v)!r}")
                res[i] = np.nan
            else:
                res[i] = x
        out[col] = res
    if nbad:
        more = f" (and {nbad - len(bad)} more)" if nbad > len(bad) else ""
        raise InputError(
            f"{nbad} cell(s) are not numbers: " + "; ".join(bad) + more + ".",
            where=where,
            hint="write numbers as 1234, 1,234, 12.5 or 12%; leave missing cells empty (or '..', '—', '-').",
        )
    return pd.DataFrame(out, index=df.index)


# ------------------------------------------------------------------------------------------- panel
@dataclass
class Panel:
    """Indicator values on a units x years grid.

    ``values``: float array (T, N, K) for ``indicators``; ``denominators``: (T, N, M) for ``denominator_codes``;
    ``units``: DataFrame indexed by unit code (str) with ``name`` columns and group columns.
    """

    units: pd.DataFrame
    years: list[int]
    indicators: list[str]
    values: np.ndarray
    denominator_codes: list[str] = field(default_factory=list)
    denominators: np.ndarray | None = None
    sources: dict[str, str] = field(default_factory=dict)  # file role -> sha256
    notes: list[str] = field(default_factory=list)
    cell_sources: pd.DataFrame | None = None  # optional tidy provenance (unit, year, indicator, source)

    @property
    def unit_codes(self) -> list[str]:
        return list(self.units.index)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.values.shape  # type: ignore[return-value]

    def to_long(self, sources: bool = False) -> pd.DataFrame:
        """Tidy ``unit, year, indicator, value`` (denominators included, rows with missing values kept); with
        ``sources`` and per-value provenance present, a ``source`` column too."""
        T, N, K = self.values.shape
        frames = [
            pd.DataFrame({
                "unit": np.tile(np.repeat(np.array(self.unit_codes, dtype=object), K), T),
                "year": np.repeat(np.array(self.years), N * K),
                "indicator": np.tile(np.array(self.indicators, dtype=object), T * N),
                "value": self.values.reshape(-1),
            })
        ]
        if self.denominators is not None and self.denominator_codes:
            M = len(self.denominator_codes)
            frames.append(pd.DataFrame({
                "unit": np.tile(np.repeat(np.array(self.unit_codes, dtype=object), M), T),
                "year": np.repeat(np.array(self.years), N * M),
                "indicator": np.tile(np.array(self.denominator_codes, dtype=object), T * N),
                "value": self.denominators.reshape(-1),
            }))
        out = pd.concat(frames, ignore_index=True)
        if sources and self.cell_sources is not None and len(self.cell_sources):
            src = self.cell_sources.drop_duplicates(["unit", "year", "indicator"]).copy()
            src["year"] = src["year"].astype(out["year"].dtype)
            out = out.merge(src[["unit", "year", "indicator", "source"]], on=["unit", "year", "indicator"],
                            how="left", sort=False)
        return out

    def fingerprint(self) -> str:
        """sha256 of the values (shape, codes and bytes): identifies the data content exactly."""
        h = hashlib.sha256()
        h.update(repr((self.unit_codes, self.years, self.indicators, self.denominator_codes)).encode())
        h.update(np.ascontiguousarray(self.values, dtype="<f8").tobytes())
        if self.denominators is not None:
            h.update(np.ascontiguousarray(self.denominators, dtype="<f8").tobytes())
        h.update(pd.util.hash_pandas_object(self.units.astype(str), index=True).to_numpy().tobytes())
        return h.hexdigest()

    def frame(self, year: int | None = None) -> pd.DataFrame:
        """Unit x indicator DataFrame for one year (default: the last)."""
        t = self.years.index(year) if year is not None else len(self.years) - 1
        return pd.DataFrame(self.values[t], index=self.units.index, columns=self.indicators)

    def select_units(self, codes: list[str]) -> "Panel":
        idx = [self.unit_codes.index(c) for c in codes]
        return Panel(
            units=self.units.loc[codes].copy(),
            years=list(self.years),
            indicators=list(self.indicators),
            values=self.values[:, idx, :].copy(),
            denominator_codes=list(self.denominator_codes),
            denominators=None if self.denominators is None else self.denominators[:, idx, :].copy(),
            sources=dict(self.sources),
            notes=list(self.notes),
        )

    def with_values(self, values: np.ndarray) -> "Panel":
        return Panel(units=self.units, years=list(self.years), indicators=list(self.indicators),
                     values=values, denominator_codes=list(self.denominator_codes),
                     denominators=self.denominators, sources=dict(self.sources), notes=list(self.notes),
                     cell_sources=self.cell_sources)


# ------------------------------------------------------------------------------------- unit codes
def normalise_unit_codes(codes: pd.Series, where: str, column: str, row_offset: int = 2) -> pd.Series:
    """Unit codes as stripped strings; codes that differ only by whitespace or case are an error."""
    # work on the distinct spellings: a panel repeats each code once per year (and indicator)
    idx, uniq = pd.factorize(pd.Series(codes.to_numpy(dtype=object), dtype=object), use_na_sentinel=True)
    raw_u = [str(v) for v in uniq]
    empty_u = np.array([r.strip() == "" for r in raw_u] + [True], dtype=bool)  # last entry: idx -1 (None)
    empty = np.flatnonzero(empty_u[idx])
    if empty.size:
        rows = ", ".join(str(i + row_offset) for i in empty[:20])
        raise InputError(f"empty unit code in column '{column}' at row(s) {rows}.", where=where,
                         hint="give every row a unit code.")
    stripped_u = [_strip_code(r) for r in raw_u]
    variants: dict[str, set[str]] = {}
    for r, st in zip(raw_u, stripped_u):
        variants.setdefault(st.casefold(), set()).add(r)
    clash = {k: v for k, v in variants.items() if len(v) > 1}
    if clash:
        lst = "; ".join(" vs ".join(repr(x) for x in sorted(v)) for v in list(clash.values())[:10])
        raise InputError(
            f"unit codes in column '{column}' differ only by whitespace or case: {lst}.",
            where=where,
            hint="use exactly one spelling per unit (codes are compared exactly).",
        )
    return pd.Series(np.array(stripped_u, dtype=object)[idx], index=codes.index)


def _strip_code(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).strip()
    if re.fullmatch(r"\d+\.0", s):  # 110000.0 from spreadsheets
        s = s[:-2]
    return s


def _years(col: pd.Series, where: str, column: str) -> pd.Series:
    """The year column as integers, parsing each distinct value once; the first bad row is named."""
    idx, uniq = pd.factorize(pd.Series(col.to_numpy(dtype=object), dtype=object), use_na_sentinel=True)
    yu = np.zeros(len(uniq) + 1, dtype=np.int64)  # last entry: idx -1 (missing)
    bad_u = np.ones(len(uniq) + 1, dtype=bool)
    for j, v in enumerate(uniq):
        x = parse_number(v)
        if x is not None and np.isfinite(x) and float(x) == int(x):
            yu[j], bad_u[j] = int(x), False
    bad = np.flatnonzero(bad_u[idx])
    if bad.size:
        i = int(bad[0])
        _as_year(col.iloc[i], where, i + 2, column)  # raises, naming the row
    return pd.Series(yu[idx], index=col.index)


def _as_year(v: Any, where: str, rownum: int, column: str) -> int:
    x = parse_number(v)
    if x is None or not np.isfinite(x) or float(x) != int(x):
        raise InputError(f"row {rownum}, column '{column}': {v!r} is not a year.", where=where,
                         hint="write years as whole numbers such as 2023.")
    return int(x)


# ------------------------------------------------------------------------------------ assembling
RESERVED_UNIT = ("unit", "uCode", "code")
RESERVED_NAME = ("uName", "name", "name_zh", "name_en", "unit_name")
RESERVED_YEAR = ("year", "Time", "time")


def panel_from_wide(
    df: pd.DataFrame,
    indicators: list[str],
    *,
    denominators: list[str] | None = None,
    groups: list[str] | None = None,
    where: str | None = None,
    default_year: int | None = None,
    allow_extra: bool = False,
    ignore: list[str] | None = None,
) -> Panel:
    """Wide table (one row per unit and year) to a :class:`Panel`.

    Columns: a unit code column (``uCode``/``unit``/``code``), optional names (``uName``/``name``...),
    optional year (``Time``/``year``), group columns, denominator columns and indicator columns. Any other
    column is an error unless ``allow_extra``.
    """
    where = where or df.attrs.get("source_file", "data")
    cols = list(df.columns)
    ucol = next((c for c in RESERVED_UNIT if c in cols), None)
    if ucol is None:
        raise InputError(f"no unit code column; expected one of {', '.join(RESERVED_UNIT)} "
                         f"(columns are {', '.join(cols[:15])}).", where=where,
                         hint="add a column 'uCode' (COINr) or 'unit' holding the unit codes.")
    ycol = next((c for c in RESERVED_YEAR if c in cols), None)
    name_cols = [c for c in RESERVED_NAME if c in cols]
    denominators = list(denominators or [])
    groups = list(groups or [])
    group_cols = [c for c in cols if c in groups or c.endswith("_group")]
    missing_ind = [c for c in indicators if c not in cols]
    missing_den = [c for c in denominators if c not in cols]
    if missing_ind or missing_den:
        parts = []
        if missing_ind:
            parts.append(f"indicators in the framework but not in the data: {', '.join(missing_ind)}")
        if missing_den:
            parts.append(f"denominators not in the data: {', '.join(missing_den)}")
        raise InputError("; ".join(parts) + ".", where=where,
                         hint="add the columns to the data, or remove them from the framework.")
    known = {ucol, ycol, *name_cols, *group_cols, *indicators, *denominators, *(ignore or [])} - {None}
    extra = [c for c in cols if c not in known]
    if extra and not allow_extra:
        raise InputError(
            f"columns that are neither indicators of the framework nor unit/name/year/group/denominator "
            f"columns: {', '.join(extra[:30])}.",
            where=where,
            hint="add them to the framework (as indicators, or as Group/Denominator rows in iMeta), "
                 "name group columns '*_group', or delete them.",
        )
    if len(df) == 0:
        raise InputError("the data table has a header but no rows.", where=where,
                         hint="add one row per unit (and year), or check that this is the right file.")
    codes = normalise_unit_codes(df[ucol], where, ucol)
    if ycol is not None:
        years_col = _years(df[ycol], where, ycol)
    else:
        years_col = pd.Series([default_year if default_year is not None else 0] * len(df), index=df.index)
    key = pd.DataFrame({"unit": codes, "year": years_col})
    dup = key.duplicated(keep=False)
    if dup.any():
        rows = key[dup]
        lst = "; ".join(f"row {i + 2}: unit '{r.unit}', year {r.year}" for i, r in
                        zip(np.flatnonzero(dup.to_numpy())[:20], rows.itertuples()))
        raise InputError(f"duplicate unit-year rows: {lst}.", where=where,
                         hint="keep one row per unit and year (remove duplicates or fix the codes/years).")
    vals = parse_numeric(df, indicators, where=where)
    dens = parse_numeric(df, denominators, where=where) if denominators else None
    unit_order = list(dict.fromkeys(codes.tolist()))
    years = sorted(set(years_col.tolist()))
    ui = {u: i for i, u in enumerate(unit_order)}
    yi = {y: i for i, y in enumerate(years)}
    T, N, K = len(years), len(unit_order), len(indicators)
    rows_t = years_col.map(yi).to_numpy()
    rows_n = codes.map(ui).to_numpy()
    X = np.full((T, N, K), np.nan)
    X[rows_t, rows_n, :] = vals.to_numpy(dtype=float)
    D = None
    if dens is not None:
        D = np.full((T, N, len(denominators)), np.nan)
        D[rows_t, rows_n, :] = dens.to_numpy(dtype=float)
    units = _units_from_rows(df, codes, name_cols, group_cols, unit_order, where)
    notes = []
    if ycol is None:
        notes.append(f"data had no year column; all rows were given year {years[0]}")
    return Panel(units=units, years=years, indicators=list(indicators), values=X,
                 denominator_codes=denominators, denominators=D, notes=notes)


def _units_from_rows(df, codes, name_cols, group_cols, unit_order, where) -> pd.DataFrame:
    """Unit attributes (names, groups) from data rows; a group that changes over years is an error."""
    attrs = pd.DataFrame({"unit": codes})
    for c in name_cols + group_cols:
        attrs[c] = df[c].map(lambda v: None if v is None else str(v).strip())
    for c in group_cols:
        n = attrs.dropna(subset=[c]).groupby("unit")[c].nunique()
        bad = n[n > 1]
        if len(bad):
            raise InputError(
                f"group column '{c}' takes different values over the years for unit(s) {', '.join(bad.index[:10])}.",
                where=where, hint="a unit belongs to one group; fix the group column.")
    first = attrs.groupby("unit", sort=False).first().reindex(unit_order)
    out = pd.DataFrame(index=pd.Index(unit_order, name="unit"))
    if "uName" in first:
        out["name"] = first["uName"]
    elif "name" in first:
        out["name"] = first["name"]
    for c in ("name_zh", "name_en"):
        if c in first:
            out[c] = first[c]
    if "name" not in out:
        out["name"] = out.get("name_zh", out.get("name_en", pd.Series(unit_order, index=out.index)))
    out["name"] = out["name"].fillna(pd.Series(unit_order, index=out.index))
    for c in group_cols:
        out[c] = first[c]
    return out


def panel_from_long(
    df: pd.DataFrame,
    indicators: list[str],
    *,
    denominators: list[str] | None = None,
    where: str | None = None,
    units: pd.DataFrame | None = None,
) -> Panel:
    """Tidy ``unit, year, indicator, value`` table to a :class:`Panel` (optional ``source`` column kept)."""
    where = where or df.attrs.get("source_file", "data")
    need = ["unit", "year", "indicator", "value"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise InputError(f"long data lacks columns {', '.join(miss)} (has {', '.join(df.columns)}).",
                         where=where, hint="long data needs columns unit, year, indicator, value.")
    allowed = set(need) | {"source", "name", "name_zh", "name_en", "note", "unit_name", "flag"}
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise InputError(f"long data has unknown columns: {', '.join(extra)}.", where=where,
                         hint="allowed columns: unit, year, indicator, value, and optional source, name, note.")
    if len(df) == 0:
        raise InputError("the data table has a header but no rows.", where=where,
                         hint="add rows unit, year, indicator, value, or check that this is the right file.")
    codes = normalise_unit_codes(df["unit"], where, "unit")
    years_col = _years(df["year"], where, "year")
    ind = df["indicator"].map(lambda v: "" if v is None else unicodedata.normalize("NFKC", str(v)).strip())
    denominators = list(denominators or [])
    known = set(indicators) | set(denominators)
    unknown = sorted(set(ind) - known)
    if unknown:
        raise InputError(f"indicators in the data but not in the framework: {', '.join(unknown[:30])}.",
                         where=where, hint="add them to the framework or drop those rows.")
    values = parse_numeric(df, ["value"], where=where)["value"].to_numpy()
    key = pd.DataFrame({"unit": codes, "year": years_col, "indicator": ind})
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        idx = np.flatnonzero(dup)[:20]
        lst = "; ".join(f"row {i + 2}: ({key.unit.iat[i]}, {key.year.iat[i]}, {key.indicator.iat[i]})" for i in idx)
        raise InputError(f"duplicate unit-year-indicator rows: {lst}.", where=where,
                         hint="keep one value per unit, year and indicator.")
    present_ind = set(ind)
    missing_ind = [c for c in indicators if c not in present_ind]
    den_in_data = [d for d in denominators if d in present_ind]
    if missing_ind:
        raise InputError(f"indicators in the framework but not in the data: {', '.join(missing_ind)}.",
                         where=where, hint="add values for them or remove them from the framework.")
    unit_order = list(dict.fromkeys(codes.tolist()))
    if units is not None:
        unit_order = [u for u in units.index if u in set(unit_order)] + [u for u in unit_order if u not in set(units.index)]
    years = sorted(set(years_col.tolist()))
    ui = {u: i for i, u in enumerate(unit_order)}
    yi = {y: i for i, y in enumerate(years)}
    ci = {c: i for i, c in enumerate(indicators)}
    di = {c: i for i, c in enumerate(den_in_data)}
    T, N = len(years), len(unit_order)
    X = np.full((T, N, len(indicators)), np.nan)
    D = np.full((T, N, len(den_in_data)), np.nan) if den_in_data else None
    t = years_col.map(yi).to_numpy()
    n = codes.map(ui).to_numpy()
    is_ind = ind.isin(ci).to_numpy()
    X[t[is_ind], n[is_ind], ind[is_ind].map(ci).to_numpy()] = values[is_ind]
    if D is not None:
        is_den = ind.isin(di).to_numpy()
        D[t[is_den], n[is_den], ind[is_den].map(di).to_numpy()] = values[is_den]
    u = pd.DataFrame(index=pd.Index(unit_order, name="unit"))
    name_col = next((c for c in ("name", "unit_name", "name_zh", "name_en") if c in df.columns), None)
    if name_col:
        nm = pd.Series(df[name_col].to_numpy(), index=codes.to_numpy())
        nm = nm[~nm.index.duplicated()]
        u["name"] = nm.reindex(unit_order).to_numpy()
    else:
        u["name"] = unit_order
    cell_sources = None
    if "source" in df.columns:
        cell_sources = pd.DataFrame({"unit": codes, "year": years_col, "indicator": ind, "source": df["source"]})
    return Panel(units=u, years=years, indicators=list(indicators), values=X,
                 denominator_codes=den_in_data, denominators=D, cell_sources=cell_sources)


def is_long_table(df: pd.DataFrame) -> bool:
    return {"unit", "year", "indicator", "value"}.issubset(df.columns)


def read_units(path: str | Path) -> pd.DataFrame:
    """Units table: a code column (``code``/``unit``/``uCode``), names, group and numeric attribute columns."""
    df = read_table(path)
    where = str(path)
    ucol = next((c for c in ("code", "unit", "uCode") if c in df.columns), None)
    if ucol is None:
        raise InputError(f"units table has no code column (columns: {', '.join(df.columns)}).", where=where,
                         hint="name the unit code column 'code' (or 'unit').")
    codes = normalise_unit_codes(df[ucol], where, ucol)
    if codes.duplicated().any():
        d = codes[codes.duplicated()].unique().tolist()
        raise InputError(f"duplicate unit codes in the units table: {', '.join(d[:20])}.", where=where,
                         hint="list each unit once.")
    out = df.drop(columns=[ucol]).copy()
    out.index = pd.Index(codes.to_numpy(), name="unit")
    if "name" not in out.columns:
        for c in ("name_zh", "uName", "name_en"):
            if c in out.columns:
                out["name"] = out[c]
                break
        else:
            out["name"] = out.index
    # numeric-looking columns become numbers (population, area ...); others stay text (groups)
    for c in out.columns:
        if c in ("name", "name_zh", "name_en"):
            continue
        # a list, not Series.map: map infers a float dtype and turns the None of a non-number into NaN,
        # which silently dropped text cells of mixed columns
        parsed = [parse_number(v) for v in out[c]]
        if not any(v is None for v in parsed) and not all(np.isnan(v) for v in parsed):
            out[c] = np.array(parsed, dtype=float)
    return out


def attach_units(panel: Panel, units: pd.DataFrame, where: str = "units table") -> Panel:
    """Merge a units table into the panel; units on one side only are an error."""
    data_units = set(panel.unit_codes)
    table_units = set(units.index)
    only_data = sorted(data_units - table_units)
    only_table = sorted(table_units - data_units)
    if only_data:
        raise InputError(
            f"units in the data but not in the units table: {', '.join(only_data[:30])}"
            + (f" (and {len(only_data) - 30} more)" if len(only_data) > 30 else "") + ".",
            where=where, hint="add them to the units table or correct the codes in the data.")
    if only_table:
        raise InputError(
            f"units in the units table but without data: {', '.join(only_table[:30])}"
            + (f" (and {len(only_table) - 30} more)" if len(only_table) > 30 else "") + ".",
            where=where, hint="remove them from the units table or add their data.")
    u = units.reindex(panel.unit_codes).copy()
    for c in panel.units.columns:
        if c not in u.columns or (c == "name" and u[c].isna().all()):
            u[c] = panel.units[c]
    u.index.name = "unit"
    return Panel(units=u, years=panel.years, indicators=panel.indicators, values=panel.values,
                 denominator_codes=panel.denominator_codes, denominators=panel.denominators,
                 sources=panel.sources, notes=panel.notes, cell_sources=panel.cell_sources)
