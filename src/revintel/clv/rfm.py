"""RFM segmentation from successful payments (pure polars; definitions in ``docs/clv.md``).

A payment pays for its subscription's billing period: it counts as that many monthly instalments
(an annual payment as 12 of a twelfth each, dated a month apart from the payment date;
:func:`billed_months`), and the customer is paid through the last day those months cover (or
the day before the subscription ends, if sooner). Recency = 0 for a customer whose subscription
is active on the as-of date or who is paid for on it (a customer on a paid-up annual plan is
current, not lapsed), else the days from the last paid-for day to the as-of date; frequency =
billed months and monetary = their sum over the trailing 12 months (months starting in the 365
days up to and including the as-of date). Each is scored 1–5 by quintile over the customers (5
is best: most recent, most frequent, most spent; ties share a score: the best of their ranks for
recency, so every current customer has R = 5, the average for frequency and monetary), and the
segment comes from the R and F scores with the standard R/F map (:data:`SEGMENT_MAP`), extended
with *Lost* for R = 1 and F = 1.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import polars as pl

from revintel.core.errors import NoDataError

TRAILING_DAYS = 365
PERIOD_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "annual": 12}
"""Months one payment pays for, by ``subscriptions.billing_period``."""
MULTI_YEAR_MIN_MONTHS = 24
"""A multi-year payment pays for its amount ÷ (12 × monthly price) whole years, at least two."""

SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
)

STRATEGIES: dict[str, str] = {
    "Champions": "Reward them: early access, references and case studies, upsell higher tiers.",
    "Loyal": "Upsell and cross-sell; ask for reviews and referrals; keep them engaged.",
    "Potential Loyalist": "Offer a membership or loyalty programme; recommend related products.",
    "New": "Onboard well: welcome series, quick wins, check in after the first month.",
    "Promising": "Build the habit: usage tips, trials of higher tiers, a success check-in.",
    "Need Attention": "Re-engage with limited-time offers and personal recommendations.",
    "About to Sleep": "Reactivate now: share what is new, offer a discount before they lapse.",
    "At Risk": "Win them back personally: account review, renewal incentive, fix issues.",
    "Can't Lose Them": "Escalate to their owner today: executive call, tailored retention offer.",
    "Hibernating": "Low-cost reactivation campaign; otherwise let them rest.",
    "Lost": "Ask why they left; revive only with a strong offer, else exclude from spend.",
}

# (R score, F score) -> segment: the widely used R/F grid (R first), Lost carved out of
# Hibernating at (1, 1).
SEGMENT_MAP: dict[tuple[int, int], str] = {}
for _r in range(1, 6):
    for _f in range(1, 6):
        if _r <= 2 and _f <= 2:
            name = "Lost" if (_r, _f) == (1, 1) else "Hibernating"
        elif _r <= 2 and _f <= 4:
            name = "At Risk"
        elif _r <= 2:
            name = "Can't Lose Them"
        elif _r == 3 and _f <= 2:
            name = "About to Sleep"
        elif _r == 3 and _f == 3:
            name = "Need Attention"
        elif _f >= 4 and (_r in (3, 4)):
            name = "Loyal"
        elif _r == 5 and _f >= 4:
            name = "Champions"
        elif _f == 1:
            name = "New" if _r == 5 else "Promising"
        else:
            name = "Potential Loyalist"
        SEGMENT_MAP[(_r, _f)] = name

CUSTOMER_COLUMNS = (
    "customer_id", "last_payment_date", "paid_through", "recency_days", "frequency",
    "monetary", "r_score", "f_score", "m_score", "rfm_score", "segment",
)  # fmt: skip


def _quintile(column: pl.Expr, n: pl.Expr, ties: Literal["average", "max"]) -> pl.Expr:
    """1–5 by rank (ties share a score: their average or their best rank): ceil(5 × rank / n)."""
    return (column.rank(ties) * 5 / n).ceil().clip(1, 5).cast(pl.Int8)


def billed_months(paid: pl.DataFrame, subscriptions: pl.DataFrame | None) -> pl.DataFrame:
    """Successful payments as the monthly instalments of the periods they pay for.

    ``paid`` has ``customer_id``, ``payment_date`` (Date), ``amount`` and optionally
    ``subscription_id``; ``subscriptions`` has ``subscription_id``, ``customer_id``,
    ``start_date``, ``end_date``, ``monthly_price`` and ``billing_period``. A payment's
    subscription is the one it names, else the customer's latest started on or before the payment
    date. It pays for :data:`PERIOD_MONTHS` of its billing period (multi-year: the whole years its
    amount buys, at least :data:`MULTI_YEAR_MIN_MONTHS`; no subscription or no billing period: one
    month), and each month k = 0, 1, … gets amount ÷ months, dated the payment date + k months.
    Months starting on or after the subscription's ``end_date`` (cancelled) are dropped. Columns:
    ``customer_id``, ``payment_date`` (the payment's), ``billed_month`` (the instalment's date),
    ``amount`` (the instalment's), ``paid_until`` (the last day the instalment pays for: the day
    before the next month starts, or before the subscription ends if that is sooner).
    """
    paid = paid.with_row_index("_payment")
    columns = ("subscription_id", "customer_id", "start_date", "end_date", "billing_period")
    if subscriptions is None or not set(columns) <= set(subscriptions.columns):
        return paid.select(
            "customer_id",
            "payment_date",
            billed_month=pl.col("payment_date"),
            amount=pl.col("amount").cast(pl.Float64),
            paid_until=pl.col("payment_date").dt.offset_by("1mo") - timedelta(days=1),
        )
    subs = subscriptions.select(
        pl.col("subscription_id").cast(pl.String),
        pl.col("customer_id").cast(pl.String),
        pl.col("start_date").cast(pl.Date),
        pl.col("end_date").cast(pl.Date),
        pl.col("billing_period").cast(pl.String),
        (
            pl.col("monthly_price").cast(pl.Float64)
            if "monthly_price" in subscriptions.columns
            else pl.lit(None, dtype=pl.Float64).alias("monthly_price")
        ),
    )
    terms = ["end_date", "billing_period", "monthly_price"]
    # The customer's latest subscription started on or before the payment (for payments that
    # name none, or one that is not loaded).
    latest = (
        paid.select("_payment", pl.col("customer_id").cast(pl.String), "payment_date")
        .sort("payment_date")
        .join_asof(
            subs.sort("start_date"),
            left_on="payment_date",
            right_on="start_date",
            by="customer_id",
            strategy="backward",
            check_sortedness=False,  # sorted by start_date within each customer
        )
        .select("_payment", *terms)
    )
    if "subscription_id" in paid.columns:
        named = (
            paid.select("_payment", pl.col("subscription_id").cast(pl.String))
            .join(subs.select("subscription_id", *terms), on="subscription_id", how="inner")
            .select("_payment", *terms)
        )
        latest = latest.join(named, on="_payment", how="anti")
        latest = pl.concat([named, latest])
    frame = paid.join(latest, on="_payment", how="left")
    years = (pl.col("amount").cast(pl.Float64) / (12 * pl.col("monthly_price"))).round()
    months = (
        pl.when(pl.col("billing_period") == "multi-year")
        .then(
            pl.max_horizontal(pl.lit(MULTI_YEAR_MIN_MONTHS), (12 * years).fill_nan(None)).fill_null(
                MULTI_YEAR_MIN_MONTHS
            )
        )
        .otherwise(pl.col("billing_period").replace_strict(PERIOD_MONTHS, default=1))
        .cast(pl.Int64)
    )
    return (
        frame.with_columns(_months=months)
        .with_columns(_k=pl.int_ranges(0, pl.col("_months")))
        .explode("_k")
        .with_columns(
            billed_month=pl.col("payment_date").dt.offset_by(pl.format("{}mo", pl.col("_k"))),
            amount=pl.col("amount").cast(pl.Float64) / pl.col("_months"),
        )
        .filter(pl.col("end_date").is_null() | (pl.col("billed_month") < pl.col("end_date")))
        .with_columns(
            paid_until=pl.min_horizontal(
                pl.col("billed_month").dt.offset_by("1mo"), pl.col("end_date")
            )
            - timedelta(days=1)
        )
        .select("customer_id", "payment_date", "billed_month", "amount", "paid_until")
    )


def subscribed_on(subscriptions: pl.DataFrame | None, day: date) -> pl.Series:
    """Customers with a subscription active on ``day`` (started on or before it, not ended:
    ``end_date`` blank or after it); empty without ``subscriptions``."""
    if subscriptions is None or not {"customer_id", "start_date", "end_date"} <= set(
        subscriptions.columns
    ):
        return pl.Series("customer_id", [], dtype=pl.String)
    end = pl.col("end_date").cast(pl.Date)
    active = (pl.col("start_date").cast(pl.Date) <= day) & (end.is_null() | (end > day))
    return subscriptions.filter(active).get_column("customer_id").cast(pl.String).unique()


def rfm_scores(
    payments: pl.DataFrame,
    as_of: date | None = None,
    subscriptions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per customer with a successful payment on or before ``as_of``.

    ``payments`` needs ``customer_id``, ``payment_date``, ``amount``, ``payment_status`` (and may
    name its ``subscription_id``); ``as_of`` defaults to the latest successful payment date. With
    ``subscriptions`` a payment counts as the months its billing period covers
    (:func:`billed_months`); without, each payment is one month. Columns:
    :data:`CUSTOMER_COLUMNS`.
    """
    paid = payments.filter(pl.col("payment_status") == "Success").with_columns(
        pl.col("payment_date").cast(pl.Date)
    )
    if as_of is None:
        as_of = paid["payment_date"].max()  # type: ignore[assignment]
    if as_of is None:
        raise NoDataError("RFM needs successful payments; table 'payments' has none.")
    paid = paid.filter(pl.col("payment_date") <= as_of)
    if paid.height == 0:
        raise NoDataError(f"RFM needs successful payments on or before {as_of}; there are none.")
    since = as_of - timedelta(days=TRAILING_DAYS - 1)
    month = pl.col("billed_month")
    recent = ((month >= since) & (month <= as_of)).cast(pl.Int64)
    frame = (
        billed_months(paid, subscriptions)
        .group_by("customer_id")
        .agg(
            last_payment_date=pl.col("payment_date").max(),
            paid_through=pl.col("paid_until").max(),
            frequency=recent.sum(),
            monetary=(pl.col("amount") * recent).sum(),
        )
    )
    n = pl.len()
    lapsed = pl.max_horizontal((pl.lit(as_of) - pl.col("paid_through")).dt.total_days(), 0)
    current = pl.col("customer_id").is_in(subscribed_on(subscriptions, as_of).implode())
    frame = frame.with_columns(
        recency_days=pl.when(current).then(0).otherwise(lapsed).cast(pl.Int64)
    ).with_columns(
        r_score=_quintile(-pl.col("recency_days"), n, "max"),
        f_score=_quintile(pl.col("frequency"), n, "average"),
        m_score=_quintile(pl.col("monetary"), n, "average"),
    )
    mapping = pl.DataFrame(
        {
            "r_score": [k[0] for k in SEGMENT_MAP],
            "f_score": [k[1] for k in SEGMENT_MAP],
            "segment": list(SEGMENT_MAP.values()),
        },
        schema={"r_score": pl.Int8, "f_score": pl.Int8, "segment": pl.String},
    )
    frame = frame.join(mapping, on=["r_score", "f_score"], how="left").with_columns(
        rfm_score=pl.format("{}{}{}", "r_score", "f_score", "m_score")
    )
    return frame.select(CUSTOMER_COLUMNS).sort("customer_id")


def rfm_segments(scores: pl.DataFrame) -> pl.DataFrame:
    """Per segment (all of :data:`SEGMENTS`, empty ones with 0): customers, their share, monetary
    and its share, average recency, frequency and monetary, and the strategy."""
    total_customers = max(scores.height, 1)
    total_money = float(scores["monetary"].sum()) if scores.height else 0.0
    per = scores.group_by("segment").agg(
        customers=pl.len(),
        monetary=pl.col("monetary").sum(),
        average_recency_days=pl.col("recency_days").mean(),
        average_frequency=pl.col("frequency").mean(),
        average_monetary=pl.col("monetary").mean(),
    )
    base = pl.DataFrame(
        {
            "segment": list(SEGMENTS),
            "order": list(range(len(SEGMENTS))),
            "strategy": [STRATEGIES[s] for s in SEGMENTS],
        }
    )
    out = base.join(per, on="segment", how="left").with_columns(
        pl.col("customers").fill_null(0).cast(pl.Int64),
        pl.col("monetary").fill_null(0.0),
    )
    return (
        out.with_columns(
            customer_share=pl.col("customers") / total_customers,
            monetary_share=(pl.col("monetary") / total_money) if total_money else pl.lit(None),
        )
        .sort("order")
        .select(
            "segment",
            "customers",
            "customer_share",
            "monetary",
            "monetary_share",
            "average_recency_days",
            "average_frequency",
            "average_monetary",
            "strategy",
        )
    )
