"""What every attribution model returns: credit per channel, in conversions and in value.

Credit conserves (docs/attribution.md, Conservation): a model's conversions add up to the
journeys' conversions and its value to their value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HEURISTIC_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
)
DATA_DRIVEN_MODELS = ("markov", "shapley")
MODELS = (*HEURISTIC_MODELS, *DATA_DRIVEN_MODELS)


@dataclass(frozen=True)
class Credit:
    """One model's credit: per channel (aligned with ``channels``) conversions and value."""

    model: str
    channels: tuple[str, ...]
    conversions: np.ndarray  # float64 per channel
    value: np.ndarray  # float64 per channel
    removal_effect: np.ndarray | None = None  # Markov: per channel, 0-1
    note: str | None = None  # e.g. an approximation and its error bound

    def share(self) -> np.ndarray:
        """Each channel's share of the conversions (0 when there are none)."""
        total = float(self.conversions.sum())
        return self.conversions / total if total > 0 else np.zeros_like(self.conversions)
