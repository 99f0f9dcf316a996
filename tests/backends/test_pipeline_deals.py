"""Deal health signals and stage medians on every backend (docs/pipeline.md, Deal health)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

from revintel.pipeline.deal_health import deal_signals, stage_medians, stage_spells
from revintel.pipeline.frames import data_as_of, deal_tables

from .conftest import Backend


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
