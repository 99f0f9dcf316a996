"""Win drivers recover known odds ratios (docs/pipeline.md, Win drivers)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from revintel.pipeline.frames import MissingDealData
from revintel.pipeline.win_drivers import fit_win_drivers

TRUE = {
    "has_champion": 0.9,
    "budget_confirmed": 0.7,
    "decision_maker_engaged": 1.1,
    "competitor=Orbitly": -0.6,
    "competitor=PeakMetrics": -0.9,
}


def _deals(n: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    flags = {k: rng.random(n) < 0.45 for k in ("has_champion", "budget_confirmed",
                                                 "decision_maker_engaged")}  # fmt: skip
    comp = rng.choice(np.array(["", "Orbitly", "PeakMetrics"]), n, p=[0.5, 0.3, 0.2])
    deal_type = rng.choice(np.array(["New Business", "Expansion"]), n, p=[0.7, 0.3])
    segment = rng.choice(np.array(["SMB", "Mid-Market", "Enterprise"]), n)
    logit = -1.5 + 1.2 * (deal_type == "Expansion") - 0.4 * (segment == "Enterprise")
    logit = logit + sum(TRUE[k] * v for k, v in flags.items())
    logit = logit + TRUE["competitor=Orbitly"] * (comp == "Orbitly")
    logit = logit + TRUE["competitor=PeakMetrics"] * (comp == "PeakMetrics")
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    start = date(2023, 1, 1)
    return pl.DataFrame(
        {
            "won": won.astype(int),
            "closed_date": [start + timedelta(days=int(i) // 5) for i in range(n)],
            **flags,
            "competitor": comp,
            "deal_type": deal_type,
            "segment": segment,
        }
    )


def test_recovers_the_odds_ratios_within_their_intervals() -> None:
    truth = pl.DataFrame(
        {"feature": list(TRUE), "odds_ratio": [float(np.exp(v)) for v in TRUE.values()]}
    )
    result = fit_win_drivers(_deals(6000), truth)
    got = {d.feature: d for d in result.drivers}
    assert set(got) == set(TRUE)
    for feature, coef in TRUE.items():
        d = got[feature]
        assert d.ci_low < d.odds_ratio < d.ci_high
        assert d.planted_odds_ratio == pytest.approx(np.exp(coef))
        assert d.planted_within_ci is bool(d.ci_low <= np.exp(coef) <= d.ci_high)
        assert d.odds_ratio == pytest.approx(np.exp(coef), rel=0.25)
    assert sum(d.planted_within_ci for d in got.values()) >= 4
    assert result.truth_compared
    assert len(result.controls) == 3  # one deal type and two segments beside the baselines
    assert sum(c.startswith("segment=") for c in result.controls) == 2
    assert result.holdout_auc is not None and 0.6 < result.holdout_auc < 0.9
    assert result.holdout_deals == 1500


def test_a_blank_flag_leaves_the_deal_out_and_says_so() -> None:
    frame = _deals(600).with_columns(
        has_champion=pl.when(pl.int_range(pl.len()) < 50)
        .then(None)
        .otherwise(pl.col("has_champion"))
    )
    result = fit_win_drivers(frame)
    assert result.left_out == 50 and result.deals == 550
    assert any("blank qualification flag" in n for n in result.notes)
    assert not result.truth_compared


def test_without_flags_or_competitors_it_says_what_is_missing() -> None:
    frame = _deals(200).select("won", "closed_date", "deal_type", "segment")
    with pytest.raises(MissingDealData, match="qualification flags"):
        fit_win_drivers(frame)
