"""The Deals page through Streamlit's AppTest: the list with its filters, and a deal's deep link."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.pipeline.deals_company import deals_context

Dashboard = Callable[[Path], AppTest]
DEALS = "views/deals.py"


def _home(tmp_path: Path) -> Path:
    ctx = deals_context(tmp_path)
    ctx.close()
    return ctx.settings.home


def test_deals_list_shows_health_and_filters(dashboard: Dashboard, tmp_path: Path) -> None:
    at = dashboard(_home(tmp_path)).run()
    at.switch_page(DEALS).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Deals"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open deals"] == "3"
    assert metrics["At risk or critical"] == "2"
    assert metrics["Alerts (all open deals)"] == "1"
    assert metrics["Formula"] == "$17.4k"  # the calculator's default: 50 users × 29 × 12
    assert metrics["Model"] == "—"  # the book has 1 closed-won deal: no model
    table = at.dataframe[0].value
    assert list(table["Deal"]) == ["O1", "O3", "O2"]
    at.selectbox(key="deals_category").set_value("critical").run()
    assert list(at.dataframe[0].value["Deal"]) == ["O1"]


def test_a_deal_opens_from_its_deep_link(dashboard: Dashboard, tmp_path: Path) -> None:
    at = dashboard(_home(tmp_path))
    at.query_params["deal"] = "O1"
    at.run()
    at.switch_page(DEALS)
    at.query_params["deal"] = "O1"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Cato · O1"
    assert {m.label: m.value for m in at.metric}["Health"] == "0 / 100"
    factors = next(df.value for df in at.dataframe if "Evidence" in df.value.columns)
    assert "91 days in Proposal, over 1.5 × its median of 60 days" in list(factors["Evidence"])
    assert any(h.value == "Close probability" for h in at.subheader)
    assert {m.label: m.value for m in at.metric}["Multi-factor rule"].endswith("%")
    missing = dashboard(_home(tmp_path / "other"))
    missing.run()
    missing.switch_page(DEALS)
    missing.query_params["deal"] = "NOPE"
    missing.run()
    assert "NOPE" in missing.error[0].value
