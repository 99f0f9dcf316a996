"""The expansion service on a company with planted expansions (tests/pipeline/expansion_company.py).

Importing :mod:`revintel.app` plugs the health and metrics ports (``app/wiring.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

import revintel.app  # noqa: F401  (wires the ports)
from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.core.errors import NotFoundError
from revintel.pipeline.config import ExpansionConfig
from revintel.pipeline.expansion import MissingAccountData
from revintel.pipeline.service.expansion import (
    AccountInputs,
    ExpansionMonthOutsideTheData,
    InvalidExpansionOption,
    expansion_scores,
    score_inputs,
)
from tests.conftest import isolated_settings
from tests.pipeline.expansion_company import GROWERS, expansion_month, write_company


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    root = tmp_path_factory.mktemp("expansion")
    folder = root / "company"
    folder.mkdir()
    write_company(folder)
    ctx = AppContext(isolated_settings(root / "home"))
    load_paths(ctx, [folder], source="test")
    yield ctx
    ctx.close()


def test_the_backtest_finds_the_planted_expansions(planted: AppContext) -> None:
    report = expansion_scores(planted)
    b = report.backtest
    assert (b.first_month, b.last_month, b.horizon_months) == ("2023-01", "2023-09", 3)
    # Expanded account-months: each grower in the 3 months before its expansion month, when
    # those months are labelled (≤ September): months e−3..e−1 for e = 5..10.
    expected = sum(
        sum(1 for m in range(expansion_month(i) - 3, expansion_month(i)) if 1 <= m <= 9)
        for i in GROWERS
    )
    assert b.account_months == 120 * 9
    assert b.base_rate == pytest.approx(expected / (120 * 9))
    assert b.lift is not None and b.lift > 2.5
    assert b.lift_ci_low is not None and b.lift_ci_low > 1.5
    assert b.roc_auc is not None and b.roc_auc > 0.75
    assert b.signal_auc["nps"] is None  # no NPS table
    assert any("nps_responses" in n for n in report.notes)
    assert [d.decile for d in b.deciles] == list(range(1, 11))


def test_accounts_are_ranked_with_reasons_and_expected_arr(planted: AppContext) -> None:
    report = expansion_scores(planted, month="2023-06", limit=15)
    assert report.month == "2023-06" and report.accounts_scored == 120
    scores = [a.expansion_score for a in report.accounts]
    assert scores == sorted(scores, reverse=True) and len(scores) == 15
    top = report.accounts[0]
    assert top.decile == 1 and top.plan in ("Basic", "Pro")
    assert any(r.signal == "Seat utilisation" for r in top.reasons)
    assert top.expected_expansion_arr > 0
    assert top.expansion_probability == pytest.approx(b_rate(report, 1), abs=1e-4)
    low = expansion_scores(planted, month="2023-06", account_id="A050").accounts[0]
    assert low.expansion_score < top.expansion_score and low.decile > 1


def b_rate(report, decile: int) -> float:  # type: ignore[no-untyped-def]
    return next(d.expansion_rate for d in report.backtest.deciles if d.decile == decile)


def test_filters_and_errors(planted: AppContext) -> None:
    smb = expansion_scores(planted, segment="SMB", limit=500)
    assert smb.accounts and {a.segment for a in smb.accounts} == {"SMB"}
    with pytest.raises(NotFoundError, match="A999"):
        expansion_scores(planted, account_id="A999")
    with pytest.raises(ExpansionMonthOutsideTheData, match="2023-01 to 2023-12"):
        expansion_scores(planted, month="2030-01")
    with pytest.raises(InvalidExpansionOption, match="month = '2023-13'"):
        expansion_scores(planted, month="2023-13")
    with pytest.raises(InvalidExpansionOption, match="limit"):
        expansion_scores(planted, limit=0)


def test_settings_change_the_score(planted: AppContext) -> None:
    only_health = ExpansionConfig(
        weight_seat_utilisation=0,
        weight_usage_growth=0,
        weight_feature_adoption=0,
        weight_plan_headroom=1,
        weight_health=0,
        weight_nps=0,
    )
    report = expansion_scores(planted, month="2023-03", config=only_health, limit=500)
    by_plan = {a.plan: a.expansion_score for a in report.accounts}
    assert by_plan == {"Basic": 100.0, "Pro": 50.0}


def test_given_signals_are_scored_and_placed_among_the_accounts(planted: AppContext) -> None:
    result = score_inputs(
        planted,
        AccountInputs(active_users=10, licensed_seats=10, key_feature_adoption=0.8, arr=1200),
    )
    assert result.expansion_score is not None and result.decile == 1
    assert result.expected_expansion_arr is not None and result.expected_expansion_arr > 0
    with pytest.raises(InvalidExpansionOption, match=r"key_feature_adoption = 1\.5"):
        score_inputs(planted, AccountInputs(key_feature_adoption=1.5))
    with pytest.raises(InvalidExpansionOption, match="plan = 'Gold'"):
        score_inputs(planted, AccountInputs(plan="Gold"))
    assert score_inputs(planted, AccountInputs()).expansion_score is None


def test_without_usage_it_says_which_table_is_missing(tmp_path: Path, company_csvs: Path) -> None:
    ctx = AppContext(isolated_settings(tmp_path / "home"))
    try:
        load_paths(ctx, [company_csvs], source="test")
        assert not ctx.warehouse.has_table("usage")  # the company this test needs
        with pytest.raises(MissingAccountData, match="usage"):
            expansion_scores(ctx)
    finally:
        ctx.close()


def test_outcomes_count_more_seats_with_more_mrr_only(planted: AppContext) -> None:
    from revintel.pipeline.expansion import expansion_outcomes, plan_ranks
    from revintel.pipeline.ports import expansion_providers

    wh = planted.warehouse
    subs = wh.table("subscriptions")
    mrr = expansion_providers().monthly_mrr(
        subs, payments=None, from_month="2023-01", to_month="2023-12"
    )
    lo, hi = 2023 * 12, 2023 * 12 + 8
    out = pl.from_arrow(
        wh.to_arrow(expansion_outcomes(mrr, plan_ranks(subs, lo, hi + 3), lo, hi, 3))
    )
    grower = out.filter(pl.col("account_id") == "A000").sort("month_idx")  # expands in May
    assert grower["expanded"].to_list() == [0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert grower["expansion_mrr"].to_list()[1] == pytest.approx(50.0)
