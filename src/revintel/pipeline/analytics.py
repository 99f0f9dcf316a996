"""Pipeline analytics as Ibis expressions (``docs/pipeline.md``, Pipeline analytics).

Every function takes Ibis tables and returns an Ibis expression, so the same query runs on DuckDB,
PostgreSQL and PySpark (``tests/backends/test_pipeline_analytics.py``). Dates are compared as
dates; booleans are summed through ``ibis.cases`` (PostgreSQL cannot sum a boolean).

Definitions (the doc states each one):

- *open* deal: current stage not Closed Won / Closed Lost; *closed*: one of those two.
- *age* of an open deal: days from ``created_date`` to the as-of date.
- *weighted amount*: amount × the stage probability of the deal's current stage.
- *conversion to the next stage* of stage *s*: deals that reached the next open stage (or, for
  the last open stage, were won) ÷ deals that reached *s* and are no longer in it ("reached" as
  in :mod:`revintel.pipeline.stages`: a skipped stage counts as reached).
- *days in stage*: days from a deal's first entry into *s* to the next first entry into another
  stage; deals still in *s* are not counted (their stay is not over).
- *win rate by count*: won ÷ closed; *by amount*: won amount ÷ closed amount.
- *sales cycle*: days from ``created_date`` to ``closed_date`` of a won deal.
- *slipped* deal: one whose expected close date moved later at least once in its history.
- *coverage* of a month: open pipeline whose expected close date falls in that month ÷ the month's
  target (``targets`` in the pipeline settings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from revintel.pipeline.stages import CLOSED_STAGES, OPEN_STAGES, WON_STAGE, furthest_open_stage

if TYPE_CHECKING:
    import ibis
    import polars as pl

NONE_LABEL = "(none)"
"""The group of deals whose dimension is blank (no competitor, no lead source, …)."""
DIMENSIONS: tuple[str, ...] = ("segment", "owner", "lead_source", "deal_type", "competitor")
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30 days", 0, 30),
    ("31-60 days", 31, 60),
    ("61-90 days", 61, 90),
    ("91-180 days", 91, 180),
    ("over 180 days", 181, None),
)


@dataclass(frozen=True)
class DealFilter:
    """Which deals an analytic looks at (the CLI's ``--owner --segment --stage --from --to``).

    ``created_from`` / ``created_to`` bound ``created_date`` (inclusive).
    """

    owner: str | None = None
    segment: str | None = None
    stage: str | None = None
    created_from: date | None = None
    created_to: date | None = None

    def apply(self, deals: ibis.Table) -> ibis.Table:
        d = deals
        if self.owner is not None:
            d = d.filter(d.owner == self.owner)
        if self.segment is not None:
            d = d.filter(d.segment == self.segment)
        if self.stage is not None:
            d = d.filter(d.stage == self.stage)
        if self.created_from is not None:
            d = d.filter(d.created_date >= self.created_from)
        if self.created_to is not None:
            d = d.filter(d.created_date <= self.created_to)
        return d

    def apply_frame(self, deals: pl.DataFrame) -> pl.DataFrame:
        """:meth:`apply` on a polars frame of deals (the deal-health frame)."""
        import polars as pl

        d = deals
        for column, value in (("owner", self.owner), ("segment", self.segment)):
            if value is not None:
                d = d.filter(pl.col(column) == value)
        if self.stage is not None:
            d = d.filter(pl.col("stage") == self.stage)
        if self.created_from is not None:
            d = d.filter(pl.col("created_date") >= self.created_from)
        if self.created_to is not None:
            d = d.filter(pl.col("created_date") <= self.created_to)
        return d

    def as_dict(self) -> dict[str, str | None]:
        return {
            "owner": self.owner,
            "segment": self.segment,
            "stage": self.stage,
            "from": None if self.created_from is None else self.created_from.isoformat(),
            "to": None if self.created_to is None else self.created_to.isoformat(),
        }


def _flag(cond: ibis.BooleanValue) -> ibis.IntegerValue:
    import ibis

    return ibis.cases((cond, 1), else_=0)


def open_deals(deals: ibis.Table) -> ibis.Table:
    return deals.filter(~deals.stage.isin(CLOSED_STAGES))


def closed_deals(deals: ibis.Table) -> ibis.Table:
    return deals.filter(deals.stage.isin(CLOSED_STAGES))


def stage_probability(stage: ibis.Value, probabilities: Mapping[str, float]) -> ibis.Value:
    """The probability of ``stage`` from ``probabilities`` (0 for a stage not listed)."""
    import ibis

    cases = [(stage == s, float(p)) for s, p in probabilities.items()]
    if not cases:
        return ibis.literal(0.0)
    return ibis.cases(*cases, else_=0.0)


def days_between(start: ibis.Value, end: ibis.Value) -> ibis.IntegerValue:
    """Whole days from ``start`` to ``end`` (dates or timestamps; negative when end is earlier)."""
    return end.cast("date").delta(start.cast("date"), unit="day")


# -- by stage -------------------------------------------------------------------------------------
def open_by_stage(
    deals: ibis.Table, probabilities: Mapping[str, float], *, as_of: date
) -> ibis.Table:
    """Per open stage: ``deals``, ``amount``, ``weighted_amount``, ``avg_age_days``."""
    import ibis

    d = open_deals(deals)
    d = d.mutate(
        _p=stage_probability(d.stage, probabilities),
        _age=days_between(d.created_date, ibis.literal(as_of)),
        _amount=d.amount.coalesce(0.0),
    )
    return d.group_by("stage").aggregate(
        deals=d.deal_id.count(),
        amount=d._amount.sum(),
        weighted_amount=(d._amount * d._p).sum(),
        avg_age_days=d._age.cast("float64").mean(),
    )


def stage_conversion_wide(deals: ibis.Table, history: ibis.Table) -> ibis.Table:
    """One row: for each open stage *i* (by rank), ``reached_i``, ``decided_i`` (reached it and
    no longer in it: moved on or closed) and ``advanced_i`` (reached the next open stage, or won
    from the last one). One pass over the deals, no join per stage; :func:`conversion_rows` turns
    it into one row per stage. A deal still open in the stage it reached furthest has not had its
    chance yet, so it is not among the decided."""
    import ibis

    reach = furthest_open_stage(history.filter(history.deal_id.isin(deals.deal_id)))
    outcome = deals.select(
        "deal_id",
        is_won=_flag(deals.stage == WON_STAGE),
        is_open=_flag(~deals.stage.isin(CLOSED_STAGES)),
    )
    r = reach.join(outcome, "deal_id")
    # A won deal went through every stage after its furthest recorded one.
    top = len(OPEN_STAGES) - 1
    rank = ibis.cases((r.is_won == 1, top + 1), else_=r.furthest_rank)
    metrics: dict[str, ibis.Value] = {}
    for i in range(len(OPEN_STAGES)):
        still_there = (r.is_open == 1) & (rank == i)
        metrics[f"reached_{i}"] = _flag(rank >= i).sum()
        metrics[f"decided_{i}"] = _flag((rank >= i) & ~still_there).sum()
        metrics[f"advanced_{i}"] = _flag(rank > i).sum()
    return r.aggregate(**metrics)


def conversion_rows(wide: dict[str, int | None]) -> list[dict[str, object]]:
    """Per open stage: ``stage``, ``reached``, ``decided``, ``advanced`` and ``conversion`` =
    advanced ÷ decided (None when none is decided), from :func:`stage_conversion_wide`'s row."""
    out: list[dict[str, object]] = []
    for i, stage in enumerate(OPEN_STAGES):
        reached = int(wide.get(f"reached_{i}") or 0)
        decided = int(wide.get(f"decided_{i}") or 0)
        advanced = int(wide.get(f"advanced_{i}") or 0)
        out.append(
            {
                "stage": stage,
                "reached": reached,
                "decided": decided,
                "advanced": advanced,
                "conversion": advanced / decided if decided else None,
            }
        )
    return out


def stage_entries(history: ibis.Table) -> ibis.Table:
    """``deal_id``, ``stage``, ``entered``, ``left``: each deal's first entry into each stage and
    the next first entry into another stage after it (null while it is still there)."""
    import ibis

    first = history.group_by(["deal_id", "stage"]).aggregate(
        entered=history.entered_at.cast("date").min()
    )
    w = ibis.window(group_by="deal_id", order_by=[first.entered, first.stage])
    return first.mutate(left=first.entered.lead().over(w))


def days_in_stage(deals: ibis.Table, history: ibis.Table) -> ibis.Table:
    """Per open stage: ``median_days_in_stage`` and ``stays`` (completed stays counted)."""
    e = stage_entries(history.filter(history.deal_id.isin(deals.deal_id)))
    e = e.filter(e.stage.isin(OPEN_STAGES) & e.left.notnull())
    e = e.mutate(days=days_between(e.entered, e.left).cast("float64"))
    return e.group_by("stage").aggregate(
        median_days_in_stage=e.days.median(), stays=e.deal_id.count()
    )


# -- created, win rates, size, cycle --------------------------------------------------------------
def month_label(day: ibis.Value) -> ibis.StringValue:
    """``YYYY-MM`` of a date, built from its parts (the same text on every backend)."""
    import ibis

    d = day.cast("date")
    year = d.year().cast("string")
    month = d.month()
    padded = ibis.cases((month < 10, "0" + month.cast("string")), else_=month.cast("string"))
    return year + "-" + padded


def quarter_label(day: ibis.Value) -> ibis.StringValue:
    """``YYYY-Qn`` of a date."""
    d = day.cast("date")
    q = ((d.month() - 1) // 3 + 1).cast("int64")
    return d.year().cast("string") + "-Q" + q.cast("string")


def created_per_month(deals: ibis.Table) -> ibis.Table:
    """Per month of ``created_date``: ``deals`` created and their ``amount``."""
    d = deals.mutate(month=month_label(deals.created_date))
    return d.group_by("month").aggregate(deals=d.deal_id.count(), amount=d.amount.sum())


def dimension_value(deals: ibis.Table, dimension: str) -> ibis.StringValue:
    """``dimension`` as text, blank or missing shown as :data:`NONE_LABEL`."""
    import ibis

    col = deals[dimension].cast("string")
    return ibis.cases((col.isnull() | (col.strip() == ""), NONE_LABEL), else_=col)


def win_rates(deals: ibis.Table, dimension: str | None) -> ibis.Table:
    """Per value of ``dimension`` (one row for all deals when None), over closed deals:
    ``closed``, ``won``, ``win_rate``, ``closed_amount``, ``won_amount``, ``win_rate_amount``."""
    import ibis

    d = closed_deals(deals)
    d = d.mutate(
        value=ibis.literal("all") if dimension is None else dimension_value(d, dimension),
        _won=_flag(d.stage == WON_STAGE),
        _amount=d.amount.coalesce(0.0),
    )
    agg = d.group_by("value").aggregate(
        closed=d.deal_id.count(),
        won=d._won.sum(),
        closed_amount=d._amount.sum(),
        won_amount=(d._amount * d._won).sum(),
    )
    return agg.mutate(
        win_rate=agg.won.cast("float64") / agg.closed,
        win_rate_amount=ibis.cases(
            (agg.closed_amount > 0, agg.won_amount / agg.closed_amount), else_=None
        ),
    )


def won_summary(deals: ibis.Table) -> ibis.Table:
    """One row over won deals: ``won_deals``, ``won_amount``, ``avg_deal_size``,
    ``median_deal_size``, ``avg_cycle_days``, ``median_cycle_days``."""
    w = deals.filter((deals.stage == WON_STAGE) & deals.closed_date.notnull())
    w = w.mutate(_cycle=days_between(w.created_date, w.closed_date).cast("float64"))
    return w.aggregate(
        won_deals=w.deal_id.count(),
        won_amount=w.amount.sum(),
        avg_deal_size=w.amount.mean(),
        median_deal_size=w.amount.median(),
        avg_cycle_days=w._cycle.mean(),
        median_cycle_days=w._cycle.median(),
    )


def won_per_month(deals: ibis.Table) -> ibis.Table:
    """Per month of ``closed_date``: won ``deals``, ``amount`` and ``avg_cycle_days``."""
    w = deals.filter((deals.stage == WON_STAGE) & deals.closed_date.notnull())
    w = w.mutate(
        month=month_label(w.closed_date),
        _cycle=days_between(w.created_date, w.closed_date).cast("float64"),
    )
    return w.group_by("month").aggregate(
        deals=w.deal_id.count(), amount=w.amount.sum(), avg_cycle_days=w._cycle.mean()
    )


# -- slipped and aging ----------------------------------------------------------------------------
def slipped_deals(deals: ibis.Table, history: ibis.Table) -> ibis.Table:
    """Deals whose expected close date moved later: ``deal_id``, ``pushes`` (times it moved
    later), ``days_pushed`` (total days added), ``first_expected_close``, ``last_expected_close``.

    Reads ``expected_close_date`` of the history rows in date order; a deal with one expected close
    date throughout is not listed.
    """
    import ibis

    h = history.filter(history.expected_close_date.notnull() & history.deal_id.isin(deals.deal_id))
    w = ibis.window(group_by="deal_id", order_by=[h.entered_at, h.expected_close_date])
    h = h.mutate(
        _ecd=h.expected_close_date.cast("date"),
        _prev=h.expected_close_date.cast("date").lag().over(w),
    )
    moved = h.mutate(
        _push=ibis.cases(
            (h._prev.notnull() & (h._ecd > h._prev), days_between(h._prev, h._ecd)), else_=0
        )
    )
    agg = moved.group_by("deal_id").aggregate(
        pushes=_flag(moved._push > 0).sum(),
        days_pushed=moved._push.sum(),
        first_expected_close=moved._ecd.min(),
        last_expected_close=moved._ecd.max(),
    )
    return agg.filter(agg.pushes > 0)


def aging(deals: ibis.Table, *, as_of: date) -> ibis.Table:
    """Open deals by age bucket: ``bucket``, ``order``, ``deals``, ``amount``, ``past_close``
    (deals in the bucket already past their expected close date)."""
    import ibis

    d = open_deals(deals)
    age = days_between(d.created_date, ibis.literal(as_of))
    cases = []
    for i, (_label, low, high) in enumerate(AGE_BUCKETS):
        cond = age >= low if high is None else (age >= low) & (age <= high)
        cases.append((cond, i))
    d = d.mutate(
        order=ibis.cases(*cases, else_=0),
        _past=_flag(d.expected_close_date.notnull() & (d.expected_close_date < as_of)),
    )
    agg = d.group_by("order").aggregate(
        deals=d.deal_id.count(), amount=d.amount.sum(), past_close=d._past.sum()
    )
    labels = ibis.cases(*[(agg.order == i, b[0]) for i, b in enumerate(AGE_BUCKETS)])
    return agg.mutate(bucket=labels)


# -- coverage and the 90-day weighted forecast ----------------------------------------------------
def open_by_close_month(
    deals: ibis.Table, probabilities: Mapping[str, float], months: Sequence[str]
) -> ibis.Table:
    """Per month (``YYYY-MM``) of ``expected_close_date`` among ``months``: open ``pipeline``
    and ``weighted`` (× stage probability)."""
    d = open_deals(deals)
    d = d.filter(d.expected_close_date.notnull())
    d = d.mutate(
        month=month_label(d.expected_close_date),
        _p=stage_probability(d.stage, probabilities),
        _amount=d.amount.coalesce(0.0),
    )
    d = d.filter(d.month.isin(list(months)))
    return d.group_by("month").aggregate(
        deals=d.deal_id.count(), pipeline=d._amount.sum(), weighted=(d._amount * d._p).sum()
    )


def weighted_forecast(
    deals: ibis.Table, probabilities: Mapping[str, float], *, as_of: date, days: int = 90
) -> ibis.Table:
    """One row: ``deals``, ``pipeline`` and ``weighted`` over open deals expected to close within
    ``days`` of ``as_of`` (``expected_close_date`` ≤ as_of + days, so deals already past their
    expected close, still open, count: they are expected to close soon)."""
    end = as_of + timedelta(days=days)
    d = open_deals(deals)
    d = d.filter(d.expected_close_date.notnull() & (d.expected_close_date <= end))
    d = d.mutate(_p=stage_probability(d.stage, probabilities), _amount=d.amount.coalesce(0.0))
    return d.aggregate(
        deals=d.deal_id.count(), pipeline=d._amount.sum(), weighted=(d._amount * d._p).sum()
    )


def open_totals(deals: ibis.Table, *, as_of: date) -> ibis.Table:
    """One row over open deals: ``deals``, ``pipeline``, ``past_close`` (past their expected
    close date)."""
    d = open_deals(deals)
    return d.aggregate(
        deals=d.deal_id.count(),
        pipeline=d.amount.coalesce(0.0).sum(),
        past_close=_flag(d.expected_close_date.notnull() & (d.expected_close_date < as_of)).sum(),
    )
