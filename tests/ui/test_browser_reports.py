"""The Reports page in Chromium on a private copy of the trained demo home: generate the
executive report as HTML, read its narrative, see the inline preview and the download button;
then a PDF download.

Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.app.context import AppContext
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard


@pytest.mark.browser
def test_reports_page_generates_and_previews(churn_context: AppContext, tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    home = churn_context.settings.home
    churn_context.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_dashboard(home, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/reports", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("Choose a month and a format")).to_be_visible(timeout=60_000)
            page.get_by_role("button", name="Generate").click()
            narrative = page.locator(".st-key-report_narrative")
            expect(narrative).to_contain_text("MRR ", timeout=180_000)
            expect(narrative).to_contain_text("Open pipeline is")
            expect(page.get_by_role("button", name="Download HTML page")).to_be_visible()
            preview = page.frame_locator("iframe").first
            expect(preview.get_by_role("heading", name="Headline KPIs")).to_be_visible(
                timeout=60_000
            )
            expect(preview.locator("#narrative")).to_contain_text("MRR ")
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(ARTIFACTS / "reports.png"), full_page=True)

            page.get_by_text("PDF (A4)").click()
            page.get_by_role("button", name="Generate").click()
            download_button = page.get_by_role("button", name="Download PDF (A4)")
            expect(download_button).to_be_visible(timeout=180_000)
            with page.expect_download() as download:
                download_button.click()
            assert download.value.suggested_filename.startswith("executive-report-")
            assert download.value.suggested_filename.endswith(".pdf")
            assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        finally:
            browser.close()
