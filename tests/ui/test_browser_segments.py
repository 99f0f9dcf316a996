"""The Segments page in Chromium on the churn demo company: a text rule shows its live count and
MRR, a rule that does not parse shows its position, the segment is saved and appears in Saved.

Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.retention import segments as service
from tests.conftest import isolated_settings
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard

RULE = 'segment = "SMB" and mrr > 0'


@pytest.mark.browser
def test_segments_page_builds_and_saves_a_rule(churn_home: Path, tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "home"
    shutil.copytree(churn_home, home, symlinks=True)
    ctx = AppContext(isolated_settings(home))
    try:
        expected = service.preview(ctx, RULE, sample=0)
    finally:
        ctx.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_dashboard(home, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/segments", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Segments", exact=True)).to_be_visible(
                timeout=90_000
            )
            # the visual builder is drawn once the features are computed
            expect(page.get_by_text("Customers matching")).to_be_visible(timeout=120_000)
            page.get_by_text("Text rule", exact=True).click(no_wait_after=True)
            box = page.get_by_label("Rule", exact=True)
            expect(box).to_be_visible(timeout=60_000)
            box.fill("mrr > 10000 and")
            box.press("Control+Enter")
            expect(page.get_by_text("position 16")).to_be_visible(timeout=60_000)
            box.fill(RULE)
            box.press("Control+Enter")
            customers = page.locator('[data-testid="stMetric"]').filter(has_text="Customers")
            expect(customers.locator('[data-testid="stMetricValue"]')).to_have_text(
                f"{expected.count:,}", timeout=60_000
            )
            assert page.locator('[data-testid="stException"]').count() == 0
            page.get_by_label("Name").fill("SMB paying")
            page.get_by_role("button", name="Save segment").click(no_wait_after=True)
            expect(page.get_by_text(re.compile(r"^Saved segment \d+: SMB paying$"))).to_be_visible(
                timeout=60_000
            )
            page.get_by_role("tab", name="Saved").click(no_wait_after=True)
            opened = page.locator("strong", has_text=re.compile(r"^SMB paying$"))
            expect(opened).to_be_visible(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "segments.png"), full_page=True)
        finally:
            browser.close()
    ctx = AppContext(isolated_settings(home))
    try:
        (saved,) = service.list_segments(ctx)
    finally:
        ctx.close()
    assert saved.name == "SMB paying" and saved.rule == RULE and saved.count == expected.count
