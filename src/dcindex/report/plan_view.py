"""Compute-plan views for the report (``--plan PLAN_DIR``): flow map, utilisation bars, cost-carbon frontier.

Reads a folder written by ``dcindex plan ... --out DIR`` (:meth:`dcindex.plan.PlanResult.to_dir`). The folder
does not record where the sites and origins are, so coordinates come from, in order:

1. ``sites.csv`` / ``origins.csv`` with ``lat``/``lon`` columns in the plan folder (written by ``to_dir`` when the
   scenario's tables give coordinates) or its ``inputs/``, if present;
2. the shipped example tables (``dcindex/data/plan``) when the plan's recorded input sha256 matches them;
3. otherwise the area centroid of the site's / origin's province (marked as approximate in the page).
"""
from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from dcindex.report.data import _r, _scalars, frame_payload


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _coords_table(plan_dir: Path, name: str, recorded_sha: str | None) -> tuple[pd.DataFrame | None, str]:
    for p in (plan_dir / f"{name}.csv", plan_dir / "inputs" / f"{name}.csv"):
        if p.is_file():
            df = pd.read_csv(p, dtype=str)
            if {"lat", "lon"} <= set(df.columns):
                return df, "plan folder"
    shipped = Path(str(resources.files("dcindex") / "data" / "plan" / f"{name}.csv"))
    if recorded_sha and shipped.is_file() and _sha(shipped) == recorded_sha:
        return pd.read_csv(shipped, dtype=str), "shipped example (sha256 matches)"
    return None, "province centroid"


def _xy(table: pd.DataFrame | None, key: str, ident: str) -> list[float] | None:
    """[lon, lat] of one site/origin from a coordinates table, or None when absent or blank."""
    if table is None or ident not in set(table[key]):
        return None
    row = table.set_index(key).loc[ident]
    lon, lat = pd.to_numeric(pd.Series([row.get("lon"), row.get("lat")]), errors="coerce")
    if pd.isna(lon) or pd.isna(lat):
        return None
    return [float(lon), float(lat)]


def _province_centroids() -> dict[str, tuple[float, float]]:
    from dcindex.china.boundaries import boundaries, centroids

    b = boundaries("province", mainland_only=False)
    c = centroids(list(b["geometry"]))
    return {str(code): (float(x), float(y)) for code, (x, y) in zip(b["code"], c)}


def plan_payload(plan_dir: Path) -> dict[str, Any]:
    """Payload of a plan result folder (or ``{"error": ...}`` when it cannot be read)."""
    try:
        return _plan_payload(plan_dir)
    except Exception as exc:  # shown in the plan section instead of stopping the report
        return {"error": f"{type(exc).__name__}: {exc}"}


def _plan_payload(plan_dir: Path) -> dict[str, Any]:
    meta = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    shas = meta.get("input_sha256", {})

    def read(name: str, **kw) -> pd.DataFrame | None:
        p = plan_dir / f"{name}.csv"
        return pd.read_csv(p, **kw) if p.is_file() else None

    flows = read("flows", dtype={"origin_id": str, "site_id": str})
    util = read("utilisation", dtype={"site_id": str, "province_code": str})
    frontier = read("frontier")
    out: dict[str, Any] = {
        "name": meta.get("name"), "name_zh": meta.get("scenario_name_zh"), "status": meta.get("status"),
        "objective_pv_yuan": _r(meta.get("objective_pv_yuan"), 6), "version": meta.get("dcindex_version"),
        "illustrative": meta.get("illustrative_tables", []),
        "summary_text": (plan_dir / "summary.txt").read_text(encoding="utf-8") if (plan_dir / "summary.txt").is_file()
        else None,
        "totals": _scalars({k: meta.get(k) for k in ("mip", "mip_gap", "solver")}),
    }
    cent = None
    sites, s_src = _coords_table(plan_dir, "sites", shas.get("sites"))
    origins, o_src = _coords_table(plan_dir, "origins", shas.get("origins"))
    site_xy: dict[str, list[float]] = {}
    if util is not None:
        info = util.drop_duplicates("site_id").set_index("site_id")
        for sid, r in info.iterrows():
            xy = _xy(sites, "site_id", sid)
            if xy is None:  # no coordinates for this site: its province's centroid
                cent = cent or _province_centroids()
                xy = list(cent.get(str(r.get("province_code")), (None, None)))
            site_xy[sid] = xy
        out["sites"] = [{"id": sid, "name": str(r.get("name", sid)),
                         "name_zh": (str(sites.set_index("site_id").loc[sid].get("name_zh", "")) if sites is not None
                                     and sid in set(sites["site_id"]) and "name_zh" in sites.columns else None),
                         "hub": str(r.get("hub")).lower() == "true", "region": r.get("region"),
                         "xy": site_xy[sid]} for sid, r in info.iterrows()]
        out["utilisation"] = frame_payload(util[["site_id", "year", "installed_racks", "used_racks", "idle_racks",
                                                 "utilisation"]], 5, ("site_id",))
    out["coords_source"] = {"sites": s_src, "origins": o_src}
    if flows is not None and len(flows):
        agg = flows.groupby(["origin_id", "site_id", "year"], as_index=False)["racks"].sum()
        agg = agg[agg["racks"] > 0]
        oxy: dict[str, list[float]] = {}
        for oid in sorted(agg["origin_id"].unique()):
            xy = _xy(origins, "origin_id", oid)
            if xy is not None:
                oxy[oid] = xy
            else:
                cent = cent or _province_centroids()
                c = cent.get(str(oid))
                oxy[oid] = list(c) if c else [None, None]
        out["origins"] = {oid: {"xy": xy, "name_zh": (str(origins.set_index("origin_id").loc[oid].get("name_zh"))
                                                      if origins is not None and oid in set(origins["origin_id"])
                                                      and "name_zh" in origins.columns else None)}
                          for oid, xy in oxy.items()}
        out["flows"] = frame_payload(agg, 5, ("origin_id", "site_id"))
    if frontier is not None and len(frontier):
        # the frontier plots the cost excluding carbon payments (what abatement costs the system) against emissions
        keep = [c for c in ("point", "parameter", "value", "accounting", "status", "total_pv_yuan",
                            "cost_excl_carbon_pv_yuan", "carbon_cost_pv_yuan", "emissions_location_t",
                            "emissions_net_t", "efficient") if c in frontier.columns]
        out["frontier"] = frame_payload(frontier[keep], 5, ("parameter", "accounting", "status"))
    return out
