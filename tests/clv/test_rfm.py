"""RFM on a hand-made payments frame."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from revintel.clv.rfm import SEGMENT_MAP, SEGMENTS, billed_months, rfm_scores, rfm_segments


def _payments() -> pl.DataFrame:
    rows = []
    # A..E: ever fewer payments, ever longer ago; F: only a failed payment (left out). Without
    # subscriptions a payment pays for one month: A (paid today) is current, B lapsed 11 days ago.
    plan = {"A": (12, 0), "B": (9, 40), "C": (6, 60), "D": (3, 150), "E": (1, 400)}
    for customer, (count, days_ago) in plan.items():
        for i in range(count):
            rows.append(
                (
                    customer,
                    date.fromordinal(date(2024, 12, 31).toordinal() - days_ago - 30 * i),
                    100.0,
                    "Success",
                )
            )
    rows.append(("F", date(2024, 12, 1), 100.0, "Failed"))
    return pl.DataFrame(
        rows, schema=["customer_id", "payment_date", "amount", "payment_status"], orient="row"
    )


def test_scores_and_segments() -> None:
    scores = rfm_scores(_payments(), date(2024, 12, 31))
    assert scores["customer_id"].to_list() == ["A", "B", "C", "D", "E"]
    by_id = {r["customer_id"]: r for r in scores.to_dicts()}
    assert by_id["A"]["recency_days"] == 0 and by_id["A"]["frequency"] == 12
    assert by_id["B"]["paid_through"] == date(2024, 12, 20) and by_id["B"]["recency_days"] == 11
    assert by_id["A"]["monetary"] == 1200.0
    assert by_id["E"]["frequency"] == 0  # last paid 400 days ago: outside the 12 months
    assert [by_id[c]["r_score"] for c in "ABCDE"] == [5, 4, 3, 2, 1]
    assert [by_id[c]["f_score"] for c in "ABCDE"] == [5, 4, 3, 2, 1]
    assert by_id["A"]["segment"] == "Champions"
    assert by_id["B"]["segment"] == "Loyal"
    assert by_id["C"]["segment"] == "Need Attention"
    assert by_id["D"]["segment"] == "Hibernating"
    assert by_id["E"]["segment"] == "Lost"
    assert by_id["A"]["rfm_score"] == "555"


def test_segment_summary() -> None:
    summary = rfm_segments(rfm_scores(_payments(), date(2024, 12, 31)))
    assert summary["segment"].to_list() == list(SEGMENTS)
    assert summary["customers"].sum() == 5
    assert summary["monetary_share"].sum() == pytest.approx(1.0)
    assert summary.filter(pl.col("segment") == "Champions")["monetary_share"][0] == pytest.approx(
        0.4
    )
    assert summary["strategy"].null_count() == 0


def test_map_covers_every_score() -> None:
    assert len(SEGMENT_MAP) == 25
    assert set(SEGMENT_MAP.values()) == set(SEGMENTS)
    assert SEGMENT_MAP[(5, 1)] == "New" and SEGMENT_MAP[(1, 5)] == "Can't Lose Them"


def _subscription_company() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ten customers as of 2024-12-31: M0..M6 pay 100 a month (M0..M3 to date, M4..M6 stopped
    in the spring); A1 and A2 pay 1,200 a year and are paid up (A2 has a payment naming no
    subscription); X cancelled its annual plan in June."""
    payments, subs = [], []
    for n in range(7):
        last = 12 if n < 4 else n - 1  # last month paid: M4 March, M5 April, M6 May
        for month in range(1, last + 1):
            payments.append((f"M{n}", date(2024, month, 5), 100.0, "Success", f"S-M{n}"))
        end = None if n < 4 else date(2024, last + 1, 5)
        subs.append((f"S-M{n}", f"M{n}", date(2024, 1, 5), end, "monthly", 100.0))
    payments.append(("A1", date(2024, 2, 10), 1200.0, "Success", "S-A1"))
    payments.append(("A1", date(2023, 2, 10), 1200.0, "Success", "S-A1"))
    subs.append(("S-A1", "A1", date(2023, 2, 10), None, "annual", 100.0))
    payments.append(("A2", date(2024, 3, 1), 1200.0, "Success", None))
    subs.append(("S-A2", "A2", date(2024, 3, 1), None, "annual", 100.0))
    payments.append(("X", date(2024, 1, 15), 1200.0, "Success", "S-X"))
    subs.append(("S-X", "X", date(2024, 1, 15), date(2024, 6, 15), "annual", 100.0))
    pay = pl.DataFrame(
        payments,
        schema=["customer_id", "payment_date", "amount", "payment_status", "subscription_id"],
        orient="row",
    )
    sub = pl.DataFrame(
        subs,
        schema=["subscription_id", "customer_id", "start_date", "end_date", "billing_period",
                "monthly_price"],
        orient="row",
    )  # fmt: skip
    return pay, sub


def test_a_paid_up_annual_plan_is_current_not_hibernating() -> None:
    payments, subscriptions = _subscription_company()
    scores = rfm_scores(payments, date(2024, 12, 31), subscriptions)
    by_id = {r["customer_id"]: r for r in scores.to_dicts()}
    for annual in ("A1", "A2"):
        row = by_id[annual]
        # One payment ten months ago is twelve billed months: as recent as a monthly payer.
        assert row["recency_days"] == 0 and row["r_score"] == 5, row
        assert row["segment"] not in {"Hibernating", "Lost", "At Risk", "Can't Lose Them"}, row
    assert by_id["A1"]["frequency"] == 12 and by_id["A1"]["monetary"] == pytest.approx(1200.0)
    assert by_id["A1"]["paid_through"] == date(2025, 2, 9)
    assert by_id["A1"]["segment"] == by_id["M0"]["segment"] == "Champions"
    # A2's payment names no subscription: its customer's annual plan is used; 10 months billed.
    assert by_id["A2"]["frequency"] == 10 and by_id["A2"]["monetary"] == pytest.approx(1000.0)
    # The cancelled annual plan stops at its end: lapsed since 14 June, five months billed.
    assert by_id["X"]["paid_through"] == date(2024, 6, 14)
    assert by_id["X"]["recency_days"] == (date(2024, 12, 31) - date(2024, 6, 14)).days
    assert by_id["X"]["frequency"] == 5 and by_id["X"]["r_score"] <= 2
    # Lapsed monthly payers are scored below every current customer.
    assert max(by_id[c]["r_score"] for c in ("M4", "M5", "M6", "X")) < 5


def test_billed_months_spread_a_payment_over_its_period() -> None:
    payments, subscriptions = _subscription_company()
    paid = payments.filter(pl.col("customer_id") == "A1")
    months = billed_months(paid, subscriptions).sort("billed_month")
    assert months.height == 24
    assert months["amount"].to_list() == [100.0] * 24
    assert months["billed_month"][12] == date(2024, 2, 10)
    assert months["paid_until"][-1] == date(2025, 2, 9)
    # Without subscriptions each payment is one month.
    alone = billed_months(paid, None)
    assert alone.height == 2 and alone["amount"].to_list() == [1200.0, 1200.0]
