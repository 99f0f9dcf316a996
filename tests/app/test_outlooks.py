"""Forecasts and anomaly flags on a series (revintel.app.outlooks): typed answers whose JSON is
what the CLI and the API print, and the page step that never raises."""

from __future__ import annotations

import pytest

from revintel.app.outlooks import AnomalyReport, find_anomalies, outlook
from revintel.core.errors import InvalidOption

ROWS = [{"month": f"2024-{m:02d}", "mrr": 1000.0 + 25 * m + (m % 3) * 7} for m in range(1, 13)]


def test_an_outlook_has_a_forecast_and_anomalies() -> None:
    result = outlook(ROWS, "mrr", 3)
    assert result.forecast is not None and len(result.forecast.forecast) == 3
    assert result.forecast_error is None and result.anomalies_error is None


def test_a_failure_is_said_in_the_outlook() -> None:
    result = outlook(ROWS[:2], "mrr", 3)
    assert result.forecast is None and result.forecast_error


def test_without_its_drivers_a_series_is_judged_on_its_own() -> None:
    def broken() -> list[dict]:
        raise RuntimeError("the warehouse went away")

    alone = outlook(ROWS, "mrr", 3)
    assert outlook(ROWS, "mrr", 3, broken).anomalies == alone.anomalies


@pytest.mark.parametrize(
    ("options", "message"),
    [({"series": ["nps"]}, "series = 'nps'"), ({"detectors": ["magic"]}, "detector = 'magic'")],
)
def test_anomaly_options_are_checked_before_reading(options: dict, message: str) -> None:
    with pytest.raises(InvalidOption, match=message):
        find_anomalies(None, **options)  # type: ignore[arg-type]


def test_an_anomaly_report_is_the_json_the_faces_print() -> None:
    report = AnomalyReport(0.1, 95, ["rule"], [], ["Revenue skipped: no payments"])
    assert report.to_dict() == {
        "threshold": 0.1,
        "level": 95,
        "detectors": ["rule"],
        "anomalies": [],
        "notes": ["Revenue skipped: no payments"],
        "definition": "docs/forecasting.md#anomalies",
    }
