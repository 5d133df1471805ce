"""How the shipped example scenario (src/dcindex/data/plan/) was made, so every number can be traced.

Official inputs: provincial grid emission factors 2021/2022 (MEE & NBS announcements 2024 No. 12 and No. 33,
copied verbatim with citation columns) and 2020 census population (NBS, 7th census communique No. 3) used
only to split an illustrative national demand total across provinces. Everything else (demand totals and
growth, class split, site capacities, costs, prices, PUE, green availability, bandwidth) is an ILLUSTRATIVE
ASSUMPTION chosen for plausible orders of magnitude; latencies are computed from great-circle distances
between approximate city coordinates with the formula in :func:`latency_ms`.

Regenerate with ``python -m dcindex.plan.example OUT_DIR FACTS_DIR`` (FACTS_DIR holds population_census2020.csv).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

ILL = "illustrative assumption (dcindex example scenario); not an official statistic"

#: approximate coordinates of provincial capitals (lat, lon), public geographic knowledge
CAPITALS = {
    "110000": ("北京", 39.90, 116.41), "120000": ("天津", 39.13, 117.20), "130000": ("河北", 38.04, 114.51),
    "140000": ("山西", 37.87, 112.55), "150000": ("内蒙古", 40.84, 111.75), "210000": ("辽宁", 41.80, 123.43),
    "220000": ("吉林", 43.82, 125.32), "230000": ("黑龙江", 45.80, 126.53), "310000": ("上海", 31.23, 121.47),
    "320000": ("江苏", 32.06, 118.80), "330000": ("浙江", 30.27, 120.15), "340000": ("安徽", 31.82, 117.23),
    "350000": ("福建", 26.07, 119.30), "360000": ("江西", 28.68, 115.86), "370000": ("山东", 36.65, 117.12),
    "410000": ("河南", 34.75, 113.63), "420000": ("湖北", 30.59, 114.31), "430000": ("湖南", 28.23, 112.94),
    "440000": ("广东", 23.13, 113.26), "450000": ("广西", 22.82, 108.37), "460000": ("海南", 20.04, 110.20),
    "500000": ("重庆", 29.56, 106.55), "510000": ("四川", 30.57, 104.07), "520000": ("贵州", 26.65, 106.63),
    "530000": ("云南", 24.88, 102.83), "540000": ("西藏", 29.65, 91.13), "610000": ("陕西", 34.34, 108.94),
    "620000": ("甘肃", 36.06, 103.83), "630000": ("青海", 36.62, 101.78), "640000": ("宁夏", 38.49, 106.23),
    "650000": ("新疆", 43.83, 87.62),
}

#: NBS four economic regions (东部 / 中部 / 西部 / 东北)
NBS_REGION = {**{c: "east" for c in ("110000", "120000", "130000", "310000", "320000", "330000", "350000", "370000",
                                     "440000", "460000")},
              **{c: "central" for c in ("140000", "340000", "360000", "410000", "420000", "430000")},
              **{c: "northeast" for c in ("210000", "220000", "230000")},
              **{c: "west" for c in ("150000", "450000", "500000", "510000", "520000", "530000", "540000", "610000",
                                     "620000", "630000", "640000", "650000")}}

HUB_DEMAND = ("110000", "120000", "130000", "310000", "320000", "330000", "340000", "440000", "500000", "510000")

# site_id, name, name_zh, hub_node, province, region, hub, lat, lon, existing, max_new, module, open_cost,
# capex, fixed_om, pue_design, pue_best, grid price, green price, green GWh in 2025
SITES = [
    ("ZJK", "Zhangjiakou cluster", "张家口集群", "Beijing-Tianjin-Hebei", "130000", "east", True, 40.77, 114.88,
     250000, 200000, 5000, 0, 120000, 6000, 1.30, 1.15, 0.50, 0.45, 6000),
    ("YRD", "Yangtze River Delta eco-green integration demonstration zone cluster", "长三角生态绿色一体化发展示范区集群",
     "Yangtze River Delta", "310000", "east", True, 31.00, 120.90, 75000, 200000, 5000, 0, 130000, 6500, 1.30, 1.15,
     0.70, 0.76, 500),
    ("WUHU", "Wuhu cluster", "芜湖集群", "Yangtze River Delta", "340000", "east", True, 31.33, 118.38,
     50000, 200000, 5000, 0, 120000, 6000, 1.30, 1.15, 0.62, 0.68, 800),
    ("SHAOGUAN", "Shaoguan cluster", "韶关集群", "Guangdong-Hong Kong-Macao Greater Bay Area", "440000", "east", True,
     24.81, 113.60, 80000, 250000, 5000, 0, 120000, 6000, 1.30, 1.15, 0.65, 0.70, 1500),
    ("TIANFU", "Tianfu cluster (Chengdu)", "天府集群", "Chengdu-Chongqing", "510000", "west", True, 30.40, 104.07,
     60000, 250000, 5000, 0, 100000, 5000, 1.25, 1.10, 0.52, 0.50, 3000),
    ("CHONGQING", "Chongqing cluster", "重庆集群", "Chengdu-Chongqing", "500000", "west", True, 29.56, 106.55,
     50000, 250000, 5000, 0, 100000, 5000, 1.25, 1.10, 0.58, 0.60, 1500),
    ("HORINGER", "Horinger cluster (Hohhot)", "和林格尔集群", "Inner Mongolia", "150000", "west", True, 40.38, 111.82,
     150000, 400000, 5000, 0, 90000, 4000, 1.25, 1.10, 0.36, 0.32, 10000),
    ("GUIAN", "Gui'an cluster", "贵安集群", "Guizhou", "520000", "west", True, 26.40, 106.30,
     120000, 300000, 5000, 0, 90000, 4000, 1.25, 1.10, 0.42, 0.40, 4000),
    ("QINGYANG", "Qingyang cluster", "庆阳集群", "Gansu", "620000", "west", True, 35.71, 107.64,
     30000, 300000, 5000, 0, 90000, 4000, 1.25, 1.10, 0.38, 0.34, 5000),
    ("ZHONGWEI", "Zhongwei cluster", "中卫集群", "Ningxia", "640000", "west", True, 37.51, 105.19,
     80000, 300000, 5000, 0, 90000, 4000, 1.25, 1.10, 0.36, 0.32, 8000),
    ("BJ_URBAN", "Beijing urban data centres (existing stock)", "北京城区存量数据中心", "", "110000", "east", False,
     39.90, 116.41, 60000, 0, 0, 0, 150000, 8000, 1.45, 1.30, 0.75, 0.80, 200),
    ("SH_URBAN", "Shanghai urban data centres (existing stock)", "上海城区存量数据中心", "", "310000", "east", False,
     31.23, 121.47, 60000, 20000, 0, 0, 150000, 8000, 1.45, 1.30, 0.75, 0.80, 200),
    ("GZ_URBAN", "Guangzhou-Shenzhen urban data centres (existing stock)", "广深城区存量数据中心", "", "440000", "east",
     False, 23.13, 113.26, 80000, 20000, 0, 0, 150000, 8000, 1.45, 1.30, 0.72, 0.78, 300),
    ("XINING", "Xining (non-hub candidate)", "西宁(非枢纽候选)", "", "630000", "west", False, 36.62, 101.78,
     0, 300000, 5000, 0, 80000, 4000, 1.25, 1.15, 0.30, 0.28, 10000),
    # a greenfield candidate that must first be opened (land, substation and lines, backbone fibre: 30 亿元)
    ("KUNMING", "Kunming (non-hub candidate)", "昆明(非枢纽候选)", "", "530000", "west", False, 24.88, 102.83,
     0, 100000, 5000, 3_000_000_000, 85000, 4500, 1.25, 1.15, 0.33, 0.30, 8000),
]

YEARS = list(range(2025, 2031))
DEMAND_2025 = 1_000_000      # racks, national total of the modelled demand (illustrative)
GROWTH = 0.12                # per year (illustrative)
GREEN_GROWTH = 0.08


def great_circle_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def latency_ms(km: float) -> float:
    """Illustrative one-way latency: 1 ms equipment + fibre route 1.5 x great-circle at 200 km/ms."""
    return 1.0 + 1.5 * km / 200.0


def write_example(out: Path, facts: Path) -> None:
    out = Path(out)
    pop = pd.read_csv(Path(facts) / "population_census2020.csv", dtype={"province_code": str})
    pop = pop.set_index("province_code")
    origins = []
    weights = {}
    for code, (zh, lat, lon) in CAPITALS.items():
        mult = 3.0 if code in ("110000", "310000") else (2.0 if code in HUB_DEMAND else 1.0)
        weights[code] = float(pop.loc[code, "value"]) * mult
        origins.append({"origin_id": code, "name_zh": zh, "province_code": code, "region": NBS_REGION[code],
                        "lat": lat, "lon": lon, "population_2020": int(pop.loc[code, "value"]),
                        "population_source": pop.loc[code, "source_note"], "population_url": pop.loc[code, "source_url"],
                        "status": "official population; coordinates approximate (public geographic knowledge)"})
    pd.DataFrame(origins).to_csv(out / "origins.csv", index=False, lineterminator="\n")
    tot = sum(weights.values())
    rows = []
    for code, w in weights.items():
        split = {"realtime": 0.2, "nearline": 0.3, "batch": 0.5} if code in HUB_DEMAND else \
            {"realtime": 0.0, "nearline": 0.4, "batch": 0.6}
        for y in YEARS:
            total = DEMAND_2025 * (1 + GROWTH) ** (y - YEARS[0]) * w / tot
            for c, sh in split.items():
                rows.append({"origin_id": code, "class": c, "year": y, "racks": round(total * sh), "unit": "racks",
                             "status": ILL})
    pd.DataFrame(rows).to_csv(out / "demand.csv", index=False, lineterminator="\n")
    srows = []
    for t in SITES:
        (sid, name, zh, node, prov, reg, hub, lat, lon, ex, mx, mod, oc, capex, om, pd_, pb, gp, grp, _g) = t
        srows.append({"site_id": sid, "name": name, "name_zh": zh, "hub_node": node, "province_code": prov,
                      "region": reg, "hub": str(hub).lower(), "lat": lat, "lon": lon, "existing_racks": ex,
                      "max_new_racks": mx, "module_racks": mod, "open_cost_yuan": int(oc), "capex_yuan_per_rack": capex,
                      "fixed_om_yuan_per_rack_year": om, "pue_design": pd_, "pue_best": pb,
                      "retrofit_cost_yuan_per_mwh": 700, "grid_price_yuan_per_kwh": gp,
                      "green_price_yuan_per_kwh": grp,
                      "status": "names and locations: public programme documents; all numbers: " + ILL})
    pd.DataFrame(srows).to_csv(out / "sites.csv", index=False, lineterminator="\n")
    lrows = []
    for code, (_zh, lat, lon) in CAPITALS.items():
        for t in SITES:
            km = great_circle_km(lat, lon, t[7], t[8])
            ms = round(latency_ms(km), 2)
            lrows.append({"origin_id": code, "site_id": t[0], "distance_km": round(km, 1), "latency_ms": ms,
                          "network_cost_yuan_per_rack_year": round(300 * ms), "status": ILL +
                          "; latency = 1 + 1.5*km/200 ms, network cost = 300 yuan per ms per rack-year"})
    pd.DataFrame(lrows).to_csv(out / "latency.csv", index=False, lineterminator="\n")
    grows = []
    for t in SITES:
        for y in YEARS:
            grows.append({"site_id": t[0], "year": y, "green_gwh": round(t[-1] * (1 + GREEN_GROWTH) ** (y - YEARS[0]), 1),
                          "status": ILL})
    pd.DataFrame(grows).to_csv(out / "green_supply.csv", index=False, lineterminator="\n")
    brows = []
    for fr, base in (("east", 12000.0), ("central", 6000.0), ("northeast", 3000.0)):
        for y in YEARS:
            brows.append({"from_region": fr, "to_region": "west", "year": y,
                          "limit_gbps": round(base * 1.15 ** (y - YEARS[0])), "status": ILL})
    pd.DataFrame(brows).to_csv(out / "bandwidth.csv", index=False, lineterminator="\n")


if __name__ == "__main__":  # pragma: no cover
    write_example(Path(sys.argv[1]), Path(sys.argv[2]))
