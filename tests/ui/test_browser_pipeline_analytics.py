"""The Pipeline, Scenarios and Competitors pages in Chromium on the small demo: each renders its
heading, its KPI tiles or table and a chart, with no exception (the sliders' effect on the
Scenarios tiles is checked through AppTest, test_pipeline_analytics_pages.py). Starts
``revintel demo`` as ``test_browser.py`` does. Needs Debian's chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.test_browser import ARTIFACTS, CHROMIUM, demo_dashboard  # noqa: F401 (fixture)


def walk_analytics_pages(page: Any, url: str) -> None:
    """Open each page and check what it draws (also run by hand against a running dashboard)."""
    from playwright.sync_api import expect

    for path, heading, must_show in (
        ("pipeline", "Pipeline", "Open pipeline by stage"),
        ("scenarios", "Scenarios", "Simulated bookings"),
        ("competitors", "Competitors", "Win rate by competitor"),
    ):
        page.goto(f"{url}/{path}", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=60_000)
        expect(page.get_by_text(must_show, exact=True).first).to_be_visible(timeout=60_000)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0, path
        tiles = page.locator('[data-testid="stMetricValue"]')
        if path != "competitors":
            expect(tiles.first).to_be_visible(timeout=60_000)
            assert all(t.inner_text().strip() for t in tiles.all()), path
        page.screenshot(path=str(ARTIFACTS / f"pipeline-analytics-{path}.png"), full_page=True)


@pytest.mark.browser
def test_pipeline_scenarios_and_competitors_pages(demo_dashboard: tuple[str, Path]) -> None:  # noqa: F811
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    url, _home = demo_dashboard
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            walk_analytics_pages(page, url)
        finally:
            browser.close()
