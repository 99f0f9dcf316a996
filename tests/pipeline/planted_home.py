"""A home loaded with the planted expansion company (tests/pipeline/expansion_company.py), for the
face tests (CLI, API, dashboard)."""

from __future__ import annotations

from pathlib import Path

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from tests.conftest import isolated_settings
from tests.pipeline.expansion_company import write_company


def planted_home(root: Path) -> Path:
    """Write the company under ``root``, load it into ``root/home`` and return the home."""
    folder = root / "company"
    folder.mkdir()
    write_company(folder)
    ctx = AppContext(isolated_settings(root / "home"))
    try:
        load_paths(ctx, [folder], source="test")
    finally:
        ctx.close()
    return root / "home"
