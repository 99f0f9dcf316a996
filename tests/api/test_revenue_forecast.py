"""``/api/v1/revenue/forecast/*`` and ``/predict/close-probability`` (docs/pipeline.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.core.config import Settings

from ..pipeline.forecast_company import loaded_deal_home

BRIEF_EXAMPLE = {
    "deal_stage": "proposal",
    "days_in_stage": 12,
    "lead_score": 75,
    "num_interactions": 8,
    "num_objections_handled": 2,
    "champion_identified": True,
    "budget_confirmed": True,
    "decision_maker_engaged": False,
    "competitors_mentioned": 1,
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loaded_deal_home(tmp_path_factory.mktemp("forecast-api"))


@pytest.fixture
def deal_client(home: Path) -> Iterator[TestClient]:
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    with TestClient(create_app(ctx)) as c:
        yield c
    ctx.close()


def test_forecast_monthly_and_backtest(deal_client: TestClient) -> None:
    r = deal_client.get("/api/v1/revenue/forecast/monthly", params={"months": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [w["horizon_days"] for w in body["windows"]] == [30, 60, 90]
    assert len(body["months"]) == 2
    assert body["months"][0]["probability_weighted"]["high_80"] is not None
    b = deal_client.get("/api/v1/revenue/forecast/backtest")
    assert b.status_code == 200, b.text
    acc = b.json()["accuracy"]
    assert {"method", "horizon_days", "mape", "bias", "coverage_80"} <= set(acc[0])
    assert "points" not in b.json()


def test_close_probability_rule_and_model(deal_client: TestClient) -> None:
    r = deal_client.post("/api/v1/revenue/predict/close-probability", json=BRIEF_EXAMPLE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["breakdown"]["engagement_boost"] == 23.5
    assert body["close_probability"] == 93.5
    assert 0 <= body["model"]["close_probability"] <= 100
    assert body["model"]["roc_auc"] is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"deal_stage": "Won-ish"}, "deal_stage"),
        ({"lead_score": 101}, "lead_score"),
        ({"days_in_stage": -1}, "days_in_stage"),
        ({"competitors_mentioned": -2}, "competitors_mentioned"),
    ],
)
def test_close_probability_bad_input_names_the_field(
    deal_client: TestClient, change: dict, field: str
) -> None:
    r = deal_client.post(
        "/api/v1/revenue/predict/close-probability", json={**BRIEF_EXAMPLE, **change}
    )
    assert r.status_code == 422
    assert field in r.text


def test_unknown_deal_and_bad_months(deal_client: TestClient) -> None:
    r = deal_client.post(
        "/api/v1/revenue/predict/close-probability", json={**BRIEF_EXAMPLE, "deal_id": "nope"}
    )
    assert r.status_code == 404 and "deal_id" in r.text
    assert deal_client.get("/api/v1/revenue/forecast/monthly?months=9").status_code == 422


def test_no_deals_is_a_clear_409(client: TestClient) -> None:
    r = client.get("/api/v1/revenue/forecast/backtest")
    assert r.status_code == 409 and "no deals are loaded" in r.text


def test_filters_by_segment_and_names_an_unknown_one(deal_client: TestClient) -> None:
    ok = deal_client.get("/api/v1/revenue/forecast/monthly", params={"segment": "SMB"})
    assert ok.status_code == 200, ok.text
    bad = deal_client.get("/api/v1/revenue/forecast/backtest", params={"segment": "Galactic"})
    assert bad.status_code == 422 and "segment: unknown segment 'Galactic'" in bad.text
