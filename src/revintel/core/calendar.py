"""The month grain: month numbers, month labels, the month spine and the data's period.

Every metric works on calendar months (UTC). Inside expressions a month is an integer *month
number* ``year * 12 + month - 1`` so month arithmetic (``M - 1``, ``M - 12``) is integer arithmetic
on every backend; results carry the label ``"YYYY-MM"``. See ``docs/metrics.md`` (Time grain).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from revintel.core.errors import InvalidOption, OutsideTheData

if TYPE_CHECKING:  # imported where an expression is built: the pattern and labels need no Ibis
    import ibis


class MonthsOutsideTheData(OutsideTheData):
    """Well-formed months that the data does not reach: the data, not the request, lacks them."""


MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
"""A month ``YYYY-MM``, everywhere one is read: options, API parameters, month columns of files.
ASCII digits only, so a JSON Schema (the API's spec) and Python allow exactly the same text."""
MONTH_RE = re.compile(MONTH_PATTERN)
OPEN_END = 10_000_000
"""Month number standing for "never" (an open-ended interval); far beyond any real month."""


def parsed_month(label: str) -> int | None:
    """The month number of a ``"YYYY-MM"`` label (surrounding spaces ignored); None if malformed."""
    text = str(label).strip()
    if MONTH_RE.match(text) is None:
        return None
    return int(text[:4]) * 12 + int(text[5:7]) - 1


def month_number(label: str, field: str = "month") -> int:
    """The month number of a ``"YYYY-MM"`` label; :class:`InvalidOption` if malformed."""
    number = parsed_month(label)
    if number is None:
        raise InvalidOption(f"{field} = {label!r}: expected a month YYYY-MM, e.g. 2024-03")
    return number


def month_label(number: int) -> str:
    """The ``"YYYY-MM"`` label of a month number."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def month_last_day(number: int) -> date:
    year, month = number // 12, number % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def date_month_number(value: date) -> int:
    return value.year * 12 + value.month - 1


def last_complete_month(as_of: date) -> int:
    """The latest month whose last day is on or before ``as_of`` (a month is complete then)."""
    number = date_month_number(as_of)
    return number if as_of == month_last_day(number) else number - 1


def check_range(from_month: str, to_month: str) -> tuple[int, int]:
    """Month numbers of a ``from_month``..``to_month`` range; raise if empty or malformed."""
    lo, hi = month_number(from_month, "from_month"), month_number(to_month, "to_month")
    if lo > hi:
        raise InvalidOption(
            f"from_month {from_month} is after to_month {to_month}; expected from_month <= to_month"
        )
    return lo, hi


# -- expressions ----------------------------------------------------------------------------------
def month_of(day: ibis.Value) -> ibis.Value:
    """Month number of a date expression (null stays null)."""
    return (day.year() * 12 + day.month() - 1).cast("int64")


def month_of_text(label: ibis.Value) -> ibis.Value:
    """Month number of a ``"YYYY-MM"`` text expression (such as ``usage.month``)."""
    year = label.substr(0, 4).cast("int64")
    month = label.substr(5, 2).cast("int64")
    return (year * 12 + month - 1).cast("int64")


def month_after_day(day: ibis.Value) -> ibis.Value:
    """Month number of the first month-end *not* on or before ``day`` (``month_of(day + 1)``).

    A rule "X holds while ``day`` >= end of M" holds exactly for months M < this number.
    """
    import ibis

    return month_of(day + ibis.interval(days=1))


def month_text(number: ibis.Value) -> ibis.Value:
    """``"YYYY-MM"`` label of a month-number expression."""
    year = (number // 12).cast("int64").cast("string")
    month = ((number % 12) + 1).cast("int64").cast("string").lpad(2, "0")
    return year + "-" + month


def month_spine(from_month: str, to_month: str) -> ibis.Table:
    """One row per month from ``from_month`` to ``to_month`` inclusive.

    Columns: ``month_idx`` (month number), ``month`` (``"YYYY-MM"``), ``month_end`` (last day).
    A small in-memory table, so it runs on any backend.
    """
    lo, hi = check_range(from_month, to_month)
    return number_spine(lo, hi)


def number_spine(lo: int, hi: int) -> ibis.Table:
    """:func:`month_spine` from month numbers (``lo`` > ``hi`` gives no rows)."""
    import ibis

    numbers = list(range(lo, hi + 1))
    return ibis.memtable(
        {
            "month_idx": numbers,
            "month": [month_label(n) for n in numbers],
            "month_end": [month_last_day(n) for n in numbers],
        },
        schema={"month_idx": "int64", "month": "string", "month_end": "date"},
    )


def integer_spine(name: str, lo: int, hi: int) -> ibis.Table:
    """A one-column table of the integers ``lo``..``hi`` (for ages, offsets)."""
    import ibis

    return ibis.memtable({name: list(range(lo, hi + 1))}, schema={name: "int64"})


# -- the data's period ----------------------------------------------------------------------------
def data_period(
    subscriptions: ibis.Table,
    payments: ibis.Table | None = None,
    trials: ibis.Table | None = None,
) -> ibis.Table:
    """One row: ``first_date`` (earliest subscription start or payment) and ``as_of``.

    ``as_of`` is the latest date on which something happened in the data: a subscription start,
    a payment or a trial start. Cancellation, discount-end and due dates are left out because
    they may be scheduled in the future. See ``docs/metrics.md`` (As-of date).
    """
    import ibis

    # Each table's extremes (one cheap aggregate per table, rather than a union of all their
    # rows), then the extremes of those; LEAST and GREATEST skip nulls, as MIN and MAX do.
    starts = subscriptions.start_date.cast("date")
    bounds = subscriptions.aggregate(_first_0=starts.min(), _last_0=starts.max())
    if payments is not None:
        paid = payments.payment_date.cast("date")
        bounds = bounds.cross_join(payments.aggregate(_first_1=paid.min(), _last_1=paid.max()))
    if trials is not None:
        bounds = bounds.cross_join(trials.aggregate(_last_2=trials.trial_start.cast("date").max()))
    firsts = [bounds[c] for c in bounds.columns if c.startswith("_first_")]
    lasts = [bounds[c] for c in bounds.columns if c.startswith("_last_")]
    return bounds.select(
        first_date=ibis.least(*firsts) if len(firsts) > 1 else firsts[0],
        as_of=ibis.greatest(*lasts) if len(lasts) > 1 else lasts[0],
    )


@dataclass(frozen=True)
class Period:
    """The months a report covers and the date it is as of.

    ``first`` and ``last`` are month numbers; ``last`` is at most the last complete month.
    """

    first: int
    last: int
    as_of: date

    @property
    def from_month(self) -> str:
        return month_label(self.first)

    @property
    def to_month(self) -> str:
        return month_label(self.last)


def resolve_period(
    first_date: date,
    as_of: date,
    *,
    start: str | None = None,
    end: str | None = None,
) -> Period:
    """Clamp ``start``..``end`` to the data: its first month to its last complete month.

    Raise :class:`MonthsOutsideTheData` when nothing is left because the range is outside the
    data or no month is complete yet, :class:`InvalidOption` when ``start`` is after ``end``.
    """
    data_first = date_month_number(first_date)
    data_last = last_complete_month(as_of)
    start_number = None if start is None else month_number(start, "start")
    end_number = None if end is None else month_number(end, "end")
    lo = data_first if start_number is None else max(start_number, data_first)
    hi = data_last if end_number is None else min(end_number, data_last)
    if data_last < data_first:
        raise MonthsOutsideTheData(
            f"No complete month in the data yet: it runs from {first_date} to {as_of}; a month "
            "counts once the as-of date reaches its last day"
        )
    if lo > hi:
        reversed_range = (
            start_number is not None and end_number is not None and start_number > end_number
        )
        raise (InvalidOption if reversed_range else MonthsOutsideTheData)(
            f"The requested months {start or month_label(data_first)}.."
            f"{end or month_label(data_last)} "
            f"are outside the data's complete months {month_label(data_first)}.."
            f"{month_label(data_last)} (as of {as_of})"
        )
    return Period(lo, hi, as_of)
