"""Spatial weights alignment and spatial autocorrelation per year (global Moran's I, LISA clusters).

Weights come as a libpysal ``W`` (ids = unit codes), a libpysal ``Graph`` or an edge-list DataFrame
(``focal, neighbor[, weight]``). They are always rebuilt as a new ``W`` whose ``id_order`` is the data's
unit order, matched by unit id: a weights object in another order cannot shuffle units, and the
caller's object is never modified (esda's ``Moran`` sets ``w.transform`` in place, so it only ever sees
our copy). Islands (units without neighbours) get their nearest neighbour(s) by centroid distance (links
added in both directions); without centroids an island is an error, never silently dropped.

Moran's I and its analytic inference come from PySAL ``esda.Moran``. Its permutation inference draws
from NumPy's legacy global RandomState in a Python loop, so the permutation null is computed here,
vectorised, from a seeded ``numpy.random.Generator`` (same statistic and the same folded pseudo p-value
(larger + 1)/(P + 1) as esda; tested equal to esda given the same permutations). LISA (Anselin 1995)
statistics and quadrants come from ``esda.Moran_Local(permutations=0)``; its conditional randomisation
needs a numba JIT compile (~15 s per process here), so the conditional-permutation null is a vectorised
NumPy implementation of the same scheme (one shared draw of neighbour sets, shifted to skip unit i),
tested against the exact conditional moments (Sokal et al. 1998) reported by esda.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from dcindex.errors import InputError, MethodError

__all__ = ["align_weights", "weights_from_edges", "weights_from_polygons", "moran_by_year", "lisa_by_year",
           "QUADRANTS"]

QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}


def _edge_cols(edges: pd.DataFrame) -> tuple[Any, Any, Any]:
    """(focal, neighbor, weight or None) column names of an edge list: by name, else the first 2-3 columns."""
    cols = list(edges.columns)
    fcol = "focal" if "focal" in cols else cols[0]
    ncol = "neighbor" if "neighbor" in cols else ("neighbour" if "neighbour" in cols else cols[1])
    wcol = "weight" if "weight" in cols else (cols[2] if len(cols) > 2 and cols[2] not in (fcol, ncol) else None)
    return fcol, ncol, wcol


def weights_from_edges(edges: pd.DataFrame, ids: list[str] | None = None):
    """libpysal ``W`` from an edge list with columns focal, neighbor[, weight] (first 2-3 columns used).

    Edges are taken as given (directed); pass both directions for symmetric weights.
    """
    from libpysal.weights import W

    if edges.shape[1] < 2:
        raise InputError("an edge list needs at least two columns (focal, neighbor).", where="weights",
                         hint="Columns: focal, neighbor and optionally weight.")
    fcol, ncol, wcol = _edge_cols(edges)
    f = edges[fcol].astype(str).str.strip().to_numpy()
    nb = edges[ncol].astype(str).str.strip().to_numpy()
    wt = np.ones(len(edges)) if wcol is None else pd.to_numeric(edges[wcol], errors="coerce").to_numpy(float)
    if np.any(~np.isfinite(wt)):
        row = int(np.flatnonzero(~np.isfinite(wt))[0])
        raise InputError(f"row {row}: weight is not a number.", where=f"weights edge list, column {wcol}",
                         hint="Give numeric weights or drop the weight column for binary weights.")
    if np.any(f == nb):
        row = int(np.flatnonzero(f == nb)[0])
        raise InputError(f"row {row}: unit {f[row]} is its own neighbour.", where="weights edge list",
                         hint="Remove self-links.")
    allids = list(dict.fromkeys(list(ids or []) + list(f) + list(nb)))
    neighbors: dict[str, list[str]] = {i: [] for i in allids}
    weights: dict[str, list[float]] = {i: [] for i in allids}
    for a, b, v in zip(f, nb, wt):
        neighbors[a].append(b)
        weights[a].append(float(v))
    return W(neighbors, weights, id_order=allids, silence_warnings=True)


_FLOAT_INT = re.compile(r"^([+-]?\d+)\.0*$")


def _id_normaliser(units: list[str]):
    """A function mapping weight ids to data unit codes: when every unit code is an integer written as text
    (e.g. '110000'), ids written as floats ('110000.0', as spreadsheets and pandas often save them) are read
    as that integer; otherwise ids are only stripped of surrounding spaces."""
    if units and all(u.isdigit() for u in units):
        def norm(i: Any) -> str:
            t = str(i).strip()
            m = _FLOAT_INT.match(t)
            return m.group(1) if m else t
        return norm
    return lambda i: str(i).strip()


def _check_edge_ids(edges: pd.DataFrame, units: list[str], norm) -> list[str]:
    """An explicit edge list must be for these units: an InputError when fewer than half of the data's units
    appear in it (wrong file or id format), naming the file and showing unmatched ids."""
    where = str(edges.attrs.get("source", "spatial weights edge list"))
    if edges.shape[1] < 2:
        return []
    fcol, ncol, _ = _edge_cols(edges)
    ids = pd.unique(pd.concat([edges[fcol], edges[ncol]], ignore_index=True).dropna().astype(str))
    normed = [norm(i) for i in ids]
    keep = set(units)
    found = {i for i in normed if i in keep}
    if len(found) * 2 < len(units):
        unmatched = [i for i, n in zip(ids, normed) if n not in keep]
        raise InputError(
            f"only {len(found)} of the {len(units)} units of the data appear in the edge list, so these weights "
            f"are not for these units; ids in the file that match no unit: {unmatched[:6]}; unit codes of the "
            f"data: {units[:6]}.", where=where,
            hint="Write the focal and neighbor columns with exactly the data's unit codes (e.g. '110000', not "
                 "'110000.0' or a name), or drop the weights option to use the built-in ones.")
    changed = [i for i, n in zip(ids, normed) if str(i).strip() != n]
    return [f"spatial weights: {len(changed)} edge-list id(s) written as decimals (e.g. '{changed[0]}') read as "
            f"integer unit codes"] if changed else []


def _as_neighbors(w: Any, units: list[str]) -> tuple[dict[str, list[str]], dict[str, list[float]], list[str]]:
    """Neighbour and weight dicts keyed by str id, copied from a W, Graph or edge list, and notes.

    An edge list cannot list a unit without links, so data units absent from it have no neighbours
    (islands, handled by the caller); a W or Graph must contain every unit. Ids are matched to the unit
    codes after :func:`_id_normaliser` ('110000.0' -> '110000' for integer codes).
    """
    norm = _id_normaliser(units)
    notes: list[str] = []
    if isinstance(w, pd.DataFrame):
        notes = _check_edge_ids(w, units, norm)
        e = w.copy()
        if e.shape[1] >= 2:
            for c in _edge_cols(e)[:2]:
                e[c] = [norm(i) for i in e[c].astype(str)]
        w = weights_from_edges(e, ids=units)
    if hasattr(w, "to_W") and not hasattr(w, "neighbors"):  # libpysal.graph.Graph
        w = w.to_W()
    if not hasattr(w, "neighbors") or not hasattr(w, "weights"):
        raise InputError(f"unsupported spatial weights of type {type(w).__name__}.", where="weights",
                         hint="Pass a libpysal W (ids = unit codes), a libpysal Graph or an edge-list DataFrame.")
    nb = {norm(k): [norm(j) for j in v] for k, v in w.neighbors.items()}
    # the caller's original (untransformed) weights when libpysal kept them; analyses re-standardise
    src = getattr(w, "transformations", {}).get("O", w.weights) if hasattr(w, "transformations") else w.weights
    wt = {norm(k): [float(x) for x in v] for k, v in src.items()}
    return nb, wt, notes


def _lonlat_xyz(c: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(c[:, 0]), np.radians(c[:, 1])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def align_weights(w: Any, units: list[str] | pd.Index, coords: pd.DataFrame | None = None, k_islands: int = 1,
                  geographic: bool = True) -> tuple[Any, list[str]]:
    """A new libpysal ``W`` over exactly ``units`` (in that order), matched by id; islands linked to neighbours.

    ``coords``: DataFrame indexed by unit with two columns (lon, lat or x, y) used to link islands to their
    ``k_islands`` nearest units (great-circle distance when ``geographic``). Returns (W, notes).
    Units missing from the weights are an error (a weights file for another set of units is a mistake).
    """
    from libpysal.weights import W

    units = [str(u) for u in units]
    nb, wt, notes = _as_neighbors(w, units)
    missing = [u for u in units if u not in nb]
    if missing:
        raise InputError(f"{len(missing)} unit(s) of the data are not in the spatial weights: {missing[:8]}; "
                         f"ids in the weights look like {list(nb)[:5]}.",
                         where="weights", hint="Use weights built for these unit codes (ids must be the same "
                                              "strings, e.g. '110000').")
    keep = set(units)
    extra = [u for u in nb if u not in keep]
    if extra:
        notes.append(f"weights restricted to the {len(units)} units with data ({len(extra)} other ids ignored)")
    new_nb: dict[str, list[str]] = {}
    new_wt: dict[str, list[float]] = {}
    for u in units:
        pairs = [(j, v) for j, v in zip(nb[u], wt[u]) if j in keep and j != u]
        new_nb[u] = [j for j, _ in pairs]
        new_wt[u] = [v for _, v in pairs]
    islands = [u for u in units if not new_nb[u]]
    if islands:
        if coords is None:
            raise MethodError(f"{len(islands)} unit(s) have no neighbours: {islands[:8]}.", where="weights",
                              hint="Pass centroids (coords=DataFrame of lon, lat indexed by unit) so islands get "
                                   "their nearest neighbours, or add links for them to the edge list.")
        c = coords.copy()
        c.index = [str(i) for i in c.index]
        lack = [u for u in units if u not in c.index]
        if lack:
            raise InputError(f"no centroid for units {lack[:8]}.", where="coords",
                             hint="Give lon/lat (or x/y) for every unit.")
        xy = c.loc[units].iloc[:, :2].to_numpy(float)
        pts = _lonlat_xyz(xy) if geographic else xy
        for u in islands:
            i = units.index(u)
            d = np.linalg.norm(pts - pts[i], axis=1)
            d[i] = np.inf
            for j in np.argsort(d, kind="stable")[:k_islands]:
                v = units[j]
                for a, b in ((u, v), (v, u)):
                    if b not in new_nb[a]:
                        new_nb[a].append(b)
                        new_wt[a].append(1.0)
        notes.append(f"islands linked to their {k_islands} nearest neighbour(s) by centroid distance: {islands}")
    return W(new_nb, new_wt, id_order=units, silence_warnings=True), notes


def weights_from_polygons(geometries: Any, ids: list[str] | None = None, id_field: str | None = None,
                          k_islands: int = 1, geographic: bool = True) -> tuple[Any, pd.DataFrame, list[str]]:
    """Queen contiguity (libpysal ``Queen``) from polygons, islands linked to their nearest unit(s).

    ``geometries``: a GeoJSON path or FeatureCollection dict (ids from property ``id_field``), a mapping
    unit -> shapely geometry, or a sequence of geometries with ``ids``. Returns (W, centroids, notes);
    centroids are the polygons' centroids (lon/lat when ``geographic``) used for the island links.
    """
    import json
    from pathlib import Path

    import libpysal
    import shapely
    from shapely.geometry import shape

    if isinstance(geometries, (str, Path)):
        try:
            geometries = json.loads(Path(geometries).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read polygons: {exc}.", where=str(geometries),
                             hint="Give a GeoJSON FeatureCollection (UTF-8).")
    if isinstance(geometries, dict) and geometries.get("type") == "FeatureCollection":
        feats = geometries.get("features", [])
        if id_field is None or any(id_field not in (f.get("properties") or {}) for f in feats):
            raise InputError(f"every feature needs the id property {id_field!r}.", where="polygons",
                             hint="Name the property holding the unit code (e.g. --id-field adcode).")
        ids = [str(f["properties"][id_field]).strip() for f in feats]
        geoms = [shape(f["geometry"]) for f in feats]
    elif isinstance(geometries, dict):
        ids = [str(k) for k in geometries]
        geoms = [g if isinstance(g, shapely.Geometry) else shape(g) for g in geometries.values()]
    else:
        geoms = list(geometries)
        if ids is None or len(ids) != len(geoms):
            raise InputError("polygons given as a sequence need one id per geometry.", where="polygons",
                             hint="Pass ids=[...] or a mapping unit -> geometry.")
        ids = [str(i) for i in ids]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal's island / disconnected-components notice: handled below
        q = libpysal.weights.Queen.from_iterable(geoms, ids=ids)
    cen = shapely.centroid(np.asarray(geoms, dtype=object))
    coords = pd.DataFrame({"x": shapely.get_x(cen), "y": shapely.get_y(cen)}, index=ids)
    wa, notes = align_weights(q, ids, coords, k_islands=k_islands, geographic=geographic)
    return wa, coords, notes


def _row_standardised(w) -> sp.csr_matrix:
    m = sp.csr_matrix(w.sparse, dtype=float)
    rs = np.asarray(m.sum(axis=1)).ravel()
    return sp.diags(1.0 / rs) @ m


def _by_id(col: pd.Series) -> pd.Series:
    """Units in code order, so that seeded permutations do not depend on the order of the input rows."""
    return col.iloc[np.argsort(col.index.astype(str), kind="stable")]


def _perm_index(rng: np.random.Generator, permutations: int, n: int) -> np.ndarray:
    return rng.permuted(np.tile(np.arange(n), (permutations, 1)), axis=1)


def moran_sim(z: np.ndarray, Wr: sp.csr_matrix, perm_idx: np.ndarray) -> np.ndarray:
    """Moran's I of z under the given row permutations (P, n); vectorised over permutations."""
    n = z.size
    s0 = Wr.sum()
    Z = z[perm_idx]  # (P, n)
    lag = (Wr @ Z.T).T
    return (n / s0) * (Z * lag).sum(axis=1) / (z @ z)


def folded_p(sim: np.ndarray, observed: np.ndarray | float) -> np.ndarray | float:
    """esda's pseudo p-value: (min(#{sim >= obs}, P - #{sim >= obs}) + 1) / (P + 1), along axis 0."""
    P = sim.shape[0]
    larger = (sim >= observed).sum(axis=0)
    larger = np.where(P - larger < larger, P - larger, larger)
    return (larger + 1.0) / (P + 1.0)


def moran_by_year(table: pd.DataFrame, w: Any, permutations: int = 999, seed: int | None = 0,
                  coords: pd.DataFrame | None = None) -> pd.DataFrame:
    """Global Moran's I (row-standardised weights) per year with a seeded permutation pseudo p-value.

    Returns a tidy frame: year, n, I, EI, z_norm, p_norm (two-sided, normality), p_sim (folded, as esda),
    EI_sim, z_sim. Units missing in a year are left out of that year (weights re-aligned).
    """
    import esda

    rng = np.random.default_rng(seed)
    rows = []
    for year in table.columns:
        col = _by_id(table[year].dropna())
        wy, _ = align_weights(w, list(col.index), coords)
        y = col.to_numpy(float)
        if np.ptp(y) == 0:
            rows.append({"year": int(year), "n": y.size, "I": np.nan})
            continue
        m = esda.Moran(y, wy, transformation="r", permutations=0)
        row = {"year": int(year), "n": int(y.size), "I": float(m.I), "EI": float(m.EI), "z_norm": float(m.z_norm),
               "p_norm": float(m.p_norm)}
        if permutations:
            z = y - y.mean()
            sim = moran_sim(z, _row_standardised(wy), _perm_index(rng, permutations, y.size))
            row.update(p_sim=float(folded_p(sim, m.I)), EI_sim=float(sim.mean()),
                       z_sim=float((m.I - sim.mean()) / sim.std()))
        rows.append(row)
    return pd.DataFrame(rows)


def lisa_sim(z: np.ndarray, Wr: sp.csr_matrix, rids: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Conditional-randomisation draws of local Moran I_i (P, n).

    z standardised values, Wr row-standardised CSR weights, rids (P, kmax) indices drawn without replacement
    from range(n-1), shared by all units (esda's scheme): for unit i the neighbour set is rids[:, :k_i]
    with indices >= i shifted by one so i is never its own neighbour. Units are processed in blocks of equal
    cardinality, vectorised over permutations and units.
    """
    n = z.size
    P = rids.shape[0]
    out = np.empty((P, n))
    indptr, wdata = Wr.indptr, Wr.data
    card = np.diff(indptr)
    den = (z * z).sum()
    for kc in np.unique(card):
        units = np.flatnonzero(card == kc)
        idx = rids[:, :kc]  # (P, kc)
        wblock = np.stack([wdata[indptr[i]:indptr[i] + kc] for i in units]) if kc else np.zeros((units.size, 0))
        for s in range(0, units.size, chunk):
            u = units[s:s + chunk]
            nbr = idx[None, :, :] + (idx[None, :, :] >= u[:, None, None])  # (m, P, kc)
            lag = np.einsum("mpk,mk->mp", z[nbr], wblock[s:s + chunk])
            out[:, u] = ((n - 1) * z[u][:, None] * lag / den).T
    return out


def lisa_by_year(table: pd.DataFrame, w: Any, permutations: int = 999, seed: int | None = 0, alpha: float = 0.05,
                 coords: pd.DataFrame | None = None) -> pd.DataFrame:
    """Local Moran (LISA) per unit and year: Ii, quadrant (HH/LH/LL/HL), folded pseudo p-value and cluster.

    ``cluster`` is the quadrant when p_sim <= alpha, else "ns". Tidy frame: year, unit, z (standardised
    value), lag (its spatial lag, row-standardised: the Moran scatter plot, slope = global I), Ii, quadrant,
    p_sim, cluster. Conditional randomisation, seeded Generator; each year draws fresh neighbour sets.
    """
    import esda

    rng = np.random.default_rng(seed)
    frames = []
    for year in table.columns:
        col = _by_id(table[year].dropna())
        wy, _ = align_weights(w, list(col.index), coords)
        y = col.to_numpy(float)
        if np.ptp(y) == 0:
            continue
        ml = esda.Moran_Local(y, wy, transformation="r", permutations=0)
        Is = np.asarray(ml.Is, dtype=float)
        Wr = _row_standardised(wy)
        z = np.asarray(ml.z, float)
        d = pd.DataFrame({"year": int(year), "unit": list(col.index), "z": z, "lag": Wr @ z, "Ii": Is,
                          "quadrant": [QUADRANTS[int(q)] for q in ml.q]})
        if permutations:
            kmax = int(np.diff(Wr.indptr).max())
            # permutation draws without replacement of kmax ids from n-1 (vectorised: argsort of uniforms)
            rids = np.argsort(rng.random((permutations, y.size - 1)), axis=1)[:, :kmax]
            sim = lisa_sim(np.asarray(ml.z, float), Wr, rids)
            d["p_sim"] = folded_p(sim, Is)
            d["cluster"] = np.where(d["p_sim"] <= alpha, d["quadrant"], "ns")
        frames.append(d)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
