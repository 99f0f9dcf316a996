"""The journey options the Marketing pages share: look-back window, conversion type and the
conversions' date range, with the attribution settings as defaults (docs/attribution.md,
Journeys)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from revintel.app.context import AppContext
from revintel.attribution.config import load_config
from revintel.data.schema import CONVERSION_TYPES


@dataclass(frozen=True)
class JourneyInputs:
    window_days: int
    conversion_type: str
    start: date | None
    end: date | None


def journey_inputs(ctx: AppContext, cols: Any, prefix: str) -> JourneyInputs:
    """The four inputs in the first four of ``cols`` (Streamlit columns); widget keys start
    with ``prefix``."""
    settings = load_config(ctx.settings).models
    window = cols[0].number_input(
        "Look-back window (days)",
        min_value=1,
        max_value=3650,
        value=settings.window_days,
        step=1,
        key=f"{prefix}_window",
    )
    kind = cols[1].selectbox(
        "Conversion type",
        CONVERSION_TYPES,
        index=CONVERSION_TYPES.index(settings.conversion_type),
        key=f"{prefix}_type",
    )
    start = cols[2].date_input("Conversions from", value=None, key=f"{prefix}_start")
    end = cols[3].date_input("Conversions to", value=None, key=f"{prefix}_end")
    return JourneyInputs(
        window_days=int(window),
        conversion_type=str(kind),
        start=start if isinstance(start, date) else None,
        end=end if isinstance(end, date) else None,
    )
