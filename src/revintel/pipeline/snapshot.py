"""The point-in-time pipeline: every deal open on a date, as it stood on that date.

Definition (``docs/pipeline.md``, Point-in-time pipeline). A deal is open on day *D* when it was
created on or before *D*, has no ``Closed Won`` / ``Closed Lost`` history row dated on or before
*D*, and its ``closed_date`` is blank or after *D*. Its stage, amount, expected close date and
forecast category are those of its latest ``deal_stage_history`` row dated on or before *D* that
carries the value (a history row is a change); nothing dated after *D* is read. When the history
has no expected close date for a deal, the expected close is *estimated* (``expected_close_source
= 'estimated'``): the date it entered its stage plus the median days from entering that stage to
closing among deals closed on or before *D*, and no earlier than *D* + 1. On the data's own date
(``as_of`` ≥ the date the data is as of) the deals table's current values fill what the history
lacks, as they are what is known that day.

Every function here returns an Ibis expression (DuckDB, PostgreSQL, PySpark).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from revintel.pipeline.frames import DealTables, MissingDealData
from revintel.pipeline.stages import CLOSED_STAGES, OPEN_STAGES, stage_rank

if TYPE_CHECKING:
    import ibis

STATIC_COLUMNS: tuple[str, ...] = (
    "owner",
    "deal_type",
    "segment",
    "competitor",
    "lead_source",
    "has_champion",
    "budget_confirmed",
    "decision_maker_engaged",
    "account_name",
    "product",
)
"""Deal attributes the history does not track: read from ``deals`` as they are (see the docs for
what this means for the qualification flags)."""


def _latest(h: ibis.Table, column: str) -> ibis.Table:
    """``deal_id`` and the latest non-null ``column`` of each deal in ``h``."""
    import ibis

    rows = h.filter(h[column].notnull())
    ranked = rows.mutate(
        _rn=ibis.row_number().over(
            group_by="deal_id", order_by=[ibis.desc("entered_at"), ibis.desc("_rank")]
        )
    )
    return ranked.filter(ranked._rn == 0).select("deal_id", column)


def history_as_of(history: ibis.Table, as_of: date) -> ibis.Table:
    """The history rows dated on or before ``as_of`` with ``entered_at`` as a date and a rank."""
    h = history.mutate(entered_at=history.entered_at.cast("date"))
    h = h.filter(h.entered_at <= as_of)
    return h.mutate(_rank=stage_rank(h.stage))


def stage_close_days(deals: ibis.Table, history: ibis.Table, as_of: date) -> ibis.Table:
    """``stage``, ``median_days_to_close``: days from entering each open stage to the close, over
    deals closed on or before ``as_of``."""
    d = deals.filter(deals.closed_date.notnull() & (deals.closed_date.cast("date") <= as_of))
    h = history_as_of(history, as_of)
    h = h.filter(h.stage.isin(OPEN_STAGES))
    first = h.group_by(["deal_id", "stage"]).aggregate(entered=h.entered_at.min())
    j = first.join(d.select("deal_id", closed=d.closed_date.cast("date")), "deal_id")
    days = j.closed.delta(j.entered, unit="day")
    j = j.mutate(days=days)
    return j.group_by("stage").aggregate(median_days_to_close=j.days.median())


def snapshot(tables: DealTables, as_of: date, *, current: bool = False) -> ibis.Table:
    """Every deal open on ``as_of`` as it stood that day.

    Columns: ``deal_id``, ``stage``, ``stage_entered``, ``amount``, ``first_amount``,
    ``expected_close_date``, ``expected_close_source`` (history / current / estimated),
    ``forecast_category``, ``created_date``, ``age_days``, ``days_in_stage``, ``close_pushes``
    (times the expected close moved later), the :data:`STATIC_COLUMNS` present, ``as_of``.
    ``current`` says ``as_of`` is the data's own date (the deals table's values may then fill gaps).
    Without a history only the current pipeline can be built (:class:`MissingDealData` otherwise).
    """
    import ibis

    deals = tables.deals
    static = [c for c in STATIC_COLUMNS if c in deals.columns]
    if tables.history is None:
        if not current:
            raise MissingDealData(
                "a pipeline as of a past date needs the deal_stage_history table; it is not loaded"
            )
        return _current_without_history(deals, as_of, static)

    history = tables.history
    h = history_as_of(history, as_of)
    d = deals.filter(deals.created_date.cast("date") <= as_of)
    d = d.filter(d.closed_date.isnull() | (d.closed_date.cast("date") > as_of))
    closed_by = h.filter(h.stage.isin(CLOSED_STAGES)).select("deal_id").distinct()
    d = d.anti_join(closed_by, "deal_id")

    stage = _latest(h, "stage")
    entered = h.group_by(["deal_id", "stage"]).aggregate(stage_entered=h.entered_at.min())
    stage = stage.join(entered, ["deal_id", "stage"])
    first_amount = h.filter(h.amount.notnull()).mutate(
        _rn=ibis.row_number().over(group_by="deal_id", order_by=["entered_at", "_rank"])
    )
    first_amount = first_amount.filter(first_amount._rn == 0).select(
        "deal_id", first_amount=first_amount.amount
    )
    out = d.select("deal_id", "created_date", *static, _deal_amount=d.amount)
    out = out.join(stage, "deal_id", how="inner")
    out = out.left_join(_latest(h, "amount"), "deal_id").drop("deal_id_right")
    out = out.left_join(first_amount, "deal_id").drop("deal_id_right")

    has_close = "expected_close_date" in history.columns
    has_category = "forecast_category" in history.columns
    if has_close:
        ec = _latest(h, "expected_close_date").rename(_hist_close="expected_close_date")
        out = out.left_join(ec, "deal_id").drop("deal_id_right")
        pushes = _close_pushes(h)
        out = out.left_join(pushes, "deal_id").drop("deal_id_right")
        hist_close = out._hist_close.cast("date")
        pushes_col = out.close_pushes.coalesce(0)
    else:
        hist_close = ibis.null("date")
        pushes_col = ibis.literal(0)
    if has_category:
        fc = _latest(h, "forecast_category").rename(_hist_cat="forecast_category")
        out = out.left_join(fc, "deal_id").drop("deal_id_right")
        hist_cat = out._hist_cat
    else:
        hist_cat = ibis.null("string")

    medians = stage_close_days(deals, history, as_of)
    out = out.left_join(medians, "stage").drop("stage_right")
    floor = ibis.date(as_of + timedelta(days=1))
    est = out.stage_entered + out.median_days_to_close.coalesce(30).round().cast(
        "int64"
    ).as_interval("D")
    est = ibis.greatest(est.cast("date"), floor)
    if current and "expected_close_date" in deals.columns:
        cur = deals.select("deal_id", _cur_close=deals.expected_close_date.cast("date"))
        out = out.left_join(cur, "deal_id").drop("deal_id_right")
        current_close = out._cur_close
    else:
        current_close = ibis.null("date")
    if current and "forecast_category" in deals.columns:
        cur_cat = deals.select("deal_id", _cur_cat=deals.forecast_category)
        out = out.left_join(cur_cat, "deal_id").drop("deal_id_right")
        hist_cat = hist_cat.coalesce(out._cur_cat)

    expected = hist_close.coalesce(current_close, est)
    source = ibis.cases(
        (hist_close.notnull(), "history"),
        (current_close.notnull(), "current"),
        else_="estimated",
    )
    amount = out.amount.coalesce(out._deal_amount)
    result = out.select(
        "deal_id",
        "stage",
        "stage_entered",
        amount=amount.cast("float64"),
        first_amount=out.first_amount.coalesce(amount).cast("float64"),
        expected_close_date=expected.cast("date"),
        expected_close_source=source,
        forecast_category=hist_cat.cast("string"),
        created_date=out.created_date.cast("date"),
        age_days=ibis.date(as_of).delta(out.created_date.cast("date"), unit="day"),
        days_in_stage=ibis.date(as_of).delta(out.stage_entered, unit="day"),
        close_pushes=pushes_col.cast("int64"),
        as_of=ibis.date(as_of),
        **{c: out[c] for c in static},
    )
    return result.filter(result.stage.isin(OPEN_STAGES))


def _close_pushes(h: ibis.Table) -> ibis.Table:
    """``deal_id``, ``close_pushes``: how many times each deal's expected close moved later."""
    import ibis

    rows = h.filter(h.expected_close_date.notnull())
    w = ibis.window(group_by="deal_id", order_by=["entered_at", "_rank"])
    rows = rows.mutate(_prev=rows.expected_close_date.lag().over(w))
    later = ibis.cases((rows._prev.notnull() & (rows.expected_close_date > rows._prev), 1), else_=0)
    rows = rows.mutate(_later=later)
    return rows.group_by("deal_id").aggregate(close_pushes=rows._later.sum())


def _current_without_history(deals: ibis.Table, as_of: date, static: list[str]) -> ibis.Table:
    import ibis

    d = deals.filter(deals.stage.isin(OPEN_STAGES))
    cat = d.forecast_category if "forecast_category" in d.columns else ibis.null("string")
    close = (
        d.expected_close_date.cast("date")
        if "expected_close_date" in d.columns
        else ibis.null("date")
    )
    return d.select(
        "deal_id",
        "stage",
        stage_entered=d.created_date.cast("date"),
        amount=d.amount.cast("float64"),
        first_amount=d.amount.cast("float64"),
        expected_close_date=close.coalesce(ibis.date(as_of + timedelta(days=30))),
        expected_close_source=ibis.cases((close.notnull(), "current"), else_="estimated"),
        forecast_category=cat.cast("string"),
        created_date=d.created_date.cast("date"),
        age_days=ibis.date(as_of).delta(d.created_date.cast("date"), unit="day"),
        days_in_stage=ibis.date(as_of).delta(d.created_date.cast("date"), unit="day"),
        close_pushes=ibis.literal(0).cast("int64"),
        as_of=ibis.date(as_of),
        **{c: d[c] for c in static},
    )


def won_between(deals: ibis.Table, start: date, end: date) -> ibis.Table:
    """Deals won with ``start`` < closed_date ≤ ``end`` (the actual bookings of a window)."""
    from revintel.pipeline.stages import WON_STAGE

    c = deals.closed_date.cast("date")
    return deals.filter((deals.stage == WON_STAGE) & (c > start) & (c <= end))


def activity_features(activities: ibis.Table, as_of: date) -> ibis.Table:
    """``deal_id``, ``activities_30d`` (activities in the 30 days up to ``as_of``) and
    ``days_since_activity`` (days from the last activity on or before ``as_of``)."""
    import ibis

    a = activities.mutate(_day=activities.activity_at.cast("date"))
    a = a.filter(a._day <= as_of)
    start = as_of - timedelta(days=30)
    agg = a.group_by("deal_id").aggregate(
        activities_30d=ibis.cases((a._day > start, 1), else_=0).sum(),
        _last=a._day.max(),
    )
    return agg.select(
        "deal_id",
        activities_30d=agg.activities_30d.cast("int64"),
        days_since_activity=ibis.date(as_of).delta(agg._last, unit="day"),
    )


def with_activity(snap: ibis.Table, tables: DealTables, as_of: date) -> ibis.Table:
    """``snap`` with :func:`activity_features` (null when no activities are loaded)."""
    import ibis

    if tables.activities is None:
        return snap.mutate(
            activities_30d=ibis.null("int64"), days_since_activity=ibis.null("int64")
        )
    feats = activity_features(tables.activities, as_of)
    out = snap.left_join(feats, "deal_id").drop("deal_id_right")
    return out.mutate(activities_30d=out.activities_30d.coalesce(0))
