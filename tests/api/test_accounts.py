"""GET /api/v1/accounts(/{id}), GET /api/v1/health/summary, GET|PUT /api/v1/health/config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from tests.health.demo import copy_home, demo_home, settings_for


@pytest.fixture(scope="module")
def demo_client() -> Iterator[TestClient]:
    with TestClient(create_app(AppContext(settings_for(demo_home())))) as client:
        yield client


@pytest.fixture
def writable_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-revintel.toml"))
    home = copy_home(tmp_path / "home")
    with TestClient(create_app(AppContext(settings_for(home)))) as client:
        yield client


def test_accounts_are_paged_filtered_and_sorted(demo_client: TestClient) -> None:
    first = demo_client.get("/api/v1/accounts", params={"page_size": 5, "sort": "arr",
                                                         "descending": True}).json()  # fmt: skip
    assert len(first["items"]) == 5 and first["total"] > 5
    arrs = [a["arr"] for a in first["items"]]
    assert arrs == sorted(arrs, reverse=True)
    item = first["items"][0]
    for key in ("account_id", "health_score", "tier", "playbook", "reason", "engagement",
                "sentiment", "support", "arr", "partial"):  # fmt: skip
        assert key in item
    second = demo_client.get("/api/v1/accounts", params={"page_size": 5, "page": 2, "sort": "arr",
                                                          "descending": True}).json()  # fmt: skip
    assert second["items"][0]["arr"] <= arrs[-1]
    risky = demo_client.get(
        "/api/v1/accounts", params=[("tier", "Critical"), ("tier", "At Risk"), ("page_size", 1000)]
    ).json()
    assert risky["total"] == len(risky["items"]) > 0
    assert {a["tier"] for a in risky["items"]} <= {"Critical", "At Risk"}


def test_bad_query_is_422_naming_the_field(demo_client: TestClient) -> None:
    r = demo_client.get("/api/v1/accounts", params={"tier": "Fine"})
    assert r.status_code == 422 and "tier" in r.json()["detail"]
    r = demo_client.get("/api/v1/accounts", params={"sort": "colour"})
    assert r.status_code == 422 and "sort" in r.json()["detail"]
    r = demo_client.get("/api/v1/accounts", params={"month": "1999-0"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "month"


def test_a_month_outside_the_data_is_a_409(demo_client: TestClient) -> None:
    # Well-formed, so the spec allows it: the data, not the request, lacks the month.
    for path in ("/api/v1/accounts", "/api/v1/health/summary"):
        r = demo_client.get(path, params={"month": "1999-01"})
        assert r.status_code == 409 and "expected a month from" in r.json()["detail"], path


def test_a_page_past_the_end_is_empty(demo_client: TestClient) -> None:
    r = demo_client.get("/api/v1/accounts", params={"page": 10**22, "page_size": 1000})
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [] and r.json()["total"] > 0


def test_account_360(demo_client: TestClient) -> None:
    account = demo_client.get("/api/v1/accounts", params={"page_size": 1}).json()["items"][0]
    body = demo_client.get(f"/api/v1/accounts/{account['account_id']}").json()
    assert body["account"]["health_score"] == account["health_score"]
    assert set(body["pillars"]) == {"engagement", "sentiment", "support"}
    assert body["history"] and body["timeline"] and body["actions"]
    missing = demo_client.get("/api/v1/accounts/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]


def test_summary_and_owner_filter(demo_client: TestClient) -> None:
    whole = demo_client.get("/api/v1/health/summary").json()
    assert whole["capital_at_risk"] == pytest.approx(
        whole["arr_by_tier"]["At Risk"] + whole["arr_by_tier"]["Critical"]
    )
    owner = demo_client.get("/api/v1/accounts", params={"page_size": 1}).json()["items"][0]["owner"]
    mine = demo_client.get("/api/v1/health/summary", params={"owner": owner}).json()
    assert 0 < mine["accounts"] < whole["accounts"]


def test_put_config_validates_and_changes_scores(writable_client: TestClient) -> None:
    before = writable_client.get("/api/v1/accounts", params={"page_size": 1000}).json()["items"]
    bad = writable_client.put(
        "/api/v1/health/config",
        json={"weights": {"engagement": 50, "sentiment": 30, "support": 30}},
    )
    assert bad.status_code == 422
    assert "weights must sum to 100%" in bad.json()["detail"]
    assert writable_client.get("/api/v1/health/config").json()["sources"] == []
    ok = writable_client.put(
        "/api/v1/health/config",
        json={"weights": {"engagement": 100, "sentiment": 0, "support": 0}},
    )
    assert ok.status_code == 200
    assert ok.json()["config"]["weights"]["engagement"] == 100
    assert ok.json()["sources"][0].endswith("health.toml")
    after = writable_client.get("/api/v1/accounts", params={"page_size": 1000}).json()["items"]
    by_id = {a["account_id"]: a for a in after}
    assert len(after) == len(before)
    for a in before:
        # Engagement only: every score is now its (rounded) engagement pillar.
        assert by_id[a["account_id"]]["health_score"] == pytest.approx(a["engagement"], abs=0.06)
