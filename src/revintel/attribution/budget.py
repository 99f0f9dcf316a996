"""Response curves and the budget suggestion (docs/attribution.md, Spend, ROI and budget).

Each channel's response curve is a power curve with diminishing returns,
``conversions(month) = a × spend(month)^b`` (0 < b < 1 means each extra unit of spend brings fewer
conversions), fitted by least squares on the log scale (``log conversions = log a + b log spend``)
over the months where both spend and attributed conversions are positive; its R² is the log-scale
one. Expected attributed revenue at a spend is the curve times the channel's attributed value per
conversion over those months.

:func:`allocate` spreads a total over the channels to maximise the expected revenue
``Σ v_c a_c s_c^b_c`` subject to ``Σ s_c = total`` and ``lo_c ≤ s_c ≤ hi_c`` (SLSQP, scipy), in
whole cents so that the allocation adds up to the total exactly. :func:`bootstrap_gains` measures
the uncertainty of the expected gain by refitting every curve on months resampled with
replacement.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revintel.core.errors import InvalidOption

CURVE = "power: conversions = a × spend^b, least squares on log scale"


class InfeasibleBudget(InvalidOption):
    """A total the bounds cannot reach (below every channel's floor or above every ceiling)."""


@dataclass(frozen=True)
class ResponseCurve:
    """One channel's fitted curve and the monthly points it rests on."""

    channel: str
    a: float
    b: float
    r_squared: float | None  # log scale; None when every month has the same spend
    months: tuple[str, ...]  # the months the fit rests on
    spend: np.ndarray  # per month in ``months``
    conversions: np.ndarray  # attributed conversions per month in ``months``
    value_per_conversion: float

    def conversions_at(self, spend: np.ndarray | float) -> np.ndarray:
        return self.a * np.power(np.maximum(np.asarray(spend, dtype=np.float64), 1e-9), self.b)

    def revenue_at(self, spend: np.ndarray | float) -> np.ndarray:
        return self.value_per_conversion * self.conversions_at(spend)


def fit_power(spend: np.ndarray, conversions: np.ndarray) -> tuple[float, float, float | None]:
    """``(a, b, r²)`` of ``conversions = a × spend^b`` by least squares on the log scale over the
    points with both positive (at least two; ValueError otherwise)."""
    spend = np.asarray(spend, dtype=np.float64)
    conversions = np.asarray(conversions, dtype=np.float64)
    keep = (spend > 0) & (conversions > 0)
    if keep.sum() < 2:
        raise ValueError("a response curve needs at least two months with spend and conversions")
    x, y = np.log(spend[keep]), np.log(conversions[keep])
    sxx = float(((x - x.mean()) ** 2).sum())
    if sxx == 0:  # one spend level: a flat curve through the mean, no slope to measure
        return float(np.exp(y.mean())), 0.0, None
    b = float(((x - x.mean()) * (y - y.mean())).sum() / sxx)
    log_a = float(y.mean() - b * x.mean())
    residual = y - (log_a + b * x)
    syy = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / syy if syy > 0 else 1.0
    return float(np.exp(log_a)), b, r2


def fit_curve(
    channel: str,
    months: Sequence[str],
    spend: np.ndarray,
    conversions: np.ndarray,
    value: np.ndarray,
) -> ResponseCurve:
    """The channel's curve over the months with positive spend and conversions."""
    spend = np.asarray(spend, dtype=np.float64)
    conversions = np.asarray(conversions, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    keep = (spend > 0) & (conversions > 0)
    a, b, r2 = fit_power(spend, conversions)
    n = float(conversions[keep].sum())
    return ResponseCurve(
        channel=channel,
        a=a,
        b=b,
        r_squared=r2,
        months=tuple(m for m, k in zip(months, keep.tolist(), strict=True) if k),
        spend=spend[keep],
        conversions=conversions[keep],
        value_per_conversion=float(value[keep].sum()) / n if n > 0 else 0.0,
    )


def bounds(current: np.ndarray, bound: float) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's floor and ceiling: current spend ∓ ``bound`` of it."""
    current = np.asarray(current, dtype=np.float64)
    return current * (1.0 - bound), current * (1.0 + bound)


def allocate(
    weights: np.ndarray,
    exponents: np.ndarray,
    total: float,
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """The spend per channel maximising ``Σ weights × spend^exponents`` with ``Σ spend = total``
    and ``lower ≤ spend ≤ upper`` (bounds to the cent), in whole cents that add up to ``total``
    exactly; :class:`InfeasibleBudget` when the bounds cannot reach the total."""
    from scipy.optimize import minimize

    w = np.asarray(weights, dtype=np.float64)
    e = np.asarray(exponents, dtype=np.float64)
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    total_cents = round(total * 100)
    lo_c, hi_c = np.round(lo * 100).astype(np.int64), np.round(hi * 100).astype(np.int64)
    if total_cents < lo_c.sum() or total_cents > hi_c.sum():
        raise InfeasibleBudget(
            f"total: {total:,.2f} cannot be allocated within the bounds; expected between "
            f"{lo_c.sum() / 100:,.2f} and {hi_c.sum() / 100:,.2f}"
        )
    if len(w) == 0:
        return np.zeros(0)
    # Spend as a fraction of the total and revenue relative to the first start's keep SLSQP's
    # tolerances meaningful at any scale.
    scale = total if total > 0 else 1.0
    starts = [_proportional(lo, hi, total), _fill(lo, hi, total, np.argsort(-(w * e)))]
    f0 = max(float((w * np.power(np.maximum(starts[0], 1e-9), e)).sum()), 1e-12)

    def objective(x: np.ndarray) -> float:
        return -float((w * np.power(np.maximum(x * scale, 1e-9), e)).sum()) / f0

    def gradient(x: np.ndarray) -> np.ndarray:
        return -(w * e * np.power(np.maximum(x * scale, 1e-9), e - 1.0)) * scale / f0

    best: np.ndarray | None = None
    for start in starts:
        with warnings.catch_warnings():  # SLSQP clips its own steps to the bounds
            warnings.simplefilter("ignore", RuntimeWarning)
            result = minimize(
                objective,
                start / scale,
                jac=gradient,
                method="SLSQP",
                bounds=list(zip(lo / scale, hi / scale, strict=True)),
                constraints=[
                    {
                        "type": "eq",
                        "fun": lambda x: float(x.sum()) - total / scale,
                        "jac": lambda x: np.ones_like(x),
                    }
                ],
                options={"ftol": 1e-15, "maxiter": 1000},
            )
        x = np.clip(result.x * scale, lo, hi)
        if best is None or objective(x / scale) < objective(best / scale):
            best = x
    assert best is not None
    return _to_cents(best, lo_c, hi_c, total_cents) / 100.0


def _proportional(lo: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """The point between the floors and ceilings at the same fraction for every channel."""
    span = float((hi - lo).sum())
    f = 0.0 if span == 0 else (total - float(lo.sum())) / span
    return lo + f * (hi - lo)


def _fill(lo: np.ndarray, hi: np.ndarray, total: float, order: np.ndarray) -> np.ndarray:
    """Floors, then ceilings filled in ``order`` until the total is spent."""
    x = lo.copy()
    left = total - float(lo.sum())
    for i in order.tolist():
        add = min(left, float(hi[i] - lo[i]))
        x[i] += add
        left -= add
    return x


def _to_cents(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: int) -> np.ndarray:
    """``x`` in whole cents within ``lo..hi`` adding up to ``total``: rounded, then the remaining
    cents moved where there is room (largest room first)."""
    cents = np.clip(np.round(x * 100).astype(np.int64), lo, hi)
    left = int(total - cents.sum())
    while left != 0:
        room = (hi - cents) if left > 0 else (cents - lo)
        i = int(np.argmax(room))
        step = min(abs(left), int(room[i]))
        if step == 0:  # unreachable: the total was checked against the bounds' sums
            raise InfeasibleBudget("total: cannot be allocated within the bounds")
        cents[i] += step if left > 0 else -step
        left += -step if left > 0 else step
    return cents


def expected_revenue(curves: Sequence[ResponseCurve], spend: np.ndarray) -> float:
    """Σ of every channel's expected revenue at ``spend`` (aligned with ``curves``)."""
    return float(sum(float(c.revenue_at(s)) for c, s in zip(curves, spend.tolist(), strict=True)))


def bootstrap_gains(
    curves: Sequence[ResponseCurve],
    suggested: np.ndarray,
    baseline: np.ndarray,
    *,
    replicates: int,
    seed: int = 0,
) -> np.ndarray:
    """The expected gain of ``suggested`` over ``baseline`` under curves refitted on each
    channel's months resampled with replacement, one per replicate (a resample with fewer than
    two distinct spends keeps the fitted curve)."""
    rng = np.random.default_rng(seed)
    gains = np.empty(replicates)
    for r in range(replicates):
        gain = 0.0
        for c, new, old in zip(curves, suggested.tolist(), baseline.tolist(), strict=True):
            a, b = c.a, c.b
            idx = rng.integers(0, len(c.months), len(c.months))
            if len(np.unique(c.spend[idx])) >= 2:
                a, b, _ = fit_power(c.spend[idx], c.conversions[idx])
            new_at, old_at = max(new, 1e-9) ** b, max(old, 1e-9) ** b
            gain += c.value_per_conversion * a * (new_at - old_at)
        gains[r] = gain
    return gains
