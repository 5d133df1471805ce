"""Benchmark: time to first render of a 337-city x 10-year report in headless Chromium.

Data: the 337 prefecture-level cities of the shipped China reference table with *synthetic* indicator values
(``dcindex.report.samples``: 8 indicators, 3 pillars, 2014-2023), built, with the regional pattern analysis
(by region4, for the index and each pillar) written into the result folder, so the page carries every view
it can show: ranking table with re-weighting, city map with region outlines, bump chart, group means,
inequality, Dagum, kernel densities, Moran scatter, LISA map, Markov heatmap, framework, quality, provenance.

Measured in the same Chromium run, three page loads each, median, as the browser's own first-contentful-paint
time (``PerformanceObserver`` of type ``paint``; the moment the first text or graphics reach the screen, from
the start of navigation):

* ``report``: the page is built by its script (data parsed, ECharts loaded, sections and the charts in the first
  viewport created) before anything is painted, so its first contentful paint is the first render; charts below
  the fold are drawn lazily when scrolled to, so the time to draw *all* charts is reported too (not in the
  BENCH line), and so is the script's own "ready" mark;
* ``baseline``: the same data as a plain static HTML table (one row per city: index score for each of the
  10 years and the three pillar scores of the last year; no JavaScript, no charts), its first contentful
  paint.

The goal (issue 7) is a first render under 3 s. Run: ``python bench/bench_report.py`` (needs
/usr/bin/chromium and playwright). The last line is the BENCH line.
"""
from __future__ import annotations

import html
import statistics
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
REPEATS = 3

#: resolves with the first-contentful-paint time in seconds (observed with buffered entries, so it does not
#: matter whether the paint happened before the observer was registered)
FCP_JS = """() => new Promise(resolve => {
  const now = performance.getEntriesByName('first-contentful-paint')[0];
  if (now) return resolve(now.startTime / 1000);
  new PerformanceObserver((list, obs) => {
    const e = list.getEntriesByName('first-contentful-paint')[0];
    if (e) { obs.disconnect(); resolve(e.startTime / 1000); }
  }).observe({ type: 'paint', buffered: true });
})"""


def build_report(d: Path) -> tuple[Path, Path, int, int]:
    from dcindex import pattern
    from dcindex.report import write_report
    from dcindex.report.samples import synthetic_result

    t = time.perf_counter()
    res = synthetic_result("city", years=range(2014, 2024), seed=0)
    res.to_dir(d)
    for node in [res.framework.root] + res.framework.pillars:
        sub = "region4" if node == res.framework.root else f"region4__{node}"
        pattern.analyse(res, by="region4", node=node, seed=0, B=49, permutations=99, markov_permutations=9,
                        spatial_models=()).to_dir(d / "pattern" / sub)
    t_prep = time.perf_counter() - t
    t = time.perf_counter()
    out = write_report(d, lang="zh", out=d / "report.html")
    t_write = time.perf_counter() - t
    print(f"data: {len(res.unit_codes)} cities x {len(res.years)} years (synthetic values); build + pattern "
          f"{t_prep:.1f} s; write_report {t_write:.1f} s; report {out.stat().st_size / 1e6:.2f} MB")
    return out, baseline_html(res, d / "baseline.html"), len(res.unit_codes), len(res.years)


def baseline_html(res, path: Path) -> Path:
    fw = res.framework
    idx = res.wide(fw.root)
    last = res.years[-1]
    pil = {p: res.wide(p)[last] for p in fw.pillars}
    head = "".join(f"<th>{y}</th>" for y in res.years) + "".join(f"<th>{html.escape(p)}</th>" for p in fw.pillars)
    rows = []
    for u in res.unit_codes:
        cells = "".join(f"<td>{v:.1f}</td>" for v in idx.loc[u]) + "".join(f"<td>{pil[p][u]:.1f}</td>" for p in fw.pillars)
        rows.append(f"<tr><td>{html.escape(str(res.units.loc[u, 'name']))}</td>{cells}</tr>")
    path.write_text("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>baseline</title></head>"
                    f"<body><table><thead><tr><th>unit</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
                    "</table></body></html>", encoding="utf-8")
    return path


def main() -> int:
    if not Path(CHROMIUM).exists():
        print("bench_report: /usr/bin/chromium is not installed", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        report, base, n, years = build_report(Path(tmp))
        first, ready, full, base_t, errors = [], [], [], [], []
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _ in range(REPEATS):
                pg = b.new_page(viewport={"width": 1360, "height": 900})
                pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                pg.on("pageerror", lambda e: errors.append(str(e)))
                pg.goto(report.as_uri(), wait_until="commit")
                # poll with evaluate: wait_for_function needs 'unsafe-eval', which the report's CSP refuses
                t_end = time.monotonic() + 60
                while not pg.evaluate("!!(window.dcReport && window.dcReport.ready === true)"):
                    if time.monotonic() > t_end:
                        raise RuntimeError("the report did not become ready within 60 s")
                    pg.wait_for_timeout(20)
                first.append(pg.evaluate(FCP_JS))
                ready.append(pg.evaluate("window.dcReport.readyAt") / 1000)
                full.append(pg.evaluate("""() => { const t = performance.now(); window.dcReport.renderAll();
                    return (performance.now() - t) / 1000; }"""))
                pg.close()
                pg = b.new_page(viewport={"width": 1360, "height": 900})
                pg.goto(base.as_uri(), wait_until="load")
                base_t.append(pg.evaluate(FCP_JS))
                pg.close()
            b.close()
    s, bl, f = statistics.median(first), statistics.median(base_t), statistics.median(full)
    print(f"report, first contentful paint (median of {REPEATS}): {s:.3f} s  [runs: {', '.join(f'{x:.3f}' for x in first)}]")
    print(f"report, script ready mark (median): {statistics.median(ready):.3f} s")
    print(f"report, drawing every chart after that (median): {f:.3f} s")
    print(f"baseline static HTML table of the same data, first contentful paint (median): {bl:.3f} s")
    print(f"goal: first render < 3 s: {'met' if s < 3 else 'NOT met'}; console errors: {len(errors)}")
    print(f"BENCH name=report_render seconds={s:.4g} baseline_seconds={bl:.4g} ratio={bl / s:.4g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
