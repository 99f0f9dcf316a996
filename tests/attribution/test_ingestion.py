"""Tracking events to contract rows (attribution/ingestion.py): the forms of a body, the fields of
each event, event-type mapping, times in UTC, currency conversion, and problems by index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from revintel.app.context import AppContext
from revintel.attribution.ingestion import (
    EVENT_TYPES,
    InvalidEvents,
    conversion_rows,
    events_of,
    touchpoint_rows,
)
from revintel.data.schema import CONTRACTS, CONVERSION_TYPES

NOW = datetime(2026, 1, 1)
CUSTOMERS = {"C1", "C2"}


def _ids(i: int) -> str:
    return f"gen-{i}"


def _touches(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return touchpoint_rows(events, id_for=_ids, customers=CUSTOMERS, now=NOW).rows


def _conversions(
    events: list[dict[str, Any]], rates: dict[tuple[str, str], float] | None = None
) -> list[dict[str, Any]]:
    checked = conversion_rows(
        events,
        id_for=_ids,
        customers=CUSTOMERS,
        reporting_currency="USD",
        rates=rates or {},
        now=NOW,
    )
    return checked.rows


def _problems(exc: pytest.ExceptionInfo[InvalidEvents]) -> dict[str, str]:
    return {p.file: p.message for p in exc.value.problems}


def test_a_body_is_one_event_a_list_or_an_events_object() -> None:
    event = {"channel": "Email"}
    assert events_of(event, 10) == [event]
    assert events_of([event, event], 10) == [event, event]
    assert events_of({"events": [event]}, 10) == [event]
    with pytest.raises(InvalidEvents, match="at most 2"):
        events_of([event] * 3, 2)
    with pytest.raises(InvalidEvents) as empty:
        events_of([], 10)
    assert _problems(empty) == {"events": "no events"}
    with pytest.raises(InvalidEvents) as scalar:
        events_of([event, 5], 10)
    assert _problems(scalar) == {"events[1]": "not an object"}


def test_touches_become_rows_with_every_contract_column() -> None:
    rows = _touches(
        [
            {
                "customer_id": "C1",
                "visitor_id": "v1",
                "channel": " Paid Search ",
                "source": "google",
                "medium": "cpc",
                "campaign_id": "spring",
                "touchpoint_type": "paid_search",
                "timestamp": "2025-06-01T12:00:00+02:00",
                "event_id": "e1",
            },
            {"customer_id": "C2", "channel": "Email", "timestamp": "2025-06-02"},
        ]
    )
    assert set(rows[0]) == set(CONTRACTS["touchpoints"].column_names)
    assert rows[0] == {
        "touchpoint_id": "e1",
        "journey_id": "v1",
        "customer_id": "C1",
        "touched_at": "2025-06-01T10:00:00.000000",
        "channel": "Paid Search",
        "source": "google",
        "medium": "cpc",
        "campaign": "spring",
        "touchpoint_type": "paid_search",
    }
    assert rows[1]["touchpoint_id"] == "gen-1"
    assert (rows[1]["journey_id"], rows[1]["touched_at"]) == (None, "2025-06-02T00:00:00.000000")


def test_every_problem_names_the_event_index_and_field() -> None:
    with pytest.raises(InvalidEvents) as bad:
        _touches(
            [
                {"customer_id": "C1", "channel": "Email", "timestamp": "2025-01-01"},
                {"channel": "Email", "timestamp": "2025-01-01"},
                {"customer_id": "C9", "channel": "", "timestamp": "yesterday", "colour": "red"},
                {"visitor_id": "v", "lead_id": "l", "channel": "x", "timestamp": "2027-01-01"},
                {"visitor_id": "v", "channel": "x", "timestamp": "2025-01-01", "event_id": 5},
            ]
        )
    assert _problems(bad) == {
        "events[1].customer_id": "no one to attribute the event to",
        "events[2].customer_id": "not a loaded customer",
        "events[2].channel": "blank",
        "events[2].timestamp": "not a date-time",
        "events[2].colour": "unknown field",
        "events[3].lead_id": "both visitor_id and lead_id given",
        "events[3].timestamp": "outside the plausible range",
        "events[4].event_id": "not a usable id",
    }
    assert "Invalid events: 8 problem(s)" in str(bad.value)


def test_an_event_id_repeated_in_a_batch_is_refused() -> None:
    event = {"visitor_id": "v", "channel": "x", "timestamp": "2025-01-01", "event_id": "same"}
    with pytest.raises(InvalidEvents) as repeated:
        _touches([event, event])
    assert _problems(repeated) == {"events[1].event_id": "repeats events[0].event_id in this batch"}


@pytest.mark.parametrize(("event_type", "conversion_type"), sorted(EVENT_TYPES.items()))
def test_event_types_map_to_conversion_types(event_type: str, conversion_type: str) -> None:
    rows = _conversions(
        [{"customer_id": "C1", "event_type": event_type, "timestamp": "2025-01-01"}]
    )
    assert rows[0]["conversion_type"] == conversion_type
    assert conversion_type in CONVERSION_TYPES


def test_values_are_converted_by_the_rate_of_the_events_month() -> None:
    rates = {("2025-02", "EUR"): 1.2, ("2025-03", "EUR"): 1.0}
    rows = _conversions(
        [
            {
                "visitor_id": "v",
                "event_type": "subscription_started",
                "revenue_amount": 50,
                "currency": "eur",
                "timestamp": "2025-02-28T23:30:00-01:00",  # 2025-03-01 00:30 UTC
            },
            {
                "visitor_id": "v",
                "event_type": "subscription_started",
                "revenue_amount": 10,
                "currency": "EUR",
                "timestamp": "2025-02-10T00:00:00Z",
            },
            {"visitor_id": "v", "event_type": "signed_up", "timestamp": "2025-02-10"},
        ],
        rates,
    )
    assert [r["value"] for r in rows] == [pytest.approx(50.0), pytest.approx(12.0), 0.0]
    assert [r["currency"] for r in rows] == ["EUR", "EUR", "USD"]
    assert [r["original_value"] for r in rows] == [50.0, 10.0, 0.0]
    assert set(rows[0]) == set(CONTRACTS["conversions"].column_names)


def test_a_missing_rate_an_unknown_type_and_bad_amounts_are_refused() -> None:
    base = {"visitor_id": "v", "timestamp": "2025-05-01T00:00:00Z"}
    with pytest.raises(InvalidEvents) as bad:
        _conversions(
            [
                {
                    **base,
                    "event_type": "subscription_started",
                    "revenue_amount": 9,
                    "currency": "GBP",
                },
                {**base, "event_type": "renewed"},
                {**base, "event_type": "signup", "revenue_amount": -1, "currency": "USD"},
                {**base, "event_type": "signup", "revenue_amount": "9", "currency": "USD"},
                {**base, "event_type": "signup", "revenue_amount": 5},
                {**base, "event_type": "signup", "revenue_amount": 5, "currency": "dollars"},
            ],
            {("2025-04", "GBP"): 1.3},
        )
    problems = {p.file: p for p in bad.value.problems}
    assert problems["events[0].currency"].message == "no exchange rate for GBP in 2025-05"
    assert "fx_rates" in (problems["events[0].currency"].expected or "")
    assert problems["events[1].event_type"].message == "unknown event type"
    assert problems["events[2].revenue_amount"].message == "out of range"
    assert problems["events[3].revenue_amount"].message == "not a number"
    assert problems["events[4].currency"].message == "missing (the amount is not 0)"
    assert problems["events[5].currency"].message == "not a currency code"


# -- the service: journal, then the warehouse ------------------------------------------------------


def test_an_append_repeated_after_a_crash_stores_each_event_once(
    loaded_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from revintel.attribution.service import ingestion as service
    from revintel.store.event_journal import EventJournal

    body = [
        {"customer_id": "C001", "channel": "Email", "timestamp": "2025-01-01"},
        {"visitor_id": "v", "channel": "Social", "timestamp": "2025-01-02", "event_id": "x"},
    ]
    receipt = service.ingest(loaded_context, "touchpoints", body).receipt
    journal = EventJournal(loaded_context.settings.home)
    # The process dies after the warehouse commit, before the journal marks the events flushed.
    monkeypatch.setattr(journal, "mark_flushed", lambda _seq: None)
    assert service.flush(loaded_context, journal, limit=100) is not None
    monkeypatch.undo()
    done = service.flush_all(loaded_context, journal, limit=100)  # the restart's recovery
    journal.close()

    assert [step.events for step in done] == [2]
    loaded_context.refresh()
    table = loaded_context.warehouse.table("touchpoints").select("touchpoint_id")
    ids = loaded_context.warehouse.to_arrow(table).column(0).to_pylist()  # type: ignore[union-attr]
    assert sorted(ids) == sorted(receipt["ids"])
    assert loaded_context.warehouse.row_counts()["customers"] == 5  # other tables untouched
