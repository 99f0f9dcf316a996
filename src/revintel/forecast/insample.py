"""The in-sample prediction band the statistical anomaly detector compares each month with.

For every month the band is the model's one-step-ahead prediction (made from the months before it)
plus or minus ``z × σ``, where ``z`` is the normal quantile for the level and ``σ² = SSE / (n - p)``
the variance of the model's one-step errors corrected for its ``p`` estimated parameters: the
one-step prediction interval of a state space model (Hyndman, Koehler, Snyder & Grose 2002, *IJF*
18(3); statsforecast computes its own in-sample ETS intervals the same way). A model fitted to log
values gives errors as log ratios and a band proportional to the level; otherwise errors are
absolute.

Two steps keep an anomaly from hiding itself:

1. **Cleaning, one effect at a time** (the iterative intervention analysis of Chen & Liu 1993,
   "Joint estimation of model parameters and outlier effects in time series", *JASA* 88(421), in
   a simple form). The one-step errors are scanned for the strongest of two effects: a one-month
   **outlier** (a spike or dip; the generator's billing outage) and a **level shift** (a step that
   stays; a price increase, a mass churn, a large cohort). If its statistic exceeds
   ``CLEANING_Z``, the outlier month is replaced by its prediction, or the months from the shift
   on are moved back to the old level, and the model is refitted; up to ``CLEANING_SHARE`` of the
   months. One effect per round matters: a spike also distorts its neighbours' predictions and,
   through the estimated seasonal states, the same month in other years, and those echoes fade
   once the spike itself is gone.
2. **Spread without the cleaned months.** ``σ`` is computed from the months that were not
   cleaned, so the anomalies do not widen the band meant to catch them. A level shift's first
   month is expected at the old level (so it is flagged) and the months after it at the new level
   (so they are not).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

from revintel.forecast.models import CANDIDATES, run_candidate

CLEANING_Z = 3.0
"""Statistic (in robust standard deviations of the one-step errors) above which an effect is
cleaned before refitting. Chosen on synthetic series (benchmarks/forecast_accuracy.py, "planted
spikes" and "planted shifts"): 2.5 raised more false alarms, 3.5 and above missed more shifts."""

SHIFT_WINDOW = 3
"""Months either side compared when testing for a level shift."""

CLEANING_SHARE = 0.2
"""At most this share of the months is cleaned, one effect per refit."""


def default_detector_model(y: np.ndarray) -> str:
    """Seasonal ETS, on log values when every month is positive (a multiplicative season)."""
    return "SeasonalETS(log)" if bool(np.all(np.asarray(y) > 0)) else "SeasonalETS"


@dataclass(frozen=True)
class InSampleBand:
    """One-step-ahead predictions and their band at ``level``; ``nan`` for months not assessed.

    ``cleaned`` marks outlier months and level-shift starts found before the final fit; ``spec`` is
    the model the automatic search settled on, when it says.
    """

    model: str
    spec: str | None
    level: int
    scale: Literal["relative", "absolute"]
    sigma: float
    expected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    cleaned: np.ndarray


def in_sample_band(
    y: np.ndarray, *, model: str | None = None, season_length: int = 12, level: int = 95
) -> InSampleBand:
    """Fit ``model`` to ``y`` cleaned of outliers and level shifts; its one-step band at ``level``.

    ``model`` defaults to :func:`default_detector_model`. Raises ``ValueError`` for a level
    outside (0, 100), a log model on a series that is not positive, or fewer than three months to
    assess; statsforecast's exceptions pass through.
    """
    if not 0 < level < 100:
        raise ValueError(f"level must be between 0 and 100, got {level}")
    y = np.asarray(y, float)
    name = model or default_detector_model(y)
    relative = CANDIDATES[name].log
    if relative and np.any(y <= 0):
        raise ValueError(f"{name} needs every month above zero")
    z = NormalDist().inv_cdf(0.5 + level / 200)
    scale = _Scale(relative)

    observed = scale.to(y)  # log values or the values themselves
    work = observed.copy()  # the series the model is fitted to: cleaned as effects are found
    offset = np.zeros(y.size)  # level shifts removed from ``work``, cumulated by month
    starts = np.zeros(y.size)  # each level shift's size at its first month
    replaced = np.zeros(y.size, dtype=bool)  # one-month outliers, replaced by their prediction
    fit = _Fit.of(scale.back(work), name, season_length, scale)
    for _ in range(max(1, int(CLEANING_SHARE * y.size))):
        effect = _largest_effect(work - fit.fitted, replaced | (starts != 0))
        if effect is None or effect.statistic <= CLEANING_Z:
            break
        t = effect.month
        if effect.kind == "outlier":
            replaced[t] = True
            work[t] = fit.fitted[t]
        else:
            starts[t] = effect.size
            offset[t:] += effect.size
            work[t:] -= effect.size
        fit = _Fit.of(scale.back(work), name, season_length, scale)

    errors = work - fit.fitted
    kept = errors[np.isfinite(errors) & ~replaced & (starts == 0)]
    if kept.size < 3:
        raise ValueError(f"{name} gives fewer than 3 one-step predictions to assess")
    dof = kept.size - (fit.n_params or 1)
    if dof < 1:
        dof = kept.size - 1  # more parameters than months: fall back to the plain spread
    sigma = float(np.sqrt(np.sum(kept**2) / dof))
    # What each observed month was expected to be: the fit plus the level shifts before it. A
    # shift's own first month is expected at the old level, so it is the month that stands out.
    expected = fit.fitted + offset - starts
    valid = np.isfinite(expected)
    nan = np.full(y.size, np.nan)
    return InSampleBand(
        model=name,
        spec=fit.spec,
        level=level,
        scale="relative" if relative else "absolute",
        sigma=sigma,
        expected=np.where(valid, scale.back(expected), nan),
        lower=np.where(valid, scale.back(expected - z * sigma), nan),
        upper=np.where(valid, scale.back(expected + z * sigma), nan),
        cleaned=replaced | (starts != 0),
    )


@dataclass(frozen=True)
class _Effect:
    kind: Literal["outlier", "shift"]
    month: int
    size: float
    statistic: float


def _largest_effect(errors: np.ndarray, done: np.ndarray) -> _Effect | None:
    """The strongest one-month outlier or level shift in the one-step errors, if any.

    Both are scored against the noise of the errors, estimated robustly from their month-to-month
    differences (``1.4826 × MAD / √2``), which a few outliers or steps barely move:

    - outlier at ``t``: ``e[t] - (e[t-1] + e[t+1]) / 2``, variance ``1.5 σ²``;
    - level shift starting at ``t``: mean of up to 3 errors from ``t`` minus mean of up to 3 before,
      variance ``σ² (1/k_after + 1/k_before)``; its size is ``e[t]`` minus the mean before.

    A spike scores about twice as high as an outlier than as a shift, and a step the reverse, so
    the larger statistic names the kind (the intervention types of Chen & Liu 1993).
    """
    e = np.where(np.isfinite(errors), errors, np.nan)
    diffs = np.diff(e)
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size < 3:
        return None
    level_sd = float(np.nanmedian(np.abs(e[~done]))) / 0.6745
    step_sd = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / np.sqrt(2)
    sd = min(level_sd, step_sd)
    if not sd > 0:
        return None
    n = e.size
    best: _Effect | None = None
    for t in range(n):
        if done[t] or not np.isfinite(e[t]):
            continue
        neighbours = [e[i] for i in (t - 1, t + 1) if 0 <= i < n and np.isfinite(e[i])]
        if neighbours:
            size = e[t] - float(np.mean(neighbours))
            stat = abs(size) / (sd * np.sqrt(1 + 1 / len(neighbours)))
            if best is None or stat > best.statistic:
                best = _Effect("outlier", t, size, stat)
        before = e[max(0, t - SHIFT_WINDOW) : t]
        after = e[t : t + SHIFT_WINDOW]
        before, after = before[np.isfinite(before)], after[np.isfinite(after)]
        if t < n - 1 and before.size and after.size >= 2:
            stat = abs(after.mean() - before.mean()) / (
                sd * np.sqrt(1 / before.size + 1 / after.size)
            )
            if stat > best.statistic if best is not None else True:
                # The first month's error measures the jump best: the model starts adapting to
                # the new level in the months after it, so their errors shrink.
                best = _Effect("shift", t, float(e[t] - before.mean()), stat)
    return best


@dataclass(frozen=True)
class _Scale:
    """Log scale for models fitted to log values (errors are log ratios), identity otherwise."""

    relative: bool

    def to(self, values: np.ndarray) -> np.ndarray:
        return np.log(values) if self.relative else np.asarray(values, float)

    def back(self, values: np.ndarray) -> np.ndarray:
        return np.exp(values) if self.relative else np.asarray(values, float)


@dataclass(frozen=True)
class _Fit:
    """One-step in-sample predictions on the working scale."""

    fitted: np.ndarray
    n_params: int | None
    spec: str | None

    @classmethod
    def of(cls, values: np.ndarray, model: str, season_length: int, scale: _Scale) -> _Fit:
        out = run_candidate(model, values, 1, season_length=season_length, fitted=True)
        assert out.fitted is not None
        with np.errstate(all="ignore"):
            fitted = (
                scale.to(np.where(out.fitted > 0, out.fitted, np.nan))
                if scale.relative
                else out.fitted
            )
        return cls(fitted, out.n_params, out.spec)
