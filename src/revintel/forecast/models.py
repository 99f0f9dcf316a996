"""The candidate forecasting models, in one table, and one way to run any of them.

Every candidate is a statsforecast model (Nixtla) run on a plain numpy array. Log variants fit the
model to ``log(y)`` and transform the mean and interval bounds back with ``exp``: quantiles
survive a monotone transform, so the bounds stay proper prediction intervals, and the
back-transformed mean is the forecast median.

References
----------
- Hyndman, R.J. & Khandakar, Y. (2008). Automatic time series forecasting: the forecast package for
  R. *Journal of Statistical Software* 27(3). (AutoARIMA's stepwise search and AutoETS's selection
  of error, trend and season components by AICc.)
- Hyndman, R.J., Koehler, A.B., Snyder, R.D. & Grose, S. (2002). A state space framework for
  automatic forecasting using exponential smoothing methods. *IJF* 18(3). (The ETS models and
  their prediction intervals.)
- Assimakopoulos, V. & Nikolopoulos, K. (2000). The theta model: a decomposition approach to
  forecasting. *IJF* 16(4). (Theta.)
- Fiorucci, J.A., Pellegrini, T.R., Louzada, F., Petropoulos, F. & Koehler, A.B. (2016). Models for
  optimising the theta method and their relationship to state space models. *IJF* 32(4).
  (AutoTheta: chooses among standard, optimised and dynamic theta models.)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from revintel.core.errors import RevintelError


@dataclass(frozen=True)
class Candidate:
    """One forecasting model the backtest may choose.

    ``seasonal_only`` models make no sense without a season (seasonal naive) and are dropped for
    short histories; the others run with ``season_length=1`` there.
    """

    name: str
    build: Callable[[int], Any]
    seasonal_only: bool
    log: bool
    description: str


def _seasonal_naive(m: int) -> Any:
    from statsforecast.models import SeasonalNaive

    return SeasonalNaive(season_length=m)


def _naive(m: int) -> Any:
    from statsforecast.models import Naive

    return Naive()


def _drift(m: int) -> Any:
    from statsforecast.models import RandomWalkWithDrift

    return RandomWalkWithDrift()


def _theta(m: int) -> Any:
    from statsforecast.models import Theta

    return Theta(season_length=m)


def _auto_theta(m: int) -> Any:
    from statsforecast.models import AutoTheta

    return AutoTheta(season_length=m)


def _auto_ets(m: int) -> Any:
    from statsforecast.models import AutoETS

    return AutoETS(season_length=m)


def _seasonal_ets(m: int) -> Any:
    from statsforecast.models import AutoETS

    # An additive season is forced (on log values: a multiplicative one) instead of letting AICc
    # drop it, which it often does on three years of data with a few anomalies in them.
    return AutoETS(season_length=m, model="ZZA" if m > 1 else "ZZN")


def _auto_arima(m: int) -> Any:
    from statsforecast.models import AutoARIMA

    return AutoARIMA(season_length=m)


_ALL = (
    Candidate(
        "SeasonalNaive", _seasonal_naive, True, False, "same month last year (the benchmark)"
    ),
    Candidate("Naive", _naive, False, False, "last value carried forward"),
    Candidate("RandomWalkWithDrift", _drift, False, False, "last value plus the average change"),
    Candidate(
        "Theta",
        _theta,
        False,
        False,
        "standard theta on the seasonally adjusted series (Assimakopoulos & Nikolopoulos 2000)",
    ),
    Candidate(
        "AutoTheta",
        _auto_theta,
        False,
        False,
        "best of standard/optimised/dynamic theta by MSE (Fiorucci et al. 2016)",
    ),
    Candidate(
        "AutoETS",
        _auto_ets,
        False,
        False,
        "exponential smoothing state space model chosen by AICc, additive or multiplicative "
        "(Hyndman & Khandakar 2008)",
    ),
    Candidate(
        "AutoARIMA",
        _auto_arima,
        False,
        False,
        "seasonal ARIMA chosen by stepwise AICc search (Hyndman & Khandakar 2008)",
    ),
    Candidate(
        "SeasonalETS",
        _seasonal_ets,
        False,
        False,
        "AutoETS with an additive season always included (error and trend chosen by AICc)",
    ),
    Candidate("AutoETS(log)", _auto_ets, False, True, "AutoETS fitted to log values"),
    Candidate(
        "SeasonalETS(log)",
        _seasonal_ets,
        False,
        True,
        "SeasonalETS fitted to log values: a multiplicative season",
    ),
    Candidate("AutoARIMA(log)", _auto_arima, False, True, "AutoARIMA fitted to log values"),
)

CANDIDATES: dict[str, Candidate] = {c.name: c for c in _ALL}
"""Every model the backtest can choose from, by name."""

DEFAULT_CANDIDATES: tuple[str, ...] = (
    "SeasonalNaive",
    "Theta",
    "AutoTheta",
    "AutoETS",
    "AutoARIMA",
)
"""Tried when the history holds enough seasons. The log variants are opt-in: on the public
benchmark series the backtest picked them twice and both times they forecast the holdout worse than
the model it would otherwise have picked (see docs/forecasting.md)."""

SHORT_HISTORY_CANDIDATES: tuple[str, ...] = ("Naive", "RandomWalkWithDrift", "AutoETS")
"""Tried, non-seasonally, when the history is too short for seasonal models."""


def check_candidates(names: Sequence[str]) -> tuple[str, ...]:
    """Return ``names`` without duplicates, or raise ``RevintelError`` naming an unknown model."""
    out: list[str] = []
    for name in names:
        if name not in CANDIDATES:
            raise RevintelError(
                f"candidates: unknown model {name!r}; expected one of {', '.join(CANDIDATES)}"
            )
        if name not in out:
            out.append(name)
    if not out:
        raise RevintelError("candidates: give at least one model")
    return tuple(out)


@dataclass(frozen=True)
class ModelOutput:
    """A model's forecast and, when asked, its one-step-ahead in-sample fit, on the data's scale.

    ``fitted_lower``/``fitted_upper`` are statsforecast's in-sample intervals (fitted ± z·σ of the
    in-sample residuals), present when both ``fitted`` and ``levels`` were asked for.
    """

    mean: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]
    fitted: np.ndarray | None
    fitted_lower: dict[int, np.ndarray]
    fitted_upper: dict[int, np.ndarray]
    n_params: int | None = None
    spec: str | None = None


def run_candidate(
    name: str,
    y: np.ndarray,
    h: int,
    *,
    season_length: int,
    levels: Sequence[int] = (),
    fitted: bool = False,
) -> ModelOutput:
    """Fit candidate ``name`` to ``y`` and forecast ``h`` months with intervals at ``levels``.

    Raises ``ValueError`` when a log variant meets a value that is not positive; statsforecast's own
    exceptions (for example on too few observations) pass through.
    """
    spec = CANDIDATES[name]
    z = np.asarray(y, dtype=float)
    if spec.log:
        if np.any(z <= 0):
            raise ValueError("log variants need every value above zero")
        z = np.log(z)
    model = spec.build(season_length)
    level_list = sorted({int(lv) for lv in levels}) or None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        model.fit(z)
        raw = dict(model.predict(h=h, level=level_list))
        if fitted:
            raw.update(model.predict_in_sample(level=level_list))
    back: Callable[[np.ndarray], np.ndarray] = np.exp if spec.log else np.asarray
    mean = back(np.asarray(raw["mean"], dtype=float))
    lower = {lv: back(np.asarray(raw[f"lo-{lv}"], dtype=float)) for lv in level_list or []}
    upper = {lv: back(np.asarray(raw[f"hi-{lv}"], dtype=float)) for lv in level_list or []}
    fit = back(np.asarray(raw["fitted"], dtype=float)) if fitted else None
    fit_levels = level_list if fitted and level_list else []
    fit_lower = {lv: back(np.asarray(raw[f"fitted-lo-{lv}"], dtype=float)) for lv in fit_levels}
    fit_upper = {lv: back(np.asarray(raw[f"fitted-hi-{lv}"], dtype=float)) for lv in fit_levels}
    if not np.all(np.isfinite(mean)):
        raise ValueError(f"{name} produced a forecast that is not finite")
    n_params, chosen = _describe(model, spec)
    return ModelOutput(mean, lower, upper, fit, fit_lower, fit_upper, n_params, chosen)


def _describe(model: Any, spec: Candidate) -> tuple[int | None, str | None]:
    """Number of estimated parameters and the specific model an automatic search settled on."""
    fitted = getattr(model, "model_", None)
    if not isinstance(fitted, dict):
        return None, None
    suffix = " on log values" if spec.log else ""
    if "n_params" in fitted and "method" in fitted:  # ETS
        return int(fitted["n_params"]), f"{fitted['method']}{suffix}"
    if "arma" in fitted and "coef" in fitted:  # ARIMA
        from statsforecast.arima import arima_string

        return len(fitted["coef"]) + 1, f"{arima_string(fitted).strip()}{suffix}"
    return None, None
