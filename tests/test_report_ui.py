"""The report in a real browser, part 2: re-weighting with data-driven weights, charts of indices with few or
long-named pillars, the 'who ranks above whom' heatmap with ties. Same set-up as ``test_report_browser.py``
(Debian's Chromium through Playwright; screenshots in ``test-artifacts/``)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from test_report_browser import ARGS, CHROMIUM, Page, _browser_ranks, _hover_all_charts, _set_sliders

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
]




def test_sliders_replace_data_driven_weights(browser, tmp_path):
    """Entropy weights per year for the pillars: rebuild(node_weights=...) would ignore the sliders (the recipe
    computes its own weights), so the page does not claim 'exact'; it says that the sliders replace the entropy
    weights, and its result is exactly the rebuild with the pillar weighting set to these fixed weights."""
    from dcindex.build import build
    from dcindex.io import load_result
    from dcindex.report import write_report
    from dcindex.report.samples import synthetic_inputs

    long, fw, units, rc = synthetic_inputs("province", years=range(2020, 2024), seed=4)
    build(long, fw, dict(rc, weights={"method": "entropy", "scope": "year"}), units=units).to_dir(tmp_path / "ent")
    res = load_result(tmp_path / "ent")
    root = res.framework.root
    html = write_report(tmp_path / "ent", lang="en")
    pg = Page(browser, html)
    try:
        assert pg.page.get_attribute("#rw-mode", "data-mode") == "replace"
        mode = pg.page.text_content("#rw-mode")
        assert "replace" in mode and "entropy" in mode and "Exact:" not in mode
        starts = pg.page.eval_on_selector_all("#reweight input[type=range]", "els => els.map(e => +e.value)")
        assert sum(starts) == 100
        assert pg.page.locator("#rw-years").count() == 1  # the per-year weights are said to differ ...
        assert pg.page.locator(".rw-years tbody tr").count() == len(res.years)  # ... and listed
        weights = {"INFRA": 20, "INDUS": 50, "SKILL": 30}
        _set_sliders(pg, weights)
        R, S = _browser_ranks(pg, res)
        wspec = res.recipe.weights.to_plain()
        wspec.setdefault("by_node", {})[root] = {"method": "meta"}
        want = res.rebuild(node_weights=weights, weights=wspec)
        j = want.node_index(root)
        np.testing.assert_array_equal(S, want.scores_array[:, :, j])
        np.testing.assert_array_equal(R, want.ranks_array[:, :, j])
        # the recipe's own method ignores the slider weights: not what the page shows
        same = res.rebuild(node_weights=weights)
        assert np.array_equal(same.scores_array[:, :, j], res.scores_array[:, :, j])
        assert not np.array_equal(S, same.scores_array[:, :, j])
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def _long_named(tmp_path, n_pillars: int, name: str):
    """31 provinces x 3 years with ``n_pillars`` pillars of long names in both languages."""
    from dcindex.build import build
    from dcindex.report.samples import synthetic_inputs

    long, _, units, rc = synthetic_inputs("province", years=range(2021, 2024), seed=9)
    inds = sorted(long["indicator"].unique())
    zh = ["数字基础资源与基础设施建设水平", "数字产业发展与数字化转型程度", "城乡数字普惠与公共服务均等化",
          "数字创新能力与科技研发投入", "数字治理与营商环境建设"]
    en = ["Digital base resources and infrastructure", "Digital industry development and transformation",
          "Urban-rural digital inclusion and public services", "Digital innovation capacity and R&D",
          "Digital governance and business environment"]
    chunks = np.array_split(np.array(inds), n_pillars)
    fw = {"index": {"code": "IDX", "name_zh": "测试指数", "name_en": "Test index", "children": [
        {"code": f"P{i}", "name_zh": zh[i], "name_en": en[i],
         "children": [{"code": c, "name_zh": f"指标{c}", "name_en": f"Indicator {c}"} for c in ch]}
        for i, ch in enumerate(chunks)]}}
    build(long, fw, rc, units=units).to_dir(tmp_path / name)
    return tmp_path / name


LABEL_QUADS = """(sel) => {
  // every x-axis label of the chart as the four corners of its (possibly rotated) box on the canvas
  const inst = echarts.getInstanceByDom(document.querySelector(sel));
  const labels = inst.getOption().xAxis[0].data.map(String), out = [];
  const walk = e => {
    if (e.type === 'text' && e.style && labels.includes(String(e.style.text))) {
      const r = e.getBoundingRect(), m = e.getComputedTransform() || [1, 0, 0, 1, 0, 0];
      const pts = [[r.x, r.y], [r.x + r.width, r.y], [r.x + r.width, r.y + r.height], [r.x, r.y + r.height]]
        .map(p => [m[0] * p[0] + m[2] * p[1] + m[4], m[1] * p[0] + m[3] * p[1] + m[5]]);
      out.push([String(e.style.text), pts]);
    }
    if (e.childrenRef) e.childrenRef().forEach(walk);
  };
  inst.getZr().storage.getRoots().forEach(walk);
  return out;
}"""


def _overlap(a, b) -> bool:
    """Separating-axis test for two convex quadrilaterals (shrunk by half a pixel: touching is not overlapping)."""
    def axes(q):
        return [(q[(i + 1) % 4][1] - q[i][1], q[i][0] - q[(i + 1) % 4][0]) for i in range(4)]
    for ax in axes(a) + axes(b):
        pa = [p[0] * ax[0] + p[1] * ax[1] for p in a]
        pb = [p[0] * ax[0] + p[1] * ax[1] for p in b]
        norm = (ax[0] ** 2 + ax[1] ** 2) ** 0.5 or 1
        if max(pa) - 0.5 * norm <= min(pb) or max(pb) - 0.5 * norm <= min(pa):
            return False
    return True


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_waterfall_labels_never_overlap(browser, tmp_path, lang):
    """Five long pillar names on the change waterfall, on a desktop and a phone screen: the labels are wrapped or
    rotated so that no two of them overlap."""
    d = _long_named(tmp_path, 5, "long")
    from dcindex.report import write_report

    html = write_report(d, lang=lang)
    for width in (1360, 390):
        pg = Page(browser, html, width=width)
        try:
            pg.page.evaluate("location.hash = '#unit=110000'")
            pg.page.wait_for_selector("#prof-waterfall")
            pg.render_all()
            quads = pg.page.evaluate(LABEL_QUADS, "#prof-waterfall")
            assert len(quads) == 7, [q[0] for q in quads]  # first year, five pillars, last year
            clashes = [(a[0], b[0]) for i, a in enumerate(quads) for b in quads[i + 1:] if _overlap(a[1], b[1])]
            assert clashes == [], clashes
            box = pg.page.evaluate("document.querySelector('#prof-waterfall').getBoundingClientRect().width")
            assert all(0 <= x <= box + 1 for _, q in quads for x, _ in q), (width, box, [(s, [round(x) for x, _ in q]) for s, q in quads])  # inside the chart
            pg.page.locator("#prof-waterfall").scroll_into_view_if_needed()
            pg.page.locator("#prof-waterfall").screenshot(path=str(_artifact(f"waterfall_{lang}_{width}.png")))
            assert pg.errors == [], pg.errors
        finally:
            pg.close()


def _artifact(name: str):
    from test_report_browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def test_two_pillar_profile_chart(browser, tmp_path):
    """An index with two pillars (no radar): the bar chart compares the unit with the median and its group's
    mean, and hovering it shows the page's own tooltip without any console error (ECharts' default tooltip
    would be refused by the Content-Security-Policy)."""
    from dcindex.report import write_report

    d = _long_named(tmp_path, 2, "two")
    html = write_report(d, lang="zh")
    pg = Page(browser, html)
    try:
        pg.page.evaluate("location.hash = '#unit=440000'")
        pg.page.wait_for_selector("#prof-name")
        pg.render_all()
        names = pg.page.evaluate("""() => echarts.getInstanceByDom(document.querySelector('#profile .chart.radar'))
            .getOption().series.map(s => s.name)""")
        assert len(names) == 3 and names[2] == "东部均值", names
        el = pg.page.locator("#profile .chart.radar")
        bb = el.bounding_box()
        pg.page.mouse.move(bb["x"] + bb["width"] * 0.35, bb["y"] + bb["height"] * 0.6)
        pg.page.wait_for_timeout(300)
        tip = pg.page.evaluate("Array.from(document.querySelectorAll('.tt')).map(e => e.textContent).join('|')")
        assert "东部均值" in tip
        _hover_all_charts(pg, "#profile .chart")
        pg.shot("profile_two_pillars.png", full=False)
        assert pg.errors == [], pg.errors[:5]
    finally:
        pg.close()


def test_rank_probability_heatmap_uses_both_directions(browser, tmp_path):
    """Cell (A, B) shows P(A above B) and cell (B, A) P(B above A): with ties in some draws they do not add up
    to 1, so the lower triangle is not 1 - upper."""
    from dcindex.build import build
    from dcindex.report import write_report
    from dcindex.report.samples import synthetic_inputs

    long, fw, units, rc = synthetic_inputs("province", years=[2022, 2023], seed=2)
    res = build(long, fw, rc, units=units)
    d = tmp_path / "ties"
    res.to_dir(d)
    u = d / "uncertainty"
    u.mkdir()
    j = res.node_index(res.framework.root)
    rows = []
    for t, y in enumerate(res.years):
        for n, c in enumerate(res.unit_codes):
            r = res.ranks_array[t, n, j]
            rows.append({"unit": c, "year": y, "nominal_rank": r, "mean_rank": r, "median_rank": r, "q05_rank": r,
                         "q95_rank": r})
    pd.DataFrame(rows).to_csv(u / "ranks.csv", index=False)
    last = res.ranks_array[-1, :, j]
    top = [res.unit_codes[i] for i in np.argsort(last)[:4]]
    pairs = [{"year": 2023, "unit_a": a, "unit_b": b, "p_a_above_b": 0.6, "p_b_above_a": 0.1}
             for i, a in enumerate(top) for b in top[i + 1:]]
    pd.DataFrame(pairs).to_csv(u / "pairs.csv", index=False)
    (u / "summary.json").write_text(json.dumps({"n_draws": 10, "n_failed": 0}), encoding="utf-8")
    html = write_report(d, lang="en")
    pg = Page(browser, html)
    try:
        pg.render_all()
        data = pg.page.evaluate("""() => echarts.getInstanceByDom(document.querySelector('#sec-uncertainty .chart.tall'))
            .getOption().series[0].data.map(d => d.value)""")
        vals = {(c[0], c[1]): c[2] for c in data}
        assert len(vals) == 12
        # rows are units in rank order: above the diagonal P(row above column) = 0.6, below it 0.1
        assert all(v == (0.6 if y < x else 0.1) for (x, y), v in vals.items()), vals
        assert pg.errors == [], pg.errors
    finally:
        pg.close()
