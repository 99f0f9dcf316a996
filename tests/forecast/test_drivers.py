"""The statistical detector by parts (revintel.forecast.drivers) on synthetic companies.

Each synthetic month is built customer by customer the way the model assumes (Poisson counts,
varied amounts), so an ordinary history should raise no flag, and planted events should.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from revintel.forecast.drivers import (
    binomial_z,
    collection_flags,
    critical_value,
    driver_anomalies,
    movement_flags,
)
from revintel.forecast.service import metric_anomalies

MONTHS = 36


def _sum(sizes: np.ndarray) -> tuple[float, float, float, int]:
    return float(sizes.sum()), float((sizes**2).sum()), float(sizes.max(initial=0.0)), sizes.size


def mrr_rows(seed: int, *, events: dict[int, str] | None = None) -> list[dict]:
    """A company of ~2,000 paying customers: trials convert, 2% churn a month, some expand."""
    events = events or {}
    rng = np.random.default_rng(seed)
    prices = rng.lognormal(np.log(120), 0.7, 2000)
    mrr, rows = float(prices.sum()), []
    customers = 2000
    for t in range(MONTHS):
        month = f"{2023 + t // 12}-{t % 12 + 1:02d}"
        trials = rng.poisson(300 * 1.01**t)
        moves = {
            "new": rng.lognormal(np.log(120), 0.7, rng.binomial(trials, 0.25)),
            "expansion": rng.lognormal(np.log(30), 0.6, rng.poisson(0.03 * customers)),
            "contraction": rng.lognormal(np.log(20), 0.6, rng.poisson(0.01 * customers)),
            "churn": rng.lognormal(np.log(120), 0.7, rng.binomial(customers, 0.02)),
            "reactivation": rng.lognormal(np.log(100), 0.7, rng.poisson(5)),
        }
        event = events.get(t)
        if event == "mass churn":
            moves["churn"] = np.concatenate(
                [moves["churn"], rng.lognormal(np.log(120), 0.7, int(0.12 * customers))]
            )
        elif event == "big customer leaves":
            moves["churn"] = np.append(moves["churn"], 0.2 * mrr)
        elif event == "masked mass churn":
            extra = rng.lognormal(np.log(120), 0.7, int(0.12 * customers))
            moves["churn"] = np.concatenate([moves["churn"], extra])
            moves["new"] = np.concatenate([moves["new"], extra * 1.05])  # net MRR as usual
        elif event == "price increase":
            moves["expansion"] = np.concatenate(
                [moves["expansion"], rng.lognormal(np.log(30), 0.3, int(0.5 * customers))]
            )
        row = {"month": month, "mrr_previous": mrr, "customers_previous": customers}
        counts = {"new": "new_customers", "expansion": "expansion_customers",
                  "contraction": "contraction_customers", "churn": "churned_customers",
                  "reactivation": "reactivated_customers"}  # fmt: skip
        for kind, sizes in moves.items():
            total, squares, largest, n = _sum(sizes)
            row.update({kind: total, f"{kind}_sq": squares, f"{kind}_max": largest})
            row[counts[kind]] = n
        mrr += row["new"] + row["expansion"] + row["reactivation"]
        mrr -= row["contraction"] + row["churn"]
        customers += row["new_customers"] + row["reactivated_customers"]
        customers -= row["churned_customers"]
        row.update(mrr=mrr, trials_ending=float(trials))
        rows.append(row)
    return rows


def revenue_rows(seed: int, *, events: dict[int, str] | None = None) -> list[dict]:
    """Invoices first attempted each month; 3% of first attempts fail."""
    events = events or {}
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(MONTHS):
        amounts = rng.lognormal(np.log(300), 1.0, rng.poisson(800 * 1.02**t))
        failing = rng.random(amounts.size) < 0.03
        if events.get(t) == "outage":
            failing |= rng.random(amounts.size) < 0.3
        if events.get(t) == "big invoice fails":
            amounts = np.append(amounts, 0.5 * amounts.sum())
            failing = np.append(failing, True)
        rows.append(
            {
                "month": f"{2023 + t // 12}-{t % 12 + 1:02d}",
                "revenue": float(amounts[~failing].sum()),
                "invoices": float(amounts.size),
                "invoiced": float(amounts.sum()),
                "failed_invoices": float(failing.sum()),
                "failed_amount": float(amounts[failing].sum()),
            }
        )
    return rows


@pytest.mark.parametrize("seed", range(5))
def test_an_ordinary_history_raises_no_flag(seed):
    assert movement_flags(mrr_rows(seed), start=0) == []
    assert collection_flags(revenue_rows(seed), start=0) == []


def test_a_mass_churn_is_flagged_in_its_month_with_its_cause():
    found = driver_anomalies(mrr_rows(1, events={20: "mass churn"}), "mrr", label="MRR")
    assert [(a.month, a.driver, a.direction) for a in found] == [("2024-09", "churn", "down")]
    anomaly = found[0]
    assert anomaly.reason.startswith("MRR: churned MRR ")
    assert "95% band for the whole history" in anomaly.reason
    assert anomaly.driver_actual > anomaly.driver_expected
    assert anomaly.size < -0.05  # more than 5% of the previous month's MRR lost beyond expectation
    # The MRR it would have had with churn as expected is above what it had.
    assert anomaly.expected > anomaly.actual
    assert anomaly.lower < anomaly.expected < anomaly.upper


def test_a_mass_churn_hidden_by_a_strong_month_of_new_business_is_still_found():
    rows = mrr_rows(2, events={24: "masked mass churn"})
    net = [r["mrr"] / r["mrr_previous"] - 1 for r in rows]
    assert abs(net[24]) < 0.02  # the headline barely moves
    drivers = {a.driver for a in driver_anomalies(rows, "mrr", label="MRR") or []}
    assert drivers == {"churn", "new"}


def test_one_large_customer_leaving_is_not_a_company_wide_anomaly():
    rows = mrr_rows(3, events={22: "big customer leaves"})
    assert rows[22]["churn"] > 0.2 * rows[22]["mrr_previous"]
    assert movement_flags(rows, start=0) == []


def test_a_flagged_month_does_not_make_the_months_after_it_look_anomalous():
    found = movement_flags(mrr_rows(4, events={15: "price increase"}), start=0)
    assert [(f.index, f.driver) for f in found] == [(15, "expansion")]


def test_a_payment_outage_is_flagged_and_one_large_failed_invoice_is_not():
    rows = revenue_rows(5, events={18: "outage", 28: "big invoice fails"})
    assert rows[28]["failed_amount"] > 0.3 * rows[28]["invoiced"]
    found = driver_anomalies(rows, "revenue", label="Revenue")
    assert [(a.month, a.driver, a.direction) for a in found] == [("2024-07", "collections", "down")]
    assert "invoices failed on the first attempt" in found[0].reason
    assert found[0].expected > found[0].actual  # revenue had the usual share failed


def test_metric_anomalies_judge_by_parts_only_when_the_rows_carry_them():
    rows = mrr_rows(1, events={20: "mass churn"})
    by_parts = [a for a in metric_anomalies(rows, "mrr") if a.detector == "statistical"]
    assert [(a.month, a.driver) for a in by_parts] == [("2024-09", "churn")]
    plain = [{"month": r["month"], "mrr": r["mrr"]} for r in rows]
    alone = [a for a in metric_anomalies(plain, "mrr") if a.detector == "statistical"]
    assert all(a.driver is None for a in alone)
    assert driver_anomalies(plain, "mrr", label="MRR") is None
    # Asking for a model judges the series on its own even when the parts are there.
    modelled = metric_anomalies(rows, "mrr", model="SeasonalNaive")
    assert all(a.driver is None for a in modelled)


def test_the_band_is_for_the_whole_history():
    assert critical_value(1, 95) == pytest.approx(1.959964, abs=1e-5)
    # 30 tests at 95% together: each at 0.95 ** (1/30).
    assert critical_value(30, 95) == pytest.approx(
        -__import__("statistics").NormalDist().inv_cdf((1 - 0.95 ** (1 / 30)) / 2), rel=1e-9
    )
    assert critical_value(120, 95) > critical_value(30, 95) > critical_value(1, 95)


def test_binomial_score_is_exact_and_finite():
    assert binomial_z(30, 1000, 0.03) == pytest.approx(0, abs=0.2)
    assert binomial_z(10, 1000, 0.03) < -3
    extreme = binomial_z(400, 1000, 0.03)
    assert math.isfinite(extreme) and extreme > 30
