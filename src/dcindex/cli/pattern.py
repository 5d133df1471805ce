"""`dcindex pattern`: regional pattern analysis of a result directory (or a plain unit x year CSV)."""
from __future__ import annotations

from pathlib import Path

import typer

from dcindex.errors import InputError


def _read_csv(path: Path, what: str, **kw):
    import pandas as pd

    if not path.is_file():
        raise InputError(f"{what} not found.", where=str(path),
                         hint="Point RESULT_DIR at a dcindex result directory (scores.csv, units.csv).")
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **kw)
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read {what}: {exc}.", where=str(path), hint="Save it as UTF-8 CSV.")


def load_inputs(source: Path, units_file: Path | None = None):
    """(table_or_scores, units, default_name, out_base) from a result directory or a plain unit x year CSV."""
    import pandas as pd

    if source.is_dir():
        scores = _read_csv(source / "scores.csv", "scores.csv", dtype={"unit": str, "node": str})
        need = {"unit", "year", "node", "score"}
        if not need <= set(scores.columns):
            raise InputError(f"scores.csv lacks columns {sorted(need - set(scores.columns))}.",
                             where=str(source / "scores.csv"),
                             hint="Expected columns unit, year, node, level, score, rank.")
        units = _read_csv(units_file or source / "units.csv", "units.csv", dtype=str)
        if "unit" not in units.columns:
            raise InputError("units.csv has no 'unit' column.", where=str(units_file or source / "units.csv"),
                             hint="The first column must be 'unit' with the unit codes.")
        return scores, units.set_index("unit"), None, source / "pattern"

    table = _read_csv(source, "table", dtype={0: str})
    first = table.columns[0]
    table = table.set_index(first)
    units = None
    if units_file is not None:
        u = _read_csv(units_file, "units file", dtype=str)
        if "unit" not in u.columns:
            raise InputError("units file has no 'unit' column.", where=str(units_file),
                             hint="The first column must be 'unit' with the unit codes.")
        units = u.set_index("unit")
    return table, units, source.stem, source.parent / "pattern"


def _manifest_root(result_dir: Path) -> str | None:
    """The index (root) code recorded in a result directory's manifest.json, if any."""
    import json

    try:
        m = json.loads((result_dir / "manifest.json").read_text(encoding="utf-8"))
        root = m.get("framework", {}).get("root")
        return str(root) if root else None
    except (OSError, ValueError, AttributeError):
        return None


def _load_controls(spec: str | None, units):
    """``--controls``: a CSV file (unit + numeric columns, or unit, year + columns for time-varying controls)
    or comma-separated column names of the units table."""
    import pandas as pd

    if spec is None or not spec.strip():
        return None
    path = Path(spec)
    if path.is_file():
        c = _read_csv(path, "controls file", dtype={"unit": str})
        if "unit" not in c.columns:
            raise InputError("the controls file has no 'unit' column.", where=str(path),
                             hint="Columns: unit, then numeric controls (or unit, year, controls for time-varying "
                                  "controls).")
        c["unit"] = c["unit"].astype(str).str.strip()
        for col in c.columns:
            if col == "unit":
                continue
            num = pd.to_numeric(c[col], errors="coerce")
            bad = num.isna() & c[col].notna()
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                raise InputError(f"row {row + 2}: value {c[col].iloc[row]!r} is not a number.",
                                 where=f"{path}, column {col!r}", hint="Controls must be plain numbers.")
            c[col] = num
        if "year" not in c.columns:
            if c["unit"].duplicated().any():
                raise InputError(f"unit {c['unit'][c['unit'].duplicated()].iloc[0]} appears twice.", where=str(path),
                                 hint="One row per unit, or add a 'year' column for time-varying controls.")
            c = c.set_index("unit")
        c.attrs["source"] = str(path)
        return c
    if path.suffix.lower() in (".csv", ".txt") or "/" in spec or "\\" in spec:
        raise InputError("controls file not found.", where=spec,
                         hint="Give an existing CSV file or comma-separated column names of units.csv.")
    cols = [c.strip() for c in spec.split(",") if c.strip()]
    if units is None:
        raise InputError(f"controls {cols} name unit columns, but there is no units table.", where="--controls",
                         hint="Pass --units FILE, or give a controls CSV file (unit, controls ...).")
    lack = [c for c in cols if c not in units.columns]
    if lack:
        raise InputError(f"control columns {lack} are not in the units table and no such file exists.",
                         where="--controls", hint=f"Use columns of units.csv: {list(units.columns)}, or a CSV file.")
    return cols


def _load_weights(edges: Path | None, centroids: Path | None):
    import pandas as pd

    w = coords = None
    if edges is not None:
        w = _read_csv(edges, "edge list", dtype=str)
        w.attrs["source"] = str(edges)
    if centroids is not None:
        c = _read_csv(centroids, "centroids", dtype={0: str})
        c = c.set_index(c.columns[0])
        coords = c.iloc[:, :2].apply(pd.to_numeric, errors="coerce")
        if coords.isna().any().any():
            raise InputError("centroids must be numeric lon, lat.", where=str(centroids),
                             hint="Columns: unit, lon, lat.")
    return w, coords


def register(app: typer.Typer) -> None:
    @app.command("pattern")
    def pattern(
        result_dir: Path = typer.Argument(..., help="Result directory (scores.csv + units.csv) or a unit x year CSV "
                                                    "(first column unit, one column per year)."),
        by: str = typer.Option(..., "--by", help="Group column of units.csv, e.g. region4 or north_south."),
        node: str = typer.Option(None, "--node", help="Node to analyse (default: the index root)."),
        weights: str = typer.Option(None, "--weights", help="Numeric column of units.csv (e.g. population) for the "
                                                            "population-weighted Gini/Theil/Dagum/means/KDE."),
        units_file: Path = typer.Option(None, "--units", help="Units CSV (unit + group columns) for a plain table."),
        edges: Path = typer.Option(None, "--edges", help="Spatial weights edge list CSV: focal, neighbor[, weight]."),
        polygons: Path = typer.Option(None, "--polygons", help="GeoJSON of the units' polygons: queen contiguity "
                                                               "(islands joined to the nearest unit)."),
        id_field: str = typer.Option("adcode", "--id-field", help="GeoJSON property holding the unit code."),
        centroids: Path = typer.Option(None, "--centroids", help="CSV unit, lon, lat to link islands to neighbours."),
        seed: int = typer.Option(0, "--seed", help="Seed of every random procedure."),
        bootstrap: int = typer.Option(999, "--bootstrap", help="Bootstrap replications for Dagum CIs (0: none)."),
        permutations: int = typer.Option(999, "--permutations", help="Permutations for Moran's I and LISA."),
        classes: int = typer.Option(4, "--classes", help="Quantile classes of the Markov chains (2 .. units/2)."),
        cutoffs: str = typer.Option("pooled", "--cutoffs", help="Markov class cutoffs: pooled (all years together, "
                                                               "fixed over time) or year (quantiles of each year)."),
        controls: str = typer.Option(None, "--controls", help="Conditional beta controls: comma-separated numeric "
                                                             "columns of units.csv, or a CSV file (unit, controls "
                                                             "... or unit, year, controls ... for time-varying)."),
        growth: str = typer.Option("change", "--growth", help="Growth measure of the score x growth quadrants: "
                                                             "change (absolute change per year) or cagr."),
        out: Path = typer.Option(None, "--out", help="Output folder (default RESULT_DIR/pattern/<by>/ for the index, "
                                                     "RESULT_DIR/pattern/<by>__<node>/ for another node)."),
    ) -> None:
        """Regional pattern analysis: gradients, inequality, Dagum, convergence, spatial, dynamics."""
        from rich.table import Table
        from rich.text import Text

        from dcindex.cli._common import console
        from dcindex.pattern import analyse
        from dcindex.pattern._common import _pick_root, check_out_dir

        if out is not None:
            check_out_dir(out)  # before the work: an --out that is a file is a clean error
        data, units, name, base = load_inputs(result_dir, units_file)
        ctrl = _load_controls(controls, units)
        root = _manifest_root(result_dir) if name is None else None
        if node is None:
            node = root
        w, coords = _load_weights(edges, centroids)
        if polygons is not None:
            if w is not None:
                raise InputError("give either --edges or --polygons, not both.", where="dcindex pattern",
                                 hint="Drop one of the two weights options.")
            from dcindex.pattern import weights_from_polygons

            w, poly_centroids, _ = weights_from_polygons(polygons, id_field=id_field)
            coords = poly_centroids if coords is None else coords
        res = analyse(data, by=by, node=node, weights=weights, w=w, seed=seed, units=units, coords=coords,
                      B=bootstrap, permutations=permutations, k=classes, cutoffs=cutoffs, controls=ctrl,
                      growth=growth, name=name)

        def safe(s: str) -> str:
            return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in s)

        if out is not None:
            target = out
        elif name is not None:  # plain table: <dir>/pattern/<table stem>/<by>
            target = base / safe(name) / safe(res.by)
        else:  # same layout as `dcindex run`: pattern/<by> for the index, pattern/<by>__<node> otherwise
            root = root or _pick_root(data, str(result_dir / "scores.csv"))
            target = base / (safe(res.by) if res.label == root else f"{safe(res.by)}__{safe(res.label)}")
        res.to_dir(target)
        tab = Table(title=f"{res.label} by {res.by}", show_header=False, box=None)
        for line in res.summary().splitlines()[2:]:
            tab.add_row(Text(line))
        console.print(tab, markup=False, highlight=False)
        console.print(f"wrote {len(res.frames)} tables + summary.json to {target}", markup=False, highlight=False)
