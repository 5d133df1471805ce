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


_REGISTERED: set[str] = set()


def _register_all() -> None:
    # once per module: main() may be called many times in one process (tests, notebooks), and registering
    # again would add every command again (the app grew, and got slower, with each call)
    for name in _COMMAND_MODULES:
        if name in _REGISTERED:
            continue
        try:
            mod = importlib.import_module(f"dcindex.cli.{name}")
        except ModuleNotFoundError as exc:  # capability not installed yet
            if exc.name == f"dcindex.cli.{name}":
                continue
            raise
        mod.register(app)
        _REGISTERED.add(name)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; turns DcindexError into exit status 2."""
    from dcindex.cli._common import run_app

    _register_all()
    run_app(app, argv if argv is not None else sys.argv[1:])
