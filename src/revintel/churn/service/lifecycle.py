"""The model lifecycle: drift, scheduled retraining, a model's insights, horizons compared."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import polars as pl

from revintel.churn import features as F
from revintel.churn import registry
from revintel.churn.config import load_config
from revintel.churn.drift import (
    data_quality,
    drift_report,
    max_drift,
    retraining_due,
)
from revintel.churn.service.common import (
    InvalidChurnRequest,
    Progress,
    factor_label,
    feature_frame,
    now,
)
from revintel.churn.service.models import resolve_model
from revintel.churn.service.thresholds import held_out_metrics
from revintel.churn.service.training import train_warehouse_model
from revintel.core.calendar import month_label
from revintel.core.runtime import Runtime

__all__ = [
    "DriftReport",
    "FeatureImportance",
    "HorizonModel",
    "ModelInsights",
    "RetrainResult",
    "TableDrift",
    "compare_horizons",
    "drift",
    "model_insights",
    "retrain",
    "table_drift",
]


def _shallow(result: object) -> dict[str, Any]:
    """A dataclass's fields in order, values as they are (frames are not copied)."""
    return {f.name: getattr(result, f.name) for f in fields(result)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class DriftReport:
    """PSI per feature of the latest month against a model's training data, and data quality."""

    version: str
    month: str
    training: str
    """The training window, ``YYYY-MM..YYYY-MM``."""
    drift: pl.DataFrame
    """:func:`revintel.churn.drift.drift_report`, worst first."""
    quality: pl.DataFrame
    """:func:`revintel.churn.drift.data_quality` of the month's features."""
    max_psi: float | None
    """The largest PSI among the features that can trigger retraining (not tenure or
    subscription age, which move with the calendar: ``features.MOVES_WITH_TIME``)."""
    max_psi_feature: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _shallow(self)


@dataclass(frozen=True, slots=True)
class TableDrift:
    """An uploaded feature table against the production table model's training data."""

    reference_version: str | None
    """The production table model compared against; None when there is none (no reference)."""
    drift: pl.DataFrame
    quality: pl.DataFrame


@dataclass(frozen=True, slots=True)
class RetrainResult:
    """What a retraining check did: nothing (not due), or a candidate promoted or rejected."""

    retrained: bool
    reason: str
    production: str | None
    candidate: str | None = None
    promoted: bool | None = None
    decision: str | None = None
    metrics: dict[str, Any] | None = None
    """The candidate's headline held-out figures (:meth:`TrainingReport.summary`)."""

    def to_dict(self) -> dict[str, Any]:
        if not self.retrained:
            return {"retrained": False, "reason": self.reason, "production": self.production}
        return {
            "retrained": True,
            "reason": self.reason,
            "candidate": self.candidate,
            "promoted": self.promoted,
            "decision": self.decision,
            "production": self.production,
            "metrics": self.metrics,
        }


@dataclass(frozen=True, slots=True)
class FeatureImportance:
    """A feature's mean absolute SHAP value over the held-out rows."""

    feature: str
    label: str | None
    mean_abs_shap: float

    def to_row(self) -> dict[str, Any]:
        return _shallow(self)


@dataclass(frozen=True, slots=True)
class ModelInsights:
    """A model's registry record, held-out metrics and global importance, most important first."""

    record: registry.ModelRecord
    metrics: dict[str, Any]
    """Held-out metrics as registered (:func:`revintel.churn.evaluation.evaluate`)."""
    importance: list[FeatureImportance]

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record.as_dict(),
            "metrics": self.metrics,
            "importance": [i.to_row() for i in self.importance],
        }


@dataclass(frozen=True, slots=True)
class HorizonModel:
    """The production model of one horizon and its held-out headline figures."""

    horizon_months: int
    version: str
    roc_auc: float | None
    pr_auc: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    threshold: float | None
    """The model's own max-F1 threshold, at which precision, recall and F1 are given."""
    brier: float | None
    base_rate: float | None
    oracle_roc_auc: float | None
    baseline_roc_auc: float | None

    def to_dict(self) -> dict[str, Any]:
        return _shallow(self)


def drift(ctx: Runtime, version: str | None = None) -> DriftReport:
    """PSI per feature (latest month vs training) and the latest month's data-quality report."""
    record = resolve_model(ctx, version)
    if record.kind != "warehouse":
        raise InvalidChurnRequest(
            f"version {record.version!r}: expected a model trained on the loaded data; "
            f"{record.version} was trained on an uploaded table, so its drift is measured against "
            "a new table of the same columns (Model Training, Custom table: upload the table)",
            field="version",
        )
    panel, frame = feature_frame(ctx)
    current = frame.filter(pl.col("cutoff") == panel.last_month)
    report = drift_report(record.reference["histograms"], current, F.MOVES_WITH_TIME)
    quality = data_quality(current.select([s["name"] for s in record.features]))
    top_psi, top_feature = max_drift(report)
    return DriftReport(
        version=record.version,
        month=month_label(panel.last_month),
        training=f"{record.training_from}..{record.training_to}",
        drift=report,
        quality=quality,
        max_psi=top_psi,
        max_psi_feature=top_feature,
    )


def table_drift(
    ctx: Runtime, frame: pl.DataFrame, exclude: Sequence[str | None] = ()
) -> TableDrift:
    """PSI per feature of an uploaded table (without the ``exclude`` columns: target, id)
    against the production table model's training data, and the table's data quality."""
    features = frame.drop([c for c in exclude if c])
    production = registry.production(ctx, kind="table", horizon=None)
    histograms = production.reference.get("histograms") if production is not None else None
    return TableDrift(
        reference_version=production.version if production is not None and histograms else None,
        drift=drift_report(histograms or {}, features),
        quality=data_quality(features),
    )


def retrain(
    ctx: Runtime,
    horizon: int | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> RetrainResult:
    """Scheduled retraining: retrain when due (monthly or on drift) and promote only if the new
    model beats production by the configured margin."""
    cfg = load_config(ctx.settings)
    horizon = horizon or cfg.default_horizon
    current = registry.production(ctx, kind="warehouse", horizon=horizon)
    max_psi = drift_feature = None
    if current is not None:
        drifted = drift(ctx, current.version)
        max_psi, drift_feature = drifted.max_psi, drifted.max_psi_feature
    due, reason = retraining_due(
        current.created_at if current else None,
        now(),
        cfg.retrain_every_months,
        max_psi,
        cfg.drift_psi_threshold,
        drift_feature=drift_feature,
    )
    if not (due or force):
        return RetrainResult(
            retrained=False, reason=reason, production=current.version if current else None
        )
    report = train_warehouse_model(ctx, horizon, progress=progress, promote="if_better")
    if not report.promoted:
        registry.reject(ctx, report.version, report.decision)
    production = registry.production(ctx, kind="warehouse", horizon=horizon)
    return RetrainResult(
        retrained=True,
        reason=reason if due else "forced",
        production=production.version if production is not None else None,
        candidate=report.version,
        promoted=report.promoted,
        decision=report.decision,
        metrics=report.summary(),
    )


def model_insights(ctx: Runtime, version: str | None = None) -> ModelInsights:
    """Model Insights: metrics, importance, curves, confusion matrix, calibration of a model."""
    record = resolve_model(ctx, version)
    importance = sorted(record.importance.items(), key=lambda kv: -kv[1])
    return ModelInsights(
        record=record,
        # at the model's own threshold: the applied one if it was applied for this model
        metrics=held_out_metrics(ctx, record.version),
        importance=[FeatureImportance(k, factor_label(k), v) for k, v in importance],
    )


def compare_horizons(ctx: Runtime) -> list[HorizonModel]:
    """The production 1-month and 3-month models side by side (Churn Overview): precision,
    recall and F1 of each at its own max-F1 threshold (the same policy for both)."""
    out = []
    for h in F.HORIZONS:
        record = registry.production(ctx, kind="warehouse", horizon=h)
        if record is None:
            continue
        m = held_out_metrics(ctx, record.version, "max_f1")
        out.append(
            HorizonModel(
                horizon_months=h,
                version=record.version,
                roc_auc=m.get("roc_auc"),
                pr_auc=m.get("pr_auc"),
                precision=m.get("precision"),
                recall=m.get("recall"),
                f1=m.get("f1"),
                threshold=m.get("threshold"),
                brier=m.get("brier"),
                base_rate=m.get("base_rate"),
                oracle_roc_auc=m.get("oracle_roc_auc"),
                baseline_roc_auc=(m.get("baseline") or {}).get("roc_auc"),
            )
        )
    return out


#: Threshold-free measures first: they compare two models whatever threshold each would use.
THRESHOLD_FREE = (
    "roc_auc", "pr_auc", "brier", "log_loss", "lift_top_decile", "capture_top_decile",
    "oracle_roc_auc", "base_rate",
)  # fmt: skip
AT_THRESHOLD = ("threshold", "precision", "recall", "f1", "accuracy")


def compare_models(ctx: Runtime, a: str, b: str) -> registry.ModelComparison:
    """Two versions side by side (:func:`revintel.churn.registry.compare`) at the same threshold
    policy: precision, recall, F1, accuracy and the confusion matrices of each at its own max-F1
    threshold on its held-out customers (never at a threshold another model was tuned for).
    Rows: the threshold-free measures, then the threshold and the figures at it, then the rest."""
    base = registry.compare(ctx, a, b)
    ma = _flat(held_out_metrics(ctx, a, "max_f1"))
    mb = _flat(held_out_metrics(ctx, b, "max_f1"))
    names = [*ma, *(k for k in mb if k not in ma)]
    ordered = [
        *(n for n in THRESHOLD_FREE if n in names),
        *(n for n in AT_THRESHOLD if n in names),
        *(n for n in names if n not in THRESHOLD_FREE and n not in AT_THRESHOLD),
    ]
    rows = []
    for name in ordered:
        va, vb = ma.get(name), mb.get(name)
        delta = None if va is None or vb is None else vb - va
        rows.append({"metric": name, "a": va, "b": vb, "delta": delta})
    confusion = {
        "a": held_out_metrics(ctx, a, "max_f1").get("confusion"),
        "b": held_out_metrics(ctx, b, "max_f1").get("confusion"),
    }
    return replace(base, metrics=rows, confusion=confusion)


def _flat(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric metrics, the baseline's with a ``baseline.`` prefix."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            flat[f"{prefix}{key}"] = float(value)
        elif isinstance(value, dict) and not prefix and key == "baseline":
            flat.update(_flat(value, prefix="baseline."))
    return flat
