"""Monte Carlo uncertainty analysis and Sobol sensitivity analysis of a built index.

``dcindex.uncertainty(result, spec)`` re-runs the build of ``result`` under uncertain methodological choices and
reports, for every unit and year, the nominal rank and score next to their mean, median and 5-95 % interval; for
pairs of units the probability that A ranks above B and, across years, that A overtook B; and (with two or more
uncertain choices) Sobol first-order and total indices of each choice for COINr's target (the mean absolute
rank change against the nominal ranks) and for every unit's rank, with bootstrap intervals and a convergence check.

The specification is typed (pydantic; unknown keys are errors) and YAML-loadable::

    n: 10000
    seed: 1
    choices:
      - {type: treat, name: Winsorisation limit, vary: {max_points: [1, 2, 3, 4, 5]}}
      - {type: normalise, name: Normalisation,
         alternatives: [{method: minmax, low: 1, high: 100}, {method: zscore, mean: 10, sd: 2}]}
      - {type: weights, name: Weights, levels: [2, 3], distribution: uniform, amount: 0.25}
      - {type: aggregate, name: Aggregation, alternatives: [{method: arithmetic}, {method: geometric}]}
      - {type: exclude, nodes: [LPI, Forest]}          # one of them (or none) left out per draw
      - {type: noise, relative: 0.05, by_indicator: {Flights: 0.10}}

Alternatives are recipe step specifications (:mod:`dcindex.recipe`, including ``by_level``/``by_node``); ``vary``
changes one parameter of the nominal recipe's step. Weight perturbation follows COINr's ``get_noisy_weights``:
``w' = w (1 + amount (2U - 1))`` for the weights of the nodes at the chosen levels (COINr's ``Level``: 2 = the
weights of the pillars), or a Dirichlet draw around the nominal shares; ``pool: 100`` reproduces COINr's design
(a pool of noisy weight sets, one Sobol coordinate picks a set) instead of one coordinate per weight.

Design: quasi-random draws (scrambled Sobol, seeded). With sensitivity analysis the draws are SALib's Saltelli
design (``N`` base rows, ``N (G + 2)`` runs for ``G`` choices; ``n`` is the total number of runs, so the base is
``n // (G + 2)``); every run, including the ``AB`` rows, is a valid draw from the uncertainty distribution and
enters the uncertainty statistics (COINr uses only the ``A`` and ``B`` rows for them).

Speed by design: each pipeline step is computed once per distinct setting of the choices that feed it (a
Winsorisation limit shared by a thousand draws is treated once); aggregation is done for all draws of a setting
at once with a leading draw axis (weight perturbation is a (D, C) weight array broadcast against the (.., N, C)
children; exclusion is a zero weight, rescaled like a missing child); above the draw-free nodes, arithmetic and
geometric means are kept as linear forms over the draw-free scores (:class:`_Lin`) and the index scores are formed,
ranked and summarised a few draws at a time while in cache; draws with identical parameters are computed once;
blocks run on a thread pool (all cores by default; the output does not depend on the number of threads). Data
noise makes every draw a distinct setting, so its treatment and normalisation run draw by draw.

Score statistics are on one scale: when normalisation or aggregation alternatives change the scale of the scores,
each draw's index scores are mapped linearly onto the nominal scale (``score_scale``; see docs/audit.md).

Conflicts are errors raised before the draws run: every distinct combination of the categorical choices is first
built at the nominal weights, so e.g. a geometric-aggregation alternative with a normalisation alternative that
produces zeros is refused with both choices named. A draw that fails anyway (only possible with data noise or
exclusion) is counted and reported with its reason; it never becomes a silent row of missing values.
"""
from __future__ import annotations

import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dcindex import aggregate as agg_mod
from dcindex import recipe as recipe_mod
from dcindex.errors import DcindexError, InputError, MethodError, RecipeError

__all__ = ["UncertaintySpec", "UncertaintyResult", "uncertainty", "rank_desc", "read_spec"]

STEP_MODELS = {"impute": recipe_mod.ImputeStep, "treat": recipe_mod.TreatStep,
               "normalise": recipe_mod.NormaliseStep, "aggregate": recipe_mod.AggregateStep}
TARGET = "mean_abs_rank_shift"
MAX_BYTES = 4e9  # memory for the per-draw index scores and ranks


# ============================================================================================ specification
class _Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = None


class StepChoice(_Choice):
    """Alternatives for one recipe step: ``alternatives`` (step specs, as in a recipe) or ``vary`` (one parameter of
    the nominal step, e.g. ``{max_points: [1, 2, 3, 4, 5]}``). Each draw picks one alternative with equal
    probability."""

    type: Literal["impute", "treat", "normalise", "aggregate"]
    alternatives: list[Any] | None = None
    vary: dict[str, list[Any]] | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.alternatives is None) == (self.vary is None):
            raise ValueError("give exactly one of 'alternatives' or 'vary'")
        if self.vary is not None and len(self.vary) != 1:
            raise ValueError("'vary' takes exactly one parameter (use 'alternatives' for several)")
        n = len(self.alternatives) if self.alternatives is not None else len(next(iter(self.vary.values())))
        if n < 2:
            raise ValueError("an uncertain choice needs at least two alternatives")
        return self


class WeightsChoice(_Choice):
    """Perturbation of the weights of the nodes at ``levels`` (and/or the listed ``nodes``).

    ``uniform``: w' = w (1 + amount (2U - 1)) per weight, as COINr's ``get_noisy_weights``;
    ``dirichlet``: the selected siblings' weights are redrawn from Dirichlet(concentration x nominal shares),
    keeping their total. ``pool``: draw from a pool of this many pre-generated weight sets (COINr's design; one
    Sobol coordinate) instead of one coordinate per weight.
    """

    type: Literal["weights"]
    levels: list[int] = Field(default_factory=list)
    nodes: list[str] = Field(default_factory=list)
    distribution: Literal["uniform", "dirichlet"] = "uniform"
    amount: float = Field(0.25, gt=0, lt=1)
    concentration: float = Field(100.0, gt=0)
    pool: int | None = Field(None, ge=2)

    @model_validator(mode="after")
    def _some(self):
        if not self.levels and not self.nodes:
            raise ValueError("say which weights to perturb: 'levels' and/or 'nodes'")
        return self


class ExcludeChoice(_Choice):
    """Each draw leaves out one of ``nodes`` (an indicator or an aggregate), or none if ``include_none``."""

    type: Literal["exclude"]
    nodes: list[str] = Field(min_length=1)
    include_none: bool = True


class NoiseChoice(_Choice):
    """Relative measurement error: every raw value x becomes x (1 + s e), e ~ N(0, 1) (or U(-1, 1)), with s =
    ``relative`` or the indicator's entry in ``by_indicator``. One realisation per draw."""

    type: Literal["noise"]
    relative: float = Field(0.0, ge=0)
    by_indicator: dict[str, float] = Field(default_factory=dict)
    distribution: Literal["normal", "uniform"] = "normal"


Choice = Annotated[Union[StepChoice, WeightsChoice, ExcludeChoice, NoiseChoice], Field(discriminator="type")]


class UncertaintySpec(BaseModel):
    """The uncertain choices of an uncertainty/sensitivity analysis and its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    n: int = Field(2000, ge=2, description="total number of runs (draws)")
    seed: int = Field(0, ge=0)
    sensitivity: bool = True
    bootstrap: int = Field(200, ge=0, description="bootstrap resamples for the Sobol confidence intervals")
    conf_level: float = Field(0.95, gt=0, lt=1)
    pairs: str | list[str] = "top10"
    score_scale: Literal["auto", "raw", "nominal"] = Field(
        "auto", description="scale of the score statistics: 'nominal' maps every draw's index scores linearly onto "
                            "the nominal scale (same mean and sd over all unit-years), 'raw' keeps them; 'auto' is "
                            "'nominal' when normalisation or aggregation alternatives are varied")
    choices: list[Choice] = Field(default_factory=list)

    @classmethod
    def from_any(cls, obj: Any, where: str = "uncertainty spec") -> "UncertaintySpec":
        if obj is None:
            return cls()
        if isinstance(obj, UncertaintySpec):
            return obj
        if isinstance(obj, (str, Path)):
            return read_spec(obj)
        if not isinstance(obj, dict):
            raise RecipeError(f"an uncertainty specification must be a mapping, not {type(obj).__name__}.",
                              where=where, hint="see docs/audit.md for the format.")
        try:
            return cls.model_validate(obj)
        except ValidationError as exc:
            raise RecipeError(_spec_message(exc), where=where,
                              hint="see docs/audit.md for the specification format; unknown keys are errors.") from None

    def to_plain(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _spec_message(exc: ValidationError) -> str:
    msgs = []
    for e in exc.errors()[:8]:
        loc = ".".join(str(x) for x in e["loc"])
        if e["type"] == "extra_forbidden":
            msgs.append(f"unknown key '{e['loc'][-1]}' at {'.'.join(str(x) for x in e['loc'][:-1]) or 'top level'}")
        elif e["type"] == "union_tag_invalid":
            msgs.append(f"{loc}: unknown choice type (use impute, treat, normalise, aggregate, weights, exclude or "
                        f"noise)")
        else:
            msgs.append(f"{loc or 'top level'}: {e['msg']}")
    return "invalid uncertainty specification: " + "; ".join(msgs) + "."


def read_spec(path: str | Path) -> UncertaintySpec:
    p = Path(path)
    if not p.is_file():
        raise InputError("the uncertainty specification file does not exist.", where=str(p),
                         hint="check the path given to --spec.")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    try:
        d = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(f"cannot parse YAML: {exc}.", where=str(p), hint="fix the YAML syntax.") from None
    return UncertaintySpec.from_any(d, where=str(p))


# ================================================================================================ ranks
def rank_desc(S: np.ndarray, axis: int = -1) -> np.ndarray:
    """Ranks along ``axis``: highest = 1, ties at the minimum rank, NaN stays NaN.

    Same result as ``scipy.stats.rankdata(-S, method='min', axis=axis, nan_policy='omit')`` (COINr's ``rank_df``),
    which is ~10x slower on (draws, years, units) arrays because it ranks slice by slice: here one argsort of all
    rows, the inverse permutation by one flat scatter, and the tie correction only on the rows that have ties.
    """
    A = np.moveaxis(np.asarray(S, dtype=float), axis, -1)
    shape = A.shape
    n = shape[-1]
    A2 = A.reshape(-1, n)
    m = A2.shape[0]
    nan = np.isnan(A2)
    any_nan = bool(nan.any())
    key = np.negative(A2)
    if any_nan:
        key[nan] = np.inf
    order = np.argsort(key, axis=-1)  # stability is not needed: tied keys all get the block's first position
    flat = (order + (np.arange(m) * n)[:, None]).ravel()  # flat indices: faster than 2-D fancy indexing
    sk = key.ravel()[flat].reshape(m, n)
    tie = sk[:, 1:] == sk[:, :-1]
    out = np.empty(m * n)
    has = np.flatnonzero(tie.any(axis=1))
    if len(has):
        r_sorted = np.tile(np.arange(1.0, n + 1), (m, 1))
        new = np.ones((len(has), n), dtype=bool)
        new[:, 1:] = ~tie[has]
        r_sorted[has] = np.maximum.accumulate(np.where(new, np.arange(n), 0), axis=-1) + 1.0
        out[flat] = r_sorted.ravel()
    else:
        out[flat] = np.tile(np.arange(1.0, n + 1), m)
    out = out.reshape(m, n)
    if any_nan:
        out[nan] = np.nan
    return np.moveaxis(out.reshape(shape), -1, axis)


def quantiles(A: np.ndarray, qs, axis: int = 0) -> np.ndarray:
    """``np.quantile(A, qs, axis)`` (linear interpolation, type 7 as R's ``quantile``) for arrays without NaN.

    One ``np.sort`` and numpy's own interpolation formula; ``np.quantile`` on (draws, years x units) arrays spends
    most of its time in a multi-kth partition along the strided draw axis and is several times slower.
    """
    # sort along a contiguous last axis (sorting along the strided draw axis is several times slower)
    s = np.ascontiguousarray(np.moveaxis(A, axis, -1))
    s.sort(axis=-1)
    return _type7_sorted(s, qs)


def _type7_sorted(s: np.ndarray, qs) -> np.ndarray:
    """Type-7 quantiles of rows sorted along the last axis (numpy's formula, bit for bit)."""
    n = s.shape[-1]
    out = []
    for q in np.atleast_1d(qs):
        lo, hi, g = _type7_index(n, q)
        out.append(_lerp(s[..., lo], s[..., hi], g))
    return np.stack(out)


def _type7_index(n: int, q: float) -> tuple[int, int, float]:
    h = (n - 1) * float(q)
    lo = int(np.floor(h))
    return lo, min(lo + 1, n - 1), h - lo


def _lerp(a, b, g):
    diff = b - a
    # numpy's _lerp: a + diff * g, computed from the nearer end for g >= 0.5
    return np.where(g >= 0.5, b - diff * (1 - g), a + diff * g)


def rank_quantiles(R: np.ndarray, qs, n_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and type-7 quantiles over axis 0 of integer ranks 1..``n_max`` stored as floats, (D, M) without NaN.

    Own code: ranks take at most ``n_max`` values, so the order statistics of a column follow from its rank
    counts (one ``np.bincount``, cumulative sums) without sorting the D draws. Equal to ``np.quantile`` and
    ``np.mean`` (integer sums are exact) - tests check both."""
    D, M = R.shape
    out_q = np.empty((len(qs), M))
    out_m = np.empty(M)
    blk = 128  # columns per block: the counts and indices stay in cache (measured: 2x faster than a float sort)
    k = np.arange(n_max + 1, dtype=float)
    itype = np.int32 if blk * (n_max + 1) < 2**31 else np.int64
    for lo in range(0, M, blk):
        hi = min(M, lo + blk)
        b = hi - lo
        idx = R[:, lo:hi].astype(itype)
        idx += (np.arange(b, dtype=itype) * (n_max + 1))[None, :]
        cnt = np.bincount(idx.ravel(), minlength=b * (n_max + 1)).reshape(b, n_max + 1)
        out_m[lo:hi] = (cnt @ k) / D
        cum = np.cumsum(cnt, axis=1)
        for i, q in enumerate(qs):
            ilo, ihi, g = _type7_index(D, q)
            a = np.argmax(cum > ilo, axis=1).astype(float)  # the (ilo)-th smallest rank (0-based)
            c = np.argmax(cum > ihi, axis=1).astype(float)
            out_q[i, lo:hi] = _lerp(a, c, g)
    return out_m, out_q


# ================================================================================================ plan
@dataclass
class _Factor:
    name: str
    kind: str  # impute | treat | normalise | aggregate | weights | exclude | noise
    dims: int
    labels: list[str] = field(default_factory=list)  # categorical alternatives
    steps: list[Any] = field(default_factory=list)  # recipe step objects (step factors)
    nodes: list[str | None] = field(default_factory=list)  # exclude alternatives / perturbed nodes (weights)
    spec: Any = None

    @property
    def categorical(self) -> bool:
        return self.kind in ("impute", "treat", "normalise", "aggregate", "exclude")


def _spec_label(spec) -> str:
    d = spec.model_dump()
    fields = type(spec).model_fields
    params = [f"{k}={v}" for k, v in d.items() if k != "method" and v != fields[k].default]
    return f"{spec.method}({', '.join(params)})" if params else str(spec.method)


def _step_label(step) -> str:
    lab = _spec_label(step.spec)
    if step.by_level:
        lab += " by_level{" + ", ".join(f"{k}: {_spec_label(s)}" for k, s in step.by_level.items()) + "}"
    if step.by_node:
        lab += " by_node{" + ", ".join(f"{k}: {_spec_label(s)}" for k, s in step.by_node.items()) + "}"
    return lab


def _resolve_factors(spec: UncertaintySpec, result) -> list[_Factor]:
    fw = result.framework
    nominal = result.recipe
    factors: list[_Factor] = []
    seen_kinds: dict[str, str] = {}
    names: set[str] = set()
    weighted: dict[str, str] = {}
    excluded: dict[str, str] = {}
    for i, ch in enumerate(spec.choices):
        kind = ch.type
        default_name = kind if kind not in [f.kind for f in factors] else f"{kind}_{i + 1}"
        name = ch.name or default_name
        where = f"choice {i + 1} ('{name}')"
        if name in names:
            raise RecipeError(f"two uncertain choices are named '{name}'.", where=where,
                              hint="give every choice a unique 'name'.")
        names.add(name)
        if kind in ("impute", "treat", "normalise", "aggregate", "noise"):
            if kind in seen_kinds:
                raise RecipeError(f"choices '{seen_kinds[kind]}' and '{name}' both vary '{kind}'.", where=where,
                                  hint=f"merge them into one '{kind}' choice with all the alternatives.")
            seen_kinds[kind] = name
        if isinstance(ch, StepChoice):
            model = STEP_MODELS[kind]
            steps = []
            if ch.alternatives is not None:
                for j, alt in enumerate(ch.alternatives):
                    try:
                        steps.append(model.model_validate({"method": alt} if isinstance(alt, str) else alt))
                    except ValidationError as exc:
                        raise RecipeError(f"alternative {j + 1} of the '{kind}' choice is not a valid recipe step: "
                                          + recipe_mod._recipe_message(exc), where=where,
                                          hint=f"write it as in a recipe's '{kind}' step, e.g. "
                                               f"{{method: ...}}.") from None
                labels = [_step_label(s) for s in steps]
            else:
                param, values = next(iter(ch.vary.items()))
                base = getattr(nominal, kind)
                if param not in type(base.spec).model_fields:
                    raise RecipeError(f"the nominal '{kind}' method '{base.spec.method}' has no parameter "
                                      f"'{param}'.", where=where,
                                      hint=f"its parameters are: {', '.join(type(base.spec).model_fields)}; or give "
                                           f"'alternatives' instead of 'vary'.")
                for v in values:
                    d = base.to_plain()
                    d[param] = v
                    try:
                        steps.append(model.model_validate(d))
                    except ValidationError as exc:
                        raise RecipeError(f"'{param}: {v}' is not valid for '{kind}': "
                                          + recipe_mod._recipe_message(exc), where=where,
                                          hint="fix the value list of 'vary'.") from None
                labels = [f"{param}={v}" for v in values]
            if len(set(labels)) < len(labels):
                raise RecipeError(f"the '{kind}' choice lists the same alternative twice ({', '.join(labels)}).",
                                  where=where, hint="remove the duplicate.")
            factors.append(_Factor(name=name, kind=kind, dims=1, labels=labels, steps=steps, spec=ch))
        elif isinstance(ch, WeightsChoice):
            bad_lev = [lv for lv in ch.levels if lv not in fw.levels or lv == fw.top_level]
            if bad_lev:
                raise RecipeError(f"weights choice: level(s) {bad_lev} carry no weights in this framework.",
                                  where=where,
                                  hint=f"levels 1..{fw.top_level - 1} have weights (1 = indicators, "
                                       f"{fw.top_level} = the index has none).")
            unknown = [c for c in ch.nodes if c not in fw.nodes or c == fw.root]
            if unknown:
                raise RecipeError(f"weights choice: unknown or root node(s) {', '.join(unknown)}.", where=where,
                                  hint="use codes of nodes below the index.")
            sel = [c for c in fw.all_codes if c != fw.root and (fw.level(c) in ch.levels or c in ch.nodes)]
            for c in sel:
                if c in weighted:
                    raise RecipeError(f"the weight of '{c}' is perturbed by two choices ('{weighted[c]}' and "
                                      f"'{name}').", where=where, hint="perturb each weight in one choice only.")
                weighted[c] = name
                p = fw.parent(c)
                if result.weights[p].unit_specific:
                    raise RecipeError(f"the weights of the children of '{p}' are unit-specific "
                                      f"({result.weights[p].method}); they cannot be perturbed.", where=where,
                                      hint="perturb other levels, or use meta/equal weights for this node.")
            dims = 1 if ch.pool else len(sel)
            factors.append(_Factor(name=name, kind="weights", dims=dims, nodes=sel, spec=ch))
        elif isinstance(ch, ExcludeChoice):
            unknown = [c for c in ch.nodes if c not in fw.nodes or c == fw.root]
            if unknown:
                raise RecipeError(f"exclude choice: unknown or root node(s) {', '.join(unknown)}.", where=where,
                                  hint=f"use indicator or aggregate codes, e.g. {', '.join(fw.indicators[:4])}.")
            for c in ch.nodes:
                if c in excluded:
                    raise RecipeError(f"'{c}' is excluded by two choices ('{excluded[c]}' and '{name}').",
                                      where=where, hint="list each node in one exclude choice only.")
                excluded[c] = name
            alts: list[str | None] = ([None] if ch.include_none else []) + list(ch.nodes)
            if len(alts) < 2:
                raise RecipeError("an exclude choice without 'none' needs at least two nodes.", where=where,
                                  hint="add nodes or set include_none: true.")
            factors.append(_Factor(name=name, kind="exclude", dims=1, nodes=alts,
                                   labels=["none" if a is None else a for a in alts], spec=ch))
        elif isinstance(ch, NoiseChoice):
            unknown = [c for c in ch.by_indicator if c not in fw.indicators]
            if unknown:
                raise RecipeError(f"noise choice: unknown indicator(s) {', '.join(unknown)}.", where=where,
                                  hint="by_indicator keys must be indicator codes.")
            sig = np.array([ch.by_indicator.get(c, ch.relative) for c in fw.indicators], dtype=float)
            if not (sig > 0).any():
                raise RecipeError("noise choice: every relative error is zero.", where=where,
                                  hint="set 'relative' or 'by_indicator' to a positive value.")
            factors.append(_Factor(name=name, kind="noise", dims=1, spec=ch))
    return factors


# ========================================================================================= the engine
class _Engine:
    """Cached pipeline steps (stage A) and vectorised aggregation over draws (stage B) for one nominal build."""

    def __init__(self, result, factors: list[_Factor], seed: int):
        from dcindex.build import _Pipeline

        self._Pipeline = _Pipeline
        self.res = result
        self.fw = fw = result.framework
        self.panel = result.panel
        self.recipe = result.recipe
        self.seed = seed
        self.T, self.N, self.K = self.panel.values.shape
        self.codes = fw.all_codes
        self.pos = {c: i for i, c in enumerate(self.codes)}
        self.root = fw.root
        self.children = {a: fw.children(a) for a in fw.aggregates}
        self.child_idx = {a: [self.pos[c] for c in ch] for a, ch in self.children.items()}
        self.all_ind = {a: all(fw.nodes[c].is_indicator for c in ch) for a, ch in self.children.items()}
        for a in fw.aggregates:
            if result.weights[a].unit_specific:
                raise MethodError(
                    f"the weights of '{a}' are unit-specific ({result.weights[a].method}, benefit of the doubt); "
                    f"the uncertainty analysis and leave-one-out need weights per child.",
                    hint="use meta, equal or another per-child weighting method for this node.")
        self.W0 = {a: np.asarray(result.weights[a].used, dtype=float) for a in fw.aggregates}  # (T, C)
        self.factors = factors
        self.step_factor = {f.kind: f for f in factors if f.kind in STEP_MODELS}
        self.noise = next((f for f in factors if f.kind == "noise"), None)
        if self.noise is not None:
            ch = self.noise.spec
            self.sigma = np.array([ch.by_indicator.get(c, ch.relative) for c in fw.indicators], dtype=float)
        self._pipes: dict[tuple, Any] = {}
        self._den: np.ndarray | None = None
        self._cache: dict[tuple, np.ndarray] = {}
        self.data_driven = sorted({r.method for r in result.weights.values()
                                   if r.method not in ("meta", "equal", "ahp")})

    # --------------------------------------------------------------------------------- stage A
    def _recipe_for(self, idx: tuple[int, int, int]):
        key = tuple(idx)
        if key not in self._pipes:
            changes = {}
            for kind, i in zip(("impute", "treat", "normalise"), key):
                if kind in self.step_factor:
                    changes[kind] = self.step_factor[kind].steps[i]
            rc = self.recipe.replace(**changes) if changes else self.recipe
            self._pipes[key] = rc
        return self._pipes[key]

    def _pipeline(self, idx):
        return self._Pipeline(self.panel, self.fw, self._recipe_for(idx), {})

    def normalised(self, idx: tuple[int, ...], raw: np.ndarray | None = None, depth: int = 3) -> np.ndarray:
        """Normalised indicators (T, N, K) for the (impute, treat, normalise) alternatives ``idx``.

        Without ``raw`` (noise-free) every intermediate is cached by the prefix of choices that feed it; ``depth``
        1 or 2 stops after imputation or treatment (``idx`` may then be that prefix). The steps are the build's own
        (``_Pipeline`` methods), so a draw equals ``dcindex.build`` with that recipe. Thread-safe: distinct keys
        are independent, and a key computed twice by a race gives the same array.
        """
        if raw is None:
            idx = tuple(idx) + (0,) * (3 - len(idx))
            if depth == 3 and idx in self._cache:
                return self._cache[idx]
            imp_key = ("imp", idx[0])
            tr_key = ("tr", idx[0], idx[1])
            pl = self._pipeline(idx)
            if self._den is None:
                self._den = pl.denominate(self.panel.values)
            if imp_key not in self._cache:
                X2 = pl.impute(self._den)
                self._cache[imp_key] = pl.screen(X2) if hasattr(pl, "screen") else X2
            if depth == 1:
                return self._cache[imp_key]
            if tr_key not in self._cache:
                self._cache[tr_key] = pl.treat(self._cache[imp_key])[0]
            if depth == 2:
                return self._cache[tr_key]
            out = pl.normalise(self._cache[tr_key])
            self._cache[idx] = out
            return out
        pl = self._pipeline(idx)
        X = pl.impute(pl.denominate(raw))
        if hasattr(pl, "screen"):
            X = pl.screen(X)
        return pl.normalise(pl.treat(X)[0])

    def noisy_raw(self, key: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, int(key)])
        X0 = self.panel.values
        if self.noise.spec.distribution == "normal":
            e = rng.standard_normal(X0.shape)
        else:
            e = rng.uniform(-1.0, 1.0, X0.shape)
        return X0 * (1.0 + self.sigma * e)

    # --------------------------------------------------------------------------------- stage B
    def aggregate(self, Xn: np.ndarray, agg_step, mult: dict[str, np.ndarray] | None = None,
                  zero: dict[str, list[int]] | None = None, keep: tuple[str, ...] | None = None,
                  lazy: bool = False):
        """Aggregate normalised indicators ``Xn`` (dx, T, N, K) up to the index for a block of draws.

        ``mult``: weight multipliers per aggregate, (D, C); ``zero``: child positions with weight 0 per aggregate
        (exclusion: dropped and the other weights rescaled, like a missing child). Returns ({node: (d, T, N)} for
        ``keep`` (default: the root), failed (D,) bool, reasons {row: text}). With ``lazy`` a kept node may be a
        :class:`_Lin` (materialise rows of it with :meth:`_Lin.rows`).

        Nodes whose children do not vary by draw are computed once (no draw axis). Above them, arithmetic and
        geometric means of complete children are linear in the (log) children, so a draw-dependent node is kept
        as a linear form over the draw-free scores below it (:class:`_Lin`: a (d, T, J) coefficient array) and
        the forms of a parent and its children compose; the (d, T, N) scores are formed once, for the kept
        node. This is the same formula as the plain build's nested means (weights normalised level by level),
        re-associated: results agree to rounding (~1e-15 relative).
        """
        mult = mult or {}
        zero = zero or {}
        keep = keep or (self.root,)
        fw = self.fw
        D = max([Xn.shape[0]] + [m.shape[0] for m in mult.values()])
        failed = np.zeros(D, dtype=bool)
        reasons: dict[int, str] = {}
        vals: dict[str, Any] = {}
        T, N = self.T, self.N

        def is_complete(p):  # a linear form's bases are complete; a NaN coefficient (zero weight sum) is not
            return not np.isnan(p.coef if isinstance(p, _Lin) else p).any()

        for node in fw.aggregates:
            w = self.W0[node][None]  # (1, T, C)
            if node in mult:
                w = w * mult[node][:, None, :]
            if node in zero:
                w = w.copy()
                w[..., zero[node]] = 0.0
            spec = agg_step.resolve(node=node, level=fw.level(node))
            parts = [vals[c] if c in vals else Xn[..., self.pos[c]] for c in self.children[node]]
            fast = (spec.method in ("arithmetic", "geometric") and spec.min_coverage == 0
                    and all(is_complete(p) for p in parts))
            if fast and all(isinstance(p, _Lin) and p.method == spec.method or p.shape[0] == 1 for p in parts):
                if w.shape[0] == 1 and not any(isinstance(p, _Lin) for p in parts):
                    vals[node] = self._mean_fast(parts, w, spec.method, node, D, failed, reasons)
                else:
                    vals[node] = self._lin_mean(parts, w, spec.method, node, D, failed, reasons)
            else:
                parts = [p.rows() if isinstance(p, _Lin) else p for p in parts]
                if fast:
                    # Fast path (own code, same formulas as dcindex.aggregate): complete children, so the weighted
                    # mean is a sum over the few children of (d, T, N) arrays; the generic function first stacks
                    # the children into (D, T, N, C) and makes several masked copies, ~3x the memory traffic.
                    vals[node] = self._mean_fast(parts, w, spec.method, node, D, failed, reasons)
                else:
                    vals[node] = self._generic(node, parts, w, spec, Xn, D, failed, reasons)
            if node not in keep:
                # children no longer needed can be dropped to bound memory
                for c in self.children[node]:
                    if c in vals and c not in keep:
                        del vals[c]
        out = {k: vals[k] for k in keep}
        if not lazy:
            out = {k: v.rows() if isinstance(v, _Lin) else v for k, v in out.items()}
        return out, failed, reasons

    def _generic(self, node, parts, w, spec, Xn, D, failed, reasons):
        T, N = self.T, self.N
        if self.all_ind[node]:
            Y = Xn[..., self.child_idx[node]]
        else:
            d = max(p.shape[0] for p in parts)
            Y = np.stack([np.broadcast_to(p, (d, T, N)) for p in parts], axis=-1)
        d = max(Y.shape[0], w.shape[0])
        if Y.shape[0] != d:
            Y = np.broadcast_to(Y, (d,) + Y.shape[1:])
        if spec.method in ("geometric", "harmonic"):
            with np.errstate(invalid="ignore"):
                bad = (Y <= 0).any(axis=(1, 2, 3))  # NaN <= 0 is False: missing children are skipped
            if bad.any():
                self._fail(bad, D, failed, reasons, spec.method, node)
                Y = np.where(bad[:, None, None, None], 1.0, Y)
        return agg_mod.aggregate(Y, w[:, :, None, :], spec, node=node)

    @staticmethod
    def _fail(bad, D, failed, reasons, method, node):
        rows = np.flatnonzero(bad) if len(bad) == D else np.arange(D)
        for r in rows:
            reasons.setdefault(int(r), f"{method} aggregation of '{node}' met zero or negative children scores")
        failed[rows] = True

    def _mean_fast(self, parts, w, method, node, D, failed, reasons):
        wsum = w.sum(axis=-1)[:, :, None]  # (dw, T, 1)
        acc = None
        if method == "geometric":
            bad = np.zeros(max([p.shape[0] for p in parts] + [w.shape[0]]), dtype=bool)
            for p in parts:
                bad = bad | (p <= 0).any(axis=(1, 2))
            if bad.any():
                self._fail(bad, D, failed, reasons, method, node)
        with np.errstate(invalid="ignore", divide="ignore"):
            for c, p in enumerate(parts):
                term = w[:, :, c][:, :, None] * (np.log(p) if method == "geometric" else p)
                acc = term if acc is None else acc + term
            out = acc / wsum
            if method == "geometric":
                out = np.exp(out)
            return np.where(wsum > 0, out, np.nan)

    def _lin_mean(self, parts, w, method, node, D, failed, reasons):
        """Weighted arithmetic/geometric mean as a linear form: children that are draw-free (1, T, N) arrays
        become bases (their logs for a geometric mean), children that are linear forms of the same method
        contribute their coefficients times the child's normalised weight."""
        wsum = w.sum(axis=-1)  # (dw, T)
        with np.errstate(invalid="ignore", divide="ignore"):
            wn = np.where(wsum[..., None] > 0, w / wsum[..., None], np.nan)  # (dw, T, C)
        coefs, bases = [], []
        for c, p in enumerate(parts):
            if isinstance(p, _Lin):
                coefs.append(wn[:, :, c:c + 1] * p.coef)
                bases.extend(p.bases)
            else:
                b = p[0]
                if method == "geometric":
                    if (b <= 0).any():
                        self._fail(np.ones(1, dtype=bool), D, failed, reasons, method, node)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        b = np.log(b)
                coefs.append(wn[:, :, c:c + 1])
                bases.append(b)
        d = max(cf.shape[0] for cf in coefs)
        coef = np.concatenate([np.broadcast_to(cf, (d,) + cf.shape[1:]) for cf in coefs], axis=-1)
        return _Lin(method, coef, bases)


class _Lin:
    """A draw-dependent score kept as a linear form over draw-free (T, N) arrays (bases):
    value[d, t, n] = sum_j coef[d, t, j] base_j[t, n] (arithmetic), or exp of that sum over log bases (geometric).
    A coefficient is NaN where a weight sum was zero, which makes the score NaN as in the plain build."""

    __slots__ = ("method", "coef", "bases")

    def __init__(self, method: str, coef: np.ndarray, bases: list[np.ndarray]):
        self.method, self.coef, self.bases = method, coef, bases

    @property
    def shape(self):
        return (self.coef.shape[0],) + self.bases[0].shape

    def rows(self, sel=slice(None), out: np.ndarray | None = None) -> np.ndarray:
        """Scores (d, T, N) of the draws ``sel`` (elementwise numpy: the same bits for any block size)."""
        cf = self.coef[sel]
        acc = np.multiply(cf[:, :, 0, None], self.bases[0][None], out=out)
        tmp = np.empty_like(acc)
        for j in range(1, len(self.bases)):
            np.multiply(cf[:, :, j, None], self.bases[j][None], out=tmp)
            acc += tmp
        if self.method == "geometric":
            np.exp(acc, out=acc)
        return acc


# ================================================================================================ draws
@dataclass
class _Design:
    U: np.ndarray  # (n_runs, d)
    dim_factor: list[int]  # factor index of every column
    sensitivity: bool
    n_base: int
    n_groups: int


def _n_runs(factors: list[_Factor], n: int, sensitivity: bool) -> int:
    """Number of runs :func:`_design` makes (computed without building the design)."""
    G = len(factors)
    if sensitivity and G >= 2:
        return max(2, n // (G + 2)) * (G + 2)
    return n


def _blas_limit(n_threads: int):
    """Context: one BLAS thread per worker. Our own threads run the blocks in parallel (OpenBLAS's threads would
    otherwise spin on the cores those workers need), and ``n_jobs=1`` means one thread. Uses threadpoolctl when it
    is installed (it comes with scikit-learn); without it, BLAS keeps its own setting."""
    from contextlib import nullcontext

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _n_threads(n_jobs: int | None) -> int:
    """Worker threads: ``n_jobs``, or every core of the machine (``os.cpu_count()``). The output does not depend
    on it: every block's result is written to its own rows and reduced in a fixed order."""
    if n_jobs is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise InputError(f"the number of threads must be a positive whole number, not {n_jobs!r}.",
                         hint="give --threads 1 or more (default: all cores).")
    return int(n_jobs)


def _design(factors: list[_Factor], n: int, seed: int, sensitivity: bool) -> _Design:
    from scipy.stats import qmc

    dim_factor = [i for i, f in enumerate(factors) for _ in range(f.dims)]
    d = len(dim_factor)
    G = len(factors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Sobol balance warning for n not a power of two
        if sensitivity and G >= 2:
            from SALib.sample import sobol as salib_sobol

            base = max(2, n // (G + 2))
            problem = {"num_vars": d, "names": [f"x{j}" for j in range(d)], "bounds": [[0.0, 1.0]] * d,
                       "groups": [factors[i].name for i in dim_factor]}
            U = salib_sobol.sample(problem, base, calc_second_order=False, scramble=True, seed=seed)
            return _Design(U=U, dim_factor=dim_factor, sensitivity=True, n_base=base, n_groups=G)
        if d == 0:
            return _Design(U=np.zeros((n, 0)), dim_factor=[], sensitivity=False, n_base=n, n_groups=0)
        U = qmc.Sobol(d, scramble=True, rng=seed).random(n)
        return _Design(U=U, dim_factor=dim_factor, sensitivity=False, n_base=n, n_groups=G)


@dataclass
class _Params:
    cat: dict[str, np.ndarray]  # factor name -> alternative index (n_runs,)
    mult: dict[str, np.ndarray]  # aggregate -> (n_runs, C) weight multipliers
    noise_key: np.ndarray | None
    excl: dict[str, np.ndarray]  # exclude factor name -> alternative index


def _params(design: _Design, factors: list[_Factor], eng: _Engine, seed: int) -> _Params:
    from scipy.stats import gamma, qmc

    U = design.U
    n_runs = U.shape[0]
    cols = {i: [j for j, f in enumerate(design.dim_factor) if f == i] for i in range(len(factors))}
    cat: dict[str, np.ndarray] = {}
    mult: dict[str, np.ndarray] = {}
    noise_key = None
    fw = eng.fw
    for i, f in enumerate(factors):
        u = U[:, cols[i]]
        if f.categorical:
            m = len(f.labels)
            cat[f.name] = np.minimum((u[:, 0] * m).astype(np.int64), m - 1)
        elif f.kind == "noise":
            noise_key = (u[:, 0] * 2.0**52).astype(np.int64)
        elif f.kind == "weights":
            ch = f.spec
            if ch.pool:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pool_u = qmc.Sobol(len(f.nodes), scramble=True, rng=seed + 7919 * (i + 1)).random(ch.pool)
                pick = np.minimum((u[:, 0] * ch.pool).astype(np.int64), ch.pool - 1)
                u = pool_u[pick]
            nominal = {c: float(eng.W0[fw.parent(c)].mean(axis=0)[fw.children(fw.parent(c)).index(c)])
                       for c in f.nodes}
            m_all = np.ones((n_runs, len(f.nodes)))
            if ch.distribution == "uniform":
                m_all = 1.0 + ch.amount * (2.0 * u - 1.0)
            else:  # Dirichlet per sibling set, keeping the selected siblings' total
                by_parent: dict[str, list[int]] = {}
                for j, c in enumerate(f.nodes):
                    by_parent.setdefault(fw.parent(c), []).append(j)
                uu = np.clip(u, 1e-12, 1 - 1e-12)
                for p, js in by_parent.items():
                    w = np.array([nominal[f.nodes[j]] for j in js])
                    tot = w.sum()
                    if len(js) < 2 or tot <= 0:
                        continue
                    g = gamma.ppf(uu[:, js], ch.concentration * w / tot)
                    new = tot * g / g.sum(axis=1, keepdims=True)
                    m_all[:, js] = np.where(w > 0, new / np.where(w > 0, w, 1.0), 1.0)
            for j, c in enumerate(f.nodes):
                p = fw.parent(c)
                if p not in mult:
                    mult[p] = np.ones((n_runs, len(fw.children(p))))
                mult[p][:, fw.children(p).index(c)] = m_all[:, j]
    excl = {f.name: cat[f.name] for f in factors if f.kind == "exclude"}
    return _Params(cat=cat, mult=mult, noise_key=noise_key, excl=excl)


# ================================================================================================ result
class UncertaintyResult:
    """Uncertainty (and sensitivity) analysis of one build. Tidy tables: :attr:`ranks`, :attr:`pairs`,
    :attr:`overtakes`, :attr:`draws`, :attr:`sensitivity`, :attr:`sensitivity_units`, :attr:`convergence`."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    # ------------------------------------------------------------------------------------ views
    @property
    def n_failed(self) -> int:
        return int((~self.ok).sum())

    def headline(self) -> str:
        r = self.ranks
        last = r[r["year"] == r["year"].max()]
        width = (last["q95_rank"] - last["q05_rank"]).median()
        txt = (f"{len(self.draws)} draws of {len(self.factors)} uncertain choice(s)"
               + (f", {self.n_failed} failed" if self.n_failed else "")
               + f"; median 90% rank interval width {width:.0f} places in {int(last['year'].iloc[0])}")
        if self.sensitivity is not None and len(self.sensitivity):
            s = self.sensitivity[self.sensitivity["year"] == "all"].sort_values("ST", ascending=False)
            top = s.iloc[0]
            txt += f"; most influential: {top['factor']} (total index {top['ST']:.2f})"
        return txt + "."

    def summary(self, top: int = 10) -> str:
        from rich.cells import cell_len

        fw = self.framework
        lines = [
            "dcindex uncertainty analysis",
            "=" * 78,
            f"Index:            {fw.root}   units: {len(self.units)}   years: {self.years[0]}-{self.years[-1]}",
            "Design:           " + (f"Saltelli/Sobol (SALib), base N = {self.n_base}" if self.design_sa
                                    else "scrambled Sobol sequence") + f"   seed = {self.seed}",
            f"Draws:            {len(self.draws)} run ({self.n_requested} requested), {self.n_failed} failed",
        ]
        if self.n_failed:
            for reason, cnt in self.draws.loc[~self.ok, "reason"].value_counts().items():
                lines.append(f"  failed x{cnt}: {reason}")
        lines.append("Uncertain choices:")
        for f in self.factors:
            if f["labels"]:
                alts = ", ".join(f["labels"])
            else:
                alts = f["description"]
            lines.append(f"  {_pad(f['name'], 22)} {f['kind']:<10} {alts[:90]}")
        yr = self.years[-1]
        r = self.ranks[self.ranks["year"] == yr].sort_values("nominal_rank").head(top)
        lines.append("-" * 78)
        lines.append(f"Ranks in {yr} (top {len(r)} by nominal rank)")
        labels = self._labels()
        wl = min(30, max([10] + [cell_len(labels.get(c, str(c))) for c in r["unit"]]))
        score_head = "score" + (" (nominal scale)" if self.score_scale == "nominal" else "")
        lines.append(f"  {_pad('', wl)}{'rank':-^36}   {score_head:-^26}")
        lines.append(f"  {_pad('unit', wl)}{'nominal':>8}{'median':>8}{'mean':>8}{'q05':>6}{'q95':>6}   "
                     f"{'nominal':>8}{'q05':>9}{'q95':>9}")
        for _, x in r.iterrows():
            lines.append(f"  {_pad(labels.get(x['unit'], str(x['unit'])), wl)}{_fmt(x['nominal_rank'], 0):>8}"
                         f"{_fmt(x['median_rank'], 1):>8}"
                         f"{_fmt(x['mean_rank'], 2):>8}{_fmt(x['q05_rank'], 0):>6}{_fmt(x['q95_rank'], 0):>6}   "
                         f"{_fmt(x['nominal_score'], 2):>8}{_fmt(x['q05_score'], 2):>9}{_fmt(x['q95_score'], 2):>9}")
        lines.append(f"  {self.score_scale_note()}")
        if self.sensitivity is not None and len(self.sensitivity):
            s = self.sensitivity[self.sensitivity["year"] == "all"]
            lines.append("-" * 78)
            lines.append(f"Sobol indices, target: mean |rank - nominal rank| (COINr); ± {int(self.conf_level * 100)}% "
                         f"bootstrap CI")
            lines.append(f"  {'factor':<24}{'S1':>8}{'± CI':>8}{'ST':>8}{'± CI':>8}")
            for _, x in s.sort_values("ST", ascending=False).iterrows():
                lines.append(f"  {_pad(str(x['factor']), 24)}{x['S1']:>8.3f}{x['S1_conf']:>8.3f}{x['ST']:>8.3f}"
                             f"{x['ST_conf']:>8.3f}")
            if self.convergence is not None and len(self.convergence):
                lines.append(f"  convergence: {self.convergence_note}")
        elif self.sensitivity_note:
            lines.append(f"Sensitivity: {self.sensitivity_note}")
        for w in self.warnings:
            lines.append(f"Note: {w}")
        lines.append("=" * 78)
        return "\n".join(lines)

    def score_scale_note(self) -> str:
        """One sentence saying on which scale the score statistics are."""
        if self.score_scale == "nominal":
            why = (f" because {', '.join(self.scale_changers)} change(s) the scale of the scores"
                   if self.scale_changers else "")
            return ("Score statistics are on the nominal scale: each draw's index scores are mapped linearly to the "
                    f"nominal scores' mean and SD over all unit-years{why}. Ranks are not affected.")
        if self.scale_changers:
            return (f"Score statistics MIX SCALES ({', '.join(self.scale_changers)} change(s) the scale of the "
                    f"scores); compare ranks, or use score_scale: nominal.")
        return "Score statistics are on the draws' own scale (no choice changes it)."

    def pairs_table(self, year: int | None = None, adjacent_only: bool = True) -> pd.DataFrame:
        """Pairs of the last (or given) year; for 'top10' only adjacent nominal ranks by default."""
        yr = self.years[-1] if year is None else year
        p = self.pairs[self.pairs["year"] == yr]
        if adjacent_only and self.pairs_mode == "top10":
            p = p[p["adjacent"]]
        return p

    def pairs_display(self, year: int | None = None, max_rows: int = 20) -> tuple[pd.DataFrame, str]:
        """The pairs to print: for 'top10' the nominal neighbours; otherwise all pairs if there are at most
        ``max_rows``, else the ``max_rows`` pairs whose order is most uncertain (P(A above B) closest to
        P(B above A); ties broken by the better nominal rank). Returns (table, note saying what was left out)."""
        p = self.pairs_table(year)
        if self.pairs_mode == "top10" or len(p) <= max_rows:
            return p, ""
        gap = (p["p_a_above_b"] - p["p_b_above_a"]).abs().to_numpy()
        best = np.fmin(p["nominal_rank_a"].to_numpy(dtype=float), p["nominal_rank_b"].to_numpy(dtype=float))
        order = np.lexsort((np.arange(len(p)), np.nan_to_num(best, nan=np.inf), np.nan_to_num(gap, nan=np.inf)))
        shown = p.iloc[order[:max_rows]]
        note = (f"Showing the {len(shown)} of {len(p):,} pairs whose order is most uncertain; every pair (all years) "
                f"is in pairs.csv.")
        return shown, note

    def unit_label(self, code) -> str:
        """``code`` followed by the unit's name(s) from the build's unit table (Chinese and English names when
        both are given), e.g. ``110000 北京市 Beijing``; just the code when the name is the code."""
        return self._labels().get(code, str(code))

    def _labels(self) -> dict:
        if getattr(self, "_label_cache", None) is None:
            self._label_cache = _unit_labels(self.nominal)
        return self._label_cache

    # ------------------------------------------------------------------------------------ replay
    def replay(self, draw: int):
        """Build draw ``draw`` with the plain pipeline (``dcindex.build``) from its recorded parameters.

        Weights are passed as framework (meta) weights equal to the ones the draw used, so the result equals the
        draw's index exactly for year-constant weights (meta, equal, AHP, pooled data-driven weights).
        """
        from dcindex.build import _Pipeline
        from dcindex.data import Panel

        eng, prm = self._engine, self._params
        res = self.nominal
        fw = res.framework
        changes = {}
        for f in eng.factors:
            if f.kind in STEP_MODELS:
                changes[f.kind] = f.steps[int(prm.cat[f.name][draw])]
        changes["weights"] = {"method": "meta"}
        recipe = res.recipe.replace(**changes)
        new_w = {}
        for a in fw.aggregates:
            w = eng.W0[a].mean(axis=0) * (prm.mult[a][draw] if a in prm.mult else 1.0)
            for c, wc in zip(fw.children(a), w):
                new_w[c] = float(wc)
        fw2 = fw.with_weights(new_w)
        drop = [f.nodes[int(prm.excl[f.name][draw])] for f in eng.factors if f.kind == "exclude"]
        drop = [c for c in drop if c is not None]
        if drop:
            fw2 = fw2.without(drop)
        values = res.panel.values if prm.noise_key is None else eng.noisy_raw(int(prm.noise_key[draw]))
        keep = [res.panel.indicators.index(c) for c in fw2.indicators]
        p = res.panel
        panel = Panel(units=p.units, years=p.years, indicators=list(fw2.indicators), values=values[..., keep],
                      denominator_codes=p.denominator_codes, denominators=p.denominators, sources=p.sources,
                      notes=p.notes)
        return _Pipeline(panel, fw2, recipe, {}).run()

    # ------------------------------------------------------------------------------------ export
    def to_dir(self, path: str | Path) -> Path:
        from dcindex.io import atomic_write_text, write_csv, write_json

        out = Path(path)
        if out.exists() and not out.is_dir():
            raise InputError("the output path exists and is not a folder.", where=str(out),
                             hint="choose another folder.")
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "ranks.csv", self.ranks)
        write_csv(out / "pairs.csv", self.pairs)
        write_csv(out / "overtakes.csv", self.overtakes)
        write_csv(out / "draws.csv", self.draws)
        if self.sensitivity is not None:
            write_csv(out / "sensitivity.csv", self.sensitivity)
            write_csv(out / "sensitivity_units.csv", self.sensitivity_units)
            write_csv(out / "convergence.csv", self.convergence)
        atomic_write_text(out / "spec.yaml", yaml.safe_dump(self.spec.to_plain(), allow_unicode=True,
                                                           sort_keys=False))
        write_json(out / "summary.json", self.to_json())
        atomic_write_text(out / "summary.txt", self.summary() + "\n")
        return out

    def to_json(self) -> dict[str, Any]:
        from dcindex import __version__

        sens = None
        if self.sensitivity is not None:
            s = self.sensitivity[self.sensitivity["year"] == "all"]
            sens = {r["factor"]: {k: r[k] for k in ("S1", "S1_conf", "ST", "ST_conf")} for _, r in s.iterrows()}
        fails = self.draws.loc[~self.ok, "reason"].value_counts()
        return {
            "dcindex_version": __version__,
            "index": self.framework.root,
            "nominal_scores_sha256": self.nominal.manifest.get("scores_sha256"),
            "seed": self.seed,
            "n_requested": self.n_requested,
            "n_draws": int(len(self.draws)),
            "n_failed": self.n_failed,
            "failures": {str(k): int(v) for k, v in fails.items()},
            "design": "saltelli" if self.design_sa else "sobol",
            "n_base": self.n_base,
            "factors": self.factors,
            "headline": self.headline(),
            "sensitivity": sens,
            "convergence": self.convergence_note,
            "sensitivity_note": self.sensitivity_note,
            "score_scale": self.score_scale,
            "score_scale_note": self.score_scale_note(),
            "warnings": list(self.warnings),
            "spec": self.spec.to_plain(),
        }

    def __repr__(self) -> str:
        return (f"UncertaintyResult(index={self.framework.root!r}, draws={len(self.draws)}, "
                f"failed={self.n_failed}, factors={[f['name'] for f in self.factors]})")


def _unit_labels(result) -> dict:
    """code -> "code name" (name_zh and name_en when both are present and differ)."""
    u = result.units
    out = {}
    for i, code in enumerate(result.unit_codes):
        names = []
        for col in ("name_zh", "name_en") if {"name_zh", "name_en"} <= set(u.columns) else ("name",):
            if col in u.columns:
                v = u[col].iloc[i]
                if isinstance(v, str) and v.strip() and v != str(code) and v not in names:
                    names.append(v.strip())
        out[code] = " ".join([str(code)] + names)
    return out


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal cells (CJK characters take two), truncating if needed."""
    from rich.cells import cell_len, set_cell_size

    return set_cell_size(text, width) if cell_len(text) != width else text


def _fmt(v, nd):
    if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):
        return "-"
    return f"{v:.{nd}f}"


# ============================================================================================ main entry
def uncertainty(result, spec: Any = None, *, n: int | None = None, seed: int | None = None,
                pairs: str | list[str] | None = None, sensitivity: bool | None = None,
                bootstrap: int | None = None, n_jobs: int | None = None, chunk_elements: int = 4_000_000,
                progress: bool | None = None) -> UncertaintyResult:
    """Uncertainty and sensitivity analysis of the build ``result`` (a :class:`~dcindex.build.BuildResult`).

    ``spec``: an :class:`UncertaintySpec`, a dict or a YAML path; ``n``/``seed``/``pairs``/``sensitivity``/
    ``bootstrap`` override the specification. ``pairs``: ``"top10"`` (all pairs of the last year's top 10),
    ``"all"`` or a list of ``"A:B"``. ``n_jobs``: worker threads (default: every core, ``os.cpu_count()``); the
    output is the same for any number. ``progress``: show a rich progress bar (default: when stderr is a
    terminal).
    """
    from contextlib import nullcontext

    nj = _n_threads(n_jobs)
    with _blas_limit(nj), (ThreadPoolExecutor(max_workers=nj) if nj > 1 else nullcontext()) as pool:
        return _uncertainty(result, spec, n=n, seed=seed, pairs=pairs, sensitivity=sensitivity, bootstrap=bootstrap,
                            nj=nj, pool=pool, chunk_elements=chunk_elements, progress=progress)


def _uncertainty(result, spec, *, n, seed, pairs, sensitivity, bootstrap, nj, pool, chunk_elements, progress):
    import time

    tick = {"start": time.perf_counter()}
    result = _as_result(result)
    sp = UncertaintySpec.from_any(spec)
    upd = {k: v for k, v in dict(n=n, seed=seed, pairs=pairs, sensitivity=sensitivity, bootstrap=bootstrap).items()
           if v is not None}
    if upd:  # overrides (keyword arguments, command-line options) are validated like the specification itself
        try:
            sp = UncertaintySpec.model_validate({**sp.model_dump(), **upd})
        except ValidationError as exc:
            raise RecipeError(_spec_message(exc), where="the override(s) " + ", ".join(
                f"{k}={v!r}" for k, v in upd.items()),
                hint="give n (--n) 2 or more, seed (--seed) 0 or more, bootstrap 0 or more, and pairs as 'top10', "
                     "'all' or 'A:B,C:D'.") from None
    factors = _resolve_factors(sp, result)
    eng = _Engine(result, factors, sp.seed)
    T, N = eng.T, eng.N
    # the memory check comes before the sampling design is built: a design of millions of rows alone takes
    # seconds and gigabytes
    n_runs = _n_runs(factors, sp.n, sp.sensitivity)
    dims = sum(f.dims for f in factors)
    need = n_runs * (T * N * 16 + dims * 8)  # every draw's index scores and ranks (float64), and the design
    if need > MAX_BYTES:
        raise MethodError(
            f"{n_runs} draws x {T} year(s) x {N} units need {need / 1e9:.1f} GB for the draws' scores and ranks "
            f"(limit {MAX_BYTES / 1e9:.0f} GB).",
            hint=f"use fewer draws (n; at most about {int(MAX_BYTES // (T * N * 16 + dims * 8)):,} here), or analyse "
                 f"fewer years (build the result on a sub-panel); intermediate arrays are processed in chunks, but "
                 f"every draw's index ranks are needed for the intervals.")
    design = _design(factors, sp.n, sp.seed, sp.sensitivity)
    prm = _params(design, factors, eng, sp.seed)
    assert design.U.shape[0] == n_runs
    warn: list[str] = []
    if eng.data_driven:
        warn.append(f"data-driven weights ({', '.join(eng.data_driven)}) are held at the values of the nominal build "
                    f"(perturbations are applied around them); they are not recomputed per draw.")

    # ---- categorical keys of every draw
    fstep = eng.step_factor
    imp = prm.cat[fstep["impute"].name] if "impute" in fstep else np.zeros(n_runs, np.int64)
    tr = prm.cat[fstep["treat"].name] if "treat" in fstep else np.zeros(n_runs, np.int64)
    no = prm.cat[fstep["normalise"].name] if "normalise" in fstep else np.zeros(n_runs, np.int64)
    ag = prm.cat[fstep["aggregate"].name] if "aggregate" in fstep else np.zeros(n_runs, np.int64)
    excl_f = [f for f in factors if f.kind == "exclude"]
    ex = (np.stack([prm.excl[f.name] for f in excl_f], axis=1) if excl_f else np.zeros((n_runs, 0), np.int64))
    agg_steps = fstep["aggregate"].steps if "aggregate" in fstep else [result.recipe.aggregate]

    # ---- up-front: every distinct categorical combination at nominal weights (conflicts are errors). The
    # distinct imputations, treatments, normalisations and aggregations are computed stage by stage on the
    # thread pool; the checks then run in a fixed order, so the error raised does not depend on the threads.
    combos = np.unique(np.stack([imp, tr, no, ag], axis=1), axis=0)
    def pmap(f, xs):
        return list(pool.map(f, xs)) if pool is not None else [f(x) for x in xs]

    def quiet(f):
        def g(x):
            try:
                return f(x)
            except DcindexError:
                return None  # raised again, in order, by the checks below
        return g

    idxs = sorted({(int(c[0]), int(c[1]), int(c[2])) for c in combos})
    for depth in (1, 2, 3):
        pmap(quiet(lambda key: eng.normalised(key, depth=depth)), sorted({i[:depth] for i in idxs}))
    nominal_aggs = dict(zip(map(tuple, combos.tolist()), pmap(quiet(
        lambda c: eng.aggregate(eng.normalised(tuple(int(v) for v in c[:3]))[None], agg_steps[int(c[3])])),
        combos)))
    for ci, cti, cni, cai in combos:
        idx = (int(ci), int(cti), int(cni))
        try:
            Xn = eng.normalised(idx)
        except DcindexError as exc:
            raise RecipeError(
                f"the combination {_combo_label(factors, idx, None)} cannot be built: {exc.message}",
                hint=(exc.hint or "") + " Remove or change the alternative that fails.") from None
        agg_out = nominal_aggs.get((int(ci), int(cti), int(cni), int(cai)))
        _, failed, reasons = agg_out if agg_out is not None else eng.aggregate(Xn[None], agg_steps[int(cai)])
        if failed.any():
            fn = next((f for f in factors if f.kind == "normalise"), None)
            fa = next((f for f in factors if f.kind == "aggregate"), None)
            both = " and ".join(
                ([f"{fn.name} = {fn.labels[idx[2]]}"] if fn else [f"the nominal normalisation "
                                                                  f"({_step_label(result.recipe.normalise)})"])
                + ([f"{fa.name} = {fa.labels[int(cai)]}"] if fa else [f"the nominal aggregation "
                                                                      f"({_step_label(result.recipe.aggregate)})"]))
            raise RecipeError(
                f"conflicting uncertain choices: {both} cannot be combined: {reasons[0]} (first met in the "
                f"combination {_combo_label(factors, idx, int(cai))}), because that normalisation produces zero or "
                f"negative values on these data.",
                hint="drop one of the two alternatives, or use a normalisation with a positive range (e.g. minmax "
                     "with low: 1) together with geometric/harmonic aggregation.")

    tick["settings"] = time.perf_counter()
    # ---- draws with identical parameters are computed once: in a Saltelli design the AB_j row equals the A row
    # whenever factor j is categorical and B's alternative happens to be A's (1/m of the time for m alternatives)
    cat_keys = np.concatenate([np.stack([imp, tr, no, ag], axis=1), ex], axis=1)
    sig = [cat_keys.astype(float)] + [prm.mult[a] for a in sorted(prm.mult)]
    if prm.noise_key is not None:
        sig.append(prm.noise_key[:, None].astype(float))
    _, first, rep_inv = np.unique(np.concatenate(sig, axis=1), axis=0, return_index=True, return_inverse=True)
    rep = first[rep_inv.reshape(-1)]  # the draw computed for each draw (itself for the first of its kind)
    distinct = np.flatnonzero(rep == np.arange(n_runs))
    # ---- groups of draws sharing every categorical choice
    _, inv = np.unique(cat_keys[distinct], axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    groups = [distinct[inv == g] for g in range(inv.max() + 1)]
    cmax = max(len(v) for v in eng.children.values())
    if prm.noise_key is not None:
        cmax = max(cmax, eng.K)  # every noisy draw carries its own (T, N, K) normalised data
    per = max(1, int(chunk_elements // max(1, T * N * cmax)))
    tasks = [(g, g_ids[i:i + per]) for g, g_ids in enumerate(groups) for i in range(0, len(g_ids), per)]

    # every row is either written by its task or marked failed (and set to NaN below), so no NaN pre-fill
    S = np.empty((n_runs, T, N))
    R = np.empty((n_runs, T, N))
    # per draw, computed while its scores and ranks are in cache: the mean and sd of its index scores over all
    # unit-years (the score-scale map) and COINr's target, mean |rank - nominal rank| (all unit-years, each year)
    mom = np.full((n_runs, 2), np.nan)
    tgt = np.full((n_runs, 1 + T), np.nan)
    root_i = eng.pos[eng.root]
    R0 = result.ranks_array[..., root_i]
    S0 = result.scores_array[..., root_i]

    scale_changers = [f.name for f in factors if f.kind in ("normalise", "aggregate")]
    score_scale = sp.score_scale if sp.score_scale != "auto" else ("nominal" if scale_changers else "raw")

    def summarise(v, rk, rows):
        h = v.shape[0]
        X = v.reshape(h, -1)
        dev = np.abs(rk - R0[None])
        if np.isnan(rk).any() or np.isnan(R0).any():  # a rank is NaN exactly where the score is
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                if score_scale == "nominal":
                    mom[rows, 0], mom[rows, 1] = np.nanmean(X, axis=1), np.nanstd(X, axis=1)
                tgt[rows, 0] = np.nanmean(dev.reshape(h, -1), axis=1)
                tgt[rows, 1:] = np.nanmean(dev, axis=2)
        else:
            if score_scale == "nominal":
                mom[rows, 0], mom[rows, 1] = X.mean(axis=1), X.std(axis=1)
            tgt[rows, 0] = dev.reshape(h, -1).mean(axis=1)
            tgt[rows, 1:] = dev.mean(axis=2)
    ok = np.ones(n_runs, dtype=bool)
    reason = np.array([""] * n_runs, dtype=object)

    def run_task(task):
        _, ids = task
        d0 = ids[0]
        idx = (int(imp[d0]), int(tr[d0]), int(no[d0]))
        fail_local: dict[int, str] = {}
        if prm.noise_key is None:
            Xn = eng.normalised(idx)[None]
            live = np.arange(len(ids))
        else:
            mats, live_l = [], []
            for j, d in enumerate(ids):
                try:
                    mats.append(eng.normalised(idx, raw=eng.noisy_raw(int(prm.noise_key[d]))))
                    live_l.append(j)
                except DcindexError as exc:
                    fail_local[j] = f"noise realisation: {exc.message}"
            live = np.array(live_l, dtype=np.int64)
            if not len(live):
                return ids, None, live, fail_local
            Xn = np.stack(mats)
        sub = ids[live]
        mult = {a: m[sub] for a, m in prm.mult.items()}
        zero: dict[str, list[int]] = {}
        for k, f in enumerate(excl_f):
            c = f.nodes[int(ex[d0, k])]
            if c is not None:
                p = eng.fw.parent(c)
                zero.setdefault(p, []).append(eng.fw.children(p).index(c))
        out, failed, reasons = eng.aggregate(Xn, agg_steps[int(ag[d0])], mult, zero, lazy=True)
        root = out[eng.root]
        if root.shape[0] == 1:  # nothing in this block varies by draw below the index
            v = root.rows() if isinstance(root, _Lin) else root
            rk = rank_desc(v, axis=-1)
            S[sub] = v
            R[sub] = rk
            summarise(np.broadcast_to(v, (len(sub), T, N)), np.broadcast_to(rk, (len(sub), T, N)), sub)
        else:
            # the index scores and ranks of a few draws at a time (~1 MB), formed, ranked and stored while in cache
            blk = max(1, (1 << 17) // (T * N))
            buf = np.empty((min(blk, len(sub)), T, N))
            for lo in range(0, len(sub), blk):
                hi = min(lo + blk, len(sub))
                if isinstance(root, _Lin):
                    v = root.rows(slice(lo, hi), out=buf[: hi - lo])
                else:
                    v = root[lo:hi]
                rk = rank_desc(v, axis=-1)
                S[sub[lo:hi]] = v
                R[sub[lo:hi]] = rk
                summarise(v, rk, sub[lo:hi])
        for r, txt in reasons.items():
            fail_local[int(live[r])] = txt
        return ids, None, live, fail_local

    show = progress if progress is not None else (os.isatty(2) and n_runs * T * N > 2_000_000)
    def store(res_task):  # failures are recorded here; the scores and ranks were written by the task itself
        ids, _, live, fail_local = res_task  # scores and ranks were stored by the task (its own rows)
        for j, txt in fail_local.items():
            ok[ids[j]] = False
            reason[ids[j]] = txt

    ex_pool = pool if len(tasks) > 1 else None
    it = ex_pool.map(run_task, tasks) if ex_pool is not None else map(run_task, tasks)
    if show:
        from rich.progress import Progress

        with Progress(transient=True) as pb:
            tid = pb.add_task(f"{n_runs} draws", total=len(tasks))
            for r in it:
                store(r)
                pb.advance(tid)
    else:
        for r in it:
            store(r)
    dup = np.flatnonzero(rep != np.arange(n_runs))
    if len(dup):
        src = rep[dup]
        S[dup], R[dup], mom[dup], tgt[dup] = S[src], R[src], mom[src], tgt[src]
        ok[dup], reason[dup] = ok[src], reason[src]
    S[~ok] = np.nan
    R[~ok] = np.nan
    tick["draws"] = time.perf_counter()

    # ---- statistics per unit and year, pairs, and (independently) the Sobol indices: two blocks that can run
    # on the two cores at once (their heavy parts are numpy sorts and matrix products, which release the GIL)
    pmode = sp.pairs if isinstance(sp.pairs, str) else "list"
    pair_list = _pair_list(result, sp.pairs, R0)

    if score_scale == "raw" and scale_changers:
        warn.append(f"score statistics mix scales: {', '.join(scale_changers)} change(s) the scale of the index "
                    f"scores, and score_scale is 'raw'; compare ranks, or use score_scale: nominal.")

    def block_stats():
        Rok, Sok = (R, S) if ok.all() else (R[ok], S[ok])
        return _stats_table(result, Rok, Sok, R0, S0, score_scale, mom[ok])

    def block_pairs():
        return _pairs_tables(result, R if ok.all() else R[ok], R0, pair_list, pmode)

    def start_sens(submit):
        if design.sensitivity:
            return _sensitivity(result, design, factors, R, tgt, ok, sp, submit=submit)
        note = ("no sensitivity analysis: it needs at least two uncertain choices "
                f"(there {'is' if len(factors) == 1 else 'are'} {len(factors)})." if sp.sensitivity else "")
        return lambda: (None, None, None, "", note)

    # the Sobol pieces and the pairs go to the pool, the statistics run here; all are collected in a fixed order
    submit = pool.submit if pool is not None else _run_now
    finish_sens = start_sens(submit)
    f_pairs = submit(block_pairs)
    ranks = block_stats()
    pairs_df, over_df = f_pairs.result()
    sens, sens_u, conv, conv_note, sens_note = finish_sens()
    draws = _draws_table(design, factors, prm, eng, ok, reason)
    tick["statistics+sensitivity"] = time.perf_counter()
    names_t = list(tick)
    timing = {k: tick[k] - tick[names_t[i - 1]] for i, k in enumerate(names_t) if i > 0}
    timing["total"] = tick[names_t[-1]] - tick["start"]
    fact_info = []
    for f in factors:
        desc = ""
        if f.kind == "weights":
            ch = f.spec
            desc = (f"{ch.distribution} " + (f"±{ch.amount:.0%}" if ch.distribution == "uniform" else
                                             f"concentration {ch.concentration:g}")
                    + f" on {len(f.nodes)} weights" + (f" (pool of {ch.pool})" if ch.pool else ""))
        elif f.kind == "noise":
            desc = f"relative {f.spec.distribution} error, default s = {f.spec.relative:g}"
        fact_info.append({"name": f.name, "kind": f.kind, "labels": list(f.labels), "description": desc,
                          "nodes": [c for c in f.nodes if c is not None] if f.kind == "weights" else []})
    return UncertaintyResult(
        spec=sp, nominal=result, framework=result.framework, units=list(result.unit_codes), years=list(result.years),
        seed=sp.seed, n_requested=sp.n, n_base=design.n_base, design_sa=design.sensitivity, factors=fact_info,
        ok=ok, draws=draws, scores_array=S, ranks_array=R, ranks=ranks, pairs=pairs_df, overtakes=over_df,
        score_scale=score_scale, scale_changers=scale_changers,
        pairs_mode=pmode, sensitivity=sens, sensitivity_units=sens_u, convergence=conv, convergence_note=conv_note,
        sensitivity_note=sens_note, conf_level=sp.conf_level, warnings=warn, timing=timing, _engine=eng, _params=prm,
    )


def _as_result(result):
    """A BuildResult, or a result folder (loaded with dcindex.io.load_result)."""
    if isinstance(result, (str, Path)):
        from dcindex.io import load_result

        return load_result(result)
    if not all(hasattr(result, a) for a in ("framework", "panel", "recipe", "weights", "ranks_array")):
        raise InputError(f"expected a build result (dcindex.build(...)) or a result folder, not "
                         f"{type(result).__name__}.", hint="pass the object dcindex.build returns, or a folder "
                                                           "written by 'dcindex build --out'.")
    return result


def _combo_label(factors, idx, agg) -> str:
    parts = []
    for kind, i in zip(("impute", "treat", "normalise"), idx):
        f = next((x for x in factors if x.kind == kind), None)
        if f is not None:
            parts.append(f"{f.name} = {f.labels[i]}")
    if agg is not None:
        f = next((x for x in factors if x.kind == "aggregate"), None)
        if f is not None:
            parts.append(f"{f.name} = {f.labels[agg]}")
    return " with ".join(parts) if parts else "the nominal recipe"


def _score_scale_map(mom: np.ndarray, S0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-draw linear map a_d + b_d * score onto the nominal build's scale: every draw's index scores (all
    unit-years at once, so that changes over time are kept) get the nominal scores' mean and standard deviation.
    ``mom``: (D, 2) mean and sd (ddof 0, NaN-aware) of each draw's scores. Draws with constant scores are only
    shifted to the nominal mean."""
    m, sd = mom[:, 0], mom[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m0, sd0 = np.nanmean(S0), np.nanstd(S0)
    b = np.where(sd > 0, sd0 / np.where(sd > 0, sd, 1.0), 1.0)
    return m0 - b * m, b


def _stats_table(result, R, S, R0, S0, scale: str = "raw", mom: np.ndarray | None = None) -> pd.DataFrame:
    """Mean, median and 5/95 % quantiles over the draws of every unit-year's rank and index score.

    ``scale``: ``raw`` (the draws' own scores) or ``nominal`` (each draw's scores mapped linearly onto the nominal
    scale, :func:`_score_scale_map`). Column blocks are transposed, (rescaled,) sorted and reduced while in cache;
    rank quantiles come from rank counts (:func:`rank_quantiles`); columns with missing values use numpy's
    NaN-aware functions."""
    T, N = R0.shape
    D = R.shape[0]
    M = T * N
    qs = [0.05, 0.5, 0.95]
    mr, ms = np.full(M, np.nan), np.full(M, np.nan)
    q, qsc = np.full((3, M), np.nan), np.full((3, M), np.nan)
    if D:
        R2, S2 = R.reshape(D, M), S.reshape(D, M)
        if scale == "nominal" and mom is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mom = np.column_stack([np.nanmean(S2, axis=1), np.nanstd(S2, axis=1)])
        a, b = _score_scale_map(mom, S0) if scale == "nominal" else (None, None)
        nan_r = np.isnan(R2).any(axis=0)
        nan_s = np.isnan(S2).any(axis=0)
        ok_r = np.flatnonzero(~nan_r)
        if len(ok_r) == M:
            mr, q = rank_quantiles(R2, qs, N)
        elif len(ok_r):
            mr[ok_r], q[:, ok_r] = rank_quantiles(R2[:, ok_r], qs, N)
        blk = max(1, (1 << 19) // D)
        for lo in range(0, M, blk):
            hi = min(M, lo + blk)
            sub = np.ascontiguousarray(S2[:, lo:hi].T)  # (b, D)
            if a is not None:
                sub *= b[None, :]
                sub += a[None, :]
            good = ~nan_s[lo:hi]
            if good.all():
                ms[lo:hi] = sub.mean(axis=1)
                sub.sort(axis=1)
                qsc[:, lo:hi] = _type7_sorted(sub, qs)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices (units without a score)
                    ms[lo:hi] = np.nanmean(sub, axis=1)
                    qsc[:, lo:hi] = np.nanquantile(sub, qs, axis=1)
                    g = np.flatnonzero(good)
                    if len(g):
                        ss = np.sort(sub[g], axis=1)
                        ms[lo + g] = ss.mean(axis=1)
                        qsc[:, lo + g] = _type7_sorted(ss, qs)
        bad_r = np.flatnonzero(nan_r)
        if len(bad_r):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mr[bad_r] = np.nanmean(R2[:, bad_r], axis=0)
                q[:, bad_r] = np.nanquantile(R2[:, bad_r], qs, axis=0)
    units = np.array(result.unit_codes, dtype=object)
    names = result.units["name"].to_numpy(dtype=object) if "name" in result.units.columns else units
    df = pd.DataFrame({
        "unit": np.tile(units, T),
        "name": np.tile(names, T),
        "year": np.repeat(np.array(result.years, dtype=np.int64), N),
        "nominal_rank": R0.reshape(-1),
        "mean_rank": mr,
        "median_rank": q[1],
        "q05_rank": q[0],
        "q95_rank": q[2],
        "nominal_score": S0.reshape(-1),
        "mean_score": ms,
        "median_score": qsc[1],
        "q05_score": qsc[0],
        "q95_score": qsc[2],
        "score_scale": scale,
    })
    return df


def _draws_table(design, factors, prm, eng, ok, reason) -> pd.DataFrame:
    n_runs = design.U.shape[0]
    cols: dict[str, Any] = {"draw": np.arange(n_runs)}
    if design.sensitivity:
        G = design.n_groups
        blk = ["A"] + [f"AB:{f.name}" for f in factors] + ["B"]
        cols["block"] = np.tile(np.array(blk, dtype=object), n_runs // (G + 2))
        cols["base"] = np.repeat(np.arange(n_runs // (G + 2)), G + 2)
    fw = eng.fw
    for f in factors:
        if f.categorical:
            cols[f.name] = np.array(f.labels, dtype=object)[prm.cat[f.name]]
        elif f.kind == "noise":
            cols[f.name] = prm.noise_key
        elif f.kind == "weights":
            for c in f.nodes:
                p = fw.parent(c)
                j = fw.children(p).index(c)
                cols[f"w:{c}"] = eng.W0[p].mean(axis=0)[j] * prm.mult[p][:, j]
    cols["status"] = np.where(ok, "ok", "failed").astype(object)
    cols["reason"] = reason
    return pd.DataFrame(cols)


def _pair_list(result, pairs, R0) -> list[tuple[str, str]]:
    units = result.unit_codes
    if isinstance(pairs, str):
        if pairs == "top10":
            last = R0[-1]
            order = [units[i] for i in np.argsort(np.where(np.isnan(last), np.inf, last), kind="stable")[:10]
                     if not np.isnan(last[i])]
            return [(a, b) for i, a in enumerate(order) for b in order[i + 1:]]
        if pairs == "all":
            return [(a, b) for i, a in enumerate(units) for b in units[i + 1:]]
        if pairs in ("none", ""):
            return []
        pairs = [p.strip() for p in pairs.split(",") if p.strip()]
    out = []
    for p in pairs:
        if ":" not in p:
            raise InputError(f"pair '{p}' is not written as A:B.", hint="write pairs as 'A:B,C:D' (unit codes), or "
                                                                        "use 'top10' or 'all'.")
        a, b = (x.strip() for x in p.split(":", 1))
        bad = [u for u in (a, b) if u not in units]
        if bad:
            raise InputError(f"pair '{p}': unknown unit(s) {', '.join(bad)}.",
                             hint=f"use unit codes from the result, e.g. {', '.join(units[:6])}.")
        if a == b:
            raise InputError(f"pair '{p}' compares a unit with itself.", hint="name two different units.")
        out.append((a, b))
    return out


def _pairs_tables(result, R, R0, pair_list, mode) -> tuple[pd.DataFrame, pd.DataFrame]:
    years = list(result.years)
    T = len(years)
    units = result.unit_codes
    ui = {u: i for i, u in enumerate(units)}
    pcols = ["year", "unit_a", "unit_b", "nominal_rank_a", "nominal_rank_b", "p_a_above_b", "p_b_above_a",
             "adjacent"]
    ocols = ["year_from", "year_to", "unit_a", "unit_b", "p_a_overtook_b", "p_b_overtook_a"]
    if not pair_list or len(R) == 0:
        return pd.DataFrame(columns=pcols), pd.DataFrame(columns=ocols)
    ia = np.array([ui[a] for a, _ in pair_list])
    ib = np.array([ui[b] for _, b in pair_list])
    P = len(pair_list)
    ypairs = [(0, T - 1)] + [(t, t + 1) for t in range(T - 1) if not (t == 0 and T == 2)] if T > 1 else []
    pab = np.full((T, P), np.nan)
    pba = np.full((T, P), np.nan)
    over = {yp: (np.full(P, np.nan), np.full(P, np.nan)) for yp in ypairs}
    step = max(1, int(20_000_000 // max(1, R.shape[0] * T)))  # pairs per slice: bounded memory ('all' pairs)
    cnt = lambda x: np.count_nonzero(x, axis=0)  # noqa: E731 - faster than bool.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        for lo in range(0, P, step):
            sl = slice(lo, min(P, lo + step))
            Ra, Rb = R[:, :, ia[sl]], R[:, :, ib[sl]]  # (D, T, p)
            above, below = Ra < Rb, Rb < Ra  # NaN compares False
            if np.isnan(Ra).any() or np.isnan(Rb).any():
                valid = ~np.isnan(Ra) & ~np.isnan(Rb)
            else:
                valid = None
            nv = cnt(valid) if valid is not None else np.full((T, sl.stop - sl.start), R.shape[0])
            pab[:, sl] = np.where(nv > 0, cnt(above) / nv, np.nan)
            pba[:, sl] = np.where(nv > 0, cnt(below) / nv, np.nan)
            for t0, t1 in ypairs:
                nvo = cnt(valid[:, t0] & valid[:, t1]) if valid is not None else nv[0]
                a_over = cnt(below[:, t0] & above[:, t1])
                b_over = cnt(above[:, t0] & below[:, t1])
                over[(t0, t1)][0][sl] = np.where(nvo > 0, a_over / nvo, np.nan)
                over[(t0, t1)][1][sl] = np.where(nvo > 0, b_over / nvo, np.nan)
    adj = np.zeros((T, P), dtype=bool)
    if mode == "top10":
        adj = np.abs(R0[:, ia] - R0[:, ib]) == 1
    pairs_df = pd.DataFrame({
        "year": np.repeat(np.array(years, dtype=np.int64), P),
        "unit_a": np.tile(np.array([a for a, _ in pair_list], dtype=object), T),
        "unit_b": np.tile(np.array([b for _, b in pair_list], dtype=object), T),
        "nominal_rank_a": R0[:, ia].reshape(-1),
        "nominal_rank_b": R0[:, ib].reshape(-1),
        "p_a_above_b": pab.reshape(-1),
        "p_b_above_a": pba.reshape(-1),
        "adjacent": adj.reshape(-1),
    })
    rows = [pd.DataFrame({"year_from": years[t0], "year_to": years[t1],
                          "unit_a": [a for a, _ in pair_list], "unit_b": [b for _, b in pair_list],
                          "p_a_overtook_b": over[(t0, t1)][0], "p_b_overtook_a": over[(t0, t1)][1]})
            for t0, t1 in ypairs]
    over_df = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=ocols)
    return pairs_df, over_df


class _Done:
    """A finished 'future' (sequential runs)."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _run_now(f, *args):
    return _Done(f(*args))


UNIT_CHUNKS = 2  # per-unit Sobol outputs in this many column chunks (fixed: same bits for any threads)


def _sensitivity(result, design, factors, R, tgt, ok, sp, submit=_run_now):
    """Sobol indices of every choice for COINr's target (``tgt``: (runs, 1 + T), the mean |rank - nominal rank|
    over all unit-years and in each year, computed with the draws) and for every unit's rank (``R``).

    The target's indices and fixed column chunks of the per-unit indices are handed to ``submit`` (a thread
    pool's, or run at once); returns a function that collects them into the tables."""
    from dcindex.sensitivity import sobol_indices

    G = design.n_groups
    T, N = R.shape[1:]
    blocks_ok = ok.reshape(-1, G + 2).all(axis=1)
    note = ""
    if not blocks_ok.all():
        note = (f"{int((~blocks_ok).sum())} of {len(blocks_ok)} base samples contain a failed draw and were left out "
                f"of the Sobol estimates.")
    nb = int(blocks_ok.sum())
    names = [f.name for f in factors]
    if nb < 2:
        return lambda: (None, None, None, "", "too few complete base samples for Sobol indices.")
    Rk = R if blocks_ok.all() else R[np.repeat(blocks_ok, G + 2)]
    seed = sp.seed + 1  # SALib treats seed 0 as "no seed"
    # every unit's rank in every year, in fixed column chunks
    Yu = Rk.reshape(len(Rk), T * N)
    has_nan = np.isnan(Yu).any(axis=0)
    if has_nan.any():
        Yu = np.where(has_nan[None], 0.0, Yu)
    # per-unit intervals: at most 100 resamples, products in single precision (see sobol_indices)
    unit_job = lambda cols: sobol_indices(Yu[:, cols], G, bootstrap=min(sp.bootstrap, 100),  # noqa: E731
                                          conf_level=sp.conf_level, seed=seed, conf_dtype=np.float32)
    # column slices (views, not fancy-indexed copies of the (runs, T*N) rank matrix)
    chunks = [slice(int(c[0]), int(c[-1]) + 1) for c in np.array_split(np.arange(T * N), UNIT_CHUNKS) if len(c)]
    f_units = [submit(unit_job, c) for c in chunks]
    f_target = submit(_sens_target, result, factors, tgt, blocks_ok, G, T, sp, seed)

    def finish():
        sens, conv, conv_note = f_target.result()
        parts = [f.result() for f in f_units]
        cat = lambda k: np.concatenate([getattr(p, k) for p in parts], axis=-1)  # noqa: E731
        S1a, STa, S1ca, STca, variance = cat("S1"), cat("ST"), cat("S1_conf"), cat("ST_conf"), cat("variance")
        units = np.array(result.unit_codes, dtype=object)
        out = []
        for g, nm in enumerate(names):
            S1, ST = S1a[g].copy(), STa[g].copy()
            S1c, STc = S1ca[g].copy(), STca[g].copy()
            for a in (S1, ST, S1c, STc):
                a[has_nan] = np.nan
            out.append(pd.DataFrame({
                "unit": np.tile(units, T), "year": np.repeat(np.array(result.years, dtype=np.int64), N),
                "factor": nm, "S1": S1, "S1_conf": S1c, "ST": ST, "ST_conf": STc,
                "rank_variance": np.where(has_nan, np.nan, variance),
            }))
        sens_u = pd.concat(out, ignore_index=True).sort_values(["year", "unit", "factor"], kind="stable",
                                                                ignore_index=True)
        return sens, sens_u, conv, conv_note, note

    return finish


def _sens_target(result, factors, tgt, blocks_ok, G, T, sp, seed):
    """Sobol indices of COINr's target (all unit-years: SALib's analyze; each year: the vectorised estimators) and
    the convergence table."""
    from dcindex.sensitivity import sobol_indices, split_saltelli
    from SALib.analyze import sobol as salib_sobol

    names = [f.name for f in factors]
    nb = int(blocks_ok.sum())
    Y = tgt if blocks_ok.all() else tgt[np.repeat(blocks_ok, G + 2)]
    if T == 1:
        Y = Y[:, :1]
    y_all = Y[:, 0]
    labels = ["all"] + ([str(y) for y in result.years] if T > 1 else [])
    problem = {"num_vars": G, "names": names}
    # the headline target through SALib itself; the per-year targets with the same estimators and bootstrap
    # resamples, vectorised (tests: equal to SALib's analyze to 1e-10)
    yr_si = sobol_indices(Y[:, 1:], G, bootstrap=sp.bootstrap, conf_level=sp.conf_level, seed=seed) if T > 1 else None
    rows = []
    for m, lab in enumerate(labels):
        y = Y[:, m]
        var = float(np.var(np.r_[split_saltelli(y, G)[0][:, 0], split_saltelli(y, G)[2][:, 0]]))
        if not np.ptp(y) > 0:  # the ranks never move: nothing to apportion
            S1 = S1c = ST = STc = np.zeros(G)
        elif m == 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                si = salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=max(sp.bootstrap, 2),
                                         conf_level=sp.conf_level, seed=seed)
            S1, S1c, ST, STc = si["S1"], si["S1_conf"], si["ST"], si["ST_conf"]
            if not sp.bootstrap:
                S1c = STc = np.zeros(G)
        else:
            S1, S1c = yr_si.S1[:, m - 1], yr_si.S1_conf[:, m - 1]
            ST, STc = yr_si.ST[:, m - 1], yr_si.ST_conf[:, m - 1]
        for g, nm in enumerate(names):
            rows.append({"target": TARGET, "year": lab, "factor": nm, "S1": float(S1[g]), "S1_conf": float(S1c[g]),
                         "ST": float(ST[g]), "ST_conf": float(STc[g]), "variance": var})
    sens = pd.DataFrame(rows)
    # convergence: indices of the target on growing prefixes of the base sample
    steps = sorted({max(8, nb // k) for k in (16, 8, 4, 2)} | {nb})
    steps = [s for s in steps if s <= nb]
    crow = []
    for s in steps:
        c = sobol_indices(y_all[: s * (G + 2)], G)
        for g, nm in enumerate(names):
            crow.append({"n_base": s, "n_runs": s * (G + 2), "factor": nm, "S1": c.S1[g, 0], "ST": c.ST[g, 0]})
    conv = pd.DataFrame(crow)
    if len(steps) >= 2:
        a = conv[conv["n_base"] == steps[-1]].set_index("factor")
        b = conv[conv["n_base"] == steps[-2]].set_index("factor")
        dmax = float(np.nanmax(np.abs(np.r_[(a["ST"] - b["ST"]).to_numpy(), (a["S1"] - b["S1"]).to_numpy()])))
        ci = float(sens.loc[sens["year"] == "all", "ST_conf"].max()) if sp.bootstrap else float("nan")
        verdict = "converged" if dmax <= 0.05 else "NOT converged - increase n"
        conv_note = (f"{verdict}: largest change of S1/ST between N = {steps[-2]} and {steps[-1]} base samples is "
                     f"{dmax:.3f}" + (f"; largest ST CI half-width {ci:.3f}" if ci == ci else "") + ".")
    else:
        conv_note = "too few base samples for a convergence check."
    return sens, conv, conv_note


from dcindex._callable import make_callable  # noqa: E402

make_callable(__name__, "uncertainty")
