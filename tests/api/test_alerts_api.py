"""``/api/v1/alerts``: rules CRUD with validation, evaluation, inbox, acknowledge, history,
deliveries and digests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.app.retention import alerts
from revintel.app.retention.alerts import AlertInputs
from tests.retention.conftest import CUSTOMERS, configure, risk
from tests.retention.receivers import http_receiver, smtp_server

API = "/api/v1/alerts"


@pytest.fixture
def api(empty_context: AppContext) -> Iterator[tuple[TestClient, AppContext]]:
    with TestClient(create_app(empty_context)) as client:
        yield client, empty_context


def test_rules_crud_and_validation(api: tuple[TestClient, AppContext]) -> None:
    client, _ = api
    body = {
        "name": "Risk up",
        "kind": "risk_rise",
        "thresholds": {"points": 10},
        "channels": {"email": ["cs@acme.test"], "webhooks": [{"url": "http://127.0.0.1:9/h/x"}]},
    }
    created = client.post(f"{API}/rules", json=body)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["channels"]["webhooks"] == [{"url": "http://127.0.0.1:9/h/***", "style": "generic"}]
    assert rule["description"].startswith("Churn risk rose (points 10.0)")
    for bad, field in [
        ({**body, "kind": "nope"}, "kind"),
        ({**body, "thresholds": {"points": 101}}, "threshold points: 101"),
        ({**body, "channels": {"inbox": False}}, "channels: empty"),
        ({**body, "channels": {"email": ["x@"]}}, "channels.email"),
        ({**body, "channels": {"webhooks": [{"url": "file:///etc/passwd"}]}}, "scheme 'file'"),
        ({**body, "channels": {"webhooks": [{"url": "http://169.254.169.254/"}]}}, "link-local"),
    ]:
        answer = client.post(f"{API}/rules", json=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert field in answer.text
    assert len(client.get(f"{API}/rules").json()) == 1
    rid = rule["id"]
    # a PATCH with the masked URL keeps the stored one
    patched = client.patch(
        f"{API}/rules/{rid}",
        json={"thresholds": {"points": 20}, "channels": rule["channels"], "updated_by": "bob"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["thresholds"] == {"points": 20.0}
    assert patched.json()["updated_by"] == "bob"
    assert (
        client.patch(f"{API}/rules/{rid}", json={"thresholds": {"points": -1}}).status_code == 422
    )
    assert client.get(f"{API}/rules/999").status_code == 404
    assert client.delete(f"{API}/rules/{rid}").status_code == 204
    assert client.get(f"{API}/rules/{rid}").status_code == 404


def test_evaluate_inbox_acknowledge_history_deliveries_digest(
    api: tuple[TestClient, AppContext],
) -> None:
    client, ctx = api
    with smtp_server() as (port, received), http_receiver([200]) as hook:
        configure(
            ctx,
            mail={"host": "127.0.0.1", "port": port, "security": "none"},
            alerts={"digest_recipients": ["boss@acme.test"]},
        )
        rid = client.post(
            f"{API}/rules",
            json={
                "name": "Risk up",
                "kind": "risk_rise",
                "thresholds": {"points": 10},
                "channels": {
                    "email": ["cs@acme.test"],
                    "webhooks": [{"url": hook.url, "style": "slack"}],
                },
            },
        ).json()["id"]
        evaluated = client.post(f"{API}/evaluate", json={})
        assert evaluated.status_code == 200
        # no predictions in this home: the rule is skipped, saying which data it lacks
        assert "predictions" in evaluated.json()["rules"][0]["skipped"]
        alerts.evaluate(
            ctx,
            inputs=AlertInputs(
                customers=CUSTOMERS,
                risk=risk({"2026-04": [0.1] * 4, "2026-05": [0.5, 0.1, 0.4, 0.1]}),
            ),
        )
        inbox = client.get(API).json()
        assert inbox["total"] == 2 and {a["subject"] for a in inbox["alerts"]} == {"C1", "C3"}
        aid = inbox["alerts"][0]["id"]
        acked = client.post(f"{API}/{aid}/acknowledge", json={"by": "ann"})
        assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "ann"
        assert client.post(f"{API}/999/acknowledge", json={}).status_code == 404
        assert client.get(API, params={"acknowledged": "false"}).json()["total"] == 1
        assert client.get(f"{API}/history", params={"rule_id": rid}).json()["total"] == 2
        log = client.get(f"{API}/deliveries").json()
        assert sorted((d["channel"], d["status"]) for d in log) == [
            ("email", "sent"),
            ("webhook", "sent"),
        ]
        assert log[0]["attempt_log"][0]["ok"] is True
        digest = client.post(f"{API}/digest", json={"period": "daily"})
        assert digest.status_code == 200 and digest.json()["alerts"] == 2
        assert client.post(f"{API}/digest", json={"period": "monthly"}).status_code == 422
        test = client.post(f"{API}/test-delivery", json={"webhook": "ftp://x"})
        assert test.status_code == 422 and "webhook" in test.text
    assert [m.rcpt_tos for m in received] == [["cs@acme.test"], ["boss@acme.test"]]
