"""Brief 004's advanced flow 1, its note: on Account 360, add a note with a follow-up date, reload
the page, and the note is still there (kept in the app store, not in the browser session).

Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.app.retention import notes
from revintel.health import service as health
from tests.conftest import generated_company
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard


@pytest.mark.browser
def test_a_note_with_a_follow_up_survives_a_reload(tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    with generated_company(tmp_path, customers=200, months=12, seed=5) as ctx:
        home = ctx.settings.home
        account = str(health.score_month(ctx).frame.sort("account_id")["account_id"][0])
    text = "Called the CFO: renewal at risk over price"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_dashboard(home, tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/account-360?account={account}", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Notes and actions")).to_be_visible(
                timeout=90_000
            )
            expect(page.get_by_text("No notes on this account yet")).to_be_visible()
            name = page.get_by_role("textbox", name="Your name")
            name.fill("ana")
            name.press("Enter")
            form = page.get_by_test_id("stForm").filter(has_text="Add note")
            # The date field is three segments (year, month, day) typed into in turn.
            for part, value in (("year", "2030"), ("month", "01"), ("day", "15")):
                form.get_by_role("spinbutton", name=f"{part}, Follow-up (optional)").click()
                page.keyboard.type(value)
            form.get_by_role("textbox", name="Outcome (optional)").fill("Send a revised quote")
            form.get_by_role("textbox", name="Note", exact=True).fill(text)
            form.get_by_role("button", name="Add note").click()
            expect(page.get_by_text(text)).to_be_visible(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0

            page.reload(wait_until="domcontentloaded")
            expect(page.get_by_text(text)).to_be_visible(timeout=90_000)
            expect(page.get_by_text("follow-up 2030-01-15")).to_be_visible()
            expect(page.get_by_text("Send a revised quote")).to_be_visible()
            assert page.locator('[data-testid="stException"]').count() == 0
            page.get_by_text("Send a revised quote").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "account-360-notes.png"))
        finally:
            browser.close()
    # What the page saved is in the app store, with its author and follow-up.
    from revintel.app.context import AppContext
    from tests.conftest import isolated_settings

    check = AppContext(isolated_settings(home))
    try:
        (saved,) = notes.list_notes(check, account).notes
    finally:
        check.close()
    assert (saved.text, saved.author, saved.outcome) == (text, "ana", "Send a revised quote")
    assert saved.follow_up is not None and saved.follow_up.isoformat() == "2030-01-15"
