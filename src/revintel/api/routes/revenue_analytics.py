"""``/api/v1/revenue/...``: analytics of pipeline and deal intelligence (docs/pipeline.md).

``GET /dashboard``, ``GET /pipeline/by-stage``, ``GET /won-deals/summary``, ``GET /competitors``
and ``POST /scenario-calculator``. Each parses, calls one function of
:mod:`revintel.pipeline.service.analytics` and returns its result.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.data.schema import DEAL_STAGES
from revintel.pipeline.analytics import DealFilter
from revintel.pipeline.scenario import ScenarioInputs
from revintel.pipeline.service import analytics as service

router = APIRouter(prefix="/revenue", tags=["pipeline and deals"])

FROM_DEALS = error_responses(
    400,
    409,
    422,
    descriptions={409: "No deals are loaded, or a table or column the analytic needs is not."},
)


def deal_filter(
    owner: Annotated[str | None, Query(description="Only this sales rep's deals.")] = None,
    segment: Annotated[str | None, Query(description="Only this segment.")] = None,
    stage: Annotated[
        str | None, Query(description=f"Only deals in this stage: {', '.join(DEAL_STAGES)}.")
    ] = None,
    created_from: Annotated[
        date | None, Query(alias="from", description="Created on or after, YYYY-MM-DD.")
    ] = None,
    created_to: Annotated[
        date | None, Query(alias="to", description="Created on or before, YYYY-MM-DD.")
    ] = None,
) -> DealFilter:
    return service.make_filter(
        owner=owner,
        segment=segment,
        stage=stage,
        created_from=created_from,
        created_to=created_to,
    )


FilterDep = Annotated[DealFilter, Depends(deal_filter)]


class ScenarioChanges(BaseModel):
    """Relative changes (0.10 = +10%)."""

    model_config = ConfigDict(extra="forbid")

    win_rate_increase: float = Field(default=0.0, ge=-1, le=100, allow_inf_nan=False)
    deal_size_increase: float = Field(default=0.0, ge=-1, le=100, allow_inf_nan=False)
    pipeline_growth: float = Field(default=0.0, ge=-1, le=100, allow_inf_nan=False)
    cycle_time_change: float = Field(default=0.0, gt=-1, le=100, allow_inf_nan=False)


class SegmentChanges(BaseModel):
    """A segment's own changes; one not given uses the request's."""

    model_config = ConfigDict(extra="forbid")

    win_rate_increase: float | None = Field(default=None, ge=-1, le=100, allow_inf_nan=False)
    deal_size_increase: float | None = Field(default=None, ge=-1, le=100, allow_inf_nan=False)
    pipeline_growth: float | None = Field(default=None, ge=-1, le=100, allow_inf_nan=False)
    cycle_time_change: float | None = Field(default=None, gt=-1, le=100, allow_inf_nan=False)


class ScenarioRequest(ScenarioChanges):
    """What-if inputs, optionally per segment."""

    segments: dict[str, SegmentChanges] | None = Field(
        default=None,
        description="Per segment (SMB, Mid-Market, Enterprise): its own changes.",
        max_length=20,
    )


@router.get("/dashboard", responses=FROM_DEALS)
def dashboard(ctx: ContextDep, filters: FilterDep) -> dict[str, Any]:
    """KPIs (total_pipeline, deal_count, avg_deal_size, weighted_forecast_90d, at_risk_deals),
    pipeline by stage and the stage-weighted forecast of the next six months."""
    return service.dashboard(ctx, filters)


@router.get("/pipeline/by-stage", responses=FROM_DEALS)
def pipeline_by_stage(ctx: ContextDep, filters: FilterDep) -> list[dict[str, Any]]:
    """Open deals per stage: deals, amount, weighted_amount, age, conversion, days in stage."""
    return service.by_stage(ctx, filters)


@router.get("/won-deals/summary", responses=FROM_DEALS)
def won_deals_summary(ctx: ContextDep, filters: FilterDep) -> dict[str, Any]:
    """Won deals: totals, deal size and cycle, per month, win rates by each dimension."""
    return service.won_summary(ctx, filters)


@router.get("/competitors", responses=FROM_DEALS)
def competitors(ctx: ContextDep, filters: FilterDep) -> dict[str, Any]:
    """Per competitor: win rate with its 95% interval, trend, stage lost, loss reasons; threats
    (with the test) and opportunities."""
    return service.competitors(ctx, filters).to_dict()


@router.post("/scenario-calculator", responses=FROM_DEALS)
def scenario_calculator(
    ctx: ContextDep, body: ScenarioRequest, filters: FilterDep
) -> dict[str, Any]:
    """Baseline against projected pipeline, win rate and forecast (docs/pipeline.md), the delta
    and the distribution of simulated outcomes."""
    inputs = ScenarioInputs(**body.model_dump(exclude={"segments"}))
    segments = (
        {k: v.model_dump(exclude_none=True) for k, v in body.segments.items()}
        if body.segments
        else None
    )
    return service.scenario(ctx, inputs, segments=segments, filters=filters).to_dict()
