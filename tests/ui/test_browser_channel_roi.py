"""The Channel ROI page in Chromium on a company whose channels follow planted curves
(tests/attribution/roi_data.py): the ROI bars and table, the response curves, the budget
suggestion with its label, and the total slider moving the suggestion.

Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.attribution.roi_data import load_company
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard


@pytest.mark.browser
def test_channel_roi_page(tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    home = load_company(tmp_path / "company")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_dashboard(home, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{url}/channel-roi", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Channel ROI", exact=True)).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("ROI per channel and model")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Difference from last touch")).to_be_visible()
            expect(page.get_by_text("Model-based suggestion.")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Response curves: attributed conversions")).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("Monthly spend: current and suggested")).to_be_visible()
            expect(page.locator(".js-plotly-plot").nth(3)).to_be_attached(timeout=60_000)
            downloads = page.get_by_role("button", name="CSV", exact=True)
            assert downloads.count() >= 4  # every chart is downloadable
            assert page.locator('[data-testid="stException"]').count() == 0
            gain = page.locator('[data-testid="stMetric"]').filter(has_text="Expected gain")
            before = gain.locator('[data-testid="stMetricValue"]').inner_text()
            # The total's slider: the right arrow moves it up by a step; the suggestion follows.
            total = page.get_by_role("slider").nth(1)
            total.focus()
            for _ in range(20):
                total.press("ArrowRight")
            expect(gain.locator('[data-testid="stMetricValue"]')).not_to_have_text(
                before, timeout=60_000
            )
            assert page.locator('[data-testid="stException"]').count() == 0
            # CLV on: this company has no subscriptions, so the page says why there is no CLV.
            page.get_by_text("Value at CLV").click()
            expect(page.get_by_text("CLV columns: no CLV")).to_be_visible(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            with page.expect_download() as download:
                page.get_by_role("button", name="CSV", exact=True).nth(2).click()
            assert download.value.suggested_filename == "budget_allocation.csv"
            height = page.evaluate(
                """() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"] *')]
                    .map(e => e.scrollHeight))"""
            )
            page.set_viewport_size({"width": 1400, "height": max(900, int(height) + 40)})
            page.screenshot(path=str(ARTIFACTS / "channel-roi.png"), full_page=True)
        finally:
            browser.close()
