"""Monthly series as the forecasting core takes them: consecutive calendar months and finite values.

Every public function in :mod:`revintel.forecast` accepts either a pandas ``Series`` indexed by
month (``PeriodIndex``, ``DatetimeIndex`` or ``'YYYY-MM'`` strings) or two sequences, values and
months. This module turns both into a float array and a ``PeriodIndex`` of monthly periods, and
refuses, with a message naming the month, anything the models cannot use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from revintel.core.errors import RevintelError

MIN_MONTHS = 4
"""Fewest months any forecast or anomaly detection accepts (three to fit, one to test)."""


class ForecastInputError(RevintelError):
    """A monthly series given to the forecasting core has a gap, a duplicate or a missing value."""


class NotEnoughHistoryError(RevintelError):
    """A monthly series is too short to fit and test any model."""


def as_monthly_series(
    values: pd.Series | Sequence[float] | np.ndarray,
    months: Sequence[Any] | pd.Index | None = None,
    *,
    series: str = "Value",
) -> tuple[np.ndarray, pd.PeriodIndex]:
    """Return ``(values, months)`` as a float array and a sorted, gap-free monthly ``PeriodIndex``.

    ``months`` may hold ``'YYYY-MM'`` strings, dates, timestamps or ``Period`` objects. When
    ``values`` is a pandas ``Series`` and ``months`` is omitted, the index is used. Pairs are sorted
    by month, so rows may arrive in any order.

    Raises ``ForecastInputError`` naming the offending month for an unparseable month, a
    duplicate, a gap in the calendar, or a missing or infinite value, and
    ``NotEnoughHistoryError`` when fewer than ``MIN_MONTHS`` months are given.
    """
    if months is None:
        if not isinstance(values, pd.Series):
            raise ForecastInputError(
                f"{series}: months are required unless values is a pandas Series indexed by month"
            )
        months = values.index
    raw_values = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    raw_months = list(months)
    if raw_values.ndim != 1 or len(raw_values) != len(raw_months):
        raise ForecastInputError(
            f"{series}: expected one value per month, got {raw_values.size} values "
            f"and {len(raw_months)} months"
        )
    periods = [_to_month(m, series) for m in raw_months]
    order = sorted(range(len(periods)), key=lambda i: periods[i])
    periods = [periods[i] for i in order]
    try:
        y = np.asarray([raw_values[i] for i in order], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ForecastInputError(f"{series}: values must be numbers ({exc})") from exc
    for i in range(1, len(periods)):
        if periods[i] == periods[i - 1]:
            raise ForecastInputError(f"{series}: month {periods[i]} appears more than once")
        if periods[i] != periods[i - 1] + 1:
            raise ForecastInputError(
                f"{series}: months must be consecutive; {periods[i - 1] + 1} is missing "
                f"between {periods[i - 1]} and {periods[i]}"
            )
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ForecastInputError(
            f"{series}: month {periods[bad[0]]} has no finite value (got {y[bad[0]]!r}); "
            "every month needs a number"
        )
    if len(y) < MIN_MONTHS:
        raise NotEnoughHistoryError(
            f"{series}: {len(y)} month(s) of history; forecasting and anomaly detection need at "
            f"least {MIN_MONTHS} consecutive months"
        )
    return y, pd.PeriodIndex(periods, freq="M")


def _to_month(value: Any, series: str) -> pd.Period:
    try:
        if isinstance(value, pd.Period):
            return value.asfreq("M")
        return pd.Period(value, freq="M")
    except (TypeError, ValueError) as exc:
        raise ForecastInputError(
            f"{series}: month {value!r} is not a month; expected 'YYYY-MM'"
        ) from exc
