"""The anomaly detector's drivers: movement spread, collections and trials ending (metrics.drivers).

Hand-worked on the small company of ``test_backends_metrics`` (its comments give each event), and
the same expressions are compared across DuckDB, PostgreSQL and PySpark.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date as D

import ibis
import pytest

from revintel.app.context import AppContext
from revintel.metrics import mrr_changes
from revintel.metrics.drivers import collections, movement_spread, trials_ending
from revintel.metrics.service import MetricQuery, rows_with_drivers
from tests.conftest import isolated_settings
from tests.health.demo import demo_home

from .tables import PAYMENT_SCHEMA, table
from .test_backends_metrics import (  # noqa: F401 (fixtures)
    FROM,
    TO,
    company,
    loaded,
    normalised,
)


def expressions(t: dict[str, ibis.Table]) -> dict[str, ibis.Table]:
    months = {"from_month": FROM, "to_month": TO}
    changes = mrr_changes(t["subscriptions"], payments=t["payments"])
    by_segment = mrr_changes(t["subscriptions"], t["customers"], by="segment")
    return {
        "spread": movement_spread(changes, **months),
        "spread_by_segment": movement_spread(by_segment, **months),
        "collections": collections(t["payments"], **months),
        "trials_ending": trials_ending(t["trials"], **months),
    }


def by_month(expr: ibis.Table) -> dict[str, dict]:
    frame = ibis.duckdb.connect().to_pandas(expr)
    return {row["month"]: row for row in frame.to_dict("records")}


def test_movement_spread_is_the_sum_of_squares_and_the_largest_customer():
    rows = by_month(expressions(company())["spread"])
    assert len(rows) == 18  # every month of the range, zeros included
    # January: a (100) and b (80) are new.
    assert rows["2023-01"]["new_sq"] == pytest.approx(100**2 + 80**2)
    assert rows["2023-01"]["new_max"] == pytest.approx(100)
    # June: f is new at 40, b churns at 80.
    assert rows["2023-06"]["new_sq"] == pytest.approx(40**2)
    assert rows["2023-06"]["churn_sq"] == pytest.approx(80**2)
    assert rows["2023-06"]["churn_max"] == pytest.approx(80)
    # July: f's failed invoice is 30 days past due (churn 40); August: c's discount ends (+50).
    assert rows["2023-07"]["churn_sq"] == pytest.approx(40**2)
    assert rows["2023-08"]["expansion_sq"] == pytest.approx(50**2)
    # September: a's second subscription ends (contraction 50), f pays and is back (40).
    assert rows["2023-09"]["contraction_sq"] == pytest.approx(50**2)
    assert rows["2023-09"]["reactivation_sq"] == pytest.approx(40**2)
    # e joins and leaves inside May: in no movement.
    assert all(rows["2023-05"][f"{k}_sq"] == 0 for k in ("new", "churn"))


def test_collections_count_each_invoice_once_in_the_month_of_its_first_attempt():
    rows = by_month(expressions(company())["collections"])
    assert (rows["2023-01"]["invoices"], rows["2023-01"]["invoiced"]) == (2, 180)
    assert rows["2023-01"]["failed_invoices"] == 0
    # f's invoice: failed July 1 and 8, paid September 12: one failed first attempt, in July.
    assert (rows["2023-07"]["invoices"], rows["2023-07"]["failed_invoices"]) == (1, 1)
    assert rows["2023-07"]["failed_amount"] == pytest.approx(40)
    assert rows["2023-09"]["invoices"] == 0


def test_a_payment_without_an_invoice_is_its_own_invoice_and_no_invoice_column_gives_none():
    rows = [
        {"payment_id": "p1", "customer_id": "a", "payment_date": D(2024, 1, 3), "amount": 10.0,
         "payment_status": "Failed", "invoice_id": None},
        {"payment_id": "p2", "customer_id": "a", "payment_date": D(2024, 1, 9), "amount": 10.0,
         "payment_status": "Success", "invoice_id": None},
    ]  # fmt: skip
    payments = table(rows, PAYMENT_SCHEMA)
    got = by_month(collections(payments, from_month="2024-01", to_month="2024-01"))
    assert (got["2024-01"]["invoices"], got["2024-01"]["failed_invoices"]) == (2, 1)
    assert (
        collections(payments.drop("invoice_id"), from_month="2024-01", to_month="2024-01") is None
    )


def test_trials_ending_count_trials_by_their_last_day():
    rows = by_month(expressions(company())["trials_ending"])
    assert rows["2023-05"]["trials_ending"] == 2
    assert rows["2024-01"]["trials_ending"] == 1
    assert sum(r["trials_ending"] for r in rows.values()) == 3  # t4 ends in July 2024, after TO


@pytest.mark.parametrize("name", ["spread", "spread_by_segment", "collections", "trials_ending"])
def test_drivers_are_identical_on_every_backend(loaded, name):  # noqa: F811
    con, tables = loaded
    expected = normalised(ibis.duckdb.connect().to_pandas(expressions(company())[name]))
    got = normalised(con.to_pandas(expressions(tables)[name]))
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for column in expected.columns:
        for g, e in zip(got[column], expected[column], strict=True):
            if isinstance(e, float):
                assert g == pytest.approx(e, rel=1e-9, abs=1e-9), (name, column)
            else:
                assert g == e, (name, column)


@pytest.fixture(scope="module")
def demo_context() -> Iterator[AppContext]:
    ctx = AppContext(isolated_settings(demo_home()))
    yield ctx
    ctx.close()


def test_rows_with_drivers_add_the_driver_columns_to_the_service_rows(demo_context):
    mrr = rows_with_drivers(demo_context, "mrr")
    assert {"mrr", "new", "new_sq", "churn_max", "trials_ending"} <= set(mrr[0])
    assert [r["month"] for r in mrr] == sorted(r["month"] for r in mrr)
    assert all(r["new_sq"] >= r["new_max"] ** 2 - 1e-6 for r in mrr)
    revenue = rows_with_drivers(demo_context, "revenue")
    assert {"revenue", "invoices", "failed_invoices", "failed_amount"} <= set(revenue[0])
    assert sum(r["invoices"] for r in revenue) > 0
    filtered = rows_with_drivers(demo_context, "mrr", MetricQuery(filters={"segment": ["SMB"]}))
    assert sum(r["new_sq"] for r in filtered) < sum(r["new_sq"] for r in mrr)
    by_plan = rows_with_drivers(demo_context, "revenue", MetricQuery(filters={"plan": ["Pro"]}))
    assert "invoices" not in by_plan[0]  # payments carry no plan: judged without collections
