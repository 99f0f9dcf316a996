"""The demo company generator: contracts, keys, dates, reproducibility and the planted truth."""

from __future__ import annotations

import datetime as dt
import re
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from revintel.core.errors import ConfigError
from revintel.data.generator import GeneratedCompany, generate_company, write_company
from revintel.data.schema import CONTRACTS, TABLE_ORDER

SMALL = {"customers": 300, "months": 24, "start": "2023-01", "seed": 11}
MID = {"customers": 3000, "months": 36, "start": "2023-01", "seed": 5}


@pytest.fixture(scope="module")
def small() -> GeneratedCompany:
    return generate_company(**SMALL)


@pytest.fixture(scope="module")
def mid() -> GeneratedCompany:
    return generate_company(**MID)


def frames(company: GeneratedCompany) -> dict[str, pl.DataFrame]:
    return {name: pl.from_arrow(table) for name, table in company.tables.items()}  # type: ignore[misc]


def window_end(company: GeneratedCompany) -> dt.date:
    last = pl.from_arrow(company.tables["costs"])["month"].max()  # type: ignore[index]
    return (dt.date.fromisoformat(f"{last}-01") + dt.timedelta(days=32)).replace(
        day=1
    ) - dt.timedelta(days=1)


def month_ends(months: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"month": months}).with_columns(
        month_end=(pl.col("month") + "-01").str.to_date().dt.month_end()
    )


def customer_mrr(subscriptions: pl.DataFrame, months: list[str]) -> pl.DataFrame:
    """MRR per customer at each month end, exactly as docs/metric-definitions.md defines it."""
    active = subscriptions.join(month_ends(months), how="cross").filter(
        (pl.col("start_date") <= pl.col("month_end"))
        & (pl.col("end_date").is_null() | (pl.col("end_date") > pl.col("month_end")))
    )
    discount = (
        pl.when(
            pl.col("discount_end_date").is_null()
            | (pl.col("discount_end_date") >= pl.col("month_end"))
        )
        .then(pl.col("discount_pct").fill_null(0.0))
        .otherwise(0.0)
    )
    return active.group_by("customer_id", "month").agg(
        (pl.col("monthly_price") * (1 - discount)).sum().alias("mrr")
    )


def logo_churn(company: GeneratedCompany) -> pl.DataFrame:
    """Per month M: customers with MRR>0 at M-1, and those of them with MRR=0 at M."""
    t = frames(company)
    months = t["costs"]["month"].to_list()
    mrr = customer_mrr(t["subscriptions"], months).filter(pl.col("mrr") > 0)
    rows = []
    for before, month in pairwise(months):
        prev = set(mrr.filter(pl.col("month") == before)["customer_id"])
        cur = set(mrr.filter(pl.col("month") == month)["customer_id"])
        rows.append({"month": month, "at_risk": len(prev), "churned": len(prev - cur)})
    return pl.DataFrame(rows).with_columns(rate=pl.col("churned") / pl.col("at_risk"))


# --------------------------------------------------------------------------- contracts and keys
def test_every_contract_table_is_produced_with_its_exact_schema(small: GeneratedCompany) -> None:
    assert list(small.tables) == list(TABLE_ORDER)
    for name, table in small.tables.items():
        assert table.schema.equals(CONTRACTS[name].arrow_schema()), name
    assert small.tables["predictions"].num_rows == 0
    for name in ("customers", "subscriptions", "payments", "usage", "deals", "touchpoints"):
        assert small.tables[name].num_rows > 0, name


@pytest.mark.parametrize("fixture", ["small", "mid"])
def test_every_table_passes_its_contract(fixture: str, request: pytest.FixtureRequest) -> None:
    company = request.getfixturevalue(fixture)
    for name, frame in frames(company).items():
        CONTRACTS[name].pandera_schema().validate(frame, lazy=True)


@pytest.mark.parametrize("fixture", ["small", "mid"])
def test_primary_and_foreign_keys_hold(fixture: str, request: pytest.FixtureRequest) -> None:
    t = frames(request.getfixturevalue(fixture))
    for name, frame in t.items():
        contract = CONTRACTS[name]
        key = list(contract.primary_key)
        assert frame.select(key).is_duplicated().sum() == 0, f"{name}: duplicate {key}"
        for fk in contract.foreign_keys:
            values = frame[fk.column].drop_nulls()
            missing = values.filter(~values.is_in(t[fk.table][fk.ref_column].implode()))
            assert missing.len() == 0, f"{name}.{fk.column} -> {fk.table}: {missing.head(3)}"


def test_nothing_happens_after_the_window_end(mid: GeneratedCompany) -> None:
    t, end = frames(mid), window_end(mid)
    end_ts = dt.datetime.combine(end, dt.time(23, 59, 59))
    past_only = {
        "customers": ["signup_date"],
        "trials": ["trial_start", "trial_end"],
        "subscriptions": ["start_date", "end_date"],
        "payments": ["payment_date"],
        "accounts": ["last_contact_date"],
        "nps_responses": ["response_date"],
        "support_tickets": ["opened_at", "closed_at"],
        "deals": ["created_date", "closed_date"],
        "deal_stage_history": ["entered_at"],
        "touchpoints": ["touched_at"],
        "conversions": ["converted_at"],
    }
    for name, cols in past_only.items():
        for col in cols:
            latest = t[name][col].max()
            limit = end_ts if isinstance(latest, dt.datetime) else end
            assert latest is None or latest <= limit, f"{name}.{col} = {latest}"
    assert t["usage"]["month"].max() == t["costs"]["month"].max()


def test_subscriptions_are_coherent(mid: GeneratedCompany) -> None:
    t, end = frames(mid), window_end(mid)
    subs, customers = t["subscriptions"], t["customers"]
    # is_active: an open subscription at the window end.
    open_customers = subs.filter(pl.col("end_date").is_null())["customer_id"].unique()
    expected = customers["customer_id"].is_in(open_customers.implode())
    assert (customers["is_active"] == expected).all()
    # A converted trial is a customer with a subscription, a lost one has none.
    trials = t["trials"].with_columns(
        has_sub=pl.col("customer_id").is_in(subs["customer_id"].unique().implode())
    )
    assert (trials["converted"] == trials["has_sub"]).all()
    # Prices plausible per plan (list price x term factor, after at most one price increase).
    # (An increase is at most 35%: the generator sizes it to be visible in MRR.)
    bounds = {"Basic": (40, 141), "Pro": (160, 703), "Enterprise": (1200, 11400)}
    strategic = subs.filter(pl.col("plan_type") == "Enterprise", pl.col("monthly_price") > 18_000)
    for plan, (low, high) in bounds.items():
        prices = subs.filter(pl.col("plan_type") == plan, pl.col("monthly_price") <= 18_000)
        assert prices["monthly_price"].min() >= low, plan
        assert prices["monthly_price"].max() <= high, plan
    # Strategic accounts (Enterprise segment only) buy from their own, higher price list.
    assert strategic["monthly_price"].min() >= 25_000 * 0.85 * 0.99
    assert strategic["monthly_price"].max() <= 35_000 * 1.35 * 1.05
    segments = customers.filter(pl.col("customer_id").is_in(strategic["customer_id"].implode()))
    assert set(segments["segment"]) <= {"Enterprise"}
    # Plan changes: the new subscription starts the day the old one ends (no MRR gap).
    ordered = subs.sort("customer_id", "start_date", "subscription_id")
    follow = ordered.with_columns(
        prev_end=pl.col("end_date").shift(1).over("customer_id"),
    ).filter(pl.col("prev_end").is_not_null())
    assert (follow["start_date"] == follow["prev_end"]).sum() > 0.05 * len(subs)
    assert (follow["start_date"] < follow["prev_end"]).sum() > 0  # add-ons overlap
    assert (follow["start_date"] > follow["prev_end"]).sum() > 0  # reactivations
    # Billing mix and seats.
    annual = (subs["billing_period"] == "annual").mean()
    assert 0.2 <= annual <= 0.4
    seats = subs.join(customers, on="customer_id").group_by("segment").agg(pl.col("seats").median())
    by_segment = dict(zip(seats["segment"], seats["seats"], strict=True))
    assert by_segment["SMB"] < by_segment["Mid-Market"] < by_segment["Enterprise"]
    future_discounts = subs["discount_end_date"].drop_nulls()
    assert future_discounts.len() > 0 and future_discounts.max() > end


def test_payments_fail_and_retry_under_the_same_invoice(mid: GeneratedCompany) -> None:
    pay = frames(mid)["payments"]
    failed = (pay["payment_status"] == "Failed").mean()
    assert 0.02 <= failed <= 0.09
    invoices = pay.group_by("invoice_id").agg(
        pl.col("attempt").sort().alias("attempts"),
        pl.col("payment_date").sort_by("attempt").alias("dates"),
        pl.col("payment_status").sort_by("attempt").alias("status"),
        pl.col("amount").n_unique().alias("amounts"),
    )
    assert (invoices["amounts"] == 1).all()
    for attempts, dates, status in (
        invoices.filter(pl.col("attempts").list.len() > 1)
        .select("attempts", "dates", "status")
        .iter_rows()
    ):
        assert attempts == list(range(1, len(attempts) + 1))
        assert all(a < b for a, b in pairwise(dates))
        assert all(s == "Failed" for s in status[:-1])
    assert (invoices["attempts"].list.len() == 3).sum() > 0
    # Monthly subscriptions pay price x (1 - discount) once a month.
    subs = frames(mid)["subscriptions"].filter(pl.col("billing_period") == "monthly")
    first = pay.filter(pl.col("attempt") == 1).join(subs, on="subscription_id")
    discount = (
        pl.when(pl.col("discount_end_date") >= pl.col("due_date"))
        .then(pl.col("discount_pct"))
        .otherwise(0.0)
    )
    regular = first.filter(pl.col("due_date") > pl.col("start_date"))
    expected = (regular["monthly_price"] * (1 - regular.select(discount).to_series())).round(2)
    assert ((regular["amount"] - expected).abs() < 0.011).mean() > 0.99


def test_deals_and_stage_history_are_consistent(mid: GeneratedCompany) -> None:
    t, end = frames(mid), window_end(mid)
    deals, history = t["deals"], t["deal_stage_history"]
    open_ = deals.filter(~pl.col("stage").str.starts_with("Closed"))
    closed = deals.filter(pl.col("stage").str.starts_with("Closed"))
    assert open_.height > 0 and closed.height > 0
    assert open_["closed_date"].null_count() == open_.height
    assert (open_["expected_close_date"] > end).all()
    assert closed["closed_date"].null_count() == 0
    categories = {
        "Prospecting": {"Pipeline"},
        "Qualification": {"Pipeline"},
        "Proposal": {"Best Case", "Pipeline"},
        "Negotiation": {"Commit", "Best Case"},
        "Closed Won": {"Closed"},
        "Closed Lost": {"Omitted"},
    }
    for stage, category in deals.select("stage", "forecast_category").unique().iter_rows():
        assert category in categories[stage], (stage, category)
    steps = history.sort("deal_id", "entered_at").with_columns(
        prev=pl.col("entered_at").shift(1).over("deal_id")
    )
    assert (
        (steps.filter(pl.col("prev").is_not_null()).select(pl.col("entered_at") > pl.col("prev")))
        .to_series()
        .all()
    )
    last = steps.group_by("deal_id").agg(pl.col("stage").last(), pl.col("entered_at").last())
    joined = last.join(deals, on="deal_id", suffix="_deal")
    assert (joined["stage"] == joined["stage_deal"]).all()
    finished = joined.filter(pl.col("closed_date").is_not_null())
    assert (finished["entered_at"] == finished["closed_date"]).all()
    assert set(history.filter(pl.col("stage") == "Prospecting")["deal_id"]) == set(deals["deal_id"])


def test_accounts_carry_arr_owner_and_contact(mid: GeneratedCompany) -> None:
    t, end = frames(mid), window_end(mid)
    accounts = t["accounts"]
    paying = t["subscriptions"]["customer_id"].unique()
    assert set(accounts["account_id"]) == set(paying)
    assert 10 <= accounts["owner"].n_unique() <= 25
    months = t["costs"]["month"].to_list()
    mrr = customer_mrr(t["subscriptions"], months[-1:])
    active = accounts.join(mrr, left_on="account_id", right_on="customer_id")
    assert ((active["arr"] - 12 * active["mrr"]).abs() < 0.05).all()
    assert (active["renewal_date"] > end).all()
    stale = (end - active["last_contact_date"]).dt.total_days() > 90
    assert 0.01 < stale.mean() < 0.4


def test_usage_reflects_seats_and_engagement(mid: GeneratedCompany) -> None:
    usage = frames(mid)["usage"]
    over = (usage["active_users"] > usage["licensed_seats"]).mean()
    assert over < 0.05
    assert usage["key_feature_adoption"].is_between(0, 1).all()


def test_touchpoints_precede_signup_and_conversions_value_first_year(
    mid: GeneratedCompany,
) -> None:
    t = frames(mid)
    journeys = t["touchpoints"].join(t["customers"], on="customer_id")
    assert (journeys["touched_at"].dt.date() <= journeys["signup_date"]).all()
    per_customer = journeys.group_by("customer_id").len()["len"]
    assert per_customer.min() >= 1 and per_customer.median() <= 3  # type: ignore[operator]
    assert t["touchpoints"]["customer_id"].drop_nulls().n_unique() == t["customers"].height
    conv = t["conversions"]
    assert conv.filter(pl.col("conversion_type") == "signup").height == t["customers"].height
    paid = conv.filter(pl.col("conversion_type") == "paid")
    assert paid.height == t["subscriptions"]["customer_id"].n_unique()
    first = t["subscriptions"].sort("start_date", "subscription_id").group_by("customer_id").first()
    joined = paid.join(first, on="customer_id")
    ratio = joined["value"] / (12 * joined["monthly_price"])
    assert ratio.is_between(0.69, 1.0001).all()


def test_costs_follow_the_business(mid: GeneratedCompany) -> None:
    t = frames(mid)
    spend = t["marketing_spend"].group_by("month").agg(pl.col("spend").sum())
    costs = t["costs"].join(spend, on="month").sort("month")
    assert ((costs["marketing_cost"] - costs["spend"]).abs() < 0.02).all()
    assert t["marketing_spend"].height == 4 * t["costs"].height
    # Infra grows with the customer base.
    assert costs["infra_cost"][-1] > 3 * costs["infra_cost"][2]


# --------------------------------------------------------------------------- reproducibility
def _write_both(company: GeneratedCompany, folder: Path) -> dict[str, bytes]:
    files = {}
    for fmt in ("parquet", "csv"):
        for path in write_company(company, folder / fmt, fmt):  # type: ignore[arg-type]
            files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = _write_both(generate_company(**SMALL), tmp_path / "a")
    second = _write_both(generate_company(**SMALL), tmp_path / "b")
    assert first.keys() == second.keys()
    # Every canonical table but the empty ones (predictions, fx_rates), plus the truth tables,
    # in both formats.
    company = generate_company(**SMALL)
    written = [n for n, t in company.tables.items() if t.num_rows] + list(company.truth)
    assert {"predictions", "fx_rates"}.isdisjoint(written)
    assert len(first) == 2 * len(written)
    assert not any("predictions" in name for name in first)
    for name in first:
        assert first[name] == second[name], name
    other = _write_both(generate_company(**{**SMALL, "seed": 12}), tmp_path / "c")
    assert other["csv/customers.csv"] != first["csv/customers.csv"]
    assert other["parquet/payments.parquet"] != first["parquet/payments.parquet"]


def test_csv_format(small: GeneratedCompany, tmp_path: Path) -> None:
    write_company(small, tmp_path, "csv")
    tickets = (tmp_path / "support_tickets.csv").read_text(encoding="utf-8").splitlines()
    assert tickets[0] == "ticket_id,account_id,opened_at,closed_at,severity,category"
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    for line in tickets[1:]:
        assert re.fullmatch(rf"TKT-\d+,CUS-\d+,{stamp},({stamp})?,\w+,[\w -]+", line), line
    customers = (tmp_path / "customers.csv").read_text(encoding="utf-8").splitlines()
    assert all(re.search(r",\d{4}-\d{2}-\d{2},", line) for line in customers[1:])
    assert {line.split(",")[5] for line in customers[1:]} <= {"true", "false"}
    subs = pl.read_csv(tmp_path / "subscriptions.csv", try_parse_dates=True)
    assert subs["end_date"].null_count() > 0  # blanks read back as nulls
    assert (tmp_path / "truth" / "churn_probability.csv").exists()


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ConfigError):
        generate_company(customers=0)
    with pytest.raises(ConfigError):
        generate_company(customers=10, months=0)
    with pytest.raises(ConfigError):
        generate_company(customers=10, start="2023-13")


# --------------------------------------------------------------------------- planted truth
def test_monthly_logo_churn_is_between_one_and_three_percent(mid: GeneratedCompany) -> None:
    churn = logo_churn(mid)
    anomalies = set(pl.from_arrow(mid.truth["anomalies"])["month"])  # type: ignore[index]
    steady = churn.filter((pl.col("at_risk") >= 400) & ~pl.col("month").is_in(anomalies))
    assert steady.height >= 12
    pooled = steady["churned"].sum() / steady["at_risk"].sum()
    assert 0.01 <= pooled <= 0.03
    assert 0.01 <= steady["rate"].median() <= 0.03
    # Each month within binomial noise of the band (three standard errors at its customers).
    noise = 3 * (0.03 * 0.97 / steady["at_risk"]).sqrt()
    assert (steady["rate"] <= 0.03 + noise).all() and (steady["rate"] >= 0.01 - noise).all()
    by_segment = (
        pl.from_arrow(mid.truth["churn_probability"])
        .join(frames(mid)["customers"], on="customer_id")
        .group_by("segment")
        .agg(pl.col("churned").mean())
    )
    rate = dict(zip(by_segment["segment"], by_segment["churned"], strict=True))
    assert rate["Enterprise"] < rate["Mid-Market"] < rate["SMB"]


def test_churn_truth_covers_every_customer_month_at_risk(mid: GeneratedCompany) -> None:
    truth = pl.from_arrow(mid.truth["churn_probability"])
    assert truth.columns == ["customer_id", "month", "true_churn_probability", "churned"]
    churn = logo_churn(mid)
    per_month = truth.group_by("month").agg(pl.len(), pl.col("churned").sum().alias("n_churned"))
    joined = churn.join(per_month, on="month", how="left").fill_null(0)
    assert (joined["at_risk"] == joined["len"]).all()
    assert (joined["churned"] == joined["n_churned"]).all()


def test_true_churn_probability_is_calibrated_and_separates_churners(
    mid: GeneratedCompany,
) -> None:
    truth = pl.from_arrow(mid.truth["churn_probability"])
    p = truth["true_churn_probability"].to_numpy()
    churned = truth["churned"].to_numpy()
    assert abs(churned.sum() - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum())
    assert p[churned].mean() > 3 * p[~churned].mean()


def test_engagement_declines_before_churn(mid: GeneratedCompany) -> None:
    truth = pl.from_arrow(mid.truth["churn_probability"]).filter(pl.col("churned"))
    usage = frames(mid)["usage"].join(
        truth.select(pl.col("customer_id").alias("account_id"), pl.col("month").alias("churn")),
        on="account_id",
        how="left",
    )
    last = usage.filter(
        (pl.col("churn").is_not_null())
        & (pl.col("month") < pl.col("churn"))
        & (
            (pl.col("churn") + "-01").str.to_date().dt.offset_by("-1mo").dt.strftime("%Y-%m")
            == pl.col("month")
        )
    )
    never = usage.filter(pl.col("churn").is_null())
    util = lambda f: (f["active_users"] / f["licensed_seats"]).mean()  # noqa: E731
    assert util(last) < util(never) - 0.1
    assert last["key_feature_adoption"].mean() < never["key_feature_adoption"].mean() - 0.1


def test_trials_convert_at_the_planted_channel_rates(mid: GeneratedCompany) -> None:
    t, end = frames(mid), window_end(mid)
    effects = pl.from_arrow(mid.truth["channel_effects"])
    trials = t["trials"].join(t["customers"], on="customer_id")
    trials = trials.filter(pl.col("trial_end") <= end - dt.timedelta(days=31)).join(
        effects.filter(pl.col("segment").is_not_null()).select(
            pl.col("channel").alias("acquisition_channel"),
            "segment",
            "true_conversion_probability",
        ),
        on=["acquisition_channel", "segment"],
    )
    rates = trials.group_by("acquisition_channel").agg(
        pl.col("converted").mean().alias("observed"),
        pl.col("true_conversion_probability").mean().alias("expected"),
        pl.len(),
    )
    for observed, expected, n in rates.select("observed", "expected", "len").iter_rows():
        assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / n)
    observed = dict(zip(rates["acquisition_channel"], rates["observed"], strict=True))
    assert observed["Referral"] > observed["Organic"] + 0.1
    assert observed["Paid Ads"] < observed["Organic"]


def _logistic_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Maximum-likelihood logistic regression (Newton-Raphson)."""
    beta = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ beta))
        step = np.linalg.solve(x.T @ (x * (p * (1 - p))[:, None]), x.T @ (y - p))
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def test_deal_win_drivers_are_recoverable() -> None:
    company = generate_company(customers=20_000, months=36, seed=3)
    deals = pl.from_arrow(company.tables["deals"]).filter(pl.col("stage").str.starts_with("Closed"))
    drivers = pl.from_arrow(company.truth["deal_win_drivers"])
    truth = dict(zip(drivers["feature"], drivers["coefficient"], strict=True))
    flags = ["has_champion", "budget_confirmed", "decision_maker_engaged"]
    competitors = sorted(c for c in deals["competitor"].drop_nulls().unique())
    groups = deals.select("deal_type", "segment").unique().sort(["deal_type", "segment"]).rows()
    columns = [deals[f].cast(pl.Float64).to_numpy() for f in flags]
    columns += [
        (deals["competitor"] == c).fill_null(False).cast(pl.Float64).to_numpy() for c in competitors
    ]
    columns += [
        ((deals["deal_type"] == t) & (deals["segment"] == s)).cast(pl.Float64).to_numpy()
        for t, s in groups
    ]
    beta = _logistic_fit(np.column_stack(columns), (deals["stage"] == "Closed Won").to_numpy())
    names = flags + [f"competitor={c}" for c in competitors]
    for name, estimate in zip(names, beta, strict=False):
        assert abs(estimate - truth[name]) < 0.3, (name, estimate, truth[name])


def test_anomalies_are_recorded_and_visible() -> None:
    kinds = set()
    for seed in (1, 2, 3, 4):
        company = generate_company(customers=4000, months=36, seed=seed)
        anomalies = pl.from_arrow(company.truth["anomalies"])
        assert 2 <= anomalies.height <= 3
        assert anomalies["kind"].n_unique() == anomalies.height
        t = frames(company)
        months = t["costs"]["month"].to_list()
        assert all(m in months[12:-1] for m in anomalies["month"])
        mrr = (
            customer_mrr(t["subscriptions"], months)
            .group_by("month")
            .agg(pl.col("mrr").sum())
            .sort("month")
            .with_columns(mom=pl.col("mrr") / pl.col("mrr").shift(1) - 1)
        )
        normal_mom = mrr.filter(~pl.col("month").is_in(anomalies["month"].implode()))["mom"][
            12:
        ].median()
        pay = t["payments"].with_columns(month=pl.col("payment_date").dt.strftime("%Y-%m"))
        failure = pay.group_by("month").agg(
            (pl.col("payment_status") == "Failed").mean().alias("f")
        )
        for month, series, kind, size in anomalies.select(
            "month", "series", "kind", "size"
        ).iter_rows():
            kinds.add(kind)
            # A mass churn removes a planned share of customers; the MRR it takes depends on
            # which accounts it hits (a few strategic accounts hold much of the MRR).
            assert abs(size) >= (0.05 if kind == "mass_churn" else 0.08), (kind, size)
            if series == "mrr" and abs(size) >= 0.08:  # smaller ones drown in a month's noise
                mom = mrr.filter(pl.col("month") == month)["mom"][0]
                assert np.sign(mom - normal_mom) == np.sign(size)
                assert abs(mom - normal_mom) > 0.5 * abs(size), (kind, mom, normal_mom, size)
            elif series == "revenue":
                assert kind == "billing_outage" and size < 0
                rate = failure.filter(pl.col("month") == month)["f"][0]
                assert rate > 3 * failure["f"].median()
    assert len(kinds) >= 3


def test_written_folder_loads_as_it_is(small: GeneratedCompany, tmp_path: Path) -> None:
    """`revintel generate --out D` then `revintel load D` works: the folder holds only loadable
    tables (truth/ is a subfolder, which a folder load skips)."""
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.config import Settings

    write_company(small, tmp_path / "out", "csv")
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=None))
    result = load_paths(ctx, [tmp_path / "out"])
    expected = {name: t.num_rows for name, t in small.tables.items() if t.num_rows}
    assert result.tables == expected
    assert ctx.warehouse.row_counts() == expected


def test_demo_company_fills_every_health_playbook(tmp_path: Path) -> None:
    """The demo company (`revintel demo`: 2,000 customers, 36 months, seed 42) has strategic
    Enterprise accounts above the $250k ARR of an executive sponsor call, some of them Critical:
    each of the four playbooks of the health settings' defaults has members in the latest month."""
    from revintel.health import service
    from revintel.health.config import PLAYBOOKS
    from tests.conftest import generated_company

    with generated_company(tmp_path, customers=2000, months=36, seed=42) as ctx:
        scores = service.score_month(ctx)
    summary = service.portfolio_summary(scores)
    assert all(summary.accounts_by_playbook[p] > 0 for p in PLAYBOOKS), summary.accounts_by_playbook
    big = scores.frame.filter(pl.col("arr") >= scores.config.high_value_arr)
    assert big.height >= 20
    assert set(big["segment"]) == {"Enterprise"}
    executive = scores.frame.filter(pl.col("playbook") == "Executive Sponsor Call")
    assert executive["reason"].str.contains("high value: ARR").all()
