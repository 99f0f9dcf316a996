"""The Attribution page through AppTest on the small attribution company
(tests/attribution/report_company.py): the tiles show the report's totals, the table every
model, and the options rerun the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.attribution.report_company import report_context

Dashboard = Callable[[Path], AppTest]


@pytest.fixture
def attribution_home(tmp_path: Path) -> Path:
    ctx = report_context(tmp_path)
    ctx.close()
    return ctx.settings.home


def _open(dashboard: Dashboard, home: Path) -> AppTest:
    at = dashboard(home).run()
    at.switch_page("views/attribution.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_tiles_table_and_options(dashboard: Dashboard, attribution_home: Path) -> None:
    at = _open(dashboard, attribution_home)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Conversions"] == "3"
    assert tiles["Journeys"] == "5"
    assert tiles["Conversion rate"] == "60.0%"
    table = at.dataframe[0].value
    assert list(table["channel"]) == ["Direct", "Email", "Paid Search"]
    assert list(table.columns[1:]) == [
        "First touch",
        "Last touch",
        "Last non-direct",
        "Linear",
        "Time decay",
        "Position-based",
        "Markov chain",
        "Shapley value",
    ]
    assert table["Last touch"].tolist() == [0.0, 1.0, 2.0]
    assert table.drop(columns=["channel"]).sum().round(9).eq(3.0).all()
    at.selectbox(key="attr_order").select(3).run()
    assert not at.exception
    assert any("order 3" in m.value for m in at.markdown)
    at.number_input(key="attr_window").set_value(2).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Conversions"] == "2"


def test_a_bad_range_is_explained(dashboard: Dashboard, attribution_home: Path) -> None:
    from datetime import date

    at = _open(dashboard, attribution_home)
    at.date_input(key="attr_start").set_value(date(2024, 3, 1)).run()
    at.date_input(key="attr_end").set_value(date(2024, 2, 1)).run()
    assert not at.exception
    assert any("end_date" in w.value for w in at.warning)
