"""``/api/v1/revenue/`` analytics endpoints on the small deal company: brief 003's field names,
the deal filters, and 4xx naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from tests.pipeline.deal_company import deal_context

BASE = "/api/v1/revenue"


@pytest.fixture
def deal_client(tmp_path: Path) -> Iterator[TestClient]:
    ctx: AppContext = deal_context(tmp_path)
    with TestClient(create_app(ctx), base_url="http://localhost") as c:
        yield c
    ctx.close()


def test_dashboard_kpis(deal_client: TestClient) -> None:
    r = deal_client.get(f"{BASE}/dashboard")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kpis"]["total_pipeline"] == 20600.0
    assert body["kpis"]["deal_count"] == 4
    assert set(body["kpis"]) >= {"avg_deal_size", "weighted_forecast_90d", "at_risk_deals"}
    assert len(body["pipeline_by_stage"]) == 4 and len(body["monthly_forecast"]) == 6


def test_by_stage_won_and_competitors(deal_client: TestClient) -> None:
    rows = deal_client.get(f"{BASE}/pipeline/by-stage", params={"segment": "SMB"}).json()
    assert sum(r["deals"] for r in rows) == 2  # D5 and D6
    won = deal_client.get(f"{BASE}/won-deals/summary", params={"from": "2024-01-06"}).json()
    assert won["totals"]["won_deals"] == 1  # D3 only
    comp = deal_client.get(f"{BASE}/competitors").json()
    assert comp["overall"]["closed"] == 4 and "test" in comp


def test_scenario_calculator(deal_client: TestClient) -> None:
    body = {"win_rate_increase": 0.1, "deal_size_increase": 0.05, "pipeline_growth": 0.15}
    r = deal_client.post(f"{BASE}/scenario-calculator", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["baseline"]["forecast"] == pytest.approx(10300.0)
    assert out["projected"]["forecast"] == pytest.approx(20600 * 1.15 * 0.55 * 1.05)
    assert out["delta"]["percent"] == pytest.approx((1.15 * 1.1 * 1.05 - 1) * 100)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        (
            "post",
            "/scenario-calculator",
            {"json": {"win_rate_increase": -1.5}},
            "win_rate_increase",
        ),
        ("post", "/scenario-calculator", {"json": {"segments": {"Retail": {}}}}, "segments.Retail"),
        ("get", "/pipeline/by-stage", {"params": {"stage": "Won"}}, "stage"),
        ("get", "/dashboard", {"params": {"owner": "Zed"}}, "owner"),
        ("get", "/competitors", {"params": {"to": "2024-13-01"}}, "to"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    deal_client: TestClient, method: str, path: str, kwargs: dict[str, object], field: str
) -> None:
    r = getattr(deal_client, method)(f"{BASE}{path}", **kwargs)
    assert 400 <= r.status_code < 500
    assert field in r.json()["detail"]


def test_no_deals_is_a_409(client: TestClient) -> None:
    r = TestClient(client.app, base_url="http://localhost").get(f"{BASE}/dashboard")
    assert r.status_code == 409
    assert "no deals are loaded" in r.json()["detail"]
