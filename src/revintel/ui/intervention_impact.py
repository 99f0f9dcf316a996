"""The "Intervention impact" view (brief 004's flow 5): every finished campaign's treated versus
holdout churn, uplift with its interval, saves, cost and ROI, drawn on the Risk Trends page.
Owned by the impact area."""

from __future__ import annotations

from revintel.app.context import AppContext


def render(ctx: AppContext) -> None:
    """Draw the view into the current Streamlit container."""
    raise NotImplementedError("impact area")
