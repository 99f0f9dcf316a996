"""What is loaded: each canonical table with its row count and last load time."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from revintel.app.context import AppContext
from revintel.data.schema import CONTRACTS


@dataclass(frozen=True)
class TableInfo:
    name: str
    description: str
    loaded: bool
    rows: int
    last_loaded: datetime | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_loaded"] = self.last_loaded.isoformat() if self.last_loaded else None
        return data


def table_catalog(ctx: AppContext, *, include_missing: bool = True) -> list[TableInfo]:
    """Every canonical table (loaded ones first in load order), with rows and freshness."""
    counts = ctx.warehouse.row_counts()
    # Recorded with the snapshot when the warehouse keeps it: rows and load times then come from
    # one load even while another lands.
    loaded_at = ctx.warehouse.loaded_at() or ctx.store.last_loaded()
    infos = [
        TableInfo(
            name=name,
            description=contract.description,
            loaded=name in counts,
            rows=counts.get(name, 0),
            last_loaded=loaded_at.get(name),
        )
        for name, contract in CONTRACTS.items()
        if include_missing or name in counts
    ]
    return sorted(infos, key=lambda info: not info.loaded)
