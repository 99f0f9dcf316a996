"""The scenario calculator's formulas and simulation (docs/pipeline.md, Scenario calculator)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from revintel.pipeline.scenario import (
    InvalidScenario,
    ScenarioInputs,
    formulas,
    run_scenario,
)


def test_the_exact_formulas_on_brief_003s_example() -> None:
    out = formulas(450_000.0, 0.30, ScenarioInputs(0.10, 0.05, 0.15))
    assert out["baseline"]["forecast"] == pytest.approx(135_000.0)
    assert out["projected"]["pipeline"] == pytest.approx(517_500.0)
    assert out["projected"]["win_rate"] == pytest.approx(0.33)
    assert out["projected"]["deal_size_change"] == "+5.0%"
    # 517,500 × 0.33 × 1.05
    assert out["projected"]["forecast"] == pytest.approx(179_313.75)
    assert out["delta"]["value"] == pytest.approx(44_313.75)
    assert out["delta"]["percent"] == pytest.approx(44_313.75 / 135_000 * 100)


def test_the_projected_win_rate_is_capped_at_one() -> None:
    out = formulas(1000.0, 0.6, ScenarioInputs(win_rate_increase=1.0))
    assert out["projected"]["win_rate"] == 1.0
    assert out["projected"]["forecast"] == pytest.approx(1000.0)


def test_a_shorter_cycle_moves_bookings_into_the_horizon() -> None:
    amounts = np.array([100.0, 200.0, 400.0])
    days = np.array([30.0, 100.0, math.nan])  # the last has no expected close date
    base = run_scenario(amounts, days, 0.5, ScenarioInputs(), horizon_days=90, simulations=100)
    assert base.baseline["forecast_in_horizon"] == pytest.approx(50.0)
    faster = run_scenario(
        amounts, days, 0.5, ScenarioInputs(cycle_time_change=-0.2), horizon_days=90,
        simulations=100,
    )  # fmt: skip
    # 100 days × 0.8 = 80 ≤ 90: the 200 deal now closes within the horizon.
    assert faster.projected["forecast_in_horizon"] == pytest.approx(150.0)
    assert faster.delta["value"] == pytest.approx(0.0)  # the whole-pipeline forecast is unmoved


def test_the_simulated_distribution_centres_on_the_formula() -> None:
    rng = np.random.default_rng(1)
    amounts = rng.uniform(1000, 5000, 200)
    result = run_scenario(
        amounts, np.full(200, 10.0), 0.3, ScenarioInputs(0.2, 0.1, 0.5), simulations=3000
    )
    proj = result.distribution["projected"]
    assert proj.mean == pytest.approx(result.projected["forecast"], rel=0.03)
    p = proj.percentiles
    assert p["p5"] < p["p10"] < p["p50"] < p["p90"] < p["p95"]
    base = result.distribution["baseline"]
    assert base.mean == pytest.approx(result.baseline["forecast"], rel=0.03)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("win_rate_increase", -1.5, "at least -1"),
        ("pipeline_growth", math.inf, "finite"),
        ("cycle_time_change", -1.0, "above -1"),
        ("deal_size_increase", 1000.0, "at most 100"),
    ],
)
def test_bad_inputs_name_the_field(field: str, value: float, expected: str) -> None:
    with pytest.raises(InvalidScenario, match=field) as info:
        ScenarioInputs(**{field: value})
    assert expected in str(info.value)


def test_a_large_pipeline_uses_the_normal_approximation_with_the_same_centre() -> None:
    rng = np.random.default_rng(2)
    amounts = rng.uniform(1000, 5000, 50_000)
    result = run_scenario(
        amounts, np.full(50_000, 10.0), 0.3, ScenarioInputs(0.2), simulations=1000
    )
    assert result.method == "normal approximation"
    proj = result.distribution["projected"]
    assert proj.mean == pytest.approx(result.projected["forecast"], rel=0.01)
    assert proj.percentiles["p5"] < proj.percentiles["p95"]
