"""The recommended action of a prediction (churn/actions.py): one rule for every face."""

from __future__ import annotations

import polars as pl

from revintel.churn.actions import (
    DEFAULT_ACTION,
    DRIVER_SEGMENTS,
    FACTOR_ACTIONS,
    driver_segment,
    factor_actions,
    with_recommended_action,
)
from revintel.churn.features import FEATURES


def test_the_driver_segment_then_the_factor_group_then_the_default() -> None:
    payment_segment, payment_action = DRIVER_SEGMENTS["payment"]
    frame = pl.DataFrame(
        {
            "driver_segment": [payment_segment, None, None, None],
            "top_risk_factor": ["tickets_3m", "tickets_3m", "no_such_feature", None],
        },
        schema={"driver_segment": pl.String, "top_risk_factor": pl.String},
    )
    actions = with_recommended_action(frame)["recommended_action"].to_list()
    assert actions == [payment_action, FACTOR_ACTIONS["support"], DEFAULT_ACTION, DEFAULT_ACTION]


def test_contract_timing_is_the_renewal_due_segment_with_its_action() -> None:
    name, action = DRIVER_SEGMENTS["renewal"]
    assert name == "Renewal due" and "renewal" in action.lower()
    assert FEATURES["months_to_term_end"].group == "renewal"
    frame = pl.DataFrame(
        {"driver_segment": [name, None], "top_risk_factor": ["months_to_term_end"] * 2},
        schema={"driver_segment": pl.String, "top_risk_factor": pl.String},
    )
    actions = with_recommended_action(frame)["recommended_action"].to_list()
    assert actions == [action, FACTOR_ACTIONS["renewal"]]


def test_the_driver_segment_is_the_first_reason_then_contract_timing() -> None:
    """Contract timing raises most at-risk customers' risk; the segment is the first reason
    among the top three risk-raising factors, and Renewal due only when there is none."""
    rows = [
        # timing first, then a payment reason: Payment issues
        ("months_to_term_end", 0.8, "failed_payments_3m", 0.6, "tickets_3m", 0.2),
        # timing and profile only: Renewal due
        ("months_to_term_end", 0.8, "industry", 0.3, "seats", 0.1),
        # a reason that lowers the risk does not count: Renewal due
        ("months_to_term_end", 0.8, "mrr_change_3m", -0.4, "industry", 0.1),
        # a reason first: Support issues
        ("urgent_tickets_3m", 1.1, "months_to_term_end", 0.7, "contractions_6m", 0.4),
        # profile only: no segment
        ("industry", 0.3, "seats", 0.1, None, None),
    ]
    columns = [f"top_{kind}_{i}" for i in (1, 2, 3) for kind in ("factor", "contribution")]
    frame = pl.DataFrame(
        rows,
        schema={c: pl.String if "factor" in c else pl.Float64 for c in columns},
        orient="row",
    )
    segments = frame.select(driver_segment())["driver_segment"].to_list()
    assert segments == ["Payment issues", "Renewal due", "Renewal due", "Support issues", None]


def test_factor_actions_keep_the_explanations_order_without_repeats() -> None:
    factors = [
        {"feature": "late_payments_3m", "contribution": 0.9},
        {"feature": "failed_payments_3m", "contribution": 0.5},  # same group: no repeat
        {"feature": "tenure_months", "contribution": -0.4},  # lowers the risk: no action
        {"feature": "urgent_tickets_3m", "contribution": 0.3},
        {"feature": "an_unknown_feature", "contribution": 0.2},
        {"feature": "logins_per_day", "contribution": 0.1},  # beyond the limit of three
    ]
    assert factor_actions(factors) == [
        FACTOR_ACTIONS["payment"],
        FACTOR_ACTIONS["support"],
        FACTOR_ACTIONS["profile"],
    ]
