"""A service call pauses the garbage collector and Ibis's select fusion, and puts both back.

The settings are process-wide (see ``revintel.metrics.service.scope``), so a call must leave them
as it found them, also when it fails and when the caller had changed them itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import ibis
import pytest

from revintel.app.context import AppContext
from revintel.metrics import service as metrics
from revintel.metrics.options import InvalidMetricOption
from revintel.metrics.service import MetricQuery, tables
from revintel.warehouse.cache import clear_all
from tests.conftest import isolated_settings
from tests.health.demo import demo_home


@pytest.fixture(scope="module")
def ctx() -> Iterator[AppContext]:
    context = AppContext(isolated_settings(demo_home()))
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
        metrics.mrr_movements(ctx, MetricQuery(by="no such dimension"))  # type: ignore[arg-type]
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
    records = tables.records

    def spy(expr: ibis.Table) -> list[dict]:
        seen.append((gc.isenabled(), ibis.options.sql.fuse_selects))
        return records(expr)

    monkeypatch.setattr("revintel.metrics.service.retention_cohorts.records", spy)
    clear_all()  # computed here, not read from the shared results
    metrics.cohorts(ctx, MetricQuery(delinquency_days=45))
    assert seen and all(state == (False, False) for state in seen)
