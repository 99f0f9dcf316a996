"""RFM segmentation from successful payments (pure polars; definitions in ``docs/clv.md``).

Recency = days from a customer's last successful payment to the as-of date; frequency = successful
payments and monetary = their sum over the trailing 12 months (the 365 days up to and including
the as-of date). Each is scored 1–5 by quintile over the customers (ties share a score; 5 is best:
most recent, most frequent, most spent), and the segment comes from the R and F scores with the
standard R/F map (:data:`SEGMENT_MAP`), extended with *Lost* for R = 1 and F = 1.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from revintel.core.errors import NoDataError

TRAILING_DAYS = 365

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
    "customer_id", "last_payment_date", "recency_days", "frequency", "monetary",
    "r_score", "f_score", "m_score", "rfm_score", "segment",
)  # fmt: skip


def _quintile(column: pl.Expr, n: pl.Expr) -> pl.Expr:
    """1–5 by average rank (ties share a score): ceil(5 × rank / n)."""
    return (column.rank("average") * 5 / n).ceil().clip(1, 5).cast(pl.Int8)


def rfm_scores(payments: pl.DataFrame, as_of: date | None = None) -> pl.DataFrame:
    """One row per customer with a successful payment on or before ``as_of``.

    ``payments`` needs ``customer_id``, ``payment_date``, ``amount``, ``payment_status``;
    ``as_of`` defaults to the latest successful payment date. Columns: :data:`CUSTOMER_COLUMNS`.
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
    recent = (pl.col("payment_date") >= since).cast(pl.Int64)
    frame = paid.group_by("customer_id").agg(
        last_payment_date=pl.col("payment_date").max(),
        frequency=recent.sum(),
        monetary=(pl.col("amount").cast(pl.Float64) * recent).sum(),
    )
    n = pl.len()
    frame = frame.with_columns(
        recency_days=(pl.lit(as_of) - pl.col("last_payment_date")).dt.total_days()
    ).with_columns(
        r_score=_quintile(-pl.col("recency_days"), n),
        f_score=_quintile(pl.col("frequency"), n),
        m_score=_quintile(pl.col("monetary"), n),
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
