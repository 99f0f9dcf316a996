"""The same Ibis expressions give the same answers on DuckDB, PostgreSQL and PySpark."""

from __future__ import annotations

from typing import Any

import ibis
import pytest

from tests.backends.conftest import Backend


def revenue_by_month_and_segment(payments: ibis.Table, customers: ibis.Table) -> ibis.Table:
    """Successful payments per calendar month and customer segment."""
    paid = payments.filter(payments.payment_status == "Success")
    joined = paid.join(customers, "customer_id")
    return (
        joined.group_by(
            year=joined.payment_date.year(),
            month=joined.payment_date.month(),
            segment=joined.segment,
        )
        .aggregate(
            revenue=joined.amount.sum(),
            payments=joined.payment_id.count(),
            payers=joined.customer_id.nunique(),
        )
        .order_by(["year", "month", "segment"])
    )


def subscribers_by_segment(customers: ibis.Table, subscriptions: ibis.Table) -> ibis.Table:
    """Customers per segment, and how many of them have a subscription still running."""
    live = subscriptions.filter(subscriptions.end_date.isnull())
    flagged = customers.left_join(live, customers.customer_id == live.customer_id).select(
        customers.segment,
        customers.customer_id,
        # Not .cast("int64"): see test_boolean_cast_to_integer.
        subscribed=ibis.ifelse(live.subscription_id.notnull(), 1, 0),
    )
    return (
        flagged.group_by("segment")
        .aggregate(customers=flagged.customer_id.nunique(), subscribed=flagged.subscribed.sum())
        .order_by("segment")
    )


def rows(expr: ibis.Table) -> list[dict[str, Any]]:
    """Plain Python rows (backends differ in integer widths, not in values)."""
    return [
        {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()}
        for row in expr.to_pyarrow().to_pylist()
    ]


def test_backend_is_the_one_asked_for(backend: Backend) -> None:
    expected_kind = {"duckdb": "parquet", "postgres": "postgres", "pyspark": "pyspark"}
    assert backend.ctx.warehouse.kind == expected_kind[backend.name]
    assert backend.ctx.warehouse.row_counts() == {
        "customers": 6,
        "subscriptions": 5,
        "payments": 10,
    }


def test_revenue_by_month_and_segment(backend: Backend) -> None:
    expr = revenue_by_month_and_segment(backend.table("payments"), backend.table("customers"))

    assert rows(expr) == [
        {
            "year": 2024,
            "month": 1,
            "segment": "Mid-Market",
            "revenue": 199.0,
            "payments": 1,
            "payers": 1,
        },
        {"year": 2024, "month": 1, "segment": "SMB", "revenue": 248.0, "payments": 2, "payers": 2},
        {
            "year": 2024,
            "month": 2,
            "segment": "Enterprise",
            "revenue": 2500.0,
            "payments": 1,
            "payers": 1,
        },
        {"year": 2024, "month": 2, "segment": "SMB", "revenue": 248.0, "payments": 2, "payers": 2},
        {
            "year": 2024,
            "month": 3,
            "segment": "Enterprise",
            "revenue": 2500.0,
            "payments": 1,
            "payers": 1,
        },
        {"year": 2024, "month": 3, "segment": "SMB", "revenue": 49.0, "payments": 1, "payers": 1},
    ]


def test_subscribers_by_segment(backend: Backend) -> None:
    expr = subscribers_by_segment(backend.table("customers"), backend.table("subscriptions"))

    assert rows(expr) == [
        {"segment": "Enterprise", "customers": 1, "subscribed": 1},
        {"segment": "Mid-Market", "customers": 2, "subscribed": 1},
        {"segment": "SMB", "customers": 3, "subscribed": 2},
    ]


def test_loaded_types_survive_every_backend(backend: Backend) -> None:
    customers = backend.table("customers")
    schema = customers.schema()

    assert schema["signup_date"].is_date()
    assert schema["is_active"].is_boolean()
    inactive = customers.filter(~customers.is_active).customer_id.to_pyarrow().to_pylist()
    assert inactive == ["C3"]
    assert backend.table("subscriptions").schema()["monthly_price"].is_floating()


@pytest.mark.notimpl(
    ["postgres"],
    reason="Ibis casts a boolean to BIGINT, which PostgreSQL refuses (boolean casts only to "
    "integer); write ibis.ifelse(flag, 1, 0) instead",
)
def test_boolean_cast_to_integer(backend: Backend) -> None:
    customers = backend.table("customers")

    active = customers.aggregate(active=customers.is_active.cast("int64").sum())

    assert rows(active) == [{"active": 5}]


def test_append_through_each_backend(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from revintel.app.ingest import load_paths

    folder = tmp_path_factory.mktemp(f"append-{backend.name}")
    (folder / "payments.csv").write_text(
        "payment_id,customer_id,payment_date,amount,payment_status\n"
        "P10,C4,2024-03-02,2500,Success\n"  # already loaded: the upsert replaces the same row
    )

    load_paths(backend.ctx, [folder], mode="append")

    assert backend.ctx.warehouse.row_counts()["payments"] == 10
    test_revenue_by_month_and_segment(backend)
