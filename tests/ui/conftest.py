"""AppTest of the dashboard's entry script over an isolated home."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import revintel.ui

APP_SCRIPT = Path(revintel.ui.__file__).with_name("app.py")
TIMEOUT = 60  # seconds per script run; the first run imports ibis, polars and pandera


@pytest.fixture
def dashboard(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[Path], AppTest]:
    """Build an AppTest of the dashboard whose settings point at ``home``."""
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "no-revintel.toml"))
    monkeypatch.delenv("REVINTEL_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("REVINTEL_DATABASE_URL", raising=False)

    def build(home: Path) -> AppTest:
        monkeypatch.setenv("REVINTEL_HOME", str(home))
        return AppTest.from_file(str(APP_SCRIPT), default_timeout=TIMEOUT)

    return build
