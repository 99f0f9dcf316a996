"""Uplift statistics of a campaign against its holdout (docs/retention.md, Measured impact).

Pure functions on counts and arrays; no data access. The conventions:

* **uplift** = churn rate of the holdout − churn rate of the treated (positive: the play saved
  customers). Its 95% interval is **Newcombe's hybrid score interval** (Newcombe 1998, method 10:
  the difference of two Wilson score intervals); it stays inside [−1, 1] and keeps its coverage
  with small counts and rates near 0, where the Wald interval does not.
* **p-value** (two-sided, H0: equal churn rates): the pooled two-proportion z test, or **Fisher's
  exact test** when an expected cell count of the 2×2 table is below 5 (:func:`compare_churn`
  names the test it used).
* **stratified** (when members carry a risk tier): the **Cochran–Mantel–Haenszel risk
  difference** (weights ``n_h n_t / N`` per stratum) with **Sato's (1989) variance**, a Wald
  interval and z test; strata without both groups carry no weight.
* **risk change**: mean change in churn risk (after − before) of the treated minus that of the
  holdout, with a **Welch** t interval (unequal variances, Welch–Satterthwaite degrees of freedom).
* **saves** = uplift × treated customers (interval: the uplift's interval × treated);
  **ROI** = saves × average CLV − cost (interval from the saves' interval).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

__all__ = [
    "ChurnComparison",
    "MeanDifference",
    "StratifiedDifference",
    "Value",
    "compare_churn",
    "fisher_p",
    "money",
    "newcombe_interval",
    "risk_change",
    "saves",
    "stratified_difference",
    "two_proportion_p",
    "wilson_interval",
    "z_of",
]

FISHER_BELOW = 5.0  # smallest expected cell count for the z test


def z_of(confidence: float) -> float:
    """The two-sided normal quantile of ``confidence`` (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``x / n`` ((0, 1) without observations)."""
    if n <= 0:
        return 0.0, 1.0
    z = z_of(confidence)
    p = x / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval of ``x1/n1 − x2/n2``."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lo), min(1.0, hi)


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z test (1.0 when nobody or everybody
    churned: the rates cannot differ)."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / se
    return float(2.0 * stats.norm.sf(abs(z)))


def fisher_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test of the 2×2 table (churned / stayed by group)."""
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


@dataclass(frozen=True)
class ChurnComparison:
    """Treated versus holdout churn: rates, uplift with its interval, and the test."""

    treated: int
    treated_churned: int
    holdout: int
    holdout_churned: int
    treated_rate: float
    holdout_rate: float
    uplift: float  # holdout rate − treated rate
    uplift_low: float
    uplift_high: float
    p_value: float
    test: Literal["z", "fisher"]
    interval_method: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_churn(
    treated: int,
    treated_churned: int,
    holdout: int,
    holdout_churned: int,
    confidence: float = 0.95,
) -> ChurnComparison:
    """Uplift (holdout churn − treated churn) with Newcombe's interval and a two-sided p-value:
    the z test, or Fisher's exact test when an expected count is below 5."""
    for name, n, x in (
        ("treated", treated, treated_churned),
        ("holdout", holdout, holdout_churned),
    ):
        if n <= 0:
            raise ValueError(f"{name}: expected at least one customer, got {n}")
        if not 0 <= x <= n:
            raise ValueError(f"{name}_churned: expected 0..{n}, got {x}")
    lo, hi = newcombe_interval(holdout_churned, holdout, treated_churned, treated, confidence)
    total = treated + holdout
    churned = treated_churned + holdout_churned
    expected = [n * k / total for n in (treated, holdout) for k in (churned, total - churned)]
    small = min(expected) < FISHER_BELOW
    p = (
        fisher_p(holdout_churned, holdout, treated_churned, treated)
        if small
        else two_proportion_p(holdout_churned, holdout, treated_churned, treated)
    )
    return ChurnComparison(
        treated=treated,
        treated_churned=treated_churned,
        holdout=holdout,
        holdout_churned=holdout_churned,
        treated_rate=treated_churned / treated,
        holdout_rate=holdout_churned / holdout,
        uplift=holdout_churned / holdout - treated_churned / treated,
        uplift_low=lo,
        uplift_high=hi,
        p_value=p,
        test="fisher" if small else "z",
        interval_method="Newcombe hybrid score (Wilson)",
        confidence=confidence,
    )


@dataclass(frozen=True)
class StratifiedDifference:
    """The Cochran–Mantel–Haenszel risk difference (holdout − treated) over strata."""

    uplift: float
    uplift_low: float
    uplift_high: float
    p_value: float
    strata: int  # strata with both groups (the others carry no weight)
    interval_method: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stratified_difference(
    holdout: Sequence[int],
    holdout_churned: Sequence[int],
    treated: Sequence[int],
    treated_churned: Sequence[int],
    confidence: float = 0.95,
) -> StratifiedDifference | None:
    """CMH risk difference ``p_holdout − p_treated`` with Sato's variance; None when no stratum
    holds both groups."""
    n1 = np.asarray(holdout, dtype=np.float64)
    x1 = np.asarray(holdout_churned, dtype=np.float64)
    n2 = np.asarray(treated, dtype=np.float64)
    x2 = np.asarray(treated_churned, dtype=np.float64)
    both = (n1 > 0) & (n2 > 0)
    if not both.any():
        return None
    n1, x1, n2, x2 = n1[both], x1[both], n2[both], x2[both]
    big_n = n1 + n2
    w = n1 * n2 / big_n
    rd = float(np.sum(w * (x1 / n1 - x2 / n2)) / np.sum(w))
    p_term = np.sum((n1 * n1 * x2 - n2 * n2 * x1 + n1 * n2 * (n2 - n1) / 2.0) / big_n**2)
    q_term = np.sum((x1 * (n2 - x2) + x2 * (n1 - x1)) / (2.0 * big_n))
    var = max((rd * p_term + q_term) / np.sum(w) ** 2, 0.0)
    se = math.sqrt(var)
    z = z_of(confidence)
    p = 1.0 if se == 0 else float(2.0 * stats.norm.sf(abs(rd) / se))
    return StratifiedDifference(
        uplift=rd,
        uplift_low=max(-1.0, rd - z * se),
        uplift_high=min(1.0, rd + z * se),
        p_value=p,
        strata=int(both.sum()),
        interval_method="Cochran–Mantel–Haenszel risk difference, Sato variance (Wald)",
        confidence=confidence,
    )


@dataclass(frozen=True)
class MeanDifference:
    """Difference of two means with a Welch interval (``treated − holdout``)."""

    treated_mean: float
    holdout_mean: float
    difference: float
    low: float
    high: float
    p_value: float
    df: float
    treated: int
    holdout: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def risk_change(
    treated_change: Sequence[float] | np.ndarray,
    holdout_change: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
) -> MeanDifference | None:
    """Mean risk change of the treated minus that of the holdout (negative: the play lowered
    risk), Welch's t interval and two-sided p; None with fewer than two values in a group.
    NaN values (no risk after) are left out."""
    a = np.asarray(treated_change, dtype=np.float64)
    b = np.asarray(holdout_change, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return MeanDifference(
            float(a.mean()), float(b.mean()), diff, diff, diff, 1.0 if diff == 0 else 0.0,
            float(len(a) + len(b) - 2), len(a), len(b), confidence,
        )  # fmt: skip
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = float(stats.t.ppf(0.5 + confidence / 2.0, df))
    p = float(2.0 * stats.t.sf(abs(diff) / se, df))
    return MeanDifference(
        treated_mean=float(a.mean()),
        holdout_mean=float(b.mean()),
        difference=diff,
        low=diff - t * se,
        high=diff + t * se,
        p_value=p,
        df=float(df),
        treated=len(a),
        holdout=len(b),
        confidence=confidence,
    )


@dataclass(frozen=True)
class Value:
    """A figure with its interval."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def saves(uplift: float, low: float, high: float, treated: int) -> Value:
    """Customers kept by the play: uplift × treated customers, with the interval scaled."""
    return Value(uplift * treated, low * treated, high * treated)


def money(saved: Value, average_clv: float | None, cost: float) -> Value | None:
    """ROI = saves × average CLV − cost (None without a CLV); the interval from the saves'."""
    if average_clv is None or not math.isfinite(average_clv):
        return None
    return Value(
        saved.value * average_clv - cost,
        saved.low * average_clv - cost,
        saved.high * average_clv - cost,
    )
