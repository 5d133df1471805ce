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
    """337 cities x 10 years with the pattern analysis of the index and its pillars, the audit and an
    uncertainty analysis with every pair of units (``pairs: all``: 56,616 pairs per year, about 40 MB of CSV)."""
    from dcindex import pattern
    from dcindex.audit import audit
    from dcindex.report import write_report
    from dcindex.report.data import OVERTAKES_TOP, PAIRS_TOP
    from dcindex.report.samples import synthetic_result
    from dcindex.uncertainty import uncertainty

    res = synthetic_result("city", years=range(2014, 2024), seed=2)
    res.to_dir(tmp_path)
    for node in [res.framework.root] + res.framework.pillars:
        sub = "region4" if node == res.framework.root else f"region4__{node}"
        pattern.analyse(res, by="region4", node=node, seed=0, B=9, permutations=19, markov_permutations=0,
                        spatial_models=()).to_dir(tmp_path / "pattern" / sub)
    audit(res).to_dir(tmp_path / "audit")
    spec = {"n": 16, "seed": 1, "choices": [{"type": "weights", "name": "Weights", "levels": [2], "amount": 0.3}]}
    uncertainty(res, spec, pairs="all").to_dir(tmp_path / "uncertainty")
    assert (tmp_path / "uncertainty" / "pairs.csv").stat().st_size > 10_000_000
    out = write_report(tmp_path, lang="zh")
    size = out.stat().st_size
    assert size < 8_000_000, size
    p = _data(out.read_text(encoding="utf-8"))
    assert p["map"]["level"] == "city" and p["map"]["coverage"][0] >= 330 and p["map"].get("province_lines")
    U = p["uncertainty"]["view"]
    T = len(p["years"])
    assert len(U["pairs"]) <= T * PAIRS_TOP * (PAIRS_TOP - 1) // 2
    assert U["pairs_n"][str(p["years"][-1])] == 337 * 336 // 2
    assert len(U["overtakes"]) <= len(U["overtakes_n"]) * OVERTAKES_TOP
    assert p["audit"]["view"]["problems"] is not None


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
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "dcindex", "report", str(example_dir), "--out", str(tmp_path / "p.html"),
                        "--png", str(tmp_path / "file.txt")], capture_output=True, text=True)
    assert r.returncode == 2 and "PNG" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "p.html").exists()  # checked before anything is written


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


# ------------------------------------------------------------------------------------ QA review 7 fixes
def test_slider_start_values_and_reweighting_modes():
    """The sliders start at integers that add up to 100 (largest remainder); 'exact' is claimed only for the
    framework's (meta) weights with arithmetic/geometric aggregation; data-driven pillar weights are *replaced*
    by the sliders (and their per-year values are kept, not collapsed); other aggregations are approximations."""
    from dcindex.build import build
    from dcindex.report.data import _reweight, largest_remainder
    from dcindex.report.samples import synthetic_inputs

    assert largest_remainder([1, 1, 1]) == [34, 33, 33]
    assert largest_remainder([0.125, 0.375, 0.5]) == [13, 37, 50]
    assert sum(largest_remainder([0.2, 0.2, 0.2, 0.2, 0.2, 0.0])) == 100
    long, fw, units, rc = synthetic_inputs("province", years=range(2020, 2024), seed=4)
    res = build(long, fw, rc, units=units)
    rw = _reweight(res)
    assert rw["mode"] == "exact" and rw["exact"] and rw["slider"] == [34, 33, 33]
    ent = build(long, fw, dict(rc, weights={"method": "entropy", "scope": "year"}), units=units)
    rw = _reweight(ent)
    assert rw["mode"] == "replace" and not rw["exact"] and rw["weights_method"] == "entropy"
    assert sum(rw["slider"]) == 100 and rw["varies_by_year"]
    np.testing.assert_allclose(np.array(rw["used"]), ent.weights[ent.framework.root].used, atol=1e-6)
    eq = build(long, fw, dict(rc, weights={"method": "equal"}), units=units)
    assert _reweight(eq)["mode"] == "replace"  # rebuild(node_weights=...) would keep equal weights
    harm = build(long, fw, dict(rc, aggregate={"method": "arithmetic", "by_level": {3: {"method": "harmonic"}}}),
                 units=units)
    assert _reweight(harm)["mode"] == "approx"


def test_flags_keep_whole_indicator_transforms_apart(tmp_path):
    """A log transform changes every value of an indicator: it is listed once as a transform, not as treated
    cells (which would flag every row); Winsorised cells are still flagged one by one."""
    from dcindex.build import build
    from dcindex.report.data import _flags
    from dcindex.report.samples import synthetic_inputs

    long, fw, units, rc = synthetic_inputs("province", years=range(2021, 2024), seed=6)
    rc = dict(rc, treat={"method": "winsorise", "max_points": 5, "skew": 2.0, "kurtosis": 3.5,
                         "by_node": {"stations": {"method": "log"}}})
    res = build(long, fw, rc, units=units)
    k = res.framework.indicators.index("stations")
    assert res.treated_mask[..., k].all()  # the build marks every value as changed
    f = _flags(res)
    assert "stations" in f["transforms"]
    assert not [c for c in f["treated"] if c[2] == k]
    winsorised = int(res.treated_mask.sum() - res.treated_mask[..., k].sum())
    assert len(f["treated"]) == winsorised > 0


def test_group_labels_never_show_codes_or_collide(tmp_path):
    """Coded groupings of the China layer get their names; descriptive columns ('kind') are not groupings;
    empty values are no group; English names shared by several cities get their province."""
    from dcindex import china
    from dcindex.build import build
    from dcindex.report.data import _group_defs, _group_value, _unit_names, group_columns
    from dcindex.report.samples import synthetic_inputs

    cities = china.units("city")
    cols = ["agglomeration", "dc_cluster", "dc_hub_node"]
    defs = {d["col"]: d for d in _group_defs(cities, cols)}
    ag = {v["v"]: v for v in defs["agglomeration"]["values"]}
    assert ag["bbg"]["zh"] != "bbg" and ag["bbg"]["en"] != "bbg"
    assert all(v["v"] not in ("", None) for d in defs.values() for v in d["values"])
    assert all(v["en"] != v["v"] for v in defs["dc_cluster"]["values"])
    assert _group_value("") is None and _group_value("  ") is None and _group_value(float("nan")) is None
    zh, en = _unit_names(cities.set_index("code", drop=False), [str(c) for c in cities["code"]])
    assert len(set(en)) == len(en)
    assert "Suzhou (Jiangsu)" in en and "Suzhou (Anhui)" in en
    assert "Beijing" in en  # unique names are left alone
    long, fw, units, rc = synthetic_inputs("city", years=[2022, 2023], n_units=40, seed=1)
    extra = cities.set_index("code").loc[units["unit"], ["kind", "agglomeration", "dc_cluster"]].reset_index(drop=True)
    units = pd.concat([units.reset_index(drop=True), extra], axis=1)
    res = build(long, fw, rc, units=units)
    gc = group_columns(res)
    assert "kind" not in gc and "agglomeration" in gc


def test_pairs_and_overtakes_are_capped_with_both_probabilities():
    """pairs.csv with every pair: the page gets the pairs among the year's published top 15 (both directions'
    probabilities: they add up to less than 1 with ties), the closest calls and the likeliest overtakes."""
    from dcindex.report.data import PAIRS_TOP, _overtakes_view, _pairs_view

    N, years = 40, [2022, 2023]
    pos = {f"U{i:02d}": i for i in range(N)}
    nominal = np.array([np.arange(1, N + 1), np.arange(N, 0, -1)], dtype=float)
    rows, orows = [], []
    for y in years:
        for i in range(N):
            for j in range(i + 1, N):
                pab = 0.5 if (i, j) == (30, 31) else 0.85
                rows.append((y, f"U{i:02d}", f"U{j:02d}", pab, 0.1 if pab == 0.85 else 0.4))
    for i in range(N):
        for j in range(i + 1, N):
            orows.append((2022, 2023, f"U{i:02d}", f"U{j:02d}", 0.0, 0.6 if j - i == 1 else 0.1))
    p = pd.DataFrame(rows, columns=["year", "unit_a", "unit_b", "p_a_above_b", "p_b_above_a"])
    o = pd.DataFrame(orows, columns=["year_from", "year_to", "unit_a", "unit_b", "p_a_overtook_b", "p_b_overtook_a"])
    v = _pairs_view(p, pos, years, {"nominal_rank": nominal})
    per_year = PAIRS_TOP * (PAIRS_TOP - 1) // 2
    assert len(v["pairs"]) == 2 * per_year and v["pairs_n"] == {"2022": 780, "2023": 780}
    top22 = {r[1] for r in v["pairs"] if r[0] == 2022} | {r[2] for r in v["pairs"] if r[0] == 2022}
    assert top22 == set(range(PAIRS_TOP))
    top23 = {r[1] for r in v["pairs"] if r[0] == 2023} | {r[2] for r in v["pairs"] if r[0] == 2023}
    assert top23 == set(range(N - PAIRS_TOP, N))
    assert all(r[3] + r[4] < 1 for r in v["pairs"])  # ties: the two directions are carried separately
    assert v["close_calls"][0][:3] == [2022, 30, 31]
    ov = _overtakes_view(o, pos, {"nominal_rank": nominal}, years)
    assert ov["overtakes_n"] == {"2022-2023": N - 1} and 0 < len(ov["overtakes"]) <= 15
    assert all(r[4] >= 0.5 for r in ov["overtakes"])


def test_payload_embeds_only_what_the_page_shows(panel_dir):
    """Pattern files the page does not show stay in the folder; Dagum group tables and the third-party notices
    are embedded; map areas without data have English names."""
    from dcindex.report import build_payload

    p, _ = build_payload(panel_dir)
    nl = p["pattern"]["nodes"][p["root"]]
    assert not {"quadrants", "rank_mobility", "sigma_per_year", "sigma_trend", "beta_convergence",
                "kde_summary", "markov_classes"} & set(nl)
    g = p["pattern"]["groups"]["region4"][p["root"]]
    assert {"dagum_groups", "dagum_pairs"} <= set(g) and set(g["results"]) <= {"dagum", "markov"}
    text = " ".join(t for _, t in p["notices"])
    assert "Apache ECharts" in text and "Mike Bostock" in text
    names = {f["code"]: f["name_en"] for f in p["map"]["features"]}
    assert names["710000"] == "Taiwan" and names["810000"] == "Hong Kong" and names["110000"] == "Beijing"


def test_png_draws_dollar_signs_literally(tmp_path):
    """matplotlib would read '$...$' in a user string as mathtext and crash on a malformed one."""
    from dcindex.build import build
    from dcindex.report import write_report

    units = pd.DataFrame({"unit": ["110000", "120000", "130000", "140000"],
                          "name_zh": ["北京$\\frac{1}{0}$", "天津$", "河北", "山西"],
                          "name_en": ["Beijing $\\alpha^{2}$", "Tianjin $5 and $", "Hebei $\\nosuchcmd{$", "Shanxi"],
                          "region4": ["East", "East", "East", "Central"]})
    rows = [(u, y, k, float(v + 3 * i + (y - 2022))) for i, u in enumerate(units["unit"]) for y in (2022, 2023)
            for k, v in (("a", 1), ("b", 7))]
    data = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value"])
    fw = {"index": {"code": "I", "name_en": "Index $\\sum$", "children": [
        {"code": "P", "name_en": "P $x_{", "children": [{"code": "a", "name_en": "a $$"}]},
        {"code": "Q", "name_en": "Q", "children": [{"code": "b", "name_en": "b"}]}]}}
    build(data, fw, {"normalise": {"method": "minmax"}}, units=units).to_dir(tmp_path / "r")
    write_report(tmp_path / "r", lang="en", png_dir=tmp_path / "png")
    names = sorted(p.name for p in (tmp_path / "png").glob("*.png"))
    assert {"ranking.png", "weights.png", "bump.png"} <= set(names)


def test_png_helpers_label_spacing_and_top_n_title():
    from dcindex.report.png import TOP_RANKING, TXT, _spread

    ys = [40.5, 39.4, 37.3, 58.9]
    out = _spread(ys, 1.5)
    order = sorted(range(4), key=lambda i: ys[i])
    assert all(out[order[k + 1]] - out[order[k]] >= 1.5 - 1e-9 for k in range(3))  # apart, order kept
    assert abs(sum(out) - sum(ys)) < 1e-9  # centred on the lines' ends
    assert _spread([1.0, 5.0], 1.0) == [1.0, 5.0]  # already apart: unchanged
    assert TOP_RANKING == 40 and "{1}" in TXT["ranking_top"][1] and "{2}" in TXT["ranking_top"][1]
