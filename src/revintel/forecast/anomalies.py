"""Anomalous months in a monthly series, by two detectors (shared/docs/metric-definitions.md).

- **rule**, relative to the trend: the month-over-month change ``(y[t] - y[t-1]) / |y[t-1]|``
  differs from the series' recent trend, the median month-over-month change of the
  :data:`TREND_MONTHS` months before (with at least :data:`TREND_MIN_MONTHS` of them; else a
  trend of 0), by strictly more than the threshold (default 10%): the month is compared with
  ``y[t-1] x (1 + trend)``. A company growing 12% a month steadily is not flagged every month; a
  month that grows 25% when the trend is 12% is. A deviation of exactly the threshold is not
  flagged; "exactly" allows for floating point (1e-9), so 100 → 110 at 10% on a flat trend is not
  flagged. A month after a month of 0 has no defined change and is not assessed by the rule.
- **statistical**: the actual falls outside the model's in-sample one-step-ahead prediction interval
  at ``level`` (default 95%), computed by :func:`revintel.forecast.insample.in_sample_band` on a
  series cleaned of one-month outliers and level shifts one effect at a time, so that an anomaly
  neither pulls the fit towards itself nor widens the band, and a lasting step (a price increase)
  is flagged in its first month only. The default model is ETS (Hyndman et al. 2002; error and
  trend chosen by AICc as in Hyndman & Khandakar 2008) with a 12-month season always included once
  the history holds two years, fitted to log values when every month is positive (a
  multiplicative season): seasonal peaks and troughs are then expected, not flagged. With less
  than two years the model is non-seasonal and a strong seasonal swing can be flagged. The rule
  detector flags seasonal swings by design. A **start-up phase** is left out: when a series grows
  more than fivefold over its first 12 months (a company starting from no customers), those months
  are neither assessed nor fitted, and the model of the rest is seasonal only with three years
  left (:func:`startup_months`). Explosive, decelerating early growth is not an anomaly a
  one-step model of the later months can judge, and fitting it widened the band so much that the
  demo generator's planted events went unflagged (``benchmarks/anomalies.py``).

Why this model rather than the one the forecast backtest chose: the backtest ranks models on
multi-step forecasts, while this detector needs an honest one-step prediction for every month.
AutoARIMA's first ``d + D·m`` one-step predictions echo the data (a diffuse start), theta's
in-sample fit is made on the seasonally adjusted series, seasonal naive is biased on a trending
series, and AutoETS on raw values often drops the season on three years of data. On synthetic
series the spread of their one-step errors is well above the noise, against about the noise for
ETS with a season on log values (``uv run --group test python -m benchmarks.forecast_accuracy``
measures it). Any candidate can still be passed as ``model``. Below seven months ETS cannot be
fitted and the default falls back to the random walk with drift (one-step prediction: last month
plus the average change).

At a 95% level about 5% of ordinary months fall outside a band fitted to normal errors, so expect
some false alarms on long histories (the benchmark reports recall and precision on synthetic series
with planted anomalies). Raise ``level`` (for example to 99) for fewer false alarms at the cost of
missing smaller anomalies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from revintel.core.errors import RevintelError
from revintel.forecast.insample import in_sample_band
from revintel.forecast.models import check_candidates
from revintel.forecast.series import as_monthly_series

Detector = Literal["rule", "statistical"]
DETECTORS: tuple[Detector, ...] = ("rule", "statistical")

SHORT_HISTORY_DETECTOR_MODEL = "RandomWalkWithDrift"
"""Used by the statistical detector when the default ETS cannot be fitted (under seven months)."""

DEFAULT_MOM_THRESHOLD = 0.10
"""The rule's default threshold: a month-over-month change above 10% (metric-definitions.md)."""

TREND_MONTHS = 6
"""The rule's trend: the median month-over-month change of this many months before the month."""

TREND_MIN_MONTHS = 3
"""With fewer defined changes before the month, the rule's trend is 0 (a plain month-over-month
change)."""

RULE_TOLERANCE = 1e-9
"""A change must exceed the threshold by more than this to be flagged (floating-point slack)."""


@dataclass(frozen=True)
class Anomaly:
    """One flagged month.

    ``expected`` is the previous month grown at the trend (rule) or the one-step prediction
    (statistical); ``lower`` and ``upper`` bound the values that would not have been flagged;
    ``size`` is the relative deviation ``(actual - expected) / |expected|`` (for the rule, the
    month-over-month change less the trend).

    When the statistical detector judged the month by its parts (:mod:`revintel.forecast.drivers`),
    ``driver`` names the part out of line (``new``, ``expansion``, ``contraction``, ``churn``,
    ``reactivation`` or ``collections``), ``driver_actual`` and ``driver_expected`` are its amount
    and expected amount, ``expected`` is what the series would have been with the part as
    expected, and ``size`` is the deviation as a share of the previous month's MRR (of the
    month's invoiced amount for collections).
    """

    month: str
    series: str
    detector: Detector
    actual: float
    expected: float
    lower: float
    upper: float
    size: float
    direction: Literal["up", "down"]
    reason: str
    driver: str | None = None
    driver_actual: float | None = None
    driver_expected: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def detect_anomalies(
    values: pd.Series | Sequence[float] | np.ndarray,
    months: Sequence[Any] | pd.Index | None = None,
    *,
    series: str = "Value",
    mom_threshold: float = DEFAULT_MOM_THRESHOLD,
    level: int = 95,
    season_length: int = 12,
    model: str | None = None,
    detectors: Sequence[Detector] = DETECTORS,
) -> list[Anomaly]:
    """Flag anomalous months by the rule and statistical detectors, sorted by month then detector.

    Parameters
    ----------
    values, months
        The monthly series (see :func:`revintel.forecast.series.as_monthly_series`); at least four
        consecutive months.
    series
        Name used in the reasons, e.g. ``"Revenue"``.
    mom_threshold
        Rule threshold as a fraction (0.10 = 10%); a change must differ from the trend by
        strictly more than it.
    level
        Level in percent of the statistical detector's in-sample prediction interval.
    season_length
        Months per season; the statistical model is seasonal once the history holds two seasons.
    model
        Candidate model whose one-step in-sample fit the statistical detector uses; by default
        ``SeasonalETS(log)`` for a positive series and ``SeasonalETS`` otherwise.
    detectors
        Which detectors to run (both by default here; the faces ask for the statistical one
        unless the rule is asked for).

    Examples
    --------
    >>> months = [f"2024-{m:02d}" for m in range(1, 7)]
    >>> [a.reason for a in detect_anomalies([100, 101, 102, 87, 88, 89], months,
    ...                                      series="Revenue", detectors=["rule"])]
    ['Revenue fell 14.7% vs previous month (threshold 10%)']
    """
    y, periods = as_monthly_series(values, months, series=series)
    unknown = [d for d in detectors if d not in DETECTORS]
    if unknown:
        raise RevintelError(
            f"detectors: unknown detector {unknown[0]!r}; expected one of {', '.join(DETECTORS)}"
        )
    if not mom_threshold > 0:
        raise RevintelError(f"mom_threshold: expected a fraction above 0, got {mom_threshold!r}")
    if not 0 < level < 100:
        raise RevintelError(f"level: expected a percentage between 0 and 100, got {level!r}")
    if model is not None:
        check_candidates([model])
    found: list[Anomaly] = []
    if "rule" in detectors:
        found += rule_anomalies(y, periods, series=series, mom_threshold=mom_threshold)
    if "statistical" in detectors:
        found += statistical_anomalies(
            y, periods, series=series, level=level, season_length=season_length, model=model
        )
    return sorted(found, key=lambda a: (a.month, DETECTORS.index(a.detector)))


def rule_anomalies(
    y: np.ndarray, months: pd.PeriodIndex, *, series: str, mom_threshold: float
) -> list[Anomaly]:
    """Months whose month-over-month change differs from the trend by more than ``mom_threshold``.

    The trend is the median of the defined month-over-month changes of the :data:`TREND_MONTHS`
    months before (0 with fewer than :data:`TREND_MIN_MONTHS`): robust to one odd month, and
    following a young company's slowing growth.
    """
    out = []
    threshold_text = f"{mom_threshold * 100:g}%"
    changes = np.full(y.size, np.nan)
    for t in range(1, y.size):
        if y[t - 1] != 0:
            changes[t] = (y[t] - y[t - 1]) / abs(y[t - 1])
    for t in range(1, y.size):
        prev, cur = float(y[t - 1]), float(y[t])
        if prev == 0:
            continue
        change = float(changes[t])
        before = changes[max(1, t - TREND_MONTHS) : t]
        before = before[np.isfinite(before)]
        trend = float(np.median(before)) if before.size >= TREND_MIN_MONTHS else 0.0
        deviation = change - trend
        if abs(deviation) <= mom_threshold + RULE_TOLERANCE:
            continue
        expected = prev + trend * abs(prev)
        verb = "rose" if change > 0 else "fell"
        against = (
            f", {abs(deviation) * 100:.1f} points {'above' if deviation > 0 else 'below'} its "
            f"trend of {trend * 100:+.1f}% a month"
            if trend
            else ""
        )
        out.append(
            Anomaly(
                month=str(months[t]),
                series=series,
                detector="rule",
                actual=cur,
                expected=expected,
                lower=expected - mom_threshold * abs(prev),
                upper=expected + mom_threshold * abs(prev),
                size=deviation,
                direction="up" if deviation > 0 else "down",
                reason=(
                    f"{series} {verb} {abs(change) * 100:.1f}% vs previous month{against} "
                    f"(threshold {threshold_text})"
                ),
            )
        )
    return out


def statistical_anomalies(
    y: np.ndarray,
    months: pd.PeriodIndex,
    *,
    series: str,
    level: int = 95,
    season_length: int = 12,
    model: str | None = None,
) -> list[Anomaly]:
    """Months whose actual lies outside the cleaned in-sample one-step interval at ``level``.

    A start-up phase (:func:`startup_months`) is neither assessed nor fitted.
    """
    skip = startup_months(y, season_length)
    y, months = y[skip:], months[skip:]
    # After a start-up year the model is seasonal only with three seasons left: ETS spends the
    # first season initialising its seasonal states, and one season is too few to estimate from.
    seasons_needed = 3 if skip else 2
    m = season_length if y.size >= seasons_needed * season_length else 1
    tried = [model] if model is not None else [None, SHORT_HISTORY_DETECTOR_MODEL]
    band = None
    problems = []
    for name in tried:
        try:
            band = in_sample_band(y, model=name, season_length=m, level=level)
            break
        except Exception as exc:
            problems.append(f"{name or 'ETS'}: {exc}")
    if band is None:
        raise RevintelError(
            f"{series}: the statistical anomaly detector could not fit a model to {y.size} "
            f"months ({'; '.join(problems)})"
        )
    out = []
    for t in range(y.size):
        exp, lo, hi = band.expected[t], band.lower[t], band.upper[t]
        if not np.isfinite(exp) or lo <= y[t] <= hi:
            continue
        actual = float(y[t])
        size = (actual - exp) / abs(exp) if exp != 0 else float(np.sign(actual - exp))
        direction: Literal["up", "down"] = "up" if actual > exp else "down"
        if np.isclose(hi - exp, exp - lo, rtol=1e-6):
            spread = f"{_num(exp)} ± {_num(hi - exp)} ({level}%)"
        else:
            spread = f"{_num(exp)} ({level}% interval {_num(lo)} to {_num(hi)})"
        where = "above" if direction == "up" else "below"
        out.append(
            Anomaly(
                month=str(months[t]),
                series=series,
                detector="statistical",
                actual=actual,
                expected=float(exp),
                lower=float(lo),
                upper=float(hi),
                size=float(size),
                direction=direction,
                reason=(
                    f"{series}: expected {spread}, got {_num(actual)}: "
                    f"{abs(size) * 100:.1f}% {where}"
                ),
            )
        )
    return out


STARTUP_GROWTH = 5.0
"""A series that grows more than this factor over its first season is in its start-up phase."""


def startup_months(y: np.ndarray, season_length: int = 12) -> int:
    """Leading months the statistical detector leaves out: a business starting from near zero.

    When the series grows more than :data:`STARTUP_GROWTH` times over its first ``season_length``
    months (MRR of a company that starts with no customers), those months are a start-up phase:
    its explosive, decelerating growth is not what a one-step model of the later months can
    predict, and fitted together it inflates the spread of the errors and hides real anomalies.
    It is skipped only when at least two seasons remain after it; 0 otherwise.
    """
    if y.size < 3 * season_length or not (y[0] > 0 and y[season_length] > 0):
        return 0
    return season_length if y[season_length] / y[0] > STARTUP_GROWTH else 0


def _num(x: float) -> str:
    """Thousands separators; whole numbers from 100 up, two decimals below."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"
