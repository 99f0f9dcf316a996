"""Churn settings: risk tiers, the applied threshold, ROI inputs and the retraining policy.

Defaults are brief 004's (tiers: High > 0.7, Medium 0.4–0.7, Low 0.2–0.4, Safe < 0.2). They can be
overridden in two places, merged in this order (later wins):

1. the ``[churn]`` table of ``revintel.toml`` (the file :mod:`revintel.core.config` reads);
2. ``REVINTEL_HOME/churn.toml``, written by the dashboard and the API (so a threshold applied in
   the dashboard is seen by the CLI and the API).

Every value is validated. An invalid file raises :class:`InvalidChurnConfig` naming the file, the
key and what was expected; a bad file is never silently ignored. When the home file is the bad one
and revintel wrote a good version before, that last good copy is used and a warning names the bad
file (:mod:`revintel.store.settings_files`, which also locks and writes the file atomically).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from revintel.core.config import Settings
from revintel.core.errors import ConfigError
from revintel.core.vocabulary import RiskTier
from revintel.store.settings_files import SettingsFile, toml_value

CHURN_FILE = "churn.toml"

ThresholdMethod = Literal[
    "manual", "max_f1", "recall_at_precision", "max_net_value", "max_net_value_within_capacity"
]
THRESHOLD_METHODS: tuple[ThresholdMethod, ...] = (
    "manual",
    "max_f1",
    "recall_at_precision",
    "max_net_value",
    "max_net_value_within_capacity",
)


class InvalidChurnConfig(ConfigError):
    """A churn setting is invalid."""


class RiskTiers(BaseModel):
    """Lower bounds of the risk tiers: High when P(churn) > ``high``; Medium when ≥ ``medium``;
    Low when ≥ ``low``; else Safe (brief 004)."""

    model_config = ConfigDict(extra="forbid")

    high: float = Field(0.7, gt=0, lt=1, description="High risk above this probability.")
    medium: float = Field(0.4, gt=0, lt=1, description="Lowest Medium-risk probability.")
    low: float = Field(0.2, gt=0, lt=1, description="Lowest Low-risk probability.")

    @model_validator(mode="after")
    def _strictly_decreasing(self) -> RiskTiers:
        if not self.high > self.medium > self.low:
            raise ValueError(
                "tier bounds must be strictly decreasing (high > medium > low), got "
                f"high {self.high:g}, medium {self.medium:g}, low {self.low:g}"
            )
        return self

    def tier_of(self, probability: float) -> RiskTier:
        """The tier of one churn probability."""
        if probability > self.high:
            return "High"
        if probability >= self.medium:
            return "Medium"
        if probability >= self.low:
            return "Low"
        return "Safe"

    def tier_expr(self, column: str | pl.Expr) -> pl.Expr:
        """A polars expression ``risk_tier``: the tier of each probability in ``column``."""
        p = pl.col(column) if isinstance(column, str) else column
        return (
            pl.when(p.is_null())
            .then(pl.lit(None, dtype=pl.String))
            .when(p > self.high)
            .then(pl.lit("High"))
            .when(p >= self.medium)
            .then(pl.lit("Medium"))
            .when(p >= self.low)
            .then(pl.lit("Low"))
            .otherwise(pl.lit("Safe"))
            .alias("risk_tier")
        )


class ChurnConfig(BaseModel):
    """Every churn setting (brief 004: tiers, threshold & ROI, monthly retraining)."""

    model_config = ConfigDict(extra="forbid")

    tiers: RiskTiers = Field(default_factory=RiskTiers)
    threshold: float = Field(
        0.5, gt=0, lt=1, description="Applied decision threshold: predict churn when P ≥ this."
    )
    threshold_method: ThresholdMethod = Field(
        "manual", description="How the applied threshold was chosen."
    )
    threshold_version: str | None = Field(
        None,
        description="The model version the applied threshold was chosen for; unset: the "
        "production model of the default horizon. Other models are judged at their own max-F1 "
        "threshold.",
    )
    min_precision: float = Field(
        0.5, gt=0, le=1, description="Minimum precision for the recall_at_precision method."
    )
    cost_per_action: float = Field(500.0, ge=0, description="Cost of one retention action.")
    success_rate: float = Field(
        0.3, ge=0, le=1, description="Share of contacted true churners the action saves."
    )
    value_per_save: float | None = Field(
        None, gt=0, description="Value of a saved customer; unset: the customer's own CLV."
    )
    retrain_every_months: int = Field(
        1, ge=0, le=36, description="Retrain on this calendar-month schedule; 0: only on drift."
    )
    drift_psi_threshold: float = Field(
        0.25, gt=0, description="Retrain when a feature's PSI reaches this."
    )
    promote_margin: float = Field(
        0.005,
        ge=0,
        lt=1,
        description="A retrained model is promoted only when its held-out "
        "ROC AUC beats production by at least this.",
    )
    default_horizon: Literal[1, 3] = Field(
        3,
        description=(
            "Horizon (months) of the model that scores customers and the pages show by default."
        ),
    )


def validate_config(data: dict[str, Any], source: str = "churn settings") -> ChurnConfig:
    """A :class:`ChurnConfig` from plain data; :class:`InvalidChurnConfig` naming each problem."""
    try:
        return ChurnConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "churn"
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown setting"
            elif error["type"] != "value_error" and "input" in error:
                message += f", got {error['input']!r}"
            problems.append(f"{where}: {message}")
        raise InvalidChurnConfig(f"{source}: " + "; ".join(problems)) from exc


FILE: SettingsFile[ChurnConfig] = SettingsFile("churn", CHURN_FILE, InvalidChurnConfig)


def churn_file(settings: Settings) -> Path:
    """Where the dashboard and the API save churn settings."""
    return FILE.home_file(settings)


def config_sources(settings: Settings) -> list[Path]:
    """The files that override the defaults, in merge order (only those that exist; the last good
    copy in place of a bad home file)."""
    return FILE.load(settings, validate_config)[1]


def load_config(settings: Settings) -> ChurnConfig:
    """Defaults, then ``revintel.toml`` ``[churn]``, then ``REVINTEL_HOME/churn.toml`` (or its
    last good copy when it is bad: :meth:`SettingsFile.load`)."""
    return FILE.load(settings, validate_config)[0]


def save_config(settings: Settings, config: ChurnConfig) -> Path:
    """Write ``config`` whole to ``REVINTEL_HOME/churn.toml`` (locked, atomic); returns the path."""
    return FILE.save(settings, to_toml(config))


def update_config(settings: Settings, **changes: Any) -> ChurnConfig:
    """Change some settings and save them, holding the settings lock from the read to the write
    so a change saved meanwhile (another request, the dashboard, the CLI) is not lost.

    The result is validated (:class:`InvalidChurnConfig` naming the key); returns it.
    """

    def change(current: ChurnConfig) -> ChurnConfig:
        return validate_config({**current.model_dump(), **changes}, source="churn settings")

    return FILE.update(settings, validate_config, change, to_toml)


def reset_config(settings: Settings) -> None:
    """Forget the saved settings (the defaults and ``revintel.toml`` apply again)."""
    FILE.reset(settings)


def to_toml(config: ChurnConfig) -> str:
    """``config`` as TOML (the layout of revintel.toml's ``[churn]``, without the prefix).

    TOML has no null: an unset optional value (``value_per_save``) is left out.
    """
    data = config.model_dump(mode="json")
    lines = ["# revintel churn settings; written by the dashboard / API."]
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif value is not None:
            lines.append(f"{key} = {toml_value(value)}")
    for name, table in tables:
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in table.items():
            if value is not None:
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"
