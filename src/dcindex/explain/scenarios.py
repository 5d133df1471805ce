"""What-if: change raw indicator values for one unit or a group, rebuild with the same recipe, compare.

Changes act on the *raw* values (before denomination, imputation, treatment and normalisation), so the whole
recipe runs again: with relative methods (per-year min-max, z-scores, ranks, data-driven weights) other units'
scores move too, and the report shows every unit. A change is written

* ``"+20%"`` / ``"-5%"``: relative change of the value (``{"pct": 20}``);
* ``"+3.5"`` / ``"-2"``: absolute change in the indicator's raw unit (``{"add": 3.5}``);
* ``"*1.2"``: multiply (``{"mult": 1.2}``);  ``"=100"``: set the value (``{"set": 100}``).

Missing raw values stay missing except with ``set``. A change that makes a value negative although every
observed value of the indicator is >= 0 (counts, amounts, shares) is refused, or with ``negative="clip"``
set to 0 with a warning. Units: ``units=[codes or names]``, or ``where`` = a
units-table filter ``{"hub": "supply"}`` / ``{"region4": ["West", "Central"]}`` / ``"hub=supply"`` /
``"region4=West,Central;hub=supply"`` (conditions joined by ``;`` must all hold), or a boolean mask. Years:
the last year by default, ``years="all"`` or a list.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError
from dcindex.explain._base import as_result, fmt, resolve_node, resolve_unit, resolve_year, signed, unit_name
from dcindex.explain._results import text_table, write_outputs

_CHANGE_RE = re.compile(r"^\s*(?P<op>[+\-*=x×])?\s*(?P<num>[0-9]*\.?[0-9]+(?:[eE][+\-]?[0-9]+)?)\s*(?P<pct>%)?\s*$")


@dataclass(frozen=True)
class Change:
    indicator: str
    kind: str  # pct | add | mult | set
    amount: float

    def apply(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "pct":
            return x * (1.0 + self.amount / 100.0)
        if self.kind == "add":
            return x + self.amount
        if self.kind == "mult":
            return x * self.amount
        return np.full_like(x, self.amount)

    def __str__(self) -> str:
        return {"pct": f"{self.amount:+g}%", "add": f"{self.amount:+g}", "mult": f"*{self.amount:g}",
                "set": f"={self.amount:g}"}[self.kind]


def parse_change(indicator: str, spec: Any) -> Change:
    """A :class:`Change` from ``"+20%"``, ``"-3"``, ``"*1.2"``, ``"=100"``, a number (absolute change) or a dict."""
    if isinstance(spec, Change):
        return spec
    if isinstance(spec, dict):
        if len(spec) != 1 or next(iter(spec)) not in ("pct", "add", "mult", "set"):
            raise InputError(f"change of '{indicator}': {spec!r} is not a change.",
                             hint="use one key of pct, add, mult, set, e.g. {'pct': 20}.")
        kind, amt = next(iter(spec.items()))
        return Change(indicator, kind, float(amt))
    if isinstance(spec, (int, float, np.integer, np.floating)) and not isinstance(spec, bool):
        return Change(indicator, "add", float(spec))
    m = _CHANGE_RE.match(str(spec))
    if not m:
        raise InputError(f"change of '{indicator}': '{spec}' is not understood.",
                         hint="write +20% or -5% (relative), +3.5 (absolute, raw units), *1.2 (multiply) or "
                              "=100 (set).")
    op, num, pct = m.group("op") or "+", float(m.group("num")), m.group("pct")
    if op in "*x×":
        if pct:
            raise InputError(f"change of '{indicator}': '{spec}' mixes * and %.", hint="write *1.2 or +20%.")
        return Change(indicator, "mult", num)
    if op == "=":
        return Change(indicator, "set", num)
    sign = -1.0 if op == "-" else 1.0
    return Change(indicator, "pct" if pct else "add", sign * num)


def parse_changes(changes: Any) -> list[Change]:
    """Dict ``{indicator: spec}``, list of ``"indicator=spec"`` strings or of :class:`Change`."""
    if isinstance(changes, dict):
        return [parse_change(k, v) for k, v in changes.items()]
    out = []
    for c in changes:
        if isinstance(c, Change):
            out.append(c)
            continue
        s = str(c)
        if "=" not in s:
            raise InputError(f"change '{s}' has no indicator.", hint="write INDICATOR=+20% (or INDICATOR==100 to set).")
        k, v = s.split("=", 1)
        out.append(parse_change(k.strip(), v))
    return out


def select_units(result, units=None, where=None) -> np.ndarray:
    """Boolean mask over the result's units from codes/names and/or a units-table filter (both must hold)."""
    N = len(result.unit_codes)
    mask = np.ones(N, dtype=bool)
    if units is not None:
        if isinstance(units, (str, int)):
            units = [units]
        m = np.zeros(N, dtype=bool)
        for u in units:
            m[resolve_unit(result, u)[0]] = True
        mask &= m
    if where is not None:
        mask &= _where_mask(result, where)
    return mask


def _where_mask(result, where) -> np.ndarray:
    U = result.units
    if isinstance(where, (np.ndarray, pd.Series, list)) and len(where) == len(U) and \
            all(isinstance(x, (bool, np.bool_)) for x in list(where)):
        return np.asarray(where, dtype=bool)
    if isinstance(where, str):
        conds = {}
        for part in [p for p in where.split(";") if p.strip()]:
            if "=" not in part:
                raise InputError(f"filter '{part}' is not COLUMN=VALUE.",
                                 hint="write e.g. hub=supply or region4=West,Central (join conditions with ';').")
            col, vals = part.split("=", 1)
            conds[col.strip().strip("=").strip()] = [v.strip().strip("'\"") for v in vals.lstrip("=").split(",")]
        where = conds
    if not isinstance(where, dict):
        raise InputError(f"cannot use {type(where).__name__} as a unit filter.",
                         hint="pass a dict {column: value or [values]}, a string 'column=value' or a boolean mask.")
    mask = np.ones(len(U), dtype=bool)
    for col, vals in where.items():
        if col not in U.columns:
            cols = [c for c in U.columns if c not in ("name", "name_zh", "name_en")]
            raise InputError(f"the units table has no column '{col}'.", hint=f"filter on one of: {', '.join(cols)}.")
        vals = vals if isinstance(vals, (list, tuple, set)) else [vals]
        colv = U[col].astype(object).map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else v)
        want = {str(v) for v in vals}
        m = colv.map(lambda v: v is not None and (str(v) in want or _num_eq(v, want))).to_numpy(dtype=bool)
        if not m.any():
            have = sorted({str(v) for v in colv.dropna().unique()})[:15]
            raise InputError(f"no unit has {col} in {sorted(want)}.", hint=f"values of '{col}' are: {', '.join(have)}.")
        mask &= m
    return mask


def _num_eq(v, want) -> bool:
    try:
        return any(float(v) == float(w) for w in want)
    except (TypeError, ValueError):
        return False


def _years(result, years) -> list[int]:
    if years is None:
        return [len(result.years) - 1]
    if isinstance(years, str) and years.lower() == "all":
        return list(range(len(result.years)))
    if isinstance(years, (int, np.integer, str)):
        years = [years]
    return [resolve_year(result, y) for y in years]


@dataclass
class WhatIf:
    """Scores, ranks and group gaps before and after the changes; ``after`` is the rebuilt result."""

    before: Any
    after: Any
    changes: list[Change]
    applied: pd.DataFrame  # unit, year, indicator, change, before, after, clipped
    scores: pd.DataFrame  # unit, name, year, node, score_before, score_after, delta, rank_before, rank_after
    groups: pd.DataFrame | None
    node: str
    selected: list[str]
    notes: list[str] = field(default_factory=list)

    def summary(self, top: int = 15) -> str:
        ch = ", ".join(f"{c.indicator} {c}" for c in self.changes)
        yrs = sorted(self.applied["year"].unique()) if len(self.applied) else []
        lines = [f"What-if: {ch} for {len(self.selected)} unit(s) in {', '.join(map(str, yrs)) or '—'} "
                 f"({len(self.applied)} values changed); rebuilt with the same recipe",
                 f"  node: {self.node}"]
        sc = self.scores[self.scores["node"] == self.node]
        last = sc[sc["year"] == sc["year"].max()]
        show = last.reindex(last["delta"].abs().sort_values(ascending=False).index)
        lines.append(f"  largest score changes ({int(sc['year'].max()) if len(sc) else ''}):")
        lines += text_table(show, [("unit", "unit", None), ("name", "name", None),
                                   ("score_before", "before", fmt), ("score_after", "after", fmt),
                                   ("delta", "change", signed),
                                   ("rank_before", "rank", _ri), ("rank_after", "new rank", _ri),
                                   ("selected", "changed", lambda v: "yes" if v else "")], indent="    ",
                            max_rows=top)
        if self.groups is not None:
            lines.append("  groups:")
            lines += text_table(self.groups, [("group", "group", None), ("n", "n", lambda v: str(int(v))),
                                              ("mean_before", "mean before", fmt), ("mean_after", "mean after", fmt),
                                              ("change", "change", signed), ("gap_before", "gap to top before", signed),
                                              ("gap_after", "gap to top after", signed)], indent="    ")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_dir(self, path: str | Path) -> Path:
        meta = {"node": self.node, "changes": [{"indicator": c.indicator, "kind": c.kind, "amount": c.amount}
                                               for c in self.changes],
                "selected_units": self.selected, "notes": self.notes}
        return write_outputs(path, {"whatif_scores": self.scores, "whatif_applied": self.applied,
                                    "whatif_groups": self.groups}, {"whatif": meta}, self.summary(top=50))


def _ri(v) -> str:
    return "—" if v is None or pd.isna(v) else str(int(v))


def whatif(result, changes, *, units=None, where=None, years=None, node=None, by: str | None = None,
           reference: str | None = None, negative: str = "error") -> WhatIf:
    """Apply ``changes`` to the raw values of the selected units and years, rebuild, compare (module doc).

    ``by``: a units-table column for group means and gaps (to ``reference`` group, default the group with the
    highest mean before the change). ``negative``: what to do when a change makes a value negative although
    every observed value of that indicator is >= 0 -- ``"error"`` (default: refuse, InputError) or ``"clip"``
    (set it to 0; a UserWarning and a note say so).
    """
    result = as_result(result)
    node = resolve_node(result, node)
    fw = result.framework
    ch = parse_changes(changes)
    if not ch:
        raise InputError("no changes given.", hint="give at least one change, e.g. {'broadband': '+20%'}.")
    for c in ch:
        if c.indicator not in fw.indicators:
            raise InputError(f"'{c.indicator}' is not an indicator of the framework.",
                             hint=f"indicators are: {', '.join(fw.indicators[:25])}.")
    mask = select_units(result, units, where)
    if not mask.any():
        raise InputError("the selection contains no unit.", hint="check --unit / --where.")
    if negative not in ("error", "clip"):
        raise InputError(f"negative={negative!r} is not an option.",
                         hint="use negative='error' (refuse changes that make non-negative data negative) or 'clip' "
                              "(set such values to 0 with a warning).")
    ts = _years(result, years)
    V = result.panel.values.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN indicators count as non-negative
        nonneg = ~(np.nanmin(np.where(np.isnan(V), np.inf, V), axis=(0, 1)) < 0)
    clipped: list[str] = []
    rows = []
    notes = []
    skipped = 0
    sel = np.flatnonzero(mask)
    for c in ch:
        k = fw.indicators.index(c.indicator)
        for t in ts:
            old = V[t, sel, k]
            new = c.apply(old)
            if c.kind != "set":
                skipped += int(np.isnan(old).sum())
            neg = ~np.isnan(new) & (new < 0)
            if nonneg[k] and neg.any():
                if negative == "error":
                    ex = ", ".join(f"{result.unit_codes[sel[i]]} {result.years[t]}: {old[i]:,.6g} -> {new[i]:,.6g}"
                                   for i in np.flatnonzero(neg)[:3])
                    raise InputError(
                        f"the change {c.indicator} {c} makes {int(neg.sum())} raw value(s) negative ({ex}), but every "
                        f"observed value of '{c.indicator}' is >= 0, so a negative value is not a possible state of "
                        f"the data and the rebuilt index would not mean anything.",
                        hint="use a smaller decrease (a relative decrease of at most 100% keeps values >= 0), set "
                             "a value with '=0', or pass negative='clip' (CLI --clip-negative) to set such values to 0 "
                             "with a warning.")
                clipped.append(f"{c.indicator} {c}: {int(neg.sum())} value(s) in {result.years[t]}")
                new = np.where(neg, 0.0, new)
            V[t, sel, k] = new
            for n_, o, nw, cl in zip(sel, old, new, neg):
                if not (np.isnan(o) and np.isnan(nw)):
                    rows.append({"unit": result.unit_codes[n_], "year": result.years[t], "indicator": c.indicator,
                                 "change": str(c), "before": o, "after": nw, "clipped": bool(cl and nonneg[k])})
    if clipped:
        msg = ("values clipped to 0 because the change would make them negative although the indicator's data are "
               "non-negative: " + "; ".join(clipped) + ".")
        warnings.warn(msg, UserWarning, stacklevel=2)
        notes.append("WARNING: " + msg)
    if skipped:
        notes.append(f"{skipped} selected value(s) are missing and stay missing (use '=value' to set them).")
    applied = pd.DataFrame(rows, columns=["unit", "year", "indicator", "change", "before", "after", "clipped"])
    after = result.rebuild(data=result.panel.with_values(V))
    # scores of the node and its children, every year
    nodes = [node] + ([] if fw.nodes[node].is_indicator else fw.children(node))
    recs = []
    for nd in nodes:
        j = result.node_index(nd)
        jb = after.node_index(nd)
        for t, y in enumerate(result.years):
            recs.append(pd.DataFrame({
                "unit": result.unit_codes, "name": [unit_name(result, u) for u in result.unit_codes], "year": y,
                "node": nd, "score_before": result.scores_array[t, :, j], "score_after": after.scores_array[t, :, jb],
                "rank_before": result.ranks_array[t, :, j], "rank_after": after.ranks_array[t, :, jb],
                "selected": mask}))
    scores = pd.concat(recs, ignore_index=True)
    scores["delta"] = scores["score_after"] - scores["score_before"]
    scores["rank_change"] = scores["rank_before"] - scores["rank_after"]
    groups = None
    if by is not None:
        groups = group_gaps(result, after, by, node=node, year=result.years[ts[-1]], reference=reference)
    return WhatIf(before=result, after=after, changes=ch, applied=applied, scores=scores, groups=groups, node=node,
                  selected=[result.unit_codes[i] for i in sel], notes=notes)


def group_gaps(before, after, by: str, node: str, year: int, reference: str | None = None) -> pd.DataFrame:
    """Group means of ``node`` in ``year`` before and after, and each group's gap to the reference group."""
    if by not in before.units.columns:
        cols = [c for c in before.units.columns if c not in ("name", "name_zh", "name_en")]
        raise InputError(f"group column '{by}' is not in the units table.", hint=f"use one of: {', '.join(cols)}.")
    t = before.years.index(year)
    g = before.units[by].astype(object).to_numpy()
    b = pd.Series(before.scores_array[t, :, before.node_index(node)])
    a = pd.Series(after.scores_array[t, :, after.node_index(node)])
    df = pd.DataFrame({"group": g, "before": b, "after": a}).dropna(subset=["group"])
    gm = df.groupby("group", sort=True).agg(n=("before", "size"), mean_before=("before", "mean"),
                                            mean_after=("after", "mean")).reset_index()
    gm["change"] = gm["mean_after"] - gm["mean_before"]
    if reference is None:
        reference = gm.loc[gm["mean_before"].idxmax(), "group"]
    if reference not in set(gm["group"]):
        raise InputError(f"reference group '{reference}' is not a value of '{by}'.",
                         hint=f"use one of: {', '.join(map(str, gm['group']))}.")
    ref = gm.set_index("group").loc[reference]
    gm["gap_before"] = gm["mean_before"] - ref["mean_before"]
    gm["gap_after"] = gm["mean_after"] - ref["mean_after"]
    gm["reference"] = reference
    gm["year"] = year
    return gm
