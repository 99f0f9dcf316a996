"""The demo company's marketing journeys and their planted truth (``generator.marketing``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.attribution.journeys import JourneyOptions, Journeys, load_journeys
from revintel.core.config import Settings
from revintel.data.generator import GeneratedCompany, generate_company, write_company
from revintel.data.generator import params as P
from revintel.data.generator.marketing import (
    N_CHANNELS,
    coalition_values,
    pooled_start,
    removal_effects,
    shapley_values,
    signup_probability,
    step_matrix,
)

SMALL = {"customers": 300, "months": 24, "start": "2023-01", "seed": 11}


@pytest.fixture(scope="module")
def company() -> GeneratedCompany:
    return generate_company(**SMALL)


def frame(company: GeneratedCompany, name: str) -> pl.DataFrame:
    out = pl.from_arrow(company.tables[name])
    assert isinstance(out, pl.DataFrame)
    return out


def truth(company: GeneratedCompany, name: str) -> pl.DataFrame:
    out = pl.from_arrow(company.truth[name])
    assert isinstance(out, pl.DataFrame)
    return out


def journeys(company: GeneratedCompany) -> pl.DataFrame:
    """One row per journey: its customer (null: never signed up), touches, first and last touch."""
    touches = frame(company, "touchpoints").sort("journey_id", "touched_at")
    return touches.group_by("journey_id", maintain_order=True).agg(
        pl.col("customer_id").first(),
        pl.col("customer_id").n_unique().alias("customers"),
        pl.len().alias("touches"),
        pl.col("touched_at").min().alias("first"),
        pl.col("touched_at").max().alias("last"),
    )


def test_converting_journeys_are_the_customers_segment_by_segment(company) -> None:
    j = journeys(company)
    assert (j["customers"] == 1).all()  # a journey's touches all name the same customer, or none
    customers = frame(company, "customers")
    converting = j.filter(pl.col("customer_id").is_not_null())
    assert converting["customer_id"].n_unique() == converting.height == customers.height
    mine = converting.join(customers, on="customer_id")
    assert mine.height == customers.height


def test_non_converting_journeys_are_several_times_the_converting_ones(company) -> None:
    j = journeys(company)
    converting = j["customer_id"].is_not_null().sum()
    ratio = (j.height - converting) / converting
    assert 3.0 <= ratio <= 5.5
    planted = truth(company, "attribution_truth")["journey_signup_probability"][0]
    assert abs(converting / j.height - planted) < 0.04


def test_journey_id_on_every_touch_and_conversion(company) -> None:
    touches, conversions = frame(company, "touchpoints"), frame(company, "conversions")
    assert touches["journey_id"].null_count() == 0
    assert conversions["journey_id"].null_count() == 0
    assert conversions["customer_id"].null_count() == 0
    own = touches.drop_nulls("customer_id").select("customer_id", "journey_id").unique()
    joined = conversions.join(own, on="customer_id", suffix="_touch")
    assert joined.height == conversions.height
    assert (joined["journey_id"] == joined["journey_id_touch"]).all()
    assert touches["touchpoint_type"].null_count() == 0


def test_touches_precede_the_signup_and_fit_the_window(company) -> None:
    j = journeys(company)
    signups = frame(company, "conversions").filter(pl.col("conversion_type") == "signup")
    mine = j.join(signups, on="customer_id")
    assert mine.height == frame(company, "customers").height
    lead = (mine["converted_at"] - mine["last"]).dt.total_seconds()
    assert (lead > 0).all() and lead.median() < 12 * 3600  # type: ignore[operator]
    span = (j["last"] - j["first"]).dt.total_seconds() / 86_400
    assert span.max() <= 81  # type: ignore[operator]
    assert (
        j.filter(pl.col("touches") > 1)["last"] > j.filter(pl.col("touches") > 1)["first"]
    ).all()
    lost = j.filter(pl.col("customer_id").is_null())
    months = lost["last"].dt.strftime("%Y-%m")
    labels = frame(company, "costs")["month"]
    assert months.is_in(labels.implode()).all()
    assert months.n_unique() == len(labels)  # spread over the whole window


def test_channel_spend_adds_up_to_marketing_spend_every_month(company) -> None:
    spend = frame(company, "channel_spend")
    by_month = spend.group_by("month").agg(pl.col("spend").sum().alias("by_channel"))
    total = frame(company, "marketing_spend").group_by("month").agg(pl.col("spend").sum())
    both = total.join(by_month, on="month", how="full", coalesce=True)
    assert both.height == frame(company, "costs").height
    assert ((both["spend"] - both["by_channel"]).abs() < 0.005).all()
    assert "Direct" not in spend["channel"].to_list()
    assert set(spend["channel"]) == set(P.TOUCH_CHANNELS) - {"Direct"}


def test_channel_spend_follows_the_planted_response(company) -> None:
    touches = (
        frame(company, "touchpoints")
        .with_columns(month=pl.col("touched_at").dt.strftime("%Y-%m"))
        .group_by("month", "channel")
        .len()
    )
    curve = truth(company, "channel_response")
    assert (curve["curve"] == "power").all() and (curve["b"] < 1).all() and (curve["b"] > 0).all()
    rows = (
        frame(company, "channel_spend")
        .join(curve, on="channel")
        .join(truth(company, "channel_demand"), on="month")
        .join(touches, on=["month", "channel"], how="left")
        .with_columns(pl.col("len").fill_null(0))
        .filter(pl.col("spend") >= 5)
    )
    assert rows.height > 0.8 * frame(company, "channel_spend").height
    expected = rows["demand"] * rows["a"] * rows["spend"] ** rows["b"]
    assert ((expected / rows["len"] - 1).abs() < 1e-3).all()


def test_truth_shares_sum_to_one_and_monte_carlo_agrees_with_the_exact_chain(company) -> None:
    t = truth(company, "attribution_truth")
    assert t["channel"].to_list() == list(P.TOUCH_CHANNELS)
    for column in ("true_share", "shapley_share", "last_touch_share", "start_share"):
        assert abs(t[column].sum() - 1) < 1e-5, column
    assert ((t["removal_effect"] > 0) & (t["removal_effect"] < 1)).all()
    # 500,000 walks: a share's standard error is about 0.001.
    assert (t["true_share"] - t["true_share_mc"]).abs().max() < 0.006  # type: ignore[operator]
    assert (t["shapley_share"] - t["shapley_share_mc"]).abs().max() < 0.006  # type: ignore[operator]
    assert (t["removal_effect"] - t["removal_effect_mc"]).abs().max() < 0.015  # type: ignore[operator]
    # Last touch misranks the channels that start journeys (the insight the models should show).
    social = t.filter(pl.col("channel") == "Paid Social")
    assert social["last_touch_share"][0] < 0.6 * social["true_share"][0]


def test_exact_truth_is_the_absorbing_chain() -> None:
    start = pooled_start(np.array([200.0, 80.0, 20.0]))
    v = coalition_values(start)
    full = (1 << N_CHANNELS) - 1
    assert v[0] == 0 and abs(v[full] - signup_probability(start)) < 1e-12
    # v(all) by the fundamental matrix, independently of the linear solve.
    visits = start @ np.linalg.inv(np.eye(N_CHANNELS) - step_matrix())
    assert abs(v[full] - visits @ P.JOURNEY_CONVERT) < 1e-12
    phi = shapley_values(v)
    assert abs(phi.sum() - v[full]) < 1e-12  # efficiency
    assert (np.diff(v[[0, 1, full]]) >= 0).all()
    removal = removal_effects(v)
    # One channel only: the removal effect is what the journeys through it contribute.
    solo = np.array([v[1 << c] for c in range(N_CHANNELS)])
    assert (removal >= solo / v[full] - 1e-12).all()


def test_shapley_values_of_known_games() -> None:
    masks = np.arange(1 << N_CHANNELS)
    bits = (masks[:, None] >> np.arange(N_CHANNELS)[None, :]) & 1
    weight = np.arange(1.0, N_CHANNELS + 1)
    assert np.allclose(shapley_values(bits @ weight), weight)  # additive: each its own weight
    # Unanimity of channels 0 and 1: they split the worth, the others get nothing.
    both = ((masks & 0b11) == 0b11).astype(np.float64)
    assert np.allclose(shapley_values(both), [0.5, 0.5] + [0.0] * (N_CHANNELS - 2))
    # Removal effects of the unanimity game: either channel loses everything.
    assert np.allclose(removal_effects(both)[:3], [1.0, 1.0, 0.0])


def test_touches_follow_the_planted_first_order_chain(company) -> None:
    touches = frame(company, "touchpoints").sort("journey_id", "touched_at")
    code = {c: i for i, c in enumerate(P.TOUCH_CHANNELS)}
    channel = np.array([code[c] for c in touches["channel"].to_list()])
    journey = touches["journey_id"].to_numpy()
    converted = touches["customer_id"].is_not_null().to_numpy()
    last = np.append(journey[1:] != journey[:-1], True)
    # Outcomes after a touch: 0..8 the next channel, 9 sign-up, 10 end without one.
    outcome = np.where(last, np.where(converted, N_CHANNELS, N_CHANNELS + 1), 0)
    outcome[~last] = channel[1:][~last[:-1]]
    counts = np.zeros((N_CHANNELS, N_CHANNELS + 2))
    np.add.at(counts, (channel, outcome), 1)
    q, s = P.JOURNEY_CONVERT, P.JOURNEY_CONTINUE
    planted = np.column_stack([step_matrix(), q, (1 - q) * (1 - s)])
    assert np.allclose(planted.sum(axis=1), 1)
    n = counts.sum(axis=1, keepdims=True)
    empirical = counts / n
    bound = 4 * np.sqrt(planted * (1 - planted) / n) + 0.01
    assert (np.abs(empirical - planted) <= bound).all()
    # First touches follow the pooled start distribution.
    starts = np.bincount(channel[np.append(True, journey[1:] != journey[:-1])], minlength=9)
    share = starts / starts.sum()
    planted_start = truth(company, "attribution_truth")["start_share"].to_numpy()
    assert np.abs(share - planted_start).max() < 4 * np.sqrt(0.25 / starts.sum())


def removal_shares(j: Journeys) -> dict[str, float]:
    """Order-1 Markov removal-effect shares counted from journeys (a plain reference estimator)."""
    k = len(j.channels)
    counts = np.zeros((k + 1, k + 2))  # rows: channels, start; columns: channels, sign-up, end
    for path, converted in zip(j.paths(), j.conversions, strict=True):
        previous = k
        for c in path:
            counts[previous, c] += 1
            previous = c
        counts[previous, k if converted else k + 1] += 1
    p = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)

    def converts(active: np.ndarray) -> float:
        a = np.flatnonzero(active)
        h = np.linalg.solve(np.eye(len(a)) - p[np.ix_(a, a)], p[a, k])
        return float(p[k, a] @ h)

    every = converts(np.ones(k, dtype=bool))
    effect = np.array([1 - converts(np.arange(k) != c) / every for c in range(k)])
    return dict(zip(j.channels, effect / effect.sum(), strict=True))


def test_the_generated_folder_loads_and_its_signup_journeys_recover_the_truth(
    company, tmp_path: Path
) -> None:
    folder = tmp_path / "demo"
    write_company(company, folder, "csv")
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=None))
    try:
        result = load_paths(ctx, [folder], source="test")
        signups = load_journeys(ctx.warehouse, JourneyOptions(conversion_type="signup"))
    finally:
        ctx.close()
    for name in ("touchpoints", "conversions", "channel_spend"):
        assert result.tables[name] == company.tables[name].num_rows, name
    j = journeys(company)
    assert signups.n_journeys == j.height  # the 90-day window keeps every journey whole
    assert signups.n_touches == frame(company, "touchpoints").height
    assert signups.total_conversions == frame(company, "customers").height
    estimate = removal_shares(signups)
    planted = truth(company, "attribution_truth")
    for channel, share in zip(planted["channel"], planted["true_share"], strict=True):
        assert abs(estimate[channel] - share) < 0.035, channel
