"""``/api/v1/revenue/...``: accounts of pipeline and deal intelligence (docs/pipeline.md).

``POST /accounts/expansion-score`` (the loaded accounts ranked, or one account, or signals given
in the body), ``POST /accounts/churn-risk`` (the existing churn model and health score, side by
side) and ``GET /health-check``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.account_risk import churn_risk, health_check
from revintel.pipeline.service.expansion import AccountInputs, expansion_scores, score_inputs

router = APIRouter(prefix="/revenue", tags=["pipeline and deals"])

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
AccountId = Annotated[str, StringConstraints(min_length=1, max_length=200)]

FROM_ACCOUNTS = error_responses(
    400,
    404,
    409,
    422,
    descriptions={
        404: "The account is not scored.",
        409: "A table it needs (subscriptions, usage) is not loaded, or the month is outside "
        "the data.",
    },
)


class ExpansionSignals(BaseModel):
    """An account's signals, to score without the warehouse's account data."""

    model_config = ConfigDict(extra="forbid")

    active_users: int | None = Field(None, ge=0)
    licensed_seats: int | None = Field(None, ge=0)
    users_3_months_ago: int | None = Field(None, ge=0)
    key_feature_adoption: float | None = Field(None, ge=0, le=1)
    plan: Literal["Basic", "Pro", "Enterprise"] | None = None
    health_score: float | None = Field(None, ge=0, le=100)
    nps_score: int | None = Field(None, ge=0, le=10)
    arr: float | None = Field(None, ge=0)


class ExpansionRequest(BaseModel):
    """Which accounts to score: one (``account_id``), a filtered ranking, or given ``signals``."""

    model_config = ConfigDict(extra="forbid")

    account_id: AccountId | None = Field(None, description="Only this account.")
    month: Month | None = Field(None, description="Month scored, YYYY-MM; default the latest.")
    segment: str | None = Field(None, max_length=100)
    owner: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=5000, description="Accounts returned, best first.")
    signals: ExpansionSignals | None = Field(
        None, description="Score these signals instead of a loaded account."
    )


class ChurnRiskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: AccountId


@router.post("/accounts/expansion-score", responses=FROM_ACCOUNTS)
def expansion_score(ctx: ContextDep, body: ExpansionRequest) -> dict[str, Any]:
    """Expansion opportunity: score 0–100, reasons with their points, expected expansion ARR,
    and the backtest (top-decile lift over the base rate of expansion in the next months)."""
    if body.signals is not None:
        return score_inputs(ctx, AccountInputs(**body.signals.model_dump())).to_dict()
    return expansion_scores(
        ctx,
        month=body.month,
        segment=body.segment,
        owner=body.owner,
        account_id=body.account_id,
        limit=body.limit,
    ).to_dict()


@router.post("/accounts/churn-risk", responses=FROM_ACCOUNTS)
def account_churn_risk(ctx: ContextDep, body: ChurnRiskRequest) -> dict[str, Any]:
    """Churn risk from the current churn model (probability, tier, factors) beside the health
    score (tier, playbook), with recommendations; no second churn engine."""
    return churn_risk(ctx, body.account_id).to_dict()


@router.get("/health-check")
def revenue_health_check(ctx: ContextDep) -> dict[str, Any]:
    """``healthy`` when every table the revenue features read is loaded, else ``degraded`` with
    what each missing table leaves out; whether a churn model is in production."""
    return health_check(ctx).to_dict()
