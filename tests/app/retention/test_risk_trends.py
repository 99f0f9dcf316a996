"""Risk trends (revintel.app.retention.risk_trends): the portfolio series on a hand-built frame,
the Poisson-binomial interval against simulation, the backcast on the trained churn home, drift
against the churn drift code, cohorts and risers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.retention import risk_trends as R
from revintel.churn import service as churn
from revintel.churn.drift import drift_report
from revintel.core.calendar import month_label
from revintel.core.errors import InvalidOption
from tests.conftest import isolated_settings


@pytest.fixture
def ctx(churn_home: Path):  # type: ignore[no-untyped-def]
    context = AppContext(isolated_settings(churn_home))
    yield context
    context.close()


def test_portfolio_series_weights_by_mrr_on_a_small_frame() -> None:
    frame = pl.DataFrame(
        {
            "month": ["2024-01", "2024-01", "2024-01", "2024-02", "2024-02"],
            "mrr": [100.0, 300.0, 0.0, 50.0, 150.0],
            "p": [0.5, 0.1, 0.9, 0.2, 0.4],
            "p_quarter": [0.5, 0.1, 0.9, 0.2, 0.4],
            "risk_tier": ["High", "Low", "High", "Medium", "High"],
        }
    )
    series = R.portfolio_series(frame, ["2024-01", "2024-02", "2024-03"])
    assert [m.month for m in series] == ["2024-01", "2024-02"]  # a month without rows: none
    jan, feb = series
    # (100·0.5 + 300·0.1 + 0·0.9) / 400 = 80 / 400
    assert jan.mrr_weighted_risk == pytest.approx(0.2)
    assert jan.average_risk == pytest.approx(0.5)
    assert jan.customers == 3 and jan.mrr == 400.0
    assert jan.tier_counts == {"High": 2, "Medium": 0, "Low": 1, "Safe": 0}
    assert jan.tier_mrr["Low"] == 300.0
    assert jan.expected_churned == pytest.approx(1.5)
    assert jan.expected_churned_mrr == pytest.approx(80.0)
    # (50·0.2 + 150·0.4) / 200 = 70 / 200
    assert feb.mrr_weighted_risk == pytest.approx(0.35)


def test_quarter_probability_from_a_one_month_model() -> None:
    p = np.array([0.0, 0.1, 0.5, 1.0])
    assert R.quarter_probability(p, 3).tolist() == p.tolist()
    assert R.quarter_probability(p, 1) == pytest.approx([0.0, 0.271, 0.875, 1.0])


def test_poisson_binomial_pmf_matches_the_binomial_and_simulation() -> None:
    from math import comb

    pmf = R.poisson_binomial_pmf(np.full(10, 0.3))
    binom = [comb(10, k) * 0.3**k * 0.7 ** (10 - k) for k in range(11)]
    assert pmf == pytest.approx(binom, abs=1e-12)
    rng = np.random.default_rng(5)
    p = rng.beta(0.6, 6.0, size=800)
    draws = (rng.random((40_000, p.size)) < p).sum(axis=1)
    exact = R.poisson_binomial_pmf(p)
    assert exact.sum() == pytest.approx(1.0)
    assert (np.arange(exact.size) * exact).sum() == pytest.approx(p.sum())
    lo, hi, method = R.count_interval(p, 0.9)
    assert method == "exact"
    assert (lo, hi) == (
        pytest.approx(np.quantile(draws, 0.05), abs=1),
        pytest.approx(np.quantile(draws, 0.95), abs=1),
    )
    coverage = np.mean((draws >= lo) & (draws <= hi))
    assert 0.9 <= coverage <= 0.93  # discrete: at least the level, not much more


def test_mrr_interval_is_the_normal_approximation_of_simulated_churned_mrr() -> None:
    rng = np.random.default_rng(9)
    p = rng.beta(0.6, 6.0, size=1500)
    mrr = rng.lognormal(6, 0.8, size=1500)
    lo, hi = R.mrr_interval(p, mrr, 0.9)
    draws = ((rng.random((20_000, p.size)) < p) * mrr).sum(axis=1)
    assert (lo + hi) / 2 == pytest.approx((mrr * p).sum())
    assert np.mean((draws >= lo) & (draws <= hi)) == pytest.approx(0.9, abs=0.015)


def test_large_portfolios_use_the_normal_approximation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "EXACT_LIMIT", 10)
    lo, hi, method = R.count_interval(np.full(100, 0.2), 0.9)
    assert method == "normal"
    assert lo <= 20 <= hi and hi - lo == pytest.approx(2 * 1.645 * 4, abs=2)


def test_risk_trends_backcasts_each_month_with_the_production_model(ctx: AppContext) -> None:
    report = R.risk_trends(ctx, months=6)
    panel, frame = churn.feature_frame(ctx)
    last = panel.last_month
    assert [m.month for m in report.series] == [month_label(c) for c in range(last - 5, last + 1)]
    record = churn.resolve_model(ctx)
    assert report.model_version == record.version and record.version in report.source
    model = churn.model(ctx, record.version)
    for month_number, point in ((last, report.series[-1]), (last - 3, report.series[-4])):
        rows = frame.filter(pl.col("cutoff") == month_number)
        p = model.predict_proba(rows)
        mrr = rows["mrr"].fill_null(0).to_numpy()
        assert point.customers == rows.height
        assert point.mrr_weighted_risk == pytest.approx((mrr * p).sum() / mrr.sum())
        assert sum(point.tier_counts.values()) == rows.height
    # The months the latest scoring run wrote to `predictions` hold the same scores.
    latest = churn.current_predictions(ctx)
    scored = R.risk_history(ctx, 6).frame.filter(pl.col("cutoff") == last)
    joined = scored.join(
        latest.select("account_id", "churn_risk_score"), on="account_id", how="inner"
    )
    assert joined.height > 0.9 * scored.height
    assert joined["p"].to_numpy() == pytest.approx(joined["churn_risk_score"].to_numpy())
    q = report.next_quarter
    assert q.as_of == report.series[-1].month and q.count_method == "exact"
    assert q.customers_low <= q.expected_customers <= q.customers_high
    assert q.mrr_low <= q.expected_mrr <= q.mrr_high


def test_backtest_compares_expected_with_realised_churn(ctx: AppContext) -> None:
    report = R.risk_trends(ctx, months=12)
    _panel, frame = churn.feature_frame(ctx)
    known = [m.month for m in report.series][: 12 - 3]  # the last 3 months' outcome is unknown
    assert [pt.month for pt in report.calibration] == known
    for pt in report.calibration:
        rows = frame.filter(
            pl.col("cutoff").map_elements(month_label, return_dtype=pl.String) == pt.month
        )
        assert pt.actual == int(rows["churned_3m"].sum())
        assert pt.inside == (pt.low <= pt.actual <= pt.high)
    # The model is calibrated: expected and realised churn agree within 35% over the window.
    expected = sum(pt.expected for pt in report.calibration)
    actual = sum(pt.actual for pt in report.calibration)
    assert abs(expected - actual) / actual < 0.35


def test_feature_drift_is_the_churn_drift_report_of_each_month(ctx: AppContext) -> None:
    trend = R.feature_drift(ctx, months=4)
    panel, frame = churn.feature_frame(ctx)
    record = churn.resolve_model(ctx)
    latest = frame.filter(pl.col("cutoff") == panel.last_month)
    expected = drift_report(record.reference["histograms"], latest)
    rows = trend.rows.filter(pl.col("month") == month_label(panel.last_month))
    assert set(rows["feature"]) == set(expected["feature"])
    ours = dict(zip(rows["feature"], rows["psi"], strict=True))
    for feature, psi in zip(expected["feature"], expected["psi"], strict=True):
        assert ours[feature] == pytest.approx(psi)
    # The churn service's own drift of the latest month agrees.
    service = churn.drift(ctx).drift
    assert dict(zip(service["feature"], service["psi"], strict=True)) == pytest.approx(ours)
    assert trend.months == [
        month_label(c) for c in range(panel.last_month - 3, panel.last_month + 1)
    ]


def test_cohorts_and_risers(ctx: AppContext) -> None:
    cohorts = R.cohort_risk(ctx, "quarter", months=6)
    latest = R.risk_history(ctx, 6).frame.filter(pl.col("month") == cohorts.as_of)
    assert sum(c.customers for c in cohorts.cohorts) == latest.height
    high = sum(c.high_share * c.customers for c in cohorts.cohorts)
    assert high == pytest.approx(int((latest["risk_tier"] == "High").sum()))
    assert all(c.cohort[:4].isdigit() and "-Q" in c.cohort for c in cohorts.cohorts)
    risers = R.risk_risers(ctx, limit=5, months=6)
    assert len(risers.risers) == 5
    changes = [r.change for r in risers.risers]
    assert changes == sorted(changes, reverse=True) and changes[-1] > 0
    top = risers.risers[0]
    assert top.change == pytest.approx(top.risk - top.previous_risk)
    assert top.top_factor and top.top_factor_label


def test_options_out_of_range_name_the_field(ctx: AppContext) -> None:
    with pytest.raises(InvalidOption, match="months"):
        R.risk_trends(ctx, months=1)
    with pytest.raises(InvalidOption, match="limit"):
        R.risk_risers(ctx, limit=0)
    with pytest.raises(InvalidOption, match="by"):
        R.cohort_risk(ctx, "week")
    with pytest.raises(InvalidOption, match="level"):
        R.risk_trends(ctx, level=1.5)
