"""The health engine's Ibis queries give DuckDB's answers on PostgreSQL and PySpark too.

Each test runs the same query on the reference (the health company on DuckDB, ``duckdb_health``)
and on every backend (``health_backend``), then compares the rows, order-insensitively. The pillar
inputs (:mod:`revintel.health.pillars`) are the Ibis part; ``health_inputs`` adds the population
(MRR > 0 per month, from ``revintel.metrics``) and the account attributes; ``score_month`` the
pure polars scoring on top. A few hand-checked values pin the reference itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import ibis
import polars as pl
import pytest

from revintel.health import service
from revintel.health.config import HealthConfig
from revintel.health.pillars import (
    engagement_inputs,
    month_number,
    sentiment_inputs,
    support_inputs,
)
from tests.backends.conftest import Backend

LO = month_number("2024-01")
HI = month_number("2024-03")


def _value(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, datetime):
        return v.replace(tzinfo=None)
    return v


def rows(data: ibis.Table | pl.DataFrame, keys: tuple[str, ...] = ("account_id", "month_idx")):
    """Plain, sorted Python rows (backends differ in integer widths and row order, not values)."""
    records = data.to_pyarrow().to_pylist() if isinstance(data, ibis.Table) else data.to_dicts()
    clean = [{k: _value(v) for k, v in r.items()} for r in records]
    return sorted(clean, key=lambda r: tuple(str(r[k]) for k in keys))


def by_key(records: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["account_id"], r["month_idx"]): r for r in records}


def test_health_tables_are_loaded(health_backend: Backend) -> None:
    counts = health_backend.ctx.warehouse.row_counts()

    assert {t: counts[t] for t in service.HEALTH_TABLES} == {
        "usage": 8,
        "nps_responses": 5,
        "support_tickets": 6,
        "accounts": 5,
    }


def test_coverage(health_backend: Backend, duckdb_health: Backend) -> None:
    got = service.coverage(health_backend.ctx)

    assert got == service.coverage(duckdb_health.ctx)
    assert got.months == ["2024-01", "2024-02", "2024-03"]
    assert got.missing == ()


def test_engagement_inputs(health_backend: Backend, duckdb_health: Backend) -> None:
    got = rows(engagement_inputs(health_backend.table("usage"), LO, HI))
    want = rows(engagement_inputs(duckdb_health.table("usage"), LO, HI))

    assert got == want
    reference = by_key(want)
    march = reference[("C1", HI)]
    assert march["logins_per_day"] == round(60 / 31, 9)
    assert march["prior_months"] == 2  # January and February
    assert march["prior_logins_per_day"] == round((100 / 31 + 120 / 29) / 2, 9)
    assert reference[("C2", HI)]["prior_months"] == 1  # no February row
    assert reference[("C4", month_number("2024-02"))]["prior_logins_per_day"] is None


def test_sentiment_inputs(health_backend: Backend, duckdb_health: Backend) -> None:
    got = rows(sentiment_inputs(health_backend.table("nps_responses"), LO, HI))
    want = rows(sentiment_inputs(duckdb_health.table("nps_responses"), LO, HI))

    assert got == want
    reference = by_key(want)
    # Two answers in February: the later one counts, the earlier one is its "previous".
    feb = reference[("C4", month_number("2024-02"))]
    assert (feb["nps_score"], feb["nps_previous"], feb["nps_responses"]) == (5, 3, 2)
    assert feb["nps_date"] == date(2024, 2, 25)
    assert reference[("C1", month_number("2024-02"))]["nps_score"] == 9  # still January's
    assert reference[("C1", HI)]["nps_previous"] == 9
    assert ("C2", LO) not in reference  # no answer yet


def test_support_inputs(health_backend: Backend, duckdb_health: Backend) -> None:
    got = rows(support_inputs(health_backend.table("support_tickets"), LO, HI))
    want = rows(support_inputs(duckdb_health.table("support_tickets"), LO, HI))

    assert got == want
    reference = by_key(want)
    c1 = reference[("C1", HI)]  # T1 (low, Jan 5) and T2 (high, Feb 10, still open)
    assert (c1["tickets"], c1["tickets_low"], c1["tickets_high"]) == (2, 1, 1)
    assert c1["aged_open_tickets"] == 1
    c4 = reference[("C4", HI)]  # T5 opened at 23:30 on the last day counts in March
    assert (c4["tickets"], c4["tickets_low"], c4["tickets_medium"]) == (2, 1, 1)
    assert c4["aged_open_tickets"] == 0  # T4 closed in February, T5 is not 14 days old
    assert reference[("C4", LO)]["aged_open_tickets"] == 1  # T4, open at January's end


def test_health_inputs(health_backend: Backend, duckdb_health: Backend) -> None:
    config = HealthConfig()

    got = service.health_inputs(health_backend.ctx, LO, HI, config)
    want = service.health_inputs(duckdb_health.ctx, LO, HI, config)

    assert got.columns == want.columns
    assert rows(got) == rows(want)
    scored = {(r["account_id"], r["month"]) for r in rows(want)}
    assert ("C4", "2024-02") in scored and ("C4", "2024-01") not in scored  # MRR > 0 only
    assert ("C6", "2024-03") not in scored  # never subscribed


def test_score_month(health_backend: Backend, duckdb_health: Backend) -> None:
    config = HealthConfig()

    got = service.score_month(health_backend.ctx, "2024-03", config).frame
    want = service.score_month(duckdb_health.ctx, "2024-03", config).frame

    keys = ("account_id", "month")
    columns = service.ACCOUNT_COLUMNS
    assert rows(got.select(columns), keys) == rows(want.select(columns), keys)
    assert set(want["account_id"]) == {"C1", "C2", "C4", "C5"}  # C3 churned, C6 never paid
    assert want["health_score"].null_count() == 0


@pytest.mark.parametrize("month", ["2024-02", "2024-03"])
def test_portfolio_summary(health_backend: Backend, duckdb_health: Backend, month: str) -> None:
    config = HealthConfig()

    got = service.portfolio_summary(service.score_month(health_backend.ctx, month, config))
    want = service.portfolio_summary(service.score_month(duckdb_health.ctx, month, config))

    got, want = got.to_dict(), want.to_dict()
    assert {k: _value(v) for k, v in got.items()} == {k: _value(v) for k, v in want.items()}
