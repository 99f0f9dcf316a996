"""Rolling-origin backtest: how well each candidate would have forecast this series' own past.

The last ``folds`` forecast origins are one month apart. At each origin every candidate is fitted
to the months before it and forecasts the next ``horizon`` months, which are then compared with what
happened (Tashman 2000, "Out-of-sample tests of forecasting accuracy", *IJF* 16(4)). Errors are
averaged over folds; the candidate with the lowest mean error is chosen.

Accuracy measures
-----------------
- **MAPE**, mean absolute percentage error: ``mean(|actual - forecast| / |actual|) × 100``.
  Undefined when an actual is 0 and unstable when actuals are near 0.
- **MASE**, mean absolute scaled error (Hyndman & Koehler 2006, "Another look at measures of
  forecast accuracy", *IJF* 22(4)): the forecast's mean absolute error divided by the in-sample
  mean absolute error of the seasonal naive forecast on the fold's training months,
  ``mean(|y[t] - y[t-m]|)``, with ``m = 12`` (``m = 1``, the naive forecast, for short histories).
  Below 1 means better than that naive forecast did in-sample.
- **sMAPE** (used by the M4 competition): ``mean(2|actual - forecast| / (|actual| + |forecast|))
  × 100``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from revintel.forecast.models import run_candidate

SelectionMetric = Literal["MAPE", "MASE", "MAE"]

MAX_FOLDS = 6
"""Origins tried at most (the last six months)."""

MIN_FOLDS = 3
"""Origins wanted at least; for short histories the backtest horizon shrinks to keep three."""

NEAR_ZERO_SHARE = 0.01
"""An actual below this share of the series' median magnitude makes MAPE unreliable."""


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute percentage error in percent; ``nan`` when an actual is zero."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    if np.any(a == 0):
        return float("nan")
    return float(np.mean(np.abs(a - f) / np.abs(a)) * 100)


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent as the M4 competition defines it (0 to 200)."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    denom = np.abs(a) + np.abs(f)
    terms = np.divide(2 * np.abs(a - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(np.mean(terms) * 100)


def naive_scale(train: np.ndarray, m: int) -> float:
    """In-sample MAE of the seasonal naive forecast with period ``m`` (Hyndman & Koehler 2006)."""
    t = np.asarray(train, float)
    if t.size <= m:
        return float("nan")
    return float(np.mean(np.abs(t[m:] - t[:-m])))


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray, m: int) -> float:
    """Mean absolute scaled error; ``nan`` when the scale is zero (a constant training window)."""
    scale = naive_scale(train, m)
    if not np.isfinite(scale) or scale == 0:
        return float("nan")
    return float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))) / scale)


@dataclass(frozen=True)
class FoldPlan:
    """Where the backtest's origins are: fold ``k`` trains on ``y[:origins[k]]``."""

    horizon: int
    origins: tuple[int, ...]

    @property
    def folds(self) -> int:
        return len(self.origins)


def plan_folds(n: int, horizon: int, min_train: int) -> FoldPlan:
    """Place up to ``MAX_FOLDS`` origins one month apart, each followed by ``horizon`` months.

    When the history cannot hold ``MIN_FOLDS`` full-horizon folds after ``min_train`` training
    months, the backtest horizon shrinks (to no less than 1) before the number of folds does.
    """
    spare = n - min_train
    if spare < 1:
        raise ValueError(f"{n} months cannot hold {min_train} training months and a test month")
    h = max(1, min(horizon, spare - (MIN_FOLDS - 1)))
    folds = min(MAX_FOLDS, spare - h + 1)
    last = n - h
    return FoldPlan(horizon=h, origins=tuple(last - k for k in reversed(range(folds))))


@dataclass(frozen=True)
class BacktestScore:
    """One candidate's backtest: mean errors over ``folds`` origins, each ``horizon`` months ahead.

    ``error`` says why a candidate could not be scored (it then has no figures and is not chosen).
    """

    model: str
    mape: float | None
    mase: float | None
    mae: float | None
    folds: int
    horizon: int
    error: str | None = None


def rolling_origin_backtest(
    y: np.ndarray,
    candidates: Sequence[str],
    plan: FoldPlan,
    *,
    season_length: int,
    mase_period: int,
) -> list[BacktestScore]:
    """Score every candidate on every fold; a candidate that fails any fold is left unscored."""
    scores = []
    for name in candidates:
        mapes, mases, maes = [], [], []
        error = None
        for origin in plan.origins:
            train, test = y[:origin], y[origin : origin + plan.horizon]
            try:
                out = run_candidate(name, train, plan.horizon, season_length=season_length)
            except Exception as exc:  # a model that cannot fit this history is simply not chosen
                error = f"failed when trained on the first {origin} months: {exc}".strip()
                break
            mapes.append(mape(test, out.mean))
            mases.append(mase(test, out.mean, train, mase_period))
            maes.append(float(np.mean(np.abs(test - out.mean))))
        if error is not None:
            scores.append(BacktestScore(name, None, None, None, plan.folds, plan.horizon, error))
        else:
            scores.append(
                BacktestScore(
                    name,
                    _mean_or_none(mapes),
                    _mean_or_none(mases),
                    _mean_or_none(maes),
                    plan.folds,
                    plan.horizon,
                )
            )
    return scores


def _mean_or_none(values: list[float]) -> float | None:
    arr = np.asarray(values, float)
    return float(arr.mean()) if arr.size and np.all(np.isfinite(arr)) else None


def selection_metric(y: np.ndarray, plan: FoldPlan) -> tuple[SelectionMetric, str | None]:
    """MAPE unless an actual in the backtest windows is zero or near zero; then MASE.

    Returns the metric and, when MAPE was set aside, the sentence saying why.
    """
    tested = y[plan.origins[0] : plan.origins[-1] + plan.horizon]
    if np.any(tested == 0):
        return "MASE", (
            "MAPE is undefined because a backtested month is exactly 0; "
            "the model was chosen by MASE instead"
        )
    typical = float(np.median(np.abs(y)))
    if typical > 0 and np.any(np.abs(tested) < NEAR_ZERO_SHARE * typical):
        return "MASE", (
            f"MAPE is unstable because a backtested month is below {NEAR_ZERO_SHARE:.0%} of the "
            "series' median; the model was chosen by MASE instead"
        )
    return "MAPE", None


def choose(
    scores: Sequence[BacktestScore], metric: SelectionMetric
) -> tuple[BacktestScore, SelectionMetric, str]:
    """Pick the lowest mean error by ``metric`` (falling back MAPE → MASE → MAE when undefined).

    Ties keep the earlier candidate. Returns the winner, the metric used and a one-line reason.
    Raises ``ValueError`` when no candidate could be scored.
    """
    order: list[SelectionMetric] = ["MAPE", "MASE", "MAE"]
    for used in order[order.index(metric) :]:
        scored = [s for s in scores if _value(s, used) is not None]
        if scored:
            ranked = sorted(scored, key=lambda s: _value(s, used))  # stable: ties keep order
            best = ranked[0]
            plan_text = f"{best.folds} rolling-origin fold(s), each {best.horizon} month(s) ahead"
            reason = f"lowest mean {used} over {plan_text}: {_fmt(best, used)}"
            if len(ranked) > 1:
                reason += f" (next best {ranked[1].model}: {_fmt(ranked[1], used)})"
            if used != metric:
                reason += f"; {metric} was undefined for every candidate"
            return best, used, reason
    failures = "; ".join(f"{s.model}: {s.error}" for s in scores)
    raise ValueError(f"no candidate model could be backtested ({failures})")


def _value(score: BacktestScore, metric: SelectionMetric) -> float | None:
    return {"MAPE": score.mape, "MASE": score.mase, "MAE": score.mae}[metric]


def _fmt(score: BacktestScore, metric: SelectionMetric) -> str:
    v = _value(score, metric)
    if metric == "MAPE":
        return f"{v:.2f}%"
    if metric == "MASE":
        return f"{v:.3f}"
    return f"{v:,.2f}"
