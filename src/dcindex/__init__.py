"""dcindex: measure, audit and explain regional digital development.

``dcindex.build(data, framework, recipe)`` builds an index; the modules ``framework``, ``data``, ``recipe``,
``impute``, ``treat``, ``normalise``, ``weight``, ``aggregate``, ``pattern``, ``audit``, ``uncertainty``,
``explain`` hold one concept each; ``dcindex.plan(...)`` is the East Data West Computing planner.
"""
from __future__ import annotations

__version__ = "0.1.0"

from dcindex import build  # noqa: E402  (a callable module: dcindex.build(...) runs the build)
from dcindex.build import BuildResult, load_panel  # noqa: E402,F401
from dcindex.framework import Framework, read_framework  # noqa: E402,F401
from dcindex.recipe import Recipe, coinr_recipe  # noqa: E402,F401
from dcindex import explain  # noqa: E402,F401  (attribution, profiles, what-if, targets)
from dcindex import audit, uncertainty  # noqa: E402,F401  (callable modules: statistical audit; Monte Carlo UA + Sobol SA)


_LAZY = ("pattern", "plan", "report", "china", "importer", "io", "run")


def __getattr__(name):
    """Load the heavier capabilities on first use: ``dcindex.pattern``, ``dcindex.plan(...)``, ``dcindex.report``."""
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"dcindex.{name}")
    raise AttributeError(f"module 'dcindex' has no attribute {name!r}")


def load(path):
    """Load a result folder written by ``dcindex build``/``run`` (rebuilt from its saved inputs)."""
    from dcindex.io import load_result

    return load_result(path)


def example():
    """Build the bundled example (2022 statistics for the 31 provinces, each value cited)."""
    from dcindex.run import example as _ex

    return _ex()
