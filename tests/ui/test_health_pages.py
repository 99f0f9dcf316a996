"""The Account Health, Account 360 and Health settings pages through Streamlit's AppTest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.health import service
from revintel.health.config import load_config
from tests.health.demo import copy_home, demo_home, settings_for

Dashboard = Callable[[Path], AppTest]
HEALTH = "views/account_health.py"
A360 = "views/account_360.py"
SETTINGS = "views/health_settings.py"


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _latest(home: Path) -> service.HealthScores:
    ctx = AppContext(settings_for(home))
    try:
        return service.score_month(ctx)
    finally:
        ctx.close()


def test_account_health_page_shows_the_portfolio(dashboard: Dashboard) -> None:
    home = demo_home()
    at = dashboard(home).run()
    at.switch_page(HEALTH).run()
    _no_exception(at)
    assert at.title[0].value == "Account Health"
    summary = service.portfolio_summary(_latest(home))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accounts"] == f"{summary.accounts:,}"
    assert metrics["Average health"] == f"{summary.average_health:.1f}"
    assert not at.warning  # every health table is loaded
    table = next(df.value for df in at.dataframe if "reason" in df.value.columns)
    assert len(table) == summary.accounts
    assert table["health_score"].is_monotonic_increasing

    # An account manager's own book
    owner = table["owner"].iloc[0]
    at.multiselect(key="health_owner").set_value([owner]).run()
    _no_exception(at)
    mine = service.portfolio_summary(_latest(home), owner=[owner])
    assert {m.label: m.value for m in at.metric}["Accounts"] == f"{mine.accounts:,}"


def test_missing_tables_are_said_on_the_page(dashboard: Dashboard) -> None:
    at = dashboard(demo_home(("nps_responses", "accounts"))).run()
    at.switch_page(HEALTH).run()
    _no_exception(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "'nps_responses' is not loaded" in warnings
    assert "'accounts' is not loaded" in warnings
    # The no-contact section is a lazy tab: open it, then it says what it needs.
    at.session_state["health_tabs"] = "No recent contact"
    at.run()
    _no_exception(at)
    assert any("Needs the accounts table" in i.value for i in at.info)


def test_no_health_tables_is_a_message_not_a_failure(
    dashboard: Dashboard, loaded_context: AppContext
) -> None:
    at = dashboard(loaded_context.settings.home).run()
    at.switch_page(HEALTH).run()
    _no_exception(at)
    assert "usage, nps_responses or support_tickets" in at.warning[0].value
    at.switch_page(A360).run()
    _no_exception(at)
    assert "usage, nps_responses or support_tickets" in at.warning[0].value


def test_account_360_deep_link(dashboard: Dashboard) -> None:
    home = demo_home()
    frame = _latest(home).frame.sort("arr", descending=True)
    account = frame.row(0, named=True)
    at = dashboard(home)
    at.query_params["account"] = account["account_id"]
    at.run()
    at.switch_page(A360).run()
    _no_exception(at)
    assert at.title[0].value == account["account_name"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["ARR"] == f"${account['arr']:,.0f}"
    assert metrics["Health"] == f"{account['health_score']:.1f}"
    # The owner is a heading, not a metric (a metric cuts a long name to one line).
    assert account["owner"] in [h.value.replace("\\", "") for h in at.subheader]
    text = " ".join(m.value for m in at.markdown)
    assert f"Playbook: {account['playbook']}" in text and account["reason"] in text
    assert any("event" in df.value.columns for df in at.dataframe)  # the timeline


def test_account_360_unknown_account(dashboard: Dashboard) -> None:
    at = dashboard(demo_home())
    at.query_params["account"] = "NOPE"
    at.run()
    at.switch_page(A360).run()
    _no_exception(at)
    assert "NOPE" in at.error[0].value


def test_settings_reject_weights_not_summing_to_100_then_save(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    home = copy_home(tmp_path / "home")
    at = dashboard(home).run()
    at.switch_page(SETTINGS).run()
    _no_exception(at)
    at.number_input[0].set_value(50.0)  # engagement 50 + 30 + 30 = 110
    at.button[0].click().run()
    assert "weights must sum to 100%" in at.error[0].value
    assert not (home / "health.toml").exists()
    at.number_input[0].set_value(40.0)
    at.number_input[1].set_value(20.0)
    at.number_input[2].set_value(40.0)
    at.number_input[5].set_value(100_000.0)  # executive call threshold
    at.button[0].click().run()
    _no_exception(at)
    saved = load_config(settings_for(home))
    assert saved.weights.as_dict() == {"engagement": 40, "sentiment": 20, "support": 40}
    assert saved.high_value_arr == 100_000
    scores = _latest(home).frame.filter(pl.col("partial").not_())
    expected = (
        0.4 * scores["engagement"] + 0.2 * scores["sentiment"] + 0.4 * scores["support"]
    ).round(1)
    assert (scores["health_score"] - expected).abs().max() < 0.051
