"""Cohort triangles: logo and revenue retention by first-paid month (docs/metrics.md, Cohorts)."""

from __future__ import annotations

from datetime import date as D

import pytest

from revintel.metrics import cohort_retention, mrr_changes
from revintel.metrics.service import cohort_triangle

from .tables import customers, records, subscriptions


def example():
    """Cohort 2024-01: a 100, b 50 (leaves in March), c 50 -> 150 from March.

    Cohort 2024-02: d 40, leaves in March, back in April at 40 (still cohort 2024-02).
    """
    return subscriptions(
        {"cid": "a", "start": D(2024, 1, 4), "price": 100},
        {"cid": "b", "start": D(2024, 1, 9), "end": D(2024, 3, 1), "price": 50},
        {"cid": "c", "start": D(2024, 1, 20), "price": 50},
        {"cid": "c", "start": D(2024, 3, 2), "price": 100},
        {"cid": "d", "start": D(2024, 2, 10), "end": D(2024, 3, 5), "price": 40},
        {"cid": "d", "start": D(2024, 4, 1), "price": 40},
    )


def test_cohort_triangle_values():
    rows = records(
        cohort_retention(mrr_changes(example()), from_month="2024-01", to_month="2024-04")
    )
    cells = {(r["cohort"], r["age"]): r for r in rows}
    assert sorted(cells) == [
        ("2024-01", 0),
        ("2024-01", 1),
        ("2024-01", 2),
        ("2024-01", 3),
        ("2024-02", 0),
        ("2024-02", 1),
        ("2024-02", 2),
    ]
    jan = [cells[("2024-01", k)] for k in range(4)]
    assert [r["customers"] for r in jan] == [3, 3, 2, 2]
    assert [r["mrr"] for r in jan] == [200, 200, 250, 250]
    assert [r["logo_retention"] for r in jan] == pytest.approx([1, 1, 2 / 3, 2 / 3])
    assert [r["revenue_retention"] for r in jan] == pytest.approx([1, 1, 1.25, 1.25])
    assert {r["cohort_customers"] for r in jan} == {3}
    assert cells[("2024-01", 2)]["month"] == "2024-03"
    feb = [cells[("2024-02", k)] for k in range(3)]
    assert [r["customers"] for r in feb] == [1, 0, 1]
    assert [r["logo_retention"] for r in feb] == [1, 0, 1]
    triangle = cohort_triangle(rows, "logo_retention")
    assert triangle["2024-02"] == [1, 0, 1]
    assert len(triangle["2024-01"]) == 4


def test_cohorts_by_segment():
    custs = customers(
        {"cid": "a", "segment": "Enterprise"},
        {"cid": "b", "segment": "SMB"},
        {"cid": "c", "segment": "SMB"},
        {"cid": "d", "segment": "SMB"},
    )
    changes = mrr_changes(example(), custs, by="segment")
    rows = records(cohort_retention(changes, from_month="2024-01", to_month="2024-03"))
    cells = {(r["segment"], r["cohort"], r["age"]): r for r in rows}
    assert cells[("Enterprise", "2024-01", 2)]["logo_retention"] == 1
    smb = cells[("SMB", "2024-01", 2)]
    assert (smb["cohort_customers"], smb["customers"]) == (2, 1)
    assert smb["revenue_retention"] == pytest.approx(150 / 100)
    assert ("Enterprise", "2024-02", 0) not in cells


def test_cohorts_outside_the_range_are_left_out():
    rows = records(
        cohort_retention(mrr_changes(example()), from_month="2024-02", to_month="2024-03")
    )
    assert {r["cohort"] for r in rows} == {"2024-02"}  # no customer starts in March


def test_changes_after_the_last_month_do_not_leak_into_the_triangle():
    rows = records(
        cohort_retention(mrr_changes(example()), from_month="2024-01", to_month="2024-02")
    )
    assert {(r["cohort"], r["age"]) for r in rows} == {
        ("2024-01", 0),
        ("2024-01", 1),
        ("2024-02", 0),
    }
    assert max(r["customers"] for r in rows) == 3
