"""Trial-to-paid conversion by trial cohort month (docs/metrics.md, Trial-to-paid conversion)."""

from __future__ import annotations

from datetime import date as D

import pytest

from revintel.metrics import first_paid_dates, trial_conversion

from .tables import TRIAL_SCHEMA, by_month, customers, records, subscriptions, table


def example():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 2, 10), "price": 100},  # 22 days after trial end
        {"cid": "b", "start": D(2024, 3, 1), "price": 100},  # 37 days after: too late
        {"cid": "e", "start": D(2023, 6, 1), "price": 100},  # paying before the trial
        {"cid": "f", "start": D(2024, 3, 6), "price": 100},
        # free for February under a 100% discount: first paid day is March 1
        {"cid": "g", "start": D(2024, 2, 1), "price": 100, "discount": 1.0,
         "discount_end": D(2024, 2, 29)},
    )  # fmt: skip
    trial_rows = [
        ("t1", "a", D(2024, 1, 5), D(2024, 1, 19)),
        ("t2", "b", D(2024, 1, 10), D(2024, 1, 24)),
        ("t3", "c", D(2024, 1, 20), D(2024, 2, 3)),  # never pays
        ("t4", "e", D(2024, 1, 15), D(2024, 1, 29)),
        ("t5", "f", D(2024, 2, 20), D(2024, 3, 5)),  # window closes April 4
        ("t7", "g", D(2024, 1, 20), D(2024, 1, 31)),  # window closes March 1: paid that day
    ]
    trials = table(
        [
            {"trial_id": t, "customer_id": c, "trial_start": s, "trial_end": e}
            for t, c, s, e in trial_rows
        ],
        TRIAL_SCHEMA,
    )
    return trials, subs


def test_conversion_within_the_30_day_window_and_provisional_months():
    trials, subs = example()
    expr = trial_conversion(
        trials, subs, from_month="2024-01", to_month="2024-03", as_of=D(2024, 3, 31)
    )
    rows = by_month(records(expr))
    jan, feb, mar = rows["2024-01"], rows["2024-02"], rows["2024-03"]
    assert (jan["trials"], jan["converted"]) == (5, 2)  # a and g
    assert jan["conversion_rate"] == pytest.approx(0.4)
    assert jan["provisional"] is False
    assert (feb["trials"], feb["converted"], feb["provisional"]) == (1, 1, True)
    assert feb["window_closes"].date() == D(2024, 4, 4)
    assert mar["trials"] == 0
    assert mar["conversion_rate"] is None
    assert mar["conversion_rate_reason"] == "no trials started in the month"
    assert mar["provisional"] is False
    closed = by_month(
        records(
            trial_conversion(
                trials, subs, from_month="2024-02", to_month="2024-02", as_of=D(2024, 4, 4)
            )
        )
    )
    assert closed["2024-02"]["provisional"] is False


def test_a_longer_window_converts_more():
    trials, subs = example()
    expr = trial_conversion(
        trials,
        subs,
        from_month="2024-01",
        to_month="2024-01",
        as_of=D(2024, 6, 30),
        window_days=40,
    )
    assert records(expr)[0]["converted"] == 3  # b now converts too


def test_conversion_by_country():
    trials, subs = example()
    custs = customers(
        {"cid": "a", "country": "US"},
        {"cid": "b", "country": "DE"},
        {"cid": "c", "country": "US"},
        {"cid": "e", "country": "US"},
        {"cid": "f", "country": "DE"},
        {"cid": "g", "country": "DE"},
    )
    expr = trial_conversion(
        trials,
        subs,
        custs,
        from_month="2024-01",
        to_month="2024-02",
        as_of=D(2024, 6, 30),
        by="country",
    )
    cells = {(r["country"], r["month"]): r for r in records(expr)}
    assert (cells[("US", "2024-01")]["trials"], cells[("US", "2024-01")]["converted"]) == (3, 1)
    assert cells[("DE", "2024-01")]["conversion_rate"] == pytest.approx(1 / 2)
    assert cells[("US", "2024-02")]["conversion_rate"] is None
    assert cells[("DE", "2024-02")]["conversion_rate"] == 1


def test_first_paid_dates():
    _, subs = example()
    rows = {r["customer_id"]: r["first_paid_date"] for r in records(first_paid_dates(subs))}
    assert rows["g"].date() == D(2024, 3, 1)
    assert rows["a"].date() == D(2024, 2, 10)
