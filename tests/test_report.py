"""The HTML report without a browser: payload, escaping, Content-Security-Policy, determinism, size, PNGs, CLI.

The page's behaviour in a browser is tested in ``test_report_browser.py``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dcindex.errors import DcindexError

SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)


def _data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="dc-data">(.*?)</script>', html, re.S)
    assert m, "no embedded data"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory):
    from dcindex.run import example

    d = tmp_path_factory.mktemp("example")
    example().to_dir(d)
    return d


@pytest.fixture(scope="module")
def panel_dir(tmp_path_factory):
    """31 provinces x 3 years (synthetic values) with a pattern analysis by region4 for the index."""
    from dcindex import pattern
    from dcindex.report.samples import synthetic_result

    d = tmp_path_factory.mktemp("panel")
    res = synthetic_result("province", years=range(2021, 2024), seed=11)
    res.to_dir(d)
    pattern.analyse(res, by="region4", seed=0, B=29, permutations=99, markov_permutations=9,
                    spatial_models=()).to_dir(d / "pattern" / "region4")
    return d


def _evil_dir(tmp_path: Path) -> Path:
    from dcindex.build import build

    units = pd.DataFrame({"unit": ["U1", "U2", "U3", "U4"],
                          "name_zh": ["<img src=x onerror=alert(1)>", "乙\u2028", "丙<!--", "丁"],
                          "name_en": ["</script><script>alert(2)</script>", "B\u2029", "C", "D & <b>"]})
    rows = [(u, 2022, k, float(v)) for u, base in zip(units["unit"], (1, 5, 9, 13))
            for k, v in (("a", base), ("b", 20 - base))]
    data = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value"])
    fw = {"index": {"code": "I", "name_zh": "</title><script>alert(3)</script>", "name_en": "x", "children": [
        {"code": "P", "name_en": "<!-- p -->", "children": [{"code": "a", "name_en": "a</script>"}]},
        {"code": "Q", "name_en": "q", "children": [{"code": "b", "name_en": "b", "note": "<img src=y>"}]}]}}
    build(data, fw, {}, units=units).to_dir(tmp_path / "evil")
    return tmp_path / "evil"


# ------------------------------------------------------------------------------------------- payload
def test_payload_carries_the_build_exactly(panel_dir):
    from dcindex.io import load_result
    from dcindex.report import build_payload

    res = load_result(panel_dir)
    p, _ = build_payload(panel_dir, lang="en")
    fw = res.framework
    assert p["units"]["codes"] == res.unit_codes
    assert p["years"] == res.years and p["root"] == fw.root and p["pillars"] == fw.pillars
    for node in [fw.root] + fw.pillars:  # full precision: the browser recomputes the index from these
        got = np.array(p["scores"][node], dtype=float)
        np.testing.assert_array_equal(got, res.scores_array[:, :, res.node_index(node)])
    np.testing.assert_array_equal(np.array(p["ranks"][fw.root], dtype=float), res.ranks_array[:, :, res.node_index(fw.root)])
    rw = p["reweight"]
    assert rw["exact"] and rw["method"] == "arithmetic" and rw["pillars"] == fw.pillars
    # every imputed / treated cell is flagged with its position
    assert len(p["flags"]["imputed"]) == int(res.imputed_mask.sum()) > 0
    assert len(p["flags"]["treated"]) == int(res.treated_mask.sum()) > 0
    for t, n, k, _v in p["flags"]["imputed"]:
        assert res.imputed_mask[t, n, k]
    # provenance
    assert p["provenance"]["reproduced"] is True
    assert p["provenance"]["scores_sha256"] == res.manifest["scores_sha256"]
    assert p["provenance"]["data_fingerprint"] == res.manifest["data_fingerprint"]
    # pattern: group-level and node-level tables; absent capabilities are None
    assert "group_stats" in p["pattern"]["groups"]["region4"][fw.root]
    assert "kde_density" in p["pattern"]["nodes"][fw.root]
    assert p["audit"] is None or "files" in p["audit"]
    assert p["plan"] is None


def test_moran_scatter_slope_is_morans_i(panel_dir):
    """The report's own z / Wz for the Moran scatter (used when lisa.csv lacks them) agree with the pattern
    analysis: the OLS slope of Wz on z equals Moran's I of moran.csv, and z / lag equal lisa.csv's when present."""
    from dcindex.io import load_result
    from dcindex.report.data import _moran_scatter

    res = load_result(panel_dir)
    sc = _moran_scatter(res, res.framework.root)
    mo = pd.read_csv(panel_dir / "pattern" / "region4" / "moran.csv")
    li = pd.read_csv(panel_dir / "pattern" / "region4" / "lisa.csv", dtype={"unit": str})
    for t, y in enumerate(res.years):
        z = np.array(sc["z"][t], dtype=float)
        lag = np.array(sc["lag"][t], dtype=float)
        slope = (z @ lag) / (z @ z)
        assert slope == pytest.approx(float(mo.loc[mo["year"] == y, "I"].iloc[0]), abs=2e-4)
        if {"z", "lag"} <= set(li.columns):
            ly = li[li["year"] == y].set_index("unit").reindex(res.unit_codes)
            np.testing.assert_allclose(z, ly["z"].to_numpy(float), atol=1e-4)
            np.testing.assert_allclose(lag, ly["lag"].to_numpy(float), atol=1e-4)


def test_map_geometry_matches_the_shipped_boundaries(panel_dir):
    """Delta-coded polygons decode (as report.js does) to the shipped outlines within the 0.01 degree grid."""
    from dcindex.china.boundaries import boundaries
    from dcindex.report import build_payload

    p, _ = build_payload(panel_dir)
    m = p["map"]
    assert m["level"] == "province" and m["coverage"] == [31, 31]
    b = boundaries("province", mainland_only=False).set_index("code")
    q = m["quant"]
    for f in m["features"]:
        g = b.loc[f["code"], "geometry"]
        for poly in f["p"]:
            xy = np.cumsum(np.array(poly[0], dtype=float).reshape(-1, 2), axis=0) / q
            # every decoded vertex lies on (within rounding of) the original outline
            assert g.boundary.distance(__import__("shapely").MultiPoint(xy)) < 0.6 / q
    assert set(o["group"] for o in m["outlines"]["region4"]) == {"East", "Central", "West", "Northeast"}


# ------------------------------------------------------------------------------------------- HTML
def test_html_is_self_contained_with_a_strict_csp(example_dir, tmp_path):
    from dcindex.report import write_report

    out = write_report(example_dir, lang="zh", out=tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert meta
    policy = meta.group(1).replace("&#x27;", "'")
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http:" not in policy and "https:" not in policy
    # no external resources at all (in the markup; script bodies are code and data)
    markup = SCRIPT.sub("<script></script>", html)
    assert not re.search(r"<(script|img|link|iframe|object|embed)[^>]+(src|href|data)=", markup)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", markup)
    # each executable inline script is allowed by its sha256, and only those
    allowed = set(re.findall(r"'sha256-([A-Za-z0-9+/=]+)'", policy.split("style-src")[0]))
    bodies = [m.group("body") for m in SCRIPT.finditer(html) if "application/json" not in m.group("attrs")]
    assert len(bodies) == 2
    got = {base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in bodies}
    assert got == allowed
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() in policy
    assert '<html lang="zh-CN">' in html
    p = _data(html)
    assert p["lang"] == "zh" and p["pattern"] is None and p["uncertainty"] is None and p["plan"] is None


def test_user_strings_are_escaped_everywhere(tmp_path):
    from dcindex.report import write_report

    d = _evil_dir(tmp_path)
    html = write_report(d, lang="en").read_text(encoding="utf-8")
    for raw in ("<img src=x", "alert(2)</script>", "</title><script>", "<!-- p -->", "<b>", "<img src=y>",
                "\u2028", "\u2029", "a</script>"):
        assert raw not in html, raw
    # exactly three </script> closing tags: data, ECharts, app
    assert html.count("</script>") == 3
    assert "<title>&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt; · dcindex</title>" not in html  # en title
    p = _data(html)
    assert p["units"]["zh"][0] == "<img src=x onerror=alert(1)>"
    assert p["units"]["en"][0] == "</script><script>alert(2)</script>"
    assert p["units"]["zh"][1] == "乙\u2028" and p["units"]["en"][1] == "B\u2029"
    nodes = {n["code"]: n for n in p["nodes"]}
    assert nodes["P"]["en"] == "<!-- p -->" and nodes["b"]["note"] == "<img src=y>"
    zh = write_report(d, lang="zh", out=tmp_path / "zh.html").read_text(encoding="utf-8")
    assert "<title>&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt; · dcindex</title>" in zh


def test_same_inputs_give_byte_identical_html(panel_dir, tmp_path):
    from dcindex.report import write_report

    a = write_report(panel_dir, lang="zh", out=tmp_path / "a.html").read_bytes()
    b = write_report(panel_dir, lang="zh", out=tmp_path / "b.html").read_bytes()
    assert a == b
    c = write_report(panel_dir, lang="en", out=tmp_path / "c.html").read_bytes()
    assert c != a and len(c) == pytest.approx(len(a), rel=0.01)


def test_output_is_atomic_and_errors_are_clear(example_dir, tmp_path, monkeypatch):
    from dcindex.report import write_report

    with pytest.raises(DcindexError, match="language"):
        write_report(example_dir, lang="fr")
    with pytest.raises(DcindexError, match="does not exist|missing"):
        write_report(tmp_path / "nope")
    target = tmp_path / "keep.html"
    target.write_text("old", encoding="utf-8")
    import dcindex.report.html as rh

    def boom(*a, **k):
        raise RuntimeError("render failed")

    monkeypatch.setattr(rh, "render_html", boom)
    with pytest.raises(RuntimeError):
        write_report(example_dir, out=target)
    assert target.read_text(encoding="utf-8") == "old"  # untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".keep")] == []


@pytest.mark.slow
def test_city_report_stays_under_8_mb(tmp_path):
    """337 cities x 10 years with the pattern analysis of the index and its pillars."""
    from dcindex import pattern
    from dcindex.report import write_report
    from dcindex.report.samples import synthetic_result

    res = synthetic_result("city", years=range(2014, 2024), seed=2)
    res.to_dir(tmp_path)
    for node in [res.framework.root] + res.framework.pillars:
        sub = "region4" if node == res.framework.root else f"region4__{node}"
        pattern.analyse(res, by="region4", node=node, seed=0, B=9, permutations=19, markov_permutations=0,
                        spatial_models=()).to_dir(tmp_path / "pattern" / sub)
    out = write_report(tmp_path, lang="zh")
    size = out.stat().st_size
    assert size < 8_000_000, size
    p = _data(out.read_text(encoding="utf-8"))
    assert p["map"]["level"] == "city" and p["map"]["coverage"][0] >= 330 and p["map"].get("province_lines")


# -------------------------------------------------------------------------------------------- PNG
def _png_size(b: bytes) -> tuple[int, int]:
    assert b[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", b[16:24])


def test_png_figures(panel_dir, tmp_path):
    from dcindex.report import write_report
    from dcindex.report.png import cjk_font

    if cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    write_report(panel_dir, lang="zh", out=tmp_path / "r.html", png_dir=tmp_path / "png")
    names = sorted(p.name for p in (tmp_path / "png").glob("*.png"))
    for want in ("ranking.png", "map.png", "bump.png", "group_means.png", "inequality.png", "dagum.png", "kde.png",
                 "markov.png", "weights.png"):
        assert want in names
    for n in names:
        w, h = _png_size((tmp_path / "png" / n).read_bytes())
        assert w >= 800 and h >= 500
    again = tmp_path / "png2"
    write_report(panel_dir, lang="zh", out=tmp_path / "r2.html", png_dir=again)
    for n in names:
        assert (tmp_path / "png" / n).read_bytes() == (again / n).read_bytes(), n


def test_png_glyphs_are_chinese_not_tofu(tmp_path):
    """With a CJK font, a Chinese label renders with ink (a missing glyph would warn and render a box)."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dcindex.report.png import cjk_font

    font = cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" is a warning
        with plt.rc_context({"font.family": [font]}):
            fig = plt.figure(figsize=(2, 1))
            fig.text(0.1, 0.4, "数字发展指数", fontsize=14)
            fig.canvas.draw()
            img = np.asarray(fig.canvas.buffer_rgba())
            plt.close(fig)
    assert (img[..., :3] < 128).any()


# -------------------------------------------------------------------------------------------- CLI
def test_cli_report(example_dir, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "dcindex", "report", str(example_dir), "--lang", "en", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.is_file() and _data(out.read_text(encoding="utf-8"))["lang"] == "en"
    r = subprocess.run([sys.executable, "-m", "dcindex", "report", str(tmp_path / "missing")], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "error" in r.stderr and "Traceback" not in r.stderr


# -------------------------------------------------------------------------------------- real data
def _decode(poly_rings: list, q: int) -> list[np.ndarray]:
    """report.js's decodeRings, in numpy."""
    return [np.cumsum(np.array(r, dtype=float).reshape(-1, 2), axis=0) / q for r in poly_rings]


@pytest.mark.shared
def test_province_map_matches_independently_decoded_boundaries(shared_data, panel_dir):
    """The provinces the page draws agree with ../shared/data/cn-boundaries/provinces.geojson (an independent
    decoding of the same echarts@4.9.0 file): area within 3 % and centroid within 0.1 degree per province."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon, shape

    from dcindex.report import build_payload

    ref = json.loads((shared_data / "cn-boundaries" / "provinces.geojson").read_text(encoding="utf-8"))
    ref = {str(f["properties"]["adcode"]): shape(f["geometry"]) for f in ref["features"]}
    p, _ = build_payload(panel_dir)
    m = p["map"]
    drawn = {}
    for f in m["features"]:
        polys = []
        for rings in f["p"]:
            dec = _decode(rings, m["quant"])
            polys.append(Polygon(dec[0], dec[1:]))
        drawn[f["code"]] = shapely.make_valid(MultiPolygon(polys))
    assert set(drawn) == set(ref)  # 31 provinces + Taiwan, Hong Kong, Macao
    for code, g in ref.items():
        d = drawn[code]
        # 0.01 degree quantisation and the China layer's simplification weigh more on small units (Hong Kong,
        # Macao): 3 % of the area or 0.01 square degrees, whichever is larger
        assert abs(d.area - g.area) <= max(0.03 * g.area, 0.01), code
        assert d.centroid.distance(g.centroid) < 0.1, code


@pytest.mark.shared
def test_real_city_panel_report(shared_data, tmp_path):
    """PKU-DFIIC city index (real, 2019-2023, ~337 cities): codes matched to current codes, every city but the
    shipped geometry's gaps on the map, groups outlined, size well under 8 MB."""
    from dcindex.build import build
    from dcindex.china import add_groups, match_units
    from dcindex.report import write_report

    df = pd.read_csv(shared_data / "pku-dfiic" / "city.csv", dtype=str)
    df = df[(df["year"].astype(int) >= 2019) & (df["pref_code_year18"] != "3712")]  # 莱芜: merged into 济南 in 2019
    df["unit"] = match_units(df["pref_code_year18"], "city", year=2018).to_numpy()
    ind = ["coverage_breadth", "usage_depth", "digitization_level"]
    long = df.melt(id_vars=["unit", "year"], value_vars=ind, var_name="indicator", value_name="value")
    long["value"] = pd.to_numeric(long["value"])
    long = long.groupby(["unit", "year", "indicator"], as_index=False)["value"].mean()
    names = df.drop_duplicates("unit")[["unit", "pref_name_year18", "pref_name_year18_eng"]]
    names.columns = ["code", "name_zh", "name_en"]
    units = add_groups(names, "city", columns=["region4"]).rename(columns={"code": "unit"})
    units["region4"] = units["region4"].astype(str)
    fw = {"index": {"code": "DFI", "name_zh": "数字普惠金融", "name_en": "Digital financial inclusion",
                    "children": [{"code": "P_" + c, "name_en": c, "children": [{"code": c, "name_en": c}]}
                                 for c in ind]}}
    build(long, fw, {"normalise": {"method": "minmax", "scope": "pooled"}}, units=units).to_dir(tmp_path)
    out = write_report(tmp_path, lang="zh")
    assert out.stat().st_size < 8_000_000
    p = _data(out.read_text(encoding="utf-8"))
    n = len(p["units"]["codes"])
    assert n >= 330 and p["map"]["level"] == "city"
    assert p["map"]["coverage"][0] >= n - 2  # 三沙 has no polygon in the shipped city layer
    assert {o["group"] for o in p["map"]["outlines"]["region4"]} == {"East", "Central", "West", "Northeast"}
    assert p["years"] == [2019, 2020, 2021, 2022, 2023]


def test_dcindex_run_writes_the_report(tmp_path):
    from rich.console import Console

    from dcindex.run import run

    run(out=tmp_path, console=Console(file=__import__("io").StringIO()))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    p = _data(html)
    assert p["pattern"] is not None and len(p["units"]["codes"]) == 31
