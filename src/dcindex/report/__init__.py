"""The report: one bilingual, self-contained HTML page (and PNG figures for papers) from a result folder.

``write_report(result_dir, lang="zh", out=None, png_dir=None, plan_dir=None)`` reloads the build from
``result_dir`` (checking that it reproduces), reads whatever the other capabilities wrote into the folder
(``pattern/``, ``audit/``, ``uncertainty/``, ``explain/``) and, when given, a compute-plan folder, and writes
``report.html``: ranking table with live re-weighting, maps, rank changes, regional pattern, uncertainty and
audit, framework and weights, per-unit profiles, data-quality flags, methods and provenance; zh/en switch.
Sections whose inputs are absent say so. See ``docs/report.md``.
"""
from __future__ import annotations

from pathlib import Path

from dcindex.errors import InputError

__all__ = ["write_report", "build_payload"]


def build_payload(result_dir: str | Path, lang: str = "zh", plan_dir: str | Path | None = None):
    """(payload dict, BuildResult): everything the page shows, as embedded in the HTML."""
    from dcindex.report.data import assemble

    payload, res = assemble(result_dir, plan_dir=plan_dir)
    payload["lang"] = lang
    return payload, res


def write_report(result_dir: str | Path, lang: str = "zh", out: str | Path | None = None,
                 png_dir: str | Path | None = None, plan_dir: str | Path | None = None) -> Path:
    """Write the HTML report of ``result_dir`` (default ``result_dir/report.html``) and return its path.

    ``lang``: "zh" or "en" (the page has a switch for the other); ``png_dir``: also write the main figures
    as PNG (matplotlib, CJK font); ``plan_dir``: a compute-plan result folder (``dcindex plan --out``) to add
    the planner views. Output files are written atomically; the same inputs give byte-identical HTML.
    """
    from dcindex.io import atomic_write_text
    from dcindex.report.html import render_html

    if lang not in ("zh", "en"):
        raise InputError(f"unknown report language '{lang}'.", hint="use --lang zh or --lang en.")
    result_dir = Path(result_dir)
    if plan_dir is not None and not Path(plan_dir).is_dir():
        raise InputError("the plan folder does not exist.", where=str(plan_dir),
                         hint="pass a folder written by 'dcindex plan ... --out DIR'.")
    out_path = Path(out) if out is not None else result_dir / "report.html"
    if out_path.exists() and out_path.is_dir():
        raise InputError("the output path is a folder.", where=str(out_path), hint="give a file name, e.g. report.html.")
    if png_dir is not None and Path(png_dir).exists() and not Path(png_dir).is_dir():
        raise InputError("the PNG output path is a file, not a folder.", where=str(png_dir),
                         hint="give a folder for --png (it is created when missing).")
    payload, res = build_payload(result_dir, lang=lang, plan_dir=plan_dir)
    atomic_write_text(out_path, render_html(payload, lang))
    if png_dir is not None:
        from dcindex.report.png import write_pngs

        write_pngs(payload, res, Path(png_dir), lang=lang)
    return out_path
