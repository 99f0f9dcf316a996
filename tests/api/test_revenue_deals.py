"""``/api/v1/revenue``: at-risk alerts, a deal with its ETag, editing it, deal value."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from tests.pipeline.deals_company import deals_context

BASE = "/api/v1/revenue"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = deals_context(tmp_path)
    yield context
    context.close()


@pytest.fixture
def api(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx)) as client:
        yield client


def test_at_risk_alerts_in_brief_003s_shape(api: TestClient) -> None:
    body = api.get(f"{BASE}/alerts/at-risk", params={"min_deal_value": 5000}).json()
    assert body["count"] == 1
    deal = body["deals"][0]
    assert {k: deal[k] for k in ("id", "name", "deal_value", "health_category")} == {
        "id": "O1",
        "name": "Cato",
        "deal_value": 8000.0,
        "health_category": "critical",
    }
    assert "91 days in Proposal, over 1.5 × its median of 60 days" in deal["risk_factors"]
    bad = api.get(f"{BASE}/alerts/at-risk", params={"min_deal_value": -5})
    assert bad.status_code == 422 and "min_deal_value" in bad.text


def test_deal_page_has_health_timeline_activities_and_an_etag(api: TestClient) -> None:
    r = api.get(f"{BASE}/deals/O1")
    assert r.status_code == 200
    body = r.json()
    assert r.headers["etag"] == f'"{body["etag"]}"'
    assert body["health"]["health_score"] == 0.0
    assert [t["entered_at"] for t in body["timeline"]] == ["2024-03-01", "2024-03-31", "2024-04-15"]
    assert body["activities"][0]["activity_id"] == "A1"
    # Both close-probability methods for an open deal: the rule's breakdown starts from the
    # Proposal base (50) and takes the velocity penalty for 91 days in stage.
    rule = body["close_probability"]
    assert body["close_probability_note"] is None
    assert rule["breakdown"]["base_probability"] == 50.0
    assert rule["breakdown"]["velocity_penalty"] > 0
    missing = api.get(f"{BASE}/deals/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]


def test_edit_appends_history_records_who_and_refuses_a_stale_etag(api: TestClient) -> None:
    first = api.get(f"{BASE}/deals/O2")
    etag = first.headers["etag"]
    edited = api.patch(
        f"{BASE}/deals/O2",
        json={"amount": 7500, "stage": "Proposal", "edited_by": "ana@example.com"},
        headers={"If-Match": etag},
    )
    assert edited.status_code == 200, edited.text
    after = edited.json()
    assert after["deal"]["amount"] == 7500.0 and after["deal"]["stage"] == "Proposal"
    assert edited.headers["etag"] != etag
    last = after["timeline"][-1]
    assert (last["stage"], last["amount"], last["entered_at"]) == (
        "Proposal",
        7500.0,
        date.today().isoformat(),
    )
    assert len(after["timeline"]) == 3
    edit = after["edits"][0]
    assert edit["edited_by"] == "ana@example.com"
    assert edit["changes"]["amount"] == [5000.0, 7500.0]
    # A second writer still holding the first ETag is refused and nothing changes.
    stale = api.patch(f"{BASE}/deals/O2", json={"amount": 1}, headers={"If-Match": etag})
    assert stale.status_code == 409 and "changed since it was read" in stale.json()["detail"]
    now = api.get(f"{BASE}/deals/O2").json()
    assert now["deal"]["amount"] == 7500.0 and len(now["edits"]) == 1
    # Re-read, re-apply: goes through.
    again = api.patch(
        f"{BASE}/deals/O2", json={"amount": 1}, headers={"If-Match": edited.headers["etag"]}
    )
    assert again.status_code == 200 and again.json()["deal"]["amount"] == 1.0


def test_edit_to_closed_won_sets_the_close_date_and_category(api: TestClient) -> None:
    etag = api.get(f"{BASE}/deals/O3").headers["etag"]
    r = api.patch(f"{BASE}/deals/O3", json={"stage": "Closed Won"}, headers={"If-Match": etag})
    assert r.status_code == 200
    deal = r.json()["deal"]
    assert deal["closed_date"] == date.today().isoformat()
    assert deal["forecast_category"] == "Closed"
    assert r.json()["health"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "Won"}, "stage"),
        ({"amount": -1}, "amount"),
        ({"forecast_category": "Maybe"}, "forecast_category"),
        ({"expected_close_date": "2020-01-01"}, "expected_close_date"),
        ({"colour": "red"}, "colour"),
        ({}, "body"),
    ],
)
def test_bad_edits_name_the_field_and_write_nothing(
    api: TestClient, body: dict[str, object], field: str
) -> None:
    etag = api.get(f"{BASE}/deals/O1").headers["etag"]
    r = api.patch(f"{BASE}/deals/O1", json=body, headers={"If-Match": etag})
    assert r.status_code == 422 and field in r.text
    assert api.get(f"{BASE}/deals/O1").headers["etag"] == etag


def test_edit_without_if_match_is_refused(api: TestClient) -> None:
    r = api.patch(f"{BASE}/deals/O1", json={"amount": 1})
    assert r.status_code == 428 and "If-Match" in r.json()["detail"]
    missing = api.patch(f"{BASE}/deals/NOPE", json={"amount": 1}, headers={"If-Match": '"x"'})
    assert missing.status_code == 404


def test_predict_deal_value_gives_the_formula_and_says_why_no_model(api: TestClient) -> None:
    r = api.post(
        f"{BASE}/predict/deal-value",
        json={"num_users_planned": 50, "base_list_price_per_user": 29, "discount_pct": 0.15},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["predicted_deal_value"] == 14790.0
    assert body["model"] is None and "fewer than 30" in body["notes"][0]
    bad = api.post(f"{BASE}/predict/deal-value", json={"num_users_planned": 0})
    assert bad.status_code == 422 and "num_users_planned" in bad.text
    stage = api.post(
        f"{BASE}/predict/deal-value",
        json={"num_users_planned": 5, "base_list_price_per_user": 1, "deal_stage": "Won"},
    )
    assert stage.status_code == 422 and "deal_stage" in stage.text


def test_without_deals_the_alerts_say_what_to_load_and_the_formula_still_answers(
    client: TestClient,
) -> None:
    r = client.get(f"{BASE}/alerts/at-risk")
    assert r.status_code == 409 and "no deals are loaded" in r.json()["detail"]
    value = client.post(
        f"{BASE}/predict/deal-value", json={"num_users_planned": 3, "base_list_price_per_user": 10}
    )
    assert value.status_code == 200 and value.json()["predicted_deal_value"] == 360.0
