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
published change exactly. Fallbacks, recorded per unit in ``path``:

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

    def waterfall(self, unit: str) -> pd.DataFrame:
        """Waterfall-ready steps for one unit: old score, data revision, method change, real change, new score."""
        hit = self.table[self.table["unit"] == str(unit)]
        if not len(hit):
            raise InputError(f"unit '{unit}' is not in this comparison.",
                             hint="use a unit code present in both editions.")
        r = hit.iloc[0]
        steps = [("start", f"old edition {self.start}", "start", r["old_score"])]
        if pd.notna(r["data_revision"]):
            steps += [("data_revision", "data revision", "step", r["data_revision"]),
                      ("method_change", "method change", "step", r["method_change"])]
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
                 f"  data changed: {'yes' if self.data_changed else 'no'}; method changes: "
                 + ("; ".join(self.method_changes) if self.method_changes else "none")]
        if len(t):
            counts = t["main_factor"].value_counts()
            lines.append("  main reason for the change: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            big = t.reindex(t["change"].abs().sort_values(ascending=False).index)
            lines.append(f"  largest changes (top {min(top, len(big))}):")
            lines += text_table(big, [("unit", "unit", None), ("name", "name", None),
                                      ("old_score", "old", fmt), ("new_score", "new", fmt),
                                      ("change", "change", signed), ("data_revision", "data", signed),
                                      ("method_change", "method", signed), ("revision", "data+method", signed),
                                      ("real_change", "real", signed), ("main_factor", "main", None)],
                                indent="    ", max_rows=top)
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_dir(self, path: str | Path) -> Path:
        meta = {"node_old": self.node_old, "node_new": self.node_new, "start": self.start, "end": self.end,
                "data_changed": self.data_changed, "method_changes": self.method_changes, "notes": self.notes}
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

    def score(d: int, m: int, year: int, unit: str) -> float:
        b = builds.get((d, m))
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
        parts, path = _decompose(vals, crossed)
        old_s, new_s = vals[(0, 0, 0)], vals[(1, 1, 1)]
        name = (new.units["name"].get(u) if u in new.unit_codes else old.units["name"].get(u))
        row = {"unit": u, "name": name, "old_year": s, "new_year": e, "old_score": old_s, "new_score": new_s,
               "change": new_s - old_s, "data_revision": parts.get("data", np.nan),
               "method_change": parts.get("method", np.nan),
               "revision": parts.get("revision", parts.get("data", np.nan) + parts.get("method", np.nan)),
               "real_change": parts.get("time", np.nan),
               "old_rank": rank(old, s, u, node_old), "new_rank": rank(new, e, u, node_new), "path": path}
        cand = {"data revision": row["data_revision"], "method change": row["method_change"],
                "real change": row["real_change"]}
        if not crossed:
            cand = {"revision": row["revision"], "real change": row["real_change"]}
        finite = {k: v for k, v in cand.items() if pd.notna(v)}
        row["main_factor"] = max(finite, key=lambda k: abs(finite[k])) if finite and pd.notna(row["change"]) else ""
        rows.append(row)
    table = pd.DataFrame(rows)
    if s == e:
        notes.append(f"same year ({s}) in both editions: the real change is zero by construction.")
    gone = [u for u in old.unit_codes if u not in new.unit_codes]
    added = [u for u in new.unit_codes if u not in old.unit_codes]
    if gone:
        notes.append("units only in the old edition: " + ", ".join(gone[:20]))
    if added:
        notes.append("units only in the new edition: " + ", ".join(added[:20]))
    paths = table["path"].value_counts()
    notes.append("decomposition: " + "; ".join(f"{k} ({v} units)" for k, v in paths.items()))
    return EditionComparison(node_old=node_old, node_new=node_new, start=s, end=e, table=table, notes=notes,
                             method_changes=describe_method_change(old, new), data_changed=not same_data)


def _decompose(v: dict, crossed: bool) -> tuple[dict[str, float], str]:
    """Choose the decomposition the available values allow (see the module docstring)."""
    ok = lambda *keys: all(np.isfinite(v[k]) for k in keys)  # noqa: E731
    if not ok((0, 0, 0), (1, 1, 1)):
        return {}, "not comparable (no score in one of the editions)"
    if crossed and all(np.isfinite(x) for x in v.values()):
        f = _shapley_small(lambda S: v[(int("data" in S), int("method" in S), int("time" in S))],
                           ["data", "method", "time"])
        return f, "Shapley over data, method and time"
    merged = {(r, t): v[(r, r, t)] for r in (0, 1) for t in (0, 1)}
    if not crossed and all(np.isfinite(x) for x in merged.values()):
        f = _shapley_small(lambda S: merged[(int("revision" in S), int("time" in S))], ["revision", "time"])
        return f, "Shapley over revision (data and method together) and time"
    # sequential paths: revision at the start year then time in the new edition, or time in the old first
    if ok((1, 1, 0)):
        rev = _revision(v, 0, crossed)
        if rev is not None:
            rev["time"] = v[(1, 1, 1)] - v[(1, 1, 0)]
            return rev, "sequential: revision at the start year, then real change in the new edition"
    if ok((0, 0, 1)):
        rev = _revision(v, 1, crossed)
        if rev is not None:
            rev["time"] = v[(0, 0, 1)] - v[(0, 0, 0)]
            return rev, "sequential: real change in the old edition, then revision at the end year"
    return {}, "not comparable (the years needed are missing)"


def _revision(v: dict, t: int, crossed: bool) -> dict[str, float] | None:
    if crossed and all(np.isfinite(v[(d, m, t)]) for d in (0, 1) for m in (0, 1)):
        return _shapley_small(lambda S: v[(int("data" in S), int("method" in S), t)], ["data", "method"])
    if np.isfinite(v[(0, 0, t)]) and np.isfinite(v[(1, 1, t)]):
        return {"revision": v[(1, 1, t)] - v[(0, 0, t)]}
    return None
