"""The service reuses its cached company-wide MRR changes and monthly rates; the results stay those
of the metric expressions computed straight from the raw tables.

A breakdown or filter by a customer dimension is read from the company-wide changes (a customer's
dimension is fixed), and mrr_movements, ltv and acquisition share one cached movements table: on a
generated company (discounts, failed payments, customers of every segment and channel) each is
compared with the expression built from the loaded tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from revintel.app.context import AppContext
from revintel.metrics import (
    cohort_retention,
    movement_rates,
    mrr_changes,
    mrr_movements,
    trailing_retention,
)
from revintel.metrics import service as metrics
from revintel.metrics.finance import growth
from revintel.metrics.service import MetricQuery
from revintel.metrics.service.tables import plain
from tests.conftest import generated_company


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    root = tmp_path_factory.mktemp("shared_base")
    with generated_company(root, customers=300, months=18, seed=7) as context:
        yield context


def _raw_changes(ctx: AppContext, by: str | None, filters: dict[str, list[str]]):
    wh = ctx.warehouse
    return mrr_changes(
        wh.table("subscriptions"),
        wh.table("customers"),
        by=by,
        filters=filters,
        payments=wh.table("payments"),
        delinquency_days=30,
    )


def _rows(expr) -> list[dict]:
    return [{k: plain(v) for k, v in r.items()} for r in expr.to_pandas().to_dict("records")]


CASES = [
    (None, {}),
    ("segment", {}),
    ("acquisition_channel", {}),
    ("country", {"segment": ["SMB", "Mid-Market"]}),
    (None, {"industry": ["(unknown)", "Financial Services"]}),
    ("plan", {"segment": ["SMB"]}),
]


@pytest.mark.parametrize(("by", "filters"), CASES)
def test_breakdowns_match_the_raw_expressions(ctx, by, filters):
    p = metrics.period(ctx)
    dims = [by] if by else []
    changes = _raw_changes(ctx, by, filters)
    movements = mrr_movements(changes, from_month=p.from_month, to_month=p.to_month)
    expected = _rows(growth(movement_rates(movements), "mrr").order_by([*dims, "month"]))
    assert metrics.mrr_movements(ctx, MetricQuery(by=by, filters=filters)) == expected

    trailing = _rows(trailing_retention(changes, from_month=p.from_month, to_month=p.to_month))
    got = metrics.retention(ctx, MetricQuery(by=by, filters=filters))
    assert [r["nrr_t12m"] for r in got] == [r["nrr_t12m"] for r in trailing]
    assert [r["grr_t12m"] for r in got] == [r["grr_t12m"] for r in trailing]

    cohorts = _rows(cohort_retention(changes, from_month=p.from_month, to_month=p.to_month))
    assert metrics.cohorts(ctx, MetricQuery(by=by, filters=filters)) == cohorts


def test_ltv_and_acquisition_read_the_same_movements(ctx):
    movements = {r["month"]: r for r in metrics.mrr_movements(ctx)}
    for row in metrics.ltv(ctx):
        assert row["arpa"] == movements[row["month"]]["arpa"]
    for row in metrics.acquisition(ctx):
        assert row["new_customers"] == movements[row["month"]]["new_customers"]
        assert row["arpa"] == movements[row["month"]]["arpa"]
    by_channel = metrics.mrr_movements(ctx, MetricQuery(by="acquisition_channel"))
    new = {(r["acquisition_channel"], r["month"]): r["new_customers"] for r in by_channel}
    for row in metrics.acquisition(ctx, MetricQuery(by="acquisition_channel")):
        assert row["new_customers"] == new[(row["acquisition_channel"], row["month"])]
