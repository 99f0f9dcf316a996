"""The Alerts page in Chromium over a scored company: add a rule whose channels are an email to a
local SMTP server and a Slack-style webhook to a local HTTP receiver (a link-local webhook is
refused first, naming the field), evaluate from the inbox, see the alert, acknowledge it, and
find the message at the SMTP server, the signed post at the receiver and the deliveries in the
log.

Needs Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.retention.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from tests.retention.conftest import configure
from tests.retention.receivers import http_receiver, smtp_server
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard


@pytest.mark.browser
def test_alerts_page_delivers_to_the_local_smtp_server(
    churn_context: AppContext, tmp_path: Path
) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    home = churn_context.settings.home
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (
        smtp_server() as (port, received),
        http_receiver([200]) as hook,
        running_dashboard(home, tmp_path) as url,
        sync_playwright() as playwright,
    ):
        configure(
            churn_context,
            mail={"host": "127.0.0.1", "port": port, "security": "none", "retries": 0},
            webhooks={"signing_secret": "browser-secret"},
        )
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(f"{url}/alerts", wait_until="domcontentloaded")
            expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("No alert rule yet")).to_be_visible(timeout=60_000)
            # Kind: a High-tier customer above an MRR (fires on the one scored month too)
            page.get_by_label("Kind").click()
            page.get_by_role("option", name="High-value customer entered the High tier").click()
            page.get_by_label("Name", exact=True).fill("Big accounts at high risk")
            # a bad webhook first: refused, naming the field
            page.get_by_label("Webhook URL (http or https)").fill("http://169.254.169.254/x")
            page.get_by_label("Email recipients (comma-separated)").fill("cs@acme.test")
            page.get_by_role("button", name="Add rule").click()
            expect(page.get_by_text("channels.webhooks[0].url")).to_be_visible(timeout=60_000)
            page.get_by_label("Webhook URL (http or https)").fill(hook.url)
            page.get_by_text("slack", exact=True).click()
            page.get_by_role("button", name="Add rule").click()
            # the rules table (a canvas grid: its cells are attached, not visible) and the rule
            # picker under it, which exists only once a rule does
            expect(page.get_by_role("combobox", name="Rule")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Big accounts at high risk").first).to_be_attached()
            page.get_by_role("tab", name="Inbox").click()
            page.get_by_role("button", name="Evaluate now").click()
            expect(page.get_by_text("Evaluated at")).to_be_visible(timeout=120_000)
            expect(page.get_by_text("entered the High risk tier").first).to_be_visible(
                timeout=60_000
            )
            assert page.locator('[data-testid="stException"]').count() == 0
            deadline = time.monotonic() + 30
            while not received and time.monotonic() < deadline:
                time.sleep(0.2)
            (mail,) = received
            assert mail.rcpt_tos == ["cs@acme.test"]
            assert mail.message["Subject"].startswith("[revintel] Big accounts at high risk: ")
            while not hook.requests and time.monotonic() < deadline:
                time.sleep(0.2)
            (post,) = hook.requests
            assert json.loads(post.body).keys() == {"text", "blocks"}
            assert verify_signature(
                "browser-secret",
                post.body,
                post.headers[SIGNATURE_HEADER],
                post.headers[TIMESTAMP_HEADER],
            )
            acks = page.get_by_role("button", name="Acknowledge")
            before = acks.count()
            assert before >= 1
            acks.first.click()
            expect(page.get_by_role("button", name="Acknowledge")).to_have_count(
                before - 1, timeout=60_000
            )
            page.get_by_role("tab", name="Deliveries").click()
            expect(page.get_by_text("Attempts", exact=True)).to_be_visible(timeout=60_000)
            page.get_by_role("tab", name="History").click()
            page.screenshot(path=str(ARTIFACTS / "alerts.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
