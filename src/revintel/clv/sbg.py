"""The shifted-beta-geometric (sBG) retention model, fitted by maximum likelihood.

Fader, P. S. and Hardie, B. G. S. (2007), "How to project customer retention", *Journal of
Interactive Marketing* 21(1), 76–90 ([FH07]); discounted expected lifetime from Fader and Hardie
(2010), "Customer-base valuation in a contractual setting: the perils of ignoring heterogeneity",
*Marketing Science* 29(1), 85–93 ([FH10]). Definitions and the validation against [FH07]'s
published example: ``docs/clv.md``.

Each customer churns at the end of a period with a constant probability θ (geometric lifetime),
and θ varies across customers as Beta(α, β). Period t = 0 is the start (everyone alive):

* P(T = t) = B(α + 1, β + t − 1) / B(α, β), t = 1, 2, …  ([FH07] eq. 7)
* S(t) = B(α, β + t) / B(α, β)  ([FH07] eq. 8)
* r(t) = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1)  ([FH07] eq. 9)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln

from revintel.core.errors import InvalidOption, RevintelError

LOG_BOUND = 12.0
"""α and β are searched in [e⁻¹², e¹²] (≈ 6e-6 … 163,000). This keeps the optimiser finite when a
group never churns (the MLE of α tends to 0) or churns alike (no heterogeneity: α, β → ∞ with
α / (α + β) fixed, the geometric limit)."""
DEL_TOLERANCE = 1e-10
"""The truncated DEL sum stops when the remaining discounted tail is below this (S(t) ≤ 1)."""
MAX_DEL_PERIODS = 1_000_000


class InvalidSurvivors(InvalidOption):
    """Survivor counts that the sBG model cannot be fitted to."""


def check_survivors(survivors: Sequence[Any], field: str = "survivors") -> list[int]:
    """``survivors`` as ints: at least 2 periods, non-negative whole numbers, N0 > 0,
    non-increasing; :class:`InvalidSurvivors` naming ``field`` and the offending position."""
    values: list[int] = []
    for i, raw in enumerate(survivors):
        if isinstance(raw, bool):
            raise InvalidSurvivors(f"{field}[{i}]: expected a whole number ≥ 0, got {raw!r}")
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise InvalidSurvivors(
                f"{field}[{i}]: expected a whole number ≥ 0, got {raw!r}"
            ) from None
        if not math.isfinite(number) or number < 0 or number != int(number):
            raise InvalidSurvivors(f"{field}[{i}]: expected a whole number ≥ 0, got {raw!r}")
        values.append(int(number))
    if len(values) < 2:
        raise InvalidSurvivors(
            f"{field}: expected at least 2 periods (N0, N1, …), got {len(values)}"
        )
    if values[0] <= 0:
        raise InvalidSurvivors(f"{field}[0]: the starting count must be > 0, got {values[0]}")
    for i in range(1, len(values)):
        if values[i] > values[i - 1]:
            raise InvalidSurvivors(
                f"{field}[{i}]: survivors cannot increase ({values[i - 1]} then {values[i]}); "
                "expected a non-increasing sequence"
            )
    return values


# -- the distribution ------------------------------------------------------------------------------
def survival(alpha: float, beta: float, t: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """S(t) = B(α, β + t) / B(α, β) ([FH07] eq. 8); S(0) = 1."""
    periods = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha, beta + periods) - betaln(alpha, beta))


def churn_probability(alpha: float, beta: float, t: np.ndarray | Sequence[int]) -> np.ndarray:
    """P(T = t) = B(α + 1, β + t − 1) / B(α, β) for t ≥ 1 ([FH07] eq. 7)."""
    periods = np.asarray(t, dtype=float)
    return np.exp(betaln(alpha + 1.0, beta + periods - 1.0) - betaln(alpha, beta))


def retention_rate(alpha: float, beta: float, t: np.ndarray | Sequence[int]) -> np.ndarray:
    """r(t) = (β + t − 1) / (α + β + t − 1) for t ≥ 1 ([FH07] eq. 9)."""
    periods = np.asarray(t, dtype=float)
    return (beta + periods - 1.0) / (alpha + beta + periods - 1.0)


def discounted_expected_lifetime(
    alpha: float, beta: float, d: float, periods: Literal["infinite"] | int = "infinite"
) -> float:
    """DEL = Σ_{t=0}^{N−1} S(t) / (1 + d)^t, in periods (the first period counts in full).

    [FH10] eq. 6 gives the infinite sum in closed form, ₂F₁(1, β; α + β; 1 / (1 + d)); we sum the
    series directly, in blocks, until the discounted tail (at most (1+d)^−t / (1 − 1/(1+d)),
    since S ≤ 1) is below :data:`DEL_TOLERANCE`. The tests check the two agree. With ``d = 0`` and
    ``periods="infinite"`` this is the expected lifetime, finite only when α > 1.
    """
    if d < 0 or not math.isfinite(d):
        raise RevintelError(f"discount rate d: expected a number ≥ 0, got {d!r}")
    if periods != "infinite":
        n = int(periods)
        if n < 0:
            raise RevintelError(f"periods: expected 'infinite' or a whole number ≥ 0, got {n}")
        t = np.arange(n)
        return float(np.sum(survival(alpha, beta, t) / (1.0 + d) ** t))
    if d == 0:
        return expected_lifetime(alpha, beta)
    ratio = 1.0 / (1.0 + d)
    # periods after which the tail bound ratio^N / (1 - ratio) < tolerance
    needed = math.log(DEL_TOLERANCE * (1.0 - ratio)) / math.log(ratio)
    n = int(min(MAX_DEL_PERIODS, max(12, math.ceil(needed))))
    t = np.arange(n, dtype=float)
    return float(np.sum(survival(alpha, beta, t) * ratio**t))


def expected_lifetime(
    alpha: float, beta: float, periods: Literal["infinite"] | int = "infinite"
) -> float:
    """E[T] = Σ_{t≥0} S(t) = (α + β − 1) / (α − 1) when α > 1, else infinite (the mean of 1/θ
    under Beta(α, β)); with ``periods=N``, the expected number of the next N periods alive."""
    if periods != "infinite":
        return discounted_expected_lifetime(alpha, beta, 0.0, periods)
    if alpha <= 1.0:
        return math.inf
    return (alpha + beta - 1.0) / (alpha - 1.0)


# -- fitting ---------------------------------------------------------------------------------------
def log_likelihood(alpha: float, beta: float, churned: np.ndarray, censored: np.ndarray) -> float:
    """LL = Σ_t n_t ln P(T = t) + Σ_t c_t ln S(t) ([FH07] eq. B3, with right-censoring per age).

    ``churned[t]`` customers churned in period t (index 0 unused), ``censored[t]`` were last seen
    alive at age t. For one cohort observed to period T, ``censored`` is zero except
    ``censored[T] = N_T``: exactly [FH07]'s likelihood.
    """
    t = np.arange(len(churned))
    ll = 0.0
    mask = churned > 0
    mask[0] = False
    if mask.any():
        ll += float(np.sum(churned[mask] * np.log(churn_probability(alpha, beta, t[mask]))))
    alive = censored > 0
    if alive.any():
        ll += float(np.sum(censored[alive] * np.log(survival(alpha, beta, t[alive]))))
    return ll


@dataclass(frozen=True)
class SbgFit:
    """An sBG model fitted to survival counts: parameters, fit and what they project."""

    alpha: float
    beta: float
    log_likelihood: float
    n_periods: int
    """Periods observed after period 0 (``len(survivors) − 1`` for one cohort)."""
    survivors: tuple[float, ...]
    """Observed survivors N0, N1, … (Kaplan–Meier × N0 when ages differ)."""
    converged: bool = True
    at_bound: bool = False
    """α or β reached :data:`LOG_BOUND`: the fit is a limit (nobody churned, or no heterogeneity,
    where the curve is geometric with churn α / (α + β))."""

    @property
    def n0(self) -> float:
        return self.survivors[0]

    def survival(self, horizon: int) -> list[float]:
        """Fitted S(t) for t = 0 … horizon."""
        return survival(self.alpha, self.beta, np.arange(horizon + 1)).tolist()

    def projected_survivors(self, horizon: int) -> list[float]:
        """N0 × S(t) for t = 0 … horizon ([FH07] Table 2)."""
        return [self.n0 * s for s in self.survival(horizon)]

    def retention_curve(self, horizon: int) -> list[float]:
        """r(t) for t = 1 … horizon."""
        return retention_rate(self.alpha, self.beta, np.arange(1, horizon + 1)).tolist()

    def discounted_expected_lifetime(
        self, d: float, periods: Literal["infinite"] | int = "infinite"
    ) -> float:
        return discounted_expected_lifetime(self.alpha, self.beta, d, periods)

    def expected_lifetime(self) -> float:
        return expected_lifetime(self.alpha, self.beta)

    def as_dict(self, horizon: int | None = None) -> dict[str, Any]:
        """Plain values for JSON; ``horizon`` defaults to the periods observed + 5."""
        h = self.n_periods + 5 if horizon is None else horizon
        mean = self.expected_lifetime()
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "log_likelihood": self.log_likelihood,
            "n_periods": self.n_periods,
            "converged": self.converged,
            "at_bound": self.at_bound,
            "mean_churn_probability": self.alpha / (self.alpha + self.beta),
            "expected_lifetime": None if math.isinf(mean) else mean,
            "horizon": h,
            "observed_survivors": list(self.survivors),
            "projected_survivors": self.projected_survivors(h),
            "survival": self.survival(h),
            "retention": self.retention_curve(h),
        }


def fit_sbg(survivors: Sequence[int]) -> SbgFit:
    """Fit α, β by maximum likelihood to one cohort's survivors N0, N1, …, N_T ([FH07] §4).

    Churners in period t are N_{t−1} − N_t; the N_T still alive at the end are censored at T.

    Examples
    --------
    >>> fit = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])  # [FH07] "regular"
    >>> round(fit.alpha, 3), round(fit.beta, 3), round(fit.log_likelihood, 1)
    (0.704, 1.182, -1611.2)
    """
    counts = np.asarray(check_survivors(survivors), dtype=float)
    churned = np.concatenate([[0.0], -np.diff(counts)])
    censored = np.zeros_like(counts)
    censored[-1] = counts[-1]
    return fit_counts(churned, censored, survivors=tuple(float(c) for c in counts))


def fit_counts(
    churned: np.ndarray, censored: np.ndarray, *, survivors: tuple[float, ...] | None = None
) -> SbgFit:
    """Fit α, β to churners and right-censored customers per age (see :func:`log_likelihood`).

    Customers who joined at different times are observed for different numbers of periods; each
    contributes ln P(T = t) if seen churning in period t, else ln S(a) at its last observed age a.
    """
    churned = np.asarray(churned, dtype=float)
    censored = np.asarray(censored, dtype=float)
    if len(churned) != len(censored) or len(churned) < 2:
        raise InvalidSurvivors("churned and censored: expected equal lengths of at least 2")
    if churned[1:].sum() + censored.sum() <= 0:
        raise InvalidSurvivors("survivors: no customer to fit")
    if survivors is None:
        survivors = tuple(kaplan_meier(churned, censored) * (churned.sum() + censored.sum()))

    def objective(x: np.ndarray) -> float:
        value = -log_likelihood(math.exp(x[0]), math.exp(x[1]), churned, censored)
        return value if math.isfinite(value) else 1e300

    bounds = [(-LOG_BOUND, LOG_BOUND)] * 2
    best = None
    for start in ((0.0, 0.0), (-1.0, 1.0), (1.0, 2.0)):
        result = minimize(objective, np.array(start), method="L-BFGS-B", bounds=bounds)
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None
    x = best.x
    return SbgFit(
        alpha=math.exp(x[0]),
        beta=math.exp(x[1]),
        log_likelihood=-float(best.fun),
        n_periods=len(churned) - 1,
        survivors=survivors,
        converged=bool(best.success),
        at_bound=bool(np.any(np.abs(x) >= LOG_BOUND - 1e-6)),
    )


def kaplan_meier(churned: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Observed survival Ŝ(t), t = 0 … T, from churners and censored customers per age.

    At risk in period t: everyone alive at age t − 1 and not censored before t. For one cohort
    (censoring only at T) this is N_t / N_0.
    """
    churned = np.asarray(churned, dtype=float)
    censored = np.asarray(censored, dtype=float)
    n = len(churned)
    total = churned[1:].sum() + censored.sum()
    at_risk = total
    s = np.ones(n)
    for t in range(1, n):
        at_risk -= censored[t - 1]
        hazard = churned[t] / at_risk if at_risk > 0 else 0.0
        s[t] = s[t - 1] * (1.0 - hazard)
        at_risk -= churned[t]
    return s


def residual_discounted_lifetime(alpha: float, beta: float, d: float, age: int) -> float:
    """Discounted expected lifetime still ahead of a customer alive at age ``age`` (periods since
    their first), counting the current period in full: Σ_{t≥0} S(age + t) / S(age) / (1 + d)^t.

    [FH10] eq. 7 (DERL) is the same sum starting one period later; at ``age = 0`` this is the DEL.
    Truncated like :func:`discounted_expected_lifetime`.
    """
    if d <= 0:
        raise RevintelError(f"discount rate d: expected a number > 0, got {d!r}")
    ratio = 1.0 / (1.0 + d)
    needed = math.log(DEL_TOLERANCE * (1.0 - ratio)) / math.log(ratio)
    n = int(min(MAX_DEL_PERIODS, max(12, math.ceil(needed))))
    t = np.arange(n, dtype=float)
    alive = np.exp(betaln(alpha, beta + age + t) - betaln(alpha, beta + age))
    return float(np.sum(alive * ratio**t))
