"""Words every layer shares, each defined once: breakdown dimensions, churn risk tiers, load modes.

Services, contracts and faces import them from here; a face may add how a word is shown (a label,
a colour) but not another list of the words. The month pattern is :data:`revintel.core.calendar.
MONTH_PATTERN`; the risk tiers' probability bounds are settings (:mod:`revintel.churn.config`).
"""

from __future__ import annotations

from typing import Literal, get_args

# -- breakdown dimensions -------------------------------------------------------------------------
Dimension = Literal["segment", "plan", "country", "acquisition_channel", "industry"]
"""What a metric can be broken down or filtered by (see ``docs/metrics.md``)."""

DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)

CUSTOMER_DIMENSIONS: tuple[Dimension, ...] = (
    "segment",
    "country",
    "acquisition_channel",
    "industry",
)
"""Dimensions that are columns of ``customers`` (fixed per customer); ``plan`` is not one."""

DIMENSION_ALIASES: dict[str, Dimension] = {"channel": "acquisition_channel"}
"""Short names users give a dimension: ``--channel``, ``?channel=``, ``by=channel``, a CLV group."""

_SHORT_NAMES = {dimension: alias for alias, dimension in DIMENSION_ALIASES.items()}
DIMENSION_OPTIONS: dict[str, Dimension] = {_SHORT_NAMES.get(d, d): d for d in DIMENSIONS}
"""Each dimension under the name its filter option has (``channel`` for ``acquisition_channel``)."""


def dimension_named(name: str) -> str:
    """The dimension a user means by ``name`` (an alias resolved; any other name unchanged)."""
    return DIMENSION_ALIASES.get(name, name)


# -- churn risk tiers -----------------------------------------------------------------------------
RiskTier = Literal["High", "Medium", "Low", "Safe"]
"""A customer's churn risk tier, from the highest risk down."""

RISK_TIERS: tuple[RiskTier, ...] = get_args(RiskTier)

AT_RISK_TIERS: tuple[RiskTier, ...] = RISK_TIERS[:-1]
"""Every tier but ``Safe``: the customers a retention list shows."""

# -- loads ----------------------------------------------------------------------------------------
LoadMode = Literal["replace", "append"]
"""``replace`` the loaded tables, or ``append`` to them (upsert by primary key)."""

LOAD_MODES: tuple[LoadMode, ...] = get_args(LoadMode)
