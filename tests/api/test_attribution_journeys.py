"""``GET /api/v1/attribution/paths`` and ``GET /api/v1/customers/{id}/journey`` on a small company
with touchpoints and conversions: the fields, the options as query parameters, 4xx naming the
option."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.core.config import Settings
from tests.backends.conftest import ATTRIBUTION_TABLES, COMPANY


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    folder = tmp_path / "company"
    folder.mkdir()
    for name, text in {**COMPANY, **ATTRIBUTION_TABLES}.items():
        (folder / name).write_text(text)
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=None))
    load_paths(ctx, [folder], source="test")
    with TestClient(create_app(ctx), base_url="http://localhost") as c:
        yield c
    ctx.close()


def test_paths_report(client: TestClient) -> None:
    r = client.get("/api/v1/attribution/paths")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["journeys"] == 8 and body["conversions"] == 4 and body["conversion_rate"] == 0.5
    assert set(body) >= {"top_paths", "path_lengths", "time_to_convert", "flows", "options"}
    first = body["top_paths"][0]
    assert set(first) >= {"path", "label", "journeys", "conversions", "conversion_rate"}
    assert [b["touches"] for b in body["path_lengths"]] == [1, 2, 3]
    assert body["time_to_convert"]["bins"][0]["label"] == "0–1 days"
    assert {"first", "last", "conversions", "value"} <= set(body["flows"][0])


def test_paths_options_as_query_parameters(client: TestClient) -> None:
    params = {"from": "2024-02-01", "to": "2024-03-31", "top": 2, "collapse_repeats": True}
    body = client.get("/api/v1/attribution/paths", params=params).json()
    assert body["journeys"] == 5 and len(body["top_paths"]) == 2
    assert body["options"] == {
        "conversion_type": "paid",
        "window_days": 90,
        "from": "2024-02-01",
        "to": "2024-03-31",
    }
    signup = client.get(
        "/api/v1/attribution/paths", params={"conversion_type": "signup", "window": 30}
    ).json()
    assert signup["conversions"] == 2 and signup["options"]["window_days"] == 30


@pytest.mark.parametrize(
    ("params", "status", "expected"),
    [
        ({"conversion_type": "won"}, 422, "conversion type 'won'"),
        ({"from": "2024-03-01", "to": "2024-02-01"}, 422, "after to"),
        ({"top": 0}, 422, "top"),
        ({"from": "2031-01-01"}, 409, "no journey"),
    ],
)
def test_paths_errors(
    client: TestClient, params: dict[str, object], status: int, expected: str
) -> None:
    r = client.get("/api/v1/attribution/paths", params=params)
    assert r.status_code == status, r.text
    assert expected in r.text


def test_customer_journey(client: TestClient) -> None:
    r = client.get("/api/v1/customers/C2/journey")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["kind"] for e in body["events"]] == ["touch", "touch", "conversion"]
    assert body["events"][0]["channel"] == "Organic" and body["events"][0]["source"] == "google"
    assert body["events"][1]["days_since_previous"] == 3.0
    assert body["journey_ids"] == ["L1"] and body["conversions"] == 1
    missing = client.get("/api/v1/customers/nobody/journey")
    assert missing.status_code == 404 and "'nobody'" in missing.text
