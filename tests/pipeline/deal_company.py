"""A home holding the small deal company of ``tests/backends/conftest.PIPELINE_TABLES`` (DuckDB),
for the analytics service, CLI and API tests."""

from __future__ import annotations

from pathlib import Path

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from tests.backends.conftest import COMPANY, PIPELINE_TABLES
from tests.conftest import isolated_settings


def deal_context(root: Path) -> AppContext:
    """An AppContext over a new home under ``root`` with the company and its deal tables."""
    folder = root / "deal-company"
    folder.mkdir()
    for name, text in {**COMPANY, **PIPELINE_TABLES}.items():
        (folder / name).write_text(text)
    ctx = AppContext(isolated_settings(root / "home"))
    load_paths(ctx, [folder], source="test")
    return ctx
