"""Calendar arithmetic on integer day numbers (days since 1970-01-01), vectorised."""

from __future__ import annotations

import numpy as np

from revintel.core.errors import ConfigError

# Months kept beyond the window, for renewal, discount-end and expected-close dates.
HORIZON_MONTHS = 40
NO_DAY = np.iinfo(np.int64).max // 4  # "no end" sentinel, larger than any real day


class Timeline:
    """The simulated window: ``months`` calendar months from ``start`` (``YYYY-MM``).

    Month ``m`` is an index (0 = first month of the window); days are integers.
    """

    def __init__(self, start: str, months: int) -> None:
        try:
            first = np.datetime64(start, "M")
        except ValueError as exc:
            raise ConfigError(f"start must be a month YYYY-MM, got {start!r}") from exc
        if str(first) != start.strip():
            raise ConfigError(f"start must be a month YYYY-MM, got {start!r}")
        if months < 1:
            raise ConfigError(f"months must be at least 1, got {months}")
        self.months = months
        firsts = first + np.arange(months + HORIZON_MONTHS + 1)
        self.month_start = firsts.astype("datetime64[D]").astype(np.int64)
        self.days_in_month = np.diff(self.month_start)
        self.calendar_month = (firsts[:-1].astype(np.int64) % 12).astype(np.int64)  # 0 = Jan
        self.year = (firsts[:-1].astype(np.int64) // 12 + 1970).astype(np.int64)
        self.labels: list[str] = [str(x) for x in firsts[:months]]
        self.window_start = int(self.month_start[0])
        self.window_end = int(self.month_start[months]) - 1  # last day of the window

    def month_end(self, m: int) -> int:
        return int(self.month_start[m + 1]) - 1

    def month_of(self, day: np.ndarray) -> np.ndarray:
        """Month index of each day (negative before the window)."""
        return np.searchsorted(self.month_start, day, side="right") - 1

    def day_of_month(self, day: np.ndarray) -> np.ndarray:
        return day - self.month_start[self.month_of(day)] + 1

    def billing_day(self, month: np.ndarray | int, dom: np.ndarray) -> np.ndarray:
        """The day of ``month`` with day-of-month ``dom``, clipped to the month's length."""
        return self.month_start[month] + np.minimum(dom, self.days_in_month[month]) - 1

    def add_months(self, day: np.ndarray, k: np.ndarray | int) -> np.ndarray:
        """Same day-of-month ``k`` months later (clipped to the month's length)."""
        return self.billing_day(self.month_of(day) + k, self.day_of_month(day))

    def next_billing(
        self, day: np.ndarray, anchor_month: np.ndarray, dom: np.ndarray, period: np.ndarray
    ) -> np.ndarray:
        """First billing date on or after ``day`` of a schedule anchored at (month, dom)."""
        md = self.month_of(day)
        mm = md + (anchor_month - md) % period
        mm = np.where(self.billing_day(mm, dom) < day, mm + period, mm)
        return self.billing_day(mm, dom)
