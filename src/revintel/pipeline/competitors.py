"""Competitive intelligence from the loaded deals (``docs/pipeline.md``, Competitive intelligence).

The counts are Ibis expressions (:func:`competitor_counts` and friends, run on every backend); the
statistics are computed on those small tables:

- win rate against a competitor = won ÷ closed deals where it was present, with the Wilson 95%
  interval, beside the overall win rate (all closed deals);
- trend: per quarter of the close date, the win rate against it; per quarter of the creation date,
  its share of deals created;
- threats: (a) its share of new deals in the last ``recent_quarters`` quarters is higher than in
  the quarters before, or (b) our win rate against it in the last ``recent_quarters`` quarters is
  lower than before; each by a one-sided two-proportion z-test at level ``significance``;
- opportunities: segments and products where our win rate against it has a Wilson 95% lower bound
  above the overall win rate, with at least ``min_deals`` closed deals.

No market data is invented: every figure comes from the deals.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from revintel.pipeline.analytics import closed_deals, dimension_value, quarter_label
from revintel.pipeline.stages import LOST_STAGE, OPEN_STAGES, WON_STAGE, furthest_open_stage

if TYPE_CHECKING:
    import ibis

Z95 = 1.959963984540054


# -- Ibis counts ----------------------------------------------------------------------------------
def _with_competitor(deals: ibis.Table) -> ibis.Table:
    d = deals.mutate(rival=dimension_value(deals, "competitor"))
    return d


def _won(stage: ibis.Value) -> ibis.Value:
    import ibis

    return ibis.cases((stage == WON_STAGE, 1), else_=0)


def competitor_counts(deals: ibis.Table, *, discount: bool) -> ibis.Table:
    """Per competitor (``(none)`` for none): ``deals``, ``closed``, ``won``, ``avg_amount``,
    ``avg_won_amount`` and, when ``discount``, ``avg_discount``."""
    import ibis

    d = _with_competitor(deals)
    closed = ibis.cases((d.stage.isin([WON_STAGE, LOST_STAGE]), 1), else_=0)
    won = _won(d.stage)
    metrics: dict[str, ibis.Value] = {
        "deals": d.deal_id.count(),
        "closed": closed.sum(),
        "won": won.sum(),
        "avg_amount": d.amount.mean(),
        "avg_won_amount": ibis.cases((won == 1, d.amount), else_=None).mean(),
    }
    if discount:
        metrics["avg_discount"] = d.discount_pct.mean()
    return d.group_by("rival").aggregate(**metrics)


def closed_by_quarter(deals: ibis.Table) -> ibis.Table:
    """Per competitor and quarter of ``closed_date``: ``closed``, ``won``."""
    d = _with_competitor(closed_deals(deals))
    d = d.filter(d.closed_date.notnull()).mutate(quarter=quarter_label(d.closed_date))
    return d.group_by(["rival", "quarter"]).aggregate(
        closed=d.deal_id.count(), won=_won(d.stage).sum()
    )


def created_by_quarter(deals: ibis.Table) -> ibis.Table:
    """Per competitor and quarter of ``created_date``: ``deals`` created."""
    d = _with_competitor(deals).mutate(quarter=quarter_label(deals.created_date))
    return d.group_by(["rival", "quarter"]).aggregate(deals=d.deal_id.count())


def lost_at_stage(deals: ibis.Table, history: ibis.Table) -> ibis.Table:
    """Per competitor and furthest open stage a lost deal reached: ``lost``."""
    import ibis

    lost = _with_competitor(deals.filter(deals.stage == LOST_STAGE)).select("deal_id", "rival")
    reach = furthest_open_stage(history)
    j = lost.join(reach, "deal_id", how="left")
    label = ibis.cases(
        *[(j.furthest_rank == i, s) for i, s in enumerate(OPEN_STAGES)], else_="(no history)"
    )
    j = j.mutate(stage=label)
    return j.group_by(["rival", "stage"]).aggregate(lost=j.deal_id.count())


def loss_reasons(deals: ibis.Table) -> ibis.Table:
    """Per competitor and loss reason of lost deals: ``lost``."""
    d = _with_competitor(deals.filter(deals.stage == LOST_STAGE))
    d = d.mutate(reason=dimension_value(d, "loss_reason"))
    return d.group_by(["rival", "reason"]).aggregate(lost=d.deal_id.count())


def closed_by(deals: ibis.Table, dimension: str) -> ibis.Table:
    """Per competitor and value of ``dimension``: ``closed``, ``won``."""
    d = _with_competitor(closed_deals(deals))
    d = d.mutate(value=dimension_value(d, dimension))
    return d.group_by(["rival", "value"]).aggregate(
        closed=d.deal_id.count(), won=_won(d.stage).sum()
    )


# -- statistics -----------------------------------------------------------------------------------
def wilson(successes: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion (None, None when n = 0)."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float | None, float | None]:
    """z and the one-sided p-value of H1: p2 > p1 (pooled two-proportion z-test)."""
    if n1 == 0 or n2 == 0:
        return None, None
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None, None
    z = (p2 - p1) / se
    return z, 0.5 * math.erfc(z / math.sqrt(2))


@dataclass(frozen=True)
class Threat:
    competitor: str
    kind: str  # "rising share" or "falling win rate"
    before: float
    recent: float
    z: float
    p_value: float
    evidence: str


@dataclass(frozen=True)
class Opportunity:
    competitor: str
    dimension: str
    value: str
    closed: int
    won: int
    win_rate: float
    ci_low: float
    overall_win_rate: float
    evidence: str


@dataclass
class CompetitorReport:
    overall: dict[str, Any]
    competitors: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    lost_at_stage: list[dict[str, Any]]
    loss_reasons: list[dict[str, Any]]
    threats: list[Threat]
    opportunities: list[Opportunity]
    test: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return out


def split_quarters(quarters: list[str], recent: int) -> tuple[list[str], list[str]]:
    """(before, recent): the last ``recent`` quarters and every one before them."""
    ordered = sorted(set(quarters))
    return ordered[:-recent], ordered[-recent:]


def find_threats(
    name: str,
    closed_q: dict[str, tuple[int, int]],
    created_q: dict[str, tuple[int, int]],
    *,
    recent: int,
    significance: float,
) -> list[Threat]:
    """Threats of one competitor from its per-quarter (closed, won) and (its deals, all deals)."""
    threats: list[Threat] = []
    before, last = split_quarters(list(created_q), recent)
    if before and last:
        x1 = sum(created_q[q][0] for q in before)
        n1 = sum(created_q[q][1] for q in before)
        x2 = sum(created_q[q][0] for q in last)
        n2 = sum(created_q[q][1] for q in last)
        z, p = two_proportion_z(x1, n1, x2, n2)
        if z is not None and p is not None and p < significance:
            threats.append(
                Threat(
                    name,
                    "rising share",
                    x1 / n1,
                    x2 / n2,
                    z,
                    p,
                    f"present in {x2}/{n2} deals created in {last[0]}–{last[-1]} against "
                    f"{x1}/{n1} before (z = {z:.2f}, one-sided p = {p:.3f})",
                )
            )
    before, last = split_quarters(list(closed_q), recent)
    if before and last:
        w1 = sum(closed_q[q][1] for q in before)
        n1 = sum(closed_q[q][0] for q in before)
        w2 = sum(closed_q[q][1] for q in last)
        n2 = sum(closed_q[q][0] for q in last)
        # falling win rate = the LOSS rate rising
        z, p = two_proportion_z(n1 - w1, n1, n2 - w2, n2)
        if z is not None and p is not None and p < significance:
            threats.append(
                Threat(
                    name,
                    "falling win rate",
                    w1 / n1,
                    w2 / n2,
                    -z,
                    p,
                    f"won {w2}/{n2} closed in {last[0]}–{last[-1]} against {w1}/{n1} before "
                    f"(z = {-z:.2f}, one-sided p = {p:.3f})",
                )
            )
    return threats
