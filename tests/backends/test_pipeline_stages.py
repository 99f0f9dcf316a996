"""Stage probabilities on every backend (docs/pipeline.md, Stage probabilities)."""

from __future__ import annotations

from datetime import date

from revintel.pipeline.frames import data_as_of, deal_tables
from revintel.pipeline.stages import learned_stage_probabilities

from .conftest import Backend


def test_stage_probabilities_count_deals_that_reached_a_stage_or_skipped_past_it(
    pipeline_backend: Backend,
) -> None:
    wh = pipeline_backend.ctx.warehouse
    t = deal_tables(wh)
    rows = wh.to_arrow(learned_stage_probabilities(t.deals, t.history)).to_pylist()
    by_stage = {r["stage"]: (r["reached"], r["won"]) for r in rows}
    # Closed: D1 won (reached Proposal, skipping Qualification), D3 won (Negotiation),
    # D2 lost (Qualification), D7 lost (Proposal).
    assert by_stage == {
        "Prospecting": (4, 2),
        "Qualification": (4, 2),
        "Proposal": (3, 2),
        "Negotiation": (1, 1),
    }
    early = wh.to_arrow(
        learned_stage_probabilities(t.deals, t.history, as_of=date(2024, 2, 5))
    ).to_pylist()
    assert {r["stage"]: r["reached"] for r in early}["Prospecting"] == 2  # D1, D3 closed by then
    assert data_as_of(wh, t) == date(2024, 3, 25)
