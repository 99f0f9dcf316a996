"""The three health pillars: their inputs (Ibis aggregates) and their 0–100 scores (pure polars).

Every formula is written out in ``docs/health.md`` (Pillars); the defaults come from
``metric-definitions.md`` (Health score). Two layers:

* ``*_inputs`` functions are Ibis expressions over the warehouse tables, one row per account and
  month, so they run on DuckDB, PostgreSQL and Spark alike. They aggregate only; no scoring rule
  lives in them.
* ``*_pillar`` functions take those inputs (a polars frame) and add the pillar score and its
  components, vectorised. They do no I/O and are tested with small hand-made frames.

Months are month numbers ``year * 12 + month - 1``, the convention of ``revintel.metrics``
(defined here too, so the health engine does not depend on the metrics package's internals).
"""

from __future__ import annotations

import calendar
import math

import ibis
import polars as pl

# One month arithmetic for the whole product (docs/metrics.md); health keeps only its own
# month_number, whose error is a 422 on the health API.
from revintel.core.calendar import (
    month_label,
    month_last_day,
    month_of,
    month_of_text,
    parsed_month,
)
from revintel.core.errors import InvalidOption
from revintel.health.config import HealthConfig

LOGIN_LOOKBACK_MONTHS = 3
ENGAGEMENT_PARTS: dict[str, float] = {
    "utilisation_score": 0.4,
    "login_trend_score": 0.3,
    "adoption_score": 0.3,
}
"""Shares of the engagement pillar; a missing part is left out and the rest renormalised."""
NPS_TREND_POINTS = 2.5  # sentiment points per NPS point gained or lost since the previous answer
NPS_TREND_CAP = 10.0
SUPPORT_HALVING_RATIO = 2.0  # support volume score halves for every 2× the segment peers' rate
AGED_TICKET_PENALTY = 10.0
AGED_TICKET_PENALTY_CAP = 30.0


OPEN_END = 10_000_000
"""Month number standing for "never" (an open-ended interval)."""


class InvalidMonth(InvalidOption):
    """A month option is not a month ``YYYY-MM``."""


def month_number(label: str, field: str = "month") -> int:
    """The month number of ``"YYYY-MM"``."""
    number = parsed_month(label)
    if number is None:
        raise InvalidMonth(f"{field} = {label!r}: expected a month YYYY-MM, e.g. 2024-03")
    return number


def month_spine(lo: int, hi: int) -> ibis.Table:
    """Months ``lo``..``hi``: ``month_idx``, ``month``, ``month_end``, ``next_day``, ``days``."""
    numbers = list(range(lo, hi + 1))
    ends = [month_last_day(n) for n in numbers]
    return ibis.memtable(
        {
            "month_idx": numbers,
            "month": [month_label(n) for n in numbers],
            "month_end": ends,
            "days": [calendar.monthrange(n // 12, n % 12 + 1)[1] for n in numbers],
        },
        schema={"month_idx": "int64", "month": "string", "month_end": "date", "days": "int64"},
    )


# -- inputs (Ibis) --------------------------------------------------------------------------------
def engagement_inputs(usage: ibis.Table, lo: int, hi: int) -> ibis.Table:
    """Per account and month ``lo``..``hi``: the usage row and the 3 months before it.

    Columns: ``account_id``, ``month_idx``, ``active_users``, ``licensed_seats``, ``logins``,
    ``key_feature_adoption``, ``logins_per_day`` (logins ÷ days in the month),
    ``prior_logins_per_day`` (mean over the usage rows of months M-3..M-1, null if none) and
    ``prior_months`` (how many such rows).
    """
    spine = month_spine(lo - LOGIN_LOOKBACK_MONTHS, hi).select("month_idx", "days")
    rows = usage.mutate(month_idx=month_of_text(usage.month))
    rows = rows.filter((rows.month_idx >= lo - LOGIN_LOOKBACK_MONTHS) & (rows.month_idx <= hi))
    rows = rows.join(spine, "month_idx")
    rows = rows.mutate(logins_per_day=rows.logins.cast("float64") / rows.days.cast("float64"))
    current = rows.filter(rows.month_idx >= lo)
    prior = rows.select(_p_account="account_id", _p_month="month_idx", _p_rate="logins_per_day")
    joined = current.left_join(
        prior,
        [
            current.account_id == prior._p_account,
            prior._p_month >= current.month_idx - LOGIN_LOOKBACK_MONTHS,
            prior._p_month < current.month_idx,
        ],
    )
    keys = [
        "account_id",
        "month_idx",
        "active_users",
        "licensed_seats",
        "logins",
        "key_feature_adoption",
        "logins_per_day",
    ]
    return joined.group_by(keys).aggregate(
        prior_logins_per_day=joined._p_rate.mean(),
        prior_months=joined._p_month.count(),
    )


def sentiment_inputs(nps: ibis.Table, lo: int, hi: int) -> ibis.Table:
    """Per account and month: the latest NPS response on or before the month's end.

    Columns: ``account_id``, ``month_idx``, ``nps_score`` (latest), ``nps_date``,
    ``nps_previous`` (the response before it, null if none) and ``nps_responses`` (answers so far).
    Each response is valid from its month until the month of the next one, so the join to the
    month spine is a range join with one match per account-month.
    """
    rows = nps.select(
        "account_id", "response_id", "score", response_date=nps.response_date.cast("date")
    )
    window = ibis.window(group_by="account_id", order_by=["response_date", "response_id"])
    rows = rows.mutate(
        nps_previous=rows.score.lag().over(window),
        _next=rows.response_date.lead().over(window),
        nps_responses=(ibis.row_number().over(window) + 1).cast("int64"),
    )
    rows = rows.mutate(
        _from=month_of(rows.response_date),
        _to=ibis.coalesce(month_of(rows._next), ibis.literal(OPEN_END, "int64")),
    )
    spine = month_spine(lo, hi).select("month_idx")
    joined = rows.join(spine, (rows._from <= spine.month_idx) & (spine.month_idx < rows._to))
    return joined.select(
        "account_id",
        "month_idx",
        nps_score=joined.score,
        nps_date=joined.response_date,
        nps_previous=joined.nps_previous,
        nps_responses=joined.nps_responses,
    )


def support_inputs(
    tickets: ibis.Table, lo: int, hi: int, *, window_days: int = 90, aged_days: int = 14
) -> ibis.Table:
    """Per account and month: tickets opened in the ``window_days`` to the month's end, by
    severity, and tickets still open at the month's end that were opened over ``aged_days`` before.

    Columns: ``account_id``, ``month_idx``, ``tickets_low`` … ``tickets_urgent``, ``tickets``,
    ``aged_open_tickets``. Account-months without tickets have no row (zero tickets).
    """
    spine = month_spine(lo, hi)
    spine = spine.mutate(_end=(spine.month_end + ibis.interval(days=1)).cast("timestamp"))
    spine = spine.mutate(
        _start=spine._end - ibis.interval(days=window_days),
        _aged_before=spine._end - ibis.interval(days=aged_days),
    ).select("month_idx", "_end", "_start", "_aged_before")
    t = tickets.select(
        "account_id",
        "severity",
        _opened=tickets.opened_at.cast("timestamp"),
        _closed=tickets.closed_at.cast("timestamp"),
    )
    recent = t.join(spine, (t._opened >= spine._start) & (t._opened < spine._end))
    recent = recent.group_by(["account_id", "month_idx"]).aggregate(
        tickets=recent.count(),
        **{
            # ibis.ifelse, not a bool cast: PostgreSQL refuses boolean → bigint.
            f"tickets_{level}": ibis.ifelse(recent.severity == level, 1, 0).cast("int64").sum()
            for level in ("low", "medium", "high", "urgent")
        },
    )
    aged = t.join(
        spine,
        (t._opened < spine._aged_before) & (t._closed.isnull() | (t._closed >= spine._end)),
    )
    aged = aged.group_by(["account_id", "month_idx"]).aggregate(aged_open_tickets=aged.count())
    both = recent.outer_join(
        aged,
        [recent.account_id == aged.account_id, recent.month_idx == aged.month_idx],
    )
    zero = ibis.literal(0, "int64")
    return both.select(
        account_id=ibis.coalesce(both.account_id, both.account_id_right),
        month_idx=ibis.coalesce(both.month_idx, both.month_idx_right),
        tickets=ibis.coalesce(both.tickets, zero),
        tickets_low=ibis.coalesce(both.tickets_low, zero),
        tickets_medium=ibis.coalesce(both.tickets_medium, zero),
        tickets_high=ibis.coalesce(both.tickets_high, zero),
        tickets_urgent=ibis.coalesce(both.tickets_urgent, zero),
        aged_open_tickets=ibis.coalesce(both.aged_open_tickets, zero),
    )


# -- pillar scores (pure) ------------------------------------------------------------------------
def _weighted_parts(parts: dict[str, float]) -> pl.Expr:
    """Σ share × part over the non-null parts ÷ Σ their shares (null when every part is null)."""
    num = pl.sum_horizontal([pl.col(c).fill_null(0.0) * w for c, w in parts.items()])
    den = pl.sum_horizontal(
        [pl.col(c).is_not_null().cast(pl.Float64) * w for c, w in parts.items()]
    )
    return pl.when(den > 0).then(num / den).otherwise(None)


def engagement_pillar(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``utilisation_score``, ``login_trend_score``, ``adoption_score`` and ``engagement``.

    * utilisation = min(active_users ÷ licensed_seats, 1) × 100 (null without seats);
    * login trend = 100 × clip(1 + (ln(1 + x) − ln(1 + x̄)) ÷ ln 2, 0, 1), x = logins per day in
      M, x̄ = mean over M-3..M-1 (null without earlier months): steady or rising scores 100, a
      drop that halves 1 + x scores 0;
    * adoption = key_feature_adoption × 100;
    * engagement = 40% utilisation + 30% trend + 30% adoption over the parts present.
    """
    seats = pl.col("licensed_seats").cast(pl.Float64)
    utilisation = (
        pl.when(seats > 0)
        .then((pl.col("active_users").cast(pl.Float64) / seats).clip(upper_bound=1.0) * 100.0)
        .otherwise(None)
    )
    change = (pl.col("logins_per_day") + 1.0).log() - (pl.col("prior_logins_per_day") + 1.0).log()
    trend = (1.0 + change / math.log(2.0)).clip(0.0, 1.0) * 100.0
    out = frame.with_columns(
        utilisation_score=utilisation,
        login_trend_score=pl.when(pl.col("prior_logins_per_day").is_not_null())
        .then(trend)
        .otherwise(None),
        adoption_score=pl.col("key_feature_adoption").cast(pl.Float64) * 100.0,
    )
    has_row = pl.col("logins").is_not_null()
    return out.with_columns(
        engagement=pl.when(has_row).then(_weighted_parts(ENGAGEMENT_PARTS)).otherwise(None)
    )


def sentiment_pillar(frame: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    """Add ``nps_age_days``, ``nps_staleness_weight`` and ``sentiment``.

    raw = clip(10 × latest score + clip(2.5 × (latest − previous), −10, 10), 0, 100);
    w = 0.5 ^ (age in days at the month's end ÷ ``nps_half_life_days``);
    sentiment = 50 + w × (raw − 50): a stale answer fades towards neutral.
    Needs ``month_end`` (date) beside the inputs.
    """
    age = (pl.col("month_end") - pl.col("nps_date")).dt.total_days().cast(pl.Float64)
    trend = (
        ((pl.col("nps_score") - pl.col("nps_previous")).cast(pl.Float64) * NPS_TREND_POINTS)
        .clip(-NPS_TREND_CAP, NPS_TREND_CAP)
        .fill_null(0.0)
    )
    raw = (pl.col("nps_score").cast(pl.Float64) * 10.0 + trend).clip(0.0, 100.0)
    weight = 0.5 ** (pl.col("nps_age_days") / config.nps_half_life_days)
    out = frame.with_columns(nps_age_days=age, nps_trend_points=trend)
    out = out.with_columns(nps_staleness_weight=weight)
    return out.with_columns(
        sentiment=pl.when(pl.col("nps_score").is_not_null())
        .then(50.0 + pl.col("nps_staleness_weight") * (raw - 50.0))
        .otherwise(None)
    )


def support_pillar(frame: pl.DataFrame, config: HealthConfig) -> pl.DataFrame:
    """Add ``weighted_tickets``, ``tickets_per_seat``, ``peer_ratio`` and ``support``.

    weighted = Σ tickets × severity weight over the window; rate = weighted ÷ licensed seats
    (÷ 1 account when seats are unknown, compared with peers on the same basis); peer ratio =
    rate ÷ mean rate of the account's segment that month (0 when the peers have no tickets);
    volume = 100 × 2 ^ (−ratio ÷ 2); support = max(volume − 10 × aged open tickets (at most 30), 0).
    Needs ``segment`` and ``licensed_seats`` (may be null) beside the inputs; rows whose
    ``tickets`` is null are account-months without tickets.
    """
    w = config.severity_weights
    counts = {
        level: pl.col(f"tickets_{level}").fill_null(0).cast(pl.Float64)
        for level in ("low", "medium", "high", "urgent")
    }
    weighted = (
        counts["low"] * w.low
        + counts["medium"] * w.medium
        + counts["high"] * w.high
        + counts["urgent"] * w.urgent
    )
    seats = pl.col("licensed_seats").cast(pl.Float64)
    out = frame.with_columns(
        tickets=pl.col("tickets").fill_null(0),
        aged_open_tickets=pl.col("aged_open_tickets").fill_null(0),
        weighted_tickets=weighted,
        _per_seat=pl.when(seats > 0).then(weighted / seats).otherwise(None),
    )
    out = out.with_columns(tickets_per_seat=pl.col("_per_seat"))
    group = ["month_idx", "segment"]
    out = out.with_columns(
        _peer_seat=pl.col("_per_seat").mean().over(group),
        _peer_account=pl.col("weighted_tickets").mean().over(group),
    )
    ratio = (
        pl.when(pl.col("_per_seat").is_not_null())
        .then(
            pl.when(pl.col("_peer_seat") > 0)
            .then(pl.col("_per_seat") / pl.col("_peer_seat"))
            .otherwise(0.0)
        )
        .otherwise(
            pl.when(pl.col("_peer_account") > 0)
            .then(pl.col("weighted_tickets") / pl.col("_peer_account"))
            .otherwise(0.0)
        )
    )
    out = out.with_columns(peer_ratio=ratio)
    volume = 100.0 * (2.0 ** (-pl.col("peer_ratio") / SUPPORT_HALVING_RATIO))
    penalty = (pl.col("aged_open_tickets").cast(pl.Float64) * AGED_TICKET_PENALTY).clip(
        upper_bound=AGED_TICKET_PENALTY_CAP
    )
    return out.with_columns(
        support_volume_score=volume,
        support=(volume - penalty).clip(lower_bound=0.0),
    ).drop("_per_seat", "_peer_seat", "_peer_account")
