"""forecast_series: intervals, model choice by backtest, short histories, zeros, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from revintel.core.errors import RevintelError
from revintel.forecast import (
    DEFAULT_CANDIDATES,
    SHORT_HISTORY_CANDIDATES,
    ForecastInputError,
    ForecastResult,
    NotEnoughHistoryError,
    forecast_series,
)

from .conftest import SEASON, month_labels, seasonal_revenue


def test_intervals_nest_around_the_mean_and_widen_with_horizon(
    seasonal_forecast: ForecastResult,
) -> None:
    rows = seasonal_forecast.forecast
    assert [r.month for r in rows] == month_labels(6, start="2024-01")
    for r in rows:
        assert r.lower[95] <= r.lower[80] <= r.mean <= r.upper[80] <= r.upper[95]
        assert r.lower[95] < r.upper[95]
    widths = [r.upper[95] - r.lower[95] for r in rows]
    assert all(b >= a * (1 - 1e-9) for a, b in itertools.pairwise(widths))
    assert widths[-1] > widths[0]


def test_every_default_candidate_is_backtested_and_the_choice_is_reported(
    seasonal_forecast: ForecastResult,
) -> None:
    result = seasonal_forecast
    assert [s.model for s in result.backtest] == list(DEFAULT_CANDIDATES)
    for score in result.backtest:
        assert score.error is None
        assert score.folds == 6 and score.horizon == 6
        assert score.mape is not None and score.mape > 0
        assert score.mase is not None and score.mase > 0
    best = min(result.backtest, key=lambda s: s.mape or np.inf)
    assert result.model == best.model
    assert result.backtest_mape == best.mape and result.backtest_mase == best.mase
    assert result.selection_metric == "MAPE"
    assert "lowest mean MAPE over 6 rolling-origin fold(s)" in result.reason
    assert "seasonal naive forecast (period 12)" in result.mase_scale
    assert result.notes == []


def test_backtest_prefers_seasonal_models_on_a_seasonal_series(
    seasonal_36: tuple[np.ndarray, list[str]],
) -> None:
    values, months = seasonal_36
    result = forecast_series(
        values, months, candidates=["Naive", "RandomWalkWithDrift", "SeasonalNaive", "AutoETS"]
    )
    scores = {s.model: s for s in result.backtest}
    assert result.model in {"SeasonalNaive", "AutoETS"}
    assert scores[result.model].mape < scores["Naive"].mape
    assert scores[result.model].mape < scores["RandomWalkWithDrift"].mape
    # The forecast carries the season: December (month 12 of 2024 is outside the horizon, so
    # compare January with June, 15% below and 5% above the average month).
    january, june = result.forecast[0].mean, result.forecast[5].mean
    assert june / january > SEASON[5] / SEASON[0] * 0.9


def test_short_history_falls_back_to_non_seasonal_models_and_says_so() -> None:
    values = seasonal_revenue(9)
    result = forecast_series(values, month_labels(9))
    assert result.model in SHORT_HISTORY_CANDIDATES
    assert {s.model for s in result.backtest} == set(SHORT_HISTORY_CANDIDATES)
    assert any("history of 9 months: too short for seasonal models" in n for n in result.notes)
    assert len(result.forecast) == 6
    assert "naive forecast (period 1" in result.mase_scale


def test_seasonal_only_candidates_are_dropped_for_short_histories_with_a_note() -> None:
    result = forecast_series(
        seasonal_revenue(20), month_labels(20), candidates=["SeasonalNaive", "Naive"]
    )
    assert [s.model for s in result.backtest] == ["Naive"]
    assert any("left out SeasonalNaive" in n for n in result.notes)


def test_fewer_than_four_months_is_refused_with_the_number_needed() -> None:
    with pytest.raises(NotEnoughHistoryError, match=r"3 month\(s\) of history.*at least 4"):
        forecast_series([10.0, 11.0, 12.0], month_labels(3), series="MRR")


def test_zeros_make_mape_undefined_and_the_model_is_chosen_by_mase() -> None:
    base = np.array([0, 0, 5, 10, 0, 12, 15, 0, 20, 22, 25, 0], dtype=float)
    values = np.concatenate([base, base * 1.1, base * 1.2])
    result = forecast_series(
        values, month_labels(36), candidates=["SeasonalNaive", "Naive", "AutoETS"]
    )
    assert result.selection_metric == "MASE"
    assert any("MAPE is undefined" in n for n in result.notes)
    assert all(s.mape is None for s in result.backtest)
    assert result.backtest_mase is not None
    assert "lowest mean MASE" in result.reason
    assert all(r.lower[95] >= 0 and r.mean >= 0 for r in result.forecast)


def test_months_may_come_as_a_series_in_any_order() -> None:
    values = seasonal_revenue(10)
    index = pd.PeriodIndex(month_labels(10), freq="M")
    shuffled = pd.Series(values, index=index).iloc[::-1]
    a = forecast_series(shuffled, candidates=["Naive"], horizon=3)
    b = forecast_series(values, month_labels(10), candidates=["Naive"], horizon=3)
    assert a.to_dict() == b.to_dict()
    assert a.forecast[0].mean == pytest.approx(values[-1])


def test_result_flattens_to_month_mean_and_bounds() -> None:
    result = forecast_series(seasonal_revenue(8), month_labels(8), candidates=["Naive"], horizon=3)
    frame = result.to_frame()
    assert list(frame.columns) == ["month", "mean", "lo80", "hi80", "lo95", "hi95"]
    as_dict = result.to_dict()
    assert as_dict["forecast"][0]["month"] == "2021-09"
    assert as_dict["levels"] == [80, 95]
    assert len(as_dict["in_sample"]) == 8


@pytest.mark.parametrize(
    ("months", "values", "message"),
    [
        (["2024-01", "2024-02", "2024-04", "2024-05"], [1, 2, 3, 4], "2024-03 is missing"),
        (["2024-01", "2024-02", "2024-02", "2024-03"], [1, 2, 3, 4], "2024-02 appears more"),
        (["2024-01", "2024-02", "2024-03", "2024-04"], [1, None, 3, 4], "2024-02 has no finite"),
        (["2024-01", "2024-02", "2024-03", "Q2"], [1, 2, 3, 4], "'Q2' is not a month"),
    ],
)
def test_bad_months_and_values_are_named(
    months: list[str], values: list[float | None], message: str
) -> None:
    with pytest.raises(ForecastInputError, match=message):
        forecast_series([np.nan if v is None else v for v in values], months)


def test_unknown_candidate_and_bad_levels_are_refused() -> None:
    values, months = seasonal_revenue(8), month_labels(8)
    with pytest.raises(RevintelError, match="unknown model 'Prophet'"):
        forecast_series(values, months, candidates=["Prophet"])
    with pytest.raises(RevintelError, match="levels"):
        forecast_series(values, months, levels=(80, 100))
    with pytest.raises(RevintelError, match="horizon"):
        forecast_series(values, months, horizon=0)
