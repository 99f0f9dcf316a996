"""Sales opportunities: new business, expansion and renewal deals, and each deal's stage history.

Planted effect (``truth/deal_win_drivers``): a deal is won with probability
``logistic(WIN_INTERCEPT[deal_type] + WIN_SEGMENT[segment] + sum of WIN_FLAGS for the qualification
flags that are true + WIN_COMPETITOR[competitor])``.

Which deals are won is decided elsewhere (a customer converted, an upgrade happened, an annual
contract renewed or churned), so each closed deal's flags and competitor are drawn from their exact
posterior given the deal's outcome, type and segment. The joint distribution is then the one the
model above generates (up to the base rate of each type and segment), so a logistic regression of
``won`` on the flags and competitors, with deal type and segment as controls, recovers the
coefficients. Lost new-business deals are as many as the model's win rate implies; open deals draw
their flags from the prior.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from revintel.data.generator import params as P
from revintel.data.generator.population import NamePool, Population, categorical, sigmoid
from revintel.data.generator.simulation import SimulationResult
from revintel.data.generator.timeline import Timeline

NEW_BUSINESS, EXPANSION, RENEWAL = 0, 1, 2
WON_STAGE, LOST_STAGE = 4, 5
OPEN, WON, LOST = 0, 1, 2
LOST_AT_STAGE = np.array([0.25, 0.30, 0.27, 0.18])  # furthest open stage a lost deal reached
LEAD_SOURCES: tuple[str, ...] = (*P.CHANNEL_LABELS, "Existing Customer")
FORECAST_BY_STAGE = np.array([0, 0, 1, 2, 3, 4])  # Pipeline, Pipeline, Best Case, Commit, ...


def _combos() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (flags, competitor) combination with its prior weight and log-odds contribution."""
    flags = np.array([[(c >> b) & 1 for b in range(3)] for c in range(8)], dtype=bool)
    flags = np.repeat(flags, len(P.COMPETITOR_PRIOR), axis=0)
    competitor = np.tile(np.arange(len(P.COMPETITOR_PRIOR)), 8)
    prior = np.prod(np.where(flags, P.FLAG_PRIOR, 1.0 - P.FLAG_PRIOR), axis=1)
    prior = prior * P.COMPETITOR_PRIOR[competitor]
    effect = flags.astype(float) @ np.array(list(P.WIN_FLAGS.values()))
    effect = effect + P.WIN_COMPETITOR[competitor]
    return flags, competitor, prior, effect


COMBO_FLAGS, COMBO_COMPETITOR, COMBO_PRIOR, COMBO_EFFECT = _combos()


def win_probabilities(deal_type: int, segment: int) -> np.ndarray:
    """P(win) of every combination for a deal type and segment."""
    return sigmoid(P.WIN_INTERCEPT[deal_type] + P.WIN_SEGMENT[segment] + COMBO_EFFECT)


def mean_win_rate(deal_type: int, segment: int) -> float:
    return float(np.sum(COMBO_PRIOR * win_probabilities(deal_type, segment)))


def draw_qualification(
    rng: np.random.Generator, deal_type: np.ndarray, segment: np.ndarray, outcome: np.ndarray
) -> np.ndarray:
    """A combination per deal from its posterior given type, segment and outcome."""
    out = np.zeros(len(deal_type), dtype=np.int64)
    for t in range(3):
        for s in range(3):
            q = win_probabilities(t, s)
            for o, likelihood in ((OPEN, np.ones_like(q)), (WON, q), (LOST, 1.0 - q)):
                rows = np.flatnonzero((deal_type == t) & (segment == s) & (outcome == o))
                if len(rows):
                    weights = COMBO_PRIOR * likelihood
                    cdf = np.cumsum(weights / weights.sum())
                    pick = np.searchsorted(cdf, rng.random(len(rows)), side="right")
                    out[rows] = np.minimum(pick, len(cdf) - 1)
    return out


@dataclass
class Deals:
    account: np.ndarray  # population index, -1 for a prospect
    name_code: np.ndarray  # company name (prospects get one from the pool)
    owner: np.ndarray  # index into NamePool.sales_reps + account_managers
    stage: np.ndarray
    amount: np.ndarray
    created: np.ndarray
    expected_close: np.ndarray  # -1: null
    closed: np.ndarray  # -1: null
    deal_type: np.ndarray
    segment: np.ndarray
    lead_source: np.ndarray
    combo: np.ndarray
    lost_at: np.ndarray  # furthest open stage of a lost deal (-1 otherwise)

    @staticmethod
    def concat(parts: list[Deals]) -> Deals:
        if not parts:
            return Deals(
                **{
                    f.name: np.empty(0, np.float64 if f.name == "amount" else np.int64)
                    for f in fields(Deals)
                }
            )
        return Deals(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Deals)}
        )

    def take(self, index: np.ndarray) -> Deals:
        return Deals(**{f.name: getattr(self, f.name)[index] for f in fields(Deals)})

    def __len__(self) -> int:
        return len(self.stage)


@dataclass
class StageHistory:
    deal: np.ndarray  # row of the deal in the (sorted) Deals
    stage: np.ndarray
    entered: np.ndarray
    amount: np.ndarray


class DealBuilder:
    def __init__(
        self,
        population: Population,
        sim: SimulationResult,
        timeline: Timeline,
        names: NamePool,
        rng: np.random.Generator,
    ) -> None:
        self.pop, self.sim, self.tl, self.names, self.rng = population, sim, timeline, names, rng
        self.am_offset = len(names.sales_reps)
        self.parts: list[Deals] = []

    def _add(
        self,
        *,
        account: np.ndarray,
        segment: np.ndarray,
        deal_type: int,
        outcome: int,
        amount: np.ndarray,
        created: np.ndarray,
        closed: np.ndarray | None = None,
        expected: np.ndarray | None = None,
        stage: np.ndarray | None = None,
        lead_source: np.ndarray | None = None,
    ) -> None:
        rng, pop = self.rng, self.pop
        n = len(segment)
        if n == 0:
            return
        segment = segment.astype(np.int64)
        known = account >= 0
        country = rng.choice(
            len(P.COUNTRIES), size=n, p=P.COUNTRY_WEIGHTS / P.COUNTRY_WEIGHTS.sum()
        )
        name_code = np.where(
            known, pop.name_code[np.maximum(account, 0)], self.names.company_codes(rng, country)
        )
        if deal_type == NEW_BUSINESS:
            owner = segment * 10 + (rng.random(n) * 10).astype(np.int64)
        else:
            owner = self.am_offset + pop.account_manager[np.maximum(account, 0)]
        lost_at = np.full(n, -1, dtype=np.int64)
        if outcome == WON:
            stage = np.full(n, WON_STAGE)
        elif outcome == LOST:
            stage = np.full(n, LOST_STAGE)
            lost_at = np.searchsorted(np.cumsum(LOST_AT_STAGE), rng.random(n), side="right")
            lost_at = np.minimum(lost_at, 3)
        assert stage is not None
        if lead_source is None:
            lead_source = np.full(n, len(LEAD_SOURCES) - 1)
        self.parts.append(
            Deals(
                account=account.astype(np.int64),
                name_code=name_code.astype(np.int64),
                owner=owner.astype(np.int64),
                stage=stage.astype(np.int64),
                amount=np.round(np.maximum(amount, 0.0), 2),
                created=created.astype(np.int64),
                expected_close=(expected if expected is not None else np.full(n, -1)).astype(
                    np.int64
                ),
                closed=(closed if closed is not None else np.full(n, -1)).astype(np.int64),
                deal_type=np.full(n, deal_type),
                segment=segment,
                lead_source=lead_source.astype(np.int64),
                combo=draw_qualification(rng, np.full(n, deal_type), segment, np.full(n, outcome)),
                lost_at=lost_at,
            )
        )

    def _cycle(self, median: np.ndarray | float, n: int, minimum: int = 10) -> np.ndarray:
        """Sales-cycle lengths in days: log-normal around ``median``, at most 3x the median."""
        days = np.exp(np.log(median) + 0.45 * self.rng.normal(size=n))
        return np.clip(np.rint(days), minimum, 3 * np.asarray(median)).astype(np.int64)

    def build(self) -> tuple[Deals, StageHistory]:
        self._new_business()
        self._expansion()
        self._renewal()
        deals = Deals.concat(self.parts)
        key = np.where(deals.closed >= 0, deals.closed, deals.expected_close)
        deals = deals.take(np.lexsort((key, deals.created)))
        return deals, self._history(deals)

    def _new_business(self) -> None:
        rng, pop, sim, tl = self.rng, self.pop, self.sim, self.tl
        paying = sim.paying
        seg = pop.segment[paying].astype(np.int64)
        assisted = rng.random(len(paying)) < P.SALES_ASSISTED_SHARE[seg]
        account, seg = paying[assisted], seg[assisted]
        closed = pop.first_sub_day[account]
        amount = 12.0 * sim.first_mrr[assisted]
        created = closed - self._cycle(P.SALES_CYCLE_MEDIAN_DAYS[seg], len(seg))
        self._add(
            account=account,
            segment=seg,
            deal_type=NEW_BUSINESS,
            outcome=WON,
            amount=amount,
            created=created,
            closed=closed,
            lead_source=pop.channel[account],
        )
        for s in range(3):
            won = np.flatnonzero(seg == s)
            if len(won) == 0:
                continue
            p = mean_win_rate(NEW_BUSINESS, s)
            n_lost = round(len(won) * (1.0 - p) / p)
            n_open = round((len(won) + n_lost) / tl.months * P.SALES_CYCLE_MEDIAN_DAYS[s] / 30.4)
            like = won[(rng.random(n_lost + n_open) * len(won)).astype(np.int64)]
            amounts = amount[like] * rng.uniform(0.8, 1.3, len(like))
            source = categorical(rng, P.CHANNEL_MIX, np.full(len(like), s))
            lost_close = np.clip(
                closed[like[:n_lost]] + rng.integers(-20, 21, n_lost),
                tl.window_start,
                tl.window_end,
            )
            segs = np.full(n_lost, s)
            self._add(
                account=np.full(n_lost, -1),
                segment=segs,
                deal_type=NEW_BUSINESS,
                outcome=LOST,
                amount=amounts[:n_lost],
                created=lost_close - self._cycle(P.SALES_CYCLE_MEDIAN_DAYS[s], n_lost),
                closed=lost_close,
                lead_source=source[:n_lost],
            )
            cycle = self._cycle(P.SALES_CYCLE_MEDIAN_DAYS[s], n_open)
            self._add_open(
                account=np.full(n_open, -1),
                segment=np.full(n_open, s),
                deal_type=NEW_BUSINESS,
                amount=amounts[n_lost:],
                cycle=cycle,
                lead_source=source[n_lost:],
            )

    def _add_open(
        self,
        *,
        account: np.ndarray,
        segment: np.ndarray,
        deal_type: int,
        amount: np.ndarray,
        cycle: np.ndarray,
        elapsed: np.ndarray | None = None,
        lead_source: np.ndarray | None = None,
    ) -> None:
        """Deals still open at the window end: created ``elapsed`` days before it."""
        rng, tl = self.rng, self.tl
        n = len(segment)
        if elapsed is None:
            elapsed = (rng.random(n) * cycle).astype(np.int64)
        created = tl.window_end - elapsed
        expected = np.maximum(created + cycle, tl.window_end + 1)
        progress = elapsed / np.maximum(cycle, 1)
        stage = np.minimum((progress * 4 + rng.normal(0, 0.4, n)).astype(np.int64), 3)
        stage = np.clip(np.minimum(stage, elapsed), 0, 3)
        self._add(
            account=account,
            segment=segment,
            deal_type=deal_type,
            outcome=OPEN,
            amount=amount,
            created=created,
            expected=expected,
            stage=stage,
            lead_source=lead_source,
        )

    def _expansion(self) -> None:
        rng, pop, sim, tl = self.rng, self.pop, self.sim, self.tl
        ups = sim.upgrades
        grew = np.flatnonzero(ups["new_mrr"] > ups["old_mrr"])
        account = sim.paying[ups["cust"][grew]]
        seg = pop.segment[account].astype(np.int64)
        amount = 12.0 * (ups["new_mrr"][grew] - ups["old_mrr"][grew])
        day = ups["day"][grew]
        self._add(
            account=account,
            segment=seg,
            deal_type=EXPANSION,
            outcome=WON,
            amount=amount,
            created=day - self._cycle(P.EXPANSION_CYCLE_MEDIAN_DAYS, len(day), minimum=7),
            closed=day,
        )
        # Lost expansion attempts, on accounts that stayed customers through the month.
        use = sim.usage
        use_segment = pop.segment[sim.paying[use["cust"]]]
        for s in (P.MID_MARKET, P.ENTERPRISE):
            won = np.flatnonzero(seg == s)
            rows = np.flatnonzero(use["alive_end"] & (use_segment == s))
            if len(won) == 0 or len(rows) == 0:
                continue
            p = mean_win_rate(EXPANSION, s)
            n_lost = round(len(won) * (1.0 - p) / p)
            pick = rows[(rng.random(n_lost) * len(rows)).astype(np.int64)]
            month = use["month"][pick]
            close = tl.month_start[month] + (rng.random(n_lost) * tl.days_in_month[month]).astype(
                np.int64
            )
            like = won[(rng.random(n_lost) * len(won)).astype(np.int64)]
            self._add(
                account=sim.paying[use["cust"][pick]],
                segment=np.full(n_lost, s),
                deal_type=EXPANSION,
                outcome=LOST,
                amount=amount[like] * rng.uniform(0.7, 1.3, n_lost),
                created=close - self._cycle(P.EXPANSION_CYCLE_MEDIAN_DAYS, n_lost, minimum=7),
                closed=close,
            )
        # Open expansion deals on live accounts.
        live = np.flatnonzero(sim.alive_end & (pop.segment[sim.paying] >= P.MID_MARKET))
        chosen = live[rng.random(len(live)) < P.OPEN_EXPANSION_SHARE]
        cycle = self._cycle(P.EXPANSION_CYCLE_MEDIAN_DAYS, len(chosen), minimum=7) + 14
        self._add_open(
            account=sim.paying[chosen],
            segment=pop.segment[sim.paying[chosen]],
            deal_type=EXPANSION,
            amount=12.0 * sim.mrr_end[chosen] * rng.uniform(0.1, 0.4, len(chosen)),
            cycle=cycle,
        )

    def _renewal(self) -> None:
        pop, sim, tl = self.pop, self.sim, self.tl
        ren = sim.renewals
        if len(ren["cust"]):
            account = sim.paying[ren["cust"]]
            day, won = ren["day"], ren["won"]
            for outcome, sel in ((WON, won), (LOST, ~won)):
                self._add(
                    account=account[sel],
                    segment=pop.segment[account[sel]],
                    deal_type=RENEWAL,
                    outcome=outcome,
                    amount=ren["arr"][sel],
                    created=day[sel] - P.RENEWAL_LEAD_DAYS,
                    closed=day[sel],
                )
        # Annual contracts renewing within the lead time after the window end are open deals.
        live = np.flatnonzero(
            sim.alive_end & (sim.main_period == 12) & (pop.segment[sim.paying] >= P.MID_MARKET)
        )
        if len(live) == 0:
            return
        renew = tl.next_billing(
            np.full(len(live), tl.window_end + 1),
            sim.main_anchor_month[live],
            sim.main_anchor_dom[live],
            np.full(len(live), 12),
        )
        soon = renew <= tl.window_end + P.RENEWAL_LEAD_DAYS
        live, renew = live[soon], renew[soon]
        elapsed = tl.window_end - (renew - P.RENEWAL_LEAD_DAYS)
        self._add_open(
            account=sim.paying[live],
            segment=pop.segment[sim.paying[live]],
            deal_type=RENEWAL,
            amount=12.0 * sim.mrr_end[live],
            cycle=np.full(len(live), P.RENEWAL_LEAD_DAYS),
            elapsed=elapsed,
        )

    def _history(self, deals: Deals) -> StageHistory:
        """Every stage each deal entered, on strictly increasing dates."""
        rng, tl = self.rng, self.tl
        closed = deals.closed >= 0
        won = deals.stage == WON_STAGE
        lost = deals.stage == LOST_STAGE
        entries = np.where(won, 5, np.where(lost, deals.lost_at + 2, deals.stage + 1))
        n = int(entries.sum())
        deal = np.repeat(np.arange(len(deals)), entries)
        first = np.cumsum(entries) - entries
        j = np.arange(n) - np.repeat(first, entries)
        last_j = np.repeat(entries - 1, entries)
        stage = np.where(np.repeat(lost, entries) & (j == last_j), LOST_STAGE, j)
        end = np.where(closed, deals.closed, tl.window_end)
        span = np.repeat(end - deals.created, entries)
        w = rng.exponential(size=n)
        excl = np.cumsum(w) - w
        excl = excl - np.repeat(excl[first], entries)
        total_closed = np.repeat(excl[first + entries - 1], entries)
        total_open = total_closed + np.repeat(w[first + entries - 1], entries)
        denom = np.where(np.repeat(closed, entries), total_closed, total_open)
        frac = np.where(denom > 0, excl / np.where(denom > 0, denom, 1.0), 0.0)
        slack = np.maximum(span - last_j, 0)
        entered = np.repeat(deals.created, entries) + j + np.floor(frac * slack).astype(np.int64)
        factor = np.where(j == last_j, 1.0, np.exp(rng.normal(0.0, 0.12, n)))
        amount = np.round(np.repeat(deals.amount, entries) * factor, 2)
        return StageHistory(deal=deal, stage=stage, entered=entered, amount=amount)
