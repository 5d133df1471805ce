"""Errors a user can act on.

Every error raised for bad input is a :class:`DcindexError` whose message is one paragraph naming the
file, row, column or framework node and saying how to fix it. The command line prints the message and
exits with status 2 (no traceback unless ``--debug``).
"""
from __future__ import annotations


class DcindexError(Exception):
    """Base class for errors caused by user input or configuration (exit status 2)."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None):
        self.message = message
        self.hint = hint
        self.where = where
        super().__init__(self.render())

    def render(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}: ")
        parts.append(self.message.rstrip())
        if self.hint:
            parts.append(f" How to fix: {self.hint.rstrip()}")
        return "".join(parts)


class InputError(DcindexError):
    """A data or metadata file is missing, unreadable or inconsistent."""


class FrameworkError(DcindexError):
    """The index framework (tree of nodes) is invalid."""


class RecipeError(DcindexError):
    """The recipe (methodological choices) is invalid or conflicts with the data."""


class MethodError(DcindexError):
    """A method cannot be applied to these data (e.g. log of non-positive values)."""
