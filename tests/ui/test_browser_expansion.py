"""The Expansion page in Chromium on a small demo: the lift tiles, the ranked accounts with their
reasons and the decile chart render, nothing raises.

Starts ``revintel demo`` as ``test_browser.py`` does. Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.test_browser import ARTIFACTS, CHROMIUM, demo_dashboard  # noqa: F401 (fixture)


@pytest.mark.browser
def test_expansion_page(demo_dashboard: tuple[str, Path]) -> None:  # noqa: F811
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
            page.goto(f"{url}/expansion", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Expansion", exact=True)).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("Top-decile lift", exact=True)).to_be_visible(timeout=90_000)
            expect(page.get_by_text("ROC AUC (backtest)", exact=True)).to_be_visible()
            expect(
                page.get_by_role("heading", name="Backtest: expansion rate by decile")
            ).to_be_visible()
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
            table = page.locator('[data-testid="stDataFrame"]').filter(has_text="reasons")
            expect(table.locator('[role="gridcell"]').first).to_be_attached(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            expect(page.get_by_text("Download ranked accounts (CSV)")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "expansion.png"), full_page=True)
        finally:
            browser.close()
