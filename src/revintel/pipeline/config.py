"""Pipeline settings: stage probabilities, targets and the parameters of each deal model.

Defaults are in ``docs/pipeline.md``. They can be overridden in two places, merged in this order
(later wins): the ``[pipeline]`` table of ``revintel.toml``, then ``REVINTEL_HOME/pipeline.toml``
(written through :mod:`revintel.app.settings`). Every value is validated; an invalid file or
request raises :class:`InvalidPipelineConfig` naming the field and what was expected.
"""

from __future__ import annotations

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
from revintel.pipeline.deal_health import DealHealthConfig  # deals (area 4)
from revintel.pipeline.deal_value import DealValueConfig  # deals (area 4)
from revintel.pipeline.stages import OPEN_STAGES
from revintel.store.settings_files import SettingsFile, problems_of, toml_document

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
# -- area 3, forecast ----------------------------------------------------------------------------
class ForecastSettings(BaseModel):
    """Close-probability rule (brief 003), forecast simulation and backtest (docs/pipeline.md,
    Close probability and Forecasts). Probabilities and points are in percent."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    rule_base_probability: list[float] = Field(
        default_factory=lambda: [10.0, 25.0, 50.0, 70.0],
        min_length=len(OPEN_STAGES),
        max_length=len(OPEN_STAGES),
        description="Base probability (%) per open stage, in stage order.",
    )
    rule_lead_score_weight: float = Field(default=0.1, ge=0, le=10)
    rule_interaction_weight: float = Field(default=1.5, ge=0, le=100)
    rule_objection_weight: float = Field(default=2.0, ge=0, le=100)
    rule_engagement_cap: float = Field(default=25.0, ge=0, le=100)
    rule_champion_boost: float = Field(default=10.0, ge=0, le=100)
    rule_budget_boost: float = Field(default=15.0, ge=0, le=100)
    rule_decision_maker_boost: float = Field(default=15.0, ge=0, le=100)
    rule_stage_day_limit: int = Field(default=30, ge=0, le=3650)
    rule_velocity_penalty_per_day: float = Field(default=0.5, ge=0, le=100)
    rule_velocity_penalty_cap: float = Field(default=20.0, ge=0, le=100)
    rule_competitor_penalty: float = Field(default=5.0, ge=0, le=100)
    rule_competition_penalty_cap: float = Field(default=15.0, ge=0, le=100)
    rule_min_probability: float = Field(default=1.0, ge=0, le=100)
    rule_max_probability: float = Field(default=95.0, ge=0, le=100)
    simulations: int = Field(default=2000, ge=100, le=100_000)
    new_deal_lookback_months: int = Field(default=6, ge=1, le=36)
    backtest_min_closed_deals: int = Field(default=60, ge=10, le=100_000)
    seed: int = Field(default=7, ge=0)

    @field_validator("rule_base_probability")
    @classmethod
    def _percentages(cls, value: list[float]) -> list[float]:
        for stage, p in zip(OPEN_STAGES, value, strict=False):
            if not 0.0 <= p <= 100.0:
                raise ValueError(f"{stage}: expected a probability in percent, 0-100, got {p}")
        return value


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
    # -- deals (area 4): deal health and at-risk alerts, deal value formula factors --------------
    deal_health: DealHealthConfig = Field(default_factory=DealHealthConfig)
    deal_value: DealValueConfig = Field(default_factory=DealValueConfig)
    # -- end deals ---------------------------------------------------------------------------------

    # -- area 3, forecast: close-probability rule, forecasts and backtest ------------------------
    forecast: ForecastSettings = Field(
        default_factory=lambda: ForecastSettings(),
        description="Close-probability rule, forecast simulation and backtest (forecast area).",
    )

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
        raise InvalidPipelineConfig(f"{source}: " + problems_of(exc, "pipeline")) from exc


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
    return toml_document(
        "revintel pipeline settings (docs/pipeline.md); written by the settings API.",
        config.model_dump(mode="json"),
    )
