"""The forecast accuracy backtest: every method at every month-start, against what was won.

Definitions: ``docs/pipeline.md``, Forecast accuracy backtest. At each month-start *D* of the
history whose *H*-day window has ended by the data's date, the pipeline is rebuilt as it stood on
*D* (:mod:`revintel.pipeline.snapshot`), stage probabilities are learned and the close-probability
model refitted from deals closed by *D* only, and each method of
:mod:`revintel.pipeline.forecasting` forecasts the bookings of (*D*, *D* + *H*]. The actual is
the amount of deals won in that window. Per method and horizon, over the snapshots whose actual is
above zero:

    MAPE        = mean(|F − A| ÷ A) × 100
    bias        = mean((F − A) ÷ A) × 100          (> 0: the method over-forecasts)
    coverage_80 = share of snapshots with A inside the method's 80 % interval
    coverage_95 = the same for the 95 % interval
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BacktestPoint:
    """One method's forecast at one snapshot and horizon, with the actual."""

    snapshot: str
    horizon_days: int
    method: str
    forecast: float | None
    actual: float
    low_80: float | None
    high_80: float | None
    low_95: float | None
    high_95: float | None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class AccuracyRow:
    method: str
    horizon_days: int
    mape: float | None
    bias: float | None
    coverage_80: float | None
    coverage_95: float | None
    snapshots: int

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def accuracy(
    points: list[BacktestPoint], methods: tuple[str, ...], horizons: tuple[int, ...]
) -> list[AccuracyRow]:
    """MAPE, bias and interval coverage per method and horizon (module docstring)."""
    out = []
    for h in horizons:
        for m in methods:
            rows = [
                p
                for p in points
                if p.method == m and p.horizon_days == h and p.forecast is not None and p.actual > 0
            ]
            if not rows:
                out.append(AccuracyRow(m, h, None, None, None, None, 0))
                continue
            f = np.array([p.forecast for p in rows], dtype=float)
            a = np.array([p.actual for p in rows], dtype=float)
            err = (f - a) / a
            with_80 = [p for p in rows if p.low_80 is not None and p.high_80 is not None]
            with_95 = [p for p in rows if p.low_95 is not None and p.high_95 is not None]
            cov80 = (
                float(np.mean([p.low_80 <= p.actual <= p.high_80 for p in with_80]))  # type: ignore[operator]
                if with_80
                else None
            )
            cov95 = (
                float(np.mean([p.low_95 <= p.actual <= p.high_95 for p in with_95]))  # type: ignore[operator]
                if with_95
                else None
            )
            out.append(
                AccuracyRow(
                    method=m,
                    horizon_days=h,
                    mape=round(float(np.mean(np.abs(err))) * 100, 1),
                    bias=round(float(np.mean(err)) * 100, 1),
                    coverage_80=None if cov80 is None else round(cov80, 3),
                    coverage_95=None if cov95 is None else round(cov95, 3),
                    snapshots=len(rows),
                )
            )
    return out
