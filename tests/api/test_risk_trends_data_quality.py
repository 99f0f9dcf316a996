"""``/api/v1/risk-trends`` and ``/api/v1/data-quality`` over the trained churn home (read-only),
and their errors on an empty home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.app.retention import risk_trends as R
from tests.conftest import isolated_settings


@pytest.fixture
def client(churn_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(AppContext(isolated_settings(churn_home)))) as test_client:
        yield test_client


def test_risk_trends_portfolio_is_the_app_result(client: TestClient, churn_home: Path) -> None:
    response = client.get("/api/v1/risk-trends", params={"months": 6, "level": 0.8})
    assert response.status_code == 200, response.text
    body = response.json()
    ctx = AppContext(isolated_settings(churn_home))
    try:
        expected = R.risk_trends(ctx, 6, 0.8)
    finally:
        ctx.close()
    assert [m["month"] for m in body["series"]] == [m.month for m in expected.series]
    assert body["series"][-1]["mrr_weighted_risk"] == pytest.approx(
        expected.series[-1].mrr_weighted_risk
    )
    q = body["next_quarter"]
    assert q["expected_customers"] == pytest.approx(expected.next_quarter.expected_customers)
    assert q["customers_low"] <= q["expected_customers"] <= q["customers_high"]
    assert q["level"] == 0.8 and q["count_method"] == "exact"
    assert body["source"].startswith("backcast")
    assert len(body["calibration"]) == 3


def test_cohorts_risers_and_drift(client: TestClient) -> None:
    cohorts = client.get("/api/v1/risk-trends/cohorts", params={"by": "month"}).json()
    assert cohorts["by"] == "month" and cohorts["cohorts"]
    assert all(len(c["cohort"]) == 7 for c in cohorts["cohorts"])
    risers = client.get("/api/v1/risk-trends/risers", params={"limit": 3}).json()
    assert len(risers["risers"]) == 3 and risers["risers"][0]["change"] > 0
    drift = client.get("/api/v1/risk-trends/drift", params={"months": 3}).json()
    assert len(drift["months"]) == 3
    assert {r["month"] for r in drift["rows"]} == set(drift["months"])
    assert all(r["status"] in ("stable", "moderate", "drift", "missing") for r in drift["rows"])


def test_data_quality_and_correlations(client: TestClient) -> None:
    body = client.get("/api/v1/data-quality", params={"iqr_k": 1.5}).json()
    assert body["iqr_k"] == 1.5
    tables = {f["table"] for f in body["freshness"]}
    assert {"customers", "subscriptions", "payments"} <= tables
    assert {m["table"] for m in body["missing"]} == tables
    assert all(0 <= m["missing_share"] <= 1 for m in body["missing"])
    corr = client.get("/api/v1/data-quality/correlations", params={"method": "spearman"}).json()
    n = len(corr["features"])
    assert n > 5 and len(corr["matrix"]) == n and all(len(row) == n for row in corr["matrix"])


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/risk-trends", {"months": 1}, "months"),
        ("/api/v1/risk-trends", {"level": 1.2}, "level"),
        ("/api/v1/risk-trends/risers", {"limit": 0}, "limit"),
        ("/api/v1/risk-trends/cohorts", {"by": "week"}, "by"),
        ("/api/v1/data-quality", {"iqr_k": 0}, "iqr_k"),
        ("/api/v1/data-quality/correlations", {"method": "kendall"}, "method"),
    ],
)
def test_bad_options_are_422_naming_the_field(
    client: TestClient, path: str, params: dict[str, object], field: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert field in response.text


def test_without_data_or_model(tmp_path: Path) -> None:
    with TestClient(create_app(AppContext(isolated_settings(tmp_path / "home")))) as client:
        assert client.get("/api/v1/data-quality").status_code == 409
        assert client.get("/api/v1/risk-trends").status_code == 404  # no model in production
