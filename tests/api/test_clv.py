"""``/api/v1/clv``: sBG fit, 422s naming the field, segments, customer and RFM."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext


@pytest.fixture
def client(loaded_context: AppContext) -> TestClient:
    return TestClient(create_app(loaded_context))


def test_sbg(client: TestClient) -> None:
    body = {"survivors": [1000, 869, 743, 653, 593, 551, 517, 491], "horizon": 12}
    response = client.post("/api/v1/clv/sbg", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["alpha"] == pytest.approx(0.668, abs=0.01)
    assert out["beta"] == pytest.approx(3.806, abs=0.01)
    assert out["log_likelihood"] == pytest.approx(-1611.2, abs=0.5)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"survivors": [1000, 1200]}, "survivors"),
        ({"survivors": [1000]}, "survivors"),
        ({"survivors": [1000, 500], "horizon": 0}, "horizon"),
    ],
)
def test_sbg_422(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/api/v1/clv/sbg", json=body)
    assert response.status_code == 422
    assert field in [f["field"] for f in response.json()["fields"]]


def test_segments_customer_rfm(client: TestClient) -> None:
    response = client.get("/api/v1/clv/segments", params={"by": "segment", "as_of": "2024-12-31"})
    assert response.status_code == 200, response.text
    assert response.json()["overall"]["customers"] == 4
    response = client.get("/api/v1/clv/segments", params={"by": "colour"})
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "by"
    response = client.get("/api/v1/clv/customers/C001", params={"as_of": "2024-12-31"})
    assert response.status_code == 200 and response.json()["customer_id"] == "C001"
    assert client.get("/api/v1/clv/customers/NOPE").status_code == 404
    response = client.get("/api/v1/clv/rfm")
    assert response.status_code == 200
    assert sum(s["customers"] for s in response.json()["segments"]) == 4


@pytest.mark.parametrize("path", ["/api/v1/clv/segments", "/api/v1/clv/customers/C001"])
def test_as_of_after_today_is_a_422(client: TestClient, path: str) -> None:
    tomorrow = date.today() + timedelta(days=1)
    response = client.get(path, params={"as_of": tomorrow.isoformat()})
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "as_of"


def test_a_customer_needs_a_discount_rate_above_0(client: TestClient) -> None:
    # The spec allowed 0, which the remaining-lifetime sum refused with a 400.
    response = client.get("/api/v1/clv/customers/C001", params={"discount_rate": 0})
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "discount_rate"
    response = client.get("/api/v1/clv/customers/C001", params={"discount_rate": 0.0001})
    assert response.status_code == 200, response.text


def test_rfm_as_of_past_the_data_is_a_409_naming_as_of(client: TestClient) -> None:
    # A day before today but after the small company's last payment (2024-03-05).
    response = client.get("/api/v1/clv/rfm", params={"as_of": "2025-06-01"})
    assert response.status_code == 409, response.text
    assert response.json()["detail"].startswith("as_of: expected a day from 2024-01-05 ")
