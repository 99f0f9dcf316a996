"""Attribution settings: the look-back window, each heuristic's parameters, the data-driven
models' options, the reporting currency, ingestion and the budget suggestion's bounds.

Defaults are in ``docs/attribution.md``. They can be overridden in two places, merged in this
order (later wins): the ``[attribution]`` table of ``revintel.toml``, then
``REVINTEL_HOME/attribution.toml`` (written through :mod:`revintel.app.settings`). Every value is
validated; an invalid file or request raises :class:`InvalidAttributionConfig` naming the field
and what was expected.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from revintel.core.config import Settings
from revintel.core.errors import ConfigError
from revintel.store.settings_files import SettingsFile, problems_of, toml_document

ATTRIBUTION_FILE = "attribution.toml"


class InvalidAttributionConfig(ConfigError):
    """An attribution setting is invalid."""


# -- models: heuristics, Markov, Shapley -------------------------------------------------------
class ModelSettings(BaseModel):
    """Parameters of the attribution models (docs/attribution.md, Models)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    window_days: int = Field(
        default=90, ge=1, le=3650, description="Look-back window: days before the conversion."
    )
    conversion_type: str = Field(
        default="paid", description="Conversion attributed by default: signup, trial or paid."
    )
    half_life_days: float = Field(
        default=7.0, gt=0, le=3650, description="Time decay: a touch's weight halves this often."
    )
    position_first: float = Field(
        default=0.4, ge=0, le=1, description="Position-based: the first touch's share."
    )
    position_last: float = Field(
        default=0.4, ge=0, le=1, description="Position-based: the last touch's share."
    )
    direct_channels: list[str] = Field(
        default_factory=lambda: ["Direct"],
        description="Channels that last non-direct touch passes over.",
    )
    markov_order: int = Field(default=1, ge=1, le=4, description="Markov chain order, 1-4.")
    shapley_exact_max_channels: int = Field(
        default=15, ge=1, le=20, description="Shapley is exact up to this many channels."
    )
    shapley_game: Literal["removal", "rate"] = Field(
        default="removal",
        description="Shapley coalition game: removal (conversions of the journeys confined to "
        "the coalition) or rate (conversion rates per channel set).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ModelSettings:
        if self.position_first + self.position_last > 1.0 + 1e-9:
            raise ValueError("position_first + position_last: expected at most 1")
        if self.conversion_type not in ("signup", "trial", "paid"):
            raise ValueError("conversion_type: expected one of signup, trial, paid")
        return self


# -- end models ---------------------------------------------------------------------------------
# -- roi and budget ------------------------------------------------------------------------------
class BudgetSettings(BaseModel):
    """Channel ROI and the budget suggestion (docs/attribution.md, Spend, ROI and budget)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    bound: float = Field(
        default=0.3, ge=0, le=1, description="Each channel may move this share of its spend."
    )
    gross_margin: float = Field(
        default=0.75,
        ge=0,
        le=1,
        description="Gross margin used for ROI when the metrics have none (no costs loaded).",
    )
    model: str = Field(
        default="markov", description="Model whose credit the response curves are fitted on."
    )
    current_months: int = Field(
        default=3, ge=1, le=24, description="Current spend: mean of the last this many months."
    )
    min_months: int = Field(
        default=4, ge=2, le=120, description="A response curve needs at least this many months."
    )
    bootstrap: int = Field(
        default=200, ge=10, le=5000, description="Bootstrap resamples for the gain's interval."
    )

    @model_validator(mode="after")
    def _known_model(self) -> BudgetSettings:
        from revintel.attribution.credit import MODELS

        if self.model not in MODELS:
            raise ValueError(f"model: expected one of {', '.join(MODELS)}")
        return self


# -- end roi and budget --------------------------------------------------------------------------
# -- ingestion -----------------------------------------------------------------------------------
class IngestionSettings(BaseModel):
    """Tracking API ingestion (docs/attribution.md, Ingestion)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    reporting_currency: str = Field(
        default="USD", pattern=r"^[A-Z]{3}$", description="Currency every value is reported in."
    )
    max_batch: int = Field(
        default=10_000, ge=1, le=100_000, description="Most events in one request."
    )
    flush_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="The API appends acknowledged events to the warehouse this often.",
    )
    flush_events: int = Field(
        default=50_000,
        ge=1,
        description="...or as soon as this many are waiting (and at most this many per append).",
    )
    keep_days: float = Field(
        default=7.0,
        gt=0,
        description="Idempotency keys and the ids of flushed events are remembered this long.",
    )


# -- end ingestion -------------------------------------------------------------------------------


class AttributionConfig(BaseModel):
    """Every attribution setting, one nested model per area."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    models: ModelSettings = Field(default_factory=ModelSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    ingestion: IngestionSettings = Field(default_factory=IngestionSettings)


def validate_config(
    data: dict[str, Any], source: str = "attribution settings"
) -> AttributionConfig:
    """An :class:`AttributionConfig` from plain data; :class:`InvalidAttributionConfig` naming
    each problem."""
    try:
        return AttributionConfig.model_validate(data)
    except ValidationError as exc:
        raise InvalidAttributionConfig(f"{source}: " + problems_of(exc, "attribution")) from exc


FILE: SettingsFile[AttributionConfig] = SettingsFile(
    "attribution", ATTRIBUTION_FILE, InvalidAttributionConfig
)


def load_config(settings: Settings) -> AttributionConfig:
    """Defaults, then ``revintel.toml`` ``[attribution]``, then the home's ``attribution.toml``."""
    return FILE.load(settings, validate_config)[0]


def to_toml(config: AttributionConfig) -> str:
    """``config`` as TOML: one table per nested model."""
    return toml_document(
        "revintel attribution settings (docs/attribution.md); written by the settings API.",
        config.model_dump(mode="json"),
    )
