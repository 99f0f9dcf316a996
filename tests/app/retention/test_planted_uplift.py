"""The key acceptance figure: on the demo company, every planted campaign's TRUE effect lies
inside the uplift interval revintel measures from the warehouse alone."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from revintel.app.context import AppContext
from revintel.app.retention import impact
from tests.conftest import isolated_settings


def test_the_planted_effect_lies_inside_the_measured_interval(campaign_demo_home: Path) -> None:
    truth = pl.read_parquet(campaign_demo_home / "demo" / "truth" / "campaign_effects.parquet")
    assert truth.height >= 3
    assert (truth["hazard_reduction"] == 0).any()  # a null campaign is among them
    assert (truth["hazard_reduction"] >= 0.3).any()
    ctx = AppContext(isolated_settings(campaign_demo_home))
    try:
        view = impact.intervention_impact(ctx)
        by_id = {c.campaign_id: c for c in view.campaigns}
        assert view.truth_available
        for row in truth.iter_rows(named=True):
            result = by_id[row["campaign_id"]]
            assert result.source == "imported" and result.status == "finished"
            churn = result.churn
            assert churn is not None
            # The simulation enrols customers at risk; a few have no MRR by the delinquency rule
            # (an invoice over 30 days past due) the month before and are not measured.
            assert result.members == row["members"]
            assert result.not_active_at_start <= 0.03 * row["members"]
            assert result.treated + result.holdout + result.not_active_at_start == row["members"]
            assert result.treated >= row["treated"] - result.not_active_at_start
            assert churn.uplift_low <= row["true_uplift"] <= churn.uplift_high, (
                row["campaign_id"],
                row["true_uplift"],
                churn.uplift_low,
                churn.uplift_high,
            )
            assert result.planted is not None and result.planted.inside_interval
            # A 95% interval with hundreds of members is informative: narrower than +-0.25.
            if result.treated + result.holdout >= 140:
                assert churn.uplift_high - churn.uplift_low < 0.5
            assert result.stratified is not None and len(result.tiers) >= 2
            assert result.saves is not None and result.cost is not None
            assert result.cost == result.treated * _cost(ctx, row["campaign_id"])
    finally:
        ctx.close()


def _cost(ctx: AppContext, campaign_id: str) -> float:
    t = ctx.warehouse.table("campaigns")
    frame = t.filter(t.campaign_id == campaign_id).to_pyarrow()
    return float(frame.column("cost_per_customer")[0].as_py())
