"""Tracking events checked and turned into ``touchpoints`` and ``conversions`` rows (pure).

A request body is one event (a JSON object), a list of events, or ``{"events": [...]}``. Every
event is checked on its own and every problem names the event's place in the batch and the field,
``events[3].channel``, with what was expected (a single event is ``events[0]``). A batch with any
problem is refused whole (:class:`InvalidEvents`). Fields and their columns are in
``docs/attribution.md``, Ingestion:

* touches: ``customer_id`` and/or ``visitor_id`` or ``lead_id`` (the journey), ``channel``,
  ``timestamp``, optional ``touchpoint_type``, ``source``, ``medium``, ``campaign_id``,
  ``event_id``;
* revenue events: the same people fields, ``event_type`` (:data:`EVENT_TYPES`), ``timestamp``,
  ``revenue_amount`` (≥ 0, default 0) and ``currency`` (ISO 4217; needed when the amount is not 0),
  optional ``event_id``. The value is converted to the reporting currency by the ``fx_rates`` rate
  of the event's month; a currency without a rate that month is refused, never guessed.

A ``customer_id`` must name a loaded customer (the contracts' foreign key); a person not yet a
customer is sent as ``visitor_id`` or ``lead_id``. Times with an offset are converted to UTC; a
time without one is taken as UTC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from revintel.core.errors import EditConflict, Problem, ValidationFailed

EventKind = Literal["touchpoints", "revenue-events"]

EVENT_TYPES: dict[str, str] = {
    "subscription_started": "paid",
    "trial_started": "trial",
    "signed_up": "signup",
    "signup": "signup",
}
"""A revenue event's ``event_type`` → the conversion type it is stored as."""

PEOPLE_FIELDS = ("customer_id", "visitor_id", "lead_id")
TOUCH_FIELDS = (
    *PEOPLE_FIELDS,
    "channel",
    "timestamp",
    "touchpoint_type",
    "source",
    "medium",
    "campaign_id",
    "event_id",
)
REVENUE_FIELDS = (
    *PEOPLE_FIELDS,
    "event_type",
    "timestamp",
    "revenue_amount",
    "currency",
    "event_id",
)
MAX_TEXT = 500
EARLIEST = datetime(1990, 1, 1)
FUTURE_SLACK = timedelta(days=1)
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
SHOWN_PROBLEMS = 50


class InvalidEvents(ValidationFailed):
    """Tracking events broke their rules; nothing of the request was stored."""

    def report(self) -> str:
        lines = [f"Invalid events: {self.total} problem(s) found; nothing was stored."]
        lines += [f"  - {p}" for p in self.problems]
        if self.total > len(self.problems):
            lines.append(f"  … and {self.total - len(self.problems)} more.")
        return "\n".join(lines)


class IdempotencyKeyReused(EditConflict):
    """An ``Idempotency-Key`` was sent again with a different body."""


def _problem(where: str, message: str, expected: str | None = None, got: Any = None) -> Problem:
    shown = None if got is None else (got if isinstance(got, str) else repr(got))[:120]
    return Problem(where, message, expected=expected, got=shown)


def _refuse(problems: Sequence[Problem]) -> InvalidEvents:
    return InvalidEvents(list(problems[:SHOWN_PROBLEMS]), len(problems))


def events_of(body: Any, max_batch: int) -> list[dict[str, Any]]:
    """The events of a request body: one object, a list, or ``{"events": [...]}``."""
    if isinstance(body, dict) and "events" in body:
        if set(body) != {"events"}:
            extra = ", ".join(sorted(set(body) - {"events"}))
            raise _refuse([_problem("body", f"unknown field(s) beside events: {extra}")])
        body = body["events"]
        if not isinstance(body, list):
            raise _refuse([_problem("events", "not a list", "a list of event objects", body)])
    events = body if isinstance(body, list) else [body]
    if not events:
        raise _refuse([_problem("events", "no events", "at least one event")])
    if len(events) > max_batch:
        raise _refuse(
            [
                _problem(
                    "events",
                    f"{len(events):,} events in one request",
                    f"at most {max_batch:,} (ingestion.max_batch); send several requests",
                )
            ]
        )
    problems = [
        _problem(f"events[{i}]", "not an object", "a JSON object of event fields", e)
        for i, e in enumerate(events)
        if not isinstance(e, dict)
    ]
    if problems:
        raise _refuse(problems)
    return events


@dataclass(frozen=True)
class Checked:
    """Rows made from a valid batch, in the batch's order, each with its event id."""

    table: str
    rows: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        key = "touchpoint_id" if self.table == "touchpoints" else "conversion_id"
        return [str(r[key]) for r in self.rows]


class _Event:
    """One event's fields, checked one by one; problems are collected, not raised."""

    def __init__(self, index: int, event: Mapping[str, Any], problems: list[Problem]) -> None:
        self.index = index
        self.event = event
        self.problems = problems

    def where(self, name: str) -> str:
        return f"events[{self.index}].{name}"

    def fail(self, name: str, message: str, expected: str | None = None, got: Any = None) -> None:
        self.problems.append(_problem(self.where(name), message, expected, got))

    def text(self, name: str, what: str, *, required: bool = False) -> str | None:
        value = self.event.get(name)
        if value is None:
            if required:
                self.fail(name, "missing", what)
            return None
        if not isinstance(value, str):
            self.fail(name, "not text", what, value)
            return None
        value = value.strip()
        if not value:
            if required:
                self.fail(name, "blank", what)
            return None
        if len(value) > MAX_TEXT:
            self.fail(name, f"{len(value)} characters", f"{what}, at most {MAX_TEXT} characters")
            return None
        return value

    def timestamp(self, now: datetime) -> datetime | None:
        raw = self.event.get("timestamp")
        expected = "an ISO 8601 date-time, such as 2026-03-01T14:30:00Z"
        if raw is None:
            self.fail("timestamp", "missing", expected)
            return None
        if not isinstance(raw, str):
            self.fail("timestamp", "not text", expected, raw)
            return None
        try:
            when = datetime.fromisoformat(raw.strip())
        except ValueError:
            self.fail("timestamp", "not a date-time", expected, raw)
            return None
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        if not EARLIEST <= when <= now + FUTURE_SLACK:
            self.fail(
                "timestamp",
                "outside the plausible range",
                f"a time from {EARLIEST:%Y-%m-%d} to a day after now (UTC)",
                raw,
            )
            return None
        return when

    def unknown_fields(self, allowed: Sequence[str]) -> None:
        for name in self.event:
            if name not in allowed:
                self.fail(str(name), "unknown field", "one of " + ", ".join(allowed))

    def journey(self, customers: Container[str] | None) -> tuple[str | None, str | None] | None:
        """(journey_id, customer_id), or None after a problem."""
        customer = self.text("customer_id", "a loaded customer's id")
        visitor = self.text("visitor_id", "a visitor id")
        lead = self.text("lead_id", "a lead id")
        if visitor is not None and lead is not None and visitor != lead:
            self.fail("lead_id", "both visitor_id and lead_id given", "one journey id, not two")
            return None
        journey = visitor or lead
        if customer is None and journey is None:
            if not any(self.where(f) == p.file for p in self.problems for f in PEOPLE_FIELDS):
                self.fail(
                    "customer_id",
                    "no one to attribute the event to",
                    "a customer_id, a visitor_id or a lead_id",
                )
            return None
        if customer is not None and (customers is None or customer not in customers):
            self.fail(
                "customer_id",
                "not a loaded customer",
                "the id of a row of customers; send a person not yet a customer as visitor_id "
                "or lead_id",
                customer,
            )
            return None
        return journey, customer


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="microseconds")


def _checked_ids(
    events: Sequence[Mapping[str, Any]], problems: list[Problem], id_for: Callable[[int], str]
) -> list[str]:
    ids: list[str] = []
    first: dict[str, int] = {}
    for i, event in enumerate(events):
        value = event.get("event_id")
        if value is None:
            ids.append(id_for(i))
            continue
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200:
            where = f"events[{i}].event_id"
            problems.append(_problem(where, "not a usable id", "text of 1-200 characters", value))
            ids.append("")
            continue
        value = value.strip()
        if value in first:
            problems.append(
                _problem(
                    f"events[{i}].event_id",
                    f"repeats events[{first[value]}].event_id in this batch",
                    "a different id per event",
                    value,
                )
            )
        first.setdefault(value, i)
        ids.append(value)
    return ids


def touchpoint_rows(
    events: Sequence[Mapping[str, Any]],
    *,
    id_for: Callable[[int], str],
    customers: Container[str] | None,
    now: datetime,
) -> Checked:
    """``touchpoints`` rows of the events; :class:`InvalidEvents` listing every problem."""
    problems: list[Problem] = []
    ids = _checked_ids(events, problems, id_for)
    rows: list[dict[str, Any]] = []
    for i, event in enumerate(events):
        e = _Event(i, event, problems)
        e.unknown_fields(TOUCH_FIELDS)
        people = e.journey(customers)
        channel = e.text("channel", "the marketing channel (Paid Search, Email, …)", required=True)
        when = e.timestamp(now)
        row = {
            "touchpoint_id": ids[i],
            "journey_id": people[0] if people else None,
            "customer_id": people[1] if people else None,
            "touched_at": _stamp(when) if when else None,
            "channel": channel,
            "source": e.text("source", "the utm_source as text"),
            "medium": e.text("medium", "the utm_medium as text"),
            "campaign": e.text("campaign_id", "the campaign id as text"),
            "touchpoint_type": e.text("touchpoint_type", "the kind of touch as text"),
        }
        rows.append(row)
    if problems:
        raise _refuse(problems)
    return Checked("touchpoints", rows)


def _amount(e: _Event) -> float | None:
    raw = e.event.get("revenue_amount", 0)
    expected = "a number ≥ 0"
    if raw is None:
        return 0.0
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        e.fail("revenue_amount", "not a number", expected, raw)
        return None
    amount = float(raw)
    if not math.isfinite(amount) or amount < 0:
        e.fail("revenue_amount", "out of range", expected, raw)
        return None
    return amount


def conversion_rows(
    events: Sequence[Mapping[str, Any]],
    *,
    id_for: Callable[[int], str],
    customers: Container[str] | None,
    reporting_currency: str,
    rates: Mapping[tuple[str, str], float],
    now: datetime,
) -> Checked:
    """``conversions`` rows of the events; :class:`InvalidEvents` listing every problem.

    ``rates`` maps (month ``YYYY-MM``, currency) to units of ``reporting_currency`` per unit.
    """
    problems: list[Problem] = []
    ids = _checked_ids(events, problems, id_for)
    rows: list[dict[str, Any]] = []
    types = ", ".join(EVENT_TYPES)
    for i, event in enumerate(events):
        e = _Event(i, event, problems)
        e.unknown_fields(REVENUE_FIELDS)
        people = e.journey(customers)
        kind = e.text("event_type", f"one of {types}", required=True)
        conversion_type = EVENT_TYPES.get(kind) if kind is not None else None
        if kind is not None and conversion_type is None:
            e.fail("event_type", "unknown event type", f"one of {types}", kind)
        when = e.timestamp(now)
        amount = _amount(e)
        currency = _currency(e, amount, reporting_currency)
        value = None
        if amount is not None and currency is not None and when is not None:
            value = _converted(e, amount, currency, when, reporting_currency, rates)
        rows.append(
            {
                "conversion_id": ids[i],
                "journey_id": people[0] if people else None,
                "customer_id": people[1] if people else None,
                "converted_at": _stamp(when) if when else None,
                "conversion_type": conversion_type,
                "value": value,
                "currency": currency,
                "original_value": amount,
            }
        )
    if problems:
        raise _refuse(problems)
    return Checked("conversions", rows)


def _currency(e: _Event, amount: float | None, reporting: str) -> str | None:
    raw = e.event.get("currency")
    expected = "an ISO 4217 currency code such as USD, EUR, GBP"
    if raw is None:
        if amount:
            e.fail("currency", "missing (the amount is not 0)", expected)
            return None
        return reporting
    if not isinstance(raw, str) or not _CURRENCY.match(raw.strip()):
        e.fail("currency", "not a currency code", expected, raw)
        return None
    return raw.strip().upper()


def _converted(
    e: _Event,
    amount: float,
    currency: str,
    when: datetime,
    reporting: str,
    rates: Mapping[tuple[str, str], float],
) -> float | None:
    if currency == reporting or amount == 0:
        return amount
    month = f"{when:%Y-%m}"
    rate = rates.get((month, currency))
    if rate is None:
        e.fail(
            "currency",
            f"no exchange rate for {currency} in {month}",
            f"a row of fx_rates for month {month} and currency {currency} (its rate in "
            f"{reporting}), or the amount in {reporting}",
            currency,
        )
        return None
    return amount * rate
