"""`dcindex import`: official downloads (NBS exports, yearbook sheets, PKU-DFIIC) -> tidy long CSV."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dcindex.cli._common import console


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_cmd(
        files: List[Path] = typer.Argument(..., help="Downloaded files (CSV in UTF-8 or GB18030, XLS, XLSX)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output CSV: unit, year, indicator, value, source."),
        layout: str = typer.Option("auto", "--layout",
                                   help="nbs (data.stats.gov.cn export), yearbook (regions as rows), pku "
                                        "(PKU-DFIIC workbook), panel (a year column: one row per unit and "
                                        "year), or auto."),
        level: str = typer.Option("province", "--level", help="province or city."),
        indicator: Optional[List[str]] = typer.Option(
            None, "--indicator", "-i",
            help="CODE for a single-indicator file, or NAME=CODE (repeatable) to pick and rename indicators "
                 "of a multi-indicator file (NAME as in the header, with or without its unit)."),
        year: Optional[int] = typer.Option(None, "--year",
                                           help="Data year of a one-year table whose title does not state it."),
        sheet: Optional[str] = typer.Option(None, "--sheet", help="Sheet name or 0-based number (workbooks)."),
        units_out: Optional[Path] = typer.Option(
            None, "--units-out", help="Also write the units table (codes, names, groupings) of the imported units."),
    ) -> None:
        """Import official data into the tidy table that `dcindex build` reads (units matched to GB/T 2260 codes,
        each value with its source)."""
        from dcindex.importer import import_files, parse_indicator_options
        from dcindex.io import write_csv

        ind = parse_indicator_options(indicator)
        res = import_files(files, layout=layout, level=level, indicator=ind, year=year, sheet=sheet)
        d = res.data
        u = None
        if units_out is not None:
            from dcindex.importer import units_table

            # every unit of the data, including county-level and dissolved units (a pair `dcindex build` reads)
            u = units_table(d["unit"], level)
        write_csv(out, d)
        if u is not None:
            write_csv(units_out, u)
        console.print(f"Imported [bold]{len(d)}[/] values ({res.layout} layout): {d['unit'].nunique()} units, "
                      f"years {d['year'].min()}-{d['year'].max()}, indicators: "
                      f"{', '.join(sorted(d['indicator'].unique()))}", highlight=False)
        for n in res.notes:
            console.print(f"[yellow]note:[/] {n}", highlight=False)
        console.print(f"Wrote [bold]{out}[/]" + (f" and [bold]{units_out}[/]" if units_out else "") + ".")
