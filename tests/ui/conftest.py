"""AppTest of the dashboard's entry script over an isolated home."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
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


@dataclass(frozen=True)
class Tile:
    """A KPI tile as the page draws it (``revintel.ui.revenue.kpi_tile_html``)."""

    label: str
    value: str
    delta: str | None
    help: str
    tone: str | None  # "ri-good", "ri-bad" or "ri-flat"; None without a change


class TileParser(HTMLParser):
    """The text under each ``data-testid="revintelKpi…"`` element of the tiles' HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tiles: list[dict[str, str]] = []
        self._open: list[str | None] = []  # the testid of each open element, None if none

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        testid = found.get("data-testid")
        if testid == "revintelKpi":
            self.tiles.append({})
        if testid == "revintelKpiDelta":
            self.tiles[-1]["tone"] = (found.get("class") or "").split()[-1]
        if tag not in ("br",):
            self._open.append(testid)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br",) and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        inside = [t for t in self._open if t and t != "revintelKpi"]
        if self.tiles and inside:
            key = inside[-1].removeprefix("revintelKpi").lower()
            self.tiles[-1][key] = self.tiles[-1].get(key, "") + data


def kpi_tiles(at: AppTest) -> dict[str, Tile]:
    """Every KPI tile drawn by the last run, by label."""
    out: dict[str, Tile] = {}
    for element in at.get("html"):
        parser = TileParser()
        parser.feed(element.proto.body)
        for t in parser.tiles:
            out[t["label"]] = Tile(
                t["label"], t["value"], t.get("delta"), t.get("help", ""), t.get("tone")
            )
    return out
