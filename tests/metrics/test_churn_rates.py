"""Churn and retention rates, NRR and GRR, quick ratio (docs/metrics.md, Churn and retention)."""

from __future__ import annotations

from datetime import date as D

import pytest

from revintel.metrics import (
    customer_mrr,
    movement_rates,
    mrr_changes,
    mrr_movements,
    trailing_retention,
)

from .tables import by_month, records, subscriptions


def rates(subs, start="2024-01", end="2024-03"):
    movements = mrr_movements(mrr_changes(subs), from_month=start, to_month=end)
    return by_month(records(movement_rates(movements)))


def february_example():
    """January: a 100, b 50, c 200, d 50 (MRR 400, 4 customers).

    February: b churns (50), c contracts to 150, d expands to 100, f is new (30), and e joins
    and leaves inside February.
    """
    return subscriptions(
        {"cid": "a", "start": D(2024, 1, 3), "price": 100},
        {"cid": "b", "start": D(2024, 1, 3), "end": D(2024, 2, 14), "price": 50},
        {"cid": "c", "start": D(2024, 1, 3), "price": 150},
        {"cid": "c", "start": D(2024, 1, 3), "end": D(2024, 2, 1), "price": 50},
        {"cid": "d", "start": D(2024, 1, 3), "price": 50},
        {"cid": "d", "start": D(2024, 2, 5), "price": 50},
        {"cid": "e", "start": D(2024, 2, 3), "end": D(2024, 2, 20), "price": 999},
        {"cid": "f", "start": D(2024, 2, 10), "price": 30},
    )


def test_logo_churn_excludes_customers_who_join_and_leave_within_the_month():
    feb = rates(february_example())["2024-02"]
    assert feb["customers_previous"] == 4
    assert feb["churned_customers"] == 1
    assert feb["logo_churn_rate"] == pytest.approx(1 / 4)
    assert feb["customer_retention_rate"] == pytest.approx(3 / 4)
    assert feb["customers"] == 4  # a, c, d, f


def test_gross_and_net_mrr_churn_nrr_and_quick_ratio():
    feb = rates(february_example())["2024-02"]
    assert feb["mrr_previous"] == 400
    assert feb["mrr"] == 380
    assert (feb["churn"], feb["contraction"], feb["expansion"], feb["new"]) == (50, 50, 50, 30)
    assert feb["gross_mrr_churn_rate"] == pytest.approx(100 / 400)
    assert feb["net_mrr_churn_rate"] == pytest.approx(50 / 400)
    assert feb["nrr_monthly"] == pytest.approx(350 / 400)
    assert feb["grr_monthly"] == pytest.approx(300 / 400)
    assert feb["quick_ratio"] == pytest.approx(80 / 100)


def test_nrr_above_100_percent_from_expansion_and_negative_net_churn():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 3), "price": 100},
        {"cid": "a", "start": D(2024, 2, 3), "price": 50},
        {"cid": "b", "start": D(2024, 1, 3), "price": 100},
    )
    feb = rates(subs)["2024-02"]
    assert feb["nrr_monthly"] == pytest.approx(1.25)
    assert feb["grr_monthly"] == 1  # expansion does not count
    assert feb["net_mrr_churn_rate"] == pytest.approx(-0.25)
    assert feb["gross_mrr_churn_rate"] == 0


def test_division_by_zero_is_null_with_a_reason():
    subs = subscriptions({"cid": "a", "start": D(2024, 1, 3), "price": 100})
    rows = rates(subs)
    jan, feb = rows["2024-01"], rows["2024-02"]
    assert jan["logo_churn_rate"] is None
    assert jan["logo_churn_rate_reason"] == "no paying customers at the end of the previous month"
    assert jan["customer_retention_rate"] is None
    assert jan["gross_mrr_churn_rate"] is None
    assert jan["gross_mrr_churn_rate_reason"] == "no MRR at the end of the previous month"
    assert jan["nrr_monthly"] is None
    # quick ratio undefined when nothing contracted or churned
    assert feb["quick_ratio"] is None
    assert feb["quick_ratio_reason"] == "no contraction or churn in the month"
    assert feb["logo_churn_rate"] == 0
    assert feb["logo_churn_rate_reason"] is None


def test_reactivation_is_excluded_from_net_churn_and_nrr():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 3), "price": 100},
        {"cid": "b", "start": D(2023, 12, 3), "end": D(2024, 1, 2), "price": 40},
        {"cid": "b", "start": D(2024, 2, 3), "price": 40},
    )
    feb = rates(subs)["2024-02"]
    assert feb["reactivation"] == 40
    assert feb["nrr_monthly"] == 1
    assert feb["net_mrr_churn_rate"] == 0
    assert feb["quick_ratio"] is None


def t12m_example():
    """Paying at the end of 2023-01: a 100, b 200, c 50, e 80 (430).

    At the end of 2024-01: a 150 (expanded), b 120 (contracted), c gone, e 100 (left in March
    2023 and came back in October at a higher price), d new in 2023-05 (not in the base).
    """
    return subscriptions(
        {"cid": "a", "start": D(2022, 12, 15), "price": 100},
        {"cid": "a", "start": D(2023, 6, 10), "price": 50},
        {"cid": "b", "start": D(2022, 12, 1), "end": D(2023, 9, 15), "price": 200},
        {"cid": "b", "start": D(2023, 9, 15), "price": 120},
        {"cid": "c", "start": D(2022, 12, 20), "end": D(2023, 8, 10), "price": 50},
        {"cid": "d", "start": D(2023, 5, 1), "price": 500},
        {"cid": "e", "start": D(2022, 12, 5), "end": D(2023, 3, 5), "price": 80},
        {"cid": "e", "start": D(2023, 10, 1), "price": 100},
    )


def test_trailing_twelve_month_nrr_and_grr_on_a_worked_example():
    changes = mrr_changes(t12m_example())
    rows = by_month(records(trailing_retention(changes, from_month="2023-11", to_month="2024-02")))
    jan = rows["2024-01"]
    assert jan["base_mrr"] == 430
    assert jan["retained_mrr"] == 150 + 120 + 0 + 100
    assert jan["retained_mrr_capped"] == 100 + 120 + 0 + 80
    assert jan["nrr_t12m"] == pytest.approx(370 / 430)
    assert jan["grr_t12m"] == pytest.approx(300 / 430)
    assert rows["2023-12"]["nrr_t12m"] == pytest.approx(370 / 430)  # base 2022-12: same four
    assert rows["2024-02"]["grr_t12m"] == pytest.approx(300 / 430)
    nov = rows["2023-11"]
    assert nov["nrr_t12m"] is None
    assert nov["nrr_t12m_reason"] == "no MRR 12 months earlier"
    assert nov["grr_t12m"] is None


def test_trailing_retention_agrees_with_a_brute_force_count():
    changes = mrr_changes(t12m_example())
    per_month = records(customer_mrr(t12m_example(), from_month="2022-12", to_month="2024-03"))
    mrr = {(r["customer_id"], r["month"]): r["mrr"] for r in per_month}
    rows = by_month(records(trailing_retention(changes, from_month="2023-12", to_month="2024-03")))
    for month, row in rows.items():
        year, mon = int(month[:4]), int(month[5:])
        base_month = f"{year - 1}-{mon:02d}"
        base = {c: v for (c, m), v in mrr.items() if m == base_month}
        kept = sum(mrr.get((c, month), 0) for c in base)
        capped = sum(min(mrr.get((c, month), 0), v) for c, v in base.items())
        assert row["base_mrr"] == pytest.approx(sum(base.values()))
        assert row["retained_mrr"] == pytest.approx(kept)
        assert row["retained_mrr_capped"] == pytest.approx(capped)
