"""One campaign's measured impact, drawn on the Campaigns page's Results tab. Owned by the impact
area."""

from __future__ import annotations

from revintel.app.context import AppContext


def render(ctx: AppContext, campaign_id: int) -> None:
    """Draw the campaign's results into the current Streamlit container."""
    raise NotImplementedError("impact area")
