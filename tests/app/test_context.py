"""The context every face works with: a dashboard run keeps a connection that sees the newest
load and forgets what it read once per run."""

from __future__ import annotations

from pathlib import Path

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths


def test_a_refresh_if_stale_keeps_a_connection_on_the_newest_load(
    loaded_context: AppContext, company_csvs: Path
) -> None:
    ctx = loaded_context.fork()
    try:
        con = ctx.warehouse.con
        ctx.refresh(if_stale=True)
        assert ctx.warehouse.con is con  # nothing loaded since: kept

        load_paths(loaded_context, [company_csvs / "customers.csv"], source="test")
        ctx.refresh(if_stale=True)
        assert ctx.warehouse.con is not con  # another context loaded: a new connection
        assert ctx.warehouse.is_current()

        ctx.refresh()  # a plain refresh always reads again which load is the newest
        assert "warehouse" not in ctx.__dict__
        assert ctx.warehouse.data_version() == str(ctx.warehouse.current_snapshot())  # type: ignore[attr-defined]
    finally:
        ctx.close()


def test_per_refresh_remembers_until_the_next_refresh(loaded_context: AppContext) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert loaded_context.per_refresh("k", compute) == 1
    assert loaded_context.per_refresh("k", compute) == 1
    loaded_context.refresh(if_stale=True)  # even when the connection is kept
    assert loaded_context.per_refresh("k", compute) == 2
