"""The Shapley value, worked by hand (docs/attribution.md, Shapley value)."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from revintel.attribution.journeys import Journeys, from_paths
from revintel.attribution.shapley import ordered_shapley, shapley_credit


def by_channel(journeys: Journeys, **options: object) -> dict[str, float]:
    c = shapley_credit(journeys, **options)  # type: ignore[arg-type]
    return {name: float(x) for name, x in zip(c.channels, c.conversions, strict=True)}


def test_two_channels_by_hand() -> None:
    # Journeys: 10 saw only A (2 converted), 10 only B (1), 10 saw both (6).
    # Rates f(A) = 0.2, f(B) = 0.1, f(AB) = 0.6; v(S) = sum over sets T of n_T f(T & S):
    # v(A) = 10*0.2 + 0 + 10*0.2 = 4, v(B) = 0 + 1 + 1 = 2, v(AB) = 2 + 1 + 6 = 9.
    # phi_A = (4 + (9 - 2)) / 2 = 5.5, phi_B = (2 + (9 - 4)) / 2 = 3.5.
    j = from_paths([["A"], ["B"], ["A", "B"]], [2, 1, 6], [20.0, 10.0, 60.0], [8, 9, 4])
    c = shapley_credit(j)
    assert dict(zip(c.channels, c.conversions.tolist(), strict=True)) == pytest.approx(
        {"A": 5.5, "B": 3.5}
    )
    assert c.value.tolist() == pytest.approx([55.0, 35.0])
    assert c.note is None


def test_three_channels_by_hand() -> None:
    # Sets (journeys, conversions): A (10, 2), B (10, 1), ABC (10, 8), C (10, 0).
    # Observed rates: A 0.2, B 0.1, ABC 0.8, C 0. Unobserved coalitions take the rate of the
    # journeys confined to them: AB (2 + 1) / 20 = 0.15, AC 2 / 20 = 0.1, BC 1 / 20 = 0.05.
    # v(A) = 2 + 2 = 4, v(B) = 1 + 1 = 2, v(C) = 0, v(AB) = 2 + 1 + 1.5 = 4.5,
    # v(AC) = 2 + 1 = 3, v(BC) = 1 + 0.5 = 1.5, v(ABC) = 2 + 1 + 8 = 11.
    # phi_A = 4/3 + (4.5 - 2)/6 + (3 - 0)/6 + (11 - 1.5)/3 = 65/12
    # phi_B = 2/3 + (4.5 - 4)/6 + (1.5 - 0)/6 + (11 - 3)/3 = 44/12
    # phi_C = 0/3 + (3 - 4)/6 + (1.5 - 2)/6 + (11 - 4.5)/3 = 23/12
    j = from_paths([["A"], ["B"], ["A", "C", "B"], ["C"]], [2, 1, 8, 0], nulls=[8, 9, 2, 10])
    assert by_channel(j) == pytest.approx({"A": 65 / 12, "B": 44 / 12, "C": 23 / 12})


def brute_force(journeys: Journeys) -> np.ndarray:
    """The Shapley value by its definition: the mean marginal worth over every channel order."""
    sets = [frozenset(p) for p in journeys.paths()]
    conv = journeys.conversions
    n = journeys.conversions + journeys.nulls

    def rate(u: frozenset[int]) -> float:
        exact = [i for i, t in enumerate(sets) if t == u]
        if sum(n[i] for i in exact) > 0:
            return sum(conv[i] for i in exact) / sum(n[i] for i in exact)
        inside = [i for i, t in enumerate(sets) if t <= u]
        journeys_in = sum(n[i] for i in inside)
        return sum(conv[i] for i in inside) / journeys_in if journeys_in else 0.0

    def worth(s: frozenset[int]) -> float:
        return sum(n[i] * rate(t & s) for i, t in enumerate(sets))

    k = len(journeys.channels)
    phi = np.zeros(k)
    for order in itertools.permutations(range(k)):
        before: frozenset[int] = frozenset()
        for c in order:
            phi[c] += worth(before | {c}) - worth(before)
            before = before | {c}
    return phi / math.factorial(k)


def test_the_exact_value_matches_the_definition_on_a_random_example() -> None:
    rng = np.random.default_rng(3)
    paths = [list(rng.choice(list("ABCD"), size=rng.integers(1, 4))) for _ in range(14)]
    conv = rng.integers(0, 5, size=14).tolist()
    j = from_paths(paths, conv, nulls=rng.integers(0, 9, size=14).tolist())
    assert shapley_credit(j).conversions == pytest.approx(brute_force(j))
    # Above the exact limit every channel set's own game is solved: still exact here.
    c = shapley_credit(j, exact_max=3)
    assert c.conversions == pytest.approx(brute_force(j))
    assert c.note is not None and "exact" in c.note


def test_above_the_limit_sampling_is_stated_within_its_bound_and_conserves() -> None:
    rng = np.random.default_rng(5)
    paths = [list(rng.choice(list("ABCDE"), size=rng.integers(1, 6))) for _ in range(30)]
    conv = rng.integers(0, 5, size=30)
    j = from_paths(paths, conv.tolist(), (conv * 10.0).tolist(), rng.integers(1, 9, 30).tolist())
    c = shapley_credit(j, exact_max=2)
    assert c.note is not None and c.note.startswith("approximate")
    bound = float(c.note.split("and within ")[1].split(" ")[0])
    assert np.abs(c.conversions - brute_force(j)).max() <= bound
    assert float(c.conversions.sum()) == pytest.approx(float(conv.sum()))
    assert float(c.value.sum()) == pytest.approx(float(conv.sum()) * 10.0)


def test_without_non_converting_journeys_the_count_game_shares_each_path_equally() -> None:
    j = from_paths([["A"], ["A", "B", "A"]], [3, 4], [3.0, 8.0])
    c = shapley_credit(j)
    assert c.conversions.tolist() == pytest.approx([5.0, 2.0])
    assert c.value.tolist() == pytest.approx([7.0, 4.0])
    assert c.note is not None and "count game" in c.note


def test_ordered_shapley_keeps_credit_by_position_of_first_touch() -> None:
    j = from_paths([["B", "A", "B"], ["A"]], [2, 1], [20.0, 5.0], [1, 1])
    table = ordered_shapley(j)
    assert table.channels == ("A", "B")
    # Path B > A > B: distinct channels B (1st) and A (2nd), 1 conversion each.
    assert table.conversions.tolist() == [[1.0, 1.0], [1.0, 0.0]]
    assert table.value.tolist() == [[5.0, 10.0], [10.0, 0.0]]
    assert table.position_shares().tolist() == pytest.approx([2 / 3, 1 / 3])
    c = shapley_credit(j, ordered=True)
    assert c.conversions.tolist() == [2.0, 1.0]
    assert c.note is not None and "1st 66.7%" in c.note


def test_no_conversions_gives_no_credit() -> None:
    j = from_paths([["A", "B"], ["B"]], [0, 0], nulls=[3, 4])
    c = shapley_credit(j)
    assert c.conversions.tolist() == [0.0, 0.0]
    assert c.value.tolist() == [0.0, 0.0]


def test_more_channels_than_a_bit_mask_holds_gives_the_same_values() -> None:
    few = from_paths([["A"], ["B"], ["A", "C", "B"], ["C"]], [2, 1, 8, 0], nulls=[8, 9, 2, 10])
    # The same journeys, among 70 channels of which 67 were never touched.
    names = ("A", "B", "C", *(f"Unused{i:02d}" for i in range(67)))
    many = replace(few, channels=names)
    c = shapley_credit(many)
    assert c.channels == names
    assert c.conversions[:3] == pytest.approx([65 / 12, 44 / 12, 23 / 12])
    assert (c.conversions[3:] == 0).all()
    assert c.note is not None and "one channel set at a time, exact" in c.note
