"""Month-by-month simulation of the paying customers: subscriptions, billing, engagement, churn.

Each month, for every paying customer at once (numpy arrays indexed by paying customer):

1. latent account health moves (mean reversion, noise, and disengagement episodes: a champion
   leaves, a project is shelved; health then falls for several months); trouble episodes start
   and end (payment, support or downgrade: ``params.TROUBLE_KINDS``), drawn from a stream of
   their own;
2. every customer with MRR > 0 at the end of the previous month gets a TRUE churn hazard from its
   own observable data of the previous months (see ``params.CHURN_COEFFICIENTS``) and churn is drawn
   from it (monthly-billed any month; quarterly and annual only at term end, with probability
   ``1 - (1 - hazard)^term``); this is ``truth/churn_probability``;
3. anomalies of the month apply (price increase, mass churn, enterprise cohort, billing outage);
4. upgrades and downgrades (driven by health; a downgrade episode's customer downgrades at its
   next term end): the subscription ends and a new one starts the same
   day at the new price (``end_date`` of the old = ``start_date`` of the new, so MRR never gaps);
   unused prepaid time is credited on the new subscription's first invoice;
5. add-ons (a second subscription) start and stop; churned customers may come back (reactivation);
6. trials convert and direct buyers start;
7. every subscription due is invoiced on its billing day; card payments fail 3-6% of the time and
   are retried 3-5 days later under the same invoice (attempt 2, 3), some invoices end failed;
   invoice-terms customers (Enterprise, Mid-Market annual) pay within net-30, some late;
8. usage (seats, active users, logins, key-feature adoption), NPS answers and support tickets are
   drawn from health, so customers about to churn show falling engagement beforehand.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from revintel.data.generator import params as P
from revintel.data.generator.anomalies import AnomalyPlan, AnomalyRecord
from revintel.data.generator.campaigns import PastCampaigns
from revintel.data.generator.population import Population, categorical, draw, sigmoid
from revintel.data.generator.timeline import NO_DAY, Timeline

SECONDS_PER_DAY = 86_400
DAYS_PER_MONTH = 30.4375
MAIN, ADDON = 0, 1
NPS_COMMENTS: tuple[str, ...] = (
    "Too expensive for what we use.",
    "Support takes too long to answer.",
    "Missing integrations we need.",
    "Does the job.",
    "Good product, a few rough edges.",
    "Great product, the team loves it.",
    "Reporting saves us hours every week.",
)
NPS_COMMENT_SHARE = 0.3
OUTAGE_DAYS = (8, 13)  # a billing outage lasts 8-12 days


@dataclass
class Segments:
    """A batch of subscriptions (one row each), as columns."""

    sub_id: np.ndarray
    cust: np.ndarray
    slot: np.ndarray
    plan: np.ndarray
    start: np.ndarray
    end: np.ndarray  # NO_DAY while active
    price: np.ndarray
    period: np.ndarray  # billing term in months
    seats: np.ndarray
    disc: np.ndarray
    disc_end: np.ndarray  # -1 without a discount
    anchor_month: np.ndarray  # billing schedule: month index and day of month
    anchor_dom: np.ndarray
    credit: np.ndarray  # credit on the first invoice (unused prepaid time of a replaced plan)

    def __len__(self) -> int:
        return len(self.sub_id)

    @staticmethod
    def concat(parts: list[Segments]) -> Segments:
        return Segments(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(Segments)
            }
        )

    def take(self, index: np.ndarray) -> Segments:
        return Segments(**{f.name: getattr(self, f.name)[index] for f in fields(Segments)})


class Chunks:
    """Rows collected month by month, concatenated once at the end."""

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = {}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self._parts.setdefault(name, []).append(np.asarray(values))

    def result(self, **dtypes: type) -> dict[str, np.ndarray]:
        """The named columns (``name=dtype``), empty with that dtype when no rows came."""
        out: dict[str, np.ndarray] = {}
        for name, dtype in dtypes.items():
            parts = self._parts.get(name, [])
            out[name] = (
                np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)
            )
        return out


class SubscriptionBook:
    """The live subscription of each paying customer in two slots: main plan and add-on."""

    def __init__(self, n: int) -> None:
        shape = (2, n)
        self.live = np.zeros(shape, dtype=bool)
        self.sub_id = np.zeros(shape, dtype=np.int64)
        self.plan = np.zeros(shape, dtype=np.int8)
        self.start = np.zeros(shape, dtype=np.int64)
        self.price = np.zeros(shape, dtype=np.float64)
        self.period = np.ones(shape, dtype=np.int64)
        self.seats = np.zeros(shape, dtype=np.int64)
        self.disc = np.zeros(shape, dtype=np.float64)
        self.disc_end = np.full(shape, -1, dtype=np.int64)
        self.anchor_month = np.zeros(shape, dtype=np.int64)
        self.anchor_dom = np.ones(shape, dtype=np.int64)
        self.credit = np.zeros(shape, dtype=np.float64)
        self.next_id = 1
        self.ended: list[Segments] = []
        self.ended_this_month: list[Segments] = []

    def open(
        self,
        slot: int,
        idx: np.ndarray,
        *,
        plan: np.ndarray,
        start: np.ndarray,
        price: np.ndarray,
        period: np.ndarray,
        seats: np.ndarray,
        disc: np.ndarray,
        disc_end: np.ndarray,
        anchor_month: np.ndarray,
        anchor_dom: np.ndarray,
        credit: np.ndarray | float = 0.0,
    ) -> None:
        k = len(idx)
        self.sub_id[slot, idx] = np.arange(self.next_id, self.next_id + k)
        self.next_id += k
        self.live[slot, idx] = True
        self.plan[slot, idx] = plan
        self.start[slot, idx] = start
        self.price[slot, idx] = price
        self.period[slot, idx] = period
        self.seats[slot, idx] = seats
        self.disc[slot, idx] = disc
        self.disc_end[slot, idx] = disc_end
        self.anchor_month[slot, idx] = anchor_month
        self.anchor_dom[slot, idx] = anchor_dom
        self.credit[slot, idx] = credit

    def segments(self, slot: int, idx: np.ndarray, end: np.ndarray | int) -> Segments:
        return Segments(
            sub_id=self.sub_id[slot, idx],
            cust=idx.astype(np.int64),
            slot=np.full(len(idx), slot, dtype=np.int8),
            plan=self.plan[slot, idx],
            start=self.start[slot, idx],
            end=np.broadcast_to(np.asarray(end, dtype=np.int64), idx.shape).copy(),
            price=self.price[slot, idx],
            period=self.period[slot, idx],
            seats=self.seats[slot, idx],
            disc=self.disc[slot, idx],
            disc_end=self.disc_end[slot, idx],
            anchor_month=self.anchor_month[slot, idx],
            anchor_dom=self.anchor_dom[slot, idx],
            credit=self.credit[slot, idx],
        )

    def close(self, slot: int, idx: np.ndarray, end: np.ndarray | int) -> None:
        if len(idx) == 0:
            return
        batch = self.segments(slot, idx, end)
        self.live[slot, idx] = False
        self.ended.append(batch)
        self.ended_this_month.append(batch)

    def live_segments(self, slot: int) -> Segments:
        return self.segments(slot, np.flatnonzero(self.live[slot]), NO_DAY)

    def effective_price(self, slot: int, idx: np.ndarray, day: np.ndarray | int) -> np.ndarray:
        """Monthly price after any discount that applies on ``day``."""
        on = self.disc_end[slot, idx] >= day
        return self.price[slot, idx] * (1.0 - self.disc[slot, idx] * on)


def period_code(period: np.ndarray) -> np.ndarray:
    return np.searchsorted(P.BILLING_MONTHS, period)


def list_prices(
    rng: np.random.Generator,
    plan: np.ndarray,
    seats: np.ndarray,
    period: np.ndarray,
    multiplier: float,
    strategic: np.ndarray | None = None,
) -> np.ndarray:
    """Monthly price: the plan's price point for the seat count, times the term factor.

    ``strategic`` accounts on the Enterprise plan take their point from
    ``STRATEGIC_PRICE_POINTS`` (same seat position)."""
    n = len(plan)
    span = P.PLAN_SEAT_SPAN[plan]
    position = np.log(np.maximum(seats, 1) / span[:, 0]) / np.log(span[:, 1] / span[:, 0])
    position = np.clip(position + rng.normal(0.0, 0.08, n), 0.0, 1.0)
    base = np.empty(n)
    for p, points in enumerate(P.PRICE_POINTS):
        sel = plan == p
        base[sel] = points[np.rint(position[sel] * (len(points) - 1)).astype(np.int64)]
    if strategic is not None:
        sel = strategic & (plan == P.ENTERPRISE_PLAN)
        points = P.STRATEGIC_PRICE_POINTS
        base[sel] = points[np.rint(position[sel] * (len(points) - 1)).astype(np.int64)]
    base = np.rint(base * multiplier)
    return np.round(base * P.BILLING_PRICE_FACTOR[period_code(period)], 2)


def draw_seats(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    raw = np.exp(
        np.log(P.SEATS_MEDIAN[segment]) + P.SEATS_SIGMA[segment] * rng.normal(size=len(segment))
    )
    bounds = P.SEATS_RANGE[segment]
    return np.clip(np.rint(raw), bounds[:, 0], bounds[:, 1]).astype(np.int64)


@dataclass
class SimulationResult:
    """Everything the month loop produced, as numpy columns (indices are paying customers)."""

    paying: np.ndarray  # population index of each paying customer
    subscriptions: Segments
    payments: dict[str, np.ndarray]
    usage: dict[str, np.ndarray]
    nps: dict[str, np.ndarray]
    tickets: dict[str, np.ndarray]
    churn_truth: dict[str, np.ndarray]
    upgrades: dict[str, np.ndarray]
    renewals: dict[str, np.ndarray]
    monthly: dict[str, np.ndarray]  # per-month aggregates
    alive_end: np.ndarray
    last_mrr: np.ndarray
    mrr_end: np.ndarray
    last_end_day: np.ndarray  # end of the last subscription (churned customers)
    first_mrr: np.ndarray
    first_disc: np.ndarray
    first_disc_months: np.ndarray
    main_anchor_month: np.ndarray
    main_anchor_dom: np.ndarray
    main_period: np.ndarray
    health: np.ndarray
    anomalies: list[AnomalyRecord]
    campaigns: PastCampaigns | None = None


class CompanySimulation:
    """Runs the month loop for the paying customers of a population."""

    def __init__(
        self,
        population: Population,
        timeline: Timeline,
        anomalies: list[AnomalyPlan],
        rng: np.random.Generator,
        campaigns: PastCampaigns | None = None,
    ) -> None:
        self.tl = timeline
        self.past = campaigns
        self.rng = rng
        self.plans = {a.kind: a for a in anomalies}
        self.records: list[AnomalyRecord] = []
        self.paying = np.flatnonzero(population.converts)
        n = len(self.paying)
        self.n = n
        self.segment = population.segment[self.paying].astype(np.int64)
        self.intended_plan = population.plan[self.paying].astype(np.int64)
        self.cohort = population.cohort[self.paying]
        self.strategic = population.strategic[self.paying]
        self.first_day = population.first_sub_day[self.paying]
        first_month = timeline.month_of(self.first_day)
        self.start_order = np.argsort(first_month, kind="stable")
        self.start_bounds = np.searchsorted(
            first_month[self.start_order], np.arange(timeline.months + 1)
        )
        self.book = SubscriptionBook(n)

        # Relationship state
        self.churn_month = np.full(n, -1, dtype=np.int64)
        self.churns = np.zeros(n, dtype=np.int8)
        self.reactivations = np.zeros(n, dtype=np.int8)
        self.since_month = np.zeros(n, dtype=np.int64)
        self.rel_start_day = np.zeros(n, dtype=np.int64)
        self.last_end_day = np.full(n, -1, dtype=np.int64)
        self.price_shock_until = np.full(n, -10, dtype=np.int64)
        self.last_mrr = np.zeros(n)
        self.first_mrr = np.zeros(n)
        self.first_disc = np.zeros(n)
        self.first_disc_months = np.zeros(n, dtype=np.int64)
        # Latent health and the observable features the hazard reads (previous months).
        self.health = np.zeros(n, dtype=np.float32)
        self.baseline = np.zeros(n, dtype=np.float32)
        self.episode_left = np.zeros(n, dtype=np.int8)
        self.survey_phase = (rng.random(n) * 3).astype(np.int64)
        self.util_prev = np.full(n, 0.7, dtype=np.float32)
        self.adopt_prev = np.full(n, 0.5, dtype=np.float32)
        self.nps_last = np.full(n, 7.0, dtype=np.float32)
        self.login_ring = np.zeros((4, n), dtype=np.float32)
        self.ticket_ring = np.zeros((3, n), dtype=np.float32)
        self.urgent_ring = np.zeros((3, n), dtype=np.float32)  # high and urgent tickets
        self.late_ring = np.zeros((3, n), dtype=np.float32)
        self.failed_ring = np.zeros((2, n), dtype=bool)
        self.list_multiplier = 1.0
        # Trouble episodes (0 none, else 1 + index in TROUBLE_KINDS), from their own stream so
        # that the other draws of a month do not depend on how many episodes start.
        self.trouble_rng = rng.spawn(1)[0]
        self.trouble = np.zeros(n, dtype=np.int8)
        self.trouble_left = np.zeros(n, dtype=np.int8)
        self.downgrade_due = np.zeros(n, dtype=bool)
        self.downgraded_month = np.full(n, -10, dtype=np.int64)

        self.truth = Chunks()
        self.pay = Chunks()
        self.use = Chunks()
        self.nps = Chunks()
        self.tix = Chunks()
        self.ups = Chunks()
        self.ren = Chunks()
        self.invoice_counter = 0
        months = timeline.months
        self.mrr_total = np.zeros(months)
        self.active_customers = np.zeros(months, dtype=np.int64)
        self.active_seats = np.zeros(months, dtype=np.int64)
        self.tickets_by_severity = np.zeros((months, 4), dtype=np.int64)
        # Billing outage: (first day, day after the last, month). Known from the start, so that
        # attempts scheduled earlier (net-30 payments, retries) also fail on those days.
        self.outage: tuple[int, int, int] | None = None
        if "billing_outage" in self.plans:
            m = self.plans["billing_outage"].month
            first = int(timeline.month_start[m]) + int(rng.integers(3, 8))
            self.outage = (first, first + int(rng.integers(*OUTAGE_DAYS)), m)
        self.outage_failed_amount = 0.0

    # ------------------------------------------------------------------ helpers
    def _days_in(self, m: int, n: int, low: int = 0) -> np.ndarray:
        """Uniform days of month ``m`` from its day ``low + 1`` on."""
        ms, dim = int(self.tl.month_start[m]), int(self.tl.days_in_month[m])
        return ms + low + (self.rng.random(n) * (dim - low)).astype(np.int64)

    def _discount(self, segment: np.ndarray, start: np.ndarray, period: np.ndarray):
        rng = self.rng
        n = len(segment)
        has = rng.random(n) < P.DISCOUNT_SHARE[segment]
        pct = P.DISCOUNT_LEVELS[draw(rng, P.DISCOUNT_LEVEL_WEIGHTS, n)]
        months = P.DISCOUNT_MONTHS[draw(rng, P.DISCOUNT_MONTH_WEIGHTS, n)]
        months = np.where(period == 12, 12, months)
        end = self.tl.add_months(start, months) - 1
        return np.where(has, pct, 0.0), np.where(has, end, -1), np.where(has, months, 0)

    def _reset_features(self, idx: np.ndarray) -> None:
        self.util_prev[idx] = 0.7
        self.adopt_prev[idx] = 0.5
        self.nps_last[idx] = 7.0
        self.ticket_ring[:, idx] = 0
        self.late_ring[:, idx] = 0
        self.failed_ring[:, idx] = False
        self.episode_left[idx] = 0
        seg = self.segment[idx]
        self.baseline[idx] = self.rng.normal(P.HEALTH_START_MEAN[seg], P.HEALTH_START_SD)
        self.health[idx] = self.baseline[idx] + self.rng.normal(0.0, 0.3, len(idx))

    def _start_main(
        self,
        idx: np.ndarray,
        m: int,
        start: np.ndarray,
        plan: np.ndarray,
        *,
        winback: bool,
    ) -> None:
        rng = self.rng
        seg = self.segment[idx]
        period = P.BILLING_MONTHS[categorical(rng, P.BILLING_MIX, seg)]
        seats = draw_seats(rng, seg)
        price = list_prices(rng, plan, seats, period, self.list_multiplier, self.strategic[idx])
        if winback:
            has = rng.random(len(idx)) < 0.4
            disc = np.where(has, 0.2, 0.0)
            disc_months = np.where(has, np.where(period == 12, 12, 3), 0)
            disc_end = np.where(has, self.tl.add_months(start, disc_months) - 1, -1)
        else:
            disc, disc_end, disc_months = self._discount(seg, start, period)
        self.book.open(
            MAIN,
            idx,
            plan=plan,
            start=start,
            price=price,
            period=period,
            seats=seats,
            disc=disc,
            disc_end=disc_end,
            anchor_month=np.full(len(idx), m),
            anchor_dom=self.tl.day_of_month(start),
        )
        if not winback:
            self.first_mrr[idx] = price * (1.0 - disc)
            self.first_disc[idx] = disc
            self.first_disc_months[idx] = disc_months
        self.since_month[idx] = m
        self.rel_start_day[idx] = start
        self._reset_features(idx)

    def _mrr(self, day: int) -> np.ndarray:
        """Each paying customer's MRR on ``day`` (live subscriptions)."""
        out = np.zeros(self.n)
        for slot in (MAIN, ADDON):
            idx = np.flatnonzero(self.book.live[slot])
            out += np.bincount(
                idx, weights=self.book.effective_price(slot, idx, day), minlength=self.n
            )
        return out

    # ------------------------------------------------------------------ month steps
    def run(self) -> SimulationResult:
        prev_mrr_total = 0.0
        for m in range(self.tl.months):
            self.book.ended_this_month = []
            me = self.tl.month_end(m)
            at_risk = np.flatnonzero(self.book.live[MAIN])
            self._move_health(at_risk)
            self._trouble(m, at_risk)
            churned, churn_day = self._churn(m, at_risk, prev_mrr_total)
            if "price_increase" in self.plans and self.plans["price_increase"].month == m:
                self._price_increase(m, prev_mrr_total)
            self._plan_changes(m)
            self._addons(m)
            restarted = self._reactivate(m)
            started = self._start_new(m, prev_mrr_total)
            self._bill(m)
            touched = self.book.live[MAIN].copy()
            touched[churned] = True
            self._engagement(m, touched, churned, churn_day, np.concatenate([restarted, started]))
            mrr = self._mrr(me)
            alive = self.book.live[MAIN]
            self.last_mrr[alive] = mrr[alive]
            self.mrr_total[m] = mrr.sum()
            self._record_cohort(m, mrr, started, prev_mrr_total)
            prev_mrr_total = self.mrr_total[m]
        if self.past is not None:
            self.past.finish()
        return self._result()

    def _move_health(self, idx: np.ndarray) -> None:
        rng = self.rng
        ep = self.episode_left[idx]
        begin = (ep == 0) & (rng.random(len(idx)) < P.EPISODE_START_MONTHLY)
        length = rng.integers(P.EPISODE_MONTHS[0], P.EPISODE_MONTHS[1], size=len(idx))
        ep = np.where(begin, length, ep)
        drift = np.where(ep > 0, P.EPISODE_DRIFT, 0.0)
        h = self.health[idx]
        h = h + P.HEALTH_REVERSION * (self.baseline[idx] - h) + drift
        h = h + P.HEALTH_NOISE * rng.normal(size=len(idx))
        self.health[idx] = h
        self.episode_left[idx] = np.maximum(ep - 1, 0)

    def _trouble(self, m: int, idx: np.ndarray) -> None:
        """Trouble episodes end after their months and start for customers without one."""
        rng = self.trouble_rng
        left = self.trouble_left[idx]
        ended = (self.trouble[idx] > 0) & (left <= 0)
        self.trouble[idx[ended]] = 0
        self.downgrade_due[idx[ended]] = False
        free = idx[self.trouble[idx] == 0]
        u = rng.random(len(free))
        kind = np.searchsorted(np.cumsum(P.TROUBLE_START_MONTHLY), u, side="right")
        start = kind < len(P.TROUBLE_KINDS)
        begin = free[start]
        self.trouble[begin] = kind[start] + 1
        self.trouble_left[begin] = rng.integers(*P.TROUBLE_MONTHS, size=len(begin))
        self.downgrade_due[begin] = kind[start] == P.TROUBLE_KINDS.index("downgrade")
        self.trouble_left[idx] = np.maximum(self.trouble_left[idx] - 1, 0)

    def _in_trouble(self, kind: str, idx: np.ndarray) -> np.ndarray:
        return self.trouble[idx] == P.TROUBLE_KINDS.index(kind) + 1

    def hazard(self, m: int, idx: np.ndarray) -> np.ndarray:
        """TRUE monthly churn hazard from the customer's data of the previous months."""
        c = {k: v[0] for k, v in P.CHURN_COEFFICIENTS.items()}
        book = self.book
        last = self.login_ring[(m - 1) % 4, idx]
        before = (self.login_ring[:, idx].sum(axis=0) - last) / 3.0
        trend = np.log1p(last) - np.log1p(before)
        tickets = self.ticket_ring[:, idx].sum(axis=0)
        urgent = np.clip(self.urgent_ring[:, idx].sum(axis=0) - 1.0, 0.0, 3.0)
        late = self.late_ring[:, idx].sum(axis=0)
        failed = self.failed_ring[:, idx].any(axis=0)
        early = (m - self.since_month[idx]) <= 3
        shock = (self.price_shock_until[idx] >= m) & (book.period[MAIN, idx] == 1)
        downgraded = (m - self.downgraded_month[idx]) <= 3
        logit = (
            P.CHURN_INTERCEPT
            + P.CHURN_SEGMENT[self.segment[idx]]
            + P.CHURN_PLAN[book.plan[MAIN, idx]]
            + c["seat_utilisation"] * (self.util_prev[idx] - 0.7)
            + c["login_trend"] * trend
            + c["key_feature_adoption"] * (self.adopt_prev[idx] - 0.5)
            + c["nps"] * (self.nps_last[idx] - 7.0)
            + c["support_tickets"] * np.log1p(tickets)
            + c["escalations"] * urgent
            + c["late_payments"] * late
            + c["failed_invoice"] * failed
            + c["early_tenure"] * early
            + c["price_increase"] * shock
            + c["downgrade"] * downgraded
        )
        return sigmoid(logit.astype(np.float64))

    def _churn(self, m: int, idx: np.ndarray, prev_mrr_total: float):
        rng, book, tl = self.rng, self.book, self.tl
        if len(idx) == 0:
            return idx, idx
        h_untreated = self.hazard(m, idx)
        h = h_untreated
        if self.past is not None:
            h = self.past.treat(self, m, idx, h_untreated)
        period = book.period[MAIN, idx]
        anchor = book.anchor_month[MAIN, idx]
        term_end = (m > anchor) & ((m - anchor) % period == 0)
        p = np.where(period == 1, h, np.where(term_end, 1.0 - (1.0 - h) ** period, 0.0))
        u = rng.random(len(idx))
        event = np.zeros(len(idx), dtype=bool)
        plan = self.plans.get("mass_churn")
        share = 0.0
        if plan is not None and plan.month == m:
            share = self._mass_churn_share(m, plan.target)
            hit = np.ones(len(idx), dtype=bool)
            p_total = np.where(hit, 1.0 - (1.0 - p) * (1.0 - share), p)
            event = hit & (u >= p) & (u < p_total)
            p = p_total
        churn = u < p
        self.truth.add(
            cust=idx.astype(np.int32),
            month=np.full(len(idx), m, dtype=np.int16),
            probability=p.astype(np.float64),
            churned=churn,
        )
        if self.past is not None:
            self.past.record(self, m, idx, h_untreated, term_end, share, churn)
        anchor_dom = book.anchor_dom[MAIN, idx]
        day = tl.billing_day(m, anchor_dom)
        ms = int(tl.month_start[m])
        day = np.where(event, ms + 7 + (rng.random(len(idx)) * 14).astype(np.int64), day)

        # Renewal outcomes of annual contracts (for renewal deals).
        renewal = term_end & (period == 12) & (self.segment[idx] >= P.MID_MARKET)
        if renewal.any():
            r = idx[renewal]
            bd = tl.billing_day(m, anchor_dom[renewal])
            self.ren.add(
                cust=r,
                day=bd,
                arr=12.0 * book.effective_price(MAIN, r, bd),
                won=~churn[renewal],
            )
        if plan is not None and plan.month == m:
            lost = idx[event]
            lost_mrr = self._mrr(ms - 1)[lost].sum()
            self.records.append(
                AnomalyRecord(
                    month=tl.labels[m],
                    series="mrr",
                    kind="mass_churn",
                    size=-float(lost_mrr / max(prev_mrr_total, 1.0)),
                    description=(
                        f"{len(lost):,} customers ({share:.0%} of them) cancelled within two "
                        "weeks after the integration partner most of them relied on shut down"
                    ),
                )
            )

        gone, end = idx[churn], day[churn]
        addon = gone[book.live[ADDON, gone]]
        book.close(ADDON, addon, day[churn][book.live[ADDON, gone]])
        book.close(MAIN, gone, end)
        self.churn_month[gone] = m
        self.churns[gone] += 1
        self.last_end_day[gone] = end
        return gone, end

    def _mass_churn_share(self, m: int, target: float) -> float:
        """The share of customers that must leave to remove ``target`` of MRR (every segment is
        exposed: with strategic accounts, SMB and Mid-Market alone are too small a part of MRR)."""
        return float(np.clip(target, 0.1, 0.5))

    def _price_increase(self, m: int, prev_mrr_total: float) -> None:
        book, tl = self.book, self.tl
        plan = self.plans["price_increase"]
        ms = int(tl.month_start[m])
        monthly_mrr = 0.0
        targets = []
        for slot in (MAIN, ADDON):
            idx = np.flatnonzero(book.live[slot] & (book.period[slot] == 1))
            idx = idx[book.start[slot, idx] < ms]
            targets.append(idx)
            monthly_mrr += book.effective_price(slot, idx, ms).sum()
        share = monthly_mrr / max(prev_mrr_total, 1.0)
        increase = float(np.clip(round(plan.target / max(share, 1e-9), 2), 0.08, 0.35))
        added = 0.0
        for slot, idx in zip((MAIN, ADDON), targets, strict=True):
            old = dict(
                plan=book.plan[slot, idx],
                price=np.round(book.price[slot, idx] * (1.0 + increase), 2),
                period=book.period[slot, idx],
                seats=book.seats[slot, idx],
                disc=book.disc[slot, idx],
                disc_end=book.disc_end[slot, idx],
                anchor_month=book.anchor_month[slot, idx],
                anchor_dom=book.anchor_dom[slot, idx],
            )
            before = book.effective_price(slot, idx, ms)
            book.close(slot, idx, ms)
            book.open(slot, idx, start=np.full(len(idx), ms), **old)
            added += (book.effective_price(slot, idx, ms) - before).sum()
            if slot == MAIN:
                self.price_shock_until[idx] = m + 2
        self.list_multiplier *= 1.0 + increase
        self.records.append(
            AnomalyRecord(
                month=tl.labels[m],
                series="mrr",
                kind="price_increase",
                size=float(added / max(prev_mrr_total, 1.0)),
                description=(
                    f"List prices raised {increase:.0%} on {tl.labels[m]}-01 for every "
                    f"monthly-billed subscription ({len(targets[0]):,} customers) and for new "
                    "subscriptions"
                ),
            )
        )

    def _plan_changes(self, m: int) -> None:
        rng, book, tl = self.rng, self.book, self.tl
        ms = int(tl.month_start[m])
        idx = np.flatnonzero(book.live[MAIN])
        idx = idx[book.start[MAIN, idx] < ms]
        if len(idx) == 0:
            return
        h = self.health[idx].astype(np.float64)
        seg = self.segment[idx]
        p_up = sigmoid(P.UPGRADE_LOGIT + 0.9 * h + P.UPGRADE_SEGMENT[seg])
        p_down = sigmoid(P.DOWNGRADE_LOGIT - 0.9 * h)
        period = book.period[MAIN, idx]
        anchor = book.anchor_month[MAIN, idx]
        term_end = (period == 1) | ((m > anchor) & ((m - anchor) % period == 0))
        u = rng.random(len(idx))
        up = u < p_up
        down = ~up & (u < p_up + p_down) & term_end
        planted = self.downgrade_due[idx] & term_end & ~up
        down |= planted
        move = up | down
        idx, up, seg, period = idx[move], up[move], seg[move], period[move]
        if len(idx) == 0:
            return
        plan = book.plan[MAIN, idx].astype(np.int64)
        seats = book.seats[MAIN, idx]
        v = rng.random(len(idx))
        plan_up = up & (plan < 2) & (v < 0.5) & ((plan == 0) | (seg >= P.MID_MARKET))
        plan_down = ~up & (plan > 0) & (v < 0.5) & ~((plan == 1) & (seg == P.ENTERPRISE))
        new_plan = plan + plan_up - plan_down
        grow = rng.uniform(1.15, 1.6, len(idx))
        shrink = rng.uniform(0.55, 0.85, len(idx))
        planted = planted[move]
        if planted.any():
            shrink[planted] = self.trouble_rng.uniform(*P.TROUBLE_SHRINK, int(planted.sum()))
            plan_down |= planted & (plan > 0) & ~((plan == 1) & (seg == P.ENTERPRISE))
        new_seats = np.where(
            plan_up,
            np.maximum(seats, P.PLAN_SEAT_SPAN[np.minimum(new_plan, 2), 0]).astype(np.int64),
            np.where(up, np.ceil(seats * grow), np.maximum(np.floor(seats * shrink), 1)),
        ).astype(np.int64)
        new_price = list_prices(
            rng, new_plan, new_seats, period, self.list_multiplier, self.strategic[idx]
        )
        old_price = book.price[MAIN, idx]
        real = np.where(up, new_price > old_price, new_price < old_price)
        idx, new_plan, new_seats, new_price = (
            idx[real],
            new_plan[real],
            new_seats[real],
            new_price[real],
        )
        period, up = period[real], up[real]
        self.downgraded_month[idx[~up]] = m
        self.downgrade_due[idx[~up]] = False
        if len(idx) == 0:
            return
        day = np.where(
            ~up & (period > 1),
            tl.billing_day(m, book.anchor_dom[MAIN, idx]),
            self._days_in(m, len(idx), low=1),
        )
        old_eff = book.effective_price(MAIN, idx, day)
        paid_until = tl.next_billing(
            day, book.anchor_month[MAIN, idx], book.anchor_dom[MAIN, idx], period
        )
        credit = np.round(old_eff * (paid_until - day) / DAYS_PER_MONTH, 2)
        keep_disc = book.disc_end[MAIN, idx] >= day
        disc = np.where(keep_disc, book.disc[MAIN, idx], 0.0)
        disc_end = np.where(keep_disc, book.disc_end[MAIN, idx], -1)
        book.close(MAIN, idx, day)
        book.open(
            MAIN,
            idx,
            plan=new_plan,
            start=day,
            price=new_price,
            period=period,
            seats=new_seats,
            disc=disc,
            disc_end=disc_end,
            anchor_month=np.full(len(idx), m),
            anchor_dom=tl.day_of_month(day),
            credit=credit,
        )
        sales = self.segment[idx] >= P.MID_MARKET
        if sales.any():
            self.ups.add(
                cust=idx[sales],
                day=day[sales],
                old_mrr=old_eff[sales],
                new_mrr=book.effective_price(MAIN, idx[sales], day[sales]),
            )

    def _addons(self, m: int) -> None:
        rng, book, tl = self.rng, self.book, self.tl
        ms = int(tl.month_start[m])
        live = np.flatnonzero(book.live[ADDON])
        live = live[book.start[ADDON, live] < ms]
        stop = live[rng.random(len(live)) < P.ADDON_CANCEL_MONTHLY]
        book.close(ADDON, stop, self._days_in(m, len(stop), low=1))

        cand = book.live[MAIN] & ~book.live[ADDON]
        cand[stop] = False  # no new add-on in the month one was cancelled
        cand = np.flatnonzero(cand)
        cand = cand[book.start[MAIN, cand] < ms]
        h = self.health[cand].astype(np.float64)
        p = sigmoid(P.ADDON_MONTHLY_LOGIT + 0.6 * h + 0.5 * (book.plan[MAIN, cand] >= P.PRO))
        new = cand[rng.random(len(cand)) < p]
        if len(new) == 0:
            return
        plan = np.where((book.plan[MAIN, new] >= P.PRO) & (rng.random(len(new)) < 0.4), 1, 0)
        seats = rng.integers(P.ADDON_SEATS[0], P.ADDON_SEATS[1] + 1, len(new))
        period = np.ones(len(new), dtype=np.int64)
        day = self._days_in(m, len(new), low=1)
        book.open(
            ADDON,
            new,
            plan=plan,
            start=day,
            price=list_prices(rng, plan, seats, period, self.list_multiplier),
            period=period,
            seats=seats,
            disc=np.zeros(len(new)),
            disc_end=np.full(len(new), -1),
            anchor_month=np.full(len(new), m),
            anchor_dom=tl.day_of_month(day),
        )

    def _reactivate(self, m: int) -> np.ndarray:
        rng = self.rng
        gap = m - self.churn_month
        cand = np.flatnonzero(
            ~self.book.live[MAIN]
            & (self.churns > 0)
            & (gap >= 2)
            & (self.reactivations < P.MAX_REACTIVATIONS)
        )
        p = P.REACTIVATION_MONTHLY * np.exp(-(gap[cand] - 2) / P.REACTIVATION_DECAY_MONTHS)
        back = cand[rng.random(len(cand)) < p]
        if len(back):
            plan = categorical(rng, P.PLAN_MIX, self.segment[back])
            self._start_main(back, m, self._days_in(m, len(back)), plan, winback=True)
            self.reactivations[back] += 1
        return back

    def _start_new(self, m: int, prev_mrr_total: float) -> np.ndarray:
        idx = self.start_order[self.start_bounds[m] : self.start_bounds[m + 1]]
        if len(idx) == 0:
            return idx
        self._start_main(idx, m, self.first_day[idx], self.intended_plan[idx], winback=False)
        cohort = idx[self.cohort[idx]]
        if len(cohort):
            self._price_cohort(m, cohort, prev_mrr_total)
        return idx

    def _price_cohort(self, m: int, idx: np.ndarray, prev_mrr_total: float) -> None:
        """The enterprise-cohort anomaly: monthly Enterprise plans sized to the target."""
        rng, book = self.rng, self.book
        target = self.plans["enterprise_cohort"].target * max(prev_mrr_total, 1.0)
        weights = rng.uniform(0.7, 1.3, len(idx))
        price = np.clip(target * weights / weights.sum(), 1500.0, 8000.0)
        price = np.round(np.rint(price / 250.0) * 250.0 * self.list_multiplier, 2)
        book.plan[MAIN, idx] = P.ENTERPRISE_PLAN
        book.period[MAIN, idx] = 1
        book.price[MAIN, idx] = price
        book.seats[MAIN, idx] = np.rint(price / 20.0).astype(np.int64)
        book.disc[MAIN, idx] = 0.0
        book.disc_end[MAIN, idx] = -1
        self.first_mrr[idx] = price
        self.first_disc[idx] = 0.0
        self.first_disc_months[idx] = 0

    def _record_cohort(self, m: int, mrr: np.ndarray, started: np.ndarray, prev: float) -> None:
        plan = self.plans.get("enterprise_cohort")
        if plan is None or plan.month != m:
            return
        cohort = started[self.cohort[started]]
        self.records.append(
            AnomalyRecord(
                month=self.tl.labels[m],
                series="mrr",
                kind="enterprise_cohort",
                size=float(mrr[cohort].sum() / max(prev, 1.0)),
                description=(
                    f"A reseller partnership brought {len(cohort):,} Enterprise customers on "
                    f"monthly Enterprise plans in the first days of {self.tl.labels[m]}"
                ),
            )
        )

    # ------------------------------------------------------------------ billing
    def _bill(self, m: int) -> None:
        book, tl, rng = self.book, self.tl, self.rng
        segs = Segments.concat(
            [*book.ended_this_month, book.live_segments(MAIN), book.live_segments(ADDON)]
        )
        due_now = (m >= segs.anchor_month) & ((m - segs.anchor_month) % segs.period == 0)
        bd = tl.billing_day(m, segs.anchor_dom)
        inv = due_now & (bd >= segs.start) & (bd < segs.end)
        segs, bd = segs.take(np.flatnonzero(inv)), bd[inv]
        disc_on = bd <= segs.disc_end
        amount = segs.price * segs.period * (1.0 - segs.disc * disc_on)
        amount = amount - segs.credit * (segs.anchor_month == m)
        amount = np.round(amount, 2)
        keep = amount > 0
        segs, bd, amount = segs.take(np.flatnonzero(keep)), bd[keep], amount[keep]
        n = len(segs)
        if n == 0:
            return
        invoice = self.invoice_counter + 1 + np.arange(n)
        self.invoice_counter += n
        cust = segs.cust
        seg = self.segment[cust]
        h = self.health[cust].astype(np.float64)
        terms = (seg == P.ENTERPRISE) | ((seg == P.MID_MARKET) & (segs.period == 12))
        due = bd + np.where(terms, P.NET_TERMS_DAYS, 0)
        paying_trouble = self._in_trouble("payment", cust)
        late_p = np.where(
            paying_trouble, P.TROUBLE_LATE_INVOICE, P.LATE_INVOICE_BASE * np.exp(-0.4 * h)
        )
        late_payer = terms & (rng.random(n) < late_p)
        wait = np.where(late_payer, rng.integers(31, 61, n), rng.integers(3, 31, n))
        date = np.where(terms, bd + wait, bd)
        first_date = date
        first_fail = np.where(
            terms,
            0.01,
            P.CARD_FAILURE_BASE * np.exp(-0.4 * h) * np.where(seg == P.SMB, 1.2, 1.0),
        )
        first_fail = np.where(paying_trouble & ~terms, P.TROUBLE_CARD_FAILURE, first_fail)
        fail_p = first_fail
        exists = np.ones(n, dtype=bool)
        retried = np.zeros(n, dtype=bool)
        final_failed = np.zeros(n, dtype=bool)
        rows: list[tuple[np.ndarray, ...]] = []
        for attempt in (1, 2, 3):
            hit = np.zeros(n, dtype=bool)
            if self.outage is not None:
                hit = (date >= self.outage[0]) & (date < self.outage[1])
            failed = hit | (rng.random(n) < fail_p)
            record = exists & (date <= tl.window_end)
            sel = np.flatnonzero(record)
            rows.append((sel, date[sel], np.full(len(sel), attempt), ~failed[sel]))
            if self.outage is not None:
                outage_month = self.outage[2]
                in_month = (date >= tl.month_start[outage_month]) & (
                    date < tl.month_start[outage_month + 1]
                )
                self.outage_failed_amount += amount[record & hit & in_month].sum()
            if attempt > 1:
                retried |= record
            if attempt == 3:
                final_failed = record & failed
                break
            exists = record & failed
            retry_month = tl.month_start[np.minimum(tl.month_of(date) + 1, len(tl.month_start) - 1)]
            date = np.where(
                hit,
                retry_month + rng.integers(0, 3, n),
                date + rng.integers(P.RETRY_GAP_DAYS[0], P.RETRY_GAP_DAYS[1], n),
            )
            retry_fail = np.where(
                paying_trouble & ~terms, P.TROUBLE_RETRY_FAILURE, P.RETRY_FAILURE[attempt - 1]
            )
            fail_p = np.where(hit, first_fail, retry_fail)
        sel = np.concatenate([r[0] for r in rows])
        pay_date = np.concatenate([r[1] for r in rows])
        attempt_no = np.concatenate([r[2] for r in rows])
        success = np.concatenate([r[3] for r in rows])
        order = np.lexsort((attempt_no, sel, pay_date))
        sel, pay_date, attempt_no, success = (
            sel[order],
            pay_date[order],
            attempt_no[order],
            success[order],
        )
        self.pay.add(
            cust=cust[sel].astype(np.int32),
            sub_id=segs.sub_id[sel],
            invoice=invoice[sel],
            attempt=attempt_no.astype(np.int8),
            date=pay_date,
            due=due[sel],
            amount=amount[sel],
            success=success,
        )
        late = retried | (terms & (first_date > due))
        slot = m % 3
        self.late_ring[slot] = 0
        self.late_ring[slot] += np.bincount(cust, weights=late, minlength=self.n).astype(np.float32)
        self.failed_ring[m % 2] = False
        self.failed_ring[m % 2, cust[final_failed]] = True

    # ------------------------------------------------------------------ engagement
    def _engagement(
        self,
        m: int,
        touched: np.ndarray,
        churned: np.ndarray,
        churn_day: np.ndarray,
        fresh: np.ndarray,
    ) -> None:
        rng, tl, book = self.rng, self.tl, self.book
        ms, dim = int(tl.month_start[m]), int(tl.days_in_month[m])
        idx = np.flatnonzero(touched)
        n = len(idx)
        if n == 0:
            self.ticket_ring[m % 3] = 0
            self.urgent_ring[m % 3] = 0
            return
        to_day = np.full(self.n, ms + dim, dtype=np.int64)
        to_day[churned] = churn_day
        from_day = np.full(self.n, ms, dtype=np.int64)
        from_day[fresh] = self.rel_start_day[fresh]
        lo, hi = from_day[idx], np.maximum(to_day[idx], from_day[idx] + 1)
        frac = (hi - lo) / dim
        addon_on = book.live[ADDON, idx] | np.isin(idx, self._addons_closed_this_month())
        seats = book.seats[MAIN, idx] + book.seats[ADDON, idx] * addon_on
        h = self.health[idx].astype(np.float64)
        util = sigmoid(0.8 + 1.1 * h + rng.normal(0.0, 0.25, n))
        active = rng.binomial(seats, util)
        over = rng.random(n) < 0.02
        active = np.where(over, seats + rng.integers(1, np.maximum(seats // 10, 1) + 1), active)
        season = P.USAGE_SEASON[tl.calendar_month[m]]
        rate = active * P.LOGINS_PER_ACTIVE_USER * np.exp(0.35 * h) * season
        logins = rng.poisson(rate * frac)
        plan = book.plan[MAIN, idx]
        adoption = sigmoid(-0.3 + 0.9 * h + 0.25 * plan + rng.normal(0.0, 0.3, n))
        adoption = np.round(np.clip(adoption, 0.0, 1.0), 3)
        alive_end = book.live[MAIN, idx]
        self.use.add(
            cust=idx.astype(np.int32),
            month=np.full(n, m, dtype=np.int16),
            active_users=active,
            seats=seats,
            logins=logins,
            adoption=adoption,
            alive_end=alive_end,
        )
        self.active_customers[m] = n
        self.active_seats[m] = seats.sum()

        # Features for next month's hazard.
        self.util_prev[idx] = np.minimum(active / np.maximum(seats, 1), 1.2)
        self.adopt_prev[idx] = adoption
        per_day = logins / np.maximum(hi - lo, 1)
        self.login_ring[m % 4, idx] = per_day
        new = np.isin(idx, fresh)
        self.login_ring[:, idx[new]] = per_day[new]

        # NPS: one survey wave every third month per account.
        wave = (m + self.survey_phase[idx]) % 3 == 0
        answer = wave & (rng.random(n) < P.NPS_RESPONSE_RATE[self.segment[idx]])
        a = np.flatnonzero(answer)
        if len(a):
            drop = P.TROUBLE_NPS_DROP * self._in_trouble("support", idx[a])
            score = np.clip(np.rint(7.7 + 1.5 * h[a] + rng.normal(0.0, 1.4, len(a)) - drop), 0, 10)
            day = lo[a] + (rng.random(len(a)) * (hi[a] - lo[a])).astype(np.int64)
            # Detractors (0-6), passives (7-8) and promoters (9-10) say different things.
            group = np.searchsorted([6.5, 8.5], score)
            pick = (rng.random(len(a)) * np.array([3, 2, 2])[group]).astype(np.int64)
            comment = np.where(
                rng.random(len(a)) < NPS_COMMENT_SHARE, np.array([0, 3, 5])[group] + pick, -1
            )
            self.nps.add(
                cust=idx[a].astype(np.int32), day=day, score=score.astype(np.int64), comment=comment
            )
            self.nps_last[idx[a]] = score

        # Support tickets: more for unhealthy and larger accounts.
        lam = P.TICKETS_PER_MONTH[self.segment[idx]] * np.exp(-0.45 * h) * frac
        support_trouble = self._in_trouble("support", idx)
        lam = lam + P.TROUBLE_TICKETS * frac * support_trouble
        count = rng.poisson(lam)
        self.ticket_ring[m % 3] = 0
        self.ticket_ring[m % 3, idx] = count
        self.urgent_ring[m % 3] = 0
        k = int(count.sum())
        if k:
            row = np.repeat(np.arange(n), count)
            day = lo[row] + (rng.random(k) * (hi[row] - lo[row])).astype(np.int64)
            clock = np.clip(rng.normal(13 * 3600, 3.5 * 3600, k), 0, 86_399).astype(np.int64)
            opened = day * SECONDS_PER_DAY + clock
            logits = P.TICKET_SEVERITY_LOGITS[None, :] + np.outer(-0.35 * h[row], [0, 0.5, 1, 1.5])
            logits += np.outer(support_trouble[row] * P.TROUBLE_SEVERITY_SHIFT, [0, 0, 1, 1])
            probs = np.exp(logits)
            cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
            severity = np.minimum((rng.random(k)[:, None] >= cdf).sum(axis=1), 3)
            hours = P.TICKET_HOURS_MEDIAN[severity] * np.exp(rng.normal(0.0, 0.9, k))
            closed = opened + (hours * 3600).astype(np.int64) + 60
            stuck = rng.random(k) < P.TICKET_STUCK_SHARE
            open_now = stuck | (closed >= (tl.window_end + 1) * SECONDS_PER_DAY)
            category = np.where(
                severity >= 2,
                draw(rng, [0.1, 0.55, 0.1, 0.2, 0.0, 0.05], k),
                draw(rng, [0.4, 0.15, 0.15, 0.1, 0.15, 0.05], k),
            )
            self.tix.add(
                cust=idx[row].astype(np.int32),
                opened=opened,
                closed=np.where(open_now, -1, closed),
                severity=severity.astype(np.int8),
                category=category.astype(np.int8),
            )
            self.tickets_by_severity[m] = np.bincount(severity, minlength=4)
            self.urgent_ring[m % 3] = np.bincount(
                idx[row], weights=severity >= 2, minlength=self.n
            ).astype(np.float32)

    def _addons_closed_this_month(self) -> np.ndarray:
        parts = [s.cust[s.slot == ADDON] for s in self.book.ended_this_month]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    # ------------------------------------------------------------------ result
    def _result(self) -> SimulationResult:
        book, tl = self.book, self.tl
        subs = Segments.concat([*book.ended, book.live_segments(MAIN), book.live_segments(ADDON)])
        subs = subs.take(np.argsort(subs.sub_id, kind="stable"))
        i64, f64 = np.int64, np.float64
        payments = self.pay.result(
            cust=np.int32,
            sub_id=i64,
            invoice=i64,
            attempt=np.int8,
            date=i64,
            due=i64,
            amount=f64,
            success=bool,
        )
        months = tl.months
        pay_month = tl.month_of(payments["date"])
        ok = payments["success"]
        revenue = np.bincount(pay_month[ok], weights=payments["amount"][ok], minlength=months)[
            :months
        ]
        if self.outage is not None:
            m = self.outage[2]
            lost = self.outage_failed_amount
            self.records.append(
                AnomalyRecord(
                    month=tl.labels[m],
                    series="revenue",
                    kind="billing_outage",
                    size=-float(lost / max(revenue[m] + lost, 1.0)),
                    description=(
                        f"Payment processor outage {self._iso(self.outage[0])} to "
                        f"{self._iso(self.outage[1] - 1)}: every attempt failed; invoices were "
                        "retried in the first days of the next month"
                    ),
                )
            )
        mrr_end = self._mrr(tl.window_end)
        return SimulationResult(
            paying=self.paying,
            subscriptions=subs,
            payments=payments,
            usage=self.use.result(
                cust=np.int32,
                month=np.int16,
                active_users=i64,
                seats=i64,
                logins=i64,
                adoption=f64,
                alive_end=bool,
            ),
            nps=self.nps.result(cust=np.int32, day=i64, score=i64, comment=i64),
            tickets=self.tix.result(
                cust=np.int32, opened=i64, closed=i64, severity=np.int8, category=np.int8
            ),
            churn_truth=self.truth.result(
                cust=np.int32, month=np.int16, probability=f64, churned=bool
            ),
            upgrades=self.ups.result(cust=i64, day=i64, old_mrr=f64, new_mrr=f64),
            renewals=self.ren.result(cust=i64, day=i64, arr=f64, won=bool),
            monthly={
                "mrr": self.mrr_total,
                "revenue": revenue,
                "active_customers": self.active_customers,
                "active_seats": self.active_seats,
                "tickets_by_severity": self.tickets_by_severity,
            },
            alive_end=book.live[MAIN].copy(),
            last_mrr=self.last_mrr,
            mrr_end=mrr_end,
            last_end_day=self.last_end_day,
            first_mrr=self.first_mrr,
            first_disc=self.first_disc,
            first_disc_months=self.first_disc_months,
            main_anchor_month=book.anchor_month[MAIN].copy(),
            main_anchor_dom=book.anchor_dom[MAIN].copy(),
            main_period=book.period[MAIN].copy(),
            health=self.health,
            anomalies=sorted(self.records, key=lambda r: r.month),
            campaigns=self.past,
        )

    @staticmethod
    def _iso(day: int) -> str:
        return str(np.datetime64(int(day), "D"))
