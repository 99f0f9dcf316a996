"""Past retention campaigns with a random holdout and a planted treatment effect.

The simulation calls :class:`PastCampaigns` from its churn step every month:

* every month of a campaign's enrolment period (``params.CAMPAIGN_ENROL_MONTHS`` from its start)
  it enrols customers at risk (MRR > 0 at the end of the previous month) whose own data matches
  the campaign's rule (``params.PAST_CAMPAIGNS``) and who are in no campaign's effect window, the
  highest TRUE hazards first, at most ``max_share`` of those at risk; it splits each month's new
  members treated / holdout at random **within each risk tier** (``CAMPAIGN_HOLDOUT_SHARE`` of the
  tier held out, the fraction of a member rounded at random so that every member's chance of
  being held out is exactly the share), from a random stream of its own (so no other stream
  changes its draws);
* for ``params.CAMPAIGN_EFFECT_MONTHS`` months from a member's enrolment (that month included),
  the monthly churn hazard of every TREATED member is multiplied by ``1 - effect`` before churn is
  drawn (a quarterly or annual customer's term-end probability ``1 - (1 - h)^term`` uses the
  reduced hazard);
* it records, for every member, the churn probability of each month of its window under both
  arms from the simulation's own hazard (``p`` from the hazard, ``p_treated`` from the reduced
  one), until the member's first churn.

The truth (``truth/campaign_effects``) is, per campaign, the expected share of members that churn
(MRR = 0 at the end of some month of their window) with and without the treatment:
``1 − Π_months (1 − p)`` per member, averaged. After a member's first churn its data stops, so its
later months carry the hazard of its churn month forward (the same contract's term ends). The
uplift ``untreated − treated`` is what a treated-versus-holdout comparison estimates; it is given
over all members (the randomised comparison's estimand) and over the treated members alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from revintel.data.generator import params as P

if TYPE_CHECKING:
    from revintel.data.generator.simulation import CompanySimulation

__all__ = ["CAMPAIGN_RULES", "PastCampaign", "PastCampaigns"]

CAMPAIGN_RULES: dict[str, str] = {
    "payment": "Customers with a late or failed payment in the last 3 months",
    "support": "Customers with 3+ tickets or a high / urgent one in the last 3 months",
    "adoption": "Customers whose key-feature adoption was below 40% last month",
    "risk": "The customers with the highest churn risk",
}

_MEMBER_FIELDS = (
    "members", "enrol", "treated", "tier", "risk", "log_s_untreated", "log_s_treated",
    "last_h", "period", "anchor", "churn_month",
)  # fmt: skip


def _empty() -> np.ndarray:
    return np.empty(0)


@dataclass
class PastCampaign:
    """One planted campaign: its plan, then its members and their two counterfactual paths."""

    number: int
    key: str
    name: str
    template: str
    rule: str
    start: int  # first enrolment month (index)
    enrol_months: int
    months: int  # each member's effect and outcome window
    effect: float
    max_share: float
    cost: float
    members: np.ndarray = field(default_factory=_empty)  # paying index
    enrol: np.ndarray = field(default_factory=_empty)  # enrolment month
    treated: np.ndarray = field(default_factory=_empty)
    tier: np.ndarray = field(default_factory=_empty)
    risk: np.ndarray = field(default_factory=_empty)
    # Per member: log survival through its window under each arm; the last month at risk's
    # hazard, term and anchor (carried forward after a churn); first churn month (-1: none).
    log_s_untreated: np.ndarray = field(default_factory=_empty)
    log_s_treated: np.ndarray = field(default_factory=_empty)
    last_h: np.ndarray = field(default_factory=_empty)
    period: np.ndarray = field(default_factory=_empty)
    anchor: np.ndarray = field(default_factory=_empty)
    churn_month: np.ndarray = field(default_factory=_empty)

    @property
    def last_enrol(self) -> int:
        return self.start + self.enrol_months - 1

    @property
    def end(self) -> int:
        """Last month of the last member's outcome window."""
        return self.last_enrol + self.months - 1

    @property
    def ran(self) -> bool:
        return len(self.members) >= P.CAMPAIGN_MIN_MEMBERS

    def window(self, m: int) -> np.ndarray:
        """Whether month ``m`` is in each member's window."""
        return (self.enrol <= m) & (m < self.enrol + self.months)

    def add(self, **columns: np.ndarray) -> None:
        for name in _MEMBER_FIELDS:
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, columns[name]]) if len(old) else columns[name])


def _term_probability(h: np.ndarray, period: np.ndarray, term_end: np.ndarray) -> np.ndarray:
    return np.where(period == 1, h, np.where(term_end, 1.0 - (1.0 - h) ** period, 0.0))


def risk_tier(risk: np.ndarray) -> np.ndarray:
    """Tier code (index into ``params.CAMPAIGN_TIERS``) of a 3-month churn probability."""
    return np.searchsorted(np.asarray(P.CAMPAIGN_TIER_BOUNDS), risk, side="left").astype(np.int8)


def _log_survival(p: np.ndarray) -> np.ndarray:
    return np.log1p(-np.minimum(p, 1.0 - 1e-12))


class PastCampaigns:
    """The campaigns of ``params.PAST_CAMPAIGNS`` that fit in the window."""

    def __init__(self, months: int, rng: np.random.Generator) -> None:
        self.rng = rng
        self.campaigns: list[PastCampaign] = []
        self.busy_until: np.ndarray | None = None  # per paying customer: last month in a window
        for number, spec in enumerate(P.PAST_CAMPAIGNS, start=1):
            start = months - 1 - int(spec["months_before_end"])  # type: ignore[call-overload]
            c = PastCampaign(
                number=number,
                key=str(spec["key"]),
                name=str(spec["name"]),
                template=str(spec["template"]),
                rule=str(spec["rule"]),
                start=start,
                enrol_months=P.CAMPAIGN_ENROL_MONTHS,
                months=P.CAMPAIGN_EFFECT_MONTHS,
                effect=float(spec["effect"]),  # type: ignore[arg-type]
                max_share=float(spec["max_share"]),  # type: ignore[arg-type]
                cost=float(spec["cost"]),  # type: ignore[arg-type]
            )
            if start >= P.CAMPAIGN_FIRST_MONTH and c.end <= months - 1:
                self.campaigns.append(c)

    # ------------------------------------------------------------------ the churn step
    def treat(self, sim: CompanySimulation, m: int, idx: np.ndarray, h: np.ndarray) -> np.ndarray:
        """The hazard of each customer at risk after this month's treatments (``h`` unchanged
        for everyone else); enrols this month's new members first."""
        if self.busy_until is None:
            self.busy_until = np.full(sim.n, -1, dtype=np.int64)
        for c in self.campaigns:
            if c.start <= m <= c.last_enrol:
                self._enrol(sim, c, m, idx, h)
        out = h.copy()
        for c in self.campaigns:
            if c.effect == 0.0 or len(c.members) == 0:
                continue
            pos = np.minimum(np.searchsorted(idx, c.members), len(idx) - 1)
            here = (idx[pos] == c.members) & c.treated & c.window(m)
            out[pos[here]] *= 1.0 - c.effect
        return out

    def record(
        self,
        sim: CompanySimulation,
        m: int,
        idx: np.ndarray,
        h: np.ndarray,
        term_end: np.ndarray,
        extra: float,
        churned: np.ndarray,
    ) -> None:
        """Both arms' churn probability this month for the members still at risk.

        ``h`` is the untreated hazard; ``extra`` the month's mass-churn share (0 otherwise);
        ``churned`` whether each customer at risk churned."""
        period = sim.book.period[0, idx]
        for c in self.campaigns:
            if len(c.members) == 0:
                continue
            pos = np.minimum(np.searchsorted(idx, c.members), len(idx) - 1)
            here = (idx[pos] == c.members) & (c.churn_month < 0) & c.window(m)
            k = np.flatnonzero(here)
            i = pos[k]
            base = _term_probability(h[i], period[i], term_end[i])
            treated = _term_probability(h[i] * (1.0 - c.effect), period[i], term_end[i])
            c.log_s_untreated[k] += _log_survival(1.0 - (1.0 - base) * (1.0 - extra))
            c.log_s_treated[k] += _log_survival(1.0 - (1.0 - treated) * (1.0 - extra))
            c.last_h[k] = h[i]
            c.period[k] = period[i]
            c.anchor[k] = sim.book.anchor_month[0, idx[i]]
            c.churn_month[k[churned[i]]] = m

    def finish(self) -> None:
        """Carry each churned member's last hazard through the rest of its window."""
        for c in self.campaigns:
            for m in range(c.start + 1, c.end + 1):
                gone = np.flatnonzero((c.churn_month >= 0) & (c.churn_month < m) & c.window(m))
                if len(gone) == 0:
                    continue
                period, anchor = c.period[gone].astype(np.int64), c.anchor[gone].astype(np.int64)
                term_end = (m > anchor) & ((m - anchor) % period == 0)
                h = c.last_h[gone]
                base = _term_probability(h, period, term_end)
                treated = _term_probability(h * (1.0 - c.effect), period, term_end)
                c.log_s_untreated[gone] += _log_survival(base)
                c.log_s_treated[gone] += _log_survival(treated)

    # ------------------------------------------------------------------ enrolment
    def _eligible(self, sim: CompanySimulation, rule: str, idx: np.ndarray) -> np.ndarray:
        if rule == "payment":
            return (sim.late_ring[:, idx].sum(axis=0) > 0) | sim.failed_ring[:, idx].any(axis=0)
        if rule == "support":
            tickets = sim.ticket_ring[:, idx].sum(axis=0)
            return (tickets >= 3) | (sim.urgent_ring[:, idx].sum(axis=0) >= 1)
        if rule == "adoption":
            return sim.adopt_prev[idx] < 0.4
        if rule == "risk":
            return np.ones(len(idx), dtype=bool)
        raise ValueError(f"unknown campaign rule {rule!r}")

    def _enrol(
        self, sim: CompanySimulation, c: PastCampaign, m: int, idx: np.ndarray, h: np.ndarray
    ) -> None:
        assert self.busy_until is not None
        free = (self.busy_until[idx] < m) & ~np.isin(idx, c.members)
        ok = np.flatnonzero(self._eligible(sim, c.rule, idx) & free)
        cap = int(np.floor(c.max_share * len(idx)))
        if len(ok) > cap:
            ok = np.sort(ok[np.argsort(-h[ok], kind="stable")[:cap]])
        n = len(ok)
        if n == 0:
            return
        members = idx[ok].astype(np.int64)
        risk = 1.0 - (1.0 - h[ok]) ** 3
        tier = risk_tier(risk)
        treated = np.ones(n, dtype=bool)
        for t in range(len(P.CAMPAIGN_TIERS)):
            in_tier = np.flatnonzero(tier == t)
            share = P.CAMPAIGN_HOLDOUT_SHARE * len(in_tier)
            held = int(np.floor(share)) + int(self.rng.random() < share - np.floor(share))
            if held:
                treated[self.rng.permutation(in_tier)[:held]] = False
        self.busy_until[members] = m + c.months - 1
        c.add(
            members=members,
            enrol=np.full(n, m, dtype=np.int64),
            treated=treated,
            tier=tier,
            risk=risk,
            log_s_untreated=np.zeros(n),
            log_s_treated=np.zeros(n),
            last_h=np.zeros(n),
            period=np.ones(n, dtype=np.int64),
            anchor=np.zeros(n, dtype=np.int64),
            churn_month=np.full(n, -1, dtype=np.int64),
        )

    # ------------------------------------------------------------------ truth
    def truth_rows(self) -> list[dict[str, float | int | str]]:
        rows: list[dict[str, float | int | str]] = []
        for c in self.campaigns:
            if not c.ran:
                continue
            untreated = 1.0 - np.exp(c.log_s_untreated)
            treated = 1.0 - np.exp(c.log_s_treated)
            t = c.treated.astype(bool)
            rows.append(
                {
                    "number": c.number,
                    "key": c.key,
                    "name": c.name,
                    "template": c.template,
                    "start": c.start,
                    "end": c.end,
                    "effect": c.effect,
                    "members": len(c.members),
                    "treated": int(t.sum()),
                    "holdout": int((~t).sum()),
                    "churn_untreated": float(untreated.mean()),
                    "churn_treated": float(treated.mean()),
                    "uplift": float((untreated - treated).mean()),
                    "churn_untreated_treated_members": float(untreated[t].mean()),
                    "churn_treated_treated_members": float(treated[t].mean()),
                    "uplift_treated_members": float((untreated[t] - treated[t]).mean()),
                    "observed_churn_treated": float((c.churn_month[t] >= 0).mean()),
                    "observed_churn_holdout": float((c.churn_month[~t] >= 0).mean()),
                }
            )
        return rows
