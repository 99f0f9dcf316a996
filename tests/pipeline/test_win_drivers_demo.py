"""On the demo company the win-drivers table recovers the planted odds ratios (docs/pipeline.md,
Win drivers): each planted value inside its 95% interval (one miss allowed: with seven 95%
intervals one miss is not unusual), every flag raising and every competitor lowering the odds."""

from __future__ import annotations

from pathlib import Path

from revintel.pipeline.service import analytics as service
from tests.conftest import generated_company


def test_the_demo_recovers_the_planted_win_drivers(tmp_path: Path) -> None:
    with generated_company(tmp_path, customers=2000, months=36, seed=42) as ctx:
        result = service.win_drivers(ctx, truth=tmp_path / "company" / "truth")
    assert result.truth_compared
    drivers = {d.feature: d for d in result.drivers}
    assert len(drivers) == 7
    within = [f for f, d in drivers.items() if d.planted_within_ci]
    assert len(within) >= 6, {
        f: (d.ci_low, d.planted_odds_ratio, d.ci_high) for f, d in drivers.items()
    }
    for feature, d in drivers.items():
        assert (d.odds_ratio > 1) == (not feature.startswith("competitor=")), feature
    assert result.holdout_auc is not None and result.holdout_auc > 0.65
