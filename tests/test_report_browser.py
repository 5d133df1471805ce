"""The report in a real browser: Debian's Chromium driven by Playwright (no browser download).

Checks: no console errors and no network requests; the ranking table lists every unit; the zh/en switch
changes every label; moving the pillar-weight sliders gives exactly the ranks (and scores) of
``result.rebuild(node_weights=...)``; a unit named ``<img src=x onerror=alert(1)>`` stays inert text.
Screenshots go to ``test-artifacts/`` (git-ignored).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS as ARGS  # noqa: E402,F401  (the browser fixture lives there too)

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CJK = re.compile(r"[\u3400-\u9fff]")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
]


# ------------------------------------------------------------------------------------------ fixtures


class Page:
    """A loaded report page that records console errors, page errors, dialogs and non-file requests."""

    def __init__(self, browser, path: Path, width: int = 1360):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        pg = self.page
        pg.on("console", lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None)
        pg.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        pg.on("request", lambda r: self.requests.append(r.url) if not r.url.startswith(("file:", "data:", "blob:"))
              else None)

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        pg.on("dialog", on_dialog)
        pg.goto(path.resolve().as_uri())
        self.wait("window.dcReport && window.dcReport.ready === true", 15)

    def wait(self, expr: str, timeout: float = 5.0) -> None:
        """Poll a JavaScript expression (page.evaluate; wait_for_function would need 'unsafe-eval', which the
        report's Content-Security-Policy rightly refuses)."""
        import time

        end = time.monotonic() + timeout
        while not self.page.evaluate(expr):
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {expr}")
            self.page.wait_for_timeout(50)

    def render_all(self):
        self.page.evaluate("window.dcReport.renderAll()")
        self.page.wait_for_timeout(200)

    def shot(self, name: str, full: bool = True):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=full)

    def close(self):
        self.page.close()


def toy_plan(d: Path) -> Path:
    """A small compute plan solved by the real planner (three sites, five origins, two years, a frontier)."""
    from dcindex.plan import plan
    from dcindex.plan.toy import toy_scenario

    sites = [{"site_id": "NMG", "province_code": "150000", "region": "west", "hub": True, "existing_racks": 50,
              "capex_yuan_per_rack": 5, "grid_price_yuan_per_kwh": 0.3},
             {"site_id": "GZ", "province_code": "520000", "region": "west", "hub": True, "existing_racks": 30,
              "capex_yuan_per_rack": 5, "grid_price_yuan_per_kwh": 0.35},
             {"site_id": "SH", "province_code": "310000", "region": "east", "hub": False, "existing_racks": 40,
              "capex_yuan_per_rack": 9, "grid_price_yuan_per_kwh": 0.7}]
    origins = ["110000", "310000", "440000", "510000", "330000"]
    demand = {(o, "batch", y): 10.0 + 3 * i + (y - 2025) * 4 for i, o in enumerate(origins) for y in (2025, 2026)}
    sc = toy_scenario(sites, demand, years=[2025, 2026], netcost=1.0,
                      frontier={"parameter": "carbon_price", "values": [0, 200, 800]})
    plan(sc, out=d, rule_costs=False)
    return d


@pytest.fixture(scope="module")
def panel_result(tmp_path_factory):
    """A 31-province x 4-year synthetic build with its regional pattern analysis, audit, uncertainty analysis
    and a compute plan, and its report (zh)."""
    from dcindex import pattern
    from dcindex.audit import audit
    from dcindex.io import load_result
    from dcindex.report import write_report
    from dcindex.report.samples import synthetic_result
    from dcindex.uncertainty import uncertainty

    d = tmp_path_factory.mktemp("panel")
    res = synthetic_result("province", years=range(2020, 2024), seed=3)
    res.to_dir(d)
    pr = pattern.analyse(res, by="region4", seed=0, B=49, permutations=99, markov_permutations=9, spatial_models=())
    pr.to_dir(d / "pattern" / "region4")
    audit(res).to_dir(d / "audit")
    # the choices are named in Chinese like every other string of this data set (the zh-mode test relies on it)
    spec = {"n": 40, "seed": 1, "choices": [{"type": "weights", "name": "权重", "levels": [2], "amount": 0.3},
                                            {"type": "treat", "name": "缩尾上限", "vary": {"max_points": [1, 3, 5]}}]}
    uncertainty(res, spec, pairs="top10").to_dir(d / "uncertainty")
    pdir = toy_plan(tmp_path_factory.mktemp("plan"))
    out = write_report(d, lang="zh", out=d / "report.html", plan_dir=pdir)
    return load_result(d), out


def _evil_inputs():
    units = pd.DataFrame({
        "unit": ["U1", "U2", "U3", "U4", "U5", "U6"],
        "name_zh": ["<img src=x onerror=alert(1)>", "甲", "乙", "丙", "丁", "戊"],
        "name_en": ["<img src=x onerror=alert(1)>", "A</script><script>alert(2)</script>", "B", "C", "D", "E"],
        "group": ["g<b>1</b>", "g<b>1</b>", "g2", "g2", "g3", "g3"],
    })
    rng = np.random.default_rng(7)
    rows = [(u, y, k, float(rng.uniform(1, 100))) for y in (2021, 2022) for u in units["unit"]
            for k in ("i1", "i2", "i3", "i4")]
    data = pd.DataFrame(rows, columns=["unit", "year", "indicator", "value"])
    fw = {"index": {"code": "IDX", "name_zh": "指数<script>alert(3)</script>", "name_en": "Index <!-- x",
                    "children": [
                        {"code": "P1", "name_zh": "维度一\u2028", "name_en": "Pillar </script>", "children": [
                            {"code": "i1", "name_zh": "指标一", "name_en": "<svg onload=alert(4)>"},
                            {"code": "i2", "name_zh": "指标二", "name_en": "i2 & co"}]},
                        {"code": "P2", "name_zh": "维度二", "name_en": "Pillar 2", "children": [
                            {"code": "i3", "name_zh": "指标三", "name_en": "i3", "source": "<a href=javascript:alert(5)>x</a>"},
                            {"code": "i4", "name_zh": "指标四", "name_en": "i4"}]}]}}
    return data, fw, units


# ---------------------------------------------------------------------------------------------- tests
def test_renders_without_errors_and_lists_every_unit(browser, panel_result):
    res, html = panel_result
    pg = Page(browser, html)
    try:
        pg.render_all()
        pg.page.wait_for_timeout(300)
        rows = pg.page.locator("#rank-table tbody tr")
        assert rows.count() == len(res.unit_codes)
        listed = set(pg.page.eval_on_selector_all("#rank-table tbody tr", "els => els.map(e => e.dataset.unit)"))
        assert listed == set(res.unit_codes)
        # ranks shown = the build's ranks for the latest year
        shown = pg.page.eval_on_selector_all(
            "#rank-table tbody tr", "els => els.map(e => [e.dataset.unit, e.querySelector('td.rk').textContent])")
        want = res.wide(what="rank")[res.years[-1]]
        assert {u: int(r) for u, r in shown} == {u: int(want[u]) for u in res.unit_codes}
        n_charts = pg.page.evaluate("window.dcReport.charts()")
        # map, bump, group means, inequality, Dagum, kde, Moran, LISA, Markov, whiskers, pairs, sensitivity,
        # leave-one-out, importance, drivers, flows, utilisation, frontier
        assert n_charts >= 18, n_charts
        for sel in ("#audit-problems li", "#overtakes li, #sec-uncertainty p", "#explain-drivers canvas",
                    "#sec-plan canvas"):
            assert pg.page.locator(sel).count() > 0, sel
        # the Dagum table: a row per year, a column per group and per pair of groups, every cell filled
        heads = pg.page.eval_on_selector_all("#dagum-table thead tr:nth-child(2) th", "els => els.map(e => e.textContent)")
        assert len(heads) == 4 + 6 + 3, heads  # four regions, six pairs, three contribution shares
        cells = pg.page.eval_on_selector_all("#dagum-table tbody td", "els => els.map(e => e.textContent)")
        assert pg.page.locator("#dagum-table tbody tr").count() == len(res.years) and "–" not in cells
        # the ranking table carries the uncertainty interval of every ranked unit
        ci = pg.page.eval_on_selector_all("#rank-table td.ci", "els => els.map(e => e.textContent)")
        assert len(ci) == len(res.unit_codes) and all(re.fullmatch(r"\d+–\d+", c) for c in ci), ci
        pg.shot("report_zh_full.png")
        pg.page.locator("#sec-map").scroll_into_view_if_needed()
        pg.shot("report_zh_map.png", full=False)
        assert pg.errors == [], pg.errors
        assert pg.requests == [], pg.requests
    finally:
        pg.close()


def test_language_switch_changes_every_label(browser, panel_result):
    res, html = panel_result
    pg = Page(browser, html)
    try:
        zh_heads = pg.page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
        assert all(CJK.search(h) for h in zh_heads if h != "Moran")
        pg.page.click(".langs button[data-lang=en]")
        pg.wait("document.documentElement.lang === 'en'")
        pg.render_all()
        en_heads = pg.page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
        assert len(en_heads) == len(zh_heads) and not any(CJK.search(h) for h in en_heads)
        # every visible text in English mode is free of Chinese (the data have English names), except the
        # language button itself, verbatim copies of other tools' files (e.g. the planner's summary.txt) and
        # names marked as data that exist in one language only (the uncertainty choices are named in Chinese)
        text = pg.page.evaluate("""() => { const c = document.body.cloneNode(true);
            c.querySelectorAll('.langs, script, noscript, .verbatim, .data').forEach(e => e.remove()); return c.innerText; }""")
        assert not CJK.search(text), CJK.findall(text)[:20]
        assert "Ranking" in text and "Regional pattern" in text
        # a profile page in English
        pg.page.evaluate(f"location.hash = '#unit={res.unit_codes[0]}'")
        pg.page.wait_for_selector("#prof-name")
        assert pg.page.text_content("#prof-name") == str(res.units["name_en"].iloc[0])
        pg.render_all()
        pg.shot("report_en_profile.png")
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def test_year_selector_and_flagged_cells_in_profiles(browser, panel_result):
    res, html = panel_result
    pg = Page(browser, html)
    try:
        pg.page.select_option(".toc select", str(0))  # the first year
        pg.wait(f"document.querySelector('#sec-ranking h2').textContent.indexOf('{res.years[0]}') >= 0")
        shown = pg.page.eval_on_selector_all(
            "#rank-table tbody tr", "els => els.map(e => [e.dataset.unit, e.querySelector('td.rk').textContent])")
        want = res.wide(what="rank")[res.years[0]]
        assert {u: int(r) for u, r in shown} == {u: int(want[u]) for u in res.unit_codes}
        # a unit with an imputed value in the last year: its profile flags exactly that indicator
        pg.page.select_option(".toc select", str(len(res.years) - 1))
        t, n, k = map(int, np.argwhere(res.imputed_mask[-1:])[0])
        unit, ind = res.unit_codes[n], res.framework.indicators[k]
        pg.page.evaluate(f"location.hash = '#unit={unit}'")
        pg.page.wait_for_selector("#prof-ind")
        flagged = pg.page.eval_on_selector_all("#prof-ind tr[data-ind]", """els => els.filter(e =>
            e.querySelector('.flagdot')).map(e => e.dataset.ind)""")
        want_flagged = [res.framework.indicators[j] for j in range(len(res.framework.indicators))
                        if res.imputed_mask[-1, n, j] or res.treated_mask[-1, n, j]]
        assert ind in flagged and sorted(flagged) == sorted(want_flagged)
        pg.render_all()
        pg.shot("report_zh_profile_flagged.png")
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def _set_sliders(pg: Page, values: dict[str, int]) -> None:
    for code, v in values.items():
        pg.page.eval_on_selector(f"input[data-pillar='{code}']",
                                 "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); }", v)


def _browser_ranks(pg: Page, res) -> tuple[np.ndarray, np.ndarray]:
    R = np.full((len(res.years), len(res.unit_codes)), np.nan)
    S = np.full_like(R, np.nan)
    for t in range(len(res.years)):
        for n, (code, r, s) in enumerate(pg.page.evaluate(f"window.dcReport.ranks({t})")):
            assert code == res.unit_codes[n]
            R[t, n] = np.nan if r is None else r
            S[t, n] = np.nan if s is None else s
    return R, S


def test_weight_sliders_match_python_rebuild(browser, panel_result):
    res, html = panel_result
    pg = Page(browser, html)
    try:
        assert "exact" in pg.page.get_attribute("#rw-mode", "class")
        weights = {"INFRA": 70, "INDUS": 5, "SKILL": 25}
        _set_sliders(pg, weights)
        R, S = _browser_ranks(pg, res)
        want = res.rebuild(node_weights=weights)
        j = want.node_index(want.framework.root)
        np.testing.assert_array_equal(R, want.ranks_array[:, :, j])
        np.testing.assert_array_equal(S, want.scores_array[:, :, j])  # bit for bit (numpy's summation order)
        assert not np.array_equal(R, res.ranks_array[:, :, j])  # the weights did change the ranking
        status = pg.page.text_content("#rw-status")
        assert re.search(r"\d", status)
        pg.page.locator("#reweight").scroll_into_view_if_needed()
        pg.shot("report_reweighted.png", full=False)
        pg.page.click("#rw-reset")
        R0, _ = _browser_ranks(pg, res)
        np.testing.assert_array_equal(R0, res.ranks_array[:, :, j])
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def test_geometric_sliders_and_approximation_label(browser, tmp_path):
    """Geometric aggregation over the pillars is recomputed exactly; any other is labelled as an
    arithmetic approximation."""
    from dcindex.io import load_result
    from dcindex.report import write_report
    from dcindex.report.samples import synthetic_inputs
    from dcindex.build import build

    long, fw, units, rc = synthetic_inputs("province", years=range(2021, 2024), seed=5)
    rc = dict(rc, normalise={"method": "minmax", "low": 1, "high": 100, "scope": "pooled"},
              aggregate={"method": "arithmetic", "by_level": {3: {"method": "geometric"}}})
    build(long, fw, rc, units=units).to_dir(tmp_path / "geo")
    res = load_result(tmp_path / "geo")
    html = write_report(tmp_path / "geo", lang="en")
    pg = Page(browser, html)
    try:
        assert "exact" in pg.page.get_attribute("#rw-mode", "class")
        weights = {"INFRA": 20, "INDUS": 50, "SKILL": 30}
        _set_sliders(pg, weights)
        R, S = _browser_ranks(pg, res)
        want = res.rebuild(node_weights=weights)
        j = want.node_index(want.framework.root)
        np.testing.assert_array_equal(R, want.ranks_array[:, :, j])
        np.testing.assert_allclose(S, want.scores_array[:, :, j], rtol=1e-13)  # JS and C log/exp may differ by an ulp
        assert pg.errors == [], pg.errors
    finally:
        pg.close()

    rc2 = dict(rc, aggregate={"method": "arithmetic", "by_level": {3: {"method": "mazziotta_pareto"}}})
    build(long, fw, rc2, units=units).to_dir(tmp_path / "mp")
    html2 = write_report(tmp_path / "mp", lang="en")
    pg = Page(browser, html2)
    try:
        assert "approx" in pg.page.get_attribute("#rw-mode", "class")
        assert "approximation" in pg.page.text_content("#rw-mode").lower()
    finally:
        pg.close()


def test_injected_names_are_inert_text(browser, tmp_path):
    from dcindex.build import build
    from dcindex.report import write_report

    data, fw, units = _evil_inputs()
    build(data, fw, {"normalise": {"method": "minmax"}}, units=units).to_dir(tmp_path / "evil")
    html = write_report(tmp_path / "evil", lang="zh")
    pg = Page(browser, html)
    try:
        pg.render_all()
        pg.page.wait_for_timeout(300)
        assert pg.dialogs == []
        assert pg.page.evaluate("document.querySelectorAll('img, svg[onload], a[href^=javascript]').length") == 0
        cells = pg.page.eval_on_selector_all("#rank-table a.uname", "els => els.map(e => e.textContent)")
        assert "<img src=x onerror=alert(1)>" in cells
        # capabilities whose output is absent say so in their section (no empty or fake chart)
        for sec in ("map", "pattern", "uncertainty"):
            assert pg.page.locator(f"#sec-{sec} .absent").count() >= 1, sec
            assert pg.page.locator(f"#sec-{sec} canvas").count() == 0, sec
        assert "GB/T 2260" in pg.page.text_content("#sec-map .absent")
        assert pg.page.evaluate("document.title").startswith("指数<script>alert(3)</script>")
        pg.page.click(".langs button[data-lang=en]")
        pg.wait("document.documentElement.lang === 'en'")
        pg.render_all()
        cells = pg.page.eval_on_selector_all("#rank-table a.uname", "els => els.map(e => e.textContent)")
        assert "A</script><script>alert(2)</script>" in cells
        assert pg.page.text_content("h1#title") == "Index <!-- x"
        # the profile page of the injected unit
        pg.page.evaluate("location.hash = '#unit=U1'")
        pg.page.wait_for_selector("#prof-name")
        assert pg.page.text_content("#prof-name") == "<img src=x onerror=alert(1)>"
        pg.render_all()
        pg.page.wait_for_timeout(300)
        pg.shot("report_injection_profile.png")
        assert pg.dialogs == []
        assert pg.page.evaluate("document.querySelectorAll('img, svg[onload]').length") == 0
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


# ------------------------------------------------------------------------------------ QA review 7 fixes
#: ASCII words allowed in the Chinese page: proper names of methods and software, and symbols
ZH_ALLOWED = {"dcindex", "Moran", "Moran’s", "Moran's", "LISA", "Dagum", "Shorrocks", "Sobol", "TOPSIS", "CRITIC",
              "PCA", "AHP", "BoD", "ECharts", "Apache", "echarts", "JavaScript", "sha", "YAML", "Mazziotta", "Pareto",
              "Cronbach", "Gnb", "Shapley", "HiGHS"}
#: where English is legitimate in Chinese mode: code, hashes, file contents, messages of other tools shown as
#: such ('original (English)'), data fields the user wrote (units and sources of indicators)
ZH_SKIP = "script,noscript,style,.code,pre,.hash,.orig,.verbatim,.data,.langs,.fw-u,.fw-s,[lang=en]"
TEXTS_JS = """(skip) => {
  const out = [];
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = w.nextNode())) {
    const p = n.parentElement; if (!p || p.closest(skip)) continue;
    if (p.closest('#main') && document.body.classList.contains('profile-open')) continue;
    const s = n.textContent.trim(); if (s) out.push(s);
  }
  document.querySelectorAll('[placeholder],[title],[aria-label]').forEach(e => { if (e.closest(skip)) return;
    for (const a of ['placeholder', 'title', 'aria-label']) if (e.getAttribute(a)) out.push(e.getAttribute(a)); });
  document.querySelectorAll('.chart').forEach(el => { const inst = echarts.getInstanceByDom(el); if (!inst) return;
    const o = inst.getOption();
    const grab = x => { if (typeof x === 'string') out.push(x); else if (Array.isArray(x)) x.forEach(grab);
      else if (x && typeof x === 'object') for (const k of ['name', 'data', 'text', 'indicator']) if (k in x) grab(x[k]); };
    for (const k of ['xAxis', 'yAxis', 'legend', 'series', 'radar', 'visualMap']) grab(o[k]); });
  return out;
}"""


def _stray_english(texts: list[str]) -> list[str]:
    bad = []
    for s in texts:
        s2 = re.sub(r"dcindex \w+", "dcindex", s)  # command names (dcindex explain, ...) are code
        # words with a lower-case letter: acronyms and codes in the data (GDP, site ids) are not English prose
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z’']{2,}", s2) if w not in ZH_ALLOWED and w != w.upper()]
        if words:
            bad.append(f"{s[:100]} -> {words[:4]}")
    return sorted(set(bad))


def test_chinese_page_has_no_stray_english(browser, panel_result):
    """Everything the report writes itself is Chinese in zh mode (the data set is Chinese throughout); English
    shows only as code, hashes, or other tools' messages under an 'original (English)' label."""
    res, html = panel_result
    pg = Page(browser, html)
    try:
        pg.render_all()
        bad = _stray_english(pg.page.evaluate(TEXTS_JS, ZH_SKIP))
        pg.page.evaluate(f"location.hash = '#unit={res.unit_codes[3]}'")
        pg.page.wait_for_selector("#prof-name")
        pg.render_all()
        bad += _stray_english(pg.page.evaluate(TEXTS_JS, ZH_SKIP))
        assert bad == [], bad
        # other tools' English messages are there, but labelled
        assert pg.page.locator("details.orig summary").count() > 0
        assert "原文（英文" in pg.page.evaluate("document.querySelector('details.orig summary').textContent")
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def _map_values(pg: Page) -> dict[str, float]:
    return dict(pg.page.evaluate("""() => { const el = document.querySelector('#sec-map .chart');
        const inst = echarts.getInstanceByDom(el); if (!inst) return [];
        return inst.getOption().series[0].data.map(d => [d.name, d.value]); }"""))


def test_reweighting_updates_map_rank_chart_and_profile(browser, panel_result):
    res, html = panel_result
    pg = Page(browser, html)
    try:
        pg.render_all()
        codes = res.unit_codes
        before = _map_values(pg)
        j = res.node_index(res.framework.root)
        assert before[codes[0]] == res.scores_array[-1, 0, j]
        _set_sliders(pg, {"INFRA": 80, "INDUS": 10, "SKILL": 10})
        pg.page.wait_for_timeout(400)  # the drawn map and rank chart are redrawn at once (no scrolling needed)
        rw = pg.page.evaluate("window.dcReport.ranks()")
        after = _map_values(pg)
        assert {c: after[c] for c in codes} == {c: s for c, _, s in rw}
        assert after != before
        assert "按滑块权重重新计算" in pg.page.text_content("#map-caption")
        assert pg.page.locator("#sec-trend .rwtag").count() == 1
        # the rank chart draws the re-weighted ranks
        trend = pg.page.evaluate("""() => { const inst = echarts.getInstanceByDom(document.querySelector('#sec-trend .chart'));
            return inst.getOption().series.map(s => [s.name, s.data]); }""")
        for code, data in trend:
            n = codes.index(code)
            want = [pg.page.evaluate(f"window.dcReport.ranks({t})")[n][1] for t in range(len(res.years))]
            assert data == want, code
            break
        # views that cannot follow the sliders say so
        for sec in ("pattern", "uncertainty", "explain"):
            assert pg.page.locator(f"#sec-{sec} .rwpub").count() == 1, sec
        # the profile shows the re-weighted rank and score next to the published ones
        code, r, s = rw[5]
        pg.page.evaluate(f"location.hash = '#unit={code}'")
        pg.page.wait_for_selector("#prof-rw")
        note = pg.page.text_content("#prof-rw")
        assert "…" not in note and f"名次 {r}" in note
        assert pg.page.text_content(".bignum b") == str(r)
        pg.page.evaluate("location.hash = ''")
        pg.page.click("#rw-reset")
        pg.page.wait_for_timeout(400)
        assert _map_values(pg) == before
        assert pg.page.locator(".rwtag, .rwpub").count() == 0
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def test_year_selector_updates_uncertainty_and_explanation(browser, panel_result):
    res, html = panel_result
    pg = Page(browser, html)
    try:
        y = res.years[1]
        pg.page.select_option(".toc select", "1")
        pg.wait(f"document.querySelector('#sec-uncertainty .fig .sub').textContent.indexOf('{y}') >= 0")
        pg.render_all()
        # the whiskers are those of the selected year
        U = pg.page.evaluate("window.dcReport.data.uncertainty.view.ranks")
        data = pg.page.evaluate("""() => echarts.getInstanceByDom(document.querySelector('#unc-whiskers'))
            .getOption().series[0].data""")
        first = data[0]
        n = int(np.nanargmin(np.array([np.nan if v is None else v for v in U["nominal_rank"][1]], dtype=float)))
        assert first[1:] == [U["q05_rank"][1][n], U["q95_rank"][1][n], U["median_rank"][1][n], U["nominal_rank"][1][n]]
        assert str(y) in pg.page.text_content("#sec-explain .fig .sub")
        assert str(y) in pg.page.text_content("#unc-headline")
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def _hover_all_charts(pg: Page, selector: str) -> int:
    n = pg.page.locator(selector).count()
    for i in range(n):
        el = pg.page.locator(selector).nth(i)
        el.scroll_into_view_if_needed()
        bb = el.bounding_box()
        if not bb or bb["width"] < 5:
            continue
        for fx in (0.2, 0.4, 0.6, 0.8):
            for fy in (0.25, 0.5, 0.75):
                pg.page.mouse.move(bb["x"] + bb["width"] * fx, bb["y"] + bb["height"] * fy)
    return n


def test_hovering_every_chart_logs_no_error(browser, panel_result):
    """Tooltips are DOM nodes built by the page: ECharts' default HTML tooltip (inline styles) would be refused
    by the Content-Security-Policy and log an error on every hover."""
    res, html = panel_result
    pg = Page(browser, html)
    try:
        pg.render_all()
        assert _hover_all_charts(pg, "#main .chart") >= 15
        pg.page.evaluate(f"location.hash = '#unit={res.unit_codes[0]}'")
        pg.page.wait_for_selector("#prof-name")
        pg.render_all()
        assert _hover_all_charts(pg, "#profile .chart") >= 3
        assert pg.errors == [], pg.errors[:5]
    finally:
        pg.close()


def test_printing_draws_every_chart(browser, panel_result):
    """Charts below the fold are drawn when scrolled to; before printing, all of them are drawn."""
    res, html = panel_result
    pg = Page(browser, html)
    try:
        missing = "Array.from(document.querySelectorAll('#main .chart')).filter(el => !echarts.getInstanceByDom(el)).length"
        assert pg.page.evaluate(missing) > 0  # lazily drawn
        pg.page.emulate_media(media="print")
        pg.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        assert pg.page.evaluate(missing) == 0
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def test_phone_width_layout(browser, panel_result):
    """390 px wide: nothing sticks out of the page (wide tables scroll in their own box), the language switch
    stays on one line, and the weight sliders come before the long ranking table."""
    res, html = panel_result
    pg = Page(browser, html, width=390)
    try:
        pg.render_all()
        over = pg.page.evaluate("""() => {
            const scrollers = '.scroll,.scroll-x,.treebox,.tablebox,.toc nav,pre,canvas,.chart';
            return Array.from(document.querySelectorAll('#app *')).filter(e => !e.closest(scrollers) && e.getClientRects().length
                && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
              .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 10); }""")
        assert over == [], over
        assert pg.page.evaluate("document.documentElement.scrollWidth") <= 391
        tops = pg.page.evaluate("Array.from(document.querySelectorAll('.langs button')).map(b => b.getBoundingClientRect().top)")
        assert len(set(tops)) == 1
        assert pg.page.evaluate("""document.querySelector('#reweight').getBoundingClientRect().top <
            document.querySelector('#rank-table').getBoundingClientRect().top""")
        pg.shot("report_phone.png")
        pg.page.evaluate(f"location.hash = '#unit={res.unit_codes[0]}'")
        pg.page.wait_for_selector("#prof-name")
        pg.render_all()
        pg.shot("report_phone_profile.png")
        assert pg.page.evaluate("document.documentElement.scrollWidth") <= 391
        assert pg.errors == [], pg.errors
    finally:
        pg.close()


def test_profile_strengths_and_weaknesses_never_repeat(browser, panel_result):
    """When no node passes the strength (or weakness) rule, that side lists the best (worst) ranked nodes for
    reference; a node never appears twice in the block."""
    res, html = panel_result
    pg = Page(browser, html)
    try:
        for code in res.unit_codes[:8]:
            pg.page.evaluate(f"location.hash = '#unit={code}'")
            pg.wait(f"document.querySelector('#prof-name') && location.hash === '#unit={code}'")
            names = pg.page.eval_on_selector_all("#prof-sw li b", "els => els.map(e => e.textContent)")
            assert len(names) == len(set(names)), (code, names)
            assert pg.page.locator("#prof-sw h3").count() == 2
        assert pg.errors == [], pg.errors
    finally:
        pg.close()
