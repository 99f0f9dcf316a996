"""How amounts and shares read to people, the same in the command line and the dashboard."""

from __future__ import annotations

import math

NULL = "—"
"""What an undefined value reads as (None, infinite, not a number)."""

_SIZES = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


def money(value: float | None, *, missing: str = NULL) -> str:
    """Dollars for a tile or a sentence: ``$1.2B``, ``$1.2M``, ``$48.3k``, ``$950``, ``-$1.5k``.

    One decimal from a thousand up, whole dollars below; the sign comes before the dollar sign.
    ``missing`` when the value is undefined.
    """
    if value is None or not math.isfinite(value):
        return missing
    sign = "-" if value < 0 else ""
    size = abs(value)
    for limit, suffix in _SIZES:
        if size >= limit:
            return f"{sign}${size / limit:,.1f}{suffix}"
    return f"{sign}${size:,.0f}"


def percent(fraction: float | None, digits: int = 1, *, missing: str = NULL) -> str:
    """A share as a percentage: ``0.0363`` → ``3.6%`` (``digits`` decimals); ``missing`` when
    undefined. A value already in percent (a MAPE of 3.63) is divided by 100 first."""
    if fraction is None or not math.isfinite(fraction):
        return missing
    return f"{fraction:.{digits}%}"


def whole_dollars(value: float | None, *, missing: str = NULL) -> str:
    """Dollars to the dollar, for a table of months where ``$642.5k`` would hide the change:
    ``$642,521``, ``-$1,015``; ``missing`` when the value is undefined."""
    if value is None or not math.isfinite(value):
        return missing
    sign = "-" if round(value) < 0 else ""
    return f"{sign}${abs(value):,.0f}"
