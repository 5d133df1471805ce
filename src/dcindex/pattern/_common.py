"""Shared plumbing for the pattern analyses: input normalisation, result base class, atomic writes.

Every analysis works on a *panel*: a float DataFrame indexed by unit code (str) with one column per year
(int, ascending). :func:`as_panel` turns a dcindex build result, a long ``unit, year, score`` table or a wide
unit x year table into that form; :func:`as_groups` and :func:`as_unit_weights` align group labels and
population weights to the panel's units by explicit unit id (never by position).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError, MethodError

__all__ = ["as_panel", "as_groups", "as_unit_weights", "atomic_write_text", "Panel"]


# --------------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------------
def _unit_index(idx: pd.Index, where: str) -> pd.Index:
    out = pd.Index([str(u).strip() for u in idx], name="unit")
    if out.has_duplicates:
        dup = sorted(set(out[out.duplicated()]))[:5]
        raise InputError(f"duplicate unit codes {dup}.", where=where,
                         hint="Give each unit one row (aggregate or drop the duplicates).")
    return out


def _year_label(c: Any, where: str) -> int:
    try:
        f = float(str(c).strip())
    except ValueError:
        raise InputError(f"column {c!r} is not a year.", where=where,
                         hint="A wide table needs one column per year (e.g. 2015, 2016, ...) and units as index.")
    if not f.is_integer():
        raise InputError(f"column {c!r} is not an integer year.", where=where,
                         hint="Name year columns with integers such as 2020.")
    return int(f)


def _from_long(df: pd.DataFrame, value: str, where: str) -> pd.DataFrame:
    missing = {"unit", "year", value} - set(df.columns)
    if missing:
        raise InputError(f"long table lacks columns {sorted(missing)}.", where=where,
                         hint="Expected columns unit, year and the value column (e.g. score).")
    d = df[["unit", "year", value]].copy()
    d["unit"] = d["unit"].astype(str).str.strip()
    d["year"] = pd.to_numeric(d["year"], errors="coerce")
    if d["year"].isna().any():
        row = int(np.flatnonzero(d["year"].isna().to_numpy())[0])
        raise InputError(f"row {row}: year is not a number.", where=f"{where}, column year",
                         hint="Fill in the year as an integer.")
    d["year"] = d["year"].astype(int)
    if d.duplicated(["unit", "year"]).any():
        row = d[d.duplicated(["unit", "year"], keep=False)].iloc[0]
        raise InputError(f"unit {row['unit']} has several rows for year {row['year']}.", where=where,
                         hint="Filter the table to one node/variable (e.g. --node) so each unit-year appears once.")
    wide = d.pivot(index="unit", columns="year", values=value)
    return wide


def _numeric(wide: pd.DataFrame, where: str) -> pd.DataFrame:
    out = pd.DataFrame(index=wide.index, columns=wide.columns, dtype=float)
    for c in wide.columns:
        col = pd.to_numeric(wide[c], errors="coerce")
        bad = col.isna() & wide[c].notna()
        if bad.any():
            u = wide.index[bad.to_numpy()][0]
            raise InputError(f"unit {u}, year {c}: value {wide.loc[u, c]!r} is not a number.", where=where,
                             hint="Use plain numbers (decimal point) and leave missing values empty.")
        out[c] = col.astype(float)
    return out


@dataclass(frozen=True)
class Panel:
    """A unit x year table with its unit attributes and a label (node or variable name)."""

    values: pd.DataFrame  # index unit (str), columns year (int ascending), float
    units: pd.DataFrame  # index unit (str): names, groups, numeric attributes (may be empty)
    label: str = "value"
    notes: tuple[str, ...] = ()

    @property
    def years(self) -> list[int]:
        return [int(c) for c in self.values.columns]


def _pick_root(scores: pd.DataFrame, where: str) -> str:
    """The node to analyse when none is given: the single node of the top level (dcindex and COINr number
    levels from 1 = indicators upwards, so the index is the only node of the highest level)."""
    per_level = scores.groupby("level", observed=True)["node"].unique().sort_index()
    if len(per_level) and len(per_level.iloc[-1]) == 1:
        return str(per_level.iloc[-1][0])
    raise InputError("cannot tell which node is the index (root).", where=where,
                     hint=f"Name it with node=... / --node; nodes present: {sorted(map(str, scores['node'].unique()))[:12]}.")


def as_panel(obj: Any, node: str | None = None, units: pd.DataFrame | None = None,
             value: str = "score", where: str = "input", name: str | None = None) -> Panel:
    """Normalise a build result, a long table or a wide unit x year table to a :class:`Panel`.

    * build result: an object with ``scores`` (long: unit, year, node, level, score) and ``units``; ``node``
      defaults to ``result.framework.root``.
    * long DataFrame with columns ``unit, year, <value>`` (and optionally ``node``).
    * wide DataFrame indexed by unit with one column per year.
    ``name`` overrides the label (default: the node, a DataFrame's ``attrs["label"]`` or "value").
    Units are sorted by code, so results (including seeded random draws) do not depend on the row order of
    the input. The caller's objects are never modified.
    """
    notes: list[str] = []
    if isinstance(obj, Panel):
        return obj
    if hasattr(obj, "scores") and hasattr(obj, "units") and not isinstance(obj, pd.DataFrame):
        scores = obj.scores
        if node is None:
            fw = getattr(obj, "framework", None)
            node = getattr(fw, "root", None) if fw is not None else None
        if node is None:
            node = _pick_root(scores, where)
        sub = scores[scores["node"].astype(str) == str(node)]
        if sub.empty:
            raise InputError(f"node {node!r} has no scores.", where=where,
                             hint=f"Pick one of {sorted(map(str, scores['node'].unique()))[:12]}.")
        wide = _from_long(sub, "score", where)
        label = str(node)
        u = obj.units if units is None else units
    elif isinstance(obj, pd.DataFrame):
        if {"unit", "year"} <= set(obj.columns):
            d = obj
            if "node" in d.columns:
                if node is None:
                    node = _pick_root(d, where) if "level" in d.columns else None
                    if node is None and d["node"].nunique() > 1:
                        raise InputError("the long table holds several nodes.", where=where,
                                         hint="Pass node=... to choose one.")
                if node is not None:
                    d = d[d["node"].astype(str) == str(node)]
                    if d.empty:
                        raise InputError(f"node {node!r} not found.", where=where,
                                         hint="Check the node code.")
            wide = _from_long(d, value, where)
            label = str(node) if node is not None else value
        else:
            wide = obj.copy()
            label = str(node) if node is not None else str(obj.attrs.get("label", "value"))
        u = units
    elif isinstance(obj, pd.Series):
        wide = obj.to_frame(name=0)
        label = str(obj.name) if obj.name is not None else "value"
        u = units
    else:
        raise InputError(f"cannot analyse an object of type {type(obj).__name__}.", where=where,
                         hint="Pass a build result, a long table (unit, year, score) or a unit x year DataFrame.")
    wide = wide.copy()
    wide.index = _unit_index(wide.index, where)
    wide.columns = [_year_label(c, where) for c in wide.columns]
    if len(set(wide.columns)) != len(wide.columns):
        raise InputError("a year appears twice among the columns.", where=where, hint="Keep one column per year.")
    wide = _numeric(wide, where)
    wide = wide[sorted(wide.columns)]
    wide.columns = pd.Index(wide.columns, name="year")
    # units in code order: every random draw (bootstrap, permutations) is then independent of the input row order
    wide = wide.sort_index()
    if wide.shape[0] < 3:
        raise InputError(f"only {wide.shape[0]} units; pattern analysis needs at least 3.", where=where,
                         hint="Analyse a table with more units.")
    if u is None:
        u = pd.DataFrame(index=wide.index)
    else:
        u = u.copy()
        if "unit" in u.columns:
            u = u.set_index("unit")
        u.index = _unit_index(u.index, f"{where} (units)")
        u = u.reindex(wide.index)
    allnan = wide.isna().all(axis=1)
    if allnan.any():
        notes.append(f"{int(allnan.sum())} unit(s) without any value dropped: {list(wide.index[allnan])[:8]}")
        wide = wide.loc[~allnan]
        u = u.loc[wide.index]
    return Panel(values=wide, units=u, label=str(name) if name is not None else label, notes=tuple(notes))


def _per_unit(obj: Any, panel: Panel, where: str, kind: str, default_name: str, hint_col: str,
              hint_array: str, dtype=None) -> tuple[pd.Series, str]:
    """A per-unit value given as a units column name, a Series indexed by unit, a one-column DataFrame or an
    array in unit order; returned aligned to ``panel``'s units by id (the shared lookup of groups and weights)."""
    if isinstance(obj, str):
        if obj not in panel.units.columns:
            raise InputError(f"no {kind} column {obj!r}.", where=where,
                             hint=f"{hint_col}: {list(map(str, panel.units.columns))}.")
        s, name = panel.units[obj], obj
    elif isinstance(obj, pd.DataFrame):
        if obj.shape[1] != 1:
            raise InputError(f"a {kind}s DataFrame must have exactly one column.", where=where,
                             hint="Select the column, e.g. units['region4'].")
        s, name = obj.iloc[:, 0], str(obj.columns[0])
    elif isinstance(obj, pd.Series):
        s, name = obj, (str(obj.name) if obj.name is not None else default_name)
    else:
        arr = np.asarray(obj) if dtype is None else np.asarray(obj, dtype=dtype)
        if arr.shape != (panel.values.shape[0],):
            raise InputError(f"{kind}s given as an array must have one value per unit.", where=where,
                             hint=hint_array)
        s, name = pd.Series(arr, index=panel.values.index), default_name
    s = s.copy()
    s.index = _unit_index(s.index, where)
    return s.reindex(panel.values.index), name


def as_groups(groups: Any, panel: Panel, where: str = "groups") -> pd.Series:
    """Group label (str) per unit of ``panel``, aligned by unit id.

    ``groups`` is a column name of ``panel.units``, a Series indexed by unit or a one-column DataFrame.
    Every unit must have a group (Dagum and the between/within decompositions are exhaustive partitions).
    """
    s, name = _per_unit(groups, panel, where, "group", "group", "Available unit columns",
                        "Pass a pandas Series indexed by unit code to align by id.")
    miss = s.isna() | (s.astype(str).str.strip() == "")
    if miss.any():
        raise InputError(f"{int(miss.sum())} unit(s) have no group in {name!r}: {list(s.index[miss])[:8]}.",
                         where=where, hint="Give every unit a group (or drop those units before the analysis).")
    out = s.astype(str).str.strip()
    out.name = name
    return out


def as_unit_weights(weights: Any, panel: Panel, where: str = "weights") -> pd.Series | None:
    """Positive weights (e.g. population) per unit aligned by unit id, or None."""
    if weights is None:
        return None
    s, name = _per_unit(weights, panel, where, "weight", "weight", "Name a numeric column of the units table",
                        "Pass a pandas Series indexed by unit code.", dtype=float)
    s = pd.to_numeric(s, errors="coerce").astype(float)
    bad = ~np.isfinite(s.to_numpy()) | (s.to_numpy() <= 0)
    if bad.any():
        raise InputError(f"weight {name!r} is missing, non-numeric or not positive for units "
                         f"{list(s.index[bad])[:8]}.", where=where,
                         hint="Supply a positive number (e.g. population) for every unit.")
    s.name = name
    return s


def require_positive(x: np.ndarray, what: str, where: str) -> None:
    if np.any(~np.isfinite(x)):
        raise MethodError(f"{what} needs finite values.", where=where, hint="Remove or impute missing values.")
    if np.any(x <= 0):
        raise MethodError(f"{what} needs strictly positive values (found min {np.min(x):.4g}).", where=where,
                          hint="Use a positive scale (e.g. scores on 0-100 shifted above 0, or the raw index) "
                               "for logarithmic measures.")


# --------------------------------------------------------------------------------------------------
# results and output
# --------------------------------------------------------------------------------------------------
def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (dcindex.io: temporary file in the same folder, os.replace)."""
    from dcindex.io import atomic_write_text as _write

    _write(path, text)


def jsonable(obj: Any) -> Any:
    """Convert numpy / pandas scalars and containers to plain JSON values (NaN -> None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if not math.isfinite(f) else f
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def frame_to_csv(df: pd.DataFrame) -> str:
    """Deterministic CSV text (UTF-8, '\\n' line ends, full float precision).

    Floats are written as Python's shortest round-trip ``repr`` (pandas' default when no ``float_format`` is
    given), so ``float(text) == value`` exactly; identical inputs and seed give identical bytes."""
    return df.to_csv(index=False, lineterminator="\n")


def check_out_dir(path: str | os.PathLike) -> None:
    """A clean :class:`InputError` when ``path`` or one of its parents exists and is not a folder."""
    from pathlib import Path

    p = Path(path)
    for q in (p, *p.parents):
        if q.exists():
            if not q.is_dir():
                what = "the output path" if q == p else f"a parent of the output path, {q},"
                raise InputError(f"{what} exists and is not a folder.", where=str(p),
                                 hint="Choose another --out folder (a new or existing directory, not a file).")
            return


def prepare_out_dir(path: str | os.PathLike) -> None:
    """Create the output folder ``path`` (and parents); a clean :class:`InputError` when that is impossible
    (the path or one of its parents is an existing file, or the folder cannot be created)."""
    from pathlib import Path

    check_out_dir(path)
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder: {exc.strerror or exc}.", where=str(path),
                         hint="Choose a folder you can write to with --out.")


def ols_trend(y: np.ndarray, t: np.ndarray, alpha: float = 0.05, cov_type: str = "nonrobust") -> dict[str, float]:
    """Linear trend y = a + b t by OLS (statsmodels): slope, se, CI, p-value, n."""
    import statsmodels.api as sm

    ok = np.isfinite(y) & np.isfinite(t)
    y, t = np.asarray(y, float)[ok], np.asarray(t, float)[ok]
    out = {"slope": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n": int(ok.sum())}
    if ok.sum() < 3 or np.ptp(t) == 0:
        return out
    kw = {"maxlags": 1} if cov_type == "HAC" else {}
    fit = sm.OLS(y, sm.add_constant(t - t.mean())).fit(cov_type=cov_type, cov_kwds=kw or None)
    ci = fit.conf_int(alpha)
    out.update(slope=float(fit.params[1]), se=float(fit.bse[1]), ci_low=float(ci[1, 0]), ci_high=float(ci[1, 1]),
               p_value=float(fit.pvalues[1]))
    return out
