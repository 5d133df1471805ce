"""Shared machinery of :mod:`dcindex.explain`: argument resolution, subtree re-evaluation, effective weights,
normalisation drift."""
from __future__ import annotations

import re
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex import aggregate as agg_mod
from dcindex import normalise as norm_mod
from dcindex import weight as weight_mod
from dcindex.errors import DcindexError, InputError, MethodError

DATA_DRIVEN = ("entropy", "critic", "pca")
FIXED_WEIGHTS = ("meta", "equal", "ahp")
CROSS_UNIT = ("mazziotta_pareto", "topsis")  # aggregations whose reference points come from all units


# ------------------------------------------------------------------------------------------ arguments
def as_result(obj: Any):
    """A BuildResult, or a result folder written by ``dcindex build``/``run`` (loaded with load_result)."""
    from dcindex.build import BuildResult

    if isinstance(obj, BuildResult):
        return obj
    if isinstance(obj, (str, Path)):
        from dcindex.io import load_result

        return load_result(obj)
    raise InputError(f"expected a build result or a result folder, got {type(obj).__name__}.",
                     hint="pass the object returned by dcindex.build(...) or the path of a result folder.")


_CN_CODE6 = re.compile(r"^\d{6}$")
_NAME_COLUMNS = ("name", "name_zh", "name_en", "short_zh", "name_en_full", "pinyin")


def _key(x: Any) -> str:
    s = unicodedata.normalize("NFKC", str(x)).strip()
    if s.endswith(".0") and s[:-2].isdigit():
        s = s[:-2]
    return s


def resolve_unit(result, unit: Any) -> tuple[int, str]:
    """(position, code) of a unit given by code, by a name in the units table, or -- when the units are Chinese
    administrative codes -- by any name :func:`dcindex.china.match_units` knows (short names such as 四川,
    pinyin, English). InputError listing close matches otherwise."""
    codes = list(result.unit_codes)
    key = _key(unit)
    if key in codes:
        return codes.index(key), key
    u = result.units
    cols = [c for c in _NAME_COLUMNS if c in u.columns]
    names: dict[str, set[str]] = {}
    for col in cols:
        for c, v in zip(u.index, u[col]):
            if isinstance(v, str) and v.strip():
                names.setdefault(_key(v).casefold(), set()).add(str(c))
    hit = names.get(key.casefold(), set())
    if len(hit) == 1:
        code = next(iter(hit))
        return codes.index(code), code
    if len(hit) > 1:
        raise InputError(f"unit '{unit}' is ambiguous in this result: it names {', '.join(sorted(hit))}.",
                         hint="give the unit code instead.")
    gb, level = _match_chinese(codes, key)
    if gb is not None and gb in codes:
        return codes.index(gb), gb
    close = _close_units(result, key, names)
    extra = ""
    if gb:
        gname = _reference_names(level).get(gb, [""])[0]
        extra = f"; '{unit}' is the {level} {gb} {gname} in GB/T 2260, which is not one of them"
    raise InputError(
        f"unit '{unit}' is not in this result ({len(codes)} units, e.g. {', '.join(codes[:6])}){extra}.",
        hint="give a unit code as in units.csv (e.g. " + (codes[0] if codes else "510000") + ") or a name of the "
             "units table" + ("; for Chinese codes also a short, pinyin or English name (四川, Sichuan)"
                              if _chinese_codes(codes) else "")
             + (f"; close matches: {', '.join(close)}" if close else "; no unit has a similar code or name") + ".")


def _chinese_codes(codes: list[str]) -> bool:
    return bool(codes) and all(_CN_CODE6.match(c) for c in codes)


def _levels(codes: list[str]) -> list[str]:
    return ["province", "city"] if all(c.endswith("0000") for c in codes) else ["city", "province"]


def _match_chinese(codes: list[str], key: str) -> tuple[str | None, str | None]:
    """(GB/T 2260 code, level) of ``key`` via dcindex.china.match_units when the result's units are Chinese codes:
    the result's own level first, then the other (to say '成都 is a city' in a province result)."""
    if not key or not _chinese_codes(codes):
        return None, None
    try:
        from dcindex.china import match_units
    except ImportError:  # pragma: no cover - the china capability is part of the package
        return None, None
    for level in _levels(codes):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = match_units([key], level)
        except DcindexError:  # no match or ambiguous at this level
            continue
        code = got.iloc[0]
        if isinstance(code, str) and code:
            return code, level
    return None, None


def _reference_names(level: str | None) -> dict[str, list[str]]:
    """code -> [Chinese name, short name, English name, pinyin] from dcindex.china's reference table."""
    if level is None:
        return {}
    try:
        from dcindex.china import units as cn_units

        ref = cn_units(level)
    except Exception:  # noqa: BLE001 - only used to enrich messages
        return {}
    cols = [c for c in ("name_zh", "short_zh", "name_en", "pinyin") if c in ref.columns]
    return {str(r["code"]): [str(r[c]) for c in cols if isinstance(r[c], str) and r[c]]
            for r in ref.to_dict("records")}


def _close_units(result, key: str, names: dict[str, set[str]], n: int = 6) -> list[str]:
    """'code name' of the units whose code or name is close to ``key`` (substring, then difflib similarity);
    for Chinese codes the reference table's short, English and pinyin names count too."""
    import difflib

    codes = list(result.unit_codes)
    pool: dict[str, set[str]] = {c.casefold(): {c} for c in codes}
    for nm, cs in names.items():
        pool.setdefault(nm, set()).update(cs)
    if _chinese_codes(codes):
        have = set(codes)
        for c, nms in _reference_names(_levels(codes)[0]).items():
            if c in have:
                for nm in nms:
                    pool.setdefault(_key(nm).casefold(), set()).add(c)
    k = key.casefold()
    out: list[str] = []
    for nm, cs in pool.items():
        if k and len(nm) > 1 and (k in nm or nm in k):
            out += sorted(cs)
    ratio = {nm: difflib.SequenceMatcher(None, k, nm).ratio() for nm in pool}
    best = max(ratio.values(), default=0.0)
    for nm in sorted(ratio, key=lambda x: -ratio[x]):  # the best similarity and those nearly as good
        if ratio[nm] >= max(0.5, best - 0.15):
            out += sorted(pool[nm])
    out = list(dict.fromkeys(out))[:n]
    return [f"{c} {unit_name(result, c)}" if unit_name(result, c) != c else c for c in out]


def resolve_year(result, year: Any, what: str = "year", default: str = "last") -> int:
    """Index of ``year`` in the result's years (default: the last or first year)."""
    years = result.years
    if year is None:
        return len(years) - 1 if default == "last" else 0
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise InputError(f"{what} '{year}' is not a year.", hint="write years as whole numbers such as 2023.") from None
    if y not in years:
        raise InputError(f"{what} {y} is not in this result (years {years[0]}-{years[-1]}: "
                         f"{', '.join(map(str, years[:15]))}{' ...' if len(years) > 15 else ''}).",
                         hint=f"choose a year between {years[0]} and {years[-1]} that has data.")
    return years.index(y)


def resolve_node(result, node: Any) -> str:
    fw = result.framework
    if node is None:
        return fw.root
    code = str(node)
    if code not in fw.nodes:
        aggs = ", ".join(reversed(fw.aggregates[-12:]))
        raise InputError(f"node '{node}' is not in the framework.",
                         hint=f"use the index '{fw.root}', a pillar or an indicator code (aggregates: {aggs}).")
    return code


def node_label(fw, code: str, lang: str = "en") -> str:
    return fw.nodes[code].label(lang)


def unit_name(result, code: str) -> str:
    u = result.units
    v = u.loc[code, "name"] if "name" in u.columns else code
    return str(v) if isinstance(v, str) and v else code


def subtree(fw, node: str) -> tuple[list[str], list[str]]:
    """(indicators below ``node`` in data order, aggregates of the subtree bottom-up incl. ``node``)."""
    if fw.nodes[node].is_indicator:
        return [node], []
    desc = set(fw.descendants(node))
    inds = [k for k in fw.indicators if k in desc]
    aggs = [a for a in fw.aggregates if a in desc or a == node]
    return inds, aggs


def group_of(fw, node: str, inds: list[str]) -> dict[str, str]:
    """For each indicator below ``node``: the child of ``node`` that contains it (its 'pillar')."""
    out = {}
    for k in inds:
        if k == node:
            out[k] = k
            continue
        c = k
        while fw.parent(c) != node:
            c = fw.parent(c)
        out[k] = c
    return out


def is_arithmetic(result, aggs: list[str]) -> bool:
    rc = result.recipe
    fw = result.framework
    for a in aggs:
        if rc.aggregate.resolve(node=a, level=fw.level(a)).method != "arithmetic":
            return False
        if rc.weights.resolve(node=a, level=fw.level(a)).method == "bod":
            return False
    return True


def check_no_bod(result, aggs: list[str], what: str) -> None:
    fw = result.framework
    bod = [a for a in aggs if result.recipe.weights.resolve(node=a, level=fw.level(a)).method == "bod"]
    if bod:
        raise MethodError(
            f"{what} is not available for aggregates weighted by benefit of the doubt ({', '.join(bod)}): their "
            f"scores come from one linear programme per unit, not from an aggregation formula.",
            hint="explain a node below them, or rebuild with other weights (result.rebuild(weights=...)).")


def score_tol(S: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = np.nanmax(np.abs(S)) if np.isfinite(S).any() else 1.0
    return 1e-9 * max(1.0, float(m))


def internal_check(ok: bool, what: str) -> None:
    if not ok:
        raise MethodError(
            f"internal consistency check failed: {what}. The explanation would not add up, so none is given.",
            hint="please report this with the recipe; meanwhile explain with method='shapley' or another node.")


# --------------------------------------------------------------------------------- subtree evaluation
class SubtreeEvaluator:
    """Re-evaluates the aggregation of one node's subtree on batches of normalised data ("worlds").

    Worlds are arrays ``(B, N, Ks)`` of normalised values of the subtree's indicators for all units. Weights
    that do not depend on the data of a year (meta, equal, AHP, and data-driven weights with ``scope:
    pooled``) are taken as the build used them; data-driven weights with ``scope: year`` are recomputed on
    every world, exactly as the build computes them for a year. Aggregation calls the core functions of
    :mod:`dcindex.aggregate`, so every method (including Mazziotta-Pareto and TOPSIS, whose reference points
    come from all units of the world) is evaluated by the same code as the build.
    """

    def __init__(self, result, node: str):
        fw = result.framework
        self.result = result
        self.node = node
        self.inds, self.aggs = subtree(fw, node)
        check_no_bod(result, self.aggs, "re-evaluating the index")
        self.kpos = [fw.indicators.index(k) for k in self.inds]
        self.codes = self.inds + self.aggs
        self.pos = {c: i for i, c in enumerate(self.codes)}
        rc = result.recipe
        self.plan = []
        for a in self.aggs:
            lev = fw.level(a)
            wspec = rc.weights.resolve(node=a, level=lev)
            aspec = rc.aggregate.resolve(node=a, level=lev)
            recompute = wspec.method in DATA_DRIVEN and getattr(wspec, "scope", "pooled") == "year"
            idx = [self.pos[c] for c in fw.children(a)]
            self.plan.append((a, idx, wspec, aspec, recompute, result.weights[a]))

    @property
    def has_year_weights(self) -> bool:
        return any(p[4] for p in self.plan)

    @property
    def unit_independent(self) -> bool:
        """True when a unit's score depends on its own values only (no cross-unit reference points and no
        weights recomputed from the data), so worlds can be evaluated on the units of interest alone."""
        return not self.has_year_weights and all(p[3].method not in CROSS_UNIT for p in self.plan)

    def fixed_weights_equal(self, t1: int, t2: int) -> bool:
        return all(np.array_equal(rec.used[t1], rec.used[t2]) for _, _, _, _, rc_, rec in self.plan if not rc_)

    def evaluate(self, X: np.ndarray, t: int) -> np.ndarray:
        """Scores ``(B, N)`` at the node for worlds ``X (B, N, Ks)``; fixed weights are those of year index t."""
        X = np.asarray(X, dtype=float)
        if not self.aggs:
            return X[..., 0]
        B, N, Ks = X.shape
        S = np.full((B, N, len(self.codes)), np.nan)
        S[..., :Ks] = X
        for a, idx, wspec, aspec, recompute, rec in self.plan:
            Y = S[..., idx]
            if recompute:
                w = self._weights(Y, wspec, a)[:, None, :]
            else:
                w = rec.used[t]
            S[..., self.pos[a]] = agg_mod.aggregate(Y, w, aspec, node=a)
        return S[..., self.pos[self.node]]

    @staticmethod
    def _weights(Y: np.ndarray, spec, node: str) -> np.ndarray:
        # the same core functions the build calls for 'scope: year' (one block per world)
        if spec.method == "entropy":
            return weight_mod.entropy(Y, node)
        if spec.method == "critic":
            return weight_mod.critic(Y, node)
        w, _ = weight_mod.pca(Y, node, min_eigenvalue=spec.min_eigenvalue, min_share=spec.min_share,
                              min_cumulative=spec.min_cumulative, rotate=spec.rotate)
        return w

    def year_data(self, t: int) -> np.ndarray:
        """Normalised values (N, Ks) of the subtree's indicators in year index t."""
        return self.result.datasets["normalised"][t][:, self.kpos]

    def check_reproduces(self, t: int) -> None:
        """The re-evaluation of year t must give the build's scores (guards against drift from the core)."""
        got = self.evaluate(self.year_data(t)[None], t)[0]
        want = self.result.scores_array[t, :, self.result.node_index(self.node)]
        ok = np.allclose(got, want, rtol=0, atol=score_tol(want), equal_nan=True)
        internal_check(ok, f"re-aggregating '{self.node}' in {self.result.years[t]} does not reproduce the build's "
                           f"scores (max difference {np.nanmax(np.abs(got - want)):.3g})")


# ---------------------------------------------------------------------------------- effective weights
def effective_weights(result, node: str, t: int) -> np.ndarray:
    """Per-unit effective weight of every indicator below ``node`` in year index t: ``(N, Ks)``.

    Valid for arithmetic aggregation: the product, along the path from the indicator up to ``node``, of the
    weight used for each child divided by the sum of the weights of the children the unit actually has
    (missing children are dropped and the others rescaled, per unit, as the build does). A unit's score at
    ``node`` is then exactly ``sum_k ew_k x_k`` over its present indicators.
    """
    fw = result.framework
    inds, aggs = subtree(fw, node)
    S = result.scores_array[t]
    N = S.shape[0]
    ew: dict[str, np.ndarray] = {node: np.where(np.isnan(S[:, result.node_index(node)]), 0.0, 1.0)}
    for a in reversed(aggs):  # top-down
        ch = fw.children(a)
        w = np.asarray(result.weights[a].used[t], dtype=float)
        w = np.broadcast_to(w, (N, len(ch)))
        present = ~np.isnan(S[:, [result.node_index(c) for c in ch]])
        wp = np.where(present, w, 0.0)
        tot = wp.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            wn = np.where(tot > 0, wp / tot, 0.0)
        for j, c in enumerate(ch):
            ew[c] = ew[a] * wn[:, j]
    return np.stack([ew[k] for k in inds], axis=1)


# -------------------------------------------------------------------------------- normalisation drift
def _norm_spec(result, code: str):
    return result.recipe.normalise.resolve(node=code, level=1)


def drift_free(spec) -> bool:
    """Normalisations whose reference points do not move between years (fixed or pooled over all years)."""
    return spec.method in ("goalposts", "base_year") or getattr(spec, "scope", "year") == "pooled"


def _normalise_year_blocks(Xd: np.ndarray, spec, targets: np.ndarray | None) -> np.ndarray:
    """Per-year normalisation of direction-adjusted values (B, N, K) along units, as the build does it."""
    m = spec.method
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if m == "minmax":
            mn = np.nanmin(Xd, axis=-2, keepdims=True)
            mx = np.nanmax(Xd, axis=-2, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                return (Xd - mn) / (mx - mn) * (spec.high - spec.low) + spec.low
        if m == "zscore":
            mu = np.nanmean(Xd, axis=-2, keepdims=True)
            s = np.nanstd(Xd, axis=-2, ddof=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                return (Xd - mu) / s * spec.sd + spec.mean
        if m == "rank":
            return norm_mod.rank(Xd)
        if m == "percentile_rank":
            return norm_mod.percentile_rank(Xd, spec.scale)
        if m == "target":
            mn = np.nanmin(Xd, axis=-2, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = (Xd - mn) / (targets - mn)
            if spec.cap:
                out = np.minimum(out, 1.0)
            return out * spec.scale
    raise MethodError(f"no drift decomposition for normalisation '{m}'.")  # pragma: no cover


def normalisation_drift(result, s: int, e: int, units: list[int] | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the change of each normalised value between year indices s and e into the effect of the unit's
    own (treated) value and the drift of the year's reference points (min/max, mean/sd, the other units).

    Two-factor Shapley split with factors *own value* v and *field* F (the other units' values that year):
    ``x(v, F)`` is the value the normaliser gives v among F, so
    ``raw = ((x(v_e, F_s) - x(v_s, F_s)) + (x(v_e, F_e) - x(v_s, F_e))) / 2`` and ``drift = dx - raw``.
    ``x(v_e, F_s)`` is computed by normalising year s with the unit's value replaced by its end-year value.
    Fixed goalposts, base-year and pooled normalisations have no drift (``raw = dx``).
    Returns (dx, raw, drift), each ``(n_units, K)`` (NaN where a value is missing).
    """
    fw = result.framework
    Xn = result.datasets["normalised"]
    Xt = result.datasets["treated"]
    N = Xn.shape[1]
    U = np.arange(N) if units is None else np.asarray(units, dtype=int)
    dx = Xn[e][U] - Xn[s][U]
    raw = dx.copy()
    dirs = np.array([fw.nodes[c].direction for c in fw.indicators], dtype=float)
    groups: dict[Any, list[int]] = {}
    for k, c in enumerate(fw.indicators):
        sp = _norm_spec(result, c)
        if not drift_free(sp):
            groups.setdefault(sp, []).append(k)
    for spec, cols in groups.items():
        tg = None
        if spec.method == "target":
            tg = np.array([fw.nodes[fw.indicators[k]].target for k in cols], dtype=float) * dirs[cols]
        Ds, De = Xt[s][:, cols] * dirs[cols], Xt[e][:, cols] * dirs[cols]
        # the build's own values first (guards against drift from the core's normaliser)
        chk = _normalise_year_blocks(np.stack([Ds, De]), spec, tg)
        internal_check(np.allclose(chk, np.stack([Xn[s][:, cols], Xn[e][:, cols]]), rtol=1e-12, atol=1e-9,
                                   equal_nan=True), "re-normalising the treated values does not reproduce the build")
        a_se = _swapped(Ds, De, U, spec, tg)  # x(v_e in field s)
        a_es = _swapped(De, Ds, U, spec, tg)  # x(v_s in field e)
        xs, xe = Xn[s][U][:, cols], Xn[e][U][:, cols]
        raw[:, cols] = 0.5 * ((a_se - xs) + (xe - a_es))
    return dx, raw, dx - raw


def _swapped(field: np.ndarray, own: np.ndarray, U: np.ndarray, spec, tg, chunk: int = 256) -> np.ndarray:
    """For each unit u in U: its normalised value when its value in ``field`` is replaced by ``own[u]``."""
    out = np.empty((len(U), field.shape[1]))
    for a in range(0, len(U), chunk):
        uu = U[a:a + chunk]
        B = np.repeat(field[None], len(uu), axis=0)
        B[np.arange(len(uu)), uu] = own[uu]
        out[a:a + len(uu)] = _normalise_year_blocks(B, spec, tg)[np.arange(len(uu)), uu]
    return out


def fmt(x: float, nd: int = 2) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)) or pd.isna(x):
        return "—"
    return f"{x:,.{nd}f}"


def signed(x: float, nd: int = 2) -> str:
    if x is None or pd.isna(x):
        return "—"
    return f"{x:+,.{nd}f}"
