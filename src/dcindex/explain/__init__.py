"""Explain and plan: why a score or rank changed, why one unit is above another, what two editions changed,
unit profiles, what-if scenarios and least-cost targets.

Attribution (all parts add up exactly to the difference they explain; definitions in
:mod:`dcindex.explain.attribution` and :mod:`dcindex.explain.editions`):

* :func:`change` (fixed name) / :func:`attribute`: a unit's change between two years, per indicator and pillar;
* :func:`rank_change`: units passed / passed by, and the indicators behind each pair;
* :func:`compare_units`: why unit A is above unit B;
* :func:`compare_editions`: data revision vs method change vs real change between two builds;
* :func:`overview` / :func:`change_all`: every unit at once (movers and their main drivers; for ``run``/reports);
* :func:`shapley`: the Shapley-value engine (exact up to 12 players, seeded sampling with standard errors).

Planning: :func:`profile` (strengths, weaknesses, peers, radar, quadrant), :func:`whatif` (change raw values,
rebuild, compare), :func:`target` (least-cost improvements to reach a rank or a score, or for a group a mean score
or a smaller gap to another group; LP with HiGHS when the index is linear in the raw values, a verified heuristic
otherwise).
"""
from __future__ import annotations

from dcindex.explain.attribution import (
    Attribution,
    RankChange,
    attribute,
    change,
    change_all,
    compare_units,
    rank_change,
)
from dcindex.explain.editions import EditionComparison, compare_editions
from dcindex.explain.overview import Overview, overview
from dcindex.explain.profiles import Profile, profile
from dcindex.explain.shapley_values import ShapleyValues, shapley
from dcindex.explain.targets import GroupTargetPlan, TargetPlan, group_target, target
from dcindex.explain.scenarios import Change, WhatIf, parse_change, whatif

__all__ = [
    "Attribution", "RankChange", "EditionComparison", "Overview", "Profile", "ShapleyValues", "TargetPlan",
    "GroupTargetPlan", "WhatIf", "Change", "attribute", "change", "change_all", "overview", "compare_units",
    "rank_change", "compare_editions", "profile", "shapley", "target", "group_target", "whatif", "parse_change",
]
