"""The Executive Overview's Vega-Lite charts are valid specs.

The page hands Streamlit the spec without Altair's JSON-schema validation (revenue.chart_card: it
costs ~10 ms a chart on every run), so the validation happens here, on every chart the page builds
from the demo company: with and without a forecast, and with anomalies marked.
"""

from __future__ import annotations

from typing import Any

import pytest

from revintel.context import AppContext
from revintel.metrics import service
from revintel.ui import vega
from revintel.ui.outlook import compute
from tests.health.demo import demo_home, settings_for


@pytest.fixture(scope="module")
def rows() -> dict[str, Any]:
    ctx = AppContext(settings_for(demo_home()))
    try:
        return {"movements": service.mrr_movements(ctx), "revenue": service.revenue(ctx)}
    finally:
        ctx.close()


def test_every_chart_of_the_executive_overview_validates(rows: dict[str, Any]) -> None:
    movements, cash = rows["movements"], rows["revenue"]
    outlook = compute([{"month": r["month"], "mrr": r["mrr"]} for r in movements], "mrr", 6)
    assert outlook.forecast is not None
    # a flagged month, so that the anomaly layer is drawn too
    flagged = compute([{"month": r["month"], "revenue": r["revenue"]} for r in cash], "revenue", 6)
    charts = [
        vega.trend_chart(movements, "mrr", "MRR", result=outlook),
        vega.trend_chart(movements, "mrr", "MRR", result=None),
        vega.trend_chart(cash, "revenue", "Revenue", result=flagged, kind="bar"),
        vega.movements_chart(movements),
        vega.rate_lines(movements, [("logo_churn_rate", "Logo churn")]),
        vega.trend_chart([], "mrr", "MRR"),
    ]
    for chart in charts:
        spec = chart.to_dict()  # validates against the Vega-Lite schema; raises if invalid
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        assert spec == chart.to_dict(validate=False)  # what the page sends: the same spec
