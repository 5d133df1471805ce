"""Weighting methods: weights of the children of one aggregate, from arrays Y of shape (B, N, C).

``B`` is the number of blocks the weights are computed on: the years (``scope: year``) or one pooled
block of all unit-years (``scope: pooled``). Every function returns weights of shape (B, C) that sum to 1
(``bod`` returns unit-specific weights (B, N, C) and the efficiency scores).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dcindex.errors import MethodError

# Saaty's random consistency index RI(n) (Saaty 1980, Table; n = 1..15).
SAATY_RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
            11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}


def _normalise(w: np.ndarray, node: str) -> np.ndarray:
    s = w.sum(axis=-1, keepdims=True)
    if not np.all(s > 0):
        raise MethodError(f"the data-driven weights of the children of '{node}' are all zero (the children carry "
                          f"no variation).", hint="use meta or equal weights for this node (weights.by_node).")
    return w / s


def entropy(Y: np.ndarray, node: str = "?", names: list[str] | None = None) -> np.ndarray:
    """Entropy-weight method (熵值法; e.g. Zou, Yun & Sun 2006).

    p_ij = y_ij / sum_i y_ij;  e_j = -(1 / ln n) sum_i p_ij ln p_ij;  w_j = (1 - e_j) / sum_k (1 - e_k).
    Convention for zeros: p ln p = 0 when p = 0 (its limit), with no shift of the data; a column that sums
    to zero carries no information (e_j = 1). Values must be non-negative (normalise with minmax, ranks or
    goalposts, not z-scores). Missing cells are skipped (n counts the observed units of the column).
    """
    Y = np.asarray(Y, dtype=float)
    if np.nanmin(Y) < 0:
        raise MethodError(
            f"entropy weights for the children of '{node}' need non-negative values, but the normalised data "
            f"contain negative values.", hint="normalise with minmax (low >= 0), percentile_rank or goalposts.")
    n = np.sum(~np.isnan(Y), axis=-2)
    tot = np.nansum(Y, axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(tot > 0, Y / tot, 0.0)
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        e = -np.nansum(plogp, axis=-2) / np.log(n)
    e = np.where(n > 1, e, 1.0)
    e = np.where(tot[..., 0, :] > 0, e, 1.0)
    # a constant column has e = 1 up to round-off (1 - e ~ 1e-16, of either sign): it carries no
    # information, so its divergence is exactly 0 rather than noise that would decide the weights
    d = 1.0 - e
    return _normalise(np.where(d > 1e-12, d, 0.0), node)


def critic(Y: np.ndarray, node: str = "?") -> np.ndarray:
    """CRITIC (Diakoulaki, Mavrotas & Papayannakis 1995): C_j = sd_j * sum_k (1 - r_jk), w = C / sum C.

    sd is the sample sd; r is Pearson's correlation on pairwise-complete observations.
    """
    out = []
    for blk in np.asarray(Y, dtype=float):
        df = pd.DataFrame(blk)
        sd = df.std(ddof=1).to_numpy()
        r = df.corr().to_numpy()
        r = np.where(np.isnan(r), 0.0, r)
        out.append(sd * (1.0 - r).sum(axis=1))
    return _normalise(np.nan_to_num(np.array(out)), node)


@dataclass
class PCAWeights:
    weights: np.ndarray  # (C,)
    eigenvalues: np.ndarray
    retained: int
    loadings: np.ndarray  # (C, retained) rotated loadings
    explained: np.ndarray  # variance share of each retained (rotated) factor


def pca(Y: np.ndarray, node: str = "?", *, min_eigenvalue=1.0, min_share=0.10, min_cumulative=0.60,
        rotate=True) -> tuple[np.ndarray, list[PCAWeights]]:
    """PCA/FA weights per the OECD/JRC Handbook on Constructing Composite Indicators (2008), step 6.

    On the correlation matrix of the children (complete cases): retain components with eigenvalue >
    ``min_eigenvalue`` that each explain more than ``min_share`` of the variance, adding components until
    at least ``min_cumulative`` is explained; rotate with varimax (statsmodels); square the loadings and
    scale them to unit sum per factor; each child takes the largest of its scaled squared loadings times
    that factor's share of the variance explained by the retained factors; weights are rescaled to sum to 1.
    """
    from statsmodels.multivariate.factor_rotation import rotate_factors

    res_w, res = [], []
    for blk in np.asarray(Y, dtype=float):
        ok = ~np.isnan(blk).any(axis=1)
        Z = blk[ok]
        C = Z.shape[1]
        if Z.shape[0] <= C:
            raise MethodError(f"PCA weights for '{node}' need more complete units than children "
                              f"({Z.shape[0]} complete units, {C} children).",
                              hint="impute missing values first or use another weighting method for this node.")
        R = np.corrcoef(Z, rowvar=False)
        if np.isnan(R).any():
            raise MethodError(f"PCA weights for '{node}': a child is constant.", hint="remove constant children.")
        ev, vec = np.linalg.eigh(R)
        order = np.argsort(ev)[::-1]
        ev, vec = ev[order], vec[:, order]
        share = ev / ev.sum()
        keep = int(np.sum((ev > min_eigenvalue) & (share > min_share)))
        while keep < C and share[:keep].sum() < min_cumulative:
            keep += 1  # add components until the cumulative share is reached
        keep = max(keep, 1)
        L = vec[:, :keep] * np.sqrt(ev[:keep])
        if rotate and keep > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels logs log10(0) once converged
                L, _ = rotate_factors(L, "varimax")
        sq = L**2
        var = sq.sum(axis=0)
        scaled = sq / var
        fshare = var / var.sum()
        # each child goes to the factor with its largest scaled squared loading; exact ties (e.g. two children,
        # two factors) are broken by the factor's variance share so that the result never depends on rounding
        # noise from the order of the units
        key = np.round(scaled, 10) + 1e-12 * fshare[None, :]
        best = np.argmax(key, axis=1)
        w = scaled[np.arange(C), best] * fshare[best]
        w = w / w.sum()
        res_w.append(w)
        res.append(PCAWeights(weights=w, eigenvalues=ev, retained=keep, loadings=L, explained=var / C))
    return np.array(res_w), res


def ahp(matrix, node: str = "?", *, max_cr=0.1, allow_inconsistent=False) -> tuple[np.ndarray, float, float]:
    """AHP weights (Saaty 1980): principal right eigenvector of the pairwise comparison matrix.

    CI = (lambda_max - n) / (n - 1); CR = CI / RI(n). CR > ``max_cr`` is refused unless ``allow_inconsistent``.
    Returns (weights, lambda_max, CR).
    """
    A = np.asarray(matrix, dtype=float)
    n = A.shape[0]
    if A.ndim != 2 or A.shape[1] != n:
        raise MethodError(f"the AHP matrix of '{node}' is not square ({A.shape}).",
                          hint="give an n x n matrix, n = number of children, in the children's order.")
    if not np.all(A > 0):
        raise MethodError(f"the AHP matrix of '{node}' has non-positive entries.",
                          hint="pairwise comparisons use Saaty's 1/9..9 scale (all positive).")
    recip = np.abs(A * A.T - 1.0) > 1e-6
    if recip.any():
        i, j = np.argwhere(recip)[0]
        raise MethodError(f"the AHP matrix of '{node}' is not reciprocal: a[{i + 1},{j + 1}] * a[{j + 1},{i + 1}] "
                          f"= {A[i, j] * A[j, i]:g}.", hint="set a[j,i] = 1 / a[i,j] and ones on the diagonal.")
    ev, vec = np.linalg.eig(A)
    k = int(np.argmax(ev.real))
    lam = float(ev[k].real)
    w = np.abs(vec[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = SAATY_RI.get(n, 1.59)
    cr = ci / ri if ri > 0 else 0.0
    if cr > max_cr and not allow_inconsistent:
        raise MethodError(
            f"the AHP comparison matrix of '{node}' is inconsistent: CR = {cr:.3f} > {max_cr}.",
            hint="revise the pairwise judgements, or set 'weights: {method: ahp, allow_inconsistent: true}' "
                 "(or raise max_cr) to accept it knowingly.")
    return w, lam, cr


def bod(Y: np.ndarray, node: str = "?", *, min_share: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Benefit of the doubt (Cherchye, Moesen, Rogge & Van Puyenbroeck 2007), one LP per unit (HiGHS).

    For unit i: max_w sum_j w_j y_ij  s.t.  sum_j w_j y_kj <= 1 for every unit k, w >= 0, and optionally
    w_j y_ij >= min_share * sum_l w_l y_il (pie-share restriction). Returns (efficiency (B, N) in [0, 1],
    weight shares (B, N, C): w_j y_ij / sum_l w_l y_il). Missing values are not allowed.
    """
    import highspy

    from dcindex._highs import new_highs

    Y = np.asarray(Y, dtype=float)
    if np.isnan(Y).any():
        raise MethodError(f"benefit-of-the-doubt weights for '{node}' need complete data.",
                          hint="impute missing values first (recipe 'impute').")
    if Y.min() < 0:
        raise MethodError(f"benefit-of-the-doubt weights for '{node}' need non-negative values.",
                          hint="normalise with minmax (low >= 0) or goalposts.")
    B, N, C = Y.shape
    eff = np.zeros((B, N))
    shares = np.zeros((B, N, C))
    inf = highspy.kHighsInf
    for b in range(B):
        A = Y[b]
        for i in range(N):
            h = new_highs()
            lp = highspy.HighsLp()
            lp.num_col_ = C
            rows = [A]
            lower = [np.full(N, -inf)]
            upper = [np.ones(N)]
            if min_share > 0:
                # w_j y_ij - s * sum_l w_l y_il >= 0
                M = np.diag(A[i]) - min_share * np.tile(A[i], (C, 1))
                rows.append(M)
                lower.append(np.zeros(C))
                upper.append(np.full(C, inf))
            mat = np.vstack(rows)
            lp.num_row_ = mat.shape[0]
            lp.col_cost_ = -A[i]  # maximise
            lp.col_lower_ = np.zeros(C)
            lp.col_upper_ = np.full(C, inf)
            lp.row_lower_ = np.concatenate(lower)
            lp.row_upper_ = np.concatenate(upper)
            csc = _dense_to_csc(mat)
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc
            h.passModel(lp)
            h.run()
            w = np.array(h.getSolution().col_value)
            contrib = w * A[i]
            tot = contrib.sum()
            eff[b, i] = tot
            shares[b, i] = contrib / tot if tot > 0 else np.full(C, 1.0 / C)
    return eff, shares


def _dense_to_csc(M: np.ndarray):
    from scipy.sparse import csc_matrix

    m = csc_matrix(M)
    return m.indptr.astype(np.int32), m.indices.astype(np.int32), m.data.astype(float)
