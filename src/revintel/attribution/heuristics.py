"""The heuristic models: first touch, last touch, last non-direct touch, linear, time decay and
position-based (docs/attribution.md, Heuristic models).

Every model gives each touch of a journey a weight, the weights of one journey summing to 1; a
channel's credit is the sum, over touches on it, of weight × the journey's conversions (and
weight × its value). So credit conserves: it adds up to the conversions and value of the journeys.

Everything is vectorised over the CSR arrays of :class:`~revintel.attribution.journeys.Journeys`
(no Python loop over journeys). On 10M touches over 2M journeys all six models together take
1.9-2.6 s on this machine (docs/attribution.md, Heuristic models, has the measured figures).
"""

from __future__ import annotations

import numpy as np

from revintel.attribution.config import ModelSettings
from revintel.attribution.credit import HEURISTIC_MODELS, Credit
from revintel.attribution.journeys import Journeys
from revintel.core.errors import InvalidOption


class TouchTimesNeeded(InvalidOption):
    """Time decay needs each touch's time before the conversion, which a path file lacks."""


def heuristic_credit(journeys: Journeys, model: str, settings: ModelSettings) -> Credit:
    """``model``'s credit over ``journeys`` (one of ``credit.HEURISTIC_MODELS``).

    Journeys without touches carry no credit: they are rejected with a ``ValueError`` (neither
    the warehouse nor a path file produces one).
    """
    if model not in HEURISTIC_MODELS:
        raise InvalidOption(
            f"model: unknown heuristic {model!r}; expected one of {', '.join(HEURISTIC_MODELS)}"
        )
    lengths = journeys.lengths()
    if journeys.n_journeys and int(lengths.min()) < 1:
        empty = int(np.flatnonzero(lengths < 1)[0])
        raise ValueError(f"journey {empty} has no touches; every journey needs at least one")
    n_channels = len(journeys.channels)
    if model in ("first_touch", "last_touch"):
        touch = _single_touch(journeys, model, settings)
        conversions, value = _at_touch(
            journeys.channel[touch].astype(np.intp), journeys, 1.0, n_channels
        )
        return Credit(model, journeys.channels, conversions, value)
    journeys = credited_only(journeys)
    lengths = journeys.lengths()
    channel = journeys.channel.astype(np.intp)  # bincount casts int32 on every call otherwise
    if model == "last_non_direct":
        touch = _single_touch(journeys, model, settings)
        conversions, value = _at_touch(channel[touch], journeys, 1.0, n_channels)
        note = _all_direct_note(journeys, settings)
        return Credit(model, journeys.channels, conversions, value, note=note)
    if model == "time_decay":
        weight = _time_decay_weights(journeys, settings)
        conversions = np.bincount(
            channel, weights=weight * np.repeat(journeys.conversions, lengths), minlength=n_channels
        )
        value = np.bincount(
            channel, weights=weight * np.repeat(journeys.value, lengths), minlength=n_channels
        )
        return Credit(model, journeys.channels, conversions, value)
    n = lengths.astype(np.float64)
    if model == "linear":
        conversions, value = _every_touch(channel, journeys, 1.0 / np.maximum(n, 1.0), n_channels)
        return Credit(model, journeys.channels, conversions, value)
    # position_based: every touch gets the middle share, then the first and last touches get
    # the difference between their share and it (a one-touch journey: all to its one touch).
    f, last_share = settings.position_first, settings.position_last
    ends = f + last_share
    two_first, two_last = (f / ends, last_share / ends) if ends > 0 else (0.5, 0.5)
    middle = np.where(n >= 3, (1.0 - ends) / np.maximum(n - 2.0, 1.0), 0.0)
    first_share = np.where(n == 1, 1.0, np.where(n == 2, two_first, f))
    last_of = np.where(n == 1, 0.0, np.where(n == 2, two_last, last_share))
    conversions, value = _every_touch(channel, journeys, middle, n_channels)
    first_c, first_v = _at_touch(
        channel[journeys.starts[:-1]], journeys, first_share - middle, n_channels
    )
    last_c, last_v = _at_touch(
        channel[journeys.starts[1:] - 1], journeys, last_of - middle, n_channels
    )
    return Credit(
        model, journeys.channels, conversions + first_c + last_c, value + first_v + last_v
    )


def credited_only(journeys: Journeys) -> Journeys:
    """The journeys with conversions or value to credit (the others cannot change any credit),
    touches and all; ``journeys`` itself when every journey has some."""
    keep = (journeys.conversions != 0) | (journeys.value != 0)
    if keep.all():
        return journeys
    lengths = journeys.lengths()
    touch = np.repeat(keep, lengths)
    kept = lengths[keep]
    return Journeys(
        channels=journeys.channels,
        starts=np.concatenate([[0], np.cumsum(kept)]).astype(np.int64),
        channel=journeys.channel[touch],
        conversions=journeys.conversions[keep],
        value=journeys.value[keep],
        nulls=journeys.nulls[keep],
        days_before=None if journeys.days_before is None else journeys.days_before[touch],
    )


def _every_touch(
    channel: np.ndarray, journeys: Journeys, share: np.ndarray, n_channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Credit when every touch of journey ``j`` gets ``share[j]`` of it."""
    lengths = journeys.lengths()
    conversions = np.bincount(
        channel, weights=np.repeat(share * journeys.conversions, lengths), minlength=n_channels
    )
    value = np.bincount(
        channel, weights=np.repeat(share * journeys.value, lengths), minlength=n_channels
    )
    return conversions, value


def _at_touch(
    channel: np.ndarray, journeys: Journeys, share: np.ndarray | float, n_channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Credit when one touch per journey (on ``channel[j]``) gets ``share[j]`` of it."""
    conversions = np.bincount(channel, weights=share * journeys.conversions, minlength=n_channels)
    value = np.bincount(channel, weights=share * journeys.value, minlength=n_channels)
    return conversions, value


def _single_touch(journeys: Journeys, model: str, settings: ModelSettings) -> np.ndarray:
    """The index of the one touch each journey credits."""
    first = journeys.starts[:-1]
    last = journeys.starts[1:] - 1
    if model == "first_touch":
        return first
    if model == "last_touch":
        return last
    direct = _direct_codes(journeys, settings)
    if not direct.any() or journeys.n_journeys == 0:
        return last
    not_direct = ~direct[journeys.channel]
    index = np.where(not_direct, np.arange(journeys.n_touches, dtype=np.int64), -1)
    last_not_direct = np.maximum.reduceat(index, first)
    # A journey of direct touches only credits its last touch.
    return np.where(last_not_direct >= first, last_not_direct, last)


def _direct_codes(journeys: Journeys, settings: ModelSettings) -> np.ndarray:
    """Per channel code: is it one of the settings' direct channels (case-insensitive)?"""
    names = {name.strip().casefold() for name in settings.direct_channels}
    return np.array([c.casefold() in names for c in journeys.channels], dtype=bool)


def _all_direct_note(journeys: Journeys, settings: ModelSettings) -> str | None:
    direct = _direct_codes(journeys, settings)
    if not direct.any() or journeys.n_journeys == 0:
        return None
    not_direct = (~direct[journeys.channel]).astype(np.int64)
    all_direct = (np.add.reduceat(not_direct, journeys.starts[:-1]) == 0) & (
        journeys.conversions > 0
    )
    n = int(all_direct.sum())
    if n == 0:
        return None
    conv = float(journeys.conversions[all_direct].sum())
    return (
        f"{n} converting path(s) ({conv:g} conversions) had only direct touches; "
        "each credits its last touch"
    )


def _time_decay_weights(journeys: Journeys, settings: ModelSettings) -> np.ndarray:
    """Each touch's share of its journey, ``2^(-days_before / half_life)`` normalised per
    journey."""
    if journeys.days_before is None:
        raise TouchTimesNeeded(
            "model time_decay: needs the time of every touch before its conversion; "
            "aggregated paths (a path file) have none; use another model "
            "(linear or position_based weigh touches by order alone)"
        )
    first = journeys.starts[:-1]
    if len(first) == 0:
        return np.zeros(0)
    lengths = journeys.lengths()
    days = journeys.days_before
    # Shift by each journey's nearest touch so the largest weight is 1 (no underflow).
    nearest = np.minimum.reduceat(days, first)
    raw = np.exp2((np.repeat(nearest, lengths) - days) / settings.half_life_days)
    return raw * np.repeat(1.0 / np.add.reduceat(raw, first), lengths)
