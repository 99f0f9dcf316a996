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

Both are portable Ibis expressions (DuckDB, PostgreSQL, PySpark);
:func:`revintel.metrics.service.rows_with_drivers` adds them to the service's monthly rows.
"""

from __future__ import annotations

import ibis

from revintel.core.calendar import check_range, month_of, month_text
from revintel.metrics.movements import MONEY_FLOWS, classify_changes
from revintel.metrics.options import dimension_columns
from revintel.metrics.ratios import from_micros
from revintel.metrics.timeline import month_first

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
    from revintel.core.calendar import number_spine

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
