"""Fixtures of the retention use cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.app.context import AppContext
from tests.conftest import isolated_settings


@pytest.fixture(scope="session")
def campaign_demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo company (2,000 customers, 36 months, seed 42) written to HOME/demo (so
    its truth folder is where the app looks) and loaded; no churn model. READ-ONLY."""
    from revintel.app.ingest import load_paths
    from revintel.data.generator import generate_company, write_company

    home = tmp_path_factory.mktemp("campaign-demo") / "home"
    out = home / "demo"
    write_company(generate_company(), out, "parquet")
    ctx = AppContext(isolated_settings(home))
    try:
        load_paths(ctx, [out], source="demo")
    finally:
        ctx.close()
    return home


@pytest.fixture
def campaign_demo(campaign_demo_home: Path, tmp_path: Path):
    """A private copy of ``campaign_demo_home`` (its app store may be written)."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(campaign_demo_home, home, symlinks=True)
    ctx = AppContext(isolated_settings(home))
    yield ctx
    ctx.close()
