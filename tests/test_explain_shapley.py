"""The Shapley engine against the definition (all orders), known games, and its axioms."""
from __future__ import annotations

from itertools import permutations
from math import factorial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcindex.explain.shapley_values import all_coalitions, shapley


def table_game(values: np.ndarray):
    """Game given by a table of values per coalition index (bit k = player k)."""
    P = int(np.log2(len(values)))

    def v(masks):
        idx = (masks.astype(np.int64) << np.arange(P)).sum(axis=1)
        return values[idx]

    return v


def brute_force(values: np.ndarray) -> np.ndarray:
    """Shapley values by the definition: the average over all P! orders of each player's marginal contribution."""
    P = int(np.log2(len(values)))
    phi = np.zeros((P,) + values.shape[1:])
    for order in permutations(range(P)):
        s = 0
        for p in order:
            phi[p] += values[s | (1 << p)] - values[s]
            s |= 1 << p
    return phi / factorial(P)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1), st.integers(1, 3))
def test_exact_equals_definition(P, seed, width):
    vals = np.random.default_rng(seed).normal(size=(2**P, width))
    sh = shapley(table_game(vals), P)
    np.testing.assert_allclose(sh.values, brute_force(vals), rtol=0, atol=1e-12)
    # efficiency
    np.testing.assert_allclose(sh.values.sum(axis=0), vals[-1] - vals[0], atol=1e-12)
    assert sh.method == "exact" and np.all(sh.se == 0)


def test_glove_game():
    # one left glove (player 0), two right gloves (1, 2): v = number of pairs. Known values 2/3, 1/6, 1/6.
    def v(m):
        return np.minimum(m[:, 0].astype(float), m[:, 1:].sum(axis=1))

    sh = shapley(v, 3)
    np.testing.assert_allclose(sh.values, [2 / 3, 1 / 6, 1 / 6], atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 7), st.integers(0, 2**31 - 1))
def test_symmetry_and_dummy(P, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=P)
    a[1] = a[0]  # players 0 and 1 interchangeable
    a[-1] = 0.0  # last player a dummy

    def v(m):
        x = m.astype(float) @ a
        return np.sin(x) + x**2 + 0.3 * (m[:, 0] & m[:, 1])  # symmetric in 0 and 1, dummy last

    sh = shapley(v, P)
    assert sh.values[0] == pytest.approx(sh.values[1], abs=1e-12)
    assert sh.values[-1] == pytest.approx(0.0, abs=1e-12)


def test_sampling_additive_game_is_exact_and_efficient():
    P = 15
    a = np.arange(1, P + 1, dtype=float)
    sh = shapley(lambda m: m.astype(float) @ a, P, n_permutations=20, seed=3)
    assert sh.method == "permutation"
    np.testing.assert_allclose(sh.values, a, atol=1e-9)
    np.testing.assert_allclose(sh.se, 0, atol=1e-9)


def test_sampling_matches_exact_within_error_and_keeps_efficiency():
    P = 13
    rng = np.random.default_rng(0)
    a = rng.normal(size=P)
    B = rng.normal(size=(P, P)) * 0.3

    def v(m):
        x = m.astype(float)
        return np.tanh(x @ a) + np.einsum("bi,ij,bj->b", x, B, x)

    exact = shapley(v, P, exact_max=13)
    est = shapley(v, P, exact_max=12, n_permutations=2000, seed=11)
    assert est.method == "permutation" and exact.method == "exact"
    full, empty = v(np.ones((1, P), bool))[0], v(np.zeros((1, P), bool))[0]
    assert est.values.sum() == pytest.approx(full - empty, abs=1e-10)  # efficiency exact under sampling
    z = np.abs(est.values - exact.values) / est.se
    assert np.all(est.se > 0) and np.max(z) < 4.5
    # group SE: sum over a group of players
    g = [0, 3, 5]
    assert est.se_of_sum(g) > 0
    assert abs(est.values[g].sum() - exact.values[g].sum()) < 4.5 * est.se_of_sum(g)


def test_sampling_is_seeded():
    P = 14

    def v(m):
        return (m.astype(float) @ np.linspace(-1, 1, P)) ** 2

    a = shapley(v, P, n_permutations=50, seed=5)
    b = shapley(v, P, n_permutations=50, seed=5)
    c = shapley(v, P, n_permutations=50, seed=6)
    assert np.array_equal(a.values, b.values) and not np.array_equal(a.values, c.values)


def test_coalition_enumeration_and_chunks():
    m = all_coalitions(4)
    assert m.shape == (16, 4) and m[5].tolist() == [True, False, True, False]
    vals = np.random.default_rng(1).normal(size=16)
    assert np.allclose(shapley(table_game(vals), 4, chunk=3).values, brute_force(vals))


def test_no_players():
    sh = shapley(lambda m: np.full((len(m), 2), 7.0), 0)
    assert sh.values.shape == (0, 2) and np.all(sh.v_full == 7.0)
