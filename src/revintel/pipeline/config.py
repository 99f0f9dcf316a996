"""Pipeline settings: stage probabilities, targets and the parameters of each deal model.

Defaults are in ``docs/pipeline.md``. They can be overridden in two places, merged in this order
(later wins): the ``[pipeline]`` table of ``revintel.toml``, then ``REVINTEL_HOME/pipeline.toml``
(written through :mod:`revintel.app.settings`). Every value is validated; an invalid file or
request raises :class:`InvalidPipelineConfig` naming the field and what was expected.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

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


# -- expansion (area 6): the expansion score (docs/pipeline.md, Expansion opportunity) -------
class ExpansionConfig(BaseModel):
    """Weights of the expansion score's signals and where each signal starts and saturates."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    weight_seat_utilisation: float = Field(default=0.25, ge=0, description="Weight: seats in use.")
    weight_usage_growth: float = Field(
        default=0.15, ge=0, description="Weight: active-user growth."
    )
    weight_feature_adoption: float = Field(
        default=0.15, ge=0, description="Weight: key-feature use."
    )
    weight_plan_headroom: float = Field(
        default=0.10, ge=0, description="Weight: plans above the current."
    )
    weight_health: float = Field(default=0.25, ge=0, description="Weight: health score.")
    weight_nps: float = Field(default=0.10, ge=0, description="Weight: latest NPS answer.")
    utilisation_floor: float = Field(default=0.5, ge=0, le=2, description="Utilisation scoring 0.")
    utilisation_full: float = Field(default=1.0, gt=0, le=2, description="Utilisation scoring 1.")
    growth_full: float = Field(
        default=0.25, gt=0, le=10, description="3-month user growth scoring 1."
    )
    adoption_floor: float = Field(default=0.2, ge=0, lt=1, description="Adoption scoring 0.")
    adoption_full: float = Field(default=0.8, gt=0, le=1, description="Adoption scoring 1.")
    nps_floor: float = Field(default=6.0, ge=0, lt=10, description="NPS answer scoring 0.")
    horizon_months: int = Field(
        default=3, ge=1, le=12, description="Months after which expansion counts."
    )
    reason_min: float = Field(
        default=0.6, ge=0, le=1, description="Signal level named as a reason."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ExpansionConfig:
        weights = [getattr(self, n) for n in type(self).model_fields if n.startswith("weight_")]
        if sum(weights) <= 0:
            raise ValueError("expansion weights: expected at least one weight above 0")
        if self.utilisation_full <= self.utilisation_floor:
            raise ValueError("utilisation_full: expected a value above utilisation_floor")
        if self.adoption_full <= self.adoption_floor:
            raise ValueError("adoption_full: expected a value above adoption_floor")
        return self


# -- end expansion ------------------------------------------------------------------------------


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
    # expansion (area 6)
    expansion: ExpansionConfig = Field(default_factory=lambda: ExpansionConfig())

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
