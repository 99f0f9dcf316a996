"""``/api/v1/risk-trends``: portfolio churn risk over months, expected churn next quarter with its
interval and backtest, risk by signup cohort, risers and feature drift by month
(docs/retention.md, Risk trends)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.retention.risk_trends import (
    MAX_MONTHS,
    cohort_risk,
    feature_drift,
    risk_risers,
    risk_trends,
)

router = APIRouter(prefix="/risk-trends", tags=["risk trends"])

RESPONSES = error_responses(
    404,
    409,
    422,
    503,
    descriptions={
        404: "No churn model is in production (train one with `revintel churn train`).",
        409: "The data does not allow it: no customer with MRR, or customers is not loaded.",
    },
)
MonthsQuery = Annotated[
    int, Query(ge=2, le=MAX_MONTHS, description="Months of history, the latest last.")
]


class PortfolioMonthOut(BaseModel):
    month: str = Field(description="The month end, YYYY-MM.")
    customers: int = Field(description="Customers with MRR > 0 at the month end.")
    mrr: float = Field(description="Their MRR.")
    mrr_weighted_risk: float = Field(
        description="Σ mrr·p ÷ Σ mrr: churn probability (model horizon) weighted by MRR."
    )
    average_risk: float = Field(description="Unweighted mean churn probability.")
    tier_counts: dict[str, int] = Field(description="Customers per risk tier (High..Safe).")
    tier_mrr: dict[str, float] = Field(description="MRR per risk tier.")
    expected_churned: float = Field(description="Σ 3-month probability: churners expected.")
    expected_churned_mrr: float = Field(description="Σ mrr × 3-month probability.")


class ExpectedChurnOut(BaseModel):
    as_of: str = Field(description="The month end the customers are scored at.")
    quarter: str = Field(description="The 3 months predicted, YYYY-MM..YYYY-MM.")
    customers: int = Field(description="Customers at risk at `as_of`.")
    mrr: float = Field(description="Their MRR.")
    expected_customers: float = Field(description="Σ p: expected churned customers.")
    customers_low: float = Field(description="Lower end of the interval (customers).")
    customers_high: float = Field(description="Upper end of the interval (customers).")
    expected_mrr: float = Field(description="Σ mrr·p: expected churned MRR.")
    mrr_low: float = Field(description="Lower end of the interval (MRR).")
    mrr_high: float = Field(description="Upper end of the interval (MRR).")
    level: float = Field(description="Coverage of the intervals (0.9: 90%).")
    count_method: str = Field(
        description="`exact`: Poisson-binomial by dynamic programming; `normal`: mean ± z·√Σp(1−p)."
    )
    mrr_method: str = Field(description="`normal`: Σ mrr·p ± z·√Σ mrr²·p(1−p).")
    horizon_conversion: str = Field(description="How the model's horizon became 3 months.")


class CalibrationOut(BaseModel):
    month: str = Field(description="A past month end whose next quarter is known.")
    customers: int = Field(description="Customers at risk then.")
    expected: float = Field(description="Churners expected in the quarter after it.")
    low: float = Field(description="Lower end of the interval.")
    high: float = Field(description="Upper end of the interval.")
    actual: int = Field(description="Customers who did churn in that quarter.")
    expected_mrr: float = Field(description="MRR expected to churn.")
    actual_mrr: float = Field(description="MRR of the customers who churned.")
    inside: bool = Field(description="Whether `actual` lies in the interval.")
    in_training: bool = Field(description="Whether the month was in the model's training data.")


class RiskTrendsOut(BaseModel):
    """The portfolio series, expected churn next quarter and the backtest."""

    model_version: str = Field(description="The production model that scored every month.")
    horizon_months: int = Field(description="Its horizon (1 or 3 months).")
    source: str = Field(description="How the history was made (a backcast with the model).")
    tier_cutoffs: dict[str, float] = Field(
        description="Tier cut-offs (of the latest month's customers) used for every month."
    )
    series: list[PortfolioMonthOut] = Field(description="One entry per month, oldest first.")
    next_quarter: ExpectedChurnOut = Field(description="Expected churn after the latest month.")
    calibration: list[CalibrationOut] = Field(description="Expected vs realised, past months.")
    calibration_coverage: float | None = Field(
        description="Share of backtest months whose realised churn lies in the interval."
    )


class CohortOut(BaseModel):
    cohort: str = Field(description="Signup month (YYYY-MM) or quarter (YYYY-Qn).")
    customers: int = Field(description="The cohort's customers at risk at the latest month.")
    mrr: float = Field(description="Their MRR.")
    average_risk: float = Field(description="Mean churn probability.")
    mrr_weighted_risk: float = Field(description="Churn probability weighted by MRR.")
    high_share: float = Field(description="Share in the High tier.")
    expected_churned: float = Field(description="Σ 3-month probability.")


class CohortsOut(BaseModel):
    model_version: str = Field(description="The model that scored them.")
    as_of: str = Field(description="The month end, YYYY-MM.")
    by: str = Field(description="month or quarter.")
    cohorts: list[CohortOut] = Field(description="Oldest cohort first.")


class RiserOut(BaseModel):
    account_id: str = Field(description="The customer.")
    name: str | None = Field(description="Company name, when loaded.")
    mrr: float = Field(description="MRR at the latest month end.")
    previous_risk: float = Field(description="Churn probability a month before.")
    risk: float = Field(description="Churn probability at the latest month end.")
    change: float = Field(description="risk − previous_risk (0..1).")
    risk_tier: str = Field(description="Tier now.")
    previous_tier: str = Field(description="Tier a month before.")
    top_factor: str | None = Field(description="Feature raising the latest risk most (SHAP).")
    top_factor_label: str | None = Field(description="That feature in words.")


class RisersOut(BaseModel):
    model_version: str = Field(description="The model that scored both months.")
    previous: str = Field(description="The earlier month end.")
    latest: str = Field(description="The latest month end.")
    risers: list[RiserOut] = Field(description="Largest rise first.")


class DriftRowOut(BaseModel):
    month: str = Field(description="The month end.")
    feature: str = Field(description="A model feature.")
    label: str = Field(description="The feature in words.")
    kind: str = Field(description="numeric or categorical.")
    psi: float | None = Field(description="PSI against the training data (null: absent).")
    status: str = Field(description="stable (< 0.1), moderate (< 0.25), drift, missing.")
    retrain_trigger: bool = Field(description="False for features that move with the calendar.")
    reference_mean: float | None = Field(description="Training mean (numeric features).")
    current_mean: float | None = Field(description="The month's mean.")
    current_median: float | None = Field(description="The month's median.")
    current_missing_share: float | None = Field(description="The month's missing share.")


class DriftOut(BaseModel):
    model_version: str = Field(description="The model whose training data is the reference.")
    training: str = Field(description="Its training window, YYYY-MM..YYYY-MM.")
    months: list[str] = Field(description="The months, oldest first.")
    rows: list[DriftRowOut] = Field(description="One row per feature and month.")


@router.get("", response_model=RiskTrendsOut, responses=RESPONSES)
def portfolio(
    ctx: ContextDep,
    months: MonthsQuery = 12,
    level: Annotated[
        float, Query(ge=0.5, lt=1.0, description="Interval coverage, 0.5 to 0.99.")
    ] = 0.9,
) -> dict[str, Any]:
    """MRR-weighted churn risk and tiers per month (a backcast with the production model),
    expected churned customers and MRR next quarter with an interval, and the backtest of past
    quarters."""
    return risk_trends(ctx, months, level).to_dict()


@router.get("/cohorts", response_model=CohortsOut, responses=RESPONSES)
def cohorts(
    ctx: ContextDep,
    by: Annotated[Literal["month", "quarter"], Query(description="Signup cohort.")] = "quarter",
) -> dict[str, Any]:
    """Current risk by signup cohort: average and MRR-weighted risk, share in High."""
    return cohort_risk(ctx, by).to_dict()


@router.get("/risers", response_model=RisersOut, responses=RESPONSES)
def risers(
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Customers listed.")] = 20,
) -> dict[str, Any]:
    """The customers whose risk rose most since the previous month end."""
    return risk_risers(ctx, limit).to_dict()


@router.get("/drift", response_model=DriftOut, responses=RESPONSES)
def drift(ctx: ContextDep, months: MonthsQuery = 12) -> dict[str, Any]:
    """PSI, mean and median of each model feature per month against the training data."""
    return feature_drift(ctx, months).to_dict()
