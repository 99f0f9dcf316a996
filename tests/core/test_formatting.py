"""Money and percentages as people read them (core/formatting.py), in the CLI and the dashboard."""

from __future__ import annotations

import math

import pytest

from revintel.core.formatting import NULL, money, percent


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0"),
        (0.0, "$0"),
        (-0.0, "$0"),
        (950, "$950"),
        (999.4, "$999"),
        (1_000, "$1.0k"),
        (48_300, "$48.3k"),
        (1_234_567, "$1.2M"),
        (2_500_000_000, "$2.5B"),
        (-950, "-$950"),
        (-1_500, "-$1.5k"),
        (-1_200_000, "-$1.2M"),
        (-3_000_000_000, "-$3.0B"),
    ],
)
def test_money(value: float, text: str) -> None:
    assert money(value) == text


@pytest.mark.parametrize("value", [None, math.nan, math.inf, -math.inf])
def test_undefined_money_is_a_dash_or_what_the_caller_says(value: float | None) -> None:
    assert money(value) == NULL == "—"
    assert money(value, missing="undefined") == "undefined"


@pytest.mark.parametrize(
    ("fraction", "digits", "text"),
    [
        (0.0363, 1, "3.6%"),
        (0.0363, 2, "3.63%"),
        (0.5, 0, "50%"),
        (0, 1, "0.0%"),
        (-0.125, 1, "-12.5%"),
        (1.5, 0, "150%"),
    ],
)
def test_percent(fraction: float, digits: int, text: str) -> None:
    assert percent(fraction, digits) == text


@pytest.mark.parametrize("fraction", [None, math.nan, math.inf])
def test_undefined_percent(fraction: float | None) -> None:
    assert percent(fraction) == NULL
    assert percent(fraction, missing="n/a") == "n/a"


def test_the_cli_and_the_dashboard_format_through_core() -> None:
    from revintel.cli.output import percent as cli_percent
    from revintel.ui import revenue

    assert cli_percent(0.0363) == "3.6%" and cli_percent(None) == "n/a"
    assert revenue.formatted(-1500.0, "currency") == "-$1.5k"
    assert revenue.formatted(0.1234, "percent") == "12.3%"
