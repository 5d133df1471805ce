"""China layer: reference units and groupings, name matching, boundaries and spatial weights.

Data sources, vintages and licences: ``dcindex/data/china/SOURCE.md`` and ``docs/china.md``.
"""
from __future__ import annotations

from dcindex.china.match import match_units
from dcindex.china.units import (
    add_groups,
    agglomeration_members,
    agglomerations,
    code_changes,
    dc_clusters,
    hub_nodes,
    units,
)

__all__ = [
    "add_groups", "agglomeration_members", "agglomerations", "boundaries", "code_changes", "dc_clusters",
    "hub_nodes", "match_units", "spatial_weights", "units",
]


def __getattr__(name):  # boundaries and weights import shapely/libpysal: load them on first use
    if name == "boundaries":
        from dcindex.china.boundaries import boundaries
        return boundaries
    if name == "spatial_weights":
        from dcindex.china.weights import spatial_weights
        return spatial_weights
    raise AttributeError(name)
