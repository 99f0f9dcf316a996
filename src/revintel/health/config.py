"""Health-scoring settings: pillar weights, tier cut-offs, playbook thresholds and actions.

Defaults are brief 000's (``docs/health.md``, Settings; ``metric-definitions.md``, Health score).
They can be overridden in two places, merged in this order (later wins):

1. the ``[health]`` table of ``revintel.toml`` (the file :mod:`revintel.core.config` reads);
2. ``REVINTEL_HOME/health.toml``, written by the Health settings page and ``PUT
   /api/v1/health/config`` (so an edit made in the dashboard is seen by the CLI and the API).

Every value is validated; the weights must sum to 100%. An invalid file or request raises
:class:`InvalidHealthConfig` naming the field and what was expected. When the home file is the bad
one and revintel wrote a good version before, that last good copy is used and a warning names the
bad file (:mod:`revintel.store.settings_files`, which also locks and writes the file atomically).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from revintel.core.config import Settings
from revintel.core.errors import ConfigError
from revintel.store.settings_files import SettingsFile, problems_of, toml_document

Pillar = Literal["engagement", "sentiment", "support"]
PILLARS: tuple[Pillar, ...] = ("engagement", "sentiment", "support")
Tier = Literal["Healthy", "At Risk", "Critical"]
TIERS: tuple[Tier, ...] = ("Healthy", "At Risk", "Critical")
Playbook = Literal[
    "Executive Sponsor Call",
    "Risk Mitigation Plan",
    "Strategy Session / QBR",
    "Value Realization Report",
]
PLAYBOOKS: tuple[Playbook, ...] = (
    "Executive Sponsor Call",
    "Risk Mitigation Plan",
    "Strategy Session / QBR",
    "Value Realization Report",
)
Severity = Literal["low", "medium", "high", "urgent"]

HEALTH_FILE = "health.toml"
WEIGHT_TOLERANCE = 1e-6

DEFAULT_ACTIONS: dict[Playbook, list[str]] = {
    "Executive Sponsor Call": [
        "Book a call between our executive sponsor and theirs within 7 days",
        "Prepare a one-page account review: usage, open tickets, NPS, value delivered",
        "Agree a written recovery plan with owners and dates",
    ],
    "Risk Mitigation Plan": [
        "CSM calls the main contact this week",
        "Escalate open tickets older than 14 days",
        "Run a re-onboarding session for inactive seats",
    ],
    "Strategy Session / QBR": [
        "Schedule a quarterly business review",
        "Review adoption of key features and agree next goals",
        "Log the contact so the no-contact clock restarts",
    ],
    "Value Realization Report": [
        "Send a value realization report (usage, outcomes, ROI)",
        "Ask for a reference or case study",
        "Look for expansion: unused features, more seats",
    ],
}


class InvalidHealthConfig(ConfigError):
    """A health setting is invalid."""


class PillarWeights(BaseModel):
    """Pillar weights in percent; they must sum to 100."""

    model_config = ConfigDict(extra="forbid")

    engagement: float = Field(40.0, ge=0, le=100, description="Product engagement weight, %.")
    sentiment: float = Field(30.0, ge=0, le=100, description="Sentiment (NPS) weight, %.")
    support: float = Field(30.0, ge=0, le=100, description="Support volume weight, %.")

    @model_validator(mode="after")
    def _sum_to_100(self) -> PillarWeights:
        total = self.engagement + self.sentiment + self.support
        if abs(total - 100.0) > WEIGHT_TOLERANCE:
            raise ValueError(
                "weights must sum to 100%: engagement "
                f"{self.engagement:g} + sentiment {self.sentiment:g} + support "
                f"{self.support:g} = {total:g}%"
            )
        return self

    def as_dict(self) -> dict[Pillar, float]:
        return {"engagement": self.engagement, "sentiment": self.sentiment, "support": self.support}


class TierCutoffs(BaseModel):
    """Healthy when score ≥ ``healthy_from``; At Risk when ≥ ``at_risk_from``; else Critical."""

    model_config = ConfigDict(extra="forbid")

    healthy_from: float = Field(70.0, gt=0, le=100, description="Lowest Healthy score.")
    at_risk_from: float = Field(40.0, gt=0, le=100, description="Lowest At Risk score.")

    @model_validator(mode="after")
    def _ordered(self) -> TierCutoffs:
        if not self.at_risk_from < self.healthy_from:
            raise ValueError(
                f"tier cut-offs: at_risk_from ({self.at_risk_from:g}) must be below "
                f"healthy_from ({self.healthy_from:g})"
            )
        return self


class SeverityWeights(BaseModel):
    """How much one ticket of each severity counts in the support pillar."""

    model_config = ConfigDict(extra="forbid")

    low: float = Field(1.0, ge=0)
    medium: float = Field(2.0, ge=0)
    high: float = Field(3.0, ge=0)
    urgent: float = Field(5.0, ge=0)


class HealthConfig(BaseModel):
    """Every health-scoring setting (``docs/health.md``, Settings)."""

    model_config = ConfigDict(extra="forbid")

    weights: PillarWeights = Field(default_factory=PillarWeights)
    tiers: TierCutoffs = Field(default_factory=TierCutoffs)
    high_value_arr: float = Field(
        250_000.0, ge=0, description="ARR from which a Critical account gets an executive call."
    )
    no_contact_days: int = Field(
        90, ge=1, le=3650, description="More days than this without contact is 'silent churn'."
    )
    nps_half_life_days: float = Field(
        180.0, gt=0, description="A response this old counts half (sentiment decays to neutral)."
    )
    support_window_days: int = Field(90, ge=7, le=730, description="Ticket look-back, days.")
    aged_ticket_days: int = Field(14, ge=1, description="Open longer than this is 'aged'.")
    severity_weights: SeverityWeights = Field(default_factory=SeverityWeights)
    actions: dict[Playbook, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_ACTIONS.items()},
        description="Recommended actions per playbook.",
    )

    @model_validator(mode="after")
    def _every_playbook_has_actions(self) -> HealthConfig:
        for playbook in PLAYBOOKS:
            self.actions.setdefault(playbook, list(DEFAULT_ACTIONS[playbook]))
        return self


def validate_config(data: dict[str, Any], source: str = "health settings") -> HealthConfig:
    """A :class:`HealthConfig` from plain data; :class:`InvalidHealthConfig` naming each problem."""
    try:
        return HealthConfig.model_validate(data)
    except ValidationError as exc:
        raise InvalidHealthConfig(f"{source}: " + problems_of(exc, "health")) from exc


FILE: SettingsFile[HealthConfig] = SettingsFile(
    "health", HEALTH_FILE, InvalidHealthConfig, whole_tables=("actions",)
)


def health_file(settings: Settings) -> Path:
    """Where the dashboard and the API save health settings."""
    return FILE.home_file(settings)


def config_sources(settings: Settings) -> list[Path]:
    """The files that override the defaults, in merge order (only those that exist; the last good
    copy in place of a bad home file)."""
    return FILE.load(settings, validate_config)[1]


def load_config(settings: Settings) -> HealthConfig:
    """Defaults, then ``revintel.toml`` ``[health]``, then ``REVINTEL_HOME/health.toml`` (or its
    last good copy when it is bad: :meth:`SettingsFile.load`)."""
    return FILE.load(settings, validate_config)[0]


def save_config(settings: Settings, config: HealthConfig) -> Path:
    """Write ``config`` whole to ``REVINTEL_HOME/health.toml`` (locked, atomic); returns the
    path."""
    return FILE.save(settings, to_toml(config))


def reset_config(settings: Settings) -> None:
    """Forget the saved settings (the defaults and ``revintel.toml`` apply again)."""
    FILE.reset(settings)


def to_toml(config: HealthConfig) -> str:
    """``config`` as TOML (the layout of revintel.toml's ``[health]``, without the prefix)."""
    return toml_document(
        "revintel health settings (docs/health.md); written by the settings page / API.",
        config.model_dump(mode="json"),
    )
