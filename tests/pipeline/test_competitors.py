"""Competitor statistics: the Wilson interval, the z-test and the threats they flag."""

from __future__ import annotations

import pytest

from revintel.pipeline.competitors import find_threats, two_proportion_z, wilson


def test_wilson_interval_matches_the_textbook() -> None:
    low, high = wilson(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 0) == (None, None)
    low, high = wilson(0, 20)
    assert low == 0.0 and high == pytest.approx(0.1611, abs=1e-4)


def test_two_proportion_z() -> None:
    z, p = two_proportion_z(10, 100, 25, 100)
    assert z == pytest.approx(2.7915, abs=1e-3)  # 0.15 / sqrt(0.175 × 0.825 × 0.02)
    assert p == pytest.approx(0.00262, abs=1e-4)


def test_a_rising_share_and_a_falling_win_rate_are_flagged_with_evidence() -> None:
    quarters = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    created = dict(zip(quarters, [(10, 100), (12, 100), (30, 100), (32, 100)], strict=True))
    closed = dict(zip(quarters, [(40, 20), (40, 21), (40, 8), (40, 9)], strict=True))
    threats = find_threats("Orbitly", closed, created, recent=2, significance=0.05)
    kinds = {t.kind: t for t in threats}
    assert set(kinds) == {"rising share", "falling win rate"}
    assert kinds["rising share"].recent == pytest.approx(0.31)
    assert "62/200" in kinds["rising share"].evidence
    assert kinds["falling win rate"].before == pytest.approx(41 / 80)
    assert all(t.p_value < 0.05 for t in threats)


def test_no_threat_when_nothing_changed() -> None:
    quarters = ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    created = {q: (20, 100) for q in quarters}
    closed = {q: (40, 16) for q in quarters}
    assert find_threats("Orbitly", closed, created, recent=2, significance=0.05) == []
