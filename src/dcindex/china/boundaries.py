"""Shipped boundaries of Chinese provinces and prefecture-level cities (generalised, for analysis and maps).

``provinces.geojson`` (34 features: 31 mainland units, Taiwan, Hong Kong, Macao) and ``cities.geojson``
(prefecture-level units, province-administered county-level units, Taiwan, Hong Kong, Macao) were decoded from
the npm package echarts@4.9.0 (Apache-2.0) by ``scripts/decode_echarts_china.py`` and simplified with a
coverage-preserving simplifier (shared borders stay shared). Coordinates are longitude/latitude degrees on
the echarts source's datum; the city polygons are of about 2015 vintage mapped to current codes. See
``data/china/SOURCE.md`` and ``docs/china.md``. These are generalised outlines, not an approved (审图号) map.
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from dcindex.china.units import check_level, data_path

FILES = {"province": "provinces.geojson", "city": "cities.geojson"}

#: Albers equal-area conic commonly used for maps of China (standard parallels 25N and 47N, central meridian
#: 105E, WGS84 ellipsoid); used for areas and centroids.
CHINA_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"


@lru_cache(maxsize=None)
def _load(level: str) -> pd.DataFrame:
    with data_path(FILES[level]).open("r", encoding="utf-8") as fh:
        gj = json.load(fh)
    rows = []
    for f in gj["features"]:
        p = dict(f["properties"])
        p["geometry"] = shape(f["geometry"])
        rows.append(p)
    df = pd.DataFrame(rows)
    df["code"] = df["code"].astype(str)
    return df


def boundaries(level: str = "province", *, mainland_only: bool = True) -> pd.DataFrame:
    """Polygons as a DataFrame with columns ``code``, ``name``, ``mainland``, ``geometry`` (shapely).

    ``mainland_only=False`` adds Taiwan, Hong Kong and Macao (for maps of the whole country).
    Convert with ``geopandas.GeoDataFrame(df, geometry="geometry", crs="EPSG:4326")`` if needed.
    """
    check_level(level)
    df = _load(level)
    if mainland_only:
        df = df[df["mainland"].astype(bool)]
    return df.reset_index(drop=True).copy()


@lru_cache(maxsize=1)
def _transformers():
    from pyproj import Transformer

    fwd = Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True)
    inv = Transformer.from_crs(CHINA_ALBERS, "EPSG:4326", always_xy=True)
    return fwd, inv


def project(geoms) -> np.ndarray:
    """Geometries (lon/lat) projected to the China Albers equal-area CRS (metres)."""
    fwd, _ = _transformers()
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))


def centroids(geoms) -> np.ndarray:
    """Area centroids (lon, lat) computed in the equal-area projection, shape (n, 2).

    Centroids of lon/lat coordinates would be pulled north-south by the shrinking of meridians; the
    projected centroid is the true area centroid on the map plane.
    """
    _, inv = _transformers()
    c = shapely.get_coordinates(shapely.centroid(project(geoms)))
    lon, lat = inv.transform(c[:, 0], c[:, 1])
    return np.column_stack([lon, lat])


def areas_km2(geoms) -> np.ndarray:
    """Areas in km² (equal-area projection)."""
    return shapely.area(project(geoms)) / 1e6
