"""The threshold analysis: every figure at a threshold from one computation, each churner at
their own CLV, and the recommendation under a contact capacity."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.churn import registry, service
from revintel.churn.config import load_config
from revintel.churn.service.common import InvalidChurnRequest, holdout_path

FIGURES = ("flagged", "churners_caught", "false_alarms", "precision", "recall", "f1", "net_value")


def _by_hand(ctx: AppContext, version: str, threshold: float, cost: float, rate: float) -> dict:
    """Flagged, caught and net value at ``threshold`` from the held-out file, each churner at
    their own CLV (MRR × the CLV of a dollar of MRR)."""
    hold = pl.read_parquet(holdout_path(ctx, version))
    factor, _ = service.clv_per_mrr(ctx)
    flagged = hold.filter(pl.col("p") >= threshold)
    caught = flagged.filter(pl.col("y"))
    value = float(caught["mrr"].fill_null(0.0).sum()) * factor
    return {
        "flagged": flagged.height,
        "churners_caught": caught.height,
        "net_value": rate * value - cost * flagged.height,
    }


def test_card_table_and_slider_agree_at_any_threshold(churn_context: AppContext) -> None:
    version = service.resolve_model(churn_context).version
    first = service.threshold_analysis(
        churn_context, version, cost_per_action=150, value_per_save="clv", success_rate=0.3
    )
    choices = [c.threshold for c in first.choices.values() if c.threshold is not None]
    rows = first.table["threshold"].to_list()
    arbitrary = [0.1234567, 0.275, 0.2751, 0.33333]
    asked = [*choices, *rows, *arbitrary]
    analysis = service.threshold_analysis(
        churn_context,
        version,
        cost_per_action=150,
        value_per_save="clv",
        success_rate=0.3,
        at=asked,
    )
    at = dict(zip(asked, analysis.at, strict=True))
    for choice in analysis.choices.values():  # the cards
        if choice.threshold is None:
            continue
        row = analysis.table.filter(pl.col("threshold") == choice.threshold)
        assert row.height == 1, f"no table row at exactly {choice.threshold}"
        for name in FIGURES:
            assert row[name].item() == pytest.approx(getattr(choice, name), nan_ok=True)
            assert getattr(at[choice.threshold], name) == pytest.approx(
                getattr(choice, name), nan_ok=True
            )
    for row in analysis.table.iter_rows(named=True):  # the table
        for name in FIGURES:
            assert getattr(at[row["threshold"]], name) == pytest.approx(row[name], nan_ok=True)
    for t in arbitrary + choices:  # the slider, by hand with each churner's own CLV
        hand = _by_hand(churn_context, version, t, 150, 0.3)
        assert at[t].flagged == hand["flagged"]
        assert at[t].churners_caught == hand["churners_caught"]
        assert at[t].net_value == pytest.approx(hand["net_value"])


def test_the_applied_threshold_has_its_row(churn_context: AppContext) -> None:
    analysis = service.threshold_analysis(churn_context, value_per_save=1000.0)
    applied = load_config(churn_context.settings).threshold
    row = analysis.table.filter(pl.col("threshold") == applied)
    assert row.height == 1 and "applied" in row["note"].item()


def test_the_recommendation_under_a_capacity(churn_context: AppContext) -> None:
    version = service.resolve_model(churn_context).version
    kw = {"cost_per_action": 150.0, "value_per_save": "clv", "success_rate": 0.3}
    free = service.threshold_analysis(churn_context, version, **kw)
    scored = (
        service.current_predictions(churn_context).filter(pl.col("model_version") == version).height
    )
    contacts = 120  # the calibrated model's top plateau holds 85 of the 821 held-out customers
    analysis = service.threshold_analysis(churn_context, version, max_contacts=contacts, **kw)
    capacity = analysis.capacity
    assert capacity is not None and capacity.customers == scored
    assert capacity.max_flagged == math.floor(contacts * analysis.held_out_rows / scored)
    within = analysis.choices["max_net_value_within_capacity"]
    assert within.threshold is not None and within.flagged <= capacity.max_flagged
    assert within.flagged < free.choices["max_net_value"].flagged
    # the best net value among the table's and every other threshold within the capacity
    hold = pl.read_parquet(holdout_path(churn_context, version))
    candidates = np.unique(hold["p"].to_numpy())
    ok = [t for t in candidates if (hold["p"].to_numpy() >= t).sum() <= capacity.max_flagged]
    best = max(
        service.threshold_analysis(churn_context, version, at=ok, **kw).at,
        key=lambda s: s.net_value,
    )
    assert within.net_value == pytest.approx(best.net_value)
    recommended = analysis.table.filter("recommended")
    assert recommended["threshold"].item() == within.threshold

    config = service.apply_threshold(
        churn_context,
        method="max_net_value_within_capacity",
        version=version,
        max_contacts=contacts,
        **kw,
    )
    assert config.threshold == within.threshold
    assert config.threshold_method == "max_net_value_within_capacity"


@pytest.mark.parametrize("bad", [{"at": [1.5]}, {"max_contacts": -1}])
def test_bad_inputs_name_the_field(churn_context: AppContext, bad: dict) -> None:
    field = next(iter(bad))
    with pytest.raises(InvalidChurnRequest, match=field):
        service.threshold_analysis(churn_context, value_per_save=1000.0, **bad)


# -- a model's own threshold (precision, recall, F1 belong to a model version) --------------------
def _holdout(ctx: AppContext, version: str) -> tuple[np.ndarray, np.ndarray]:
    hold = pl.read_parquet(holdout_path(ctx, version))
    return hold["y"].to_numpy().astype(bool), hold["p"].to_numpy()


def test_model_insights_are_at_the_applied_threshold_of_that_model(
    churn_context: AppContext,
) -> None:
    from revintel.churn.evaluation import choose_threshold, threshold_stats

    production = service.resolve_model(churn_context).version
    service.apply_threshold(churn_context, 0.3, version=production)
    metrics = service.model_insights(churn_context, production).metrics
    y, p = _holdout(churn_context, production)
    at = threshold_stats(y, p, 0.3)
    assert metrics["threshold"] == 0.3 and metrics["threshold_basis"] == "applied"
    assert (metrics["precision"], metrics["recall"]) == (at.precision, at.recall)
    assert metrics["f1"] == pytest.approx(at.f1)
    assert metrics["confusion"]["tp"] == at.churners_caught
    # the other horizon's model is judged at its own max-F1 threshold, not at 0.3
    other = next(
        r.version
        for r in registry.list_models(churn_context)
        if r.status == "production" and r.version != production
    )
    metrics = service.model_insights(churn_context, other).metrics
    y, p = _holdout(churn_context, other)
    best = choose_threshold(y, p, "max_f1")
    assert metrics["threshold_basis"] == "max_f1"
    assert metrics["threshold"] == best.threshold and metrics["f1"] == pytest.approx(best.f1)


def test_horizons_and_versions_compare_at_each_ones_max_f1_threshold(
    churn_context: AppContext,
) -> None:
    from revintel.churn.evaluation import choose_threshold

    production = service.resolve_model(churn_context).version
    service.apply_threshold(churn_context, 0.9, version=production)  # flags almost nobody
    models = service.compare_horizons(churn_context)
    assert len(models) == 2
    for model in models:
        y, p = _holdout(churn_context, model.version)
        best = choose_threshold(y, p, "max_f1")
        assert model.threshold == best.threshold
        assert model.recall == pytest.approx(best.recall) and model.f1 == pytest.approx(best.f1)
    a, b = (m.version for m in models)
    rows = service.compare_models(churn_context, a, b).metrics
    names = [r["metric"] for r in rows]
    assert names[:3] == ["roc_auc", "pr_auc", "brier"]  # threshold-free first
    by_name = {r["metric"]: r for r in rows}
    assert names.index("threshold") < names.index("precision")
    for key, version in (("a", a), ("b", b)):
        y, p = _holdout(churn_context, version)
        best = choose_threshold(y, p, "max_f1")
        assert by_name["threshold"][key] == best.threshold
        assert by_name["recall"][key] == pytest.approx(best.recall)


def test_a_table_model_is_measured_at_its_own_threshold(
    churn_context: AppContext, tmp_path
) -> None:
    """A model trained on a file (another business) is not judged at the threshold applied for
    the demo company's model."""
    from revintel.churn.evaluation import choose_threshold
    from tests.cli.test_churn import write_customers

    service.apply_threshold(churn_context, 0.97)
    table = write_customers(tmp_path / "customers.csv")
    report = service.train_table_model(churn_context, table, "exited", "customer")
    y, p = _holdout(churn_context, report.version)
    best = choose_threshold(y, p, "max_f1")
    assert report.metrics["threshold"] == best.threshold != 0.97
    assert report.metrics["f1"] == pytest.approx(best.f1)
    metrics = service.model_insights(churn_context, report.version).metrics
    assert metrics["threshold"] == best.threshold and metrics["threshold_basis"] == "max_f1"
