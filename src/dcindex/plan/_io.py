"""Planner output helpers on top of the shared ``dcindex.io`` (atomic writes, formula-injection guard,
deterministic XLSX): CSV with a fixed float format so that solver noise below 1e-9 prints as 0."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dcindex.io import atomic_write_bytes, atomic_write_text, neutralise_formula, write_xlsx  # noqa: F401

neutralise = neutralise_formula


def _clean_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_float_dtype(col):
            v = col.to_numpy(dtype=float, copy=True)
            v[np.abs(v) < 1e-9] = 0.0
            out[c] = v
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(neutralise)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV, '\\n' line ends, floats with 10 significant digits, text cells neutralised, atomic."""
    atomic_write_text(path, _clean_frame(df).to_csv(index=False, lineterminator="\n", float_format="%.10g"))


def write_workbook(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """All tables in one deterministic, formula-safe XLSX (dcindex.io.write_xlsx)."""
    write_xlsx(path, {k: _clean_frame(v) for k, v in sheets.items()})
