"""Markov-chain attribution (docs/attribution.md, Markov chain): a hand-solved chain, the exact
absorbing solution against a simulation of the fitted chain, order 2 against order 1, loops,
no conversions, and conservation over random journeys."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse.linalg import splu

from revintel.attribution.journeys import Journeys, from_paths
from revintel.attribution.markov import (
    DIRECT_MAX_STATES,
    InvalidMarkovOrder,
    _solve,
    fit_chain,
    markov_credit,
)
from revintel.core.errors import InvalidOption


def test_hand_solved_chain() -> None:
    # A > B converts once (value 10), A ends without converting once, B converts once (value 20).
    journeys = from_paths([["A", "B"], ["A"], ["B"]], [1, 0, 1], [10, 0, 20], [0, 1, 0])
    # Transitions: start->A 2/3, start->B 1/3, A->B 1/2, A->null 1/2, B->conversion 1.
    p = 2 / 3 * 1 / 2 + 1 / 3  # = 2/3, the observed 2 conversions over 3 paths
    without_a = 1 / 3  # start->A goes to null
    without_b = 0.0  # every conversion passes through B
    effect_a, effect_b = 1 - without_a / p, 1 - without_b / p
    assert (effect_a, effect_b) == pytest.approx((0.5, 1.0))
    credit = markov_credit(journeys)
    assert credit.model == "markov"
    assert credit.channels == ("A", "B")
    assert credit.removal_effect is not None
    np.testing.assert_allclose(credit.removal_effect, [effect_a, effect_b])
    total = effect_a + effect_b
    np.testing.assert_allclose(credit.conversions, [2 * effect_a / total, 2 * effect_b / total])
    # Value: conversion from B earns its mean value 15, so E[value] = 2/3 * 15 = 10; without A
    # 1/3 * 15 = 5 (effect 0.5), without B 0 (effect 1): 30 shared 1:2.
    np.testing.assert_allclose(credit.value, [10.0, 20.0])
    assert credit.note is None


def test_value_has_its_own_removal_effects() -> None:
    # A's conversions are worth 100 each, B's 1: value leans to A more than conversions do.
    journeys = from_paths([["A"], ["B"], ["A", "B"]], [1, 1, 1], [100, 1, 1], [1, 1, 1])
    credit = markov_credit(journeys)
    conversion_share = credit.conversions / credit.conversions.sum()
    value_share = credit.value / credit.value.sum()
    assert value_share[0] > conversion_share[0]
    assert credit.value.sum() == pytest.approx(102.0)


def _simulate(journeys: Journeys, order: int, removed: int | None, walks: int) -> float:
    """Conversion rate of random walks on the fitted chain (``removed``: its states go to null)."""
    chain = fit_chain(journeys, order)
    q = chain.q.toarray()
    to_null = 1.0 - q.sum(axis=1) - chain.to_conversion
    cumulative = np.cumsum(np.column_stack([q, chain.to_conversion, to_null]), axis=1)
    gone = np.zeros(chain.n_states, bool) if removed is None else chain.contains(removed)
    rng = np.random.default_rng(7)
    converted = 0
    for _ in range(walks):
        state = 0
        while True:
            if gone[state]:
                break
            step = int(np.searchsorted(cumulative[state], rng.random() * cumulative[state, -1]))
            if step == chain.n_states:
                converted += 1
                break
            if step > chain.n_states:
                break
            state = step
    return converted / walks


@pytest.mark.parametrize("order", [1, 2])
def test_exact_solution_matches_a_simulation_of_the_chain(order: int) -> None:
    journeys = from_paths(
        [["A", "B", "A"], ["B", "C"], ["C"], ["A", "A", "C"], ["B"], ["C", "B", "A"]],
        conversions=[3, 2, 1, 2, 0, 1],
        nulls=[2, 3, 4, 1, 5, 2],
    )
    chain = fit_chain(journeys, order)
    exact, _ = chain.absorption()
    # The fitted chain reproduces the observed conversion rate exactly.
    assert exact == pytest.approx(9 / 26)
    walks = 6000
    sigma = np.sqrt(exact * (1 - exact) / walks)
    assert abs(_simulate(journeys, order, None, walks) - exact) < 4 * sigma
    for x in range(3):
        removed_exact, _ = chain.absorption(~chain.contains(x))
        simulated = _simulate(journeys, order, x, walks)
        sigma = max(np.sqrt(removed_exact * (1 - removed_exact) / walks), 1e-3)
        assert abs(simulated - removed_exact) < 4 * sigma


def test_order_two_tells_what_came_before() -> None:
    # C converts after A and never after B. Order 1 sees one C state and treats A and B alike;
    # order 2 sees (A, C) and (B, C) apart and gives B nothing.
    journeys = from_paths([["A", "C"], ["B", "C"]], conversions=[5, 0], nulls=[5, 10])
    first = markov_credit(journeys, 1)
    second = markov_credit(journeys, 2)
    assert first.removal_effect is not None and second.removal_effect is not None
    # Order 1: start->A 1/2, start->B 1/2, C converts 1/4: P = 1/4; without A (or B): 1/2 * 1/4.
    np.testing.assert_allclose(first.removal_effect, [0.5, 0.5, 1.0])
    # Order 2: (A, C) converts 1/2, (B, C) never: P = 1/2 * 1/2; without A 0, without B 1/4.
    np.testing.assert_allclose(second.removal_effect, [1.0, 0.0, 1.0])
    np.testing.assert_allclose(second.conversions, [2.5, 0.0, 2.5])


def test_loops_repeats_and_single_touches() -> None:
    journeys = from_paths(
        [["A", "A", "A"], ["A", "B", "A", "B"], ["B"], ["C"]],
        conversions=[2, 1, 1, 0],
        nulls=[1, 1, 3, 2],
    )
    for order in (1, 2, 3, 4):
        credit = markov_credit(journeys, order)
        assert credit.conversions.sum() == pytest.approx(4.0)
        assert credit.conversions[2] == 0.0  # C never converts
        assert credit.removal_effect is not None
        assert ((credit.removal_effect >= 0) & (credit.removal_effect <= 1)).all()


def test_no_conversions_gives_zero_credit_with_a_note() -> None:
    journeys = from_paths([["A", "B"], ["B"]], conversions=[0, 0], nulls=[3, 1])
    credit = markov_credit(journeys, 2)
    assert credit.conversions.tolist() == [0.0, 0.0]
    assert credit.value.tolist() == [0.0, 0.0]
    assert credit.note is not None and "no conversions" in credit.note


def test_a_channel_on_every_converting_path_removed_leaves_no_conversion() -> None:
    # Removing A leaves nothing that converts: P(conversion | A removed) = 0, no singular matrix.
    journeys = from_paths([["A"], ["A", "A"], ["B"]], conversions=[1, 1, 0], nulls=[0, 0, 2])
    credit = markov_credit(journeys)
    assert credit.removal_effect is not None
    np.testing.assert_allclose(credit.removal_effect, [1.0, 0.0])
    np.testing.assert_allclose(credit.conversions, [2.0, 0.0])


@pytest.mark.parametrize("order", [0, 5, -1])
def test_order_outside_one_to_four_is_refused(order: int) -> None:
    journeys = from_paths([["A"]], conversions=[1])
    with pytest.raises(InvalidMarkovOrder, match="order") as caught:
        markov_credit(journeys, order)
    assert isinstance(caught.value, InvalidOption)


def test_large_chains_solve_iteratively_to_the_lu_answer() -> None:
    rng = np.random.default_rng(3)
    n, length, channels = 4000, 6, 9
    paths = [[f"c{c}" for c in rng.integers(0, channels, length)] for _ in range(n)]
    converted = (rng.random(n) < 0.3).astype(float)
    chain = fit_chain(from_paths(paths, converted.tolist(), nulls=(1 - converted).tolist()), 4)
    assert chain.n_states > DIRECT_MAX_STATES
    iterative = _solve(chain.q, chain.to_conversion)
    direct = splu((sparse.identity(chain.n_states) - chain.q).tocsc()).solve(chain.to_conversion)
    np.testing.assert_allclose(iterative, direct, atol=1e-10)
    assert iterative[0] == pytest.approx(converted.sum() / n)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("ABCD"), min_size=1, max_size=6),
            st.integers(0, 3),
            st.integers(0, 3),
            st.floats(0, 500),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 4),
)
def test_credit_conserves_conversions_and_value(
    rows: list[tuple[list[str], int, int, float]], order: int
) -> None:
    journeys = from_paths(
        [r[0] for r in rows],
        conversions=[r[1] for r in rows],
        value=[r[3] if r[1] else 0.0 for r in rows],
        nulls=[r[2] for r in rows],
    )
    credit = markov_credit(journeys, order)
    total = journeys.total_conversions
    assert (credit.conversions >= 0).all() and (credit.value >= 0).all()
    if total > 0:
        assert credit.conversions.sum() == pytest.approx(total)
        if journeys.total_value > 0:
            assert credit.value.sum() == pytest.approx(journeys.total_value)
    else:
        assert credit.conversions.sum() == 0.0 and credit.note is not None
