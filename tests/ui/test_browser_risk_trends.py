"""The Risk Trends and Data Quality pages in Chromium over a copy of the trained churn home: the
expected-churn metric and the portfolio charts, the tabs, the missing-values table.

Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard


@pytest.mark.browser
def test_risk_trends_and_data_quality_pages(churn_context: AppContext, tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    home = churn_context.settings.home
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_dashboard(home, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{url}/risk-trends", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Risk Trends", exact=True)).to_be_visible(
                timeout=60_000
            )
            metric = (
                page.locator('[data-testid="stMetric"]')
                .filter(has_text="Customers expected to churn")
                .first
            )
            expect(metric).to_be_visible(timeout=60_000)
            expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text(
                re.compile(r"^[0-9,]+\.[0-9]$")
            )
            expect(page.get_by_text("Portfolio risk", exact=True)).to_be_visible()
            expect(page.get_by_text("Backtest: expected vs actual churn")).to_be_visible()
            expect(page.locator(".js-plotly-plot").nth(2)).to_be_attached(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            height = page.evaluate(
                """() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"] *')]
                    .map(e => e.scrollHeight))"""
            )
            page.set_viewport_size({"width": 1400, "height": max(900, int(height) + 40)})
            page.screenshot(path=str(ARTIFACTS / "risk-trends.png"), full_page=True)
            page.get_by_role("tab", name="Risers").click()
            expect(page.get_by_text("in Account 360")).to_be_visible(timeout=60_000)
            page.get_by_role("tab", name="Intervention impact").click()
            assert page.locator('[data-testid="stException"]').count() == 0

            page.goto(f"{url}/data-quality", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Data Quality", exact=True)).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("Columns with missing values", exact=True)).to_be_visible(
                timeout=60_000
            )
            table = page.locator('[data-testid="stDataFrame"]').first
            expect(table).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Shaded: 20% missing or more")).to_be_visible()
            page.get_by_role("tab", name="Correlations").click()
            expect(page.get_by_text("correlation of the churn features")).to_be_visible(
                timeout=60_000
            )
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "data-quality.png"), full_page=True)
        finally:
            browser.close()
