"""The Forecast page in Chromium on the small demo: the KPI tiles and the monthly chart render
and nothing raises; the backtest is drawn, or the page says why it cannot be (too few deals).

Starts ``revintel demo`` as ``test_browser.py`` does. Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.test_browser import ARTIFACTS, CHROMIUM, demo_dashboard  # noqa: F401 (fixture)


@pytest.mark.browser
def test_pipeline_forecast_page(demo_dashboard: tuple[str, Path]) -> None:  # noqa: F811
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    url, _home = demo_dashboard
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{url}/pipeline-forecast", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Forecast", exact=True)).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("Next 90 days", exact=True)).to_be_visible(timeout=180_000)
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
            backtest = page.get_by_role("heading", name="Accuracy backtest", exact=False)
            warning = page.locator('[data-testid="stAlertContentWarning"]')
            expect(backtest.or_(warning).first).to_be_visible(timeout=180_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "pipeline-forecast.png"), full_page=True)
        finally:
            browser.close()
