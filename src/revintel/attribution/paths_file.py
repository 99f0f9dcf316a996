"""Aggregated path files, as the ChannelAttribution package takes them: ``path`` (channels joined
by ``" > "``), ``total_conversions``, optional ``total_conversion_value`` and ``total_null``, comma
or semicolon separated (docs/attribution.md, Importing journeys)."""

from __future__ import annotations

from pathlib import Path

from revintel.attribution.journeys import Journeys


def read_paths(path: Path) -> Journeys:
    """The journeys of an aggregated path file; a clear error naming the row and column."""
    raise NotImplementedError(path)
