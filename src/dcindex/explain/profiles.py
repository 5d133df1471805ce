"""Unit profiles: strengths and weaknesses, nearest peers, radar-ready pillar scores, score x growth quadrant.

* **Strengths / weaknesses**: for every indicator (and pillar) below the node, the unit's rank on it versus its
  overall rank at the node; ``advantage = overall rank - indicator rank`` (positive: the unit does better on the
  indicator than overall). An indicator is a *strength* when ``advantage >= margin`` and a *weakness* when
  ``advantage <= -margin``; the default margin is max(2, round(N / 6)) ranks for N units.
* **Peers**: the units nearest in indicator space: root-mean-square difference of the normalised values of the
  indicators below the node (over the indicators both units have), optionally weighted by the nominal effective
  weights so that the distance counts indicators as the index does.
* **Radar**: the unit's score on each child of the node next to the mean, median, minimum and maximum over
  all units (and over the unit's group when ``by`` is given).
* **Quadrant**: the score x growth quadrant of the regional pattern analysis, computed by the same function
  (:func:`dcindex.pattern.quadrants`: one definition, thresholds and growth measure for the whole package) on
  the node's unit x year scores: score in ``year`` against growth from ``since`` (default the first year) to
  ``year``, split at the medians over the units that have both scores: *leading* (high score, high growth),
  *catching up* (low, high), *falling behind* (high, low), *lagging* (low, low). With per-year normalisation
  the growth is relative to the year's field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dcindex.errors import DcindexError, InputError
from dcindex.explain._base import as_result, fmt, resolve_node, resolve_unit, resolve_year, signed, subtree, unit_name
from dcindex.explain._results import text_table, write_outputs


@dataclass
class Profile:
    unit: str
    unit_name: str
    node: str
    year: int
    score: float
    rank: float
    n_units: int
    strengths: pd.DataFrame  # one row per indicator/pillar: rank vs overall, label
    peers: pd.DataFrame
    radar: pd.DataFrame
    quadrant: pd.DataFrame | None  # all units (for a scatter plot), with the unit flagged
    quadrant_label: str | None
    margin: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"Profile of {self.unit_name} ({self.unit}) on {self.node}, {self.year}: score {fmt(self.score)}, "
                 f"rank {int(self.rank) if pd.notna(self.rank) else '—'} of {self.n_units}"]
        s = self.strengths
        for lab, title in (("strength", "strengths"), ("weakness", "weaknesses")):
            sub = s[(s["label"] == lab) & (s["level"] == 1)]
            sub = sub.sort_values("advantage", ascending=(lab == "weakness"))
            if len(sub):
                lines.append(f"  {title} (indicator rank vs overall rank {int(self.rank)}, margin {self.margin}):")
                lines += text_table(sub, [("code", "indicator", None), ("name", "name", None),
                                          ("rank", "rank", lambda v: str(int(v)) if pd.notna(v) else "—"),
                                          ("advantage", "advantage",
                                           lambda v: f"{int(v):+d}" if pd.notna(v) else "—"),
                                          ("value", "normalised", fmt)], indent="    ", max_rows=8)
            else:
                lines.append(f"  {title}: none beyond {self.margin} ranks")
        lines.append("  components (radar):")
        lines += text_table(self.radar, [("code", "code", None), ("name", "name", None), ("score", "score", fmt),
                                         ("rank", "rank", lambda v: str(int(v)) if pd.notna(v) else "—"),
                                         ("mean", "mean", fmt), ("max", "max", fmt)]
                            + ([("group_mean", "group mean", fmt)] if "group_mean" in self.radar else []),
                            indent="    ")
        lines.append("  nearest peers in indicator space:")
        lines += text_table(self.peers, [("unit", "unit", None), ("name", "name", None),
                                         ("distance", "distance", fmt), ("score", "score", fmt),
                                         ("rank", "rank", lambda v: str(int(v)) if pd.notna(v) else "—")],
                            indent="    ")
        if self.quadrant_label:
            q = self.quadrant[self.quadrant["unit"] == self.unit].iloc[0]
            if q["growth_measure"] == "cagr":
                gr, gm, what = f"{q['growth']:+.2%}/yr", f"{q['growth_median']:+.2%}/yr", "compound annual growth"
            else:
                gr, gm, what = (f"{signed(q['growth'])}/yr", f"{signed(q['growth_median'])}/yr",
                                "change per year")
            lines.append(f"  score x growth {int(q['start'])}-{int(q['end'])}: {self.quadrant_label} (score "
                         f"{fmt(q['score'])} vs median {fmt(q['score_median'])}; {what} {gr} vs median {gm}; "
                         f"same definition as the pattern analysis)")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"unit": self.unit, "unit_name": self.unit_name, "node": self.node, "year": self.year,
                "score": self.score, "rank": self.rank, "n_units": self.n_units, "margin": self.margin,
                "quadrant": self.quadrant_label, "radar": self.radar.to_dict(orient="records"), "notes": self.notes}

    def to_dir(self, path: str | Path) -> Path:
        return write_outputs(path, {"strengths": self.strengths, "peers": self.peers, "radar": self.radar,
                                    "quadrant": self.quadrant}, {"profile": self.to_dict()}, self.summary())


def profile(result, unit, year=None, node=None, *, peers: int = 5, margin: int | None = None,
            weighted_peers: bool = True, by: str | None = None, since=None, growth: str | None = None) -> Profile:
    """Profile of ``unit`` at ``node`` (default the index) in ``year`` (default the last); see the module doc.

    ``growth``: the quadrant's growth measure, passed to :func:`dcindex.pattern.quadrants` (default: its default,
    as in ``dcindex pattern``; give the same value as the pattern analysis was run with, e.g. ``"cagr"``)."""
    result = as_result(result)
    n, code = resolve_unit(result, unit)
    t = resolve_year(result, year)
    node = resolve_node(result, node)
    fw = result.framework
    if fw.nodes[node].is_indicator:
        raise InputError(f"'{node}' is an indicator; a profile needs an aggregate.",
                         hint=f"use the index '{fw.root}' or a pillar.")
    j = result.node_index(node)
    S = result.scores_array[t]
    R = result.ranks_array[t]
    if np.isnan(S[n, j]):
        raise InputError(f"unit '{code}' has no score for '{node}' in {result.years[t]}.",
                         hint="choose a year in which the unit has a score.")
    N = int(np.sum(~np.isnan(S[:, j])))
    margin = int(margin) if margin is not None else max(2, int(round(N / 6)))
    inds, aggs = subtree(fw, node)
    overall = R[n, j]
    rows = []
    for c in [a for a in reversed(aggs) if a != node] + inds:
        jc = result.node_index(c)
        rk = R[n, jc]
        adv = overall - rk if pd.notna(rk) else np.nan
        lab = "" if pd.isna(adv) else ("strength" if adv >= margin else ("weakness" if adv <= -margin else ""))
        rows.append({"code": c, "name": fw.nodes[c].label(), "level": fw.level(c), "parent": fw.parent(c),
                     "value": S[n, jc], "rank": rk, "n_ranked": int(np.sum(~np.isnan(S[:, jc]))),
                     "overall_rank": overall, "advantage": adv, "label": lab,
                     "raw": result.datasets["raw"][t, n, fw.indicators.index(c)] if c in inds else np.nan})
    strengths = pd.DataFrame(rows)

    # peers: RMS distance over commonly present indicators (own code: scipy's cdist has no NaN handling)
    kpos = [fw.indicators.index(k) for k in inds]
    X = result.datasets["normalised"][t][:, kpos]
    w = fw.effective_weights().reindex(inds).to_numpy(dtype=float) if weighted_peers else np.ones(len(inds))
    w = w / w.sum() if w.sum() > 0 else np.full(len(inds), 1.0 / max(1, len(inds)))
    both = ~np.isnan(X) & ~np.isnan(X[n])[None, :]
    d2 = np.where(both, (X - X[n][None, :]) ** 2, 0.0)
    wsum = (both * w[None, :]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.sqrt((d2 * w[None, :]).sum(axis=1) / wsum)
    dist[n] = np.nan
    order = [m for m in np.argsort(np.where(np.isnan(dist), np.inf, dist), kind="stable") if not np.isnan(dist[m])]
    peer_rows = [{"unit": result.unit_codes[m], "name": unit_name(result, result.unit_codes[m]),
                  "distance": dist[m], "shared_indicators": int(both[m].sum()), "score": S[m, j], "rank": R[m, j]}
                 for m in order[:peers]]
    peer_df = pd.DataFrame(peer_rows, columns=["unit", "name", "distance", "shared_indicators", "score", "rank"])

    # radar
    group_mask = None
    notes = []
    if by is not None:
        if by not in result.units.columns:
            raise InputError(f"group column '{by}' is not in the units table.",
                             hint=f"use one of: {', '.join(c for c in result.units.columns if c != 'name')}.")
        g = result.units[by].to_numpy(dtype=object)
        group_mask = g == g[n]
        notes.append(f"group mean over {by} = {g[n]} ({int(group_mask.sum())} units).")
    radar_rows = []
    for c in (fw.children(node)):
        jc = result.node_index(c)
        col = S[:, jc]
        r = {"code": c, "name": fw.nodes[c].label(), "score": S[n, jc], "rank": R[n, jc],
             "mean": np.nanmean(col), "median": np.nanmedian(col), "min": np.nanmin(col), "max": np.nanmax(col)}
        if group_mask is not None:
            r["group_mean"] = np.nanmean(np.where(group_mask, col, np.nan))
        radar_rows.append(r)
    radar = pd.DataFrame(radar_rows)

    # quadrant: the pattern analysis' own function, so profile and pattern can never disagree
    qlab = None
    quad = _quadrant(result, j, t, since, notes, growth)
    if quad is not None:
        quad.insert(1, "name", [unit_name(result, u) for u in quad["unit"]])
        quad["is_unit"] = quad["unit"] == code
        hit = quad.loc[quad["is_unit"], "quadrant"]
        qlab = str(hit.iloc[0]) if len(hit) and hit.iloc[0] else None
        if qlab is None:
            notes.append(f"no score x growth quadrant: '{code}' has no score in {int(quad['start'].iloc[0])} or "
                         f"{int(quad['end'].iloc[0])}.")
    return Profile(unit=code, unit_name=unit_name(result, code), node=node, year=result.years[t], score=S[n, j],
                   rank=overall, n_units=N, strengths=strengths, peers=peer_df, radar=radar, quadrant=quad,
                   quadrant_label=qlab, margin=margin, notes=notes)


def _quadrant(result, j: int, t: int, since, notes: list[str], growth: str | None = None) -> pd.DataFrame | None:
    """All units' score x growth quadrants from ``since`` to year index ``t`` at node column ``j``, computed by
    :func:`dcindex.pattern.quadrants` on the unit x year table of the node's scores (the table the pattern
    analysis uses); units without a score in one of the two years get an empty label."""
    from dcindex.pattern import quadrants

    years = result.years
    if since is None:
        if t == 0:
            if len(years) > 1:
                notes.append(f"no score x growth quadrant: {years[0]} is the first year, so there is no growth "
                             f"to measure (profile a later year).")
            return None
        t0 = 0
    else:
        t0 = resolve_year(result, since, "since year")
        if t0 >= t:
            raise InputError(f"the growth base year {years[t0]} (since) is not before the profile year {years[t]}.",
                             hint=f"choose a since year before {years[t]}, or a later profile year.")
    table = pd.DataFrame(result.scores_array[:, :, j].T, index=pd.Index(result.unit_codes, name="unit"),
                         columns=list(years))
    kw = {}
    if growth is not None:
        import inspect

        if "growth" not in inspect.signature(quadrants).parameters:  # a pattern version without the option
            raise InputError("the pattern analysis of this version has no growth option for its quadrants.",
                             hint="leave growth unset: the profile then uses the pattern analysis' own definition.")
        kw["growth"] = growth
    try:
        q = quadrants(table, start=years[t0], end=years[t], **kw)
    except DcindexError as exc:  # e.g. too few units with scores in both years
        if growth is not None:  # asked for explicitly: a wrong or impossible measure is the caller's error
            raise
        notes.append(f"no score x growth quadrant: {exc.render()}")
        return None
    q = q.rename(columns={"level": "score", "level_median": "score_median"})  # older column names
    q["unit"] = q["unit"].astype(str)
    keep = [c for c in ("unit", "score_start", "score", "growth", "growth_measure", "score_median", "growth_median",
                        "quadrant", "start", "end") if c in q.columns]
    full = pd.DataFrame({"unit": result.unit_codes}).merge(q[keep], on="unit", how="left")
    for c in ("growth_measure", "start", "end", "score_median", "growth_median"):
        full[c] = q[c].iloc[0]
    full["quadrant"] = full["quadrant"].fillna("")
    return full
