"""``/api/v1/revenue/...``: forecasts, their backtest and close probability (docs/pipeline.md:
Forecasts, Forecast accuracy backtest, Close probability)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.pipeline import probability as prob
from revintel.pipeline.service import forecasts

router = APIRouter(prefix="/revenue", tags=["pipeline and deals"])

OwnerQuery = Annotated[
    str | None, Query(max_length=200, description="Only this sales rep's deals.")
]
SegmentQuery = Annotated[str | None, Query(max_length=100, description="Only this segment.")]
FROM_WAREHOUSE = error_responses(
    400, 404, 409, 422, 503, descriptions={409: "The deal tables it needs are not loaded."}
)


class CloseProbabilityRequest(BaseModel):
    """The multi-factor rule's fields; ``deal_id`` (an open deal) for the model's probability of
    that deal as it stands now."""

    model_config = ConfigDict(extra="forbid")

    deal_stage: str = Field(examples=["Proposal"], description="An open stage.")
    days_in_stage: int = Field(default=0, ge=0, le=36500)
    lead_score: float = Field(default=0, ge=0, le=100)
    num_interactions: int = Field(default=0, ge=0, le=100_000)
    num_objections_handled: int = Field(default=0, ge=0, le=100_000)
    champion_identified: bool = False
    budget_confirmed: bool = False
    decision_maker_engaged: bool = False
    competitors_mentioned: int = Field(default=0, ge=0, le=100)
    deal_id: str | None = Field(default=None, max_length=200)
    deal_type: str | None = Field(default=None, max_length=100)
    segment: str | None = Field(default=None, max_length=100)
    amount: float | None = Field(default=None, ge=0, le=1e12)

    @field_validator("deal_stage")
    @classmethod
    def _open_stage(cls, value: str) -> str:
        try:
            return prob.stage_named(value)
        except prob.InvalidCloseProbabilityInput as exc:
            raise ValueError(str(exc).removeprefix("deal_stage: ")) from None


@router.get("/forecast/monthly", responses=FROM_WAREHOUSE)
def forecast_monthly(
    ctx: ContextDep,
    months: Annotated[int, Query(ge=1, le=6, description="Calendar months ahead, 1-6.")] = 6,
    owner: OwnerQuery = None,
    segment: SegmentQuery = None,
) -> dict[str, Any]:
    """Bookings forecast by method (stage-weighted, probability-weighted, reps' categories,
    time series) for each of the next months and the next 30/60/90 days, with 80%/95% intervals."""
    return forecasts.monthly_forecast(ctx, months=months, owner=owner, segment=segment).to_dict()


@router.get("/forecast/backtest", responses=FROM_WAREHOUSE)
def forecast_backtest(
    ctx: ContextDep,
    detail: Annotated[bool, Query(description="Include every snapshot's forecast.")] = False,
    owner: OwnerQuery = None,
    segment: SegmentQuery = None,
) -> dict[str, Any]:
    """MAPE, bias and 80%/95% interval coverage per method and horizon, beside the naive
    baseline, over every past month-start."""
    result = forecasts.backtest(ctx, owner=owner, segment=segment).to_dict()
    if not detail:
        result.pop("points")
    return result


@router.post("/predict/close-probability", responses=FROM_WAREHOUSE)
def predict_close_probability(ctx: ContextDep, body: CloseProbabilityRequest) -> dict[str, Any]:
    """The transparent multi-factor rule with its breakdown, and the calibrated model's probability
    with its held-out ROC AUC and Brier score."""
    inp = prob.RuleInput(
        deal_stage=body.deal_stage,
        days_in_stage=body.days_in_stage,
        lead_score=body.lead_score,
        num_interactions=body.num_interactions,
        num_objections_handled=body.num_objections_handled,
        champion_identified=body.champion_identified,
        budget_confirmed=body.budget_confirmed,
        decision_maker_engaged=body.decision_maker_engaged,
        competitors_mentioned=body.competitors_mentioned,
    )
    extra = {
        k: v
        for k, v in (
            ("deal_type", body.deal_type),
            ("segment", body.segment),
            ("amount", body.amount),
        )
        if v is not None
    }
    if body.amount is not None:
        extra["first_amount"] = body.amount
    return forecasts.close_probability(ctx, inp, deal_id=body.deal_id, deal=extra).to_dict()
