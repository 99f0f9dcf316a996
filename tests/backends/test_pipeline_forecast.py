"""The point-in-time pipeline on every backend (docs/pipeline.md, Point-in-time pipeline)."""

from __future__ import annotations

from datetime import date

from revintel.pipeline.frames import deal_tables
from revintel.pipeline.snapshot import snapshot, stage_close_days, with_activity

from .conftest import Backend


def _rows(backend: Backend, day: date, *, current: bool = False) -> dict[str, dict]:
    wh = backend.ctx.warehouse
    t = deal_tables(wh)
    rows = wh.to_arrow(with_activity(snapshot(t, day, current=current), t, day)).to_pylist()
    return {r["deal_id"]: r for r in rows}


def test_snapshot_rebuilds_each_open_deal_as_it_stood_and_reads_nothing_later(
    pipeline_backend: Backend,
) -> None:
    rows = _rows(pipeline_backend, date(2024, 3, 10))
    # D1, D2, D3 closed before 03-10; D8 was created after it; D7 closed later (03-20): open.
    assert set(rows) == {"D4", "D5", "D6", "D7"}
    d4 = rows["D4"]
    assert d4["stage"] == "Negotiation"
    assert d4["stage_entered"] == date(2024, 3, 1)
    assert d4["amount"] == 12000.0 and d4["first_amount"] == 15000.0
    # The push to 04-30 happened on 03-20: not known on 03-10.
    assert d4["expected_close_date"] == date(2024, 3, 31)
    assert d4["expected_close_source"] == "history"
    assert d4["close_pushes"] == 0
    assert d4["forecast_category"] == "Commit"
    assert d4["days_in_stage"] == 9 and d4["age_days"] == 38
    # Activities in the 30 days to 03-10: A6 (03-02) only; A5 (02-05) is older.
    assert d4["activities_30d"] == 1 and d4["days_since_activity"] == 8
    # D5 entered Proposal on 03-15: still Prospecting on 03-10.
    assert rows["D5"]["stage"] == "Prospecting"
    assert rows["D7"]["stage"] == "Proposal" and rows["D7"]["forecast_category"] == "Best Case"
    assert rows["D6"]["activities_30d"] == 0 and rows["D6"]["days_since_activity"] is None


def test_snapshot_counts_expected_close_pushes_once_they_happened(
    pipeline_backend: Backend,
) -> None:
    rows = _rows(pipeline_backend, date(2024, 3, 25))
    assert rows["D4"]["expected_close_date"] == date(2024, 4, 30)
    assert rows["D4"]["close_pushes"] == 1
    # D7 closed (lost) on 03-20; D8 was created on 03-25.
    assert "D7" not in rows and "D8" in rows and rows["D5"]["stage"] == "Proposal"


def test_stage_timing_uses_only_deals_closed_by_the_date(pipeline_backend: Backend) -> None:
    wh = pipeline_backend.ctx.warehouse
    t = deal_tables(wh)
    rows = wh.to_arrow(stage_close_days(t.deals, t.history, date(2024, 1, 31))).to_pylist()
    # Only D1 had closed (entered Prospecting 01-02, Proposal 01-10, closed 01-18).
    assert {r["stage"]: r["median_days_to_close"] for r in rows} == {
        "Prospecting": 16.0,
        "Proposal": 8.0,
    }
