"""One entry point for every model: :func:`model_credit` dispatches a model name to the heuristics,
the Markov chain or the Shapley value (docs/attribution.md, Models)."""

from __future__ import annotations

from revintel.attribution.config import ModelSettings
from revintel.attribution.credit import HEURISTIC_MODELS, MODELS, Credit
from revintel.attribution.heuristics import heuristic_credit
from revintel.attribution.journeys import Journeys
from revintel.attribution.markov import markov_credit
from revintel.attribution.shapley import shapley_credit
from revintel.core.errors import InvalidOption


class UnknownModel(InvalidOption):
    """A model name that is not one of :data:`revintel.attribution.credit.MODELS`."""


def model_credit(
    journeys: Journeys,
    model: str,
    settings: ModelSettings,
    *,
    order: int | None = None,
    ordered_shapley: bool = False,
) -> Credit:
    """``model``'s credit over ``journeys``; ``order`` overrides the settings' Markov order."""
    if model in HEURISTIC_MODELS:
        return heuristic_credit(journeys, model, settings)
    if model == "markov":
        return markov_credit(journeys, order or settings.markov_order)
    if model == "shapley":
        return shapley_credit(
            journeys,
            ordered=ordered_shapley,
            exact_max=settings.shapley_exact_max_channels,
            game=settings.shapley_game,
        )
    raise UnknownModel(f"model: unknown model {model!r}; expected one of {', '.join(MODELS)}")
