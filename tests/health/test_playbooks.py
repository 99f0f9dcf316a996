"""Tiers and playbooks at their boundaries: exactly 40 and 70, exactly $250k, exactly 90 days."""

from __future__ import annotations

import polars as pl
import pytest

from revintel.health.config import HealthConfig, validate_config
from revintel.health.playbooks import money_column, tier_expr, with_playbooks


def _assign(
    score: float | None, arr: float, days: int | None, config: HealthConfig | None = None
) -> dict:
    config = config or HealthConfig()
    frame = pl.DataFrame(
        {"health_score": [score], "arr": [arr], "days_since_contact": [days]},
        schema={"health_score": pl.Float64, "arr": pl.Float64, "days_since_contact": pl.Int64},
    )
    frame = frame.with_columns(tier=tier_expr(pl.col("health_score"), config))
    return with_playbooks(frame, config).row(0, named=True)


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        (100.0, "Healthy"),
        (70.0, "Healthy"),
        (69.9, "At Risk"),
        (40.0, "At Risk"),
        (39.9, "Critical"),
        (0.0, "Critical"),
        (None, None),
    ],
)
def test_tier_cut_offs(score: float | None, tier: str | None) -> None:
    assert _assign(score, 1000, 10)["tier"] == tier


@pytest.mark.parametrize(
    ("score", "arr", "days", "playbook"),
    [
        (39.9, 250_000.0, 10, "Executive Sponsor Call"),  # exactly $250k
        (39.9, 249_999.99, 10, "Risk Mitigation Plan"),
        (39.9, 1_000_000.0, 400, "Executive Sponsor Call"),  # first match wins over silence
        (20.0, 5_000.0, 400, "Risk Mitigation Plan"),
        (40.0, 900_000.0, 10, "Strategy Session / QBR"),  # exactly 40 is At Risk, not Critical
        (69.9, 5_000.0, 10, "Strategy Session / QBR"),
        (70.0, 5_000.0, 90, "Value Realization Report"),  # exactly 90 days is not "more than 90"
        (70.0, 5_000.0, 91, "Strategy Session / QBR"),  # silent churn
        (95.0, 5_000.0, None, "Value Realization Report"),  # unknown contact never triggers
        (None, 5_000.0, 91, "Strategy Session / QBR"),
        (None, 5_000.0, 10, None),
    ],
)
def test_playbook_rules(score: float | None, arr: float, days: int | None, playbook) -> None:
    assert _assign(score, arr, days)["playbook"] == playbook


def test_reasons_say_why_in_words() -> None:
    assert _assign(39.9, 250_000, 10)["reason"] == (
        "Critical (health 39.9 < 40) and high value: ARR $250,000 ≥ $250,000"
    )
    assert _assign(12.0, 1_234_567.4, 10)["reason"] == (
        "Critical (health 12.0 < 40) and high value: ARR $1,234,567 ≥ $250,000"
    )
    # Chosen because the account is Critical: its ARR is not compared with the threshold.
    assert _assign(35.0, 9_000, 10)["reason"] == "Critical (health 35.0 < 40)"
    assert _assign(35.0, 2_540, 400)["reason"] == "Critical (health 35.0 < 40)"
    assert _assign(55.0, 9_000, 120)["reason"] == (
        "At Risk (health 55.0, 40–70); no contact for 120 days (> 90): silent churn risk"
    )
    assert _assign(80.0, 9_000, 91)["reason"] == (
        "Healthy (health 80.0); no contact for 91 days (> 90): silent churn risk"
    )
    assert (
        _assign(80.0, 9_000, 5)["reason"] == "Healthy (health 80.0 ≥ 70), last contact 5 days ago"
    )
    row = _assign(80.0, 9_000, 91)
    assert row["silent"] is True


def test_thresholds_are_configurable() -> None:
    config = validate_config(
        {"high_value_arr": 50_000, "no_contact_days": 30, "tiers": {"healthy_from": 80}}
    )
    assert _assign(39.0, 50_000, 5, config)["playbook"] == "Executive Sponsor Call"
    assert _assign(75.0, 1_000, 5, config)["playbook"] == "Strategy Session / QBR"  # now At Risk
    assert _assign(85.0, 1_000, 31, config)["playbook"] == "Strategy Session / QBR"
    assert _assign(85.0, 1_000, 30, config)["playbook"] == "Value Realization Report"


def test_money_text() -> None:
    amounts = [0.0, 7.6, 999.4, 1000.0, 250_000.0, 1_000_000.0, 12_003_045.0]
    out = money_column(pl.Series([*amounts, None, 999.4])).to_list()
    assert out == [
        "$0", "$8", "$999", "$1,000", "$250,000", "$1,000,000", "$12,003,045", None, "$999"
    ]  # fmt: skip
