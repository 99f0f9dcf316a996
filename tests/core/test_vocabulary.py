"""The shared words (core/vocabulary.py, core/calendar.py) and the places that use them."""

from __future__ import annotations

import pytest

from revintel.core.calendar import MONTH_PATTERN, month_number, parsed_month
from revintel.core.errors import InvalidOption
from revintel.core.vocabulary import (
    AT_RISK_TIERS,
    CUSTOMER_DIMENSIONS,
    DIMENSION_ALIASES,
    DIMENSION_OPTIONS,
    DIMENSIONS,
    LOAD_MODES,
    RISK_TIERS,
    dimension_named,
)


def test_dimensions_and_their_option_names() -> None:
    assert DIMENSIONS == ("segment", "plan", "country", "acquisition_channel", "industry")
    assert set(CUSTOMER_DIMENSIONS) == set(DIMENSIONS) - {"plan"}
    assert DIMENSION_OPTIONS == {
        "segment": "segment",
        "plan": "plan",
        "country": "country",
        "channel": "acquisition_channel",
        "industry": "industry",
    }
    assert dimension_named("channel") == "acquisition_channel"
    assert dimension_named("segment") == "segment"
    assert set(DIMENSION_ALIASES.values()) <= set(DIMENSIONS)


def test_every_channel_alias_is_the_vocabulary_s() -> None:
    from revintel.app.reports import FILTER_DIMENSIONS
    from revintel.clv.service import METRIC_DIMENSION

    assert FILTER_DIMENSIONS == DIMENSION_OPTIONS
    assert METRIC_DIMENSION == {
        "segment": "segment",
        "plan": "plan",
        "channel": "acquisition_channel",
    }


def test_risk_tiers_from_the_highest_risk_down() -> None:
    assert RISK_TIERS == ("High", "Medium", "Low", "Safe")
    assert AT_RISK_TIERS == ("High", "Medium", "Low")


def test_risk_tier_colours_cover_every_tier() -> None:
    from revintel.ui import churn as ui

    assert ui.TIERS == RISK_TIERS
    assert set(ui.TIER_COLOURS) == set(ui.BADGE_COLOURS) == set(RISK_TIERS)


def test_load_modes() -> None:
    assert LOAD_MODES == ("replace", "append")


def test_one_month_pattern_for_options_the_api_and_files() -> None:
    from revintel.api import schemas
    from revintel.data import schema

    assert schemas.MONTH_PATTERN is MONTH_PATTERN and schema.MONTH_PATTERN is MONTH_PATTERN
    assert month_number("2024-03") == 2024 * 12 + 2
    assert parsed_month(" 2024-12 ") == 2024 * 12 + 11


@pytest.mark.parametrize("text", ["2024-13", "2024-00", "2024-3", "24-03", "2024-03-01", "٢٠٢٤-03"])
def test_a_malformed_month_is_refused(text: str) -> None:
    assert parsed_month(text) is None
    with pytest.raises(InvalidOption, match="expected a month YYYY-MM"):
        month_number(text, "from")
