"""``GET /api/v1/accounts`` (paged, filtered, sorted) and ``GET /api/v1/accounts/{id}`` (360).

Thin: parse the query, call :mod:`revintel.health.service`, shape the answer (docs/health.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, WithJsonSchema

from revintel.api.deps import ContextDep
from revintel.api.schemas import Month, error_responses
from revintel.health import service
from revintel.health.config import Playbook, Tier

router = APIRouter(prefix="/accounts", tags=["accounts"], responses=error_responses(409, 422, 503))

MonthQuery = Annotated[Month | None, Query(description="YYYY-MM; default the latest month.")]


class AccountOut(BaseModel):
    """One account's health in a month (``docs/health.md``)."""

    account_id: str
    account_name: str | None = None
    month: str
    health_score: float | None = Field(None, description="0–100; null without any pillar data.")
    tier: Tier | None = None
    playbook: Playbook | None = None
    reason: str
    engagement: float | None = None
    sentiment: float | None = None
    support: float | None = None
    arr: float | None = None
    partial: bool = Field(description="Scored without every pillar (weights renormalised).")
    health_change: float | None = Field(None, description="Points since the month before.")
    owner: str | None = None
    industry: str | None = None
    segment: str | None = None
    renewal_date: date | None = None
    last_contact_date: date | None = None
    days_since_contact: int | None = None


class AccountsPage(BaseModel):
    """A page of accounts and how many match."""

    month: str
    total: int
    page: int
    page_size: int
    items: list[AccountOut]
    notes: list[str] = Field(description="Missing tables and what they leave out.")


class PillarOut(BaseModel):
    score: float | None
    weight: float
    has_data: bool
    source_table: str
    table_loaded: bool
    inputs: dict[str, Any]


class HistoryPoint(BaseModel):
    month: str
    health_score: float | None
    tier: Tier | None
    engagement: float | None
    sentiment: float | None
    support: float | None
    arr: float | None
    playbook: Playbook | None
    partial: bool


class TimelineEvent(BaseModel):
    # The data's timestamps carry no time zone, so this is not an RFC 3339 `date-time`.
    date: Annotated[
        datetime,
        WithJsonSchema(
            {"type": "string", "description": "ISO 8601 date and time as in the data, no zone."}
        ),
    ]
    kind: str
    event: str
    detail: str


class AccountHeader(AccountOut):
    scored_month: str
    previous_score: float | None = None
    silent: bool
    current: bool = Field(description="Scored in the requested (default: latest) month.")


class AccountDetail(BaseModel):
    """The account 360: header, pillars with their inputs, actions, history and timeline."""

    account: AccountHeader
    pillars: dict[str, PillarOut]
    actions: list[str]
    history: list[HistoryPoint]
    timeline: list[TimelineEvent]
    notes: list[str]


@router.get("")
def list_accounts(
    ctx: ContextDep,
    month: MonthQuery = None,
    owner: Annotated[list[str] | None, Query()] = None,
    tier: Annotated[list[Tier] | None, Query()] = None,
    playbook: Annotated[list[Playbook] | None, Query()] = None,
    segment: Annotated[list[str] | None, Query()] = None,
    industry: Annotated[list[str] | None, Query()] = None,
    partial: bool | None = None,
    q: Annotated[str | None, Query(description="Search in name and id.")] = None,
    sort: Annotated[service.SortKey, Query()] = "health_score",
    descending: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> AccountsPage:
    """Accounts scored for a month; repeat a filter to allow several values."""
    scores = service.score_month(ctx, month)
    found = service.list_accounts(
        scores,
        sort=sort,
        descending=descending,
        page=page,
        page_size=page_size,
        owner=owner,
        tier=tier,
        playbook=playbook,
        segment=segment,
        industry=industry,
        partial=partial,
        search=q,
    )
    return AccountsPage(
        month=scores.month,
        total=found.total,
        page=page,
        page_size=page_size,
        items=[AccountOut.model_validate(r.to_dict()) for r in found.items],
        notes=scores.notes,
    )


@router.get(
    "/{account_id}",
    responses=error_responses(404, descriptions={404: "No such scored account."}),
)
def get_account(ctx: ContextDep, account_id: str, month: MonthQuery = None) -> AccountDetail:
    """One account's 360: header, pillars with inputs, actions, health history and timeline."""
    return AccountDetail.model_validate(service.account_detail(ctx, account_id, month).to_dict())
