"""Every rule kind evaluated on a scored company (the churn fixture): the inputs come from the
predictions, health scores, deals and anomaly flags."""

from __future__ import annotations

import polars as pl

from revintel.app import settings
from revintel.app.context import AppContext
from revintel.app.retention import alerts
from revintel.app.retention.segments import create_segment, resolve_customers
from revintel.churn.service.predictions import raw_predictions


def test_every_kind_evaluates_on_a_scored_company(churn_context: AppContext) -> None:
    ctx = churn_context
    # Quantile tiers are cut on the model's reference scores, so a month can have no High
    # customer at all; fixed tiers at the latest scores' 90th percentile make sure some are.
    latest = raw_predictions(ctx).filter(pl.col("scored_at") == pl.col("scored_at").max())
    high = float(latest["churn_risk_score"].quantile(0.9))
    settings.update(
        ctx.settings,
        settings.CHURN,
        tiers={"method": "fixed", "high": high, "medium": high / 2, "low": high / 4},
    )
    for kind, th in [
        ("risk_rise", {"points": 5}),
        ("high_tier_value", {"mrr": 0}),
        ("health_critical", {}),
        ("deal_at_risk", {"amount": 0}),
        ("metric_anomaly", {}),
        ("segment_risk_rise", {"points": 0}),
    ]:
        alerts.create_rule(ctx, name=kind, kind=kind, thresholds=th)
    summary = alerts.evaluate(ctx)
    outcomes = {o.kind: o for o in summary.rules}
    raw = raw_predictions(ctx).filter(pl.col("scored_at").is_not_null())
    months = raw["scored_at"].cast(pl.Date).dt.strftime("%Y-%m").n_unique()
    for kind in ("risk_rise", "segment_risk_rise"):
        if months < 2:
            assert "needs two scored months" in (outcomes[kind].skipped or "")
        else:
            assert outcomes[kind].skipped is None
    high = outcomes["high_tier_value"]
    assert high.skipped is None and high.fired > 0
    assert outcomes["health_critical"].skipped is None
    # every firing alert of the High-tier rule is a customer in the High tier now
    fired = alerts.list_alerts(
        ctx,
        rule_id=next(r.id for r in alerts.list_rules(ctx) if r.kind == "high_tier_value"),
        limit=10_000,
    )
    assert fired.total == high.fired
    # a second run fires nothing new
    again = alerts.evaluate(ctx)
    assert again.fired == 0 and again.still_firing == summary.fired
    # a saved segment as the scope: only its customers can fire
    segment = create_segment(ctx, "High risk", rule='risk_tier = "High"')
    members = set(resolve_customers(ctx, segment_id=segment.id)["customer_id"].to_list())
    scoped = alerts.create_rule(
        ctx,
        name="segment scoped",
        kind="high_tier_value",
        thresholds={"mrr": 0},
        scope={"segment_id": segment.id},
    )
    result = alerts.evaluate(ctx, rule_ids=[scoped.id])
    assert result.rules[0].skipped is None and result.fired > 0
    subjects = {a.subject for a in alerts.list_alerts(ctx, rule_id=scoped.id, limit=10_000).alerts}
    assert subjects <= members
    print({k: (o.fired, o.skipped) for k, o in outcomes.items()}, summary.seconds)
