"""The Account Health page in Chromium: click a Capital at Risk treemap box, land on its 360.

Starts ``revintel demo`` as a user would (the approach of ``test_browser.py``). Needs Debian's
chromium at /usr/bin/chromium; without it the test fails, on purpose. Screenshots go to
``$REVINTEL_TEST_ARTIFACTS`` or ``tests/artifacts/``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.health import service
from tests.health.demo import settings_for
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, demo_dashboard  # noqa: F401 (fixture)


def _accounts(home: Path) -> dict[str, str]:
    """Account name → id of the accounts scored in the latest month."""
    ctx = AppContext(settings_for(home))
    try:
        frame = service.score_month(ctx).frame
    finally:
        ctx.close()
    return dict(frame.select("account_name", "account_id").iter_rows())


def _full_page_shot(page, path: Path) -> None:
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(900, int(height) + 40)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


@pytest.mark.browser
def test_treemap_click_opens_the_account_360(demo_dashboard: tuple[str, Path]) -> None:  # noqa: F811
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    url, home = demo_dashboard
    accounts = _accounts(home)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            started = time.monotonic()
            page.goto(f"{url}/account-health", wait_until="domcontentloaded")
            page.get_by_role("heading", name="Account Health", exact=True).wait_for(timeout=60_000)
            leaves = page.locator(".treemaplayer g.slice")
            leaves.first.wait_for(timeout=60_000)
            rendered = time.monotonic() - started
            assert page.locator('[data-testid="stException"]').count() == 0
            _full_page_shot(page, ARTIFACTS / "account-health.png")

            # The lower sections are lazy tabs: each draws when opened.
            for tab, key in (("Risk composition", "health_composition"),
                             ("Renewals", "health_renewals")):  # fmt: skip
                page.get_by_role("tab", name=tab).click()
                page.locator(f".st-key-{key} .js-plotly-plot").wait_for(timeout=30_000)
            page.get_by_role("tab", name="No recent contact").click()
            page.get_by_role(
                "heading", name="No contact for more than the no-contact window"
            ).wait_for(timeout=30_000)
            page.get_by_role("tab", name="Accounts").click()
            page.get_by_role("heading", name="Accounts", exact=True).wait_for(timeout=30_000)
            assert page.locator('[data-testid="stException"]').count() == 0

            # A leaf whose label is an account name (not a playbook, not "Others").
            target = None
            for i in range(leaves.count()):
                first_line = leaves.nth(i).locator("text.slicetext tspan").first
                if first_line.count() == 0:
                    continue
                text = (first_line.text_content() or "").strip()
                if text in accounts:
                    target = (leaves.nth(i), text)
                    break
            assert target is not None, "no account box found in the treemap"
            leaf, name = target
            leaf.scroll_into_view_if_needed()  # a click outside the viewport hits nothing
            page.wait_for_timeout(300)
            box = leaf.locator("path.surface").first.bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_url(f"**/account-360?account={accounts[name]}", timeout=60_000)
            page.get_by_role("heading", name=name, exact=True).wait_for(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            page.get_by_text("Health history").wait_for(timeout=30_000)
            _full_page_shot(page, ARTIFACTS / "account-360.png")
        finally:
            browser.close()
    print(f"Account Health rendered its treemap in {rendered:.2f} s")
    assert (ARTIFACTS / "account-360.png").stat().st_size > 10_000
