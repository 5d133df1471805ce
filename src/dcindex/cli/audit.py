"""`dcindex audit RESULT_DIR`: statistical audit of a saved build (written to RESULT_DIR/audit/)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dcindex.cli._common import console


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit_cmd(
        result_dir: Path = typer.Argument(..., help="Result folder written by 'dcindex build' or 'dcindex run'."),
        stats_dataset: str = typer.Option("denominated", "--stats-dataset",
                                          help="Data set described by the indicator statistics: raw, denominated, "
                                               "imputed or treated."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default RESULT_DIR/audit)."),
        no_loo: bool = typer.Option(False, "--no-leave-one-out", help="Skip the leave-one-out rank shifts."),
        bootstrap: int = typer.Option(200, "--bootstrap",
                                      help="Resamples of the units for the interval of each importance ratio; a "
                                           "weight mismatch is flagged only when the interval leaves [0.5, 2] "
                                           "(0: flag on the point estimate)."),
    ) -> None:
        """Descriptive statistics, correlations, Cronbach's alpha, PCA, effective importance, leave-one-out."""
        from dcindex.audit import audit
        from dcindex.io import load_result

        res = load_result(result_dir)
        ar = audit(res, stats_dataset=stats_dataset, leave_one_out=not no_loo, bootstrap=bootstrap)
        dest = ar.to_dir(out or Path(result_dir) / "audit")
        console.print(ar.summary(), highlight=False, markup=False, soft_wrap=True)
        console.print(f"Wrote the audit tables to [bold]{dest}[/] (stats.csv, correlations.csv, cronbach.csv, pca.csv, "
                      f"importance.csv, leave_one_out.csv, problems.csv, audit.json).")
