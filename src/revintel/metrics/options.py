"""Options every metric shares: breakdown dimensions, filters, and the user error they raise.

See ``docs/metrics.md`` (Breakdowns and filters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import pyarrow as pa

from revintel.core.errors import InvalidOption
from revintel.core.text import control_character
from revintel.core.vocabulary import CUSTOMER_DIMENSIONS as CUSTOMER_DIMENSIONS
from revintel.core.vocabulary import DIMENSION_OPTIONS
from revintel.core.vocabulary import DIMENSIONS as DIMENSIONS
from revintel.core.vocabulary import Dimension as Dimension

PLAN_COLUMN = "plan_type"
"""``plan`` is a property of a subscription (and of a trial), not of a customer."""

UNKNOWN = "(unknown)"
"""Breakdown value of a row whose dimension is blank (or whose customer is missing)."""

Filters = Mapping[Dimension, Sequence[str]]
"""Keep rows whose dimension value is one of the listed values: ``{"segment": ["SMB"]}``."""


InvalidMetricOption = InvalidOption
"""A metric option (month, breakdown, filter, setting) is not valid: the core kind itself."""


class InvalidFilterValue(InvalidMetricOption):
    """A filter value holds a NUL or another control character (no dimension value can)."""


def check_filter_values(parameter: str, values: Sequence[str]) -> list[str]:
    """``values`` as text, refused when one holds a control character (NUL, tab, newline...).

    ``parameter`` is the name the caller knows the filter by (``channel``, ``--segment``); the
    message names it, the value's position among the values given and the character.
    """
    checked = [str(v) for v in values]
    for position, value in enumerate(checked, start=1):
        found = control_character(value)
        if found is not None:
            raise InvalidFilterValue(
                f"Filter '{parameter}' value {position} ({value!r}) contains the control "
                f"character {found}; expected text without control characters"
            )
    return checked


class UnknownFilterValue(InvalidMetricOption):
    """A filter value that no row of the data holds, not even in another case."""


SHOWN_VALUES = 25
"""How many of a dimension's values an error lists (a country filter may have a hundred)."""

_OPTION_NAMES = {dimension: option for option, dimension in DIMENSION_OPTIONS.items()}


def _listed(values: Sequence[str]) -> str:
    shown = ", ".join(repr(v) for v in values[:SHOWN_VALUES])
    more = len(values) - SHOWN_VALUES
    return shown + (f" and {more} more" if more > 0 else "")


def match_filter_values(dimension: str, values: Sequence[str], known: Sequence[str]) -> list[str]:
    """Each of ``values`` as the data spells it: ``known`` holds every value of ``dimension``.

    A value the data holds is kept as it is; otherwise a value that equals exactly one known
    value when case and surrounding spaces are ignored (``smb`` for ``SMB``) becomes that value.
    A value that matches none, or several that differ only in case, is refused: the message names
    the filter by its option name (``channel`` for ``acquisition_channel``) and lists the
    values that exist. :data:`UNKNOWN` (blank values, customers missing) is always known.
    """
    present = {*known, UNKNOWN}
    by_folded: dict[str, list[str]] = {}
    for value in sorted(present):
        by_folded.setdefault(value.strip().casefold(), []).append(value)
    name = _OPTION_NAMES.get(dimension, dimension)  # type: ignore[call-overload]
    matched: list[str] = []
    for value in values:
        if value in present:
            matched.append(value)
            continue
        candidates = by_folded.get(value.strip().casefold(), [])
        if len(candidates) == 1:
            matched.append(candidates[0])
            continue
        existing = sorted(v for v in present if v != UNKNOWN)
        if candidates:
            raise UnknownFilterValue(
                f"Filter '{name}' value {value!r} matches {_listed(candidates)}, which differ "
                "only in case; give one of them exactly"
            )
        raise UnknownFilterValue(
            f"Filter '{name}' value {value!r} matches no {name} in the data; expected one of: "
            f"{_listed(existing) if existing else '(none: the data holds no ' + name + ')'}"
        )
    return list(dict.fromkeys(matched))


def check_dimension(by: str | None) -> Dimension | None:
    """Return ``by`` if it is a known dimension (or None); raise otherwise."""
    if by is None:
        return None
    if by not in DIMENSIONS:
        raise InvalidMetricOption(
            f"Breakdown 'by' = {by!r} is not supported; expected one of: {', '.join(DIMENSIONS)}"
        )
    return by  # type: ignore[return-value]


def check_filters(filters: Mapping[str, Sequence[str]] | None) -> dict[Dimension, list[str]]:
    """Validate filters: known dimensions, each with a non-empty list of text values."""
    checked: dict[Dimension, list[str]] = {}
    for name, values in (filters or {}).items():
        dim = check_dimension(name)
        if isinstance(values, str):
            values = [values]
        listed = check_filter_values(name, values)
        if not listed:
            raise InvalidMetricOption(f"Filter '{name}': expected at least one value, got none")
        checked[dim] = listed  # type: ignore[index]
    return checked


def dimension_columns(table: ibis.Table) -> list[str]:
    """The breakdown column a metric table carries (none, or one dimension name)."""
    return [c for c in DIMENSIONS if c in table.columns]


def dimension_value(column: ibis.Value) -> ibis.Value:
    """A dimension as non-null text, so breakdown rows join and group on every backend."""
    return column.cast("string").fill_null(UNKNOWN)


def wanted_values(values: Sequence[str]) -> ibis.Column:
    """A filter's values as a column of an in-memory table, for ``column.isin(...)``.

    The values reach the database as data (an Arrow table on DuckDB and Spark, rows inserted
    with bound parameters on PostgreSQL), never as literals in the query's text: a value with a
    quote, a backslash or anything else matches exactly the rows that hold it.
    """
    table = pa.table({"value": pa.array([str(v) for v in values], type=pa.string())})
    return ibis.memtable(table)["value"]


def require_columns(table: ibis.Table, columns: Sequence[str], what: str) -> None:
    """Raise :class:`InvalidMetricOption` naming the table and the missing columns."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InvalidMetricOption(f"{what} needs column(s) {', '.join(missing)}, which are missing")


def with_dimension(
    table: ibis.Table,
    customers: ibis.Table | None,
    *,
    by: Dimension | None,
    filters: Mapping[Dimension, Sequence[str]],
    plan_column: str = PLAN_COLUMN,
    what: str = "subscriptions",
) -> ibis.Table:
    """``table`` (which has ``customer_id``) filtered by ``filters`` and carrying the ``by`` column.

    Customer dimensions come from ``customers``; ``plan`` comes from ``table[plan_column]``. A row
    whose customer is missing from ``customers``, or whose value is blank, gets
    :data:`UNKNOWN`, which a filter may name too.
    """
    if (by == "plan" or "plan" in filters) and plan_column not in table.columns:
        raise InvalidMetricOption(f"Breaking down or filtering by plan needs {what}.{plan_column}")
    rows = table
    if "plan" in filters:
        rows = rows.filter(dimension_value(rows[plan_column]).isin(wanted_values(filters["plan"])))
    if by == "plan":
        rows = rows.mutate(plan=dimension_value(rows[plan_column]))
    customer_dims = [d for d in CUSTOMER_DIMENSIONS if d == by or d in filters]
    if not customer_dims:
        return rows
    if customers is None:
        raise InvalidMetricOption(
            f"Breaking down or filtering by {', '.join(customer_dims)} needs the customers table"
        )
    require_columns(customers, customer_dims, "customers")
    dims = customers.select(
        _customer_key=customers.customer_id,
        **{f"_dim_{d}": dimension_value(customers[d]) for d in customer_dims},
    )
    joined = rows.left_join(dims, rows.customer_id == dims._customer_key)
    joined = joined.mutate(
        **{f"_dim_{d}": dimension_value(joined[f"_dim_{d}"]) for d in customer_dims}
    )
    for d, values in filters.items():
        if d in customer_dims:
            joined = joined.filter(joined[f"_dim_{d}"].isin(wanted_values(values)))
    if by in customer_dims:
        joined = joined.mutate(**{by: joined[f"_dim_{by}"]})
    return joined.select(*table.columns, *([by] if by is not None else []))
