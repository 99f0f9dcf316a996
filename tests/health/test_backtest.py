"""Backtest: AUC, churn labels (checked against the generator's truth), logistic weights."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.health import service
from revintel.health.backtest import (
    churn_labels,
    fit_logistic,
    roc_auc,
    weights_from_coefficients,
)
from tests.health.demo import company, demo_home, settings_for


def test_roc_auc_matches_the_pair_count() -> None:
    rng = np.random.default_rng(3)
    score = rng.integers(0, 10, 200).astype(float)  # ties on purpose
    y = rng.random(200) < 0.3
    pos, neg = score[y], score[~y]
    pairs = (pos[:, None] < neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert roc_auc(score, y) == pytest.approx(pairs / (len(pos) * len(neg)))
    assert roc_auc(np.array([10.0, 20, 80, 90]), np.array([1, 1, 0, 0])) == 1.0
    assert roc_auc(np.array([10.0, 20]), np.array([0, 0])) is None


def test_churn_labels_look_ahead() -> None:
    history = pl.DataFrame(
        {
            "account_id": ["A", "A", "A", "A", "A", "B", "B", "B", "B", "B"],
            "month_idx": [1, 2, 3, 4, 5, 1, 2, 4, 5, 6],
        }
    )
    out = churn_labels(history, horizon=2).sort(["account_id", "month_idx"])
    assert out.select("account_id", "month_idx", "churned_next").rows() == [
        ("A", 1, False), ("A", 2, False), ("A", 3, False), ("A", 4, True),
        ("B", 1, True), ("B", 2, True), ("B", 4, False),
    ]  # fmt: skip


def test_labels_agree_with_the_generators_truth() -> None:
    ctx = AppContext(settings_for(demo_home()))
    try:
        labels = churn_labels(service.score_history(ctx), 3)
    finally:
        ctx.close()
    truth = pl.from_arrow(company().truth["churn_probability"])
    truth = truth.with_columns(
        month_idx=pl.col("month").str.slice(0, 4).cast(pl.Int64) * 12
        + pl.col("month").str.slice(5, 2).cast(pl.Int64)
        - 1
    )
    churn_months = truth.filter(pl.col("churned")).select(
        account_id="customer_id", churn_idx="month_idx"
    )
    joined = labels.join(churn_months, on="account_id", how="left").with_columns(
        hit=(pl.col("churn_idx") > pl.col("month_idx"))
        & (pl.col("churn_idx") <= pl.col("month_idx") + 3)
    )
    expected = joined.group_by(["account_id", "month_idx"]).agg(
        pl.col("hit").fill_null(False).any(), pl.col("churned_next").first()
    )
    assert expected["hit"].sum() > 20
    # Every true churn is labelled; the only extra labels are MRR lost to unpaid invoices (the
    # metric's 30-day delinquency rule), which the simulation does not count as churn.
    assert not (expected["hit"] & ~expected["churned_next"]).any()
    # Those extras are about 1% of the rows (9 of 819 on this company).
    assert (expected["hit"] == expected["churned_next"]).mean() > 0.985


def test_logistic_fit_recovers_coefficients() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, size=(20_000, 3))
    beta = np.array([-3.0, -1.0, 0.0])
    y = rng.random(20_000) < 1 / (1 + np.exp(-(0.5 + x @ beta)))
    theta = fit_logistic(x, y, penalty=0.0)
    assert theta[1:] == pytest.approx(beta, abs=0.25)
    assert weights_from_coefficients(theta[1:]) == pytest.approx(
        {"engagement": 75.0, "sentiment": 25.0, "support": 0.0}, abs=6
    )


def test_weights_from_coefficients_sum_to_100() -> None:
    w = weights_from_coefficients(np.array([-1.0, -1.0, -1.0]))
    assert sum(w.values()) == 100 and sorted(w.values()) == [33, 33, 34]
    assert weights_from_coefficients(np.array([0.5, 0.1, 0.0])) is None


def test_backtest_on_the_demo_company_finds_the_planted_signal() -> None:
    ctx = AppContext(settings_for(demo_home()))
    try:
        result = service.run_backtest(ctx)
    finally:
        ctx.close()
    assert result.rows > 500 and result.churners > 20
    assert result.auc_current is not None and result.auc_current > 0.6
    assert result.auc_suggested_cv is not None and result.auc_suggested_cv > 0.6
    rates = {t["tier"]: t["churn_rate"] for t in result.tiers}
    assert rates["Critical"] > rates["At Risk"] > rates["Healthy"]
    assert result.lift_critical_over_healthy == pytest.approx(rates["Critical"] / rates["Healthy"])
    assert result.suggested_weights is not None
    assert sum(result.suggested_weights.values()) == 100
    assert result.coefficients["engagement"] < 0  # more engagement, less churn
    assert [m["month"] for m in result.months] == sorted(m["month"] for m in result.months)
