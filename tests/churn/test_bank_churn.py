"""End to end on the public bank churn table (Churn_Modelling.csv, target Exited)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from revintel.churn.evaluation import evaluate
from revintel.churn.tabular import infer_columns, parse_target, read_table
from revintel.churn.training import TrainConfig, split_random, train_model

BANK = Path("/work/shared/datasets/bank_churn/Churn_Modelling.csv")

pytestmark = pytest.mark.skipif(not BANK.exists(), reason="bank churn dataset not present")


def test_bank_churn_held_out_metrics() -> None:
    frame = read_table(BANK)
    typing = infer_columns(frame, exclude=["Exited", "CustomerId"])
    kinds = {s.name: s.kind for s in typing.specs}
    assert "Surname" in typing.dropped and "RowNumber" in typing.dropped
    assert kinds["Geography"] == "categorical" and kinds["Gender"] == "categorical"
    assert kinds["HasCrCard"] == "boolean" and kinds["Age"] == "numeric"

    rest, test = split_random(frame, "Exited", test_share=0.2, seed=42)
    train, calibration = split_random(rest, "Exited", test_share=0.2, seed=42)
    started = time.perf_counter()
    model = train_model(train, calibration, typing.specs, "Exited", TrainConfig(seed=42))
    seconds = time.perf_counter() - started

    y = parse_target(test["Exited"], "Exited")
    metrics = evaluate(y, model.predict_proba(test))
    baseline = evaluate(y, model.baseline_proba(test))
    print(
        f"\nbank churn held out (n={metrics['n']}): ROC AUC {metrics['roc_auc']:.4f}, "
        f"PR AUC {metrics['pr_auc']:.4f}, F1 {metrics['f1']:.4f}, "
        f"precision {metrics['precision']:.4f}, recall {metrics['recall']:.4f}, "
        f"Brier {metrics['brier']:.4f}, baseline ROC AUC {baseline['roc_auc']:.4f}, "
        f"rounds {model.params['best_iteration']}, training {seconds:.2f} s"
    )
    assert metrics["roc_auc"] >= 0.84
    assert metrics["roc_auc"] > baseline["roc_auc"]
    assert metrics["brier"] < baseline["brier"]
