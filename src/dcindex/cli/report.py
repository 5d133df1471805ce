"""`dcindex report RESULT_DIR --lang zh|en --out report.html [--png DIR] [--plan PLAN_DIR]`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        result_dir: Path = typer.Argument(..., help="A result folder (dcindex build/run --out DIR)."),
        lang: str = typer.Option("zh", "--lang", help="Language the page opens in: zh or en (it has a switch)."),
        out: Optional[Path] = typer.Option(None, "--out", help="HTML file to write (default RESULT_DIR/report.html)."),
        png: Optional[Path] = typer.Option(None, "--png", help="Also write the main figures as PNG into this folder."),
        plan: Optional[Path] = typer.Option(None, "--plan", help="A compute-plan result folder to include."),
    ) -> None:
        """Write a self-contained bilingual HTML report (works offline; no network requests)."""
        from dcindex.cli._common import console
        from dcindex.report import write_report

        path = write_report(result_dir, lang=lang, out=out, png_dir=png, plan_dir=plan)
        size = path.stat().st_size / 1e6
        console.print(f"Report: [bold]{path}[/] ({size:.1f} MB)", highlight=False)
        if png is not None:
            n = len(list(Path(png).glob("*.png")))
            console.print(f"Figures: [bold]{png}[/] ({n} PNG files)", highlight=False)
