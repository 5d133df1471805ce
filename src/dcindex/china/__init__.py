"""China layer: reference units and groupings, name matching, boundaries and spatial weights.

Data sources, vintages and licences: ``dcindex/data/china/SOURCE.md`` and ``docs/china.md``.
"""
from __future__ import annotations

from dcindex.china.boundaries import boundaries
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
from dcindex.china.weights import spatial_weights

__all__ = [
    "add_groups", "agglomeration_members", "agglomerations", "boundaries", "code_changes", "dc_clusters",
    "hub_nodes", "match_units", "spatial_weights", "units",
]

