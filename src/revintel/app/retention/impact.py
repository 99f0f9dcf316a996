"""Measured impact of campaigns: churn and risk change of treated versus holdout, uplift with a 95%
interval and a p-value, saves, cost and ROI; intervention impact across campaigns; per-action
success rates among similar past customers (docs/retention.md, Campaigns → Measured impact).
Owned by the impact area."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime


def campaign_results(rt: Runtime, campaign_id: int) -> Any:
    """One campaign's measured impact."""
    raise NotImplementedError("impact area")


def intervention_impact(rt: Runtime) -> Any:
    """Every finished campaign's impact side by side, by template (brief 004's flow 5)."""
    raise NotImplementedError("impact area")
