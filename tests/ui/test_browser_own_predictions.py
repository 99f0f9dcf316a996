"""The churn pages in Chromium on a predictions CSV loaded alone (no customers table): the
prototype user's data, 200 undated scores. Churn Overview says the scores are imported and
undated (never "Scored None"), High-Risk Customers lists them, and Customer Lookup shows the score
with no one-point trend. Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from tests.churn.test_own_predictions import prototype_predictions
from tests.conftest import isolated_settings
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT = 90_000  # ms, for the first render of a page


def _home_with_predictions_only(root: Path) -> Path:
    home = root / "home"
    folder = root / "scores"
    folder.mkdir()
    (folder / "predictions.csv").write_text(prototype_predictions(200))
    ctx = AppContext(isolated_settings(home))
    try:
        load_paths(ctx, [folder], source="test")
        assert ctx.warehouse.list_tables() == ["predictions"]
    finally:
        ctx.close()
    return home


def _settled(page) -> None:
    """Wait until Streamlit has finished the current run (no running-status widget)."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=TIMEOUT)


@pytest.mark.browser
def test_churn_pages_on_predictions_loaded_alone(tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    home = _home_with_predictions_only(tmp_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_dashboard(home, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            main = page.locator('[data-testid="stMain"]')

            page.goto(f"{url}/churn-overview", wait_until="domcontentloaded")
            expect(page.get_by_text("Imported predictions, undated")).to_be_visible(timeout=TIMEOUT)
            expect(page.get_by_text("No data loaded yet")).to_have_count(0)
            expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=TIMEOUT)
            expect(page.get_by_role("heading", name="Risk scores")).to_be_visible(timeout=TIMEOUT)
            _settled(page)
            assert "None" not in main.inner_text()
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "own-predictions-overview.png"), full_page=True)

            page.goto(f"{url}/high-risk", wait_until="domcontentloaded")
            table = page.locator('[data-testid="stDataFrame"]').first
            expect(table.locator('[role="gridcell"]').first).to_be_attached(timeout=TIMEOUT)
            expect(
                table.locator('[role="gridcell"]').filter(has_text="ACC-").first
            ).to_be_attached()
            # Only the columns the scores fill: no columns of empty "None" cells.
            headers = [h.inner_text().strip() for h in table.locator('[role="columnheader"]').all()]
            assert [h for h in headers if h] == ["account", "churn risk", "tier"], headers
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "own-predictions-high-risk.png"), full_page=True)

            page.goto(f"{url}/customer-lookup?account=ACC-0001", wait_until="domcontentloaded")
            expect(page.get_by_text("No risk trend: the score is undated")).to_be_visible(
                timeout=TIMEOUT
            )
            expect(page.get_by_text("undated score", exact=False).first).to_be_visible()
            _settled(page)
            assert page.locator(".js-plotly-plot").count() == 0  # no one-point trend chart
            assert "None" not in main.inner_text()
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "own-predictions-lookup.png"), full_page=True)
        finally:
            browser.close()
