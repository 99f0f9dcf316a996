"""The forecast service on a small synthetic deal company (docs/pipeline.md: Forecasts, Forecast
accuracy backtest, Close probability)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.core.errors import NoDataError, NotFoundError
from revintel.pipeline import probability as prob
from revintel.pipeline.service import forecasts

from .forecast_company import loaded_deal_home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loaded_deal_home(tmp_path_factory.mktemp("forecast"))


@pytest.fixture
def ctx(home: Path) -> Iterator[AppContext]:
    c = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    yield c
    c.close()


def test_backtest_scores_every_method_and_horizon_against_what_was_won(ctx: AppContext) -> None:
    result = forecasts.backtest(ctx)
    assert result.snapshots >= 6
    keys = {(r.method, r.horizon_days) for r in result.accuracy}
    assert keys == {(m, h) for m in forecasts.fc.METHODS for h in (30, 60, 90)}
    by = {(r.method, r.horizon_days): r for r in result.accuracy}
    for h in (30, 60, 90):
        naive = [p for p in result.points if p.method == "naive" and p.horizon_days == h]
        used = [p for p in naive if p.actual > 0]
        mape = sum(abs(p.forecast - p.actual) / p.actual for p in used) / len(used) * 100
        assert by[("naive", h)].mape == pytest.approx(mape, abs=0.05)
        for m in ("stage_weighted", "probability_weighted"):
            row = by[(m, h)]
            assert row.mape is not None and row.coverage_80 is not None
            assert 0 <= row.coverage_80 <= row.coverage_95 <= 1
    # The history carries forecast categories here, so the reps' call is scored too.
    assert by[("categories", 90)].snapshots == result.snapshots
    # Every actual is the amount won in the window after the snapshot, whatever the method.
    first = result.points[0]
    same = [
        p.actual
        for p in result.points
        if (p.snapshot, p.horizon_days) == (first.snapshot, first.horizon_days)
    ]
    assert len(set(same)) == 1


def test_monthly_forecast_gives_each_method_with_ordered_intervals(ctx: AppContext) -> None:
    result = forecasts.monthly_forecast(ctx, months=3)
    assert result.as_of == "2024-12-31"
    assert [m["month"] for m in result.months] == ["2025-01", "2025-02", "2025-03"]
    assert [w["horizon_days"] for w in result.windows] == [30, 60, 90]
    for row in result.months + result.windows:
        for method in ("stage_weighted", "probability_weighted", "time_series"):
            e = row[method]
            assert e["low_95"] <= e["low_80"] <= e["value"] <= e["high_80"] <= e["high_95"]
    w = {x["horizon_days"]: x["probability_weighted"]["value"] for x in result.windows}
    assert w[30] <= w[60] <= w[90]
    assert result.open_deals > 0
    assert set(result.stage_probabilities) <= {
        "Prospecting",
        "Qualification",
        "Proposal",
        "Negotiation",
    }


def test_monthly_forecast_refuses_a_horizon_out_of_range(ctx: AppContext) -> None:
    with pytest.raises(forecasts.InvalidForecastOption, match="months: expected 1-6"):
        forecasts.monthly_forecast(ctx, months=7)


def test_train_holds_out_the_latest_deals_and_reports_the_oracle(ctx: AppContext) -> None:
    result = forecasts.train(ctx)
    assert result.roc_auc is not None and result.roc_auc > 0.6
    assert 0 < result.brier < 0.25
    assert result.oracle_auc is not None and 0.55 < result.oracle_auc < 0.85
    assert result.test_deals > 0 and result.train_deals > result.test_deals
    assert Path(result.model_path).exists()
    loaded = forecasts.load_model(ctx)
    assert loaded is not None and loaded.metrics["roc_auc"] == result.roc_auc


def test_close_probability_returns_the_rule_and_the_model_for_a_deal(ctx: AppContext) -> None:
    open_deals = forecasts.open_deal_probabilities(ctx)
    deal_id = open_deals["deal_id"][0]
    r = forecasts.close_probability(ctx, prob.RuleInput("Proposal"), deal_id=deal_id).to_dict()
    assert r["breakdown"]["base_probability"] == 50
    assert 0 <= r["model"]["close_probability"] <= 100
    assert r["model"]["deal_id"] == deal_id
    with pytest.raises(NotFoundError, match="deal_id: no open deal 'nope'"):
        forecasts.close_probability(ctx, prob.RuleInput("Proposal"), deal_id="nope")


def test_without_deals_the_service_says_what_is_missing(tmp_path: Path) -> None:
    c = AppContext(Settings(home=tmp_path, warehouse_url=None, database_url=None))
    try:
        with pytest.raises(NoDataError, match="no deals are loaded"):
            forecasts.backtest(c)
        # The rule needs no data.
        r = forecasts.close_probability(c, prob.RuleInput("Negotiation")).to_dict()
        assert r["close_probability"] == 70 and r["model"] is None
    finally:
        c.close()


def test_a_deals_close_probability_reads_its_snapshot(ctx: AppContext) -> None:
    open_deals = forecasts.open_deal_probabilities(ctx)
    row = open_deals.row(0, named=True)
    r = forecasts.deal_close_probability(ctx, row["deal_id"]).to_dict()
    base = {"Prospecting": 10, "Qualification": 25, "Proposal": 50, "Negotiation": 70}
    assert r["breakdown"]["base_probability"] == base[row["stage"]]
    assert r["model"]["close_probability"] == pytest.approx(row["p_model"] * 100, abs=0.06)
    assert forecasts.probability_weighted_90d(ctx) == pytest.approx(
        forecasts.monthly_forecast(ctx).windows[2]["probability_weighted"]["value"], abs=0.01
    )


def test_without_history_only_todays_forecast_runs_and_says_what_is_missing(
    tmp_path: Path,
) -> None:
    from revintel.app.ingest import load_paths

    from .forecast_company import write_deal_company

    folder = write_deal_company(tmp_path / "co", n=80)
    (folder / "deal_stage_history.csv").unlink()
    (folder / "truth").rmdir()
    c = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=None))
    try:
        load_paths(c, [folder], source="test")
        result = forecasts.monthly_forecast(c, months=1)
        assert result.open_deals > 0
        assert any("no stage probability" in n for n in result.notes)
        assert any("too few closed deals" in n for n in result.notes)
        with pytest.raises(NoDataError, match="deal_stage_history"):
            forecasts.backtest(c)
        with pytest.raises(NoDataError, match="deal_stage_history"):
            forecasts.train(c)
    finally:
        c.close()


def test_segment_forecasts_add_up_and_an_unknown_owner_is_named(ctx: AppContext) -> None:
    def pw(**f: str) -> float:
        r = forecasts.monthly_forecast(ctx, months=1, **f)
        return r.windows[2]["probability_weighted"]["value"]

    total = pw()
    parts = pw(segment="SMB") + pw(segment="Mid-Market")
    assert parts == pytest.approx(total, rel=1e-6)
    with pytest.raises(forecasts.InvalidForecastOption, match="owner: unknown owner 'Nobody'"):
        forecasts.monthly_forecast(ctx, owner="Nobody")
    one = forecasts.backtest(ctx, owner="Rep 1")
    assert one.snapshots >= 1
    naive = [p for p in one.points if p.method == "naive"]
    everyone = forecasts.backtest(ctx)
    assert sum(p.actual for p in naive) < sum(
        p.actual for p in everyone.points if p.method == "naive"
    )
