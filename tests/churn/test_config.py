"""Churn settings: brief 004's defaults, validation naming the key, files and their precedence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from revintel.api.errors import status_of
from revintel.churn.config import (
    ChurnConfig,
    InvalidChurnConfig,
    RiskTiers,
    churn_file,
    load_config,
    reset_config,
    save_config,
    to_toml,
    validate_config,
)
from revintel.core.config import Settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "revintel.toml"))
    return Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)


def test_defaults_are_brief_004s() -> None:
    c = ChurnConfig()
    assert (c.tiers.high, c.tiers.medium, c.tiers.low) == (0.7, 0.4, 0.2)
    assert c.tiers.method == "quantile"
    assert (c.tiers.high_share, c.tiers.medium_share, c.tiers.low_share) == (0.05, 0.10, 0.20)
    assert (c.tiers.high_lift, c.tiers.medium_lift, c.tiers.low_lift) == (4.0, 2.0, 1.0)
    assert (c.threshold, c.threshold_method) == (0.5, "manual")
    assert (c.cost_per_action, c.success_rate, c.value_per_save) == (500.0, 0.3, None)
    assert (c.retrain_every_months, c.drift_psi_threshold, c.promote_margin) == (1, 0.25, 0.005)
    assert c.default_horizon == 3  # the 3-month model scores by default (docs/churn.md)


@pytest.mark.parametrize(
    ("p", "tier"),
    [(0.95, "High"), (0.7, "Medium"), (0.4, "Medium"), (0.39, "Low"), (0.2, "Low"), (0.1, "Safe")],
)
def test_without_scores_the_fixed_cut_offs_apply(p: float, tier: str) -> None:
    tiers = RiskTiers()
    assert tiers.tier_of(p) == tier
    frame = pl.DataFrame({"p": [p, None]})
    assert frame.select(tiers.tier_expr("p"))["risk_tier"].to_list() == [tier, None]


SCORES = [i / 5000 for i in range(1, 501)]  # 0.0002 … 0.1: calibrated, none above 0.2


def test_default_tiers_are_shares_of_the_customers_scored() -> None:
    """Calibrated probabilities rarely pass 0.7: by default the riskiest 5% are High, the next
    10% Medium, the next 20% Low, the rest Safe."""
    tiers = RiskTiers()
    cut = tiers.cutoffs(SCORES)
    assert cut.method == "quantile"
    counts = {t: 0 for t in ("High", "Medium", "Low", "Safe")}
    for p in SCORES:
        counts[tiers.tier_of(p, SCORES)] += 1
    assert counts == {"High": 25, "Medium": 50, "Low": 100, "Safe": 325}
    frame = pl.DataFrame({"p": [0.098, 0.09, 0.08, 0.02, None]})
    tiered = frame.select(tiers.tier_expr("p", SCORES))["risk_tier"].to_list()
    assert tiered == ["High", "Medium", "Low", "Safe", None]
    rule = tiers.describe(cut)
    assert rule.startswith(f"Tiers: High > {cut.high:.1%}")
    assert "riskiest 5% of the customers scored are High" in rule


def test_no_cut_off_is_above_the_fixed_one() -> None:
    """Among very risky customers, any probability above 0.7 is High, even past the 5%."""
    risky = [0.5 + i / 1000 for i in range(450)]  # 0.5 … 0.949; the riskiest 5% above 0.92
    cut = RiskTiers().cutoffs(risky)
    assert (cut.high, cut.medium, cut.low) == (0.7, 0.4, 0.2)
    assert RiskTiers(high_share=0.01).tier_of(0.75, risky) == "High"


@pytest.mark.parametrize(
    ("p", "tier"),
    [(0.33, "High"), (0.32, "Medium"), (0.16, "Medium"), (0.15, "Low"), (0.08, "Low"),
     (0.07, "Safe")],
)  # fmt: skip
def test_lift_tiers_are_multiples_of_the_average_risk(p: float, tier: str) -> None:
    tiers = validate_config({"tiers": {"method": "lift"}}).tiers
    scores = [0.04, 0.12]  # average 8%: High from 32%, Medium from 16%, Low from 8%
    cut = tiers.cutoffs(scores)
    assert (cut.high, cut.medium, cut.low) == pytest.approx((0.32, 0.16, 0.08))
    assert tiers.tier_of(p, scores) == tier
    assert "High from 4×" in tiers.describe(cut) and "average risk of 8.0%" in tiers.describe(cut)


def test_fixed_tiers_are_an_option_and_ignore_the_scores() -> None:
    tiers = validate_config({"tiers": {"method": "fixed"}}).tiers
    cut = tiers.cutoffs(SCORES)
    assert (cut.high, cut.medium, cut.low, cut.method) == (0.7, 0.4, 0.2, "fixed")
    assert tiers.tier_of(0.5, SCORES) == "Medium"
    assert "fixed cut-offs" in tiers.describe(cut)


def test_bad_tier_settings_name_the_key() -> None:
    with pytest.raises(InvalidChurnConfig, match=r"tiers\.method"):
        validate_config({"tiers": {"method": "deciles"}})
    with pytest.raises(InvalidChurnConfig, match="high_lift > medium_lift > low_lift"):
        validate_config({"tiers": {"high_lift": 2.0, "medium_lift": 2.0}})
    with pytest.raises(InvalidChurnConfig, match="leave some customers Safe"):
        validate_config({"tiers": {"low_share": 0.9}})


def test_no_file_gives_the_defaults(settings: Settings) -> None:
    assert load_config(settings) == ChurnConfig()


def test_saved_settings_round_trip_and_reset(settings: Settings) -> None:
    config = ChurnConfig.model_validate(
        {
            "tiers": {"high": 0.8, "medium": 0.5, "low": 0.1},
            "threshold": 0.35,
            "threshold_method": "max_net_value",
            "value_per_save": 12_000.0,
            "retrain_every_months": 3,
        }
    )
    path = save_config(settings, config)
    assert path == churn_file(settings) == settings.home / "churn.toml"
    assert load_config(settings) == config

    reset_config(settings)
    assert load_config(settings) == ChurnConfig()


def test_unset_value_per_save_is_left_out_of_the_file() -> None:
    text = to_toml(ChurnConfig())
    assert "value_per_save" not in text and "[tiers]" in text


def test_home_file_overrides_revintel_toml(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "revintel.toml").write_text("[churn]\nthreshold = 0.3\ncost_per_action = 100.0\n")
    assert load_config(settings).threshold == 0.3
    settings.home.mkdir(parents=True)
    churn_file(settings).write_text("threshold = 0.6\n")

    config = load_config(settings)

    assert (config.threshold, config.cost_per_action) == (0.6, 100.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[tiers]\nhigh = 0.3\n", "tiers: tier bounds must be strictly decreasing"),
        ("[tiers]\nlow = 1.5\n", "tiers.low: Input should be less than 1, got 1.5"),
        ("threshold = 0\n", "threshold: Input should be greater than 0, got 0"),
        ('threshold_method = "best"\n', "threshold_method: Input should be 'manual'"),
        ("success_rate = 2.0\n", "success_rate: Input should be less than or equal to 1"),
        ("default_horizon = 2\n", "default_horizon: Input should be 1 or 3"),
        ("thresold = 0.3\n", "thresold: unknown setting"),
        ('promote_margin = "a lot"\n', "promote_margin: Input should be a valid number"),
    ],
)
def test_a_bad_file_names_the_key_and_what_was_expected(
    settings: Settings, text: str, expected: str
) -> None:
    settings.home.mkdir(parents=True)
    churn_file(settings).write_text(text)

    with pytest.raises(InvalidChurnConfig) as caught:
        load_config(settings)

    assert str(churn_file(settings)) in str(caught.value)
    assert expected in str(caught.value)
    assert status_of(caught.value) == 422


def test_a_file_that_is_not_toml_is_an_error(settings: Settings) -> None:
    settings.home.mkdir(parents=True)
    churn_file(settings).write_text("threshold = = 0.3\n")
    with pytest.raises(InvalidChurnConfig, match=r"churn\.toml: not valid TOML"):
        load_config(settings)


def test_churn_section_must_be_a_table(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "revintel.toml").write_text('churn = "high"\n')
    with pytest.raises(InvalidChurnConfig, match=r"\[churn\] must be a table"):
        load_config(settings)


def test_validate_config_lists_every_problem() -> None:
    with pytest.raises(InvalidChurnConfig) as caught:
        validate_config({"threshold": 2, "cost_per_action": -1})
    assert "threshold:" in str(caught.value) and "cost_per_action:" in str(caught.value)


def test_the_verdict_uses_the_tier_cut_offs_the_tables_use() -> None:
    """A customer's tier beside the decision comes from the cut-offs in force (here the default
    quantile ones), not from the fixed 0.7/0.4/0.2: 0.35 is Medium among these scores."""
    from revintel.churn.service import risk_verdict

    cfg = ChurnConfig.model_validate({"threshold": 0.25})
    scores = [0.01 * i for i in range(1, 41)]  # 0.01 … 0.40
    cut = cfg.tiers.cutoffs(scores)
    verdict = risk_verdict(0.35, cfg, cut)
    assert verdict.tier == cfg.tiers.tier_of(0.35, scores) == "Medium"
    assert verdict.flagged and verdict.decision_label == "On the retention list"
    assert f"{cut.medium:.1%}" in verdict.explanation
    assert risk_verdict(0.35, cfg).tier == "Low"  # the fixed cut-offs, when none are given


def test_a_tied_top_plateau_is_high_rather_than_no_one() -> None:
    # A calibrated model puts 12% of the customers on its top score: the riskiest 5% cannot be
    # cut out of them, and "High > cut-off" at the plateau would leave High empty.
    scores = np.r_[np.full(12, 0.33), np.linspace(0.01, 0.2, 88)]
    tiers = RiskTiers()
    cut = tiers.cutoffs(scores)
    assert [tiers.tier_of(s, scores) for s in (0.33, 0.2)] == ["High", "Medium"]
    assert cut.high < 0.33 and (scores > cut.high).sum() == 12
