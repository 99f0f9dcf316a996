"""Close-probability rule and model, forecast arithmetic and backtest accuracy (docs/pipeline.md:
Close probability, Forecasts, Forecast accuracy backtest)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from revintel.pipeline import backtest as bt
from revintel.pipeline import forecasting as fc
from revintel.pipeline import probability as prob
from revintel.pipeline.config import ForecastSettings


def test_rule_reproduces_brief_003s_breakdown() -> None:
    inp = prob.RuleInput(
        deal_stage="proposal",
        days_in_stage=12,
        lead_score=75,
        num_interactions=8,
        num_objections_handled=2,
        champion_identified=True,
        budget_confirmed=True,
        decision_maker_engaged=False,
        competitors_mentioned=1,
    )
    r = prob.rule_probability(inp, ForecastSettings())
    assert r.breakdown["base_probability"] == 50
    assert r.breakdown["engagement_boost"] == 23.5
    assert r.breakdown["qualification_boost"] == 25
    assert r.breakdown["velocity_penalty"] == 0
    assert r.breakdown["competition_penalty"] == 5
    assert r.breakdown["raw_total"] == 93.5
    assert r.close_probability == 93.5  # under the 95 cap
    assert r.confidence == "high"
    assert r.key_factors == ["Strong engagement", "Well qualified", "1 competitors"]


def test_rule_penalises_a_stalled_deal_and_clamps() -> None:
    cfg = ForecastSettings(rule_max_probability=60)
    slow = prob.rule_probability(prob.RuleInput("Prospecting", days_in_stage=70), cfg)
    # 40 days over the 30-day limit × 0.5 = 20 (the cap).
    assert slow.breakdown["velocity_penalty"] == 20
    assert slow.close_probability == 1.0  # 10 − 20 clamped to the 1 % floor
    strong = prob.rule_probability(
        prob.RuleInput("Negotiation", champion_identified=True, budget_confirmed=True), cfg
    )
    assert strong.close_probability == 60


def test_rule_names_the_bad_field() -> None:
    with pytest.raises(prob.InvalidCloseProbabilityInput, match="deal_stage: unknown stage"):
        prob.rule_probability(prob.RuleInput("Closed Won"), ForecastSettings())
    with pytest.raises(prob.InvalidCloseProbabilityInput, match="lead_score"):
        prob.rule_probability(prob.RuleInput("Proposal", lead_score=120), ForecastSettings())


def _panel(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    champion = rng.random(n) < 0.5
    z = -0.5 + 2.0 * champion
    won = rng.random(n) < 1 / (1 + np.exp(-z))
    return pl.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n)],
            "stage": rng.choice(["Prospecting", "Proposal"], n),
            "amount": rng.lognormal(9, 0.5, n),
            "first_amount": rng.lognormal(9, 0.5, n),
            "age_days": rng.integers(0, 100, n),
            "days_in_stage": rng.integers(0, 50, n),
            "close_pushes": np.zeros(n, dtype=int),
            "has_champion": champion,
            "deal_type": ["New Business"] * n,
            "segment": ["SMB"] * n,
            "won": won,
            "closed_date": [
                date(2024, 1, 1) + (date(2024, 1, 2) - date(2024, 1, 1)) * i for i in range(n)
            ],
        }
    )


def test_model_is_held_out_calibrated_and_saved_as_text(tmp_path) -> None:
    rows = _panel(600, 1)
    model = prob.fit_close_model(rows)
    m = model.metrics
    assert m["train_deals"] == 360 and m["calibration_deals"] == 120 and m["test_deals"] == 120
    # The planted effect (log-odds 2.0 of one flag) gives a held-out AUC well above chance.
    assert 0.65 < m["roc_auc"] < 0.85
    assert m["brier"] < 0.25
    assert sum(b["rows"] for b in m["calibration"]) == 120
    assert m["method"] in {"logistic", "lightgbm"}
    model.save(tmp_path / "m.json")
    again = prob.CloseModel.from_json((tmp_path / "m.json").read_text())
    frame = prob.feature_frame(rows.head(20))
    assert np.allclose(model.predict(frame), again.predict(frame))


def test_model_refuses_too_few_deals() -> None:
    from revintel.core.errors import NoDataError

    with pytest.raises(NoDataError, match="at least 30 closed deals"):
        prob.fit_close_model(_panel(10, 2))


def test_oracle_auc_from_the_planted_coefficients(tmp_path) -> None:
    rows = _panel(400, 3)
    pl.DataFrame({"feature": ["has_champion"], "coefficient": [2.0]}).write_parquet(
        tmp_path / "deal_win_drivers.parquet"
    )
    auc = prob.oracle_auc(rows, tmp_path)
    y = rows["won"].to_numpy()
    assert auc == pytest.approx(
        prob.roc_auc(y, rows["has_champion"].cast(float).to_numpy()), abs=1e-4
    )
    assert prob.oracle_auc(rows, tmp_path / "absent") is None


def test_simulated_intervals_bracket_the_expected_value() -> None:
    rng = np.random.default_rng(0)
    est = fc.simulate(np.array([100.0, 200.0, 300.0]), np.array([0.5, 0.5, 0.5]), [50.0], rng, 4000)
    assert est.value == pytest.approx(350.0)
    assert est.low_95 <= est.low_80 <= est.value <= est.high_80 <= est.high_95
    sure = fc.simulate(np.array([100.0]), np.array([1.0]), [], rng, 500)
    assert (sure.value, sure.low_95, sure.high_95) == (100.0, 100.0, 100.0)


def test_timing_probability_conditions_on_time_already_spent() -> None:
    durations = {"Proposal": np.array([10.0, 20.0, 30.0, 40.0, 50.0])}
    # 15 days in: 4 won deals took longer; 2 of them (20, 30) closed within the next 20 days.
    p = fc.timing_probability(["Proposal"], np.array([15.0]), durations, 0, 20)
    assert p[0] == pytest.approx(0.5)
    # Older than every won deal: no win expected inside any window.
    assert fc.timing_probability(["Proposal"], np.array([60.0]), durations, 0, 90)[0] == 0.0


def test_accuracy_measures_mape_bias_and_coverage() -> None:
    pts = [
        bt.BacktestPoint("2024-01-01", 30, "m", 110.0, 100.0, 90.0, 120.0, 80.0, 130.0),
        bt.BacktestPoint("2024-02-01", 30, "m", 60.0, 100.0, 50.0, 70.0, 40.0, 110.0),
        bt.BacktestPoint("2024-03-01", 30, "m", 10.0, 0.0, None, None, None, None),  # actual 0
    ]
    (row,) = bt.accuracy(pts, ("m",), (30,))
    assert row.snapshots == 2
    assert row.mape == pytest.approx(25.0)  # (10 % + 40 %) / 2
    assert row.bias == pytest.approx(-15.0)  # (+10 % − 40 %) / 2
    assert row.coverage_80 == 0.5 and row.coverage_95 == 1.0


def test_month_helpers() -> None:
    assert fc.month_starts(date(2024, 1, 15), date(2024, 4, 1)) == [
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2024, 4, 1),
    ]
    assert fc.add_months(date(2024, 11, 1), 3) == date(2025, 2, 1)
