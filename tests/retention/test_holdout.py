"""The seeded, tier-stratified holdout and owner assignment."""

from __future__ import annotations

import pytest

from revintel.core.errors import InvalidOption
from revintel.retention import holdout as H


def _audience(counts: dict[str, int]):
    ids, tiers = [], []
    for tier, n in counts.items():
        for i in range(n):
            ids.append(f"{tier}-{i:04d}")
            tiers.append(tier)
    return ids, tiers


def test_each_tier_holds_out_round_half_up_of_its_share_and_never_all() -> None:
    ids, tiers = _audience({"High": 101, "Medium": 40, "Low": 7, "Critical": 1, "Two": 2})
    split = H.split_holdout(ids, tiers, 0.15, seed=7)
    assert split.by_tier["High"] == {"customers": 101, "holdout": 15}  # 15.15
    assert split.by_tier["Medium"]["holdout"] == 6
    assert split.by_tier["Low"]["holdout"] == 1  # 1.05
    assert split.by_tier["Critical"]["holdout"] == 0  # a tier of one is treated
    assert split.by_tier["Two"]["holdout"] == 0  # 0.3 rounds down
    held = [t for t, h in zip(tiers, split.holdout, strict=True) if h]
    assert held.count("High") == 15 and held.count("Medium") == 6
    assert split.n_holdout == 22


def test_half_share_never_holds_out_a_whole_tier() -> None:
    assert H.held_out_count(2, 0.5) == 1
    assert H.held_out_count(3, 0.5) == 2  # 1.5 rounds half up
    assert H.held_out_count(1, 0.5) == 0
    assert H.held_out_count(0, 0.2) == 0


def test_the_split_is_seeded_and_independent_of_input_order() -> None:
    ids, tiers = _audience({"High": 300, "Low": 200})
    a = H.split_holdout(ids, tiers, 0.2, seed=1)
    b = H.split_holdout(ids[::-1], tiers[::-1], 0.2, seed=1)
    c = H.split_holdout(ids, tiers, 0.2, seed=2)
    held_a = {i for i, h in zip(ids, a.holdout, strict=True) if h}
    held_b = {i for i, h in zip(ids[::-1], b.holdout, strict=True) if h}
    held_c = {i for i, h in zip(ids, c.holdout, strict=True) if h}
    assert held_a == held_b and held_a != held_c and len(held_a) == 100


def test_missing_tiers_form_their_own_stratum() -> None:
    split = H.split_holdout(["a", "b", "c", "d"], [None, None, "", "High"], 0.3, seed=0)
    assert split.by_tier[H.UNKNOWN_TIER]["customers"] == 3


@pytest.mark.parametrize("share", [0.0, 0.01, 0.51, 1.0, float("nan"), True])
def test_a_share_out_of_range_is_refused_naming_the_field(share) -> None:
    with pytest.raises(InvalidOption, match="holdout_share"):
        H.split_holdout(["a"], ["High"], share, seed=0)


def test_account_owner_mode_keeps_owners_and_leaves_blank_ones_unassigned() -> None:
    got = H.assign_owners(mode="account_owner", account_owners=["ann", None, " "], risks=[0, 0, 0])
    assert got == ["ann", None, None]


def test_round_robin_deals_highest_risk_first_within_capacity() -> None:
    risks = [0.1, 0.9, 0.5, 0.7, 0.3]
    got = H.assign_owners(
        mode="round_robin",
        account_owners=[None] * 5,
        risks=risks,
        people=["sarah", "john", "sarah"],
        capacity=3,
    )
    # order by risk: 1 (0.9) sarah, 3 (0.7) john, 2 (0.5) sarah, 4 (0.3) john, 0 (0.1) sarah
    assert got == ["sarah", "sarah", "sarah", "john", "john"]


def test_round_robin_beyond_capacity_names_the_shortfall_or_leaves_the_rest() -> None:
    kwargs = dict(
        mode="round_robin",
        account_owners=[None] * 7,
        risks=[0.1 * i for i in range(7)],
        people=["a", "b"],
        capacity=3,
    )
    with pytest.raises(H.CapacityShortfall, match=r"7 treated customers .* 6 places; 1 short"):
        H.assign_owners(**kwargs)
    got = H.assign_owners(**kwargs, overflow="unassigned")
    assert got.count(None) == 1 and got[0] is None  # the lowest risk is left
    assert got.count("a") == 3 and got.count("b") == 3


def test_round_robin_needs_people_and_a_capacity() -> None:
    with pytest.raises(InvalidOption, match=r"owners\.people"):
        H.assign_owners(
            mode="round_robin", account_owners=[None], risks=[0.1], people=[" "], capacity=2
        )
    with pytest.raises(InvalidOption, match=r"owners\.capacity"):
        H.assign_owners(
            mode="round_robin", account_owners=[None], risks=[0.1], people=["a"], capacity=0
        )
    with pytest.raises(InvalidOption, match=r"owners\.mode"):
        H.assign_owners(mode="random", account_owners=[None], risks=[0.1])
