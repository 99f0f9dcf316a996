"""The expansion score, deciles, backtest and reasons (docs/pipeline.md, Expansion), pure."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from revintel.pipeline.config import (
    ExpansionConfig,
    InvalidPipelineConfig,
    PipelineConfig,
    to_toml,
    validate_config,
)
from revintel.pipeline.expansion import (
    SIGNALS,
    backtest,
    reasons_of,
    roc_auc,
    score_signals,
    with_deciles,
)


def _frame(**columns: list) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "account_id": [f"A{i}" for i in range(n)],
        "month_idx": [0] * n,
        "active_users": [None] * n,
        "licensed_seats": [None] * n,
        "users_before": [None] * n,
        "key_feature_adoption": [None] * n,
        "plan_rank": [None] * n,
        "health_score": [None] * n,
        "nps_score": [None] * n,
    }
    base.update(columns)
    return pl.DataFrame(
        base,
        schema={
            "account_id": pl.String,
            "month_idx": pl.Int64,
            "active_users": pl.Int64,
            "licensed_seats": pl.Int64,
            "users_before": pl.Int64,
            "key_feature_adoption": pl.Float64,
            "plan_rank": pl.Int64,
            "health_score": pl.Float64,
            "nps_score": pl.Int64,
        },
    )


def test_every_signal_at_its_top_scores_100_and_the_points_add_up() -> None:
    frame = _frame(
        active_users=[12, 5],
        licensed_seats=[10, 10],
        users_before=[8, 10],
        key_feature_adoption=[0.9, 0.5],
        plan_rank=[0, 1],
        health_score=[100.0, 60.0],
        nps_score=[10, 8],
    )
    out = score_signals(frame, ExpansionConfig()).to_dicts()
    assert out[0]["expansion_score"] == 100.0
    # second: utilisation 0.5 → 0; growth −50% → 0; adoption (0.5−0.2)/0.6 = 0.5;
    # headroom 0.5; health 0.6; NPS (8−6)/4 = 0.5
    expected = 100 * (0.15 * 0.5 + 0.10 * 0.5 + 0.25 * 0.6 + 0.10 * 0.5)
    assert out[1]["expansion_score"] == pytest.approx(round(expected, 1))
    points = sum(out[1][f"points_{s}"] for s in SIGNALS)
    assert points == pytest.approx(expected)


def test_a_missing_signal_is_left_out_and_the_others_renormalised() -> None:
    frame = _frame(active_users=[10], licensed_seats=[10], health_score=[50.0])
    row = score_signals(frame, ExpansionConfig()).row(0, named=True)
    # utilisation level 1 (weight 0.25), health 0.5 (weight 0.25): (0.25 + 0.125) / 0.5
    assert row["expansion_score"] == 75.0
    assert row["points_nps"] is None and row["signals_used"] == 2
    assert score_signals(_frame(nps_score=[None]), ExpansionConfig())["expansion_score"][0] is None


def test_zero_seats_or_no_prior_users_give_no_utilisation_or_growth() -> None:
    frame = _frame(active_users=[3], licensed_seats=[0], users_before=[0], health_score=[80.0])
    row = score_signals(frame, ExpansionConfig()).row(0, named=True)
    assert row["seat_utilisation"] is None and row["usage_growth"] is None
    assert row["expansion_score"] == 80.0


def test_weights_and_ranges_come_from_the_settings() -> None:
    frame = _frame(active_users=[9], licensed_seats=[10], nps_score=[7])
    only_nps = ExpansionConfig(
        weight_seat_utilisation=0,
        weight_usage_growth=0,
        weight_feature_adoption=0,
        weight_plan_headroom=0,
        weight_health=0,
        weight_nps=1,
        nps_floor=5,
    )
    assert score_signals(frame, only_nps)["expansion_score"][0] == 40.0  # (7 − 5) / 5


def test_settings_are_validated_with_the_field_named() -> None:
    with pytest.raises(InvalidPipelineConfig, match=r"expansion\.weight_health"):
        validate_config({"expansion": {"weight_health": -1}})
    with pytest.raises(InvalidPipelineConfig, match="at least one weight above 0"):
        validate_config({"expansion": {f"weight_{s}": 0 for s in SIGNALS}})
    with pytest.raises(InvalidPipelineConfig, match="utilisation_full"):
        validate_config({"expansion": {"utilisation_floor": 1.0, "utilisation_full": 0.9}})
    with pytest.raises(InvalidPipelineConfig, match=r"expansion\.colour"):
        validate_config({"expansion": {"colour": 1}})
    text = to_toml(PipelineConfig())
    assert "[expansion]" in text and '"weight_health" = 0.25' in text


def test_deciles_rank_within_each_month() -> None:
    frame = pl.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(20)] * 2,
            "month_idx": [1] * 20 + [2] * 20,
            "expansion_score": [float(i) for i in range(20)] + [float(20 - i) for i in range(20)],
        }
    )
    out = with_deciles(frame)
    first = dict(out.filter(pl.col("month_idx") == 1).select("account_id", "decile").iter_rows())
    assert first["A19"] == 1 and first["A18"] == 1 and first["A17"] == 2 and first["A00"] == 10
    second = dict(out.filter(pl.col("month_idx") == 2).select("account_id", "decile").iter_rows())
    assert second["A00"] == 1 and second["A19"] == 10
    assert out.group_by("month_idx", "decile").len()["len"].to_list() == [2] * 20


def test_backtest_lift_is_the_top_decile_rate_over_the_base_rate() -> None:
    n = 100
    score = np.arange(n, dtype=float)[::-1]  # A000 scores highest
    expanded = [1 if i < 10 and i % 2 == 0 else (1 if i in (50, 90) else 0) for i in range(n)]
    frame = pl.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)],
            "month_idx": [5] * n,
            "month": ["2024-06"] * n,
            "expansion_score": score,
            "expanded": expanded,
            "expansion_mrr": [10.0 * e for e in expanded],
            "arr": [1200.0] * n,
        }
    )
    result = backtest(with_deciles(frame), horizon_months=3, samples=200)
    assert result.base_rate == pytest.approx(0.07)
    assert result.top_decile_rate == pytest.approx(0.5)
    assert result.lift == pytest.approx(0.5 / 0.07)
    assert result.deciles[0].uplift_ratio == pytest.approx(0.5 * 120 / 1200)
    assert result.lift_ci_low is not None and result.lift_ci_low < result.lift
    # each expanded account: the share of the 93 others scored below it
    below = [93, 92, 91, 90, 89, 48, 9]
    assert result.roc_auc == pytest.approx(sum(below) / (7 * 93))
    assert result.months == 1 and result.account_months == n


def test_backtest_without_expansions_has_no_lift() -> None:
    frame = pl.DataFrame(
        {
            "account_id": ["A", "B"],
            "month_idx": [1, 1],
            "month": ["2024-02"] * 2,
            "expansion_score": [50.0, 40.0],
            "expanded": [0, 0],
            "expansion_mrr": [0.0, 0.0],
            "arr": [100.0, 100.0],
        }
    )
    result = backtest(with_deciles(frame), horizon_months=3)
    assert result.lift is None and result.roc_auc is None and result.base_rate == 0.0


def test_roc_auc_counts_ties_half() -> None:
    assert roc_auc(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 1, 1])) == 1.0
    assert roc_auc(np.array([1.0, 1.0]), np.array([0, 1])) == 0.5


def test_reasons_name_the_strong_signals_with_their_evidence() -> None:
    frame = _frame(
        active_users=[19],
        licensed_seats=[20],
        users_before=[10],
        key_feature_adoption=[0.3],
        plan_rank=[2],
        health_score=[85.0],
        nps_score=[9],
    )
    row = score_signals(frame, ExpansionConfig()).row(0, named=True)
    reasons = reasons_of(row, 0.6)
    assert [r.signal for r in reasons] == ["Seat utilisation", "Health", "Usage growth", "NPS"]
    assert reasons[0].evidence == "19 of 20 licensed seats in use (95%)"
    assert reasons[2].evidence == "active users +90% in 3 months (10 → 19)"
    assert sum(r.points for r in reasons) <= row["expansion_score"] + 0.2


def test_expansion_settings_round_trip_through_the_settings_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import tomllib

    from revintel.pipeline.config import FILE, load_config
    from tests.conftest import isolated_settings

    config = PipelineConfig(expansion=ExpansionConfig(weight_plan_headroom=0.0, nps_floor=7.0))
    text = to_toml(config)
    assert validate_config(tomllib.loads(text)) == config
    settings = isolated_settings(tmp_path / "home")
    settings.home.mkdir(parents=True)
    (settings.home / FILE.filename).write_text(text)
    assert load_config(settings).expansion.nps_floor == 7.0


def test_the_fitted_comparison_finds_the_signal_that_predicts() -> None:
    from revintel.pipeline.expansion import compare_fitted

    rng = np.random.default_rng(3)
    n, months = 300, 9
    frame = pl.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)] * months,
            "month_idx": np.repeat(np.arange(months), n),
            "month": [f"2024-{m + 1:02d}" for m in np.repeat(np.arange(months), n)],
            **{f"level_{s}": rng.random(n * months) for s in SIGNALS},
        }
    )
    frame = frame.with_columns(
        expansion_score=pl.mean_horizontal([f"level_{s}" for s in SIGNALS]) * 100,
        expanded=(pl.col("level_health") + 0.1 * pl.Series(rng.random(n * months)) > 0.85).cast(
            pl.Int64
        ),
    )
    result = compare_fitted(frame)
    assert result is not None and result.first_holdout_month == "2024-07"
    assert result.train_account_months == 6 * n and result.holdout_account_months == 3 * n
    assert result.suggested_weights["health"] > 0.6
    assert result.fitted_auc is not None and result.rule_auc is not None
    assert result.fitted_auc > 0.9 > result.rule_auc
    assert result.fitted_lift is not None and result.rule_lift is not None
    assert result.fitted_lift > result.rule_lift
    assert compare_fitted(frame.filter(pl.col("month_idx") < 2)) is None
