"""Segments: preview a rule, save and reuse segments, compare, discover, track (docs/retention.md,
Segments). Owned by the segments area."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime


def resolve_customers(
    rt: Runtime, *, segment_id: int | None = None, rule: str | None = None
) -> pl.DataFrame:
    """The rows of :func:`revintel.app.retention.features.customer_features` a saved segment or a
    rule selects (exactly one of the two); a rule that does not parse raises
    a ``RuleError`` (an InvalidOption) with its position."""
    raise NotImplementedError("segments area")
