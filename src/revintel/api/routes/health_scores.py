"""``/api/v1/health/...``: portfolio summary, backtest and the health settings (GET and PUT).

Also mounts the accounts routes, so the API registers all of health with one router.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revintel.api.deps import ContextDep
from revintel.api.routes import accounts
from revintel.api.routes.accounts import MonthQuery
from revintel.api.schemas import error_responses
from revintel.app import settings as app_settings
from revintel.health import service
from revintel.health.config import HealthConfig

router = APIRouter()
health = APIRouter(prefix="/health", tags=["health scores"])


class HealthSummary(BaseModel):
    """Portfolio KPIs for a month (``docs/health.md``, Portfolio)."""

    month: str
    owner: list[str] | None = None
    accounts: int
    scored_accounts: int
    partial_accounts: int
    total_arr: float
    capital_at_risk: float = Field(description="ARR of At Risk and Critical accounts.")
    capital_at_risk_share: float | None
    arr_by_tier: dict[str, float]
    arr_share_by_tier: dict[str, float | None]
    accounts_by_tier: dict[str, int]
    accounts_by_playbook: dict[str, int]
    arr_by_playbook: dict[str, float]
    average_health: float | None
    average_health_change: float | None
    dropped_accounts: int = Field(description="Accounts down ≥ 20 points since last month.")
    silent_accounts: int
    missing_tables: list[str]
    notes: list[str]


class HealthConfigOut(BaseModel):
    """The settings in effect and the files they come from."""

    config: HealthConfig
    sources: list[str]


@health.get("/summary", responses=error_responses(409, 422, 503))
def summary(
    ctx: ContextDep,
    month: MonthQuery = None,
    owner: Annotated[list[str] | None, Query()] = None,
) -> HealthSummary:
    """Total ARR, capital at risk, ARR share by tier, accounts per playbook, average health."""
    scores = service.score_month(ctx, month)
    return HealthSummary.model_validate(service.portfolio_summary(scores, owner=owner).to_dict())


@health.get("/backtest", responses=error_responses(409, 422, 503))
def backtest(ctx: ContextDep, horizon: Annotated[int, Query(ge=1, le=12)] = 3) -> dict[str, Any]:
    """Per-month ROC AUC of the scores against churn, churn by tier, suggested weights."""
    return service.run_backtest(ctx, horizon=horizon).as_dict()


@health.get("/config", responses=error_responses(422))
def get_config(ctx: ContextDep) -> HealthConfigOut:
    """The health settings in effect."""
    in_effect = app_settings.read(ctx.settings, app_settings.HEALTH)
    return HealthConfigOut(config=in_effect.value, sources=[str(p) for p in in_effect.sources])


@health.put(
    "/config",
    responses=error_responses(
        400, 413, 422, descriptions={422: "Invalid settings, e.g. weights that do not sum to 100%."}
    ),
)
def put_config(ctx: ContextDep, config: HealthConfig) -> HealthConfigOut:
    """Replace the saved settings (validated: weights must sum to 100%)."""
    app_settings.save(ctx.settings, app_settings.HEALTH, config)
    return get_config(ctx)


router.include_router(health)
router.include_router(accounts.router)
