"""Markov-chain attribution of order 1-4 with removal effects solved exactly from the absorbing
chain (docs/attribution.md, Markov chain)."""

from __future__ import annotations

from revintel.attribution.credit import Credit
from revintel.attribution.journeys import Journeys


def markov_credit(journeys: Journeys, order: int = 1) -> Credit:
    """Credit shared in proportion to each channel's removal effect (``Credit.removal_effect``)."""
    raise NotImplementedError(order)
