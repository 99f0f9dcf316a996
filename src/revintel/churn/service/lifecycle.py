"""The model lifecycle: drift, scheduled retraining, a model's insights, horizons compared."""

from __future__ import annotations

from typing import Any

import polars as pl

from revintel.churn import features as F
from revintel.churn import registry
from revintel.churn.config import load_config
from revintel.churn.drift import (
    data_quality,
    drift_report,
    retraining_due,
)
from revintel.churn.service.common import (
    Progress,
    factor_label,
    feature_frame,
    now,
)
from revintel.churn.service.models import resolve_model
from revintel.churn.service.training import train_warehouse_model
from revintel.core.calendar import month_label
from revintel.core.runtime import Runtime


# -- lifecycle ------------------------------------------------------------------------------------
def drift(ctx: Runtime, version: str | None = None) -> dict[str, Any]:
    """PSI per feature (latest month vs training) and the latest month's data-quality report."""
    record = resolve_model(ctx, version)
    panel, frame = feature_frame(ctx)
    current = frame.filter(pl.col("cutoff") == panel.last_month)
    report = drift_report(record.reference["histograms"], current)
    quality = data_quality(current.select([s["name"] for s in record.features]))
    return {
        "version": record.version,
        "month": month_label(panel.last_month),
        "training": f"{record.training_from}..{record.training_to}",
        "drift": report,
        "quality": quality,
        "max_psi": float(report["psi"].max()) if report.height else None,
    }


def retrain(
    ctx: Runtime,
    horizon: int | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Scheduled retraining: retrain when due (monthly or on drift) and promote only if the new
    model beats production by the configured margin."""
    cfg = load_config(ctx.settings)
    horizon = horizon or cfg.default_horizon
    current = registry.production(ctx, kind="warehouse", horizon=horizon)
    max_psi = None
    if current is not None:
        max_psi = drift(ctx, current.version)["max_psi"]
    due, reason = retraining_due(
        current.created_at if current else None,
        now(),
        cfg.retrain_every_months,
        max_psi,
        cfg.drift_psi_threshold,
    )
    if not (due or force):
        return {
            "retrained": False,
            "reason": reason,
            "production": current.version if current else None,
        }
    report = train_warehouse_model(ctx, horizon, progress=progress, promote="if_better")
    if not report.promoted:
        registry.reject(ctx, report.version, report.decision)
    return {
        "retrained": True,
        "reason": reason if due else "forced",
        "candidate": report.version,
        "promoted": report.promoted,
        "decision": report.decision,
        "production": registry.production(ctx, kind="warehouse", horizon=horizon).version,  # type: ignore[union-attr]
        "metrics": report.summary(),
    }


def model_insights(ctx: Runtime, version: str | None = None) -> dict[str, Any]:
    """Model Insights: metrics, importance, curves, confusion matrix, calibration of a model."""
    record = resolve_model(ctx, version)
    importance = sorted(record.importance.items(), key=lambda kv: -kv[1])
    return {
        "record": record.as_dict(),
        "metrics": record.metrics,
        "importance": [
            {"feature": k, "label": factor_label(k), "mean_abs_shap": v} for k, v in importance
        ],
    }


def compare_horizons(ctx: Runtime) -> list[dict[str, Any]]:
    """The production 1-month and 3-month models side by side (Churn Overview)."""
    out = []
    for h in F.HORIZONS:
        record = registry.production(ctx, kind="warehouse", horizon=h)
        if record is None:
            continue
        m = record.metrics
        out.append(
            {
                "horizon_months": h,
                "version": record.version,
                **{
                    k: m.get(k) for k in ("roc_auc", "pr_auc", "precision", "recall", "f1", "brier")
                },
                "base_rate": m.get("base_rate"),
                "oracle_roc_auc": m.get("oracle_roc_auc"),
                "baseline_roc_auc": (m.get("baseline") or {}).get("roc_auc"),
            }
        )
    return out
