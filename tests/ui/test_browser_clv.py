"""The Lifetime Value page in Chromium on a small demo: KPI cards and the retention chart render.

Starts ``revintel demo`` as ``test_browser.py`` does (300 customers, 12 months). Needs Debian's
chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.test_browser import ARTIFACTS, CHROMIUM, demo_dashboard  # noqa: F401 (fixture)


@pytest.mark.browser
def test_lifetime_value_page(demo_dashboard: tuple[str, Path]) -> None:  # noqa: F811
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
            page.goto(f"{url}/lifetime-value", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Lifetime Value", exact=True)).to_be_visible(
                timeout=60_000
            )
            metrics = page.locator('[data-testid="stMetric"]')
            expect(metrics.first).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Average CLV", exact=True)).to_be_visible()
            expect(page.get_by_text("Simple LTV", exact=True)).to_be_visible()
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
            expect(page.get_by_role("heading", name="RFM segments")).to_be_visible()
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "lifetime-value.png"), full_page=True)
        finally:
            browser.close()
