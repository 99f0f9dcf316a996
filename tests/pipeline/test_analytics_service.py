"""The analytics service on the small deal company (docs/pipeline.md): summary, by stage,
dashboard, won deals, competitors, scenario and the errors that name the option."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.pipeline.frames import MissingDealData
from revintel.pipeline.scenario import ScenarioInputs
from revintel.pipeline.service import analytics as service
from tests.conftest import isolated_settings
from tests.pipeline.deal_company import deal_context


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = deal_context(tmp_path)
    yield context
    context.close()


def test_summary_figures(ctx: AppContext) -> None:
    s = service.summary(ctx)
    assert s.as_of == date(2024, 3, 25)
    assert (s.deal_count, s.open_pipeline) == (4, 20600.0)
    assert s.avg_deal_size == pytest.approx(5150.0)
    assert (s.closed_deals, s.won_deals, s.win_rate) == (4, 2, 0.5)
    assert s.slipped_deals == 2  # D2 (closed since) and D4 (open) had their close date pushed
    assert s.weighted_forecast_90d > 0


def test_weighted_forecast_uses_the_stage_probabilities_in_force(ctx: AppContext) -> None:
    from revintel.pipeline.config import FILE, validate_config

    probs = {"Prospecting": 0.1, "Qualification": 0.2, "Proposal": 0.5, "Negotiation": 0.8}
    FILE.home_file(ctx.settings).write_text(
        "[stage_probabilities]\n" + "".join(f'"{k}" = {v}\n' for k, v in probs.items())
    )
    assert validate_config({"stage_probabilities": probs})  # the file's content is valid
    s = service.summary(ctx)
    # D4 12,000 × 0.8 + D5 5,000 × 0.5 + D6 2,400 × 0.2 expected by 2024-06-23 (D8 in June 30)
    assert s.weighted_forecast_90d == pytest.approx(12580.0)
    rows = {r["stage"]: r for r in service.by_stage(ctx)}
    assert rows["Negotiation"]["weighted_amount"] == pytest.approx(9600.0)


def test_by_stage_and_dashboard_shapes(ctx: AppContext) -> None:
    rows = service.by_stage(ctx)
    assert [r["stage"] for r in rows] == ["Prospecting", "Qualification", "Proposal", "Negotiation"]
    assert {"stage", "deals", "amount", "weighted_amount"} <= set(rows[0])
    d = service.dashboard(ctx)
    assert set(d["kpis"]) >= {
        "total_pipeline", "deal_count", "avg_deal_size", "weighted_forecast_90d", "at_risk_deals"
    }  # fmt: skip
    # The dashboard's count is the at-risk alert list's length, with and without a filter.
    from revintel.pipeline.service.deals import at_risk

    alerts = at_risk(ctx).deals
    assert d["kpis"]["at_risk_deals"] == len(alerts) == 1
    ana = service.summary(ctx, service.make_filter(owner="Ana"))
    assert ana.at_risk_deals == sum(a["owner"] == "Ana" for a in alerts)
    assert len(d["monthly_forecast"]) == 6 and d["monthly_forecast"][0]["month"] == "2024-03"


def test_filters_and_their_errors(ctx: AppContext) -> None:
    s = service.summary(ctx, service.make_filter(owner="Ana"))
    assert (s.deal_count, s.closed_deals, s.won_deals) == (1, 3, 1)
    with pytest.raises(service.InvalidPipelineOption, match=r"owner 'Zed'.*expected one of Ana"):
        service.summary(ctx, service.make_filter(owner="Zed"))
    with pytest.raises(service.InvalidPipelineOption, match="stage 'Won'"):
        service.make_filter(stage="Won")
    with pytest.raises(service.InvalidPipelineOption, match="from '2024-1-5'"):
        service.make_filter(created_from="2024-1-5")
    with pytest.raises(service.InvalidPipelineOption, match="after to"):
        service.make_filter(created_from="2024-03-01", created_to="2024-02-01")
    with pytest.raises(service.InvalidPipelineOption, match="by 'plan'"):
        service.win_rates(ctx, "plan")


def test_won_summary_and_competitors(ctx: AppContext) -> None:
    won = service.won_summary(ctx)
    assert won["totals"]["won_deals"] == 2
    assert {r["value"] for r in won["win_rates"]["competitor"]} == {
        "(none)", "Orbitly", "Vantage Cloud"
    }  # fmt: skip
    report = service.competitors(ctx)
    rows = {r["competitor"]: r for r in report.competitors}
    assert (rows["Orbitly"]["closed"], rows["Orbitly"]["won"]) == (2, 1)
    assert rows["Orbitly"]["ci_low"] < 0.5 < rows["Orbitly"]["ci_high"]
    assert report.overall["win_rate"] == 0.5
    assert "z-test" in report.test
    assert {(r["competitor"], r["stage"]) for r in report.lost_at_stage} == {
        ("Orbitly", "Qualification"), ("Vantage Cloud", "Proposal")
    }  # fmt: skip


def test_scenario_on_the_pipeline(ctx: AppContext) -> None:
    r = service.scenario(ctx, ScenarioInputs(0.1, 0.05, 0.15))
    assert r.baseline["pipeline"] == 20600.0 and r.baseline["win_rate"] == 0.5
    assert r.projected["forecast"] == pytest.approx(20600 * 1.15 * 0.55 * 1.05)
    per = service.scenario(ctx, ScenarioInputs(), segments={"SMB": {"win_rate_increase": 0.5}})
    smb = next(s for s in per.by_segment if s["segment"] == "SMB")
    assert smb["projected"]["win_rate"] == pytest.approx(0.75)
    with pytest.raises(service.InvalidPipelineOption, match=r"segments\.Retail"):
        service.scenario(ctx, ScenarioInputs(), segments={"Retail": {}})


def test_win_drivers_needs_enough_closed_deals(ctx: AppContext) -> None:
    with pytest.raises(MissingDealData, match="at least 30 closed deals"):
        service.win_drivers(ctx)


def test_no_deals_loaded_says_so(tmp_path: Path) -> None:
    empty = AppContext(isolated_settings(tmp_path / "home"))
    try:
        with pytest.raises(MissingDealData, match="no deals are loaded"):
            service.summary(empty)
    finally:
        empty.close()


def test_weighted_pipeline_is_undefined_without_expected_close_dates(tmp_path: Path) -> None:
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings

    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "deals.csv").write_text(
        "deal_id,account_id,owner,stage,amount,created_date,expected_close_date,closed_date\n"
        "X1,,Ann,Proposal,1000,2024-01-02,,\n"
        "X2,,Ann,Closed Won,500,2024-01-03,,2024-02-01\n"
    )
    (folder / "deal_stage_history.csv").write_text(
        "deal_id,stage,entered_at\n"
        "X1,Proposal,2024-01-02\n"
        "X2,Proposal,2024-01-03\n"
        "X2,Closed Won,2024-02-01\n"
    )
    c = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=None))
    try:
        load_paths(c, [folder], source="test")
        s = service.summary(c)
        assert s.open_pipeline == 1000.0
        assert s.weighted_forecast_90d is None  # not 0: nothing is dated to close
        assert service.dashboard(c)["kpis"]["weighted_forecast_90d"] is None
    finally:
        c.close()
