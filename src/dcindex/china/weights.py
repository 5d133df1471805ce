"""Spatial weights for Chinese provinces and cities, built with libpysal on the shipped boundaries.

- ``queen``: queen contiguity (shared border or corner vertex) with ``libpysal.weights.Queen``. Units with no
  neighbour among the given units (Hainan 460000 at province level; islands such as 舟山 or the Hainan
  units at city level, and units cut off when only a subset is given) are joined to their nearest unit by
  polygon-to-polygon distance (equal-area projection), symmetrically, so no unit is dropped. The patches are
  listed in ``w.dcindex_info["islands_patched"]`` and in a warning.
- ``knn``: k nearest neighbours by great-circle distance between area centroids (``libpysal.weights.KNN``,
  ``distance_metric="arc"``, Earth radius 6371.0088 km).
- ``distance``: inverse distance ``d**alpha`` (``binary=False``, default alpha -1) or a binary distance band
  (``binary=True``) within ``threshold`` km, great-circle between area centroids
  (``libpysal.weights.DistanceBand``). The default threshold is the smallest distance that leaves no unit
  without a neighbour.

Area centroids are computed in an Albers equal-area projection for China (see :mod:`.boundaries`).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import shapely

from dcindex.china.boundaries import boundaries, centroids, project
from dcindex.china.match import code_key, match_units
from dcindex.errors import InputError

EARTH_RADIUS_KM = 6371.0088
KINDS = ("queen", "knn", "distance")

#: Units the shipped polygons lack but whose position is well known: 三沙 (seat on 永兴岛 / Woody Island,
#: 16°50'N 112°20'E). Used as a point: it has no contiguity neighbours and is patched to the nearest unit.
FALLBACK_POINTS = {"460300": (112.3333, 16.8333)}


def _detect_level(codes: list[str]) -> str:
    keys = [code_key(c, "city") for c in codes]
    if all(k is not None and k.endswith("0000") for k in keys) or all(len(c.strip()) == 2 for c in codes):
        return "province"
    return "city"


def _geometries(ids: list[str], current: list[str], level: str, geometries, points) -> list:
    table = boundaries(level)
    geo = dict(zip(table["code"], table["geometry"]))
    if geometries is not None:
        for k, g in dict(geometries).items():
            geo[str(k)] = g if isinstance(g, shapely.Geometry) else shapely.geometry.shape(g)
    pts = dict(FALLBACK_POINTS)
    if points is not None:
        pts.update({str(k): tuple(v) for k, v in dict(points).items()})
    out, missing = [], []
    for given, cur in zip(ids, current):
        g = geo.get(given, geo.get(cur))
        if g is None and (given in pts or cur in pts):
            lon, lat = pts.get(given, pts.get(cur))
            g = shapely.Point(lon, lat)
        if g is None:
            missing.append(f"{given} ({cur})" if given != cur else given)
        out.append(g)
    if missing:
        raise InputError(
            f"No boundary is shipped for {len(missing)} {level} unit(s): {', '.join(missing)} (units set up after "
            "the echarts 4.9.0 map data, see docs/china.md).",
            hint="Drop them, or pass points={code: (lon, lat)} or geometries={code: polygon} for them.")
    return out


def _nearest_patch(geoms: list, ids: list[str], neighbors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Join every unit without neighbours to its nearest unit (polygon distance, projected); symmetric."""
    proj = project(geoms)
    tree = shapely.STRtree(proj)
    patched: dict[str, list[str]] = {}
    isolated = [i for i, uid in enumerate(ids) if not neighbors[uid]]  # decided before any patch
    for i in isolated:
        uid = ids[i]
        j = int(tree.query_nearest(proj[i], exclusive=True, all_matches=False)[0])
        nid = ids[j]
        if nid not in neighbors[uid]:
            neighbors[uid] = list(neighbors[uid]) + [nid]
        if uid not in neighbors[nid]:
            neighbors[nid] = list(neighbors[nid]) + [uid]
        patched[uid] = [nid]
    return patched


def _link_components(geoms: list, ids: list[str], neighbors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Link each connected component other than the largest to the nearest unit outside it (symmetric)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    proj = project(geoms)
    pos = {u: i for i, u in enumerate(ids)}
    links: list[tuple[str, str]] = []
    while True:
        r = [pos[u] for u in ids for _ in neighbors[u]]
        c = [pos[v] for u in ids for v in neighbors[u]]
        g = csr_matrix((np.ones(len(r)), (r, c)), shape=(len(ids), len(ids)))
        n, lab = connected_components(g, directed=False)
        if n <= 1:
            return links
        sizes = np.bincount(lab)
        comp = int(np.argsort(-sizes, kind="stable")[-1])  # smallest component first
        inside = np.flatnonzero(lab == comp)
        outside = np.flatnonzero(lab != comp)
        tree = shapely.STRtree(proj[outside])
        best = None
        for i in inside:
            j, d = tree.query_nearest(proj[i], return_distance=True, all_matches=False)
            cand = (float(d[0]), ids[i], ids[int(outside[int(j[0])])])
            best = cand if best is None or cand < best else best
        _, a, b = best
        neighbors[a] = list(neighbors[a]) + [b]
        neighbors[b] = list(neighbors[b]) + [a]
        links.append((a, b))


def spatial_weights(unit_codes: Iterable, kind: str = "queen", level: str | None = None, k: int = 4,
                    threshold: float | None = None, *, alpha: float = -1.0, binary: bool = False,
                    islands: str = "nearest", connect: bool = True, transform: str | None = None,
                    geometries: Mapping | None = None, points: Mapping | None = None):
    """A ``libpysal.weights.W`` whose ids are ``unit_codes`` (as str, in the given order).

    ``kind``: "queen", "knn" (``k`` neighbours) or "distance" (``threshold`` km; inverse distance with
    ``alpha`` unless ``binary=True``). ``level``: "province" or "city"; by default provinces when every code
    is a province code. Codes may be old codes (4-digit PKU codes, 毕节地区 522400): they are matched to
    current units, ids stay as given. ``islands="nearest"`` (default) joins units without contiguity
    neighbours to the nearest unit; ``"keep"`` leaves them as libpysal islands. With ``connect`` (default)
    queen weights that still fall apart (e.g. Hainan's units when county-level units are included) get one
    link from each smaller component to its nearest outside unit. ``transform`` (e.g. "r") is
    applied to the result. ``geometries`` / ``points`` supply or replace shapes for codes.
    Details of the construction are in ``w.dcindex_info``.
    """
    from libpysal.weights import KNN, DistanceBand, Queen, W

    if kind not in KINDS:
        raise InputError(f"Unknown weights kind {kind!r}.", hint=f"Use one of {', '.join(KINDS)}.")
    if islands not in ("nearest", "keep"):
        raise InputError(f"Unknown islands option {islands!r}.", hint="Use 'nearest' or 'keep'.")
    ids = [str(int(c)) if isinstance(c, (int, np.integer)) else str(c).strip() for c in unit_codes]
    if len(ids) < 2:
        raise InputError(f"Spatial weights need at least 2 units, got {len(ids)}.", hint="Pass more unit codes.")
    dup = sorted({c for c in ids if ids.count(c) > 1})
    if dup:
        raise InputError(f"Unit codes are repeated: {', '.join(dup)}.",
                         hint="Pass each unit once (one cross-section), e.g. df['code'].unique().")
    level = level or _detect_level(ids)
    current = match_units(ids, level, where="spatial_weights unit_codes").tolist()
    cur_dup = sorted({c for c in current if current.count(c) > 1})
    if cur_dup:
        raise InputError(f"Several given codes denote the same current unit(s): {', '.join(cur_dup)}.",
                         hint="Pass each unit once, using either its old or its current code.")
    geoms = _geometries(ids, current, level, geometries, points)
    info: dict = {"kind": kind, "level": level, "islands_patched": {}}

    if kind == "queen":
        poly = [i for i, g in enumerate(geoms) if g.geom_type in ("Polygon", "MultiPolygon")]
        neighbors = {i: [] for i in ids}  # point-only units (三沙) have no contiguity neighbours
        if len(poly) >= 2:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
                q = Queen.from_iterable([geoms[i] for i in poly], ids=[ids[i] for i in poly])
            neighbors.update({ids[i]: [str(n) for n in q.neighbors[ids[i]]] for i in poly})
        if islands == "nearest":
            patched = _nearest_patch(geoms, ids, neighbors)
            info["islands_patched"] = patched
            info["island_rule"] = "nearest unit by polygon-to-polygon distance (Albers equal-area), symmetric"
            if patched:
                desc = ", ".join(f"{u}->{'/'.join(v)}" for u, v in patched.items())
                warnings.warn(f"Queen weights: {len(patched)} unit(s) without a contiguous neighbour were joined "
                              f"to their nearest unit: {desc}.", UserWarning, stacklevel=2)
            if connect:
                links = _link_components(geoms, ids, neighbors)
                info["components_linked"] = links
                if links:
                    warnings.warn(f"Queen weights: {len(links)} link(s) added to join disconnected groups: "
                                  f"{', '.join(a + '-' + b for a, b in links)}.", UserWarning, stacklevel=2)
        w = W(neighbors, id_order=ids, silence_warnings=True)
    else:
        xy = centroids(geoms)
        info.update(metric="great-circle (arc) distance between area centroids, km", radius_km=EARTH_RADIUS_KM)
        if kind == "knn":
            if not 1 <= k < len(ids):
                raise InputError(f"k={k} is out of range for {len(ids)} units.", hint=f"Use 1 <= k < {len(ids)}.")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # libpysal's "not fully connected" notice
                w0 = KNN.from_array(xy, k=k, ids=ids, distance_metric="arc", radius=EARTH_RADIUS_KM)
            w = W({str(i): [str(n) for n in w0.neighbors[i]] for i in w0.id_order}, id_order=ids, silence_warnings=True)
            info["k"] = k
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nn = KNN.from_array(xy, k=1, ids=ids, distance_metric="arc", radius=EARTH_RADIUS_KM)
            min_thr = _max_nn_distance(xy, nn, ids)
            thr = float(min_thr * (1 + 1e-9)) if threshold is None else float(threshold)
            if thr <= 0:
                raise InputError(f"threshold={threshold} must be positive (km).", hint="Pass a distance in km.")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # libpysal's divide-by-zero on the diagonal, islands warning
                w0 = DistanceBand(xy, threshold=thr, binary=binary, alpha=alpha, ids=ids,
                                  distance_metric="arc", radius=EARTH_RADIUS_KM, silence_warnings=True)
            w = W({i: [str(n) for n in w0.neighbors[i]] for i in ids},
                  {i: list(w0.weights[i]) for i in ids}, id_order=ids, silence_warnings=True)
            info.update(threshold_km=thr, min_threshold_km=float(min_thr), binary=binary,
                        alpha=None if binary else alpha)
            if w.islands:
                warnings.warn(f"Distance band of {thr:.1f} km leaves {len(w.islands)} unit(s) without neighbours: "
                              f"{', '.join(w.islands)} (the smallest threshold without islands is "
                              f"{min_thr:.1f} km).", UserWarning, stacklevel=2)
        info["centroids"] = pd.DataFrame(xy, index=ids, columns=["lon", "lat"])
    if transform is not None:
        w.transform = transform
    info["n_components"] = int(w.n_components)
    w.dcindex_info = info
    return w


def _max_nn_distance(xy: np.ndarray, nn, ids: list[str]) -> float:
    """Largest great-circle distance (km) from a unit to its nearest neighbour (libpysal's arcdist)."""
    from libpysal.cg import arcdist

    pos = {u: i for i, u in enumerate(ids)}
    return max(arcdist(tuple(xy[pos[u]]), tuple(xy[pos[str(nn.neighbors[u][0])]]), radius=EARTH_RADIUS_KM)
               for u in ids)
