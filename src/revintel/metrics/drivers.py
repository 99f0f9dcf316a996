"""What drives MRR and cash revenue each month: the inputs of the decomposed anomaly detector.

The statistical anomaly detector (``revintel.forecast.drivers``) judges a month by its causes
rather than by the headline number alone:

* **MRR** is last month's MRR plus five movements (``docs/metrics.md``, MRR movements). Each
  movement is a sum over customers, so besides its amount and customer count
  (:func:`~revintel.metrics.movements.mrr_movements`) the detector needs the spread of the
  individual amounts: :func:`movement_spread` gives, per month and kind, the sum of the squared
  per-customer amounts.
* **Revenue** (successful payments dated in the month) is what was invoiced and collected.
  :func:`collections` gives, per month, the invoices whose first attempt falls in the month
  (count and amount) and how many of those first attempts failed. Retries of one invoice share
  its ``invoice_id``; a payment without one is its own invoice.

Both are portable Ibis expressions (DuckDB, PostgreSQL, PySpark).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from revintel.metrics.months import check_range, month_of, month_text
from revintel.metrics.movements import MONEY_FLOWS, classify_changes
from revintel.metrics.options import Filters, check_filters, dimension_columns, with_dimension
from revintel.metrics.ratios import from_micros
from revintel.metrics.timeline import month_first

if TYPE_CHECKING:
    from revintel.context import AppContext
    from revintel.metrics.service import Record
    from revintel.warehouse import Warehouse

SPREAD_COLUMNS = (
    *(f"{kind}_sq" for kind in MONEY_FLOWS),
    *(f"{kind}_max" for kind in MONEY_FLOWS),
)
"""``new_sq``, ``expansion_sq``, ...: sum over customers of the squared movement amount;
``new_max``, ...: the largest single customer's amount."""


def movement_spread(changes: ibis.Table, *, from_month: str, to_month: str) -> ibis.Table:
    """Per month, the sum of squared per-customer amounts of each MRR movement kind.

    Parameters
    ----------
    changes
        Output of :func:`~revintel.metrics.mrr.mrr_changes`; its breakdown column carries through.
    from_month, to_month
        ``"YYYY-MM"``; without a breakdown every month in between gets a row (zeros where nothing
        moved); with one, only months where something moved.

    Returns
    -------
    ibis.Table
        ``month``, the breakdown column, ``new_sq``, ``expansion_sq``, ``contraction_sq``,
        ``churn_sq``, ``reactivation_sq`` (currency squared, float) and ``new_max`` ...
        ``reactivation_max`` (the largest single customer's amount).
    """
    lo, hi = check_range(from_month, to_month)
    dims = dimension_columns(changes)
    flows = classify_changes(changes)
    flows = flows.filter((flows.month_idx >= lo) & (flows.month_idx <= hi))
    squares = flows.group_by([*dims, "month_idx"]).aggregate(
        **{f"{k}_sq": (from_micros(flows[k]) * from_micros(flows[k])).sum() for k in MONEY_FLOWS},
        **{f"{k}_max": from_micros(flows[k]).max() for k in MONEY_FLOWS},
    )
    return _on_spine(squares, lo, hi, SPREAD_COLUMNS, "float64", dims)


COLLECTION_COLUMNS = ("invoices", "invoiced", "failed_invoices", "failed_amount")


def collections(payments: ibis.Table, *, from_month: str, to_month: str) -> ibis.Table | None:
    """Per month, the invoices first attempted in the month and how many of those attempts failed.

    Parameters
    ----------
    payments
        The ``payments`` table; needs ``invoice_id`` (``None`` is returned without it). The first
        attempt of an invoice is its earliest ``payment_date`` (then lowest ``attempt``, when the
        column exists).
    from_month, to_month
        ``"YYYY-MM"``.

    Returns
    -------
    ibis.Table | None
        ``month``, ``invoices`` (count), ``invoiced`` (amount of their first attempts),
        ``failed_invoices`` and ``failed_amount`` (first attempts whose status is not
        ``Success``).
    """
    if "invoice_id" not in payments.columns:
        return None
    lo, hi = check_range(from_month, to_month)
    order = [payments.payment_date]
    if "attempt" in payments.columns:
        order.append(payments.attempt)
    order.append(payments.payment_id)
    invoice = ibis.coalesce(payments.invoice_id, payments.payment_id)
    ranked = payments.select(
        month_idx=month_of(payments.payment_date.cast("date")),
        amount=payments.amount.cast("float64"),
        failed=ibis.cases((payments.payment_status == "Success", 0), else_=1).cast("int64"),
        rank=ibis.row_number().over(ibis.window(group_by=invoice, order_by=order)),
    )
    first = ranked.filter(
        (ranked["rank"] == 0) & (ranked.month_idx >= lo) & (ranked.month_idx <= hi)
    )
    totals = first.group_by("month_idx").aggregate(
        invoices=first.count().cast("float64"),
        invoiced=first.amount.sum(),
        failed_invoices=first.failed.sum().cast("float64"),
        failed_amount=(first.amount * first.failed).sum(),
    )
    return _on_spine(totals, lo, hi, COLLECTION_COLUMNS, "float64")


def trials_ending(trials: ibis.Table, *, from_month: str, to_month: str) -> ibis.Table:
    """Per month, the trials whose last day falls in it: ``month``, ``trials_ending``."""
    lo, hi = check_range(from_month, to_month)
    dims = dimension_columns(trials)
    ends = trials.select(*dims, month_idx=month_of(trials.trial_end.cast("date")))
    ends = ends.filter((ends.month_idx >= lo) & (ends.month_idx <= hi))
    counts = ends.group_by([*dims, "month_idx"]).aggregate(
        trials_ending=ends.count().cast("float64")
    )
    return _on_spine(counts, lo, hi, ("trials_ending",), "float64", dims)


# -- service: the metric rows with their drivers ---------------------------------------------------
def rows_with_drivers(
    source: AppContext | Warehouse,
    series: str,
    *,
    end: str | None = None,
    filters: Filters | None = None,
) -> list[Record]:
    """The monthly rows of ``series`` (``mrr`` or ``revenue``) with the columns its drivers add.

    MRR rows (:func:`revintel.metrics.service.mrr_movements`) gain :data:`SPREAD_COLUMNS` and,
    when trials are loaded, ``trials_ending``; revenue rows
    (:func:`revintel.metrics.service.revenue`) gain :data:`COLLECTION_COLUMNS` when payments
    carry ``invoice_id``. Rows over the whole data period up to ``end``; the same filters (a
    ``plan`` filter keeps the rows without the trial and payment drivers: payments and trials are
    not attached to a plan the way subscriptions are).
    """
    from revintel.metrics import service as s

    def compute() -> list[Record]:
        wh = s._warehouse(source)
        p = s.period(wh, end=end)
        checked = check_filters(filters)
        customers = s._customers_if_needed(wh, None, checked)
        if series == "revenue":
            rows = s.revenue(wh, end=end, filters=filters)
            if "plan" in checked:
                return rows
            payments = with_dimension(
                wh.table("payments"), customers, by=None, filters=checked, what="payments"
            )
            return _merged(
                rows, [collections(payments, from_month=p.from_month, to_month=p.to_month)]
            )
        rows = s.mrr_movements(wh, end=end, filters=filters)
        changes = s._changes(wh, None, checked, s._delinquency_days(wh, None))
        extra = [movement_spread(changes, from_month=p.from_month, to_month=p.to_month)]
        if wh.has_table("trials") and "plan" not in checked:
            trials = with_dimension(wh.table("trials"), customers, by=None, filters=checked)
            extra.append(trials_ending(trials, from_month=p.from_month, to_month=p.to_month))
        return _merged(rows, extra)

    def remembered() -> list[Record]:
        wh = s._warehouse(source)
        last = s.period(wh, end=end).last
        key = ("drivers", series, last, s._filters_key(check_filters(filters)))
        return s._memo(wh, key, compute)

    return s._service(remembered)()


def _merged(rows: list[Record], tables: list[ibis.Table | None]) -> list[Record]:
    from revintel.metrics.service import _records

    by_month: dict[str, Record] = {}
    for table in tables:
        if table is None:
            continue
        for row in _records(table):
            by_month.setdefault(str(row["month"]), {}).update(row)
    return [{**row, **by_month.get(str(row["month"]), {}), "month": row["month"]} for row in rows]


def _on_spine(
    table: ibis.Table,
    lo: int,
    hi: int,
    columns: tuple[str, ...],
    dtype: str,
    dims: list[str] | None = None,
) -> ibis.Table:
    """One row per month ``lo``..``hi``: ``month`` and ``columns``, 0 where ``table`` has none.

    With breakdown ``dims`` the rows are only those of ``table``, with ``month`` for ``month_idx``.
    """
    from revintel.metrics.months import number_spine

    if dims:
        result = table.select(
            *dims, month=month_text(table.month_idx), **{c: table[c].cast(dtype) for c in columns}
        )
        return month_first(result).order_by([*dims, "month"])
    spine = number_spine(lo, hi).select("month_idx")
    joined = spine.left_join(table, spine.month_idx == table.month_idx)
    zero = ibis.literal(0, dtype)
    result = joined.select(
        month=month_text(joined.month_idx),
        **{c: ibis.coalesce(joined[c].cast(dtype), zero) for c in columns},
    )
    return month_first(result).order_by("month")
