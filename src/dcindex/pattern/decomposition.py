"""Dagum (1997) decomposition of the Gini coefficient by subgroups, exact in O(n log n), with bootstrap CIs.

Dagum, C. (1997) "A new approach to the decomposition of the Gini income inequality ratio", Empirical
Economics 22: 515-531. With groups j = 1..k, (weighted) sizes W_j, means mu_j (groups ordered so that
mu_j >= mu_h), shares p_j = W_j / W and s_j = p_j mu_j / mu:

    G     = sum_i sum_r w_i w_r |y_i - y_r| / (2 W^2 mu)                      (population Gini, no n/(n-1))
    G_jj  = sum_{i,r in j} w_i w_r |y_i - y_r| / (2 W_j^2 mu_j)
    G_jh  = sum_{i in j, r in h} w_i w_r |y_i - y_r| / (W_j W_h (mu_j + mu_h))
    D_jh  = (d_jh - p_jh) / (d_jh + p_jh)   with d_jh = E[(y_j - y_h)^+], p_jh = E[(y_h - y_j)^+]
    Gw    = sum_j G_jj p_j s_j
    Gnb   = sum_{j>h} G_jh (p_j s_h + p_h s_j) D_jh
    Gt    = sum_{j>h} G_jh (p_j s_h + p_h s_j) (1 - D_jh),      G = Gw + Gnb + Gt.

Because d_jh - p_jh = mu_j - mu_h and d_jh + p_jh = Delta_jh (mean absolute difference between the two
groups), every term follows from the k x k matrix of pairwise sums of absolute differences. That matrix is
computed exactly from one sort and cumulative sums per group (O(n log n + n k)), vectorised over bootstrap
replications. No library implements Dagum's decomposition (PySAL ``inequality`` has Gini, Gini_Spatial and
Theil only), hence own code; it is checked in the tests against a brute-force O(n^2) double sum, against
PySAL's Gini and against PySAL's Gini_Spatial with block weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError, MethodError

__all__ = ["dagum", "DagumResult", "dagum_panel", "pairwise_abs_sums"]


def _sorted_core(xs: np.ndarray, gs: np.ndarray, V: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise sums for rows already sorted by value. ``xs``, ``gs`` (1 or R, n); ``V`` (R, n) weights.

    With C_h(t) the weight of group h strictly before sorted position t, Q[j, h] = sum_{t in j} v_t x_t C_h(t),
    W_j, S_j the group weight and weighted sum, the lower-triangle sums
    M[j, h] = sum_{t in j} sum_{u in h, u < t} v_t v_u (x_t - x_u) are
        M[j, h] = Q[j, h] + Q[h, j] - W_j S_h                     (h != j)
        M[j, j] = 2 Q[j, j] - W_j S_j + sum_{u in j} v_u^2 x_u,
    and A = M + M^T. Values are centred first (A is shift-invariant) to limit cancellation.
    """
    R, n = V.shape
    c = xs[:, n // 2][:, None]  # a central value per row (rows are sorted)
    xc = xs - c
    mask = gs[:, None, :] == np.arange(k)[None, :, None]  # (1|R, k, n)
    if mask.shape[0] == 1:  # shared labels (bootstrap): scatter each group's weights into its row
        C = np.zeros((R, k, n))
        for j in range(k):  # loop over the k groups; vectorised over replications and units
            C[:, j, mask[0, j]] = V[:, mask[0, j]]
    else:
        C = np.where(mask, V[:, None, :], 0.0)
    np.cumsum(C, axis=2, out=C)  # inclusive; the exclusive value at t is C[..., t - 1]
    a = V * xc  # (R, n)
    oh = np.swapaxes(mask, 1, 2).astype(float)  # (1|R, n, k)
    # T[r, h, t] = a_t C_h(t) (exclusive), summed by the group of t: Q[r, h, j] = sum_t T[r, h, t] [g_t = j]
    T = a[:, None, 1:] * C[:, :, :-1]
    Q = np.swapaxes(np.matmul(T, oh[:, 1:, :]), 1, 2)
    Wg = C[:, :, -1]
    Scg = np.matmul(a[:, None, :], oh)[:, 0, :]
    sq = np.matmul((V * a)[:, None, :], oh)[:, 0, :]  # sum_{u in j} v_u^2 x_u
    WS = Wg[:, :, None] * Scg[:, None, :]  # W_j S_h
    M = Q + np.swapaxes(Q, 1, 2) - WS
    d = np.arange(k)
    M[:, d, d] = 2 * Q[:, d, d] - WS[:, d, d] + sq
    A = M + np.swapaxes(M, 1, 2)
    # group sums of the uncentred values (not Scg + c Wg, whose cancellation leaves ~1e-16 for a group of zeros)
    Sg = np.matmul((V * xs)[:, None, :], oh)[:, 0, :]
    return A, Wg, Sg


def pairwise_abs_sums(x: np.ndarray, labels: np.ndarray, k: int, w: np.ndarray | None = None,
                      chunk: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact group-pair sums of weighted absolute differences, vectorised over leading replications.

    ``x`` (n,) values shared by all replications (then only the weights ``w`` (R, n) vary: this is how the
    bootstrap runs, with multiplicity counts as weights, so the data are sorted once) or (R, n) values
    sorted row by row; ``labels`` (n,) or (R, n) integer groups in [0, k); ``w`` (R, n) / (n,) weights or
    None. Returns ``A`` (R, k, k) with A[j, h] = sum_{i in j, r in h} w_i w_r |x_i - x_r| (ordered pairs, so
    A is symmetric and A[j, j] counts each pair twice), group weight totals ``Wg`` (R, k) and weighted sums
    ``Sg`` (R, k). Cost O(n log n) for the sort plus O(n k) per replication (cumulative sums and one small
    matrix product), instead of O(n^2).
    """
    x = np.asarray(x, dtype=float)
    lab = np.asarray(labels, dtype=np.intp)
    if x.ndim == 1:
        n = x.size
        ww = np.ones((1, n)) if w is None else np.atleast_2d(np.asarray(w, dtype=float))
        R = ww.shape[0]
        order = np.argsort(x)  # ties in any order: tied pairs contribute 0 either way
        xs, ww = x[order][None, :], ww[:, order]
        gs = np.broadcast_to(lab, (n,))[order][None, :] if lab.ndim == 1 else np.take_along_axis(
            np.broadcast_to(lab, (R, n)), np.broadcast_to(order, (R, n)), axis=1)
        if lab.ndim == 1:
            out = [_sorted_core(xs, gs, ww[s:s + chunk], k) for s in range(0, R, chunk)]
            return tuple(np.concatenate(parts) for parts in zip(*out))  # type: ignore[return-value]
        x = np.broadcast_to(x, (R, n))
    R, n = x.shape
    lab = np.broadcast_to(lab, (R, n))
    ww = np.ones((R, n)) if w is None else np.broadcast_to(np.asarray(w, dtype=float), (R, n))
    A = np.empty((R, k, k))
    Wg = np.empty((R, k))
    Sg = np.empty((R, k))
    for s in range(0, R, chunk):  # chunks bound memory; the work inside is vectorised
        e = min(R, s + chunk)
        order = np.argsort(x[s:e], axis=1)
        xs = np.take_along_axis(x[s:e], order, axis=1)
        gs = np.take_along_axis(lab[s:e], order, axis=1)
        vs = np.take_along_axis(ww[s:e], order, axis=1)
        A[s:e], Wg[s:e], Sg[s:e] = _sorted_core(xs, gs, vs, k)
    return A, Wg, Sg


def _terms(A: np.ndarray, Wg: np.ndarray, Sg: np.ndarray) -> dict[str, np.ndarray]:
    """All Dagum terms from the pairwise sums (vectorised over the leading axis).

    The contributions are computed in the form that stays defined when a group's values are all zero:
    G_jj p_j s_j = A_jj / (2 W S) and G_jh (p_j s_h + p_h s_j) = A_jh / (W S) (substitute p_j = W_j / W,
    s_j = S_j / S, mu_j = S_j / W_j). G_jj (and G_jh of two all-zero groups) is then NaN (0/0: the Gini of
    zeros is undefined) while its contribution is exactly 0, and G = Gw + Gnb + Gt holds in every case.
    """
    W = Wg.sum(-1)
    S = Sg.sum(-1)
    mu = S / W
    WS = W * S
    with np.errstate(invalid="ignore", divide="ignore"):
        mu_j = Sg / Wg
        p = Wg / W[..., None]
        s = Sg / S[..., None]
        WW = Wg[..., :, None] * Wg[..., None, :]
        msum = mu_j[..., :, None] + mu_j[..., None, :]
        scale = WW * msum
        # rounding noise of the cumulative sums (~eps * n relative) is not inequality: zero it so that D_jh
        # of (near-)identical groups is 0 rather than noise / noise (the tolerance includes the overall mean,
        # so it is never 0, also for groups whose values are all 0)
        A = np.where(A <= 1e-12 * WW * (msum + mu[..., None, None]), 0.0, A)
        G = A.sum((-1, -2)) / (2 * WS)
        diag = np.diagonal(A, axis1=-2, axis2=-1)
        Gjj = diag / (2 * Wg**2 * mu_j)  # NaN for a group of zeros (undefined)
        cw = diag / (2 * WS[..., None])  # G_jj p_j s_j, 0 for a group of zeros
        Gjh = A / scale
        Delta = A / WW  # mean absolute difference between groups
        dmu = np.abs(mu_j[..., :, None] - mu_j[..., None, :])
        D = np.clip(np.where(A > 0, dmu / np.where(A > 0, Delta, 1.0), 0.0), 0.0, 1.0)
        pair = A / WS[..., None, None]  # G_jh (p_j s_h + p_h s_j)
        k = Wg.shape[-1]
        off = ~np.eye(k, dtype=bool)
        nb = np.where(off, pair * D, 0.0)
        tr = np.where(off, pair * (1 - D), 0.0)
        Gw = cw.sum(-1)
        Gnb = nb.sum((-1, -2)) / 2  # each unordered pair counted twice in the full matrix
        Gt = tr.sum((-1, -2)) / 2
    return dict(G=G, Gw=Gw, Gnb=Gnb, Gt=Gt, mu=mu, mu_j=mu_j, p=p, s=s, Gjj=Gjj, cw=cw, Gjh=Gjh, D=D,
                Delta=Delta, nb=nb, tr=tr)


@dataclass
class DagumResult:
    """Dagum Gini decomposition. ``G = Gw + Gnb + Gt``; per-group and pairwise terms as tidy DataFrames."""

    G: float
    Gw: float
    Gnb: float
    Gt: float
    groups: pd.DataFrame
    pairs: pd.DataFrame
    components: pd.DataFrame
    ci: pd.DataFrame | None = None
    weighted: bool = False
    n: int = 0
    B: int = 0
    seed: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def G_jj(self) -> pd.Series:
        return self.groups.set_index("group")["G_jj"]

    @property
    def G_jh(self) -> pd.Series:
        return self.pairs.set_index(["group_j", "group_h"])["G_jh"]

    @property
    def D_jh(self) -> pd.Series:
        return self.pairs.set_index(["group_j", "group_h"])["D_jh"]

    def summary(self) -> str:
        kind = "population-weighted" if self.weighted else "unweighted"
        lines = [f"Dagum Gini decomposition ({kind}, n={self.n}, groups={len(self.groups)})", "=" * 64]
        for _, r in self.components.iterrows():
            extra = ""
            if self.ci is not None:
                c = self.ci.set_index("stat").loc[r["component"]]
                extra = f"   [{c['lower']:.4f}, {c['upper']:.4f}]"
            lines.append(f"{r['component']:<6s} {r['value']:.6f}  share {r['share']:6.1%}{extra}")
        if self.ci is not None:
            lines.append(f"(percentile {self.ci['level'].iloc[0]:.0%} CIs from {self.B} stratified bootstrap "
                         f"replications, seed {self.seed})")
        lines.append("-- groups")
        lines.append(self.groups.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        lines.append("-- pairs (group_j has the higher mean)")
        lines.append(self.pairs[["group_j", "group_h", "G_jh", "D_jh", "Gnb_contrib", "Gt_contrib"]]
                     .to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"DagumResult(G={self.G:.6f}, Gw={self.Gw:.6f}, Gnb={self.Gnb:.6f}, Gt={self.Gt:.6f})"


def _prepare(values: Any, groups: Any, weights: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[str]]:
    where = "dagum"
    if isinstance(values, pd.Series):
        # units in id order, so the seeded bootstrap does not depend on the order of the rows
        values = values.iloc[np.argsort(values.index.astype(str), kind="stable")]
        idx = values.index
        x = values.to_numpy(dtype=float)
        if isinstance(groups, pd.Series):
            if not groups.index.equals(idx):
                if not set(idx) <= set(groups.index):
                    raise InputError("some units of values have no group.", where=where,
                                     hint="Index values and groups by the same unit codes.")
                groups = groups.reindex(idx)
            g = groups.to_numpy()
        else:
            g = np.asarray(groups)
        if isinstance(weights, pd.Series):
            if not set(idx) <= set(weights.index):
                raise InputError("some units of values have no weight.", where=where,
                                 hint="Index values and weights by the same unit codes.")
            weights = weights.reindex(idx).to_numpy(dtype=float)
    else:
        x = np.asarray(values, dtype=float).ravel()
        g = groups.to_numpy() if isinstance(groups, pd.Series) else np.asarray(groups)
        if isinstance(weights, pd.Series):
            weights = weights.to_numpy(dtype=float)
    g = np.asarray(g).ravel()
    if g.shape != x.shape:
        raise InputError(f"values ({x.size}) and groups ({g.size}) differ in length.", where=where,
                         hint="Give one group label per value.")
    if pd.isna(g).any():
        raise InputError("some values have no group label.", where=where, hint="Give every unit a group.")
    if not np.all(np.isfinite(x)):
        raise MethodError(f"{int((~np.isfinite(x)).sum())} value(s) are missing or infinite.", where=where,
                          hint="Drop or impute missing values before the decomposition.")
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape != x.shape or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise InputError("weights must be positive and finite, one per value.", where=where,
                             hint="Use e.g. population; every unit needs a weight > 0.")
    if np.any(x < 0):
        raise MethodError(f"the Gini decomposition needs non-negative values (min {x.min():.4g}).", where=where,
                          hint="Use scores on a non-negative scale (e.g. 0-100), not z-scores.")
    if x.sum() <= 0:
        raise MethodError("all values are zero; the Gini is undefined.", where=where, hint="Check the input.")
    labels, codes = np.unique(g.astype(str), return_inverse=True)
    if labels.size < 2:
        raise MethodError("the decomposition needs at least two groups.", where=where,
                          hint="Choose a grouping with two or more groups.")
    return x, codes.astype(np.intp), w, [str(v) for v in labels]


def _tables(t: dict[str, np.ndarray], labels: list[str], Wg: np.ndarray, counts: np.ndarray,
            weighted: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    G = float(t["G"])
    k = len(labels)
    groups = pd.DataFrame({
        "group": labels, "n": counts.astype(int), "weight": Wg if weighted else counts.astype(float),
        "p_j": t["p"], "mean": t["mu_j"], "s_j": t["s"], "G_jj": t["Gjj"],
        "Gw_contrib": t["cw"],
    })
    groups["Gw_share"] = groups["Gw_contrib"] / G
    rows = []
    for a in range(k):
        for b in range(a + 1, k):
            j, h = (a, b) if t["mu_j"][a] >= t["mu_j"][b] else (b, a)
            Delta = t["Delta"][j, h]
            dmu = t["mu_j"][j] - t["mu_j"][h]
            rows.append({"group_j": labels[j], "group_h": labels[h], "G_jh": t["Gjh"][j, h], "D_jh": t["D"][j, h],
                         "d_jh": (Delta + dmu) / 2, "p_jh": (Delta - dmu) / 2,
                         "Gnb_contrib": t["nb"][j, h], "Gt_contrib": t["tr"][j, h]})
    pairs = pd.DataFrame(rows)
    pairs["Gnb_share"] = pairs["Gnb_contrib"] / G
    pairs["Gt_share"] = pairs["Gt_contrib"] / G
    comps = pd.DataFrame({"component": ["G", "Gw", "Gnb", "Gt"],
                          "value": [G, float(t["Gw"]), float(t["Gnb"]), float(t["Gt"])]})
    comps["share"] = comps["value"] / G
    return groups, pairs, comps


def _bootstrap_counts(codes: np.ndarray, B: int, rng: np.random.Generator, stratified: bool) -> np.ndarray:
    """(B, n) multiplicity of each unit in B bootstrap resamples (units drawn with replacement; stratified:
    within each group, keeping its size). A resample's Dagum terms equal the original data's terms with
    these counts as (extra) weights, so replications need no re-sorting."""
    n = codes.size
    counts = np.zeros((B, n))
    rows = np.arange(B)[:, None]
    if not stratified:
        idx = rng.integers(0, n, size=(B, n))
        np.add.at(counts, (np.broadcast_to(rows, idx.shape), idx), 1.0)
        return counts
    for g in np.unique(codes):  # loop over the k groups, not over replications
        members = np.flatnonzero(codes == g)
        draw = members[rng.integers(0, members.size, size=(B, members.size))]
        flat = np.bincount((draw + rows * n).ravel(), minlength=B * n)
        counts += flat.reshape(B, n)
    return counts


def dagum(values: Any, groups: Any, weights: Any = None, *, B: int = 0, seed: int | None = 0,
          level: float = 0.95, stratified: bool = True) -> DagumResult:
    """Dagum (1997) Gini decomposition G = Gw + Gnb + Gt of ``values`` by ``groups``.

    ``values``, ``groups`` and ``weights`` are arrays of equal length or pandas Series (aligned by index).
    ``weights`` (e.g. population) gives the population-weighted variant: every sum over units becomes a
    weighted sum and p_j becomes the group's population share. Unweighted by default; population Gini
    (no n/(n-1) correction). With ``B > 0``, percentile confidence intervals from ``B`` bootstrap
    replications (units resampled within groups when ``stratified``; seeded numpy Generator), computed
    in one vectorised pass.
    """
    x, codes, w, labels = _prepare(values, groups, weights)
    k = len(labels)
    A, Wg, Sg = pairwise_abs_sums(x[None, :], codes, k, None if w is None else w[None, :])
    t = {key: v[0] for key, v in _terms(A, Wg, Sg).items()}
    counts = np.bincount(codes, minlength=k)
    gtab, ptab, comps = _tables(t, labels, Wg[0], counts, w is not None)
    notes: list[str] = []
    zero = [labels[j] for j in range(k) if t["mu_j"][j] == 0]
    if zero:
        notes.append(f"group(s) {zero}: all values are 0, so the within-group Gini G_jj is undefined (NaN); "
                     f"the group's contribution p_j s_j G_jj to Gw is 0")
    ci = None
    if B and B > 0:
        rng = np.random.default_rng(seed)
        counts = _bootstrap_counts(codes, int(B), rng, stratified)
        tb = _terms(*pairwise_abs_sums(x, codes, k, counts if w is None else counts * w))
        ci = _ci_table(t, tb, labels, level)
        ci.insert(0, "level", level)
    return DagumResult(G=float(t["G"]), Gw=float(t["Gw"]), Gnb=float(t["Gnb"]), Gt=float(t["Gt"]), groups=gtab,
                       pairs=ptab, components=comps, ci=ci, weighted=w is not None, n=int(x.size), B=int(B or 0),
                       seed=seed, notes=notes)


def _ci_table(t: dict[str, np.ndarray], tb: dict[str, np.ndarray], labels: list[str], level: float) -> pd.DataFrame:
    a = (1 - level) / 2
    stats: list[tuple[str, float, np.ndarray]] = []
    G = t["G"]
    for key in ("G", "Gw", "Gnb", "Gt"):
        stats.append((key, float(t[key]), tb[key]))
    for key in ("Gw", "Gnb", "Gt"):
        stats.append((f"{key}_share", float(t[key] / G), tb[key] / tb["G"]))
    k = len(labels)
    for j in range(k):
        stats.append((f"G_jj[{labels[j]}]", float(t["Gjj"][j]), tb["Gjj"][:, j]))
    for j in range(k):
        for h in range(j + 1, k):
            stats.append((f"G_jh[{labels[j]},{labels[h]}]", float(t["Gjh"][j, h]), tb["Gjh"][:, j, h]))
            stats.append((f"D_jh[{labels[j]},{labels[h]}]", float(t["D"][j, h]), tb["D"][:, j, h]))
    rows = []
    for name, est, draws in stats:
        d = draws[np.isfinite(draws)]
        lo, hi = (np.quantile(d, [a, 1 - a]) if d.size else (np.nan, np.nan))
        rows.append({"stat": name, "estimate": est, "se": float(d.std(ddof=1)) if d.size > 1 else np.nan,
                     "lower": float(lo), "upper": float(hi)})
    return pd.DataFrame(rows)


def dagum_panel(table: pd.DataFrame, groups: pd.Series, weights: pd.Series | None = None, *, B: int = 0,
                seed: int | None = 0, level: float = 0.95) -> dict[str, Any]:
    """Dagum decomposition for each year (column) of a unit x year table; tidy frames with a ``year`` column.

    Units with a missing value in a year are left out of that year (counted in ``n``). Each year's
    bootstrap uses its own child seed spawned from ``seed`` so years are independent and reproducible.
    A year the decomposition cannot handle (e.g. negative values) is left out with a note (``notes``);
    when no year can be decomposed the first year's error is raised. ``last`` is the
    :class:`DagumResult` of the last decomposed year.
    """
    out: dict[str, list[pd.DataFrame]] = {"components": [], "groups": [], "pairs": [], "ci": []}
    ss = np.random.SeedSequence(seed)
    children = ss.spawn(len(table.columns))
    notes: list[str] = []
    first_error: MethodError | InputError | None = None
    last = None
    for year, child in zip(table.columns, children):
        col = table[year].dropna()
        try:
            res = dagum(col, groups.reindex(col.index), None if weights is None else weights.reindex(col.index),
                        B=B, seed=child.generate_state(1)[0] if B else seed, level=level)
        except (MethodError, InputError) as exc:
            first_error = first_error or exc
            notes.append(f"Dagum decomposition {year} skipped: {exc.render()}")
            continue
        last = res
        notes += [f"Dagum decomposition {year}: {n}" for n in res.notes]
        for name, df in (("components", res.components), ("groups", res.groups), ("pairs", res.pairs),
                         ("ci", res.ci)):
            if df is not None:
                d = df.copy()
                d.insert(0, "year", int(year))
                out[name].append(d)
    if last is None and first_error is not None:
        raise first_error
    frames = {k: (pd.concat(v, ignore_index=True) if v else pd.DataFrame()) for k, v in out.items()}
    return {**frames, "notes": notes, "last": last}
