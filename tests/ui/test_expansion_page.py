"""The Expansion page through AppTest on the planted expansion company: the lift and the ranked
accounts match the service, a segment filter narrows the list, and without usage the page says
which table to load (docs/pipeline.md, Expansion opportunity)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from revintel.app.context import AppContext
from revintel.pipeline.service.expansion import expansion_scores
from tests.conftest import isolated_settings
from tests.pipeline.planted_home import planted_home

Dashboard = Callable[[Path], AppTest]
PAGE = "views/expansion.py"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planted_home(tmp_path_factory.mktemp("ui-expansion"))


def _open(dashboard: Dashboard, home: Path) -> AppTest:
    at = dashboard(home).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_shows_the_lift_beside_the_ranked_accounts(
    dashboard: Dashboard, home: Path
) -> None:
    ctx = AppContext(isolated_settings(home))
    try:
        report = expansion_scores(ctx, limit=50)
    finally:
        ctx.close()
    at = _open(dashboard, home)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Top-decile lift"] == f"{report.backtest.lift:.2f}×"
    table = at.dataframe[0].value
    assert list(table["account_id"][:5]) == [a.account_id for a in report.accounts[:5]]
    assert table["reasons"][0]
    at.selectbox(key="expansion_segment").select("Enterprise").run()
    assert not at.exception
    assert set(at.dataframe[0].value["segment"]) == {"Enterprise"}


def test_without_usage_the_page_names_the_table(
    dashboard: Dashboard, tmp_path: Path, company_csvs: Path
) -> None:
    from revintel.app.ingest import load_paths

    ctx = AppContext(isolated_settings(tmp_path / "home"))
    try:
        load_paths(ctx, [company_csvs], source="test")
    finally:
        ctx.close()
    at = _open(dashboard, tmp_path / "home")
    assert any("usage" in w.value for w in at.warning), [w.value for w in at.warning]


def test_short_data_shows_the_scores_and_why_there_is_no_backtest(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    from revintel.app.ingest import load_paths
    from tests.backends.conftest import COMPANY, HEALTH_TABLES

    folder = tmp_path / "company"
    folder.mkdir()
    for name, text in {**COMPANY, **HEALTH_TABLES}.items():
        (folder / name).write_text(text)
    ctx = AppContext(isolated_settings(tmp_path / "home"))
    try:
        load_paths(ctx, [folder], source="test")
    finally:
        ctx.close()
    at = _open(dashboard, tmp_path / "home")
    assert any(i.value.startswith("No backtest") for i in at.info), [i.value for i in at.info]
    assert "C1" in list(at.dataframe[0].value["account_id"])
    assert not [m for m in at.metric if m.label == "Top-decile lift"]
