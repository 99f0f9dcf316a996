"""The Attribution page in Chromium on the small demo: the models side by side, the table, the
difference from last touch and the Markov removal effects; the Markov order changes the chart,
and a chart's CSV downloads. Starts ``revintel demo`` as ``test_browser.py`` does. Needs Debian's
chromium.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.test_browser import ARTIFACTS, CHROMIUM, demo_dashboard  # noqa: F401 (fixture)


def walk_attribution_page(page: Any, url: str) -> None:
    """Open the page and check what it draws (also run by hand against a running dashboard)."""
    from playwright.sync_api import expect

    page.goto(f"{url}/attribution", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Attribution", exact=True)).to_be_visible(
        timeout=60_000
    )
    for title in (
        "Credit per channel, by model",
        "Difference from last touch",
        "Markov removal effects (order 1)",
    ):
        expect(page.get_by_text(title, exact=True)).to_be_visible(timeout=90_000)
    expect(page.locator(".js-plotly-plot").nth(2)).to_be_visible(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    tiles = page.locator('[data-testid="stMetricValue"]')
    assert tiles.count() == 4 and all(t.inner_text().strip() for t in tiles.all())
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    with page.expect_download(timeout=60_000) as download:
        page.locator('[data-testid="stDownloadButton"] button').first.click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0].startswith("model,channel,conversions,value,share")
    page.screenshot(path=str(ARTIFACTS / "attribution.png"), full_page=True)
    # The Markov order: a second-order chain's removal effects.
    box = page.locator(".st-key-attr_order input")
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name="2", exact=True).click()
    expect(page.get_by_text("Markov removal effects (order 2)", exact=True)).to_be_visible(
        timeout=90_000
    )
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.browser
def test_attribution_page(demo_dashboard: tuple[str, Path]) -> None:  # noqa: F811
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
            walk_attribution_page(page, url)
        finally:
            browser.close()
