"""The Risk Trends and Data Quality pages through Streamlit's AppTest on the trained churn home
(read-only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.app.retention import risk_trends as R
from tests.conftest import isolated_settings

Dashboard = Callable[[Path], AppTest]


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_risk_trends_page(dashboard: Dashboard, churn_home: Path) -> None:
    at = dashboard(churn_home).run()
    at.switch_page("views/risk_trends.py").run()
    _no_exception(at)
    assert at.title[0].value == "Risk Trends"
    ctx = AppContext(isolated_settings(churn_home))
    try:
        q = R.risk_trends(ctx, 12, 0.9).next_quarter
    finally:
        ctx.close()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers expected to churn"] == f"{q.expected_customers:,.1f}"
    assert metrics["90% interval"] == f"{q.customers_low:,.0f} – {q.customers_high:,.0f}"
    assert [t.label for t in at.tabs] == [
        "Portfolio", "Cohorts", "Risers", "Feature drift", "Intervention impact",
    ]  # fmt: skip
    risers = next(df.value for df in at.dataframe if "top_factor_label" in df.value.columns)
    assert len(risers) == 25 and risers["change"].is_monotonic_decreasing


def test_data_quality_page(dashboard: Dashboard, churn_home: Path) -> None:
    at = dashboard(churn_home).run()
    at.switch_page("views/data_quality.py").run()
    _no_exception(at)
    assert at.title[0].value == "Data Quality"
    missing = next(
        df.value
        for df in at.dataframe
        if {"table", "column", "missing_share"} <= set(df.value.columns)
    )
    assert (missing["missing"] > 0).all()  # only columns with missing values, by default
    assert ("subscriptions", "end_date") in set(
        zip(missing["table"], missing["column"], strict=True)
    )
    assert any("outliers" in df.value.columns for df in at.dataframe)
    assert any("fresh" in m.value or "old" in m.value or "stale" in m.value for m in at.markdown)


def test_pages_without_data_show_the_empty_state(dashboard: Dashboard, tmp_path: Path) -> None:
    for page in ("views/risk_trends.py", "views/data_quality.py"):
        at = dashboard(tmp_path / "home").run()
        at.switch_page(page).run()
        _no_exception(at)
