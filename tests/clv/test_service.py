"""Lifetimes, survival counts and CLV from the small hand-made company (tests/conftest.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.clv import service
from revintel.core.errors import NotFoundError, OutsideTheData
from revintel.warehouse.cache import clear_all
from tests.conftest import generated_company


def test_lifetimes_from_hand_made_months() -> None:
    months = pl.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B", "B", "C", "C"],
            "month": ["2024-01", "2024-02", "2024-03", "2024-01", "2024-03", "2024-04",
                      "2024-03", "2024-04"],
            "mrr": [10.0, 10.0, 10.0, 5.0, 5.0, 5.0, 7.0, 8.0],
        }
    )  # fmt: skip
    life = {r["customer_id"]: r for r in service.lifetimes(months, "2024-04").to_dicts()}
    # A paid Jan–Mar and stopped: churned in period 3.
    assert (life["A"]["churned"], life["A"]["age"], life["A"]["current_mrr"]) == (True, 3, 0.0)
    # B skipped February: its lifetime ended after January (a return does not count).
    assert (life["B"]["churned"], life["B"]["age"]) == (True, 1)
    # C is paying in April: censored at age 1 with its April MRR.
    assert (life["C"]["churned"], life["C"]["age"], life["C"]["current_mrr"]) == (False, 1, 8.0)
    churned, censored = service.survival_counts(service.lifetimes(months, "2024-04"))
    assert churned.tolist() == [0, 1, 0, 1]
    assert censored.tolist() == [0, 1, 0, 0]


def test_survivors_of_one_cohort() -> None:
    months = pl.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B", "C"],
            "month": ["2024-01", "2024-02", "2024-03", "2024-01", "2024-02", "2024-01"],
            "mrr": [1.0] * 6,
        }
    )
    assert service.survivors_table(service.lifetimes(months, "2024-03")) == [3, 2, 1]


def test_small_company(loaded_context: AppContext) -> None:
    base = service.load_base(loaded_context, as_of="2024-12-31")
    life = {r["customer_id"]: r for r in base.lifetimes.to_dicts()}
    assert base.month == "2024-12"
    assert set(life) == {"C001", "C002", "C003", "C004"}  # C005 never paid
    assert (life["C002"]["churned"], life["C002"]["age"]) == (True, 5)  # Jan–May, ended June
    assert (life["C001"]["churned"], life["C001"]["age"]) == (False, 11)
    assert life["C004"]["plan"] == "Basic" and life["C003"]["segment"] == "Enterprise"
    assert life["C001"]["cohort"] == "2024-01" and life["C001"]["quarter"] == "2024-Q1"


def test_report_and_customer_value(loaded_context: AppContext) -> None:
    result = service.report(loaded_context, by="segment", as_of="2024-12-31")
    assert result.overall.customers == 4
    assert result.overall.alpha is None  # 4 customers: too few to fit
    assert "fewer than 5" in result.overall.reason
    assert {g.group for g in result.groups} == {"SMB", "Mid-Market", "Enterprise"}
    assert all(g.reason for g in result.groups)  # each has < 5 customers
    assert result.notes  # no costs loaded: 100% margin
    row = service.customer_value(loaded_context, "C001", as_of="2024-12-31")
    assert row.method == "sBG" and row.current_mrr == 49.0
    assert row.del_months is None  # no group could be fitted: no value rather than a guess
    churned = service.customer_value(loaded_context, "C002", as_of="2024-12-31")
    assert (churned.clv, churned.method) == (0.0, "churned")
    with pytest.raises(NotFoundError, match="C005"):
        service.customer_value(loaded_context, "C005", as_of="2024-12-31")


def test_whole_base_row_carries_the_months_simple_ltv(loaded_context: AppContext) -> None:
    # The all-customers row of the CLV table read "None" for simple LTV: the whole base's simple
    # LTV is the month's, and its row says so (the JSON keeps it under pricing only).
    result = service.report(loaded_context, by="segment", as_of="2024-12-31")
    assert result.pricing.simple_ltv is not None
    assert result.overall.simple_ltv == result.pricing.simple_ltv
    assert "simple_ltv" not in result.to_dict()["overall"]


def test_churn_probability_conversion() -> None:
    assert service.monthly_churn_probability(0.271, 3) == pytest.approx(1 - 0.729 ** (1 / 3))
    assert service.monthly_churn_probability(0.1, 1) == 0.1
    assert service.monthly_discount_rate(0.10) == pytest.approx(1.1 ** (1 / 12) - 1)


def test_predictions_drive_customer_clv(loaded_context: AppContext, tmp_path) -> None:
    from revintel.app.ingest import load_paths

    path = tmp_path / "predictions.csv"
    path.write_text("account_id,churn_risk_score\nC001,0.271\n")
    load_paths(loaded_context, [path], source="test")
    clear_all()
    row = service.customer_value(loaded_context, "C001", as_of="2024-12-31", prediction_horizon=3)
    p_month = 1 - 0.729 ** (1 / 3)
    d = 1.1 ** (1 / 12) - 1
    assert row.method == "churn model"
    assert row.monthly_churn_probability == pytest.approx(p_month)
    assert row.del_months == pytest.approx((1 + d) / (d + p_month))


def test_rfm_on_small_company(loaded_context: AppContext) -> None:
    result = service.rfm_analysis(loaded_context)
    assert result.as_of == "2024-03-05"
    assert result.customers.height == 4  # C004's failed attempt is not a payment
    assert result.segments["customers"].sum() == 4


def test_rfm_counts_annual_plans_as_current_on_a_generated_company(tmp_path: Path) -> None:
    # On the demo company 144 of 155 paid-up annual customers were "Hibernating" ("let them
    # rest"): the service reads each payment's billing period from subscriptions.
    with generated_company(tmp_path, customers=400, months=24, seed=5) as ctx:
        result = service.rfm_analysis(ctx)
        subs = pl.from_arrow(ctx.warehouse.table("subscriptions").to_pyarrow())
    assert isinstance(subs, pl.DataFrame)
    as_of = date.fromisoformat(result.as_of)
    annual = subs.filter(
        (pl.col("billing_period") == "annual")
        & (pl.col("start_date") <= as_of)
        & (pl.col("end_date").is_null() | (pl.col("end_date") > as_of))
    )["customer_id"]
    rows = result.customers.filter(pl.col("customer_id").is_in(annual.implode()))
    assert rows.height >= 20
    assert rows["recency_days"].to_list() == [0] * rows.height
    assert rows["r_score"].to_list() == [5] * rows.height
    lapsed = {"Hibernating", "Lost", "At Risk", "Can't Lose Them"}
    assert not set(rows["segment"].to_list()) & lapsed


def test_report_json_keeps_its_keys(loaded_context: AppContext) -> None:
    result = service.report(loaded_context, by="segment", as_of="2024-12-31")
    data = result.to_dict()
    assert list(data) == [
        "month", "as_of", "by", "discount_rate", "pricing", "overall", "groups", "curves", "notes",
    ]  # fmt: skip
    assert data["as_of"] == "2024-12-31" and data["by"] == "segment"
    assert list(data["discount_rate"]) == ["annual", "monthly"]
    assert "simple_ltv" not in data["overall"]
    assert list(data["groups"][0])[-2:] == ["reason", "simple_ltv"]
    assert data["pricing"]["simple_ltv_basis"] == result.pricing.basis
    assert list(data["curves"][0]) == ["group", "month", "observed", "fitted"]
    assert len(data["curves"]) == result.curves.height
    row = service.customer_value(loaded_context, "C001", as_of="2024-12-31").to_dict()
    assert list(row)[-3:] == ["month", "by", "prediction_horizon_months"]
    assert next(iter(row)) == "customer_id"


@pytest.mark.parametrize("day", ["2099-01-01", "2024-04-01", "2019-12-31"])
def test_rfm_refuses_a_day_the_payments_do_not_reach(loaded_context: AppContext, day: str) -> None:
    # The small company's successful payments run 2023-01..2024-03-05: a later day would call every
    # customer lapsed, an earlier one would score nobody.
    with pytest.raises(OutsideTheData, match=r"as_of: expected a day from .* to 2024-03-31"):
        service.rfm_analysis(loaded_context, as_of=day)
    assert service.rfm_analysis(loaded_context, as_of="2024-03-31").as_of == "2024-03-31"
