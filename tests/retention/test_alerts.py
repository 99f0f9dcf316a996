"""Alert rules and evaluation: fire once per condition, clear, fire again; validation; the inbox,
acknowledgement, history and the delivery log (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.retention import alerts
from revintel.app.retention.alerts import AlertInputs
from revintel.core.errors import ConfigError, InvalidOption, NotFoundError
from revintel.retention import delivery as dlv
from tests.retention.conftest import CUSTOMERS, configure, risk
from tests.retention.receivers import http_receiver, smtp_server

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _inputs(months: dict[str, list[float]], **kw: object) -> AlertInputs:
    return AlertInputs(customers=CUSTOMERS, risk=risk(months), high_cutoff=0.6, **kw)  # type: ignore[arg-type]


def test_an_alert_fires_once_clears_and_fires_again(alerts_ctx: AppContext) -> None:
    rule = alerts.create_rule(
        alerts_ctx, name="Risk up", kind="risk_rise", thresholds={"points": 10}, created_by="ann"
    )
    # C1 rose 20 points, C2 5, C3 15, C4 fell
    first = alerts.evaluate(
        alerts_ctx,
        inputs=_inputs({"2026-04": [0.5, 0.5, 0.1, 0.4], "2026-05": [0.7, 0.55, 0.25, 0.3]}),
        now=T0,
    )
    assert (first.fired, first.still_firing, first.cleared) == (2, 0, 0)
    inbox = alerts.list_alerts(alerts_ctx)
    assert {a.subject for a in inbox.alerts} == {"C1", "C3"}
    c1 = next(a for a in inbox.alerts if a.subject == "C1")
    assert c1.message == "Acme: churn risk rose 20.0 points (50.0% → 70.0%) from 2026-04 to 2026-05"
    assert c1.details["rise_points"] == pytest.approx(20.0) and c1.rule_id == rule.id

    # the same data again: nothing new, both still firing, last seen moves on
    again = alerts.evaluate(
        alerts_ctx,
        inputs=_inputs({"2026-04": [0.5, 0.5, 0.1, 0.4], "2026-05": [0.7, 0.55, 0.25, 0.3]}),
        now=T0 + timedelta(hours=1),
    )
    assert (again.fired, again.still_firing, again.cleared) == (0, 2, 0)
    assert alerts.list_alerts(alerts_ctx).total == 2
    seen = {a.subject: a.last_seen_at for a in alerts.list_alerts(alerts_ctx).alerts}
    assert seen["C1"].startswith("2026-06-01T09:00")

    # next month: C1 flat (clears), C3 still rising, C4 rises now
    later = alerts.evaluate(
        alerts_ctx,
        inputs=_inputs({"2026-05": [0.7, 0.55, 0.25, 0.3], "2026-06": [0.72, 0.5, 0.45, 0.5]}),
        now=T0 + timedelta(days=30),
    )
    assert (later.fired, later.still_firing, later.cleared) == (1, 1, 1)
    assert {a.subject for a in alerts.list_alerts(alerts_ctx).alerts} == {"C3", "C4"}
    cleared = alerts.list_alerts(alerts_ctx, state="cleared").alerts
    assert [a.subject for a in cleared] == ["C1"] and cleared[0].cleared_at is not None

    # C1 rises again: a new alert, the old one stays in the history
    back = alerts.evaluate(
        alerts_ctx,
        inputs=_inputs({"2026-06": [0.72, 0.5, 0.45, 0.5], "2026-07": [0.95, 0.5, 0.45, 0.5]}),
        now=T0 + timedelta(days=60),
    )
    assert (back.fired, back.cleared) == (1, 2)
    hist = alerts.history(alerts_ctx)
    assert [a.subject for a in hist.alerts if a.subject == "C1"] == ["C1", "C1"]
    assert [a.state for a in hist.alerts if a.subject == "C1"] == ["firing", "cleared"]


def test_one_scored_month_skips_the_rise_rules_saying_why(alerts_ctx: AppContext) -> None:
    alerts.create_rule(alerts_ctx, name="r", kind="risk_rise", thresholds={"points": 5})
    summary = alerts.evaluate(alerts_ctx, inputs=_inputs({"2026-05": [0.7, 0.5, 0.2, 0.3]}))
    (outcome,) = summary.rules
    assert outcome.fired == 0 and "needs two scored months" in (outcome.skipped or "")


def test_high_tier_value_fires_only_on_entering_the_high_tier(alerts_ctx: AppContext) -> None:
    alerts.create_rule(
        alerts_ctx, name="Big High", kind="high_tier_value", thresholds={"mrr": 1000}
    )
    # C1 (20k MRR, High) was already High (0.8 > 0.6) last month: not entering; C2 under 1000.
    s = alerts.evaluate(
        alerts_ctx,
        inputs=_inputs({"2026-04": [0.8, 0.1, 0.1, 0.1], "2026-05": [0.9, 0.9, 0.1, 0.1]}),
    )
    assert s.fired == 0
    # C1 was Low last month: it entered
    s = alerts.evaluate(
        alerts_ctx,
        inputs=_inputs({"2026-04": [0.3, 0.1, 0.1, 0.1], "2026-05": [0.9, 0.9, 0.1, 0.1]}),
    )
    assert s.fired == 1
    (alert,) = alerts.list_alerts(alerts_ctx).alerts
    assert alert.subject == "C1" and "MRR 20000" in alert.message


def test_health_critical_deal_at_risk_and_metric_anomaly(alerts_ctx: AppContext) -> None:
    health = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "month": ["2026-05"] * 3,
            "health_score": [30.0, 35.0, 80.0],
            "previous_score": [55.0, 20.0, 82.0],
            "tier": ["Critical", "Critical", "Healthy"],
            "previous_tier": ["At Risk", "Critical", "Healthy"],
        }
    )
    deals = pl.DataFrame(
        {
            "deal_id": ["D1", "D2"],
            "name": ["Acme renewal", "Tiny"],
            "owner": ["ann", "bob"],
            "segment": [None, None],
            "stage": ["Proposal", "Discovery"],
            "amount": [50_000.0, 900.0],
            "health_score": [20.0, 10.0],
            "risk_factors": ["no activity in 30 days", "stalled"],
        }
    )
    anomalies = pl.DataFrame(
        {
            "metric": ["mrr", "mrr", "revenue"],
            "month": ["2026-05", "2026-03", "2026-05"],
            "size": [-0.12, 0.3, 0.02],
            "direction": ["down", "up", "up"],
            "reason": ["churn above expected", "old", "small"],
        }
    )
    inputs = AlertInputs(
        customers=CUSTOMERS,
        health=health,
        deals=deals,
        anomalies=anomalies,
        latest={"mrr": "2026-05", "revenue": "2026-05"},
    )
    alerts.create_rule(alerts_ctx, name="crit", kind="health_critical", thresholds={})
    alerts.create_rule(alerts_ctx, name="deals", kind="deal_at_risk", thresholds={"amount": 10_000})
    alerts.create_rule(
        alerts_ctx, name="anomaly", kind="metric_anomaly", thresholds={"min_size": 0.05}
    )
    s = alerts.evaluate(alerts_ctx, inputs=inputs)
    assert [(o.name, o.fired) for o in s.rules] == [("crit", 1), ("deals", 1), ("anomaly", 1)]
    subjects = {a.rule_name: a.subject for a in alerts.list_alerts(alerts_ctx).alerts}
    assert subjects == {"crit": "C1", "deals": "D1", "anomaly": "mrr:2026-05"}


def test_segment_risk_rise_and_scopes(alerts_ctx: AppContext) -> None:
    months = {"2026-04": [0.2, 0.9, 0.2, 0.1], "2026-05": [0.4, 0.9, 0.3, 0.1]}
    # Enterprise (C1, C3): 0.2 → 0.35, +15 points; SMB flat
    alerts.create_rule(
        alerts_ctx,
        name="ent",
        kind="segment_risk_rise",
        thresholds={"points": 10},
        scope={"segment": ["Enterprise"]},
    )
    alerts.create_rule(
        alerts_ctx,
        name="smb",
        kind="segment_risk_rise",
        thresholds={"points": 10},
        scope={"segment": ["SMB"]},
    )
    alerts.create_rule(
        alerts_ctx,
        name="saved",
        kind="risk_rise",
        thresholds={"points": 5},
        scope={"segment_id": 7},
    )
    inputs = _inputs(
        months,
        segment=lambda sid: pl.Series(["C3"]) if sid == 7 else pl.Series([], dtype=pl.String),
    )
    s = alerts.evaluate(alerts_ctx, inputs=inputs)
    assert [(o.name, o.fired) for o in s.rules] == [("ent", 1), ("smb", 0), ("saved", 1)]
    by_rule = {a.rule_name: a for a in alerts.list_alerts(alerts_ctx).alerts}
    assert "rose 15.0 points" in by_rule["ent"].message and by_rule["saved"].subject == "C3"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "nope"}, "kind: 'nope'"),
        (
            {"kind": "risk_rise", "thresholds": {"points": 150}},
            "threshold points: 150 out of range",
        ),
        ({"kind": "risk_rise", "thresholds": {}}, "threshold points: missing"),
        ({"kind": "high_tier_value", "thresholds": {"mrr": -1}}, "threshold mrr: -1"),
        ({"kind": "high_tier_value", "thresholds": {"mrr": 1, "arr": 2}}, "exactly one of mrr"),
        ({"kind": "metric_anomaly", "thresholds": {"metrics": ["nps"]}}, "threshold metrics"),
        ({"channels": {"inbox": False}}, "channels: empty"),
        ({"channels": {"email": ["bad@"]}}, "channels.email: 'bad@'"),
        ({"channels": {"webhooks": [{"url": "ftp://x.test/a"}]}}, r"channels.webhooks\[0\].url"),
        ({"channels": {"webhooks": [{"url": "http://10.0.0.1/a"}]}}, "private address"),
        ({"channels": {"webhooks": [{"url": "http://127.0.0.1/a", "style": "teams"}]}}, "style"),
        ({"scope": {"country": ["US"]}}, "scope: unknown filter 'country'"),
        ({"scope": {"segment_id": "x"}}, "scope.segment_id"),
        ({"name": " "}, "name: empty"),
    ],
)
def test_bad_rules_name_the_field_and_leave_nothing(
    alerts_ctx: AppContext, kwargs: dict, field: str
) -> None:
    args = {"name": "r", "kind": "risk_rise", "thresholds": {"points": 10}, **kwargs}
    with pytest.raises(InvalidOption, match=field):
        alerts.create_rule(alerts_ctx, **args)
    assert alerts.list_rules(alerts_ctx) == []


def test_a_private_network_allowed_in_settings_is_accepted(alerts_ctx: AppContext) -> None:
    configure(alerts_ctx, webhooks={"allow_private": ["10.0.0.0/8"]})
    rule = alerts.create_rule(
        alerts_ctx,
        name="r",
        kind="risk_rise",
        thresholds={"points": 10},
        channels={"webhooks": [{"url": "http://10.1.2.3/hooks/abc/def"}]},
    )
    assert rule.channels["webhooks"] == [{"url": "http://10.1.2.3/hooks/***", "style": "generic"}]


def test_edit_disable_delete_and_acknowledge(alerts_ctx: AppContext) -> None:
    rule = alerts.create_rule(alerts_ctx, name="r", kind="risk_rise", thresholds={"points": 10})
    edited = alerts.update_rule(alerts_ctx, rule.id, {"thresholds": {"points": 15}}, "bob")
    assert edited.thresholds == {"points": 15.0} and edited.updated_by == "bob"
    with pytest.raises(InvalidOption, match="threshold points: -3"):
        alerts.update_rule(alerts_ctx, rule.id, {"thresholds": {"points": -3}})
    assert alerts.get_rule(alerts_ctx, rule.id).thresholds == {"points": 15.0}
    alerts.evaluate(
        alerts_ctx, inputs=_inputs({"2026-04": [0.1] * 4, "2026-05": [0.5, 0.1, 0.1, 0.1]})
    )
    (alert,) = alerts.list_alerts(alerts_ctx).alerts
    acked = alerts.acknowledge(alerts_ctx, alert.id, "ann")
    assert acked.acknowledged_by == "ann" and acked.acknowledged_at
    assert alerts.acknowledge(alerts_ctx, alert.id, "bob").acknowledged_by == "ann"  # first kept
    assert alerts.list_alerts(alerts_ctx, acknowledged=False).total == 0
    assert alerts.list_alerts(alerts_ctx, acknowledged=True).total == 1
    with pytest.raises(NotFoundError, match="alert 999"):
        alerts.acknowledge(alerts_ctx, 999, "ann")
    alerts.update_rule(alerts_ctx, rule.id, {"enabled": False})
    assert alerts.evaluate(alerts_ctx, inputs=_inputs({"2026-04": [0.1] * 4})).rules == []
    alerts.delete_rule(alerts_ctx, rule.id)
    assert alerts.list_rules(alerts_ctx) == [] and alerts.history(alerts_ctx).total == 0
    with pytest.raises(NotFoundError):
        alerts.delete_rule(alerts_ctx, rule.id)


def test_new_alerts_are_emailed_and_posted_once_and_logged(alerts_ctx: AppContext) -> None:
    with (
        smtp_server() as (port, received),
        http_receiver([200]) as slack,
        http_receiver([500]) as broken,
    ):
        configure(
            alerts_ctx,
            mail={"host": "127.0.0.1", "port": port, "security": "none", "sender": "ri@acme.test"},
            webhooks={"signing_secret": "k3y", "backoff_seconds": 0.01, "retries": 2},
        )
        alerts.create_rule(
            alerts_ctx,
            name="Risk up",
            kind="risk_rise",
            thresholds={"points": 10},
            channels={
                "email": ["cs@acme.test"],
                "webhooks": [{"url": slack.url, "style": "slack"}, {"url": broken.url}],
            },
        )
        months = {"2026-04": [0.5, 0.5, 0.1, 0.4], "2026-05": [0.7, 0.55, 0.25, 0.3]}
        s = alerts.evaluate(alerts_ctx, inputs=_inputs(months))
        assert (s.fired, s.deliveries_sent, s.deliveries_failed) == (2, 2, 1)
        alerts.evaluate(alerts_ctx, inputs=_inputs(months))  # nothing new: nothing sent again
    (mail,) = received
    assert mail.rcpt_tos == ["cs@acme.test"]
    assert mail.message["Subject"] == "[revintel] Risk up: 2 new alerts"
    parts = {p.get_content_type(): p for p in mail.message.walk()}
    body = parts["text/plain"].get_payload(decode=True).decode()
    assert "Acme: churn risk rose 20.0 points" in body and "Gamma" in body
    csv_rows = parts["text/csv"].get_payload(decode=True).decode().splitlines()
    assert len(csv_rows) == 3 and csv_rows[0].startswith("alert_id,subject")
    (post,) = slack.requests
    payload = json.loads(post.body)
    assert set(payload) == {"text", "blocks"} and "Risk up" in payload["text"]
    assert dlv.verify_signature(
        "k3y", post.body, post.headers[dlv.SIGNATURE_HEADER], post.headers[dlv.TIMESTAMP_HEADER]
    )
    assert len(broken.requests) == 3  # 1 + 2 retries, then failed
    log = alerts.list_deliveries(alerts_ctx)
    assert sorted((d.channel, d.status, d.attempts) for d in log) == [
        ("email", "sent", 1),
        ("webhook", "failed", 3),
        ("webhook", "sent", 1),
    ]
    failed = next(d for d in log if d.status == "failed")
    assert [a["http_status"] for a in failed.attempt_log] == [500, 500, 500]
    assert failed.alert_count == 2
    assert "k3y" not in json.dumps([d.to_dict() for d in log])
    # the failed receiver lost nothing: the alerts are in the inbox
    assert alerts.list_alerts(alerts_ctx).total == 2
    listed = alerts.list_rules(alerts_ctx)[0]
    assert all("***" in h["url"] for h in listed.channels["webhooks"]) and listed.firing == 2


def test_digests_summarise_the_period(alerts_ctx: AppContext) -> None:
    with pytest.raises(ConfigError, match="digest_recipients"):
        alerts.send_digests(alerts_ctx, "daily")
    with smtp_server() as (port, received), http_receiver([200]) as hook:
        configure(
            alerts_ctx,
            mail={"host": "127.0.0.1", "port": port, "security": "none"},
            alerts={"digest_recipients": ["boss@acme.test"], "digest_webhook": hook.url},
        )
        alerts.create_rule(alerts_ctx, name="Risk up", kind="risk_rise", thresholds={"points": 10})
        alerts.evaluate(
            alerts_ctx,
            inputs=_inputs({"2026-04": [0.1] * 4, "2026-05": [0.5, 0.5, 0.1, 0.1]}),
            now=T0 - timedelta(days=3),
        )
        alerts.evaluate(
            alerts_ctx,
            inputs=_inputs({"2026-05": [0.5, 0.5, 0.1, 0.1], "2026-06": [0.5, 0.5, 0.4, 0.1]}),
            now=T0 - timedelta(hours=2),
        )
        daily = alerts.send_digests(alerts_ctx, "daily", now=T0)
        weekly = alerts.send_digests(alerts_ctx, "weekly", now=T0)
    assert (daily.alerts, weekly.alerts) == (1, 3)
    assert [m.message["Subject"] for m in received] == [
        "[revintel] Daily alert digest: 1 alert",
        "[revintel] Weekly alert digest: 3 alerts",
    ]
    assert json.loads(hook.requests[1].body)["count"] == 3
    assert {d.kind for d in alerts.list_deliveries(alerts_ctx)} == {"digest"}


def test_parse_scope_and_thresholds() -> None:
    assert alerts.parse_scope("all") == {}
    assert alerts.parse_scope("segment_id=3") == {"segment_id": "3"}
    assert alerts.parse_scope("segment=Enterprise|SMB,owner=ann") == {
        "segment": ["Enterprise", "SMB"],
        "owner": ["ann"],
    }
    with pytest.raises(InvalidOption, match="scope: 'segment'"):
        alerts.parse_scope("segment")
    assert alerts.parse_thresholds("risk_rise", "10") == {"points": 10.0}
    assert alerts.parse_thresholds("metric_anomaly", "metrics=mrr,min_size=0.1") == {
        "metrics": ["mrr"],
        "min_size": 0.1,
    }
    with pytest.raises(InvalidOption, match="threshold points: 'ten'"):
        alerts.parse_thresholds("risk_rise", "points=ten")
