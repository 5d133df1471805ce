"""Command line: ``dcindex`` (typer + rich).

Each capability registers its commands from its own module ``dcindex.cli.<name>`` exposing
``register(app)``; this keeps the command line a thin layer over the Python API.
"""
from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="dcindex",
    help="Build, audit and explain composite indices of regional digital development.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-paragraph errors."),
) -> None:
    """dcindex: composite indices of regional digital development, audited and explained."""


_COMMAND_MODULES = ("build", "pattern", "audit", "uncertainty", "explain", "report", "plan", "importer")


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"dcindex.cli.{name}")
        except ModuleNotFoundError as exc:  # capability not installed yet
            if exc.name == f"dcindex.cli.{name}":
                continue
            raise
        mod.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; turns DcindexError into exit status 2."""
    from dcindex.cli._common import run_app

    _register_all()
    run_app(app, argv if argv is not None else sys.argv[1:])
