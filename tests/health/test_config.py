"""Health settings: defaults, validation (weights sum to 100%), files and their precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.api.errors import status_of
from revintel.health.config import (
    DEFAULT_ACTIONS,
    PLAYBOOKS,
    HealthConfig,
    InvalidHealthConfig,
    config_sources,
    health_file,
    load_config,
    reset_config,
    save_config,
    to_toml,
    validate_config,
)
from tests.health.demo import settings_for


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "revintel.toml"))
    return settings_for(tmp_path / "home")


def test_defaults_are_brief_000s() -> None:
    c = HealthConfig()
    assert c.weights.as_dict() == {"engagement": 40, "sentiment": 30, "support": 30}
    assert (c.tiers.healthy_from, c.tiers.at_risk_from) == (70, 40)
    assert c.high_value_arr == 250_000
    assert c.no_contact_days == 90
    assert set(c.actions) == set(PLAYBOOKS)
    assert c.actions["Executive Sponsor Call"] == DEFAULT_ACTIONS["Executive Sponsor Call"]


@pytest.mark.parametrize(
    ("weights", "total"),
    [((50, 30, 30), "110"), ((40, 30, 29.9), "99.9"), ((0, 0, 0), "0")],
)
def test_weights_must_sum_to_100(weights: tuple[float, float, float], total: str) -> None:
    e, s, p = weights
    with pytest.raises(InvalidHealthConfig) as info:
        validate_config({"weights": {"engagement": e, "sentiment": s, "support": p}})
    assert "weights must sum to 100%" in str(info.value)
    assert f"= {total}%" in str(info.value)
    assert status_of(info.value) == 422


def test_weights_summing_to_100_are_accepted() -> None:
    c = validate_config({"weights": {"engagement": 100, "sentiment": 0, "support": 0}})
    assert c.weights.engagement == 100


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tiers": {"healthy_from": 40, "at_risk_from": 40}}, "tiers"),
        ({"weights": {"engagement": -10, "sentiment": 60, "support": 50}}, "weights.engagement"),
        ({"no_contact_days": 0}, "no_contact_days"),
        ({"high_value_arr": -1}, "high_value_arr"),
        ({"colour": "red"}, "colour"),
        ({"actions": {"Send flowers": ["x"]}}, "actions"),
    ],
)
def test_invalid_values_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(InvalidHealthConfig) as info:
        validate_config(data)
    assert field in str(info.value)


def test_save_and_load_round_trip(settings) -> None:
    config = validate_config(
        {
            "weights": {"engagement": 50, "sentiment": 25, "support": 25},
            "high_value_arr": 100_000,
            "actions": {"Risk Mitigation Plan": ['Call "today"', "Escalate"]},
        }
    )
    path = save_config(settings, config)
    assert path == health_file(settings)
    assert load_config(settings) == config
    assert config_sources(settings) == [path]
    reset_config(settings)
    assert load_config(settings) == HealthConfig()


def test_revintel_toml_then_saved_file(settings, tmp_path: Path) -> None:
    (tmp_path / "revintel.toml").write_text(
        "[health]\nno_contact_days = 60\n[health.weights]\nengagement = 60\nsentiment = 20\n"
        "support = 20\n"
    )
    c = load_config(settings)
    assert c.no_contact_days == 60
    assert c.weights.engagement == 60
    save_config(settings, c.model_copy(update={"no_contact_days": 120}))
    assert load_config(settings).no_contact_days == 120  # the saved file wins
    assert load_config(settings).weights.engagement == 60


def test_invalid_file_is_a_clear_error(settings, tmp_path: Path) -> None:
    (tmp_path / "revintel.toml").write_text(
        "[health.weights]\nengagement = 90\nsentiment = 30\nsupport = 30\n"
    )
    with pytest.raises(InvalidHealthConfig, match=r"revintel\.toml.*weights must sum to 100%"):
        load_config(settings)


def test_toml_output_parses_back() -> None:
    import tomllib

    config = HealthConfig()
    assert HealthConfig.model_validate(tomllib.loads(to_toml(config))) == config
