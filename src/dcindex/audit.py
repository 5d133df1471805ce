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


def correlation_ratio(x: np.ndarray, y: np.ndarray, *, min_n: int = 8, adjusted: bool = True) -> float:
    """First-order sensitivity index (correlation ratio) eta^2 = Var(E[y | x]) / Var(y), nonparametric.

    E[y | x] is a penalised cubic B-spline (P-spline, Eilers & Marx 1996: equally spaced knots, second-order
    difference penalty) of y on x. The penalty is chosen by REML (Wood 2011, JRSS B 73:3-36), which undersmooths
    far less often than GCV in small samples, and the fit may use at most :func:`max_edf` effective degrees of
    freedom (2 + n / 25: 4 at n = 51). As the penalty grows the fit tends to the least-squares line, so eta^2
    tends to the squared Pearson correlation; non-linear dependence adds to it. With fewer than five distinct x
    values the fit is the conditional means (the exact correlation ratio of a discrete x).

    ``adjusted`` (default): the estimate is bias-corrected like an adjusted R^2,
    1 - (1 - eta^2) (n - 1) / (n - edf), clipped to [0, 1] (for a discrete x this is Kelley's epsilon^2): the
    plain ratio of variances is biased upwards by about (edf - 1) / n, i.e. 0.05-0.1 for n = 31-51 units
    even when y does not depend on x at all. Missing pairs are dropped. NaN for fewer than ``min_n`` pairs or a
    constant y.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[m], y[m]
    if len(x) < min_n or not np.var(y) > 0:
        return float("nan")
    adj, raw, _ = eta2_batch(x, y, np.ones((1, len(x))))
    return float(adj[0] if adjusted else raw[0])


def max_edf(n: float) -> float:
    """Largest effective degrees of freedom of the conditional-mean fit for ``n`` observations: 2 + n / 25.

    The straight line (2) plus one effective parameter per 25 observations (4 at n = 51, 6 at n = 100, 15.6 at
    n = 340): with 31-51 units GCV otherwise picks curves with 15+ degrees of freedom whose 10-fold
    cross-validated error is worse than the line's (QA of the ASEM example)."""
    return 2.0 + float(n) / 25.0


def eta2_batch(x: np.ndarray, y: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Correlation ratio of ``y`` on ``x`` (complete pairs) for every row of the weight matrix ``C`` (b, n):
    bootstrap resamples given as counts (all ones = the sample itself). Returns (adjusted, raw, edf), each (b,).

    Own code (numpy/scipy): scipy's ``make_smoothing_spline`` fails ("ill-posed") in its GCV search on the
    clustered values that Winsorised indicators produce, and statsmodels' GAM penalty search is slow (and raises
    an AttributeError in ``select_penweight`` for a Gaussian GLMGam in the installed version). Here every
    resample is one Demmler-Reinsch diagonalisation (a 20 x 20 eigenproblem): with M = B'WB = LL' and
    L^-1 P L^-T = U diag(s) U', the fit, its effective degrees of freedom sum 1 / (1 + lambda s) and the REML
    score are closed forms in lambda, so the whole penalty grid of all resamples is a few array operations.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    C = np.atleast_2d(np.asarray(C, dtype=float))
    nw = C.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ybar = (C @ y) / nw
        vy = (C @ (y * y)) / nw - ybar**2
    xu, inv = np.unique(x, return_inverse=True)
    n_u = len(xu)
    if n_u < 5:  # discrete x: the conditional means themselves
        G = np.zeros((len(x), n_u))
        G[np.arange(len(x)), inv] = 1.0
        cnt = C @ G
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(cnt > 0, (C @ (G * y[:, None])) / np.where(cnt > 0, cnt, 1.0), 0.0)
            raw = (cnt * (mean - ybar[:, None]) ** 2).sum(axis=1) / nw / vy
        edf = (cnt > 0).sum(axis=1).astype(float)
    else:
        raw, edf = _pspline_eta2(x, y, xu, C, nw, ybar, vy)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.clip(raw, 0.0, 1.0)
        adj = np.clip(1.0 - (1.0 - raw) * (nw - 1.0) / (nw - edf), 0.0, 1.0)
    bad = ~(vy > 1e-14 * np.maximum(1.0, ybar**2)) | (nw - edf <= 0)
    adj[bad] = np.nan
    raw[bad] = np.nan
    return adj, raw, edf


def _pspline_eta2(x, y, xu, C, nw, ybar, vy):
    """Raw eta^2 and effective degrees of freedom of the REML-chosen P-spline fit for every row of C."""
    from scipy.interpolate import BSpline

    b, n = C.shape
    xs = (x - xu[0]) / (xu[-1] - xu[0])
    n_seg = int(min(20, max(4, len(xu) // 3)))
    k = 3
    t = np.r_[[0.0] * k, np.linspace(0.0, 1.0, n_seg + 1), [1.0] * k]
    B = BSpline.design_matrix(xs, t, k).toarray()  # (n, nb)
    nb = B.shape[1]
    Dm = np.diff(np.eye(nb), 2, axis=0)
    P = Dm.T @ Dm  # null space: the straight lines (2 dimensions)
    M = (C @ (B[:, :, None] * B[:, None, :]).reshape(n, nb * nb)).reshape(b, nb, nb)  # B'WB per row
    BWy = (C * y) @ B  # (b, nb)
    BW1 = C @ B
    yWy = C @ (y * y)
    # a tiny ridge keeps M invertible when a knot interval holds no (resampled) data; those directions are then
    # penalised out (their s is huge) and carry no weight
    ridge = 1e-10 * np.trace(M, axis1=1, axis2=2) / nb
    Mr = M + ridge[:, None, None] * np.eye(nb)
    L = np.linalg.cholesky(Mr)
    Li = np.linalg.inv(L)
    K = Li @ P @ np.swapaxes(Li, 1, 2)
    s, U = np.linalg.eigh((K + np.swapaxes(K, 1, 2)) / 2)
    s[:, :2] = 0.0  # the two unpenalised directions (eigenvalues ascending)
    s = np.maximum(s, 0.0)
    Tm = np.swapaxes(Li, 1, 2) @ U  # coefficients = Tm @ theta; Z = B Tm has Z'WZ = I (up to the ridge)
    g = np.einsum("bij,bi->bj", Tm, BWy)  # Z'Wy
    h = np.einsum("bij,bi->bj", Tm, BW1)  # Z'W1
    # a log grid of the penalty per row, from the smallest penalty allowed (edf <= max_edf(n); found by bisection,
    # edf falls with the penalty) or almost none, to the straight line
    cap = max_edf(n)
    lo = np.log10(1e-4 / np.median(s[:, 2:], axis=1))
    hi = np.log10(1e4 / np.maximum(s[:, 2], 1e-300))
    if cap < nb:
        a_, b_ = lo.copy(), hi.copy()
        for _ in range(40):
            mid = (a_ + b_) / 2
            over = (1.0 / (1.0 + 10.0 ** mid[:, None] * s)).sum(axis=1) > cap
            a_ = np.where(over, mid, a_)
            b_ = np.where(over, b_, mid)
        lo = np.maximum(lo, b_)
    steps = np.arange(int(np.ceil(max((hi - lo).max(), 0.0) / 0.125)) + 1) * 0.125
    lam = 10.0 ** (lo[:, None] + steps[None, :])  # (b, L)
    ls = lam[:, :, None] * s[:, None, :]  # (b, L, nb)
    shr = 1.0 / (1.0 + ls)
    edf = shr.sum(axis=-1)
    th = shr * g[:, None, :]
    fWf = np.einsum("blj,blj->bl", th, th)  # f'Wf = theta'Z'WZ theta (the ridge's share is ~1e-10 relative)
    fW1 = np.einsum("blj,bj->bl", th, h)
    rss = yWy[:, None] - 2.0 * np.einsum("blj,bj->bl", th, g) + fWf
    pen = np.einsum("blj,blj->bl", ls * th, th)
    with np.errstate(invalid="ignore", divide="ignore"):
        # REML score with the scale profiled out (Wood 2011, eq. 4, Gaussian case), in the diagonalised basis:
        # (n - 2) log(rss + penalty) + sum log(1 + lambda s) - (nb - 2) log(lambda) (+ constants)
        reml = ((nw - 2.0)[:, None] * np.log(np.maximum(rss + pen, 1e-300))
                + np.log1p(ls).sum(axis=-1) - (nb - 2) * np.log(lam))
    reml = np.where(edf <= cap + 1e-9, reml, np.inf)
    best = np.argmin(reml, axis=1)
    r = np.arange(b)
    fbar = fW1[r, best] / nw
    var_f = fWf[r, best] / nw - fbar**2
    with np.errstate(invalid="ignore", divide="ignore"):
        return var_f / vy, edf[r, best]


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
        p = self.problems
        outl = p.loc[p["kind"] == "outliers", "where"]
        untreated = sum(_untreated(self.result, ind) for ind in outl)
        skew_txt = ("indicator(s) still skewed after treatment" if not untreated else
                    "highly skewed indicator(s) (the recipe applies no treatment)" if untreated == len(outl) else
                    f"highly skewed indicator(s) ({untreated} untreated, {len(outl) - untreated} still skewed after "
                    f"treatment)")
        lab = {"availability": "low-availability indicator(s)", "outliers": skew_txt,
               "redundant": "redundant pair(s)", "conflict": "conflicting pair(s)",
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
            lines.append(f"Effective importance of the aggregates (bias-corrected eta^2, P-spline) vs nominal weights "
                         f"({yr})")
            lines.append(f"  {'node':<14}{'parent':<12}{'w nominal':>10}{'eta2 parent':>12}{'share':>8}"
                         f"{'ratio':>7}{'90% CI':>13}{'eta2 index':>11}  flag")
            for _, r in imp.iterrows():
                ci = f"{r['ratio_lo']:.2f}-{r['ratio_hi']:.2f}" if pd.notna(r["ratio_lo"]) else "-"
                lines.append(f"  {str(r['node'])[:14]:<14}{str(r['parent'])[:12]:<12}"
                             f"{_f(r['nominal_weight'], 3):>10}{_f(r['eta2_parent'], 3):>12}"
                             f"{_f(r['importance_share'], 3):>8}{_f(r['ratio'], 2):>7}{ci:>13}"
                             f"{_f(r['eta2_index'], 3):>11}  {r['flag']}")
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
          leave_one_out: bool = True, importance: bool = True, bootstrap: int = 200) -> AuditResult:
    """Statistical audit of a :class:`~dcindex.build.BuildResult` (see the module docstring).

    ``stats_dataset``: the data set the descriptive statistics describe (``raw``, ``denominated`` (default: the
    indicator as it enters imputation and treatment), ``imputed``, ``treated``); correlations, alpha, PCA and
    importance use the normalised indicators and the aggregate scores (direction applied). ``thresholds``
    overrides entries of :data:`THRESHOLDS`. ``bootstrap``: resamples of the units for the interval of the
    importance ratio that decides the weight-mismatch flag (0: flag on the point estimate).
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
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise InputError(f"bootstrap must be a whole number >= 0, not {bootstrap!r}.",
                         hint="give e.g. 200 (0 flags weight mismatches on the point estimate).")
    imp = _importance(result, th, bootstrap=int(bootstrap)) if importance else _empty_importance()
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
             "r2_parent", "eta2_index", "r2_index", "importance_share", "ratio", "ratio_lo", "ratio_hi", "flag"]
IMPORTANCE_SEED = 20130609  # the bootstrap of the importance ratios is seeded: same data, same table


def _empty_importance():
    return pd.DataFrame(columns=_IMP_COLS)


def importance_ratios(X: np.ndarray, y: np.ndarray, weights, *, bootstrap: int = 200, conf_level: float = 0.90,
                      low: float = 0.5, high: float = 2.0, seed=IMPORTANCE_SEED) -> pd.DataFrame:
    """Effective importance of the children ``X`` (n, k) of one aggregate ``y`` (n,) against their nominal
    ``weights`` (k,): eta^2 of each child (:func:`correlation_ratio`, bias-corrected), its share of the children's
    total, the ratio share / nominal weight share, and a percentile bootstrap interval of the ratio (units
    resampled with replacement, ``bootstrap`` times; every child's eta^2 recomputed on the same resample, REML
    penalty choice included).

    The flag uses the interval, not the point estimate: ``under-represented`` when the whole interval is below
    ``low``, ``over-represented`` when it is above ``high``. With 30-50 units a point ratio outside [0.5, 2] is
    often noise (QA: at n = 31 with three equally important children, about one group in three had a child with
    a point ratio outside the band). The interval is computed only for groups where some point ratio is outside
    the band (elsewhere nothing can be flagged; ``ratio_lo``/``ratio_hi`` are then NaN); ``bootstrap = 0``
    flags on the point estimate.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    w = np.asarray(weights, dtype=float)
    wshare = w / w.sum() if w.sum() > 0 else np.full(k, np.nan)
    eta = np.array([correlation_ratio(X[:, j], y) for j in range(k)])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = eta / np.nansum(eta) if np.nansum(eta) > 0 else np.full(k, np.nan)
        ratio = share / wshare
    lo = np.full(k, np.nan)
    hi = np.full(k, np.nan)
    flag = np.array([""] * k, dtype=object)
    outside = (ratio < low) | (ratio > high)
    if k > 1 and outside.any():
        if bootstrap > 0:
            rng = np.random.default_rng(seed)
            C = np.zeros((bootstrap, n))
            idx = rng.integers(n, size=(bootstrap, n))
            np.add.at(C, (np.repeat(np.arange(bootstrap), n), idx.ravel()), 1.0)
            E = np.full((bootstrap, k), np.nan)
            for j in range(k):
                m = ~np.isnan(X[:, j]) & ~np.isnan(y)
                if m.sum() < 8:
                    continue
                Cm = C[:, m]
                e = eta2_batch(X[m, j], y[m], Cm)[0]
                e[Cm.sum(axis=1) < 8] = np.nan
                E[:, j] = e
            with np.errstate(invalid="ignore", divide="ignore"):
                tot = E.sum(axis=1, keepdims=True)
                Rb = np.where(tot > 0, E / tot, np.nan) / wshare[None, :]
            a = (1.0 - conf_level) / 2
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = np.nanquantile(Rb, [a, 1.0 - a], axis=0)
            flag = np.where(hi < low, "under-represented", np.where(lo > high, "over-represented", "")).astype(object)
        else:
            flag = np.where(ratio < low, "under-represented",
                            np.where(ratio > high, "over-represented", "")).astype(object)
    flag[np.isnan(ratio)] = ""
    return pd.DataFrame({"eta2": eta, "importance_share": share, "ratio": ratio, "ratio_lo": lo, "ratio_hi": hi,
                         "flag": flag})


def _importance(result, th, bootstrap: int = 200, conf_level: float = 0.90) -> pd.DataFrame:
    fw = result.framework
    wt = result.weights_table().set_index("node")
    rows = []
    for t, yr in enumerate(result.years):
        df = _frame(result, t)
        y_root = df[fw.root].to_numpy()
        for gi, p in enumerate(fw.aggregates):
            ch = fw.children(p)
            X = df[ch].to_numpy()
            yp = df[p].to_numpy()
            seed = [IMPORTANCE_SEED, int(yr), gi]
            r = importance_ratios(X, yp, [float(wt.at[c, "weight"]) for c in ch], bootstrap=bootstrap,
                                  conf_level=conf_level, low=th["mismatch_low"], high=th["mismatch_high"], seed=seed)
            for j, c in enumerate(ch):
                x = X[:, j]
                m = ~np.isnan(x) & ~np.isnan(yp)
                mr = ~np.isnan(x) & ~np.isnan(y_root)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    r2p = np.corrcoef(x[m], yp[m])[0, 1] ** 2 if m.sum() > 2 else np.nan
                    r2i = np.corrcoef(x[mr], y_root[mr])[0, 1] ** 2 if mr.sum() > 2 else np.nan
                rows.append({"year": yr, "node": c, "parent": p, "level": fw.level(c),
                             "nominal_weight": float(wt.at[c, "weight"]),
                             "nominal_effective_weight": float(wt.at[c, "effective_weight"]),
                             "eta2_parent": r["eta2"].iloc[j], "r2_parent": r2p,
                             "eta2_index": r["eta2"].iloc[j] if p == fw.root else correlation_ratio(x, y_root),
                             "r2_index": r2i, "importance_share": r["importance_share"].iloc[j],
                             "ratio": r["ratio"].iloc[j], "ratio_lo": r["ratio_lo"].iloc[j],
                             "ratio_hi": r["ratio_hi"].iloc[j], "flag": r["flag"].iloc[j]})
    if not rows:
        return _empty_importance()
    imp = pd.DataFrame(rows)
    order = {c: i for i, c in enumerate(fw.all_codes)}
    imp = imp.sort_values(["year", "node"], key=lambda s: s.map(order) if s.name == "node" else s, kind="stable",
                          ignore_index=True)
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
def _untreated(result, indicator: str) -> bool:
    """True when the recipe's treatment step for ``indicator`` is 'none'."""
    return result.recipe.treat.resolve(node=indicator, level=1).method == "none"


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
        if _untreated(result, ind):
            what = "is highly skewed and the recipe applies no treatment to it"
        else:
            what = "is still highly skewed after treatment"
        add("warning", "outliers", ind,
            f"Indicator {ind} {what} (skew {r['skew_treated']:.2f}, kurtosis "
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
        last = imp[(imp["year"] == imp["year"].max()) & (imp["flag"] == "") & imp["ratio_lo"].notna()
                   & ((imp["ratio"] < th["mismatch_low"]) | (imp["ratio"] > th["mismatch_high"]))]
        if len(last):
            add("info", "weight_mismatch_uncertain", ", ".join(last["node"]),
                f"{len(last)} node(s) have an importance ratio outside [{th['mismatch_low']:g}, "
                f"{th['mismatch_high']:g}] whose 90% bootstrap interval still reaches the band, so they are not "
                f"flagged ({int(imp['year'].max())}): " + ", ".join(
                    f"{r['node']} in {r['parent']} ({r['ratio']:.2f}, {r['ratio_lo']:.2f}-{r['ratio_hi']:.2f})"
                    for _, r in last.iterrows()) + ". With this many units the data cannot tell.")
        mm = imp[imp["flag"] != ""]
        for node, g in mm.groupby("node", sort=False):
            r = g.iloc[-1]
            ci = (f", 90% bootstrap interval {r['ratio_lo']:.2f}-{r['ratio_hi']:.2f}"
                  if pd.notna(r["ratio_lo"]) else "")
            add("warning", "weight_mismatch", node,
                f"{node} is {r['flag']} in {r['parent']}: its share of the importance (eta^2) of {r['parent']}'s "
                f"children is {r['importance_share']:.2f} against a nominal weight share of "
                f"{r['nominal_weight']:.2f} (ratio {r['ratio']:.2f}{ci}{yrs(g['year'])}).")
    return pd.DataFrame(rows, columns=["severity", "kind", "where", "message"])


from dcindex._callable import make_callable  # noqa: E402

make_callable(__name__, "audit")
