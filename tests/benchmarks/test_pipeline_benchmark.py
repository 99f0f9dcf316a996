"""benchmarks/pipeline.py: the scale writer's files load as they are and are shaped like a CRM's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from benchmarks.pipeline import (
    OPEN_RECENT_DAYS,
    QUERY_STEPS,
    TARGETS,
    USES_SHARED_BASE,
    measure,
    run_step,
    write_maven_export,
    write_scale_data,
)

from revintel.pipeline.stages import OPEN_STAGES

FAST_STEPS = [
    "stage_probabilities",
    "open_by_stage",
    "win_rate_by_owner",
    "activities_per_deal",
    "pipeline_summary",
    "stage_weighted_forecast",
]


def test_scale_data_has_the_sizes_asked_and_valid_histories(tmp_path: Path) -> None:
    rows = write_scale_data(tmp_path, deals=500, history_per_deal=6, activities_per_deal=3)

    assert rows == {"deals": 500, "deal_stage_history": 3000, "deal_activities": 1500}
    deals = pl.read_parquet(tmp_path / "deals.parquet")
    history = pl.read_parquet(tmp_path / "deal_stage_history.parquet").sort("deal_id", "entered_at")
    assert deals["deal_id"].n_unique() == 500
    assert history.select("deal_id", "stage", "entered_at").is_unique().all()
    # Dates strictly increase within a deal; a deal's history starts at its creation and a closed
    # deal's ends in its closing stage on its close date.
    firsts = history.group_by("deal_id").agg(
        first=pl.col("entered_at").first(),
        last=pl.col("entered_at").last(),
        last_stage=pl.col("stage").last(),
        steps=pl.col("entered_at").diff().dt.total_days().min(),
    )
    joined = deals.join(firsts, on="deal_id")
    assert (joined["steps"] >= 1).all()
    assert (joined["first"] == joined["created_date"]).all()
    closed = joined.filter(pl.col("closed_date").is_not_null())
    assert (closed["last"] == closed["closed_date"]).all()
    assert (closed["last_stage"] == closed["stage"]).all()
    still_open = joined.filter(pl.col("closed_date").is_null())
    assert still_open["stage"].is_in(list(OPEN_STAGES)).all()
    activities = pl.read_parquet(tmp_path / "deal_activities.parquet")
    assert activities["activity_id"].n_unique() == 1500
    assert activities["deal_id"].is_in(deals["deal_id"].implode()).all()


def test_the_benchmark_loads_and_times_every_step(tmp_path: Path) -> None:
    write_scale_data(tmp_path / "data", deals=300)
    write_maven_export(tmp_path / "export", deals=300)

    record = measure(tmp_path / "data", tmp_path / "home", tmp_path / "export", only=FAST_STEPS)

    assert record["rows"] == {"deals": 300, "deal_stage_history": 1500, "deal_activities": 3000}
    assert record["mapped_rows"]["deals"] == 300
    for step in ("load", "data_as_of", "stage_probabilities", "open_by_stage", "mapped_load"):
        assert record[f"{step}_seconds"] > 0
    figures = {f["step"]: f for f in record["steps"]}
    assert figures["pipeline_summary"]["open_deals"] == figures["open_by_stage"]["open_deals"]
    assert [f["step"] for f in record["steps"]] == ["load", *FAST_STEPS]
    _check_figures(record["steps"])


def _check_figures(rows: list[dict]) -> None:
    for row in rows:
        assert "error" not in row and "skipped" not in row, row
        assert row["seconds"] > 0 and row["peak_rss_mb"] > 0
        # Rows per second come from the unrounded seconds; the reported seconds are rounded to
        # the millisecond, so the true time lies within half a millisecond of them.
        fastest = row["rows"] / max(row["seconds"] - 0.0005, 1e-9)
        slowest = row["rows"] / (row["seconds"] + 0.0005)
        assert slowest - 1 <= row["rows_per_second"] <= fastest + 1, row
        if row["step"] in TARGETS:
            assert row["met"] == (row.get("cold_seconds", row["seconds"]) <= TARGETS[row["step"]])


def test_the_forecast_steps_run_on_the_scale_data(tmp_path: Path) -> None:
    # A short span keeps the month-start snapshots few (each cold step rebuilds them).
    write_scale_data(tmp_path / "data", deals=1500, open_deals=300, span_days=150)
    # The monthly forecast is timed only when named.
    steps = [*(s for s in QUERY_STEPS if s not in FAST_STEPS), "monthly_forecast"]

    record = measure(tmp_path / "data", tmp_path / "home", None, only=steps)

    figures = {f["step"]: f for f in record["steps"]}
    assert list(figures) == ["load", *steps]
    _check_figures(record["steps"])
    # The forecast steps reuse the snapshots' base; their cold time adds its build.
    built = figures["forecast_snapshots"]["seconds"]
    for name in USES_SHARED_BASE:
        assert figures[name]["cold_seconds"] == pytest.approx(
            figures[name]["seconds"] + built, abs=0.002
        )
    assert figures["backtest"]["snapshots"] >= 1
    assert figures["train_close_probability"]["closed_deals"] <= 1200
    assert figures["close_probability_scoring"]["open_deals_scored"] == 300
    # Health scores every open deal; the alerts are among them.
    assert figures["deal_health"]["open_deals_scored"] == 300
    assert 0 <= figures["at_risk_alerts"]["alerts"] <= 300


def test_open_deals_and_span_are_as_asked(tmp_path: Path) -> None:
    write_scale_data(tmp_path, deals=400, open_deals=300, span_days=30)

    deals = pl.read_parquet(tmp_path / "deals.parquet")
    assert deals.filter(pl.col("closed_date").is_null()).height == 300
    assert deals.filter(pl.col("stage").is_in(list(OPEN_STAGES))).height == 300
    closed = deals.filter(pl.col("closed_date").is_not_null())
    assert (closed["created_date"].max() - closed["created_date"].min()).days < 30
    # Open deals were last changed near the data's end.
    history = pl.read_parquet(tmp_path / "deal_stage_history.parquet")
    last = history.group_by("deal_id").agg(pl.col("entered_at").max())
    open_last = last.join(deals.filter(pl.col("closed_date").is_null()), on="deal_id")
    latest = history["entered_at"].max()
    assert (open_last["entered_at"] > latest - timedelta(days=OPEN_RECENT_DAYS)).all()
    with pytest.raises(ValueError, match="open_deals"):
        write_scale_data(tmp_path, deals=10, open_deals=11)


def test_a_step_is_skipped_when_its_module_is_missing_and_refusals_are_reported() -> None:
    from revintel.core.errors import NoDataError

    def missing() -> dict:
        raise ImportError("no module named revintel.pipeline.nothing")

    def refused() -> dict:
        raise NoDataError("no history")

    assert "skipped" in run_step("backtest", missing)
    row = run_step("backtest", refused)
    assert row["error"] == "no history" and row["met"] is False
