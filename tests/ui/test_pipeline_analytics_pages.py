"""The Pipeline, Scenarios and Competitors pages through AppTest on the small deal company: the
tiles show the service's figures, a filter narrows them, a slider moves the projection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from revintel.core.formatting import money
from tests.pipeline.deal_company import deal_context

Dashboard = Callable[[Path], AppTest]


@pytest.fixture
def deal_home(tmp_path: Path) -> Path:
    ctx = deal_context(tmp_path)
    ctx.close()
    return ctx.settings.home


def _open(dashboard: Dashboard, home: Path, page: str) -> AppTest:
    at = dashboard(home).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_pipeline_page_tiles_and_filter(dashboard: Dashboard, deal_home: Path) -> None:
    at = _open(dashboard, deal_home, "views/pipeline.py")
    tiles = _metrics(at)
    assert tiles["Open pipeline"] == money(20600.0)
    assert tiles["Open deals"] == "4"
    assert tiles["Win rate"] == "50.0%"
    assert tiles["At-risk deals"] == "1"
    at.selectbox(key="pipeline_owner").select("Ana").run()
    assert not at.exception
    assert _metrics(at)["Open deals"] == "1"  # D5


def test_scenarios_page_moves_with_the_sliders(dashboard: Dashboard, deal_home: Path) -> None:
    at = _open(dashboard, deal_home, "views/scenarios.py")
    before = _metrics(at)
    assert before["Baseline forecast"] == money(10300.0)
    at.slider(key="sc_win").set_value(0).run()
    at.slider(key="sc_size").set_value(0).run()
    at.slider(key="sc_growth").set_value(0).run()
    assert _metrics(at)["Projected forecast"] == money(10300.0)
    at.slider(key="sc_growth").set_value(100).run()
    assert _metrics(at)["Projected forecast"] == money(20600.0)


def test_competitors_page(dashboard: Dashboard, deal_home: Path) -> None:
    at = _open(dashboard, deal_home, "views/competitors.py")
    assert any("Orbitly" in str(df.value) for df in at.dataframe)
    assert any("z-test" in c.value for c in at.caption)
