"""Benchmark of the regional pattern analyses on 2,809 units (53 x 53 lattice) x 15 years.

Times: Dagum decomposition with 1,000 bootstrap replications per year (all 15 years), global Moran's I with
999 permutations per year, LISA with 999 conditional permutations per year, spatial Markov with 99
permutations. Baseline: the brute-force O(n^2) Dagum decomposition (full n x n matrix of absolute
differences, NumPy-vectorised, summed by group pair), timed per replication in this run. The last line
compares the time per replication (one decomposition of one year's 2,809 values).

Run: ``python bench/bench_pattern.py``. Goals (2 cores): Dagum + bootstrap for 15 years <= 10 s and >= 50x
faster than brute force per replication; the whole benchmark <= 60 s.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from dcindex.pattern import dagum_panel, lisa_by_year, moran_by_year, spatial_markov
from dcindex.pattern.decomposition import _terms


def lattice(side: int = 53, years: int = 15, seed: int = 0):
    """A spatially smooth random panel on a rook lattice, 4 groups (lattice quadrants), weights as edges."""
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(side * side), side)
    ids = [f"{i:05d}" for i in range(side * side)]
    base = 50 + 30 * (r / side) + 10 * np.sin(c / 6.0)
    vals = np.empty((side * side, years))
    level = base + rng.normal(0, 5, base.size)
    for t in range(years):
        level = level * 1.03 + rng.normal(0, 2, base.size)
        vals[:, t] = level
    table = pd.DataFrame(vals, index=ids, columns=range(2010, 2010 + years))
    groups = pd.Series(np.where(r < side // 2, "N", "S").astype(object) + np.where(c < side // 2, "W", "E"),
                       index=ids)
    e = []
    for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        ok = (r + dr >= 0) & (r + dr < side) & (c + dc >= 0) & (c + dc < side)
        src = np.flatnonzero(ok)
        e.append(np.column_stack([src, (r[ok] + dr) * side + c[ok] + dc]))
    e = np.concatenate(e)
    edges = pd.DataFrame({"focal": np.array(ids)[e[:, 0]], "neighbor": np.array(ids)[e[:, 1]]})
    return table, groups, edges


def dagum_brute(x: np.ndarray, codes: np.ndarray, k: int) -> dict:
    """O(n^2) reference: full matrix of |x_i - x_r|, summed by group pair (the textbook double sum)."""
    D = np.abs(x[:, None] - x[None, :])
    onehot = np.eye(k)[codes]
    A = onehot.T @ D @ onehot
    Wg = onehot.sum(0)
    Sg = onehot.T @ x
    return {key: v[0] for key, v in _terms(A[None], Wg[None], Sg[None]).items()}


def main() -> None:
    B, PERM, SM_PERM = 1000, 999, 99
    t_all = time.perf_counter()
    table, groups, edges = lattice()
    n, T = table.shape
    rows = []

    t = time.perf_counter()
    dp = dagum_panel(table, groups, B=B, seed=0)
    t_dagum = time.perf_counter() - t
    reps = T * (B + 1)
    rows.append(("Dagum + bootstrap (15 years x 1,001 decompositions)", t_dagum, f"{reps} decompositions"))

    # brute force on the same data, timed per replication (a few replications: one takes ~0.1 s)
    codes = pd.factorize(groups.reindex(table.index), sort=True)[0]
    x = table[2010].to_numpy()
    nb = 5
    t = time.perf_counter()
    for _ in range(nb):
        ref = dagum_brute(x, codes, 4)
    t_brute = (time.perf_counter() - t) / nb
    comp = dp["components"].set_index(["year", "component"])["value"]
    assert abs(comp[(2010, "G")] - ref["G"]) < 1e-12 and abs(comp[(2010, "Gnb")] - ref["Gnb"]) < 1e-12
    rows.append(("brute-force O(n^2) Dagum, per replication", t_brute, f"mean of {nb}"))

    t = time.perf_counter()
    mo = moran_by_year(table, edges, permutations=PERM, seed=0)
    rows.append((f"Moran's I, {PERM} permutations x {T} years", time.perf_counter() - t, f"I[2024]={mo['I'].iloc[-1]:.3f}"))

    t = time.perf_counter()
    li = lisa_by_year(table, edges, permutations=PERM, seed=0)
    rows.append((f"LISA, {PERM} conditional permutations x {T} years", time.perf_counter() - t,
                 f"{int((li['cluster'] != 'ns').sum())} significant unit-years"))

    t = time.perf_counter()
    sm = spatial_markov(table, edges, k=4, permutations=SM_PERM, seed=0)
    rows.append((f"spatial Markov, {SM_PERM} permutations", time.perf_counter() - t,
                 f"Q={sm['scalars']['Q']:.1f}"))
    total = time.perf_counter() - t_all

    ours_per_rep = t_dagum / reps
    print(f"regional pattern benchmark: {n} units x {T} years (53 x 53 rook lattice, 4 groups)")
    print(f"{'step':<58s} {'seconds':>10s}  note")
    for name, sec, note in rows:
        print(f"{name:<58s} {sec:10.3f}  {note}")
    print(f"{'whole benchmark (incl. data setup)':<58s} {total:10.3f}")
    print(f"Dagum per replication: ours {ours_per_rep * 1e3:.3f} ms vs brute force {t_brute * 1e3:.1f} ms "
          f"-> {t_brute / ours_per_rep:.0f}x; goals: Dagum+bootstrap <= 10 s "
          f"({'met' if t_dagum <= 10 else 'NOT met'}), >= 50x ({'met' if t_brute / ours_per_rep >= 50 else 'NOT met'}),"
          f" whole <= 60 s ({'met' if total <= 60 else 'NOT met'})")
    print(f"BENCH name=pattern_dagum_per_replication seconds={ours_per_rep:.6g} baseline_seconds={t_brute:.6g} "
          f"ratio={t_brute / ours_per_rep:.4g}")


if __name__ == "__main__":
    main()
