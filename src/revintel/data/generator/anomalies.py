"""Revenue anomalies the seed plants: real events that move MRR or cash revenue in one month.

Kinds (each at most once, 2-3 per company, never in the first 12 months, at least 3 months apart):

* ``price_increase`` (series ``mrr``): every monthly-billed subscription is re-priced on the first
  day of the month (old subscription ends, a new one starts the same day at the higher price,
  keeping its billing day); new subscriptions use the new list prices from then on. Monthly
  customers' churn hazard rises for the next 2 months (``price_increase`` churn driver).
* ``mass_churn`` (series ``mrr``): a share of the customers (every segment) cancel within days of
  each other (an integration partner shuts down). Their churn probability that month is
  ``1 - (1 - hazard) * (1 - share)``, which is what ``truth/churn_probability`` records.
* ``enterprise_cohort`` (series ``mrr``): a partner brings a block of Enterprise customers who buy
  monthly Enterprise plans directly (no trial) in the first days of the month.
* ``billing_outage`` (series ``revenue``): the payment processor fails every attempt for about a
  week; the failed invoices are retried in the first days of the next month, so cash revenue dips
  and then rebounds while MRR is unchanged (customers see one more late payment).

``size`` in ``truth/anomalies`` is the realised effect: for ``mrr`` the MRR the event added (or
removed) divided by MRR at the end of the previous month; for ``revenue`` the cash the outage
pushed out of the month divided by what the month would have collected without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revintel.data.generator import params as P
from revintel.data.generator.timeline import Timeline

EXPECTED_PAYING_SHARE = 0.4
EXPECTED_ARPA = 2200.0  # strategic accounts (params.STRATEGIC_SHARE) included
EXPECTED_MONTHLY_SURVIVAL = 0.98
COHORT_TYPICAL_PRICE = 4500.0


@dataclass
class AnomalyPlan:
    kind: str
    month: int
    target: float  # aimed relative effect
    cohort_size: int = 0


@dataclass(frozen=True)
class AnomalyRecord:
    month: str
    series: str
    kind: str
    size: float
    description: str


def plan_anomalies(
    rng: np.random.Generator, timeline: Timeline, customers: int, weights: np.ndarray
) -> list[AnomalyPlan]:
    """Choose 2-3 anomaly months and kinds (fewer when the window is too short)."""
    # The last month is excluded so that an outage's retries fall inside the window.
    candidates = np.arange(P.ANOMALY_FIRST_MONTH, timeline.months - 1)
    if len(candidates) == 0:
        return []
    wanted = int(rng.choice([2, 3]))
    chosen: list[int] = []
    for month in rng.permutation(candidates):
        if all(abs(int(month) - c) >= P.ANOMALY_MIN_GAP for c in chosen):
            chosen.append(int(month))
        if len(chosen) == wanted:
            break
    kinds = rng.permutation(len(P.ANOMALY_KINDS))[: len(chosen)]
    plans = [
        AnomalyPlan(P.ANOMALY_KINDS[k], month, float(rng.uniform(*P.ANOMALY_TARGET)))
        for k, month in zip(kinds, chosen, strict=True)
    ]
    for plan in plans:
        if plan.kind == "enterprise_cohort":
            plan.cohort_size = _cohort_size(plan, customers, weights)
    return sorted(plans, key=lambda a: a.month)


def _cohort_size(plan: AnomalyPlan, customers: int, weights: np.ndarray) -> int:
    """Enough Enterprise customers at typical prices to add ``target`` of the expected MRR."""
    share = weights / weights.sum()
    before = np.arange(plan.month)
    survival = EXPECTED_MONTHLY_SURVIVAL ** (plan.month - 1 - before)
    paying = customers * EXPECTED_PAYING_SHARE * np.sum(share[before] * survival)
    expected_mrr = paying * EXPECTED_ARPA
    size = round(plan.target * expected_mrr / COHORT_TYPICAL_PRICE)
    return int(min(max(size, 3), max(customers // 20, 1)))
