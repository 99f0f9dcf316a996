"""benchmarks/pipeline_page.py: the ratio to the bare Streamlit page decides the target."""

from __future__ import annotations

from benchmarks.pipeline_page import TARGET_VS_FLOOR, summary


def _rows(first: float, cold: float, floor: float) -> list[dict]:
    return [
        {"measure": "pipeline_first_render_cold_server", "median_seconds": cold},
        {"measure": "pipeline_first_render", "median_seconds": first},
        {"measure": "first_render_streamlit_floor", "median_seconds": floor},
    ]


def test_the_target_is_the_warm_server_median_over_the_floor() -> None:
    within = summary(_rows(first=1.2, cold=3.0, floor=1.0))
    assert within["ratio"] == TARGET_VS_FLOOR == 1.2 and within["met"] is True
    assert within["cold_server_ratio"] == 3.0  # reported, not the target's figure

    over = summary(_rows(first=1.3, cold=1.3, floor=1.0))
    assert over["ratio"] == 1.3 and over["met"] is False
