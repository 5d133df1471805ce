"""Small in-memory scenarios (hand-solvable) for tests, documentation and quick experiments.

``toy_scenario()`` builds a validated :class:`Scenario` from Python lists instead of files; every value it
invents is an illustrative assumption. Grid emission factors default to the shipped MEE/NBS 2022 table.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .scenario import Scenario, build_scenario, example_path

_SITE_DEFAULTS = dict(region="east", hub=True, existing_racks=0, max_new_racks="", module_racks=0,
                      open_cost_yuan=0, capex_yuan_per_rack=0, fixed_om_yuan_per_rack_year=0, pue_design=1.2,
                      pue_best=1.2, retrofit_cost_yuan_per_mwh=0, grid_price_yuan_per_kwh=0.5,
                      green_price_yuan_per_kwh=0.5)


def _ref(file: str, status: str = "illustrative") -> dict:
    return {"file": file, "source": "test fixture (illustrative)", "vintage": "n/a", "status": status}


def shipped_emission_factors() -> pd.DataFrame:
    """The shipped provincial grid factors (MEE & NBS 2021/2022) as strings, citation columns kept."""
    return pd.read_csv(Path(example_path()).parent / "grid_emission_factor.csv", dtype=str, keep_default_na=False)


def toy_scenario(
    sites: list[dict[str, Any]],
    demand: dict[tuple[str, str, int], float],
    *,
    origins: list[dict[str, Any]] | None = None,
    latency: dict[tuple[str, str], float] | float = 1.0,
    netcost: dict[tuple[str, str], float] | float = 0.0,
    green: dict[tuple[str, int], float] | float = 0.0,
    years: list[int] = (2025,),
    classes: list[dict[str, Any]] | None = None,
    rules: dict[str, Any] | None = None,
    economics: dict[str, Any] | None = None,
    technical: dict[str, Any] | None = None,
    bandwidth: list[dict[str, Any]] | None = None,
    ef_year: int = 2022,
    emission_factors: pd.DataFrame | None = None,
    solver: dict[str, Any] | None = None,
    frontier: dict[str, Any] | None = None,
) -> Scenario:
    """Build a scenario in memory. ``demand`` maps (origin, class, year) to racks; sites need site_id and
    province_code at least. Rules default to off (except demand, and green_supply so that green power exists
    only where ``green`` gives it), so tests switch on exactly what they test."""
    years = list(years)
    if origins is None:
        origins = sorted({o for (o, _, _) in demand}, key=str)
        origins = [{"origin_id": o, "region": "east", "province_code": o if str(o).isdigit() and len(str(o)) == 6
                    else "110000"} for o in origins]
    classes = classes or [{"name": "batch"}]
    srows = [{**_SITE_DEFAULTS, "name": s["site_id"], **s} for s in sites]
    odf = pd.DataFrame(origins)
    sdf = pd.DataFrame(srows)
    ddf = pd.DataFrame([{"origin_id": o, "class": c, "year": y, "racks": v} for (o, c, y), v in demand.items()])
    lrows = []
    for o in odf["origin_id"]:
        for s in sdf["site_id"]:
            lat = latency.get((o, s), 1.0) if isinstance(latency, dict) else latency
            nc = netcost.get((o, s), 0.0) if isinstance(netcost, dict) else netcost
            lrows.append({"origin_id": o, "site_id": s, "latency_ms": lat, "network_cost_yuan_per_rack_year": nc})
    grows = [{"site_id": s, "year": y, "green_gwh": (green.get((s, y), 0.0) if isinstance(green, dict) else green)}
             for s in sdf["site_id"] for y in years]
    all_off = {r: {"enabled": False} for r in ("latency", "utilisation_floor", "hub_share", "green_share", "pue_cap",
                                                "green_supply", "bandwidth", "emission_cap", "site_limits")}
    all_off["demand"] = {"enabled": True}
    all_off["green_supply"] = {"enabled": True}  # green power only where ``green`` gives it
    rr = {**all_off}
    for key, val in (rules or {}).items():
        rr[key] = {**rr.get(key, {}), **val}
    raw = {
        "name": "toy", "years": years, "classes": classes,
        "tables": {"origins": _ref("origins.csv"), "demand": _ref("demand.csv"), "sites": _ref("sites.csv"),
                   "latency": _ref("latency.csv"), "emission_factors": _ref("ef.csv", "official"),
                   "green_supply": _ref("green.csv")},
        "economics": {"discount_rate": 0.0, **(economics or {})},
        "technical": {"it_kw_per_rack": 1.0, **(technical or {})},
        "emission_factors": {"year": ef_year},
        "rules": rr,
        "solver": {"mip_rel_gap": 1e-9, **(solver or {})},
        "outputs": {"rule_costs": False},
        "validation": {"plausibility": False},  # toy money is deliberately tiny (hand-solvable)
    }
    if frontier:
        raw["frontier"] = frontier
    tables = {"origins": odf, "demand": ddf, "sites": sdf, "latency": pd.DataFrame(lrows),
              "emission_factors": emission_factors if emission_factors is not None else shipped_emission_factors(),
              "green_supply": pd.DataFrame(grows)}
    if bandwidth is not None:
        raw["tables"]["bandwidth"] = _ref("bandwidth.csv")
        tables["bandwidth"] = pd.DataFrame(bandwidth)
    return build_scenario(raw, tables)
