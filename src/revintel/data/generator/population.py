"""Who the customers are: acquisition over time, firmographics, names, trials and conversion.

Planted effect (``truth/channel_effects``): a trial converts to paid with probability
``logistic(TRIAL_BASE_LOGIT[segment] + CHANNEL_LOGIT[channel])``, so the acquisition channel shifts
the log-odds of conversion by the same amount in every segment (Referral > Partner > Organic >
Paid Ads).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast

import numpy as np
from faker import Generator

from revintel.data.generator import params as P
from revintel.data.generator.anomalies import AnomalyPlan
from revintel.data.generator.columns import Vocabulary
from revintel.data.generator.timeline import Timeline

NAMES_PER_COUNTRY = 400


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def categorical(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray | None = None):
    """One draw per row from a categorical distribution.

    ``probs`` is one distribution (1-D) or one per group (2-D, with ``rows`` the group of each
    draw). Vectorised inverse-CDF sampling.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        cdf = np.cumsum(probs / probs.sum())
        n = len(rows) if rows is not None else 1
        return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)
    assert rows is not None
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int64)
    for group in range(len(cdf)):
        sel = rows == group
        out[sel] = np.searchsorted(cdf[group], u[sel], side="right")
    return np.minimum(out, probs.shape[1] - 1)


def draw(rng: np.random.Generator, probs: np.ndarray | Sequence[float], n: int) -> np.ndarray:
    """``n`` draws from one categorical distribution."""
    cdf = np.cumsum(np.asarray(probs, dtype=np.float64) / np.sum(probs))
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


@dataclass(frozen=True)
class NamePool:
    """Names drawn once from a seeded Faker: company names by country, account owners, reps."""

    companies: Vocabulary  # per country: NAMES_PER_COUNTRY last names x COMPANY_WORDS
    country_offset: np.ndarray
    country_size: np.ndarray
    account_managers: tuple[str, ...]
    sales_reps: tuple[str, ...]

    def company_codes(self, rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
        size = self.country_size[country]
        return self.country_offset[country] + (rng.random(len(country)) * size).astype(np.int64)


class _PersonNames(Protocol):
    """What a Faker generator with a person-name provider draws (its methods come from the
    provider at run time, so the type checker cannot see them on :class:`faker.Generator`)."""

    def first_name(self) -> str: ...
    def last_name(self) -> str: ...
    def last_romanized_name(self) -> str: ...


def _person_faker(locale: str, seed: int) -> _PersonNames:
    """A seeded Faker generator with only the locale's person-name provider (fast to build)."""
    try:
        module = importlib.import_module(f"faker.providers.person.{locale}")
    except ImportError:  # locales without their own names use American ones
        module = importlib.import_module("faker.providers.person.en_US")
    fake = Generator()
    fake.add_provider(module.Provider(fake))
    fake.seed_instance(seed)
    return cast(_PersonNames, fake)


@lru_cache(maxsize=8)
def name_pool(seed: int) -> NamePool:
    """Company names per country and staff names, drawn once from Faker seeded with ``seed``."""
    names: list[str] = []
    offsets, sizes = [], []
    for i, (locale, legal) in enumerate(zip(P.COUNTRY_LOCALES, P.COUNTRY_LEGAL_FORMS, strict=True)):
        fake = _person_faker(locale, seed * 1000 + i)
        draw_name = fake.last_romanized_name if locale == "ja_JP" else fake.last_name
        last = list(dict.fromkeys(draw_name() for _ in range(NAMES_PER_COUNTRY)))
        offsets.append(len(names))
        names.extend(f"{name} {word} {legal}" for name in last for word in P.COMPANY_WORDS)
        sizes.append(len(names) - offsets[-1])
    people = _person_faker("en_US", seed)
    staff: list[str] = []
    while len(staff) < P.N_ACCOUNT_MANAGERS + P.N_SALES_REPS:
        name = f"{people.first_name()} {people.last_name()}"
        if name not in staff:
            staff.append(name)
    return NamePool(
        companies=Vocabulary(names),
        country_offset=np.array(offsets, dtype=np.int64),
        country_size=np.array(sizes, dtype=np.int64),
        account_managers=tuple(staff[: P.N_ACCOUNT_MANAGERS]),
        sales_reps=tuple(staff[P.N_ACCOUNT_MANAGERS :]),
    )


@dataclass
class Population:
    """Every customer ever acquired, in sign-up order (index = customer number - 1)."""

    n: int
    signup_day: np.ndarray
    signup_second: np.ndarray  # sign-up instant, seconds since the epoch
    segment: np.ndarray
    channel: np.ndarray
    country: np.ndarray
    industry: np.ndarray
    name_code: np.ndarray
    account_manager: np.ndarray
    has_trial: np.ndarray
    trial_end: np.ndarray
    plan: np.ndarray  # plan trialled / first bought
    conversion_probability: np.ndarray  # true trial-to-paid probability (trialists)
    converts: np.ndarray  # pays within the window
    first_sub_day: np.ndarray  # valid where converts
    cohort: np.ndarray  # part of the enterprise-cohort anomaly
    strategic: np.ndarray  # Enterprise segment, buys from the strategic price list


def acquisition_weights(timeline: Timeline) -> np.ndarray:
    """Relative sign-ups per month: steady growth times calendar seasonality."""
    months = np.arange(timeline.months)
    season = P.ACQUISITION_SEASON[timeline.calendar_month[: timeline.months]]
    return np.exp(P.ACQUISITION_GROWTH * months) * season


def build_population(
    n: int,
    timeline: Timeline,
    anomalies: list[AnomalyPlan],
    names: NamePool,
    rng: np.random.Generator,
) -> Population:
    months = timeline.months
    cohort_size = sum(a.cohort_size for a in anomalies if a.kind == "enterprise_cohort")
    cohort_month = next((a.month for a in anomalies if a.kind == "enterprise_cohort"), 0)
    weights = acquisition_weights(timeline)
    counts = rng.multinomial(n - cohort_size, weights / weights.sum())
    month = np.repeat(np.arange(months), counts)
    cohort = np.zeros(n, dtype=bool)
    if cohort_size:
        month = np.concatenate([month, np.full(cohort_size, cohort_month)])
        cohort[n - cohort_size :] = True

    december = timeline.calendar_month[month] == 11
    segment = np.where(
        december,
        draw(rng, P.SEGMENT_MIX_DECEMBER, n),
        draw(rng, P.SEGMENT_MIX, n),
    ).astype(np.int8)
    segment[cohort] = P.ENTERPRISE
    has_trial = (rng.random(n) < P.TRIAL_SHARE[segment]) & ~cohort

    # Sign-up day inside the month; a trial must end (and could convert) inside the window.
    first = timeline.month_start[month]
    last_day = timeline.month_start[month + 1] - 1
    last_day = np.where(
        has_trial, np.minimum(last_day, timeline.window_end - P.TRIAL_DAYS), last_day
    )
    last_day = np.where(cohort, first + 9, last_day)
    day = first + (rng.random(n) * (last_day - first + 1)).astype(np.int64)
    order = np.argsort(day, kind="stable")
    day, segment, has_trial, cohort = day[order], segment[order], has_trial[order], cohort[order]

    # Business-hours sign-up time (seconds into the day).
    clock = np.clip(rng.normal(13.5 * 3600, 3.2 * 3600, n), 0, 86_399).astype(np.int64)
    channel = categorical(rng, P.CHANNEL_MIX, segment).astype(np.int8)
    channel[cohort] = P.PARTNER
    country = draw(rng, P.COUNTRY_WEIGHTS, n).astype(np.int16)
    industry = draw(rng, P.INDUSTRY_WEIGHTS, n).astype(np.int16)
    plan = categorical(rng, P.PLAN_MIX, segment).astype(np.int8)
    plan[cohort] = P.ENTERPRISE_PLAN
    # Account managers specialise by segment: the pool is split in three.
    low, high = P.ACCOUNT_MANAGER_SPLIT[segment], P.ACCOUNT_MANAGER_SPLIT[segment + 1]
    account_manager = low + (rng.random(n) * (high - low)).astype(np.int64)

    conversion_probability = sigmoid(P.TRIAL_BASE_LOGIT[segment] + P.CHANNEL_LOGIT[channel])
    trial_end = day + P.TRIAL_DAYS - 1
    converts_trial = has_trial & (rng.random(n) < conversion_probability)
    late = rng.random(n) < P.LATE_CONVERSION_SHARE
    delay = np.where(late, 1 + (rng.random(n) * P.LATE_CONVERSION_MAX_DAYS).astype(np.int64), 0)
    first_sub_day = np.where(has_trial, trial_end + 1 + delay, day)
    converts = (~has_trial | converts_trial) & (first_sub_day <= timeline.window_end)
    # Drawn from a child stream, so every draw above and after it is the same as without it.
    strategic_rng = rng.spawn(1)[0]
    strategic = (segment == P.ENTERPRISE) & (strategic_rng.random(n) < P.STRATEGIC_SHARE)
    plan[strategic] = P.ENTERPRISE_PLAN

    return Population(
        n=n,
        signup_day=day,
        signup_second=day * 86_400 + clock,
        segment=segment,
        channel=channel,
        country=country,
        industry=industry,
        name_code=names.company_codes(rng, country),
        account_manager=account_manager,
        has_trial=has_trial,
        trial_end=trial_end,
        plan=plan,
        conversion_probability=conversion_probability,
        converts=converts,
        first_sub_day=first_sub_day,
        cohort=cohort,
        strategic=strategic,
    )
