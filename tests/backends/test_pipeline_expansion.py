"""The expansion inputs (revintel/pipeline/expansion.py) on DuckDB, PostgreSQL and PySpark, on the
health company of tests/backends/conftest.py (subscriptions and usage) and a hand-made MRR table.
"""

from __future__ import annotations

from typing import Any

import ibis
import pytest

from revintel.core.calendar import month_number
from revintel.pipeline.expansion import expansion_outcomes, plan_ranks, user_growth

from .conftest import Backend

JAN = month_number("2024-01")


def _rows(backend: Backend, expr: ibis.Table) -> dict[tuple[str, int], dict[str, Any]]:
    records = backend.ctx.warehouse.to_arrow(expr).to_pylist()
    return {(r["account_id"], r["month_idx"] - JAN + 1): r for r in records}


def test_plan_ranks_take_the_highest_plan_active_at_the_months_end(health_backend: Backend) -> None:
    rows = _rows(health_backend, plan_ranks(health_backend.table("subscriptions"), JAN, JAN + 2))
    ranks = {key: r["plan_rank"] for key, r in rows.items()}
    assert ranks == {
        ("C1", 1): 0, ("C2", 1): 1, ("C3", 1): 1,
        ("C1", 2): 0, ("C2", 2): 1, ("C3", 2): 1, ("C4", 2): 2, ("C5", 2): 0,
        ("C1", 3): 0, ("C2", 3): 1, ("C4", 3): 2, ("C5", 3): 0,  # C3 ended on 2024-03-20
    }  # fmt: skip
    assert all(r["seats"] is None for r in rows.values())  # no seats column


def test_user_growth_reads_the_usage_row_lookback_months_before(health_backend: Backend) -> None:
    usage = health_backend.table("usage")
    one = {
        k: r["users_before"]
        for k, r in _rows(health_backend, user_growth(usage, JAN, JAN + 2, 1)).items()
    }
    assert one == {
        ("C1", 1): None, ("C1", 2): 5, ("C1", 3): 6,
        ("C2", 1): None, ("C2", 3): None,  # no February row
        ("C4", 2): None, ("C4", 3): 30, ("C5", 3): None,
    }  # fmt: skip
    two = _rows(health_backend, user_growth(usage, JAN, JAN + 2, 2))
    assert two[("C2", 3)]["users_before"] == 3


def _mrr() -> ibis.Table:
    rows = [
        ("X", "2024-01", 100.0), ("X", "2024-02", 100.0), ("X", "2024-03", 150.0),
        ("Y", "2024-01", 100.0), ("Y", "2024-02", 90.0),
        ("Z", "2024-01", 100.0), ("Z", "2024-02", 100.5),
        ("W", "2024-01", 100.0), ("W", "2024-02", 120.0),
    ]  # fmt: skip
    return ibis.memtable(
        {k: [r[i] for r in rows] for i, k in enumerate(("customer_id", "month", "mrr"))}
    )


def _holdings() -> ibis.Table:
    rows = [("X", 0, 0, 10), ("X", 1, 0, 10), ("X", 2, 0, 10), ("W", 0, 0, 10), ("W", 1, 0, 12)]
    return ibis.memtable(
        {
            "account_id": [r[0] for r in rows],
            "month_idx": [JAN + r[1] for r in rows],
            "plan_rank": [r[2] for r in rows],
            "seats": [r[3] for r in rows],
        },
        schema={
            "account_id": "string",
            "month_idx": "int64",
            "plan_rank": "int64",
            "seats": "int64",
        },
    )


def test_expansion_is_a_higher_mrr_within_the_horizon(health_backend: Backend) -> None:
    rows = _rows(health_backend, expansion_outcomes(_mrr(), None, JAN, JAN + 1, 2))
    got = {k: (r["expanded"], r["expansion_mrr"]) for k, r in rows.items()}
    assert got == {
        ("X", 1): (1, 50.0), ("X", 2): (1, 50.0),
        ("Y", 1): (0, 0.0), ("Y", 2): (0, 0.0),
        ("Z", 1): (0, 0.0), ("Z", 2): (0, 0.0),  # +0.5% is within the 1% tolerance
        ("W", 1): (1, 20.0), ("W", 2): (0, 0.0),
    }  # fmt: skip
    assert rows[("Y", 2)]["future_mrr"] is None


def test_with_holdings_a_price_rise_alone_is_not_an_expansion(health_backend: Backend) -> None:
    rows = _rows(health_backend, expansion_outcomes(_mrr(), _holdings(), JAN, JAN + 1, 2))
    assert rows[("X", 1)]["expanded"] == 0  # MRR 100 → 150 on the same 10 seats and plan
    assert rows[("W", 1)]["expanded"] == 1  # 10 → 12 seats, MRR 100 → 120
    assert rows[("Y", 1)]["expanded"] == 0
    assert rows[("Z", 1)]["expanded"] == 0


@pytest.mark.parametrize("horizon", [1, 3])
def test_the_horizon_bounds_the_months_looked_at(health_backend: Backend, horizon: int) -> None:
    rows = _rows(health_backend, expansion_outcomes(_mrr(), None, JAN, JAN, horizon))
    assert rows[("X", 1)]["expanded"] == (1 if horizon >= 2 else 0)


def _scores(backend: Backend, **options: Any) -> Any:
    import revintel.app  # noqa: F401  (wires the ports)
    from revintel.pipeline.service.expansion import expansion_scores

    return expansion_scores(backend.ctx, **options)


def test_the_service_gives_duckdbs_answer(health_backend: Backend, duckdb_health: Backend) -> None:
    from revintel.pipeline.config import ExpansionConfig

    one_month = ExpansionConfig(horizon_months=1)
    for month in ("2024-02", "2024-03"):
        got = _scores(health_backend, month=month, config=one_month)
        want = _scores(duckdb_health, month=month, config=one_month)
        assert [(a.account_id, a.expansion_score, a.plan) for a in got.accounts] == [
            (a.account_id, a.expansion_score, a.plan) for a in want.accounts
        ]
        assert got.backtest is not None and want.backtest is not None
        assert (got.backtest.account_months, got.backtest.base_rate) == (
            want.backtest.account_months,
            want.backtest.base_rate,
        )
    march = {a.account_id: a for a in want.accounts}
    # C1 in March: 4 of 10 seats (level 0), adoption 0.4, Basic (headroom 1), NPS 6
    assert march["C1"].signals["seat_utilisation"] == pytest.approx(0.4)
    assert march["C1"].plan == "Basic" and march["C4"].plan == "Enterprise"


def test_without_months_after_the_horizon_there_is_no_backtest(health_backend: Backend) -> None:
    report = _scores(health_backend)  # 3 months of data, a 3-month horizon
    assert report.backtest is None
    assert any(n.startswith("No backtest") for n in report.notes)
    assert report.accounts and all(a.expected_expansion_arr is None for a in report.accounts)
