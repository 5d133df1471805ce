"""dcindex: measure, audit and explain regional digital development."""
from __future__ import annotations

__version__ = "0.1.0"
