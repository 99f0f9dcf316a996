"""An app context over a fresh home whose app store is SQLite or PostgreSQL, and synthetic
alert inputs (customers and two scored months) built by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import text

from revintel.app import settings as app_settings
from revintel.app.context import AppContext
from revintel.core.config import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def alerts_ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppContext]:
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_url")
    ctx = AppContext(
        Settings(home=tmp_path / "home", warehouse_url=None, database_url=database_url)
    )
    with ctx.store.engine.begin() as connection:  # the PostgreSQL database lives for the session
        for table in ("deliveries", "alerts", "alert_rules"):
            connection.execute(text(f"DELETE FROM {table}"))
    yield ctx
    ctx.close()


def configure(ctx: AppContext, **sections: dict[str, Any]) -> None:
    """Save retention settings (mail, webhooks, alerts) for ``ctx``'s home."""
    base = app_settings.load(ctx.settings, app_settings.RETENTION).model_dump()
    for name, values in sections.items():
        base[name] = {**base[name], **values}
    app_settings.save(ctx.settings, app_settings.RETENTION, base)


CUSTOMERS = pl.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C4"],
        "name": ["Acme", "Beta", "Gamma", "Delta"],
        "segment": ["Enterprise", "SMB", "Enterprise", "SMB"],
        "plan": ["Pro", "Basic", "Pro", "Basic"],
        "owner": ["ann", "bob", "ann", "bob"],
        "mrr": [20_000.0, 500.0, 8_000.0, 300.0],
        "arr": [240_000.0, 6_000.0, 96_000.0, 3_600.0],
        "risk_tier": ["High", "High", "Low", "Medium"],
    }
)


def risk(months: dict[str, list[float]]) -> pl.DataFrame:
    """Risk per month for C1..C4."""
    return pl.concat(
        pl.DataFrame(
            {"customer_id": ["C1", "C2", "C3", "C4"], "month": [m] * 4, "churn_risk": values}
        )
        for m, values in months.items()
    )
