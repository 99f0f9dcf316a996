"""The Deals page in Chromium on a small demo: the table of open deals renders, clicking a row
opens the deal at ``/deals?deal=ID``, and that deep link opens the same deal on its own with its
health, risk factors and stage timeline.

Starts ``revintel demo`` as ``test_browser.py`` does (300 customers, 12 months). Needs Debian's
chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.test_browser import ARTIFACTS, CHROMIUM, demo_dashboard  # noqa: F401 (fixture)


def walk_deals(page: Any, url: str) -> str:
    """List → click the first row → the deal's page; then its deep link alone. The deal id."""
    from playwright.sync_api import expect

    page.goto(f"{url}/deals", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Deals", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Open deals", exact=True)).to_be_visible(timeout=60_000)
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_be_visible(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    # Click the first row's selection box (the grid is a canvas: click by position).
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    page.wait_for_url("**/deals?deal=*", timeout=60_000)
    deal_id = page.url.split("deal=")[-1]
    expect(page.get_by_role("heading", name="Risk factors")).to_be_visible(timeout=60_000)
    page.goto(f"{url}/deals?deal={deal_id}", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name=f"· {deal_id}")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Close probability", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Stage timeline")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    return deal_id


@pytest.mark.browser
def test_deals_page_and_a_deal_deep_link(demo_dashboard: tuple[str, Path]) -> None:  # noqa: F811
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
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            deal_id = walk_deals(page, url)
            assert deal_id.startswith("DEAL-")
            page.screenshot(path=str(ARTIFACTS / "deal.png"), full_page=True)
        finally:
            browser.close()
