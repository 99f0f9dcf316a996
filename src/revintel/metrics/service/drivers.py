"""Monthly MRR and revenue rows with the parts the anomaly detector judges them by."""

from __future__ import annotations

__all__ = ["rows_with_drivers"]

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from revintel.metrics.drivers import collections, movement_spread, trials_ending
from revintel.metrics.options import with_dimension
from revintel.metrics.service.finance import revenue
from revintel.metrics.service.query import (
    MetricQuery,
    Row,
    delinquency_days,
    period,
    warehouse_of,
)
from revintel.metrics.service.recurring import mrr_movements
from revintel.metrics.service.scope import remember, service
from revintel.metrics.service.tables import changes, customers_if_needed, filters_key, records

if TYPE_CHECKING:
    import ibis

    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse


@service
def rows_with_drivers(
    source: Runtime | Warehouse,
    series: Literal["mrr", "revenue"],
    query: MetricQuery = MetricQuery(),
) -> list[Row]:
    """The monthly rows of ``series`` with the columns its drivers add
    (:mod:`revintel.metrics.drivers`), for the statistical anomaly detector.

    MRR rows (:func:`mrr_movements`) gain ``SPREAD_COLUMNS`` and, when trials are loaded,
    ``trials_ending``; revenue rows (:func:`revenue`) gain ``COLLECTION_COLUMNS`` when payments
    carry ``invoice_id``. Rows over the whole data period up to ``query.end``, with its filters
    (a ``plan`` filter keeps the rows without the trial and payment drivers: payments and trials
    are not attached to a plan the way subscriptions are). Other options are not read.
    """
    wh = warehouse_of(source)
    asked = MetricQuery(end=query.end, filters=query.filters)
    p = period(wh, asked)
    _, checked = asked.checked(wh)

    def compute() -> list[Row]:
        customers = customers_if_needed(wh, None, checked)
        months = {"from_month": p.from_month, "to_month": p.to_month}
        if series == "revenue":
            rows = revenue(wh, asked)
            if "plan" in checked:
                return rows
            payments = with_dimension(
                wh.table("payments"), customers, by=None, filters=checked, what="payments"
            )
            return _merged(rows, [collections(payments, **months)])
        rows = mrr_movements(wh, asked)
        base = changes(wh, None, checked, delinquency_days(wh, None))
        extra = [movement_spread(base, **months)]
        if wh.has_table("trials") and "plan" not in checked:
            trials = with_dimension(wh.table("trials"), customers, by=None, filters=checked)
            extra.append(trials_ending(trials, **months))
        return _merged(rows, extra)

    return remember(wh, ("drivers", series, p.last, filters_key(checked)), compute)


def _merged(rows: list[Row], tables: Sequence[ibis.Table | None]) -> list[Row]:
    """``rows`` with the columns of ``tables`` (one row per month each) added by month."""
    by_month: dict[str, Row] = {}
    for table in tables:
        if table is None:
            continue
        for row in records(table):
            by_month.setdefault(str(row["month"]), {}).update(row)
    return [{**row, **by_month.get(str(row["month"]), {}), "month": row["month"]} for row in rows]
