"""One row per customer with every attribute and computed feature, as of the last complete month
(docs/retention.md, Segments → Features).

Segment rules, campaigns (risk tier, script variables), alerts and reports read this frame. Owned
by the segments area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import polars as pl

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

Kind = Literal["number", "text", "bool", "date"]


@dataclass(frozen=True)
class FeatureColumn:
    """One column a rule may name: its kind, its label in words and where it comes from."""

    name: str
    kind: Kind
    label: str
    source: str  # customers | metrics | health | churn model | churn features | clv | rfm


@dataclass(frozen=True)
class CustomerFeatures:
    """``frame``: one row per row of ``customers`` (``customer_id`` first), every feature column;
    ``as_of``: the last complete month (YYYY-MM) the current values are of."""

    frame: pl.DataFrame
    as_of: str
    columns: dict[str, FeatureColumn]


def customer_features(rt: Runtime) -> CustomerFeatures:
    """Every customer's attributes and features (cached per data snapshot and model version)."""
    raise NotImplementedError("segments area")
