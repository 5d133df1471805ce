"""The build pipeline and its result.

``build(data, framework, recipe)`` runs denominate -> impute -> treat -> normalise -> weight -> aggregate
-> rank on arrays of shape (T, N, K) and returns a :class:`BuildResult` that keeps every intermediate
data set, the weights actually used, what treatment did to each indicator, and a manifest (resolved
recipe, input sha256, data fingerprint, version). ``result.rebuild(normalise={...})`` re-runs with one
choice changed (COINr's *Regen* idea).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex import __version__
from dcindex import aggregate as agg_mod
from dcindex import normalise as norm
from dcindex import treat as treat_mod
from dcindex import weight as weight_mod
from dcindex.data import (
    Panel,
    attach_units,
    is_long_table,
    panel_from_long,
    panel_from_wide,
    read_table,
    read_units,
    sha256_file,
)
from dcindex.errors import InputError, MethodError, RecipeError
from dcindex.framework import Framework, as_framework
from dcindex.impute import impute as impute_fn
from dcindex.recipe import Recipe

DATASETS = ("raw", "denominated", "imputed", "screened", "treated", "normalised")


# ----------------------------------------------------------------------------------------- inputs
def load_panel(data: Any, framework: Framework, units: Any = None, *, year: int | None = None) -> Panel:
    """Turn ``data`` (path, DataFrame or Panel) into a Panel aligned with the framework's indicators."""
    sources: dict[str, str] = {}
    if isinstance(data, Panel):
        panel = data
    else:
        if isinstance(data, (str, Path)):
            p = Path(data)
            df = read_table(p)
            sources["data"] = sha256_file(p)
            where = str(p)
        elif isinstance(data, pd.DataFrame):
            df = data.copy()
            df = df.astype(object).where(pd.notna(df), None)
            where = data.attrs.get("source_file", "data (DataFrame)")
            sources["data"] = hashlib.sha256(
                pd.util.hash_pandas_object(data.astype(str), index=False).to_numpy().tobytes()).hexdigest()
        else:
            raise InputError(f"cannot read data from a {type(data).__name__}.",
                             hint="pass a file path, a pandas DataFrame or a dcindex Panel.")
        dens = list(framework.denominators)
        if is_long_table(df):
            units_df = _units_frame(units) if units is not None else None
            panel = panel_from_long(df, framework.indicators, denominators=dens, where=where, units=units_df)
        else:
            present_dens = [d for d in dens if d in df.columns]
            panel = panel_from_wide(df, framework.indicators, denominators=present_dens,
                                    groups=framework.groups, where=where, default_year=year,
                                    ignore=getattr(framework, "others", []))
        panel.sources = sources
    if units is not None:
        udf = _units_frame(units)
        if isinstance(units, (str, Path)):
            panel.sources["units"] = sha256_file(units)
        panel = attach_units(panel, udf, where=str(units) if isinstance(units, (str, Path)) else "units")
        panel.sources.update(sources)
    return panel


def _units_frame(units: Any) -> pd.DataFrame:
    if isinstance(units, pd.DataFrame):
        u = units.copy()
        if u.index.name != "unit":
            col = next((c for c in ("code", "unit", "uCode") if c in u.columns), None)
            if col is not None:
                u = u.set_index(col)
            u.index = u.index.astype(str)
            u.index.name = "unit"
        if "name" not in u.columns:
            u["name"] = u.get("name_zh", u.get("name_en", pd.Series(u.index, index=u.index)))
        return u
    return read_units(units)


# ---------------------------------------------------------------------------------------- helpers
def _groups_of_specs(step, codes: list[str], level_of) -> list[tuple[Any, list[int]]]:
    """Group column indices by the spec that applies to them (by_node > by_level > default)."""
    out: dict[Any, list[int]] = {}
    for i, c in enumerate(codes):
        spec = step.resolve(node=c, level=level_of(c))
        out.setdefault(spec, []).append(i)
    return list(out.items())


def _blocks(A: np.ndarray, scope: str) -> np.ndarray:
    """(T, N, K) -> (B, M, K): per-year blocks, or one pooled block of all unit-years."""
    if scope == "pooled":
        return A.reshape(1, -1, A.shape[-1])
    return A


def _unblocks(B: np.ndarray, shape: tuple, scope: str) -> np.ndarray:
    return B.reshape(shape)


@dataclass
class WeightRecord:
    """Weights of the children of one aggregate as used by the build."""

    node: str
    children: list[str]
    method: str
    nominal: np.ndarray  # (C,)
    used: np.ndarray  # (T, C) or (T, N, C) for unit-specific weights (bod)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def unit_specific(self) -> bool:
        return self.used.ndim == 3


# ------------------------------------------------------------------------------------------ build
def build(data: Any, framework: Any, recipe: Any = None, *, units: Any = None, year: int | None = None,
          _inputs: dict[str, Any] | None = None) -> "BuildResult":
    """Build the index: returns a :class:`BuildResult` with scores and ranks at every level and year.

    Parameters
    ----------
    data : path (CSV/XLSX; COINr iData, wide or tidy long), DataFrame or :class:`~dcindex.data.Panel`
    framework : native YAML path, COINr iMeta path/DataFrame, dict or :class:`~dcindex.framework.Framework`
    recipe : YAML path, dict or :class:`~dcindex.recipe.Recipe` (default: min-max 0-100, meta weights,
        arithmetic mean, no denomination, imputation or treatment)
    units : optional units table (code, names, group columns) as path or DataFrame
    """
    fw = as_framework(framework)
    rc = Recipe.from_any(recipe)
    panel = load_panel(data, fw, units, year=year)
    inputs = dict(_inputs or {})
    inputs.update(_input_records(data=data, framework=framework, recipe=recipe, units=units))
    # overrides naming nodes that do not exist are user errors (checked here, not in every pipeline run, so
    # that rebuild(exclude=...) and uncertainty draws may drop an overridden node)
    _check_overrides(rc, fw, str(recipe) if isinstance(recipe, (str, Path)) else None)
    res = _Pipeline(panel, fw, rc, inputs).run()
    res.input_paths = _input_paths(data, framework, recipe, units)
    return res


def _input_records(**objs: Any) -> dict[str, Any]:
    """Manifest entries for the inputs given as files (path as given, sha256); objects in memory say so."""
    out: dict[str, Any] = {}
    for role, obj in objs.items():
        if isinstance(obj, (str, Path)):
            out[role] = {"path": _display_path(obj), "sha256": sha256_file(obj)}
        elif obj is not None:
            out[role] = {"path": f"(in memory: {type(obj).__name__})"}
    return out


def _input_paths(*objs: Any) -> list[Path]:
    return [Path(o).resolve() for o in objs if isinstance(o, (str, Path))]


def _display_path(p: str | Path) -> str:
    """Input path as recorded in the manifest: package data relative to the package, others as given."""
    pkg = Path(__file__).resolve().parent
    rp = Path(p).resolve()
    try:
        return "dcindex/" + rp.relative_to(pkg).as_posix()
    except ValueError:
        return str(p)


def _check_overrides(recipe: Recipe, fw: Framework, where: str | None) -> None:
    """``by_node``/``by_level`` entries that match nothing they could apply to are errors: a typo in a node
    code must not silently fall back to the step default."""
    ind_levels = sorted({fw.level(c) for c in fw.indicators})
    agg_levels = sorted({fw.level(c) for c in fw.aggregates})
    problems = []
    for name in ("impute", "screen", "treat", "normalise", "weights", "aggregate"):
        step = getattr(recipe, name, None)
        if step is None:
            continue
        if name == "screen":
            nodes, levels, kind = [], [], "anything (screening works on whole unit-years)"
        elif name in ("weights", "aggregate"):
            nodes, levels, kind = fw.aggregates, agg_levels, "an aggregate (the parent of the weighted children)"
        else:
            nodes, levels, kind = fw.indicators, ind_levels, "an indicator"
        for c in step.by_node:
            if c not in nodes:
                problems.append(f"{name}.by_node '{c}' " + (f"is not {kind}" if c in fw.nodes
                                                             else "is not a node of the framework"))
        for lv in step.by_level:
            if lv not in levels:
                problems.append(f"{name}.by_level {lv} is not a level of {kind} (levels: "
                                f"{', '.join(map(str, levels)) or 'none'})")
    if problems:
        raise RecipeError("recipe overrides that would never apply: " + "; ".join(problems) + ".", where=where,
                          hint=f"use indicator codes ({', '.join(fw.indicators[:4])} ...) for impute/treat/normalise "
                               f"and aggregate codes ({', '.join(fw.aggregates[-4:])}) for weights/aggregate; "
                               f"indicators are level 1, the index is level {fw.top_level}.")


class _Pipeline:
    def __init__(self, panel: Panel, fw: Framework, recipe: Recipe, inputs: dict[str, Any]):
        self.panel, self.fw, self.recipe, self.inputs = panel, fw, recipe, inputs
        self.warnings: list[str] = list(panel.notes)
        self.codes = fw.indicators
        self.T, self.N, self.K = panel.values.shape
        self.dirs = np.array([fw.nodes[c].direction for c in self.codes], dtype=float)

    def level_of(self, c: str) -> int:
        return self.fw.level(c)

    def run(self) -> "BuildResult":
        X0 = self.panel.values
        X1 = self.denominate(X0)
        X2 = self.impute(X1)
        X2s = self.screen(X2)
        X3, treat_table, treated_mask = self.treat(X2s)
        X4 = self.normalise(X3)
        S, weights = self.aggregate(X4)
        R = agg_mod.rank_desc(S, axis=1)
        datasets = {"raw": X0, "denominated": X1, "imputed": X2, "screened": X2s, "treated": X3,
                    "normalised": X4}
        imputed_mask = np.isnan(X1) & ~np.isnan(X2)
        if np.isnan(X2).any():
            n_left = int(np.isnan(X2).sum())
            self.warnings.append(f"{n_left} indicator value(s) are still missing after imputation; aggregation "
                                 f"skipped them and rescaled the other weights.")
        res = BuildResult(
            framework=self.fw, recipe=self.recipe, panel=self.panel, datasets=datasets, scores_array=S,
            ranks_array=R, weights=weights, treatment=treat_table, imputed_mask=imputed_mask,
            treated_mask=treated_mask, warnings=self.warnings, inputs=self.inputs,
            screened_mask=self.screened,
        )
        res._finalise()
        return res

    # ---------------------------------------------------------------------------------- denominate
    def denominate(self, X: np.ndarray) -> np.ndarray:
        if not self.recipe.denominate:
            return X.copy()
        strict = self.recipe.denominate == "strict"
        out = X.copy()
        fw, panel = self.fw, self.panel
        problems: list[str] = []
        nprob = 0
        for k, code in enumerate(self.codes):
            dcode = fw.nodes[code].denominator
            if not dcode:
                continue
            if dcode in panel.denominator_codes:
                D = panel.denominators[..., panel.denominator_codes.index(dcode)]
            elif dcode in panel.units.columns and pd.api.types.is_numeric_dtype(panel.units[dcode]):
                D = np.broadcast_to(panel.units[dcode].to_numpy(dtype=float)[None, :], (self.T, self.N))
            else:
                raise InputError(
                    f"indicator '{code}' is to be divided by denominator '{dcode}', but there is no such column "
                    f"in the data or the units table.",
                    hint=f"add a '{dcode}' column (or long rows with indicator '{dcode}'), or remove the "
                         f"denominator from '{code}' in the framework, or set 'denominate: false'.")
            has = ~np.isnan(X[..., k])
            zero = has & (D == 0)
            miss = has & np.isnan(D)
            if strict:
                zero = zero | miss
            for t, n in np.argwhere(zero):
                nprob += 1
                if len(problems) < 15:
                    problems.append(f"unit '{panel.unit_codes[n]}', year {panel.years[t]}, "
                                    f"denominator '{dcode}' = {D[t, n]:g} (for '{code}')")
            if not strict and miss.any():
                ucodes = panel.unit_codes  # a property that builds a list: once, not per cell
                cells = [f"{ucodes[n]} {panel.years[t]}" for t, n in np.argwhere(miss)[:10]]
                self.warnings.append(
                    f"denominator '{dcode}' is missing for {int(miss.sum())} cell(s) of '{code}' "
                    f"({', '.join(cells)}); these values became missing (as in COINr) and go to imputation. "
                    f"Use 'denominate: strict' to make this an error.")
            with np.errstate(divide="ignore", invalid="ignore"):  # zero denominators are reported below
                out[..., k] = X[..., k] / D
        if nprob:
            raise InputError(f"{nprob} denominator value(s) are zero" + (" or missing" if strict else "")
                             + " where the indicator has a value: " + "; ".join(problems)
                             + ("; ..." if nprob > len(problems) else "") + ".",
                             hint="supply non-zero denominator values, or set 'denominate: false'.")
        return out

    # -------------------------------------------------------------------------------------- impute
    def impute(self, X: np.ndarray) -> np.ndarray:
        out = X.copy()
        for spec, cols in _groups_of_specs(self.recipe.impute, self.codes, self.level_of):
            if spec.method == "none":
                continue
            groups = None
            if spec.method in ("group_mean", "group_median"):
                if spec.group not in self.panel.units.columns:
                    avail = [c for c in self.panel.units.columns if c not in ("name", "name_zh", "name_en")]
                    srcs = ", ".join(v["path"] for k, v in self.inputs.items()
                                     if k in ("data", "units") and isinstance(v, dict) and "path" in v)
                    raise RecipeError(
                        f"imputation by group needs the group column '{spec.group}', which is not in the data or "
                        f"units table ({srcs or 'the data given'}).",
                        hint=f"use one of: {', '.join(avail) or '(none: add a group column to the units table)'}.",
                        where=(self.inputs.get("recipe") or {}).get("path") if isinstance(
                            self.inputs.get("recipe"), dict) else None)
                groups = self.panel.units[spec.group].to_numpy(dtype=object)
            if spec.method in ("linear", "locf") and self.T < 2:
                self.warnings.append(f"imputation '{spec.method}' works along time, but the data have one year; "
                                     f"nothing was imputed.")
            out[..., cols] = impute_fn(X[..., cols], spec, groups=groups, years=self.panel.years)
        return out

    # -------------------------------------------------------------------------------------- screen
    def screen(self, X: np.ndarray) -> np.ndarray:
        """Blank unit-years whose data coverage is below the threshold (they get no score)."""
        spec = self.recipe.screen.spec
        self.screened = np.zeros(X.shape[:2], dtype=bool)
        if spec.method == "none":
            return X
        cov = 1.0 - np.isnan(X).mean(axis=-1)
        self.screened = cov < spec.min_coverage
        if self.screened.any():
            lst = [f"{self.panel.unit_codes[n]} {self.panel.years[t]}" for t, n in np.argwhere(self.screened)[:15]]
            self.warnings.append(f"screening removed {int(self.screened.sum())} unit-year(s) with data coverage "
                                 f"below {spec.min_coverage:g}: {', '.join(lst)}"
                                 + (" ..." if self.screened.sum() > 15 else "") + ".")
        out = X.copy()
        out[self.screened] = np.nan
        return out

    # --------------------------------------------------------------------------------------- treat
    def treat(self, X: np.ndarray):
        out = X.copy()
        rows: list[dict[str, Any]] = []
        for spec, cols in _groups_of_specs(self.recipe.treat, self.codes, self.level_of):
            if spec.method == "none":
                continue
            sub = X[..., cols]
            blocks = _blocks(sub, spec.scope)
            if spec.method == "winsorise":
                tr, info = treat_mod.winsorise(blocks, spec.max_points, spec.skew, spec.kurtosis, spec.log_fallback)
                out[..., cols] = tr.reshape(sub.shape)
                labels = ["pooled"] if spec.scope == "pooled" else self.panel.years
                for b, j in np.argwhere(info.abandoned):
                    self.warnings.append(
                        f"treatment of '{self.codes[cols[j]]}' ({labels[b]}) was abandoned: Winsorising it would "
                        f"have made it constant (almost every unit has the same value); it is used untreated.")
                for b, lab in enumerate(labels):
                    for j, k in enumerate(cols):
                        rows.append({
                            "indicator": self.codes[k], "year": lab,
                            "treatment": "log" if info.log[b, j] else (
                                "winsorised" if info.winsorised_points[b, j] > 0 else (
                                    "abandoned" if info.abandoned[b, j] else "none")),
                            "winsorised_points": int(info.winsorised_points[b, j]),
                            "nwin": int(info.nwin[b, j]),
                            "side": {1: "high", -1: "low", 0: ""}[int(info.side[b, j])],
                            "skew_before": info.skew_before[b, j], "kurtosis_before": info.kurt_before[b, j],
                            "skew_after": info.skew_after[b, j], "kurtosis_after": info.kurt_after[b, j],
                            "still_fails": bool(info.still_fails[b, j]),
                        })
            elif spec.method == "log":
                out[..., cols] = treat_mod.log_transform(blocks, shift=spec.shift,
                                                         names=[self.codes[k] for k in cols]).reshape(sub.shape)
                for k in cols:
                    rows.append({"indicator": self.codes[k], "year": "all", "treatment": "log",
                                 "winsorised_points": 0, "nwin": 0, "side": "", "skew_before": np.nan,
                                 "kurtosis_before": np.nan, "skew_after": np.nan, "kurtosis_after": np.nan,
                                 "still_fails": False})
        cols = ["indicator", "year", "treatment", "winsorised_points", "nwin", "side", "skew_before", "kurtosis_before",
                "skew_after", "kurtosis_after", "still_fails"]
        table = pd.DataFrame(rows, columns=cols)
        with np.errstate(invalid="ignore"):
            treated_mask = ~np.isnan(X) & (out != X)
        return out, table, treated_mask

    # ----------------------------------------------------------------------------------- normalise
    def normalise(self, X: np.ndarray) -> np.ndarray:
        out = np.full_like(X, np.nan)
        years = self.panel.years
        for spec, cols in _groups_of_specs(self.recipe.normalise, self.codes, self.level_of):
            sub = X[..., cols]
            names = [self.codes[k] for k in cols]
            d = self.dirs[cols]
            m = spec.method
            if m == "base_year":
                if spec.year not in years:
                    raise RecipeError(f"normalisation base year {spec.year} is not in the data (years: "
                                      f"{', '.join(map(str, years))}).", hint="choose a year present in the data.")
                out[..., cols] = norm.base_year(sub, years.index(spec.year), d, spec.reference, spec.scale,
                                                names=names)
                continue
            xd = sub * d
            if m == "goalposts":
                if spec.source == "framework":
                    gp = [self.fw.nodes[c].goalposts for c in names]
                    miss = [c for c, g in zip(names, gp) if g is None]
                    if miss:
                        raise RecipeError(
                            f"normalisation 'goalposts' (source: framework) needs goalposts on every indicator; "
                            f"missing for {', '.join(miss[:20])}.",
                            hint="add 'goalposts: [low, high]' to these indicators, or use 'source: pooled'.")
                    lo = np.array([g[0] for g in gp]) * d
                    hi = np.array([g[1] for g in gp]) * d
                    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
                else:
                    lo = np.nanmin(xd.reshape(-1, len(cols)), axis=0)
                    hi = np.nanmax(xd.reshape(-1, len(cols)), axis=0)
                    norm._check_variance(lo, hi, names, None, "goalposts (pooled)")
                out[..., cols] = norm.goalposts(xd, lo, hi, spec.scale, spec.cap)
                continue
            blocks = _blocks(xd, spec.scope)
            yrs = None if spec.scope == "pooled" else years
            if m == "minmax":
                r = norm.minmax(blocks, spec.low, spec.high, names=names, years=yrs)
            elif m == "zscore":
                r = norm.zscore(blocks, spec.mean, spec.sd, names=names, years=yrs)
            elif m == "rank":
                r = norm.rank(blocks)
            elif m == "percentile_rank":
                r = norm.percentile_rank(blocks, spec.scale)
            elif m == "target":
                t = np.array([self.fw.nodes[c].target if self.fw.nodes[c].target is not None else np.nan
                              for c in names]) * d
                r = norm.target(blocks, t, spec.cap, spec.scale, names=names, years=yrs)
            else:  # pragma: no cover - validated by the recipe
                raise RecipeError(f"unknown normalisation '{m}'.")
            out[..., cols] = r.reshape(sub.shape)
        return out

    # ----------------------------------------------------------------------------------- aggregate
    def aggregate(self, Xn: np.ndarray):
        fw = self.fw
        codes = fw.all_codes
        pos = {c: i for i, c in enumerate(codes)}
        S = np.full((self.T, self.N, len(codes)), np.nan)
        S[..., : self.K] = Xn
        weights: dict[str, WeightRecord] = {}
        for node in fw.aggregates:
            ch = fw.children(node)
            idx = [pos[c] for c in ch]
            Y = S[..., idx]
            lev = fw.level(node)
            wspec = self.recipe.weights.resolve(node=node, level=lev)
            aspec = self.recipe.aggregate.resolve(node=node, level=lev)
            nominal = fw.nominal_weights(node)
            rec = self._weights(node, ch, Y, wspec, nominal)
            weights[node] = rec
            if wspec.method == "bod":
                S[..., pos[node]] = rec.info.pop("_scores")
                continue
            w = rec.used[:, None, :] if rec.used.ndim == 2 else rec.used
            S[..., pos[node]] = agg_mod.aggregate(Y, w, aspec, node=node)
        return S, weights

    def _weights(self, node, ch, Y, spec, nominal) -> WeightRecord:
        m = spec.method
        T = self.T
        info: dict[str, Any] = {}
        if m == "meta":
            used = np.tile(nominal, (T, 1))
        elif m == "equal":
            used = np.full((T, len(ch)), 1.0 / len(ch))
        elif m in ("entropy", "critic", "pca") and len(ch) == 1:
            used = np.ones((T, 1))  # a single child takes all the weight (CRITIC/PCA are undefined for it)
        elif m in ("entropy", "critic", "pca"):
            blocks = _blocks(Y, spec.scope)
            if m == "entropy":
                w = weight_mod.entropy(blocks, node)
            elif m == "critic":
                w = weight_mod.critic(blocks, node)
            else:
                w, det = weight_mod.pca(blocks, node, min_eigenvalue=spec.min_eigenvalue, min_share=spec.min_share,
                                        min_cumulative=spec.min_cumulative, rotate=spec.rotate)
                info["retained_components"] = [d.retained for d in det]
            used = np.tile(w, (T, 1)) if spec.scope == "pooled" else w
        elif m == "ahp":
            A = self.fw.nodes[node].ahp
            if A is None:
                used = np.tile(nominal, (T, 1))
                self.warnings.append(f"weights: '{node}' has no AHP matrix in the framework; its meta weights "
                                     f"were used.")
                info["fallback"] = "meta"
                m = "meta (no AHP matrix)"
            else:
                if len(A) != len(ch):
                    raise MethodError(f"the AHP matrix of '{node}' is {len(A)}x{len(A)} but '{node}' has "
                                      f"{len(ch)} children ({', '.join(ch)}).",
                                      hint="give one row and column per child, in the children's order.")
                w, lam, cr = weight_mod.ahp(A, node, max_cr=spec.max_cr, allow_inconsistent=spec.allow_inconsistent)
                used = np.tile(w, (T, 1))
                info.update({"lambda_max": lam, "CR": cr})
                if cr > spec.max_cr:
                    self.warnings.append(f"weights: AHP matrix of '{node}' has CR = {cr:.3f} > {spec.max_cr} "
                                         f"(accepted because allow_inconsistent is set).")
        elif m == "bod":
            eff, shares = weight_mod.bod(Y, node, min_share=spec.min_share)
            used = shares
            info["_scores"] = eff * spec.scale
        else:  # pragma: no cover
            raise RecipeError(f"unknown weighting method '{m}'.")
        return WeightRecord(node=node, children=list(ch), method=m, nominal=nominal, used=used, info=info)


# ----------------------------------------------------------------------------------------- result
class BuildResult:
    """Everything a build produced. Tidy views: :attr:`scores`, :meth:`wide`, :meth:`dataset`, :meth:`table`."""

    def __init__(self, *, framework, recipe, panel, datasets, scores_array, ranks_array, weights, treatment,
                 imputed_mask, treated_mask, warnings, inputs, screened_mask=None):
        self.framework: Framework = framework
        self.recipe: Recipe = recipe
        self.panel: Panel = panel
        self.datasets: dict[str, np.ndarray] = datasets
        self.scores_array: np.ndarray = scores_array  # (T, N, nodes) in framework.all_codes order
        self.ranks_array: np.ndarray = ranks_array
        self.weights: dict[str, WeightRecord] = weights
        self.treatment: pd.DataFrame = treatment
        self.imputed_mask = imputed_mask
        self.treated_mask = treated_mask
        self.screened_mask = screened_mask if screened_mask is not None else np.zeros(scores_array.shape[:2], bool)
        self.warnings: list[str] = list(warnings)
        self.inputs = inputs
        self.result_dir: Path | None = None
        self.input_paths: list[Path] = []  # resolved input files (outputs must never overwrite them)
        self.stale_removed: list[str] = []
        self._scores: pd.DataFrame | None = None

    # ------------------------------------------------------------------------------------- basics
    @property
    def units(self) -> pd.DataFrame:
        return self.panel.units

    @property
    def years(self) -> list[int]:
        return list(self.panel.years)

    @property
    def unit_codes(self) -> list[str]:
        return self.panel.unit_codes

    @property
    def nodes(self) -> list[str]:
        return self.framework.all_codes

    def node_index(self, node: str) -> int:
        try:
            return self.nodes.index(node)
        except ValueError:
            raise InputError(f"unknown node '{node}'.", hint=f"nodes are: {', '.join(self.nodes[-12:])} ...") from None

    @property
    def scores(self) -> pd.DataFrame:
        """Long table: unit, year, node, level, score, rank (indicator rows carry the normalised value)."""
        if self._scores is None:
            self._scores = self._long()
        return self._scores

    def _long(self) -> pd.DataFrame:
        fw = self.framework
        codes = self.nodes
        order = sorted(range(len(codes)), key=lambda i: (-fw.level(codes[i]), i))
        T, N, _ = self.scores_array.shape
        S = self.scores_array[:, :, order]  # (T, N, P)
        R = self.ranks_array[:, :, order]
        P = len(order)
        node_arr = np.array([codes[i] for i in order], dtype=object)
        lev_arr = np.array([fw.level(codes[i]) for i in order])
        # row order: node (index first), then year, then unit
        # unit and node as categoricals built from integer codes: fast for millions of rows
        unit_col = pd.Categorical.from_codes(np.tile(np.arange(N), P * T), categories=pd.Index(self.unit_codes))
        node_col = pd.Categorical.from_codes(np.repeat(np.arange(P), T * N), categories=pd.Index(list(node_arr)))
        Rf = R.transpose(2, 0, 1).reshape(-1)
        df = pd.DataFrame({
            "unit": unit_col,
            "year": np.tile(np.repeat(np.array(self.years, dtype=np.int64), N), P),
            "node": node_col,
            "level": np.repeat(lev_arr, T * N).astype(np.int64),
            "score": S.transpose(2, 0, 1).reshape(-1),
            "rank": pd.array(Rf, dtype="Int64") if np.isnan(Rf).any() else Rf.astype(np.int64),
        })
        return df

    def wide(self, node: str | None = None, what: str = "score") -> pd.DataFrame:
        """Unit x year table of one node's scores (or ranks), default the index."""
        j = self.node_index(node or self.framework.root)
        A = self.scores_array if what == "score" else self.ranks_array
        return pd.DataFrame(A[:, :, j].T, index=pd.Index(self.unit_codes, name="unit"),
                            columns=pd.Index(self.years, name="year"))

    def dataset(self, name: str = "normalised", year: int | None = None) -> pd.DataFrame:
        """Unit x indicator table of an intermediate data set for one year (default: the last); ``aggregated``
        gives unit x aggregate (every level above the indicators)."""
        if year is not None and year not in self.years:
            raise InputError(f"year {year} is not in the result.", hint=f"years are {self.years[0]}-{self.years[-1]}.")
        t = self.years.index(year) if year is not None else len(self.years) - 1
        if name == "aggregated":
            aggs = self.framework.aggregates
            idx = [self.node_index(c) for c in aggs]
            return pd.DataFrame(self.scores_array[t][:, idx], index=pd.Index(self.unit_codes, name="unit"),
                                columns=aggs)
        if name not in self.datasets:
            raise InputError(f"unknown data set '{name}'.",
                             hint=f"use one of {', '.join(DATASETS)} or aggregated.")
        return pd.DataFrame(self.datasets[name][t], index=pd.Index(self.unit_codes, name="unit"),
                            columns=self.framework.indicators)

    def table(self, year: int | None = None, level: int | None = None, ranks: bool = True) -> pd.DataFrame:
        """Unit rows, one column per aggregate (or per node of ``level``), sorted by the index rank."""
        t = self.years.index(year) if year is not None else len(self.years) - 1
        fw = self.framework
        nodes = [c for c in fw.all_codes if (level is None and not fw.nodes[c].is_indicator)
                 or (level is not None and fw.level(c) == level)]
        nodes = sorted(nodes, key=lambda c: (-fw.level(c), fw.all_codes.index(c)))
        idx = [self.node_index(c) for c in nodes]
        df = pd.DataFrame(self.scores_array[t][:, idx], index=pd.Index(self.unit_codes, name="unit"), columns=nodes)
        df.insert(0, "name", self.units["name"].to_numpy())
        if ranks:
            df.insert(1, "rank", self.ranks_array[t][:, self.node_index(fw.root)])
        return df.sort_values(["rank", "name"] if ranks else ["name"], na_position="last")

    # ------------------------------------------------------------------------------------ weights
    def weights_table(self) -> pd.DataFrame:
        """node, parent, level, nominal weight in parent, weight used (mean over years/units), nominal and
        effective weight in the index."""
        fw = self.framework
        used_map = {}
        for node, rec in self.weights.items():
            u = rec.used.mean(axis=tuple(range(rec.used.ndim - 1)))
            used_map[node] = u
        eff_nom = fw.effective_weights()
        eff_used = fw.effective_weights(used_map)
        rows = []
        for c in fw.all_codes:
            p = fw.parent(c)
            i = fw.children(p).index(c) if p else 0
            rows.append({
                "node": c, "parent": p, "level": fw.level(c),
                "method": self.weights[p].method if p else "",
                "nominal_weight": float(self.weights[p].nominal[i]) if p else 1.0,
                "weight": float(used_map[p][i]) if p else 1.0,
                "nominal_effective_weight": float(eff_nom[c]),
                "effective_weight": float(eff_used[c]),
            })
        return pd.DataFrame(rows)

    def effective_weights(self) -> pd.Series:
        t = self.weights_table()
        return pd.Series(t["effective_weight"].to_numpy(), index=t["node"], name="effective_weight")

    # --------------------------------------------------------------------------------- manifest
    def _finalise(self) -> None:
        S = np.ascontiguousarray(self.scores_array, dtype="<f8")
        scores_sha = hashlib.sha256(S.tobytes()).hexdigest()
        raw = self.datasets["raw"]
        self.manifest = {
            "dcindex_version": __version__,
            "recipe": self.recipe.to_plain(),
            "inputs": self.inputs,
            "inputs_sha256": dict(self.panel.sources),
            "data_fingerprint": self.panel.fingerprint(),
            "framework": {"root": self.framework.root, "indicators": len(self.framework.indicators),
                          "aggregates": len(self.framework.aggregates), "levels": self.framework.top_level},
            "units": len(self.unit_codes),
            "years": self.years,
            "counts": {
                "cells": int(raw.size),
                "missing_raw": int(np.isnan(raw).sum()),
                "imputed_cells": int(self.imputed_mask.sum()),
                "missing_after_imputation": int(np.isnan(self.datasets["imputed"]).sum()),
                "treated_cells": int(self.treated_mask.sum()),
                "screened_unit_years": int(self.screened_mask.sum()),
                "winsorised_columns": int((self.treatment["treatment"] == "winsorised").sum())
                if len(self.treatment) else 0,
                "log_transformed_columns": int((self.treatment["treatment"] == "log").sum())
                if len(self.treatment) else 0,
            },
            "warnings": list(self.warnings),
            "scores_sha256": scores_sha,
        }

    # ---------------------------------------------------------------------------------- rebuild
    def rebuild(self, **changes: Any) -> "BuildResult":
        """Re-run the build with some choices changed (COINr's Regen).

        Keywords: any recipe step (``denominate``, ``impute``, ``treat``, ``normalise``, ``weights``,
        ``aggregate``), ``recipe`` (a whole recipe), ``framework``, ``data`` (a Panel or anything
        :func:`build` accepts), ``node_weights`` ({code: weight}) and ``exclude`` ([codes]).
        """
        from dcindex.recipe import STEPS

        recipe = self.recipe
        fw = self.framework
        panel = self.panel
        steps = {k: v for k, v in changes.items() if k in STEPS}
        if "recipe" in changes:
            recipe = Recipe.from_any(changes["recipe"])
        if steps:
            recipe = recipe.replace(**steps)
        if steps or "recipe" in changes:
            _check_overrides(recipe, as_framework(changes.get("framework", self.framework)), None)
        if "framework" in changes:
            fw = as_framework(changes["framework"])
        if "node_weights" in changes:
            fw = fw.with_weights(changes["node_weights"])
        if "exclude" in changes and changes["exclude"]:
            fw = fw.without(list(changes["exclude"]))
        unknown = set(changes) - set(STEPS) - {"recipe", "framework", "node_weights", "exclude", "data", "units"}
        if unknown:
            raise RecipeError(f"rebuild() got unknown changes: {', '.join(sorted(unknown))}.",
                              hint="use recipe steps, recipe, framework, data, units, node_weights or exclude.")
        if "data" in changes:
            panel = load_panel(changes["data"], fw, changes.get("units"))
            if changes.get("units") is None:
                panel = attach_units(panel, self.units)
        elif changes.get("units") is not None:
            panel = load_panel(panel, fw, changes["units"])
        # provenance: what changed is recorded, not the inputs of the original build
        inputs = {k: v for k, v in self.inputs.items() if k != "rebuilt_from"}
        inputs.update(_input_records(**{k: changes[k] for k in ("data", "framework", "recipe", "units")
                                        if k in changes}))
        if steps or "node_weights" in changes or "exclude" in changes:
            inputs["changes"] = {k: (v.to_plain() if hasattr(v, "to_plain") else v)
                                 for k, v in changes.items() if k in STEPS or k in ("node_weights", "exclude")}
        inputs["rebuilt_from"] = self.manifest["scores_sha256"]
        if fw is not self.framework and panel is self.panel:
            keep = [self.panel.indicators.index(c) for c in fw.indicators]
            panel = Panel(units=panel.units, years=panel.years, indicators=list(fw.indicators),
                          values=panel.values[..., keep], denominator_codes=panel.denominator_codes,
                          denominators=panel.denominators, sources=panel.sources, notes=panel.notes,
                          cell_sources=panel.cell_sources)
        res = _Pipeline(panel, fw, recipe, inputs).run()
        res.input_paths = list(getattr(self, "input_paths", [])) + _input_paths(
            *(changes.get(k) for k in ("data", "framework", "recipe", "units")))
        return res

    # ---------------------------------------------------------------------------------- exports
    #: above this many indicator cells (years x units x indicators) the spreadsheet's indicator-level sheets hold
    #: the latest year only; every value stays in scores.csv/.parquet and inputs/data.csv
    XLSX_FULL_CELLS = 400_000

    def excel_sheets(self) -> dict[str, pd.DataFrame]:
        fw = self.framework
        sheets: dict[str, pd.DataFrame] = {}
        names = self.units["name"]
        T, N = len(self.years), len(self.unit_codes)
        big = T * N * len(fw.indicators) > self.XLSX_FULL_CELLS
        for lev in sorted(fw.levels, reverse=True):
            nodes = fw.nodes_at_level(lev)
            idx = [self.node_index(c) for c in nodes]
            ts = [T - 1] if (lev == 1 and big) else list(range(T))
            base = pd.DataFrame({
                "unit": np.tile(np.array(self.unit_codes, dtype=object), len(ts)),
                "name": np.tile(names.to_numpy(dtype=object), len(ts)),
                "year": np.repeat(np.array(self.years)[ts], N),
            })
            sc = pd.DataFrame(self.scores_array[ts][:, :, idx].reshape(len(ts) * N, -1), columns=nodes)
            parts = [base, sc]
            if lev > 1:  # ranks of aggregates (indicator ranks are in scores.csv)
                parts.append(pd.DataFrame(self.ranks_array[ts][:, :, idx].reshape(len(ts) * N, -1),
                                          columns=[f"rank_{c}" for c in nodes]))
            label = "Index" if lev == fw.top_level else ("Indicators (normalised)" if lev == 1 else f"Level {lev}")
            sheets[label] = pd.concat(parts, axis=1)
        ts = [T - 1] if big else list(range(T))
        raw = pd.DataFrame(self.datasets["raw"][ts].reshape(len(ts) * N, -1), columns=fw.indicators)
        raw.insert(0, "year", np.repeat(np.array(self.years)[ts], N))
        raw.insert(0, "unit", np.tile(np.array(self.unit_codes, dtype=object), len(ts)))
        sheets["Raw data"] = raw
        sheets["Weights"] = self.weights_table()
        sheets["Framework"] = fw.to_frame()
        if len(self.treatment):
            sheets["Treatment"] = self.treatment
        flags = []
        ucodes = np.array(self.unit_codes, dtype=object)  # the properties build lists: once, not per cell
        yrs, inds = np.array(self.years), np.array(fw.indicators, dtype=object)
        for name, mask in (("imputed", self.imputed_mask), ("treated", self.treated_mask)):
            t, n, k = np.nonzero(mask)
            flags.append(pd.DataFrame({"unit": ucodes[n], "year": yrs[t], "indicator": inds[k], "flag": name}))
        sheets["Flags"] = pd.concat(flags, ignore_index=True)
        if self.panel.cell_sources is not None and len(self.panel.cell_sources):
            sheets["Sources"] = self.panel.cell_sources[["unit", "year", "indicator", "source"]].reset_index(drop=True)
        sheets["Recipe"] = pd.DataFrame({"recipe (YAML)": self.recipe.to_yaml().splitlines()})
        prov = [("dcindex_version", self.manifest["dcindex_version"]),
                ("data_fingerprint", self.manifest["data_fingerprint"]),
                ("scores_sha256", self.manifest["scores_sha256"])]
        for role, v in self.inputs.items():
            if isinstance(v, dict):
                prov.append((f"input {role}", f"{v.get('path')} sha256={v.get('sha256')}"))
        if big:
            prov.append(("note", f"large panel ({T} years x {N} units x {len(fw.indicators)} indicators): the "
                                 f"indicator and raw-data sheets hold {self.years[-1]} only; every year is in "
                                 f"scores.csv / scores.parquet and inputs/data.csv"))
        for w in self.warnings:
            prov.append(("warning", w))
        sheets["Provenance"] = pd.DataFrame(prov, columns=["key", "value"])
        return sheets

    def to_dir(self, path: str | Path) -> Path:
        from dcindex.io import write_result

        self.result_dir = write_result(self, path)
        return self.result_dir

    # ---------------------------------------------------------------------------------- summary
    def summary(self, top: int = 10, lang: str = "en") -> str:
        """A plain-text summary: framework, recipe, counts, warnings and the top of the latest ranking."""
        fw = self.framework
        m = self.manifest
        yr = self.years[-1]
        lines = [
            f"dcindex build  (version {m['dcindex_version']})",
            f"  index      : {fw.nodes[fw.root].label(lang)} [{fw.root}], {len(fw.indicators)} indicators, "
            f"{len(fw.aggregates)} aggregates, {fw.top_level} levels",
            f"  units/years: {len(self.unit_codes)} units x {len(self.years)} year(s) "
            f"({self.years[0]}-{self.years[-1]})",
            "  recipe     : " + ", ".join(f"{k}={_short(v)}" for k, v in self.recipe.to_plain().items()),
            f"  data       : {m['counts']['missing_raw']} missing of {m['counts']['cells']} cells, "
            f"{m['counts']['imputed_cells']} imputed, {m['counts']['treated_cells']} treated",
            f"  fingerprint: {m['data_fingerprint'][:16]}",
        ]
        if self.warnings:
            lines.append("  warnings   :")
            lines += [f"    - {w}" for w in self.warnings]
        tab = self.table(yr).head(top)
        lines.append(f"  top {min(top, len(tab))} in {yr}:")
        cols = [c for c in tab.columns if c not in ("name", "rank")][:6]
        head = f"    {'rank':>4}  {'unit':<12} {'name':<22}" + "".join(f"{c[:10]:>11}" for c in cols)
        lines.append(head)
        for u, r in tab.iterrows():
            rk = "" if pd.isna(r["rank"]) else f"{int(r['rank'])}"
            lines.append(f"    {rk:>4}  {str(u)[:12]:<12} {str(r['name'])[:22]:<22}"
                         + "".join(f"{r[c]:>11.2f}" for c in cols))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"BuildResult(index={self.framework.root!r}, units={len(self.unit_codes)}, years={self.years[0]}"
                f"-{self.years[-1]}, nodes={len(self.nodes)})")


def _short(v: Any) -> str:
    if isinstance(v, dict):
        m = v.get("method", "")
        extra = {k: x for k, x in v.items() if k not in ("method",) and x not in (None, {}, [])}
        if extra and len(str(extra)) < 60:
            return f"{m}{extra}"
        return str(m)
    return str(v)


from dcindex._callable import make_callable  # noqa: E402

make_callable(__name__, "build")
