"""The same metric expressions give the same results on DuckDB, PostgreSQL and PySpark.

Two layers are checked on every backend:

* the pure metric functions on a small company with discounts, failed payments, trials, costs
  and marketing spend (loaded as tables of each backend), compared with DuckDB;
* the service on a warehouse loaded through ``load_paths`` (the shared ``backend`` fixture of
  ``tests/backends``), compared with hand-worked values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date as D

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from revintel.core.errors import InvalidOption
from revintel.metrics import (
    acquisition_cost,
    cohort_retention,
    customer_mrr,
    data_period,
    growth,
    lifetime_value,
    movement_rates,
    mrr_changes,
    mrr_movements,
    profitability,
    revenue,
    trailing_retention,
    trial_conversion,
)
from revintel.metrics import service as metrics_service
from revintel.metrics.service import MetricQuery
from tests.backends.conftest import (  # noqa: F401 (fixtures)
    backend,
    company_folder,
    loaded_backend,
    spark_session,
)

from .tables import (
    COST_SCHEMA,
    PAYMENT_SCHEMA,
    SPEND_SCHEMA,
    TRIAL_SCHEMA,
    customers,
    subscriptions,
    table,
)

FROM, TO = "2023-01", "2024-06"


def company() -> dict[str, ibis.Table]:
    subs = subscriptions(
        {"sid": "s1", "cid": "a", "start": D(2023, 1, 5), "price": 100, "plan": "Pro"},
        {"sid": "s2", "cid": "a", "start": D(2023, 4, 2), "end": D(2023, 9, 1), "price": 50},
        {"sid": "s3", "cid": "b", "start": D(2023, 1, 20), "end": D(2023, 6, 10), "price": 80},
        {"sid": "s4", "cid": "b", "start": D(2023, 10, 1), "price": 90},
        {"sid": "s5", "cid": "c", "start": D(2023, 2, 1), "price": 200, "discount": 0.25,
         "discount_end": D(2023, 7, 31), "plan": "Enterprise"},
        {"sid": "s6", "cid": "d", "start": D(2023, 3, 3), "price": 1000 / 12,
         "billing": "annual"},
        {"sid": "s7", "cid": "e", "start": D(2023, 5, 5), "end": D(2023, 5, 25), "price": 10},
        {"sid": "s8", "cid": "f", "start": D(2023, 6, 1), "price": 40},
        {"sid": "s9", "cid": "g", "start": D(2024, 1, 15), "price": 60, "plan": "Pro"},
    )  # fmt: skip
    custs = customers(
        {"cid": "a", "segment": "SMB", "country": "US", "channel": "Paid Ads"},
        {"cid": "b", "segment": "SMB", "country": "DE", "channel": "Referral"},
        {"cid": "c", "segment": "Enterprise", "country": "US", "channel": "Partner"},
        {"cid": "d", "segment": "Mid-Market", "country": "FR", "channel": "Paid Ads"},
        {"cid": "e", "segment": "SMB", "country": "US", "channel": "Organic"},
        {"cid": "f", "segment": "SMB", "country": "GB", "channel": "Organic"},
        {"cid": "g", "segment": "Enterprise", "country": "US", "channel": "Referral"},
    )
    pay = []
    for i, (cid, sid, day, amount, status, due) in enumerate(
        [
            ("a", "s1", D(2023, 1, 5), 100.0, "Success", D(2023, 1, 5)),
            ("b", "s3", D(2023, 1, 20), 80.0, "Success", D(2023, 1, 20)),
            ("c", "s5", D(2023, 2, 1), 150.0, "Success", D(2023, 2, 1)),
            # f fails in July, pays in September: out of MRR at the end of August
            ("f", "s8", D(2023, 7, 1), 40.0, "Failed", D(2023, 7, 1)),
            ("f", "s8", D(2023, 7, 8), 40.0, "Failed", D(2023, 7, 1)),
            ("f", "s8", D(2023, 9, 12), 40.0, "Success", D(2023, 7, 1)),
            ("d", "s6", D(2023, 3, 3), 1000.0, "Success", D(2023, 3, 3)),
            ("g", "s9", D(2024, 1, 15), 60.0, "Success", D(2024, 1, 15)),
            ("a", "s1", D(2024, 6, 28), 100.0, "Success", D(2024, 6, 5)),
        ]
    ):
        pay.append(
            {
                "payment_id": f"p{i}",
                "customer_id": cid,
                "payment_date": day,
                "amount": amount,
                "payment_status": status,
                "subscription_id": sid,
                "invoice_id": f"{sid}-{due}",
                "due_date": due,
            }
        )
    trials = table(
        [
            {"trial_id": "t1", "customer_id": "f", "trial_start": D(2023, 5, 1),
             "trial_end": D(2023, 5, 14), "plan_type": "Basic"},
            {"trial_id": "t2", "customer_id": "e", "trial_start": D(2023, 5, 2),
             "trial_end": D(2023, 5, 16), "plan_type": "Basic"},
            {"trial_id": "t3", "customer_id": "g", "trial_start": D(2024, 1, 1),
             "trial_end": D(2024, 1, 14), "plan_type": "Pro"},
            {"trial_id": "t4", "customer_id": "h", "trial_start": D(2024, 6, 20),
             "trial_end": D(2024, 7, 4), "plan_type": "Pro"},
        ],
        TRIAL_SCHEMA,
    )  # fmt: skip
    months = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)][:18]
    costs = table(
        [
            {"month": m, "infra_cost": 20.0 + i, "marketing_cost": 50.0, "support_cost": 5.0}
            for i, m in enumerate(months)
            if m != "2023-08"
        ],
        COST_SCHEMA,
    )
    spend = table(
        [
            {"month": m, "channel": ch, "spend": 10.0 * (i + 1)}
            for i, m in enumerate(months)
            for ch in ("Paid Ads", "Referral", "Partner", "Organic")
        ],
        SPEND_SCHEMA,
    )
    return {
        "subscriptions": subs,
        "customers": custs,
        "payments": table(pay, PAYMENT_SCHEMA),
        "trials": trials,
        "costs": costs,
        "marketing_spend": spend,
    }


def metric_expressions(t: dict[str, ibis.Table]) -> dict[str, ibis.Table]:
    months = {"from_month": FROM, "to_month": TO}
    changes = mrr_changes(t["subscriptions"], payments=t["payments"])
    by_segment = mrr_changes(t["subscriptions"], t["customers"], by="segment")
    by_channel = mrr_changes(t["subscriptions"], t["customers"], by="acquisition_channel")
    by_plan = mrr_changes(t["subscriptions"], filters={"plan": ["Pro", "Basic"]}, by="plan")
    rates = movement_rates(mrr_movements(changes, **months))
    income = revenue(t["payments"], **months)
    margins = profitability(income, t["costs"])
    channel_movements = mrr_movements(by_channel, **months)
    return {
        "changes": changes,
        "movements": growth(rates, "mrr"),
        "movements_by_segment": movement_rates(mrr_movements(by_segment, **months)),
        "movements_by_plan": mrr_movements(by_plan, **months),
        "trailing": trailing_retention(changes, **months),
        "cohorts": cohort_retention(by_segment, **months),
        "customer_mrr": customer_mrr(t["subscriptions"], payments=t["payments"], **months),
        "conversion": trial_conversion(
            t["trials"], t["subscriptions"], t["customers"], as_of=D(2024, 6, 30),
            by="country", **months,
        ),
        "revenue_by_plan": revenue(
            t["payments"], subscriptions=t["subscriptions"], by="plan", **months
        ),
        "margins": growth(margins, "revenue", cmgr_months=3),
        "cac": acquisition_cost(channel_movements, margins, t["marketing_spend"]),
        "ltv": lifetime_value(rates, margins),
        "period": data_period(t["subscriptions"], t["payments"], t["trials"]),
    }  # fmt: skip


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """Same column order, rows sorted, dates as dates, missing as None: comparable everywhere."""
    frame = frame[sorted(frame.columns)].copy()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            frame[column] = values.dt.date
        elif pd.api.types.is_bool_dtype(values):
            frame[column] = values.astype(object)
        elif pd.api.types.is_numeric_dtype(values):
            frame[column] = values.astype("float64")
        else:
            frame[column] = values.map(
                lambda v: v.date() if isinstance(v, pd.Timestamp) else v
            ).astype(object)
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.sort_values(list(frame.columns), key=lambda s: s.map(repr)).reset_index(drop=True)


def company_arrow() -> dict[str, pa.Table]:
    return {name: t.to_pyarrow() for name, t in company().items()}


def load(con: ibis.BaseBackend, kind: str, session: object = None) -> dict[str, ibis.Table]:
    """The company as real tables of the backend (in-memory tables would turn null floats into
    NaN on PySpark, whose Ibis backend registers them through pandas)."""
    tables = {}
    for name, data in company_arrow().items():
        if kind == "pyspark":
            session.createDataFrame(data).createOrReplaceTempView(name)  # type: ignore[attr-defined]
        else:
            con.create_table(name, data, temp=kind == "postgres")
        tables[name] = con.table(name)
    return tables


@pytest.fixture(scope="module")
def reference() -> dict[str, pd.DataFrame]:
    con = ibis.duckdb.connect()
    expressions = metric_expressions(load(con, "duckdb"))
    return {name: normalised(con.to_pandas(expr)) for name, expr in expressions.items()}


@pytest.fixture(
    scope="module",
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("pyspark", marks=pytest.mark.spark),
    ],
)
def loaded(request: pytest.FixtureRequest) -> Iterator[tuple[ibis.BaseBackend, dict]]:
    """An Ibis connection per backend with the company loaded as tables."""
    session = None
    if request.param == "duckdb":
        con = ibis.duckdb.connect(":memory:")
    elif request.param == "postgres":
        create: Callable[[], str] = request.getfixturevalue("postgres_databases")
        con = ibis.connect(create())
    else:
        session = request.getfixturevalue("spark_session")
        con = ibis.pyspark.connect(session)
    yield con, load(con, request.param, session)
    if request.param != "pyspark":  # the shared Spark session is stopped by its fixture
        con.disconnect()


METRICS = [
    "changes",
    "movements",
    "movements_by_segment",
    "movements_by_plan",
    "trailing",
    "cohorts",
    "customer_mrr",
    "conversion",
    "revenue_by_plan",
    "margins",
    "cac",
    "ltv",
    "period",
]


@pytest.mark.parametrize("metric", METRICS)
def test_metric_is_identical_on_every_backend(loaded, reference, metric):
    con, tables = loaded
    got = normalised(con.to_pandas(metric_expressions(tables)[metric]))
    expected = reference[metric]
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for column in expected.columns:
        for g, e in zip(got[column], expected[column], strict=True):
            if isinstance(e, float) and isinstance(g, float):
                assert g == pytest.approx(e, rel=1e-9, abs=1e-9), (metric, column)
            else:
                assert g == e, (metric, column, g, e)


def test_reference_values_are_the_worked_ones(reference):
    rows = reference["movements"].set_index(reference["movements"]["month"])
    # f's invoice due July 1 is 30 days past due on July 31: out at the end of July and August,
    # back when paid in September (a reactivation, not new).
    assert rows.loc["2023-07", "churn"] == pytest.approx(40)
    assert rows.loc["2023-09", "reactivation"] == pytest.approx(40)
    # c's 25% discount applies through July 31: its end is an expansion in August.
    assert rows.loc["2023-08", "expansion"] == pytest.approx(50)
    assert rows.loc["2023-03", "mrr"] == pytest.approx(100 + 80 + 150 + 1000 / 12)


# -- the service on a warehouse loaded on each backend ---------------------------------------------
def test_service_gives_the_worked_values_on_every_backend(backend):  # noqa: F811
    # The company of tests/backends: as of 2024-03-03 (latest start or payment), so February is
    # the last complete month. S3 (C3) ends on 2024-03-20.
    rows = {r["month"]: r for r in metrics_service.mrr_movements(backend.ctx)}
    assert list(rows) == ["2024-01", "2024-02"]
    assert rows["2024-01"]["mrr"] == pytest.approx(49 + 199 + 199)
    assert rows["2024-02"]["mrr"] == pytest.approx(49 + 199 + 199 + 2500 + 49)
    assert rows["2024-02"]["new"] == pytest.approx(2549)
    assert rows["2024-02"]["customers"] == 5
    assert rows["2024-01"]["logo_churn_rate"] is None
    assert rows["2024-01"]["logo_churn_rate_reason"] == (
        "no paying customers at the end of the previous month"
    )
    income = {r["month"]: r["revenue"] for r in metrics_service.revenue(backend.ctx)}
    assert income == pytest.approx({"2024-01": 447.0, "2024-02": 2748.0})
    by_segment = metrics_service.mrr_movements(
        backend.ctx, MetricQuery(by="segment", start="2024-02")
    )
    assert {r["segment"]: r["mrr"] for r in by_segment} == pytest.approx(
        {"SMB": 49 + 199, "Mid-Market": 199 + 49, "Enterprise": 2500}
    )
    headline = metrics_service.summary(backend.ctx)
    assert headline.month == "2024-02"
    assert headline.metrics["arr"].value == pytest.approx(2996 * 12)
    assert headline.metrics["nrr_t12m"].reason == "no MRR 12 months earlier"


def test_filters_reach_every_backend_as_data(backend):  # noqa: F811
    # Filter values are in-memory tables (options.wanted_values): an Arrow table on DuckDB and
    # Spark, rows inserted with bound parameters on PostgreSQL; a value with quotes matches nothing.
    ctx = backend.ctx
    us_smb = metrics_service.mrr_movements(
        ctx, MetricQuery(filters={"segment": ["SMB"], "country": ["US"]}, start="2024-02")
    )
    assert [r["mrr"] for r in us_smb] == pytest.approx([49])
    pro = metrics_service.retention(ctx, MetricQuery(filters={"plan": ["Pro"]}, start="2024-02"))
    assert [r["mrr"] for r in pro] == pytest.approx([199 + 199])
    enterprise = metrics_service.revenue(
        ctx, MetricQuery(filters={"segment": ["Enterprise"]}, start="2024-02")
    )
    assert [r["revenue"] for r in enterprise] == pytest.approx([2500])
    odd = {"country": ["O'Brien \\ 100%", "'); DROP TABLE customers; --"]}
    with pytest.raises(InvalidOption, match="Filter 'country' value \"O'Brien"):  # none holds it
        metrics_service.mrr_movements(ctx, MetricQuery(filters=odd))
    with pytest.raises(InvalidOption, match="expected one of: "):
        metrics_service.cohorts(ctx, MetricQuery(filters=odd))
    assert backend.ctx.warehouse.has_table("customers")
