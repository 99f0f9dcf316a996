"""Brief 004's flow 5 in Chromium: the "Intervention impact" tab of the Risk Trends page shows
every campaign with its uplift and 95% interval, the forest plot and the planted truth; a
campaign's results view shows treated versus holdout.

The Risk Trends page itself is drawn by the trends area, which calls
``ui.intervention_impact.render`` in its tab; this test draws the same renders in a tiny page of
the same shape (title, tab), so it runs without that page. Needs Debian's chromium.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.test_browser import ARTIFACTS, CHROMIUM, _free_port, _stop, _wait_until_up

PAGE = """
from pathlib import Path

import streamlit as st

from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.ui import campaign_results, intervention_impact


@st.cache_resource
def _ctx() -> AppContext:
    return AppContext(Settings(home=Path({home!r}), warehouse_url=None, database_url=None))


st.title("Risk Trends")
impact_tab, results_tab = st.tabs(["Intervention impact", "Campaign results"])
with impact_tab:
    intervention_impact.render(_ctx())
with results_tab:
    campaign_results.render(_ctx(), {campaign!r})
"""


@pytest.mark.browser
def test_intervention_impact_tab(campaign_demo_home: Path, tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    import polars as pl
    from playwright.sync_api import expect, sync_playwright

    truth = pl.read_parquet(campaign_demo_home / "demo" / "truth" / "campaign_effects.parquet")
    ids = truth["campaign_id"].to_list()
    home = tmp_path / "home"
    import shutil

    shutil.copytree(campaign_demo_home, home, symlinks=True)
    script = tmp_path / "risk_trends_page.py"
    script.write_text(PAGE.format(home=str(home), campaign=ids[1]))
    port = _free_port()
    log = tmp_path / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, wait_until="domcontentloaded")
                expect(page.get_by_role("heading", name="Risk Trends")).to_be_visible(
                    timeout=60_000
                )
                page.get_by_role("tab", name="Intervention impact").click()
                expect(page.get_by_text("Uplift by campaign, with 95% intervals")).to_be_visible(
                    timeout=240_000
                )
                expect(page.get_by_text("Campaigns side by side")).to_be_visible()
                grid = page.locator('[data-testid="stDataFrame"]').first
                expect(grid).to_be_attached()
                # The forest plot: one point per campaign, the planted truth labelled.
                expect(page.locator(".js-plotly-plot").first).to_be_attached(timeout=60_000)
                expect(page.locator(".js-plotly-plot .legend").first).to_be_attached(
                    timeout=60_000
                )
                plot = page.locator(".js-plotly-plot").first.text_content() or ""
                assert "Planted truth (demo company)" in plot
                assert "Measured uplift, 95% interval" in plot
                for campaign_id in ids:
                    assert campaign_id in plot
                expect(page.get_by_text("Newcombe", exact=False).first).to_be_visible()
                assert page.locator('[data-testid="stException"]').count() == 0
                page.get_by_role("tab", name="Campaign results").click()
                expect(page.get_by_text("Churn: treated versus holdout")).to_be_visible(
                    timeout=120_000
                )
                metric = page.locator('[data-testid="stMetric"]').filter(has_text="Uplift")
                expect(metric.first).to_be_visible()
                expect(
                    page.locator('[data-testid="stMetric"]').filter(has_text="Holdout churn").first
                ).to_be_visible()
                expect(
                    page.get_by_text("Planted truth (demo company, not measured)")
                ).to_be_visible()
                assert page.locator('[data-testid="stException"]').count() == 0
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "intervention-impact.png"), full_page=True)
            finally:
                browser.close()
    finally:
        _stop(process)
