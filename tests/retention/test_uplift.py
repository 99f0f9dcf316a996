"""Uplift statistics against published values, scipy, hand computation and coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from revintel.retention import uplift as U


def test_wilson_interval_matches_the_published_value() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
    assert U.wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert U.wilson_interval(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    lo, hi = U.wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=5e-5)


def test_newcombe_interval_matches_newcombe_1998_method_10() -> None:
    # Newcombe (1998), table II, method 10.
    assert U.newcombe_interval(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert U.newcombe_interval(9, 10, 3, 10) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    assert U.newcombe_interval(5, 56, 0, 29) == pytest.approx((-0.0381, 0.1926), abs=5e-5)


def test_compare_churn_uses_z_test_on_large_counts_and_fisher_on_small() -> None:
    big = U.compare_churn(treated=200, treated_churned=30, holdout=80, holdout_churned=22)
    assert big.test == "z"
    assert big.uplift == pytest.approx(22 / 80 - 30 / 200)
    pooled = 52 / 280
    z = (22 / 80 - 30 / 200) / math.sqrt(pooled * (1 - pooled) * (1 / 80 + 1 / 200))
    assert big.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert big.uplift_low < big.uplift < big.uplift_high
    assert (big.uplift_low, big.uplift_high) == pytest.approx(U.newcombe_interval(22, 80, 30, 200))
    small = U.compare_churn(treated=30, treated_churned=1, holdout=10, holdout_churned=4)
    assert small.test == "fisher"
    assert small.p_value == pytest.approx(
        stats.fisher_exact([[4, 6], [1, 29]], alternative="two-sided").pvalue
    )


def test_compare_churn_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="holdout"):
        U.compare_churn(treated=10, treated_churned=1, holdout=0, holdout_churned=0)
    with pytest.raises(ValueError, match="treated_churned"):
        U.compare_churn(treated=10, treated_churned=11, holdout=5, holdout_churned=1)


def test_nobody_churned_gives_p_one_and_a_zero_uplift() -> None:
    out = U.compare_churn(treated=100, treated_churned=0, holdout=100, holdout_churned=0)
    assert out.uplift == 0.0 and out.p_value == 1.0
    assert out.uplift_low < 0 < out.uplift_high


def test_cmh_risk_difference_by_hand() -> None:
    # Two strata: holdout (n, x), treated (n, x).
    n1, x1, n2, x2 = [40, 20], [12, 10], [100, 60], [20, 18]
    out = U.stratified_difference(n1, x1, n2, x2)
    assert out is not None
    w = [40 * 100 / 140, 20 * 60 / 80]
    d = [12 / 40 - 20 / 100, 10 / 20 - 18 / 60]
    rd = (w[0] * d[0] + w[1] * d[1]) / sum(w)
    assert out.uplift == pytest.approx(rd)
    p = sum(
        (a * a * y - b * b * x + a * b * (b - a) / 2) / (a + b) ** 2
        for a, x, b, y in zip(n1, x1, n2, x2, strict=True)
    )
    q = sum(
        (x * (b - y) + y * (a - x)) / (2 * (a + b))
        for a, x, b, y in zip(n1, x1, n2, x2, strict=True)
    )
    se = math.sqrt((rd * p + q) / sum(w) ** 2)
    assert out.uplift_low == pytest.approx(rd - 1.959964 * se, abs=1e-6)
    assert out.strata == 2
    # One stratum: the CMH difference is the plain difference.
    one = U.stratified_difference([40], [12], [100], [20])
    assert one is not None and one.uplift == pytest.approx(0.1)
    # A stratum with one group only carries no weight.
    same = U.stratified_difference([40, 0], [12, 0], [100, 7], [20, 7])
    assert same is not None and same.uplift == pytest.approx(0.1) and same.strata == 1
    assert U.stratified_difference([0], [0], [5], [1]) is None


def test_risk_change_matches_scipy_welch() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(-0.05, 0.1, 60), rng.normal(0.0, 0.2, 25)
    out = U.risk_change(a, b)
    assert out is not None
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert out.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert (out.low, out.high) == pytest.approx((ci.low, ci.high))
    assert out.difference == pytest.approx(a.mean() - b.mean())
    assert U.risk_change([0.1], [0.2, 0.3]) is None
    with_nan = U.risk_change([*a, np.nan], b)
    assert with_nan is not None and with_nan.treated == 60


def test_saves_and_roi() -> None:
    s = U.saves(0.1, -0.02, 0.2, treated=300)
    assert (s.value, s.low, s.high) == pytest.approx((30.0, -6.0, 60.0))
    roi = U.money(s, average_clv=1000.0, cost=300 * 50.0)
    assert roi is not None
    assert (roi.value, roi.low, roi.high) == pytest.approx((15_000.0, -21_000.0, 45_000.0))
    assert U.money(s, None, 10.0) is None


@pytest.mark.parametrize(
    ("n_treated", "n_holdout", "p_treated", "p_holdout"),
    [(140, 60, 0.2, 0.3), (300, 90, 0.05, 0.08), (40, 15, 0.3, 0.3)],
)
def test_intervals_cover_the_true_uplift_about_95_percent(
    n_treated: int, n_holdout: int, p_treated: float, p_holdout: float
) -> None:
    rng = np.random.default_rng(20_260)
    sims = 1000
    xt = rng.binomial(n_treated, p_treated, sims)
    xh = rng.binomial(n_holdout, p_holdout, sims)
    truth = p_holdout - p_treated
    hits = 0
    for t, h in zip(xt, xh, strict=True):
        lo, hi = U.newcombe_interval(int(h), n_holdout, int(t), n_treated)
        hits += lo <= truth <= hi
    # Binomial(1000, 0.95) has sd 0.7%: 93-97.5% is the method, not luck.
    assert 0.93 <= hits / sims <= 0.975


def test_cmh_interval_covers_the_common_uplift() -> None:
    rng = np.random.default_rng(7)
    base = np.array([0.05, 0.15, 0.35, 0.6])  # Safe, Low, Medium, High
    n = np.array([200, 100, 60, 30])
    effect = 0.3  # relative reduction: a different absolute uplift per stratum
    holdout_n = np.rint(n * 0.3).astype(int)
    treated_n = n - holdout_n
    weights = holdout_n * treated_n / n
    truth = float(np.sum(weights * base * effect) / weights.sum())
    hits, sims = 0, 1000
    for _ in range(sims):
        xh = rng.binomial(holdout_n, base)
        xt = rng.binomial(treated_n, base * (1 - effect))
        out = U.stratified_difference(holdout_n, xh, treated_n, xt)
        assert out is not None
        hits += out.uplift_low <= truth <= out.uplift_high
    assert 0.93 <= hits / sims <= 0.975
