"""The analytics settings (``[analytics]`` in the pipeline settings): defaults, validation naming
the field, and the TOML they are written as."""

from __future__ import annotations

import tomllib

import pytest

from revintel.pipeline.config import InvalidPipelineConfig, to_toml, validate_config


def test_defaults_and_round_trip() -> None:
    config = validate_config({"analytics": {"forecast_days": 60, "significance": 0.01}})
    assert config.analytics.forecast_days == 60
    assert config.analytics.scenario_simulations == 2000
    again = validate_config(tomllib.loads(to_toml(config)))
    assert again == config


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"significance": 0.7}, "analytics.significance"),
        ({"forecast_days": 0}, "analytics.forecast_days"),
        ({"scenario_simulations": 10}, "analytics.scenario_simulations"),
        ({"recent_quaters": 2}, "analytics.recent_quaters"),
    ],
)
def test_invalid_values_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidPipelineConfig, match=field):
        validate_config({"analytics": values})
