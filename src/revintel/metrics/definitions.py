"""Which definition each metric uses, so every face can show it (a tooltip or a docs link).

The full text is in ``docs/metrics.md``; a test checks that every anchor here exists there and
that every function named here exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["currency", "count", "ratio", "months"]
DOC = "docs/metrics.md"


@dataclass(frozen=True)
class MetricDefinition:
    """A metric's short definition, the convention it follows and where it is computed."""

    name: str
    label: str
    unit: Unit
    formula: str
    convention: str
    function: str  # revintel.metrics.<module>.<function>
    anchor: str  # heading anchor in docs/metrics.md

    @property
    def link(self) -> str:
        return f"{DOC}#{self.anchor}"


_DEFS = (
    MetricDefinition(
        "mrr",
        "MRR",
        "currency",
        "Sum over customers of their active subscriptions' monthly price after recurring "
        "discounts, at the end of the month",
        "ChartMogul, ProfitWell",
        "revintel.metrics.movements.mrr_movements",
        "mrr",
    ),
    MetricDefinition(
        "arr",
        "ARR",
        "currency",
        "MRR × 12",
        "ChartMogul",
        "revintel.metrics.movements.mrr_movements",
        "arr",
    ),
    MetricDefinition(
        "customers",
        "Paying customers",
        "count",
        "Customers with MRR > 0 at the end of the month",
        "ChartMogul",
        "revintel.metrics.movements.mrr_movements",
        "paying-customers",
    ),
    MetricDefinition(
        "arpa",
        "ARPA",
        "currency",
        "MRR ÷ paying customers at the end of the month",
        "ChartMogul",
        "revintel.metrics.movements.mrr_movements",
        "arpa",
    ),
    MetricDefinition(
        "new",
        "New MRR",
        "currency",
        "MRR of customers going 0 → >0 for the first time",
        "ChartMogul, Stripe",
        "revintel.metrics.movements.mrr_movements",
        "mrr-movements",
    ),
    MetricDefinition(
        "expansion",
        "Expansion MRR",
        "currency",
        "MRR increase of customers already paying",
        "ChartMogul, Stripe",
        "revintel.metrics.movements.mrr_movements",
        "mrr-movements",
    ),
    MetricDefinition(
        "contraction",
        "Contraction MRR",
        "currency",
        "MRR decrease of customers who keep paying",
        "ChartMogul, Stripe",
        "revintel.metrics.movements.mrr_movements",
        "mrr-movements",
    ),
    MetricDefinition(
        "churn",
        "Churned MRR",
        "currency",
        "MRR lost by customers going >0 → 0",
        "ChartMogul, Stripe",
        "revintel.metrics.movements.mrr_movements",
        "mrr-movements",
    ),
    MetricDefinition(
        "reactivation",
        "Reactivation MRR",
        "currency",
        "MRR of customers going 0 → >0 who had MRR before",
        "ChartMogul",
        "revintel.metrics.movements.mrr_movements",
        "mrr-movements",
    ),
    MetricDefinition(
        "logo_churn_rate",
        "Logo churn rate",
        "ratio",
        "Customers paying at end of M-1 and not at end of M ÷ customers paying at end of M-1",
        "ChartMogul (B2B)",
        "revintel.metrics.churn.movement_rates",
        "logo-churn-rate",
    ),
    MetricDefinition(
        "customer_retention_rate",
        "Customer retention rate",
        "ratio",
        "1 − logo churn rate",
        "ChartMogul (B2B)",
        "revintel.metrics.churn.movement_rates",
        "customer-retention-rate",
    ),
    MetricDefinition(
        "gross_mrr_churn_rate",
        "Gross MRR churn rate",
        "ratio",
        "(churn + contraction) ÷ MRR(M-1)",
        "ChartMogul",
        "revintel.metrics.churn.movement_rates",
        "gross-mrr-churn-rate",
    ),
    MetricDefinition(
        "net_mrr_churn_rate",
        "Net MRR churn rate",
        "ratio",
        "(churn + contraction − expansion) ÷ MRR(M-1); reactivation excluded",
        "ChartMogul",
        "revintel.metrics.churn.movement_rates",
        "net-mrr-churn-rate",
    ),
    MetricDefinition(
        "nrr_monthly",
        "NRR (monthly)",
        "ratio",
        "(MRR(M-1) + expansion − contraction − churn) ÷ MRR(M-1)",
        "revintel (agrees with net MRR churn)",
        "revintel.metrics.churn.movement_rates",
        "nrr-monthly",
    ),
    MetricDefinition(
        "grr_monthly",
        "GRR (monthly)",
        "ratio",
        "(MRR(M-1) − contraction − churn) ÷ MRR(M-1)",
        "revintel (1 − gross MRR churn)",
        "revintel.metrics.churn.movement_rates",
        "grr-monthly",
    ),
    MetricDefinition(
        "nrr_t12m",
        "NRR (trailing 12 months)",
        "ratio",
        "MRR at M of customers paying at M-12 ÷ their MRR at M-12",
        "revintel (customer-level, trailing 12 months)",
        "revintel.metrics.churn.trailing_retention",
        "nrr-and-grr-trailing-12-months",
    ),
    MetricDefinition(
        "grr_t12m",
        "GRR (trailing 12 months)",
        "ratio",
        "As NRR T12M with each customer's MRR at M capped at their MRR at M-12",
        "revintel (customer-level, trailing 12 months)",
        "revintel.metrics.churn.trailing_retention",
        "nrr-and-grr-trailing-12-months",
    ),
    MetricDefinition(
        "quick_ratio",
        "SaaS Quick Ratio",
        "ratio",
        "(new + expansion + reactivation) ÷ (contraction + churn)",
        "Mamoon Hamid's SaaS Quick Ratio, reactivation included",
        "revintel.metrics.churn.movement_rates",
        "saas-quick-ratio",
    ),
    MetricDefinition(
        "logo_retention",
        "Cohort logo retention",
        "ratio",
        "Share of the cohort with MRR > 0 at cohort + k",
        "ChartMogul",
        "revintel.metrics.cohorts.cohort_retention",
        "cohorts",
    ),
    MetricDefinition(
        "revenue_retention",
        "Cohort revenue retention",
        "ratio",
        "Cohort MRR at cohort + k ÷ cohort MRR at the cohort month",
        "ChartMogul",
        "revintel.metrics.cohorts.cohort_retention",
        "cohorts",
    ),
    MetricDefinition(
        "conversion_rate",
        "Trial-to-paid conversion",
        "ratio",
        "Trials started in M that became paying within 30 days after the trial ÷ trials started "
        "in M",
        "ChartMogul (cohort view)",
        "revintel.metrics.conversion.trial_conversion",
        "trial-to-paid-conversion",
    ),
    MetricDefinition(
        "revenue",
        "Cash collected",
        "currency",
        "Successful payments dated in the month (cash as billed: an annual plan paid upfront "
        "counts in full in the month it is paid, so its change is billing timing as much as "
        "growth)",
        "Cash basis; recognised revenue (MRR-based) is shown beside it",
        "revintel.metrics.finance.revenue",
        "revenue",
    ),
    MetricDefinition(
        "recognised_revenue",
        "Recognised revenue",
        "currency",
        "MRR at the end of the month: subscription revenue earned in the month, whatever its "
        "billing",
        "MRR-based (ChartMogul's MRR)",
        "revintel.metrics.movements.mrr_movements",
        "recognised-revenue",
    ),
    MetricDefinition(
        "gross_margin",
        "Gross margin",
        "ratio",
        "(Revenue − infra − support) ÷ Revenue",
        "Costs from the costs table (infra, support, marketing)",
        "revintel.metrics.finance.profitability",
        "gross-margin-and-contribution",
    ),
    MetricDefinition(
        "contribution",
        "Contribution after infra, support and marketing",
        "currency",
        "Revenue − infra − support − marketing",
        "Not operating profit: payroll, R&D and G&A are not in the costs table",
        "revintel.metrics.finance.profitability",
        "gross-margin-and-contribution",
    ),
    MetricDefinition(
        "cac",
        "CAC",
        "currency",
        "Marketing cost ÷ new customers",
        "revintel",
        "revintel.metrics.finance.acquisition_cost",
        "cac-and-payback",
    ),
    MetricDefinition(
        "cac_payback_months",
        "CAC payback",
        "months",
        "CAC ÷ (ARPA × gross margin)",
        "revintel (margin-adjusted)",
        "revintel.metrics.finance.acquisition_cost",
        "cac-and-payback",
    ),
    MetricDefinition(
        "ltv",
        "LTV",
        "currency",
        "ARPA × gross margin ÷ average logo churn of the 6 full months before",
        "ChartMogul uses ARPA ÷ churn, without margin",
        "revintel.metrics.finance.lifetime_value",
        "ltv",
    ),
    MetricDefinition(
        "growth",
        "Growth (MoM, YoY, CMGR)",
        "ratio",
        "X(M)/X(M-1) − 1; X(M)/X(M-12) − 1; (X(M)/X(M-n))^(1/n) − 1",
        "revintel",
        "revintel.metrics.finance.growth",
        "growth",
    ),
)

DEFINITIONS: dict[str, MetricDefinition] = {d.name: d for d in _DEFS}


def definition(name: str) -> MetricDefinition:
    """The definition of a metric by name (``KeyError`` if unknown)."""
    return DEFINITIONS[name]
