"""Drift (PSI), data quality, and the retraining and promotion rules."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest

from revintel.churn.drift import (
    data_quality,
    drift_report,
    histogram_reference,
    max_drift,
    psi,
    psi_status,
    retraining_due,
    should_promote,
)


@pytest.fixture(scope="module")
def training() -> pl.DataFrame:
    rng = np.random.default_rng(11)
    n = 5_000
    return pl.DataFrame(
        {
            "late_payments_3m": rng.poisson(0.5, n).astype(np.int64),
            "mrr": rng.gamma(2.0, 300.0, n),
            "plan": rng.choice(["Basic", "Pro", "Enterprise"], n, p=[0.6, 0.3, 0.1]),
            "annual": rng.random(n) < 0.4,
            "signup": [date(2024, 1, 1 + int(d)) for d in rng.integers(0, 28, n)],
        }
    )


def test_psi_matches_the_formula() -> None:
    ref, cur = [0.25, 0.25, 0.5], [0.2, 0.3, 0.5]
    expected = (0.2 - 0.25) * math.log(0.2 / 0.25) + (0.3 - 0.25) * math.log(0.3 / 0.25)
    assert psi(ref, cur) == pytest.approx(expected)
    assert psi(ref, ref) == 0.0
    assert math.isfinite(psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]))  # an empty bin is floored at eps
    with pytest.raises(ValueError, match="same bins"):
        psi([0.5, 0.5], [1.0])


@pytest.mark.parametrize(
    ("value", "status"),
    [(0.0, "stable"), (0.099, "stable"), (0.1, "moderate"), (0.25, "drift"), (None, "missing")],
)
def test_psi_status_bands(value: float | None, status: str) -> None:
    assert psi_status(value) == status


def test_reference_is_json_and_has_decile_bins(training: pl.DataFrame) -> None:
    ref = histogram_reference(training, training.columns)

    json.loads(json.dumps(ref))
    mrr = ref["features"]["mrr"]
    assert mrr["kind"] == "numeric" and len(mrr["edges"]) == 9
    assert mrr["shares"] == pytest.approx([0.1] * 10, abs=0.002)
    assert mrr["mean"] == pytest.approx(training["mrr"].mean())
    late = ref["features"]["late_payments_3m"]  # mostly 0s and 1s: tied edges are merged
    assert late["edges"] == sorted(set(late["edges"])) and len(late["edges"]) < 9
    assert sum(late["shares"]) == pytest.approx(1.0)
    plan = ref["features"]["plan"]
    assert plan["kind"] == "categorical" and plan["levels"] == ["Basic", "Pro", "Enterprise"]
    assert ref["features"]["annual"]["levels"] == ["false", "true"]
    assert ref["features"]["signup"]["kind"] == "numeric"


def test_the_same_data_does_not_drift(training: pl.DataFrame) -> None:
    ref = histogram_reference(training, training.columns)
    report = drift_report(ref, training)
    assert report["status"].to_list() == ["stable"] * 5
    assert report["psi"].max() == pytest.approx(0.0, abs=1e-9)


def test_a_shifted_feature_is_reported_first(training: pl.DataFrame) -> None:
    ref = histogram_reference(training, training.columns)
    rng = np.random.default_rng(3)
    current = training.sample(2_000, seed=1).with_columns(
        (pl.col("late_payments_3m") + 2).alias("late_payments_3m"),
        pl.Series("plan", rng.choice(["Basic", "Pro", "Enterprise"], 2_000, p=[0.5, 0.35, 0.15])),
    )

    report = drift_report(ref, current)

    top = report.row(0, named=True)
    assert top["feature"] == "late_payments_3m" and top["status"] == "drift"
    assert top["current_mean"] == pytest.approx(top["reference_mean"] + 2, abs=0.1)
    by_feature = {r["feature"]: r for r in report.iter_rows(named=True)}
    assert by_feature["mrr"]["status"] == "stable"
    assert by_feature["plan"]["status"] in {"stable", "moderate"}
    assert 0 < by_feature["plan"]["psi"] < by_feature["late_payments_3m"]["psi"]
    assert max_drift(report) == (pytest.approx(top["psi"]), "late_payments_3m")


def test_new_blanks_unseen_levels_and_missing_columns_count(training: pl.DataFrame) -> None:
    ref = histogram_reference(training, training.columns)
    n = training.height
    current = training.drop("annual").with_columns(
        pl.when(pl.int_range(n) % 2 == 0).then(None).otherwise(pl.col("mrr")).alias("mrr"),
        pl.lit("Startup").alias("plan"),
    )

    report = {r["feature"]: r for r in drift_report(ref, current).iter_rows(named=True)}

    assert report["mrr"]["status"] == "drift"
    assert report["mrr"]["current_missing_share"] == pytest.approx(0.5)
    assert report["plan"]["status"] == "drift"  # every value is a level never seen in training
    assert report["annual"]["status"] == "missing" and report["annual"]["psi"] is None


def test_data_quality_flags_what_is_wrong() -> None:
    n = 200
    values = np.r_[np.random.default_rng(0).normal(100, 10, n - 5), [1e5] * 5]
    frame = pl.DataFrame(
        {
            "mrr": values,
            "nps": [None] * 150 + list(range(50)),
            "plan": ["Pro"] * n,
            "empty": pl.Series([None] * n, dtype=pl.Float64),
            "tickets": [0] * (n - 4) + [1, 2, 3, 40],  # mostly zero: MAD is 0
            "fine": np.arange(n, dtype=float),
        }
    )

    report = {r["column"]: r for r in data_quality(frame).iter_rows(named=True)}

    assert report["mrr"]["outliers"] == 5 and "5 outliers" in report["mrr"]["issue"]
    assert report["nps"]["missing"] == 150 and report["nps"]["issue"] == "75% missing"
    assert report["plan"]["issue"] == "constant (one distinct value)"
    assert report["plan"]["min"] == "Pro"
    assert report["empty"]["issue"] == "all values missing"
    assert report["tickets"]["outliers"] == 1  # only the 40, not every non-zero count
    assert report["fine"]["issue"] is None and report["fine"]["distinct"] == n
    assert (report["fine"]["min"], report["fine"]["max"]) == ("0", "199")


def test_nan_counts_as_missing() -> None:
    frame = pl.DataFrame({"x": [1.0, float("nan"), None, 4.0]})
    (row,) = data_quality(frame).iter_rows(named=True)
    assert (row["missing"], row["distinct"]) == (2, 2)


NOW = datetime(2026, 10, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last", "every", "max_psi", "due", "reason"),
    [
        (None, 1, None, True, "no model"),
        (
            datetime(2026, 9, 1, tzinfo=UTC),
            1,
            0.05,
            True,
            "monthly schedule: last trained 2026-09-01",
        ),
        (datetime(2026, 9, 30, tzinfo=UTC), 1, None, True, "monthly schedule"),
        (datetime(2026, 10, 1, tzinfo=UTC), 1, 0.05, False, "not due"),
        (datetime(2026, 8, 1, tzinfo=UTC), 3, None, False, "not due"),
        (datetime(2026, 7, 1, tzinfo=UTC), 3, None, True, "every 3 months: last trained"),
        (datetime(2026, 1, 1, tzinfo=UTC), 0, 0.1, False, "not due"),
    ],
)
def test_retraining_due(
    last: datetime | None, every: int, max_psi: float | None, due: bool, reason: str
) -> None:
    result = retraining_due(last, NOW, every, max_psi, 0.25)
    assert result[0] is due and result[1].startswith(reason)


def test_drift_triggers_retraining_and_names_the_feature() -> None:
    last = datetime(2026, 10, 1, tzinfo=UTC)
    assert retraining_due(last, NOW, 1, 0.31, 0.25, drift_feature="late_payments_3m") == (
        True,
        "drift: PSI 0.31 on late_payments_3m ≥ 0.25",
    )


@pytest.mark.parametrize(
    ("candidate", "production", "metric", "promote", "reason"),
    [
        ({"roc_auc": 0.86}, None, "roc_auc", True, "no production model"),
        ({"roc_auc": 0.86}, {"roc_auc": 0.85}, "roc_auc", True, "improvement +0.0100 ≥"),
        ({"roc_auc": 0.852}, {"roc_auc": 0.85}, "roc_auc", False, "improvement +0.0020 <"),
        ({"roc_auc": 0.84}, {"roc_auc": 0.85}, "roc_auc", False, "improvement -0.0100 <"),
        ({}, {"roc_auc": 0.85}, "roc_auc", False, "the candidate has no held-out roc_auc"),
        ({"roc_auc": 0.8}, {"pr_auc": 0.5}, "roc_auc", True, "the production model has no"),
        ({"brier": 0.09}, {"brier": 0.10}, "brier", True, "improvement +0.0100"),
        ({"roc_auc": float("nan")}, {"roc_auc": 0.8}, "roc_auc", False, "the candidate has no"),
    ],
)
def test_should_promote_needs_the_margin(
    candidate: dict, production: dict | None, metric: str, promote: bool, reason: str
) -> None:
    verdict, why = should_promote(candidate, production, 0.005, metric=metric)
    assert verdict is promote and reason in why


def test_should_promote_exactly_at_the_margin() -> None:
    assert should_promote({"roc_auc": 0.855}, {"roc_auc": 0.85}, 0.005)[0] is True


def test_a_feature_that_moves_with_time_never_triggers_retraining(training: pl.DataFrame) -> None:
    # Every customer one year older: the signup dates drift by construction, the rest do not.
    reference = histogram_reference(training, training.columns)
    later = training.with_columns(pl.col("signup") + pl.duration(days=365))
    report = drift_report(reference, later, moves_with_time={"signup"})
    signup = report.filter(pl.col("feature") == "signup").row(0, named=True)
    assert signup["status"] == "drift" and signup["retrain_trigger"] is False
    top_psi, top_feature = max_drift(report)
    assert top_feature != "signup" and top_psi is not None and top_psi < 0.1
    assert max_drift(drift_report(reference, later))[1] == "signup"
