"""Map geometry for the report: the China layer's shipped boundaries, compacted for embedding.

The polygons come from :func:`dcindex.china.boundaries.boundaries` (decoded from echarts@4.9.0's
``map/json/china.json`` and ``china-cities.json``, Apache-2.0, and simplified as a coverage by the China
layer). Here they are (1) matched to the result's unit codes, (2) dissolved by group to draw the group
outlines (shapely's coverage union), and (3) quantised to 1/100 degree and delta-coded so that a city map
stays well under a megabyte inside the HTML file. The report's JavaScript decodes them back to GeoJSON
for ECharts (``decodeRings`` in ``report.js``).

Own code for the delta coding only (a dozen lines); no library writes this compact form.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

QUANT = 100  # coordinates are stored as integers of 1/QUANT degree

_CODE6 = re.compile(r"^\d{6}$")


def detect_level(codes: list[str]) -> str | None:
    """'province' when every code is a 6-digit province code (ending 0000), 'city' for 6-digit codes of which
    most are not, None for codes that are not Chinese administrative codes."""
    if not codes or not all(_CODE6.match(str(c)) for c in codes):
        return None
    if all(str(c).endswith("0000") for c in codes):
        return "province"
    return "city"


def _load(level: str, mainland_only: bool = False):
    try:
        from dcindex.china.boundaries import boundaries
    except ImportError:  # pragma: no cover - shapely is a dependency; boundaries may not be installed yet
        return None
    try:
        return boundaries(level, mainland_only=mainland_only)
    except (FileNotFoundError, OSError, KeyError):
        return None


def _ring_codes(coords: np.ndarray) -> list[int]:
    """Delta-code one ring: first vertex absolute, then differences, in 1/QUANT degree; drops repeated
    vertices created by quantisation."""
    q = np.round(np.asarray(coords, dtype=float)[:, :2] * QUANT).astype(np.int64)
    keep = np.ones(len(q), dtype=bool)
    keep[1:] = np.any(q[1:] != q[:-1], axis=1)
    q = q[keep]
    if len(q) < 4:
        return []
    d = np.vstack([q[:1], np.diff(q, axis=0)])
    return d.reshape(-1).tolist()


def encode_polygons(geom) -> list[list[int]]:
    """A (Multi)Polygon as a list of delta-coded rings; the JavaScript side treats the first ring of each
    polygon as its outer ring (rings are grouped: [n_rings, ring, ring, ...] per polygon)."""
    out: list[Any] = []
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    for p in polys:
        if p.is_empty:
            continue
        rings = [_ring_codes(np.asarray(p.exterior.coords))]
        rings += [_ring_codes(np.asarray(r.coords)) for r in p.interiors]
        rings = [r for r in rings if r]
        if rings:
            out.append(rings)
    return out


def encode_lines(geom) -> list[list[int]]:
    """(Multi)LineString -> delta-coded polylines (same coding as rings, at least two vertices)."""
    parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out = []
    for ln in parts:
        if ln.is_empty or ln.geom_type not in ("LineString", "LinearRing"):
            continue
        q = np.round(np.asarray(ln.coords)[:, :2] * QUANT).astype(np.int64)
        keep = np.ones(len(q), dtype=bool)
        keep[1:] = np.any(q[1:] != q[:-1], axis=1)
        q = q[keep]
        if len(q) >= 2:
            out.append(np.vstack([q[:1], np.diff(q, axis=0)]).reshape(-1).tolist())
    return out


def _outline(geoms, min_part: float = 0.01, min_hole: float = 0.5) -> Any:
    """Boundary of the union of ``geoms`` for drawing a group outline.

    A clean coverage (shared borders identical) is merged with GEOS's coverage union; otherwise (the city
    layer has tiny gaps and overlaps between neighbours) with a union snapped to a 0.01 degree grid. Parts
    smaller than ``min_part`` square degrees (about 100 km²; small islands, slivers) and holes smaller than
    ``min_hole`` (gaps between neighbours) are dropped: they are noise in an outline, not group borders.
    """
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    try:
        merged = shapely.coverage_union_all(geoms)
    except Exception:  # not a clean coverage
        merged = shapely.union_all(geoms, grid_size=0.01)
    parts = [g for g in getattr(merged, "geoms", [merged]) if g.geom_type == "Polygon"]
    keep = [Polygon(p.exterior, [h for h in p.interiors if Polygon(h).area >= min_hole])
            for p in parts if p.area >= min_part] or parts
    return shapely.boundary(MultiPolygon(keep))


#: English names of the areas outside the mainland tables (the map draws them as context)
CONTEXT_EN = {"710000": "Taiwan", "810000": "Hong Kong", "820000": "Macao"}


def _english_names(level: str) -> dict[str, str]:
    """{code: English name} of the China layer's units (for tooltips of areas without data)."""
    out = dict(CONTEXT_EN)
    try:
        from dcindex.china import units as china_units

        for lev in ("province", level):
            t = china_units(lev)
            out.update({str(c): str(e) for c, e in zip(t["code"], t["name_en"]) if isinstance(e, str) and e})
    except Exception:  # the China layer is optional here
        pass
    return out


def map_payload(codes: list[str], groups: dict[str, list[str]]) -> dict[str, Any] | None:
    """Geometry for the result's units, or None when the units are not Chinese codes or no geometry exists.

    Returns ``{"level", "features": [{"code", "name", "mainland", "has_data", "p": polygons}],
    "outlines": {group column: [{"group", "lines"}]}, "province_lines": [...] (city maps), "coverage"}``.
    """
    level = detect_level(codes)
    if level is None:
        return None
    table = _load(level)
    if table is None or not len(table):
        return None
    have = set(codes)
    table = table.sort_values("code", kind="stable").reset_index(drop=True)
    if level == "city":
        # only the mainland cities plus the non-mainland provinces (Taiwan, Hong Kong, Macao) as context
        table = table[table["mainland"].astype(bool) | table["code"].isin(have)]
        prov = _load("province")
        extra = prov[~prov["mainland"].astype(bool)] if prov is not None else None
    else:
        extra = None
    en = _english_names(level)
    feats = []
    for _, r in table.iterrows():
        c = str(r["code"])
        feats.append({"code": c, "name": str(r["name"]), "name_en": en.get(c, c), "mainland": bool(r["mainland"]),
                      "has_data": c in have, "p": encode_polygons(r["geometry"])})
    if extra is not None:
        for _, r in extra.sort_values("code").iterrows():
            c = str(r["code"])
            feats.append({"code": c, "name": str(r["name"]), "name_en": en.get(c, c), "mainland": False,
                          "has_data": False, "p": encode_polygons(r["geometry"])})
    matched = sum(f["has_data"] for f in feats)
    geo_by_code = dict(zip(table["code"].astype(str), table["geometry"]))
    outlines: dict[str, list[dict[str, Any]]] = {}
    for col, values in groups.items():
        lines = []
        for g in sorted({v for v in values if v not in (None, "")}):
            gs = [geo_by_code[c] for c, v in zip(codes, values) if v == g and c in geo_by_code]
            if gs:
                lines.append({"group": g, "lines": encode_lines(_outline(gs))})
        outlines[col] = lines
    out: dict[str, Any] = {"level": level, "quant": QUANT, "features": feats, "outlines": outlines,
                           "coverage": [matched, len(codes)]}
    if level == "city":
        import shapely

        prov = _load("province", mainland_only=True)
        if prov is not None:
            # province borders over the city map: every border once (union of the province boundaries)
            borders = shapely.union_all([shapely.boundary(g) for g in prov["geometry"]])
            out["province_lines"] = encode_lines(shapely.line_merge(borders))
    return out


def shapes_for_png(codes: list[str]):
    """(level, {code: geometry}, province border lines) for the matplotlib maps, or None; the border lines
    (every border once) are drawn over city maps, None for province maps."""
    level = detect_level(codes)
    if level is None:
        return None
    table = _load(level)
    if table is None:
        return None
    geo = dict(zip(table["code"].astype(str), table["geometry"]))
    borders = None
    if level == "city":
        import shapely

        prov = _load("province", mainland_only=True)
        if prov is not None:
            merged = shapely.line_merge(shapely.union_all([shapely.boundary(g) for g in prov["geometry"]]))
            borders = [ln for ln in getattr(merged, "geoms", [merged]) if not ln.is_empty]
    return level, geo, borders
