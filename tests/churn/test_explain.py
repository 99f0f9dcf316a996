"""Explanations: factors, sentences, batch top factors, what-if, waterfall, reference stats."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from revintel.churn.explain import (
    ReferenceStats,
    explain,
    explain_many,
    reference_stats,
    waterfall,
    what_if,
)
from revintel.churn.tabular import infer_columns, parse_target
from revintel.churn.training import ChurnModel, logit, split_random, train_model
from tests.churn.test_training import FAST, synthetic_customers


@pytest.fixture(scope="module")
def setup() -> tuple[ChurnModel, ReferenceStats, pl.DataFrame]:
    frame = synthetic_customers(1500, seed=5)
    typing = infer_columns(frame, exclude=["churned", "customer_id"])
    train, calibration = split_random(frame, "churned", 0.25, seed=0)
    model = train_model(train, calibration, typing.specs, "churned", FAST)
    stats = reference_stats(train, typing.specs, parse_target(train["churned"]))
    return model, stats, frame


def test_reference_stats_survive_json(
    setup: tuple[ChurnModel, ReferenceStats, pl.DataFrame],
) -> None:
    _, stats, _ = setup
    again = ReferenceStats.from_dict(json.loads(json.dumps(stats.as_dict())))
    assert again == stats
    late = stats.features["late_payments"]
    assert late.churned_mean is not None and late.retained_mean is not None
    assert late.churned_mean > late.retained_mean
    assert stats.features["plan"].churned_common == "basic"


def test_explain_one_customer(setup: tuple[ChurnModel, ReferenceStats, pl.DataFrame]) -> None:
    model, stats, frame = setup
    row = frame.sort("late_payments", descending=True).head(1)
    out = explain(model, row, stats, top=3, labels={"late_payments": "Late payments"})
    assert out.probability == pytest.approx(model.predict_proba(row)[0])
    assert out.log_odds == pytest.approx(logit(np.array([out.probability]))[0])
    factors = out.factors
    assert len(factors) == 3
    contributions = [abs(f["contribution"]) for f in factors]
    assert contributions == sorted(contributions, reverse=True)
    late = next(f for f in factors if f["feature"] == "late_payments")
    assert late["direction"] == "raises risk" and late["z_score"] > 2
    assert late["sentence"].startswith("Late payments is ")
    assert "σ above average" in late["sentence"] and "for retained customers" in late["sentence"]
    total = out.bias + sum(f["contribution"] for f in factors) + out.other_contribution
    assert total == pytest.approx(out.log_odds)


def test_waterfall_walks_from_base_to_final(
    setup: tuple[ChurnModel, ReferenceStats, pl.DataFrame],
) -> None:
    model, stats, frame = setup
    w = waterfall(explain(model, frame.head(1), stats, top=2))
    assert w.scale == "log-odds"
    assert w.steps[0]["start"] == w.base
    assert w.steps[-1]["end"] == pytest.approx(w.final)
    assert w.steps[-1]["end_probability"] == pytest.approx(w.final_probability)


def test_explain_many_matches_single_explanations(
    setup: tuple[ChurnModel, ReferenceStats, pl.DataFrame],
) -> None:
    model, _, frame = setup
    batch = explain_many(model, frame.head(50), top=2)
    contrib = model.contributions(frame.head(50))[:, :-1]
    assert batch.columns == [
        "top_factor_1",
        "top_contribution_1",
        "top_factor_2",
        "top_contribution_2",
    ]
    np.testing.assert_allclose(batch["top_contribution_1"].to_numpy(), contrib.max(axis=1))
    names = np.array(model.feature_names)[contrib.argmax(axis=1)]
    assert batch["top_factor_1"].to_list() == names.tolist()
    assert (batch["top_contribution_1"] >= batch["top_contribution_2"]).all()
    by_abs = explain_many(model, frame.head(50), top=1, by="abs")
    np.testing.assert_allclose(
        by_abs["top_contribution_1"].abs().to_numpy(), np.abs(contrib).max(axis=1)
    )


def test_what_if(setup: tuple[ChurnModel, ReferenceStats, pl.DataFrame]) -> None:
    model, stats, frame = setup
    row = frame.sort("late_payments", descending=True).head(1)
    out = what_if(model, row, {"late_payments": 0}, stats)
    assert out.new_probability < out.probability
    assert out.delta == pytest.approx(out.new_probability - out.probability)
    expected = model.predict_proba(row.with_columns(late_payments=pl.lit(0)))[0]
    assert out.new_probability == pytest.approx(expected)
    deltas = [s["delta"] for s in out.suggestions]
    assert deltas == sorted(deltas) and all(d < 0 for d in deltas)
    first = what_if(model, row, {}, stats).suggestions[0]
    assert first["feature"] == "late_payments"  # the planted strongest driver
    with pytest.raises(Exception, match="not a model feature"):
        what_if(model, row, {"nope": 1}, stats)


def test_what_if_suggests_only_actionable_features(
    setup: tuple[ChurnModel, ReferenceStats, pl.DataFrame],
) -> None:
    model, stats, frame = setup
    row = frame.sort("late_payments", descending=True).head(1)
    assert "late_payments" in {s["feature"] for s in what_if(model, row, {}, stats).suggestions}
    others = set(model.feature_names) - {"late_payments"}
    kept = {s["feature"] for s in what_if(model, row, {}, stats, actionable=others).suggestions}
    assert "late_payments" not in kept and kept <= others
