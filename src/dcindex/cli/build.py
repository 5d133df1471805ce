"""`dcindex build` and `dcindex run`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from dcindex.cli._common import console
from dcindex.errors import InputError


def _shipped(path: Optional[Path], suffix: str = "") -> Optional[Path]:
    """A shipped framework/recipe by name (``dci_province``, ``dci_city``) when no such file exists."""
    if path is None or path.exists() or path.suffix:
        return path
    from importlib import resources

    cand = Path(str(resources.files("dcindex") / "data" / "frameworks" / f"{path.name}{suffix}.yaml"))
    return cand if cand.is_file() else path


def _resolve_framework(meta: Optional[Path], framework: Optional[Path]):
    if meta and framework:
        raise InputError("give either --meta (COINr iMeta) or --framework (native YAML), not both.",
                         hint="drop one of the two options.")
    if not meta and not framework:
        raise InputError("no framework given.", hint="pass --meta iMeta.csv (COINr) or --framework framework.yaml "
                                                     "(or a shipped one: dci_province, dci_city).")
    return meta or _shipped(framework)


def ranking_table(result, top: int = 15, lang: str = "en") -> Table:
    """A rich table of the latest year's ranking with pillar scores and rank change since the first year."""
    fw = result.framework
    yr = result.years[-1]
    tab = result.table(yr)
    pillars = fw.pillars[:6]
    t_idx = result.years.index(yr)
    for p in pillars:  # pillars may be indicators (two-level frameworks): take every node's scores
        tab[p] = pd.Series(result.scores_array[t_idx, :, result.node_index(p)], index=result.unit_codes)
    title = fw.nodes[fw.root].label(lang) + (f" — {yr}" if yr != 0 else "")  # year 0: data without a year
    t = Table(title=escape(title), show_lines=False, header_style="bold")
    t.add_column("rank", justify="right")
    t.add_column("unit")
    t.add_column("name")
    t.add_column(escape(fw.nodes[fw.root].label(lang)[:16]), justify="right", style="bold")
    for p in pillars:
        t.add_column(escape(fw.nodes[p].label(lang)[:16]), justify="right", overflow="fold")
    change = None
    if len(result.years) > 1:
        change = result.wide(what="rank")
        t.add_column(f"Δrank since {result.years[0]}", justify="right")
    name_col = f"name_{lang}" if f"name_{lang}" in result.units.columns else "name"
    names = result.units[name_col].fillna(result.units["name"])
    for unit, row in tab.head(top).iterrows():
        row = row.copy()
        row["name"] = names.get(unit, row["name"])
        rank = "" if row["rank"] != row["rank"] else str(int(row["rank"]))
        cells = [rank, escape(str(unit)), escape(str(row["name"])), f"{row[fw.root]:.2f}"]
        cells += [f"{row[p]:.2f}" for p in pillars]
        if change is not None:
            r0, r1 = change.loc[unit, result.years[0]], change.loc[unit, yr]
            d = r0 - r1
            cells.append("" if d != d else ("[green]▲%d[/]" % d if d > 0 else ("[red]▼%d[/]" % -d if d < 0 else "=")))
        t.add_row(*cells)
    return t


def print_build(con, res, out, *, top: int = 15, lang: str = "zh") -> None:
    """What a build tells the terminal: removed stale outputs, the ranking table, the warnings."""
    if res.stale_removed:
        con.print(f"note: removed outputs of an earlier result in {out}: {', '.join(res.stale_removed)}",
                  highlight=False, markup=False)
    con.print(ranking_table(res, top=top, lang=lang))
    for w in res.warnings:
        con.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("build")
    def build_cmd(
        data: Path = typer.Argument(..., help="Indicator data: COINr iData, wide or tidy long (CSV/XLSX)."),
        meta: Optional[Path] = typer.Option(None, "--meta", help="COINr iMeta table (CSV/XLSX)."),
        framework: Optional[Path] = typer.Option(None, "--framework", "-f", help="Native framework YAML, or a shipped one by name: dci_province, dci_city."),
        units: Optional[Path] = typer.Option(None, "--units", help="Units table: code, names, group columns."),
        recipe: Optional[Path] = typer.Option(None, "--recipe", "-r", help="Recipe YAML (methodological choices)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
        year: Optional[int] = typer.Option(None, "--year", help="Year for data without a year/Time column."),
        top: int = typer.Option(15, "--top", help="Rows of the ranking to print."),
        lang: str = typer.Option("zh", "--lang", help="Language of names in the printed ranking: zh or en."),
    ) -> None:
        """Build the index and write scores.csv/.parquet, index.xlsx and manifest.json to --out."""
        from dcindex.build import build

        fw = _resolve_framework(meta, framework)
        res = build(data, fw, _shipped(recipe, "_recipe") if recipe else None, units=units, year=year)
        res.to_dir(out)
        print_build(console, res, out, top=top, lang=lang)
        console.print(f"Wrote results to [bold]{out}[/] (scores.csv, scores.parquet, index.xlsx, manifest.json).")

    @app.command("run")
    def run_cmd(
        data: Optional[Path] = typer.Argument(None, help="Indicator data; omit to run the bundled example."),
        meta: Optional[Path] = typer.Option(None, "--meta", help="COINr iMeta table."),
        framework: Optional[Path] = typer.Option(None, "--framework", "-f", help="Native framework YAML."),
        units: Optional[Path] = typer.Option(None, "--units", help="Units table."),
        recipe: Optional[Path] = typer.Option(None, "--recipe", "-r", help="Recipe YAML."),
        out: Path = typer.Option(Path("dcindex-out"), "--out", "-o", help="Output folder."),
        by: Optional[str] = typer.Option(None, "--by", help="Group column for the regional pattern analysis."),
        lang: str = typer.Option("zh", "--lang", help="Report language: zh or en."),
        seed: int = typer.Option(0, "--seed", help="Seed for random procedures."),
        top: int = typer.Option(15, "--top", help="Rows of the ranking to print."),
    ) -> None:
        """The main job: build, print the ranking, analyse the regional pattern, write every output."""
        from dcindex.run import run

        run(data=data, meta=meta, framework=framework, units=units, recipe=recipe, out=out, by=by, lang=lang,
            seed=seed, top=top, console=console)
