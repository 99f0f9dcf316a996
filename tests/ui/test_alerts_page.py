"""The Alerts page through Streamlit's AppTest: rules, a refused rule with its message, the inbox
with its Acknowledge button, history and deliveries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.app.retention import alerts
from revintel.app.retention.alerts import AlertInputs
from revintel.core.config import Settings
from tests.retention.conftest import CUSTOMERS, risk

Dashboard = Callable[[Path], AppTest]
ALERTS = "views/alerts.py"


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    alerts.create_rule(ctx, name="Risk up", kind="risk_rise", thresholds={"points": 10})
    alerts.evaluate(
        ctx,
        inputs=AlertInputs(
            customers=CUSTOMERS, risk=risk({"2026-04": [0.1] * 4, "2026-05": [0.5, 0.1, 0.1, 0.1]})
        ),
    )
    ctx.close()
    return home


def test_the_alerts_page(dashboard: Dashboard, tmp_path: Path) -> None:
    home = _home(tmp_path)
    at = dashboard(home).run()
    at.switch_page(ALERTS).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Alerts"
    rules = at.dataframe[0].value
    assert list(rules["Name"]) == ["Risk up"] and list(rules["Firing"]) == [1]
    # a bad rule: out of range, refused with the field named, nothing saved
    at.text_input(key="al_name").set_value("Too much")
    at.number_input(key="al_th_risk_rise_points").set_value(150.0)
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert any("threshold points: 150 out of range" in e.value for e in at.error)
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    assert [r.name for r in alerts.list_rules(ctx)] == ["Risk up"]
    # the inbox: one alert, acknowledged from its button
    assert any("Acme: churn risk rose 40.0 points" in m.value for m in at.markdown)
    next(b for b in at.button if b.label == "Acknowledge").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert alerts.list_alerts(ctx).alerts[0].acknowledged_by
    assert not any(b.label == "Acknowledge" for b in at.button)
    ctx.close()
