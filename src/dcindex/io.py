"""The IO edge: atomic writes, spreadsheet exports protected against formula injection, result directories.

Every file is written to a temporary name in the target folder and renamed into place, so a crash never
leaves a half-written output. Writers are deterministic (no timestamps), so the same build gives
byte-identical files.
"""
from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from dcindex.errors import InputError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------------------- atomic IO
def _umask() -> int:
    """The process umask, read without changing it where possible (Linux), else by a brief round trip."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        # mkstemp creates the file 0600; give it the mode any new file gets (e.g. 0644 under umask 022)
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return p


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_with(path: str | Path, writer: Callable[[io.BytesIO], None]) -> Path:
    buf = io.BytesIO()
    writer(buf)
    return atomic_write_bytes(path, buf.getvalue())


def write_csv(path: str | Path, df: pd.DataFrame, *, index: bool = False) -> Path:
    """UTF-8 CSV (no BOM), '\\n' line endings, floats at full precision (round-trip)."""
    return atomic_write_text(path, df.to_csv(index=index, lineterminator="\n"))


def write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(_jsonable(obj), ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating, float)):
        f = float(o)
        return None if not np.isfinite(f) else f
    if isinstance(o, np.ndarray):
        return _jsonable(o.tolist())
    if isinstance(o, Path):
        return str(o)
    if o is pd.NA:
        return None
    return o


def write_parquet(path: str | Path, df: pd.DataFrame) -> Path:
    def w(buf):
        df.to_parquet(buf, index=False, engine="pyarrow", compression="zstd")

    return atomic_write_with(path, w)


# --------------------------------------------------------------------------------- spreadsheets
def neutralise_formula(v: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula (= + - @, tab, CR) with an apostrophe."""
    if isinstance(v, str) and v.startswith(FORMULA_PREFIXES):
        return "'" + v
    return v


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with every text cell (and header) neutralised against formula injection."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise_formula)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


_FIXED_TIME = "2000-01-01T00:00:00Z"


def write_xlsx(path: str | Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """Write sheets to XLSX atomically and deterministically (fixed timestamps, formula-injection safe)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            sname = re.sub(r"[\[\]\*\?/\\:]", "_", name)[:31]
            safe_frame(df).to_excel(xw, sheet_name=sname, index=False)
            ws = xw.sheets[sname]
            ws.freeze_panes = "A2"
    return atomic_write_bytes(path, _deterministic_zip(buf.getvalue()))


def _deterministic_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                txt = content.decode("utf-8")
                txt = re.sub(r"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)", rf"\g<1>{_FIXED_TIME}\g<2>", txt)
                txt = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{_FIXED_TIME}\g<2>", txt)
                content = txt.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, content)
    return out.getvalue()


# ------------------------------------------------------------------------------ result directories
RESULT_FILES = ("scores.csv", "scores.parquet", "units.csv", "framework.yaml", "recipe.yaml", "weights.csv",
                "treatment.csv", "inputs/data.csv", "inputs/units.csv", "index.xlsx", "manifest.json")
#: outputs that other commands derive from a result; stale once the scores change
DERIVED_OUTPUTS = ("pattern", "audit", "uncertainty", "explain", "report.html")


def write_result(result, out_dir: str | Path) -> Path:
    """Write a build result: scores.csv/.parquet, index.xlsx, manifest.json, units.csv, framework.yaml,
    recipe.yaml and inputs/ (the exact input data with per-value sources, so ``load_result`` can rebuild it).

    Refuses a folder where an output would overwrite one of the build's input files. When the folder holds an
    earlier dcindex result with different scores, the outputs derived from it (pattern/, audit/, uncertainty/,
    explain/, report.html) are removed so that nothing stale sits next to the new scores; their names are
    returned in ``result.stale_removed``.
    """
    import shutil

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("the output path exists and is not a folder.", where=str(out),
                         hint="choose another --out folder.")
    inputs = {Path(p).resolve() for p in getattr(result, "input_paths", [])}
    clash = [f for f in RESULT_FILES if (out / f).resolve() in inputs]
    if clash:
        raise InputError(
            f"writing the results here would overwrite input file(s) {', '.join(clash)}; inputs are never modified.",
            where=str(out), hint="choose an --out folder that does not hold the input files (e.g. a new 'results/').")
    result.stale_removed = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        old_manifest = out / "manifest.json"
        if old_manifest.is_file():
            try:
                old_sha = json.loads(old_manifest.read_text(encoding="utf-8")).get("scores_sha256")
            except (ValueError, OSError):
                old_sha = None
            if old_sha != result.manifest["scores_sha256"]:
                for name in DERIVED_OUTPUTS:
                    target = out / name
                    if target.is_dir():
                        shutil.rmtree(target)
                        result.stale_removed.append(name)
                    elif target.is_file():
                        target.unlink()
                        result.stale_removed.append(name)
        scores = result.scores
        write_csv(out / "scores.csv", scores)
        write_parquet(out / "scores.parquet", scores)
        write_csv(out / "units.csv", result.units.reset_index())
        atomic_write_text(out / "framework.yaml", result.framework.to_yaml())
        atomic_write_text(out / "recipe.yaml", result.recipe.to_yaml())
        write_csv(out / "weights.csv", result.weights_table())
        write_csv(out / "treatment.csv", result.treatment)
        inp = out / "inputs"
        write_csv(inp / "data.csv", result.panel.to_long(sources=True))
        write_csv(inp / "units.csv", result.panel.units.reset_index())
        write_xlsx(out / "index.xlsx", result.excel_sheets())
        write_json(out / "manifest.json", result.manifest)
    except OSError as exc:
        raise InputError(f"cannot write the results: {exc.strerror or exc} ({exc.filename or out}).",
                         where=str(out), hint="choose an --out folder you can write to.") from None
    return out


def load_result(path: str | Path):
    """Rebuild a result from its directory (framework, recipe and the saved inputs) and check that it
    reproduces the recorded scores exactly."""
    from dcindex.build import build
    from dcindex.data import panel_from_long, read_table, read_units
    from dcindex.framework import read_framework_yaml
    from dcindex.recipe import read_recipe

    d = Path(path)
    for f in ("manifest.json", "framework.yaml", "recipe.yaml", "inputs/data.csv", "inputs/units.csv"):
        if not (d / f).is_file():
            raise InputError(f"'{f}' is missing, so this is not a complete dcindex result folder.", where=str(d),
                             hint="run 'dcindex build ... --out DIR' (or 'dcindex run') to create one.")
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    fw = read_framework_yaml(d / "framework.yaml")
    recipe = read_recipe(d / "recipe.yaml")
    units = read_units(d / "inputs/units.csv")
    long = read_table(d / "inputs/data.csv")
    den = list(fw.denominators)
    panel = panel_from_long(long, fw.indicators, denominators=den, where=str(d / "inputs/data.csv"), units=units)
    from dcindex.data import attach_units

    panel = attach_units(panel, units, where=str(d / "inputs/units.csv"))
    panel.sources = dict(manifest.get("inputs_sha256", {}))
    res = build(panel, fw, recipe)
    want = manifest.get("scores_sha256")
    if want and res.manifest["scores_sha256"] != want:
        res.warnings.append(
            "rebuilding this result folder did not reproduce the recorded scores exactly (different dcindex "
            f"version? recorded {manifest.get('dcindex_version')}).")
    res.result_dir = d
    return res
