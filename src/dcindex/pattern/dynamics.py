"""Distribution dynamics: kernel densities per year, quantile-class Markov chains, spatial Markov, rank mobility.

* Kernel density: ``scipy.stats.gaussian_kde`` per year, Gaussian kernel, bandwidth by Scott's rule
  (h = sigma n^(-1/5), with the (weighted) sample sd; ``bw="silverman"`` gives h = sigma (3n/4)^(-1/5)) or a
  fixed factor; evaluated on one grid shared by all years (min - 3h .. max + 3h, 512 points). Modes are
  local maxima of the density with prominence >= 5% of that year's highest density (scipy ``find_peaks``).
* Markov chain of quantile classes (``giddy.markov.Markov``): values are relative to the year's mean by
  default; classes are quantiles of the pooled values (``cutoffs="pooled"``, class boundaries fixed over
  time so the chain shows absolute movements) or of each year (``"yearly"``, relative positions only).
  A value exactly on a cutoff belongs to the lower class (mapclassify convention).
* Spatial Markov (Rey 2001; ``giddy.markov.Spatial_Markov``): transitions conditioned on the class of the
  spatial lag (row-standardised weights); homogeneity tests Q and LR (Bickenbach and Bode 2003) and the
  x2 statistic with a permutation p-value. giddy's permutations use NumPy's legacy global RNG in a Python
  loop and overwrite the fitted lag classes, so the permutation null is computed here, vectorised over
  permutations, with a seeded Generator (same statistic, tested equal to giddy given the same permutations).
* Rank mobility: Kendall's tau between the ranks of consecutive years and of the first and last year
  (``giddy.rank.Tau``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError, MethodError

__all__ = ["kde_by_year", "markov_chain", "spatial_markov", "rank_mobility", "quantile_classes", "check_cutoffs",
           "check_classes"]


def kde_by_year(table: pd.DataFrame, bw: str | float = "scott", grid_size: int = 512,
                weights: pd.Series | None = None, min_prominence: float = 0.05) -> dict[str, pd.DataFrame]:
    """Gaussian KDE per year on a common grid. Returns ``density`` (year, x, density) and ``summary``
    (year, n, bandwidth, n_modes, peaks, main_peak, main_peak_density, mean, sd, iqr, skewness)."""
    from scipy.signal import find_peaks
    from scipy.stats import gaussian_kde, skew

    kdes, hs = {}, []
    for year in table.columns:
        col = table[year].dropna()
        if col.size < 3 or np.ptp(col.to_numpy()) == 0:
            continue
        wv = None if weights is None else weights.reindex(col.index).to_numpy(float)
        k = gaussian_kde(col.to_numpy(float), bw_method=bw, weights=wv)
        kdes[int(year)] = (k, col.to_numpy(float), wv)
        hs.append(float(np.sqrt(k.covariance[0, 0])))
    if not kdes:
        raise MethodError("no year has at least 3 distinct values for a kernel density.", where="kde",
                          hint="Check the data; KDE needs variation across units.")
    allx = np.concatenate([v[1] for v in kdes.values()])
    hmax = max(hs)
    grid = np.linspace(allx.min() - 3 * hmax, allx.max() + 3 * hmax, grid_size)
    dens, summ = [], []
    for year, (k, x, wv) in kdes.items():
        d = k(grid)
        dens.append(pd.DataFrame({"year": year, "x": grid, "density": d}))
        peaks, _ = find_peaks(d, prominence=min_prominence * d.max())
        if peaks.size == 0:
            peaks = np.array([int(np.argmax(d))])
        main = peaks[np.argmax(d[peaks])]
        mean = np.average(x, weights=wv)
        sd = np.sqrt(np.average((x - mean) ** 2, weights=wv))
        summ.append({"year": year, "n": x.size, "bandwidth": float(np.sqrt(k.covariance[0, 0])),
                     "n_modes": int(peaks.size), "peaks": ";".join(f"{grid[p]:.6g}" for p in peaks),
                     "main_peak": float(grid[main]), "main_peak_density": float(d[main]), "mean": float(mean),
                     "sd": float(sd), "iqr": float(np.subtract(*np.percentile(x, [75, 25]))),
                     "skewness": float(skew(x))})
    return {"density": pd.concat(dens, ignore_index=True), "summary": pd.DataFrame(summ)}


def check_cutoffs(cutoffs: str) -> str:
    """Normalised Markov cutoff rule: "pooled" or "yearly" ("year" is accepted for the latter)."""
    c = str(cutoffs).strip().lower()
    if c in ("pooled", "yearly", "year"):
        return "pooled" if c == "pooled" else "yearly"
    raise InputError(f"unknown Markov cutoffs {cutoffs!r}.", where="markov",
                     hint='Use "pooled" (class bounds from all years together, fixed over time) or "year" / '
                          '"yearly" (quantiles of each year).')


def check_classes(k: int, n_units: int) -> None:
    """Quantile classes need 2 <= k and at least two units per class on average in a year (k <= n / 2)."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2 or k > n_units // 2:
        raise InputError(f"{k!r} Markov classes (k, --classes) cannot be formed from {n_units} units.", where="markov",
                         hint=f"Choose between 2 and {max(2, n_units // 2)} classes (at least two units per class "
                              f"in a year; 4 or 5 is usual).")


def quantile_classes(y: np.ndarray, k: int, cutoffs: str = "pooled") -> tuple[np.ndarray, np.ndarray | None]:
    """Quantile class ids (n, t) of a complete (n, t) array; pooled or per-year cutoffs (mapclassify)."""
    import mapclassify as mc

    cutoffs = check_cutoffs(cutoffs)

    if cutoffs == "pooled":
        q = mc.Quantiles(y.ravel(), k=k)
        return q.yb.reshape(y.shape), np.asarray(q.bins, float)
    if cutoffs == "yearly":
        return np.column_stack([mc.Quantiles(y[:, j], k=k).yb for j in range(y.shape[1])]), None
    raise InputError(f"unknown cutoffs {cutoffs!r}.", where="markov", hint='Use "pooled" or "yearly".')


def _complete(table: pd.DataFrame, what: str) -> tuple[pd.DataFrame, list[str]]:
    notes = []
    full = table.dropna()
    if len(full) < len(table):
        notes.append(f"{what}: {len(table) - len(full)} unit(s) with missing years left out: "
                     f"{list(table.index[table.isna().any(axis=1)])[:8]}")
    if full.shape[1] < 2:
        raise MethodError(f"{what} needs at least two years.", where=what, hint="Use a panel with several years.")
    if len(full) < 5:
        raise MethodError(f"{what} needs at least 5 units with complete data.", where=what,
                          hint="Impute missing values or analyse more units.")
    return full, notes


def _relative(y: np.ndarray) -> np.ndarray:
    return y / y.mean(axis=0, keepdims=True)


def markov_chain(table: pd.DataFrame, k: int = 4, cutoffs: str = "pooled", relative: bool = True) -> dict[str, Any]:
    """Quantile-class Markov chain. Returns frames ``transitions`` (from, to, count, prob), ``classes``
    (class, upper cutoff, steady-state and initial/final shares) and scalars (Shorrocks mobility, Prais)."""
    from giddy.markov import Markov, prais

    cutoffs = check_cutoffs(cutoffs)
    full, notes = _complete(table, "markov")
    check_classes(k, len(full))
    y = full.to_numpy(float)
    if relative:
        y = _relative(y)
    ids, bins = quantile_classes(y, k, cutoffs)
    kk = int(ids.max()) + 1
    m = Markov(ids, classes=np.arange(kk), fill_empty_classes=True, summary=False)
    T, P = np.asarray(m.transitions, float), np.asarray(m.p, float)
    tr = pd.DataFrame([{"from_class": i, "to_class": j, "count": T[i, j], "prob": P[i, j]}
                       for i in range(kk) for j in range(kk)])
    ss = np.asarray(m.steady_state, float).ravel() if np.asarray(m.steady_state).ndim == 1 else np.full(kk, np.nan)
    classes = pd.DataFrame({"class": np.arange(kk),
                            "upper": bins[:kk] if bins is not None else np.nan,
                            "initial_share": np.bincount(ids[:, 0], minlength=kk) / ids.shape[0],
                            "final_share": np.bincount(ids[:, -1], minlength=kk) / ids.shape[0],
                            "steady_state": ss})
    shorrocks = (kk - np.trace(P)) / (kk - 1)
    return {"transitions": tr, "classes": classes,
            "scalars": {"k": kk, "cutoffs": cutoffs, "relative": relative, "n_transitions": int(T.sum()),
                        "shorrocks_mobility": float(shorrocks),
                        "prais_mean": float(np.mean(np.asarray(prais(P), float)))},
            "notes": notes}


def _chi2_stack(T1: np.ndarray, T2: np.ndarray) -> np.ndarray:
    """giddy.markov.chi2 statistic, vectorised over the leading axes of T1 (..., k, k)."""
    rs2 = T2.sum(axis=1)
    rs2 = rs2 + (rs2 == 0)
    p = T2 / rs2[:, None]
    E = T1.sum(axis=-1)[..., None] * p
    num = (T1 - E) ** 2
    E = E + (E == 0)
    return (num / E).sum(axis=(-1, -2))


def spatial_markov_x2_null(y: np.ndarray, Wr, class_ids: np.ndarray, transitions: np.ndarray, m: int,
                           perm_idx: np.ndarray, lag_cutoffs: np.ndarray | None) -> np.ndarray:
    """x2 statistic of the spatial Markov homogeneity test under each row permutation of y (giddy's null:
    values are relocated, each unit keeps its own class, lags recomputed and re-classified)."""
    n, t = y.shape
    P = perm_idx.shape[0]
    k = transitions.shape[0]
    Y = y[perm_idx]  # (P, n, t)
    L = (Wr @ Y.transpose(1, 0, 2).reshape(n, P * t)).reshape(n, P, t).transpose(1, 0, 2)
    if lag_cutoffs is not None:  # pooled cutoffs fixed at the observed ones (as giddy after its first pass)
        bins = np.append(np.asarray(lag_cutoffs, float), np.inf)
        lc = np.searchsorted(bins, L, side="left")
    else:  # per-year quantiles of the permuted lags (linear interpolation, as mapclassify)
        qs = np.linspace(100 / m, 100, m)
        cuts = np.percentile(L, qs, axis=1)  # (m, P, t)
        lc = (L[None, :, :, :] > cuts[:, :, None, :]).sum(axis=0)
        lc = np.minimum(lc, m - 1)
    a = class_ids[None, :, :-1]
    b = class_ids[None, :, 1:]
    flat = (((np.arange(P)[:, None, None] * m + lc[:, :, :-1]) * k + a) * k + b).ravel()
    T = np.bincount(flat, minlength=P * m * k * k).reshape(P, m, k, k).astype(float)
    return _chi2_stack(T, transitions).sum(axis=1)


def spatial_markov(table: pd.DataFrame, w: Any, k: int = 4, m: int | None = None, cutoffs: str = "pooled",
                   relative: bool = True, permutations: int = 99, seed: int | None = 0,
                   coords: pd.DataFrame | None = None) -> dict[str, Any]:
    """Spatial Markov chain (giddy) with homogeneity tests and a seeded permutation test of x2."""
    from giddy.markov import Spatial_Markov

    from dcindex.pattern.spatial import _row_standardised, align_weights

    m = k if m is None else m
    cutoffs = check_cutoffs(cutoffs)
    full, notes = _complete(table, "spatial_markov")
    full = full.iloc[np.argsort(full.index.astype(str), kind="stable")]  # permutations independent of row order
    check_classes(k, len(full))
    check_classes(m, len(full))
    wa, wnotes = align_weights(w, list(full.index), coords)
    notes += wnotes
    wa.transform = "r"  # wa is our own copy
    y = full.to_numpy(float)
    if relative:
        y = _relative(y)
    sm = Spatial_Markov(y, wa, k=k, m=m, permutations=0, fixed=(cutoffs == "pooled"), fill_empty_classes=False)
    kk, mm = int(sm.k), int(sm.m)
    P = np.asarray(sm.P, float)
    T = np.asarray(sm.T, float)
    cond = pd.DataFrame([{"lag_class": l, "from_class": i, "to_class": j, "count": T[l, i, j], "prob": P[l, i, j]}
                         for l in range(mm) for i in range(kk) for j in range(kk)])
    scal = {"k": kk, "m": mm, "cutoffs": cutoffs, "relative": relative,
            "Q": float(sm.Q), "Q_p_value": float(sm.Q_p_value), "LR": float(sm.LR),
            "LR_p_value": float(sm.LR_p_value), "dof_hom": int(sm.dof_hom), "x2": float(sm.x2),
            "x2_dof": int(sm.x2_dof), "x2_p_value": float(sm.x2_pvalue), "permutations": int(permutations)}
    if permutations:
        rng = np.random.default_rng(seed)
        perm_idx = rng.permuted(np.tile(np.arange(y.shape[0]), (permutations, 1)), axis=1)
        lag_cut = np.asarray(sm.lag_cutoffs, float) if cutoffs == "pooled" else None
        null = spatial_markov_x2_null(y, _row_standardised(wa), np.asarray(sm.class_ids), np.asarray(sm.transitions,
                                      float), mm, perm_idx, lag_cut)
        scal["x2_perm_p_value"] = float(((null >= sm.x2).sum() + 1) / (permutations + 1))
    return {"conditional": cond, "scalars": scal, "notes": notes}


def rank_mobility(table: pd.DataFrame) -> pd.DataFrame:
    """Kendall's tau (giddy.rank.Tau, tau-b) between consecutive years and between the first and last year."""
    from giddy.rank import Tau

    years = list(table.columns)
    pairs = list(zip(years[:-1], years[1:]))
    if len(years) > 2:
        pairs.append((years[0], years[-1]))
    rows = []
    for a, b in pairs:
        d = table[[a, b]].dropna()
        if len(d) < 3:
            continue
        t = Tau(d[a].to_numpy(float), d[b].to_numpy(float))
        rows.append({"year_from": int(a), "year_to": int(b), "n": len(d), "tau": float(t.tau),
                     "p_value": float(t.tau_p)})
    return pd.DataFrame(rows)
