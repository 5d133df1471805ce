"""Variance-based (Sobol) sensitivity indices from a Saltelli design, vectorised over many outputs.

The design is SALib's (:func:`SALib.sample.sobol.sample` with ``calc_second_order=False``): for every base
sample ``i`` the rows are ``A_i, AB_1,i, ..., AB_G,i, B_i`` (``G`` factors or groups), ``N (G + 2)`` rows in all.
The headline target of :mod:`dcindex.uncertainty` goes through ``SALib.analyze.sobol.analyze`` itself;
:func:`sobol_indices` is the same computation (SALib's estimators: ``first_order``, Saltelli et al. 2010, and
``total_order``, Jansen 1999, after the same centring, with the same bootstrap of base rows and
normal-approximation interval ``z * sd``) vectorised over an ``(N, M)`` block of outputs, because an uncertainty
analysis asks for indices of thousands of outputs (every unit's rank in every year), where calling ``analyze``
once per output would dominate the run time. Own code for that reason only; the tests check it equals SALib's
``analyze`` to 1e-10 for every output.

COINr (``SA_estimate``) uses the same two estimators without centring the output and reports bootstrap 5-95 %
quantiles; the point estimates agree in expectation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

__all__ = ["SobolIndices", "sobol_indices", "split_saltelli", "ishigami"]


@dataclass
class SobolIndices:
    """First-order and total indices of ``G`` factors for ``M`` outputs (arrays of shape (G, M))."""

    S1: np.ndarray
    ST: np.ndarray
    S1_conf: np.ndarray
    ST_conf: np.ndarray
    variance: np.ndarray  # (M,) output variance over the A and B rows (0 = constant output)
    n_base: int


def split_saltelli(Y: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split outputs of a SALib Saltelli design into A (N, M), AB (N, G, M) and B (N, M)."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    step = n_groups + 2
    if Y.shape[0] % step:
        raise ValueError(f"{Y.shape[0]} rows are not a multiple of G + 2 = {step}")
    blocks = Y.reshape(-1, step, Y.shape[1])
    return blocks[:, 0, :], blocks[:, 1:-1, :], blocks[:, -1, :]


def sobol_indices(Y: np.ndarray, n_groups: int, *, bootstrap: int = 0, conf_level: float = 0.95,
                  seed: int | None = None, conf_dtype=np.float64) -> SobolIndices:
    """Sobol first-order and total indices for every column of ``Y`` ((N (G+2),) or (N (G+2), M)).

    The estimators of SALib's ``first_order`` (Saltelli et al. 2010) and ``total_order`` (Jansen 1999) on the
    output centred as SALib's ``analyze`` does, with the output variance computed once for all factors (SALib's
    functions recompute it per factor, which dominates when M is in the thousands); ``bootstrap`` resamples the
    base rows exactly as SALib's ``analyze`` does with the same ``seed`` and gives ``conf`` = z * sd of the
    resampled indices (half-width of a ``conf_level`` interval). tests/test_uncertainty_sobol.py checks equality
    with ``SALib.analyze.sobol.analyze`` to 1e-10.

    The outputs are processed in column blocks that stay in cache. ``conf_dtype=np.float32`` computes the
    bootstrap products in single precision (about twice as fast; the half-widths then carry a relative rounding
    error of ~1e-5, far below the bootstrap's own sampling error of several per cent): used for the thousands of
    per-unit outputs, never for the headline target.
    """
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    G = n_groups
    step = G + 2
    if Y.shape[0] % step:
        raise ValueError(f"{Y.shape[0]} rows are not a multiple of G + 2 = {step}")
    N, M = Y.shape[0] // step, Y.shape[1]
    Y3 = Y.reshape(N, step, M)
    S1, ST = np.zeros((G, M)), np.zeros((G, M))
    S1c, STc = np.zeros((G, M)), np.zeros((G, M))
    var_all = np.zeros(M)
    ok_all = np.zeros(M, dtype=bool)
    if bootstrap > 0:
        # the same resamples SALib's analyze draws: default_rng(seed).integers(N, size=(N, R)); a resample's
        # mean of any per-row quantity is (counts @ quantity) / N, so all R resamples of all M outputs are matrix
        # products instead of R fancy-indexed copies of (N, M) arrays (SALib's loop is ~50x slower here). The
        # 2 + 2G per-row quantities of a block of outputs are stacked side by side into one product (one BLAS
        # call per block: ~2x faster than one call per quantity).
        gen = np.random.default_rng(seed) if seed else np.random.default_rng()
        r = gen.integers(N, size=(N, bootstrap))
        C = np.bincount((r.T + (np.arange(bootstrap) * N)[:, None]).ravel(),
                        minlength=bootstrap * N).reshape(bootstrap, N).astype(conf_dtype)
        z = norm.ppf(0.5 + conf_level / 2)
    q = 2 + 2 * G
    blk = max(1, min(M, (1 << 18) // (N * step)))  # ~2 MB of outputs per block
    for lo in range(0, M, blk):
        hi = min(M, lo + blk)
        Yb = Y3[:, :, lo:hi]
        mu = Yb.mean(axis=(0, 1))
        const = ~(np.ptp(Yb, axis=(0, 1)) > np.finfo(float).eps * np.maximum(1.0, np.abs(mu)))
        Yc = Yb - mu  # SALib standardises (Y - mean) / sd; the ratios below do not depend on the scale
        A, AB, B = Yc[:, 0], Yc[:, 1:-1], Yc[:, -1]
        sA, sB = A.sum(axis=0), B.sum(axis=0)
        var = (np.einsum("ij,ij->j", A, A) + np.einsum("ij,ij->j", B, B)) / (2 * N) - ((sA + sB) / (2 * N)) ** 2
        ok = (var > np.finfo(float).eps * np.maximum(1.0, mu**2)) & ~const
        vsafe = np.where(ok, var, 1.0)
        D = AB - A[:, None, :]  # (N, G, b)
        for j in range(G):
            d = D[:, j]
            S1[j, lo:hi] = np.einsum("ij,ij->j", B, d) / N / vsafe
            ST[j, lo:hi] = 0.5 * np.einsum("ij,ij->j", d, d) / N / vsafe
        var_all[lo:hi], ok_all[lo:hi] = var, ok
        if bootstrap > 0:
            Qs = np.empty((N, q, hi - lo), dtype=conf_dtype)
            np.add(A, B, out=Qs[:, 0])
            np.add(A * A, B * B, out=Qs[:, 1])
            np.multiply(B[:, None, :], D, out=Qs[:, 2:2 + G])
            np.multiply(D, D, out=Qs[:, 2 + G:])
            P = (C @ Qs.reshape(N, -1)).reshape(bootstrap, q, hi - lo).astype(float) / N
            # np.var (ddof 0) of the 2N resampled A and B values
            vr = P[:, 1] / 2 - (P[:, 0] / 2) ** 2
            with np.errstate(invalid="ignore", divide="ignore"):
                vr = np.where(vr > np.finfo(float).eps, vr, np.nan)
                for j in range(G):
                    S1c[j, lo:hi] = z * np.nan_to_num(P[:, 2 + j] / vr).std(axis=0, ddof=1)
                    STc[j, lo:hi] = z * np.nan_to_num(0.5 * P[:, 2 + G + j] / vr).std(axis=0, ddof=1)
    for a in (S1, ST, S1c, STc):
        a[:, ~ok_all] = 0.0
    return SobolIndices(S1=S1, ST=ST, S1_conf=S1c, ST_conf=STc, variance=np.where(ok_all, var_all, 0.0), n_base=N)


def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami function on [-pi, pi]^3 (Ishigami & Homma 1990), a standard test of Sobol estimators.

    Analytic indices (a = 7, b = 0.1): S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437).
    """
    X = np.asarray(X, dtype=float)
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices of :func:`ishigami` (Sobol & Levitan 1999)."""
    pi = np.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v
