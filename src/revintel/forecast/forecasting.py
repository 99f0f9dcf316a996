"""Forecast a monthly series with intervals; the model is chosen per series by backtest.

See :mod:`revintel.forecast.backtest` for the backtest and the accuracy measures and
:mod:`revintel.forecast.models` for the candidates and their references. ``docs/forecasting.md``
explains the choices for users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from revintel.core.errors import RevintelError
from revintel.forecast.backtest import (
    BacktestScore,
    FoldPlan,
    SelectionMetric,
    choose,
    plan_folds,
    rolling_origin_backtest,
    selection_metric,
)
from revintel.forecast.models import (
    CANDIDATES,
    DEFAULT_CANDIDATES,
    SHORT_HISTORY_CANDIDATES,
    ModelOutput,
    check_candidates,
    run_candidate,
)
from revintel.forecast.series import MIN_MONTHS, as_monthly_series

MIN_TEST_MONTHS = 3
"""Months a seasonal backtest must have after two full seasons of training."""

IN_SAMPLE_LEVEL = 95


@dataclass(frozen=True)
class Selection:
    """The outcome of the backtest: the chosen model, why, and every candidate's score."""

    model: str
    reason: str
    metric: SelectionMetric
    scores: list[BacktestScore]
    plan: FoldPlan
    season_length: int
    mase_period: int
    notes: list[str]


def select_model(
    y: np.ndarray,
    *,
    horizon: int = 6,
    candidates: Sequence[str] | None = None,
    season_length: int = 12,
) -> Selection:
    """Backtest the candidates on ``y`` and choose the one with the lowest mean error.

    Seasonal models are tried only when the history holds two full seasons to train on plus
    ``MIN_TEST_MONTHS`` to test (27 months for a 12-month season); otherwise non-seasonal models are
    tried and a note says so. MAPE chooses unless an actual in the backtest windows is zero or near
    zero, in which case MASE chooses (:func:`revintel.forecast.backtest.selection_metric`).
    """
    n = y.size
    m = season_length
    notes: list[str] = []
    requested = check_candidates(candidates) if candidates is not None else DEFAULT_CANDIDATES
    seasonal_months = 2 * m + MIN_TEST_MONTHS
    if m > 1 and n >= seasonal_months:
        names, fit_m, min_train = requested, m, 2 * m
    else:
        if m > 1:
            notes.append(
                f"history of {n} months: too short for seasonal models, which need "
                f"{seasonal_months} months (two full {m}-month seasons to train on plus "
                f"{MIN_TEST_MONTHS} to test); used non-seasonal models, so seasonal swings are "
                "not forecast"
            )
        fit_m, min_train = 1, MIN_MONTHS - 1
        if candidates is None:
            names = SHORT_HISTORY_CANDIDATES
        else:
            names = tuple(c for c in requested if not CANDIDATES[c].seasonal_only)
            dropped = [c for c in requested if CANDIDATES[c].seasonal_only]
            if dropped:
                notes.append(f"left out {', '.join(dropped)}: it needs a seasonal history")
            if not names:
                names = SHORT_HISTORY_CANDIDATES
                notes.append(f"tried {', '.join(names)} instead")
    plan = plan_folds(n, horizon, min_train)
    if plan.horizon < horizon:
        notes.append(
            f"the backtest forecasts {plan.horizon} month(s) ahead, not {horizon}: the history "
            f"holds {n} months and each fold trains on at least {min_train}"
        )
    metric, why = selection_metric(y, plan)
    if why:
        notes.append(why)
    scores = rolling_origin_backtest(y, names, plan, season_length=fit_m, mase_period=fit_m)
    try:
        best, used, reason = choose(scores, metric)
    except ValueError as exc:
        raise RevintelError(f"no forecasting model could be fitted: {exc}") from exc
    unscored = [s.model for s in scores if s.error]
    if unscored:
        notes.append(f"could not backtest {', '.join(unscored)} on this history")
    if any(s.mase is None and s.error is None for s in scores):
        notes.append("MASE is undefined where a training window is constant (its naive error is 0)")
    return Selection(best.model, reason, used, scores, plan, fit_m, fit_m, notes)


@dataclass(frozen=True)
class ForecastRow:
    """One forecast month: the mean and, per level in percent, the interval's bounds."""

    month: str
    mean: float
    lower: dict[int, float]
    upper: dict[int, float]

    def to_dict(self) -> dict[str, Any]:
        """Flat form: ``month, mean, lo80, hi80, lo95, hi95``."""
        row: dict[str, Any] = {"month": self.month, "mean": self.mean}
        for lv in sorted(self.lower):
            row[f"lo{lv}"] = self.lower[lv]
            row[f"hi{lv}"] = self.upper[lv]
        return row


@dataclass(frozen=True)
class InSampleRow:
    """One history month: the actual, the chosen model's one-step fit and its interval if any."""

    month: str
    actual: float
    fitted: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class ForecastResult:
    """A forecast with the evidence for it.

    ``model`` is the chosen candidate and ``model_detail`` the model its automatic search settled
    on for the whole history, e.g. ``ETS(M,A,M)``. ``backtest_mape`` and ``backtest_mase`` are the
    chosen model's mean backtest errors, to show beside the forecast; ``backtest`` holds every
    candidate's. ``notes`` say what was adapted (short history, zeros, clipped bounds, models that
    could not be fitted).
    """

    series: str
    model: str
    model_detail: str | None
    reason: str
    selection_metric: SelectionMetric
    backtest_mape: float | None
    backtest_mase: float | None
    mase_scale: str
    backtest: list[BacktestScore]
    horizon: int
    levels: tuple[int, ...]
    forecast: list[ForecastRow]
    in_sample: list[InSampleRow]
    in_sample_level: int
    history_months: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; forecast rows are flat (``lo80``, ``hi80``, ...)."""
        out = asdict(self)
        out["forecast"] = [r.to_dict() for r in self.forecast]
        out["levels"] = list(self.levels)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The forecast rows as a table: ``month, mean, lo80, hi80, lo95, hi95``."""
        return pd.DataFrame([r.to_dict() for r in self.forecast])


def forecast_series(
    values: pd.Series | Sequence[float] | np.ndarray,
    months: Sequence[Any] | pd.Index | None = None,
    *,
    horizon: int = 6,
    levels: Sequence[int] = (80, 95),
    candidates: Sequence[str] | None = None,
    season_length: int = 12,
    series: str = "Value",
) -> ForecastResult:
    """Forecast ``horizon`` months after the last one, with intervals at ``levels`` percent.

    The model is chosen per series by a rolling-origin backtest (:func:`select_model`) among
    ``candidates`` (default :data:`revintel.forecast.models.DEFAULT_CANDIDATES`: seasonal naive,
    Theta, AutoTheta, AutoETS and AutoARIMA), then refitted on the whole history. Intervals are the
    chosen model's own prediction intervals from statsforecast. For a series with no negative
    month, negative bounds and means are clipped at 0 and a note says so.

    Raises ``NotEnoughHistoryError`` below four months and ``RevintelError`` for a bad argument.

    Examples
    --------
    >>> months = pd.period_range("2021-01", periods=36, freq="M").astype(str)
    >>> values = [100 + 2 * t + (10 if t % 12 in (10, 11) else 0) for t in range(36)]
    >>> result = forecast_series(values, months, horizon=3)
    >>> [row.month for row in result.forecast]
    ['2024-01', '2024-02', '2024-03']
    """
    y, periods = as_monthly_series(values, months, series=series)
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise RevintelError(f"horizon: expected a whole number of months from 1, got {horizon!r}")
    level_set = sorted({int(lv) for lv in levels})
    if any(not 0 < lv < 100 for lv in level_set):
        raise RevintelError(f"levels: expected percentages between 0 and 100, got {list(levels)}")
    selection = select_model(
        y, horizon=int(horizon), candidates=candidates, season_length=season_length
    )
    notes = list(selection.notes)

    scored = {s.model: s for s in selection.scores if s.error is None}
    ranked = [selection.model] + [
        s.model
        for s in sorted(
            scored.values(),
            key=lambda s: _rank_value(s, selection.metric),
        )
        if s.model != selection.model
    ]
    output: ModelOutput | None = None
    chosen = selection.model
    for name in ranked:
        try:
            output = run_candidate(
                name,
                y,
                int(horizon),
                season_length=selection.season_length,
                levels=sorted({*level_set, IN_SAMPLE_LEVEL}),
                fitted=True,
            )
        except Exception as exc:
            notes.append(f"{name} could not be refitted on the whole history ({exc})")
            continue
        chosen = name
        break
    if output is None:
        raise RevintelError(f"{series}: no forecasting model could be fitted to the whole history")
    reason = selection.reason
    if chosen != selection.model:
        reason = f"next best in the backtest after {selection.model} failed to refit"

    mean, lower, upper = output.mean, dict(output.lower), dict(output.upper)
    if np.all(y >= 0):
        clipped = bool(np.any(mean < 0) or any(np.any(b < 0) for b in lower.values()))
        mean = np.maximum(mean, 0)
        lower = {lv: np.maximum(b, 0) for lv, b in lower.items()}
        upper = {lv: np.maximum(b, 0) for lv, b in upper.items()}
        if clipped:
            notes.append(f"{series} has never been negative, so bounds below 0 were set to 0")

    future = pd.period_range(periods[-1] + 1, periods=int(horizon), freq="M")
    rows = [
        ForecastRow(
            month=str(future[i]),
            mean=float(mean[i]),
            lower={lv: float(lower[lv][i]) for lv in level_set},
            upper={lv: float(upper[lv][i]) for lv in level_set},
        )
        for i in range(int(horizon))
    ]
    fitted = output.fitted if output.fitted is not None else np.full(y.size, np.nan)
    nan = np.full(y.size, np.nan)
    fit_lo = output.fitted_lower.get(IN_SAMPLE_LEVEL, nan)
    fit_hi = output.fitted_upper.get(IN_SAMPLE_LEVEL, nan)
    in_sample = [
        InSampleRow(
            month=str(periods[i]),
            actual=float(y[i]),
            fitted=_finite(fitted[i]),
            lower=_finite(fit_lo[i]),
            upper=_finite(fit_hi[i]),
        )
        for i in range(y.size)
    ]
    best = scored[chosen]
    return ForecastResult(
        series=series,
        model=chosen,
        model_detail=output.spec,
        reason=reason,
        selection_metric=selection.metric,
        backtest_mape=best.mape,
        backtest_mase=best.mase,
        mase_scale=(
            "mean absolute error divided by the in-sample mean absolute error of the seasonal "
            f"naive forecast (period {selection.mase_period}) on each fold's training months"
            if selection.mase_period > 1
            else "mean absolute error divided by the in-sample mean absolute error of the naive "
            "forecast (period 1, the history being too short for a season) on each fold's "
            "training months"
        ),
        backtest=selection.scores,
        horizon=int(horizon),
        levels=tuple(level_set),
        forecast=rows,
        in_sample=in_sample,
        in_sample_level=IN_SAMPLE_LEVEL,
        history_months=int(y.size),
        notes=notes,
    )


def _rank_value(score: BacktestScore, metric: SelectionMetric) -> float:
    value = {"MAPE": score.mape, "MASE": score.mase, "MAE": score.mae}[metric]
    return value if value is not None else float("inf")


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
