"""The heuristic models, worked by hand (docs/attribution.md, Heuristic models)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from revintel.attribution.config import ModelSettings
from revintel.attribution.heuristics import TouchTimesNeeded, heuristic_credit
from revintel.attribution.journeys import Journeys, from_paths
from revintel.core.errors import InvalidOption

DEFAULTS = ModelSettings()


def credit(journeys: Journeys, model: str, settings: ModelSettings = DEFAULTS) -> dict[str, float]:
    c = heuristic_credit(journeys, model, settings)
    return {name: float(x) for name, x in zip(c.channels, c.conversions, strict=True)}


def value_credit(journeys: Journeys, model: str) -> dict[str, float]:
    c = heuristic_credit(journeys, model, DEFAULTS)
    return {name: float(x) for name, x in zip(c.channels, c.value, strict=True)}


def test_first_and_last_touch_credit_one_touch_per_journey_weighted_by_its_conversions() -> None:
    j = from_paths([["Search", "Email", "Social"], ["Email"]], [3, 2], [30.0, 20.0])
    assert credit(j, "first_touch") == {"Email": 2.0, "Search": 3.0, "Social": 0.0}
    assert credit(j, "last_touch") == {"Email": 2.0, "Search": 0.0, "Social": 3.0}
    assert value_credit(j, "first_touch") == {"Email": 20.0, "Search": 30.0, "Social": 0.0}


def test_time_decay_weights_a_touch_1_day_and_one_8_days_before_with_a_7_day_half_life() -> None:
    j = replace(from_paths([["Social", "Email"]], [1], [90.0]), days_before=np.array([8.0, 1.0]))
    early, late = 2 ** (-8 / 7), 2 ** (-1 / 7)
    got = credit(j, "time_decay")
    assert got["Social"] == pytest.approx(early / (early + late))
    assert got["Email"] == pytest.approx(late / (early + late))
    # 7 days apart with a 7-day half-life: the later touch weighs twice the earlier one.
    assert got == pytest.approx({"Social": 1 / 3, "Email": 2 / 3})
    assert value_credit(j, "time_decay") == pytest.approx({"Social": 30.0, "Email": 60.0})


def test_time_decay_follows_the_half_life_setting() -> None:
    j = replace(from_paths([["Social", "Email"]], [1]), days_before=np.array([8.0, 1.0]))
    got = credit(j, "time_decay", ModelSettings(half_life_days=3.5))
    assert got == pytest.approx({"Social": 1 / 5, "Email": 4 / 5})


def test_time_decay_survives_touches_long_before_with_a_short_half_life() -> None:
    j = replace(from_paths([["Social", "Email"]], [1]), days_before=np.array([3000.0, 2990.0]))
    got = credit(j, "time_decay", ModelSettings(half_life_days=0.01))
    assert got == pytest.approx({"Social": 0.0, "Email": 1.0})


def test_time_decay_on_a_path_file_says_it_needs_touch_times() -> None:
    j = from_paths([["Social", "Email"]], [1])
    with pytest.raises(TouchTimesNeeded, match="time of every touch"):
        heuristic_credit(j, "time_decay", DEFAULTS)
    assert issubclass(TouchTimesNeeded, InvalidOption)


def test_position_based_with_one_two_three_and_four_touches() -> None:
    one = from_paths([["Email"]], [1])
    assert credit(one, "position_based") == {"Email": 1.0}
    two = from_paths([["Email", "Search"]], [1])
    assert credit(two, "position_based") == pytest.approx({"Email": 0.5, "Search": 0.5})
    three = from_paths([["Email", "Search", "Social"]], [1])
    assert credit(three, "position_based") == pytest.approx(
        {"Email": 0.4, "Search": 0.2, "Social": 0.4}
    )
    four = from_paths([["Email", "Search", "Social", "Video"]], [10])
    assert credit(four, "position_based") == pytest.approx(
        {"Email": 4.0, "Search": 1.0, "Social": 1.0, "Video": 4.0}
    )


def test_position_based_follows_its_settings() -> None:
    settings = ModelSettings(position_first=0.3, position_last=0.5)
    two = from_paths([["Email", "Search"]], [1])
    # Two touches split first : last in the ratio of their shares.
    assert credit(two, "position_based", settings) == pytest.approx(
        {"Email": 0.375, "Search": 0.625}
    )
    three = from_paths([["Email", "Search", "Email"]], [1])
    assert credit(three, "position_based", settings) == pytest.approx({"Email": 0.8, "Search": 0.2})


def test_last_non_direct_passes_over_direct_and_credits_an_all_direct_path_to_direct() -> None:
    j = from_paths([["Search", "Email", "Direct"], ["Direct", "direct"], ["Social"]], [1, 2, 4])
    c = heuristic_credit(j, "last_non_direct", DEFAULTS)
    got = dict(zip(c.channels, c.conversions.tolist(), strict=True))
    # Direct channels match without regard to case.
    assert got == {"Direct": 0.0, "Email": 1.0, "Search": 0.0, "Social": 4.0, "direct": 2.0}
    assert c.note is not None and "1 converting path(s) (2 conversions)" in c.note
    assert credit(j, "last_touch")["Direct"] == 1.0


def test_last_non_direct_uses_the_direct_channels_setting() -> None:
    j = from_paths([["Search", "Email"]], [1])
    settings = ModelSettings(direct_channels=["Email"])
    assert credit(j, "last_non_direct", settings) == {"Email": 0.0, "Search": 1.0}


def test_linear_credits_a_repeated_channel_once_per_touch() -> None:
    j = from_paths([["Email", "Search", "Email"], ["Search"]], [3, 1], [30.0, 5.0])
    assert credit(j, "linear") == pytest.approx({"Email": 2.0, "Search": 2.0})
    assert value_credit(j, "linear") == pytest.approx({"Email": 20.0, "Search": 15.0})


def test_journeys_without_conversions_change_nothing() -> None:
    j = from_paths([["Email", "Search"], ["Social", "Social"]], [2, 0], nulls=[0, 7])
    for model in ("first_touch", "last_touch", "last_non_direct", "linear", "position_based"):
        assert credit(j, model)["Social"] == 0.0


def test_an_unknown_heuristic_is_refused() -> None:
    with pytest.raises(InvalidOption, match="unknown heuristic 'markov'"):
        heuristic_credit(from_paths([["Email"]], [1]), "markov", DEFAULTS)
