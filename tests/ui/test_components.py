"""Shared dashboard parts: what they read per page run."""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.context import AppContext
from revintel.data.loading import load_paths
from revintel.ui.components import last_load_time
from revintel.ui.revenue import data_version


def test_last_load_time_is_read_once_per_page_run_and_sees_a_new_load(
    loaded_context: AppContext, company_csvs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = loaded_context.fork()
    reads: list[int] = []
    read = ctx.store.last_loaded
    monkeypatch.setattr(ctx.store, "last_loaded", lambda: reads.append(1) or read())
    try:
        ctx.refresh(if_stale=True)  # a page run starts
        before = last_load_time(ctx)
        assert before is not None
        assert data_version(ctx) and last_load_time(ctx) == before  # the sidebar's and the page's
        assert len(reads) == 1
        load_paths(ctx, [company_csvs / "customers.csv"], source="test")  # refreshes ctx
        after = last_load_time(ctx)
        assert after is not None and after > before
        assert len(reads) == 2
    finally:
        ctx.close()
