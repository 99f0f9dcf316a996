"""Accuracy measures and the rolling-origin fold plan."""

from __future__ import annotations

import math

import numpy as np
import pytest

from revintel.forecast.backtest import (
    MAX_FOLDS,
    BacktestScore,
    choose,
    mape,
    mase,
    naive_scale,
    plan_folds,
    smape,
)


def test_mape_and_smape_by_hand() -> None:
    actual, forecast = np.array([100.0, 200.0]), np.array([110.0, 180.0])
    assert mape(actual, forecast) == pytest.approx((10 / 100 + 20 / 200) / 2 * 100)
    assert smape(actual, forecast) == pytest.approx((20 / 210 + 40 / 380) / 2 * 100)
    assert math.isnan(mape(np.array([0.0, 1.0]), np.array([1.0, 1.0])))


def test_mase_is_scaled_by_the_in_sample_seasonal_naive_error() -> None:
    train = np.array([10.0, 20, 30, 12, 22, 32, 14, 24, 34])  # period 3, +2 a cycle
    assert naive_scale(train, 3) == pytest.approx(2.0)
    assert naive_scale(train, 1) == pytest.approx(np.mean(np.abs(np.diff(train))))
    assert mase(np.array([16.0, 26.0]), np.array([17.0, 29.0]), train, 3) == pytest.approx(1.0)
    assert math.isnan(mase(np.array([1.0]), np.array([2.0]), np.ones(5), 1))


def test_folds_are_the_last_origins_one_month_apart() -> None:
    plan = plan_folds(40, 6, 24)
    assert plan.horizon == 6
    assert plan.origins == (29, 30, 31, 32, 33, 34)
    assert plan.folds == MAX_FOLDS
    assert plan.origins[-1] + plan.horizon == 40


def test_short_histories_shorten_the_backtest_horizon_before_the_folds() -> None:
    plan = plan_folds(9, 6, 3)
    assert plan.horizon == 4 and plan.origins == (3, 4, 5)
    tiny = plan_folds(4, 6, 3)
    assert tiny.horizon == 1 and tiny.origins == (3,)


def test_choice_falls_back_from_mape_to_mase_and_keeps_order_on_ties() -> None:
    scores = [
        BacktestScore("A", None, 0.8, 5.0, 3, 6),
        BacktestScore("B", None, 0.5, 4.0, 3, 6),
        BacktestScore("C", None, 0.5, 3.0, 3, 6),
        BacktestScore("D", None, None, None, 3, 6, error="failed"),
    ]
    best, used, reason = choose(scores, "MAPE")
    assert best.model == "B" and used == "MASE"
    assert "next best C" in reason and "MAPE was undefined" in reason
