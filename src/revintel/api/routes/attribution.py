"""``/api/v1/attribution/report`` and ``/api/v1/attribution/channels``: every model's credit per
channel (docs/attribution.md).

Each parses, calls :func:`revintel.attribution.service.report.report` and returns its result.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.attribution.credit import MODELS
from revintel.attribution.service import report as service

router = APIRouter(prefix="/attribution", tags=["attribution"])

FROM_JOURNEYS = error_responses(
    400,
    409,
    422,
    descriptions={409: "Touchpoints or conversions are not loaded, or no journey matches."},
)
ModelName = Literal[
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
    "all",
]
ConversionType = Literal["signup", "trial", "paid"]


class ReportBody(BaseModel):
    """What to attribute; a field left out takes the attribution settings' value."""

    model_config = ConfigDict(extra="forbid")

    start_date: date | None = Field(default=None, description="Conversions on or after.")
    end_date: date | None = Field(default=None, description="Conversions on or before.")
    attribution_models: list[ModelName] | None = Field(
        default=None,
        description=f"Models to compare: {', '.join(MODELS)}, or all (the default).",
        max_length=len(MODELS) + 1,
    )
    include_customer_journeys: bool = Field(
        default=False,
        description="Also return the converting journeys, each with its path and its credit "
        "under every requested model (a page of journeys_limit from journeys_offset).",
    )
    journeys_offset: int = Field(default=0, ge=0, le=10_000_000)
    journeys_limit: int = Field(default=20, ge=1, le=service.MAX_JOURNEYS_PAGE)
    window_days: int | None = Field(
        default=None, ge=1, le=3650, description="Look-back window, days before the conversion."
    )
    conversion_type: ConversionType | None = Field(default=None)
    markov_order: int | None = Field(default=None, ge=1, le=4, description="Markov order, 1-4.")


@router.post("/report", responses=FROM_JOURNEYS)
def attribution_report(ctx: ContextDep, body: ReportBody) -> dict[str, Any]:
    """Each requested model's credit per channel (conversions, value, share, the difference from
    last touch, and the Markov removal effect), totals, notes and, if asked, converting
    journeys with their credit."""
    request = service.ReportRequest(
        models=tuple(body.attribution_models) if body.attribution_models else None,
        markov_order=body.markov_order,
        start=body.start_date,
        end=body.end_date,
        window_days=body.window_days,
        conversion_type=body.conversion_type,
        include_journeys=body.include_customer_journeys,
        journeys_offset=body.journeys_offset,
        journeys_limit=body.journeys_limit,
    )
    return service.report(ctx, request).to_dict()


@router.get("/channels", responses=FROM_JOURNEYS)
def attribution_channels(
    ctx: ContextDep,
    start_date: Annotated[date | None, Query(description="Conversions on or after.")] = None,
    end_date: Annotated[date | None, Query(description="Conversions on or before.")] = None,
    window_days: Annotated[int | None, Query(ge=1, le=3650, description="Look-back days.")] = None,
    conversion_type: Annotated[ConversionType | None, Query()] = None,
    markov_order: Annotated[int | None, Query(ge=1, le=4, description="Markov order.")] = None,
) -> dict[str, Any]:
    """Every channel with its credit under each model: per channel, per model, conversions,
    value, share and the difference from last touch (Markov: the removal effect)."""
    result = service.report(
        ctx,
        service.ReportRequest(
            markov_order=markov_order,
            start=start_date,
            end=end_date,
            window_days=window_days,
            conversion_type=conversion_type,
        ),
    )
    return service.by_channel(result)
