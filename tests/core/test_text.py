"""Free-text options with a control character are refused naming the option; others pass."""

from __future__ import annotations

import polars as pl
import pytest

from revintel.api.errors import status_of
from revintel.churn.service import filter_predictions
from revintel.core.text import InvalidText, check_text, control_character
from revintel.health.service import filter_scores


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("a\x00b", "U+0000"),
        ("two\nlines", "U+000A"),
        ("tab\t", "U+0009"),
        ("\r", "U+000D"),
        ("del\x7f", "U+007F"),
        ("c1\x85", "U+0085"),
        ('O\'Brien \\ 100% "x"', None),
        ("Zürich 東京 🚀 👩‍💻", None),  # the zero-width joiner is a format character, not control
        ("", None),
    ],
)
def test_control_characters_are_found_and_nothing_else(value: str, found: str | None) -> None:
    assert control_character(value) == found


def test_check_text_names_the_option_and_the_character() -> None:
    assert check_text("q", "O'Brien") == "O'Brien"
    assert check_text("q", None) is None
    expected = r"'q' = 'a\\x00b' contains the control character U\+0000"
    with pytest.raises(InvalidText, match=expected):
        check_text("q", "a\x00b")
    assert status_of(InvalidText("x")) == 422  # the API answers 422


SCORES = pl.DataFrame(
    {
        "account_id": ["A1", "A2"],
        "account_name": ["O'Brien Ltd", "Brio"],
        "owner": ["Ana", "Ben"],
        "tier": ["Healthy", "At risk"],
        "playbook": ["Nurture", "Rescue"],
        "segment": ["SMB", "SMB"],
        "industry": ["Retail", "Retail"],
        "partial": [False, False],
    }
)


def test_account_filters_refuse_a_control_character_naming_the_option() -> None:
    assert filter_scores(SCORES, search="o'brien")["account_id"].to_list() == ["A1"]
    with pytest.raises(InvalidText, match=r"'search \(q\)'"):
        filter_scores(SCORES, search="a\x00b")
    with pytest.raises(InvalidText, match="'owner'"):
        filter_scores(SCORES, owner=["Ana", "B\x00en"])
    with pytest.raises(InvalidText, match="'segment'"):
        filter_scores(SCORES, segment="SMB\n")


PREDICTIONS = pl.DataFrame(
    {
        "account_id": ["C1", "C2"],
        "account_name": ["O'Brien Ltd", None],
        "risk_tier": ["High", "Low"],
        "churn_risk_score": [0.9, 0.1],
        "segment": ["SMB", "SMB"],
        "plan_type": ["Pro", "Basic"],
        "owner": ["Ana", "Ben"],
        "driver_segment": ["Payment issues", "Low usage"],
    }
)


def test_prediction_filters_refuse_a_control_character_naming_the_option() -> None:
    found = filter_predictions(PREDICTIONS, search="O'BRIEN")
    assert found["account_id"].to_list() == ["C1"]
    for options, name in [
        ({"search": "a\x00b"}, "search"),
        ({"owner": ["Ana\r"]}, "owner"),
        ({"plan": ["P\x00"]}, "plan"),
        ({"driver_segment": "Payment\x00"}, "driver_segment"),
    ]:
        with pytest.raises(InvalidText, match=f"'{name}'"):
            filter_predictions(PREDICTIONS, **options)
