"""``/api/v1/revenue/accounts/...`` and ``/health-check`` on the planted expansion company."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from tests.conftest import isolated_settings
from tests.pipeline.planted_home import planted_home

BASE = "/api/v1/revenue"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = planted_home(tmp_path_factory.mktemp("api-expansion"))
    ctx = AppContext(isolated_settings(home))
    with TestClient(create_app(ctx), base_url="http://localhost") as test_client:
        yield test_client
    ctx.close()


def test_expansion_ranking_one_account_and_given_signals(client: TestClient) -> None:
    response = client.post(f"{BASE}/accounts/expansion-score", json={"limit": 3})
    assert response.status_code == 200, response.text
    out = response.json()
    assert len(out["accounts"]) == 3 and out["backtest"]["lift"] > 2
    assert out["accounts"][0]["reasons"][0]["evidence"]
    one = client.post(f"{BASE}/accounts/expansion-score", json={"account_id": "A101"}).json()
    assert [a["account_id"] for a in one["accounts"]] == ["A101"]
    given = client.post(
        f"{BASE}/accounts/expansion-score",
        json={"signals": {"active_users": 9, "licensed_seats": 10, "plan": "Basic", "arr": 1000}},
    )
    assert given.status_code == 200 and given.json()["expansion_score"] > 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "2023-13"}, "month"),
        ({"limit": 0}, "limit"),
        ({"signals": {"nps_score": 11}}, "signals.nps_score"),
        ({"signals": {"plan": "Gold"}}, "signals.plan"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post(f"{BASE}/accounts/expansion-score", json=body)
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["fields"]]


def test_unknown_account_and_month_outside_the_data(client: TestClient) -> None:
    response = client.post(f"{BASE}/accounts/expansion-score", json={"account_id": "ZZZ"})
    assert response.status_code == 404 and "ZZZ" in response.json()["detail"]
    response = client.post(f"{BASE}/accounts/expansion-score", json={"month": "2031-01"})
    # a well-formed month the data does not reach: 409, as everywhere (api/errors.py)
    assert response.status_code == 409 and "2023-01 to 2023-12" in response.json()["detail"]


def test_churn_risk_and_health_check(client: TestClient) -> None:
    response = client.post(f"{BASE}/accounts/churn-risk", json={"account_id": "A050"})
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["risk_source"] == "health score" and out["health_score"] is not None
    assert (
        client.post(f"{BASE}/accounts/churn-risk", json={"account_id": "nobody"}).status_code == 404
    )
    assert client.post(f"{BASE}/accounts/churn-risk", json={}).status_code == 422
    check = client.get(f"{BASE}/health-check").json()
    assert check["status"] == "degraded" and check["tables"]["subscriptions"] == "available"
    assert "deals" in check["missing"]
