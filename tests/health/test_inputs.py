"""The pillar inputs as Ibis expressions, on DuckDB, with hand-made tables."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import polars as pl
import pytest

from revintel.health.pillars import (
    engagement_inputs,
    month_number,
    sentiment_inputs,
    support_inputs,
)

MAY, JUNE = month_number("2024-05"), month_number("2024-06")


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def _run(con: ibis.BaseBackend, expr: ibis.Table) -> pl.DataFrame:
    return pl.from_arrow(con.to_pyarrow(expr)).sort(["account_id", "month_idx"])


def test_engagement_inputs_average_the_three_months_before(con) -> None:
    usage = ibis.memtable(
        {
            "account_id": ["A"] * 5 + ["B"],
            "month": ["2024-01", "2024-02", "2024-04", "2024-05", "2024-06", "2024-06"],
            "active_users": [1, 1, 1, 1, 1, 1],
            "licensed_seats": [2] * 6,
            "logins": [31, 29, 30, 62, 30, 60],
            "key_feature_adoption": [0.5] * 6,
        }
    )
    out = _run(con, engagement_inputs(usage, MAY, JUNE))
    rows = {(r["account_id"], r["month_idx"]): r for r in out.iter_rows(named=True)}
    may = rows[("A", MAY)]
    # M-3..M-1 of May = Feb (29/29 days = 1), Mar (none), Apr (30/30 = 1)
    assert may["logins_per_day"] == pytest.approx(2.0)
    assert may["prior_logins_per_day"] == pytest.approx(1.0)
    assert may["prior_months"] == 2
    june = rows[("A", JUNE)]  # Mar (none), Apr 1, May 2
    assert june["prior_logins_per_day"] == pytest.approx(1.5)
    assert rows[("B", JUNE)]["prior_logins_per_day"] is None
    assert ("B", MAY) not in rows


def test_sentiment_inputs_take_the_latest_answer_as_of_each_month(con) -> None:
    nps = ibis.memtable(
        {
            "response_id": ["r1", "r2", "r3", "r4"],
            "account_id": ["A", "A", "A", "B"],
            "response_date": [
                date(2024, 3, 2), date(2024, 6, 1), date(2024, 6, 20), date(2024, 7, 1)
            ],
            "score": [9, 4, 6, 10],
        }
    )  # fmt: skip
    out = _run(con, sentiment_inputs(nps, MAY, JUNE))
    columns = ("account_id", "month_idx", "nps_score", "nps_previous", "nps_responses")
    assert out.select(columns).rows() == [
        ("A", MAY, 9, None, 1),
        ("A", JUNE, 6, 4, 3),  # the last answer in June; B answers only in July
    ]  # fmt: skip


def test_support_inputs_window_severity_and_aged_tickets(con) -> None:
    tickets = ibis.memtable(
        {
            "ticket_id": ["t1", "t2", "t3", "t4", "t5"],
            "account_id": ["A", "A", "A", "A", "B"],
            "opened_at": [
                datetime(2024, 4, 1, 0, 0),  # in June's 90 days (from Apr 2)? no: Apr 1 is out
                datetime(2024, 4, 2, 0, 0),  # exactly 90 days before July 1: in
                datetime(2024, 6, 17, 0, 0),  # open, 13.x days at June's end: not aged
                datetime(2024, 6, 16, 23, 0),  # open 14 days + 1 h: aged
                datetime(2024, 1, 1, 0, 0),  # still open: aged, outside the window
            ],
            "closed_at": [None, datetime(2024, 4, 3), None, None, None],
            "severity": ["low", "urgent", "high", "medium", "low"],
        }
    )
    out = _run(con, support_inputs(tickets, JUNE, JUNE))
    rows = {r["account_id"]: r for r in out.iter_rows(named=True)}
    a = rows["A"]
    assert (a["tickets"], a["tickets_urgent"], a["tickets_high"], a["tickets_medium"]) == (
        3,
        1,
        1,
        1,
    )
    assert a["tickets_low"] == 0
    assert a["aged_open_tickets"] == 2  # t1 (open since April) and t4
    b = rows["B"]
    assert (b["tickets"], b["aged_open_tickets"]) == (0, 1)
