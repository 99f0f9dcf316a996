"""The Lifetime Value page in Chromium on a small demo: KPI cards and the retention chart render,
every tile reads in full (no exponent notation, nothing cut), and the CLV table's all-customers row
shows the month's simple LTV.

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
            # Every tile's label and value fit their card (β in the thousands read "2.11…").
            cut = page.evaluate(
                """() => [...document.querySelectorAll('[data-testid="stMetric"] *')]
                    .filter(e => e.scrollWidth > e.clientWidth).map(e => e.textContent)"""
            )
            assert cut == []
            shape = page.locator('[data-testid="stMetric"]').filter(has_text="sBG α / β")
            value = shape.locator('[data-testid="stMetricValue"]').inner_text()
            assert "e+" not in value and "e-" not in value, value
            # The all-customers row carries the simple LTV (it was an empty "None" cell).
            table = page.locator('[data-testid="stDataFrame"]').filter(has_text="simple LTV")
            expect(table.locator('[role="gridcell"]').first).to_be_attached(timeout=60_000)
            headers = [h.inner_text() for h in table.locator('[role="columnheader"]').all()]
            cells = [c.inner_text() for c in table.locator('[role="gridcell"]').all()]
            row = cells.index("All customers")
            simple_ltv = cells[row + headers.index("simple LTV")]
            assert simple_ltv and float(simple_ltv) > 0, simple_ltv
            page.screenshot(path=str(ARTIFACTS / "lifetime-value.png"), full_page=True)
        finally:
            browser.close()
