"""Point-in-time churn features and labels from the warehouse.

Two layers, as in ``revintel.health``:

* :func:`monthly_panel` runs Ibis aggregates (DuckDB, PostgreSQL and Spark alike) and returns one
  row per account and month in which the account had MRR > 0, with that month's raw inputs:
  MRR, usage, the latest NPS answer, tickets, payment attempts and the main subscription's terms.
* :func:`features_at` (pure polars) turns the panel into one row per account and *cut-off month*
  ``M``: every feature uses rows of months ``<= M`` only (dates on or before the last day of
  ``M``), so nothing after the cut-off leaks in; the labels look at months ``M+1 .. M+h``.

A customer is *at risk* at cut-off ``M`` when its MRR at the end of ``M`` is > 0 (the logo-churn
denominator of ``metric-definitions.md``); it *churned within h months* when its MRR is 0 at the
end of any month ``M+1 .. M+h``. A label is null when ``M+h`` is past the last month of data.
Months are month numbers ``year * 12 + month - 1`` (``revintel.core.calendar``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ibis
import numpy as np
import polars as pl

from revintel.churn.ports import providers
from revintel.core.calendar import month_label, month_of, month_of_text, number_spine
from revintel.core.errors import NoDataError
from revintel.warehouse import Warehouse

Group = Literal["payment", "support", "engagement", "revenue", "renewal", "profile"]
HORIZONS: tuple[int, ...] = (1, 3)


@dataclass(frozen=True)
class FeatureInfo:
    """What a feature means: its label in words, its driver group and its unit."""

    label: str
    group: Group
    unit: str = ""
    description: str = ""


FEATURES: dict[str, FeatureInfo] = {
    # revenue
    "mrr": FeatureInfo("MRR", "revenue", "$", "MRR at the end of the cut-off month."),
    "mrr_change_1m": FeatureInfo(
        "MRR change, 1 month", "revenue", "%", "MRR(M) ÷ MRR(M-1) − 1 (null in the first month)."
    ),
    "mrr_change_3m": FeatureInfo(
        "MRR change, 3 months", "revenue", "%", "MRR(M) ÷ MRR(M-3) − 1 (null before 3 months)."
    ),
    "contractions_6m": FeatureInfo(
        "MRR decreases, 6 months",
        "revenue",
        "months",
        "Months of M-5..M with MRR below the month before.",
    ),
    "discount_pct": FeatureInfo(
        "Discount", "revenue", "share", "Discount of the main subscription."
    ),
    # profile
    "tenure_months": FeatureInfo(
        "Tenure", "profile", "months", "Months since the first month with MRR > 0."
    ),
    "subscription_age_months": FeatureInfo(
        "Subscription age", "profile", "months", "Months since the main subscription started."
    ),
    "months_to_term_end": FeatureInfo(
        "Months to term end",
        "renewal",
        "months",
        "Months until the current billing term ends (0 for monthly billing: renews monthly).",
    ),
    "billing_period": FeatureInfo("Billing period", "profile", "", "monthly, quarterly, annual."),
    "plan_type": FeatureInfo("Plan", "profile", "", "Plan of the main (largest) subscription."),
    "segment": FeatureInfo("Segment", "profile", "", "SMB, Mid-Market, Enterprise."),
    "acquisition_channel": FeatureInfo("Acquisition channel", "profile"),
    "industry": FeatureInfo("Industry", "profile"),
    "seats": FeatureInfo("Seats", "profile", "seats", "Licensed seats of the main subscription."),
    # engagement
    "seat_utilisation": FeatureInfo(
        "Seat utilisation", "engagement", "share", "Active users ÷ licensed seats in M."
    ),
    "seat_utilisation_change_3m": FeatureInfo(
        "Seat utilisation change, 3 months",
        "engagement",
        "points",
        "Utilisation(M) − utilisation(M-3).",
    ),
    "logins_per_user": FeatureInfo(
        "Logins per active user", "engagement", "logins", "Logins ÷ active users in M."
    ),
    "login_trend": FeatureInfo(
        "Login trend",
        "engagement",
        "log ratio",
        "log(1 + logins per day in M) − log(1 + mean logins per day of M-3..M-1).",
    ),
    "logins_per_day": FeatureInfo(
        "Logins per day", "engagement", "logins", "Logins in M ÷ days in M."
    ),
    "key_feature_adoption": FeatureInfo(
        "Key feature adoption", "engagement", "share", "Share of key features used in M."
    ),
    "adoption_change_3m": FeatureInfo(
        "Adoption change, 3 months", "engagement", "points", "Adoption(M) − adoption(M-3)."
    ),
    "usage_months_missing_3m": FeatureInfo(
        "Months without usage, 3 months",
        "engagement",
        "months",
        "Months of M-2..M with no usage row.",
    ),
    # support and sentiment
    "nps_latest": FeatureInfo("Latest NPS", "support", "points", "Latest NPS score answered by M."),
    "nps_change": FeatureInfo(
        "NPS change", "support", "points", "Latest NPS score − the one before it."
    ),
    "nps_answered": FeatureInfo("Answered NPS", "support", "", "Has answered an NPS survey by M."),
    "tickets_3m": FeatureInfo(
        "Support tickets, 3 months",
        "support",
        "tickets",
        "Tickets opened in the 90 days to M's end.",
    ),
    "urgent_tickets_3m": FeatureInfo(
        "High/urgent tickets, 3 months", "support", "tickets", "High or urgent tickets, 90 days."
    ),
    "aged_open_tickets": FeatureInfo(
        "Aged open tickets",
        "support",
        "tickets",
        "Tickets open at M's end, opened 14+ days before.",
    ),
    # payments
    "late_payments_3m": FeatureInfo(
        "Late payments, 3 months",
        "payment",
        "payments",
        "Successful payments of M-2..M made after the due date or on a retry.",
    ),
    "failed_payments_3m": FeatureInfo(
        "Failed payment attempts, 3 months", "payment", "attempts", "Failed attempts in M-2..M."
    ),
    "failed_invoice_2m": FeatureInfo(
        "Failed invoice, 2 months",
        "payment",
        "",
        "A failed attempt in M-1..M with no successful payment after it by M's end.",
    ),
}
"""Every feature of the warehouse churn model, in model order."""

ACTIONABLE: frozenset[str] = frozenset(
    {
        "discount_pct",
        "seat_utilisation",
        "seat_utilisation_change_3m",
        "logins_per_user",
        "login_trend",
        "logins_per_day",
        "key_feature_adoption",
        "adoption_change_3m",
        "usage_months_missing_3m",
        "nps_latest",
        "nps_change",
        "tickets_3m",
        "urgent_tickets_3m",
        "aged_open_tickets",
        "late_payments_3m",
        "failed_payments_3m",
        "failed_invoice_2m",
    }
)
"""Features a retention team can move (usage, adoption, sentiment, support, payments, discount):
the only ones a what-if suggests changing. Tenure, subscription age and months to term end move
with the calendar; MRR history, plan, segment, channel and industry are facts about the customer."""

MOVES_WITH_TIME: frozenset[str] = frozenset({"tenure_months", "subscription_age_months"})
"""Features that grow by one every month by construction: their drift against the training
months is the calendar, not a change in customers, so it never triggers retraining
(:func:`revintel.churn.drift.drift_report`)."""

_NON_NEGATIVE_UNITS = frozenset(
    {"$", "months", "seats", "logins", "tickets", "payments", "attempts"}
)
_RANGES_BY_NAME: dict[str, tuple[float | None, float | None]] = {
    "nps_latest": (0.0, 10.0),
    "nps_change": (-10.0, 10.0),
    "seat_utilisation": (0.0, None),  # active users can outnumber licensed seats
    "seat_utilisation_change_3m": (None, None),
    "adoption_change_3m": (-1.0, 1.0),
    "usage_months_missing_3m": (0.0, 3.0),
}


def value_range(name: str) -> tuple[float | None, float | None]:
    """The values a numeric feature can take (None: unbounded on that side): a share is 0–1, a
    relative MRR change at least −1 (−100%), counts, months and money at least 0; seat
    utilisation has no upper bound (active users can outnumber licensed seats)."""
    if name in _RANGES_BY_NAME:
        return _RANGES_BY_NAME[name]
    info = FEATURES.get(name)
    unit = info.unit if info else ""
    if unit == "share":
        return (0.0, 1.0)
    if unit == "%":
        return (-1.0, None)
    if unit in _NON_NEGATIVE_UNITS:
        return (0.0, None)
    return (None, None)


CATEGORICAL = ("billing_period", "plan_type", "segment", "acquisition_channel", "industry")
BOOLEAN = ("nps_answered", "failed_invoice_2m")
LABELS = tuple(f"churned_{h}m" for h in HORIZONS)
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12, "multi-year": 24}


def _fetch(expr: ibis.Table) -> pl.DataFrame:
    return pl.from_arrow(expr.to_pyarrow())  # type: ignore[return-value]


# -- the panel (Ibis aggregates) ------------------------------------------------------------------
def data_months(wh: Warehouse) -> tuple[int, int]:
    """First and last month with subscription data (the last month is the latest complete one
    the data reaches: the month of the latest subscription start or payment)."""
    if not wh.has_table("subscriptions"):
        raise NoDataError("Churn prediction needs the subscriptions table; load it first.")
    subs = wh.table("subscriptions")
    start = subs.start_date.cast("date")
    bounds = {"lo": start.min(), "hi": start.max()}
    if wh.has_table("payments"):
        pay = wh.table("payments")
        bounds_pay = pay.aggregate(hi=pay.payment_date.cast("date").max()).to_pyarrow()
        pay_hi = bounds_pay.column("hi")[0].as_py()
    else:
        pay_hi = None
    row = subs.aggregate(**bounds).to_pyarrow()
    lo, hi = row.column("lo")[0].as_py(), row.column("hi")[0].as_py()
    if lo is None:
        raise NoDataError("The subscriptions table is empty; load subscriptions first.")
    last = max(d for d in (hi, pay_hi) if d is not None)
    return lo.year * 12 + lo.month - 1, last.year * 12 + last.month - 1


def _mrr_panel(wh: Warehouse, lo: int, hi: int) -> pl.DataFrame:
    payments = wh.table("payments") if wh.has_table("payments") else None
    mrr = providers().monthly_mrr(
        wh.table("subscriptions"),
        from_month=month_label(lo),
        to_month=month_label(hi),
        payments=payments,
    )
    return _fetch(
        mrr.select(
            account_id=mrr.customer_id,
            month_idx=month_of_text(mrr.month),
            mrr=mrr.mrr.cast("float64"),
        )
    )


def _terms_panel(wh: Warehouse, lo: int, hi: int) -> pl.DataFrame:
    """The main (highest-priced) active subscription per customer and month end."""
    subs = wh.table("subscriptions")
    spine = number_spine(lo, hi)
    start = subs.start_date.cast("date")
    end = subs.end_date.cast("date")
    active = subs.join(spine, (start <= spine.month_end) & (end.isnull() | (end > spine.month_end)))
    cols = {
        "account_id": active.customer_id,
        "month_idx": active.month_idx.cast("int64"),
        "price": active.monthly_price.cast("float64"),
        "plan_type": active.plan_type,
        "start_month": month_of(active.start_date.cast("date")),
    }
    optional = {
        "billing_period": lambda t: t.billing_period,
        "seats": lambda t: t.seats.cast("float64"),
        "discount_pct": lambda t: t.discount_pct.cast("float64").fill_null(0.0),
    }
    for name, build in optional.items():
        if name in active.columns:
            cols[name] = build(active)
    rows = active.select(**cols)
    window = ibis.window(
        group_by=["account_id", "month_idx"],
        order_by=[ibis.desc("price"), ibis.desc("start_month")],
    )
    rows = rows.mutate(_rank=ibis.row_number().over(window))
    return _fetch(rows.filter(rows._rank == 0).drop("_rank", "price"))


def _usage_panel(wh: Warehouse, lo: int, hi: int) -> pl.DataFrame | None:
    if not wh.has_table("usage"):
        return None
    usage = wh.table("usage")
    rows = usage.select(
        "account_id",
        month_idx=month_of_text(usage.month),
        active_users=usage.active_users.cast("float64"),
        licensed_seats=usage.licensed_seats.cast("float64"),
        logins=usage.logins.cast("float64"),
        key_feature_adoption=usage.key_feature_adoption.cast("float64"),
    )
    rows = rows.filter((rows.month_idx >= lo) & (rows.month_idx <= hi))
    # One row per account and month even if the export repeats one: sum counts, mean shares.
    return _fetch(
        rows.group_by(["account_id", "month_idx"]).aggregate(
            active_users=rows.active_users.sum(),
            licensed_seats=rows.licensed_seats.sum(),
            logins=rows.logins.sum(),
            key_feature_adoption=rows.key_feature_adoption.mean(),
        )
    )


def _payments_panel(wh: Warehouse, lo: int, hi: int) -> pl.DataFrame | None:
    if not wh.has_table("payments"):
        return None
    pay = wh.table("payments")
    date = pay.payment_date.cast("date")
    succeeded = pay.payment_status == "Success"
    failed = pay.payment_status == "Failed"
    late = ibis.literal(False)
    if "due_date" in pay.columns:
        late = late | (pay.due_date.notnull() & (date > pay.due_date.cast("date")))
    if "attempt" in pay.columns:
        late = late | (pay.attempt.fill_null(1) > 1)
    rows = pay.select(
        account_id=pay.customer_id,
        month_idx=month_of(date),
        late=ibis.ifelse(succeeded & late, 1, 0).cast("int64"),
        failed=ibis.ifelse(failed, 1, 0).cast("int64"),
        paid=ibis.ifelse(succeeded, 1, 0).cast("int64"),
        day=date,
        succeeded=succeeded,
        is_failed=failed,
    )
    rows = rows.filter((rows.month_idx >= lo - 2) & (rows.month_idx <= hi))
    return _fetch(
        rows.group_by(["account_id", "month_idx"]).aggregate(
            late_payments=rows.late.sum(),
            failed_payments=rows.failed.sum(),
            payments=rows.paid.sum(),
            last_failed=rows.day.max(where=rows.is_failed),
            last_success=rows.day.max(where=rows.succeeded),
        )
    )


def _customers_panel(wh: Warehouse) -> pl.DataFrame:
    c = wh.table("customers")
    cols = {"account_id": c.customer_id, "segment": c.segment}
    for name in ("acquisition_channel", "industry"):
        if name in c.columns:
            cols[name] = c[name]
    return _fetch(c.select(**cols))


@dataclass
class Panel:
    """Raw monthly inputs per account-month (MRR > 0) and the months they cover."""

    frame: pl.DataFrame
    first_month: int
    last_month: int
    tables: tuple[str, ...]

    @property
    def months(self) -> list[int]:
        return list(range(self.first_month, self.last_month + 1))


def monthly_panel(wh: Warehouse, lo: int | None = None, hi: int | None = None) -> Panel:
    """One row per account and month with MRR > 0 at the month's end, months ``lo``..``hi``.

    Columns: ``account_id``, ``month_idx``, ``mrr``, the main subscription's terms, usage,
    NPS, tickets and payment counts of that month (nulls where a table has no row).
    """
    if not wh.has_table("customers"):
        raise NoDataError("Churn prediction needs the customers table; load it first.")
    first, last = data_months(wh)
    lo = first if lo is None else max(lo, first)
    hi = last if hi is None else min(hi, last)
    keys = ["account_id", "month_idx"]
    frame = _mrr_panel(wh, lo, hi)
    frame = frame.join(_terms_panel(wh, lo, hi), on=keys, how="left")
    used = ["customers", "subscriptions"]
    usage = _usage_panel(wh, lo, hi)
    if usage is not None:
        frame = frame.join(usage, on=keys, how="left")
        used.append("usage")
    payments = _payments_panel(wh, lo, hi)
    if payments is not None:
        # Payment months outside MRR months (e.g. the month after a churn) still count for the
        # 3-month windows of the months that have MRR, so keep them apart and window later.
        frame = frame.join(payments, on=keys, how="full", coalesce=True)
        used.append("payments")
    if wh.has_table("nps_responses"):
        nps = _fetch(providers().nps_inputs(wh.table("nps_responses"), lo, hi)).select(
            *keys, "nps_score", "nps_previous"
        )
        frame = frame.join(nps, on=keys, how="left")
        used.append("nps_responses")
    if wh.has_table("support_tickets"):
        tickets = _fetch(providers().ticket_inputs(wh.table("support_tickets"), lo, hi)).select(
            *keys,
            "tickets",
            (pl.col("tickets_high") + pl.col("tickets_urgent")).alias("urgent_tickets"),
            "aged_open_tickets",
        )
        frame = frame.join(tickets, on=keys, how="left")
        used.append("support_tickets")
    frame = frame.join(_customers_panel(wh), on="account_id", how="left")
    frame = frame.with_columns(pl.col("month_idx").cast(pl.Int64)).sort(keys)
    return Panel(frame=frame, first_month=lo, last_month=hi, tables=tuple(used))


# -- features at cut-offs (pure polars) -----------------------------------------------------------
def _lagged(frame: pl.DataFrame, column: str, k: int, name: str) -> pl.DataFrame:
    """Add ``name`` = ``column`` of the same account ``k`` months earlier (null if absent)."""
    shifted = frame.select(
        "account_id", (pl.col("month_idx") + k).alias("month_idx"), pl.col(column).alias(name)
    ).filter(pl.col(name).is_not_null())
    return frame.join(shifted, on=["account_id", "month_idx"], how="left")


def _window_sum(frame: pl.DataFrame, column: str, months: int, name: str) -> pl.DataFrame:
    """Add ``name`` = sum of ``column`` over the account's rows of months ``M-months+1..M``."""
    parts = [
        frame.select(
            "account_id", (pl.col("month_idx") + k).alias("month_idx"), pl.col(column).alias(name)
        )
        for k in range(months)
    ]
    summed = (
        pl.concat(parts).group_by(["account_id", "month_idx"]).agg(pl.col(name).fill_null(0).sum())
    )
    return frame.join(summed, on=["account_id", "month_idx"], how="left")


def add_labels(frame: pl.DataFrame, present: pl.DataFrame, last_month: int) -> pl.DataFrame:
    """``churned_1m``/``churned_3m``: MRR = 0 at the end of some month ``M+1..M+h``.

    ``present`` holds ``account_id``, ``month_idx`` of every account-month with MRR > 0.
    """
    present = present.select("account_id", "month_idx").unique()
    out = frame
    gone = []
    for k in range(1, max(HORIZONS) + 1):
        marker = present.select(
            "account_id", (pl.col("month_idx") - k).alias("cutoff"), pl.lit(True).alias(f"_in_{k}")
        )
        out = out.join(marker, on=["account_id", "cutoff"], how="left")
        gone.append(pl.col(f"_in_{k}").is_null())
    labels = []
    for h in HORIZONS:
        any_gone = pl.any_horizontal(gone[:h])
        labels.append(
            pl.when(pl.col("cutoff") + h <= last_month)
            .then(any_gone)
            .otherwise(None)
            .alias(f"churned_{h}m")
        )
    return out.with_columns(labels).drop([f"_in_{k}" for k in range(1, max(HORIZONS) + 1)])


def features_at(panel: Panel, cutoffs: Sequence[int] | None = None) -> pl.DataFrame:
    """One row per account at risk at each cut-off month, with every feature and both labels.

    ``cutoffs`` default to every month of the panel. Only rows of months ``<= cutoff`` feed a
    row's features (lags and trailing windows look backwards); labels look forward.
    """
    p = panel.frame
    present = p.filter(pl.col("mrr").is_not_null() & (pl.col("mrr") > 0))
    first_paid = present.group_by("account_id").agg(pl.col("month_idx").min().alias("_first"))
    f = p
    for name in ("late_payments", "failed_payments", "payments", "tickets", "urgent_tickets"):
        if name not in f.columns:
            f = f.with_columns(pl.lit(None, pl.Float64).alias(name))
    # Trailing windows over every month with any row (payments may fall in non-MRR months).
    f = _window_sum(f, "late_payments", 3, "late_payments_3m")
    f = _window_sum(f, "failed_payments", 3, "failed_payments_3m")
    # Latest failure and success up to M (over the last 2 months for the failure).
    if "last_failed" in f.columns:
        f = _lagged(f, "last_failed", 1, "_failed_prev")
        f = _lagged(f, "last_success", 1, "_success_prev")
        last_failed = pl.max_horizontal("last_failed", "_failed_prev")
        last_success = pl.max_horizontal("last_success", "_success_prev")
        f = f.with_columns(
            failed_invoice_2m=(
                last_failed.is_not_null() & (last_success.is_null() | (last_success < last_failed))
            )
        )
    else:
        f = f.with_columns(failed_invoice_2m=pl.lit(None, pl.Boolean))
    f = f.filter(pl.col("mrr").is_not_null() & (pl.col("mrr") > 0))
    # Lags of the MRR months.
    for column, k, name in (
        ("mrr", 1, "_mrr_1"),
        ("mrr", 3, "_mrr_3"),
    ):
        f = _lagged(f, column, k, name)
    f = f.with_columns((pl.col("mrr") < pl.col("_mrr_1")).cast(pl.Int64).alias("_down"))
    f = _window_sum(f, "_down", 6, "contractions_6m")
    has_usage = "active_users" in f.columns
    if has_usage:
        f = f.with_columns(
            seat_utilisation=pl.when(pl.col("licensed_seats") > 0).then(
                pl.col("active_users") / pl.col("licensed_seats")
            ),
            logins_per_user=pl.when(pl.col("active_users") > 0).then(
                pl.col("logins") / pl.col("active_users")
            ),
            _has_usage=pl.col("logins").is_not_null().cast(pl.Int64),
            # Logins per calendar day, so that February and a 31-day month compare.
            logins_per_day=pl.col("logins")
            / pl.date(pl.col("month_idx") // 12, pl.col("month_idx") % 12 + 1, 1)
            .dt.month_end()
            .dt.day()
            .cast(pl.Float64),
        )
        for k in (1, 2, 3):
            f = _lagged(f, "logins_per_day", k, f"_logins_{k}")
        f = _lagged(f, "seat_utilisation", 3, "_util_3")
        f = _lagged(f, "key_feature_adoption", 3, "_adopt_3")
        f = _window_sum(f, "_has_usage", 3, "_usage_rows_3m")
        prior = pl.mean_horizontal("_logins_1", "_logins_2", "_logins_3")
        f = f.with_columns(
            login_trend=(pl.col("logins_per_day") + 1).log() - (prior + 1).log(),
            seat_utilisation_change_3m=pl.col("seat_utilisation") - pl.col("_util_3"),
            adoption_change_3m=pl.col("key_feature_adoption") - pl.col("_adopt_3"),
            usage_months_missing_3m=(
                pl.min_horizontal(pl.col("month_idx") - pl.col("month_idx").min() + 1, pl.lit(3))
                - pl.col("_usage_rows_3m").fill_null(0)
            ).clip(lower_bound=0),
        )
    cutoffs = panel.months if cutoffs is None else list(cutoffs)
    f = f.filter(pl.col("month_idx").is_in(cutoffs))
    f = f.join(first_paid, on="account_id", how="left")
    start = pl.col("start_month") if "start_month" in f.columns else pl.col("_first")
    period = (
        pl.col("billing_period").replace_strict(PERIOD_MONTHS, default=1, return_dtype=pl.Int64)
        if "billing_period" in f.columns
        else pl.lit(1, pl.Int64)
    )
    age = pl.col("month_idx") - start
    f = f.with_columns(
        cutoff=pl.col("month_idx"),
        tenure_months=(pl.col("month_idx") - pl.col("_first")).cast(pl.Float64),
        subscription_age_months=age.cast(pl.Float64),
        months_to_term_end=((period - (age % period)) % period).cast(pl.Float64),
        mrr_change_1m=pl.col("mrr") / pl.col("_mrr_1") - 1.0,
        mrr_change_3m=pl.col("mrr") / pl.col("_mrr_3") - 1.0,
    )
    if "nps_score" in f.columns:
        f = f.with_columns(
            nps_latest=pl.col("nps_score").cast(pl.Float64),
            nps_change=(pl.col("nps_score") - pl.col("nps_previous")).cast(pl.Float64),
            nps_answered=pl.col("nps_score").is_not_null(),
        )
    if "tickets" in f.columns:
        f = f.with_columns(
            tickets_3m=pl.col("tickets").fill_null(0).cast(pl.Float64),
            urgent_tickets_3m=pl.col("urgent_tickets").fill_null(0).cast(pl.Float64),
            aged_open_tickets=pl.col("aged_open_tickets").fill_null(0).cast(pl.Float64)
            if "aged_open_tickets" in f.columns
            else pl.lit(None, pl.Float64),
        )
    if "payments" in f.columns:
        f = f.with_columns(
            pl.col("late_payments_3m").fill_null(0).cast(pl.Float64),
            pl.col("failed_payments_3m").fill_null(0).cast(pl.Float64),
            pl.col("failed_invoice_2m").fill_null(False),
        )
    f = add_labels(f, present, panel.last_month)
    columns = [c for c in FEATURES if c in f.columns]
    for name in FEATURES:
        if name not in f.columns:
            dtype = (
                pl.String
                if name in CATEGORICAL
                else (pl.Boolean if name in BOOLEAN else pl.Float64)
            )
            f = f.with_columns(pl.lit(None, dtype).alias(name))
            columns.append(name)
    out = f.select(
        "account_id",
        pl.col("cutoff").cast(pl.Int64),
        *[
            pl.col(c).cast(pl.Float64) if c not in CATEGORICAL and c not in BOOLEAN else pl.col(c)
            for c in FEATURES
        ],
        *LABELS,
    )
    # Infinite ratios (MRR from 0) are missing values to the model.
    floats = [c for c in FEATURES if c not in CATEGORICAL and c not in BOOLEAN]
    out = out.with_columns(
        [pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c in floats]
    )
    return out.sort(["cutoff", "account_id"])


def available_features(frame: pl.DataFrame) -> list[str]:
    """Features with at least one non-null value (a table not loaded leaves its features empty)."""
    counts = frame.select([pl.col(c).is_not_null().sum() for c in FEATURES if c in frame.columns])
    return [c for c in counts.columns if counts[c][0] > 0]


# -- the oracle (demo company only) ---------------------------------------------------------------
def oracle_scores(truth_dir: Path, cutoffs: Sequence[int]) -> pl.DataFrame | None:
    """The planted TRUE churn probability for each horizon, per account and cut-off.

    ``truth/churn_probability`` has one row per customer-month at risk with the probability that
    the customer has MRR = 0 at the month's end. For horizon h the oracle is
    ``1 − Π_{k=1..h}(1 − p(M+k))`` over the months the customer was still at risk; it is the best
    score any model of the observable data could reach (it even knows the months after M).
    ``true_churned_{h}m`` says whether the generator's churn event happened in those months (our
    label also counts MRR lost to the delinquency rule, which the generator does not plan).
    Returns None when the file is absent (data that is not revintel's demo).
    """
    path = None
    for name in ("churn_probability.parquet", "churn_probability.csv"):
        if (truth_dir / name).exists():
            path = truth_dir / name
            break
    if path is None:
        return None
    raw = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    raw = raw.select(
        account_id=pl.col("customer_id").cast(pl.String),
        month_idx=(
            pl.col("month").str.slice(0, 4).cast(pl.Int64) * 12
            + pl.col("month").str.slice(5, 2).cast(pl.Int64)
            - 1
        ),
        p=pl.col("true_churn_probability").cast(pl.Float64),
        churned=pl.col("churned").cast(pl.Boolean),
    )
    out = []
    for cutoff in cutoffs:
        window = raw.filter(
            (pl.col("month_idx") > cutoff) & (pl.col("month_idx") <= cutoff + max(HORIZONS))
        )
        row = window.group_by("account_id").agg(
            [
                (
                    1.0 - (1.0 - pl.col("p").filter(pl.col("month_idx") <= cutoff + h)).product()
                ).alias(f"oracle_{h}m")
                for h in HORIZONS
            ]
            + [
                pl.col("churned")
                .filter(pl.col("month_idx") <= cutoff + h)
                .any()
                .alias(f"true_churned_{h}m")
                for h in HORIZONS
            ]
        )
        out.append(row.with_columns(cutoff=pl.lit(cutoff, pl.Int64)))
    frame = pl.concat(out)
    return frame.with_columns([pl.col(f"oracle_{h}m").fill_nan(None) for h in HORIZONS]).select(
        "account_id",
        "cutoff",
        *[f"oracle_{h}m" for h in HORIZONS],
        *[f"true_churned_{h}m" for h in HORIZONS],
    )


def plan_cutoffs(
    first: int, last: int, horizon: int, train_months: int = 12
) -> dict[str, list[int]]:
    """Time-based split for a horizon: train on earlier cut-offs, calibrate on the next one,
    test on the latest cut-off whose label is complete (``last - horizon``).

    The test label window is ``test+1..last``; the calibration cut-off's window ends at the test
    cut-off and training windows end at or before the calibration cut-off, so no label of the
    training data looks at a month the test rows are labelled with.
    """
    test = last - horizon
    calibration = test - horizon
    train_hi = calibration - horizon
    # A customer needs 3 months of history for trends; start no earlier than first + 3.
    train_lo = max(first + 3, train_hi - train_months + 1)
    if train_hi < train_lo:
        raise NoDataError(
            f"Not enough history to train a {horizon}-month churn model: the data spans "
            f"{month_label(first)}..{month_label(last)}; expected at least "
            f"{3 + 3 * horizon + 1} months."
        )
    return {
        "train": list(range(train_lo, train_hi + 1)),
        "calibration": [calibration],
        "test": [test],
    }


def frame_hash(frame: pl.DataFrame) -> str:
    """A SHA-256 of the training frame's content (row hashes, order-independent)."""
    import hashlib

    rows = frame.hash_rows(seed=0).sort().to_numpy()
    digest = hashlib.sha256(np.ascontiguousarray(rows).tobytes())
    digest.update(",".join(frame.columns).encode())
    return digest.hexdigest()
