"""Model Insights, Model Training and Threshold & ROI in Chromium, over a copy of ``churn_home``.

``revintel dashboard`` is started as a user would on a private copy of the session's churn home
(a demo company with trained 1- and 3-month models and scored predictions). Needs Debian's
chromium at /usr/bin/chromium; without it the tests fail, on purpose. Screenshots go to
``$REVINTEL_TEST_ARTIFACTS`` or ``tests/artifacts/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import skops.io as sio

from revintel.app.context import AppContext
from revintel.churn import registry
from revintel.churn import service as churn
from revintel.churn.config import load_config
from revintel.churn.features import FEATURES
from tests.conftest import isolated_settings
from tests.ui.test_browser import ARTIFACTS, CHROMIUM, running_dashboard
from tests.ui.test_browser_health import _full_page_shot

TIMEOUT = 120_000  # ms: a page's first run imports LightGBM and loads the model
TRAIN_TIMEOUT = 600_000  # ms: training on a busy CI machine


class Payload:
    """A class no model file may hold: skops will not trust it."""

    def __init__(self) -> None:
        self.command = "echo pwned"


@pytest.fixture(scope="module")
def models_dashboard(
    churn_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """``revintel dashboard`` over a private copy of ``churn_home``; yields the URL and home."""
    root = tmp_path_factory.mktemp("models-dashboard")
    home = root / "home"
    shutil.copytree(churn_home, home, symlinks=True)
    with running_dashboard(home, root) as url:
        yield url, home


@pytest.fixture
def page(models_dashboard: tuple[str, Path]) -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


def _context(home: Path) -> AppContext:
    return AppContext(isolated_settings(home))


def _churn_settings_file(home: Path) -> bytes | None:
    """The churn settings file as it is (None: not written yet), for a test that applies a
    threshold to put back with :func:`_put_back_churn_settings`: the next tests read it."""
    from revintel.churn.config import churn_file

    path = churn_file(isolated_settings(home))
    return path.read_bytes() if path.exists() else None


def _put_back_churn_settings(home: Path, before: bytes | None) -> None:
    from revintel.churn.config import churn_file

    path = churn_file(isolated_settings(home))
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(before)


def _open(page: Any, url: str, path: str, title: str) -> None:
    page.goto(f"{url}/{path}", wait_until="domcontentloaded")
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=TIMEOUT)


def _idle(page: Any) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=TIMEOUT
    )


def _no_exception(page: Any) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()


def _metric_value(page: Any, label: str) -> Any:
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.get_by_text(label, exact=True)
    )
    return metric.locator('[data-testid="stMetricValue"]')


def _metric(page: Any, label: str) -> str:
    return str(_metric_value(page, label).inner_text()).strip()


def _set_number(page: Any, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    _idle(page)


@pytest.mark.browser
def test_model_insights_shows_importance_confusion_and_curves(
    models_dashboard: tuple[str, Path], page: Any
) -> None:
    from playwright.sync_api import expect

    url, home = models_dashboard
    ctx = _context(home)
    try:
        production = churn.resolve_model(ctx)
    finally:
        ctx.close()
    _open(page, url, "model-insights", "Model Insights")
    expect(page.locator(".js-plotly-plot")).to_have_count(5, timeout=TIMEOUT)
    _idle(page)
    _no_exception(page)
    expect(page.get_by_text(f"{production.version} · production · created")).to_be_visible()
    # importance bars, the confusion heatmap, ROC and PR with their AUC, calibration
    expect(page.locator(".st-key-mi_importance .barlayer .point").first).to_be_attached()
    expect(page.locator(".st-key-mi_confusion .heatmaplayer")).to_be_attached()
    auc = production.metrics["roc_auc"]
    expect(page.locator(".st-key-mi_roc .gtitle")).to_contain_text(f"ROC curve · AUC {auc:.3f}")
    expect(page.locator(".st-key-mi_pr .gtitle")).to_contain_text("Precision-recall curve · AUC")
    expect(page.locator(".st-key-mi_calibration .scatterlayer .trace")).to_have_count(2)
    expect(page.get_by_text("Held-out metrics", exact=True)).to_be_visible()
    assert _metric(page, "Features") == str(len(production.features))
    _full_page_shot(page, ARTIFACTS / "model-insights.png")


@pytest.mark.browser
def test_threshold_figures_agree_and_a_capacity_sets_the_recommendation(
    models_dashboard: tuple[str, Path], page: Any
) -> None:
    """The slider's figures are the service's at the same threshold (each churner at their own
    CLV, not the average); a contact capacity changes the recommendation, which can be applied."""
    from playwright.sync_api import expect

    from revintel.core.formatting import money

    url, home = models_dashboard
    before = _churn_settings_file(home)
    try:
        _open(page, url, "threshold-roi", "Threshold & ROI")
        _idle(page)
        _no_exception(page)
        _set_number(page, "Cost per retention action ($)", "150")
        _set_number(page, "Success rate of the action", "0.30")
        clv = page.locator(".st-key-roi_use_clv input[type='checkbox']")
        if not clv.is_checked():
            page.get_by_text("Use each customer's CLV").click()
            _idle(page)
        expect(clv).to_be_checked()
        at = round(load_config(isolated_settings(home)).threshold, 3)  # where the slider starts
        expect(page.locator(".st-key-roi_slider")).to_contain_text(f"{at:.3f}")
        kw: dict[str, Any] = {
            "cost_per_action": 150.0,
            "value_per_save": "clv",
            "success_rate": 0.3,
        }
        ctx = _context(home)
        try:
            slider = churn.threshold_analysis(ctx, at=[at], **kw).at[0]
            capped = churn.threshold_analysis(ctx, max_contacts=120, **kw)
            free = churn.threshold_analysis(ctx, **kw)
        finally:
            ctx.close()
        expect(_metric_value(page, "Net value")).to_have_text(
            money(slider.net_value), timeout=TIMEOUT
        )
        expect(_metric_value(page, "Flagged")).to_have_text(f"{slider.flagged:,}", timeout=TIMEOUT)

        best = free.choices["max_net_value"]
        expect(_metric_value(page, "Recommended threshold")).to_have_text(
            f"{best.threshold:.3f}", timeout=TIMEOUT
        )
        _set_number(page, "Contact capacity (customers)", "120")
        within = capped.choices["max_net_value_within_capacity"]
        assert within.threshold is not None and within.flagged < best.flagged
        expect(_metric_value(page, "Recommended threshold")).to_have_text(
            f"{within.threshold:.3f}", timeout=TIMEOUT
        )
        expect(page.get_by_text("Max net value within capacity:")).to_contain_text(
            f"{within.flagged:,} flagged", timeout=TIMEOUT
        )
        # the highlighted row of the table is the recommendation, at its exact threshold
        table = page.locator('[data-testid="stDataFrame"]').filter(
            has=page.locator('[role="columnheader"]', has_text="Churners caught")
        )
        expect(table).to_contain_text("max net value within capacity", timeout=TIMEOUT)
        _no_exception(page)
        _full_page_shot(page, ARTIFACTS / "threshold-roi-capacity.png")

        page.locator(".st-key-roi_apply_max_net_value_within_capacity button").click()
        message = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="applied")
        expect(message).to_contain_text(
            f"Threshold {within.threshold:.3f} applied", timeout=TIMEOUT
        )
        saved = load_config(isolated_settings(home))
        assert saved.threshold == pytest.approx(within.threshold)
        assert saved.threshold_method == "max_net_value_within_capacity"
    finally:
        _put_back_churn_settings(home, before)


@pytest.mark.browser
def test_threshold_flow_applies_max_f1_everywhere(
    models_dashboard: tuple[str, Path], page: Any
) -> None:
    """Brief 004, flow 4: enter the business inputs, explore thresholds, apply one, and the
    predictions every page reads follow it."""
    from playwright.sync_api import expect

    url, home = models_dashboard
    before = load_config(isolated_settings(home)).threshold
    _open(page, url, "threshold-roi", "Threshold & ROI")
    _idle(page)
    _no_exception(page)
    # The brief's inputs: $150 per action, $12,000 per saved customer, 40% success
    _set_number(page, "Cost per retention action ($)", "150")
    page.get_by_text("Use each customer's CLV").click()
    _idle(page)
    _set_number(page, "Value per saved customer ($)", "12000")
    _set_number(page, "Success rate of the action", "0.40")
    expect(
        page.locator('[data-testid="stMetric"]').filter(has_text="Value per saved")
    ).to_contain_text("$12.0k")
    expect(page.locator(".st-key-roi_pr_curve .js-plotly-plot")).to_be_attached(timeout=TIMEOUT)
    table = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator('[role="columnheader"]', has_text="Churners caught")
    )
    expect(table.locator('[role="gridcell"]').first).to_be_attached()

    # Drag the slider to its lowest threshold: (nearly) every customer is flagged
    flagged = _metric(page, "Flagged")
    slider = page.locator(".st-key-roi_slider input[type='range']")
    slider.focus()
    slider.press("Home")
    expect(page.locator(".st-key-roi_slider")).to_contain_text("0.001")
    _idle(page)
    expect(_metric_value(page, "Flagged")).not_to_have_text(flagged)
    _full_page_shot(page, ARTIFACTS / "threshold-roi.png")

    # Apply the max-F1 threshold
    ctx = _context(home)
    try:
        analysis = churn.threshold_analysis(
            ctx, cost_per_action=150.0, value_per_save=12_000.0, success_rate=0.4
        )
    finally:
        ctx.close()
    expected = analysis.choices["max_f1"].threshold
    assert expected is not None and abs(expected - before) > 1e-6
    page.locator(".st-key-roi_apply_max_f1 button").click()
    message = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text="applied")
    expect(message).to_contain_text(f"Threshold {expected:.3f} applied (Max F1)", timeout=TIMEOUT)
    _no_exception(page)

    saved = load_config(isolated_settings(home))
    assert saved.threshold == pytest.approx(expected)
    assert saved.threshold_method == "max_f1"
    assert saved.cost_per_action == 150.0 and saved.value_per_save == 12_000.0
    ctx = _context(home)
    try:
        predictions = churn.current_predictions(ctx)
        overview = churn.overview(ctx)
    finally:
        ctx.close()
    flagged_now = predictions.filter(pl.col("churn_risk_score") >= expected).height
    assert int(predictions["prediction"].sum()) == flagged_now == overview.predicted_churners
    assert overview.threshold == pytest.approx(expected)
    expect(message).to_contain_text(f"{flagged_now:,} customers are now predicted to churn")
    expect(
        page.locator('[data-testid="stMetric"]').filter(has_text="Applied threshold")
    ).to_contain_text(f"{expected:.3f}")
    _full_page_shot(page, ARTIFACTS / "threshold-roi-applied.png")


@pytest.mark.browser
def test_model_training_trains_compares_and_promotes(
    models_dashboard: tuple[str, Path], page: Any
) -> None:
    from playwright.sync_api import expect

    url, home = models_dashboard
    ctx = _context(home)
    try:
        old = registry.production(ctx, kind="warehouse", horizon=1)
        known = {r.version for r in registry.list_models(ctx)}
    finally:
        ctx.close()
    assert old is not None
    _open(page, url, "model-training", "Model Training")
    _idle(page)
    _no_exception(page)

    # The versions
    page.get_by_role("tab").filter(has_text="Versions").click()
    versions = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator('[role="columnheader"]', has_text="oracle AUC")
    )
    for version in known:
        cell = versions.locator('[role="gridcell"]').filter(has_text=version).first
        expect(cell).to_be_attached(timeout=TIMEOUT)

    # The validation and drift report, then train a 1-month model
    page.get_by_role("tab").filter(has_text="Train").first.click()
    expect(page.get_by_text("Largest PSI")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Drift (PSI per feature, worst first)")).to_be_visible()
    expect(page.get_by_text("Data quality", exact=True)).to_be_visible()
    drift = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator('[role="columnheader"]', has_text="psi")
    )
    expect(drift.locator('[role="gridcell"]').filter(has_text="stable").first).to_be_attached()
    trees = page.get_by_label("Number of trees (at most)", exact=True)
    trees.fill("300")
    page.get_by_role("button", name="Train model").click()
    bar = page.locator('[data-testid="stProgress"]')
    expect(bar).to_be_visible(timeout=TIMEOUT)
    expect(bar).to_contain_text("Done: churn-1m-v", timeout=TRAIN_TIMEOUT)
    _idle(page)
    _no_exception(page)
    ctx = _context(home)
    try:
        new = next(r for r in registry.list_models(ctx) if r.version not in known)
    finally:
        ctx.close()
    assert new.status == "candidate" and new.params["config"]["n_estimators"] == 300
    expect(page.get_by_text(f"New model {new.version}", exact=True)).to_be_visible()
    compare = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator('[role="columnheader"]', has_text="delta")
    )
    expect(compare.locator('[role="columnheader"]').filter(has_text=new.version)).to_be_attached()
    expect(compare.locator('[role="gridcell"]').filter(has_text="ROC AUC").first).to_be_attached()
    expect(page.locator(".st-key-mt_importance .js-plotly-plot")).to_be_attached()
    _full_page_shot(page, ARTIFACTS / "model-training.png")

    page.locator(".st-key-mt_promote button").click()
    expect(page.get_by_text("Status: production", exact=False)).to_be_visible(timeout=TIMEOUT)
    ctx = _context(home)
    try:
        now = registry.production(ctx, kind="warehouse", horizon=1)
        assert now is not None and now.version == new.version
        assert registry.get(ctx, old.version).status == "archived"
        # put the original model back for the other tests
        registry.rollback(ctx, "warehouse", 1)
    finally:
        ctx.close()


@pytest.mark.browser
def test_an_untrusted_model_file_is_refused_and_a_download_imports(
    models_dashboard: tuple[str, Path], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    url, home = models_dashboard
    evil = tmp_path / "evil-model.skops"
    sio.dump({"revintel_model": 1, "meta": {}, "bundle": {"payload": Payload()}}, evil)
    untrusted = set(sio.get_untrusted_types(file=evil)) - set(registry.TRUSTED_TYPES)
    assert f"{__name__}.Payload" in untrusted
    ctx = _context(home)
    try:
        count = len(registry.list_models(ctx))
    finally:
        ctx.close()

    _open(page, url, "model-training", "Model Training")
    _idle(page)
    page.get_by_role("tab").filter(has_text="Versions").click()
    form = page.locator('[data-testid="stForm"]').filter(has_text="Model file (.skops)")
    form.locator('input[type="file"]').set_input_files(str(evil))
    expect(form.get_by_text("evil-model.skops")).to_be_visible(timeout=TIMEOUT)
    form.get_by_role("button", name="Import").click()
    refusal = page.locator('[data-testid="stAlertContentError"]').filter(has_text="Refused")
    expect(refusal).to_contain_text("this file is not trusted and was not loaded", timeout=TIMEOUT)
    expect(refusal).to_contain_text(f"{__name__}.Payload")
    expect(refusal).to_contain_text("evil-model.skops")
    _no_exception(page)
    refusal.scroll_into_view_if_needed()
    _full_page_shot(page, ARTIFACTS / "model-import-refused.png")
    ctx = _context(home)
    try:
        assert len(registry.list_models(ctx)) == count  # nothing was registered
    finally:
        ctx.close()

    # A version downloaded from the page is trusted and imports back as a candidate
    with page.expect_download(timeout=TIMEOUT) as download:
        page.locator(".st-key-mt_download button").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    assert exported.suffix == ".skops"
    assert not set(sio.get_untrusted_types(file=exported)) - set(registry.TRUSTED_TYPES)
    form.locator('input[type="file"]').set_input_files(str(exported))
    expect(form.get_by_text(exported.name)).to_be_visible(timeout=TIMEOUT)
    form.get_by_role("button", name="Import").click()
    expect(page.get_by_text(f"Imported {exported.name} as")).to_be_visible(timeout=TIMEOUT)
    _no_exception(page)
    ctx = _context(home)
    try:
        records = registry.list_models(ctx)
        assert len(records) == count + 1 and records[0].status == "candidate"
    finally:
        ctx.close()


@pytest.mark.browser
def test_enter_in_the_seed_does_not_train_and_the_retraining_command_exists(
    models_dashboard: tuple[str, Path], page: Any
) -> None:
    from playwright.sync_api import expect

    url, home = models_dashboard
    ctx = _context(home)
    try:
        known = {r.version for r in registry.list_models(ctx)}
    finally:
        ctx.close()
    _open(page, url, "model-training", "Model Training")
    _idle(page)
    page.get_by_role("tab").filter(has_text="Train").first.click()
    # The drift table speaks the features' labels; tenure is shown but never a trigger
    drift = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator('[role="columnheader"]', has_text="psi")
    )
    cells = drift.locator('[role="gridcell"]')
    expect(cells.first).to_be_attached(timeout=TIMEOUT)
    _no_snake_case(cells)
    labels = {info.label for info in FEATURES.values()}
    assert labels & {str(t).strip() for t in cells.all_inner_texts()}
    seed = page.get_by_label("Seed", exact=True)
    seed.fill("123")
    seed.press("Enter")
    page.wait_for_timeout(3_000)
    _idle(page)
    _no_exception(page)
    expect(page.locator('[data-testid="stProgress"]')).to_have_count(0)
    ctx = _context(home)
    try:
        assert {r.version for r in registry.list_models(ctx)} == known
    finally:
        ctx.close()
    page.get_by_role("tab").filter(has_text="Scheduled retraining").click()
    expect(page.get_by_text("revintel churn models retrain", exact=True)).to_be_visible(
        timeout=TIMEOUT
    )


@pytest.mark.browser
def test_customer_tier_and_decision_agree_and_tables_use_labels(
    models_dashboard: tuple[str, Path], page: Any
) -> None:
    """A Low-tier customer above the applied threshold: "Low risk" beside "On the retention
    list", never "Will churn"; similar customers' factors in words."""
    from playwright.sync_api import expect

    url, home = models_dashboard
    before = _churn_settings_file(home)
    ctx = _context(home)
    try:
        frame = churn.current_predictions(ctx)
        low = frame.filter(pl.col("risk_tier") == "Low").sort("churn_risk_score")
        assert low.height, "the demo company has Low-tier customers"
        account, score = low["account_id"][0], low["churn_risk_score"][0]
        churn.apply_threshold(ctx, round(score - 0.01, 4))
    finally:
        ctx.close()
    try:
        _open_customer(page, url, account)
        # A badge's text follows its icon's name ("person_remove"): not an exact match
        expect(page.get_by_text("On the retention list")).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_text("Low risk").first).to_be_visible()
        expect(page.get_by_text("Will churn")).to_have_count(0)
        similar = page.locator('[data-testid="stDataFrame"]').filter(
            has=page.locator('[role="columnheader"]', has_text="distance")
        )
        headers = similar.locator('[role="columnheader"]')
        expect(headers.filter(has_text="top risk factor")).to_be_attached(timeout=TIMEOUT)
        _no_snake_case(headers)
        _no_snake_case(similar.locator('[role="gridcell"]'))
        _no_exception(page)
    finally:
        _put_back_churn_settings(home, before)


def _open_customer(page: Any, url: str, account: str) -> None:
    page.goto(f"{url}/customer-lookup?account={account}", wait_until="domcontentloaded")
    page.get_by_text("Churn probability", exact=True).first.wait_for(timeout=TIMEOUT)
    _idle(page)


SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")


def _no_snake_case(cells: Any) -> None:
    """No cell of a table a user reads is a raw feature or column name (``months_to_term_end``)."""
    texts = [str(t).strip() for t in cells.all_inner_texts()]
    assert texts and not [t for t in texts if SNAKE_CASE.match(t)], texts


@pytest.mark.browser
def test_model_figures_are_at_each_models_own_threshold(
    models_dashboard: tuple[str, Path], page: Any
) -> None:
    """Model Insights gives precision, recall and F1 at the threshold applied for the model (not
    at 0.5 or one of training time), and says so; Churn Overview compares the horizons at each
    one's max-F1 threshold, threshold-free measures first."""
    from playwright.sync_api import expect

    from revintel.churn.evaluation import threshold_stats
    from revintel.churn.service.common import holdout_path

    url, home = models_dashboard
    ctx = _context(home)
    try:
        production = churn.resolve_model(ctx).version
        churn.apply_threshold(ctx, 0.2345, version=production)
        hold = pl.read_parquet(holdout_path(ctx, production))
        horizons = churn.compare_horizons(ctx)
    finally:
        ctx.close()
    at = threshold_stats(hold["y"].to_numpy().astype(bool), hold["p"].to_numpy(), 0.2345)
    _open(page, url, "model-insights", "Model Insights")
    _idle(page)
    _no_exception(page)
    expect(page.get_by_text("Held-out customers at the applied threshold 0.234")).to_be_visible(
        timeout=TIMEOUT
    )
    expect(
        page.get_by_text("recall, F1 and accuracy are at the applied threshold 0.234")
    ).to_be_visible()
    # the confusion matrix counts the churners caught at that threshold
    expect(page.locator(".st-key-mi_confusion")).to_contain_text(
        f"{at.churners_caught:,} ({at.churners_caught / hold.height:.1%})", timeout=TIMEOUT
    )
    _full_page_shot(page, ARTIFACTS / "model-insights-applied-threshold.png")

    _open(page, url, "churn-overview", "Churn Overview")
    _idle(page)
    _no_exception(page)
    expect(page.get_by_text("each model's own max-F1 threshold")).to_be_visible(timeout=TIMEOUT)
    for model in horizons:
        assert model.threshold is not None
        expect(page.get_by_role("cell", name=f"{model.threshold:.3f}")).to_be_visible()
    first_rows = page.locator("table").first.locator("tbody tr td:first-child")
    expect(first_rows.nth(0)).to_have_text("ROC AUC")
    expect(first_rows.nth(2)).to_have_text("Brier score")
    expect(first_rows.nth(3)).to_have_text("Max-F1 threshold")
