"""Response curves and the budget allocation against channels whose true curves are set here."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import revintel.app  # noqa: F401  (wires the ports)
from revintel.app.context import AppContext
from revintel.attribution.budget import (
    InfeasibleBudget,
    allocate,
    bootstrap_gains,
    bounds,
    expected_revenue,
    fit_curve,
    fit_power,
)
from revintel.attribution.service.roi import BudgetRequest, InvalidBudgetRequest, budget_suggestion
from revintel.core.config import Settings
from tests.attribution.roi_data import CURVES, MONTHS, current_spend, load_company, spend_table


def _kkt(w: np.ndarray, e: np.ndarray, total: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The analytic optimum of Σ w s^e (0 < e < 1) on the budget simplex within bounds: every
    marginal return w e s^(e−1) equals λ, clipped to the bounds; λ by bisection on the total."""

    def spend(lam: float) -> np.ndarray:
        return np.clip((lam / (w * e)) ** (1.0 / (e - 1.0)), lo, hi)

    a, b = 1e-12, 1e6
    for _ in range(300):
        mid = math.sqrt(a * b)
        if spend(mid).sum() > total:
            a = mid
        else:
            b = mid
    return spend(math.sqrt(a * b))


def test_power_fit_recovers_a_planted_curve_exactly() -> None:
    spend = np.array([100.0, 200.0, 400.0, 800.0, 1600.0])
    a, b, r2 = fit_power(spend, 3.0 * spend**0.5)
    assert a == pytest.approx(3.0) and b == pytest.approx(0.5) and r2 == pytest.approx(1.0)


def test_fit_uses_only_months_with_spend_and_conversions() -> None:
    months = ["2024-01", "2024-02", "2024-03", "2024-04"]
    spend = np.array([0.0, 100.0, 400.0, 900.0])
    conv = np.array([5.0, 20.0, 40.0, 60.0])  # 2 × spend^0.5
    value = conv * 50.0
    curve = fit_curve("Search", months, spend, conv, value)
    assert curve.months == ("2024-02", "2024-03", "2024-04")
    assert curve.b == pytest.approx(0.5) and curve.a == pytest.approx(2.0)
    assert curve.value_per_conversion == pytest.approx(50.0)
    assert float(curve.revenue_at(2500.0)) == pytest.approx(50 * 2 * 50)


def test_a_single_month_is_not_a_curve() -> None:
    with pytest.raises(ValueError, match="two months"):
        fit_power(np.array([100.0, 0.0]), np.array([3.0, 4.0]))


def test_allocation_matches_the_analytic_optimum_and_sums_to_the_total() -> None:
    w = np.array([40.0, 25.0, 60.0, 10.0])
    e = np.array([0.5, 0.7, 0.3, 0.8])
    current = np.array([1000.0, 2000.0, 1500.0, 500.0])
    lo, hi = bounds(current, 0.3)
    total = 5000.0
    got = allocate(w, e, total, lo, hi)
    want = _kkt(w, e, total, lo, hi)
    assert np.allclose(got, want, atol=0.05)
    assert round(got.sum() * 100) == total * 100
    assert np.all(got >= lo - 1e-9) and np.all(got <= hi + 1e-9)
    assert expected_revenue_of(w, e, got) >= expected_revenue_of(w, e, current) - 1e-6


def expected_revenue_of(w: np.ndarray, e: np.ndarray, s: np.ndarray) -> float:
    return float((w * s**e).sum())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(1.0, 100.0), st.floats(0.1, 0.9), st.floats(100.0, 10_000.0)),
        min_size=2,
        max_size=6,
    ),
    st.floats(0.0, 0.9),  # the bound (a floor of 0 leaves the oracle's bisection imprecise)
    st.floats(0.0, 1.0),
)
def test_allocation_respects_bounds_and_the_total(channels, bound, where) -> None:
    w = np.array([c[0] for c in channels])
    e = np.array([c[1] for c in channels])
    current = np.round(np.array([c[2] for c in channels]), 2)
    lo, hi = bounds(current, bound)
    total = round(float(lo.sum() + where * (hi.sum() - lo.sum())), 2)
    cents_lo, cents_hi = np.round(lo * 100).sum(), np.round(hi * 100).sum()  # bounds to the cent
    total = min(max(total, cents_lo / 100), cents_hi / 100)
    got = allocate(w, e, total, lo, hi)
    assert int(np.round(got * 100).sum()) == round(total * 100)
    assert np.all(got >= lo - 0.01) and np.all(got <= hi + 0.01)
    want = _kkt(w, e, total, lo, hi)
    best = expected_revenue_of(w, e, want)
    cents = 0.01 * float((w * e * want ** (e - 1.0)).sum())  # what rounding to cents may cost
    assert expected_revenue_of(w, e, got) >= best * (1 - 1e-6) - cents


def test_a_total_outside_the_bounds_is_refused_with_the_range() -> None:
    lo, hi = bounds(np.array([100.0, 100.0]), 0.3)
    with pytest.raises(InfeasibleBudget, match=r"between 140\.00 and 260\.00"):
        allocate(np.ones(2), np.full(2, 0.5), 300.0, lo, hi)


def test_bootstrap_gains_center_on_the_planted_gain() -> None:
    rng = np.random.default_rng(1)
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    curves = []
    for a, b in ((2.0, 0.5), (0.5, 0.8)):
        spend = rng.uniform(500, 1500, 12)
        conv = a * spend**b * np.exp(rng.normal(0, 0.05, 12))
        curves.append(fit_curve(f"c{a}", months, spend, conv, conv * 100.0))
    current = np.array([1000.0, 1000.0])
    lo, hi = bounds(current, 0.3)
    w = np.array([c.value_per_conversion * c.a for c in curves])
    e = np.array([c.b for c in curves])
    new = allocate(w, e, 2000.0, lo, hi)
    gain = expected_revenue(curves, new) - expected_revenue(curves, current)
    assert gain > 0
    gains = bootstrap_gains(curves, new, current, replicates=200, seed=3)
    lo_g, hi_g = np.percentile(gains, [5, 95])
    assert lo_g < gain < hi_g
    true_gain = sum(
        100.0 * a * (s_new**b - s_old**b)
        for (a, b), s_new, s_old in zip(((2.0, 0.5), (0.5, 0.8)), new, current, strict=True)
    )
    assert lo_g - 0.2 * abs(true_gain) < true_gain < hi_g + 0.2 * abs(true_gain)


# -- the service on a loaded company whose curves are planted --------------------------------------
@pytest.fixture(scope="module")
def budget_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    home = load_company(tmp_path_factory.mktemp("budget"))
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    yield ctx
    ctx.close()


def test_suggestion_recovers_the_planted_curves_and_the_analytic_allocation(
    budget_ctx: AppContext,
) -> None:
    spend = spend_table()
    current = current_spend(spend)
    total = round(sum(current.values()) * 1.1, 2)
    got = budget_suggestion(budget_ctx, BudgetRequest(total=total, model="markov", bound=0.3))
    assert got.label == "Model-based suggestion" and "markov" in got.rests_on
    channels = {c.channel: c for c in got.channels}
    assert set(channels) == set(CURVES)  # Direct has no spend: not allocated
    names = sorted(CURVES)
    for c in names:
        _, b, value, _ = CURVES[c]
        fit = channels[c]
        assert fit.fitted and fit.months == MONTHS
        assert fit.b == pytest.approx(b, abs=0.03) and fit.r_squared is not None
        assert fit.r_squared > 0.95
        assert fit.value_per_conversion == pytest.approx(value)
        assert fit.current == pytest.approx(current[c])
    assert round(sum(c.suggested for c in got.channels) * 100) == round(total * 100)
    cur = np.array([current[c] for c in names])
    lo, hi = bounds(cur, 0.3)
    w = np.array([CURVES[c][2] * CURVES[c][0] for c in names])
    e = np.array([CURVES[c][1] for c in names])
    want = _kkt(w, e, total, lo, hi)
    suggested = np.array([channels[c].suggested for c in names])
    assert np.allclose(suggested, want, rtol=0.03)
    assert np.all(suggested >= lo - 0.01) and np.all(suggested <= hi + 0.01)
    assert got.gain > 0 and got.gain_low <= got.gain <= got.gain_high
    assert got.expected_revenue_suggested == pytest.approx(got.expected_revenue_baseline + got.gain)


def test_suggestion_refuses_what_the_bounds_cannot_reach(budget_ctx: AppContext) -> None:
    current = sum(current_spend(spend_table()).values())
    with pytest.raises(InfeasibleBudget, match=r"±10%.*expected between"):
        budget_suggestion(budget_ctx, BudgetRequest(total=current * 2, bound=0.1))
    with pytest.raises(InvalidBudgetRequest, match="total"):
        budget_suggestion(budget_ctx, BudgetRequest(total=-5))
    with pytest.raises(InvalidBudgetRequest, match="bound"):
        budget_suggestion(budget_ctx, BudgetRequest(bound=1.5))


def test_a_channel_with_too_few_months_keeps_its_spend(budget_ctx: AppContext) -> None:
    from datetime import date

    got = budget_suggestion(
        budget_ctx, BudgetRequest(start=date(2024, 10, 1), end=date(2024, 12, 31))
    )
    assert all(not c.fitted and c.suggested == round(c.current, 2) for c in got.channels)
    assert all("a curve needs 4" in (c.reason or "") for c in got.channels)
    assert got.gain == 0.0


def test_budget_settings_are_validated() -> None:
    from revintel.attribution.config import InvalidAttributionConfig, validate_config

    with pytest.raises(InvalidAttributionConfig, match=r"budget.*model: expected one of"):
        validate_config({"budget": {"model": "magic"}})
    with pytest.raises(InvalidAttributionConfig, match=r"budget\.gross_margin"):
        validate_config({"budget": {"gross_margin": 1.2}})
    assert validate_config({"budget": {"bound": 0.5}}).budget.bound == 0.5
