"""Campaign results from the app store and the warehouse: the outcome definition, in-progress
campaigns, errors and recommendations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.retention import impact
from revintel.churn.features import features_at, monthly_panel
from revintel.core.calendar import month_label
from revintel.core.errors import InvalidOption, NotFoundError
from revintel.store.campaigns import Campaign, CampaignMember


def _create(ctx: AppContext, start: date, members: list[tuple[str, str, str | None]], **kw):
    with ctx.store.session() as s:
        c = Campaign(
            name=kw.get("name", "Test play"),
            template=kw.get("template", "payment_assistance"),
            status=kw.get("status", "active"),
            source="app",
            created_at=datetime.now(UTC),
            created_by="test",
            start_date=start,
            holdout_share=0.2,
            seed=1,
            cost_per_customer=kw.get("cost", 50.0),
            success_criteria=kw.get("criteria", {}),
        )
        s.add(c)
        s.flush()
        for customer_id, group, tier in members:
            s.add(
                CampaignMember(
                    campaign_id=c.id, customer_id=customer_id, group=group, risk_tier=tier
                )
            )
        return c.id


def test_app_campaign_outcome_equals_the_churn_models_label(campaign_demo: AppContext) -> None:
    ctx = campaign_demo
    wh = ctx.warehouse
    panel = monthly_panel(wh)
    cutoff = panel.last_month - 8
    labels = features_at(panel, [cutoff]).select("account_id", "churned_3m")
    rng = np.random.default_rng(5)
    ids = labels["account_id"].to_list()
    pick = rng.choice(len(ids), size=min(300, len(ids)), replace=False)
    groups = np.where(rng.random(len(pick)) < 0.3, "holdout", "treated")
    members = [(ids[i], str(g), None) for i, g in zip(pick, groups, strict=True)]
    start = date(*(int(x) for x in month_label(cutoff + 1).split("-")), 1)
    cid = _create(ctx, start, members, criteria={"outcome_months": 3})
    result = impact.campaign_results(ctx, cid)
    assert result.source == "app" and result.status == "finished"
    expected = pl.DataFrame({"account_id": [m[0] for m in members], "group": groups}).join(
        labels, on="account_id"
    )
    t = expected.filter(pl.col("group") == "treated")
    h = expected.filter(pl.col("group") == "holdout")
    assert result.churn is not None
    assert (result.churn.treated, result.churn.treated_churned) == (t.height, t["churned_3m"].sum())
    assert (result.churn.holdout, result.churn.holdout_churned) == (h.height, h["churned_3m"].sum())
    assert result.cost == 50.0 * t.height
    assert result.stratified is None  # no risk tiers given
    # Every imported campaign is listed beside it, read-only.
    listed = impact.intervention_impact(ctx)
    sources = {c.source for c in listed.campaigns}
    assert sources == {"app", "imported"}
    row = next(r for r in listed.rows() if r["campaign_id"] == str(cid))
    assert row["uplift"] == pytest.approx(result.churn.uplift)


def test_a_campaign_whose_window_has_not_ended_is_in_progress(campaign_demo: AppContext) -> None:
    ctx = campaign_demo
    panel = monthly_panel(ctx.warehouse)
    last = panel.last_month
    start = date(*(int(x) for x in month_label(last - 1).split("-")), 1)
    cid = _create(
        ctx, start, [("CUS-0000001", "treated", "High"), ("CUS-0000002", "holdout", "High")]
    )
    result = impact.campaign_results(ctx, cid)
    assert result.status == "in progress"
    assert result.months_remaining == 1  # the default 3 months: last-1, last, last+1
    assert result.churn is None and result.saves is None and result.roi is None
    assert "1 month(s) to go" in result.notes[0]
    assert result.to_dict()["churn"] is None


def test_unknown_and_empty_ids(campaign_demo: AppContext) -> None:
    with pytest.raises(NotFoundError, match="campaign_id"):
        impact.campaign_results(campaign_demo, 999)
    with pytest.raises(NotFoundError, match="campaign_id"):
        impact.campaign_results(campaign_demo, "CMP-nope")
    with pytest.raises(InvalidOption, match="campaign_id"):
        impact.campaign_results(campaign_demo, " ")


def test_recommendations_give_each_rate_with_its_sample_size(campaign_demo: AppContext) -> None:
    members = campaign_demo.warehouse.table("campaign_members").to_pyarrow()
    account = members.column("customer_id")[0].as_py()
    rec = impact.recommendations(campaign_demo, account)
    assert rec.account_id == account
    assert rec.risk_tier is None  # no churn model: every tier compared, and said so
    assert rec.notes and "no churn score" in rec.notes[0]
    assert {a.template for a in rec.actions} >= {"payment_assistance", "support_escalation"}
    for a in rec.actions:
        assert a.treated > 0 and a.holdout >= 0
        assert a.retention_treated == pytest.approx(a.treated_retained / a.treated)
        assert a.retention_treated_low <= a.retention_treated <= a.retention_treated_high
    ups = [a.uplift for a in rec.actions if a.uplift is not None]
    assert ups == sorted(ups, reverse=True)
    with pytest.raises(NotFoundError, match="account_id"):
        impact.recommendations(campaign_demo, "NOPE")
