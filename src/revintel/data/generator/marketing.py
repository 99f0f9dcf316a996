"""Marketing journeys, conversion events, marketing spend and the monthly cost lines.

* Touchpoints: each customer's 1-8 touches before sign-up (more for larger segments), channels
  drawn from a mix that depends on the acquisition channel; the last touch is the acquisition
  channel's own with probability ``LAST_TOUCH_IS_CHANNEL``. Touches are spaced a few days apart
  (more for Enterprise), the last one within hours of sign-up.
* Conversions: ``signup`` (value 0), ``trial`` (value 0) and ``paid`` at the first subscription
  with value = first-year revenue (12 months at list price minus the discounted months' savings).
* Marketing spend: per sign-up cost by segment times a channel factor, with a little noise.
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

TOUCH_PROBABILITY = np.array([0.28, 0.38, 0.5])  # n touches = 1 + Binomial(7, p)
TOUCH_GAP_DAYS = np.array([4.0, 6.0, 10.0])
LAST_TOUCH_HOURS = 6.0
PRIMARY_TOUCH = np.array([0, 4, 2, 5])  # Paid Ads -> Paid Search, Referral, Organic Search, Partner
SIGNUP, TRIAL, PAID = 0, 1, 2


@dataclass
class Touchpoints:
    cust: np.ndarray
    second: np.ndarray
    channel: np.ndarray
    source: np.ndarray  # index into the flattened TOUCH_SOURCES
    campaign: np.ndarray  # index into campaign_names(), -1: none


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


def build_touchpoints(pop: Population, tl: Timeline, rng: np.random.Generator) -> Touchpoints:
    n = pop.n
    seg = pop.segment.astype(np.int64)
    count = 1 + rng.binomial(7, TOUCH_PROBABILITY[seg])
    total = int(count.sum())
    cust = np.repeat(np.arange(n), count)
    first = np.cumsum(count) - count
    back = np.arange(total) - np.repeat(first, count)  # 0 = last touch before sign-up
    gap_days = np.where(
        back == 0,
        rng.exponential(LAST_TOUCH_HOURS / 24.0, total),
        rng.exponential(TOUCH_GAP_DAYS[seg[cust]]),
    )
    gap = np.rint(gap_days * 86_400).astype(np.int64) + 60
    before = np.cumsum(gap)
    before = before - np.repeat(before[first] - gap[first], count)
    second = pop.signup_second[cust] - before
    channel = categorical(rng, P.TOUCH_MIX, pop.channel[cust].astype(np.int64))
    own = (back == 0) & (rng.random(total) < P.LAST_TOUCH_IS_CHANNEL)
    primary = PRIMARY_TOUCH[pop.channel[cust]]
    paid_ads = pop.channel[cust] == P.PAID_ADS
    primary = np.where(paid_ads & (rng.random(total) < 0.4), 1, primary)  # Paid Social
    channel = np.where(own, primary, channel)
    # Chronological order inside each journey.
    order = np.repeat(first, count) + np.repeat(count - 1, count) - back
    cust, second, channel = cust[order], second[order], channel[order]

    _, offsets = source_names()
    n_sources = np.array([len(s) for s in P.TOUCH_SOURCES])
    source = offsets[channel] + (rng.random(total) * n_sources[channel]).astype(np.int64)
    day = second // 86_400
    month = tl.month_of(day)  # may be negative before the window
    first_year = int(tl.year[0]) - 1
    year = (np.datetime64(tl.labels[0], "M").astype(np.int64) + month) // 12 + 1970
    quarter = ((np.datetime64(tl.labels[0], "M").astype(np.int64) + month) % 12) // 3
    theme = (rng.random(total) * len(P.CAMPAIGN_THEMES)).astype(np.int64)
    n_ch, n_th = len(P.TOUCH_CHANNELS), len(P.CAMPAIGN_THEMES)
    campaign = (((year - first_year) * 4 + quarter) * n_ch + channel) * n_th + theme
    campaign = np.where(P.TOUCH_HAS_CAMPAIGN[channel], campaign, -1)
    return Touchpoints(cust=cust, second=second, channel=channel, source=source, campaign=campaign)


@dataclass
class Conversions:
    cust: np.ndarray
    second: np.ndarray
    kind: np.ndarray
    value: np.ndarray


def build_conversions(
    pop: Population, sim: SimulationResult, rng: np.random.Generator
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
    return Conversions(cust=cust[order], second=second[order], kind=kind[order], value=value[order])


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
