"""The statistical anomaly detector on MRR and revenue, judged by what drives them.

MRR and cash revenue are sums over customers and invoices. A month is judged by its parts, each
against what the months before it make likely, rather than by the headline alone: a mass churn
hidden by a strong month of new business, or a payment outage in a month of large annual
prepayments, leaves the total unremarkable but one of its parts far out of line.

**MRR** (when the rows carry the movements and their spread, see
:mod:`revintel.metrics.drivers`). For each month ``t`` and each movement ``k`` (new, expansion,
contraction, churn, reactivation) the movement is a compound Poisson sum: a number of customers
``N`` times their amounts. From the ``window`` months before ``t`` (one-step ahead: ``t`` itself is
never used):

* expected customers ``λ``: for expansion, contraction and churn, the trailing rate per paying
  customer times the customers paying at the end of ``t - 1``; for new customers, the trailing
  conversions per trial ending times the trials ending in ``t`` (when the rows carry
  ``trials_ending``; otherwise the trailing average); for reactivations, the trailing average;
* the amounts' mean ``μ`` and mean square ``m₂`` over the ``size_window`` months before ``t``;
* expected amount ``E = λ μ`` and variance ``V = λ m₂`` (the compound Poisson variance), with
  ``z = (actual - E) / √(φ V)``. ``φ ≥ 1`` is the movement's over-dispersion, measured on the
  history as ``median(z²) / 0.455`` (the median of a squared standard normal), so that ordinary
  months are as spread as the model says.

**Revenue** (when the rows carry collections): the first attempts of the invoices of the month
(count ``n``, failures ``f``) against the trailing first-attempt failure share ``p``:
``z = (f - n p) / √(φ n p (1 - p))``. The revenue at stake is the failed amount beyond the usual
share of the amount invoiced.

A month is flagged when ``|z|`` is outside the **95% band for the whole history**: the band is
simultaneous over every month and part assessed (Šidák: each test at ``level^(1/m)``), so that in a
history of ordinary months there is a 5% chance of any false alarm, not 5% of the months flagged;
and when the deviation is material: at least ``min_share`` (default 5%) of the previous month's MRR
(of the month's invoiced amount for revenue). ``benchmarks/anomalies.py`` measures recall and
precision on the demo generator's planted events.

The first months are not assessed: ``window`` months to estimate from, and a start-up year
(:func:`revintel.forecast.anomalies.startup_months`) when the company starts from nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np

from revintel.forecast.anomalies import Anomaly, startup_months

WINDOW = 6
"""Months before a month that give its expected rates."""

SIZE_WINDOW = 12
"""Months before a month that give the mean and spread of movement amounts."""

MIN_SHARE = 0.05
"""A deviation smaller than this share of the previous month's MRR (or of the month's invoiced
amount) is not flagged, however unusual."""

MIN_COUNT = 3
"""A movement needs at least this many customers in its size window to be assessed."""

CHI2_1_MEDIAN = 0.4549364231195724
"""Median of a squared standard normal: ``median(z²) / CHI2_1_MEDIAN`` estimates the dispersion."""

MOVEMENTS: dict[str, tuple[str, str]] = {
    "new": ("new_customers", "New MRR"),
    "expansion": ("expansion_customers", "Expansion MRR"),
    "contraction": ("contraction_customers", "Contraction MRR"),
    "churn": ("churned_customers", "Churned MRR"),
    "reactivation": ("reactivated_customers", "Reactivation MRR"),
}
"""Movement amount column: (customer count column, label)."""

PER_CUSTOMER = ("expansion", "contraction", "churn")
"""Movements whose customers come from the paying base: expected per paying customer."""

MRR_DRIVER_COLUMNS = (
    "mrr",
    "mrr_previous",
    "customers_previous",
    *MOVEMENTS,
    *(count for count, _label in MOVEMENTS.values()),
    *(f"{kind}_sq" for kind in MOVEMENTS),
)
"""Columns the MRR rows need for the decomposed detector (``trials_ending`` is optional)."""

REVENUE_DRIVER_COLUMNS = ("revenue", "invoices", "invoiced", "failed_invoices", "failed_amount")
"""Columns the revenue rows need for the decomposed detector."""


@dataclass(frozen=True)
class DriverFlag:
    """One part of one month outside its band."""

    index: int
    driver: str  # movement name or "collections"
    label: str
    actual: float  # the part's amount (failed amount for collections)
    expected: float
    spread: float  # z* x sqrt(phi V): half-width of the band around ``expected``
    statistic: float  # z / sqrt(phi)
    share: float  # (actual - expected) / reference (previous MRR or invoiced amount)
    detail: str


def has_columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bool:
    """Whether every row carries every column (a missing value counts as 0)."""
    return bool(rows) and all(c in r for r in rows for c in columns)


def critical_value(tests: int, level: int) -> float:
    """``z`` a normal statistic exceeds (two-sided) with probability ``1 - level^(1/tests)``."""
    alpha = 1 - (level / 100) ** (1 / max(tests, 1))
    return NormalDist().inv_cdf(1 - alpha / 2)


def _column(rows: Sequence[Mapping[str, Any]], name: str) -> np.ndarray:
    return np.array([float(r.get(name) or 0.0) for r in rows])


def binomial_z(k: int, n: int, p: float) -> float:
    """The normal score with the same two-sided tail probability as ``k`` of ``n`` at rate ``p``.

    Exact binomial tails rather than the normal approximation, which understates how often a
    handful of failures turns up when the usual count is small.
    """
    from scipy.stats import binom, norm

    upper = float(binom.sf(k - 1, n, p))  # P(X >= k)
    lower = float(binom.cdf(k, n, p))  # P(X <= k)
    tail = min(1.0, max(2 * min(upper, lower), 1e-300))  # finite beyond float precision
    score = float(norm.isf(tail / 2)) if tail < 1 else 0.0
    return score if upper < lower else -score


def _dispersion(z: np.ndarray) -> float:
    finite = z[np.isfinite(z)]
    if finite.size < 3:
        return 1.0
    return max(1.0, float(np.median(finite**2)) / CHI2_1_MEDIAN)


@dataclass
class _Part:
    """One part of the series: its monthly amounts and how to predict month ``t`` from others.

    ``predict(t, months)`` returns ``(expected, variance, detail)`` from the earlier ``months``
    (indices, oldest first) or ``None`` when they are too few; ``reference[t]`` is what the
    deviation is a share of.
    """

    driver: str
    label: str
    actual: np.ndarray
    predict: Any
    reference: np.ndarray
    largest: np.ndarray | None = None


def movement_flags(
    rows: Sequence[Mapping[str, Any]],
    *,
    start: int,
    level: int = 95,
    min_share: float = MIN_SHARE,
    window: int = WINDOW,
    size_window: int = SIZE_WINDOW,
) -> list[DriverFlag]:
    """Months whose MRR movements are out of line (module doc); ``rows`` in month order."""
    previous = _column(rows, "mrr_previous")
    base = _column(rows, "customers_previous")
    trials = _column(rows, "trials_ending") if has_columns(rows, ["trials_ending"]) else None
    parts = []
    for kind, (count_column, label) in MOVEMENTS.items():
        amount, count = _column(rows, kind), _column(rows, count_column)
        squares = _column(rows, f"{kind}_sq")
        largest = _column(rows, f"{kind}_max") if has_columns(rows, [f"{kind}_max"]) else None

        def predict(
            t: int,
            months: list[int],
            kind: str = kind,
            amount: np.ndarray = amount,
            count: np.ndarray = count,
            squares: np.ndarray = squares,
        ) -> tuple[float, float, str] | None:
            w = months[-window:]
            sizes = months[-size_window:]
            customers = count[sizes].sum()
            if len(w) < window or customers < MIN_COUNT:
                return None
            if kind in PER_CUSTOMER:
                if base[w].sum() <= 0:
                    return None
                rate = count[w].sum() / base[w].sum()
                lam = rate * base[t]
                how = f"{rate:.2%} of {base[t]:,.0f} paying customers"
            elif kind == "new" and trials is not None and trials[w].sum() > 0:
                rate = count[w].sum() / trials[w].sum()
                lam = rate * trials[t]
                how = f"{rate:.0%} of {trials[t]:,.0f} trials ending"
            else:
                lam = float(count[w].mean())
                how = f"the {window}-month average"
            mean = amount[sizes].sum() / customers
            mean_square = squares[sizes].sum() / customers
            detail = f"{lam:,.1f} customers, {how}, at {mean:,.0f} on average"
            return lam * mean, max(lam, 0.5) * mean_square, detail

        parts.append(_Part(kind, label, amount, predict, previous, largest))
    return _sequential(parts, start=max(start, window + 1), level=level, min_share=min_share)


def collection_flags(
    rows: Sequence[Mapping[str, Any]],
    *,
    start: int,
    level: int = 95,
    min_share: float = MIN_SHARE,
    window: int = WINDOW,
) -> list[DriverFlag]:
    """Months whose first payment attempts failed out of line (module doc).

    The test is on the number of failed first attempts (a binomial count, so one large invoice
    failing does not make a month anomalous); the band is shown in money: the failed amount the
    usual failure share of the invoiced amount would give, give or take the count's band times
    the month's average invoice.
    """
    invoices, failed = _column(rows, "invoices"), _column(rows, "failed_invoices")
    invoiced, failed_amount = _column(rows, "invoiced"), _column(rows, "failed_amount")

    def usual_share(t: int, months: list[int]) -> tuple[list[int], float] | None:
        """The window before ``t`` and its failure share, kept off 0 and 1 by half a failure."""
        w = months[-window:]
        total = invoices[w].sum()
        if len(w) < window or total <= 0 or invoices[t] <= 0:
            return None
        return w, min(max(failed[w].sum() / total, 0.5 / total), 1 - 0.5 / total)

    def predict(t: int, months: list[int]) -> tuple[float, float, str] | None:
        usual = usual_share(t, months)
        if usual is None:
            return None
        w, share = usual
        amount_share = failed_amount[w].sum() / max(invoiced[w].sum(), 1e-9)
        average = invoiced[t] / invoices[t]
        detail = (
            f"{failed[t]:,.0f} of {invoices[t]:,.0f} invoices failed on the first attempt "
            f"against {share:.1%} usually"
        )
        # In money: the count's variance times the average invoice squared.
        variance = invoices[t] * share * (1 - share) * average**2
        return amount_share * invoiced[t], variance, detail

    def count_statistic(t: int, months: list[int]) -> float | None:
        usual = usual_share(t, months)
        return None if usual is None else binomial_z(int(failed[t]), int(invoices[t]), usual[1])

    part = _Part("collections", "Failed first payment attempts", failed_amount, predict, invoiced)
    return _sequential(
        [part],
        start=max(start, window + 1),
        level=level,
        min_share=min_share,
        statistics={"collections": count_statistic},
    )


def _sequential(
    parts: Sequence[_Part],
    *,
    start: int,
    level: int,
    min_share: float,
    statistics: Mapping[str, Any] | None = None,
) -> list[DriverFlag]:
    """Flag each part's months in time order; a flagged month is left out of later predictions.

    ``statistics`` overrides a part's test statistic (default ``(actual - expected) / √V``).
    Its dispersion ``φ`` comes from a first pass over every month (``median(z²)`` is barely moved
    by the anomalies themselves); the band is simultaneous over every part and month assessed.
    """
    statistics = statistics or {}

    def statistic(part: _Part, t: int, months: list[int]) -> tuple[float, Any] | None:
        prediction = part.predict(t, months)
        if prediction is None:
            return None
        expected, variance, _detail = prediction
        custom = statistics.get(part.driver)
        if custom is not None:
            z = custom(t, months)
            return (z, prediction) if z is not None else None
        if not variance > 0:
            return None
        return (part.actual[t] - expected) / np.sqrt(variance), prediction

    n = len(parts[0].actual) if parts else 0
    dispersion: dict[str, float] = {}
    tests = 0
    for part in parts:
        zs = []
        for t in range(start, n):
            got = statistic(part, t, list(range(1, t)))
            if got is not None and np.isfinite(got[0]):
                zs.append(got[0])
        dispersion[part.driver] = _dispersion(np.array(zs))
        tests += len(zs)
    if tests == 0:
        return []
    z_star = critical_value(tests, level)
    out = []
    for part in parts:
        phi = dispersion[part.driver]
        usable = list(range(1, start))
        for t in range(start, n):
            got = statistic(part, t, usable)
            flagged = False
            if got is not None:
                z, (expected, variance, detail) = got
                z = z / np.sqrt(phi)
                deviation = part.actual[t] - expected
                reference = part.reference[t]
                # One customer is not a company-wide event: an excess must stand out without the
                # month's largest single amount too.
                single = (
                    part.largest is not None
                    and deviation > 0
                    and variance > 0
                    and (deviation - part.largest[t]) / np.sqrt(phi * variance) <= z_star
                )
                if (
                    np.isfinite(z)
                    and abs(z) > z_star
                    and not single
                    and reference > 0
                    and abs(deviation) >= min_share * reference
                ):
                    flagged = True
                    out.append(
                        DriverFlag(
                            index=t,
                            driver=part.driver,
                            label=part.label,
                            actual=float(part.actual[t]),
                            expected=float(expected),
                            spread=float(z_star * np.sqrt(phi * variance)),
                            statistic=float(z),
                            share=float(deviation / reference),
                            detail=str(detail),
                        )
                    )
            if not flagged:
                usable.append(t)
    return sorted(out, key=lambda f: (f.index, -abs(f.statistic)))


OUTFLOWS = ("contraction", "churn", "collections")
"""Parts that lower the series when they are larger than expected."""


def driver_anomalies(
    rows: Sequence[Mapping[str, Any]],
    series: Literal["mrr", "revenue"],
    *,
    label: str,
    level: int = 95,
    min_share: float = MIN_SHARE,
) -> list[Anomaly] | None:
    """The statistical detector by parts, or ``None`` when the rows do not carry the parts.

    ``rows`` are the monthly metric rows in month order with the columns of
    :data:`MRR_DRIVER_COLUMNS` (``series="mrr"``) or :data:`REVENUE_DRIVER_COLUMNS`
    (``series="revenue"``).
    """
    value_column = "mrr" if series == "mrr" else "revenue"
    needed = MRR_DRIVER_COLUMNS if series == "mrr" else REVENUE_DRIVER_COLUMNS
    if len(rows) < WINDOW + 2 or not has_columns(rows, needed):
        return None
    values = _column(rows, value_column)
    start = startup_months(values) if np.all(np.isfinite(values)) else 0
    if series == "mrr":
        flags = movement_flags(rows, start=start, level=level, min_share=min_share)
    else:
        flags = collection_flags(rows, start=start, level=level, min_share=min_share)
    return [_anomaly(rows, values, flag, label, level) for flag in flags]


def _anomaly(
    rows: Sequence[Mapping[str, Any]],
    values: np.ndarray,
    flag: DriverFlag,
    label: str,
    level: int,
) -> Anomaly:
    sign = -1.0 if flag.driver in OUTFLOWS else 1.0
    excess = flag.actual - flag.expected
    actual = float(values[flag.index])
    expected = actual - sign * excess
    effect = sign * excess
    direction: Literal["up", "down"] = "up" if effect > 0 else "down"
    low = max(0.0, flag.expected - flag.spread)
    high = flag.expected + flag.spread
    part = flag.label[0].lower() + flag.label[1:]
    verb = "above" if excess > 0 else "below"
    reference = "previous month's MRR" if flag.driver != "collections" else "amount invoiced"
    reason = (
        f"{label}: {part} {_money(flag.actual)} against {_money(flag.expected)} expected "
        f"({flag.detail}; {level}% band for the whole history {_money(low)} to {_money(high)}), "
        f"{abs(excess) / max(abs(flag.expected), 1e-9) * 100:.0f}% {verb}: "
        f"{abs(flag.share) * 100:.1f}% of the {reference}"
    )
    return Anomaly(
        month=str(rows[flag.index]["month"]),
        series=label,
        detector="statistical",
        actual=actual,
        expected=float(expected),
        lower=float(expected - flag.spread),
        upper=float(expected + flag.spread),
        size=float(sign * flag.share),
        direction=direction,
        reason=reason,
        driver=flag.driver,
        driver_actual=flag.actual,
        driver_expected=flag.expected,
    )


def _money(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"
