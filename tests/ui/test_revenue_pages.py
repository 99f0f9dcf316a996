"""The Executive Overview, Customer Insights and Financial Health pages through AppTest.

KPI tiles are checked against the metrics service's own numbers, before and after a sidebar
filter; on brief 001's four tables alone the pages say which table to load instead of failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.metrics import service
from revintel.metrics.definitions import DEFINITIONS
from revintel.ui.revenue import formatted
from tests.health.demo import demo_home, settings_for
from tests.ui.conftest import kpi_tiles

Dashboard = Callable[[Path], AppTest]
OVERVIEW = "views/executive_overview.py"
INSIGHTS = "views/customer_insights.py"
FINANCE = "views/financial_health.py"
# brief 001 ships customers, subscriptions, payments and costs only
NOT_IN_BRIEF_001 = ("marketing_spend", "trials", "accounts", "usage", "nps_responses",
                    "support_tickets", "deals", "deal_stage_history", "deal_activities",
                    "touchpoints", "conversions", "predictions")  # fmt: skip


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _tiles(at: AppTest) -> dict[str, str]:
    return {label: tile.value for label, tile in kpi_tiles(at).items()}


def _open(dashboard: Dashboard, home: Path, page: str) -> AppTest:
    at = dashboard(home).run()
    at.switch_page(page).run()
    _no_exception(at)
    return at


def _service(home: Path, name: str, **options) -> Any:
    ctx = AppContext(settings_for(home))
    try:
        return getattr(service, name)(ctx, service.MetricQuery(**options))
    finally:
        ctx.close()


def _last(rows: list[dict]) -> dict:
    return max(rows, key=lambda r: r["month"])


def test_executive_overview_tiles_match_the_service_and_follow_filters(
    dashboard: Dashboard,
) -> None:
    home = demo_home()
    at = _open(dashboard, home, OVERVIEW)
    assert at.title[0].value == "Executive Overview"
    headline = _service(home, "summary").to_dict()["metrics"]
    tiles = _tiles(at)
    assert tiles["MRR"] == formatted(headline["mrr"]["value"], "currency")
    assert tiles["ARR"] == formatted(headline["arr"]["value"], "currency")
    assert tiles["Paying customers"] == f"{headline['customers']['value']:,}"
    assert tiles["Cash collected"] == formatted(headline["revenue"]["value"], "currency")
    assert tiles["NRR (monthly)"] == f"{100 * headline['nrr_monthly']['value']:.1f}%"
    assert tiles["Logo churn"] == f"{100 * headline['logo_churn_rate']['value']:.1f}%"
    assert tiles["Quick ratio"] == f"{headline['quick_ratio']['value']:.2f}×"
    change = headline["customers"]["change"]
    customers = kpi_tiles(at)["Paying customers"]
    assert customers.delta is not None and f"{change:+,}" in customers.delta
    # every tile explains its metric with the definition in docs/metrics.md
    assert DEFINITIONS["mrr"].formula in kpi_tiles(at)["MRR"].help
    titles = "\n".join(m.value for m in at.markdown)
    for chart in ("MRR trend and forecast", "MRR movements", "Cash collected"):
        assert chart in titles
    assert len(at.get("vega_lite_chart")) == 4  # Vega-Lite on this page (ui/vega.py)
    assert len(at.get("download_button")) == 4
    # the filters come first in the sidebar, above the data status (components.page_controls)
    sidebar = [m.value for m in at.sidebar.markdown]
    filters = next(i for i, text in enumerate(sidebar) if "Filters" in text)
    status = next(i for i, text in enumerate(sidebar) if "Warehouse" in text)
    assert filters < status, sidebar

    at.multiselect(key="rev_segment").set_value(["SMB"]).run()
    _no_exception(at)
    smb = _last(_service(home, "mrr_movements", filters={"segment": ["SMB"]}))
    assert smb["mrr"] != headline["mrr"]["value"]
    assert _tiles(at)["MRR"] == formatted(smb["mrr"], "currency")
    assert _tiles(at)["Paying customers"] == f"{smb['customers']:,}"


def test_customer_insights_tiles_and_a_plan_filter(dashboard: Dashboard) -> None:
    home = demo_home()
    at = _open(dashboard, home, INSIGHTS)
    latest = _last(_service(home, "mrr_movements"))
    retained = _last(_service(home, "retention"))
    tiles = _tiles(at)
    assert tiles["ARPA"] == formatted(latest["arpa"], "currency")
    assert tiles["GRR (trailing 12 months)"] == f"{100 * retained['grr_t12m']:.1f}%"
    assert not at.info  # trials are loaded: conversion by country is drawn
    assert len(at.get("plotly_chart")) == 5  # churn, conversion, cohorts, ARPA x2

    at.multiselect(key="rev_plan").set_value(["Pro"]).run()
    _no_exception(at)
    pro = _last(_service(home, "mrr_movements", filters={"plan": ["Pro"]}))
    assert pro["arpa"] != latest["arpa"]
    assert _tiles(at)["ARPA"] == formatted(pro["arpa"], "currency")


def test_financial_health_tiles_match_the_service(dashboard: Dashboard) -> None:
    home = demo_home()
    at = _open(dashboard, home, FINANCE)
    money = _last(_service(home, "financials"))
    cac = _last(_service(home, "acquisition"))
    tiles = _tiles(at)
    assert tiles["Cash collected"] == formatted(money["revenue"], "currency")
    assert tiles["Gross margin"] == f"{100 * money['gross_margin']:.1f}%"
    assert tiles["Contribution after infra, support and marketing"] == formatted(
        money["contribution"], "currency"
    )
    assert tiles["CAC"] == formatted(cac["cac"], "currency")
    assert len(at.get("plotly_chart")) == 4

    # the date range moves the tiles to the range's last month
    months = at.select_slider(key="rev_months").options
    at.select_slider(key="rev_months").set_range(months[0], months[-3]).run()
    _no_exception(at)
    earlier = next(r for r in _service(home, "financials") if r["month"] == months[-3])
    assert _tiles(at)["Cash collected"] == formatted(earlier["revenue"], "currency")
    assert earlier["revenue"] != money["revenue"]


@pytest.mark.parametrize(
    ("page", "table"),
    [(OVERVIEW, None), (INSIGHTS, "trials"), (FINANCE, "marketing_spend")],
)
def test_brief_001_tables_alone(dashboard: Dashboard, page: str, table: str | None) -> None:
    at = _open(dashboard, demo_home(NOT_IN_BRIEF_001), page)
    assert len(kpi_tiles(at)) >= 4
    notices = "\n".join(i.value for i in at.info)
    if table is None:
        assert not notices
    else:
        assert f"Load the **{table}** table" in notices


def test_a_tiny_company_shows_undefined_values_with_reasons(
    dashboard: Dashboard, loaded_context: AppContext
) -> None:
    home = loaded_context.settings.home
    loaded_context.close()
    at = _open(dashboard, home, OVERVIEW)
    text = "\n".join(c.value for c in at.caption)
    assert "inf" not in " ".join(_tiles(at).values())
    # two complete months: too short to forecast, said on the chart once computed (by the
    # forecasting worker process, which may still be starting)
    deadline = time.monotonic() + 120
    while "No forecast" not in text and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
        text = "\n".join(c.value for c in at.caption)
    assert "No forecast" in text
    at = _open(dashboard, home, FINANCE)
    assert "Load the **costs** table" in "\n".join(i.value for i in at.info)


def test_outlooks_start_once_the_page_is_drawn_and_are_computed_once() -> None:
    from revintel.ui import revenue as rv

    rows = [{"month": f"2024-{m:02d}", "mrr": 1000.0 + 25 * m} for m in range(1, 13)]
    future = rv.outlook(rows, "mrr", "mrr")
    assert not future.running() and not future.done()  # nothing competes with the page's run
    rv.start_outlooks()
    result = future.result(timeout=120)
    assert result.forecast is not None and result.forecast_error is None
    assert rv.outlook(rows, "mrr", "mrr") is future
    rv.start_outlooks()  # nothing left to start
    assert rv.outlook([*rows, {"month": "2025-01", "mrr": 1400.0}], "mrr", "mrr") is not future


def test_the_mrr_trend_csv_is_made_on_the_click_with_the_forecast_drawn() -> None:
    """The card's CSV is built when the button is clicked (not on every run): the months shown,
    then the forecast's months with its mean and both intervals when the chart drew them."""
    import csv
    import io
    from functools import partial

    from revintel.ui import revenue as rv
    from revintel.ui.outlook import compute
    from revintel.ui.views.executive_overview import mrr_trend_frame

    shown = _service(demo_home(), "mrr_movements")[-12:]
    result = compute([{"month": r["month"], "mrr": r["mrr"]} for r in shown], "mrr", 6)
    assert result.forecast is not None

    def read(make: Callable[[], object]) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(rv._csv(make).decode())))  # type: ignore[arg-type]

    without = read(partial(mrr_trend_frame, shown, None))
    assert [r["month"] for r in without] == [r["month"] for r in shown]
    assert "forecast" not in without[0]
    assert float(without[-1]["mrr"]) == pytest.approx(shown[-1]["mrr"])

    rows = read(partial(mrr_trend_frame, shown, result))
    future = [r for r in rows if r["forecast"]]
    assert [r["month"] for r in future] == [f.month for f in result.forecast.forecast]
    assert {"lo80", "hi80", "lo95", "hi95"} <= set(rows[0])
    assert all(float(r["lo95"]) <= float(r["forecast"]) <= float(r["hi95"]) for r in future)
    assert [r["month"] for r in rows[: len(shown)]] == [r["month"] for r in shown]


def test_an_industry_filter_and_trial_conversion_by_channel(dashboard: Dashboard) -> None:
    """The sidebar filters by industry, and Customer Insights shows conversion by channel: each
    through the metrics service, whose numbers they show."""
    home = demo_home()
    at = _open(dashboard, home, INSIGHTS)
    industries = _service_values(home, "industry")
    assert len(industries) > 1
    box = at.multiselect(key="rev_industry")
    assert box.label == "Industry" and list(box.options) == list(industries)
    picked = industries[-1]
    box.set_value([picked]).run()
    _no_exception(at)
    kept = _last(_service(home, "mrr_movements", filters={"industry": [picked]}))
    assert kept["arpa"] != _last(_service(home, "mrr_movements"))["arpa"]
    assert _tiles(at)["ARPA"] == formatted(kept["arpa"], "currency")
    assert f"Industry: {picked}" in "\n".join(c.value for c in at.caption)

    at.segmented_control(key="ci_conversion_by").set_value("Channel").run()
    _no_exception(at)
    assert "Trial conversion by channel" in "\n".join(m.value for m in at.markdown)
    rows = _service(
        home, "trial_conversion", by="acquisition_channel", filters={"industry": [picked]}
    )
    channels = {str(r["acquisition_channel"]) for r in rows}
    assert len(channels) > 1
    figures = [chart.proto.spec for chart in at.get("plotly_chart")]
    drawn = next(f for f in figures if all(f'"{c}"' in f for c in channels))
    assert "Country" not in drawn


def _service_values(home: Path, dimension: str) -> list[str]:
    """The values of a customers column, read from the table itself."""
    ctx = AppContext(settings_for(home))
    try:
        customers = ctx.warehouse.table("customers")
        values = customers.select(dimension).distinct().to_pyarrow()[dimension].to_pylist()
        return sorted(str(v) for v in values if v is not None)
    finally:
        ctx.close()
