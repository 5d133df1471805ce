"""The index framework: a tree index > pillars > ... > indicators, as code.

Two input formats give the same :class:`Framework`:

* native YAML (any depth; bilingual names; per indicator direction, unit, denominator, goalposts or
  target, source and a free ``tags`` map), validated with pydantic (unknown keys are errors);
* COINr's ``iMeta`` table (``Level, iCode, iName, Direction, Weight, Unit, Target, Denominator, Parent,
  Type``), so COINr users can bring their files unchanged.

Levels follow COINr: indicators are level 1 and every aggregate is one level above its highest child,
so the index is the top level.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dcindex.errors import FrameworkError, InputError


@dataclass(frozen=True)
class Node:
    """One node of the framework tree (an indicator when it has no children)."""

    code: str
    parent: str | None
    weight: float = 1.0
    name_zh: str | None = None
    name_en: str | None = None
    is_indicator: bool = False
    direction: int = 1
    unit: str | None = None
    denominator: str | None = None
    goalposts: tuple[float, float] | None = None
    target: float | None = None
    source: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    ahp: tuple[tuple[float, ...], ...] | None = None
    note: str | None = None

    @property
    def name(self) -> str:
        return self.name_en or self.name_zh or self.code

    def label(self, lang: str = "en") -> str:
        if lang == "zh":
            return self.name_zh or self.name_en or self.code
        return self.name_en or self.name_zh or self.code


@dataclass(frozen=True)
class Denominator:
    code: str
    name_zh: str | None = None
    name_en: str | None = None
    unit: str | None = None
    source: str | None = None


class Framework:
    """A validated index tree.

    Attributes
    ----------
    nodes : dict code -> Node, in declaration order
    root : code of the index (the single node without parent)
    indicators : indicator codes in declaration order (the column order of every data array)
    aggregates : aggregate codes ordered bottom-up (children always before their parent)
    """

    def __init__(
        self,
        nodes: list[Node],
        *,
        denominators: list[Denominator] | None = None,
        groups: list[str] | None = None,
        name_zh: str | None = None,
        name_en: str | None = None,
        description: str | None = None,
        description_zh: str | None = None,
        description_en: str | None = None,
        source_file: str | None = None,
    ):
        self.source_file = source_file
        where = source_file or "framework"
        self.name_zh = name_zh
        self.name_en = name_en
        self.description = description
        self.description_zh = description_zh
        self.description_en = description_en
        self.groups = list(groups or [])
        self.others: list[str] = []  # COINr iMeta Type "Other": data columns kept out of the index
        self.denominators = {d.code: d for d in (denominators or [])}
        _validate_nodes(nodes, where)
        self.nodes: dict[str, Node] = {n.code: n for n in nodes}
        self._children: dict[str, list[str]] = {n.code: [] for n in nodes}
        for n in nodes:
            if n.parent is not None:
                self._children[n.parent].append(n.code)
        roots = [n.code for n in nodes if n.parent is None]
        self.root: str = roots[0]
        for code, node in self.nodes.items():
            has_children = bool(self._children[code])
            if node.is_indicator and has_children:
                raise FrameworkError(
                    f"node '{code}' is declared as an indicator but has children "
                    f"({', '.join(self._children[code])}).",
                    where=where,
                    hint="make it an aggregate (remove indicator fields such as direction) or move the children.",
                )
            if not node.is_indicator and not has_children:
                raise FrameworkError(
                    f"aggregate node '{code}' has no children.",
                    where=where,
                    hint="give it children, mark it as an indicator, or remove it.",
                )
        for code, node in self.nodes.items():
            if node.is_indicator and node.denominator is not None:
                if node.denominator not in self.denominators:
                    known = ", ".join(self.denominators) or "none are declared"
                    raise FrameworkError(
                        f"indicator '{code}' names denominator '{node.denominator}', which is not declared "
                        f"(declared: {known}).",
                        where=where,
                        hint=f"add '- {{code: {node.denominator}}}' under 'denominators:' in the framework YAML "
                             f"(in a COINr iMeta: a row with Type 'Denominator'), or fix the indicator's denominator.",
                    )
        self._level = self._compute_levels()
        self.indicators: list[str] = [c for c, n in self.nodes.items() if n.is_indicator]
        aggs = [c for c, n in self.nodes.items() if not n.is_indicator]
        order = {c: i for i, c in enumerate(self.nodes)}
        self.aggregates: list[str] = sorted(aggs, key=lambda c: (self._level[c], order[c]))

    # ----------------------------------------------------------------------------------- structure
    def _compute_levels(self) -> dict[str, int]:
        level: dict[str, int] = {}

        def lev(code: str) -> int:
            if code in level:
                return level[code]
            ch = self._children[code]
            level[code] = 1 if not ch else 1 + max(lev(c) for c in ch)
            return level[code]

        for c in self.nodes:
            lev(c)
        return level

    def children(self, code: str) -> list[str]:
        return list(self._children[code])

    def parent(self, code: str) -> str | None:
        return self.nodes[code].parent

    def level(self, code: str) -> int:
        return self._level[code]

    @property
    def levels(self) -> list[int]:
        return sorted(set(self._level.values()))

    @property
    def top_level(self) -> int:
        return self._level[self.root]

    @property
    def pillars(self) -> list[str]:
        """Children of the index (the first level below it)."""
        return self.children(self.root)

    def nodes_at_level(self, level: int) -> list[str]:
        return [c for c in self.nodes if self._level[c] == level]

    def ancestors(self, code: str) -> list[str]:
        out = []
        p = self.nodes[code].parent
        while p is not None:
            out.append(p)
            p = self.nodes[p].parent
        return out

    def descendants(self, code: str, indicators_only: bool = False) -> list[str]:
        out: list[str] = []
        stack = list(reversed(self._children[code]))
        while stack:
            c = stack.pop()
            out.append(c)
            stack.extend(reversed(self._children[c]))
        if indicators_only:
            out = [c for c in out if self.nodes[c].is_indicator]
        return out

    @property
    def all_codes(self) -> list[str]:
        """Indicators first (data order), then aggregates bottom-up: the node axis of score arrays."""
        return self.indicators + self.aggregates

    def nominal_weights(self, code: str) -> np.ndarray:
        """Weights of the children of ``code`` as declared, rescaled to sum to 1."""
        ch = self._children[code]
        w = np.array([self.nodes[c].weight for c in ch], dtype=float)
        return w / w.sum()

    def effective_weights(self, child_weights: dict[str, np.ndarray] | None = None) -> pd.Series:
        """Weight of every node in the index: product of the normalised weights along its path.

        ``child_weights`` maps each aggregate to the weights of its children (defaults to the nominal ones).
        """
        out: dict[str, float] = {self.root: 1.0}
        for agg in reversed(self.aggregates):  # top-down
            w = (child_weights or {}).get(agg)
            if w is None:
                w = self.nominal_weights(agg)
            w = np.asarray(w, dtype=float)
            w = w / w.sum()
            for c, wc in zip(self._children[agg], w):
                out[c] = out[agg] * float(wc)
        return pd.Series({c: out[c] for c in self.all_codes}, name="effective_weight")

    # ------------------------------------------------------------------------------- modification
    def with_weights(self, weights: dict[str, float]) -> "Framework":
        """A copy with some node weights replaced (codes that do not exist are an error)."""
        unknown = [c for c in weights if c not in self.nodes]
        if unknown:
            raise FrameworkError(
                f"cannot set weights of unknown nodes: {', '.join(map(str, unknown))}.",
                hint=f"use codes from the framework, e.g. {', '.join(list(self.nodes)[:5])}.",
            )
        nodes = [replace(n, weight=float(weights[n.code])) if n.code in weights else n for n in self.nodes.values()]
        return self._copy_with(nodes)

    def without(self, codes: list[str]) -> "Framework":
        """A copy with the given nodes (and their subtrees) removed; empty aggregates are removed too."""
        drop = set()
        for c in codes:
            if c not in self.nodes:
                raise FrameworkError(f"cannot remove unknown node '{c}'.")
            if c == self.root:
                raise FrameworkError("cannot remove the index itself.")
            drop.add(c)
            drop.update(self.descendants(c))
        changed = True
        while changed:
            changed = False
            for agg in self.aggregates:
                if agg not in drop and agg != self.root and all(ch in drop for ch in self._children[agg]):
                    drop.add(agg)
                    changed = True
        nodes = [n for n in self.nodes.values() if n.code not in drop]
        return self._copy_with(nodes)

    def _copy_with(self, nodes: list[Node]) -> "Framework":
        return Framework(
            nodes,
            denominators=list(self.denominators.values()),
            groups=self.groups,
            name_zh=self.name_zh,
            name_en=self.name_en,
            description=self.description,
            description_zh=self.description_zh,
            description_en=self.description_en,
            source_file=self.source_file,
        )

    # ------------------------------------------------------------------------------------- export
    def to_frame(self) -> pd.DataFrame:
        """One row per node: code, names, level, parent, weight, effective weight, indicator fields."""
        eff = self.effective_weights()
        rows = []
        for c, n in self.nodes.items():
            rows.append(
                {
                    "code": c,
                    "name_zh": n.name_zh,
                    "name_en": n.name_en,
                    "level": self._level[c],
                    "parent": n.parent,
                    "type": "Indicator" if n.is_indicator else "Aggregate",
                    "weight": n.weight,
                    "weight_in_parent": (
                        float(self.nominal_weights(n.parent)[self._children[n.parent].index(c)])
                        if n.parent
                        else 1.0
                    ),
                    "effective_weight": float(eff[c]),
                    "direction": n.direction if n.is_indicator else np.nan,
                    "unit": n.unit,
                    "denominator": n.denominator,
                    "goalpost_low": n.goalposts[0] if n.goalposts else np.nan,
                    "goalpost_high": n.goalposts[1] if n.goalposts else np.nan,
                    "target": n.target if n.target is not None else np.nan,
                    "source": n.source,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Native YAML structure (round-trips through :func:`framework_from_dict`)."""

        def node_dict(code: str) -> dict[str, Any]:
            n = self.nodes[code]
            d: dict[str, Any] = {"code": code}
            if n.name_zh is not None:
                d["name_zh"] = n.name_zh
            if n.name_en is not None:
                d["name_en"] = n.name_en
            d["weight"] = n.weight
            if n.note:
                d["note"] = n.note
            if n.is_indicator:
                d["direction"] = n.direction
                for k in ("unit", "denominator", "target", "source"):
                    v = getattr(n, k)
                    if v is not None:
                        d[k] = v
                if n.goalposts is not None:
                    d["goalposts"] = list(n.goalposts)
                if n.tags:
                    d["tags"] = dict(n.tags)
            else:
                if n.ahp is not None:
                    d["ahp"] = [list(r) for r in n.ahp]
                if n.tags:
                    d["tags"] = dict(n.tags)
                d["children"] = [node_dict(c) for c in self._children[code]]
            return d

        out: dict[str, Any] = {}
        if self.name_zh:
            out["name_zh"] = self.name_zh
        if self.name_en:
            out["name_en"] = self.name_en
        if self.description:
            out["description"] = self.description
        if self.description_zh:
            out["description_zh"] = self.description_zh
        if self.description_en:
            out["description_en"] = self.description_en
        if self.denominators:
            out["denominators"] = [
                {k: v for k, v in vars(d).items() if v is not None} for d in self.denominators.values()
            ]
        if self.groups:
            out["groups"] = list(self.groups)
        out["index"] = node_dict(self.root)
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    def __repr__(self) -> str:
        return (
            f"Framework(root={self.root!r}, indicators={len(self.indicators)}, "
            f"aggregates={len(self.aggregates)}, levels={self.top_level})"
        )


def _validate_nodes(nodes: list[Node], where: str) -> None:
    """Duplicate codes, orphans, cycles, roots, weights and directions."""
    if not nodes:
        raise FrameworkError("the framework has no nodes.", where=where, hint="declare an index with indicators.")
    seen: dict[str, int] = {}
    dups = []
    for n in nodes:
        if n.code in seen:
            dups.append(n.code)
        seen[n.code] = 1
    if dups:
        raise FrameworkError(
            f"duplicate node codes: {', '.join(sorted(set(dups)))}.",
            where=where,
            hint="every node (indicator or aggregate) needs a unique code.",
        )
    folded: dict[str, str] = {}
    for n in nodes:
        key = n.code.strip().casefold()
        if key in folded and folded[key] != n.code:
            raise FrameworkError(
                f"node codes '{folded[key]}' and '{n.code}' differ only by case or whitespace.",
                where=where,
                hint="use one spelling for one node; codes are case-sensitive identifiers.",
            )
        folded[key] = n.code
    codes = set(seen)
    orphans = [n for n in nodes if n.parent is not None and n.parent not in codes]
    if orphans:
        lst = ", ".join(f"'{n.code}' (parent '{n.parent}')" for n in orphans[:20])
        raise FrameworkError(
            f"nodes whose parent does not exist: {lst}.",
            where=where,
            hint="add the parent node or correct the Parent column.",
        )
    roots = [n.code for n in nodes if n.parent is None]
    parent = {n.code: n.parent for n in nodes}
    # cycles: follow parents; a walk longer than the number of nodes revisits a node
    for n in nodes:
        path = [n.code]
        p = n.parent
        while p is not None:
            if p in path:
                cyc = " -> ".join(path[path.index(p):] + [p])
                raise FrameworkError(
                    f"the framework has a cycle: {cyc}.",
                    where=where,
                    hint="each node must have exactly one parent on the way up to the index.",
                )
            path.append(p)
            p = parent[p]
    if len(roots) != 1:
        raise FrameworkError(
            f"the framework must have exactly one top node (the index); found {len(roots)}: "
            f"{', '.join(roots[:20])}.",
            where=where,
            hint="give every node except the index a parent.",
        )
    for n in nodes:
        if not np.isfinite(n.weight) or n.weight < 0:
            raise FrameworkError(
                f"node '{n.code}' has weight {n.weight}; weights must be finite and non-negative.",
                where=where,
                hint="use a non-negative number (weights are rescaled to sum to 1 within each parent).",
            )
        if n.is_indicator and n.direction not in (1, -1):
            raise FrameworkError(
                f"indicator '{n.code}' has direction {n.direction}; it must be 1 (higher is better) "
                f"or -1 (lower is better).",
                where=where,
                hint="set Direction to 1 or -1.",
            )
        if n.goalposts is not None:
            lo, hi = n.goalposts
            if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi:
                raise FrameworkError(
                    f"indicator '{n.code}' has goalposts {list(n.goalposts)}; they must be [low, high] with low < high.",
                    where=where,
                    hint="write goalposts as [worst, best] in raw units, low < high; direction says which end is good.",
                )
    kids: dict[str, list[Node]] = {}
    for n in nodes:
        if n.parent is not None:
            kids.setdefault(n.parent, []).append(n)
    for p, ch in kids.items():
        if sum(c.weight for c in ch) <= 0:
            raise FrameworkError(
                f"all weights of the children of '{p}' are zero ({', '.join(c.code for c in ch)}).",
                where=where,
                hint="give at least one child a positive weight, or remove the node.",
            )


# --------------------------------------------------------------------------------- native YAML format
class _NodeModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name_zh: str | None = None
    name_en: str | None = None
    weight: float = 1.0
    note: str | None = None
    # indicator fields
    direction: Literal[1, -1] | None = None
    unit: str | None = None
    denominator: str | None = None
    goalposts: list[float] | None = None
    target: float | None = None
    source: str | None = None
    tags: dict[str, Any] = Field(default_factory=dict)
    # aggregate fields
    ahp: list[list[float]] | None = None
    children: list["_NodeModel"] | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_str(cls, v: Any) -> str:
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ValueError("code must be a non-empty string")
        return str(v)

    @field_validator("goalposts")
    @classmethod
    def _gp(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and len(v) != 2:
            raise ValueError("goalposts must be [low, high]")
        return v


class _DenominatorModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name_zh: str | None = None
    name_en: str | None = None
    unit: str | None = None
    source: str | None = None


class _FrameworkModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str | None = None
    name_en: str | None = None
    description: str | None = None
    description_zh: str | None = None
    description_en: str | None = None
    version: str | None = None
    notes: Any = None
    denominators: list[_DenominatorModel] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    index: _NodeModel


def framework_from_dict(d: dict[str, Any], source_file: str | None = None) -> Framework:
    """Build a :class:`Framework` from the native (YAML) structure, validating every key."""
    where = source_file or "framework"
    try:
        m = _FrameworkModel.model_validate(d)
    except ValidationError as exc:
        raise FrameworkError(_pydantic_message(exc, d), where=where,
                             hint="check the key names and values against docs (unknown keys are errors).") from None
    nodes: list[Node] = []

    def walk(nm: _NodeModel, parent: str | None) -> None:
        is_ind = not nm.children
        if is_ind and nm.ahp is not None:
            raise FrameworkError(f"indicator '{nm.code}' has an 'ahp' matrix; only aggregates can.", where=where)
        if not is_ind:
            bad = [k for k in ("direction", "unit", "denominator", "goalposts", "target")
                   if getattr(nm, k) is not None]
            if bad:
                raise FrameworkError(
                    f"aggregate node '{nm.code}' has indicator-only keys: {', '.join(bad)}.",
                    where=where,
                    hint="move them to the indicators below it, or remove its children to make it an indicator.",
                )
        ahp = tuple(tuple(float(x) for x in row) for row in nm.ahp) if nm.ahp is not None else None
        nodes.append(
            Node(
                code=nm.code,
                parent=parent,
                weight=float(nm.weight),
                name_zh=nm.name_zh,
                name_en=nm.name_en,
                is_indicator=is_ind,
                direction=int(nm.direction) if nm.direction is not None else 1,
                unit=nm.unit,
                denominator=nm.denominator,
                goalposts=(float(nm.goalposts[0]), float(nm.goalposts[1])) if nm.goalposts else None,
                target=nm.target,
                source=nm.source,
                tags=dict(nm.tags),
                ahp=ahp,
                note=nm.note,
            )
        )
        for ch in nm.children or []:
            walk(ch, nm.code)

    walk(m.index, None)
    dens = [Denominator(code=x.code, name_zh=x.name_zh, name_en=x.name_en, unit=x.unit, source=x.source)
            for x in m.denominators]
    return Framework(nodes, denominators=dens, groups=m.groups, name_zh=m.name_zh, name_en=m.name_en,
                     description=m.description, description_zh=m.description_zh,
                     description_en=m.description_en, source_file=source_file)


def _pydantic_message(exc: ValidationError, d: Any) -> str:
    msgs = []
    for e in exc.errors()[:10]:
        loc = _readable_loc(e["loc"], d)
        if e["type"] == "extra_forbidden":
            msgs.append(f"unknown key '{e['loc'][-1]}' at {loc}")
        else:
            msgs.append(f"{loc}: {e['msg']}")
    more = f" (and {exc.error_count() - 10} more)" if exc.error_count() > 10 else ""
    return "invalid framework: " + "; ".join(msgs) + more + "."


def _readable_loc(loc: tuple, d: Any) -> str:
    """Turn a pydantic location into 'index > INFRA > broadband' using node codes where possible."""
    parts = []
    cur = d
    for item in loc:
        if isinstance(cur, dict) and item in cur:
            cur = cur[item]
            if item not in ("children",):
                if isinstance(cur, dict) and "code" in cur:
                    parts.append(f"node '{cur['code']}'")
                elif not isinstance(cur, (dict, list)):
                    parts.append(str(item))
                elif item != "index":
                    parts.append(str(item))
        elif isinstance(cur, list) and isinstance(item, int) and item < len(cur):
            cur = cur[item]
            if isinstance(cur, dict) and "code" in cur:
                parts.append(f"node '{cur['code']}'")
            else:
                parts.append(f"[{item}]")
        else:
            parts.append(str(item))
    return " > ".join(parts) if parts else "top level"


def read_framework_yaml(path: str | Path) -> Framework:
    from dcindex.data import read_yaml

    p = Path(path)
    d = read_yaml(p, what="framework", option="--framework", error=FrameworkError)
    if not isinstance(d, dict):
        raise FrameworkError("the framework YAML must be a mapping with an 'index' key.", where=str(p))
    if "framework" in d and "index" not in d and isinstance(d["framework"], dict):
        d = d["framework"]
    return framework_from_dict(d, source_file=str(p))


# ------------------------------------------------------------------------------------ COINr iMeta
IMETA_COLUMNS = ["Level", "iCode", "iName", "Direction", "Weight", "Unit", "Target", "Denominator", "Parent", "Type"]


def framework_from_imeta(meta: pd.DataFrame, source_file: str | None = None) -> Framework:
    """Build a :class:`Framework` from a COINr ``iMeta`` table (column names as in COINr)."""
    where = source_file or "iMeta"
    required = ["iCode", "Type"]
    missing = [c for c in required if c not in meta.columns]
    if missing:
        raise InputError(
            f"iMeta lacks required columns: {', '.join(missing)} (it has {', '.join(map(str, meta.columns))}).",
            where=where,
            hint=f"COINr iMeta columns are {', '.join(IMETA_COLUMNS)}.",
        )
    unknown = [c for c in meta.columns if c not in IMETA_COLUMNS]
    if unknown:
        raise InputError(
            f"iMeta has unknown columns: {', '.join(map(str, unknown))}.",
            where=where,
            hint=f"COINr iMeta columns are {', '.join(IMETA_COLUMNS)}; remove or rename the others.",
        )

    def cell(row: pd.Series, col: str) -> Any:
        if col not in row.index:
            return None
        v = row[col]
        if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v.strip() == ""):
            return None
        return v

    def num(row: pd.Series, col: str, rownum: int) -> float | None:
        v = cell(row, col)
        if v is None:
            return None
        try:
            return float(v)
        except (TypeError, ValueError):
            raise InputError(f"row {rownum}, column '{col}': '{v}' is not a number.", where=where,
                             hint="use a number or leave the cell empty.") from None

    nodes: list[Node] = []
    dens: list[Denominator] = []
    groups: list[str] = []
    others: list[str] = []
    levels: dict[str, int] = {}
    for i, row in meta.reset_index(drop=True).iterrows():
        rownum = int(i) + 2  # 1-based, header is row 1
        code = cell(row, "iCode")
        if code is None:
            raise InputError(f"row {rownum}: empty iCode.", where=where, hint="give every row a code.")
        code = str(code)
        typ = str(cell(row, "Type") or "").strip()
        if typ not in ("Indicator", "Aggregate", "Group", "Denominator", "Other"):
            raise InputError(
                f"row {rownum} ('{code}'): Type '{typ}' is not one of Indicator, Aggregate, Group, Denominator, Other.",
                where=where, hint="fix the Type column.")
        name = cell(row, "iName")
        if typ == "Group":
            groups.append(code)
            continue
        if typ == "Denominator":
            dens.append(Denominator(code=code, name_en=str(name) if name is not None else None,
                                    unit=str(cell(row, "Unit")) if cell(row, "Unit") is not None else None))
            continue
        if typ == "Other":
            others.append(code)  # reference columns of iData that take no part in the index
            continue
        parent = cell(row, "Parent")
        weight = num(row, "Weight", rownum)
        direction = num(row, "Direction", rownum)
        lev = num(row, "Level", rownum)
        if lev is not None:
            levels[code] = int(lev)
        if typ == "Indicator":
            if direction is None:
                raise FrameworkError(f"row {rownum}: indicator '{code}' has no Direction.", where=where,
                                     hint="set Direction to 1 or -1.")
            if direction not in (1.0, -1.0):
                raise FrameworkError(
                    f"row {rownum}: indicator '{code}' has Direction {direction:g}; it must be 1 or -1.",
                    where=where, hint="set Direction to 1 (higher is better) or -1 (lower is better).")
        den = cell(row, "Denominator")
        nodes.append(
            Node(
                code=code,
                parent=str(parent) if parent is not None else None,
                weight=1.0 if weight is None else weight,
                name_en=str(name) if name is not None else None,
                is_indicator=(typ == "Indicator"),
                direction=int(direction) if (typ == "Indicator" and direction is not None) else 1,
                unit=str(cell(row, "Unit")) if cell(row, "Unit") is not None else None,
                denominator=str(den) if den is not None else None,
                target=num(row, "Target", rownum),
            )
        )
    fw = Framework(nodes, denominators=dens, groups=groups, source_file=source_file)
    fw.others = others
    bad = [(c, lv, fw.level(c)) for c, lv in levels.items() if c in fw.nodes and fw.level(c) != lv]
    if bad:
        lst = ", ".join(f"'{c}' (Level {lv}, implied {imp})" for c, lv, imp in bad[:10])
        raise FrameworkError(
            f"iMeta Levels disagree with the tree built from Parent: {lst}.",
            where=where,
            hint="indicators are Level 1 and each aggregate is one level above its highest child.",
        )
    return fw


def read_framework(path: str | Path) -> Framework:
    """Read a framework from a native YAML file or a COINr iMeta table (CSV/XLSX)."""
    p = Path(path)
    if p.suffix.lower() in (".yaml", ".yml"):
        return read_framework_yaml(p)
    from dcindex.data import read_table

    meta = read_table(p, numeric=False)
    return framework_from_imeta(meta, source_file=str(p))


def as_framework(obj: Any) -> Framework:
    """Accept a Framework, a path (YAML or iMeta), a native dict or an iMeta DataFrame."""
    if isinstance(obj, Framework):
        return obj
    if isinstance(obj, (str, Path)):
        return read_framework(obj)
    if isinstance(obj, dict):
        return framework_from_dict(obj)
    if isinstance(obj, pd.DataFrame):
        return framework_from_imeta(obj)
    raise FrameworkError(f"cannot make a framework from {type(obj).__name__}.",
                         hint="pass a Framework, a YAML/iMeta path, a dict or an iMeta DataFrame.")
