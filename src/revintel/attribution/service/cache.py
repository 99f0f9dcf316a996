"""The journeys every attribution service reads, built once per data version and options.

Building journeys is the costly step (seconds at millions of touches); the report, the journey
analytics and channel ROI share them through one :class:`SnapshotCache`, keyed by the warehouse's
data version and the :class:`JourneyOptions` (docs/architecture.md, rule 4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from revintel.attribution.journeys import JourneyOptions, Journeys, load_journeys
from revintel.warehouse.cache import SnapshotCache

if TYPE_CHECKING:
    from revintel.warehouse import Warehouse

_JOURNEYS: SnapshotCache[Journeys] = SnapshotCache("attribution.journeys", size=8)


def cached_journeys(warehouse: Warehouse, options: JourneyOptions) -> Journeys:
    """:func:`load_journeys` of ``warehouse`` under ``options``, from the cache when the data
    has not changed since."""
    key = (options.conversion_type, options.window_days, options.start, options.end)
    return _JOURNEYS.get(warehouse, key, lambda: load_journeys(warehouse, options))
