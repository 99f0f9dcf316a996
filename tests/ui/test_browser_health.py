"""The Account Health page in Chromium: click a Capital at Risk treemap box, land on its 360.

Starts ``revintel demo`` as a user would (the approach of ``test_browser.py``). Needs Debian's
chromium at /usr/bin/chromium; without it the test fails, on purpose. Screenshots go to
``$REVINTEL_TEST_ARTIFACTS`` or ``tests/artifacts/``.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
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


def _launch(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def _scores(home: Path) -> service.HealthScores:
    ctx = AppContext(settings_for(home))
    try:
        return service.score_month(ctx)
    finally:
        ctx.close()


@pytest.mark.browser
def test_capital_at_risk_matches_its_kpi_and_the_360_reads_clearly(
    demo_dashboard: tuple[str, Path],  # noqa: F811
) -> None:
    """The treemap shows capital at risk (the KPI's total, no Healthy accounts unless asked for);
    risk composition's axis is labelled to 100%; the Account 360 shows the owner's whole name,
    a one-colour health line over tier bands named in the legend, and solid-enough pillar lines."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from revintel.core.formatting import money

    url, home = demo_dashboard
    scores = _scores(home)
    summary = service.portfolio_summary(scores)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{url}/account-health", wait_until="domcontentloaded")
            page.locator(".treemaplayer g.slice").first.wait_for(timeout=90_000)
            kpi = page.locator('[data-testid="stMetric"]').filter(has_text="Capital at risk")
            shown = kpi.locator('[data-testid="stMetricValue"]').inner_text().strip()
            assert shown == money(summary.capital_at_risk)
            heading = page.get_by_role("heading", name="Capital at Risk by playbook")
            assert heading.inner_text().strip().endswith(shown)
            labels = " ".join(page.locator(".treemaplayer text.slicetext").all_text_contents())
            assert "Value Realization Report" not in labels
            assert service.HEALTHY_GROUP not in labels
            _full_page_shot(page, ARTIFACTS / "account-health-capital-at-risk.png")

            # Healthy ARR as context, on request.
            page.get_by_text("Show Healthy ARR for context").click()
            context = page.locator(".treemaplayer text.slicetext", has_text=service.HEALTHY_GROUP)
            context.first.wait_for(timeout=60_000)

            page.get_by_role("tab", name="Risk composition").click()
            plot = page.locator(".st-key-health_composition .js-plotly-plot")
            plot.wait_for(timeout=30_000)
            page.wait_for_timeout(800)
            last_tick = plot.locator(".xtick text").last
            assert last_tick.text_content() == "100"
            tick, frame = last_tick.bounding_box(), plot.bounding_box()
            assert tick is not None and frame is not None
            assert tick["x"] + tick["width"] <= frame["x"] + frame["width"]  # not cut off

            # The Account 360 of the account with the longest owner name.
            frame_ = scores.frame.sort(pl.col("owner").str.len_chars(), descending=True)
            account, owner = frame_.row(0, named=True)["account_id"], frame_["owner"][0]
            page.goto(f"{url}/account-360?account={account}", wait_until="domcontentloaded")
            history = page.locator(".st-key-a360_history .js-plotly-plot")
            history.wait_for(timeout=90_000)
            page.wait_for_timeout(800)
            name = page.locator(".st-key-a360_owner h3")
            assert name.inner_text().strip() == owner
            assert name.evaluate("e => e.scrollWidth <= e.clientWidth")  # not cut with "…"
            # Tier bands are drawn below the lines (a band above a line changes its colour).
            assert history.locator(".layer-below .shapelayer path").count() == 3
            assert history.locator(".layer-above .shapelayer path").count() == 0
            legend = " ".join(history.locator(".legendtext").all_text_contents())
            for entry in ("Health", "Critical < 40", "At Risk 40–70", "Healthy ≥ 70"):
                assert entry in legend
            widths = [
                float(w.removesuffix("px"))
                for w in history.locator(".scatterlayer .trace path.js-line").evaluate_all(
                    "paths => paths.map(p => getComputedStyle(p).strokeWidth)"
                )
            ]
            # Health and each pillar with data (an account that never answered NPS has no line).
            assert len(widths) >= 2 and min(widths) >= 2
            assert page.locator('[data-testid="stException"]').count() == 0
            _full_page_shot(page, ARTIFACTS / "account-360-readable.png")
        finally:
            browser.close()


@pytest.mark.browser
def test_health_settings_backtest_applies_the_suggested_weights(
    demo_dashboard: tuple[str, Path],  # noqa: F811
) -> None:
    """Health settings run the backtest (as `revintel health backtest`) and apply its suggested
    weights through the settings service: the saved file then holds them."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from revintel.app import settings as app_settings

    url, home = demo_dashboard
    ctx = AppContext(settings_for(home))
    try:
        expected = service.run_backtest(ctx)
    finally:
        ctx.close()
    assert expected.suggested_weights is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{url}/health-settings", wait_until="domcontentloaded")
            page.get_by_role("button", name="Run backtest").click(timeout=90_000)
            current = page.locator('[data-testid="stMetric"]').filter(
                has_text="AUC, current weights"
            )
            current.wait_for(timeout=120_000)
            value = current.locator('[data-testid="stMetricValue"]').inner_text().strip()
            assert value == f"{expected.auc_current:.3f}"
            page.get_by_text("Suggested weights:").wait_for(timeout=30_000)
            _full_page_shot(page, ARTIFACTS / "health-settings-backtest.png")
            page.get_by_role("button", name="Apply suggested weights").click()
            page.get_by_text("Suggested weights applied").wait_for(timeout=60_000)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    saved = app_settings.load(settings_for(home), app_settings.HEALTH)
    assert saved.weights.as_dict() == expected.suggested_weights
