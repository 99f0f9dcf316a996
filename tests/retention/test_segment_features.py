"""The customer features frame (app/retention/features.py) on the churn demo company."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.retention.features import CustomerFeatures, customer_features
from revintel.churn import features as F
from tests.conftest import isolated_settings


@pytest.fixture(scope="module")
def features(churn_home: Path) -> Iterator[CustomerFeatures]:
    ctx = AppContext(isolated_settings(churn_home))
    try:
        yield customer_features(ctx)
    finally:
        ctx.close()


def test_one_row_per_customer_with_every_column(
    churn_home: Path, features: CustomerFeatures
) -> None:
    customers = pl.read_parquet(churn_home / "demo" / "customers.parquet")
    frame = features.frame
    assert frame.height == customers.height
    assert frame["customer_id"].n_unique() == frame.height
    assert set(frame["customer_id"]) == set(customers["customer_id"].cast(pl.String))
    assert frame.columns[0] == "customer_id"
    assert list(features.columns) == frame.columns
    for name in (
        "name", "segment", "plan", "country", "industry", "owner", "has_account_manager",
        "mrr", "arr", "tenure_months", "health_score", "engagement", "sentiment", "support",
        "health_tier", "churn_risk", "risk_tier", "clv", "rfm_segment",
    ):  # fmt: skip
        assert name in frame.columns, name
    # every churn feature is a column, under its churn name
    for name in F.FEATURES:
        assert name in frame.columns or name == "plan_type", name
    kinds = {c.kind for c in features.columns.values()}
    assert kinds <= {"number", "text", "bool", "date"}
    assert features.columns["mrr"].kind == "number"
    assert features.columns["has_account_manager"].kind == "bool"
    assert features.columns["nps_answered"].kind == "bool"
    assert features.columns["segment"].kind == "text"


def test_values_agree_with_their_sources(churn_home: Path, features: CustomerFeatures) -> None:
    frame = features.frame
    assert frame["arr"].to_list() == [m * 12 for m in frame["mrr"].to_list()]
    # churned customers are rows too, with MRR 0 and no model score
    churned = frame.filter(~pl.col("is_active"))
    assert churned.height > 0
    assert churned["mrr"].max() == 0
    active = frame.filter(pl.col("is_active"))
    assert active["mrr"].min() > 0
    # the churn model scored the active customers: risk in 0..1 with a tier
    scored = active.filter(pl.col("churn_risk").is_not_null())
    assert scored.height > 0.9 * active.height
    assert scored["churn_risk"].min() >= 0 and scored["churn_risk"].max() <= 1
    assert scored["risk_tier"].null_count() == 0
    # health tiers are the health service's
    assert set(active["health_tier"].drop_nulls()) <= {"Healthy", "At Risk", "Critical"}
    # the churn feature mrr at the last cut-off equals the warehouse MRR
    assert active["tenure_months"].min() >= 0
    assert (frame["has_account_manager"] == frame["owner"].is_not_null()).all()
    assert features.as_of.count("-") == 1 and len(features.as_of) == 7


def test_cached_per_snapshot(churn_home: Path, features: CustomerFeatures) -> None:
    ctx = AppContext(isolated_settings(churn_home))
    try:
        again = customer_features(ctx)
    finally:
        ctx.close()
    assert again.frame.equals(features.frame)
    assert again.key == features.key


def test_missing_sources_leave_null_columns(loaded_context: AppContext) -> None:
    """No churn model trained: churn_risk and risk_tier are null, and the notes say why."""
    result = customer_features(loaded_context)
    assert result.frame.height > 0
    assert result.frame["churn_risk"].null_count() == result.frame.height
    assert any("Churn risk" in n for n in result.notes)
