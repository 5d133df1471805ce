"""Two editions of an index: split each unit's published change into data revision, method change and real
change over time, so a changelog can say which it was.

An *edition* is a build: data (the panel: raw values, denominators, units) and method (framework and recipe).
Comparing the old edition's score of year ``start`` with the new edition's score of year ``end`` involves three
factors: **data** (old -> new vintage), **method** (old -> new framework and recipe) and **time** (start -> end).
The value of a combination is the unit's score in a build of that data with that method, read at that year:

    v(D, M, T) = score of the unit in build(data_D, method_M) at year (end if T else start)

so besides the two editions two cross builds are made: new data with the old method and old data with the new
method. The three parts are the Shapley values of this three-player game (each is the average of its effect
over the 6 orders of applying the changes), so ``data_revision + method_change + real_change`` equals the
published change exactly.

When the two data vintages have different years, statistics over several years (pooled normalisation, weights
or treatment; linear imputation) let the added or removed years change the scores of the years both have.
``data_revision`` is then split into ``value_revision`` (the data factor's Shapley value in the same game with
the vintages replaced by their restrictions to the common years: revised values only) and
``reference_set_change`` (the rest: the effect of the changed year set), adding up exactly. With data and
method merged, ``reference_set_change = (v(new) - v(A, new method)) + (v(B, old method) - v(old))`` with A, B
the new/old data restricted to the common years. Fallbacks, recorded per unit in ``path``:

* a cross build is impossible (e.g. the new framework has an indicator the old data lack): data and method
  are merged into one factor ``revision`` (Shapley over revision and time);
* the end year is not in the old data (the new edition adds a year) or the start year is no longer in the
  new data: the path is sequential: revision at the year both vintages have (Shapley over data and method),
  then the real change measured in the edition that has both years.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import permutations
from math import factorial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex.data import Panel
from dcindex.errors import DcindexError, InputError
from dcindex.explain._base import as_result, fmt, signed
from dcindex.explain._results import text_table, write_outputs


def _shapley_small(v, players: list[str]) -> dict[str, float]:
    """Exact Shapley values by the definition (average marginal contribution over all orders); few players."""
    out = {p: 0.0 for p in players}
    for order in permutations(players):
        have: frozenset = frozenset()
        for p in order:
            out[p] += v(have | {p}) - v(have)
            have = have | {p}
    n = factorial(len(players))
    return {p: x / n for p, x in out.items()}


def align_panel(panel: Panel, fw) -> Panel:
    """The panel restricted/reordered to the framework's indicators (InputError when some are missing)."""
    missing = [k for k in fw.indicators if k not in panel.indicators]
    if missing:
        raise InputError(f"the data lack indicators of the framework: {', '.join(missing[:20])}.",
                         hint="these editions cannot be crossed; data and method changes are reported together.")
    if list(panel.indicators) == list(fw.indicators):
        return panel
    idx = [panel.indicators.index(k) for k in fw.indicators]
    return Panel(units=panel.units, years=list(panel.years), indicators=list(fw.indicators),
                 values=panel.values[..., idx], denominator_codes=list(panel.denominator_codes),
                 denominators=panel.denominators, sources=dict(panel.sources), notes=list(panel.notes),
                 cell_sources=panel.cell_sources)


def _same_method(a, b) -> bool:
    return a.recipe.to_plain() == b.recipe.to_plain() and a.framework.to_dict() == b.framework.to_dict()


def _same_data(a, b) -> bool:
    return a.panel.fingerprint() == b.panel.fingerprint()


def describe_method_change(old, new) -> list[str]:
    """Plain-language list of what differs between the two methods (recipe steps, indicators, weights)."""
    out = []
    ro, rn = old.recipe.to_plain(), new.recipe.to_plain()
    for k in rn:
        if ro.get(k) != rn.get(k):
            out.append(f"recipe step '{k}': {ro.get(k)} -> {rn.get(k)}")
    fo, fn = old.framework, new.framework
    added = [k for k in fn.indicators if k not in fo.nodes]
    removed = [k for k in fo.indicators if k not in fn.nodes]
    if added:
        out.append("indicators added: " + ", ".join(added))
    if removed:
        out.append("indicators removed: " + ", ".join(removed))
    wo = fo.effective_weights()
    wn = fn.effective_weights()
    changed = [c for c in wn.index if c in wo.index and abs(wo[c] - wn[c]) > 1e-12]
    if changed:
        out.append("nominal effective weights changed for: " + ", ".join(changed[:15])
                   + (" ..." if len(changed) > 15 else ""))
    moved = [c for c in fn.nodes if c in fo.nodes and fn.parent(c) != fo.parent(c)]
    if moved:
        out.append("nodes moved to another parent: " + ", ".join(moved[:15]))
    return out


@dataclass
class EditionComparison:
    """Per-unit split of the change between two editions (``table``) and what changed (``notes``)."""

    node_old: str
    node_new: str
    start: int
    end: int
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    method_changes: list[str] = field(default_factory=list)
    data_changed: bool = True
    years_added: list[int] = field(default_factory=list)
    years_removed: list[int] = field(default_factory=list)
    year_split: bool = False  # reference_set_change separated from value_revision

    def waterfall(self, unit: str) -> pd.DataFrame:
        """Waterfall-ready steps for one unit: old score, data revision, method change, real change, new score."""
        hit = self.table[self.table["unit"] == str(unit)]
        if not len(hit):
            raise InputError(f"unit '{unit}' is not in this comparison.",
                             hint="use a unit code present in both editions.")
        r = hit.iloc[0]
        steps = [("start", f"old edition {self.start}", "start", r["old_score"])]
        split = self.year_split and pd.notna(r["reference_set_change"])
        if pd.notna(r["data_revision"]):
            if split:
                steps += [("value_revision", "data revision (values of common years)", "step", r["value_revision"]),
                          ("reference_set_change", "years added/removed (reference set)", "step",
                           r["reference_set_change"])]
            else:
                steps += [("data_revision", "data revision", "step", r["data_revision"])]
            steps += [("method_change", "method change", "step", r["method_change"])]
        elif split:
            steps += [("revision", "data and method revision (common years)", "step",
                       r["revision"] - r["reference_set_change"]),
                      ("reference_set_change", "years added/removed (reference set)", "step",
                       r["reference_set_change"])]
        else:
            steps += [("revision", "data and method revision", "step", r["revision"])]
        steps += [("real_change", "real change over time", "step", r["real_change"]),
                  ("end", f"new edition {self.end}", "end", r["new_score"])]
        rows, run = [], 0.0
        for i, (code, label, kind, v) in enumerate(steps):
            if kind == "start":
                run = v
                rows.append({"step": i, "code": code, "label": label, "kind": kind, "value": v, "base": 0.0,
                             "cumulative": v})
            elif kind == "step":
                rows.append({"step": i, "code": code, "label": label, "kind": kind, "value": v, "base": run,
                             "cumulative": run + v})
                run += v
            else:
                rows.append({"step": i, "code": code, "label": label, "kind": kind, "value": v, "base": 0.0,
                             "cumulative": v})
        return pd.DataFrame(rows)

    def summary(self, top: int = 10) -> str:
        t = self.table.dropna(subset=["change"])
        lines = [f"Editions compared: old {self.node_old} ({self.start}) -> new {self.node_new} ({self.end}), "
                 f"{len(t)} units in both",
                 f"  data changed: {'yes' if self.data_changed else 'no'}"
                 + (f" ({_years_text(self.years_added, self.years_removed)})"
                    if self.years_added or self.years_removed else "") + "; method changes: "
                 + ("; ".join(self.method_changes) if self.method_changes else "none")]
        if len(t):
            counts = t["main_factor"].value_counts()
            lines.append("  main reason for the change: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            big = t.reindex(t["change"].abs().sort_values(ascending=False).index)
            lines.append(f"  largest changes (top {min(top, len(big))}):")
            lines += text_table(big, [("unit", "unit", None), ("name", "name", None),
                                      ("old_score", "old", fmt), ("new_score", "new", fmt),
                                      ("change", "change", signed), ("data_revision", "data", signed)]
                                + ([("value_revision", "values", signed), ("reference_set_change", "years", signed)]
                                   if self.year_split else [])
                                + [("method_change", "method", signed), ("revision", "data+method", signed),
                                   ("real_change", "real", signed), ("main_factor", "main", None)],
                                indent="    ", max_rows=top)
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_dir(self, path: str | Path) -> Path:
        meta = {"node_old": self.node_old, "node_new": self.node_new, "start": self.start, "end": self.end,
                "data_changed": self.data_changed, "years_added": self.years_added,
                "years_removed": self.years_removed, "year_split": self.year_split,
                "method_changes": self.method_changes, "notes": self.notes}
        return write_outputs(path, {"editions": self.table}, {"editions": meta}, self.summary(top=50))


def compare_editions(old: Any, new: Any, start: int | None = None, end: int | None = None,
                     node: str | None = None) -> EditionComparison:
    """Split each unit's change from ``old`` (year ``start``, default its last year) to ``new`` (year ``end``,
    default its last year) into data revision, method change and real change (see the module docstring)."""
    old, new = as_result(old), as_result(new)
    s = int(start) if start is not None else old.years[-1]
    e = int(end) if end is not None else new.years[-1]
    if s not in old.years:
        raise InputError(f"start year {s} is not in the old edition (years {old.years[0]}-{old.years[-1]}).",
                         hint="choose a start year of the old edition.")
    if e not in new.years:
        raise InputError(f"end year {e} is not in the new edition (years {new.years[0]}-{new.years[-1]}).",
                         hint="choose an end year of the new edition.")
    node_new = node or new.framework.root
    node_old = node or old.framework.root
    for res, nd, lab in ((new, node_new, "new"), (old, node_old, "old")):
        if nd not in res.framework.nodes:
            raise InputError(f"node '{nd}' is not in the {lab} edition's framework.",
                             hint="compare a node both editions have (default: each edition's index).")
    notes: list[str] = []
    same_data, same_method = _same_data(old, new), _same_method(old, new)
    builds: dict[tuple[int, int], Any] = {(0, 0): old, (1, 1): new}
    crossed = True
    if same_data:
        builds[(1, 0)], builds[(0, 1)] = old, new
    elif same_method:
        builds[(1, 0)], builds[(0, 1)] = new, old
    else:
        from dcindex.build import build

        try:
            builds[(1, 0)] = build(align_panel(new.panel, old.framework), old.framework, old.recipe)
            builds[(0, 1)] = build(align_panel(old.panel, new.framework), new.framework, new.recipe)
        except DcindexError as exc:
            crossed = False
            notes.append("data and method changes cannot be separated (the old data cannot be built with the new "
                         f"method or vice versa: {exc.message.rstrip('.')}); they are reported together as 'revision'.")

    # different year sets: intermediate vintages to separate the effect of the added/removed years (through pooled
    # statistics and cross-year imputation) from revised values of the years both vintages have
    common = [y for y in new.years if y in set(old.years)]
    added = [y for y in new.years if y not in set(old.years)]
    removed = [y for y in old.years if y not in set(new.years)]
    side: dict[tuple[str, int], Any] = {}
    split_years = bool((added or removed) and common and not same_data)
    if split_years:
        from dcindex.build import build

        sub = {"A": (restrict_years(new.panel, common), new, 1), "B": (restrict_years(old.panel, common), old, 0)}
        for tag, (pnl, full, own) in sub.items():
            for m in ((0, 1) if crossed else (own,)):
                if same_method and (tag, 1 - m) in side:
                    side[(tag, m)] = side[(tag, 1 - m)]
                    continue
                if pnl is full.panel and (m == own or same_method):
                    side[(tag, m)] = full
                    continue
                ed = new if m == 1 else old
                try:
                    side[(tag, m)] = build(align_panel(pnl, ed.framework), ed.framework, ed.recipe)
                except DcindexError as exc:
                    notes.append(f"the effect of the added/removed years could not be separated (building the "
                                 f"{'new' if tag == 'A' else 'old'} data of the common years with the "
                                 f"{'new' if m == 1 else 'old'} method failed: {exc.message.rstrip('.')}).")
                    side.clear()
                    break
            if not side:
                break
        split_years = bool(side)

    def score(d, m: int, year: int, unit: str) -> float:
        b = builds.get((d, m)) if d in (0, 1) else side.get((d, m))
        if b is None or year not in b.years or unit not in b.unit_codes:
            return np.nan
        nd = node_new if m == 1 else node_old
        if nd not in b.framework.nodes:
            return np.nan
        return float(b.scores_array[b.years.index(year), b.unit_codes.index(unit), b.node_index(nd)])

    def rank(b, year, unit, nd):
        if year not in b.years or unit not in b.unit_codes:
            return np.nan
        return b.ranks_array[b.years.index(year), b.unit_codes.index(unit), b.node_index(nd)]

    units = list(dict.fromkeys(list(new.unit_codes) + [u for u in old.unit_codes if u not in new.unit_codes]))
    rows = []
    for u in units:
        vals = {(d, m, t): score(d, m, e if t else s, u) for d in (0, 1) for m in (0, 1) for t in (0, 1)}
        split = None
        if split_years:
            split = _YearSplit(a={(m, t): score("A", m, e if t else s, u) for m in (0, 1) for t in (0, 1)},
                               b={(m, t): score("B", m, e if t else s, u) for m in (0, 1) for t in (0, 1)},
                               old={(m, t): vals[(0, m, t)] for m in (0, 1) for t in (0, 1)},
                               new={(m, t): vals[(1, m, t)] for m in (0, 1) for t in (0, 1)})
        parts, path = _decompose(vals, crossed, split)
        old_s, new_s = vals[(0, 0, 0)], vals[(1, 1, 1)]
        name = (new.units["name"].get(u) if u in new.unit_codes else old.units["name"].get(u))
        data = parts.get("data", np.nan)
        revision = parts.get("revision", data + parts.get("method", np.nan))
        if not parts:
            value_rev, ref = np.nan, np.nan
        elif split is None:  # same years in both vintages: all of the data part is revised values
            value_rev, ref = data, (0.0 if pd.notna(revision) else np.nan)
        elif "data" in parts:
            value_rev = parts.get("value_revision", np.nan)
            ref = data - value_rev
        else:
            value_rev, ref = np.nan, parts.get("reference_set", np.nan)
        row = {"unit": u, "name": name, "old_year": s, "new_year": e, "old_score": old_s, "new_score": new_s,
               "change": new_s - old_s, "data_revision": data, "value_revision": value_rev,
               "reference_set_change": ref, "method_change": parts.get("method", np.nan),
               "revision": revision, "real_change": parts.get("time", np.nan),
               "old_rank": rank(old, s, u, node_old), "new_rank": rank(new, e, u, node_new), "path": path}
        if crossed:
            cand = {"data revision": row["data_revision"], "method change": row["method_change"],
                    "real change": row["real_change"]}
            if split is not None and pd.notna(ref):
                del cand["data revision"]
                cand.update({"value revision": value_rev, "reference-set change": ref})
        else:
            cand = {"revision": row["revision"], "real change": row["real_change"]}
            if split is not None and pd.notna(ref):
                cand.update({"revision": row["revision"] - ref, "reference-set change": ref})
        finite = {k: v for k, v in cand.items() if pd.notna(v)}
        row["main_factor"] = max(finite, key=lambda k: abs(finite[k])) if finite and pd.notna(row["change"]) else ""
        rows.append(row)
    table = pd.DataFrame(rows)
    if s == e:
        notes.append(f"same year ({s}) in both editions: the real change is zero by construction.")
    gone = [u for u in old.unit_codes if u not in new.unit_codes]
    new_units = [u for u in new.unit_codes if u not in old.unit_codes]
    if gone:
        notes.append("units only in the old edition: " + ", ".join(gone[:20]))
    if new_units:
        notes.append("units only in the new edition: " + ", ".join(new_units[:20]))
    years_changed = _years_text(added, removed)
    if split_years:
        pooled = sorted(set(_pooled_steps(old.recipe)) | set(_pooled_steps(new.recipe)))
        why = ", ".join(pooled) if pooled else ("no step pooled over years in these recipes, so the effect is "
                                                  "expected to be zero")
        why = f"statistics over several years ({why})"
        notes.append(
            f"the editions have different years ({years_changed}). Years enter {why}, so adding or removing years "
            f"changes the scores of the years both editions have even where no value changed. That effect is "
            f"reported separately as reference_set_change (each vintage's data with and without the years only it "
            f"has); value_revision is the effect of revised values of the common years "
            f"{common[0]}-{common[-1]}, measured on those years alone; data_revision = value_revision + "
            f"reference_set_change" + ("" if crossed else " (here data and method are merged: revision = "
                                                          "reference_set_change + the rest)") + ".")
    elif added or removed:
        notes.append(f"the editions have different years ({years_changed}); the effect of the changed year set could "
                     f"not be separated, so data_revision includes it when the recipe pools statistics over years.")
    paths = table["path"].value_counts()
    notes.append("decomposition: " + "; ".join(f"{k} ({v} units)" for k, v in paths.items()))
    return EditionComparison(node_old=node_old, node_new=node_new, start=s, end=e, table=table, notes=notes,
                             method_changes=describe_method_change(old, new), data_changed=not same_data,
                             years_added=added, years_removed=removed, year_split=split_years)


def _years_text(added: list[int], removed: list[int]) -> str:
    parts = []
    if added:
        parts.append("the new edition adds " + ", ".join(map(str, added)))
    if removed:
        parts.append("drops " + ", ".join(map(str, removed)))
    return "; ".join(parts)


def _pooled_steps(recipe) -> list[str]:
    """Recipe steps (with overrides) that use several years, e.g. 'normalise scope: pooled' or linear imputation."""
    out = []

    def walk(x, step):
        if isinstance(x, dict):
            if x.get("scope") == "pooled":
                out.append(f"{step} scope: pooled")
            for v in x.values():
                walk(v, step)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v, step)

    def linear(x):
        if isinstance(x, dict):
            return x.get("method") == "linear" or any(linear(v) for v in x.values())
        return isinstance(x, (list, tuple)) and any(linear(v) for v in x)

    plain = recipe.to_plain()
    for step, spec in plain.items():
        walk(spec, step)
    if linear(plain.get("impute")):
        out.append("impute: linear interpolation along time")
    return list(dict.fromkeys(out))


_W3 = {0: 1 / 3, 1: 1 / 6, 2: 1 / 3}  # Shapley weight of a marginal by the size of the other two players' coalition


def _decompose(v: dict, crossed: bool, split=None) -> tuple[dict[str, float], str]:
    """Choose the decomposition the available values allow (see the module docstring).

    ``split``, when the two editions have different year sets, gives ``split(m, t)`` = the part of the data
    marginal ``v(1, m, t) - v(0, m, t)`` due to the revised values of the common years (``v(A) - v(B)``), and
    ``split_merged(t)`` = the part of the merged revision ``v(1, 1, t) - v(0, 0, t)`` due to the changed year set;
    the data part is split with the same Shapley weights as it is computed with (an Owen value), so
    ``value_revision + reference_set = data`` exactly."""
    ok = lambda *keys: all(np.isfinite(v[k]) for k in keys)  # noqa: E731
    if not ok((0, 0, 0), (1, 1, 1)):
        return {}, "not comparable (no score in one of the editions)"
    if crossed and all(np.isfinite(x) for x in v.values()):
        f = _shapley_small(lambda S: v[(int("data" in S), int("method" in S), int("time" in S))],
                           ["data", "method", "time"])
        if split is not None:
            f["value_revision"] = sum(_W3[m + t] * split.values(m, t) for m in (0, 1) for t in (0, 1))
        return f, "Shapley over data, method and time"
    merged = {(r, t): v[(r, r, t)] for r in (0, 1) for t in (0, 1)}
    if not crossed and all(np.isfinite(x) for x in merged.values()):
        f = _shapley_small(lambda S: merged[(int("revision" in S), int("time" in S))], ["revision", "time"])
        if split is not None:
            f["reference_set"] = 0.5 * (split.merged(0) + split.merged(1))
        return f, "Shapley over revision (data and method together) and time"
    # sequential paths: revision at the start year then time in the new edition, or time in the old first
    if ok((1, 1, 0)):
        rev = _revision(v, 0, crossed, split)
        if rev is not None:
            rev["time"] = v[(1, 1, 1)] - v[(1, 1, 0)]
            return rev, "sequential: revision at the start year, then real change in the new edition"
    if ok((0, 0, 1)):
        rev = _revision(v, 1, crossed, split)
        if rev is not None:
            rev["time"] = v[(0, 0, 1)] - v[(0, 0, 0)]
            return rev, "sequential: real change in the old edition, then revision at the end year"
    return {}, "not comparable (the years needed are missing)"


def _revision(v: dict, t: int, crossed: bool, split=None) -> dict[str, float] | None:
    if crossed and all(np.isfinite(v[(d, m, t)]) for d in (0, 1) for m in (0, 1)):
        f = _shapley_small(lambda S: v[(int("data" in S), int("method" in S), t)], ["data", "method"])
        if split is not None:
            f["value_revision"] = 0.5 * (split.values(0, t) + split.values(1, t))
        return f
    if np.isfinite(v[(0, 0, t)]) and np.isfinite(v[(1, 1, t)]):
        f = {"revision": v[(1, 1, t)] - v[(0, 0, t)]}
        if split is not None:
            f["reference_set"] = split.merged(t)
        return f
    return None


@dataclass
class _YearSplit:
    """Scores of one unit in the builds of the two intermediate vintages (see :func:`compare_editions`):
    ``A`` = the new data restricted to the years both vintages have, ``B`` = the old data restricted to them,
    each built with the old (m=0) and/or the new method (m=1)."""

    a: dict  # (m, t) -> score of A built with method m, at year (end if t else start)
    b: dict
    old: dict  # (m, t) -> v(0, m, t)
    new: dict  # (m, t) -> v(1, m, t)

    def values(self, m: int, t: int) -> float:
        """Part of the data marginal at (m, t) due to revised values of the common years: v(A) - v(B)."""
        return self.a.get((m, t), np.nan) - self.b.get((m, t), np.nan)

    def merged(self, t: int) -> float:
        """Part of v(1, 1, t) - v(0, 0, t) due to the changed year set: (v(1,1) - v(A,1)) + (v(B,0) - v(0,0))."""
        return (self.new[(1, t)] - self.a.get((1, t), np.nan)) + (self.b.get((0, t), np.nan) - self.old[(0, t)])


def restrict_years(panel: Panel, years: list[int]) -> Panel:
    """The panel restricted to ``years`` (in the panel's order)."""
    keep = [y for y in panel.years if y in set(years)]
    if keep == list(panel.years):
        return panel
    idx = [panel.years.index(y) for y in keep]
    cs = panel.cell_sources
    if cs is not None and "year" in cs.columns:
        cs = cs[cs["year"].astype(int).isin(keep)].reset_index(drop=True)
    return Panel(units=panel.units, years=keep, indicators=list(panel.indicators), values=panel.values[idx].copy(),
                 denominator_codes=list(panel.denominator_codes),
                 denominators=None if panel.denominators is None else panel.denominators[idx].copy(),
                 sources=dict(panel.sources), notes=list(panel.notes), cell_sources=cs)
