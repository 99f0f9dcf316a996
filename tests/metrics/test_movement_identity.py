"""Property tests: on random subscription sets (with discounts and failed payments),

* ``MRR(M) = MRR(M-1) + new + reactivation + expansion - contraction - churn`` every month;
* the change-based engine agrees with a direct, customer-month by customer-month reading of the
  definitions in docs/metrics.md (a reference written here in plain Python), and with
  :func:`~revintel.metrics.mrr.customer_mrr`, the literal join of subscriptions to the months.
"""

from __future__ import annotations

import calendar
import math
from datetime import date, timedelta
from typing import Any

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revintel.metrics import (
    cohort_retention,
    customer_mrr,
    movement_rates,
    mrr_changes,
    mrr_movements,
    trailing_retention,
)

from .tables import PAYMENT_SCHEMA, SUBSCRIPTION_SCHEMA, frame

FIRST, LAST = (2023, 1), (2024, 12)
DAY0 = date(2022, 11, 1)
SPAN = (date(2025, 2, 1) - DAY0).days
MONTHS = [(y, m) for y in (2023, 2024) for m in range(1, 13)]
DELINQUENCY_DAYS = 30


def month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def label(y: int, m: int) -> str:
    return f"{y}-{m:02d}"


@st.composite
def company(draw):
    subs, payments = [], []
    for i in range(draw(st.integers(1, 9))):
        start = DAY0 + timedelta(days=draw(st.integers(0, SPAN)))
        length = draw(st.one_of(st.none(), st.integers(0, 500)))
        discount = draw(st.sampled_from([None, 0.1, 0.25, 0.5, 1.0]))
        discount_end = None
        if discount is not None and draw(st.booleans()):
            discount_end = start + timedelta(days=draw(st.integers(-10, 300)))
        sub = {
            "sid": f"s{i}",
            "cid": f"c{draw(st.integers(0, 4))}",
            "start": start,
            "end": None if length is None else start + timedelta(days=length),
            "price": draw(st.integers(0, 50_000)) / 100,  # whole cents
            "plan": draw(st.sampled_from(["Basic", "Pro"])),
            "discount": discount,
            "discount_end": discount_end,
        }
        subs.append(sub)
        for k in range(draw(st.integers(0, 2))):
            due = start + timedelta(days=draw(st.integers(0, 400)))
            paid_after = draw(st.one_of(st.none(), st.integers(0, 90)))
            invoice = f"{sub['sid']}-i{k}"
            payments.append((f"{invoice}-f", sub, due, "Failed", invoice, due))
            if paid_after is not None:
                paid = due + timedelta(days=paid_after)
                payments.append((f"{invoice}-s", sub, paid, "Success", invoice, due))
    return subs, payments


def subscriptions_frame(subs) -> pd.DataFrame:
    rows = [
        {
            "subscription_id": sub["sid"],
            "customer_id": sub["cid"],
            "plan_type": sub["plan"],
            "start_date": sub["start"],
            "end_date": sub["end"],
            "monthly_price": sub["price"],
            "discount_pct": sub["discount"],
            "discount_end_date": sub["discount_end"],
        }
        for sub in subs
    ]
    return frame(rows, SUBSCRIPTION_SCHEMA)


def payments_frame(payments) -> pd.DataFrame:
    rows = [
        {
            "payment_id": pid,
            "customer_id": sub["cid"],
            "payment_date": day,
            "amount": sub["price"],
            "payment_status": status,
            "subscription_id": sub["sid"],
            "invoice_id": invoice,
            "due_date": due,
        }
        for pid, sub, day, status, invoice, due in payments
    ]
    return frame(rows, PAYMENT_SCHEMA)


class Engine:
    """The metric expressions compiled once over two DuckDB tables whose rows each example
    replaces, so an example costs a few milliseconds instead of an Ibis compilation."""

    def __init__(self) -> None:
        self.con = ibis.duckdb.connect()
        for name, schema in (("subscriptions", SUBSCRIPTION_SCHEMA), ("payments", PAYMENT_SCHEMA)):
            self.con.create_table(name, schema=ibis.schema(schema))
        subs, payments = self.con.table("subscriptions"), self.con.table("payments")
        changes = mrr_changes(subs, payments=payments, delinquency_days=DELINQUENCY_DAYS)
        months = {"from_month": label(*FIRST), "to_month": label(*LAST)}
        self.expressions = {
            "movements": movement_rates(mrr_movements(changes, **months)),
            "customer_mrr": customer_mrr(subs, payments=payments, **months),
            "cohorts": cohort_retention(changes, **months),
            "trailing": trailing_retention(changes, from_month="2024-01", to_month="2024-12"),
        }
        # Executing once registers the in-memory month spines the SQL refers to.
        for expr in self.expressions.values():
            expr.to_pandas()
        self.sql = {name: self.con.compile(expr) for name, expr in self.expressions.items()}

    def run(self, name: str, subs, payments) -> list[dict[str, Any]]:
        raw = self.con.con
        for table_name, rows in (
            ("subscriptions", subscriptions_frame(subs)),
            ("payments", payments_frame(payments)),
        ):
            raw.execute(f"DELETE FROM {table_name}")
            if len(rows):
                raw.register("_rows", rows)
                raw.execute(f"INSERT INTO {table_name} SELECT * FROM _rows")
                raw.unregister("_rows")
        result = raw.sql(self.sql[name]).df()
        return [
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
            for row in result.to_dict("records")
        ]


ENGINE: Engine | None = None


def engine() -> Engine:
    global ENGINE
    if ENGINE is None:
        ENGINE = Engine()
    return ENGINE


def reference_mrr(subs, payments) -> dict[tuple[str, tuple[int, int]], int]:
    """Customer MRR in millionths per month, read straight from docs/metrics.md."""
    invoices: dict[tuple[str, str], dict] = {}
    for _pid, sub, day, status, invoice, due in payments:
        entry = invoices.setdefault((sub["sid"], invoice), {"due": due, "paid": None})
        if status == "Success" and (entry["paid"] is None or day < entry["paid"]):
            entry["paid"] = day
    mrr: dict[tuple[str, tuple[int, int]], int] = {}
    months = [(2022, 11), (2022, 12), *MONTHS]
    for y, m in months:
        end = month_end(y, m)
        for sub in subs:
            active = sub["start"] <= end and (sub["end"] is None or sub["end"] > end)
            late = any(
                sid == sub["sid"]
                and inv["due"] + timedelta(days=DELINQUENCY_DAYS) <= end
                and (inv["paid"] is None or inv["paid"] > end)
                for (sid, _), inv in invoices.items()
            )
            if not active or late:
                continue
            discount = sub["discount"] or 0.0
            applies = sub["discount_end"] is None or sub["discount_end"] >= end
            price = sub["price"] * (1.0 - discount) if applies else sub["price"]
            key = (sub["cid"], (y, m))
            mrr[key] = mrr.get(key, 0) + round(price * 1_000_000)
    return mrr


def reference_movements(mrr) -> dict[str, dict[str, float]]:
    customers = {c for c, _ in mrr}
    months = [(2022, 11), (2022, 12), *MONTHS]
    out = {}
    for i, month in enumerate(months[1:], start=1):
        row = dict.fromkeys(("new", "expansion", "contraction", "churn", "reactivation"), 0)
        for c in customers:
            now, before = mrr.get((c, month), 0), mrr.get((c, months[i - 1]), 0)
            earlier = any(mrr.get((c, months[j]), 0) > 0 for j in range(i))
            if before == 0 and now > 0:
                row["reactivation" if earlier else "new"] += now
            elif before > 0 and now == 0:
                row["churn"] += before
            elif before > 0 and now > before:
                row["expansion"] += now - before
            elif before > 0 and now < before:
                row["contraction"] += before - now
        row["mrr"] = sum(v for (c, mm), v in mrr.items() if mm == month)
        out[label(*month)] = {k: v / 1_000_000 for k, v in row.items()}
    return out


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(company())
def test_movements_identity_and_agreement_with_the_definitions(data):
    subs_rows, payment_rows = data
    rows = engine().run("movements", subs_rows, payment_rows)
    assert [r["month"] for r in rows] == [label(*m) for m in MONTHS]
    expected = reference_movements(reference_mrr(subs_rows, payment_rows))
    for row in rows:
        identity = (
            row["mrr_previous"]
            + row["new"]
            + row["reactivation"]
            + row["expansion"]
            - row["contraction"]
            - row["churn"]
        )
        assert row["mrr"] == pytest.approx(identity, abs=1e-6)
        for key, value in expected[row["month"]].items():
            assert row[key] == pytest.approx(value, abs=1e-6), (row["month"], key)
        for rate in ("logo_churn_rate", "gross_mrr_churn_rate", "nrr_monthly", "quick_ratio"):
            assert (row[rate] is None) == (row[f"{rate}_reason"] is not None)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(company())
def test_change_intervals_agree_with_the_literal_customer_month_join(data):
    subs_rows, payment_rows = data
    literal = engine().run("customer_mrr", subs_rows, payment_rows)
    reference = reference_mrr(subs_rows, payment_rows)
    expected = {
        (c, label(*m)): v / 1_000_000 for (c, m), v in reference.items() if v > 0 and m >= FIRST
    }
    assert {(r["customer_id"], r["month"]): r["mrr"] for r in literal} == pytest.approx(expected)
    # Cohort sizes and trailing retention from intervals, against the same customer-months.
    first_paid: dict[str, str] = {}
    for (c, m), v in sorted(reference.items(), key=lambda kv: kv[0][1]):
        if v > 0:
            first_paid.setdefault(c, label(*m))
    cells = engine().run("cohorts", subs_rows, payment_rows)
    for cell in cells:
        members = [c for c, first in first_paid.items() if first == cell["cohort"]]
        active = [c for c in members if expected.get((c, cell["month"]), 0) > 0]
        assert cell["customers"] == len(active)
        assert cell["mrr"] == pytest.approx(sum(expected[(c, cell["month"])] for c in active))
    trailing = engine().run("trailing", subs_rows, payment_rows)
    for row in trailing:
        year_ago = f"{int(row['month'][:4]) - 1}{row['month'][4:]}"
        base = {c: v for (c, m), v in expected.items() if m == year_ago}
        kept = [expected.get((c, row["month"]), 0) for c in base]
        assert row["base_mrr"] == pytest.approx(sum(base.values()))
        assert row["retained_mrr"] == pytest.approx(sum(kept))
        capped = sum(min(k, b) for k, b in zip(kept, base.values(), strict=True))
        assert row["retained_mrr_capped"] == pytest.approx(capped)
