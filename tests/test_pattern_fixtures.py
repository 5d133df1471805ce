"""Helpers shared by the pattern tests (real Chinese province data from ../shared/data) and their own checks."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

REGION4 = {
    "East": [11, 12, 13, 31, 32, 33, 35, 37, 44, 46],
    "Central": [14, 34, 36, 41, 42, 43],
    "West": [15, 45, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65],
    "Northeast": [21, 22, 23],
}


def region4() -> pd.Series:
    return pd.Series({f"{c}0000": r for r, codes in REGION4.items() for c in codes}, name="region4")


def pku_province(shared: Path, column: str = "index_aggregate") -> pd.DataFrame:
    """PKU-DFIIC province panel as unit (6-digit GB/T 2260 code) x year."""
    df = pd.read_csv(shared / "pku-dfiic" / "province.csv")
    df["unit"] = df["prov_code"].astype(int).astype(str) + "0000"
    return df.pivot(index="unit", columns="year", values=column)


def province_queen(shared: Path):
    """Queen contiguity of the 31 mainland provinces (ids = 6-digit codes) and label-point centroids."""
    import libpysal
    from shapely.geometry import shape

    gj = json.loads((shared / "cn-boundaries" / "provinces.geojson").read_text(encoding="utf-8"))
    feats = [f for f in gj["features"] if f["properties"]["mainland31"]]
    ids = [str(f["properties"]["adcode"]) for f in feats]
    w = libpysal.weights.Queen.from_iterable([shape(f["geometry"]) for f in feats], ids=ids, silence_warnings=True)
    coords = pd.DataFrame([f["properties"]["cp"] for f in feats], index=ids, columns=["lon", "lat"])
    return w, coords


def test_province_helpers(shared_data):
    t = pku_province(shared_data)
    assert t.shape == (31, 13)
    assert t.loc["110000", 2011] == 79.41  # SOURCE.md check value
    r = region4()
    assert sorted(r.index) == sorted(t.index)
    w, coords = province_queen(shared_data)
    assert sorted(w.id_order) == sorted(t.index)
    assert w.islands == ["460000"]  # Hainan
    assert set(w.neighbors["110000"]) == {"120000", "130000"}  # Beijing borders Tianjin and Hebei
    assert np.all(coords["lon"].between(73, 135))
