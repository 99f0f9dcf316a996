"""Shapley-value attribution over channel coalitions, exact up to a number of channels, and its
ordered (position-aware) variant (docs/attribution.md, Shapley value).

**Two games.** The default, ``game="removal"``, asks what the journeys would have converted if
only the channels in ``S`` existed and a journey ended, unconverted, at its first touch of any
other channel: ``v(S) = Σ_{T ⊆ S} conversions(T)``, the conversions of the journeys whose channel
set ``T`` lies in ``S`` (divided by all journeys, the conversion rate of coalition ``S`` in that
world). It is the same removal the Markov model makes, and the simplified Shapley value of Zhao,
Mahboobi and Bagheri 2018 (below); its Shapley value is, in closed form, each path's conversions
shared equally among its distinct channels, exact for any number of channels. On the demo company
it lands within 1.2 points of the generator's true Shapley shares (docs/attribution.md, On the
demo company).

**The rate game** (``game="rate"``). A coalition ``S`` is a set of channels. Its worth ``v(S)`` is
the conversions the journeys would bring if only the channels in ``S`` existed: ``v(S) = Σ_T n_T ·
f(T ∩ S)``, summed over the distinct channel sets ``T`` of the journeys, where ``n_T`` counts the
journeys with channel set ``T`` (conversions plus non-conversions) and ``f(U)`` is the conversion
rate of a coalition ``U``: that of the journeys whose channel set is exactly ``U`` when there are
any, else that of the journeys confined to ``U`` (channel set a subset of ``U``), else 0. So
``v(N)`` is the total conversions, and every coalition's worth comes from conversion rates,
non-converting journeys included. This is the conversion-rate game of data-driven Shapley
attribution (Shao and Li 2011, "Data-driven multi-touch attribution models", KDD; Dalessandro et
al. 2012, "Causally motivated attribution for online advertising"), weighted by each channel set's
journeys as the simplified Shapley value of Zhao, Mahboobi and Bagheri 2018, "Shapley value methods
for attribution modeling in online advertising" (arXiv:1804.05327) weights by conversions. If each
channel adds ``δ_c`` to the conversion rate, a channel's credit is ``δ_c`` × its journeys (its
removal effect) plus an equal share of the base rate of each journey it is on. The value game is
the same with conversion value per journey. Credit is scaled by ``total / v(N)`` so rounding cannot
break conservation; a channel whose journeys convert below the coalitions it joins gets negative
credit.

Without non-converting journeys (a path file without ``total_null``) every rate is 1, so the game
is Zhao et al.'s count game ``v(S) = Σ_{T ⊆ S} conversions(T)``, whose Shapley value is, in closed
form, each path's conversions shared equally among its distinct channels.

**Exact** up to ``exact_max`` channels, in ``O(C · 2^C)``: with ``μ`` the Möbius transform of
``f`` and ``N↑(V)`` the journeys whose set contains ``V``, ``v(S) = Σ_{V ⊆ S} μ(V) N↑(V)``, so
``μ(V) N↑(V)`` is coalition ``V``'s Harsanyi dividend and a channel's Shapley value is the sum of
the dividends of the coalitions it belongs to, each divided by their size. **Above** ``exact_max``:
``v`` is a sum over channel sets of games that involve only the set's own channels, so each
set's small game is solved on its own ``2^|T|`` subsets, exactly when it has at most ``exact_max``
channels and by permutation sampling (Castro et al. 2009) above that, with the 95% half-width from
the central limit theorem and Hoeffding's distribution-free bound stated in
:attr:`Credit.note`. Sampled orders telescope to ``v(N)``, so even then credit conserves.

**Ordered** (``ordered=True``): Zhao et al.'s ordered Shapley value, where a channel's credit is
kept per position (1st, 2nd, ... distinct channel of the path): each converting path's
conversions and value are shared equally among its distinct channels, each at the position of its
first touch. :func:`ordered_shapley` returns the per-position table; the credit is its row sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from revintel.attribution.credit import Credit
from revintel.attribution.heuristics import credited_only
from revintel.attribution.journeys import Journeys

MODEL = "shapley"
PERMUTATIONS = 2_000  # sampled channel orders above exact_max
SEED = 0
CONFIDENCE_Z = 1.959964  # 95%, two-sided
ALPHA = 0.05


GAMES = ("removal", "rate")


def shapley_credit(
    journeys: Journeys, *, ordered: bool = False, exact_max: int = 15, game: str = "removal"
) -> Credit:
    """Each channel's Shapley value of the coalition game ``game`` (``"removal"``: the
    conversions of the journeys confined to the coalition; ``"rate"``: the conversion-rate game
    above), as conversions and value."""
    if game not in GAMES:
        raise ValueError(f"game: expected one of {', '.join(GAMES)}, got {game!r}")
    _require_touches(journeys)
    if ordered:
        table = ordered_shapley(journeys)
        return Credit(
            MODEL,
            journeys.channels,
            table.conversions.sum(axis=1),
            table.value.sum(axis=1),
            note=table.describe(),
        )
    n_channels = len(journeys.channels)
    sets, inverse = channel_sets(journeys)
    n_sets = sets.shape[0]
    conv = np.bincount(inverse, weights=journeys.conversions, minlength=n_sets)
    value = np.bincount(inverse, weights=journeys.value, minlength=n_sets)
    count = np.bincount(inverse, weights=journeys.conversions + journeys.nulls, minlength=n_sets)
    totals = np.array([conv.sum(), value.sum()])
    note = None
    if game == "removal" or float(journeys.nulls.sum()) <= 0:
        # Zhao et al.'s count game: each channel set's totals shared equally among its channels.
        share = sets / sets.sum(axis=1, keepdims=True)
        phi = np.stack([share.T @ conv, share.T @ value])
        note = (
            "removal game: v(S) = conversions of the journeys whose channels all lie in S, exact "
            "(each path's conversions shared equally among its distinct channels)"
            if game == "removal"
            else "no non-converting journeys, so no conversion rates: the count game (each "
            "path's conversions shared equally among its distinct channels), exact"
        )
    elif n_channels <= exact_max:
        phi = _exact(sets, np.stack([conv, value]), count)
    else:
        phi, note = _by_channel_set(sets, np.stack([conv, value]), count, exact_max)
    credit = phi * _scale(totals, phi.sum(axis=1))[:, None]
    return Credit(MODEL, journeys.channels, credit[0], credit[1], note=note)


def _scale(totals: np.ndarray, worth: np.ndarray) -> np.ndarray:
    """Per game: total ÷ v(N) (1 up to rounding), 0 when the grand coalition is worth nothing."""
    safe = np.where(worth != 0, worth, 1.0)
    return np.where(worth != 0, totals / safe, 0.0)


def _require_touches(journeys: Journeys) -> None:
    lengths = journeys.lengths()
    if journeys.n_journeys and int(lengths.min()) < 1:
        empty = int(np.flatnonzero(lengths < 1)[0])
        raise ValueError(f"journey {empty} has no touches; every journey needs at least one")


def channel_sets(journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
    """The distinct channel sets of the journeys, as a boolean matrix (set × channel), and each
    journey's set index."""
    n_channels = len(journeys.channels)
    first = journeys.starts[:-1]
    if journeys.n_journeys == 0:
        return np.zeros((0, n_channels), dtype=bool), np.zeros(0, dtype=np.int64)
    if n_channels <= 62:
        bits = np.left_shift(np.int64(1), journeys.channel.astype(np.int64))
        masks = np.bitwise_or.reduceat(bits, first)
        unique, inverse = np.unique(masks, return_inverse=True)
        sets = ((unique[:, None] >> np.arange(n_channels, dtype=np.int64)) & 1).astype(bool)
        return sets, inverse.ravel()
    member = np.zeros((journeys.n_journeys, n_channels), dtype=bool)
    member[journeys.journey_of_touch(), journeys.channel] = True
    packed = np.packbits(member, axis=1)
    _, first_of, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    return member[first_of], inverse.ravel()


def _zeta(table: np.ndarray, n_channels: int) -> np.ndarray:
    """Subset sums over the last axis: ``out[..., S] = Σ_{T ⊆ S} table[..., T]``."""
    out = table.copy()
    lead = out.shape[:-1]
    for bit in range(n_channels):
        view = out.reshape(*lead, -1, 2, 1 << bit)
        view[..., 1, :] += view[..., 0, :]
    return out


def _mobius(table: np.ndarray, n_channels: int) -> np.ndarray:
    """The inverse of :func:`_zeta`: ``table[..., S] = Σ_{T ⊆ S} out[..., T]``."""
    out = table.copy()
    lead = out.shape[:-1]
    for bit in range(n_channels):
        view = out.reshape(*lead, -1, 2, 1 << bit)
        view[..., 1, :] -= view[..., 0, :]
    return out


def _superset_sums(table: np.ndarray, n_channels: int) -> np.ndarray:
    """``out[S] = Σ_{T ⊇ S} table[T]``."""
    out = table.copy()
    for bit in range(n_channels):
        view = out.reshape(-1, 2, 1 << bit)
        view[:, 0, :] += view[:, 1, :]
    return out


def _sizes(n_channels: int) -> np.ndarray:
    """The number of channels in every coalition mask."""
    size_of = np.zeros(1 << n_channels, dtype=np.int64)
    for bit in range(n_channels):
        size_of.reshape(-1, 2, 1 << bit)[:, 1, :] += 1
    return size_of


def _rates(per_mask: np.ndarray, n_channels: int) -> np.ndarray:
    """The worth per journey ``f`` of every coalition (rows: the games, then the journey count
    last): the exact channel set's rate where it was observed, else the rate of the journeys
    confined to the coalition, else 0."""
    sums = _zeta(per_mask, n_channels)
    exact_n, pooled_n = per_mask[-1], sums[-1]
    pooled = np.where(pooled_n > 0, sums[:-1] / np.where(pooled_n > 0, pooled_n, 1.0), 0.0)
    return np.where(exact_n > 0, per_mask[:-1] / np.where(exact_n > 0, exact_n, 1.0), pooled)


def _dividend_shares(dividends: np.ndarray, n_channels: int) -> np.ndarray:
    """Shapley values (``... × channels``) from Harsanyi dividends (``... × 2^C``, coalitions
    last): each coalition's dividend shared equally among its members."""
    size = _sizes(n_channels)
    per_member = dividends / np.maximum(size, 1)
    lead = dividends.shape[:-1]
    phi = np.zeros((*lead, n_channels))
    for c in range(n_channels):
        view = per_member.reshape(*lead, -1, 2, 1 << c)
        phi[..., c] = view[..., 1, :].sum(axis=(-2, -1))
    return phi


def _exact(sets: np.ndarray, weights: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Exact Shapley values (games × channels) of ``v(S) = Σ_T n_T f(T ∩ S)`` over all ``2^C``
    coalitions, ``C · 2^C`` operations.

    With ``μ`` the Möbius transform of ``f`` and ``N↑(V)`` the journeys whose set contains ``V``,
    ``v(S) = Σ_{V ⊆ S} μ(V) N↑(V)``: the dividend of ``V`` is ``μ(V) N↑(V)``, and a channel's
    Shapley value is the sum of the dividends of the coalitions it is in, each over their size.
    """
    n_channels = sets.shape[1]
    size = 1 << n_channels
    masks = (sets.astype(np.int64) << np.arange(n_channels, dtype=np.int64)).sum(axis=1)
    per_mask = np.stack([np.bincount(masks, weights=w, minlength=size) for w in (*weights, count)])
    f = _rates(per_mask, n_channels)
    dividends = _mobius(f, n_channels) * _superset_sums(per_mask[-1], n_channels)
    return _dividend_shares(dividends, n_channels)


def _by_channel_set(
    sets: np.ndarray, weights: np.ndarray, count: np.ndarray, exact_max: int
) -> tuple[np.ndarray, str]:
    """Shapley values (games × channels) above ``exact_max`` channels, one channel set at a time.

    ``v = Σ_T n_T f(T ∩ ·)`` and the game ``S ↦ f(T ∩ S)`` involves only the channels of ``T``,
    so a channel's value is ``Σ_T n_T`` × its Shapley value in the small game of ``f`` on the
    subsets of ``T``: exact for a set of up to ``exact_max`` channels (``2^|T|`` coalitions),
    permutation-sampled above that.
    """
    n_channels = sets.shape[1]
    n_games = weights.shape[0]
    size = sets.sum(axis=1)
    phi = np.zeros((n_games, n_channels))
    small = np.flatnonzero((size <= exact_max) & (count > 0))
    if n_channels <= 62:
        _small_sets_vectorised(sets, weights, count, small, phi)
    else:
        _small_sets_one_by_one(sets, weights, count, small, phi)
    large = np.flatnonzero((size > exact_max) & (count > 0))
    keys = [frozenset(np.flatnonzero(row).tolist()) for row in sets] if len(large) else []
    sampled = 0
    clt = np.zeros(n_channels)
    hoeffding = 0.0
    for t in large:
        channels = np.flatnonzero(sets[t])
        inside = np.array([i for i, key in enumerate(keys) if key <= keys[t]], dtype=np.int64)
        local_sets = sets[np.ix_(inside, channels)]
        mean, half_width, bound = _sampled(local_sets, weights[:, inside], count[inside])
        phi[:, channels] += count[t] * mean
        clt[channels] += count[t] * half_width[0]
        hoeffding += count[t] * bound
        sampled += 1
    if sampled == 0:
        note = (
            f"{n_channels} channels is above {exact_max}: computed one channel set at a time, "
            f"exact (no path has more than {exact_max} distinct channels)"
        )
    else:
        note = (
            f"approximate: {sampled} channel set(s) with more than {exact_max} distinct channels "
            f"are sampled over {PERMUTATIONS} random channel orders (seed {SEED}); 95% half-width "
            f"per channel at most {float(clt.max()):.4g} conversions (central limit theorem, "
            f"summed over the sampled sets), and within {hoeffding:.4g} by Hoeffding's bound "
            "(95% for every channel of a set at once, summed over the sets)"
        )
    return phi, note


def _small_sets_vectorised(
    sets: np.ndarray, weights: np.ndarray, count: np.ndarray, which: np.ndarray, phi: np.ndarray
) -> None:
    """Add ``n_T`` × the Shapley values of ``f`` on the subsets of each set ``T`` in ``which``
    to ``phi``: the sets of one size at a time, in chunks, with int64 channel masks."""
    n_channels = sets.shape[1]
    n_games = weights.shape[0]
    masks = (sets.astype(np.int64) << np.arange(n_channels, dtype=np.int64)).sum(axis=1)
    order = np.argsort(masks)
    sorted_masks = masks[order]
    stats = np.vstack([weights, count[None, :]])[:, order]  # games, then journeys
    size = sets.sum(axis=1)
    for k in np.unique(size[which]).tolist():
        group = which[size[which] == k]
        local = ((np.arange(1 << k)[:, None] >> np.arange(k)) & 1).astype(np.int64)
        step = max(1, 4_000_000 // (1 << k))
        for lo in range(0, len(group), step):
            chunk = group[lo : lo + step]
            members = np.nonzero(sets[chunk])[1].reshape(len(chunk), k)
            bits = np.left_shift(np.int64(1), members.astype(np.int64))
            sub = (local[None, :, :] * bits[:, None, :]).sum(axis=2)  # set × local subset
            at = np.minimum(np.searchsorted(sorted_masks, sub), len(sorted_masks) - 1)
            seen = sorted_masks[at] == sub
            per_mask = np.where(seen[None], stats[:, at], 0.0)  # games + 1, set, subset
            f = _rates(per_mask, k)
            shares = _dividend_shares(_mobius(f, k), k) * count[chunk][None, :, None]
            for g in range(n_games):
                phi[g] += np.bincount(
                    members.ravel(), weights=shares[g].ravel(), minlength=n_channels
                )


def _small_sets_one_by_one(
    sets: np.ndarray, weights: np.ndarray, count: np.ndarray, which: np.ndarray, phi: np.ndarray
) -> None:
    """:func:`_small_sets_vectorised` for more channels than an int64 mask holds."""
    n_games = weights.shape[0]
    members = [np.flatnonzero(row) for row in sets]
    index = {frozenset(m.tolist()): i for i, m in enumerate(members)}
    for t in which.tolist():
        channels = members[t]
        k = len(channels)
        per_mask = np.zeros((n_games + 1, 1 << k))
        for local in range(1, 1 << k):
            i = index.get(frozenset(channels[(local >> np.arange(k)) & 1 == 1].tolist()))
            if i is not None:
                per_mask[:-1, local] = weights[:, i]
                per_mask[-1, local] = count[i]
        f = _rates(per_mask, k)
        phi[:, channels] += count[t] * _dividend_shares(_mobius(f, k), k)


def _sampled(
    sets: np.ndarray, weights: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Permutation-sampled Shapley values (games × channels) of ``f`` (as in :func:`_rates`) over
    the channels of ``sets`` (the largest set holds them all), the 95% CLT half-width of each and
    Hoeffding's 95% bound for all channels at once, per journey."""
    n_sets, n_channels = sets.shape
    rows, cols = np.nonzero(sets)
    row_starts = np.searchsorted(rows, np.arange(n_sets))
    set_size = sets.sum(axis=1)
    n_games = weights.shape[0]
    rng = np.random.default_rng(SEED)
    total = np.zeros((n_games, n_channels))
    squares = np.zeros((n_games, n_channels))
    chunk = int(max(1, min(256, 20_000_000 // max(len(cols), 1))))
    done = 0
    while done < PERMUTATIONS:
        m = min(chunk, PERMUTATIONS - done)
        order = np.argsort(rng.random((m, n_channels)), axis=1)
        rank = np.argsort(order, axis=1)
        # A set is inside the growing coalition once its last channel (in this order) joins;
        # it is the coalition itself when it joins at position |set| - 1.
        joins = np.maximum.reduceat(rank[:, cols], row_starts, axis=1)
        whole = joins == set_size[None, :] - 1
        slot = (joins + n_channels * np.arange(m)[:, None]).ravel()
        pooled_n = _per_prefix(slot, np.tile(count, m), m, n_channels).cumsum(axis=1)
        exact_n = _per_prefix(slot, np.where(whole, count[None, :], 0.0).ravel(), m, n_channels)
        for g in range(n_games):
            w = weights[g]
            pooled = _per_prefix(slot, np.tile(w, m), m, n_channels).cumsum(axis=1)
            exact = _per_prefix(slot, np.where(whole, w[None, :], 0.0).ravel(), m, n_channels)
            rate = np.where(pooled_n > 0, pooled / np.where(pooled_n > 0, pooled_n, 1.0), 0.0)
            rate = np.where(exact_n > 0, exact / np.where(exact_n > 0, exact_n, 1.0), rate)
            gain = np.diff(rate, axis=1, prepend=0.0)
            per_channel = np.take_along_axis(gain, rank, axis=1)
            total[g] += per_channel.sum(axis=0)
            squares[g] += (per_channel**2).sum(axis=0)
        done += m
    mean = total / PERMUTATIONS
    variance = np.maximum(squares / PERMUTATIONS - mean**2, 0.0) * (
        PERMUTATIONS / max(PERMUTATIONS - 1, 1)
    )
    half_width = CONFIDENCE_Z * np.sqrt(variance / PERMUTATIONS)
    # Rates lie in [0, 1], so a marginal contribution lies in [-1, 1] (a range of 2).
    hoeffding = 2.0 * math.sqrt(math.log(2 * n_channels / ALPHA) / (2 * PERMUTATIONS))
    return mean, half_width, hoeffding


def _per_prefix(slot: np.ndarray, weight: np.ndarray, m: int, n_channels: int) -> np.ndarray:
    """Per sampled order (rows) and position (columns): the weight of the sets joining there."""
    got = np.bincount(slot, weights=weight, minlength=m * n_channels)
    return got.reshape(m, n_channels)


@dataclass(frozen=True)
class OrderedShapley:
    """Zhao et al.'s ordered Shapley value: credit per channel and position (1st, 2nd, ...
    distinct channel of a path)."""

    channels: tuple[str, ...]
    conversions: np.ndarray  # float64, channel × position
    value: np.ndarray  # float64, channel × position

    def position_shares(self) -> np.ndarray:
        """Each position's share of all the conversions credited."""
        per_position = self.conversions.sum(axis=0)
        total = float(per_position.sum())
        return per_position / total if total > 0 else np.zeros_like(per_position)

    def describe(self) -> str:
        shares = self.position_shares()
        parts = [f"{_ordinal(i + 1)} {100 * s:.1f}%" for i, s in enumerate(shares[:3])]
        if len(shares) > 3:
            parts.append(f"later {100 * float(shares[3:].sum()):.1f}%")
        return "ordered Shapley (credit by position among a path's distinct channels): " + (
            ", ".join(parts) if parts else "no conversions"
        )


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def ordered_shapley(journeys: Journeys) -> OrderedShapley:
    """Each path's conversions and value shared equally among its distinct channels, kept at
    the position of each channel's first touch (Zhao et al. 2018, ordered Shapley value)."""
    _require_touches(journeys)
    journeys = credited_only(journeys)
    n_channels = len(journeys.channels)
    journey = journeys.journey_of_touch()
    touch = np.arange(journeys.n_touches)
    order = np.lexsort((touch, journeys.channel, journey))
    key_j, key_c = journey[order], journeys.channel[order]
    first_sorted = np.ones(len(order), dtype=bool)
    first_sorted[1:] = (key_j[1:] != key_j[:-1]) | (key_c[1:] != key_c[:-1])
    distinct = np.zeros(journeys.n_touches, dtype=bool)
    distinct[order[first_sorted]] = True
    running = np.cumsum(distinct)
    before = np.concatenate([[0], running])[journeys.starts[:-1]]
    position = running - before[journey] - 1  # 0-based position among distinct channels
    k = (
        np.add.reduceat(distinct.astype(np.int64), journeys.starts[:-1])
        if len(journey)
        else (np.zeros(0, dtype=np.int64))
    )
    width = int(k.max()) if len(k) else 0
    idx = np.flatnonzero(distinct)
    j = journey[idx]
    slot = journeys.channel[idx].astype(np.int64) * width + position[idx]
    size = n_channels * width
    conversions = np.bincount(slot, weights=journeys.conversions[j] / k[j], minlength=size)
    value = np.bincount(slot, weights=journeys.value[j] / k[j], minlength=size)
    return OrderedShapley(
        journeys.channels,
        conversions.reshape(n_channels, width),
        value.reshape(n_channels, width),
    )
