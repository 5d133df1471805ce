"""`dcindex uncertainty RESULT_DIR --spec SPEC.yaml`: Monte Carlo uncertainty and Sobol sensitivity analysis."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from dcindex.cli._common import console

MAX_PAIR_ROWS = 20  # pairs printed to the console; every pair is in pairs.csv


def pairs_tables(u, max_rows: int = MAX_PAIR_ROWS) -> tuple[list[Table], str]:
    """Rich tables: P(A above B) in the last year, and P(A overtook B) between years, for at most ``max_rows``
    pairs (the nominal neighbours for 'top10', otherwise the pairs whose order is most uncertain), and a note
    saying what was left out."""
    out = []
    p, note = u.pairs_display(max_rows=max_rows)
    if len(p):
        yr = int(p["year"].iloc[0])
        t = Table(title=f"Pairs in {yr}: probability that A ranks above B ({len(u.draws) - u.n_failed} draws)",
                  header_style="bold")
        for c in ("A", "B", "rank A", "rank B", "P(A above B)", "P(B above A)"):
            _column(t, c)
        for _, r in p.iterrows():
            t.add_row(u.unit_label(r["unit_a"]), u.unit_label(r["unit_b"]), _i(r["nominal_rank_a"]),
                      _i(r["nominal_rank_b"]), f"{r['p_a_above_b']:.2f}", f"{r['p_b_above_a']:.2f}")
        out.append(t)
    o = u.overtakes
    if len(o):
        y0, y1 = int(o["year_from"].iloc[0]), int(o["year_to"].iloc[0])
        sel = o[(o["year_from"] == y0) & (o["year_to"] == y1)]
        keys = set(zip(p["unit_a"], p["unit_b"])) if len(p) else None
        if keys is not None:
            sel = sel[[(a, b) in keys for a, b in zip(sel["unit_a"], sel["unit_b"])]]
        t = Table(title=f"Overtaking between {y0} and {y1}", header_style="bold")
        for c in ("A", "B", "P(A overtook B)", "P(B overtook A)"):
            _column(t, c)
        for _, r in sel.iterrows():
            t.add_row(u.unit_label(r["unit_a"]), u.unit_label(r["unit_b"]), f"{r['p_a_overtook_b']:.2f}",
                      f"{r['p_b_overtook_a']:.2f}")
        out.append(t)
    return out, note


def _column(t: Table, title: str) -> None:
    """Unit columns (code and name) wrap on narrow terminals; numbers are never wrapped. ``rank A``/``rank B``
    are the nominal ranks."""
    if title in ("A", "B"):
        t.add_column(title, justify="left", overflow="fold", min_width=6, max_width=28)
    else:
        t.add_column(title, justify="right", no_wrap=True, min_width=len(title))


def _i(v) -> str:
    return "-" if v != v else str(int(v))


def register(app: typer.Typer) -> None:
    @app.command("uncertainty")
    def uncertainty_cmd(
        result_dir: Path = typer.Argument(..., help="Result folder written by 'dcindex build' or 'dcindex run'."),
        spec: Path = typer.Option(..., "--spec", "-s", help="Uncertainty specification (YAML): the uncertain choices."),
        n: Optional[int] = typer.Option(None, "--n", help="Number of draws (runs); overrides the specification."),
        seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the quasi-random draws."),
        pairs: Optional[str] = typer.Option(None, "--pairs",
                                            help="'top10' (pairs among the last year's top 10), 'all', or A:B,C:D. "
                                                 f"At most {MAX_PAIR_ROWS} pairs are printed; all go to pairs.csv."),
        no_sensitivity: bool = typer.Option(False, "--no-sensitivity",
                                            help="Uncertainty analysis only (no Sobol design and indices)."),
        threads: Optional[int] = typer.Option(None, "--threads", "--jobs",
                                              help="Worker threads (default: all cores). The output does not depend "
                                                   "on it."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default RESULT_DIR/uncertainty)."),
    ) -> None:
        """Ranks and scores with 5-95 % intervals, pair probabilities and Sobol indices under uncertain choices."""
        from dcindex.io import load_result
        from dcindex.uncertainty import UncertaintySpec, uncertainty

        sp = UncertaintySpec.from_any(spec)  # read and checked before the (slower) reload of the result
        res = load_result(result_dir)
        u = uncertainty(res, sp, n=n, seed=seed, pairs=pairs, sensitivity=False if no_sensitivity else None,
                        n_jobs=threads)
        dest = u.to_dir(out or Path(result_dir) / "uncertainty")
        console.print(u.summary(), highlight=False, markup=False, soft_wrap=True)
        tables, note = pairs_tables(u)
        for t in tables:
            console.print(t)
        if note:
            console.print(note, highlight=False, markup=False, soft_wrap=True)
        console.print(f"Wrote ranks.csv, pairs.csv ({len(u.pairs):,} rows), overtakes.csv, draws.csv"
                      + (", sensitivity.csv, sensitivity_units.csv, convergence.csv" if u.sensitivity is not None
                         else "") + f", summary.json to [bold]{dest}[/].")
