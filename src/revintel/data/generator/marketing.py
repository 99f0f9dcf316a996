"""Marketing journeys, conversion events, marketing spend, channel spend and the monthly costs.

Journeys (the planted truth of attribution)
-------------------------------------------
Every visitor or lead journey, converting or not, is one walk of a first-order Markov chain over
``params.TOUCH_CHANNELS``: the first touch is drawn from ``JOURNEY_START_MIX[segment]``; after a
touch of channel ``c`` the journey signs up with probability ``q[c] = JOURNEY_CONVERT[c]``, else
with probability ``s = JOURNEY_CONTINUE`` it goes on to a next touch (the same channel with
probability ``JOURNEY_REPEAT``, else one drawn from ``JOURNEY_NEXT_MIX[c]``), else it ends without
signing up. Only the start mix depends on the segment, so the journeys of all segments pooled are
exactly a first-order chain whose start distribution is the segments' start mixes weighted by their
expected number of journeys (customers over conversion probability).

Per segment, journeys are drawn one after another until exactly as many have signed up as the
segment has customers (walks are drawn in batches and the ones after the last sign-up needed are
dropped: each journey is an independent walk, so the sample is honest); those converting
journeys become the customers' own journeys, matched within the segment to a customer whose
acquisition channel is the one the journey's last touch stands for (``TOUCH_ACQUISITION``) where
the counts allow, else to one whose channel the journey touched, else to any (87% and 93% of the
default company's customers). The others stay anonymous (``customer_id`` null). About
four journeys in five never sign up.

Timing: a customer's last touch is hours before its sign-up; earlier touches are days apart
(``TOUCH_GAP_DAYS`` by segment), a journey's span squeezed into ``JOURNEY_SPAN_DAYS`` so it lies in
the models' default 90-day window. A journey that never signs up ends at a time drawn like a
sign-up of its segment (a random customer's, moved up to ``NON_CONVERTING_JITTER_DAYS``), inside
the window. Journeys are numbered ``VIS-...`` by their first touch.

The truth (``attribution_truth``) is computed from the same chain: the probability of signing up
with only the channels in ``S`` active (a touch of another channel ends the journey without a
sign-up), ``v(S)``, solved exactly on the absorbing chain for every coalition; each channel's
removal effect ``1 - v(all but c) / v(all)``; its true share (removal effects normalised); the
Shapley value of the game ``v`` as a share; and the same three from a Monte-Carlo of
``MC_JOURNEYS`` walks, where ``v(S)`` is the share of walks that sign up touching only channels of
``S``. These are the quantities the order-1 Markov model and the coalition Shapley model estimate
from sign-up journeys.

Other tables
------------
* Conversions: ``signup`` (value 0), ``trial`` (value 0) and ``paid`` at the first subscription
  with value = first-year revenue (12 months at list price minus the discounted months' savings),
  each on its customer's journey.
* Marketing spend: per sign-up cost by segment times a channel factor, with a little noise.
* Channel spend: each month's marketing spend split over the touch channels (Direct has none) so
  that the channel's touches that month are ``T[m, c] = demand[m] * a[c] * spend[m, c] ** b[c]``
  with ``b = SPEND_RESPONSE_B`` (diminishing returns, b < 1) and ``a[c]`` such that the average
  month splits by ``SPEND_SHARE``:
  ``a[c] = mean_m T[m, c] / (SPEND_SHARE[c] * mean_m S[m]) ** b[c]``.
  ``demand[m]`` is the month's market demand, one number per month solved so the split adds up to
  the month's marketing spend ``S[m]``; it grows with the company. Written to ``channel_response``
  (``a``, ``b``) and ``channel_demand`` (``demand``).
* Costs: infra from active customers and seats, support from tickets (by severity) and active
  customers; marketing_cost is exactly the month's marketing spend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revintel.data.generator import params as P
from revintel.data.generator.population import Population, categorical
from revintel.data.generator.simulation import SimulationResult
from revintel.data.generator.timeline import Timeline

TOUCH_GAP_DAYS = np.array([4.0, 6.0, 10.0])
LAST_TOUCH_HOURS = 6.0
JOURNEY_SPAN_DAYS = 80.0
NON_CONVERTING_JITTER_DAYS = 15.0
MC_JOURNEYS = 500_000
SIGNUP, TRIAL, PAID = 0, 1, 2
N_CHANNELS = len(P.TOUCH_CHANNELS)
SECONDS_PER_DAY = 86_400


# --------------------------------------------------------------------------- the chain
def step_matrix() -> np.ndarray:
    """``Q[c, d]``: probability that a touch of ``c`` is followed by one of ``d`` (no sign-up)."""
    q = P.JOURNEY_CONVERT
    moves = P.JOURNEY_REPEAT * np.eye(N_CHANNELS) + (1 - P.JOURNEY_REPEAT) * P.JOURNEY_NEXT_MIX
    return ((1 - q) * P.JOURNEY_CONTINUE)[:, None] * moves


def signup_probability(start: np.ndarray, active: np.ndarray | None = None) -> float:
    """P(a journey signs up) from start distribution ``start`` with only ``active`` channels (a
    touch of an inactive channel ends the journey): ``start_A . (I - Q_AA)^-1 q_A``, exactly."""
    idx = np.arange(N_CHANNELS) if active is None else np.flatnonzero(active)
    if idx.size == 0:
        return 0.0
    q = step_matrix()[np.ix_(idx, idx)]
    h = np.linalg.solve(np.eye(idx.size) - q, P.JOURNEY_CONVERT[idx])
    return float(start[idx] @ h)


def pooled_start(customers_by_segment: np.ndarray) -> np.ndarray:
    """The pooled start distribution: segment start mixes weighted by expected journeys."""
    p = np.array([signup_probability(mix) for mix in P.JOURNEY_START_MIX])
    weight = np.asarray(customers_by_segment, dtype=np.float64) / p
    return weight @ P.JOURNEY_START_MIX / weight.sum()


@dataclass
class Walks:
    """Journeys as walks of the chain, CSR: ``starts[j]:starts[j + 1]`` are journey j's touches."""

    starts: np.ndarray
    channel: np.ndarray
    converted: np.ndarray  # bool per journey

    @property
    def n(self) -> int:
        return len(self.converted)

    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def take(self, journeys: np.ndarray) -> Walks:
        lengths = self.lengths()[journeys]
        first = np.repeat(self.starts[journeys], lengths)
        offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return Walks(starts, self.channel[first + offset], self.converted[journeys])


def concat_walks(parts: list[Walks]) -> Walks:
    channel = np.concatenate([w.channel for w in parts]).astype(np.int64)
    lengths = np.concatenate([w.lengths() for w in parts]).astype(np.int64)
    converted = np.concatenate([w.converted for w in parts]).astype(bool)
    return Walks(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64), channel, converted)


def walk(rng: np.random.Generator, first: np.ndarray) -> Walks:
    """One walk of the chain from each first channel, vectorised step by step."""
    n = len(first)
    converted = np.zeros(n, dtype=bool)
    alive, current = np.arange(n), np.asarray(first, dtype=np.int64)
    journeys: list[np.ndarray] = []
    channels: list[np.ndarray] = []
    while alive.size:
        journeys.append(alive)
        channels.append(current)
        u = rng.random(alive.size)
        q = P.JOURNEY_CONVERT[current]
        signs_up = u < q
        goes_on = ~signs_up & (u < q + (1 - q) * P.JOURNEY_CONTINUE)
        converted[alive[signs_up]] = True
        stays = rng.random(int(goes_on.sum())) < P.JOURNEY_REPEAT
        moves = categorical(rng, P.JOURNEY_NEXT_MIX, current[goes_on])
        current = np.where(stays, current[goes_on], moves)
        alive = alive[goes_on]
    counts = np.zeros(n, dtype=np.int64)
    for alive_then in journeys:  # each step's survivors made one more touch
        counts[alive_then] += 1
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    channel = np.zeros(int(starts[-1]), dtype=np.int64)
    for step_no, (alive_then, ch) in enumerate(zip(journeys, channels, strict=True)):
        channel[starts[alive_then] + step_no] = ch
    return Walks(starts, channel, converted)


def walks_until(rng: np.random.Generator, start: np.ndarray, converters: int) -> Walks:
    """Walks from ``start`` drawn one after another until exactly ``converters`` signed up."""
    if converters == 0:
        return concat_walks([walk(rng, np.zeros(0, dtype=np.int64))])
    p = signup_probability(start)
    parts: list[Walks] = []
    found = 0
    while found < converters:
        batch = int((converters - found) / p * 1.1) + 64
        w = walk(rng, categorical(rng, start, np.zeros(batch, dtype=np.int64)))
        need = converters - found
        hits = np.cumsum(w.converted)
        if hits[-1] >= need:
            w = w.take(np.arange(int(np.searchsorted(hits, need)) + 1))
        parts.append(w)
        found += int(w.converted.sum())
    return concat_walks(parts)


# --------------------------------------------------------------------------- journeys
@dataclass
class Touchpoints:
    journey: np.ndarray  # journey number (1-based, VIS-...) per touch
    cust: np.ndarray  # population index, -1: a journey that never signed up
    second: np.ndarray
    channel: np.ndarray
    source: np.ndarray  # index into the flattened TOUCH_SOURCES
    campaign: np.ndarray  # index into campaign_names(), -1: none
    customer_journey: np.ndarray  # per customer (population index): its journey number
    journeys: int  # how many journeys
    converting: int  # of which signed up


def source_names() -> tuple[list[str], np.ndarray]:
    """Flattened utm sources, and the offset of each touch channel's sources."""
    names: list[str] = []
    offsets = []
    for sources in P.TOUCH_SOURCES:
        offsets.append(len(names))
        names.extend(sources)
    return names, np.array(offsets, dtype=np.int64)


def campaign_names(first_year: int, years: int) -> list[str]:
    out: list[str] = []
    for y in range(years):
        for q in range(4):
            for ch in P.TOUCH_CHANNELS:
                slug = ch.lower().replace(" ", "-")
                out.extend(
                    f"{first_year + y}-q{q + 1}-{slug}-{theme}" for theme in P.CAMPAIGN_THEMES
                )
    return out


def match_customers(
    rng: np.random.Generator, customers: np.ndarray, acquisition: np.ndarray, w: Walks
) -> np.ndarray:
    """Population index for each converting walk of ``w`` (-1 for the others), one customer each.

    Within one segment: first pairs whose last touch stands for the customer's acquisition
    channel, then pairs whose journey touched such a channel, then the rest at random.
    """
    conv = np.flatnonzero(w.converted)
    customers = rng.permutation(customers)
    conv = rng.permutation(conv)
    stand = P.TOUCH_ACQUISITION[w.channel]
    last = stand[w.starts[conv + 1] - 1]
    n_acq = len(P.CHANNEL_LABELS)
    journey_of_touch = np.repeat(np.arange(w.n), w.lengths())
    touched = np.zeros((w.n, n_acq), dtype=bool)
    touched[journey_of_touch, stand] = True
    touched = touched[conv]
    free_c = np.ones(len(customers), dtype=bool)
    free_j = np.ones(len(conv), dtype=bool)
    pair = np.full(len(conv), -1, dtype=np.int64)
    cust_acq = acquisition[customers]
    for fits in (last[:, None] == np.arange(n_acq)[None, :], touched):
        for a in range(n_acq):
            cs = np.flatnonzero(free_c & (cust_acq == a))
            js = np.flatnonzero(free_j & fits[:, a])
            k = min(len(cs), len(js))
            pair[js[:k]] = customers[cs[:k]]
            free_c[cs[:k]] = False
            free_j[js[:k]] = False
    pair[np.flatnonzero(free_j)] = customers[np.flatnonzero(free_c)]
    out = np.full(w.n, -1, dtype=np.int64)
    out[conv] = pair
    return out


def build_touchpoints(pop: Population, tl: Timeline, rng: np.random.Generator) -> Touchpoints:
    """Every journey's touches (converting and not), the converting ones on the customers."""
    seg_all = pop.segment.astype(np.int64)
    parts: list[Walks] = []
    custs, segs = [], []
    for s in range(len(P.SEGMENT_LABELS)):
        members = np.flatnonzero(seg_all == s)
        w = walks_until(rng, P.JOURNEY_START_MIX[s], len(members))
        parts.append(w)
        custs.append(match_customers(rng, members, pop.channel.astype(np.int64), w))
        segs.append(np.full(w.n, s, dtype=np.int64))
    w = concat_walks(parts)
    cust, seg = np.concatenate(custs), np.concatenate(segs)
    n = w.n

    # When each journey's last touch happens.
    lead = np.rint(rng.exponential(LAST_TOUCH_HOURS / 24.0, n) * SECONDS_PER_DAY).astype(np.int64)
    end = np.where(cust >= 0, pop.signup_second[np.maximum(cust, 0)] - lead - 60, 0)
    lost = np.flatnonzero(cust < 0)
    like = np.zeros(len(lost), dtype=np.int64)
    for s in range(len(P.SEGMENT_LABELS)):
        mine = seg[lost] == s
        members = np.flatnonzero(seg_all == s)
        like[mine] = members[rng.integers(0, len(members), int(mine.sum()))]
    jitter = rng.uniform(-NON_CONVERTING_JITTER_DAYS, NON_CONVERTING_JITTER_DAYS, len(lost))
    lost_end = (
        pop.signup_second[like] - lead[lost] + np.rint(jitter * SECONDS_PER_DAY).astype(np.int64)
    )
    lo = tl.window_start * SECONDS_PER_DAY
    hi = (tl.window_end + 1) * SECONDS_PER_DAY - 1
    end[lost] = np.clip(lost_end, lo, hi)

    # Earlier touches: days apart, the span squeezed into JOURNEY_SPAN_DAYS.
    lengths = w.lengths()
    total = len(w.channel)
    journey_of_touch = np.repeat(np.arange(n), lengths)
    is_last = np.zeros(total, dtype=bool)
    is_last[w.starts[1:] - 1] = True
    gap = rng.exponential(TOUCH_GAP_DAYS[seg][journey_of_touch])
    gap[is_last] = 0.0
    span = np.bincount(journey_of_touch, weights=gap, minlength=n)
    squeeze = np.minimum(1.0, JOURNEY_SPAN_DAYS / np.maximum(span, 1e-9))
    gap_s = np.rint(gap * squeeze[journey_of_touch] * SECONDS_PER_DAY).astype(np.int64) + 60
    gap_s[is_last] = 0
    after = np.cumsum(gap_s[::-1])[::-1]  # gaps from this touch to the end of the array
    second = (end + after[w.starts[1:] - 1])[journey_of_touch] - after

    # Journeys numbered by their first touch; touches in journey order, chronological within.
    by_first = np.argsort(second[w.starts[:-1]], kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_first] = np.arange(1, n + 1)
    new_lengths = lengths[by_first]
    new_starts = np.cumsum(new_lengths) - new_lengths
    order = np.arange(total) - np.repeat(new_starts - w.starts[:-1][by_first], new_lengths)
    journey = np.repeat(np.arange(1, n + 1), new_lengths)
    second, channel = second[order], w.channel[order]
    touch_cust = np.repeat(cust[by_first], new_lengths)
    customer_journey = np.full(pop.n, -1, dtype=np.int64)
    customer_journey[cust[cust >= 0]] = rank[cust >= 0]

    _, offsets = source_names()
    n_sources = np.array([len(s) for s in P.TOUCH_SOURCES])
    source = offsets[channel] + (rng.random(total) * n_sources[channel]).astype(np.int64)
    day = second // SECONDS_PER_DAY
    month = tl.month_of(day)  # may be negative before the window
    first_year = int(tl.year[0]) - 1
    year = (np.datetime64(tl.labels[0], "M").astype(np.int64) + month) // 12 + 1970
    quarter = ((np.datetime64(tl.labels[0], "M").astype(np.int64) + month) % 12) // 3
    theme = (rng.random(total) * len(P.CAMPAIGN_THEMES)).astype(np.int64)
    n_ch, n_th = len(P.TOUCH_CHANNELS), len(P.CAMPAIGN_THEMES)
    campaign = (((year - first_year) * 4 + quarter) * n_ch + channel) * n_th + theme
    campaign = np.where(P.TOUCH_HAS_CAMPAIGN[channel], campaign, -1)
    return Touchpoints(
        journey=journey,
        cust=touch_cust,
        second=second,
        channel=channel,
        source=source,
        campaign=campaign,
        customer_journey=customer_journey,
        journeys=n,
        converting=int(w.converted.sum()),
    )


@dataclass
class Conversions:
    cust: np.ndarray
    journey: np.ndarray  # the customer's journey number (VIS-...)
    second: np.ndarray
    kind: np.ndarray
    value: np.ndarray


def build_conversions(
    pop: Population, sim: SimulationResult, customer_journey: np.ndarray, rng: np.random.Generator
) -> Conversions:
    n = pop.n
    signup = np.arange(n)
    trial = np.flatnonzero(pop.has_trial)
    paid = sim.paying
    list_price = sim.first_mrr / np.maximum(1.0 - sim.first_disc, 1e-9)
    saving = list_price * sim.first_disc * np.minimum(sim.first_disc_months, 12)
    first_year = np.round(12.0 * list_price - saving, 2)
    clock = np.clip(rng.normal(12 * 3600, 3 * 3600, len(paid)), 0, 86_399).astype(np.int64)
    cust = np.concatenate([signup, trial, paid])
    second = np.concatenate(
        [
            pop.signup_second,
            pop.signup_second[trial] + rng.integers(60, 600, len(trial)),
            pop.first_sub_day[paid] * 86_400 + clock,
        ]
    )
    kind = np.concatenate(
        [np.full(n, SIGNUP), np.full(len(trial), TRIAL), np.full(len(paid), PAID)]
    )
    # A direct buyer pays at sign-up: the paid event follows the sign-up event.
    second = np.where(kind == PAID, np.maximum(second, pop.signup_second[cust] + 120), second)
    value = np.concatenate([np.zeros(n + len(trial)), first_year])
    order = np.lexsort((kind, cust))
    cust = cust[order]
    return Conversions(
        cust=cust,
        journey=customer_journey[cust],
        second=second[order],
        kind=kind[order],
        value=value[order],
    )


def marketing_spend(pop: Population, tl: Timeline, rng: np.random.Generator) -> np.ndarray:
    """Spend per (month, acquisition channel), rounded to cents."""
    month = tl.month_of(pop.signup_day)
    cost = P.SIGNUP_COST[pop.segment] * P.CHANNEL_COST_FACTOR[pop.channel]
    key = month * 4 + pop.channel
    spend = np.bincount(key, weights=cost, minlength=tl.months * 4).reshape(tl.months, 4)
    noise = np.exp(rng.normal(0.0, 0.06, spend.shape))
    return np.round(spend * noise, 2)


def monthly_costs(
    pop: Population, sim: SimulationResult, spend: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    monthly = sim.monthly
    months = len(monthly["mrr"])
    infra = (
        P.INFRA_FIXED_PER_CUSTOMER * pop.n
        + P.INFRA_PER_SEAT * monthly["active_seats"]
        + P.INFRA_PER_CUSTOMER * monthly["active_customers"]
    ) * np.exp(rng.normal(0.0, 0.03, months))
    support = (
        monthly["tickets_by_severity"] @ P.SUPPORT_PER_TICKET
        + P.SUPPORT_PER_CUSTOMER * monthly["active_customers"]
    ) * np.exp(rng.normal(0.0, 0.03, months))
    return {
        "infra_cost": np.round(infra, 2),
        "marketing_cost": np.round(spend.sum(axis=1), 2),
        "support_cost": np.round(support, 2),
    }


# --------------------------------------------------------------------------- channel spend
@dataclass
class ChannelSpend:
    spend: np.ndarray  # (months, N_CHANNELS), cents-rounded; Direct's column is 0 and not written
    touches: np.ndarray  # (months, N_CHANNELS): touches dated in each month
    a: np.ndarray  # per channel (nan for Direct)
    b: np.ndarray
    demand: np.ndarray  # per month (nan: no spend that month)


def channel_spend(t: Touchpoints, tl: Timeline, spend: np.ndarray) -> ChannelSpend:
    """Split each month's marketing spend over the touch channels along the planted response
    ``T[m, c] = demand[m] * a[c] * spend[m, c] ** b[c]`` (module docstring)."""
    months = tl.months
    month = tl.month_of(t.second // SECONDS_PER_DAY)
    inside = (month >= 0) & (month < months)
    key = month[inside] * N_CHANNELS + t.channel[inside]
    touches = np.bincount(key, minlength=months * N_CHANNELS).reshape(months, N_CHANNELS)
    touches = touches.astype(np.float64)
    total = np.round(spend.sum(axis=1), 2)  # the month's marketing_cost
    paid = P.SPEND_SHARE > 0
    b = np.where(paid, P.SPEND_RESPONSE_B, np.nan)
    mean_touches = touches.mean(axis=0)
    a = np.full(N_CHANNELS, np.nan)
    a[paid] = np.maximum(mean_touches[paid], 1e-9) / (P.SPEND_SHARE[paid] * total.mean()) ** b[paid]
    # demand[m]: sum_c (T[m, c] / (a[c] d)) ** (1 / b[c]) = S[m], decreasing in d: bisect log d.
    base = (touches[:, paid] / a[paid]) ** (1.0 / b[paid])
    lo, hi = np.full(months, -60.0), np.full(months, 60.0)
    for _ in range(200):
        mid = (lo + hi) / 2
        too_much = (base * np.exp(-mid[:, None] / b[paid])).sum(axis=1) > total
        lo, hi = np.where(too_much, mid, lo), np.where(too_much, hi, mid)
    demand = np.exp((lo + hi) / 2)
    share = base * np.exp(-np.log(demand)[:, None] / b[paid])
    none = base.sum(axis=1) == 0  # no touches of a paid channel: no response, the average split
    share[none] = P.SPEND_SHARE[paid] * total[none, None]
    demand[none] = 0.0
    no_spend = total <= 0
    demand[no_spend] = np.nan
    cents = np.rint(share * 100).astype(np.int64)
    cents[no_spend] = 0
    # The month's cents, exactly: the rounding remainder goes to its largest channel.
    short = np.rint(total * 100).astype(np.int64) - cents.sum(axis=1)
    cents[np.arange(months), cents.argmax(axis=1)] += short
    out = np.zeros((months, N_CHANNELS))
    out[:, paid] = cents / 100.0
    return ChannelSpend(spend=out, touches=touches, a=a, b=b, demand=demand)


# --------------------------------------------------------------------------- the truth
@dataclass
class AttributionTruth:
    start: np.ndarray  # pooled start distribution per channel
    signup_probability: float
    removal_effect: np.ndarray
    shapley: np.ndarray  # Shapley value of v (sums to signup_probability)
    last_touch: np.ndarray  # expected share of sign-ups whose last touch is the channel
    removal_effect_mc: np.ndarray
    shapley_mc: np.ndarray
    signup_probability_mc: float
    mc_journeys: int


def coalition_values(start: np.ndarray) -> np.ndarray:
    """``v[mask]``: P(sign-up) with only the channels of bitmask ``mask`` active, exactly."""
    masks = np.arange(1 << N_CHANNELS)
    bits = (masks[:, None] >> np.arange(N_CHANNELS)[None, :]) & 1
    return np.array([signup_probability(start, row.astype(bool)) for row in bits])


def shapley_values(v: np.ndarray) -> np.ndarray:
    """Shapley value of each channel in the game ``v`` over bitmask coalitions."""
    n = N_CHANNELS
    masks = np.arange(1 << n)
    size = np.array([bin(m).count("1") for m in masks])
    fact = np.array([float(np.prod(np.arange(1, k + 1))) for k in range(n + 1)])
    out = np.zeros(n)
    for c in range(n):
        without = masks[(masks >> c) & 1 == 0]
        weight = fact[size[without]] * fact[n - size[without] - 1] / fact[n]
        out[c] = float((weight * (v[without | (1 << c)] - v[without])).sum())
    return out


def removal_effects(v: np.ndarray) -> np.ndarray:
    full = (1 << N_CHANNELS) - 1
    return np.array([1.0 - v[full ^ (1 << c)] / v[full] for c in range(N_CHANNELS)])


def monte_carlo_values(rng: np.random.Generator, start: np.ndarray, journeys: int) -> np.ndarray:
    """``v[mask]`` estimated from ``journeys`` walks: the share that sign up having touched only
    channels of ``mask`` (a subset sum over the converting walks' channel sets)."""
    w = walk(rng, categorical(rng, start, np.zeros(journeys, dtype=np.int64)))
    touched = np.bitwise_or.reduceat(np.left_shift(1, w.channel), w.starts[:-1])
    counts = np.bincount(touched[w.converted], minlength=1 << N_CHANNELS).astype(np.float64)
    for c in range(N_CHANNELS):  # zeta transform: sum over subsets
        has = (np.arange(1 << N_CHANNELS) >> c) & 1 == 1
        counts[has] += counts[np.flatnonzero(has) ^ (1 << c)]
    return counts / journeys


def attribution_truth(
    customers_by_segment: np.ndarray, rng: np.random.Generator, journeys: int = MC_JOURNEYS
) -> AttributionTruth:
    """The planted truth of the sign-up journeys, exactly and by Monte-Carlo (module docstring)."""
    start = pooled_start(customers_by_segment)
    v = coalition_values(start)
    visits = start @ np.linalg.inv(np.eye(N_CHANNELS) - step_matrix())
    last = visits * P.JOURNEY_CONVERT
    v_mc = monte_carlo_values(rng, start, journeys)
    return AttributionTruth(
        start=start,
        signup_probability=float(v[-1]),
        removal_effect=removal_effects(v),
        shapley=shapley_values(v),
        last_touch=last / last.sum(),
        removal_effect_mc=removal_effects(v_mc),
        shapley_mc=shapley_values(v_mc),
        signup_probability_mc=float(v_mc[-1]),
        mc_journeys=journeys,
    )
