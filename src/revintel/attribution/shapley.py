"""Shapley-value attribution over channel coalitions, exact up to a number of channels, and its
ordered (position-aware) variant (docs/attribution.md, Shapley value)."""

from __future__ import annotations

from revintel.attribution.credit import Credit
from revintel.attribution.journeys import Journeys


def shapley_credit(journeys: Journeys, *, ordered: bool = False, exact_max: int = 15) -> Credit:
    """Each channel's Shapley value of the coalition conversion game, as conversions and value."""
    raise NotImplementedError(ordered, exact_max)
