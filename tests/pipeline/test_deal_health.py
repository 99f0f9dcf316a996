"""Deal health and at-risk alerts (docs/pipeline.md, Deals → Deal health, At-risk alerts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.core.errors import InvalidOption
from revintel.pipeline.config import InvalidPipelineConfig, validate_config
from revintel.pipeline.deal_health import DealHealthConfig, health_of
from revintel.pipeline.service import deals as service
from tests.pipeline.deals_company import deals_context


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = deals_context(tmp_path)
    yield context
    context.close()


def test_every_factor_is_named_with_its_points_and_evidence(ctx: AppContext) -> None:
    result = service.list_deals(ctx)
    assert result.as_of == date(2024, 6, 30)
    assert result.stage_medians == {
        "Prospecting": 20.0,
        "Qualification": 15.0,
        "Proposal": 60.0,
        "Negotiation": 10.0,
    }
    rows = result.deals.to_dicts()
    scores = {r["deal_id"]: (r["health_score"], r["health_category"]) for r in rows}
    assert scores == {"O1": (0.0, "critical"), "O3": (60.0, "at risk"), "O2": (100.0, "healthy")}
    o1 = service.deal_detail(ctx, "O1").health
    assert o1 is not None
    evidence = {f.name: (f.points, f.evidence) for f in o1.factors}
    assert evidence["stagnant"] == (20.0, "91 days in Proposal, over 1.5 × its median of 60 days")
    assert evidence["no_activity"][1] == "no activity for 89 days (last activity)"
    assert evidence["close_pushed"][1] == "expected close date pushed later 1 time(s)"
    assert evidence["amount_reduced"][1] == "amount cut from 10,000 to 8,000"
    assert evidence["past_expected_close"][1].startswith("expected to close 2024-06-01, 29 days")
    assert evidence["competitor"][1] == "competing with Orbitly"
    assert len(evidence) == 9


def test_each_deal_carries_its_stage_probability_and_weighted_amount(ctx: AppContext) -> None:
    # Closed: C1 won (reached Negotiation), C2 lost (reached Proposal).
    rows = {r["deal_id"]: r for r in service.list_deals(ctx).deals.to_dicts()}
    assert rows["O2"]["stage_probability"] == 0.5  # Qualification: both reached it, one won
    assert rows["O3"]["stage_probability"] == 1.0  # Negotiation: only C1 reached it
    assert rows["O1"]["weighted_amount"] == 8000 * 0.5
    (ctx.settings.home / "pipeline.toml").write_text("[stage_probabilities]\nProposal = 0.2\n")
    assert (
        service.list_deals(ctx).deals.filter(pl.col("deal_id") == "O1")["stage_probability"].item()
        == 0.2
    )


def test_filters_and_bad_filters(ctx: AppContext) -> None:
    ana = service.list_deals(ctx, service.DealFilters(owner="Ana"))
    assert sorted(ana.deals["deal_id"].to_list()) == ["O1", "O3"]
    critical = service.list_deals(ctx, service.DealFilters(category="critical"))
    assert critical.deals["deal_id"].to_list() == ["O1"]
    with pytest.raises(InvalidOption, match="stage: unknown open stage 'Won'"):
        service.list_deals(ctx, service.DealFilters(stage="Won"))


def test_at_risk_ranks_by_value_times_risk_and_respects_the_minimum(ctx: AppContext) -> None:
    alerts = service.at_risk(ctx, 0)
    assert [d["id"] for d in alerts.deals] == ["O1"]  # O3 is at risk but carries no alert factor
    assert alerts.deals[0]["risk_value"] == 8000.0
    assert service.at_risk(ctx, 9000).deals == []
    with pytest.raises(InvalidOption, match="min_deal_value"):
        service.at_risk(ctx, -1)


def test_alert_factors_from_the_settings_widen_the_alerts(ctx: AppContext) -> None:
    (ctx.settings.home / "pipeline.toml").write_text(
        '[deal_health]\nalert_factors = ["competitor"]\n'
    )
    ranked = [d["id"] for d in service.at_risk(ctx, 0).deals]
    # O3: 20,000 × 0.40 = 8,000 ties O1's 8,000 × 1.0; ties break by id
    assert ranked == ["O1", "O3"]


def test_without_activities_the_factor_is_not_evaluated_and_a_note_says_so(
    tmp_path: Path,
) -> None:
    context = deals_context(tmp_path, activities=False)
    try:
        result = service.list_deals(context)
        assert any("deal_activities" in n for n in result.notes)
        o3 = service.deal_detail(context, "O3").health
        assert o3 is not None and "no_activity" not in [f.name for f in o3.factors]
        assert o3.score == 75.0
    finally:
        context.close()


def test_closed_deal_page_has_no_health_but_says_why(ctx: AppContext) -> None:
    detail = service.deal_detail(ctx, "C1")
    assert detail.health is None
    assert detail.health_note is not None and "closed" in detail.health_note
    assert [r["stage"] for r in detail.timeline][-1] == "Closed Won"
    assert detail.activities is not None and len(detail.activities) == 1


def test_blank_flags_cost_nothing_and_zero_weights_drop_a_factor() -> None:
    row = {
        "deal_id": "X",
        "stage": "Proposal",
        "amount": 100.0,
        "created_date": date(2024, 6, 1),
        "expected_close_date": None,
        "has_champion": None,
        "competitor": "Orbitly",
    }
    kw = {"as_of": date(2024, 6, 2), "medians": {}, "has_activities": False, "has_history": False}
    assert health_of(row, config=DealHealthConfig(), **kw).score == 95.0
    quiet = DealHealthConfig(competitor_points=0)
    assert health_of(row, config=quiet, **kw).factors == []


def test_settings_are_validated_naming_the_field() -> None:
    with pytest.raises(InvalidPipelineConfig, match=r"deal_health.*at_risk_min"):
        validate_config({"deal_health": {"at_risk_min": 80, "healthy_min": 70}})
    with pytest.raises(InvalidPipelineConfig, match="unknown factor"):
        validate_config({"deal_health": {"alert_factors": ["gossip"]}})
    with pytest.raises(InvalidPipelineConfig, match="stagnant_points"):
        validate_config({"deal_health": {"stagnant_points": -1}})


def test_the_vectorised_score_equals_the_row_by_row_one_on_random_deals() -> None:
    import numpy as np
    import polars as pl

    from revintel.pipeline.deal_health import score_deals, score_frame

    rng = np.random.default_rng(7)
    n = 2000
    start = date(2024, 1, 1)

    def days(lo: int, hi: int, blank: float = 0.2) -> list[date | None]:
        return [
            None if rng.random() < blank else date.fromordinal(start.toordinal() + int(d))
            for d in rng.integers(lo, hi, n)
        ]

    def flags() -> list[bool | None]:
        return [None if x < 0.2 else bool(x < 0.6) for x in rng.random(n)]

    signals = pl.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n)],
            "stage": rng.choice(["Prospecting", "Qualification", "Proposal", "Negotiation"], n),
            "amount": rng.uniform(0, 1000, n).round(0),
            "created_date": [start] * n,
            "stage_entered": days(0, 150),
            "expected_close_date": days(50, 250),
            "close_pushes": rng.integers(0, 3, n),
            "max_amount": rng.uniform(0, 1000, n).round(0),
            "last_activity": days(0, 150),
            "has_champion": flags(),
            "budget_confirmed": flags(),
            "decision_maker_engaged": flags(),
            "competitor": rng.choice(["", "Orbitly", None], n).tolist(),
        },
        schema_overrides={"competitor": pl.Utf8},
    )
    medians = {"Prospecting": 10.0, "Proposal": 30.0, "Negotiation": 12.0}
    for config in (DealHealthConfig(), DealHealthConfig(competitor_points=0, stagnant_ratio=0.5)):
        kw = {"as_of": date(2024, 6, 1), "config": config, "has_history": True}
        for acts in (True, False):
            rows = score_deals(signals, medians, has_activities=acts, **kw)
            frame = score_frame(signals, medians, has_activities=acts, **kw)
            assert frame["health_score"].to_list() == [h.score for h in rows]
            assert frame["health_category"].to_list() == [h.category for h in rows]
            expected = [", ".join(f.name for f in h.factors) for h in rows]
            assert frame["risk_factors"].to_list() == expected
