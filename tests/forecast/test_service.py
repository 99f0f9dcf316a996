"""The service layer: metric rows in, the right column forecast and checked for anomalies."""

from __future__ import annotations

import pytest

from revintel.core.errors import RevintelError
from revintel.forecast import SERIES, forecast_metric, metric_anomalies

from .conftest import month_labels


def _rows(n: int = 10) -> list[dict[str, object]]:
    return [
        {
            "month": month,
            "mrr": 1_000.0 + 50 * i,
            "new": 100.0 + i,
            "churn": 20.0 + (300 if i == 7 else 0),
            "customers": 40 + i,
            "revenue": 990.0 + 50 * i,
        }
        for i, month in enumerate(month_labels(n))
    ]


@pytest.mark.parametrize(
    ("series", "column", "label"),
    [
        ("mrr", "mrr", "MRR"),
        ("revenue", "revenue", "Revenue"),
        ("paying_customers", "customers", "Paying customers"),
        ("new_mrr", "new", "New MRR"),
        ("churned_mrr", "churn", "Churned MRR"),
    ],
)
def test_each_series_reads_its_column(series: str, column: str, label: str) -> None:
    rows = _rows()
    result = forecast_metric(rows, series, horizon=3)  # type: ignore[arg-type]
    assert result.series == label
    assert SERIES[series].label == label  # type: ignore[index]
    assert [r.actual for r in result.in_sample] == [float(r[column]) for r in rows]
    assert len(result.forecast) == 3


def test_anomalies_name_the_metric() -> None:
    found = metric_anomalies(_rows(), "churned_mrr")
    assert {(a.month, a.detector) for a in found} >= {("2021-08", "rule"), ("2021-09", "rule")}
    assert all(a.series == "Churned MRR" for a in found)
    assert found[0].reason.startswith("Churned MRR ")


def test_service_refuses_unknown_series_missing_columns_and_horizons() -> None:
    with pytest.raises(RevintelError, match="unknown series 'arr'"):
        forecast_metric(_rows(), "arr")  # type: ignore[arg-type]
    rows = [{"month": r["month"], "mrr": r["mrr"]} for r in _rows()]
    with pytest.raises(RevintelError, match="none of the columns 'revenue'; got month, mrr"):
        forecast_metric(rows, "revenue")
    with pytest.raises(RevintelError, match="3 to 6 months"):
        forecast_metric(_rows(), "mrr", horizon=12)
    with pytest.raises(RevintelError, match="no monthly metric rows"):
        forecast_metric([], "mrr")
    by_plan = [{**r, "plan": plan} for r in _rows() for plan in ("basic", "pro")]
    with pytest.raises(RevintelError, match="more than one row for month 2021-01"):
        forecast_metric(by_plan, "mrr")
