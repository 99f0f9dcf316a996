"""The Forecast page through AppTest on a small synthetic deal company: the probability-weighted
KPIs equal the service's figures, the backtest table is drawn, and nothing raises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.core.formatting import money
from revintel.pipeline.service import forecasts
from tests.pipeline.forecast_company import loaded_deal_home

PAGE = "views/pipeline_forecast.py"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loaded_deal_home(tmp_path_factory.mktemp("forecast-page"))


def test_forecast_page_shows_the_services_figures(
    dashboard: Callable[[Path], AppTest], home: Path
) -> None:
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        expected = forecasts.monthly_forecast(ctx).to_dict()
        backtest = forecasts.backtest(ctx).to_dict()
    finally:
        ctx.close()
    at = dashboard(home).run()
    at.switch_page(PAGE).run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    for w in expected["windows"]:
        h = w["horizon_days"]
        assert metrics[f"Next {h} days"] == money(w["probability_weighted"]["value"])
    assert metrics["Open deals"] == f"{expected['open_deals']:,}"
    best = min(
        (r for r in backtest["accuracy"] if r["horizon_days"] == 90 and r["mape"] is not None),
        key=lambda r: r["mape"],
    )
    assert any(v == f"{best['mape']:.1f}%" for k, v in metrics.items() if "90-day MAPE" in k)
    assert len(at.dataframe) == 2
