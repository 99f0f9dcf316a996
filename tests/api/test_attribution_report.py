"""``POST /api/v1/attribution/report`` and ``GET /api/v1/attribution/channels`` on the small
attribution company (tests/attribution/report_company.py): brief 002's body, the journeys page,
every channel under every model, and 4xx naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.attribution.credit import MODELS
from tests.attribution.report_company import report_context

BASE = "/api/v1/attribution"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    ctx: AppContext = report_context(tmp_path)
    with TestClient(create_app(ctx), base_url="http://localhost") as c:
        yield c
    ctx.close()


def test_report_with_the_brief_fields(client: TestClient) -> None:
    body = {
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "attribution_models": ["markov", "last_touch"],
        "window_days": 90,
        "conversion_type": "paid",
        "markov_order": 2,
    }
    r = client.post(f"{BASE}/report", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["request"]["models"] == ["last_touch", "markov"]
    assert out["request"]["markov_order"] == 2
    assert out["totals"] == {
        "conversions": 3.0,
        "value": 350.0,
        "journeys": 5,
        "converting_journeys": 3,
        "channels": 3,
    }
    markov = [row for row in out["rows"] if row["model"] == "markov"]
    assert len(markov) == 3 and all(0 <= row["removal_effect"] <= 1 for row in markov)
    assert sum(row["conversions"] for row in markov) == pytest.approx(3.0)
    assert "customer_journeys" not in out
    assert out["definitions"] == "docs/attribution.md"


def test_report_defaults_to_every_model(client: TestClient) -> None:
    r = client.post(f"{BASE}/report", json={})
    assert r.status_code == 200, r.text
    assert {row["model"] for row in r.json()["rows"]} == set(MODELS)


def test_customer_journeys_are_bounded_pages(client: TestClient) -> None:
    body = {
        "attribution_models": ["linear", "markov"],
        "include_customer_journeys": True,
        "journeys_limit": 2,
    }
    page = client.post(f"{BASE}/report", json=body).json()["customer_journeys"]
    assert page["total"] == 3 and page["limit"] == 2 and len(page["journeys"]) == 2
    first = page["journeys"][0]
    assert first["path"] == ["Email", "Paid Search"] and first["value"] == 100.0
    assert first["credit"]["linear"] == {"Email": 0.5, "Paid Search": 0.5}
    body["journeys_offset"] = 2
    rest = client.post(f"{BASE}/report", json=body).json()["customer_journeys"]
    assert [j["journey_id"] for j in rest["journeys"]] == ["K3"]
    too_many = client.post(f"{BASE}/report", json={**body, "journeys_limit": 1000})
    assert too_many.status_code == 422 and "journeys_limit" in too_many.text


def test_channels_lists_every_channel_under_every_model(client: TestClient) -> None:
    r = client.get(f"{BASE}/channels", params={"window_days": 90, "markov_order": 1})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [c["channel"] for c in out["channels"]] == ["Direct", "Email", "Paid Search"]
    for channel in out["channels"]:
        assert set(channel["models"]) == set(MODELS)
        assert "removal_effect" in channel["models"]["markov"]
    february = client.get(f"{BASE}/channels", params={"start_date": "2024-02-01"}).json()
    assert february["totals"]["conversions"] == 1.0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"attribution_models": ["magic"]}, "attribution_models"),
        ({"markov_order": 5}, "markov_order"),
        ({"window_days": 0}, "window_days"),
        ({"conversion_type": "refund"}, "conversion_type"),
        ({"start_date": "2024-03-01", "end_date": "2024-02-01"}, "end_date"),
        ({"start_date": "yesterday"}, "start_date"),
    ],
)
def test_bad_requests_name_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    r = client.post(f"{BASE}/report", json=body)
    assert r.status_code == 422, r.text
    assert field in r.text


def test_no_journeys_loaded_is_a_conflict(loaded_client: TestClient) -> None:
    r = loaded_client.post(f"{BASE}/report", json={"attribution_models": ["markov"]})
    assert r.status_code == 409, r.text
    assert "touchpoints" in r.text
