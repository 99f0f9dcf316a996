"""Deal value prediction, two methods returned together (``docs/pipeline.md``, Deals → Deal value).

1. **Formula**, every factor configurable in :class:`DealValueConfig`::

       base_value = users × list price per user × (1 − discount) × contract term (months)
       predicted  = base_value × billing_factor × industry_factor × stage_factor
                    × expansion_factor

   A factor not set in the settings is 1 (no adjustment); the breakdown returns each one.

2. **Model** learned from closed-won deals: ridge regression of log(amount) on one-hot segment,
   product, lead source, industry and deal type, plus log(1 + seats) and the discount when loaded.
   Split by close date: the oldest 64% train, the next 16% calibrate the interval (split
   conformal: the 10th and 90th percentiles of the log residuals give the 80% interval), the
   newest 20% are held out to measure MAPE and the interval's coverage, beside a baseline (the
   training median amount of the deal's segment).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from revintel.data.schema import BILLING_PERIODS
from revintel.pipeline.stages import OPEN_STAGES

CATEGORICAL = ("segment", "product", "lead_source", "industry", "deal_type")
MIN_WON_DEALS = 30
WITHIN = 0.20  # confidence_score: share of held-out deals predicted within ±20%


class DealValueConfig(BaseModel):
    """Factors of the deal value formula; a key not listed has factor 1."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    list_prices: dict[str, float] = Field(
        default_factory=dict,
        description="List price per user per month, by product or plan (used when a request "
        "gives none).",
    )
    billing_factors: dict[str, float] = Field(default_factory=dict)
    industry_factors: dict[str, float] = Field(default_factory=dict)
    stage_factors: dict[str, float] = Field(default_factory=dict)

    @field_validator("list_prices", "billing_factors", "industry_factors", "stage_factors")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for key, v in value.items():
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{key}: expected a number > 0, got {v}")
        return value

    @field_validator("billing_factors")
    @classmethod
    def _billing(cls, value: dict[str, float]) -> dict[str, float]:
        for key in value:
            if key not in BILLING_PERIODS:
                raise ValueError(
                    f"unknown billing cycle {key!r}; expected one of {', '.join(BILLING_PERIODS)}"
                )
        return value

    @field_validator("stage_factors")
    @classmethod
    def _stages(cls, value: dict[str, float]) -> dict[str, float]:
        for key in value:
            if key not in OPEN_STAGES:
                raise ValueError(f"unknown stage {key!r}; expected one of {', '.join(OPEN_STAGES)}")
        return value


@dataclass(frozen=True)
class DealInputs:
    """What the formula and the model need (the API's request, validated by the faces)."""

    num_users_planned: int
    base_list_price_per_user: float | None = None
    discount_pct: float = 0.0
    billing_cycle: str = "annual"
    contract_term_months: int = 12
    industry: str | None = None
    deal_stage: str | None = None
    expansion_potential_factor: float = 1.0
    product_plan: str | None = None
    segment: str | None = None
    lead_source: str | None = None
    deal_type: str | None = None
    similar_closed_deals_avg_acv: float | None = None


def formula(inputs: DealInputs, config: DealValueConfig) -> tuple[float, dict[str, Any]]:
    """The seat-price formula: the predicted value and its breakdown."""
    from revintel.core.errors import InvalidOption

    price = inputs.base_list_price_per_user
    if price is None:
        price = config.list_prices.get(inputs.product_plan or "")
        if price is None:
            known = ", ".join(config.list_prices) or "none are set"
            raise InvalidOption(
                "base_list_price_per_user: expected a price per user per month, or a "
                f"product_plan with a list price in the settings ({known})"
            )
    base = inputs.num_users_planned * price * (1 - inputs.discount_pct)
    base *= inputs.contract_term_months
    billing = config.billing_factors.get(inputs.billing_cycle, 1.0)
    industry = config.industry_factors.get(inputs.industry or "", 1.0)
    stage = config.stage_factors.get(inputs.deal_stage or "", 1.0)
    value = base * billing * industry * stage * inputs.expansion_potential_factor
    breakdown: dict[str, Any] = {
        "users": inputs.num_users_planned,
        "list_price_per_user": price,
        "discount_pct": inputs.discount_pct,
        "contract_term_months": inputs.contract_term_months,
        "base_value": round(base, 2),
        "billing_factor": billing,
        "industry_factor": industry,
        "stage_factor": stage,
        "expansion_factor": inputs.expansion_potential_factor,
    }
    if inputs.similar_closed_deals_avg_acv:
        breakdown["vs_similar_closed_deals"] = round(value / inputs.similar_closed_deals_avg_acv, 4)
    return round(value, 2), breakdown


# -- the learned model -----------------------------------------------------------------------------


@dataclass
class ValueModel:
    """A fitted ridge on log(amount), its interval and its held-out accuracy."""

    features: list[str]
    numeric: list[str]
    pipeline: Any
    residual_low: float
    residual_high: float
    held_out_mape: float
    baseline_mape: float
    coverage_80: float
    within_20pct: float
    trained_on: int
    calibrated_on: int
    tested_on: int
    test_from: str
    notes: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        return {
            "method": "ridge regression on log(amount), split by close date",
            "features": self.features + self.numeric,
            "held_out_mape": round(self.held_out_mape, 4),
            "baseline_mape": round(self.baseline_mape, 4),
            "beats_baseline": self.held_out_mape < self.baseline_mape,
            "interval_coverage_80": round(self.coverage_80, 4),
            "held_out_within_20pct": round(self.within_20pct, 4),
            "trained_on": self.trained_on,
            "calibrated_on": self.calibrated_on,
            "tested_on": self.tested_on,
            "test_closed_from": self.test_from,
            "notes": self.notes,
        }

    def predict(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point prediction and the 80% interval for each row."""
        x = _design(frame, self.features, self.numeric)
        log_pred = self.pipeline.predict(x)
        return (
            np.exp(log_pred),
            np.exp(log_pred + self.residual_low),
            np.exp(log_pred + self.residual_high),
        )


def _design(frame: pl.DataFrame, features: list[str], numeric: list[str]) -> Any:
    import pandas as pd

    data: dict[str, Any] = {}
    for c in features:
        values = frame[c].cast(pl.Utf8).fill_null("(blank)").to_list() if c in frame.columns else []
        data[c] = values or ["(blank)"] * frame.height
    for c in numeric:
        col = frame[c].cast(pl.Float64) if c in frame.columns else pl.Series([None] * frame.height)
        if c == "seats":
            data["log_seats"] = np.log1p(col.fill_null(0).to_numpy())
        else:
            data[c] = col.fill_null(0).to_numpy()
    return pd.DataFrame(data)


def fit_value_model(won: pl.DataFrame) -> ValueModel | None:
    """Fit on closed-won deals (``amount`` > 0, ``closed_date``); None when fewer than
    :data:`MIN_WON_DEALS`."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    won = won.filter(pl.col("amount") > 0).sort("closed_date", "deal_id")
    if won.height < MIN_WON_DEALS:
        return None
    features = [c for c in CATEGORICAL if c in won.columns and won[c].null_count() < won.height]
    numeric: list[str] = [c for c in ("seats", "discount_pct") if c in won.columns]
    numeric = [c for c in numeric if won[c].null_count() < won.height]
    n = won.height
    a, b = int(n * 0.64), int(n * 0.80)
    train, calib, test = won[:a], won[a:b], won[b:]
    x_cols = features + ["log_seats" if c == "seats" else c for c in numeric]
    transform = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), features)], remainder="passthrough"
    )
    pipe = make_pipeline(transform, Ridge(alpha=1.0))
    pipe.fit(_design(train, features, numeric)[x_cols], np.log(train["amount"].to_numpy()))
    model = ValueModel(features, numeric, pipe, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, a, b - a, n - b, "")
    calib_res = np.log(calib["amount"].to_numpy()) - pipe.predict(
        _design(calib, features, numeric)[x_cols]
    )
    model.residual_low = float(np.quantile(calib_res, 0.10))
    model.residual_high = float(np.quantile(calib_res, 0.90))
    point, low, high = model.predict(test)
    actual = test["amount"].to_numpy()
    errors = np.abs(point - actual) / actual
    model.held_out_mape = float(np.mean(errors))
    model.within_20pct = float(np.mean(errors <= WITHIN))
    model.coverage_80 = float(np.mean((actual >= low) & (actual <= high)))
    model.test_from = str(test["closed_date"].min())
    seg = "segment" if "segment" in won.columns else None
    overall = float(np.median(train["amount"].to_numpy()))
    if seg:
        med = train.group_by(seg).agg(pl.col("amount").median().alias("_m"))
        base = test.join(med, on=seg, how="left")["_m"].fill_null(overall).to_numpy()
    else:
        base = np.full(test.height, overall)
    model.baseline_mape = float(np.mean(np.abs(base - actual) / actual))
    missing = [c for c in ("seats", "product", "discount_pct", "industry") if c not in x_cols]
    missing = [c for c in missing if not (c == "seats" and "log_seats" in x_cols)]
    if missing:
        model.notes.append("not in the loaded deals, so not used: " + ", ".join(missing))
    if model.held_out_mape >= model.baseline_mape:
        model.notes.append(
            f"held-out MAPE {model.held_out_mape:.1%} does not beat the segment-median baseline "
            f"({model.baseline_mape:.1%}): prefer the formula"
        )
    return model


def won_frame_columns() -> tuple[str, ...]:
    """Columns of ``deals`` the model reads (those loaded)."""
    return ("deal_id", "amount", "closed_date", "seats", "discount_pct", *CATEGORICAL)
