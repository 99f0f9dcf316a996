"""Brief 004's flow 2 (campaign part) in Chromium: on the Campaigns page choose a saved segment,
the Executive Outreach template and round-robin owners, create the campaign, see the tasks by
owner and download the CRM export, whose scripts are filled and never say "None".

Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.retention import campaigns as service
from revintel.app.retention.segments import create_segment
from tests.conftest import isolated_settings
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard


@pytest.mark.browser
def test_campaign_from_a_saved_segment_with_tasks_and_export(
    churn_home: Path, tmp_path: Path
) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "home"
    shutil.copytree(churn_home, home, symlinks=True)
    ctx = AppContext(isolated_settings(home))
    segment = create_segment(ctx, "Browser at-risk", rule="churn_risk > 0.2", created_by="test")
    ctx.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_dashboard(home, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.goto(f"{url}/campaigns", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("1 · Audience")).to_be_visible(timeout=60_000)
            segments = page.get_by_role("combobox", name="Segment")
            expect(segments).to_be_visible(timeout=60_000)
            assert f"Browser at-risk (#{segment.id})" in page.locator("body").aria_snapshot()
            expect(page.get_by_text("churn_risk > 0.2", exact=True)).to_be_visible()
            # The template: Executive outreach.
            page.get_by_role("combobox", name="Template").click()
            page.get_by_role("option", name="Executive outreach").click()
            expect(page.get_by_text("An executive sponsor reaches out")).to_be_visible(
                timeout=60_000
            )
            # Owners: round-robin over sarah and john with room for everyone.
            page.get_by_text("Round-robin", exact=True).click()
            capacity = page.get_by_label("Capacity per person (customers)")
            expect(capacity).to_be_visible(timeout=60_000)
            capacity.fill("5000")
            capacity.press("Enter")
            page.get_by_label("Campaign name").fill("Browser outreach")
            page.get_by_label("Campaign name").press("Enter")
            page.get_by_role("button", name="Preview").click()
            expect(page.get_by_text("(the first treated customer)")).to_be_visible(timeout=60_000)
            page.get_by_role("button", name="Create campaign").click()
            expect(
                page.get_by_text(re.compile(r"Created campaign \d+ 'Browser outreach'"))
            ).to_be_visible(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0

            page.get_by_role("tab", name="Tasks by owner").click()
            expect(page.get_by_text(re.compile(r"\d+ tasks shown"))).to_be_visible(timeout=60_000)
            with page.expect_download() as download:
                page.get_by_role("button", name="Download CSV for CRM import").click()
            text = Path(download.value.path()).read_text(encoding="utf-8")
            page.screenshot(path=str(ARTIFACTS / "campaigns.png"), full_page=True)
        finally:
            browser.close()

    rows = list(csv.DictReader(io.StringIO(text)))
    ctx = AppContext(isolated_settings(home))
    made = service.list_campaigns(ctx)
    ctx.close()
    assert len(made) == 1 and made[0]["name"] == "Browser outreach"
    assert made[0]["template"] == "executive_outreach" and made[0]["holdout"] > 0
    assert len(rows) == made[0]["tasks"] == made[0]["treated"] * 4
    assert {r["owner"] for r in rows} == {"sarah", "john"}
    assert all(r["script"] for r in rows)
    assert not re.search(r"\b(None|nan)\b", text)
    calls = [r for r in rows if r["kind"] == "call"]
    assert calls and all("Top risk factors:" in r["script"] for r in calls)
