"""Churn prediction as the faces use it: train, evaluate, score, explain, thresholds, lifecycle.

Each module orchestrates the pure parts (``revintel/churn/features.py``, ``tabular.py``,
``training.py``, ``evaluation.py``, ``explain.py``, ``drift.py``) and the model registry
(``registry.py``); the CLI, the API and the dashboard call these functions (through
``revintel.app`` where a use case writes to the warehouse) and only format their results.
See ``docs/churn.md``.

* :mod:`.training`: train on the warehouse or a feature table, register the model;
* :mod:`.models`: the production model, a loaded model per version;
* :mod:`.scoring`: score the warehouse (rows for ``predictions``), a file, feature rows;
* :mod:`.predictions`: the latest prediction per account, filters, overview, driver segments;
* :mod:`.customers`: one customer's explanation, trend, similar customers, what-if;
* :mod:`.thresholds`: the threshold table and ROI, saving a threshold;
* :mod:`.lifecycle`: drift, scheduled retraining, model insights, horizons compared.

The scores go to the warehouse ``predictions`` table (its contract), one row per account and
scored month, so every page also works on predictions a user brings (brief 004).
"""

from __future__ import annotations

__all__ = [
    "DRIVER_SEGMENTS",
    "FACTOR_ACTIONS",
    "TIER_LABELS",
    "TREND_MONTHS",
    "ChurnOverview",
    "CustomerRisk",
    "DriftReport",
    "DriverSegment",
    "DriverSegmentSummary",
    "FeatureImportance",
    "HorizonModel",
    "InvalidChurnRequest",
    "ModelInsights",
    "ModelThreshold",
    "Progress",
    "RetrainResult",
    "RiskPoint",
    "RiskVerdict",
    "RoiInputs",
    "ScoreRun",
    "TableDrift",
    "ThresholdAnalysis",
    "TrainingReport",
    "apply_threshold",
    "clear_caches",
    "clv_per_mrr",
    "compare_horizons",
    "compare_models",
    "current_predictions",
    "current_tier_cutoffs",
    "customer",
    "customer_what_if",
    "drift",
    "driver_segments",
    "feature_frame",
    "filter_predictions",
    "held_out_metrics",
    "model",
    "model_insights",
    "model_threshold",
    "overview",
    "resolve_model",
    "retrain",
    "risk_trend",
    "risk_verdict",
    "score_file",
    "score_records",
    "score_warehouse",
    "search_accounts",
    "similar_customers",
    "table_drift",
    "threshold_analysis",
    "train_table_model",
    "train_warehouse_model",
    "truth_dir",
]

from revintel.churn.actions import DRIVER_SEGMENTS, FACTOR_ACTIONS
from revintel.churn.service.common import (
    FEATURE_FRAMES,
    TREND_MONTHS,
    DriverSegment,
    InvalidChurnRequest,
    Progress,
    feature_frame,
    truth_dir,
)
from revintel.churn.service.customers import (
    SCORES_FILES,
    CustomerRisk,
    RiskPoint,
    customer,
    customer_what_if,
    risk_trend,
    similar_customers,
)
from revintel.churn.service.lifecycle import (
    DriftReport,
    FeatureImportance,
    HorizonModel,
    ModelInsights,
    RetrainResult,
    TableDrift,
    compare_horizons,
    compare_models,
    drift,
    model_insights,
    retrain,
    table_drift,
)
from revintel.churn.service.models import LOADED_MODELS, model, resolve_model
from revintel.churn.service.predictions import (
    CURRENT_PREDICTIONS,
    RAW_PREDICTIONS,
    TIER_LABELS,
    ChurnOverview,
    DriverSegmentSummary,
    RiskVerdict,
    current_predictions,
    current_tier_cutoffs,
    driver_segments,
    filter_predictions,
    overview,
    risk_verdict,
    search_accounts,
)
from revintel.churn.service.scoring import ScoreRun, score_file, score_records, score_warehouse
from revintel.churn.service.thresholds import (
    ModelThreshold,
    RoiInputs,
    ThresholdAnalysis,
    apply_threshold,
    clv_per_mrr,
    held_out_metrics,
    model_threshold,
    threshold_analysis,
)
from revintel.churn.service.training import (
    TrainingReport,
    train_table_model,
    train_warehouse_model,
)


def clear_caches() -> None:
    """Forget churn's cached results: feature frames, predictions, scores files, loaded models."""
    for cache in (
        FEATURE_FRAMES,
        RAW_PREDICTIONS,
        CURRENT_PREDICTIONS,
        SCORES_FILES,
        LOADED_MODELS,
    ):
        cache.clear()
