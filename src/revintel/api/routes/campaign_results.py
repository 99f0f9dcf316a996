"""Campaigns: measured impact and recommendations (docs/retention.md, Measured impact).

``GET /api/v1/campaigns/{campaign_id}/results``, ``GET /api/v1/campaigns/impact`` and
``GET /api/v1/accounts/{account_id}/recommendations``. Each parses, calls one function of
:mod:`revintel.app.retention.impact` and returns its figures.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses

router = APIRouter(tags=["campaigns"])

CampaignId = Path(
    min_length=1,
    max_length=200,
    description="A number (an app campaign) or an imported campaign's id (warehouse campaigns).",
)


class ChurnComparisonModel(BaseModel):
    """Treated versus holdout churn and the uplift (holdout churn − treated churn)."""

    treated: int = Field(description="Treated members measured (MRR > 0 before their window).")
    treated_churned: int = Field(description="Treated members with MRR 0 at a window month end.")
    holdout: int = Field(description="Holdout members measured.")
    holdout_churned: int = Field(description="Holdout members that churned.")
    treated_rate: float = Field(description="Churn rate of the treated, 0–1.")
    holdout_rate: float = Field(description="Churn rate of the holdout, 0–1.")
    uplift: float = Field(description="holdout_rate − treated_rate (positive: customers saved).")
    uplift_low: float = Field(description="Lower end of the 95% interval (Newcombe).")
    uplift_high: float = Field(description="Upper end of the 95% interval (Newcombe).")
    p_value: float = Field(description="Two-sided p-value of equal churn rates.")
    test: Literal["z", "fisher"] = Field(description="z test, or Fisher's exact on small counts.")
    interval_method: str = Field(description="How the interval is computed.")
    confidence: float = Field(description="Confidence level of the interval.")


class StratifiedModel(BaseModel):
    """Cochran–Mantel–Haenszel risk difference over risk tiers."""

    uplift: float = Field(description="CMH risk difference, holdout − treated.")
    uplift_low: float = Field(description="Lower end of its 95% interval (Sato variance).")
    uplift_high: float = Field(description="Upper end of its 95% interval.")
    p_value: float = Field(description="Two-sided p-value.")
    strata: int = Field(description="Risk tiers holding both groups.")
    interval_method: str = Field(description="How the interval is computed.")
    confidence: float = Field(description="Confidence level.")


class TierModel(BaseModel):
    """Members of one risk tier (at the start) and how many churned."""

    risk_tier: str = Field(description="High, Medium, Low or Safe.")
    treated: int = Field(description="Treated members of the tier.")
    treated_churned: int = Field(description="Of them, churned.")
    holdout: int = Field(description="Holdout members of the tier.")
    holdout_churned: int = Field(description="Of them, churned.")


class MeanDifferenceModel(BaseModel):
    """Mean risk change (after − before) of the treated minus the holdout's, Welch interval."""

    treated_mean: float = Field(description="Mean risk change of the treated.")
    holdout_mean: float = Field(description="Mean risk change of the holdout.")
    difference: float = Field(description="treated_mean − holdout_mean (negative: risk fell).")
    low: float = Field(description="Lower end of the 95% Welch interval.")
    high: float = Field(description="Upper end of the 95% Welch interval.")
    p_value: float = Field(description="Two-sided Welch t test.")
    df: float = Field(description="Welch–Satterthwaite degrees of freedom.")
    treated: int = Field(description="Treated members with a risk before and after.")
    holdout: int = Field(description="Holdout members with a risk before and after.")
    confidence: float = Field(description="Confidence level.")


class ValueModel(BaseModel):
    """A figure with its 95% interval."""

    value: float = Field(description="The estimate.")
    low: float = Field(description="Lower end of the interval.")
    high: float = Field(description="Upper end of the interval.")


class PlantedModel(BaseModel):
    """The demo company's planted truth of an imported campaign (HOME/demo/truth)."""

    hazard_reduction: float = Field(description="Share by which the treatment cut the hazard.")
    true_churn_untreated: float = Field(description="Expected churn of the members untreated.")
    true_churn_treated: float = Field(description="Expected churn of the members treated.")
    true_uplift: float = Field(description="true_churn_untreated − true_churn_treated.")
    true_uplift_treated_members: float = Field(description="The same over the treated only.")
    inside_interval: bool | None = Field(description="Whether the measured interval holds it.")


class CampaignResultsResponse(BaseModel):
    """One campaign's measured impact; figures are null while it is in progress."""

    campaign_id: str = Field(description="The campaign's id.")
    source: Literal["app", "imported"] = Field(description="Created here, or loaded (read-only).")
    name: str = Field(description="Campaign name.")
    template: str = Field(description="The play it ran.")
    status: Literal["finished", "in progress", "not started", "cancelled"] = Field(
        description="finished: every member's outcome window has ended in the data."
    )
    start_date: str = Field(description="First day, YYYY-MM-DD.")
    outcome_end: str = Field(description="Last day of the last member's outcome window.")
    outcome_months: int = Field(description="Months of each member's outcome window.")
    last_data_month: str = Field(description="Last complete month of data, YYYY-MM.")
    months_remaining: int = Field(description="Months until the outcome is known (0: known).")
    members: int = Field(description="Members in the campaign.")
    not_active_at_start: int = Field(description="Members without MRR before their window.")
    treated: int = Field(description="Treated members measured.")
    holdout: int = Field(description="Holdout members measured.")
    churn: ChurnComparisonModel | None = Field(description="Churn comparison (null: unfinished).")
    stratified: StratifiedModel | None = Field(description="By risk tier (null: no tiers).")
    tiers: list[TierModel] = Field(description="Counts per risk tier.")
    risk_before_treated: float | None = Field(description="Mean risk of the treated at start.")
    risk_before_holdout: float | None = Field(description="Mean risk of the holdout at start.")
    risk_after_treated: float | None = Field(description="Mean latest risk after the window.")
    risk_after_holdout: float | None = Field(description="The same for the holdout.")
    risk_change: MeanDifferenceModel | None = Field(description="Risk change, when both known.")
    saves: ValueModel | None = Field(description="Customers saved: uplift × treated.")
    cost_per_customer: float | None = Field(description="Cost per treated customer.")
    cost: float | None = Field(description="cost_per_customer × treated.")
    average_clv: float | None = Field(description="Mean CLV of the treated at the start.")
    roi: ValueModel | None = Field(description="saves × average_clv − cost.")
    planted: PlantedModel | None = Field(description="The demo's planted truth, if known.")
    method: str = Field(description="The method, in words.")
    notes: list[str] = Field(description="What was left out, and why.")


class ImpactRow(BaseModel):
    """One campaign in the cross-campaign table."""

    campaign_id: str = Field(description="The campaign's id.")
    source: Literal["app", "imported"] = Field(description="app or imported.")
    name: str = Field(description="Campaign name.")
    template: str = Field(description="The play.")
    status: str = Field(description="finished, in progress, not started or cancelled.")
    start_date: str = Field(description="First day.")
    months_remaining: int = Field(description="Months until the outcome is known.")
    customers: int = Field(description="Members measured (or enrolled, while unfinished).")
    treated: int = Field(description="Treated members.")
    holdout: int = Field(description="Holdout members.")
    risk_before: float | None = Field(description="Mean risk at the start.")
    risk_after_treated: float | None = Field(description="Mean risk of the treated after.")
    risk_after_holdout: float | None = Field(description="Mean risk of the holdout after.")
    treated_churn: float | None = Field(description="Churn rate of the treated.")
    holdout_churn: float | None = Field(description="Churn rate of the holdout.")
    uplift: float | None = Field(description="holdout_churn − treated_churn.")
    uplift_low: float | None = Field(description="Lower end of its 95% interval.")
    uplift_high: float | None = Field(description="Upper end of its 95% interval.")
    p_value: float | None = Field(description="Two-sided p-value.")
    test: str | None = Field(description="z or fisher.")
    saves: float | None = Field(description="Customers saved.")
    saves_low: float | None = Field(description="Lower end.")
    saves_high: float | None = Field(description="Upper end.")
    cost: float | None = Field(description="Cost of the campaign.")
    roi: float | None = Field(description="saves × average CLV − cost.")
    roi_low: float | None = Field(description="Lower end.")
    roi_high: float | None = Field(description="Upper end.")
    true_uplift: float | None = Field(description="The demo's planted uplift, if known.")


class ImpactResponse(BaseModel):
    """Every campaign side by side."""

    last_data_month: str | None = Field(description="Last complete month of data.")
    truth_available: bool = Field(description="Whether the demo's planted truth was found.")
    method: str = Field(description="The method, in words.")
    campaigns: list[ImpactRow] = Field(description="One row per campaign, oldest first.")


class ActionRateModel(BaseModel):
    """One play's record among past members similar to the account."""

    template: str = Field(description="The play.")
    campaigns: int = Field(description="Campaigns of it the members come from.")
    treated: int = Field(description="Similar treated members (the rate's sample size).")
    treated_retained: int = Field(description="Of them, still customers after the window.")
    retention_treated: float = Field(description="treated_retained ÷ treated.")
    retention_treated_low: float = Field(description="Wilson 95% lower end.")
    retention_treated_high: float = Field(description="Wilson 95% upper end.")
    holdout: int = Field(description="Similar holdout members (sample size).")
    holdout_retained: int = Field(description="Of them, still customers.")
    retention_holdout: float | None = Field(description="holdout_retained ÷ holdout.")
    uplift: float | None = Field(description="retention_treated − retention_holdout.")
    uplift_low: float | None = Field(description="Newcombe 95% lower end.")
    uplift_high: float | None = Field(description="Newcombe 95% upper end.")
    p_value: float | None = Field(description="Two-sided p-value.")


class RecommendationsResponse(BaseModel):
    """Per-play success rates among similar past customers, best uplift first."""

    account_id: str = Field(description="The account.")
    risk_tier: str | None = Field(description="Its latest churn risk tier (null: not scored).")
    segment: str | None = Field(description="Its segment.")
    similar_by: list[str] = Field(description="The conditions that defined 'similar'.")
    actions: list[ActionRateModel] = Field(description="One row per play.")
    definition: str = Field(description="What similar and success mean.")
    notes: list[str] = Field(description="Caveats.")


@router.get(
    "/campaigns/impact",
    response_model=ImpactResponse,
    responses=error_responses(409, 503, descriptions={409: "subscriptions is not loaded."}),
)
def impact(ctx: ContextDep) -> dict[str, Any]:
    """Every campaign (app and imported) side by side with uplift, interval, p, saves, ROI."""
    from revintel.app.retention.impact import intervention_impact

    return intervention_impact(ctx).to_dict()


@router.get(
    "/campaigns/{campaign_id}/results",
    response_model=CampaignResultsResponse,
    responses=error_responses(
        404, 409, 422, 503, descriptions={404: "No campaign with this id (app or imported)."}
    ),
)
def results(ctx: ContextDep, campaign_id: str = CampaignId) -> dict[str, Any]:
    """One campaign's measured impact (``in progress`` with the months remaining if unfinished)."""
    from revintel.app.retention.impact import campaign_results

    return campaign_results(ctx, campaign_id).to_dict()


@router.get(
    "/accounts/{account_id}/recommendations",
    response_model=RecommendationsResponse,
    responses=error_responses(404, 409, 422, 503, descriptions={404: "No such customer."}),
)
def account_recommendations(
    ctx: ContextDep,
    account_id: str = Path(min_length=1, max_length=255, description="customers.customer_id."),
) -> dict[str, Any]:
    """Which plays worked for past customers like this one, each rate with its sample size."""
    from revintel.app.retention.impact import recommendations

    return recommendations(ctx, account_id).to_dict()
