"""benchmarks/_retention_report.py: the executive-report part runs end to end on a small company
and reports each phase."""

from __future__ import annotations

from benchmarks._retention_report import TARGET_SECONDS, run


def test_report_part_on_a_small_company() -> None:
    result = run(["--customers", "300", "--months", "15", "--seed", "3", "--no-churn"])
    assert result["customers"] == 300 and result["prepare"]["load_seconds"] > 0
    assert result["pdf_bytes"] > 10_000 and result["pdf_pages"] >= 2
    phases = result["build_phases"]
    assert {"kpis", "forecast", "risk", "pipeline", "attribution", "total"} <= set(phases)
    total = result["build_seconds"] + result["charts_and_html_seconds"] + result["pdf_seconds"]
    assert abs(result["report_seconds"] - total) < 0.02  # each phase rounded to 0.01 s
    assert result["within_target"] == (result["report_seconds"] <= TARGET_SECONDS)
    assert "churn risk" in result["missing_sections"]  # no model was trained
