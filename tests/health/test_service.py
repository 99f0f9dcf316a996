"""The health service on the demo company: month, coverage, views, missing tables, 360."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.core.errors import NoDataError, NotFoundError
from revintel.health import service
from revintel.health.config import PLAYBOOKS, TIERS
from revintel.health.service import InvalidHealthOption
from tests.health.demo import MONTHS, company, demo_home, settings_for


@pytest.fixture(scope="module")
def ctx() -> Iterator[AppContext]:
    context = AppContext(settings_for(demo_home()))
    yield context
    context.close()


@pytest.fixture(scope="module")
def scores(ctx: AppContext) -> service.HealthScores:
    return service.score_month(ctx)


def test_scores_the_latest_month_by_default(ctx: AppContext, scores) -> None:
    usage = pl.from_arrow(company().tables["usage"])
    assert scores.month == usage["month"].max()
    assert scores.notes == []
    frame = scores.frame
    # The scored accounts are those with MRR > 0 at the month's end; each has one row.
    assert frame["account_id"].n_unique() == frame.height > 50
    assert frame["health_score"].is_not_null().all()
    assert set(frame["tier"]) <= set(TIERS) and set(frame["playbook"]) <= set(PLAYBOOKS)
    assert frame["engagement"].is_not_null().all() and frame["support"].is_not_null().all()
    assert frame["partial"].sum() == frame["sentiment"].is_null().sum()  # never answered NPS


def test_month_option(ctx: AppContext, scores) -> None:
    cov = service.coverage(ctx)
    assert len(cov.months) == MONTHS
    earlier = service.score_month(ctx, cov.months[-4])
    assert earlier.month == cov.months[-4]
    assert earlier.frame["month"].unique().to_list() == [cov.months[-4]]
    with pytest.raises(InvalidHealthOption, match="expected a month from"):
        service.score_month(ctx, "2001-01")
    with pytest.raises(InvalidHealthOption, match="YYYY-MM"):
        service.score_month(ctx, "June")


def test_change_is_this_month_minus_last(ctx: AppContext, scores) -> None:
    history = service.score_history(ctx)
    months = sorted(history["month"].unique())
    last = history.filter(pl.col("month") == months[-2]).select("account_id", prev="health_score")
    joined = scores.frame.join(last, on="account_id", how="left")
    assert joined["previous_score"].to_list() == joined["prev"].to_list()
    both = joined.filter(pl.col("prev").is_not_null())
    diff = (both["health_score"] - both["prev"] - both["health_change"]).abs().max()
    assert diff < 1e-9


def test_summary_adds_up(scores) -> None:
    s = service.portfolio_summary(scores)
    frame = scores.frame
    assert s.total_arr == pytest.approx(frame["arr"].sum())
    assert s.capital_at_risk == pytest.approx(
        frame.filter(pl.col("tier").is_in(["At Risk", "Critical"]))["arr"].sum()
    )
    assert sum(s.accounts_by_playbook.values()) == frame.height
    assert sum(s.arr_share_by_tier.values()) == pytest.approx(1.0)
    owner = frame["owner"][0]
    mine = service.portfolio_summary(scores, owner=owner)
    assert mine.accounts == frame.filter(pl.col("owner") == owner).height < frame.height


def test_capital_at_risk_tree_keeps_top_n_and_others(scores) -> None:
    tree = service.capital_at_risk_tree(scores.frame, top_n=5)
    at_risk = scores.frame.filter(pl.col("tier").is_in(["At Risk", "Critical"]))
    for (group,), part in tree.group_by("group"):
        accounts = at_risk.filter(pl.col("playbook") == group)
        assert part["arr"].sum() == pytest.approx(accounts["arr"].sum())
        assert part["accounts"].sum() == accounts.height
        named = part.filter(pl.col("account_id").is_not_null())
        assert named.height == min(5, accounts.height)
        top = accounts.sort("arr", descending=True)["arr"].head(5).to_list()
        assert sorted(named["arr"].to_list(), reverse=True) == top


def test_capital_at_risk_tree_shows_what_the_kpi_says(scores) -> None:
    """The treemap adds up to the capital-at-risk KPI: only At Risk and Critical ARR, by playbook;
    Healthy ARR only when asked for, as its own group."""
    summary = service.portfolio_summary(scores)
    tree = service.capital_at_risk_tree(scores.frame, top_n=5)
    assert tree["arr"].sum() == pytest.approx(summary.capital_at_risk)
    assert set(tree["tier"].drop_nulls()) <= {"At Risk", "Critical"}
    assert "Value Realization Report" not in set(tree["group"])
    assert (
        tree["accounts"].sum()
        == summary.accounts_by_tier["At Risk"] + (summary.accounts_by_tier["Critical"])
    )
    context = service.capital_at_risk_tree(scores.frame, top_n=5, include_healthy=True)
    healthy = context.filter(pl.col("group") == service.HEALTHY_GROUP)
    assert healthy["arr"].sum() == pytest.approx(summary.arr_by_tier["Healthy"])
    assert context.filter(pl.col("group") != service.HEALTHY_GROUP).equals(tree)
    assert context["group"].to_list()[-1] == service.HEALTHY_GROUP  # context comes last


@pytest.mark.parametrize("by", ["industry", "segment", "owner"])
def test_risk_composition_shares_sum_to_one(scores, by: str) -> None:
    comp = service.risk_composition(scores.frame, by)  # type: ignore[arg-type]
    sums = comp.group_by(by).agg(pl.col("share").sum())["share"]
    assert sums.to_list() == pytest.approx([1.0] * len(sums))
    assert comp["accounts"].sum() == scores.frame.height
    with pytest.raises(InvalidHealthOption):
        service.risk_composition(scores.frame, "plan")  # type: ignore[arg-type]


def test_renewals_are_cumulative_by_horizon(scores) -> None:
    table = service.renewals(scores.frame)
    by_h = table.group_by("within_days").agg(pl.col("arr").sum()).sort("within_days")
    assert by_h["arr"].to_list() == sorted(by_h["arr"].to_list())
    days = (scores.frame["renewal_date"] - scores.frame["month_end"]).dt.total_days()
    expected = scores.frame.filter((days >= 0) & (days <= 90))["arr"].sum()
    assert by_h.filter(pl.col("within_days") == 90)["arr"][0] == pytest.approx(expected)


def test_list_accounts_pages_filters_and_sorts(scores) -> None:
    first = service.list_accounts(scores, sort="arr", descending=True, page_size=7)
    rows, total = first.items, first.total
    assert total == scores.frame.height and len(rows) == 7
    assert [r.arr for r in rows] == sorted((r.arr for r in rows), reverse=True)
    rows2 = service.list_accounts(scores, sort="arr", descending=True, page=2, page_size=7).items
    assert not {r.account_id for r in rows} & {r.account_id for r in rows2}
    crit = service.list_accounts(scores, tier="Critical", page_size=1000)
    assert crit.total == scores.frame.filter(pl.col("tier") == "Critical").height
    assert all(r.tier == "Critical" for r in crit.items)
    with pytest.raises(InvalidHealthOption, match="sort"):
        service.list_accounts(scores, sort="colour")
    with pytest.raises(InvalidHealthOption, match="tier 'Fine'"):
        service.list_accounts(scores, tier="Fine")


def test_account_detail(ctx: AppContext, scores) -> None:
    account = scores.frame.sort("arr", descending=True)["account_id"][0]
    detail = service.account_detail(ctx, account)
    assert detail.account.account_id == account
    assert detail.account.current is True
    assert detail.history["health_score"][-1] == detail.account.health_score
    assert detail.pillars["engagement"].inputs["licensed_seats"] is not None
    kinds = set(detail.timeline["kind"])
    assert "subscription" in kinds
    assert detail.actions
    as_json = detail.to_dict()
    assert list(as_json) == ["account", "pillars", "actions", "history", "timeline", "notes"]
    assert as_json["account"]["account_id"] == account
    assert as_json["history"][-1]["health_score"] == as_json["account"]["health_score"]
    assert {e["kind"] for e in as_json["timeline"]} == kinds
    with pytest.raises(NotFoundError, match="NOPE"):
        service.account_detail(ctx, "NOPE")


def test_missing_tables_are_left_out_and_said(tmp_path: Path) -> None:
    ctx = AppContext(settings_for(demo_home(("nps_responses", "accounts"))))
    try:
        scores = service.score_month(ctx)
        assert scores.coverage.missing == ("nps_responses", "accounts")
        assert scores.frame["partial"].all()
        assert scores.frame["sentiment"].is_null().all()
        text = " ".join(scores.notes)
        assert "'nps_responses' is not loaded: the sentiment pillar is left out" in text
        assert "'accounts' is not loaded" in text
        assert scores.frame["days_since_contact"].is_null().all()
        assert scores.frame["owner"].unique().to_list() == ["Unassigned"]
    finally:
        ctx.close()


def test_no_pillar_table_is_a_clear_error(loaded_context: AppContext) -> None:
    with pytest.raises(NoDataError, match="usage, nps_responses or support_tickets"):
        service.score_month(loaded_context)
