"""The Journeys page in Chromium on the small demo: the tiles, the top paths table, the path
length, time-to-convert and first-to-last (Sankey) charts, each with its CSV download, and one
customer's journey looked up by id. Starts ``revintel demo`` as ``test_browser.py`` does. Needs
Debian's chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from revintel.app.context import AppContext
from revintel.core.config import Settings
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, demo_dashboard  # noqa: F401 (fixture)


def _a_customer_with_touches(home: Path) -> str:
    ctx = AppContext(Settings(home=home, warehouse_url=None, database_url=None))
    try:
        wh = ctx.warehouse
        tp = wh.table("touchpoints")
        row = wh.to_arrow(
            tp.filter(tp.customer_id.notnull())
            .select("customer_id")
            .order_by("customer_id")
            .limit(1)
        )
        return str(row.to_pylist()[0]["customer_id"])
    finally:
        ctx.close()


def walk_journeys_page(page: Any, url: str, customer_id: str) -> None:
    """Open the page, check what it draws, look up one customer."""
    from playwright.sync_api import expect

    page.goto(f"{url}/journeys", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Journeys", exact=True)).to_be_visible(timeout=60_000)
    for title in ("Path length", "Time to convert", "First touch → last touch"):
        expect(page.get_by_text(title, exact=True).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Top 20 paths", exact=False).first).to_be_visible(timeout=60_000)
    expect(page.locator(".js-plotly-plot").nth(2)).to_be_visible(timeout=60_000)
    assert page.locator(".js-plotly-plot .sankey").count() == 1
    tiles = page.locator('[data-testid="stMetricValue"]')
    expect(tiles.first).to_be_visible(timeout=60_000)
    assert all(t.inner_text().strip() for t in tiles.all())
    # Every chart has its CSV download.
    assert page.locator('[data-testid="stDownloadButton"]').count() >= 3
    assert page.locator('[data-testid="stException"]').count() == 0
    box = page.get_by_role("textbox", name="Customer id")
    box.fill(customer_id)
    box.press("Enter")
    expect(page.get_by_text(f"Timeline of {customer_id}", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("conversion", exact=False).first).to_be_visible(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 4
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "journeys.png"), full_page=True)
    page.get_by_text(f"Timeline of {customer_id}", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "journeys-customer.png"))
    box.fill("nobody-at-all")
    box.press("Enter")
    expect(page.get_by_text("'nobody-at-all'", exact=False).first).to_be_visible(timeout=60_000)


@pytest.mark.browser
def test_journeys_page(demo_dashboard: tuple[str, Path]) -> None:  # noqa: F811
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    url, home = demo_dashboard
    customer_id = _a_customer_with_touches(home)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            walk_journeys_page(page, url, customer_id)
        finally:
            browser.close()
