"""``POST /api/v1/attribution/budget`` and ``GET /api/v1/attribution/roi`` on a company whose
channels follow planted curves (tests/attribution/roi_data.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.api.routes.attribution_budget import Model
from revintel.app.context import AppContext
from revintel.attribution.credit import MODELS
from revintel.core.config import Settings
from tests.attribution.roi_data import CURVES, MONTHS, conversions_of, load_company, spend_table


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_company(tmp_path_factory.mktemp("api_roi"))


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    with TestClient(create_app(ctx)) as test_client:
        yield test_client
    ctx.close()


def test_the_route_knows_every_model() -> None:
    assert get_args(Model) == MODELS


def test_budget_allocates_the_total_within_the_bounds(client: TestClient) -> None:
    body = {"total": 10000, "bound": 0.25, "model": "last_touch", "bootstrap": 50}
    response = client.post("/api/v1/attribution/budget", json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["label"] == "Model-based suggestion" and out["model"] == "last_touch"
    assert out["bound"] == 0.25 and out["bootstrap"] == 50
    assert round(sum(c["suggested"] for c in out["channels"]) * 100) == 1_000_000
    for c in out["channels"]:
        assert c["lower"] - 0.01 <= c["suggested"] <= c["upper"] + 0.01
        assert c["upper"] == pytest.approx(c["current"] * 1.25)
        assert c["months"] == list(MONTHS)
    assert out["gain_low"] <= out["gain"] <= out["gain_high"]


def test_budget_without_a_body_uses_the_current_spend(client: TestClient) -> None:
    response = client.post("/api/v1/attribution/budget")
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["total"] == pytest.approx(out["current_total"], abs=0.01)
    assert out["bound"] == 0.3 and out["model"] == "markov"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"total": 0}, "total"),
        ({"total": -10}, "total"),
        ({"bound": 1.5}, "bound"),
        ({"bound": -0.1}, "bound"),
        ({"model": "magic"}, "model"),
        ({"window_days": 0}, "window_days"),
        ({"conversion_type": "lead"}, "conversion_type"),
        ({"totl": 5}, "totl"),
    ],
)
def test_budget_422_names_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/api/v1/attribution/budget", json=body)
    assert response.status_code == 422, response.text
    assert any(field in f["field"] for f in response.json()["fields"]), response.json()


def test_budget_out_of_reach_total_gives_the_range(client: TestClient) -> None:
    response = client.post("/api/v1/attribution/budget", json={"total": 1, "bound": 0.1})
    assert response.status_code == 422
    assert "expected between" in response.text


def test_roi_per_model(client: TestClient) -> None:
    response = client.get("/api/v1/attribution/roi", params={"model": ["last_touch", "shapley"]})
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["models"] == ["last_touch", "shapley"]
    spend = spend_table()
    rows = {(r["model"], r["channel"]): r for r in out["rows"]}
    for c in CURVES:
        n = sum(conversions_of(c, spend[(m, c)]) for m in MONTHS)
        assert rows[("shapley", c)]["conversions"] == pytest.approx(n)
    assert rows[("shapley", "Direct")]["roi"] is None
    assert out["definitions"]["roi"] == "(attributed revenue × gross margin − spend) ÷ spend"


def test_roi_rejects_an_unknown_model_and_needs_spend(
    client: TestClient, empty_context: AppContext
) -> None:
    response = client.get("/api/v1/attribution/roi", params={"model": "magic"})
    assert response.status_code == 422
    with TestClient(create_app(empty_context)) as empty:
        response = empty.get("/api/v1/attribution/roi")
    assert response.status_code == 409
    assert "channel_spend" in response.text
