"""The demo company's deal details and late warning signs (``truth/deal_signals``)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from revintel.data.generator import GeneratedCompany, generate_company
from revintel.data.generator import params as P


@pytest.fixture(scope="module")
def big() -> GeneratedCompany:
    return generate_company(customers=20_000, months=36, seed=3)


@pytest.fixture(scope="module")
def t(big: GeneratedCompany) -> dict[str, pl.DataFrame]:
    out = {name: pl.from_arrow(big.tables[name]) for name in ("deals", "deal_stage_history")}
    out["activities"] = pl.from_arrow(big.tables["deal_activities"])  # type: ignore[assignment]
    out["truth"] = pl.from_arrow(big.truth["deal_signals"])  # type: ignore[assignment]
    return out  # type: ignore[return-value]


def _window_end(big: GeneratedCompany) -> dt.date:
    last = pl.from_arrow(big.tables["costs"])["month"].max()  # type: ignore[index]
    return (dt.date.fromisoformat(f"{last}-01") + dt.timedelta(days=32)).replace(
        day=1
    ) - dt.timedelta(days=1)


def _steps(history: pl.DataFrame) -> pl.DataFrame:
    """History rows with the previous row's state of the same deal."""
    return history.sort("deal_id", "entered_at").with_columns(
        **{
            f"prev_{c}": pl.col(c).shift(1).over("deal_id")
            for c in ("stage", "amount", "expected_close_date", "forecast_category")
        }
    )


# ------------------------------------------------------------------------ deal columns
def test_amount_is_seats_times_list_price_times_discount(t: dict[str, pl.DataFrame]) -> None:
    deals = t["deals"]
    assert deals.select("product", "seats", "discount_pct").null_count().sum_horizontal()[0] == 0
    price = dict(zip(P.PLAN_LABELS, P.DEAL_LIST_PRICE.tolist(), strict=True))
    implied = (
        pl.col("seats")
        * pl.col("product").replace_strict(price, return_dtype=pl.Float64)
        * 12.0
        * (1.0 - pl.col("discount_pct"))
    )
    error = deals.select(((implied - pl.col("amount")).abs() / pl.col("amount")).max()).item()
    assert error < 1e-4
    assert deals["seats"].min() >= 1
    assert deals["discount_pct"].is_between(0.0, 1.0).all()


def test_a_competitor_brings_deeper_discounts(t: dict[str, pl.DataFrame]) -> None:
    by = (
        t["deals"]
        .group_by(pl.col("competitor").is_not_null().alias("competing"))
        .agg(pl.col("discount_pct").mean())
    )
    means = dict(by.iter_rows())
    assert means[True] - means[False] > 0.04, means


def test_loss_reasons_follow_the_competitor(t: dict[str, pl.DataFrame]) -> None:
    deals = t["deals"]
    lost = deals.filter(pl.col("stage") == "Closed Lost")
    assert lost["loss_reason"].null_count() == 0
    assert deals.filter(pl.col("stage") != "Closed Lost")["loss_reason"].null_count() == (
        deals.height - lost.height
    )
    assert set(lost["loss_reason"]) <= set(P.LOSS_REASONS)
    to_competitor = lost.filter(pl.col("loss_reason") == "Lost to competitor")
    assert to_competitor["competitor"].null_count() == 0
    competing = lost.filter(pl.col("competitor").is_not_null())
    share = (competing["loss_reason"] == "Lost to competitor").mean()
    assert 0.5 < share < 0.6, share  # type: ignore[operator]


# ------------------------------------------------------------------------ history of changes
def test_current_deal_is_its_last_history_row(t: dict[str, pl.DataFrame]) -> None:
    last = t["deal_stage_history"].sort("entered_at").group_by("deal_id").last()
    joined = last.join(t["deals"], on="deal_id", suffix="_deal")
    assert joined.height == t["deals"].height
    for col in ("stage", "amount", "expected_close_date", "forecast_category"):
        assert (joined[col] == joined[f"{col}_deal"]).all(), col


def test_slips_are_pushes_in_the_late_part(t: dict[str, pl.DataFrame]) -> None:
    steps = _steps(t["deal_stage_history"]).join(t["truth"], on="deal_id")
    pushes = steps.filter(pl.col("expected_close_date") > pl.col("prev_expected_close_date"))
    assert pushes.height > 0
    assert (pushes["entered_at"] >= pushes["late_signals_from"]).all()
    earlier = steps.filter(pl.col("expected_close_date") < pl.col("prev_expected_close_date"))
    assert earlier["stage"].str.starts_with("Closed").all()  # only a deal closing early
    calm = (
        t["truth"]
        .filter(~pl.col("slips"))
        .join(t["deals"].filter(pl.col("closed_date").is_not_null()), on="deal_id")
    )
    share = calm["deal_id"].is_in(earlier["deal_id"].implode()).mean()
    assert P.CLOSE_EARLY_SHARE - 0.06 < share <= P.CLOSE_EARLY_SHARE + 0.02, share  # type: ignore[operator]
    # Pushed before the old date was more than the notice away.
    gap = (pushes["prev_expected_close_date"] - pushes["entered_at"]).dt.total_days()
    assert gap.min() >= 0 and gap.max() <= P.SLIP_NOTICE_DAYS  # type: ignore[operator]
    truth = t["truth"]
    assert set(pushes["deal_id"]) == set(truth.filter("slips")["deal_id"])
    closed = t["deals"].filter(pl.col("closed_date").is_not_null())
    rate = (
        closed.with_columns(pushed=pl.col("deal_id").is_in(pushes["deal_id"].implode()))
        .group_by("stage")
        .agg(pl.col("pushed").mean())
    )
    rates = dict(rate.iter_rows())
    assert abs(rates["Closed Lost"] - P.SLIP_SHARE[1]) < 0.04, rates
    assert abs(rates["Closed Won"] - P.SLIP_SHARE[0]) < 0.04, rates


def test_amount_cuts_are_late_and_planted(t: dict[str, pl.DataFrame]) -> None:
    steps = _steps(t["deal_stage_history"]).join(t["truth"], on="deal_id")
    cuts = steps.filter(
        (pl.col("entered_at") >= pl.col("late_signals_from"))
        & (pl.col("amount") < pl.col("prev_amount") * (1 - P.AMOUNT_CUT_RANGE[0] + 0.01))
    )
    planted = set(t["truth"].filter("amount_cut")["deal_id"])
    assert planted <= set(cuts["deal_id"])
    same_stage = steps.filter(pl.col("stage") == pl.col("prev_stage"))
    cut_rows = same_stage.filter(pl.col("amount") != pl.col("prev_amount"))
    assert set(cut_rows["deal_id"]) <= planted  # within a stage, only a planted cut moves it
    to_loss = t["truth"].group_by("headed_to_loss").agg(pl.col("amount_cut").mean())
    shares = dict(to_loss.iter_rows())
    assert shares[True] > 2 * shares[False], shares


def test_a_push_lowers_the_forecast_category_once_per_stage(t: dict[str, pl.DataFrame]) -> None:
    steps = _steps(t["deal_stage_history"]).filter(pl.col("stage") == pl.col("prev_stage"))
    changed = steps.filter(pl.col("forecast_category") != pl.col("prev_forecast_category"))
    assert changed.height > 0
    assert (changed["expected_close_date"] > changed["prev_expected_close_date"]).all()
    moves = set(changed.select("prev_forecast_category", "forecast_category").iter_rows())
    assert moves <= {("Commit", "Best Case"), ("Best Case", "Pipeline")}


# ------------------------------------------------------------------------ activities
def _activity_rates(t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Activities per day before and from the late part, per closed deal."""
    deals = t["deals"].filter(pl.col("closed_date").is_not_null()).join(t["truth"], on="deal_id")
    acts = t["activities"].join(deals.select("deal_id", "late_signals_from"), on="deal_id")
    counts = acts.group_by("deal_id").agg(
        late=(pl.col("activity_at").dt.date() >= pl.col("late_signals_from")).sum(),
        early=(pl.col("activity_at").dt.date() < pl.col("late_signals_from")).sum(),
    )
    return deals.join(counts, on="deal_id", how="left").with_columns(
        pl.col("early", "late").fill_null(0),
        early_days=(pl.col("late_signals_from") - pl.col("created_date")).dt.total_days(),
        late_days=(pl.col("closed_date") - pl.col("late_signals_from")).dt.total_days() + 1,
    )


def test_activity_happens_within_the_deal_life(big: GeneratedCompany, t) -> None:
    acts = t["activities"].join(t["deals"], on="deal_id")
    day = acts["activity_at"].dt.date()
    assert (day >= acts["created_date"]).all()
    end = acts["closed_date"].fill_null(_window_end(big))
    assert (day <= end).all()
    notes = acts.filter(pl.col("kind") == "note")
    assert notes["direction"].null_count() == notes.height == notes["contact"].null_count()
    talks = acts.filter(pl.col("kind") != "note")
    assert talks["direction"].null_count() == 0 and talks["contact"].null_count() == 0


def test_activity_thins_only_in_the_late_part_of_deals_headed_to_loss(t) -> None:
    rates = (
        _activity_rates(t)
        .with_columns(
            group=pl.when("headed_to_loss")
            .then(pl.lit("loss"))
            .when("slips")
            .then(pl.lit("slips"))
            .otherwise(pl.lit("on track"))
        )
        .group_by("group", "segment")
        .agg(
            early=pl.col("early").sum() / pl.col("early_days").sum(),
            late=pl.col("late").sum() / pl.col("late_days").sum(),
            n_early=pl.col("early").sum(),
            n_late=pl.col("late").sum(),
        )
    )
    factor = {"on track": 1.0, "slips": 0.6, "loss": 0.3}
    segments = dict(zip(P.SEGMENT_LABELS, P.ACTIVITY_RATE.tolist(), strict=True))
    for group, segment, early, late, n_early, n_late in rates.iter_rows():
        assert early == pytest.approx(segments[segment], rel=0.1), (group, segment)
        # Poisson counts: the ratio's relative error is about sqrt(1/late + 1/early), and deal
        # activity varies from deal to deal beyond Poisson; 15% or three such errors.
        rel = max(0.15, 3.0 * (1.0 / max(n_late, 1) + 1.0 / max(n_early, 1)) ** 0.5)
        assert late / early == pytest.approx(factor[group], rel=rel), (group, segment, n_late)


def test_a_mid_life_snapshot_carries_little_of_the_signs(t: dict[str, pl.DataFrame]) -> None:
    """Before 60% of a deal's life, won and lost deals log activity at the same rate."""
    rates = (
        _activity_rates(t)
        .group_by("stage")
        .agg(rate=pl.col("early").sum() / pl.col("early_days").sum())
    )
    by = dict(rates.iter_rows())
    assert by["Closed Lost"] / by["Closed Won"] == pytest.approx(1.0, abs=0.06), by


def test_buyers_write_back_less_on_deals_headed_to_loss(t: dict[str, pl.DataFrame]) -> None:
    acts = (
        t["activities"]
        .filter(pl.col("kind") != "note")
        .join(t["truth"], on="deal_id")
        .with_columns(late=pl.col("activity_at").dt.date() >= pl.col("late_signals_from"))
    )
    share = acts.group_by("late", "headed_to_loss").agg((pl.col("direction") == "inbound").mean())
    inbound = {(late, loss): s for late, loss, s in share.iter_rows()}
    assert inbound[(False, True)] == pytest.approx(P.ACTIVITY_INBOUND[0], abs=0.02)
    assert inbound[(True, True)] == pytest.approx(P.ACTIVITY_INBOUND[2], abs=0.02)


# ------------------------------------------------------------------------ truth
def test_true_win_probability_is_calibrated_on_closed_deals(t: dict[str, pl.DataFrame]) -> None:
    closed = (
        t["deals"]
        .filter(pl.col("closed_date").is_not_null())
        .join(t["truth"], on="deal_id")
        .with_columns(won=pl.col("stage") == "Closed Won")
    )
    cells = closed.group_by("deal_type", "segment").agg(
        pl.len(), pl.col("won").mean(), pl.col("true_win_probability").mean()
    )
    for deal_type, segment, n, won, predicted in cells.iter_rows():
        if n >= 200:
            assert predicted == pytest.approx(won, abs=0.02), (deal_type, segment)
    lost_open = t["truth"].join(t["deals"], on="deal_id").filter(pl.col("stage") == "Closed Lost")
    assert lost_open["headed_to_loss"].all()
    won = t["truth"].join(t["deals"], on="deal_id").filter(pl.col("stage") == "Closed Won")
    assert not won["headed_to_loss"].any()
