"""The deal tables a pipeline service reads, and the date the data is as of.

``deals`` is required; ``deal_stage_history`` and ``deal_activities`` are optional (a CRM export
may have neither), and an analytic that needs one says so with :class:`MissingDealData`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from revintel.core.errors import NoDataError

if TYPE_CHECKING:
    from pathlib import Path

    import ibis

    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

DEALS = "deals"
HISTORY = "deal_stage_history"
ACTIVITIES = "deal_activities"


class MissingDealData(NoDataError):
    """An analytic needs a table or column the loaded deal data does not have."""


@dataclass(frozen=True)
class DealTables:
    """The loaded deal tables (``history`` / ``activities`` are None when not loaded)."""

    deals: ibis.Table
    history: ibis.Table | None
    activities: ibis.Table | None

    def has_column(self, column: str) -> bool:
        return column in self.deals.columns

    def require_history(self, what: str) -> ibis.Table:
        if self.history is None:
            raise MissingDealData(
                f"{what} needs the {HISTORY} table (each stage a deal entered, and when); "
                "it is not loaded"
            )
        return self.history

    def require_activities(self, what: str) -> ibis.Table:
        if self.activities is None:
            raise MissingDealData(
                f"{what} needs the {ACTIVITIES} table (emails, calls, meetings on each deal); "
                "it is not loaded"
            )
        return self.activities

    def require_column(self, column: str, what: str) -> None:
        if column not in self.deals.columns:
            raise MissingDealData(f"{what} needs the deals column {column!r}; it is not loaded")


def deal_tables(warehouse: Warehouse) -> DealTables:
    """The deal tables of ``warehouse``; :class:`MissingDealData` when no deals are loaded."""
    if not warehouse.has_table(DEALS):
        raise MissingDealData(f"no deals are loaded: load a {DEALS} table first")
    return DealTables(
        deals=warehouse.table(DEALS),
        history=warehouse.table(HISTORY) if warehouse.has_table(HISTORY) else None,
        activities=warehouse.table(ACTIVITIES) if warehouse.has_table(ACTIVITIES) else None,
    )


def data_as_of(warehouse: Warehouse, tables: DealTables | None = None) -> date:
    """The date the deal data is as of: the latest date any deal was created, changed or closed."""
    t = tables or deal_tables(warehouse)
    d = t.deals
    found = [
        warehouse.to_arrow(d.aggregate(a=d.created_date.max(), b=d.closed_date.max())).to_pylist()[
            0
        ]
    ]
    if t.history is not None:
        h = t.history
        found.append(warehouse.to_arrow(h.aggregate(a=h.entered_at.max())).to_pylist()[0])
    values = [_as_date(v) for row in found for v in row.values() if v is not None]
    if not values:
        raise MissingDealData("the deals table is empty")
    return max(values)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def demo_truth_dir(runtime: Runtime) -> Path:
    """Where ``revintel demo`` leaves the demo company's ground truth (``HOME/demo/truth``)."""
    return runtime.settings.home / "demo" / "truth"
