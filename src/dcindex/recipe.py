"""The recipe: every methodological choice of a build, validated (pydantic; unknown keys are errors).

```yaml
denominate: true
impute: {method: group_mean, group: EurAsia_group}
screen: {method: coverage, min_coverage: 0.9}       # optional: drop unit-years with too little data
treat: {method: winsorise, max_points: 5, skew: 2.0, kurtosis: 3.5}
normalise: {method: minmax, low: 0, high: 100}
weights: {method: meta}
aggregate: {method: arithmetic}
```

Per-level / per-node choices: every step accepts ``by_level`` (framework level -> spec) and ``by_node``
(node code -> spec) overrides; the most specific one applies (node > level > step default). For
``impute``, ``treat`` and ``normalise`` the node is an indicator; for ``weights`` and ``aggregate`` the
node is the parent whose children are weighted/aggregated and the level is that parent's level, e.g.

```yaml
aggregate:
  method: arithmetic
  by_level: {4: {method: geometric}}   # pillars into the index
```

Panels: ``scope: year`` computes statistics (min/max, mean/sd, ranks, outlier rules, data-driven
weights) per year; ``scope: pooled`` computes them once on all years together so that scores are
comparable across years.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dcindex.errors import InputError, RecipeError

Scope = Literal["year", "pooled"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------------------------------ impute
class ImputeNone(_Spec):
    method: Literal["none"] = "none"


class ImputeMean(_Spec):
    """Cross-sectional mean (per year) of the indicator."""
    method: Literal["mean"]


class ImputeMedian(_Spec):
    method: Literal["median"]


class ImputeGroupMean(_Spec):
    """Mean of the indicator within the unit's group, same year (COINr ``i_mean_grp``)."""
    method: Literal["group_mean"]
    group: str


class ImputeGroupMedian(_Spec):
    method: Literal["group_median"]
    group: str


class ImputeLinear(_Spec):
    """Linear interpolation along time within each unit; ``edges: nearest`` also fills leading/trailing gaps."""
    method: Literal["linear"]
    edges: Literal["none", "nearest"] = "none"


class ImputeLocf(_Spec):
    """Last observation carried forward along time within each unit."""
    method: Literal["locf"]


ImputeBase = Annotated[
    Union[ImputeNone, ImputeMean, ImputeMedian, ImputeGroupMean, ImputeGroupMedian, ImputeLinear, ImputeLocf],
    Field(discriminator="method"),
]


# ------------------------------------------------------------------------------------------ screen
class ScreenNone(_Spec):
    method: Literal["none"] = "none"


class ScreenCoverage(_Spec):
    """Drop unit-years whose share of non-missing indicators is below ``min_coverage`` (COINr ``Screen``,
    ``unit_screen = "byNA"``: kept iff availability >= threshold). Dropped unit-years get no score."""
    method: Literal["coverage"]
    min_coverage: float = Field(2 / 3, gt=0, le=1)


ScreenBase = Annotated[Union[ScreenNone, ScreenCoverage], Field(discriminator="method")]


# ------------------------------------------------------------------------------------------- treat
class TreatNone(_Spec):
    method: Literal["none"] = "none"


class TreatWinsorise(_Spec):
    """COINr's two-stage outlier treatment: Winsorise up to ``max_points``, else log (see :mod:`dcindex.treat`)."""
    method: Literal["winsorise"]
    max_points: int = Field(5, ge=0)
    skew: float = Field(2.0, gt=0)
    kurtosis: float = 3.5
    log_fallback: bool = True
    scope: Scope = "year"


class TreatLog(_Spec):
    """Natural log of every value (values must be positive unless ``shift: true``)."""
    method: Literal["log"]
    shift: bool = False
    scope: Scope = "year"


TreatBase = Annotated[Union[TreatNone, TreatWinsorise, TreatLog], Field(discriminator="method")]


# --------------------------------------------------------------------------------------- normalise
class NormMinMax(_Spec):
    method: Literal["minmax"]
    low: float = 0.0
    high: float = 100.0
    scope: Scope = "year"

    @model_validator(mode="after")
    def _lh(self):
        if not self.low < self.high:
            raise ValueError("minmax needs low < high")
        return self


class NormZScore(_Spec):
    method: Literal["zscore"]
    mean: float = 0.0
    sd: float = Field(1.0, gt=0)
    scope: Scope = "year"


class NormRank(_Spec):
    """Rank of the (direction-adjusted) value, ties at the minimum rank (1 = lowest)."""
    method: Literal["rank"]
    scope: Scope = "year"


class NormPercentileRank(_Spec):
    """(rank_min - 1) / (n - 1), in [0, 1], times ``scale``."""
    method: Literal["percentile_rank"]
    scale: float = 1.0
    scope: Scope = "year"


class NormTarget(_Spec):
    """Distance to target (COINr ``n_dist2targ``): (x - min) / (target - min), targets from the framework."""
    method: Literal["target"]
    cap: bool = False
    scale: float = 1.0
    scope: Scope = "year"


class NormGoalposts(_Spec):
    """Fixed per-indicator bounds: (x - low) / (high - low) * scale, capped to [0, scale] if ``cap``.

    ``source: framework`` takes the goalposts declared on each indicator; ``pooled`` uses min and max over
    all units and years, so that scores are comparable across years.
    """
    method: Literal["goalposts"]
    source: Literal["framework", "pooled"] = "framework"
    scale: float = 100.0
    cap: bool = True


class NormBaseYear(_Spec):
    """Each value relative to the base year's cross-sectional mean (``reference: mean``) or to the unit's own
    base-year value (``reference: unit``), base = 100. For direction -1 the ratio is inverted."""
    method: Literal["base_year"]
    year: int
    reference: Literal["mean", "unit"] = "mean"
    scale: float = 100.0


NormaliseBase = Annotated[
    Union[NormMinMax, NormZScore, NormRank, NormPercentileRank, NormTarget, NormGoalposts, NormBaseYear],
    Field(discriminator="method"),
]


# ----------------------------------------------------------------------------------------- weights
class WeightsMeta(_Spec):
    """The weights declared in the framework (rescaled to sum to 1 within each parent)."""
    method: Literal["meta"] = "meta"


class WeightsEqual(_Spec):
    method: Literal["equal"]


class WeightsEntropy(_Spec):
    """Entropy-weight method (熵值法) on the normalised children; needs non-negative values."""
    method: Literal["entropy"]
    scope: Scope = "pooled"


class WeightsCritic(_Spec):
    """CRITIC (Diakoulaki et al. 1995): sd x sum(1 - r)."""
    method: Literal["critic"]
    scope: Scope = "pooled"


class WeightsPCA(_Spec):
    """OECD/JRC Handbook (2008) PCA/FA weights: varimax-rotated loadings of retained components."""
    method: Literal["pca"]
    scope: Scope = "pooled"
    min_eigenvalue: float = 1.0
    min_share: float = 0.10
    min_cumulative: float = 0.60
    rotate: bool = True


class WeightsAHP(_Spec):
    """Analytic Hierarchy Process from pairwise matrices on the framework's aggregates (key ``ahp``)."""
    method: Literal["ahp"]
    max_cr: float = 0.1
    allow_inconsistent: bool = False


class WeightsBoD(_Spec):
    """Benefit of the doubt (DEA, Cherchye et al. 2007), solved with HiGHS; unit-specific weights.

    ``min_share``: lower bound on each child's share of the unit's composite (pie-share restriction).
    """
    method: Literal["bod"]
    min_share: float = Field(0.0, ge=0, lt=1)
    scale: float = 100.0


WeightsBase = Annotated[
    Union[WeightsMeta, WeightsEqual, WeightsEntropy, WeightsCritic, WeightsPCA, WeightsAHP, WeightsBoD],
    Field(discriminator="method"),
]


# --------------------------------------------------------------------------------------- aggregate
class AggArithmetic(_Spec):
    method: Literal["arithmetic"] = "arithmetic"
    min_coverage: float = Field(0.0, ge=0, le=1)


class AggGeometric(_Spec):
    method: Literal["geometric"]
    min_coverage: float = Field(0.0, ge=0, le=1)


class AggHarmonic(_Spec):
    method: Literal["harmonic"]
    min_coverage: float = Field(0.0, ge=0, le=1)


class AggMPI(_Spec):
    """Mazziotta-Pareto index (Mazziotta & Pareto 2016): M - S*cv on children standardised to 100 +/- 10."""
    method: Literal["mazziotta_pareto"]
    penalty: Literal["negative", "positive"] = "negative"
    min_coverage: float = Field(0.0, ge=0, le=1)


class AggTopsis(_Spec):
    """TOPSIS closeness to the ideal (Hwang & Yoon 1981) on the normalised children, x ``scale``."""
    method: Literal["topsis"]
    scale: float = 100.0
    min_coverage: float = Field(0.0, ge=0, le=1)


AggregateBase = Annotated[
    Union[AggArithmetic, AggGeometric, AggHarmonic, AggMPI, AggTopsis], Field(discriminator="method")
]


# --------------------------------------------------------------------------------------- overrides
def _step_model(name: str, base: Any, default: Any):
    class Step(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        spec: base = Field(default_factory=lambda: default)  # type: ignore[valid-type]
        by_level: dict[int, base] = Field(default_factory=dict)  # type: ignore[valid-type]
        by_node: dict[str, base] = Field(default_factory=dict)  # type: ignore[valid-type]

        @model_validator(mode="before")
        @classmethod
        def _flatten(cls, v: Any) -> Any:
            # accept {method: ..., params..., by_level: ..., by_node: ...} or a bare method string
            if isinstance(v, str):
                return {"spec": {"method": v}}
            if isinstance(v, dict) and "spec" not in v:
                v = dict(v)
                by_level = v.pop("by_level", {}) or {}
                by_node = v.pop("by_node", {}) or {}
                by_level = {k: ({"method": s} if isinstance(s, str) else s) for k, s in by_level.items()}
                by_node = {k: ({"method": s} if isinstance(s, str) else s) for k, s in by_node.items()}
                out = {"by_level": by_level, "by_node": by_node}
                if v:  # parameters of the step default; no keys at all means the default spec
                    out["spec"] = v
                return out
            return v

        def resolve(self, node: str | None = None, level: int | None = None):
            if node is not None and node in self.by_node:
                return self.by_node[node]
            if level is not None and level in self.by_level:
                return self.by_level[level]
            return self.spec

        def all_specs(self) -> list:
            return [self.spec, *self.by_level.values(), *self.by_node.values()]

        def to_plain(self) -> Any:
            d = self.spec.model_dump()
            if self.by_level:
                d["by_level"] = {k: s.model_dump() for k, s in self.by_level.items()}
            if self.by_node:
                d["by_node"] = {k: s.model_dump() for k, s in self.by_node.items()}
            return d

    Step.__name__ = Step.__qualname__ = name
    return Step


ImputeStep = _step_model("ImputeStep", ImputeBase, ImputeNone())
ScreenStep = _step_model("ScreenStep", ScreenBase, ScreenNone())
TreatStep = _step_model("TreatStep", TreatBase, TreatNone())
NormaliseStep = _step_model("NormaliseStep", NormaliseBase, NormMinMax(method="minmax"))
WeightsStep = _step_model("WeightsStep", WeightsBase, WeightsMeta())
AggregateStep = _step_model("AggregateStep", AggregateBase, AggArithmetic())

STEPS = ("denominate", "impute", "screen", "treat", "normalise", "weights", "aggregate")


class Recipe(BaseModel):
    """All methodological choices of a build. The keys and method names are the public interface."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    denominate: bool | Literal["strict"] = False
    impute: ImputeStep = Field(default_factory=ImputeStep)  # type: ignore[valid-type]
    screen: ScreenStep = Field(default_factory=ScreenStep)  # type: ignore[valid-type]
    treat: TreatStep = Field(default_factory=TreatStep)  # type: ignore[valid-type]
    normalise: NormaliseStep = Field(default_factory=NormaliseStep)  # type: ignore[valid-type]
    weights: WeightsStep = Field(default_factory=WeightsStep)  # type: ignore[valid-type]
    aggregate: AggregateStep = Field(default_factory=AggregateStep)  # type: ignore[valid-type]

    def to_plain(self) -> dict[str, Any]:
        """Plain dict in the YAML form (what the manifest records and ``from_any`` reads back)."""
        return {
            "denominate": self.denominate,
            "impute": self.impute.to_plain(),
            "screen": self.screen.to_plain(),
            "treat": self.treat.to_plain(),
            "normalise": self.normalise.to_plain(),
            "weights": self.weights.to_plain(),
            "aggregate": self.aggregate.to_plain(),
        }

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_plain(), allow_unicode=True, sort_keys=False)

    def replace(self, **changes: Any) -> "Recipe":
        """A new recipe with whole steps replaced, e.g. ``replace(normalise={'method': 'zscore'})``."""
        d = self.to_plain()
        for k, v in changes.items():
            if k not in STEPS:
                raise RecipeError(f"unknown recipe step '{k}'.", hint=f"steps are: {', '.join(STEPS)}.")
            d[k] = v.to_plain() if hasattr(v, "to_plain") else (v.model_dump() if hasattr(v, "model_dump") else v)
        return Recipe.from_any(d)

    @classmethod
    def from_any(cls, obj: Any, where: str = "recipe") -> "Recipe":
        if obj is None:
            return cls()
        if isinstance(obj, Recipe):
            return obj
        if isinstance(obj, (str, Path)):
            return read_recipe(obj)
        if not isinstance(obj, dict):
            raise RecipeError(f"a recipe must be a mapping, not {type(obj).__name__}.", where=where)
        try:
            return cls.model_validate(obj)
        except ValidationError as exc:
            raise RecipeError(_recipe_message(exc), where=where,
                              hint="see the recipe reference in the README; unknown keys and methods are errors."
                              ) from None


def _recipe_message(exc: ValidationError) -> str:
    msgs = []
    for e in exc.errors()[:8]:
        loc = [str(x) for x in e["loc"] if x != "spec"]
        # drop pydantic's union tags such as 'minmax' inserted in the location
        path = ".".join(loc)
        if e["type"] == "extra_forbidden":
            msgs.append(f"unknown key '{loc[-1]}' in {'.'.join(loc[:-1]) or 'recipe'}")
        elif e["type"] == "union_tag_not_found":
            msgs.append(f"{path or 'recipe'}: a 'method' key is required")
        elif e["type"] == "union_tag_invalid":
            msgs.append(f"{path}: {e['msg']}")
        else:
            msgs.append(f"{path}: {e['msg']}")
    return "invalid recipe: " + "; ".join(msgs) + "."


def read_recipe(path: str | Path) -> Recipe:
    from dcindex.data import read_yaml

    p = Path(path)
    d = read_yaml(p, what="recipe", option="--recipe", error=RecipeError) or {}
    return Recipe.from_any(d, where=str(p))


def coinr_recipe(group: str = "EurAsia_group") -> Recipe:
    """The recipe of COINr's documented ASEM example build."""
    return Recipe.from_any({
        "denominate": True,
        "impute": {"method": "group_mean", "group": group},
        "treat": {"method": "winsorise", "max_points": 5, "skew": 2.0, "kurtosis": 3.5},
        "normalise": {"method": "minmax", "low": 0, "high": 100},
        "weights": {"method": "meta"},
        "aggregate": {"method": "arithmetic"},
    })
