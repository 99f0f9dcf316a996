"""benchmarks/attribution.py: the scale writer's journeys load as they are, the journey step times
the real builder, and every model step reports its figures and conserves credit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
from benchmarks.attribution import STEPS, TARGETS, Run, measure, run_step, write_scale_data


def _in_window(data: Path, days: int = 90) -> tuple[int, int]:
    """Touches within ``days`` of their journey's end (the conversion, or the last touch), and
    the journeys, computed from the files."""
    touches = pl.read_parquet(data / "touchpoints.parquet")
    conversions = pl.read_parquet(data / "conversions.parquet")
    ends = touches.group_by("journey_id").agg(last=pl.col("touched_at").max())
    ends = ends.join(
        conversions.select("journey_id", "converted_at"), on="journey_id", how="left"
    ).with_columns(end=pl.coalesce("converted_at", "last"))
    joined = touches.join(ends, on="journey_id")
    kept = joined.filter(pl.col("touched_at") >= pl.col("end") - timedelta(days=days))
    return kept.height, ends.height


def test_scale_data_has_the_sizes_asked(tmp_path: Path) -> None:
    rows = write_scale_data(tmp_path, touchpoints=5_000, journeys=1_000, channels=12)

    assert rows == {"touchpoints": 5_000, "conversions": 300, "customers": 300}
    touches = pl.read_parquet(tmp_path / "touchpoints.parquet")
    conversions = pl.read_parquet(tmp_path / "conversions.parquet")
    assert touches["touchpoint_id"].n_unique() == 5_000
    assert touches["journey_id"].n_unique() == 1_000
    assert touches["channel"].n_unique() == 12
    assert conversions["journey_id"].n_unique() == 300
    assert conversions["journey_id"].is_in(touches["journey_id"].implode()).all()
    # A journey converts at or after its last touch, within two days.
    last = touches.group_by("journey_id").agg(last=pl.col("touched_at").max())
    lag = conversions.join(last, on="journey_id").select(
        (pl.col("converted_at") - pl.col("last")).alias("lag")
    )["lag"]
    assert lag.min() >= timedelta(0)
    assert lag.max() <= timedelta(days=2)


def test_load_and_journey_step_time_the_real_builder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_scale_data(data, touchpoints=3_000, journeys=600)
    expected_touches, expected_journeys = _in_window(data)

    record = measure(data, tmp_path / "home", only=["journeys"])

    assert record["rows"] == {"customers": 180, "touchpoints": 3_000, "conversions": 180}
    load, journeys = record["steps"]
    assert load["step"] == "load"
    assert load["rows"] == 3_360
    assert journeys["step"] == "journeys"
    assert "error" not in journeys
    assert journeys["journeys"] == expected_journeys == 600
    assert journeys["converting_journeys"] == 180
    assert journeys["rows"] == expected_touches
    assert expected_touches < 3_000  # some touches fall outside the 90-day window
    assert journeys["channels"] == 12
    assert journeys["seconds"] > 0
    assert journeys["peak_rss_mb"] > 0
    # rows per second from the unrounded seconds: within the millisecond rounding of the seconds
    rows, seconds = journeys["rows"], journeys["seconds"]
    assert rows / (seconds + 0.0005) - 1 <= journeys["rows_per_second"]
    assert journeys["rows_per_second"] <= rows / max(seconds - 0.0005, 1e-9) + 1


def test_every_model_step_reports_its_figures_and_conserves(tmp_path: Path) -> None:
    """Needs every model (heuristics, Markov, Shapley) in the checkout."""
    data = tmp_path / "data"
    write_scale_data(data, touchpoints=3_000, journeys=600, channels=12)

    record = measure(data, tmp_path / "home")

    steps = {s["step"]: s for s in record["steps"]}
    assert list(steps) == ["load", *STEPS]
    journeys = steps["journeys"]
    for name, target in TARGETS.items():
        step = steps[name]
        assert "error" not in step, step
        assert step["conserves"] is True
        assert step["rows"] == journeys["rows"]
        assert step["target_seconds"] == target
        assert step["with_journeys_seconds"] >= step["seconds"]
        judged = step["with_journeys_seconds"] if name == "heuristics" else step["seconds"]
        assert step["met"] is (judged <= target)
    assert sorted(steps["heuristics"]["model_seconds"]) == sorted(
        [
            "first_touch",
            "last_touch",
            "last_non_direct",
            "linear",
            "time_decay",
            "position_based",
        ]
    )


def test_a_step_that_raises_is_reported_and_not_met() -> None:
    figures = run_step("markov_order_1", Run(warehouse=None))

    assert figures["error"].startswith("RuntimeError: the journeys were not built")
    assert figures["met"] is False
    assert figures["target_seconds"] == TARGETS["markov_order_1"]
    assert "rows" not in figures
