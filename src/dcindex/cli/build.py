"""`dcindex build` and `dcindex run` (placeholder until the core engine lands)."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("version")
    def version() -> None:
        """Print the dcindex version."""
        from dcindex import __version__

        typer.echo(__version__)
