"""Overview for every unit at once: who rose and fell between two years, and what drove it.

Meant for the main job and the report: ``overview(result).to_dir(out / "explain")`` writes the attribution of
every unit's change (same definitions as :func:`dcindex.explain.attribute`), per indicator and per pillar, and a
movers table naming each unit's main driver.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dcindex.errors import InputError
from dcindex.explain._base import as_result, fmt, resolve_node, resolve_year, signed, unit_name
from dcindex.explain._results import text_table, write_outputs
from dcindex.explain.attribution import change_all
from dcindex.explain.shapley_values import EXACT_MAX


@dataclass
class Overview:
    node: str
    start: int
    end: int
    contributions: pd.DataFrame  # long: unit, indicator, group, contribution, se
    pillars: pd.DataFrame  # unit x group contributions (wide, with unit and name columns)
    movers: pd.DataFrame  # one row per unit
    notes: list[str] = field(default_factory=list)

    def summary(self, top: int = 5) -> str:
        m = self.movers.dropna(subset=["change"])
        lines = [f"Changes of {self.node}, {self.start} -> {self.end}: {len(m)} units; contributions add up to each "
                 f"unit's change"]
        cols = [("unit", "unit", None), ("name", "name", None), ("score_start", str(self.start), fmt),
                ("score_end", str(self.end), fmt), ("change", "change", signed),
                ("rank_change", "ranks", lambda v: "—" if pd.isna(v) else f"{int(v):+d}"),
                ("main_pillar", "main pillar", None), ("main_driver", "main indicator", None)]
        for title, asc in (("largest rises", False), ("largest falls", True)):
            sub = m.sort_values("change", ascending=asc).head(top)
            sub = sub[sub["change"] < 0] if asc else sub[sub["change"] > 0]
            if len(sub):
                lines.append(f"  {title}:")
                lines += text_table(sub, cols, indent="    ")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_dir(self, path: str | Path) -> Path:
        meta = {"node": self.node, "start": self.start, "end": self.end, "notes": self.notes}
        return write_outputs(path, {"contributions": self.contributions, "pillar_contributions": self.pillars,
                                    "movers": self.movers}, {"overview": meta}, self.summary(top=10))


def overview(result, start=None, end=None, node=None, *, method: str = "auto", seed: int | None = 0,
             n_permutations: int = 1000, exact_max: int = EXACT_MAX) -> Overview:
    """Attribution of every unit's change at ``node`` from ``start`` (default first year) to ``end`` (last)."""
    result = as_result(result)
    if len(result.years) < 2:
        raise InputError("this result has one year, so there are no changes to explain.",
                         hint="build a panel with several years, or compare units with compare_units.")
    s = resolve_year(result, start, "start year", default="first")
    e = resolve_year(result, end, "end year", default="last")
    if s == e:
        raise InputError(f"start and end are the same year ({result.years[s]}).", hint="give two different years.")
    node = resolve_node(result, node)
    fw = result.framework
    long = change_all(result, result.years[s], result.years[e], node, method=method, seed=seed,
                      n_permutations=n_permutations, exact_max=exact_max)
    codes = list(result.unit_codes)
    groups = list(dict.fromkeys(long["group"]))
    wide = long.pivot_table(index="unit", columns="group", values="contribution", aggfunc="sum", dropna=False,
                            sort=False).reindex(index=codes, columns=groups)
    nan_units = long.groupby("unit", sort=False)["contribution"].apply(lambda x: x.isna().any())
    wide[nan_units.reindex(codes).to_numpy()] = np.nan
    pillars = wide.reset_index()
    pillars.insert(1, "name", [unit_name(result, u) for u in codes])
    j = result.node_index(node)
    S0, S1 = result.scores_array[s, :, j], result.scores_array[e, :, j]
    R0, R1 = result.ranks_array[s, :, j], result.ranks_array[e, :, j]
    C = long["contribution"].to_numpy().reshape(len(codes), -1)
    inds = long["indicator"].iloc[: C.shape[1]].tolist()
    rows = []
    for i, u in enumerate(codes):
        ch = S1[i] - S0[i]
        c = C[i]
        if np.isnan(ch) or np.isnan(c).any():
            drv = pil = ""
        else:
            sign = 1.0 if ch >= 0 else -1.0
            drv = inds[int(np.argmax(sign * c))]
            pw = wide.loc[u].to_numpy(dtype=float)
            pil = groups[int(np.argmax(sign * pw))]
        rows.append({"unit": u, "name": unit_name(result, u), "score_start": S0[i], "score_end": S1[i], "change": ch,
                     "rank_start": R0[i], "rank_end": R1[i], "rank_change": R0[i] - R1[i],
                     "main_pillar": pil, "main_driver": drv})
    movers = pd.DataFrame(rows)
    notes = []
    if long["contribution"].isna().any():
        bad = sorted(set(long.loc[long["contribution"].isna(), "unit"]) & set(movers.dropna(subset=["change"])["unit"]))
        if bad:
            notes.append("no attribution for " + ", ".join(bad[:10]) + " (their present indicators differ between "
                         "the years, see dcindex.explain.attribute for the reason).")
    if fw.nodes[node].is_indicator:
        notes.append(f"'{node}' is an indicator: its change is its normalised change.")
    return Overview(node=node, start=result.years[s], end=result.years[e], contributions=long, pillars=pillars,
                    movers=movers, notes=notes)
