"""Evaluation figures, threshold choice and ROI, tiers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from revintel.churn.evaluation import (
    choose_threshold,
    evaluate,
    pr_curve_table,
    risk_tier,
    roc_auc,
    threshold_stats,
    threshold_table,
)

# Ten customers, four churners; by hand at threshold 0.5: flagged = 0.9, 0.8, 0.7, 0.6, 0.5
Y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
P = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])


def test_hand_computed_example() -> None:
    e = evaluate(Y, P, threshold=0.5)
    assert e["confusion"] == {"tp": 3, "fp": 2, "tn": 4, "fn": 1}
    assert e["precision"] == pytest.approx(3 / 5)
    assert e["recall"] == pytest.approx(3 / 4)
    assert e["f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert e["accuracy"] == pytest.approx(0.7)
    assert e["brier"] == pytest.approx(np.mean((P - Y) ** 2))
    assert e["base_rate"] == 0.4 and e["n"] == 10 and e["positives"] == 4
    # top decile = the single highest score, a churner: capture 1/4, lift 1 / 0.4
    assert e["capture_top_decile"] == pytest.approx(0.25)
    assert e["lift_top_decile"] == pytest.approx(2.5)
    # AUC by pair count: churners' scores 0.9, 0.8, 0.6, 0.3 beat 6, 6, 5 and 3 of 6 stayers
    assert e["roc_auc"] == pytest.approx(20 / 24)
    assert sum(b["count"] for b in e["calibration"]) == 10 and len(e["calibration"]) == 10


def test_degenerate_inputs_give_none() -> None:
    e = evaluate(np.zeros(5, dtype=bool), np.linspace(0.1, 0.5, 5), threshold=0.9)
    assert e["roc_auc"] is None and e["pr_auc"] is None and e["recall"] is None
    assert e["precision"] is None and e["capture_top_decile"] is None
    assert roc_auc([True, True], [0.1, 0.2]) is None


def test_curves_are_thinned() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(5000) < 0.2
    p = np.clip(rng.random(5000) * 0.8 + y * 0.2, 0, 1)
    e = evaluate(y, p)
    assert 2 <= len(e["roc_curve"]) <= 200 and 2 <= len(e["pr_curve"]) <= 200
    assert e["roc_curve"][0]["fpr"] == 0.0 and e["roc_curve"][-1]["tpr"] == 1.0
    assert pr_curve_table(y, p).height <= 200


def test_max_f1_is_maximal_over_every_threshold() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(400) < 0.3
    p = np.round(np.clip(rng.random(400) * 0.7 + y * 0.3, 0, 1), 2)  # ties on purpose
    best = choose_threshold(y, p, "max_f1")
    every = [threshold_stats(y, p, t).f1 for t in np.unique(p)]
    assert best.f1 == pytest.approx(max(every))
    assert threshold_stats(y, p, best.threshold).f1 == pytest.approx(best.f1)


def test_recall_at_precision() -> None:
    # 0.6 and 0.5 both catch 3 of 4 churners (precision 3/4 and 3/5): the higher one wins
    best = choose_threshold(Y, P, "recall_at_precision", min_precision=0.6)
    assert best.threshold == 0.6 and best.recall == 0.75 and best.precision == 0.75
    best = choose_threshold(Y, P, "recall_at_precision", min_precision=0.55)
    assert best.threshold == 0.3 and best.recall == 1.0  # 4 of 7 flagged
    assert choose_threshold(Y, P, "recall_at_precision", min_precision=1.01).threshold is None


def test_net_value_by_hand() -> None:
    value = np.array([100, 500, 0, 50, 0, 0, 1000, 0, 0, 0], dtype=float)
    stats = threshold_stats(Y, P, 0.6, cost_per_action=20, value_per_save=value, success_rate=0.5)
    # flagged 0.9, 0.8, 0.7, 0.6 → churners worth 100 + 500 + 50
    assert stats.flagged == 4 and stats.churners_caught == 3
    assert stats.net_value == pytest.approx(0.5 * 650 - 20 * 4)
    assert stats.expected_saves == pytest.approx(1.5)
    best = choose_threshold(
        Y, P, "max_net_value", cost_per_action=20, value_per_save=value, success_rate=0.5
    )
    # flagging down to 0.3 adds the 1000 customer: 0.5 × 1650 − 20 × 7 = 685, the maximum
    assert best.threshold == 0.3 and best.net_value == pytest.approx(685)
    nobody = choose_threshold(Y, P, "max_net_value", cost_per_action=1e6, value_per_save=1.0)
    assert nobody.flagged == 0 and nobody.net_value == 0


def test_threshold_table() -> None:
    table = threshold_table(Y, P, cost_per_action=20, value_per_save=300, success_rate=0.5)
    assert 5 <= table.height <= 10
    assert table["threshold"].to_list() == sorted(set(table["threshold"].to_list()))
    assert table["recommended"].sum() == 1
    best = table.filter("recommended")
    assert best["net_value"].item() == table["net_value"].max()
    assert {
        "threshold",
        "flagged",
        "churners_caught",
        "false_alarms",
        "missed",
        "precision",
        "recall",
        "f1",
        "cost",
        "expected_saves",
        "saved_value",
        "net_value",
        "recommended",
    } <= set(table.columns)


def test_table_rows_show_the_choices_at_their_exact_threshold() -> None:
    """A choice's row in the table counts the customers the choice flags: a threshold rounded
    to 6 decimals (0.1234570 for 0.1234566) would drop the customer scoring exactly it."""
    y = np.array([1, 1, 1, 0, 0, 0, 1, 0], dtype=bool)
    p = np.array([0.9, 0.8, 0.1234566, 0.1234565, 0.05, 0.04, 0.03, 0.02])
    value = np.array([100, 200, 5000, 0, 0, 0, 50, 0], dtype=float)
    kw = {"cost_per_action": 10.0, "value_per_save": value, "success_rate": 0.5}
    table = threshold_table(y, p, **kw)
    for method, note in (("max_f1", "max F1"), ("max_net_value", "max net value")):
        choice = choose_threshold(y, p, method, **kw)
        assert choice.threshold == 0.1234566
        row = table.filter(pl.col("note").str.contains(note))
        assert row["threshold"].item() == choice.threshold
        assert row["flagged"].item() == choice.flagged == 3
        assert row["net_value"].item() == pytest.approx(choice.net_value)
        assert row["net_value"].item() == pytest.approx(0.5 * 5300 - 30)


def test_a_capacity_limits_the_customers_a_choice_flags() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(400) < 0.2
    p = np.clip(0.25 * y + rng.random(400) * 0.7, 0, 1).round(3)  # ties included
    value = rng.uniform(100, 5000, 400)
    kw = {"cost_per_action": 150.0, "value_per_save": value, "success_rate": 0.3}
    free = choose_threshold(y, p, "max_net_value", **kw)
    assert free.flagged > 60
    capped = choose_threshold(y, p, "max_net_value", max_flagged=60, **kw)
    assert capped.flagged <= 60
    # the best net value over every threshold flagging at most 60 customers, by brute force
    within = [threshold_stats(y, p, t, **kw) for t in np.unique(p) if (p >= t).sum() <= 60]
    assert capped.net_value == pytest.approx(max(s.net_value for s in within))
    assert capped.net_value == pytest.approx(
        threshold_stats(y, p, capped.threshold, **kw).net_value
    )
    f1 = choose_threshold(y, p, "max_f1", max_flagged=10)
    assert f1.flagged <= 10


def test_risk_tiers() -> None:
    tiers = risk_tier([0.05, 0.2, 0.39, 0.4, 0.7, 0.71, float("nan")]).to_list()
    assert tiers == ["Safe", "Low", "Low", "Medium", "Medium", "High", None]
    assert risk_tier([0.5], {"High": 0.45}).to_list() == ["High"]
