"""``/api/v1/revenue/...``: deals of pipeline and deal intelligence (docs/pipeline.md, Deals).

``GET /deals/{id}`` answers with an ``ETag`` header (the deal's version); ``PATCH /deals/{id}``
needs it back in ``If-Match`` and answers 409 when the deal changed since (nothing is written),
428 without it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.data.schema import BILLING_PERIODS, DEAL_STAGES, FORECAST_CATEGORIES
from revintel.pipeline.deal_value import DealInputs
from revintel.pipeline.service import deals as service
from revintel.pipeline.stages import OPEN_STAGES

router = APIRouter(prefix="/revenue", tags=["pipeline and deals"])

FROM_WAREHOUSE = error_responses(400, 409, 422, 503, descriptions={409: "No deals are loaded."})
ONE_DEAL = {**FROM_WAREHOUSE, **error_responses(404, descriptions={404: "No such deal."})}

Stage = Literal[DEAL_STAGES]  # type: ignore[valid-type]
OpenStage = Literal[OPEN_STAGES]  # type: ignore[valid-type]
ForecastCategory = Literal[FORECAST_CATEGORIES]  # type: ignore[valid-type]
BillingCycle = Literal[BILLING_PERIODS]  # type: ignore[valid-type]


@router.get("/alerts/at-risk", responses=FROM_WAREHOUSE)
def at_risk_alerts(
    ctx: ContextDep,
    min_deal_value: Annotated[
        float | None,
        Query(ge=0, description="Smallest deal amount listed; default the settings' value."),
    ] = None,
) -> dict[str, Any]:
    """Open deals ≥ min_deal_value that are critical or carry an alert factor, ranked by
    amount × (100 − health score) / 100, with their factors and evidence."""
    return service.at_risk(ctx, min_deal_value).to_dict()


@router.get("/deals", responses=FROM_WAREHOUSE)
def deals(
    ctx: ContextDep,
    owner: Annotated[str | None, Query(max_length=200)] = None,
    segment: Annotated[str | None, Query(max_length=200)] = None,
    stage: OpenStage | None = None,
    category: Literal["healthy", "at risk", "critical"] | None = None,
    created_from: Annotated[date | None, Query(alias="from")] = None,
    created_to: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Open deals with health score, category and risk factors, lowest score first."""
    filters = service.DealFilters(owner, segment, stage, category, created_from, created_to)
    return service.list_deals(ctx, filters).to_dict()


@router.get("/deals/{deal_id}", responses=ONE_DEAL)
def deal(ctx: ContextDep, deal_id: str, response: Response) -> dict[str, Any]:
    """One deal with its health and factors, stage timeline, activities and edits; its ETag in
    the body and the ``ETag`` header."""
    detail = service.deal_detail(ctx, deal_id)
    response.headers["ETag"] = f'"{detail.etag}"'
    return detail.to_dict()


class DealPatch(BaseModel):
    """The fields to change (at least one); the rest stay as they are."""

    model_config = ConfigDict(extra="forbid")

    stage: Stage | None = None
    amount: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    expected_close_date: date | None = None
    forecast_category: ForecastCategory | None = None
    has_champion: bool | None = None
    budget_confirmed: bool | None = None
    decision_maker_engaged: bool | None = None
    edited_by: str = Field(
        default="api", min_length=1, max_length=200, description="Who made the edit (recorded)."
    )


@router.patch(
    "/deals/{deal_id}",
    responses={
        **ONE_DEAL,
        **error_responses(
            428, descriptions={428: "No If-Match header: send the ETag of GET /deals/{id}."}
        ),
    },
)
def edit_deal(
    ctx: ContextDep,
    deal_id: str,
    body: DealPatch,
    response: Response,
    if_match: Annotated[
        str | None, Header(description="The deal's ETag, as GET /deals/{id} returned it.")
    ] = None,
) -> dict[str, Any]:
    """Edit a deal: the deal row and an appended stage-history row are written to the warehouse
    in one commit, the edit recorded with who and when; 409 when the deal changed since its ETag
    was read (nothing is written)."""
    changes = service.DealChanges(**body.model_dump(exclude={"edited_by"}, exclude_none=True))
    detail = service.edit_deal(ctx, deal_id, changes, if_match=if_match, edited_by=body.edited_by)
    response.headers["ETag"] = f'"{detail.etag}"'
    return detail.to_dict()


class DealValueRequest(BaseModel):
    """A deal-value request."""

    model_config = ConfigDict(extra="forbid")

    num_users_planned: int = Field(ge=1, le=10_000_000)
    base_list_price_per_user: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    discount_pct: float = Field(default=0.0, ge=0, lt=1)
    billing_cycle: BillingCycle = "annual"
    contract_term_months: int = Field(default=12, ge=1, le=120)
    industry: str | None = Field(default=None, max_length=200)
    deal_stage: OpenStage | None = None
    expansion_potential_factor: float = Field(default=1.0, gt=0, le=100, allow_inf_nan=False)
    product_plan: str | None = Field(default=None, max_length=200)
    segment: str | None = Field(default=None, max_length=200)
    lead_source: str | None = Field(default=None, max_length=200)
    deal_type: str | None = Field(default=None, max_length=200)
    similar_closed_deals_avg_acv: float | None = Field(default=None, gt=0, allow_inf_nan=False)


@router.post("/predict/deal-value", responses=error_responses(400, 409, 422, 503))
def predict_deal_value(ctx: ContextDep, body: DealValueRequest) -> dict[str, Any]:
    """The seat-price formula with its breakdown, and the model learned from closed-won deals with
    its 80% interval and held-out MAPE."""
    return service.predict_deal_value(ctx, DealInputs(**body.model_dump())).to_dict()
