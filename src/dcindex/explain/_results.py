"""Small helpers shared by the result objects: plain-text tables and atomic folder output."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from dcindex.errors import InputError
from dcindex.io import atomic_write_text, write_csv, write_json


def text_table(df: pd.DataFrame, columns: list[tuple[str, str, Callable[[Any], str] | None]], indent: str = "  ",
               max_rows: int | None = None) -> list[str]:
    """Fixed-width plain-text table: ``columns`` is a list of (column, header, formatter)."""
    rows = df if max_rows is None else df.head(max_rows)
    cells = [[h for _, h, _ in columns]]
    for _, r in rows.iterrows():
        line = []
        for c, _, f in columns:
            v = r[c]
            if f is not None:
                s = f(v)
            elif isinstance(v, (float, np.floating)):
                s = "—" if not np.isfinite(v) else f"{v:,.2f}"
            else:
                s = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            line.append(s)
        cells.append(line)
    widths = [max(_width(row[j]) for row in cells) for j in range(len(columns))]
    out = []
    for i, row in enumerate(cells):
        parts = []
        for j, s in enumerate(row):
            pad = widths[j] - _width(s)
            numeric = i > 0 and _looks_numeric(s)
            parts.append(" " * pad + s if numeric else s + " " * pad)
        out.append(indent + "  ".join(parts).rstrip())
    if max_rows is not None and len(df) > max_rows:
        out.append(f"{indent}... ({len(df) - max_rows} more rows)")
    return out


def _width(s: str) -> int:
    # East Asian wide characters take two columns in a terminal
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def _looks_numeric(s: str) -> bool:
    t = s.replace(",", "").replace("+", "").replace("-", "").replace("%", "").replace(".", "").strip()
    return t.isdigit() or s == "—"


def prepare_dir(path: str | Path) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError("the output path exists and is not a folder.", where=str(out),
                         hint="choose another --out folder.")
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_outputs(path: str | Path, tables: dict[str, pd.DataFrame], meta: dict[str, Any], summary: str) -> Path:
    """Write tables as CSV, ``meta`` as JSON and the summary as text, each atomically."""
    out = prepare_dir(path)
    for name, df in tables.items():
        if df is not None:
            write_csv(out / f"{name}.csv", df)
    for name, obj in meta.items():
        write_json(out / f"{name}.json", obj)
    atomic_write_text(out / "summary.txt", summary + "\n")
    return out
