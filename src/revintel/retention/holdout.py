"""A campaign's holdout control and who runs each treated customer's tasks (docs/retention.md,
Campaigns → Holdout and Owners).

Holdout: a seeded random share of the audience, stratified by risk tier, that receives nothing.
In each tier of ``n`` customers, ``k = floor(share × n + 0.5)`` are held out (round half up),
capped at ``n − 1`` so that no tier is held out whole (a tier of one customer is always treated).
Customers are ordered by id before the seeded shuffle, so the same audience, share and seed give
the same split whatever order they arrive in.

Owners: ``account_owner`` gives each treated customer to their account's owner (a customer with
none is left unassigned and counted); ``round_robin`` deals the treated customers, highest risk
first, to the named people in turn, each up to ``capacity`` customers. More customers than the
people's total capacity is an error naming the shortfall, unless ``overflow="unassigned"``, which
leaves the lowest-risk remainder unassigned (counted in the result).

Pure: numpy and plain lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revintel.core.errors import InvalidOption

MIN_SHARE = 0.05
MAX_SHARE = 0.5
UNKNOWN_TIER = "unknown"
OWNER_MODES = ("account_owner", "round_robin")
OVERFLOW = ("error", "unassigned")


class CapacityShortfall(InvalidOption):
    """Round-robin owners cannot take every treated customer at their capacity."""


def check_share(share: float, field: str = "holdout_share") -> float:
    """``share`` if it is in [MIN_SHARE, MAX_SHARE]; else InvalidOption naming ``field``."""
    if (
        isinstance(share, bool)
        or not isinstance(share, int | float)
        or math.isnan(share)
        or not MIN_SHARE <= share <= MAX_SHARE
    ):
        raise InvalidOption(
            f"{field}: expected a share between {MIN_SHARE} and {MAX_SHARE} (10-20% is usual), "
            f"got {share!r}"
        )
    return float(share)


def held_out_count(n: int, share: float) -> int:
    """How many of a tier of ``n`` are held out: round half up of share × n, at most n − 1."""
    if n <= 1:
        return 0
    return min(math.floor(share * n + 0.5), n - 1)


@dataclass(frozen=True)
class HoldoutSplit:
    """``holdout[i]``: whether customer ``i`` (input order) is held out; per-tier counts."""

    holdout: np.ndarray
    by_tier: dict[str, dict[str, int]]  # tier -> {"customers": n, "holdout": k}

    @property
    def n_holdout(self) -> int:
        return int(self.holdout.sum())


def split_holdout(
    customer_ids: Sequence[str], tiers: Sequence[str | None], share: float, seed: int
) -> HoldoutSplit:
    """The seeded, tier-stratified holdout (module docstring)."""
    share = check_share(share)
    if len(customer_ids) != len(tiers):
        raise ValueError("customer_ids and tiers differ in length")
    ids = np.asarray([str(c) for c in customer_ids], dtype=object)
    tier_names = np.asarray([t if t else UNKNOWN_TIER for t in tiers], dtype=object)
    holdout = np.zeros(len(ids), dtype=bool)
    rng = np.random.default_rng(seed)
    by_tier: dict[str, dict[str, int]] = {}
    for tier in sorted(set(tier_names.tolist())):
        where = np.flatnonzero(tier_names == tier)
        where = where[np.argsort(ids[where], kind="stable")]  # input order does not matter
        k = held_out_count(len(where), share)
        if k:
            holdout[rng.permutation(where)[:k]] = True
        by_tier[tier] = {"customers": len(where), "holdout": int(k)}
    return HoldoutSplit(holdout=holdout, by_tier=by_tier)


def check_people(people: Sequence[str], field: str = "people") -> list[str]:
    """Named people, trimmed, without blanks or repeats; at least one."""
    cleaned: list[str] = []
    for p in people:
        name = str(p).strip()
        if name and name not in cleaned:
            if len(name) > 255:
                raise InvalidOption(f"{field}: expected names of at most 255 characters")
            cleaned.append(name)
    if not cleaned:
        raise InvalidOption(f"{field}: round-robin needs at least one person, e.g. 'sarah,john'")
    return cleaned


def assign_owners(
    *,
    mode: str,
    account_owners: Sequence[str | None],
    risks: Sequence[float | None],
    people: Sequence[str] = (),
    capacity: int | None = None,
    overflow: str = "error",
) -> list[str | None]:
    """The owner of each (treated) customer, in input order (module docstring)."""
    if mode not in OWNER_MODES:
        raise InvalidOption(f"owners.mode: expected one of {', '.join(OWNER_MODES)}, got {mode!r}")
    if overflow not in OVERFLOW:
        raise InvalidOption(
            f"owners.overflow: expected one of {', '.join(OVERFLOW)}, got {overflow!r}"
        )
    n = len(account_owners)
    if mode == "account_owner":
        return [o.strip() if isinstance(o, str) and o.strip() else None for o in account_owners]
    names = check_people(people, "owners.people")
    if capacity is None or isinstance(capacity, bool) or capacity < 1:
        raise InvalidOption(f"owners.capacity: expected a whole number ≥ 1, got {capacity!r}")
    total = len(names) * capacity
    if n > total and overflow == "error":
        raise CapacityShortfall(
            f"owners.capacity: {n} treated customers but {len(names)} people × {capacity} = "
            f"{total} places; {n - total} short. Raise the capacity to at least "
            f"{math.ceil(n / len(names))}, add people, or leave the rest unassigned"
        )
    risk = np.asarray([-1.0 if r is None or r != r else float(r) for r in risks], dtype=float)
    order = np.argsort(-risk, kind="stable")  # highest risk first
    result: list[str | None] = [None] * n
    for rank, i in enumerate(order[:total]):
        result[int(i)] = names[rank % len(names)]
    return result
