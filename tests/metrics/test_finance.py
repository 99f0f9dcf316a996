"""Revenue, gross margin, contribution, CAC, payback, LTV, growth (docs/metrics.md)."""

from __future__ import annotations

from datetime import date as D

import ibis
import pytest

from revintel.metrics import (
    acquisition_cost,
    growth,
    lifetime_value,
    movement_rates,
    mrr_changes,
    mrr_movements,
    profitability,
    revenue,
)

from .tables import (
    COST_SCHEMA,
    PAYMENT_SCHEMA,
    SPEND_SCHEMA,
    by_month,
    customers,
    records,
    subscriptions,
    table,
)


def payments():
    rows = [
        ("p1", "a", D(2024, 1, 5), 100.0, "Success"),
        ("p2", "a", D(2024, 1, 6), 100.0, "Failed"),
        ("p3", "b", D(2024, 1, 31), 50.0, "Success"),
        ("p4", "c", D(2024, 2, 1), 70.0, "Success"),
        ("p5", "c", D(2024, 3, 3), 70.0, "Failed"),
    ]
    names = ["payment_id", "customer_id", "payment_date", "amount", "payment_status"]
    return table([dict(zip(names, r, strict=True)) for r in rows], PAYMENT_SCHEMA)


def costs():
    rows = [
        {"month": "2024-01", "infra_cost": 20.0, "marketing_cost": 40.0, "support_cost": 10.0},
        {"month": "2024-02", "infra_cost": 14.0, "marketing_cost": 100.0, "support_cost": 7.0},
        # no row for 2024-03
        {"month": "2024-04", "infra_cost": 5.0, "marketing_cost": 5.0, "support_cost": 5.0},
    ]
    return table(rows, COST_SCHEMA)


def margins():
    return profitability(revenue(payments(), from_month="2024-01", to_month="2024-04"), costs())


def test_revenue_counts_only_successful_payments_in_the_month():
    rows = by_month(records(revenue(payments(), from_month="2024-01", to_month="2024-03")))
    assert rows["2024-01"]["revenue"] == 150
    assert rows["2024-01"]["successful_payments"] == 2
    assert rows["2024-02"]["revenue"] == 70
    assert rows["2024-03"]["revenue"] == 0


def test_revenue_by_customer_dimension():
    custs = customers({"cid": "a", "country": "US"}, {"cid": "b", "country": "DE"})
    expr = revenue(
        payments(), from_month="2024-01", to_month="2024-01", customers=custs, by="country"
    )
    assert {r["country"]: r["revenue"] for r in records(expr)} == {
        "US": 100,
        "DE": 50,
        "(unknown)": 0,
    }


def test_gross_margin_and_contribution_from_costs():
    rows = by_month(records(margins()))
    jan, feb, mar, apr = (rows[m] for m in ("2024-01", "2024-02", "2024-03", "2024-04"))
    assert jan["gross_profit"] == 120
    assert jan["gross_margin"] == pytest.approx(0.8)
    assert jan["contribution"] == 80
    assert feb["gross_margin"] == pytest.approx(0.7)
    assert feb["contribution"] == pytest.approx(70 - 21 - 100)
    assert mar["gross_margin"] is None
    assert mar["gross_margin_reason"] == "no costs reported for the month"
    assert mar["contribution"] is None
    assert mar["contribution_reason"] == "no costs reported for the month"
    assert apr["gross_margin"] is None
    assert apr["gross_margin_reason"] == "no revenue in the month"
    assert apr["contribution"] == -15


def acquisition_example():
    subs = subscriptions(
        {"cid": "a", "start": D(2024, 1, 5), "price": 100},
        {"cid": "b", "start": D(2024, 1, 8), "price": 50},
        {"cid": "c", "start": D(2024, 2, 8), "price": 70},
    )
    custs = customers(
        {"cid": "a", "channel": "Paid Ads"},
        {"cid": "b", "channel": "Paid Ads"},
        {"cid": "c", "channel": "Referral"},
    )
    spend = table(
        [
            {"month": "2024-01", "channel": "Paid Ads", "spend": 300.0},
            {"month": "2024-01", "channel": "Referral", "spend": 100.0},
            {"month": "2024-02", "channel": "Paid Ads", "spend": 200.0},
            {"month": "2024-02", "channel": "Referral", "spend": 50.0},
        ],
        SPEND_SCHEMA,
    )
    return subs, custs, spend


def test_cac_and_payback_by_channel_with_marketing_spend():
    subs, custs, spend = acquisition_example()
    changes = mrr_changes(subs, custs, by="acquisition_channel")
    movements = mrr_movements(changes, from_month="2024-01", to_month="2024-02")
    rows = records(acquisition_cost(movements, margins(), spend))
    cells = {(r["acquisition_channel"], r["month"]): r for r in rows}
    paid_jan = cells[("Paid Ads", "2024-01")]
    assert paid_jan["new_customers"] == 2
    assert paid_jan["cac"] == 150
    assert paid_jan["arpa"] == 75
    assert paid_jan["cac_payback_months"] == pytest.approx(150 / (75 * 0.8))
    ref_jan = cells[("Referral", "2024-01")]
    assert ref_jan["cac"] is None
    assert ref_jan["cac_reason"] == "no new customers in the month"
    assert ref_jan["cac_payback_months"] is None
    assert ref_jan["cac_payback_months_reason"].startswith("CAC undefined")
    assert cells[("Referral", "2024-02")]["cac"] == 50


def test_total_cac_uses_the_marketing_cost_of_costs():
    subs, _, _ = acquisition_example()
    movements = mrr_movements(mrr_changes(subs), from_month="2024-01", to_month="2024-03")
    rows = by_month(records(acquisition_cost(movements, margins())))
    assert rows["2024-01"]["cac"] == 20
    assert rows["2024-02"]["cac"] == 100
    assert rows["2024-03"]["cac"] is None
    assert rows["2024-03"]["cac_reason"] == "no marketing spend reported for the month"


def ltv_example(churning: bool):
    """Ten customers at 100 from January; with ``churning`` one leaves each month Feb-Jul."""
    rows = []
    for i in range(10):
        end = D(2024, 2 + i, 10) if churning and i < 6 else None
        rows.append({"cid": f"c{i}", "start": D(2024, 1, 3), "end": end, "price": 100})
    return subscriptions(*rows)


def flat_margins(value: float) -> ibis.Table:
    months = [f"2024-{m:02d}" for m in range(1, 9)]
    return ibis.memtable(
        {
            "month": months,
            "gross_margin": [value] * len(months),
            "gross_margin_reason": [None] * len(months),
        },
        schema={"month": "string", "gross_margin": "float64", "gross_margin_reason": "string"},
    )


def test_ltv_from_arpa_gross_margin_and_six_months_of_churn():
    movements = mrr_movements(
        mrr_changes(ltv_example(True)), from_month="2024-01", to_month="2024-08"
    )
    rates = movement_rates(movements)
    rows = by_month(records(lifetime_value(rates, flat_margins(0.8))))
    churn = [1 / 10, 1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5]  # Feb..Jul
    aug = rows["2024-08"]
    assert aug["arpa"] == 100
    assert aug["average_logo_churn_6m"] == pytest.approx(sum(churn) / 6)
    assert aug["ltv"] == pytest.approx(100 * 0.8 / (sum(churn) / 6))
    assert aug["ltv_basis"] == "gross_margin"
    jul = rows["2024-07"]  # January has no churn rate (nobody paid in December)
    assert jul["ltv"] is None
    assert jul["ltv_reason"] == "fewer than 6 months of logo churn before the month"
    arpa_basis = by_month(records(lifetime_value(rates, basis="arpa")))
    assert arpa_basis["2024-08"]["ltv"] == pytest.approx(100 / (sum(churn) / 6))


def test_ltv_is_null_with_a_reason_when_churn_is_zero():
    rates = movement_rates(
        mrr_movements(mrr_changes(ltv_example(False)), from_month="2024-01", to_month="2024-08")
    )
    aug = by_month(records(lifetime_value(rates, flat_margins(0.8))))["2024-08"]
    assert aug["ltv"] is None
    assert aug["ltv_reason"] == "no logo churn in the 6 months before: LTV is unbounded"


def test_growth_mom_yoy_and_cmgr():
    months = [f"{2023 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}" for m in range(1, 15)]
    values = [0.0, 100, 110, 121, 100, 100, 100, 100, 100, 100, 100, 100, 150, 200]
    series = ibis.memtable({"month": months, "x": values})
    rows = by_month(records(growth(series, "x", cmgr_months=3)))
    assert rows["2023-01"]["x_mom"] is None
    assert rows["2023-01"]["x_mom_reason"] == "no value the month before"
    assert rows["2023-02"]["x_mom"] is None
    assert rows["2023-02"]["x_mom_reason"] == "the value the month before is 0"
    assert rows["2023-03"]["x_mom"] == pytest.approx(0.1)
    assert rows["2023-05"]["x_cmgr"] == pytest.approx(0.0)  # 100 -> 100 over 3 months
    assert rows["2023-04"]["x_cmgr"] is None  # 3 months before is 0
    assert rows["2024-02"]["x_yoy"] == pytest.approx(200 / 100 - 1)
    assert rows["2024-01"]["x_yoy"] is None
    assert rows["2024-01"]["x_yoy_reason"] == "the value 12 months before is 0"
    assert rows["2024-02"]["x_cmgr"] == pytest.approx((200 / 100) ** (1 / 3) - 1)


def test_revenue_less_three_cost_lines_is_not_called_operating_profit():
    from revintel.metrics.definitions import DEFINITIONS

    columns = margins().columns
    assert "contribution" in columns and "operating_profit" not in columns
    label = DEFINITIONS["contribution"].label
    assert "operating profit" not in label.lower()
    assert "infra, support and marketing" in label
