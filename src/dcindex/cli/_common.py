"""Shared command-line plumbing: error handling, the --debug switch and the rich console."""
from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from dcindex.errors import DcindexError

console = Console()
err_console = Console(stderr=True)


def run_app(app: typer.Typer, argv: list[str]) -> None:
    """Run the typer app; a DcindexError becomes a one-paragraph message and exit status 2."""
    debug = "--debug" in argv
    if debug:
        argv = [a for a in argv if a != "--debug"]
        os.environ["DCINDEX_DEBUG"] = "1"
    try:
        app(args=argv, prog_name="dcindex")  # standalone mode: usage errors exit 2 by themselves
    except DcindexError as exc:
        if debug:
            raise
        # the message is plain text: escape it, or rich would eat "[low, high]" as a markup tag
        err_console.print(f"[bold red]error:[/] {escape(exc.render())}", highlight=False, soft_wrap=True, markup=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        # file-system problems not caught closer to the source (a folder that cannot be created, a full disk):
        # still a one-paragraph message and exit status 2, not a traceback
        if debug:
            raise
        what = exc.strerror or str(exc)
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        err_console.print(f"[bold red]error:[/] {escape(where + what)}. How to fix: check the path and its "
                          f"permissions, or choose another location.", highlight=False, soft_wrap=True)
        sys.exit(2)
