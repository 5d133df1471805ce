"""Statistical audit of a built index (``dcindex.audit(result)``, ``dcindex audit RESULT_DIR``).

What it computes, per year (panels: every year), as tidy tables:

* ``stats`` - per indicator: availability, min/max/mean/median/sd, skewness and excess kurtosis (the "type 2"
  formulas of :mod:`dcindex.treat`, as COINr's ``get_stats``), COINr's flags (availability < 0.65; |skew| > 2 and
  kurtosis > 3.5), the number of points outside Tukey's fences (Q1 - 1.5 IQR, Q3 + 1.5 IQR; listed in
  ``outliers``) and skew/kurtosis after the build's treatment;
* ``correlations`` - Pearson and Spearman (pairwise-complete, as ``stats::cor(use = "pairwise.complete.obs")``)
  between the nodes of each level, of every node with its parent and of every node with the index, on the
  normalised indicators and aggregate scores; flags: ``redundant`` (r > 0.9 within a group), ``conflict``
  (r < -0.4 within a group, or with the node's own parent);
* ``cronbach`` - Cronbach's alpha of the children of every aggregate, COINr's ``get_cronbach`` formula
  (alpha = k^2 mean(off-diagonal cov) / sum(cov), pairwise-complete covariance);
* ``pca`` and ``pca_loadings`` - principal components of every group (correlation matrix of the children,
  complete cases; statsmodels ``PCA``): eigenvalues, variance shares and first-component loadings;
* ``importance`` - effective importance of every node: the correlation ratio (first-order sensitivity index)
  eta^2 = Var(E[y | x]) / Var(y) of its parent and of the index ``y`` on the node ``x`` (Paruolo, Saisana &
  Saltelli 2013, JRSS A 176:609-634), estimated nonparametrically with a penalised cubic B-spline (P-spline)
  whose penalty is chosen by generalised cross-validation; next to the
  nominal weight, with the mismatch flagged when a node's share of its siblings' importance is below half or
  above twice its nominal weight share;
* ``leave_one_out`` (+ ``leave_one_out_units``) - rank shifts of the index when each indicator and aggregate is
  removed (its weight set to zero and the siblings' weights rescaled, as COINr's ``remove_elements``), all
  removals at once as one array with a removal axis;
* ``problems`` - the findings in plain language, with :meth:`AuditResult.summary` and a one-line ``headline()``.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import DcindexError, InputError
from dcindex.treat import fails_rule, kurt_type2, skew_type2

__all__ = ["audit", "AuditResult", "cronbach_alpha", "correlation_ratio", "pca_table"]

THRESHOLDS = {
    "availability": 0.65,  # COINr get_stats t_avail
    "skew": 2.0,  # COINr t_skew
    "kurtosis": 3.5,  # COINr t_kurt
    "redundant": 0.9,
    "conflict": -0.4,
    "alpha": 0.7,
    "mismatch_low": 0.5,
    "mismatch_high": 2.0,
    "iqr": 1.5,
}


# ================================================================================ building blocks
def cronbach_alpha(X: np.ndarray | pd.DataFrame) -> float:
    """Cronbach's alpha as COINr's ``get_cronbach``: C = pairwise-complete covariance (n - 1), k columns,
    alpha = k^2 * mean(off-diagonal C) / sum(C) = k / (k - 1) * (1 - trace(C) / sum(C))."""
    df = pd.DataFrame(X)
    k = df.shape[1]
    if k < 2:
        return float("nan")
    C = df.cov().to_numpy()  # pandas: pairwise-complete, ddof 1, as stats::cov(use = "pairwise.complete.obs")
    sigall = np.nansum(C)
    sigav = (sigall - np.nansum(np.diag(C))) / (k * (k - 1))
    if not sigall:
        return float("nan")
    return float(k**2 * sigav / sigall)


def correlation_ratio(x: np.ndarray, y: np.ndarray, *, min_n: int = 8) -> float:
    """First-order sensitivity index (correlation ratio) eta^2 = Var(E[y | x]) / Var(y), nonparametric.

    E[y | x] is a penalised cubic B-spline (P-spline, Eilers & Marx 1996) of y on x with a second-order difference
    penalty whose weight is chosen by generalised cross-validation; as the penalty grows the fit tends to the
    least-squares line, so eta^2 is at least about the squared Pearson correlation and captures non-linear
    dependence on top. Fitted on the mean of y at each distinct x with the counts as weights; with fewer than
    five distinct x values the conditional means themselves are used (the exact correlation ratio of a discrete
    x). Missing pairs are dropped. Returns a value in [0, 1] (NaN for fewer than ``min_n`` pairs or constant y).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[m], y[m]
    if len(x) < min_n:
        return float("nan")
    vy = np.var(y)
    if not vy > 0:
        return float("nan")
    xu, inv, cnt = np.unique(x, return_inverse=True, return_counts=True)
    if len(xu) < 2:
        return 0.0
    ym = np.bincount(inv, weights=y) / cnt
    fit = ym if len(xu) < 5 else _pspline_fit(xu, ym, cnt.astype(float))
    return float(np.clip(np.var(fit[inv]) / vy, 0.0, 1.0))


def _pspline_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted P-spline fit at ``x`` (sorted, distinct), penalty chosen by GCV on a log grid.

    Own code: scipy's ``make_smoothing_spline`` (the natural choice) fails with "ill-posed" errors in its GCV
    search on clustered data, which Winsorised indicators produce routinely; statsmodels' GAM penalty selection
    is far slower. A P-spline with a handful of knots is a few 20 x 20 solves per penalty value.
    """
    from scipy.interpolate import BSpline

    xs = (x - x[0]) / (x[-1] - x[0])
    n_seg = int(min(20, max(4, len(x) // 3)))
    k = 3
    inner = np.linspace(0.0, 1.0, n_seg + 1)
    t = np.r_[[0.0] * k, inner, [1.0] * k]
    B = BSpline.design_matrix(xs, t, k).toarray()  # (n, nb)
    nb = B.shape[1]
    Dm = np.diff(np.eye(nb), 2, axis=0)
    P = Dm.T @ Dm
    BtW = B.T * w
    BtWB = BtW @ B
    BtWy = BtW @ y
    n = w.sum()
    scale = np.trace(BtWB) / np.trace(P)
    best = None
    for lam in 10.0 ** np.arange(-8.0, 8.01, 0.25):
        A = BtWB + lam * scale * P
        try:
            coef = np.linalg.solve(A, BtWy)
            edf = np.trace(np.linalg.solve(A, BtWB))
        except np.linalg.LinAlgError:
            continue
        f = B @ coef
        rss = float(np.sum(w * (y - f) ** 2))
        if n - edf <= 1e-9:
            continue
        gcv = n * rss / (n - edf) ** 2
        if best is None or gcv < best[0] - 1e-12 * abs(best[0]):
            best = (gcv, f)
    if best is None:  # pragma: no cover - degenerate design: fall back to the straight line
        coef = np.polyfit(xs, y, 1, w=np.sqrt(w))
        return np.polyval(coef, xs)
    return best[1]


def pca_table(X: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """PCA on the correlation matrix of the columns of ``X`` (complete rows; statsmodels ``PCA``).

    Returns (variance table: component, eigenvalue, share, cumulative; loadings: child, loading (unit-norm
    eigenvector of PC1, sign chosen so that the loadings sum to >= 0), correlation (loading x sqrt(eigenvalue));
    number of complete rows used).
    """
    from statsmodels.multivariate.pca import PCA

    Z = X.dropna()
    n, k = Z.shape
    if k < 2 or n <= k or (Z.std(ddof=0) == 0).any():
        return (pd.DataFrame(columns=["component", "eigenvalue", "share", "cumulative"]),
                pd.DataFrame(columns=["child", "loading", "correlation"]), n)
    p = PCA(Z, standardize=True, demean=True, normalize=False, method="eig", missing=None)
    ev = np.asarray(p.eigenvals, dtype=float) / n  # statsmodels: eigenvalues of Z'Z with Z standardised (ddof 0)
    share = ev / ev.sum()
    var = pd.DataFrame({"component": np.arange(1, k + 1), "eigenvalue": ev, "share": share,
                        "cumulative": np.cumsum(share)})
    v = np.asarray(p.loadings, dtype=float)[:, 0]
    if v.sum() < 0:
        v = -v
    load = pd.DataFrame({"child": list(X.columns), "loading": v, "correlation": v * math.sqrt(ev[0])})
    return var, load, n


# ====================================================================================== result
class AuditResult:
    """Audit tables (see the module docstring), ``problems`` and a plain-language ``summary()``."""

    TABLES = ("stats", "outliers", "correlations", "cronbach", "pca", "pca_loadings", "importance",
              "leave_one_out", "leave_one_out_units", "problems")

    def __init__(self, *, result, tables: dict[str, pd.DataFrame], notes: list[str], thresholds: dict[str, float]):
        self.result = result
        self.framework = result.framework
        self.years = list(result.years)
        self.tables = tables
        self.notes = notes
        self.thresholds = thresholds
        for k, v in tables.items():
            setattr(self, k, v)

    def counts(self) -> dict[str, int]:
        p = self.problems
        return {k: int((p["kind"] == k).sum()) for k in
                ("availability", "outliers", "redundant", "conflict", "low_alpha", "multidimensional",
                 "weight_mismatch")}

    def headline(self) -> str:
        c = self.counts()
        yr = self.years[-1]
        parts = []
        lab = {"availability": "low-availability indicator(s)", "outliers": "indicator(s) still skewed after "
               "treatment", "redundant": "redundant pair(s)", "conflict": "conflicting pair(s)",
               "low_alpha": f"group(s) with Cronbach's alpha < {self.thresholds['alpha']:g}",
               "weight_mismatch": "nominal/effective weight mismatch(es)"}
        for k, txt in lab.items():
            if c[k]:
                parts.append(f"{c[k]} {txt}")
        loo = self.leave_one_out
        tail = ""
        if len(loo):
            top = loo[(loo["year"] == yr) & (loo["level"] > 1)].sort_values("mean_abs_shift", ascending=False)
            if len(top):
                r = top.iloc[0]
                tail = f"; removing {r['node']} moves units most (mean |Δrank| {r['mean_abs_shift']:.2f})"
        body = ", ".join(parts) if parts else "no problems flagged"
        n_ind = len(self.framework.indicators)
        return f"{n_ind} indicators audited ({yr}): {body}{tail}."

    def summary(self) -> str:
        fw = self.framework
        yr = self.years[-1]
        lines = ["dcindex statistical audit", "=" * 78,
                 f"Index: {fw.root}   indicators: {len(fw.indicators)}   aggregates: {len(fw.aggregates)}   "
                 f"units: {len(self.result.unit_codes)}   years: {self.years[0]}-{yr}",
                 self.headline(), "-" * 78]
        cr = self.cronbach[self.cronbach["year"] == yr]
        if len(cr):
            lines.append(f"Cronbach's alpha and first principal component by group ({yr})")
            pc = self.pca[(self.pca["year"] == yr) & (self.pca["component"] == 1)].set_index("group")
            lines.append(f"  {'group':<14}{'level':>6}{'k':>4}{'alpha':>8}{'PC1 share':>11}{'eig>1':>7}")
            py = self.pca[self.pca["year"] == yr]
            n_eig = (py["eigenvalue"] > 1).groupby(py["group"]).sum()
            for _, r in cr.iterrows():
                g = r["group"]
                share = pc["share"].get(g, np.nan)
                lines.append(f"  {str(g)[:14]:<14}{int(r['level']):>6}{int(r['k']):>4}{_f(r['alpha'], 3):>8}"
                             f"{_f(share, 3):>11}{int(n_eig.get(g, 0)):>7}")
        imp = self.importance[(self.importance["year"] == yr) & (self.importance["level"] > 1)]
        if len(imp):
            lines.append("-" * 78)
            lines.append(f"Effective importance of the aggregates (eta^2, P-spline) vs nominal weights ({yr})")
            lines.append(f"  {'node':<14}{'parent':<12}{'w nominal':>10}{'eta2 parent':>12}{'share':>8}"
                         f"{'eta2 index':>11}  flag")
            for _, r in imp.iterrows():
                lines.append(f"  {str(r['node'])[:14]:<14}{str(r['parent'])[:12]:<12}"
                             f"{_f(r['nominal_weight'], 3):>10}{_f(r['eta2_parent'], 3):>12}"
                             f"{_f(r['importance_share'], 3):>8}{_f(r['eta2_index'], 3):>11}  {r['flag']}")
        loo = self.leave_one_out
        if len(loo):
            lines.append("-" * 78)
            lines.append(f"Leave one out: mean / max |rank shift| of {fw.root} when a node is removed ({yr}; "
                         f"aggregates)")
            top = loo[(loo["year"] == yr) & (loo["level"] > 1)].sort_values("mean_abs_shift", ascending=False)
            for _, r in top.head(12).iterrows():
                lines.append(f"  {str(r['node'])[:14]:<14}{r['mean_abs_shift']:>8.2f}{r['max_abs_shift']:>6.0f}")
            ti = loo[(loo["year"] == yr) & (loo["level"] == 1)].sort_values("mean_abs_shift", ascending=False)
            if len(ti):
                lines.append("  indicators with the largest effect: " + ", ".join(
                    f"{r['node']} ({r['mean_abs_shift']:.2f})" for _, r in ti.head(5).iterrows()))
        p = self.problems
        lines.append("-" * 78)
        if len(p):
            lines.append("Problems found:")
            for _, r in p[p["severity"] != "info"].iterrows():
                lines.append(f"  - {r['message']}")
            info = p[p["severity"] == "info"]
            if len(info):
                lines.append("Notes:")
                for _, r in info.iterrows():
                    lines.append(f"  - {r['message']}")
        else:
            lines.append("No problems found.")
        for n in self.notes:
            lines.append(f"Note: {n}")
        lines.append("=" * 78)
        return "\n".join(lines)

    def to_dir(self, path: str | Path) -> Path:
        from dcindex.io import atomic_write_text, write_csv, write_json

        out = Path(path)
        if out.exists() and not out.is_dir():
            raise InputError("the output path exists and is not a folder.", where=str(out),
                             hint="choose another folder.")
        out.mkdir(parents=True, exist_ok=True)
        for k in self.TABLES:
            write_csv(out / f"{k}.csv", self.tables[k])
        write_json(out / "audit.json", {
            "index": self.framework.root,
            "years": self.years,
            "headline": self.headline(),
            "counts": self.counts(),
            "thresholds": self.thresholds,
            "problems": self.problems.to_dict(orient="records"),
            "notes": self.notes,
            "nominal_scores_sha256": self.result.manifest.get("scores_sha256"),
        })
        atomic_write_text(out / "summary.txt", self.summary() + "\n")
        return out

    def __repr__(self) -> str:
        return f"AuditResult(index={self.framework.root!r}, problems={len(self.problems)})"


def _f(v, nd):
    return "-" if v is None or pd.isna(v) else f"{v:.{nd}f}"


# ========================================================================================= audit
def audit(result, *, stats_dataset: str = "denominated", thresholds: dict[str, float] | None = None,
          leave_one_out: bool = True, importance: bool = True) -> AuditResult:
    """Statistical audit of a :class:`~dcindex.build.BuildResult` (see the module docstring).

    ``stats_dataset``: the data set the descriptive statistics describe (``raw``, ``denominated`` (default: the
    indicator as it enters imputation and treatment), ``imputed``, ``treated``); correlations, alpha, PCA and
    importance use the normalised indicators and the aggregate scores (direction applied). ``thresholds``
    overrides entries of :data:`THRESHOLDS`.
    """
    from dcindex.uncertainty import _as_result

    result = _as_result(result)
    th = dict(THRESHOLDS)
    if thresholds:
        unknown = set(thresholds) - set(th)
        if unknown:
            raise InputError(f"unknown audit threshold(s): {', '.join(sorted(unknown))}.",
                             hint=f"use: {', '.join(th)}.")
        th.update(thresholds)
    if stats_dataset not in result.datasets:
        raise InputError(f"unknown data set '{stats_dataset}' for the audit statistics.",
                         hint=f"use one of: {', '.join(result.datasets)}.")
    notes: list[str] = []
    stats, outliers = _stats(result, stats_dataset, th)
    corr = _correlations(result, th)
    alpha, pca, loadings = _groups(result)
    imp = _importance(result, th) if importance else _empty_importance()
    if leave_one_out:
        try:
            loo, loo_u = _leave_one_out(result)
        except DcindexError as exc:
            loo, loo_u = _empty_loo()
            notes.append(f"leave-one-out skipped: {exc.message}")
    else:
        loo, loo_u = _empty_loo()
    if any(r.method not in ("meta", "equal", "ahp") for r in result.weights.values()):
        notes.append("data-driven weights are held at the nominal build's values in the leave-one-out analysis.")
    problems = _problems(result, stats, corr, alpha, pca, imp, th)
    tables = {"stats": stats, "outliers": outliers, "correlations": corr, "cronbach": alpha, "pca": pca,
              "pca_loadings": loadings, "importance": imp, "leave_one_out": loo, "leave_one_out_units": loo_u,
              "problems": problems}
    return AuditResult(result=result, tables=tables, notes=notes, thresholds=th)


# ----------------------------------------------------------------------------------- statistics
def _stats(result, dataset: str, th):
    fw = result.framework
    X = np.asarray(result.datasets[dataset], dtype=float)  # (T, N, K)
    Xt = np.asarray(result.datasets["treated"], dtype=float)
    T, N, K = X.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        n_av = (~np.isnan(X)).sum(axis=1)
        mn, mx = np.nanmin(X, axis=1), np.nanmax(X, axis=1)
        mean, med = np.nanmean(X, axis=1), np.nanmedian(X, axis=1)
        sd = np.nanstd(X, axis=1, ddof=1)
        sk, ku = skew_type2(X, axis=1), kurt_type2(X, axis=1)
        skt, kut = skew_type2(Xt, axis=1), kurt_type2(Xt, axis=1)
        still = fails_rule(Xt, th["skew"], th["kurtosis"])
        q1, q3 = np.nanquantile(X, 0.25, axis=1), np.nanquantile(X, 0.75, axis=1)
    lo = q1 - th["iqr"] * (q3 - q1)
    hi = q3 + th["iqr"] * (q3 - q1)
    with np.errstate(invalid="ignore"):
        out_lo = X < lo[:, None, :]
        out_hi = X > hi[:, None, :]
    n_zero = (X == 0).sum(axis=1)
    n_unique = np.array([[len(np.unique(c[~np.isnan(c)])) for c in X[t].T] for t in range(T)])
    years = np.array(result.years, dtype=np.int64)
    codes = np.array(fw.indicators, dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        frc = n_av / N
        stats = pd.DataFrame({
            "indicator": np.tile(codes, T), "parent": np.tile(np.array([fw.parent(c) for c in fw.indicators],
                                                                       dtype=object), T),
            "year": np.repeat(years, K), "n": N, "n_avail": n_av.reshape(-1), "frc_avail": frc.reshape(-1),
            "min": mn.reshape(-1), "max": mx.reshape(-1), "mean": mean.reshape(-1), "median": med.reshape(-1),
            "sd": sd.reshape(-1), "skew": sk.reshape(-1), "kurtosis": ku.reshape(-1),
            "n_unique": n_unique.reshape(-1), "frc_unique": (n_unique / np.maximum(n_av, 1)).reshape(-1),
            "n_zero": n_zero.reshape(-1),
            "n_outliers_low": out_lo.sum(axis=1).reshape(-1), "n_outliers_high": out_hi.sum(axis=1).reshape(-1),
            "skew_treated": skt.reshape(-1), "kurtosis_treated": kut.reshape(-1),
            "flag_availability": np.where(frc.reshape(-1) >= th["availability"], "ok", "LOW"),
            "flag_skew_kurt": np.where((np.abs(sk) > th["skew"]) & (ku > th["kurtosis"]), "OUT", "ok").reshape(-1),
            "flag_after_treatment": np.where(still, "OUT", "ok").reshape(-1),
        })
    t_i, n_i, k_i = np.nonzero(out_lo | out_hi)
    outliers = pd.DataFrame({
        "indicator": codes[k_i], "year": years[t_i], "unit": np.array(result.unit_codes, dtype=object)[n_i],
        "value": X[t_i, n_i, k_i], "side": np.where(out_hi[t_i, n_i, k_i], "high", "low"),
        "lower_fence": lo[t_i, k_i], "upper_fence": hi[t_i, k_i],
    }).sort_values(["year", "indicator", "unit"], kind="stable", ignore_index=True)
    return stats, outliers


# --------------------------------------------------------------------------------- correlations
def _frame(result, t: int) -> pd.DataFrame:
    return pd.DataFrame(result.scores_array[t], index=result.unit_codes, columns=result.framework.all_codes)


def _correlations(result, th) -> pd.DataFrame:
    fw = result.framework
    rows = []
    pairs = []
    for lev in fw.levels:
        nodes = fw.nodes_at_level(lev)
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                pairs.append((a, b, "same_level"))
    for c in fw.all_codes:
        if c != fw.root:
            pairs.append((c, fw.parent(c), "with_parent"))
            if fw.parent(c) != fw.root:
                pairs.append((c, fw.root, "with_index"))
    for t, yr in enumerate(result.years):
        df = _frame(result, t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            P = df.corr(method="pearson")
            S = df.corr(method="spearman")
        obs = (~df.isna()).astype(float)
        n = obs.T @ obs
        for a, b, rel in pairs:
            same = rel == "same_level" and fw.parent(a) == fw.parent(b)
            r = P.at[a, b]
            flag = ""
            if (same or rel == "with_parent") and r == r:
                if same and r > th["redundant"]:
                    flag = "redundant"
                elif r < th["conflict"]:
                    flag = "conflict"
            rows.append((yr, a, b, fw.level(a), fw.level(b), rel, same, fw.parent(a) if same else None, r,
                         S.at[a, b], int(n.at[a, b]), flag))
    return pd.DataFrame(rows, columns=["year", "node_a", "node_b", "level_a", "level_b", "relation", "same_group",
                                       "group", "pearson", "spearman", "n", "flag"])


# ------------------------------------------------------------------------------ alpha and PCA
def _groups(result):
    fw = result.framework
    a_rows, p_rows, l_rows = [], [], []
    for t, yr in enumerate(result.years):
        df = _frame(result, t)
        for g in fw.aggregates:
            ch = fw.children(g)
            sub = df[ch]
            a_rows.append({"year": yr, "group": g, "level": fw.level(g), "k": len(ch), "alpha": cronbach_alpha(sub),
                           "n_complete": int(sub.dropna().shape[0])})
            var, load, n_used = pca_table(sub)
            for _, r in var.iterrows():
                p_rows.append({"year": yr, "group": g, "level": fw.level(g), "component": int(r["component"]),
                               "eigenvalue": r["eigenvalue"], "share": r["share"], "cumulative": r["cumulative"],
                               "n_used": n_used})
            for _, r in load.iterrows():
                l_rows.append({"year": yr, "group": g, "child": r["child"], "loading": r["loading"],
                               "correlation": r["correlation"]})
    return (pd.DataFrame(a_rows, columns=["year", "group", "level", "k", "alpha", "n_complete"]),
            pd.DataFrame(p_rows, columns=["year", "group", "level", "component", "eigenvalue", "share", "cumulative",
                                          "n_used"]),
            pd.DataFrame(l_rows, columns=["year", "group", "child", "loading", "correlation"]))


# ---------------------------------------------------------------------------------- importance
_IMP_COLS = ["year", "node", "parent", "level", "nominal_weight", "nominal_effective_weight", "eta2_parent",
             "r2_parent", "eta2_index", "r2_index", "importance_share", "ratio", "flag"]


def _empty_importance():
    return pd.DataFrame(columns=_IMP_COLS)


def _importance(result, th) -> pd.DataFrame:
    fw = result.framework
    wt = result.weights_table().set_index("node")
    rows = []
    for t, yr in enumerate(result.years):
        df = _frame(result, t)
        y_root = df[fw.root].to_numpy()
        for c in fw.all_codes:
            if c == fw.root:
                continue
            p = fw.parent(c)
            x = df[c].to_numpy()
            yp = df[p].to_numpy()
            m = ~np.isnan(x) & ~np.isnan(yp)
            mr = ~np.isnan(x) & ~np.isnan(y_root)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                r2p = np.corrcoef(x[m], yp[m])[0, 1] ** 2 if m.sum() > 2 else np.nan
                r2i = np.corrcoef(x[mr], y_root[mr])[0, 1] ** 2 if mr.sum() > 2 else np.nan
            rows.append({"year": yr, "node": c, "parent": p, "level": fw.level(c),
                         "nominal_weight": float(wt.at[c, "weight"]),
                         "nominal_effective_weight": float(wt.at[c, "effective_weight"]),
                         "eta2_parent": correlation_ratio(x, yp), "r2_parent": r2p,
                         "eta2_index": correlation_ratio(x, y_root), "r2_index": r2i})
    imp = pd.DataFrame(rows)
    if not len(imp):
        return _empty_importance()
    tot = imp.groupby(["year", "parent"])["eta2_parent"].transform("sum")
    wsum = imp.groupby(["year", "parent"])["nominal_weight"].transform("sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        imp["importance_share"] = imp["eta2_parent"] / tot
        imp["ratio"] = imp["importance_share"] / (imp["nominal_weight"] / wsum)
    nsib = imp.groupby(["year", "parent"])["node"].transform("count")
    flag = np.where(imp["ratio"] < th["mismatch_low"], "under-represented",
                    np.where(imp["ratio"] > th["mismatch_high"], "over-represented", ""))
    imp["flag"] = np.where((nsib > 1) & imp["ratio"].notna(), flag, "")
    return imp[_IMP_COLS]


# ---------------------------------------------------------------------------------- leave one out
_LOO_COLS = ["node", "level", "parent", "year", "mean_abs_shift", "max_abs_shift", "n_units_moved"]
_LOOU_COLS = ["node", "year", "unit", "nominal_rank", "rank_without", "shift"]


def _empty_loo():
    return pd.DataFrame(columns=_LOO_COLS), pd.DataFrame(columns=_LOOU_COLS)


def _leave_one_out(result):
    """Rank shifts when each node is removed: one aggregation with a removal axis (weight 0 = dropped)."""
    from dcindex.uncertainty import _Engine, rank_desc

    fw = result.framework
    eng = _Engine(result, [], seed=0)
    nodes = [c for c in fw.all_codes if c != fw.root]
    D = len(nodes)
    mult: dict[str, np.ndarray] = {}
    for d, c in enumerate(nodes):
        p = fw.parent(c)
        if p not in mult:
            mult[p] = np.ones((D, len(fw.children(p))))
        mult[p][d, fw.children(p).index(c)] = 0.0
    Xn = np.asarray(result.datasets["normalised"], dtype=float)[None]
    out, failed, reasons = eng.aggregate(Xn, result.recipe.aggregate, mult)
    S = np.broadcast_to(out[fw.root], (D,) + Xn.shape[1:3]).copy()
    S[failed] = np.nan
    R = rank_desc(S, axis=-1)  # (D, T, N)
    R0 = result.ranks_array[..., result.node_index(fw.root)]
    shift = R - R0[None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.abs(shift), axis=2)
        mx = np.nanmax(np.abs(shift), axis=2)
    moved = (np.abs(np.nan_to_num(shift)) > 0).sum(axis=2)
    T = R0.shape[0]
    years = np.array(result.years, dtype=np.int64)
    loo = pd.DataFrame({
        "node": np.repeat(np.array(nodes, dtype=object), T), "level": np.repeat([fw.level(c) for c in nodes], T),
        "parent": np.repeat(np.array([fw.parent(c) for c in nodes], dtype=object), T),
        "year": np.tile(years, D), "mean_abs_shift": mean.reshape(-1), "max_abs_shift": mx.reshape(-1),
        "n_units_moved": moved.reshape(-1),
    })
    N = R0.shape[1]
    units = np.array(result.unit_codes, dtype=object)
    loo_u = pd.DataFrame({
        "node": np.repeat(np.array(nodes, dtype=object), T * N), "year": np.tile(np.repeat(years, N), D),
        "unit": np.tile(units, D * T), "nominal_rank": np.tile(R0.reshape(-1), D),
        "rank_without": R.reshape(-1), "shift": shift.reshape(-1),
    })
    return loo, loo_u


# ------------------------------------------------------------------------------------- problems
def _problems(result, stats, corr, alpha, pca, imp, th) -> pd.DataFrame:
    fw = result.framework
    rows: list[dict[str, Any]] = []
    multi_year = len(result.years) > 1

    def yrs(years):
        ys = sorted(set(int(y) for y in years))
        if not multi_year:
            return ""
        return f" in {ys[0]}" if len(ys) == 1 else f" in {len(ys)} years ({ys[0]}-{ys[-1]})"

    def add(severity, kind, where, message):
        rows.append({"severity": severity, "kind": kind, "where": where, "message": message})

    # availability
    low = stats[stats["flag_availability"] == "LOW"]
    for ind, g in low.groupby("indicator", sort=False):
        add("warning", "availability", ind,
            f"Indicator {ind} has data for only {g['frc_avail'].min():.0%} of units{yrs(g['year'])} (threshold "
            f"{th['availability']:.0%}); its imputed values weigh on the result.")
    # outliers still present after treatment
    bad = stats[(stats["flag_after_treatment"] == "OUT")]
    for ind, g in bad.groupby("indicator", sort=False):
        r = g.iloc[-1]
        add("warning", "outliers", ind,
            f"Indicator {ind} is still highly skewed after treatment (skew {r['skew_treated']:.2f}, kurtosis "
            f"{r['kurtosis_treated']:.2f}{yrs(g['year'])}): a few units dominate its normalised scale.")
    treated = stats[(stats["flag_skew_kurt"] == "OUT") & (stats["flag_after_treatment"] == "ok")]
    if len(treated):
        add("info", "treated", ", ".join(dict.fromkeys(treated["indicator"])),
            f"{treated['indicator'].nunique()} indicator(s) had outliers (|skew| > {th['skew']:g} and kurtosis > "
            f"{th['kurtosis']:g}) that the treatment brought within the rule: "
            f"{', '.join(dict.fromkeys(treated['indicator']))}.")
    # correlations
    for kind, word in (("redundant", "redundant"), ("conflict", "conflicting")):
        f = corr[corr["flag"] == kind]
        for (a, b), g in f.groupby(["node_a", "node_b"], sort=False):
            r = g["pearson"]
            rr = f"r = {r.iloc[-1]:.2f}" if len(g) == 1 else f"r = {r.min():.2f} to {r.max():.2f}"
            if g["relation"].iloc[0] == "with_parent":
                msg = (f"{a} correlates negatively with its own parent {b} ({rr}{yrs(g['year'])}): it pulls "
                       f"against the rest of {b}; check its direction.")
            elif kind == "redundant":
                msg = (f"{a} and {b} (both in {g['group'].iloc[0]}) correlate at {rr}{yrs(g['year'])}: they may "
                       f"double-count the same aspect.")
            else:
                msg = (f"{a} and {b} (both in {g['group'].iloc[0]}) correlate negatively ({rr}{yrs(g['year'])}): "
                       f"a trade-off inside the group; check the directions or the grouping.")
            add("warning", kind, f"{a}|{b}", msg)
    # alpha
    la = alpha[alpha["alpha"] < th["alpha"]]
    for g_, g in la.groupby("group", sort=False):
        add("warning", "low_alpha", g_,
            f"Group {g_} has low internal consistency (Cronbach's alpha {g['alpha'].iloc[-1]:.2f}"
            f"{yrs(g['year'])}, below {th['alpha']:g}): its children do not measure one common thing.")
    # PCA: more than one eigenvalue above 1
    if len(pca):
        ne = pca[pca["eigenvalue"] > 1].groupby(["group", "year"]).size()
        multi = ne[ne > 1]
        for g_, s in multi.groupby(level=0, sort=False):
            n_comp = int(s.iloc[-1])
            share = pca[(pca["group"] == g_) & (pca["component"] == 1)]["share"].iloc[-1]
            add("info", "multidimensional", g_,
                f"Group {g_} has {n_comp} principal components with eigenvalue > 1 (the first explains "
                f"{share:.0%}){yrs(s.index.get_level_values(1))}: it is not one-dimensional.")
    # weight mismatch
    if len(imp):
        mm = imp[imp["flag"] != ""]
        for node, g in mm.groupby("node", sort=False):
            r = g.iloc[-1]
            add("warning", "weight_mismatch", node,
                f"{node} is {r['flag']} in {r['parent']}: its share of the importance (eta^2) of {r['parent']}'s "
                f"children is {r['importance_share']:.2f} against a nominal weight share of "
                f"{r['importance_share'] / r['ratio']:.2f} (ratio {r['ratio']:.2f}{yrs(g['year'])}).")
    return pd.DataFrame(rows, columns=["severity", "kind", "where", "message"])


from dcindex._callable import make_callable  # noqa: E402

make_callable(__name__, "audit")
