"""Synthetic monthly series shared by the forecasting tests (fits are slow; build them once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from revintel.forecast import ForecastResult, forecast_series

SEASON = np.array([0.85, 0.88, 0.95, 1.0, 1.02, 1.05, 1.0, 0.97, 1.0, 1.05, 1.15, 1.3])
"""A strong yearly pattern: December 30% above the average month, January 15% below."""


def month_labels(n: int, start: str = "2021-01") -> list[str]:
    return list(pd.period_range(start, periods=n, freq="M").astype(str))


def seasonal_revenue(n: int, *, noise: float = 0.01, seed: int = 7) -> np.ndarray:
    """Revenue growing 1.5% a month with the ``SEASON`` pattern and multiplicative noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100_000 * 1.015**t * SEASON[t % 12] * (1 + noise * rng.standard_normal(n))


@pytest.fixture(scope="module")
def seasonal_36() -> tuple[np.ndarray, list[str]]:
    return seasonal_revenue(36), month_labels(36)


@pytest.fixture(scope="module")
def seasonal_forecast(seasonal_36: tuple[np.ndarray, list[str]]) -> ForecastResult:
    """A forecast with the default candidates, fitted once for the module."""
    values, months = seasonal_36
    return forecast_series(values, months, horizon=6, series="Revenue")
