"""Decode the China maps of the npm package echarts@4.9.0 into the GeoJSON files shipped by dcindex.

Inputs (from ``npm pack echarts@4.9.0``; Apache-2.0): ``map/json/china.json`` (34 provincial units) and
``map/json/china-cities.json`` (prefecture-level units, about 2015 vintage). Both use ECharts' compressed
encoding, decoded by :mod:`dcindex.china._echarts` (zig-zag + delta coded UTF-16 code units, offsets in
``encodeOffsets``, scale 1024; see that module).

Steps: decode; repair invalid rings with ``shapely.make_valid``; map city ids to current codes
(municipalities 110000 -> 110100 etc.; codes recoded since 2015 per ``city_code_changes.csv``; 莱芜 371200 is
dissolved into 济南 370100 as in 2019); simplify each layer as a *coverage* with GEOS's coverage simplifier
(``shapely.coverage_simplify``), which simplifies each shared border once so neighbours stay neighbours;
round to 4 decimals (the source grid is 1/1024 degree, so rounding merges no vertices); write atomically.
It prints queen-neighbour counts before and after simplification.

Usage: ``python scripts/decode_echarts_china.py [--echarts DIR] [--city-tolerance 0.03]`` where DIR is an
unpacked echarts package; without it the script runs ``npm pack echarts@4.9.0`` in a temporary directory.
Also copies ``china.json`` verbatim (the decoder test decodes it) and echarts' LICENSE and NOTICE.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dcindex.china._echarts import decode_geojson  # noqa: E402

OUT = ROOT / "src" / "dcindex" / "data" / "china"
ECHARTS = "echarts@4.9.0"
MUNICIPALITIES = {"110000": "110100", "120000": "120100", "310000": "310100", "500000": "500100"}
NON_MAINLAND = {"710000", "810000", "820000"}


def fetch_echarts(dest: Path) -> Path:
    subprocess.run(["npm", "pack", ECHARTS, "--silent"], cwd=dest, check=True, capture_output=True)
    tgz = next(dest.glob("echarts-*.tgz"))
    with tarfile.open(tgz) as t:
        members = [m for m in t.getmembers()
                   if m.name in ("package/map/json/china.json", "package/map/json/china-cities.json",
                                 "package/LICENSE", "package/NOTICE")]
        t.extractall(dest, members=members, filter="data")
    return dest / "package"


def polygonal(g):
    """make_valid, keeping only the polygonal parts (make_valid may return collapsed lines)."""
    g = shapely.make_valid(g)
    if g.geom_type == "GeometryCollection":
        g = shapely.union_all([p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")])
    return g


def queen_pairs(geoms: list) -> set[tuple[int, int]]:
    """Pairs of geometries that share at least a point (queen contiguity), by exact intersection."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    return {(int(a), int(b)) for a, b in zip(left, right) if a < b}


def round_geom(g, nd: int = 4):
    return shapely.transform(g, lambda xy: np.round(xy, nd))


def to_features(df: pd.DataFrame) -> list[dict]:
    feats = []
    for r in df.itertuples():
        props = {"code": r.code, "name": r.name, "mainland": bool(r.mainland)}
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(r.geometry)})
    return feats


def write_geojson(features: list[dict], path: Path, meta: dict) -> None:
    gj = {"type": "FeatureCollection", "dcindex": meta, "features": features}
    text = json.dumps(gj, ensure_ascii=False, separators=(",", ":"))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def layer(raw: dict, level: str, changes: pd.DataFrame) -> pd.DataFrame:
    dec = decode_geojson(raw)
    rows = []
    recode = {r.old_code: r.new_code for r in changes.itertuples() if r.change in ("recode", "rename")}
    merged = {r.old_code: r.new_code for r in changes.itertuples() if r.change == "merged"}
    for f in dec["features"]:
        code = str(f.get("id") or f["properties"].get("id"))
        if level == "city":
            code = MUNICIPALITIES.get(code, code)
            code = recode.get(code, code)
            code = merged.get(code, code)
        rows.append({"code": code, "name": f["properties"]["name"], "geometry": polygonal(shape(f["geometry"]))})
    df = pd.DataFrame(rows)
    # union features that now share a code (莱芜 into 济南); keep the first name
    df = (df.groupby("code", sort=True)
            .agg(name=("name", "first"), geometry=("geometry", lambda s: shapely.union_all(list(s))))
            .reset_index())
    df["mainland"] = ~df["code"].isin(NON_MAINLAND)
    return df


def simplify(df: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    out = df.copy()
    if tolerance > 0:
        out["geometry"] = list(shapely.coverage_simplify(np.asarray(df["geometry"], dtype=object), tolerance))
    out["geometry"] = [polygonal(round_geom(g)) for g in out["geometry"]]
    return out


def report(name: str, before: pd.DataFrame, after: pd.DataFrame) -> dict:
    gb, ga = list(before["geometry"]), list(after["geometry"])
    pb, pa = queen_pairs(gb), queen_pairs(ga)
    codes = list(before["code"])
    lost = sorted((codes[a], codes[b]) for a, b in pb - pa)
    gained = sorted((codes[a], codes[b]) for a, b in pa - pb)
    nv_b = int(shapely.get_num_coordinates(np.asarray(gb, dtype=object)).sum())
    nv_a = int(shapely.get_num_coordinates(np.asarray(ga, dtype=object)).sum())
    info = {"queen_pairs_before": len(pb), "queen_pairs_after": len(pa), "pairs_lost": lost,
            "pairs_gained": gained, "vertices_before": nv_b, "vertices_after": nv_a,
            "invalid_after": int((~shapely.is_valid(np.asarray(ga, dtype=object))).sum())}
    print(f"{name}: {info}", file=sys.stderr)
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--echarts", type=Path, help="unpacked echarts@4.9.0 package directory")
    ap.add_argument("--province-tolerance", type=float, default=0.05, help="degrees (coverage_simplify)")
    ap.add_argument("--city-tolerance", type=float, default=0.03, help="degrees (coverage_simplify)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    changes = pd.read_csv(OUT / "city_code_changes.csv", dtype=str, keep_default_na=False)
    with tempfile.TemporaryDirectory() as tmp:
        pkg = args.echarts or fetch_echarts(Path(tmp))
        src = pkg / "map" / "json"
        raw_p = json.loads((src / "china.json").read_text(encoding="utf-8"))
        raw_c = json.loads((src / "china-cities.json").read_text(encoding="utf-8"))
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "echarts-4.9.0").mkdir(exist_ok=True)
        shutil.copyfile(src / "china.json", args.out / "echarts-4.9.0" / "china.json")
        shutil.copyfile(pkg / "LICENSE", args.out / "LICENSE-echarts.txt")
        shutil.copyfile(pkg / "NOTICE", args.out / "NOTICE-echarts.txt")

    meta_common = {"source": "npm echarts@4.9.0 (Apache-2.0), decoded by scripts/decode_echarts_china.py",
                   "crs": "longitude/latitude degrees (as in the source)",
                   "note": "generalised outlines for analysis; not an approved (审图号) map"}
    prov = layer(raw_p, "province", changes)
    prov_s = simplify(prov, args.province_tolerance)
    rp = report("provinces", prov, prov_s)
    write_geojson(to_features(prov_s), args.out / "provinces.geojson",
                  {**meta_common, "file": "map/json/china.json", "simplify_tolerance_deg": args.province_tolerance,
                   "queen_pairs_before": rp["queen_pairs_before"], "queen_pairs_after": rp["queen_pairs_after"]})

    city = layer(raw_c, "city", changes)
    cities = pd.read_csv(OUT / "cities.csv", dtype=str, keep_default_na=False)
    unknown = sorted(set(city.loc[city["mainland"], "code"]) - set(cities["code"]))
    if unknown:
        raise SystemExit(f"city ids not in cities.csv after recoding: {unknown}")
    city_s = simplify(city, args.city_tolerance)
    rc = report("cities", city, city_s)
    missing = sorted(set(cities["code"]) - set(city["code"]))
    write_geojson(to_features(city_s), args.out / "cities.geojson",
                  {**meta_common, "file": "map/json/china-cities.json", "vintage": "about 2015 boundaries, current codes",
                   "simplify_tolerance_deg": args.city_tolerance, "units_without_polygon": missing,
                   "queen_pairs_before": rc["queen_pairs_before"], "queen_pairs_after": rc["queen_pairs_after"],
                   "queen_pairs_lost": [list(p) for p in rc["pairs_lost"]],
                   "queen_pairs_gained": [list(p) for p in rc["pairs_gained"]]})
    for f in ("provinces.geojson", "cities.geojson"):
        print(f"{f}: {(args.out / f).stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    print(f"cities without polygon: {missing}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
