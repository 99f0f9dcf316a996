"""MRR of a subscription, active at month end, discounts, failed payments, breakdowns.

Hand-worked examples of docs/metrics.md "Recurring revenue".
"""

from __future__ import annotations

from datetime import date as D

import ibis
import pyarrow as pa
import pytest

from revintel.metrics import (
    InvalidMetricOption,
    customer_mrr,
    mrr_changes,
    mrr_movements,
)
from revintel.metrics.mrr import DEFAULT_DELINQUENCY_DAYS, delinquent_months

from .tables import PAYMENT_SCHEMA, by_month, customers, records, subscriptions, table


def monthly(subs, start="2024-01", end="2024-06", **options):
    changes = mrr_changes(subs, options.pop("customers", None), **options)
    return by_month(records(mrr_movements(changes, from_month=start, to_month=end)))


def test_annual_plan_is_already_normalised_to_a_month():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 15), "price": 100, "billing": "annual", "plan": "Pro"}
    )
    rows = monthly(subs, end="2024-03")
    for month in ("2024-01", "2024-02", "2024-03"):
        assert rows[month]["mrr"] == 100
        assert rows[month]["arr"] == 1200
        assert rows[month]["customers"] == 1


def test_active_at_month_end_rule_at_the_boundaries():
    subs = subscriptions(
        # starts on the last day of January: counts in January
        {"cid": "a", "start": D(2024, 1, 31), "price": 10},
        # ends on March 31: active through March 30, so not at the end of March
        {"cid": "b", "start": D(2024, 1, 1), "end": D(2024, 3, 31), "price": 20},
        # ends on April 1: active through March 31
        {"cid": "c", "start": D(2024, 1, 1), "end": D(2024, 4, 1), "price": 40},
        # starts and ends inside February: never active at a month end
        {"cid": "e", "start": D(2024, 2, 3), "end": D(2024, 2, 20), "price": 1000},
    )
    per_customer = records(customer_mrr(subs, from_month="2024-01", to_month="2024-04"))
    months = {(r["customer_id"], r["month"]): r["mrr"] for r in per_customer}
    assert months == {
        ("a", "2024-01"): 10,
        ("a", "2024-02"): 10,
        ("a", "2024-03"): 10,
        ("a", "2024-04"): 10,
        ("b", "2024-01"): 20,
        ("b", "2024-02"): 20,
        ("c", "2024-01"): 40,
        ("c", "2024-02"): 40,
        ("c", "2024-03"): 40,
    }
    rows = monthly(subs, end="2024-04")
    assert [rows[m]["mrr"] for m in ("2024-01", "2024-02", "2024-03", "2024-04")] == [
        70,
        70,
        50,
        10,
    ]
    assert rows["2024-02"]["new"] == 0  # e never counted


def test_time_limited_discount_reduces_mrr_while_it_applies_and_its_end_is_expansion():
    subs = subscriptions(
        # 20% off through March 31 (the whole of March): 80 through March, 100 from April
        {
            "cid": "a",
            "start": D(2024, 1, 10),
            "price": 100,
            "discount": 0.2,
            "discount_end": D(2024, 3, 31),
        },
        # 50% off through March 15: no longer applies at the end of March
        {
            "cid": "b",
            "start": D(2024, 1, 10),
            "price": 50,
            "discount": 0.5,
            "discount_end": D(2024, 3, 15),
        },
        # 10% off for the whole subscription
        {"cid": "c", "start": D(2024, 1, 10), "price": 200, "discount": 0.1},
    )
    rows = monthly(subs, end="2024-05")
    assert rows["2024-01"]["mrr"] == pytest.approx(80 + 25 + 180)
    assert rows["2024-02"]["mrr"] == pytest.approx(285)
    assert rows["2024-03"]["mrr"] == pytest.approx(80 + 50 + 180)
    assert rows["2024-03"]["expansion"] == pytest.approx(25)
    assert rows["2024-04"]["mrr"] == pytest.approx(100 + 50 + 180)
    assert rows["2024-04"]["expansion"] == pytest.approx(20)
    assert rows["2024-04"]["expansion_customers"] == 1
    assert rows["2024-05"]["expansion"] == 0
    literal = records(customer_mrr(subs, from_month="2024-03", to_month="2024-04"))
    assert {(r["customer_id"], r["month"]): r["mrr"] for r in literal} == pytest.approx(
        {
            ("a", "2024-03"): 80,
            ("a", "2024-04"): 100,
            ("b", "2024-03"): 50,
            ("b", "2024-04"): 50,
            ("c", "2024-03"): 180,
            ("c", "2024-04"): 180,
        }
    )


def _delinquency_example():
    subs = subscriptions(
        {"sid": "sa", "cid": "a", "start": D(2024, 1, 1), "price": 100},
        {"sid": "sb", "cid": "b", "start": D(2024, 1, 1), "price": 50},
        {"sid": "sc", "cid": "c", "start": D(2024, 1, 1), "price": 20},
    )
    pay = [
        # a: invoice due Feb 10 fails and is never paid
        ("p1", "a", D(2024, 2, 10), 100, "Failed", "sa", "ia2", D(2024, 2, 10)),
        ("p2", "a", D(2024, 2, 17), 100, "Failed", "sa", "ia2", D(2024, 2, 10)),
        # b: invoice due Feb 10 fails, paid on April 5
        ("p3", "b", D(2024, 2, 10), 50, "Failed", "sb", "ib2", D(2024, 2, 10)),
        ("p4", "b", D(2024, 4, 5), 50, "Success", "sb", "ib2", D(2024, 2, 10)),
        # c: invoice due March 5 fails, paid March 20 (15 days late: never out)
        ("p5", "c", D(2024, 3, 5), 20, "Failed", "sc", "ic3", D(2024, 3, 5)),
        ("p6", "c", D(2024, 3, 20), 20, "Success", "sc", "ic3", D(2024, 3, 5)),
        # a paid January on time
        ("p7", "a", D(2024, 1, 10), 100, "Success", "sa", "ia1", D(2024, 1, 10)),
    ]
    names = list(PAYMENT_SCHEMA)
    payments = table([dict(zip(names, row, strict=True)) for row in pay], PAYMENT_SCHEMA)
    return subs, payments


def test_failed_payments_stay_in_mrr_until_30_days_past_due():
    subs, payments = _delinquency_example()
    rows = monthly(subs, payments=payments)
    # a: 19 days past due at the end of February (still in), out at the end of March (due + 30
    # = March 11), never paid. b: out in March, back in April when paid: a reactivation.
    assert rows["2024-02"]["mrr"] == 170
    assert rows["2024-03"]["mrr"] == 20
    assert rows["2024-03"]["churn"] == 150
    assert rows["2024-03"]["churned_customers"] == 2
    assert rows["2024-04"]["mrr"] == 70
    assert rows["2024-04"]["reactivation"] == 50
    assert rows["2024-04"]["new"] == 0
    assert rows["2024-06"]["mrr"] == 70
    literal = records(
        customer_mrr(subs, from_month="2024-01", to_month="2024-06", payments=payments)
    )
    assert {(r["customer_id"], r["month"]) for r in literal if r["customer_id"] != "c"} == {
        ("a", "2024-01"),
        ("a", "2024-02"),
        ("b", "2024-01"),
        ("b", "2024-02"),
        ("b", "2024-04"),
        ("b", "2024-05"),
        ("b", "2024-06"),
    }


def test_delinquency_windows_of_32_bit_month_numbers():
    """Spark numbers months from dates as 32-bit integers (DuckDB as 64-bit): the windows'
    breakpoints join the subscriptions' 64-bit month numbers all the same."""
    subs, payments = _delinquency_example()
    windows = records(delinquent_months(payments, DEFAULT_DELINQUENCY_DAYS))
    narrow = ibis.memtable(
        pa.table(
            {
                "subscription_id": [w["subscription_id"] for w in windows],
                "a": pa.array([w["a"] for w in windows], pa.int32()),
                "b": pa.array([w["b"] for w in windows], pa.int32()),
            }
        )
    )
    assert monthly(subs, delinquent=narrow) == monthly(subs, payments=payments)


def test_delinquency_days_is_a_parameter():
    subs, payments = _delinquency_example()
    rows = monthly(subs, payments=payments, delinquency_days=60)
    # a is 60 days past due on April 10: out at the end of April; b paid before 60 days.
    assert [rows[m]["mrr"] for m in ("2024-02", "2024-03", "2024-04")] == [170, 170, 70]
    off = monthly(subs, payments=payments, delinquency_days=None)
    assert off["2024-06"]["mrr"] == 170


def test_without_invoice_information_mrr_comes_from_subscriptions_alone():
    subs, payments = _delinquency_example()
    bare = payments.drop("subscription_id", "invoice_id", "due_date")
    assert monthly(subs, payments=bare)["2024-03"]["mrr"] == 170
    assert monthly(subs)["2024-03"]["mrr"] == 170


def test_breakdown_and_filters_by_customer_dimension():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 5), "price": 100},
        {"cid": "b", "start": D(2024, 1, 5), "price": 30},
        {"cid": "c", "start": D(2024, 1, 5), "price": 7},
        {"cid": "ghost", "start": D(2024, 1, 5), "price": 1},  # not in customers
    )
    custs = customers(
        {"cid": "a", "segment": "Enterprise", "country": "DE"},
        {"cid": "b", "segment": "SMB", "country": "US"},
        {"cid": "c", "segment": "SMB", "country": "FR", "industry": "Retail"},
    )
    changes = mrr_changes(subs, custs, by="segment")
    rows = records(mrr_movements(changes, from_month="2024-01", to_month="2024-01"))
    assert {r["segment"]: r["mrr"] for r in rows} == {
        "Enterprise": 100,
        "SMB": 37,
        "(unknown)": 1,
    }
    filtered = mrr_changes(subs, custs, filters={"segment": ["SMB"], "country": ["US"]})
    rows = records(mrr_movements(filtered, from_month="2024-01", to_month="2024-01"))
    assert [(r["mrr"], r["customers"]) for r in rows] == [(30, 1)]
    by_industry = mrr_changes(subs, custs, by="industry")
    rows = records(mrr_movements(by_industry, from_month="2024-01", to_month="2024-01"))
    assert {r["industry"]: r["mrr"] for r in rows} == {"Retail": 7, "(unknown)": 131}


def test_plan_breakdown_treats_a_plan_change_as_leaving_one_plan_for_another():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 5), "end": D(2024, 2, 10), "price": 50, "plan": "Basic"},
        {"cid": "a", "start": D(2024, 2, 10), "price": 90, "plan": "Pro"},
    )
    total = monthly(subs, end="2024-02")
    assert total["2024-02"]["expansion"] == 40
    rows = records(
        mrr_movements(mrr_changes(subs, by="plan"), from_month="2024-02", to_month="2024-02")
    )
    plans = {r["plan"]: r for r in rows}
    assert plans["Basic"]["churn"] == 50
    assert plans["Pro"]["new"] == 90
    pro_only = monthly(subs, end="2024-02", filters={"plan": ["Pro"]})
    assert pro_only["2024-01"]["mrr"] == 0
    assert pro_only["2024-02"]["new"] == 90


def test_invalid_options_are_user_errors():
    subs = subscriptions({"cid": "a", "start": D(2024, 1, 5), "price": 1})
    with pytest.raises(InvalidMetricOption, match="region"):
        mrr_changes(subs, by="region")  # type: ignore[arg-type]
    with pytest.raises(InvalidMetricOption, match="customers table"):
        mrr_changes(subs, by="segment")
    with pytest.raises(InvalidMetricOption, match="YYYY-MM"):
        mrr_movements(mrr_changes(subs), from_month="2024-13", to_month="2024-12")
    with pytest.raises(InvalidMetricOption, match="after"):
        mrr_movements(mrr_changes(subs), from_month="2024-05", to_month="2024-01")
