"""One customer (Customer Lookup): score, explanation, trend, similar customers, what-if."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import polars as pl

from revintel.churn import features as F
from revintel.churn import registry
from revintel.churn.actions import factor_actions
from revintel.churn.explain import Explanation, WhatIf, explain, what_if
from revintel.churn.service.common import (
    FileVersion,
    InvalidChurnRequest,
    check_feature_values,
    scores_path,
)
from revintel.churn.service.models import load_model, reference_of
from revintel.churn.service.predictions import (
    current_predictions,
    raw_predictions,
)
from revintel.core.errors import NotFoundError
from revintel.core.runtime import Runtime
from revintel.warehouse.cache import SnapshotCache

SCORES_FILES: SnapshotCache[pl.DataFrame] = SnapshotCache("churn.scores_files", size=4)
"""The latest scoring run's file of a model, read once per version of the file."""


def _scores_frame(ctx: Runtime, version: str) -> pl.DataFrame:
    path = scores_path(ctx, version)
    if not path.exists():
        raise NotFoundError(
            f"{version} has not scored the warehouse yet; run `revintel churn score`"
        )
    return SCORES_FILES.get(FileVersion(path), str(path), lambda: pl.read_parquet(path))


def _row(ctx: Runtime, account_id: str) -> tuple[registry.ModelRecord, pl.DataFrame, pl.DataFrame]:
    preds = current_predictions(ctx)
    hit = preds.filter(pl.col("account_id") == account_id)
    if hit.height == 0:
        raise NotFoundError(f"account_id {account_id!r} has no churn prediction")
    version = hit["model_version"][0]
    if version is None:
        raise NotFoundError(
            f"account_id {account_id!r} was scored outside revintel (imported predictions): no "
            "explanation is available"
        )
    try:
        record = registry.get(ctx, version)
    except NotFoundError as exc:
        raise NotFoundError(
            f"account_id {account_id!r} was scored by {version}, which is not in the model registry"
        ) from exc
    scores = _scores_frame(ctx, version)
    row = scores.filter(pl.col("account_id") == account_id)
    if row.height == 0:
        raise NotFoundError(f"account_id {account_id!r} is not in {version}'s latest scoring run")
    return record, hit, row


@dataclass(frozen=True, slots=True)
class RiskPoint:
    """One scored date of an account (the ``predictions`` history)."""

    scored_at: str
    churn_risk_score: float
    model_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class CustomerRisk:
    """One customer's latest score, its explanation, actions and risk trend (Customer Lookup)."""

    account_id: str
    account_name: str | None
    segment: str | None
    owner: str | None
    plan_type: str | None
    mrr: float | None
    churn_risk_score: float
    risk_tier: str
    prediction: int
    scored_at: str | None
    model_version: str
    horizon_months: int | None
    explanation: Explanation
    recommended_actions: list[str]
    """Up to three actions for the risk-raising factors (``churn.actions.factor_actions``)."""
    trend: list[RiskPoint]
    driver_segment: str | None

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["explanation"] = self.explanation.to_dict()
        out["trend"] = [p.to_dict() for p in self.trend]
        return out


def customer(ctx: Runtime, account_id: str, top: int = 10) -> CustomerRisk:
    """Score, tier, explanation (top factors), trend, recommended actions and similar customers."""
    record, hit, row = _row(ctx, account_id)
    mdl = load_model(ctx, record.version)
    stats = reference_of(record)
    labels = {k: v.label for k, v in F.FEATURES.items()}
    explanation = explain(mdl, row, stats, top=top, labels=labels)
    info = hit.row(0, named=True)
    return CustomerRisk(
        account_id=account_id,
        account_name=info.get("account_name"),
        segment=info.get("segment"),
        owner=info.get("owner"),
        plan_type=info.get("plan_type"),
        mrr=info.get("mrr"),
        churn_risk_score=info["churn_risk_score"],
        risk_tier=info["risk_tier"],
        prediction=info["prediction"],
        scored_at=str(info["scored_at"]) if info.get("scored_at") else None,
        model_version=record.version,
        horizon_months=record.horizon_months,
        explanation=explanation,
        recommended_actions=factor_actions(explanation.factors),
        trend=risk_trend(ctx, account_id),
        driver_segment=info.get("driver_segment"),
    )


def risk_trend(ctx: Runtime, account_id: str) -> list[RiskPoint]:
    """The account's scores over the scored dates (``predictions`` history), oldest first.

    A trend is over dates: undated scores (imported predictions may have no ``scored_at``) are
    not points of it, so an account scored only undated has an empty trend.
    """
    raw = raw_predictions(ctx)
    rows = (
        raw.filter((pl.col("account_id") == account_id) & pl.col("scored_at").is_not_null())
        .sort("scored_at")
        .to_dicts()
    )
    return [
        RiskPoint(
            scored_at=str(r["scored_at"]),
            churn_risk_score=r["churn_risk_score"],
            model_version=r.get("model_version"),
        )
        for r in rows
    ]


def similar_customers(ctx: Runtime, account_id: str, n: int = 5) -> pl.DataFrame:
    """The ``n`` nearest customers of the same segment in standardised numeric feature space."""
    record, _, row = _row(ctx, account_id)
    scores = _scores_frame(ctx, record.version)
    numeric = [
        s["name"]
        for s in record.features
        if s["kind"] in ("numeric", "boolean") and s["name"] in scores.columns
    ]
    pool = scores
    if "segment" in scores.columns and row["segment"][0] is not None:
        pool = scores.filter(pl.col("segment") == row["segment"][0])
    pool = pool.filter(pl.col("account_id") != account_id)
    if pool.height == 0 or not numeric:
        return pool.select("account_id", "churn_risk_score").head(0)
    x = pool.select([pl.col(c).cast(pl.Float64) for c in numeric]).to_numpy()
    me = row.select([pl.col(c).cast(pl.Float64) for c in numeric]).to_numpy()[0]
    mu, sd = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    sd[~np.isfinite(sd) | (sd == 0)] = 1.0
    z = np.nan_to_num((x - mu) / sd)
    zm = np.nan_to_num((me - mu) / sd)
    dist = np.sqrt(((z - zm) ** 2).sum(axis=1))
    order = np.argsort(dist)[:n]
    picked = pool[order.tolist()].with_columns(distance=pl.Series(dist[order]))
    cols = [
        c
        for c in (
            "account_id",
            "segment",
            "plan_type",
            "mrr",
            "churn_risk_score",
            "top_factor_1",
            "distance",
        )
        if c in picked.columns
    ]
    return picked.select(cols)


def customer_what_if(ctx: Runtime, account_id: str, changes: dict[str, Any]) -> WhatIf:
    """The account's probability with ``changes`` applied to its latest features."""
    record, _, row = _row(ctx, account_id)
    mdl = load_model(ctx, record.version)
    names = set(mdl.feature_names)
    unknown = [k for k in changes if k not in names]
    if unknown:
        raise InvalidChurnRequest(
            f"what-if: unknown feature(s) {', '.join(sorted(unknown))}; expected some of "
            f"{', '.join(mdl.feature_names)}",
            field="changes",
        )
    warehouse = record.kind == "warehouse"
    check_feature_values(mdl.specs, changes, "changes", ranges=warehouse)
    labels = {k: v.label for k, v in F.FEATURES.items()}
    # Suggest only what a retention team can move; an uploaded table's features are unknown to
    # revintel, so every one of them may be suggested.
    actionable = F.ACTIONABLE if warehouse else None
    return what_if(mdl, row, changes, reference_of(record), labels=labels, actionable=actionable)
