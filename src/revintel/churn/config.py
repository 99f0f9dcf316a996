"""Churn settings: risk tiers, the applied threshold, ROI inputs and the retraining policy.

Risk tiers default to shares of the customers scored (the riskiest 5% High, the next 10% Medium,
the next 20% Low, no cut-off above the fixed 0.7 / 0.4 / 0.2), which suits calibrated
probabilities that rarely pass 0.7; ``tiers.method = "lift"`` starts each tier at a multiple of the
average risk and ``"fixed"`` uses the fixed cut-offs alone (High > 0.7, Medium 0.4–0.7, Low
0.2–0.4, Safe < 0.2). Settings can be overridden in two places, merged in this order (later wins):

1. the ``[churn]`` table of ``revintel.toml`` (the file :mod:`revintel.core.config` reads);
2. ``REVINTEL_HOME/churn.toml``, written by the dashboard and the API (so a threshold applied in
   the dashboard is seen by the CLI and the API).

Every value is validated. An invalid file raises :class:`InvalidChurnConfig` naming the file, the
key and what was expected; a bad file is never silently ignored. When the home file is the bad one
and revintel wrote a good version before, that last good copy is used and a warning names the bad
file (:mod:`revintel.store.settings_files`, which also locks and writes the file atomically).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
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


TierMethod = Literal["quantile", "lift", "fixed"]
TIER_METHODS: tuple[TierMethod, ...] = ("quantile", "lift", "fixed")


@dataclass(frozen=True, slots=True)
class TierCutoffs:
    """The probabilities that separate the tiers for one population of scores: High when
    P(churn) > ``high``; Medium when ≥ ``medium``; Low when ≥ ``low``; else Safe."""

    high: float
    medium: float
    low: float
    method: TierMethod
    average_risk: float | None = None
    """The average risk of the customers scored (None under fixed cut-offs)."""

    def as_dict(self) -> dict[str, float]:
        return {"High": self.high, "Medium": self.medium, "Low": self.low}


class RiskTiers(BaseModel):
    """How churn probabilities map to the tiers High, Medium, Low and Safe.

    Calibrated probabilities of a business whose monthly churn is a few percent rarely pass
    0.7, so the default cuts the customers scored by rank:

    * ``quantile`` (the default): the riskiest ``high_share`` of the customers scored are High,
      the next ``medium_share`` Medium, the next ``low_share`` Low, the rest Safe;
    * ``lift``: High from ``high_lift`` × the average risk of the customers scored, Medium from
      ``medium_lift`` ×, Low from ``low_lift`` ×;
    * ``fixed``: the fixed cut-offs alone: High > ``high`` (0.7), Medium ``medium``–``high``
      (0.4–0.7), Low ``low``–``medium`` (0.2–0.4), Safe below ``low``.

    Under ``quantile`` and ``lift`` no cut-off is above its fixed one: a probability above
    ``high`` is High whatever the other customers' scores.
    """

    model_config = ConfigDict(extra="forbid")

    method: TierMethod = Field(
        "quantile",
        description="quantile: shares of the customers scored; lift: multiples of the average "
        "risk; fixed: the fixed cut-offs only.",
    )
    high: float = Field(0.7, gt=0, lt=1, description="High risk above this probability.")
    medium: float = Field(0.4, gt=0, lt=1, description="Lowest Medium-risk probability.")
    low: float = Field(0.2, gt=0, lt=1, description="Lowest Low-risk probability.")
    high_share: float = Field(0.05, gt=0, lt=1, description="Share of customers scored High.")
    medium_share: float = Field(0.10, gt=0, lt=1, description="Share scored Medium.")
    low_share: float = Field(0.20, gt=0, lt=1, description="Share scored Low.")
    high_lift: float = Field(4.0, gt=0, description="High from this multiple of the average risk.")
    medium_lift: float = Field(
        2.0, gt=0, description="Medium from this multiple of the average risk."
    )
    low_lift: float = Field(1.0, gt=0, description="Low from this multiple of the average risk.")

    @model_validator(mode="after")
    def _strictly_decreasing(self) -> RiskTiers:
        if not self.high > self.medium > self.low:
            raise ValueError(
                "tier bounds must be strictly decreasing (high > medium > low), got "
                f"high {self.high:g}, medium {self.medium:g}, low {self.low:g}"
            )
        if not self.high_lift > self.medium_lift > self.low_lift:
            raise ValueError(
                "tier lifts must be strictly decreasing (high_lift > medium_lift > low_lift), got "
                f"high_lift {self.high_lift:g}, medium_lift {self.medium_lift:g}, "
                f"low_lift {self.low_lift:g}"
            )
        if self.high_share + self.medium_share + self.low_share >= 1:
            raise ValueError(
                "tier shares must leave some customers Safe (high_share + medium_share + "
                f"low_share < 1), got {self.high_share + self.medium_share + self.low_share:g}"
            )
        return self

    def fixed_cutoffs(self) -> TierCutoffs:
        return TierCutoffs(self.high, self.medium, self.low, "fixed")

    def cutoffs(self, scores: Sequence[float] | np.ndarray | pl.Series | None) -> TierCutoffs:
        """The cut-offs for the customers whose scores are ``scores`` (the fixed ones under
        ``fixed``, or when no score is known)."""
        values = np.asarray([] if scores is None else scores, dtype=float)
        values = values[np.isfinite(values)]
        if self.method == "fixed" or len(values) == 0:
            return self.fixed_cutoffs()
        average = float(values.mean())
        if self.method == "lift":
            found = [lift * average for lift in (self.high_lift, self.medium_lift, self.low_lift)]
        else:
            top = np.cumsum([self.high_share, self.medium_share, self.low_share])
            found = [float(q) for q in np.quantile(values, 1.0 - top)]
            # High is strictly above its cut-off: when the riskiest scores tie (a calibrated
            # model's top plateau) and the cut-off lands on them, no one would be High. The tied
            # top group is High then, though it is more than the share.
            if found[0] >= values.max():
                found[0] = float(np.nextafter(values.max(), 0.0))
        high, medium, low = (
            min(f, fixed)
            for f, fixed in zip(found, (self.high, self.medium, self.low), strict=True)
        )
        # Ties (many equal scores) must not leave a tier with no range at all.
        medium = min(medium, np.nextafter(high, 0.0))
        low = min(low, np.nextafter(medium, 0.0))
        return TierCutoffs(float(high), float(medium), float(low), self.method, average)

    def describe(self, cut: TierCutoffs) -> str:
        """The tier rule in words, for the pages and the CLI."""
        bands = (
            f"High > {cut.high:.1%}, Medium {cut.medium:.1%}–{cut.high:.1%}, "
            f"Low {cut.low:.1%}–{cut.medium:.1%}, Safe < {cut.low:.1%}"
        )
        caps = f"no cut-off above the fixed {self.high:g} / {self.medium:g} / {self.low:g}"
        if cut.method == "quantile":
            return (
                f"Tiers: {bands}: the riskiest {self.high_share:.0%} of the customers scored are "
                f"High, the next {self.medium_share:.0%} Medium and the next "
                f"{self.low_share:.0%} Low ({caps})."
            )
        if cut.method == "lift" and cut.average_risk is not None:
            return (
                f"Tiers: {bands}: High from {self.high_lift:g}×, Medium from "
                f"{self.medium_lift:g}× and Low from {self.low_lift:g}× the average risk of "
                f"{cut.average_risk:.1%} ({caps})."
            )
        return f"Tiers: {bands} (fixed cut-offs)."

    def tier_of(self, probability: float, scores: Sequence[float] | None = None) -> RiskTier:
        """The tier of one churn probability among the customers scored ``scores`` (the fixed
        cut-offs without them)."""
        cut = self.cutoffs(scores)
        if probability > cut.high:
            return "High"
        if probability >= cut.medium:
            return "Medium"
        if probability >= cut.low:
            return "Low"
        return "Safe"

    def tier_expr(self, column: str | pl.Expr, scores: Sequence[float] | None = None) -> pl.Expr:
        """A polars expression ``risk_tier``: the tier of each probability in ``column`` among
        the customers scored ``scores`` (the fixed cut-offs without them)."""
        cut = self.cutoffs(scores)
        p = pl.col(column) if isinstance(column, str) else column
        return (
            pl.when(p.is_null())
            .then(pl.lit(None, dtype=pl.String))
            .when(p > cut.high)
            .then(pl.lit("High"))
            .when(p >= cut.medium)
            .then(pl.lit("Medium"))
            .when(p >= cut.low)
            .then(pl.lit("Low"))
            .otherwise(pl.lit("Safe"))
            .alias("risk_tier")
        )

    def stamp(self) -> tuple[float | str, ...]:
        """Every value the tiers depend on (part of cache keys)."""
        return (
            self.method, self.high, self.medium, self.low,
            self.high_share, self.medium_share, self.low_share,
            self.high_lift, self.medium_lift, self.low_lift,
        )  # fmt: skip


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
