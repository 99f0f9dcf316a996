"""MRR movements: new, expansion, contraction, churn, reactivation (docs/metrics.md)."""

from __future__ import annotations

from datetime import date as D

import pytest

from revintel.metrics import mrr_changes, mrr_movements

from .tables import by_month, records, subscriptions

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")


def monthly(subs, start="2024-01", end="2024-06"):
    return by_month(records(mrr_movements(mrr_changes(subs), from_month=start, to_month=end)))


def moves(row):
    return {k: row[k] for k in MOVEMENTS}


def test_cancelling_one_of_two_subscriptions_is_contraction_then_the_other_is_churn():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 5), "end": D(2024, 3, 10), "price": 60},
        {"cid": "a", "start": D(2024, 1, 20), "end": D(2024, 5, 2), "price": 40},
    )
    rows = monthly(subs)
    assert moves(rows["2024-01"]) == {**dict.fromkeys(MOVEMENTS, 0), "new": 100}
    assert moves(rows["2024-02"]) == dict.fromkeys(MOVEMENTS, 0)
    assert moves(rows["2024-03"]) == {**dict.fromkeys(MOVEMENTS, 0), "contraction": 60}
    assert rows["2024-03"]["contraction_customers"] == 1
    assert rows["2024-03"]["churned_customers"] == 0
    assert rows["2024-03"]["customers"] == 1
    assert moves(rows["2024-05"]) == {**dict.fromkeys(MOVEMENTS, 0), "churn": 40}
    assert rows["2024-05"]["churned_customers"] == 1
    assert rows["2024-05"]["customers"] == 0
    assert rows["2024-05"]["mrr"] == 0


def test_a_customer_who_leaves_and_returns_is_a_reactivation_not_new():
    subs = subscriptions(
        {"cid": "b", "start": D(2024, 1, 1), "end": D(2024, 2, 15), "price": 30},
        {"cid": "b", "start": D(2024, 4, 10), "price": 45},
    )
    rows = monthly(subs)
    assert rows["2024-01"]["new"] == 30
    assert rows["2024-02"]["churn"] == 30
    assert rows["2024-03"]["mrr"] == 0
    assert rows["2024-04"]["reactivation"] == 45
    assert rows["2024-04"]["reactivated_customers"] == 1
    assert rows["2024-04"]["new"] == 0
    assert rows["2024-04"]["new_customers"] == 0


def test_upgrade_on_the_same_day_is_expansion():
    subs = subscriptions(
        {"cid": "c", "start": D(2024, 1, 1), "end": D(2024, 3, 1), "price": 50},
        {"cid": "c", "start": D(2024, 3, 1), "price": 80},
    )
    rows = monthly(subs, end="2024-03")
    assert moves(rows["2024-03"]) == {**dict.fromkeys(MOVEMENTS, 0), "expansion": 30}
    assert rows["2024-03"]["net_new_mrr"] == 30


def test_paying_customers_arpa_and_previous_month_values():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 1), "price": 100},
        {"cid": "b", "start": D(2024, 2, 1), "price": 50},
    )
    rows = monthly(subs, end="2024-02")
    assert rows["2024-01"]["customers"] == 1
    assert rows["2024-01"]["customers_previous"] == 0
    assert rows["2024-01"]["mrr_previous"] == 0
    assert rows["2024-02"]["customers"] == 2
    assert rows["2024-02"]["arpa"] == 75
    assert rows["2024-02"]["mrr_previous"] == 100


def test_arpa_is_null_with_a_reason_when_nobody_pays():
    subs = subscriptions({"cid": "a", "start": D(2024, 3, 1), "price": 100})
    rows = monthly(subs, end="2024-03")
    assert rows["2024-01"]["arpa"] is None
    assert rows["2024-01"]["arpa_reason"] == "no paying customers at the end of the month"
    assert rows["2024-03"]["arpa"] == 100
    assert rows["2024-03"]["arpa_reason"] is None


def test_every_month_between_has_a_row_and_history_before_the_range_is_carried():
    subs = subscriptions(
        {"cid": "a", "start": D(2023, 5, 1), "price": 10},
        {"cid": "b", "start": D(2023, 6, 1), "end": D(2024, 2, 5), "price": 5},
    )
    rows = monthly(subs, start="2024-01", end="2024-04")
    assert list(rows) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert rows["2024-01"]["mrr_previous"] == 15
    assert rows["2024-01"]["new"] == 0
    assert rows["2024-02"]["churn"] == 5


def test_identity_holds_on_the_worked_example():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 5), "end": D(2024, 3, 10), "price": 60},
        {"cid": "a", "start": D(2024, 1, 20), "end": D(2024, 5, 2), "price": 40},
        {"cid": "b", "start": D(2024, 1, 1), "end": D(2024, 2, 15), "price": 30},
        {"cid": "b", "start": D(2024, 4, 10), "price": 45},
        {"cid": "c", "start": D(2024, 2, 1), "price": 20, "discount": 0.5,
         "discount_end": D(2024, 4, 30)},
    )  # fmt: skip
    rows = monthly(subs)
    for row in rows.values():
        expected = (
            row["mrr_previous"]
            + row["new"]
            + row["reactivation"]
            + row["expansion"]
            - row["contraction"]
            - row["churn"]
        )
        assert row["mrr"] == pytest.approx(expected, abs=1e-9)
