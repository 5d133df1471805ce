"""Seeded synthetic panels that look like regional digital-development data.

``synth(units=3000, indicators=60, years=10, seed=...)`` returns a wide table (one row per unit and year:
``unit, year, region_group, pop`` and the indicators) and a native framework dict (3 levels: indicators >
pillars > index), built to exercise every step of the default recipe the way real data do:

* skewed indicators: log-normal levels with unit effects and trends (per-capita counts), a few Pareto
  heavy tails (investment, patents) that Winsorisation cannot fix (log fallback), bounded shares (percent)
  and a few "lower is better" indicators (prices, latency);
* about a third of the indicators are totals divided by population (``denominator: pop``), with
  population itself occasionally missing;
* about 3 % of the indicator cells missing at random, plus a few unit-years with whole blocks missing;
* four regional groups (East / Central / West / Northeast) with different levels, for group-mean imputation;
* unequal weights (1, 2 or 3) and unequal pillar sizes.

Everything comes from one ``numpy.random.default_rng(seed)``, so the same arguments give the same data.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

REGIONS = ("East", "Central", "West", "Northeast")
REGION_SHARE = (0.35, 0.25, 0.30, 0.10)
REGION_LEVEL = {"East": 0.6, "Central": 0.1, "West": -0.3, "Northeast": -0.1}


def synth(units: int = 3000, indicators: int = 60, years: int = 10, seed: int = 20240601,
          missing: float = 0.03, pillars: int = 6, first_year: int = 2014) -> tuple[pd.DataFrame, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    N, K, T = units, indicators, years
    codes = [f"u{i:05d}" for i in range(N)]
    region = rng.choice(REGIONS, size=N, p=REGION_SHARE)
    reg_level = np.array([REGION_LEVEL[r] for r in region])
    dev = rng.normal(0, 0.5, N) + reg_level  # latent "digital development" of each unit
    growth = rng.normal(0.06, 0.03, N)  # yearly growth of the latent level
    t = np.arange(T)
    latent = dev[None, :] + growth[None, :] * t[:, None]  # (T, N)
    pop = np.exp(rng.normal(5.0, 0.9, N))[None, :] * (1 + 0.005 * t[:, None])  # 10k persons, slowly growing

    # indicator kinds, assigned round-robin with a seeded shuffle
    kinds = np.array((["percap"] * 4 + ["share"] * 2 + ["level"] * 2 + ["heavy"] * 1 + ["lower"] * 1) * (K // 10 + 1))
    kinds = kinds[:K]
    rng.shuffle(kinds)
    X = np.empty((T, N, K))
    direction = np.ones(K, dtype=int)
    denominator = [None] * K
    for k, kind in enumerate(kinds):
        load = rng.uniform(0.4, 1.0)
        noise = rng.normal(0, rng.uniform(0.2, 0.6), (T, N))
        z = load * latent + noise
        if kind == "percap":  # a total (ports, base stations ...) = per-capita intensity x population
            X[..., k] = np.exp(rng.normal(1.0, 0.3) + 0.8 * z) * pop
            denominator[k] = "pop"
        elif kind == "share":  # a percentage in (0, 100)
            X[..., k] = 100 / (1 + np.exp(-(z - 0.2)))
        elif kind == "level":  # log-normal level (income, revenue per firm ...)
            X[..., k] = np.exp(2 + rng.uniform(0.5, 1.2) * z)
        elif kind == "heavy":  # Pareto tail on top of the level: a handful of giants
            X[..., k] = np.exp(1 + 0.5 * z) * (1 + rng.pareto(rng.uniform(1.1, 1.8), (T, N)))
        else:  # lower is better: price, latency
            X[..., k] = np.exp(3 - 0.5 * z)
            direction[k] = -1
    X = np.round(X, 6)

    # missing values: ~missing at random, plus some whole unit-year blocks (a survey not returned)
    miss = rng.random(X.shape) < missing * 0.8
    blocks = rng.random((T, N)) < missing * 0.2
    miss |= blocks[..., None] & (rng.random(X.shape) < 0.9)
    X[miss] = np.nan
    popv = pop.copy()
    popv[rng.random(popv.shape) < 0.002] = np.nan  # a missing denominator turns a value missing

    ind_codes = [f"i{k + 1:02d}" for k in range(K)]
    df = pd.DataFrame({
        "unit": np.tile(codes, T),
        "year": np.repeat(first_year + t, N),
        "region_group": np.tile(region, T),
        "pop": np.round(popv.reshape(-1), 4),
    })
    vals = pd.DataFrame(X.reshape(T * N, K), columns=ind_codes)
    df = pd.concat([df, vals], axis=1)

    # framework: pillars of unequal size, weights 1-3
    cuts = np.sort(rng.choice(np.arange(2, K - 1), size=pillars - 1, replace=False))
    groups = np.split(np.arange(K), cuts)
    pillar_nodes = []
    for p, members in enumerate(groups):
        children = []
        for k in members:
            node = {"code": ind_codes[k], "direction": int(direction[k]), "weight": float(rng.integers(1, 4)),
                    "tags": {"kind": str(kinds[k])}}
            if denominator[k]:
                node["denominator"] = denominator[k]
            children.append(node)
        pillar_nodes.append({"code": f"P{p + 1}", "name_en": f"Pillar {p + 1}",
                             "weight": float(rng.integers(1, 4)), "children": children})
    framework = {
        "name_en": "Synthetic digital development index",
        "denominators": [{"code": "pop", "name_en": "population (10k)"}],
        "groups": ["region_group"],
        "index": {"code": "INDEX", "name_en": "Synthetic index", "children": pillar_nodes},
    }
    return df, framework


if __name__ == "__main__":  # a quick look
    d, f = synth(units=200, years=3)
    print(d.head())
    print({p["code"]: len(p["children"]) for p in f["index"]["children"]})
    print("missing share:", float(d.filter(like="i").isna().mean().mean()))
