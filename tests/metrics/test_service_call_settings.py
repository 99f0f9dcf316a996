"""A service call pauses the garbage collector and Ibis's select fusion, and puts both back.

The settings are process-wide (see ``revintel.metrics.service``), so a call must leave them as it
found them, also when it fails and when the caller had changed them itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import ibis
import pytest

from revintel.config import Settings
from revintel.context import AppContext
from revintel.data.generator import generate_company, write_company
from revintel.data.loading import load_paths
from revintel.metrics import service as metrics
from revintel.metrics.options import InvalidMetricOption


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    root = tmp_path_factory.mktemp("call_settings")
    folder = root / "company"
    folder.mkdir()
    write_company(generate_company(customers=200, months=15, seed=3), folder, "parquet")
    context = AppContext(Settings(home=root / "home", warehouse_url=None, database_url=None))
    load_paths(context, [Path(folder)], source="test")
    try:
        yield context
    finally:
        context.close()


def test_settings_are_restored_after_a_call(ctx: AppContext) -> None:
    assert gc.isenabled() and ibis.options.sql.fuse_selects
    rows = metrics.mrr_movements(ctx)
    assert rows
    assert gc.isenabled()
    assert ibis.options.sql.fuse_selects


def test_settings_are_restored_after_a_failing_call(ctx: AppContext) -> None:
    with pytest.raises(InvalidMetricOption):
        metrics.mrr_movements(ctx, by="no such dimension")
    assert gc.isenabled()
    assert ibis.options.sql.fuse_selects


def test_settings_the_caller_chose_are_kept(ctx: AppContext) -> None:
    gc.disable()
    ibis.options.sql.fuse_selects = False
    try:
        metrics.retention(ctx)
        assert not gc.isenabled()
        assert not ibis.options.sql.fuse_selects
    finally:
        gc.enable()
        ibis.options.sql.fuse_selects = True


def test_settings_are_paused_during_a_call(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[bool, bool]] = []
    records = metrics._records

    def spy(expr: ibis.Table) -> list[dict]:
        seen.append((gc.isenabled(), ibis.options.sql.fuse_selects))
        return records(expr)

    monkeypatch.setattr(metrics, "_records", spy)
    metrics.cohorts(ctx, delinquency_days=45)
    assert seen and all(state == (False, False) for state in seen)
