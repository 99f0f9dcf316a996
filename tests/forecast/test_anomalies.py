"""detect_anomalies: the month-over-month rule and the statistical in-sample interval."""

from __future__ import annotations

import numpy as np
import pytest

from revintel.core.errors import RevintelError
from revintel.forecast import detect_anomalies
from revintel.forecast.anomalies import rule_anomalies
from revintel.forecast.series import as_monthly_series

from .conftest import SEASON, month_labels, seasonal_revenue


def _rule(values: list[float], threshold: float = 0.10) -> list[str]:
    y, months = as_monthly_series(values, month_labels(len(values)))
    return [a.month for a in rule_anomalies(y, months, series="MRR", mom_threshold=threshold)]


def test_rule_flags_exactly_the_months_strictly_above_the_threshold() -> None:
    # too little history for a trend: plain month-over-month changes
    # +10% (boundary, not flagged), then +10.01%
    assert _rule([100.0, 100.0, 110.0, 121.011]) == ["2021-04"]
    # a flat trend: +10% (boundary), -10% (boundary) are not flagged; -10.01%, +25% are
    flat = [100.0] * 5
    assert _rule([*flat, 110.0]) == []
    assert _rule([*flat, 90.0]) == []
    assert _rule([*flat, 89.99]) == ["2021-06"]
    assert _rule([*flat, 125.0]) == ["2021-06"]
    assert _rule([*flat, 125.0], threshold=0.25) == []


def test_rule_is_relative_to_the_trend_of_a_growing_series() -> None:
    # 12% a month for a year (every month above 10% month over month), then +30% in one month
    values = [100.0 * 1.12**t for t in range(13)]
    values.append(values[-1] * 1.30)
    values += [values[-1] * 1.12**k for k in range(1, 4)]
    months = month_labels(len(values))
    # the first three months have no trend yet (fewer than three changes before): plain MoM
    assert _rule(values) == [*months[1:4], months[13]]
    y, periods = as_monthly_series(values, months)
    a = rule_anomalies(y, periods, series="MRR", mom_threshold=0.10)[-1]
    assert a.size == pytest.approx(0.30 - 0.12)
    assert a.expected == pytest.approx(values[12] * 1.12)
    assert a.reason == (
        "MRR rose 30.0% vs previous month, 18.0 points above its trend of +12.0% a month "
        "(threshold 10%)"
    )
    # a growing company whose growth stalls for a month is flagged: flat against +12%
    stalled = [100.0 * 1.12**t for t in range(8)] + [100.0 * 1.12**7 * 0.99]
    assert _rule(stalled)[3:] == [month_labels(9)[8]]


def test_rule_reason_size_and_bounds() -> None:
    found = detect_anomalies(
        [100.0, 101.0, 102.0, 87.516, 88.0],
        month_labels(5),
        series="Revenue",
        detectors=["rule"],
    )
    assert len(found) == 1
    a = found[0]
    assert a.reason == "Revenue fell 14.2% vs previous month (threshold 10%)"
    assert (a.month, a.detector, a.direction) == ("2021-04", "rule", "down")
    assert a.size == pytest.approx(-0.142)
    assert (a.expected, a.lower, a.upper) == pytest.approx((102.0, 91.8, 112.2))


def test_rule_skips_the_month_after_a_zero() -> None:
    assert _rule([0.0, 50.0, 52.0, 80.0]) == ["2021-04"]


@pytest.fixture(scope="module")
def planted() -> tuple[np.ndarray, list[str], set[str]]:
    """Four years of seasonal revenue with a 25% spike and a 20% dip planted in it."""
    values = seasonal_revenue(48, noise=0.01, seed=11)
    values[20] *= 1.25
    values[33] *= 0.80
    months = month_labels(48)
    return values, months, {months[20], months[33]}


def test_statistical_detector_finds_planted_spike_and_dip(
    planted: tuple[np.ndarray, list[str], set[str]],
) -> None:
    values, months, truth = planted
    found = detect_anomalies(values, months, series="Revenue", detectors=["statistical"])
    flagged = {a.month: a for a in found}
    assert truth <= set(flagged)
    spike, dip = flagged[months[20]], flagged[months[33]]
    assert spike.direction == "up" and spike.size > 0.15
    assert dip.direction == "down" and dip.size < -0.12
    assert spike.lower < spike.expected < spike.upper < spike.actual
    assert spike.reason.startswith("Revenue: expected ")
    assert "(95% interval " in spike.reason and "% above" in spike.reason
    assert len(found) <= 4  # at most two false alarms in 46 ordinary months


def test_statistical_detector_does_not_flag_seasonal_peaks(
    planted: tuple[np.ndarray, list[str], set[str]],
) -> None:
    values, months, _ = planted
    statistical = detect_anomalies(values, months, detectors=["statistical"])
    rule = detect_anomalies(values, months, detectors=["rule"])
    peaks_and_troughs = {
        m for i, m in enumerate(months) if SEASON[i % 12] in (SEASON.max(), SEASON.min())
    }
    # The rule flags the December rise and the January fall every year; the model expects them.
    assert {a.month for a in rule} & peaks_and_troughs
    assert not {a.month for a in statistical} & peaks_and_troughs


def test_clean_seasonal_series_raises_few_statistical_alarms() -> None:
    values = seasonal_revenue(48, noise=0.01, seed=3)
    found = detect_anomalies(values, month_labels(48), detectors=["statistical"])
    assert len(found) <= 2


def test_series_with_zeros_and_negatives_uses_absolute_errors() -> None:
    # Net new MRR: negative in the weak months of the year, 0 in two of them.
    rng = np.random.default_rng(5)
    t = np.arange(30)
    values = np.round(500 * np.sin(2 * np.pi * t / 12) + 20 * t + rng.normal(0, 30, 30))
    values[[0, 6]] = 0.0
    values[17] += 600
    found = detect_anomalies(values, month_labels(30), detectors=["statistical"])
    assert month_labels(30)[17] in {a.month for a in found}
    assert all(np.isfinite(a.size) for a in found)


def test_short_history_still_runs_both_detectors() -> None:
    found = detect_anomalies([100.0, 102.0, 104.0, 150.0, 108.0], month_labels(5))
    assert {(a.month, a.detector) for a in found} >= {("2021-04", "rule"), ("2021-05", "rule")}


def test_bad_detector_arguments_are_refused() -> None:
    values, months = seasonal_revenue(8), month_labels(8)
    with pytest.raises(RevintelError, match="unknown detector 'zscore'"):
        detect_anomalies(values, months, detectors=["zscore"])  # type: ignore[list-item]
    with pytest.raises(RevintelError, match="mom_threshold"):
        detect_anomalies(values, months, mom_threshold=0)
    with pytest.raises(RevintelError, match="level"):
        detect_anomalies(values, months, level=100)


def test_a_level_shift_is_flagged_once_not_every_month_after_it() -> None:
    # A price increase: MRR steps up 15% and stays there.
    values = seasonal_revenue(48, noise=0.01, seed=21)
    values[30:] *= 1.15
    months = month_labels(48)
    found = detect_anomalies(values, months, series="MRR", detectors=["statistical"])
    flagged = [a.month for a in found]
    assert months[30] in flagged
    assert not set(flagged) & set(months[31:])
    step = next(a for a in found if a.month == months[30])
    assert step.direction == "up" and step.size == pytest.approx(0.15, abs=0.04)
