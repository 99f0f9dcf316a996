"""The campaigns part of the retention benchmark runs end to end at a small size."""

from __future__ import annotations

from benchmarks import _retention_campaigns


def test_the_campaigns_part_creates_a_campaign_and_reports_its_figures() -> None:
    result = _retention_campaigns.run(["--customers", "400"])
    assert result["customers"] == 400
    assert result["treated"] + result["holdout"] == 400
    assert 0.1 * 400 <= result["holdout"] <= 0.2 * 400  # 15% per risk tier
    assert result["tasks"] == result["treated"] * 4  # executive outreach: 4 steps
    assert result["seconds"] > 0 and result["cpu_seconds"] > 0
    assert result["target_seconds"] == 10.0
    assert result["within_target"] is (result["seconds"] <= 10.0)
