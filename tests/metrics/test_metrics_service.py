"""The metrics service on a loaded warehouse: periods, records, summary, caching, errors."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.core.config import Settings
from revintel.core.errors import NoDataError, OutsideTheData
from revintel.metrics import InvalidMetricOption
from revintel.metrics import service as metrics
from revintel.metrics.service import MetricQuery

COMPANY = {
    "customers.csv": """\
customer_id,signup_date,segment,country,acquisition_channel,industry
A,2024-01-05,SMB,US,Paid Ads,Retail
B,2024-01-10,SMB,DE,Referral,
C,2024-02-01,Enterprise,US,Partner,Finance
D,2024-02-01,Mid-Market,FR,Organic,
""",
    "subscriptions.csv": """\
subscription_id,customer_id,plan_type,start_date,end_date,monthly_price,discount_pct,discount_end_date
S1,A,Pro,2024-01-05,,100,,
S2,B,Basic,2024-01-10,2024-03-15,50,,
S3,C,Enterprise,2024-02-01,,1000,0.1,2024-03-31
S4,D,Basic,2024-02-20,,30,,
""",
    "payments.csv": """\
payment_id,customer_id,payment_date,amount,payment_status,subscription_id,invoice_id,due_date
P01,A,2024-01-05,100,Success,S1,I01,2024-01-05
P02,A,2024-02-05,100,Success,S1,I02,2024-02-05
P03,A,2024-03-05,100,Success,S1,I03,2024-03-05
P04,A,2024-04-05,100,Success,S1,I04,2024-04-05
P05,B,2024-01-10,50,Success,S2,I05,2024-01-10
P06,B,2024-02-10,50,Success,S2,I06,2024-02-10
P07,C,2024-02-01,900,Success,S3,I07,2024-02-01
P08,C,2024-03-01,900,Success,S3,I08,2024-03-01
P09,C,2024-04-01,1000,Success,S3,I09,2024-04-01
P10,D,2024-02-20,30,Failed,S4,I10,2024-02-20
P11,D,2024-03-20,30,Failed,S4,I11,2024-03-20
""",
    "trials.csv": """\
trial_id,customer_id,trial_start,trial_end
T1,D,2024-02-01,2024-02-14
T2,B,2024-04-10,2024-04-24
""",
    "costs.csv": """\
month,infra_cost,marketing_cost,support_cost
2024-01,10,200,5
2024-02,40,300,20
2024-03,50,100,50
""",
    "marketing_spend.csv": """\
month,channel,spend
2024-01,Paid Ads,120
2024-01,Referral,80
2024-02,Partner,250
2024-02,Organic,50
2024-03,Paid Ads,100
""",
}


def write_company(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def context(home: Path, warehouse_url: str | None = None) -> AppContext:
    ctx = AppContext(Settings(home=home, warehouse_url=warehouse_url, database_url=None))
    load_paths(ctx, [write_company(home.parent / f"{home.name}-csv", COMPANY)], source="test")
    return ctx


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    """The company in the default (Parquet) warehouse. As of 2024-04-10 (trial T2 starts)."""
    ctx = context(tmp_path_factory.mktemp("metrics-service") / "home")
    yield ctx
    ctx.close()


def test_period_defaults_to_the_complete_months_of_the_data(ctx):
    p = metrics.period(ctx)
    assert (p.from_month, p.to_month, p.as_of) == ("2024-01", "2024-03", date(2024, 4, 10))
    assert metrics.period(ctx, MetricQuery(start="2023-06", end="2025-01")).to_month == "2024-03"
    assert metrics.period(ctx, MetricQuery(as_of="2024-04-30")).to_month == "2024-04"
    with pytest.raises(OutsideTheData, match="outside the data"):
        metrics.period(ctx, MetricQuery(start="2025-01"))
    with pytest.raises(InvalidMetricOption, match="YYYY-MM-DD"):
        metrics.period(ctx, MetricQuery(as_of="April"))


def test_mrr_movements_records(ctx):
    rows = {r["month"]: r for r in metrics.mrr_movements(ctx)}
    assert list(rows) == ["2024-01", "2024-02", "2024-03"]
    assert [rows[m]["mrr"] for m in rows] == pytest.approx([150, 1080, 1000])
    # D's invoice due February 20 is 30 days past due on March 21: out at the end of March.
    march = rows["2024-03"]
    assert (march["churn"], march["churned_customers"], march["customers"]) == (80, 2, 2)
    assert march["logo_churn_rate"] == pytest.approx(0.5)
    assert march["logo_churn_rate_reason"] is None
    assert rows["2024-01"]["gross_mrr_churn_rate"] is None
    assert rows["2024-01"]["gross_mrr_churn_rate_reason"] == (
        "no MRR at the end of the previous month"
    )
    assert march["mrr_mom"] == pytest.approx(1000 / 1080 - 1)
    assert isinstance(march["customers"], int)
    patient = {r["month"]: r for r in metrics.mrr_movements(ctx, MetricQuery(delinquency_days=60))}
    assert patient["2024-03"]["mrr"] == pytest.approx(1030)


def test_a_month_does_not_depend_on_the_range_asked_for(ctx):
    whole = {r["month"]: r for r in metrics.mrr_movements(ctx)}
    part = metrics.mrr_movements(ctx, MetricQuery(start="2024-02", end="2024-02"))
    assert [r["month"] for r in part] == ["2024-02"]
    assert part[0] == whole["2024-02"]


def test_breakdowns_and_filters(ctx):
    rows = metrics.mrr_movements(ctx, MetricQuery(by="segment", start="2024-02", end="2024-02"))
    assert {r["segment"]: r["mrr"] for r in rows} == pytest.approx(
        {"SMB": 150, "Enterprise": 900, "Mid-Market": 30}
    )
    rows = metrics.mrr_movements(
        ctx, MetricQuery(filters={"country": ["US"]}, start="2024-02", end="2024-02")
    )
    assert rows[0]["mrr"] == pytest.approx(1000)
    rows = metrics.mrr_movements(ctx, MetricQuery(by="industry", start="2024-02", end="2024-02"))
    assert {r["industry"] for r in rows} == {"Retail", "Finance", "(unknown)"}
    with pytest.raises(InvalidMetricOption, match="expected one of"):
        metrics.mrr_movements(ctx, MetricQuery(by="region"))  # type: ignore[arg-type]


def test_customer_mrr_drill_down(ctx):
    rows = metrics.customer_mrr(ctx, customer_ids=["C"])
    assert [(r["month"], r["mrr"]) for r in rows] == [("2024-02", 900.0), ("2024-03", 900.0)]


def test_summary_of_the_latest_complete_month(ctx):
    headline = metrics.summary(ctx)
    assert headline.month == "2024-03"
    assert headline.as_of == date(2024, 4, 10)
    mrr = headline.metrics["mrr"]
    assert (mrr.value, mrr.previous) == pytest.approx((1000, 1080))
    assert mrr.change == pytest.approx(-80)
    assert mrr.change_pct == pytest.approx(1000 / 1080 - 1)
    assert mrr.definition == "docs/metrics.md#mrr"
    assert headline.metrics["arr"].value == pytest.approx(12_000)
    assert headline.metrics["revenue"].value == pytest.approx(1000)
    assert headline.metrics["revenue"].previous == pytest.approx(1050)
    assert headline.metrics["logo_churn_rate"].value == pytest.approx(0.5)
    assert headline.metrics["logo_churn_rate"].change_pct is None  # a rate: change only
    nrr = headline.metrics["nrr_t12m"]
    assert nrr.value is None
    assert nrr.reason == "no MRR 12 months earlier"


def test_retention_cohorts_and_conversion(ctx):
    rows = {r["month"]: r for r in metrics.retention(ctx)}
    assert rows["2024-03"]["nrr_monthly"] == pytest.approx(1000 / 1080)
    assert rows["2024-03"]["grr_t12m"] is None
    cells = metrics.cohorts(ctx)
    triangle = metrics.cohort_triangle(cells, "logo_retention")
    assert triangle == {"2024-01": [1.0, 1.0, 0.5], "2024-02": [1.0, 0.5]}
    conversion = {r["month"]: r for r in metrics.trial_conversion(ctx)}
    assert conversion["2024-02"]["trials"] == 1
    assert conversion["2024-02"]["converted"] == 1  # D subscribed 6 days after the trial
    assert conversion["2024-02"]["provisional"] is False
    assert conversion["2024-01"]["conversion_rate_reason"] == "no trials started in the month"


def test_finance_acquisition_and_ltv(ctx):
    income = {r["month"]: r for r in metrics.revenue(ctx)}
    assert [income[m]["revenue"] for m in income] == pytest.approx([150, 1050, 1000])
    assert income["2024-02"]["revenue_mom"] == pytest.approx(6.0)
    money = {r["month"]: r for r in metrics.financials(ctx)}
    assert money["2024-02"]["gross_margin"] == pytest.approx((1050 - 60) / 1050)
    assert money["2024-03"]["contribution"] == pytest.approx(1000 - 100 - 100)
    total = {r["month"]: r for r in metrics.acquisition(ctx)}
    assert total["2024-02"]["cac"] == pytest.approx(300 / 2)
    channels = {
        (r["acquisition_channel"], r["month"]): r
        for r in metrics.acquisition(ctx, MetricQuery(by="acquisition_channel"))
    }
    assert channels[("Paid Ads", "2024-01")]["cac"] == pytest.approx(120)
    assert channels[("Partner", "2024-02")]["cac"] == pytest.approx(250)
    assert channels[("Referral", "2024-02")]["cac_reason"] == (
        "no marketing spend reported for the month"
    )
    ltv = metrics.ltv(ctx)
    assert all(r["ltv"] is None for r in ltv)
    assert ltv[-1]["ltv_reason"] == "fewer than 6 months of logo churn before the month"


def test_results_follow_a_new_load(tmp_path):
    ctx = context(tmp_path / "home")
    try:
        assert metrics.mrr_movements(ctx)[-1]["mrr"] == pytest.approx(1000)
        extra = write_company(
            tmp_path / "more",
            {
                "subscriptions.csv": "subscription_id,customer_id,plan_type,start_date,"
                "end_date,monthly_price\nS5,A,Pro,2024-03-02,,25\n"
            },
        )
        load_paths(ctx, [extra], mode="append", source="test")
        assert metrics.mrr_movements(ctx)[-1]["mrr"] == pytest.approx(1025)
        assert metrics.summary(ctx).metrics["expansion"].value == pytest.approx(25)
    finally:
        ctx.close()


def test_a_database_warehouse_gives_the_same_records(ctx, tmp_path):
    other = context(tmp_path / "home", f"duckdb:///{tmp_path / 'wh.duckdb'}")
    try:
        for function in (metrics.mrr_movements, metrics.retention, metrics.cohorts):
            assert function(other) == function(ctx)
        assert metrics.summary(other) == metrics.summary(ctx)
    finally:
        other.close()


def test_missing_tables_are_reported(tmp_path):
    files = {k: v for k, v in COMPANY.items() if k in ("customers.csv", "subscriptions.csv")}
    home = tmp_path / "home"
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [write_company(tmp_path / "csv", files)], source="test")
        assert metrics.summary(ctx).metrics["revenue"].reason == "no payments loaded"
        with pytest.raises(NoDataError, match="trials"):
            metrics.trial_conversion(ctx)
        with pytest.raises(NoDataError, match="costs"):
            metrics.financials(ctx)
        # Without payments the as-of date is the latest subscription start (2024-02-20).
        assert metrics.period(ctx).to_month == "2024-01"
    finally:
        ctx.close()


def test_cached_intermediate_tables_stay_bounded(ctx):
    countries = ("US", "DE", "FR")  # every country of the data: 7 filters, and 1 on segment
    for size in (1, 2, 3):
        for picked in itertools.combinations(countries, size):
            metrics.mrr_movements(ctx, MetricQuery(filters={"country": list(picked)}))
    metrics.mrr_movements(ctx, MetricQuery(filters={"segment": ["SMB"]}))
    temp = [t for t in ctx.warehouse.con.list_tables() if t.startswith("_revintel_metrics_")]
    assert 0 < len(temp) <= 6


def test_summary_labels_revenue_cash_collected_beside_recognised_revenue(tmp_path):
    # A pays a year upfront in March: cash doubles while MRR falls (B left).
    files = dict(COMPANY)
    files["payments.csv"] = COMPANY["payments.csv"].replace(
        "P03,A,2024-03-05,100,", "P03,A,2024-03-05,1200,"
    )
    home = tmp_path / "home"
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        load_paths(ctx, [write_company(tmp_path / "csv", files)], source="test")
        headline = metrics.summary(ctx).metrics
        cash, recognised = headline["revenue"], headline["recognised_revenue"]
        assert cash.label == "Cash collected"
        assert cash.change_pct == pytest.approx(2100 / 1050 - 1)
        assert (recognised.label, recognised.unit) == ("Recognised revenue", "currency")
        assert (recognised.value, recognised.previous) == pytest.approx((1000, 1080))
        assert recognised.definition == "docs/metrics.md#recognised-revenue"
        assert cash.note is not None
        assert "Recognised revenue (MRR-based) $1.0k, -7.4%" in cash.note
        assert "billing timing" in cash.note and "not growth" in cash.note
    finally:
        ctx.close()


def test_cash_close_to_recognised_revenue_is_not_called_billing_timing(ctx):
    cash = metrics.summary(ctx).metrics["revenue"]  # -4.8% against MRR's -7.4%
    assert cash.note == "Recognised revenue (MRR-based) $1.0k, -7.4%."
