"""What to do about a customer at risk: the action of each driver segment and factor group.

One rule for every face: the CRM export (``revintel churn predictions``, the API's predictions,
the High-Risk Customers and Churn Segments downloads) carries :func:`recommended_action` for each
account, and Customer Lookup lists :func:`factor_actions` for one customer's explanation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from revintel.churn import features as F

__all__ = [
    "DEFAULT_ACTION",
    "DRIVER_SEGMENTS",
    "FACTOR_ACTIONS",
    "TOP_FACTORS",
    "driver_segment",
    "factor_actions",
    "recommended_action",
    "with_recommended_action",
]

DRIVER_SEGMENTS: dict[str, tuple[str, str]] = {
    "payment": (
        "Payment issues",
        "Offer a flexible payment plan, update the card on file and call the billing contact.",
    ),
    "support": (
        "Support issues",
        "Escalate open tickets to a senior engineer and schedule a success check-in.",
    ),
    "engagement": (
        "Declining engagement",
        "Run a product training session and re-onboard inactive seats with the champion.",
    ),
    "revenue": (
        "Revenue decline",
        "Review the account's ROI with the economic buyer and propose the right-sized plan.",
    ),
    "renewal": (
        "Renewal due",
        "Open the renewal now: review value delivered with the decision maker and agree terms "
        "before the term ends.",
    ),
}
"""Driver group → (segment name, recommended action): the Customer Segments cards. ``renewal``
is contract timing (the term ending soon, or monthly billing that can end any month)."""
FACTOR_ACTIONS: dict[str, str] = {
    "payment": "Call the billing contact: offer a payment plan and update the card on file.",
    "support": "Escalate the open tickets and have the CSM confirm the fix with the customer.",
    "engagement": "Book a training session and show the ROI of the unused key features.",
    "revenue": "Meet the economic buyer: review value delivered and right-size the plan.",
    "renewal": "Start the renewal conversation now, before the term ends.",
    "profile": "Plan the renewal conversation early with the account owner.",
}
"""Factor group → the action for a customer whose explanation that factor raises."""
REASON_GROUPS = ("payment", "support", "engagement", "revenue")
"""Driver groups that say why a customer may leave (what to act on)."""
TIMING_GROUPS = ("renewal",)
"""Driver groups that say when (the term ending): Renewal due, when no reason is among the top
factors."""
TOP_FACTORS = 3
"""Risk factors kept per customer by a scoring run (``top_factor_1`` … ``top_factor_3``)."""
DEFAULT_ACTION = "Monitor: no risk-raising factor stands out."
"""The action of an account with neither a driver segment nor a known top risk factor."""

_SEGMENT_ACTIONS = {name: action for name, action in DRIVER_SEGMENTS.values()}
_FEATURE_ACTIONS = {name: FACTOR_ACTIONS[info.group] for name, info in F.FEATURES.items()}


def driver_segment() -> pl.Expr:
    """The ``driver_segment`` of each customer: the segment of the first of its top risk-raising
    factors (``top_factor_1`` … ``top_factor_3`` with a positive ``top_contribution_i``) that
    gives a reason (payment, support, engagement, revenue); else Renewal due when contract
    timing is among them; else null.

    Contract timing (monthly billing, a term ending) raises the risk of most customers at risk,
    so it often comes first; what to act on is the first reason after it.
    """
    groups = {name: info.group for name, info in F.FEATURES.items()}
    names = {group: name for group, (name, _) in DRIVER_SEGMENTS.items()}

    def segment(i: int, wanted: tuple[str, ...]) -> pl.Expr:
        group = pl.col(f"top_factor_{i}").replace_strict(
            groups, default=None, return_dtype=pl.String
        )
        raises = (pl.col(f"top_contribution_{i}") > 0) & group.is_in(list(wanted))
        return pl.when(raises).then(
            group.replace_strict(names, default=None, return_dtype=pl.String)
        )

    order: list[tuple[int, tuple[str, ...]]] = [
        (i, REASON_GROUPS) for i in range(1, TOP_FACTORS + 1)
    ]
    order += [(i, TIMING_GROUPS) for i in range(1, TOP_FACTORS + 1)]
    return pl.coalesce([segment(i, wanted) for i, wanted in order]).alias("driver_segment")


def recommended_action() -> pl.Expr:
    """The ``recommended_action`` of a predictions frame's rows: the driver segment's action,
    else the action of the top risk factor's group, else :data:`DEFAULT_ACTION`.

    Reads the columns ``driver_segment`` and ``top_risk_factor`` (a feature name) of
    :func:`revintel.churn.service.current_predictions`.
    """
    return (
        pl.col("driver_segment")
        .replace_strict(_SEGMENT_ACTIONS, default=None, return_dtype=pl.String)
        .fill_null(
            pl.col("top_risk_factor").replace_strict(
                _FEATURE_ACTIONS, default=None, return_dtype=pl.String
            )
        )
        .fill_null(DEFAULT_ACTION)
        .alias("recommended_action")
    )


def with_recommended_action(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its :func:`recommended_action` column (replaced if present)."""
    return frame.with_columns(recommended_action())


def factor_actions(factors: Iterable[Mapping[str, Any]], limit: int = 3) -> list[str]:
    """Up to ``limit`` distinct actions for the risk-raising factors of one explanation, in the
    explanation's order (``feature`` and ``contribution`` of each factor)."""
    actions: list[str] = []
    for factor in factors:
        if factor["contribution"] <= 0:
            continue
        info = F.FEATURES.get(factor["feature"])
        action = FACTOR_ACTIONS[(info.group if info else None) or "profile"]
        if action not in actions:
            actions.append(action)
        if len(actions) == limit:
            break
    return actions
