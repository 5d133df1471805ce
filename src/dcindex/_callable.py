"""Make a module callable, so that ``dcindex.build(...)`` runs the build while ``dcindex.build.BuildResult``
(the module's other names) stays reachable: one module per concept, and the short call the API promises."""
from __future__ import annotations

import sys
import types


def make_callable(module_name: str, func_name: str) -> None:
    mod = sys.modules[module_name]

    class _CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(self, func_name)(*args, **kwargs)

    _CallableModule.__name__ = f"CallableModule[{module_name}]"
    mod.__class__ = _CallableModule
