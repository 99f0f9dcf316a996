"""``/api/v1/attribution/paths`` and ``/api/v1/customers/{id}/journey``: journeys
(docs/attribution.md, Journeys and Journey analytics).

Each parses, calls one function of :mod:`revintel.attribution.service.journeys` and returns its
result.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.attribution.service import journeys as service

router = APIRouter(tags=["attribution"])


@router.get(
    "/attribution/paths",
    responses=error_responses(
        409, 422, descriptions={409: "No touchpoints or conversions are loaded, or none match."}
    ),
)
def attribution_paths(
    ctx: ContextDep,
    top: Annotated[int, Query(ge=1, le=service.MAX_TOP, description="How many paths.")] = 20,
    collapse_repeats: Annotated[
        bool, Query(description="Consecutive touches on one channel count once.")
    ] = False,
    start: Annotated[
        date | None, Query(alias="from", description="Conversions on or after, YYYY-MM-DD.")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="Conversions on or before, YYYY-MM-DD.")
    ] = None,
    window: Annotated[
        int | None, Query(ge=1, le=3650, description="Look-back window, days.")
    ] = None,
    conversion_type: Annotated[
        str | None, Query(description="signup, trial or paid (default: the settings').")
    ] = None,
) -> dict[str, Any]:
    """Top paths (journeys, conversions, conversion_rate, value), path lengths (converting and
    not), time to convert (days from first touch) and first-to-last channel flows."""
    return service.path_report(
        ctx,
        top=top,
        collapse_repeats=collapse_repeats,
        start=start,
        end=end,
        window_days=window,
        conversion_type=conversion_type,
    ).to_dict()


@router.get(
    "/customers/{customer_id}/journey",
    responses=error_responses(
        404, 409, descriptions={404: "No customer, touch or conversion has this id."}
    ),
)
def customer_journey(
    ctx: ContextDep,
    customer_id: Annotated[str, Path(max_length=200, description="The customer's id.")],
) -> dict[str, Any]:
    """Every touch (channel, source, medium, campaign, time) and conversion of the customer in
    order, with the days since the previous event and since the first touch."""
    return service.customer_journey(ctx, customer_id).to_dict()
