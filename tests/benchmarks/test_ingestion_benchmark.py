"""benchmarks/ingestion.py: its request plan covers every event once, its events are valid, and a
small run through a real server counts every event in the warehouse."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from benchmarks.ingestion import CUSTOMERS, batches, free_port, revenue, run, touch

from revintel.attribution.ingestion import conversion_rows, touchpoint_rows


def test_the_plan_sends_every_event_once() -> None:
    plan = batches(10_500, 1_000, 0.1)
    touches = sorted(
        i
        for path, start, n in plan
        if path.endswith("touchpoints")
        for i in range(start, start + n)
    )
    revenues = sorted(
        i
        for path, start, n in plan
        if path.endswith("revenue-events")
        for i in range(start, start + n)
    )
    assert touches == list(range(9_450)) and revenues == list(range(1_050))
    assert max(n for _, _, n in plan) <= 1_000
    kinds = [path.rsplit("/", 1)[1] for path, _, _ in plan]
    # revenue events arrive among the touches, not after them all
    assert kinds.index("revenue-events") < len(kinds) - 1 - kinds[::-1].index("touchpoints")


def test_the_benchmarks_events_pass_the_checks() -> None:
    customers = {f"C{i:05d}" for i in range(CUSTOMERS)}
    now = datetime(2026, 1, 1)
    touches = touchpoint_rows(
        [touch(i) for i in range(500)], id_for=str, customers=customers, now=now
    )
    revenues = conversion_rows(
        [revenue(i) for i in range(500)],
        id_for=str,
        customers=customers,
        reporting_currency="USD",
        rates={},
        now=now,
    )
    assert len(touches.rows) == len(revenues.rows) == 500
    assert len(set(touches.ids)) == 500


@pytest.mark.chaos
def test_a_small_run_counts_every_event_once(tmp_path: Path) -> None:
    figures = run(
        tmp_path / "home", events=3_000, batch=500, clients=2, revenue_share=0.2, port=free_port()
    )

    assert figures["all_there_once"] is True
    assert figures["counted"] == {"touchpoints": 2_400, "conversions": 600}
    assert figures["events_per_second"] > 0 and figures["visible_lag_seconds"] >= 0
    assert figures["seconds"] * figures["events_per_second"] == pytest.approx(3_000, rel=0.01)
    assert figures["server_peak_rss_mb"] > 0
