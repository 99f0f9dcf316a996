"""The demo company (`revintel demo`: 2,000 customers, seed 42, the 3-month model) shows every
churn flow with real members: a High tier to filter and export, and customers in each driver
segment, each with its action."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from revintel.app.context import AppContext
from revintel.churn import service
from revintel.churn.actions import DRIVER_SEGMENTS
from tests.conftest import isolated_settings


def test_the_demo_fills_the_high_tier_and_every_driver_segment(demo_churn_home: Path) -> None:
    ctx = AppContext(isolated_settings(demo_churn_home))
    try:
        frame = service.current_predictions(ctx)
        info = service.overview(ctx, frame)
        segments = service.driver_segments(ctx, frame)
        high = service.filter_predictions(frame, tiers=["High"])
    finally:
        ctx.close()
    # Flow 1: a High tier to filter to and export (with its actions), and the overview agrees.
    assert high.height > 0
    assert info.tiers["High"] == high.height
    assert high["recommended_action"].null_count() == 0
    assert high["churn_risk_score"].min() > info.tier_cutoffs["High"]
    assert "riskiest 5% of the customers scored are High" in info.tier_rule
    # Flow 3: every driver segment has customers, with the action of its group.
    assert [s.segment for s in segments] == [name for name, _ in DRIVER_SEGMENTS.values()]
    empty = [s.segment for s in segments if s.customers == 0]
    assert not empty, f"empty driver segments on the demo: {empty}"
    for s in segments:
        assert s.recommended_action == DRIVER_SEGMENTS[s.group][1]
        members = frame.filter(pl.col("driver_segment") == s.segment)
        assert (members["risk_tier"] != "Safe").sum() == s.customers
