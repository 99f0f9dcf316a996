"""benchmarks/pipeline.py: the scale writer's files load as they are and are shaped like a CRM's."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from benchmarks.pipeline import measure, write_maven_export, write_scale_data

from revintel.pipeline.stages import OPEN_STAGES


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

    record = measure(tmp_path / "data", tmp_path / "home", tmp_path / "export")

    assert record["rows"] == {"deals": 300, "deal_stage_history": 1500, "deal_activities": 3000}
    assert record["mapped_rows"]["deals"] == 300
    for step in ("load", "data_as_of", "stage_probabilities", "open_by_stage", "mapped_load"):
        assert record[f"{step}_seconds"] > 0
