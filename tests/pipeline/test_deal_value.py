"""Deal value: brief 003's formula and the learned model (docs/pipeline.md, Deal value)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from revintel.core.errors import InvalidOption
from revintel.pipeline.config import InvalidPipelineConfig, validate_config
from revintel.pipeline.deal_value import DealInputs, DealValueConfig, fit_value_model, formula


def test_formula_reproduces_brief_003s_base_value_and_multiplies_each_factor() -> None:
    config = DealValueConfig(industry_factors={"tech": 1.2}, stage_factors={"Proposal": 0.75})
    inputs = DealInputs(
        num_users_planned=50,
        base_list_price_per_user=29,
        discount_pct=0.15,
        contract_term_months=12,
        industry="tech",
        deal_stage="Proposal",
        expansion_potential_factor=1.5,
    )
    value, breakdown = formula(inputs, config)
    assert breakdown["base_value"] == 14790.0  # 50 × 29 × 0.85 × 12, as in brief 003
    assert breakdown["industry_factor"] == 1.2 and breakdown["stage_factor"] == 0.75
    assert value == pytest.approx(14790 * 1.2 * 0.75 * 1.5)


def test_formula_takes_the_list_price_from_the_settings_or_says_which_field_is_missing() -> None:
    config = DealValueConfig(list_prices={"Pro": 40})
    value, _ = formula(DealInputs(num_users_planned=10, product_plan="Pro"), config)
    assert value == 10 * 40 * 12
    with pytest.raises(InvalidOption, match="base_list_price_per_user"):
        formula(DealInputs(num_users_planned=10, product_plan="Gold"), config)


def test_factor_settings_are_validated() -> None:
    with pytest.raises(InvalidPipelineConfig, match=r"deal_value\.billing_factors"):
        validate_config({"deal_value": {"billing_factors": {"weekly": 1.1}}})
    with pytest.raises(InvalidPipelineConfig, match="expected a number > 0"):
        validate_config({"deal_value": {"industry_factors": {"tech": 0}}})


def _won(n: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    products = rng.choice(["Basic", "Pro", "Enterprise"], n)
    price = {"Basic": 20.0, "Pro": 45.0, "Enterprise": 90.0}
    seats = rng.integers(5, 400, n)
    discount = rng.uniform(0, 0.3, n)
    noise = rng.lognormal(0, 0.05, n)
    amount = [
        s * price[p] * 12 * (1 - d) * e
        for s, p, d, e in zip(seats, products, discount, noise, strict=True)
    ]
    return pl.DataFrame(
        {
            "deal_id": [f"D{i:04d}" for i in range(n)],
            "amount": amount,
            "closed_date": [date(2024, 1, 1) + timedelta(days=i) for i in range(n)],
            "seats": seats,
            "discount_pct": discount,
            "product": products,
            "segment": rng.choice(["SMB", "Mid-Market"], n),
        }
    )


def test_model_learns_seats_times_price_and_reports_held_out_error_and_coverage() -> None:
    model = fit_value_model(_won(400))
    assert model is not None
    assert model.tested_on == 80 and model.trained_on == 256
    assert model.held_out_mape < 0.10  # only the 5% noise (and the discount's log) remain
    assert model.baseline_mape > 0.5  # a segment's median knows nothing of seats
    assert 0.6 <= model.coverage_80 <= 0.95
    point, low, high = model.predict(
        pl.DataFrame(
            {"product": ["Pro"], "seats": [100], "discount_pct": [0.0], "segment": ["SMB"]}
        )
    )
    assert low[0] < point[0] < high[0]
    assert point[0] == pytest.approx(100 * 45 * 12, rel=0.15)


def test_model_needs_thirty_won_deals() -> None:
    assert fit_value_model(_won(29)) is None


def test_factor_tables_round_trip_through_the_settings_file() -> None:
    import tomllib

    from revintel.pipeline.config import to_toml

    config = validate_config(
        {
            "deal_value": {"industry_factors": {"tech": 1.2}, "list_prices": {"Pro": 45.0}},
            "deal_health": {"stagnant_points": 25, "alert_factors": ["competitor"]},
        }
    )
    assert validate_config(tomllib.loads(to_toml(config))) == config
