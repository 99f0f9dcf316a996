"""``/api/v1/metrics``: the SaaS metrics of ``docs/metrics.md`` per month, broken down, filtered.

The routes parse and validate the request and answer through the same reports as ``revintel
metrics`` (:mod:`revintel.app.reports`). A metric whose table was never loaded answers 409 naming
the table; an unknown metric or breakdown, a malformed month, an option the metric does not take,
or ``from`` after ``to``, answers 422 naming the field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import Month, error_responses
from revintel.app.reports import REPORTS, ByName, MetricName, headlines, metric_report

router = APIRouter(prefix="/metrics", tags=["metrics"])

Values = Annotated[list[str] | None, Query(description="Keep only these values (repeatable).")]


class MetricInfo(BaseModel):
    """A metric report the API serves."""

    name: str
    label: str
    definition: str = Field(description="Section of docs/metrics.md that defines it.")
    breakdown: str = Field(description="any, channel (acquisition channel only) or none.")


class MetricRows(BaseModel):
    """A metric per month (and breakdown value), each row with its ``definition`` link.

    A rate that is undefined is null, next to ``<rate>_reason`` saying why.
    """

    metric: str
    label: str
    definition: str
    by: str | None
    filters: dict[str, list[str]]
    from_month: str | None = Field(alias="from")
    to_month: str | None = Field(alias="to")
    rows: list[dict[str, Any]]

    model_config = {"populate_by_name": True}


class Headline(BaseModel):
    """One headline figure, the month before, the change and its definition."""

    label: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None
    change_pct: float | None
    reason: str | None = Field(description="Why value is null, else null.")
    definition: str
    note: str | None = Field(
        None,
        description="What to read beside the figure: for cash collected, recognised revenue "
        "(MRR-based) and whether the change is billing timing rather than growth.",
    )


class Summary(BaseModel):
    """The latest complete month's headline figures."""

    month: str
    as_of: date
    metrics: dict[str, Headline]


@router.get("")
def list_metrics() -> list[MetricInfo]:
    """Every metric ``GET /metrics/{name}`` serves, with its definition."""
    return [
        MetricInfo(name=n, label=r.label, definition=r.definition, breakdown=r.breakdown)
        for n, r in REPORTS.items()
    ]


@router.get("/summary", responses=error_responses(409, 503))
def summary(ctx: ContextDep) -> Summary:
    """Headline figures of the latest complete month (MRR, ARR, customers, churn, NRR, ...)."""
    return Summary.model_validate(headlines(ctx).to_dict())


@router.get(
    "/{name}",
    response_model_by_alias=True,
    responses=error_responses(
        409,
        422,
        503,
        descriptions={
            409: "A table the metric needs has not been loaded, or no month of the data falls "
            "in `from`..`to`.",
            422: "An unknown metric or breakdown, a malformed month, an option the metric does "
            "not take, or `from` after `to`.",
        },
    ),
)
def metric(
    ctx: ContextDep,
    name: MetricName,
    start: Annotated[Month | None, Query(alias="from", description="First month, YYYY-MM.")] = None,
    end: Annotated[Month | None, Query(alias="to", description="Last month, YYYY-MM.")] = None,
    by: Annotated[ByName | None, Query(description="Break down by this dimension.")] = None,
    segment: Values = None,
    plan: Values = None,
    country: Values = None,
    channel: Values = None,
    industry: Values = None,
) -> MetricRows:
    """One metric per month over ``from``..``to`` (default: every complete month)."""
    filters = {
        "segment": segment,
        "plan": plan,
        "country": country,
        "channel": channel,
        "industry": industry,
    }
    result = metric_report(
        ctx,
        name,
        start=start,
        end=end,
        by=by,
        filters={k: v for k, v in filters.items() if v},
        field_names={"start": "from", "end": "to", "by": "by"},
    )
    return MetricRows.model_validate(result.to_dict())
