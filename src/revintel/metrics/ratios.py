"""Undefined values: a ratio whose denominator is zero is null *with a reason*, never infinity.

Every rate column ``x`` comes with ``x_reason``: null when ``x`` is defined, else the text saying
why it is not (``docs/metrics.md``, Undefined values).
"""

from __future__ import annotations

import ibis

MICROS = 1_000_000
"""Money is summed in integer millionths of the currency unit so movements add up exactly."""


def to_micros(amount: ibis.Value) -> ibis.Value:
    # round() before the cast: Spark truncates on a float -> int cast, DuckDB and PostgreSQL round.
    return (amount.cast("float64") * MICROS).round(0).cast("int64")


def from_micros(amount: ibis.Value) -> ibis.Value:
    return amount.cast("float64") / MICROS


def undefined_when(
    value: ibis.Value, *conditions: tuple[ibis.Value, str | ibis.Value]
) -> tuple[ibis.Value, ibis.Value]:
    """``(value or null, reason or null)``: null with the first matching reason.

    ``conditions`` are ``(when_undefined, reason)`` pairs tried in order; ``reason`` may be an
    expression (to pass on the reason an input was undefined).
    """
    cases = [(cond.fill_null(True), reason) for cond, reason in conditions]
    reason = ibis.cases(*cases, else_=ibis.null("string")).cast("string")
    defined = ibis.cases(*[(cond, ibis.null(value.type())) for cond, _ in cases], else_=value)
    return defined, reason


def ratio(
    numerator: ibis.Value,
    denominator: ibis.Value,
    zero_reason: str,
    *,
    missing: tuple[ibis.Value, str | ibis.Value] | None = None,
) -> tuple[ibis.Value, ibis.Value]:
    """``numerator / denominator`` and its reason column; null with ``zero_reason`` when it is 0.

    ``missing`` is an optional earlier ``(condition, reason)``, e.g. an input that is itself
    undefined. The division never sees a zero (PostgreSQL would raise).
    """
    value = numerator.cast("float64") / denominator.cast("float64").nullif(0.0)
    conditions: list[tuple[ibis.Value, str | ibis.Value]] = []
    if missing is not None:
        conditions.append(missing)
    conditions.append((denominator.isnull() | (denominator == 0), zero_reason))
    conditions.append((numerator.isnull(), "an input of the ratio is undefined"))
    return undefined_when(value, *conditions)
