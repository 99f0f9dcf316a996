"""MRR per customer: the base every recurring-revenue metric is computed from.

Definitions (``docs/metrics.md``, Recurring revenue):

* a subscription counts in month M when ``start_date <= end of M`` and (``end_date`` is null or
  ``end_date > end of M``); ``monthly_price`` is already monthly (annual / 12 and so on);
* a recurring discount ``discount_pct`` reduces MRR while it applies: at the end of M it applies
  when ``discount_end_date`` is null or ``discount_end_date >= end of M`` (the discount covers
  the whole last day of the month). Its end is therefore an expansion in the first month whose
  end falls after ``discount_end_date``;
* a subscription with an invoice unpaid ``delinquency_days`` (default 30) days after its due date
  leaves MRR at the first month end on or after ``due_date + delinquency_days`` and returns at
  the first month end on or after the invoice's first successful payment (it stays in MRR while
  it is less than ``delinquency_days`` past due). Applied when payments carry
  ``subscription_id`` and ``due_date``; without them MRR comes from subscriptions alone.

Because a subscription is active in month M exactly when
``month(start_date) <= M < month(end_date)``, a customer's MRR is a step function of the month
that changes only at a few *change months*. :func:`mrr_changes` computes one row per customer and
change month (about three per customer instead of one per customer-month), which keeps the whole
metric suite to a few cheap scans even at millions of customers. :func:`customer_mrr` is the
literal definition (subscriptions joined to the month spine); the tests check the two agree.
"""

from __future__ import annotations

import ibis

from revintel.core.calendar import (
    OPEN_END,
    check_range,
    month_after_day,
    month_of,
    number_spine,
)
from revintel.metrics.options import (
    Dimension,
    Filters,
    InvalidMetricOption,
    check_dimension,
    check_filters,
    dimension_columns,
    require_columns,
    with_dimension,
)
from revintel.metrics.ratios import to_micros

DEFAULT_DELINQUENCY_DAYS = 30


def _subscription_terms(subs: ibis.Table, dims: list[str]) -> ibis.Table:
    """Per subscription: its active months ``[s, e)``, its MRR with and without the discount.

    ``u`` is the first month without the discount (null: discounted throughout); ``e`` is null
    while the subscription is open. Subscriptions active at no month end are dropped.
    """
    price = subs.monthly_price.cast("float64")
    if "discount_pct" in subs.columns:
        discount = subs.discount_pct.cast("float64").fill_null(0.0)
    else:
        discount = ibis.literal(0.0)
    if "discount_end_date" in subs.columns:
        no_discount_from = month_after_day(subs.discount_end_date.cast("date"))
    else:
        no_discount_from = ibis.null("int64")
    terms = subs.select(
        "subscription_id",
        "customer_id",
        *dims,
        s=month_of(subs.start_date.cast("date")),
        e=month_of(subs.end_date.cast("date")),
        u=no_discount_from,
        full=to_micros(price),
        discounted=to_micros(price * (1.0 - discount)),
    )
    return terms.filter(terms.e.isnull() | (terms.s < terms.e))


def _undiscounted_at(terms: ibis.Table, month: ibis.Value) -> ibis.Value:
    """True when the discount no longer applies in ``month``."""
    return terms.u.notnull() & (terms.u <= month)


def _plain_deltas(terms: ibis.Table, keys: list[str]) -> ibis.Table:
    """MRR changes of subscriptions without delinquency: start, discount end, end."""
    start = terms.select(
        *keys,
        month_idx=terms.s,
        delta=ibis.cases((_undiscounted_at(terms, terms.s), terms.full), else_=terms.discounted),
    )
    discount_end = terms.filter(
        terms.u.notnull()
        & (terms.s < terms.u)
        & (terms.e.isnull() | (terms.u < terms.e))
        & (terms.full != terms.discounted)
    ).select(*keys, month_idx=terms.u, delta=terms.full - terms.discounted)
    ended = terms.filter(terms.e.notnull())
    end = ended.select(
        *keys,
        month_idx=ended.e,
        delta=-ibis.cases(
            (_undiscounted_at(ended, ended.e - 1), ended.full), else_=ended.discounted
        ),
    )
    return ibis.union(start, discount_end, end, distinct=False)


def delinquent_months(payments: ibis.Table, delinquency_days: int) -> ibis.Table | None:
    """Per unpaid invoice with a failed attempt: the months ``[a, b)`` its subscription is out.

    An invoice is a ``subscription_id`` and ``due_date`` (and ``invoice_id`` when given); its
    attempts are its payment rows. It is out of MRR at the end of M when it had a failed
    attempt, ``due_date + delinquency_days <= end of M`` and no successful attempt on or before
    the end of M. Returns None when payments carry no ``subscription_id``/``due_date``.

    Returns
    -------
    ibis.Table
        ``subscription_id``, ``a`` (first month out) and ``b`` (first month back; null: never).
    """
    if delinquency_days < 0:
        raise InvalidMetricOption(f"delinquency_days = {delinquency_days}: expected 0 or more days")
    if "subscription_id" not in payments.columns or "due_date" not in payments.columns:
        return None
    has_invoice_id = "invoice_id" in payments.columns
    billed = payments.filter(payments.subscription_id.notnull() & payments.due_date.notnull())
    billed = billed.select(
        subscription_id=billed.subscription_id.cast("string"),
        due_date=billed.due_date.cast("date"),
        **({"invoice_id": billed.invoice_id.cast("string")} if has_invoice_id else {}),
        payment_date=billed.payment_date.cast("date"),
        failed=billed.payment_status == "Failed",
        succeeded=billed.payment_status == "Success",
    )
    # Only invoices with a failed attempt can be delinquent: find them first (a few percent of
    # the rows), then read only their attempts.
    failed = billed.filter(billed.failed).select("subscription_id", "due_date").distinct()
    # An inner join with distinct keys (a semi join compiles wrongly for PostgreSQL in Ibis 12).
    attempts = billed.join(failed, ["subscription_id", "due_date"])
    keys = ["subscription_id", "due_date", *(["invoice_id"] if has_invoice_id else [])]
    invoices = attempts.group_by(keys).aggregate(
        paid=attempts.payment_date.min(where=attempts.succeeded),
        failures=attempts.payment_date.count(where=attempts.failed),
    )
    invoices = invoices.filter(invoices.failures > 0)
    windows = invoices.select(
        "subscription_id",
        a=month_of(invoices.due_date + ibis.interval(days=delinquency_days)),
        b=month_of(invoices.paid),
    )
    return windows.filter(windows.b.isnull() | (windows.a < windows.b))


def _delinquent_deltas(terms: ibis.Table, windows: ibis.Table, keys: list[str]) -> ibis.Table:
    """MRR changes of subscriptions with delinquency windows, by sweeping their breakpoints."""
    points = ibis.union(
        terms.select("subscription_id", month_idx=terms.s, late=ibis.literal(0, "int64")),
        terms.filter(terms.e.notnull()).select(
            "subscription_id", month_idx=terms.e, late=ibis.literal(0, "int64")
        ),
        terms.filter(terms.u.notnull()).select(
            "subscription_id", month_idx=terms.u, late=ibis.literal(0, "int64")
        ),
        windows.select(
            "subscription_id", month_idx=windows.a.cast("int64"), late=ibis.literal(1, "int64")
        ),
        windows.filter(windows.b.notnull()).select(
            "subscription_id", month_idx=windows.b.cast("int64"), late=ibis.literal(-1, "int64")
        ),
        distinct=False,
    )
    points = points.group_by(["subscription_id", "month_idx"]).aggregate(late=points.late.sum())
    by_sub = ibis.cumulative_window(group_by="subscription_id", order_by="month_idx")
    points = points.mutate(open_invoices=points.late.sum().over(by_sub))
    joined = points.join(terms, "subscription_id")
    active = (
        (joined.s <= joined.month_idx)
        & (joined.e.isnull() | (joined.month_idx < joined.e))
        & (joined.open_invoices == 0)
    )
    price = ibis.cases(
        (_undiscounted_at(joined, joined.month_idx), joined.full), else_=joined.discounted
    )
    joined = joined.mutate(value=ibis.cases((active, price), else_=ibis.literal(0, "int64")))
    order = ibis.window(group_by="subscription_id", order_by="month_idx")
    joined = joined.mutate(delta=joined.value - joined.value.lag(1, 0).over(order))
    return joined.filter(joined.delta != 0).select(*keys, "month_idx", "delta")


def mrr_changes(
    subscriptions: ibis.Table,
    customers: ibis.Table | None = None,
    *,
    by: Dimension | None = None,
    filters: Filters | None = None,
    payments: ibis.Table | None = None,
    delinquency_days: int | None = DEFAULT_DELINQUENCY_DAYS,
    delinquent: ibis.Table | None = None,
) -> ibis.Table:
    """Each customer's MRR as a step function: one row per customer and month their MRR changes.

    Parameters
    ----------
    subscriptions
        The ``subscriptions`` table (``docs/data-model.md``).
    customers
        The ``customers`` table; needed only to break down or filter by a customer dimension.
    by
        Breakdown dimension. Every metric built on the result is then computed per value, as if
        that subset were the whole company. For ``plan`` the unit is a customer's subscriptions
        on one plan, so a plan change is churn (or contraction) on the old plan and new,
        reactivation or expansion on the new one.
    filters
        ``{dimension: [values]}``: keep only these subscriptions / customers.
    payments
        The ``payments`` table, for the failed-payment rule; None or without ``subscription_id``
        and ``due_date``: MRR from subscriptions alone.
    delinquency_days
        Days past due after which an unpaid subscription leaves MRR (None: never).
    delinquent
        Precomputed :func:`delinquent_months` (for instance cached by the service); when given,
        ``payments`` and ``delinquency_days`` are not used.

    Returns
    -------
    ibis.Table
        ``customer_id``, the ``by`` column (if any), ``month_idx`` (a change month),
        ``next_month_idx`` (the unit's next change month; null: none), ``mrr_micros`` (MRR from
        ``month_idx`` until ``next_month_idx``, in millionths), ``prev_mrr_micros`` (MRR in the
        month before ``month_idx``) and ``first_month_idx`` (first month with MRR > 0; null if
        never). Month numbers are ``year * 12 + month - 1``.

    Notes
    -----
    Implements "MRR of a subscription", "Active at month end" and "Failed payments" of
    ``docs/metrics.md``. Money is kept in integer millionths so that movements add up exactly.
    """
    by = check_dimension(by)
    checked = check_filters(filters)
    require_columns(
        subscriptions,
        ["subscription_id", "customer_id", "start_date", "end_date", "monthly_price"],
        "subscriptions",
    )
    subs = with_dimension(subscriptions, customers, by=by, filters=checked)
    dims = [by] if by is not None else []
    keys = ["customer_id", *dims]
    terms = _subscription_terms(subs, dims)

    windows = delinquent
    if windows is None and payments is not None and delinquency_days is not None:
        windows = delinquent_months(payments, delinquency_days)
    if windows is None:
        deltas = _plain_deltas(terms, keys)
    else:
        # IN (subquery) rather than semi/anti joins, which Ibis 12 compiles wrongly for PostgreSQL
        # when they are nested.
        is_late = terms.subscription_id.isin(windows.subscription_id)
        late, on_time = terms.filter(is_late), terms.filter(~is_late)
        deltas = ibis.union(
            _plain_deltas(on_time, keys), _delinquent_deltas(late, windows, keys), distinct=False
        )

    unit = deltas.group_by([*keys, "month_idx"]).aggregate(delta=deltas.delta.sum())
    unit = unit.filter(unit.delta != 0)
    # One sort: every window below shares the partition and order. A unit's MRR is 0 before its
    # first change and never negative (all subscription values are >= 0), so its first change
    # is positive and that change's month is its first month with MRR > 0: the smallest month
    # up to any of its rows, which the running sum's window (frame included) computes too.
    # The MRR before a change is the MRR after it minus the change (integers: exact), which
    # saves a window over every change row.
    up_to_now = ibis.window(group_by=keys, order_by="month_idx", rows=(None, 0))
    whole = ibis.window(group_by=keys, order_by="month_idx", rows=(None, None))
    steps = unit.select(
        *keys,
        month_idx=unit.month_idx.cast("int64"),
        next_month_idx=unit.month_idx.lead().over(whole).cast("int64"),
        mrr_micros=unit.delta.sum().over(up_to_now).cast("int64"),
        _delta=unit.delta.cast("int64"),
        first_month_idx=unit.month_idx.min().over(up_to_now).cast("int64"),
    )
    return steps.select(
        *keys,
        "month_idx",
        "next_month_idx",
        "mrr_micros",
        prev_mrr_micros=(steps.mrr_micros - steps._delta).cast("int64"),
        first_month_idx="first_month_idx",
    )


def positive_intervals(changes: ibis.Table) -> ibis.Table:
    """The months ``[start_idx, end_idx)`` during which a unit has a constant MRR > 0.

    ``end_idx`` is :data:`~revintel.core.calendar.OPEN_END` for an interval still open.
    """
    dims = dimension_columns(changes)
    positive = changes.filter(changes.mrr_micros > 0)
    # Explicit int64: a backend may report a cached table's integer columns narrower.
    return positive.select(
        "customer_id",
        *dims,
        start_idx=positive.month_idx.cast("int64"),
        end_idx=positive.next_month_idx.fill_null(OPEN_END).cast("int64"),
        mrr_micros=positive.mrr_micros.cast("int64"),
        first_month_idx=positive.first_month_idx.cast("int64"),
    )


def customer_mrr(
    subscriptions: ibis.Table,
    customers: ibis.Table | None = None,
    *,
    from_month: str,
    to_month: str,
    by: Dimension | None = None,
    filters: Filters | None = None,
    payments: ibis.Table | None = None,
    delinquency_days: int | None = DEFAULT_DELINQUENCY_DAYS,
) -> ibis.Table:
    """MRR per customer and month, for customers with MRR > 0 that month (drill-down, export).

    This is the literal definition: subscriptions joined to the month spine on the
    active-at-month-end rule, discounted while the discount applies, minus subscriptions over
    ``delinquency_days`` past due, summed per customer (``docs/metrics.md``, Recurring revenue).

    Returns
    -------
    ibis.Table
        ``customer_id``, the ``by`` column (if any), ``month`` (``"YYYY-MM"``), ``mrr``.
    """
    by = check_dimension(by)
    checked = check_filters(filters)
    lo, hi = check_range(from_month, to_month)
    subs = with_dimension(subscriptions, customers, by=by, filters=checked)
    dims = [by] if by is not None else []
    spine = number_spine(lo, hi)
    start = subs.start_date.cast("date")
    end = subs.end_date.cast("date")
    active = subs.join(spine, (start <= spine.month_end) & (end.isnull() | (end > spine.month_end)))
    price = active.monthly_price.cast("float64")
    if "discount_pct" in active.columns:
        discount = active.discount_pct.cast("float64").fill_null(0.0)
        if "discount_end_date" in active.columns:
            until = active.discount_end_date.cast("date")
            applies = until.isnull() | (until >= active.month_end)
            discount = ibis.cases((applies, discount), else_=0.0)
        price = price * (1.0 - discount)
    active = active.mutate(_mrr=price)
    if payments is not None and delinquency_days is not None:
        windows = delinquent_months(payments, delinquency_days)
        if windows is not None:
            late = windows.select(_late_sub="subscription_id", _a="a", _b="b")
            pairs = active.select("subscription_id", "month_idx")
            out = pairs.join(
                late,
                [
                    pairs.subscription_id == late._late_sub,
                    late._a <= pairs.month_idx,
                    late._b.isnull() | (pairs.month_idx < late._b),
                ],
            )
            out = out.select(_out_sub=out.subscription_id, _out_month=out.month_idx).distinct()
            active = active.left_join(
                out,
                [
                    active.subscription_id == out._out_sub,
                    active.month_idx == out._out_month,
                ],
            )
            active = active.filter(active._out_sub.isnull())
    per_customer = active.group_by(["customer_id", *dims, "month_idx", "month"]).aggregate(
        mrr=active._mrr.sum()
    )
    return (
        per_customer.filter(per_customer.mrr > 0)
        .select("customer_id", *dims, "month", "mrr")
        .order_by(["customer_id", *dims, "month"])
    )


def first_paid_dates(subscriptions: ibis.Table) -> ibis.Table:
    """Per customer, the first day they paid: the earliest day a subscription had MRR > 0.

    That is the subscription's ``start_date`` when its MRR at start is > 0 or, for a
    subscription free at first under a 100% discount, the day after ``discount_end_date``. Only
    subscriptions active at some month end count (``docs/metrics.md``, Trial-to-paid conversion).
    """
    # The start and discount-end dates ride along with each subscription's terms (one scan, no
    # join back to the subscriptions on their key).
    subs = subscriptions.mutate(
        _start=subscriptions.start_date.cast("date"),
        _discount_end=(
            subscriptions.discount_end_date.cast("date")
            if "discount_end_date" in subscriptions.columns
            else ibis.null("date")
        ),
    )
    # (A subscription without an id never matched that join: it still does not count.)
    subs = subs.filter(subs.subscription_id.notnull())
    terms = _subscription_terms(subs, ["_start", "_discount_end"])
    at_start = ibis.cases((_undiscounted_at(terms, terms.s), terms.full), else_=terms.discounted)
    later = (terms.full > 0) & terms.u.notnull() & (terms.e.isnull() | (terms.u < terms.e))
    paid = ibis.cases(
        (at_start > 0, terms._start),
        (later, terms._discount_end + ibis.interval(days=1)),
        else_=ibis.null("date"),
    ).cast("date")
    terms = terms.mutate(_paid=paid)
    return terms.group_by("customer_id").aggregate(first_paid_date=terms._paid.min())
