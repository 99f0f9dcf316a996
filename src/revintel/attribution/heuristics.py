"""The heuristic models: first touch, last touch, last non-direct touch, linear, time decay and
position-based (docs/attribution.md, Heuristic models)."""

from __future__ import annotations

from revintel.attribution.config import ModelSettings
from revintel.attribution.credit import Credit
from revintel.attribution.journeys import Journeys


def heuristic_credit(journeys: Journeys, model: str, settings: ModelSettings) -> Credit:
    """``model``'s credit over ``journeys`` (one of ``credit.HEURISTIC_MODELS``)."""
    raise NotImplementedError(model)
