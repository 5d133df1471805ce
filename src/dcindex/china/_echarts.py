"""Decoder for ECharts' compressed map encoding (the ``UTF8Encoding`` GeoJSON of echarts <= 4).

Format (as implemented in echarts 4.9.0 ``src/coord/geo/parseGeoJson.js``, ``decodePolygon``): each ring
is a string; consecutive pairs of UTF-16 code units are one vertex. From each code unit subtract 64, undo
zig-zag encoding (``(v >> 1) ^ -(v & 1)``), add the previous vertex (delta encoding; the first vertex is
relative to the ring's ``encodeOffsets`` pair) and divide by the scale (``UTF8Scale``, default 1024).

Own code: no Python library reads this format. Strings are read as UTF-16 code units (as JavaScript's
``charCodeAt`` does), not as Python code points, so that a surrogate pair is never merged into one vertex.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

DEFAULT_SCALE = 1024


def _code_units(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-16-le", "surrogatepass"), dtype="<u2").astype(np.int64)


def decode_ring(encoded: str, offset: tuple[int, int] | list[int], scale: float = DEFAULT_SCALE) -> list[list[float]]:
    """Decode one encoded ring to ``[[lon, lat], ...]`` (degrees)."""
    units = _code_units(encoded)
    if units.size % 2:
        raise ValueError(f"encoded ring has an odd number of code units ({units.size})")
    v = units - 64
    v = (v >> 1) ^ -(v & 1)  # zig-zag
    xy = v.reshape(-1, 2)
    xy[0, 0] += int(offset[0])
    xy[0, 1] += int(offset[1])
    xy = np.cumsum(xy, axis=0)  # delta
    return (xy / float(scale)).tolist()


def is_encoded(geojson: dict[str, Any]) -> bool:
    return bool(geojson.get("UTF8Encoding"))


def _ring_area(ring: list[list[float]]) -> float:
    xy = np.asarray(ring)
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _clean_polygon(rings: list[list[list[float]]]) -> list[list[list[list[float]]]]:
    """Close each ring and drop rings of fewer than 4 positions (GeoJSON's minimum; they have no area).

    Returns a list of polygons. Normally that is the input polygon. When its exterior ring was degenerate
    (as for 510300 Zigong and 511300 Nanchong in ``china-cities.json``, whose first ring is a 2-vertex
    sliver and whose real outline is a later ring) the largest remaining ring becomes the exterior and the
    others become separate polygons: in this data such rings are small islands, not holes.
    """
    kept = []
    first_ok = True
    for i, ring in enumerate(rings):
        if ring and ring[0] != ring[-1]:
            ring = ring + [ring[0]]
        if len(ring) < 4:
            if i == 0:
                first_ok = False
            continue
        kept.append(ring)
    if not kept:
        return []
    if first_ok:
        return [kept]
    kept.sort(key=_ring_area, reverse=True)
    return [[r] for r in kept]


def decode_geojson(geojson: dict[str, Any], *, clean: bool = True) -> dict[str, Any]:
    """Return a plain GeoJSON FeatureCollection decoded from ECharts' encoding (the input is not modified).

    Features without geometry or coordinates are dropped, as ECharts itself does. With ``clean`` (default)
    rings are closed and degenerate rings (fewer than 4 positions, e.g. the 2-vertex slivers in
    ``china.json``) are dropped, so that the output is valid GeoJSON (RFC 7946 section 3.1.6).
    """
    out = copy.deepcopy(geojson)
    if not is_encoded(out):
        return out
    scale = out.pop("UTF8Scale", None) or DEFAULT_SCALE
    out.pop("UTF8Encoding", None)
    features = []
    for feat in out.get("features", []):
        geom = feat.get("geometry")
        if not geom or not geom.get("coordinates"):
            continue
        offsets = geom.pop("encodeOffsets")
        if geom["type"] == "Polygon":
            geom["coordinates"] = [decode_ring(r, o, scale) for r, o in zip(geom["coordinates"], offsets, strict=True)]
        elif geom["type"] == "MultiPolygon":
            geom["coordinates"] = [
                [decode_ring(r, o, scale) for r, o in zip(poly, poffs, strict=True)]
                for poly, poffs in zip(geom["coordinates"], offsets, strict=True)
            ]
        else:
            raise ValueError(f"unsupported encoded geometry type {geom['type']!r}")
        if clean:
            polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
            polys = [q for p in polys for q in _clean_polygon(p)]
            if not polys:
                continue
            if len(polys) > 1 or geom["type"] == "MultiPolygon":
                geom["type"], geom["coordinates"] = "MultiPolygon", polys
            else:
                geom["coordinates"] = polys[0]
        features.append(feat)
    out["features"] = features
    return out
