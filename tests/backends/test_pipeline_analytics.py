"""Pipeline analytics on every backend (docs/pipeline.md, Pipeline analytics and Competitive
intelligence): the figures of the small company in ``conftest.PIPELINE_TABLES``, worked by hand.

As of 2024-03-25. Closed: D1 won (600, SMB, no competitor), D2 lost (900, SMB, Orbitly), D3 won
(30,000, Enterprise, Orbitly), D7 lost (8,000, Mid-Market, Vantage Cloud). Open: D4 Negotiation
12,000, D5 Proposal 5,000, D6 Qualification 2,400, D8 Prospecting 1,200.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from revintel.pipeline import analytics as A
from revintel.pipeline import competitors as C
from revintel.pipeline.frames import deal_tables

from .conftest import Backend

AS_OF = date(2024, 3, 25)
PROBS = {"Prospecting": 0.1, "Qualification": 0.2, "Proposal": 0.5, "Negotiation": 0.8}


def _rows(b: Backend, expr: Any) -> list[dict[str, Any]]:
    return b.ctx.warehouse.to_arrow(expr).to_pylist()


def _by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_open_by_stage_counts_weights_and_ages(pipeline_backend: Backend) -> None:
    t = deal_tables(pipeline_backend.ctx.warehouse)
    rows = _by(_rows(pipeline_backend, A.open_by_stage(t.deals, PROBS, as_of=AS_OF)), "stage")
    got = {
        s: (r["deals"], round(r["amount"], 6), round(r["weighted_amount"], 6), r["avg_age_days"])
        for s, r in rows.items()
    }
    assert got == (
        {
            "Negotiation": (1, 12000.0, 9600.0, 53.0),
            "Proposal": (1, 5000.0, 2500.0, 34.0),
            "Qualification": (1, 2400.0, 480.0, 20.0),
            "Prospecting": (1, 1200.0, 120.0, 0.0),
        }
    )


def test_conversion_leaves_out_deals_still_in_the_stage(pipeline_backend: Backend) -> None:
    t = deal_tables(pipeline_backend.ctx.warehouse)
    assert t.history is not None
    wide = _rows(pipeline_backend, A.stage_conversion_wide(t.deals, t.history))
    rows = _by(A.conversion_rows(wide[0]), "stage")
    got = {s: (r["reached"], r["decided"], r["advanced"]) for s, r in rows.items()}
    assert got == {
        "Prospecting": (8, 7, 7),
        "Qualification": (7, 6, 5),
        "Proposal": (5, 4, 3),
        "Negotiation": (3, 2, 2),
    }
    assert rows["Proposal"]["conversion"] == pytest.approx(0.75)


def test_median_days_in_stage_counts_completed_stays(pipeline_backend: Backend) -> None:
    t = deal_tables(pipeline_backend.ctx.warehouse)
    assert t.history is not None
    rows = _by(_rows(pipeline_backend, A.days_in_stage(t.deals, t.history)), "stage")
    got = {s: (r["stays"], r["median_days_in_stage"]) for s, r in rows.items()}
    assert got == {
        "Prospecting": (7, 10.0),
        "Qualification": (3, 20.0),
        "Proposal": (3, 8.0),
        "Negotiation": (1, 5.0),
    }


def test_created_per_month_and_win_rates(pipeline_backend: Backend) -> None:
    t = deal_tables(pipeline_backend.ctx.warehouse)
    created = _by(_rows(pipeline_backend, A.created_per_month(t.deals)), "month")
    assert {m: (r["deals"], r["amount"]) for m, r in created.items()} == {
        "2024-01": (3, 31500.0),
        "2024-02": (3, 25000.0),
        "2024-03": (2, 3600.0),
    }
    overall = _rows(pipeline_backend, A.win_rates(t.deals, None))[0]
    assert (overall["closed"], overall["won"]) == (4, 2)
    assert overall["win_rate"] == pytest.approx(0.5)
    assert overall["win_rate_amount"] == pytest.approx(30600 / 39500)
    rival = _by(_rows(pipeline_backend, A.win_rates(t.deals, "competitor")), "value")
    assert {v: (r["closed"], r["won"]) for v, r in rival.items()} == {
        A.NONE_LABEL: (1, 1),
        "Orbitly": (2, 1),
        "Vantage Cloud": (1, 0),
    }
    seg = _by(_rows(pipeline_backend, A.win_rates(t.deals, "segment")), "value")
    assert {v: r["win_rate"] for v, r in seg.items()} == pytest.approx(
        {"SMB": 0.5, "Enterprise": 1.0, "Mid-Market": 0.0}
    )


def test_won_summary_size_and_cycle(pipeline_backend: Backend) -> None:
    t = deal_tables(pipeline_backend.ctx.warehouse)
    row = _rows(pipeline_backend, A.won_summary(t.deals))[0]
    assert (row["won_deals"], row["won_amount"]) == (2, 30600.0)
    assert row["avg_deal_size"] == pytest.approx(15300.0)
    assert row["avg_cycle_days"] == pytest.approx(19.5)  # D1 16 days, D3 23 days
    assert 16.0 <= row["median_cycle_days"] <= 23.0


def test_slipped_aging_coverage_and_weighted_forecast(pipeline_backend: Backend) -> None:
    t = deal_tables(pipeline_backend.ctx.warehouse)
    assert t.history is not None
    slipped = _by(_rows(pipeline_backend, A.slipped_deals(t.deals, t.history)), "deal_id")
    assert {d: (r["pushes"], r["days_pushed"]) for d, r in slipped.items()} == {
        "D2": (1, 19),
        "D4": (1, 30),
    }
    aging = _by(_rows(pipeline_backend, A.aging(t.deals, as_of=AS_OF)), "bucket")
    assert {b: (r["deals"], r["amount"], r["past_close"]) for b, r in aging.items()} == {
        "0-30 days": (2, 3600.0, 0),
        "31-60 days": (2, 17000.0, 0),
    }
    months = _by(
        _rows(pipeline_backend, A.open_by_close_month(t.deals, PROBS, ["2024-04", "2024-05"])),
        "month",
    )
    got = {m: (round(r["pipeline"], 6), round(r["weighted"], 6)) for m, r in months.items()}
    assert got == {"2024-04": (17000.0, 12100.0), "2024-05": (2400.0, 480.0)}
    w30 = _rows(pipeline_backend, A.weighted_forecast(t.deals, PROBS, as_of=AS_OF, days=30))[0]
    assert (w30["deals"], w30["pipeline"], w30["weighted"]) == (1, 5000.0, 2500.0)
    w90 = _rows(pipeline_backend, A.weighted_forecast(t.deals, PROBS, as_of=AS_OF, days=90))[0]
    assert w90["weighted"] == pytest.approx(12580.0)
    totals = _rows(pipeline_backend, A.open_totals(t.deals, as_of=AS_OF))[0]
    assert (totals["deals"], totals["pipeline"], totals["past_close"]) == (4, 20600.0, 0)


def test_filters_narrow_the_deals(pipeline_backend: Backend) -> None:
    t = deal_tables(pipeline_backend.ctx.warehouse)
    f = A.DealFilter(owner="Ana", created_from=date(2024, 1, 5), created_to=date(2024, 2, 28))
    ids = sorted(r["deal_id"] for r in _rows(pipeline_backend, f.apply(t.deals).select("deal_id")))
    assert ids == ["D2", "D5", "D7"]


def test_competitor_counts_trend_and_stage_lost(pipeline_backend: Backend) -> None:
    t = deal_tables(pipeline_backend.ctx.warehouse)
    assert t.history is not None
    counts = _by(_rows(pipeline_backend, C.competitor_counts(t.deals, discount=False)), "rival")
    assert {c: (r["deals"], r["closed"], r["won"]) for c, r in counts.items()} == {
        A.NONE_LABEL: (4, 1, 1),
        "Orbitly": (2, 2, 1),
        "Vantage Cloud": (2, 1, 0),
    }
    assert counts["Orbitly"]["avg_won_amount"] == pytest.approx(30000.0)
    quarters = _rows(pipeline_backend, C.closed_by_quarter(t.deals))
    assert {(r["rival"], r["quarter"], r["closed"], r["won"]) for r in quarters} == {
        (A.NONE_LABEL, "2024-Q1", 1, 1),
        ("Orbitly", "2024-Q1", 2, 1),
        ("Vantage Cloud", "2024-Q1", 1, 0),
    }
    created = _rows(pipeline_backend, C.created_by_quarter(t.deals))
    assert sum(r["deals"] for r in created) == 8
    lost = _rows(pipeline_backend, C.lost_at_stage(t.deals, t.history))
    assert {(r["rival"], r["stage"], r["lost"]) for r in lost} == {
        ("Orbitly", "Qualification", 1),
        ("Vantage Cloud", "Proposal", 1),
    }
    by_seg = _rows(pipeline_backend, C.closed_by(t.deals, "segment"))
    assert {(r["rival"], r["value"], r["closed"], r["won"]) for r in by_seg} == {
        (A.NONE_LABEL, "SMB", 1, 1),
        ("Orbitly", "SMB", 1, 0),
        ("Orbitly", "Enterprise", 1, 1),
        ("Vantage Cloud", "Mid-Market", 1, 0),
    }


def test_the_service_summary_and_competitors_run_on_every_backend(
    pipeline_backend: Backend,
) -> None:
    from revintel.pipeline.scenario import ScenarioInputs
    from revintel.pipeline.service import analytics as service

    s = service.summary(pipeline_backend.ctx)
    assert (s.deal_count, s.open_pipeline, s.win_rate) == (4, 20600.0, 0.5)
    assert (s.slipped_deals, s.at_risk_deals) == (2, 1)  # D2 and D4 pushed; D4 still open
    assert [r["deals"] for r in service.by_stage(pipeline_backend.ctx)] == [1, 1, 1, 1]
    report = service.competitors(pipeline_backend.ctx)
    assert {r["competitor"]: r["closed"] for r in report.competitors} == {
        A.NONE_LABEL: 1,
        "Orbitly": 2,
        "Vantage Cloud": 1,
    }
    r = service.scenario(pipeline_backend.ctx, ScenarioInputs(pipeline_growth=1.0))
    assert r.projected["forecast"] == pytest.approx(20600.0)
