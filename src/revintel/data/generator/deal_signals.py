"""What a deal looks like beyond its outcome: product, seats, discount, loss reason, every change
written to ``deal_stage_history``, and its sales activity (``deal_activities``).

Nothing here changes a deal's outcome, flags, competitor, amount, dates or stage entries (those
come from ``sales``), so the planted win drivers stay exact. It draws from its own random stream.

Planted effects (``truth/deal_signals``, one row per deal)
---------------------------------------------------------
* **Product, seats, discount**: the product is the plan sold (the account's plan; a prospect's
  is drawn from the segment's plan mix). ``amount = seats x DEAL_LIST_PRICE[product] x 12 x
  (1 - discount_pct)`` holds exactly (up to the 6 decimals of ``discount_pct``): a deal negotiates
  a discount level (more often, and 5 points more, when a competitor is in the deal), seats are
  the whole number nearest to what the amount buys at that level (rounded up without a discount),
  and ``discount_pct`` is what makes the equation exact: the level give or take half a seat's
  price (without a negotiated discount, under one seat's price).
* **Loss reason** of a lost deal: drawn from ``LOSS_REASON_MIX``; "Lost to competitor" only, and
  most often, when a competitor is in the deal.
* **Late warning signs**: a deal's *late part* starts at ``LATE_SIGNAL_START`` (60%) of its life,
  from creation to close (an open deal: to its current expected close). A deal is *headed to
  loss* when it is lost, or when it is open and a draw from its planted win probability says it
  would lose. In the late part only:
  - deals headed to loss slip (their expected close date is pushed, one to three times) with
    probability ``SLIP_SHARE[1]`` (others ``SLIP_SHARE[0]``); each push comes up to
    ``SLIP_NOTICE_DAYS`` before the old expected date, and the first push in a stage lowers the
    forecast category one level (Commit -> Best Case, Best Case -> Pipeline) for the rest of it;
  - their amount is cut (by 15-40%) with probability ``AMOUNT_CUT_SHARE[1]`` (others ``[0]``);
  - activity thins: the daily rate ``ACTIVITY_RATE[segment]`` is multiplied by
    ``ACTIVITY_THINNING`` (1 on track, 0.6 for a deal that slips, 0.3 headed to loss), and fewer
    of the buyer's messages come in (``ACTIVITY_INBOUND``).
  A deal that does not slip may close early instead (``CLOSE_EARLY_SHARE``, won or lost alike):
  its expected close date was up to ``CLOSE_EARLY_MAX`` of its life after the day it closed.
  Before the late part every deal has the same activity rate and inbound share for its segment,
  and its expected close date, amount path and category follow its stages only: a snapshot at
  mid-life carries none of these signs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from revintel.data.generator import params as P
from revintel.data.generator.population import _person_faker, categorical, sigmoid
from revintel.data.generator.sales import (
    COMBO_COMPETITOR,
    COMBO_EFFECT,
    FORECAST_BY_STAGE,
    LOST_STAGE,
    WON_STAGE,
    Deals,
    StageHistory,
    mean_win_rate,
)
from revintel.data.generator.timeline import Timeline

SECONDS_PER_DAY = 86_400
WORKDAY_START, WORKDAY_SECONDS = 8 * 3600, 10 * 3600
NOTE = 3  # index of "note" in DEAL_ACTIVITY_KINDS: notes have no direction and no contact
ON_TRACK, SLIPS, TO_LOSS = 0, 1, 2


@dataclass
class DealDetails:
    product: np.ndarray
    seats: np.ndarray
    discount: np.ndarray
    loss_reason: np.ndarray  # -1: none
    win_probability: np.ndarray  # planted logistic of the deal's type, segment, flags, competitor
    true_win_probability: np.ndarray  # the same, shifted to the realised base rate of its cell
    to_loss: np.ndarray
    slips: np.ndarray
    cut: np.ndarray
    late_start: np.ndarray  # first day of the late part
    group: np.ndarray  # ON_TRACK, SLIPS or TO_LOSS
    category: np.ndarray  # forecast category now (last history row)


@dataclass
class DealChanges:
    """``deal_stage_history`` rows: each carries the deal's state after the change."""

    deal: np.ndarray
    stage: np.ndarray
    entered: np.ndarray
    amount: np.ndarray
    expected: np.ndarray
    category: np.ndarray


@dataclass
class Activities:
    deal: np.ndarray
    second: np.ndarray
    kind: np.ndarray
    direction: np.ndarray  # 0 inbound, 1 outbound, -1 none
    contact: np.ndarray  # index into contact_pool, -1 none


@lru_cache(maxsize=8)
def contact_pool(seed: int) -> tuple[str, ...]:
    """Buyer contact names, drawn once from Faker seeded apart from the staff names."""
    people = _person_faker("en_US", seed * 1000 + 999)
    names: dict[str, None] = {}
    while len(names) < P.CONTACT_POOL:
        names[f"{people.first_name()} {people.last_name()}"] = None
    return tuple(names)


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _within(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """A uniform day in [first, last] per row (last >= first)."""
    return first + (rng.random(len(first)) * (last - first + 1)).astype(np.int64)


def build_details(
    deals: Deals, population_plan: np.ndarray, tl: Timeline, rng: np.random.Generator
) -> DealDetails:
    n = len(deals)
    closed = deals.closed >= 0
    won, lost = deals.stage == WON_STAGE, deals.stage == LOST_STAGE
    effect = COMBO_EFFECT[deals.combo]
    q = sigmoid(P.WIN_INTERCEPT[deals.deal_type] + P.WIN_SEGMENT[deals.segment] + effect)
    true_q = q.copy()
    for t in range(3):
        for s in range(3):
            cell = closed & (deals.deal_type == t) & (deals.segment == s)
            rate = won[cell].mean() if cell.any() else 0.0
            if 0.0 < rate < 1.0:
                shift = _logit(rate) - _logit(mean_win_rate(t, s))
                true_q[cell] = sigmoid(np.log(q[cell] / (1.0 - q[cell])) + shift)
            elif cell.any():
                true_q[cell] = rate
    to_loss = lost | (~closed & (rng.random(n) > q))

    known = deals.account >= 0
    drawn = categorical(rng, P.PLAN_MIX, deals.segment)
    # A prospect's deal too large for the Pro price list is for the Enterprise plan.
    too_large = deals.amount > 12.0 * P.PRICE_POINTS[P.PRO][-1] * 1.3
    drawn = np.where(too_large, P.ENTERPRISE_PLAN, drawn)
    product = np.where(known, population_plan[np.maximum(deals.account, 0)], drawn).astype(np.int64)
    competing = COMBO_COMPETITOR[deals.combo] > 0
    share = P.DEAL_DISCOUNT_SHARE[deals.segment] + P.DEAL_DISCOUNT_COMPETITOR_SHARE * competing
    level = P.DISCOUNT_LEVELS[categorical(rng, P.DISCOUNT_LEVEL_WEIGHTS, np.zeros(n))]
    level = level + P.DEAL_DISCOUNT_COMPETITOR_LEVEL * competing
    target = np.where(rng.random(n) < share, level, 0.0)
    yearly = 12.0 * P.DEAL_LIST_PRICE[product]
    # Whole seats: the nearest count to the negotiated discount, rounded up when there is none (a
    # discount cannot be negative), so discount_pct is the level give or take half a seat's price.
    exact = deals.amount / (yearly * (1.0 - target))
    seats = np.where(target > 0, np.rint(exact), np.ceil(exact - 1e-9))
    seats = np.where(deals.amount > yearly * seats, np.ceil(exact - 1e-9), seats)
    seats = np.maximum(seats, 1).astype(np.int64)
    discount = np.clip(1.0 - deals.amount / (yearly * seats), 0.0, 1.0)
    reason = categorical(rng, P.LOSS_REASON_MIX, competing.astype(np.int64))
    loss_reason = np.where(lost, reason, -1)

    planned_end = np.where(closed, deals.closed, deals.expected_close)
    span = np.maximum(planned_end - deals.created, 0)
    late_start = deals.created + np.ceil(P.LATE_SIGNAL_START * span).astype(np.int64)
    last_day = np.where(closed, deals.closed - 1, tl.window_end)
    room = last_day >= late_start
    slips = room & (rng.random(n) < P.SLIP_SHARE[to_loss.astype(np.int64)])
    cut = room & (rng.random(n) < P.AMOUNT_CUT_SHARE[to_loss.astype(np.int64)])
    group = np.where(to_loss, TO_LOSS, np.where(slips, SLIPS, ON_TRACK))
    return DealDetails(
        product=product,
        seats=seats,
        discount=np.round(discount, 6),
        loss_reason=loss_reason.astype(np.int64),
        win_probability=q,
        true_win_probability=true_q,
        to_loss=to_loss,
        slips=slips,
        cut=cut,
        late_start=late_start,
        group=group.astype(np.int64),
        category=FORECAST_BY_STAGE[deals.stage],
    )


def build_changes(
    deals: Deals,
    history: StageHistory,
    details: DealDetails,
    tl: Timeline,
    rng: np.random.Generator,
) -> DealChanges:
    """The stage entries plus the late pushes and cuts, each row carrying the state after it.

    Changes on the day of another row of the same deal are merged into one row, so a deal's rows
    have strictly increasing dates. Sets ``details.category`` to each deal's last category.
    """
    n = len(deals)
    closed = deals.closed >= 0
    final_expected = np.where(closed, deals.closed, deals.expected_close)
    last_day = np.where(closed, deals.closed - 1, tl.window_end)
    # Expected close before the close: a closed deal that did not slip may close early.
    early = closed & ~details.slips & (rng.random(n) < P.CLOSE_EARLY_SHARE)
    early_by = np.rint(rng.random(n) * P.CLOSE_EARLY_MAX * (deals.closed - deals.created))
    planned = final_expected + np.where(early, early_by, 0).astype(np.int64)

    # Pushes: 1-3 distinct days in the late part, the old expected date a few days after each.
    slipping = np.flatnonzero(details.slips)
    pushes = 1 + rng.binomial(2, P.SLIP_EXTRA_PUSH, len(slipping))
    push_deal = np.repeat(slipping, pushes)
    push_day = _within(rng, details.late_start[push_deal], last_day[push_deal])
    order = np.lexsort((push_day, push_deal))
    push_deal, push_day = push_deal[order], push_day[order]
    keep = np.ones(len(push_deal), dtype=bool)
    keep[1:] = (push_deal[1:] != push_deal[:-1]) | (push_day[1:] != push_day[:-1])
    push_deal, push_day = push_deal[keep], push_day[keep]
    k = np.bincount(push_deal, minlength=n)
    last_push = np.full(n, -1, dtype=np.int64)
    last_push[push_deal] = push_day  # sorted, so the last write is the latest push
    notice = rng.integers(0, P.SLIP_NOTICE_DAYS + 1, n)
    notice = np.where(k > 0, np.minimum(notice, final_expected - last_push - 1), 0)
    # Expected close after j pushes, j = 0..k: [t_1+g, ..., t_k+g, final] (just [final] if k=0).
    e_count = k + 1
    e_offset = np.cumsum(e_count) - e_count
    e_flat = np.repeat(planned, e_count)
    rank = np.arange(len(push_deal)) - (np.cumsum(k) - k)[push_deal]
    e_flat[e_offset[push_deal] + rank] = push_day + notice[push_deal]

    cut_deal = np.flatnonzero(details.cut)
    cut_day = _within(rng, details.late_start[cut_deal], last_day[cut_deal])
    cut_size = rng.uniform(*P.AMOUNT_CUT_RANGE, len(cut_deal))
    cut_at = np.full(n, np.iinfo(np.int64).max)
    cut_at[cut_deal] = cut_day
    raise_by = np.ones(n)
    raise_by[cut_deal] = 1.0 / (1.0 - cut_size)

    m = len(history.deal)
    deal = np.concatenate([history.deal, push_deal, cut_deal])
    day = np.concatenate([history.entered, push_day, cut_day])
    kind = np.concatenate(
        [np.zeros(m, np.int64), np.ones(len(push_deal), np.int64), np.full(len(cut_deal), 2)]
    )
    stage = np.concatenate([history.stage, np.zeros(len(deal) - m, np.int64)])
    noisy = np.concatenate([history.amount, np.zeros(len(deal) - m)])
    order = np.lexsort((kind, day, deal))
    deal, day, kind, stage, noisy = deal[order], day[order], kind[order], stage[order], noisy[order]

    entry = kind == 0
    rows = np.arange(len(deal))
    last_entry = np.maximum.accumulate(np.where(entry, rows, 0))  # each deal opens with an entry
    stage, noisy = stage[last_entry], noisy[last_entry]
    push_count = np.cumsum(kind == 1)
    start = np.searchsorted(deal, deal, side="left")
    before = push_count[start] - (kind[start] == 1)
    done = push_count - before  # pushes so far, this deal
    expected = e_flat[e_offset[deal] + done]
    expected = np.where(stage >= WON_STAGE, final_expected[deal], expected)  # closed on its day
    lowered = np.minimum(done - done[last_entry], 1)  # one level at most within a stage
    base = FORECAST_BY_STAGE[stage]
    category = np.where(stage >= WON_STAGE, base, np.maximum(base - lowered, 0))
    final_amount = deals.amount[deal]
    amount = np.where(
        day >= cut_at[deal],
        final_amount,
        np.where(details.cut[deal], np.maximum(noisy, final_amount) * raise_by[deal], noisy),
    )
    # One row per (deal, day): the state after the day's last change.
    last = np.ones(len(deal), dtype=bool)
    last[:-1] = (deal[1:] != deal[:-1]) | (day[1:] != day[:-1])
    out = DealChanges(
        deal=deal[last],
        stage=stage[last],
        entered=day[last],
        amount=np.round(amount[last], 2),
        expected=expected[last],
        category=category[last],
    )
    tail = np.ones(len(out.deal), dtype=bool)
    tail[:-1] = out.deal[1:] != out.deal[:-1]
    details.category = np.zeros(n, dtype=np.int64)
    details.category[out.deal[tail]] = out.category[tail]
    return out


def build_activities(
    deals: Deals, details: DealDetails, tl: Timeline, rng: np.random.Generator
) -> Activities:
    n = len(deals)
    closed = deals.closed >= 0
    end = np.where(closed, deals.closed, tl.window_end)  # last day activity can happen
    late = np.clip(details.late_start, deals.created, end + 1)
    rate = P.ACTIVITY_RATE[deals.segment]
    n_early = rng.poisson(rate * (late - deals.created))
    n_late = rng.poisson(rate * P.ACTIVITY_THINNING[details.group] * (end + 1 - late))

    deal = np.concatenate([np.repeat(np.arange(n), n_early), np.repeat(np.arange(n), n_late)])
    is_late = np.concatenate([np.zeros(n_early.sum(), bool), np.ones(n_late.sum(), bool)])
    first = np.where(is_late, late[deal], deals.created[deal])
    stop = np.where(is_late, end[deal], late[deal] - 1)
    day = _within(rng, first, stop)
    second = (
        day * SECONDS_PER_DAY + WORKDAY_START + (rng.random(len(day)) * WORKDAY_SECONDS)
    ).astype(np.int64)
    kind = categorical(rng, P.ACTIVITY_KINDS_MIX, deal).astype(np.int64)
    inbound_share = np.where(
        is_late, P.ACTIVITY_INBOUND[details.group[deal]], P.ACTIVITY_INBOUND[ON_TRACK]
    )
    direction = np.where(rng.random(len(day)) < inbound_share, 0, 1)
    people = 1 + rng.poisson(P.CONTACTS_PER_DEAL[deals.segment] - 1.0)
    people = np.minimum(people, 6)
    first_contact = rng.integers(0, P.CONTACT_POOL, n)
    contact = (first_contact[deal] + (rng.random(len(day)) * people[deal]).astype(np.int64)) % (
        P.CONTACT_POOL
    )
    note = kind == NOTE
    order = np.lexsort((deal, second))
    return Activities(
        deal=deal[order],
        second=second[order],
        kind=kind[order],
        direction=np.where(note, -1, direction)[order],
        contact=np.where(note, -1, contact)[order],
    )
