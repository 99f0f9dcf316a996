"""Churn settings: brief 004's defaults, validation naming the key, files and their precedence."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from revintel.api.errors import status_of
from revintel.churn.config import (
    ChurnConfig,
    InvalidChurnConfig,
    RiskTiers,
    churn_file,
    load_config,
    reset_config,
    save_config,
    to_toml,
    validate_config,
)
from revintel.core.config import Settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "revintel.toml"))
    return Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)


def test_defaults_are_brief_004s() -> None:
    c = ChurnConfig()
    assert (c.tiers.high, c.tiers.medium, c.tiers.low) == (0.7, 0.4, 0.2)
    assert (c.threshold, c.threshold_method) == (0.5, "manual")
    assert (c.cost_per_action, c.success_rate, c.value_per_save) == (500.0, 0.3, None)
    assert (c.retrain_every_months, c.drift_psi_threshold, c.promote_margin) == (1, 0.25, 0.005)
    assert c.default_horizon == 3  # the 3-month model scores by default (docs/churn.md)


@pytest.mark.parametrize(
    ("p", "tier"),
    [(0.95, "High"), (0.7, "Medium"), (0.4, "Medium"), (0.39, "Low"), (0.2, "Low"), (0.1, "Safe")],
)
def test_tiers_follow_brief_004(p: float, tier: str) -> None:
    tiers = RiskTiers()
    assert tiers.tier_of(p) == tier
    frame = pl.DataFrame({"p": [p, None]})
    assert frame.select(tiers.tier_expr("p"))["risk_tier"].to_list() == [tier, None]


def test_no_file_gives_the_defaults(settings: Settings) -> None:
    assert load_config(settings) == ChurnConfig()


def test_saved_settings_round_trip_and_reset(settings: Settings) -> None:
    config = ChurnConfig.model_validate(
        {
            "tiers": {"high": 0.8, "medium": 0.5, "low": 0.1},
            "threshold": 0.35,
            "threshold_method": "max_net_value",
            "value_per_save": 12_000.0,
            "retrain_every_months": 3,
        }
    )
    path = save_config(settings, config)
    assert path == churn_file(settings) == settings.home / "churn.toml"
    assert load_config(settings) == config

    reset_config(settings)
    assert load_config(settings) == ChurnConfig()


def test_unset_value_per_save_is_left_out_of_the_file() -> None:
    text = to_toml(ChurnConfig())
    assert "value_per_save" not in text and "[tiers]" in text


def test_home_file_overrides_revintel_toml(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "revintel.toml").write_text("[churn]\nthreshold = 0.3\ncost_per_action = 100.0\n")
    assert load_config(settings).threshold == 0.3
    settings.home.mkdir(parents=True)
    churn_file(settings).write_text("threshold = 0.6\n")

    config = load_config(settings)

    assert (config.threshold, config.cost_per_action) == (0.6, 100.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tiers]\nhigh = 0.3\n", "tiers: tier bounds must be strictly decreasing"),
        ("[tiers]\nlow = 1.5\n", "tiers.low: Input should be less than 1, got 1.5"),
        ("threshold = 0\n", "threshold: Input should be greater than 0, got 0"),
        ('threshold_method = "best"\n', "threshold_method: Input should be 'manual'"),
        ("success_rate = 2.0\n", "success_rate: Input should be less than or equal to 1"),
        ("default_horizon = 2\n", "default_horizon: Input should be 1 or 3"),
        ("thresold = 0.3\n", "thresold: unknown setting"),
        ('promote_margin = "a lot"\n', "promote_margin: Input should be a valid number"),
    ],
)
def test_a_bad_file_names_the_key_and_what_was_expected(
    settings: Settings, text: str, expected: str
) -> None:
    settings.home.mkdir(parents=True)
    churn_file(settings).write_text(text)

    with pytest.raises(InvalidChurnConfig) as caught:
        load_config(settings)

    assert str(churn_file(settings)) in str(caught.value)
    assert expected in str(caught.value)
    assert status_of(caught.value) == 422


def test_a_file_that_is_not_toml_is_an_error(settings: Settings) -> None:
    settings.home.mkdir(parents=True)
    churn_file(settings).write_text("threshold = = 0.3\n")
    with pytest.raises(InvalidChurnConfig, match=r"churn\.toml: not valid TOML"):
        load_config(settings)


def test_churn_section_must_be_a_table(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "revintel.toml").write_text('churn = "high"\n')
    with pytest.raises(InvalidChurnConfig, match=r"\[churn\] must be a table"):
        load_config(settings)


def test_validate_config_lists_every_problem() -> None:
    with pytest.raises(InvalidChurnConfig) as caught:
        validate_config({"threshold": 2, "cost_per_action": -1})
    assert "threshold:" in str(caught.value) and "cost_per_action:" in str(caught.value)
