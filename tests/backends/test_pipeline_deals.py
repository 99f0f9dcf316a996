"""Deal health signals and stage medians on every backend (docs/pipeline.md, Deal health)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.core.config import Settings
from revintel.pipeline.deal_health import deal_signals, stage_medians, stage_spells
from revintel.pipeline.frames import data_as_of, deal_tables
from tests.pipeline.deals_company import write_deals_company

from .conftest import Backend, _warehouse_url


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def test_deal_signals_read_stage_entry_pushes_cuts_and_activity(pipeline_backend: Backend) -> None:
    wh = pipeline_backend.ctx.warehouse
    t = deal_tables(wh)
    as_of = data_as_of(wh, t)
    rows = wh.to_arrow(deal_signals(t.deals, t.history, t.activities, as_of=as_of)).to_pylist()
    got = {
        r["deal_id"]: (
            _day(r["stage_entered"]),
            int(r["close_pushes"]),
            float(r["max_amount"]),
            _day(r["last_activity"]),
            None if r["activities"] is None else int(r["activities"]),
        )
        for r in rows
    }
    assert got == {
        "D4": (date(2024, 3, 1), 1, 15000.0, date(2024, 3, 2), 2),
        "D5": (date(2024, 3, 15), 0, 5000.0, date(2024, 2, 21), 1),
        "D6": (date(2024, 3, 18), 0, 2400.0, None, None),
        "D8": (date(2024, 3, 25), 0, 1200.0, None, None),
    }


def test_stage_medians_over_the_spells_that_ended(pipeline_backend: Backend) -> None:
    wh = pipeline_backend.ctx.warehouse
    t = deal_tables(wh)
    assert t.history is not None
    spells = pl.from_arrow(wh.to_arrow(stage_spells(t.history, as_of=date(2024, 3, 25))))
    assert isinstance(spells, pl.DataFrame)
    # Prospecting 2, 8, 9, 10, 13, 15, 24; Qualification 8, 20, 26 (D2's first entry);
    # Proposal 8, 8, 23; Negotiation 5.
    assert stage_medians(spells) == {
        "Prospecting": 10.0,
        "Qualification": 20.0,
        "Proposal": 8.0,
        "Negotiation": 5.0,
    }


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("pyspark", marks=pytest.mark.spark),
    ],
)
def deals_home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppContext]:
    """The hand-computed deal book (tests/pipeline/deals_company.py) on its own warehouse, so an
    edit never changes the shared ``pipeline_backend``."""
    url = _warehouse_url(request.param, request)
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=url, database_url=None))
    load_paths(ctx, [write_deals_company(tmp_path / "data")], source="test")
    yield ctx
    ctx.close()


def test_an_edit_updates_the_deal_and_appends_history_in_one_commit(
    deals_home: AppContext,
) -> None:
    from revintel.core.errors import EditConflict
    from revintel.pipeline.service import deals as service

    ctx = deals_home
    etag = service.deal_detail(ctx, "O2").etag
    detail = service.edit_deal(
        ctx,
        "O2",
        service.DealChanges(amount=6500.0, forecast_category="Commit"),
        if_match=etag,
        edited_by="ana",
        today=date(2024, 7, 1),
    )
    assert detail.deal["amount"] == 6500.0 and detail.deal["forecast_category"] == "Commit"
    last = detail.timeline[-1]
    assert (_day(last["entered_at"]), last["amount"], last["forecast_category"]) == (
        date(2024, 7, 1),
        6500.0,
        "Commit",
    )
    assert len(detail.timeline) == 3 and len(detail.edits) == 1
    with pytest.raises(EditConflict):
        service.edit_deal(
            ctx, "O2", service.DealChanges(amount=1.0), if_match=etag, edited_by="ben"
        )
    counts = ctx.warehouse.row_counts()
    assert counts["deals"] == 5 and counts["deal_stage_history"] == 17
