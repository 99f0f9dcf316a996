"""What a metric is asked for (:class:`MetricQuery`), and the months it covers (:func:`period`).

Months are ``"YYYY-MM"``. Each metric is computed over the data's whole period (every month from
the first to the last complete one, :func:`full_period`) and then cut to ``start``..``end``
(:func:`slice_rows`): a month's value never depends on the range asked for.
"""

from __future__ import annotations

__all__ = [
    "MetricQuery",
    "Row",
    "Value",
    "delinquency_days",
    "dimension_values",
    "full_period",
    "optional_table",
    "period",
    "resolve_filters",
    "slice_rows",
    "warehouse_of",
]

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from revintel.core.calendar import Period, data_period, resolve_period
from revintel.metrics.options import (
    CUSTOMER_DIMENSIONS,
    PLAN_COLUMN,
    Dimension,
    Filters,
    InvalidMetricOption,
    check_dimension,
    check_filters,
    dimension_value,
    match_filter_values,
)
from revintel.metrics.service.scope import remember, service

if TYPE_CHECKING:
    import ibis

    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

Value = str | int | float | bool | date | None
"""A cell of a metric row: ``None`` where a value is undefined, next to its ``*_reason``."""

Row = dict[str, Value]
"""One row of a metric: ``month`` (or ``cohort``), the breakdown column, the metric columns."""


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """The options every metric shares.

    ``start``, ``end``
        First and last month (``"YYYY-MM"``); default and bounds: the data's first month and
        last complete month (see :func:`period`).
    ``as_of``
        The date the data is as of (``date`` or ``"YYYY-MM-DD"``); default: the latest date in
        the data. A month is complete when ``as_of`` is on or after its last day.
    ``by``, ``filters``
        Breakdown dimension and ``{dimension: [values]}`` filters.
    ``delinquency_days``
        Days past due after which an unpaid subscription leaves MRR; default: the
        ``delinquency_days`` setting, else 30. Used only when payments carry ``subscription_id``
        and ``due_date``.
    """

    start: str | None = None
    end: str | None = None
    as_of: date | str | None = None
    by: Dimension | None = None
    filters: Filters | None = None
    delinquency_days: int | None = None

    def but(self, **changes: Any) -> MetricQuery:
        """This query with some options changed."""
        return replace(self, **changes)

    def checked(
        self, wh: Warehouse | None = None
    ) -> tuple[Dimension | None, dict[Dimension, list[str]]]:
        """The breakdown and filters, validated (:mod:`revintel.metrics.options`).

        With the warehouse, each filter value is also matched to the values the data holds
        (:func:`resolve_filters`), so ``smb`` filters the ``SMB`` customers on every face and a
        value that matches nothing is an error that lists the values that exist.
        """
        by, filters = check_dimension(self.by), check_filters(self.filters)  # type: ignore[arg-type]
        return by, (filters if wh is None else resolve_filters(wh, filters))


def dimension_values(source: Runtime | Warehouse, dimension: Dimension) -> tuple[str, ...] | None:
    """Every value ``dimension`` has in the data, as text (None when the data has no such column
    or table: the metric then says what it needs). ``plan``: the plans of subscriptions and of
    trials. Kept for the data's version."""
    wh = warehouse_of(source)

    def compute() -> tuple[str, ...] | None:
        sources: list[tuple[str, str]]
        if dimension in CUSTOMER_DIMENSIONS:
            sources = [("customers", dimension)]
        else:
            sources = [("subscriptions", PLAN_COLUMN), ("trials", PLAN_COLUMN)]
        found: set[str] | None = None
        for name, column in sources:
            table = optional_table(wh, name)
            if table is None or column not in table.columns:
                continue
            distinct = table.select(value=dimension_value(table[column])).distinct()
            found = (found or set()) | {str(v) for v in distinct.to_pyarrow()["value"].to_pylist()}
        return None if found is None else tuple(sorted(found))

    return remember(wh, ("dimension values", dimension), compute)


def resolve_filters(
    wh: Warehouse, filters: Mapping[Dimension, Sequence[str]]
) -> dict[Dimension, list[str]]:
    """``filters`` with each value as the data spells it (:func:`~revintel.metrics.options.
    match_filter_values`); a dimension the data lacks is left to the metric to refuse."""
    resolved: dict[Dimension, list[str]] = {}
    for dimension, values in filters.items():
        known = dimension_values(wh, dimension)
        resolved[dimension] = (
            list(values) if known is None else match_filter_values(dimension, values, known)
        )
    return resolved


def warehouse_of(source: Runtime | Warehouse) -> Warehouse:
    return cast("Warehouse", getattr(source, "warehouse", source))  # a Runtime has .warehouse


def optional_table(wh: Warehouse, name: str) -> ibis.Table | None:
    return wh.table(name) if wh.has_table(name) else None


def _as_date(value: date | str | None, field: str = "as_of") -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise InvalidMetricOption(f"{field} = {value!r}: expected a date YYYY-MM-DD") from exc


def _data_bounds(wh: Warehouse) -> tuple[date, date]:
    def compute() -> tuple[date, date]:
        bounds = data_period(
            wh.table("subscriptions"),
            optional_table(wh, "payments"),
            optional_table(wh, "trials"),
        ).to_pandas()
        first, latest = bounds["first_date"].iloc[0], bounds["as_of"].iloc[0]
        if pd.isna(first):
            raise InvalidMetricOption(
                "The subscriptions table is empty: there is no month to report"
            )
        return pd.Timestamp(first).date(), pd.Timestamp(latest).date()

    return remember(wh, ("bounds",), compute)


@service
def period(source: Runtime | Warehouse, query: MetricQuery = MetricQuery()) -> Period:
    """The months a report covers: ``start``..``end`` clamped to the data's complete months.

    The data's first month is that of its earliest subscription start or payment; its as-of
    date (unless given) the latest subscription start, payment or trial start.
    """
    wh = warehouse_of(source)
    first, latest = _data_bounds(wh)
    return resolve_period(first, _as_date(query.as_of) or latest, start=query.start, end=query.end)


def full_period(p: Period, wh: Warehouse) -> Period:
    """The whole data period ending where ``p`` ends (what metrics are computed over)."""
    first, _ = _data_bounds(wh)
    return resolve_period(first, p.as_of)


def slice_rows(rows: Sequence[Mapping[str, Any]], p: Period, column: str = "month") -> list[Row]:
    """Copies of the rows whose ``column`` falls in ``p``."""
    lo, hi = p.from_month, p.to_month
    return [dict(r) for r in rows if lo <= r[column] <= hi]


def delinquency_days(wh: Warehouse, days: int | None) -> int:
    """The failed-payment rule's days: ``days``, else the warehouse's setting."""
    if days is None:
        days = wh.settings.delinquency_days
    if days < 0:
        raise InvalidMetricOption(f"delinquency_days = {days}: expected 0 or more days")
    return days
