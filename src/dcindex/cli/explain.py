"""`dcindex explain`, `dcindex profile`, `dcindex whatif`, `dcindex target` on a result folder.

Every command reads a folder written by ``dcindex build``/``run`` (rebuilt with ``dcindex.io.load_result``),
prints a readable summary and, with ``--out DIR``, writes tidy CSV tables, a JSON record and the summary.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dcindex.cli._common import console
from dcindex.errors import InputError

_METHODS = "auto | closed | shapley"


def _load(path: Path):
    from dcindex.io import load_result

    if not path.exists():
        raise InputError("the result folder does not exist.", where=str(path),
                         hint="give the --out folder of 'dcindex build' or 'dcindex run'.")
    res = load_result(path)
    for w in res.warnings:
        if "did not reproduce" in w:
            console.print(f"[yellow]warning:[/] {w}", highlight=False)
    return res


def _print(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _pairs(items: Optional[List[str]], what: str, example: str) -> dict[str, str]:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise InputError(f"{what} '{it}' is not INDICATOR=VALUE.", hint=f"write e.g. {example}.")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _num(v: str, what: str) -> float:
    try:
        return float(v.strip().rstrip("%"))
    except ValueError:
        raise InputError(f"{what}: '{v}' is not a number.", hint="write a plain number such as 50.") from None


def _csv(v: Optional[str]) -> Optional[list[str]]:
    return None if v is None else [x.strip() for x in v.split(",") if x.strip()]


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain_cmd(
        result_dir: Path = typer.Argument(..., help="Result folder (from dcindex build/run); with --compare: the "
                                                    "NEW edition."),
        unit: Optional[str] = typer.Option(None, "--unit", "-u",
                                           help="Unit code (e.g. 510000) or name (四川省, 四川, Sichuan for Chinese "
                                                "codes)."),
        start: Optional[int] = typer.Option(None, "--from", help="Start year (default: first year; with --compare: "
                                                                 "the old edition's year, default its last)."),
        end: Optional[int] = typer.Option(None, "--to", help="End year (default: last year; with --compare: the new "
                                                             "edition's year, default its last)."),
        node: Optional[str] = typer.Option(None, "--node", "-n", help="Node to explain (default: the index)."),
        vs: Optional[str] = typer.Option(None, "--vs", help="Explain why --unit is above/below this unit."),
        year: Optional[int] = typer.Option(None, "--year", help="Year for --vs (default: --to or the last year)."),
        compare: Optional[Path] = typer.Option(None, "--compare",
                                               help="OLD edition's result folder: split changes into data revision, "
                                                    "method change and real change."),
        ranks: bool = typer.Option(True, "--ranks/--no-ranks", help="Also list units passed / passed by."),
        method: str = typer.Option("auto", "--method", help=f"Attribution method: {_METHODS}."),
        samples: int = typer.Option(1000, "--samples",
                                    help="Permutations for sampled Shapley values (> 12 indicators); at least 2."),
        seed: int = typer.Option(0, "--seed", help="Seed for sampled Shapley values."),
        top: int = typer.Option(10, "--top", help="Rows to print."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write tables (CSV), JSON and summary here."),
    ) -> None:
        """Why scores changed (all units, or --unit), why a unit beats another (--vs), what editions changed."""
        from dcindex import explain as ex
        from dcindex.explain.shapley_values import check_sampling

        check_sampling(samples)  # before any work: a bad --samples is an argument error, not a method failure
        res = _load(result_dir)
        if compare is not None:
            old = _load(compare)
            ec = ex.compare_editions(old, res, start=start, end=end, node=node)
            _print(ec.summary(top=top))
            if unit is not None:
                from dcindex.explain._base import resolve_unit

                _, code = resolve_unit(res, unit)
                wf = ec.waterfall(code)
                _print(f"\n{code}: " + "  ".join(f"{r.label} {r.value:+.3f}" if r.kind == "step"
                                                 else f"{r.label} {r.value:.3f}" for r in wf.itertuples()))
            if out is not None:
                ec.to_dir(out)
                console.print(f"Wrote {out}", highlight=False)
            return
        if unit is None:
            if vs is not None:
                raise InputError("--vs needs --unit.", hint="pass --unit A --vs B.")
            ov = ex.overview(res, start, end, node, method=method, seed=seed, n_permutations=samples)
            _print(ov.summary(top=top))
            if out is not None:
                ov.to_dir(out)
                console.print(f"Wrote {out}", highlight=False)
            return
        kw = dict(method=method, seed=seed, n_permutations=samples)
        if vs is not None:
            att = ex.compare_units(res, unit, vs, year if year is not None else end, node, **kw)
            _print(att.summary(top=top))
            if out is not None:
                att.to_dir(out)
                console.print(f"Wrote {out}", highlight=False)
            return
        if ranks:
            rc = ex.rank_change(res, unit, start, end, node, **kw)
            _print(rc.attribution.summary(top=top))
            _print("")
            _print(rc.summary())
            if out is not None:
                rc.to_dir(out)
        else:
            att = ex.attribute(res, unit, start, end, node, **kw)
            _print(att.summary(top=top))
            if out is not None:
                att.to_dir(out)
        if out is not None:
            console.print(f"Wrote {out}", highlight=False)

    @app.command("profile")
    def profile_cmd(
        result_dir: Path = typer.Argument(..., help="Result folder (from dcindex build/run)."),
        unit: str = typer.Option(..., "--unit", "-u", help="Unit code or exact name."),
        year: Optional[int] = typer.Option(None, "--year", help="Year (default: the last)."),
        node: Optional[str] = typer.Option(None, "--node", "-n", help="Aggregate to profile (default: the index)."),
        peers: int = typer.Option(5, "--peers", help="Number of nearest peers."),
        margin: Optional[int] = typer.Option(None, "--margin", help="Ranks better/worse than overall for a "
                                                                    "strength/weakness (default max(2, N/6))."),
        by: Optional[str] = typer.Option(None, "--by", help="Group column of the units table (group means)."),
        since: Optional[int] = typer.Option(None, "--since", help="Base year of the growth axis (default: first)."),
        growth: Optional[str] = typer.Option(None, "--growth",
                                             help="Growth measure of the quadrant, as in 'dcindex pattern --growth' "
                                                  "(change | cagr; default: the pattern analysis' default)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write tables, JSON and summary here."),
    ) -> None:
        """Strengths and weaknesses, nearest peers, radar-ready pillar scores and the score x growth quadrant."""
        from dcindex import explain as ex

        pr = ex.profile(_load(result_dir), unit, year, node, peers=peers, margin=margin, by=by, since=since,
                        growth=growth)
        _print(pr.summary())
        if out is not None:
            pr.to_dir(out)
            console.print(f"Wrote {out}", highlight=False)

    @app.command("whatif")
    def whatif_cmd(
        result_dir: Path = typer.Argument(..., help="Result folder (from dcindex build/run)."),
        change: List[str] = typer.Option(..., "--change", "-c",
                                         help="INDICATOR=+20% | -5% | +3.5 (raw units) | *1.2 | ==100 (set); "
                                              "repeat for several."),
        unit: Optional[List[str]] = typer.Option(None, "--unit", "-u", help="Unit(s) to change (repeatable)."),
        where: Optional[str] = typer.Option(None, "--where", help="Units filter COLUMN=V1,V2[;COLUMN=V] on the units "
                                                                  "table, e.g. hub=supply."),
        year: Optional[str] = typer.Option(None, "--year", help="Year to change (default: last) or 'all'."),
        node: Optional[str] = typer.Option(None, "--node", "-n", help="Node to report (default: the index)."),
        by: Optional[str] = typer.Option(None, "--by", help="Group column for group means and gaps."),
        reference: Optional[str] = typer.Option(None, "--reference", help="Reference group for gaps "
                                                                          "(default: the top group)."),
        clip_negative: bool = typer.Option(False, "--clip-negative",
                                           help="Set values a change makes negative to 0 (with a warning) instead "
                                                "of refusing, for indicators whose data are all >= 0."),
        top: int = typer.Option(15, "--top", help="Rows to print."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write tables, JSON and summary here."),
    ) -> None:
        """Change raw indicator values for a unit or a group, rebuild with the same recipe, compare."""
        from dcindex import explain as ex

        if unit is None and where is None:
            raise InputError("no units selected.", hint="pass --unit CODE (repeatable) or --where COLUMN=VALUE; "
                                                        "use --where with a column all units share to change all.")
        years = None if year is None else ("all" if year.lower() == "all" else int(_num(year, "--year")))
        import warnings

        res = _load(result_dir)
        with warnings.catch_warnings(record=True) as caught:  # clipping is reported in the summary's notes
            warnings.simplefilter("always", UserWarning)
            w = ex.whatif(res, change, units=unit or None, where=where, years=years, node=node, by=by,
                          reference=reference, negative="clip" if clip_negative else "error")
        _print(w.summary(top=top))
        for c in caught:
            if not any(str(c.message) in n for n in w.notes):
                console.print(f"[yellow]warning:[/] {c.message}", highlight=False)
        if out is not None:
            w.to_dir(out)
            console.print(f"Wrote {out}", highlight=False)

    @app.command("target")
    def target_cmd(
        result_dir: Path = typer.Argument(..., help="Result folder (from dcindex build/run)."),
        unit: Optional[str] = typer.Option(None, "--unit", "-u", help="Unit code or name."),
        group: Optional[str] = typer.Option(None, "--group", "-g",
                                            help="A group instead of one unit: units filter COLUMN=V1,V2[;COLUMN=V] "
                                                 "(e.g. 'hub=supply;region4=West') or comma-separated unit codes."),
        reference: Optional[str] = typer.Option(None, "--reference",
                                                help="Reference group for --gap/--close-gap (same syntax as --group, "
                                                     "or 'all')."),
        rank: Optional[int] = typer.Option(None, "--rank", help="Target rank (1 = top; one unit)."),
        score: Optional[float] = typer.Option(None, "--score", help="Target score (with --group: the group's mean)."),
        gap: Optional[float] = typer.Option(None, "--gap", help="With --group: largest acceptable gap (reference "
                                                                "mean - group mean)."),
        close_gap: Optional[float] = typer.Option(None, "--close-gap",
                                                  help="With --group: shrink the gap to the reference mean by this "
                                                       "many points."),
        year: Optional[int] = typer.Option(None, "--year", help="Year (default: the last)."),
        node: Optional[str] = typer.Option(None, "--node", "-n", help="Node (default: the index)."),
        only: Optional[str] = typer.Option(None, "--only", help="Comma-separated indicators that may change."),
        fix: Optional[str] = typer.Option(None, "--fix", help="Comma-separated indicators that may not change."),
        bound: Optional[List[str]] = typer.Option(None, "--bound", help="INDICATOR=LOW:HIGH bounds on the new raw "
                                                                        "value (either side may be empty)."),
        max_change: Optional[List[str]] = typer.Option(None, "--max-change",
                                                       help="Max change in percent: 50 (all) or INDICATOR=50."),
        cost: Optional[List[str]] = typer.Option(None, "--cost", help="INDICATOR=WEIGHT cost weights (default 1)."),
        cost_unit: str = typer.Option("percent", "--cost-unit", help="percent (per 1% of current value) or raw."),
        method: str = typer.Option("auto", "--method", help="auto | lp | heuristic."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the plan, JSON and summary here."),
    ) -> None:
        """Least-cost indicator improvements lifting a unit to --rank K or --score S, or a --group to a mean score or
        closer to a --reference group (verified by rebuilding)."""
        from dcindex import explain as ex

        bounds = {}
        for k, v in _pairs(bound, "--bound", "patent_grants=:50000").items():
            if ":" not in v:
                raise InputError(f"--bound {k}={v} is not LOW:HIGH.",
                                 hint="write e.g. patent_grants=1000:50000 or patent_grants=:50000.")
            lo, hi = v.split(":", 1)
            bounds[k] = (_num(lo, "--bound") if lo.strip() else None, _num(hi, "--bound") if hi.strip() else None)
        mc: Optional[float | dict[str, float]] = None
        for item in max_change or []:
            if "=" in item:
                mc = mc if isinstance(mc, dict) else {}
                k, v = item.split("=", 1)
                mc[k.strip()] = _num(v, "--max-change")
            else:
                mc = _num(item, "--max-change")
        costs = {k: _num(v, "--cost") for k, v in _pairs(cost, "--cost", "patent_grants=2").items()}
        if (unit is None) == (group is None):
            raise InputError("give either --unit or --group.",
                             hint="--unit 510000 --rank 10 for one unit; --group 'hub=supply;region4=West' "
                                  "--reference region4=East --close-gap 5 for a group.")
        plan = ex.target(_load(result_dir), unit, rank=rank, score=score, group=group, reference=reference, gap=gap,
                         close_gap=close_gap, year=year, node=node, indicators=_csv(only),
                         fixed=_csv(fix), bounds=bounds or None, max_change=mc, costs=costs or None,
                         cost_unit=cost_unit, method=method)
        _print(plan.summary())
        if out is not None:
            plan.to_dir(out)
            console.print(f"Wrote {out}", highlight=False)
        if not plan.reached:
            raise typer.Exit(1)
