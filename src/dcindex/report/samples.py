"""Synthetic panels for demonstrating, testing and benchmarking the report.

The units are real (codes, names and groupings of the shipped China reference tables); the indicator
values are *made up*: a latent development level per unit (shifted by its region) growing over the years,
plus indicator-specific noise, a few missing cells and one outlier per indicator so that imputation and
treatment have something to do. Use them to see what a report looks like, never as data.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PILLARS = (
    ("INFRA", "数字基础设施", "Digital infrastructure",
     [("broadband", "宽带接入端口（每百人）", "Broadband ports per 100 people", 1),
      ("stations", "移动基站（每万人）", "Mobile base stations per 10,000 people", 1),
      ("outages", "网络中断时长（小时）", "Network outage hours", -1)]),
    ("INDUS", "数字产业", "Digital industry",
     [("software", "软件业务收入占GDP比重", "Software revenue, share of GDP", 1),
      ("ecommerce", "电子商务销售额（人均）", "E-commerce sales per capita", 1)]),
    ("SKILL", "数字人才与创新", "Skills and innovation",
     [("it_jobs", "信息技术从业人员占比", "Share of IT employment", 1),
      ("patents", "发明专利授权（每万人）", "Invention patents per 10,000 people", 1),
      ("rd", "研发人员全时当量（每万人）", "R&D personnel FTE per 10,000 people", 1)]),
)

REGION_SHIFT = {"East": 1.0, "Central": 0.1, "Northeast": -0.1, "West": -0.5}


def synthetic_inputs(level: str = "province", years: Any = range(2014, 2024), n_units: int | None = None,
                     seed: int = 0) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame, dict[str, Any]]:
    """(long data, framework dict, units table, recipe dict) of a made-up panel over real Chinese units.

    ``level``: "province" (31 units) or "city" (337 prefecture-level units); ``n_units`` keeps the first n.
    """
    from dcindex.china import units as china_units

    u = china_units(level)
    if n_units is not None:
        u = u.head(n_units)
    u = u.reset_index(drop=True)
    years = [int(y) for y in years]
    rng = np.random.default_rng(seed)
    N, T = len(u), len(years)
    shift = u["region4"].astype(str).map(REGION_SHIFT).fillna(0.0).to_numpy()
    latent = shift + rng.normal(0, 0.6, N)
    growth = 0.06 + 0.03 * rng.standard_normal(N) - 0.01 * shift
    tt = np.arange(T)[:, None]
    base = latent[None, :] + growth[None, :] * tt  # (T, N)
    rows = []
    for p_code, _, _, inds in PILLARS:
        p_eff = rng.normal(0, 0.35, N)
        for i_code, _, _, direction in inds:
            a, b = rng.uniform(0.5, 3.0), rng.uniform(0.5, 1.2)
            noise = rng.normal(0, 0.25, (T, N)) + rng.normal(0, 0.2, N)[None, :]
            val = np.exp(a + direction * b * (base + p_eff[None, :]) + noise)
            val[:, rng.integers(N)] *= 6.0  # an outlier unit per indicator
            miss = rng.random((T, N)) < 0.01
            val = np.where(miss, np.nan, val)
            for t, y in enumerate(years):
                for n in range(N):
                    rows.append((u.at[n, "code"], y, i_code, float(np.round(val[t, n], 4))))
    long = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value"])
    fw = {
        "name_zh": "数字发展示例指数（合成数据）",
        "name_en": "Digital development, synthetic demonstration",
        "index": {
            "code": "DDI", "name_zh": "数字发展指数", "name_en": "Digital development index", "weight": 1.0,
            "children": [
                {"code": p, "name_zh": zh, "name_en": en, "weight": 1.0,
                 "children": [{"code": c, "name_zh": czh, "name_en": cen, "weight": 1.0, "direction": d,
                               "unit": "synthetic", "source": "made-up values (dcindex.report.samples)"}
                              for c, czh, cen, d in inds]}
                for p, zh, en, inds in PILLARS],
        },
    }
    keep = ["code", "name_zh", "name_en", "region4", "north_south", "hub"]
    units_df = u[[c for c in keep if c in u.columns]].copy()
    units_df["region4"] = units_df["region4"].astype(str)
    units_df = units_df.rename(columns={"code": "unit"})
    units_df["name"] = units_df["name_zh"]
    recipe = {
        "impute": {"method": "linear", "edges": "nearest"},
        "treat": {"method": "winsorise", "max_points": 5, "skew": 2.0, "kurtosis": 3.5},
        "normalise": {"method": "minmax", "low": 0, "high": 100, "scope": "pooled"},
        "weights": {"method": "meta"},
        "aggregate": {"method": "arithmetic"},
    }
    return long, fw, units_df, recipe


def synthetic_result(level: str = "province", years: Any = range(2014, 2024), n_units: int | None = None,
                     seed: int = 0, recipe: dict[str, Any] | None = None):
    """Build the synthetic panel (see :func:`synthetic_inputs`) and return the BuildResult."""
    from dcindex.build import build

    long, fw, units_df, rc = synthetic_inputs(level, years, n_units, seed)
    return build(long, fw, recipe or rc, units=units_df)
