"""Training: calibrated contributions, skops round trip, reproducibility, splits, progress."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import skops.io as sio

from revintel.churn.tabular import infer_columns
from revintel.churn.training import (
    SKOPS_TYPES,
    ChurnModel,
    TrainConfig,
    global_importance,
    logit,
    split_by_time,
    split_random,
    train_model,
)

FAST = TrainConfig(n_estimators=60, learning_rate=0.1, min_child_samples=20, num_threads=1)


def synthetic_customers(n: int = 1500, seed: int = 0) -> pl.DataFrame:
    """Customers whose churn depends on late payments, usage, plan and a yes/no flag."""
    rng = np.random.default_rng(seed)
    late = rng.poisson(0.6, n)
    usage = rng.normal(50, 15, n)
    plan = rng.choice(["basic", "pro", "enterprise"], n, p=[0.5, 0.3, 0.2])
    annual = rng.random(n) < 0.4
    eta = -1.5 + 0.9 * late - 0.04 * (usage - 50) + (plan == "basic") * 0.8 - annual * 0.7
    churned = rng.random(n) < 1 / (1 + np.exp(-eta))
    usage_text = [f"{u:,.1f}" if i % 50 else "" for i, u in enumerate(usage)]  # text + blanks
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "late_payments": late,
            "usage": usage_text,
            "plan": plan,
            "annual": np.where(annual, "yes", "no"),
            "churned": churned.astype(int),
        }
    )


@pytest.fixture(scope="module")
def trained() -> tuple[ChurnModel, pl.DataFrame, pl.DataFrame]:
    frame = synthetic_customers()
    typing = infer_columns(frame, exclude=["churned", "customer_id"])
    rest, test = split_random(frame, "churned", 0.2, seed=1)
    train, calibration = split_random(rest, "churned", 0.25, seed=1)
    model = train_model(train, calibration, typing.specs, "churned", FAST, id_column="customer_id")
    return model, train, test


def test_contributions_add_up_to_calibrated_log_odds(
    trained: tuple[ChurnModel, pl.DataFrame, pl.DataFrame],
) -> None:
    model, _, test = trained
    p = model.predict_proba(test)
    contrib = model.contributions(test)
    assert contrib.shape == (test.height, len(model.feature_names) + 1)
    np.testing.assert_allclose(contrib.sum(axis=1), logit(p), atol=1e-6)
    assert ((p > 0) & (p < 1)).all()
    assert model.baseline_proba(test).shape == (test.height,)


def test_skops_round_trip_gives_identical_predictions(
    trained: tuple[ChurnModel, pl.DataFrame, pl.DataFrame],
) -> None:
    model, _, test = trained
    data = sio.dumps(model.to_bundle())
    untrusted = sio.get_untrusted_types(data=data)
    assert set(untrusted) <= set(SKOPS_TYPES), untrusted
    loaded = ChurnModel.from_bundle(sio.loads(data, trusted=SKOPS_TYPES))
    np.testing.assert_array_equal(loaded.predict_proba(test), model.predict_proba(test))
    np.testing.assert_array_equal(loaded.baseline_proba(test), model.baseline_proba(test))
    np.testing.assert_array_equal(loaded.contributions(test), model.contributions(test))
    assert loaded.specs == model.specs and loaded.id_column == "customer_id"


def test_same_seed_same_probabilities(
    trained: tuple[ChurnModel, pl.DataFrame, pl.DataFrame],
) -> None:
    model, _, test = trained
    frame = synthetic_customers()
    typing = infer_columns(frame, exclude=["churned", "customer_id"])
    rest, _ = split_random(frame, "churned", 0.2, seed=1)
    train, calibration = split_random(rest, "churned", 0.25, seed=1)
    again = train_model(train, calibration, typing.specs, "churned", FAST)
    np.testing.assert_array_equal(again.predict_proba(test), model.predict_proba(test))


def test_progress_is_reported_per_round() -> None:
    frame = synthetic_customers(600, seed=3)
    typing = infer_columns(frame, exclude=["churned", "customer_id"])
    train, calibration = split_random(frame, "churned", 0.3, seed=0)
    seen: list[tuple[float, str]] = []
    config = TrainConfig(n_estimators=20, early_stopping_rounds=100, num_threads=1)
    train_model(
        train, calibration, typing.specs, "churned", config, lambda f, m: seen.append((f, m))
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert sum("Boosting round" in m for _, m in seen) == 20


def test_global_importance_finds_the_planted_drivers(
    trained: tuple[ChurnModel, pl.DataFrame, pl.DataFrame],
) -> None:
    model, train, _ = trained
    ranked = global_importance(model, train)
    assert ranked[0][0] == "late_payments"
    assert [v for _, v in ranked] == sorted((v for _, v in ranked), reverse=True)
    assert set(model.importance()) == set(model.feature_names)


def test_splits() -> None:
    frame = synthetic_customers(1000)
    rest, test = split_random(frame, "churned", 0.2, seed=42)
    assert test.height == 200 and rest.height == 800
    assert abs(test["churned"].mean() - rest["churned"].mean()) < 0.01  # stratified
    assert set(rest["customer_id"]).isdisjoint(test["customer_id"])
    panel = pl.DataFrame({"cutoff": [1, 2, 3, 4, 5, 6], "x": range(6)})
    train, test = split_by_time(panel, "cutoff", [6])
    assert train["cutoff"].to_list() == [1, 2, 3, 4, 5] and test["cutoff"].to_list() == [6]
    train, _ = split_by_time(panel, "cutoff", [6], gap=3)
    assert train["cutoff"].to_list() == [1, 2]
