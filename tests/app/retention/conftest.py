"""A context over the small company whose app store is SQLite or PostgreSQL (notes and jobs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.core.config import Settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_context(
    request: pytest.FixtureRequest, tmp_path: Path, company_csvs: Path
) -> Iterator[AppContext]:
    """The small company loaded (C001..C005), the app store on SQLite or a fresh PostgreSQL
    database."""
    from revintel.app.ingest import load_paths

    database_url = None
    if request.param == "postgres":
        create: Callable[[], str] = request.getfixturevalue("postgres_databases")
        database_url = create()
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=database_url)
    ctx = AppContext(settings)
    load_paths(ctx, [company_csvs], source="test")
    yield ctx
    ctx.close()
