"""``/api/v1/metrics``, ``/api/v1/forecast`` and ``/api/v1/anomalies`` over a loaded home.

The brief-001 company and its hand-worked values are those of ``tests/cli/test_cli_metrics.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from tests.cli.test_cli_metrics import BRIEF_001, MONTHS
from tests.conftest import isolated_settings


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("brief001")
    for name, text in BRIEF_001.items():
        (folder / name).write_text(text)
    ctx = AppContext(isolated_settings(tmp_path_factory.mktemp("api") / "home"))
    load_paths(ctx, [folder], source="test")
    with TestClient(create_app(ctx)) as client:
        yield client


def get(api: TestClient, url: str, status: int = 200) -> dict:
    response = api.get(url)
    assert response.status_code == status, response.text
    return response.json()


def test_movements_with_hand_worked_values(api: TestClient) -> None:
    body = get(api, "/api/v1/metrics/movements")
    assert (body["metric"], body["from"], body["to"]) == ("movements", "2024-01", "2024-04")
    assert body["definition"] == "docs/metrics.md#mrr-movements"
    rows = body["rows"]
    assert [r["month"] for r in rows] == MONTHS
    assert [r["mrr"] for r in rows] == [300, 1100, 1150, 1350]
    assert [r["churn"] for r in rows] == [0, 200, 0, 0]
    assert [r["reactivation"] for r in rows] == [0, 0, 0, 250]


def test_churn_rates_and_null_reasons(api: TestClient) -> None:
    rows = get(api, "/api/v1/metrics/churn?from=2024-01&to=2024-02")["rows"]
    assert [r["month"] for r in rows] == ["2024-01", "2024-02"]
    assert rows[0]["logo_churn_rate"] is None
    assert rows[0]["logo_churn_rate_reason"] == (
        "no paying customers at the end of the previous month"
    )
    assert rows[1]["logo_churn_rate"] == pytest.approx(0.5)
    assert rows[1]["nrr"] == pytest.approx(1 / 3)


def test_breakdown_and_repeated_filters(api: TestClient) -> None:
    body = get(api, "/api/v1/metrics/mrr?by=channel&segment=SMB&from=2024-04")
    assert body["by"] == "acquisition_channel"
    assert body["filters"] == {"segment": ["SMB"]}
    assert {r["acquisition_channel"]: r["mrr"] for r in body["rows"]} == {
        "Organic": 100,
        "Referral": 250,
    }
    two = get(api, "/api/v1/metrics/revenue?country=US&country=FR")["rows"]
    assert [r["revenue"] for r in two] == [100, 1100, 1230, 1100]


def test_summary(api: TestClient) -> None:
    body = get(api, "/api/v1/metrics/summary")
    assert body["month"] == "2024-04"
    assert body["metrics"]["customers"]["value"] == 3
    assert body["metrics"]["logo_churn_rate"]["definition"] == "docs/metrics.md#logo-churn-rate"
    cash, recognised = body["metrics"]["revenue"], body["metrics"]["recognised_revenue"]
    assert cash["label"] == "Cash collected"
    assert recognised["value"] == body["metrics"]["mrr"]["value"]
    assert cash["note"].startswith("Recognised revenue (MRR-based) $")


def test_list_of_metrics(api: TestClient) -> None:
    names = {m["name"]: m for m in get(api, "/api/v1/metrics")}
    assert {"mrr", "movements", "churn", "cohorts", "revenue", "finance"} <= set(names)
    assert names["finance"]["breakdown"] == "none"


def test_unknown_metric_or_dimension_names_field_and_allowed_values(api: TestClient) -> None:
    body = get(api, "/api/v1/metrics/arpu", 422)
    assert body["fields"][0]["field"] == "name"
    assert "'movements'" in body["detail"] and "'churn'" in body["detail"]
    body = get(api, "/api/v1/metrics/mrr?by=planet", 422)
    assert body["fields"][0]["field"] == "by"
    assert "'segment'" in body["detail"] and "'industry'" in body["detail"]


def test_bad_month_names_the_field(api: TestClient) -> None:
    body = get(api, "/api/v1/metrics/mrr?from=2024-13", 422)
    assert body["detail"] == "query field 'from': expected a month YYYY-MM, e.g. 2024-03"
    # The spec's pattern is the server's: a padded month is refused, not trimmed.
    assert get(api, "/api/v1/metrics/mrr?from=%202024-01", 422)["fields"][0]["field"] == "from"
    body = get(api, "/api/v1/metrics/mrr?from=2024-04&to=2024-02", 422)
    assert "2024-04" in body["detail"] and "2024-02" in body["detail"]
    # Well-formed months the data does not reach: the data, not the request, lacks them.
    assert "outside the data" in get(api, "/api/v1/metrics/mrr?from=2099-01", 409)["detail"]


def test_missing_table_is_a_409_naming_it(api: TestClient) -> None:
    body = get(api, "/api/v1/metrics/conversion", 409)
    assert body["error"] == "NoDataError"
    assert "'trials' has not been loaded" in body["detail"]


def test_finance_from_the_costs_csv(api: TestClient) -> None:
    rows = get(api, "/api/v1/metrics/finance")["rows"]
    assert rows[0]["gross_margin"] == pytest.approx((300 - 30 - 20) / 300)
    body = get(api, "/api/v1/metrics/finance?by=segment", 422)
    assert "has no breakdown" in body["detail"]


def test_forecast_and_anomalies(api: TestClient) -> None:
    body = get(api, "/api/v1/forecast/mrr?horizon=3")
    assert body["horizon"] == 3 and body["history_months"] == 4
    assert [r["month"] for r in body["forecast"]] == ["2024-05", "2024-06", "2024-07"]
    assert body["model"] and "backtest_mape" in body and isinstance(body["notes"], list)
    assert get(api, "/api/v1/forecast/mrr?horizon=12", 422)["fields"][0]["field"] == "horizon"
    assert get(api, "/api/v1/forecast/arr", 422)["fields"][0]["field"] == "series"
    found = get(api, "/api/v1/anomalies?series=mrr&detector=rule")
    # MRR: 300 -> 1100 (+266.7%), 1100 -> 1150 (+4.5%), 1150 -> 1350 (+17.4%)
    assert [(a["month"], round(a["size"], 4)) for a in found["anomalies"]] == [
        ("2024-02", round(1100 / 300 - 1, 4)),
        ("2024-04", round(1350 / 1150 - 1, 4)),
    ]
    assert found["anomalies"][0]["reason"] == "MRR rose 266.7% vs previous month (threshold 10%)"
    assert get(api, "/api/v1/anomalies?series=arr", 422)["fields"][0]["field"] == "series.0"
    assert get(api, "/api/v1/anomalies")["detectors"] == ["statistical"]  # the rule on request


def test_without_payments_revenue_anomalies_are_skipped_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "customers.csv").write_text(BRIEF_001["customers.csv"])
    # Without payments the data is as of the latest subscription start: May 1 closes April.
    late_start = "E1,A,Basic,2024-05-01,,10\n"
    (folder / "subscriptions.csv").write_text(BRIEF_001["subscriptions.csv"] + late_start)
    ctx = AppContext(isolated_settings(tmp_path / "home"))
    load_paths(ctx, [folder], source="test")
    with TestClient(create_app(ctx)) as client:
        body = get(client, "/api/v1/anomalies?detector=rule")
        assert {a["metric"] for a in body["anomalies"]} == {"mrr"}
        assert len(body["notes"]) == 1 and "'payments' has not been loaded" in body["notes"][0]
        assert "'payments'" in get(client, "/api/v1/metrics/revenue", 409)["detail"]
