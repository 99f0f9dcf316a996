"""The close-probability panel (ui/close_probability.py) through AppTest on the synthetic deal
company: the rule's and the model's figures are the service's."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.pipeline.service import forecasts
from tests.pipeline.forecast_company import loaded_deal_home


def _panel(home: str, deal_id: str) -> None:
    from pathlib import Path

    from revintel.app.context import AppContext
    from revintel.core.config import Settings
    from revintel.ui.close_probability import render_close_probability

    ctx = AppContext(Settings(home=Path(home), warehouse_url=None, database_url=None))
    render_close_probability(ctx, deal_id)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loaded_deal_home(tmp_path_factory.mktemp("forecast-panel"))


def test_panel_shows_rule_and_model(home: Path) -> None:
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        deal_id = forecasts.open_deal_probabilities(ctx)["deal_id"][0]
        expected = forecasts.deal_close_probability(ctx, deal_id).to_dict()
    finally:
        ctx.close()
    at = AppTest.from_function(_panel, args=(str(home), deal_id), default_timeout=300).run()
    assert not at.exception, [e.value for e in at.exception]
    values = {m.label: m.value for m in at.metric}
    assert values["Multi-factor rule"] == f"{expected['close_probability']:.0f}%"
    model = expected["model"]
    assert values[f"Model ({model['method']})"] == f"{model['close_probability']:.0f}%"
    missing = AppTest.from_function(_panel, args=(str(home), "nope"), default_timeout=300).run()
    assert "no open deal 'nope'" in missing.info[0].value
