"""Pipeline settings: stage probabilities, targets and the parameters of each deal model.

Defaults are in ``docs/pipeline.md``. They can be overridden in two places, merged in this order
(later wins): the ``[pipeline]`` table of ``revintel.toml``, then ``REVINTEL_HOME/pipeline.toml``
(written through :mod:`revintel.app.settings`). Every value is validated; an invalid file or
request raises :class:`InvalidPipelineConfig` naming the field and what was expected.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from revintel.core.config import Settings
from revintel.core.errors import ConfigError
from revintel.pipeline.stages import OPEN_STAGES
from revintel.store.settings_files import SettingsFile, toml_value

PIPELINE_FILE = "pipeline.toml"


class InvalidPipelineConfig(ConfigError):
    """A pipeline setting is invalid."""


# -- analytics (area 5): pipeline analytics, win drivers, scenarios, competitors ----------------
class AnalyticsConfig(BaseModel):
    """Settings of the pipeline analytics, the scenario calculator and competitive intelligence."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    forecast_days: int = Field(
        default=90, ge=1, le=730, description="Days ahead for weighted_forecast_90d."
    )
    scenario_horizon_days: int = Field(
        default=90, ge=1, le=730, description="Horizon of the scenario's bookings within reach."
    )
    scenario_simulations: int = Field(
        default=2000, ge=100, le=100_000, description="Simulated outcomes per scenario."
    )
    min_competitor_deals: int = Field(
        default=10, ge=1, le=10_000, description="Closed deals needed to judge a win rate."
    )
    recent_quarters: int = Field(
        default=2, ge=1, le=8, description="Quarters compared with the ones before, for threats."
    )
    significance: float = Field(
        default=0.05, gt=0, lt=0.5, description="Significance level of the threat tests."
    )


class PipelineConfig(BaseModel):
    """Every pipeline setting (one model per area is nested below as the areas grow)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    stage_probabilities: dict[str, float] = Field(
        default_factory=dict,
        description="Win probability per open stage; a stage not listed uses the learned one.",
    )
    targets: dict[str, float] = Field(
        default_factory=dict,
        description="Bookings target per month (YYYY-MM → amount), for coverage.",
    )
    # analytics (area 5)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)

    @field_validator("stage_probabilities")
    @classmethod
    def _known_stages(cls, value: dict[str, float]) -> dict[str, float]:
        for stage, p in value.items():
            if stage not in OPEN_STAGES:
                raise ValueError(
                    f"unknown stage {stage!r}; expected one of {', '.join(OPEN_STAGES)}"
                )
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{stage}: expected a probability in [0, 1], got {p}")
        return value

    @field_validator("targets")
    @classmethod
    def _month_targets(cls, value: dict[str, float]) -> dict[str, float]:
        import re

        for month, amount in value.items():
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
                raise ValueError(f"target month {month!r}: expected YYYY-MM")
            if amount < 0:
                raise ValueError(f"target {month}: expected an amount ≥ 0, got {amount}")
        return value


def validate_config(data: dict[str, Any], source: str = "pipeline settings") -> PipelineConfig:
    """A :class:`PipelineConfig` from plain data; :class:`InvalidPipelineConfig` naming each
    problem."""
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "pipeline"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}")
        raise InvalidPipelineConfig(f"{source}: " + "; ".join(problems)) from exc


FILE: SettingsFile[PipelineConfig] = SettingsFile(
    "pipeline",
    PIPELINE_FILE,
    InvalidPipelineConfig,
    whole_tables=("stage_probabilities", "targets"),
)


def load_config(settings: Settings) -> PipelineConfig:
    """Defaults, then ``revintel.toml`` ``[pipeline]``, then ``REVINTEL_HOME/pipeline.toml``."""
    return FILE.load(settings, validate_config)[0]


def to_toml(config: PipelineConfig) -> str:
    """``config`` as TOML: scalars first, then one table per mapping or nested model."""
    data = config.model_dump(mode="json")
    lines = ["# revintel pipeline settings (docs/pipeline.md); written by the settings API."]
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {toml_value(value)}")
    for name, table in tables:
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in table.items():
            lines.append(f"{json.dumps(key)} = {toml_value(value)}")
    return "\n".join(lines) + "\n"
