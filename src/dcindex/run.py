"""The main job (`dcindex run`): build, print the ranking, analyse the regional pattern, write everything.

With no data it runs the bundled example (2022 statistics for the 31 provinces from official releases and, for income, a secondary compilation of NBS figures; shipped with
their citations in ``dcindex/data/example``).
"""
from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path
from typing import Any

from dcindex.build import BuildResult, build

EXAMPLE_GROUPS = ("region4", "north_south", "hub")


def example_paths() -> dict[str, Path]:
    """Paths of the bundled example: data, framework, units, recipe."""
    base = Path(str(resources.files("dcindex") / "data" / "example"))
    return {"data": base / "data.csv", "framework": base / "framework.yaml", "units": base / "units.csv",
            "recipe": base / "recipe.yaml"}


def example() -> BuildResult:
    """Build the bundled example and return the result."""
    p = example_paths()
    return build(p["data"], p["framework"], p["recipe"], units=p["units"])


def _capability(name: str):
    try:
        return importlib.import_module(f"dcindex.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"dcindex.{name}":
            return None
        raise


def group_columns(result: BuildResult) -> list[str]:
    """Text columns of the units table usable as groupings (names excluded)."""
    u = result.units
    return [c for c in u.columns if c not in ("name", "name_zh", "name_en", "name_full", "pinyin")
            and not str(u[c].dtype).startswith(("float", "int")) and u[c].nunique(dropna=True) > 1
            and u[c].nunique(dropna=True) < len(u)]


def run(data: Any = None, meta: Any = None, framework: Any = None, units: Any = None, recipe: Any = None,
        out: Any = "dcindex-out", by: str | None = None, lang: str = "zh", seed: int = 0, top: int = 15,
        console: Any = None) -> BuildResult:
    """Build + ranked summary + pattern analysis (+ audit and report when available), all written to ``out``."""
    from rich.console import Console

    from dcindex.cli.build import _resolve_framework, print_build

    con = console or Console()
    out = Path(out)
    if data is None:
        ex = example_paths()
        data = ex["data"]
        fw = framework or meta or ex["framework"]
        units = units or ex["units"]
        recipe = recipe or ex["recipe"]
        con.print("[bold]Running the bundled example[/] (2022 statistics for the 31 provinces: CNIPA patent and "
                  "trademark tables, census population, income from a secondary compilation of NBS figures; every "
                  "value cited, see dcindex/data/example/SOURCE.md)")
    else:
        from dcindex.cli.build import _shipped

        fw = _resolve_framework(meta, framework)
        recipe = _shipped(Path(recipe), "_recipe") if recipe else None
    res = build(data, fw, recipe, units=units)
    res.to_dir(out)
    print_build(con, res, out, top=top, lang=lang)

    groups = [by] if by else [g for g in EXAMPLE_GROUPS if g in res.units.columns] or group_columns(res)[:3]
    pattern = _capability("pattern")
    if pattern is not None and hasattr(pattern, "analyse") and groups:
        import warnings

        for g in groups:
            for node in [res.framework.root] + res.framework.pillars:
                is_root = node == res.framework.root
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # reported as notes in the summary instead
                    # pillars get lighter resampling (the index keeps the full 999 replications/permutations);
                    # every section, LISA included, runs for pillars too (recorded in summary.json settings)
                    # quantile classes for the Markov chains: 4 (quartiles) when there are enough units
                    k = max(2, min(4, len(res.unit_codes) // 2))
                    pr = pattern.analyse(res, by=g, node=node, seed=seed, k=k,
                                         **({} if is_root else {"B": 199, "permutations": 199}))
                sub = out / "pattern" / (g if is_root else f"{g}__{node}")
                pr.to_dir(sub)
                if is_root:
                    con.print(f"\n[bold]Regional pattern by {g}[/] ({res.framework.root})")
                    con.print(pr.summary(), highlight=False, markup=False)
    elif not groups:
        con.print("[yellow]No group column in the units table: regional pattern analysis skipped.[/]")
    else:
        con.print("[yellow]Regional pattern analysis is not available in this installation.[/]")

    explain = _capability("explain")
    if explain is not None and len(res.years) > 1:
        ov = explain.overview(res)
        ov.to_dir(out / "explain")
        con.print(f"\n[bold]Why scores changed {res.years[0]}-{res.years[-1]}[/]: see {out / 'explain'}")

    audit = _capability("audit")
    if audit is not None and hasattr(audit, "audit"):
        ar = audit.audit(res)
        ar.to_dir(out / "audit")
        if hasattr(ar, "headline"):
            con.print(f"\n[bold]Statistical audit[/]: {ar.headline()}", highlight=False)

    report = _capability("report")
    if report is not None and hasattr(report, "write_report"):
        path = report.write_report(out, lang=lang, out=out / "report.html")
        con.print(f"Report: [bold]{path}[/]")
    con.print(f"\nAll outputs are in [bold]{out}[/] (scores.csv, index.xlsx, manifest.json"
              + (", pattern/" if pattern is not None else "") + ").")
    return res
