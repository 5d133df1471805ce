"""Atomic, reproducible file output for the planner.

Own small helpers because the shared ``dcindex.io`` module was not available when the planner was written;
they follow the same conventions (temporary file in the same folder + os.replace; formula-injection guard).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def neutralise(value):
    """Prefix text cells that a spreadsheet would run as a formula (= + - @) with an apostrophe."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV, '\\n' line ends, floats with 10 significant digits (tiny solver noise shown as 0)."""
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_float_dtype(col):
            v = col.to_numpy(dtype=float, copy=True)
            v[np.abs(v) < 1e-9] = 0.0
            out[c] = v
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(neutralise)
    atomic_write_text(path, out.to_csv(index=False, lineterminator="\n", float_format="%.10g"))
