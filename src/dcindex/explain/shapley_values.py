"""Shapley values of a cooperative game given as a vectorised value function.

``value_fn(masks)`` receives a boolean array ``(B, P)`` of coalitions (True = the player is in the coalition)
and returns the value of each coalition as an array ``(B, ...)`` (trailing axes are carried along, e.g. one
value per unit). Two estimators:

* **exact** (P <= ``exact_max``, default 12): all 2^P coalitions are evaluated (in chunks) and
  ``phi_k = sum_{S not containing k} |S|! (P-|S|-1)! / P! * (v(S + k) - v(S))``, vectorised over coalitions;
* **permutation sampling** (Castro, Gomez & Tejada 2009) beyond that: ``n_permutations`` random orders
  (seeded, antithetic: every order is paired with its reverse), the marginal contribution of each player
  when it joins its predecessors, averaged. Every order's marginals telescope to ``v(N) - v(empty)``, so the
  estimate keeps efficiency *exactly*; the standard error comes from the spread over antithetic pairs.

Own code: SHAP/shapiq target machine-learning models and do not take an arbitrary vectorised set function
with exact enumeration and efficiency-preserving sampling; the estimator is a few lines of numpy.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import factorial
from typing import Callable

import numpy as np

from dcindex.errors import InputError

EXACT_MAX = 12


@dataclass
class ShapleyValues:
    """Shapley values ``values`` (P, ...) with standard errors ``se`` (zeros when exact)."""

    values: np.ndarray
    se: np.ndarray
    v_empty: np.ndarray
    v_full: np.ndarray
    method: str  # "exact" | "permutation"
    n_permutations: int = 0
    seed: int | None = None
    pair_marginals: np.ndarray | None = None  # (n_pairs, P, ...) for the SE of sums of players

    def se_of_sum(self, players: list[int] | np.ndarray) -> np.ndarray:
        """Standard error of the sum of the Shapley values of ``players`` (0 when exact)."""
        idx = np.asarray(players, dtype=int)
        if self.method == "exact" or self.pair_marginals is None or idx.size == 0:
            return np.zeros(self.values.shape[1:])
        s = self.pair_marginals[:, idx].sum(axis=1)
        n = s.shape[0]
        return s.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(s.shape[1:], np.nan)

    @property
    def description(self) -> str:
        if self.method == "exact":
            return f"Shapley values, exact ({self.values.shape[0]} players, 2^{self.values.shape[0]} coalitions)"
        return (f"Shapley values, permutation sampling ({self.n_permutations} antithetic permutations, "
                f"seed {self.seed}); efficiency exact, standard errors reported")


def _chunks(n: int, size: int):
    for a in range(0, n, size):
        yield a, min(n, a + size)


def _evaluate(value_fn, masks: np.ndarray, chunk: int) -> np.ndarray:
    parts = [np.asarray(value_fn(masks[a:b]), dtype=float) for a, b in _chunks(len(masks), chunk)]
    return np.concatenate(parts, axis=0)


def all_coalitions(P: int) -> np.ndarray:
    """Boolean (2^P, P): row s is the coalition whose bit k is set in s."""
    s = np.arange(2**P, dtype=np.int64)
    return ((s[:, None] >> np.arange(P)) & 1).astype(bool)


def check_sampling(n_permutations, exact_max=EXACT_MAX) -> None:
    """Argument check of the sampling settings, done before any evaluation (InputError: the caller's fault)."""
    ok = isinstance(n_permutations, (int, np.integer)) and not isinstance(n_permutations, bool) \
        and n_permutations >= 2
    if not ok:
        raise InputError(
            f"the number of sampled permutations for Shapley values (n_permutations, --samples) must be a whole "
            f"number of at least 2, got {n_permutations!r}: beyond {exact_max} indicators the contributions are "
            f"averaged over random orders of the indicators, taken in pairs (an order and its reverse), and at "
            f"least one pair is needed.",
            hint="pass --samples 1000 (the default) or any whole number >= 2; more samples give smaller standard "
                 "errors (reported in the 'se' column).")
    if not isinstance(exact_max, (int, np.integer)) or isinstance(exact_max, bool) or exact_max < 0:
        raise InputError(f"exact_max must be a whole number >= 0, got {exact_max!r}.",
                         hint=f"use the default {EXACT_MAX} (exact enumeration up to {EXACT_MAX} indicators).")


def shapley(value_fn: Callable[[np.ndarray], np.ndarray], n_players: int, *, exact_max: int = EXACT_MAX,
            n_permutations: int = 1000, seed: int | None = 0, chunk: int = 1024) -> ShapleyValues:
    """Shapley values of the game ``value_fn`` over ``n_players`` players (see the module docstring)."""
    P = int(n_players)
    if P == 0:
        v = _evaluate(value_fn, np.zeros((1, 0), dtype=bool), 1)[0]
        return ShapleyValues(np.zeros((0,) + v.shape), np.zeros((0,) + v.shape), v, v, "exact")
    if P <= exact_max:
        return _exact(value_fn, P, chunk)
    check_sampling(n_permutations, exact_max)
    return _sampled(value_fn, P, n_permutations, seed, chunk)


def _exact(value_fn, P: int, chunk: int) -> ShapleyValues:
    masks = all_coalitions(P)
    v = _evaluate(value_fn, masks, chunk)  # (2^P, ...)
    size = masks.sum(axis=1)
    w = np.array([factorial(s) * factorial(P - s - 1) / factorial(P) for s in range(P)])
    ar = np.arange(2**P, dtype=np.int64)
    phi = np.empty((P,) + v.shape[1:])
    extra = (1,) * (v.ndim - 1)
    for k in range(P):  # loop over players, vectorised over the 2^(P-1) coalitions without k
        without = ar[((ar >> k) & 1) == 0]
        d = v[without | (1 << k)] - v[without]
        phi[k] = np.sum(w[size[without]].reshape((-1,) + extra) * d, axis=0)
    return ShapleyValues(phi, np.zeros_like(phi), v[0], v[-1], "exact")


def _sampled(value_fn, P: int, n_permutations: int, seed, chunk: int) -> ShapleyValues:
    rng = np.random.default_rng(seed)
    n_pairs = (n_permutations + 1) // 2
    half = np.argsort(rng.random((n_pairs, P)), axis=1)  # uniform random orders
    perms = np.concatenate([half, half[:, ::-1]], axis=0)  # antithetic: each order and its reverse
    M = perms.shape[0]
    # prefix coalitions: for permutation m, coalition j holds the first j players of the order (j = 0..P)
    pos = np.empty_like(perms)
    pos[np.arange(M)[:, None], perms] = np.arange(P)[None, :]  # position of each player in each order
    masks = pos[:, None, :] < np.arange(P + 1)[None, :, None]  # (M, P+1, P)
    v = _evaluate(value_fn, masks.reshape(-1, P), chunk)
    v = v.reshape((M, P + 1) + v.shape[1:])
    marg_by_step = v[:, 1:] - v[:, :-1]  # (M, P, ...): marginal of the player at step j
    marg = np.empty_like(marg_by_step)
    marg[np.arange(M)[:, None], perms] = marg_by_step  # reorder to player index
    pair = 0.5 * (marg[:n_pairs] + marg[n_pairs:])
    phi = pair.mean(axis=0)
    se = pair.std(axis=0, ddof=1) / np.sqrt(n_pairs) if n_pairs > 1 else np.full(phi.shape, np.nan)
    return ShapleyValues(phi, se, v[0, 0], v[0, -1], "permutation", n_permutations=M, seed=seed,
                         pair_marginals=pair)
