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
                  seed: int | None = None) -> SobolIndices:
    """Sobol first-order and total indices for every column of ``Y`` ((N (G+2),) or (N (G+2), M)).

    The estimators of SALib's ``first_order`` (Saltelli et al. 2010) and ``total_order`` (Jansen 1999) on the
    output centred as SALib's ``analyze`` does, with the output variance computed once for all factors (SALib's
    functions recompute it per factor, which dominates when M is in the thousands); ``bootstrap`` resamples the
    base rows exactly as SALib's ``analyze`` does with the same ``seed`` and gives ``conf`` = z * sd of the
    resampled indices (half-width of a ``conf_level`` interval). tests/test_uncertainty_sobol.py checks equality
    with ``SALib.analyze.sobol.analyze`` to 1e-10.
    """
    A, AB, B = split_saltelli(Y, n_groups)
    N, M = A.shape
    Yr = np.asarray(Y, dtype=float).reshape(-1, M)
    mu = Yr.mean(axis=0)
    const = ~(np.ptp(Yr, axis=0) > np.finfo(float).eps * np.maximum(1.0, np.abs(mu)))
    A = A - mu  # SALib standardises (Y - mean) / sd; the ratios below do not depend on the scale
    B = B - mu
    AB = AB - mu
    sA, sB = A.sum(axis=0), B.sum(axis=0)
    var = (np.einsum("ij,ij->j", A, A) + np.einsum("ij,ij->j", B, B)) / (2 * N) - ((sA + sB) / (2 * N)) ** 2
    ok = (var > np.finfo(float).eps * np.maximum(1.0, mu**2)) & ~const
    vsafe = np.where(ok, var, 1.0)
    G = n_groups
    S1 = np.zeros((G, M))
    ST = np.zeros((G, M))
    S1c = np.zeros((G, M))
    STc = np.zeros((G, M))
    for j in range(G):
        d = AB[:, j, :] - A
        S1[j] = np.einsum("ij,ij->j", B, d) / N / vsafe
        ST[j] = 0.5 * np.einsum("ij,ij->j", d, d) / N / vsafe
    if bootstrap > 0:
        # the same resamples SALib's analyze draws: default_rng(seed).integers(N, size=(N, R)); a resample's
        # mean of any per-row quantity is (counts @ quantity) / N, so all R resamples of all M outputs are a few
        # matrix products instead of R fancy-indexed copies of (N, M) arrays (SALib's loop is ~50x slower here)
        gen = np.random.default_rng(seed) if seed else np.random.default_rng()
        r = gen.integers(N, size=(N, bootstrap))
        C = np.bincount((r.T + (np.arange(bootstrap) * N)[:, None]).ravel(),
                        minlength=bootstrap * N).reshape(bootstrap, N).astype(float)
        z = norm.ppf(0.5 + conf_level / 2)
        mA, mB = C @ A / N, C @ B / N
        ex2 = (C @ (A * A) + C @ (B * B)) / (2 * N)
        vr = ex2 - ((mA + mB) / 2) ** 2  # np.var (ddof 0) of the 2N resampled A and B values
        with np.errstate(invalid="ignore", divide="ignore"):
            vr = np.where(vr > np.finfo(float).eps, vr, np.nan)
            for j in range(G):
                d = AB[:, j, :] - A
                s1 = (C @ (B * d) / N) / vr
                st = 0.5 * (C @ (d * d) / N) / vr
                S1c[j] = z * np.nan_to_num(s1).std(axis=0, ddof=1)
                STc[j] = z * np.nan_to_num(st).std(axis=0, ddof=1)
    for a in (S1, ST, S1c, STc):
        a[:, ~ok] = 0.0
    return SobolIndices(S1=S1, ST=ST, S1_conf=S1c, ST_conf=STc, variance=np.where(ok, var, 0.0), n_base=N)


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
