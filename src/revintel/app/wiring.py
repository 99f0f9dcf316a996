"""Where capabilities meet: each one's ports (``<capability>/ports.py``) get their implementations.

:func:`wire` runs once when :mod:`revintel.app` is imported, so every face has wired the
capabilities before it calls a service. Each section is short and self-contained; the adapters
import the implementing capability only when first called, so ``revintel --help`` stays light.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis
    import polars as pl

    from revintel.attribution.ports import CustomerLifetimeValues, GrossMargin
    from revintel.churn.ports import BaseLifetime
    from revintel.clv.ports import LtvBasis, LtvFigures, ReportMonth
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse


def wire() -> None:
    """Plug every capability's ports."""
    _wire_health()
    _wire_clv()
    _wire_churn()
    _wire_pipeline_expansion()
    _wire_attribution()


# -- health ---------------------------------------------------------------------------------------
def _wire_health() -> None:
    from revintel.health import ports

    ports.plug_customer_mrr(_health_customer_mrr)


def _health_customer_mrr(
    subscriptions: ibis.Table,
    *,
    from_month: str,
    to_month: str,
    payments: ibis.Table | None,
) -> ibis.Table:
    from revintel.metrics.mrr import customer_mrr

    return customer_mrr(subscriptions, from_month=from_month, to_month=to_month, payments=payments)


# -- clv ------------------------------------------------------------------------------------------
def _wire_clv() -> None:
    from revintel.clv import ports

    ports.plug_revenue_metrics(_ClvRevenueMetrics())


class _ClvRevenueMetrics:
    """CLV's revenue metrics from :mod:`revintel.metrics.service`."""

    def report_month(self, source: Any, *, as_of: date | str | None) -> ReportMonth:
        from revintel.clv.ports import ReportMonth
        from revintel.metrics import service as metrics

        p = metrics.period(source, metrics.MetricQuery(as_of=as_of))
        return ReportMonth(month=p.to_month, as_of=p.as_of)

    def customer_mrr(self, source: Any, *, as_of: date) -> pl.DataFrame:
        import polars as pl

        from revintel.metrics import service as metrics

        rows = metrics.customer_mrr(source, metrics.MetricQuery(as_of=as_of))
        if not rows:
            schema = {"customer_id": pl.String, "month": pl.String, "mrr": pl.Float64}
            return pl.DataFrame(schema=schema)
        frame = pl.DataFrame(rows)
        return frame.select("customer_id", "month", pl.col("mrr").cast(pl.Float64))

    def ltv(
        self,
        source: Any,
        *,
        month: str,
        as_of: date,
        basis: LtvBasis,
        by: str | None = None,
    ) -> list[LtvFigures]:
        from revintel.clv.ports import LtvFigures
        from revintel.metrics import service as metrics

        query = metrics.MetricQuery(start=month, end=month, as_of=as_of, by=by)  # type: ignore[arg-type]
        rows: list[dict[str, Any]] = metrics.ltv(source, query, basis=basis)
        return [
            LtvFigures(
                group=None if by is None else str(row.get(by)),
                arpa=row.get("arpa"),
                gross_margin=row.get("gross_margin"),
                ltv=row.get("ltv"),
                ltv_reason=row.get("ltv_reason"),
                average_logo_churn_6m=row.get("average_logo_churn_6m"),
            )
            for row in rows
        ]


# -- churn: MRR (metrics), NPS and ticket inputs and account attributes (health), CLV (clv) -------
def _wire_churn() -> None:
    from revintel.churn import ports

    ports.plug(
        ports.Providers(
            monthly_mrr=_churn_monthly_mrr,
            nps_inputs=_churn_nps_inputs,
            ticket_inputs=_churn_ticket_inputs,
            account_attributes=_churn_account_attributes,
            base_lifetime=_churn_base_lifetime,
        )
    )


def _churn_monthly_mrr(
    subscriptions: ibis.Table, *, payments: ibis.Table | None, from_month: str, to_month: str
) -> ibis.Table:
    from revintel.metrics.mrr import customer_mrr

    return customer_mrr(subscriptions, from_month=from_month, to_month=to_month, payments=payments)


def _churn_nps_inputs(table: ibis.Table, lo: int, hi: int) -> ibis.Table:
    from revintel.health.pillars import sentiment_inputs

    return sentiment_inputs(table, lo, hi)


def _churn_ticket_inputs(table: ibis.Table, lo: int, hi: int) -> ibis.Table:
    from revintel.health.pillars import support_inputs

    return support_inputs(table, lo, hi)


def _churn_account_attributes(warehouse: Warehouse) -> pl.DataFrame:
    from revintel.health.service import account_attributes

    return account_attributes(warehouse)


def _churn_base_lifetime(ctx: Runtime) -> BaseLifetime:
    from revintel.churn.ports import BaseLifetime
    from revintel.clv.service import report

    overall = report(ctx, by="segment").overall
    return BaseLifetime(
        gross_margin=overall.gross_margin,
        discounted_lifetime_months=overall.del_months,
        reason=overall.reason,
    )


# -- pipeline, expansion (area 6): health scores and inputs (health), MRR (metrics) ---------------
def _wire_pipeline_expansion() -> None:
    from revintel.pipeline import ports

    ports.plug_expansion(
        ports.ExpansionProviders(
            account_signals=_expansion_account_signals,
            monthly_mrr=_churn_monthly_mrr,
            health_months=_expansion_health_months,
        )
    )


def _expansion_account_signals(runtime: Runtime, *, lo: int, hi: int) -> pl.DataFrame:
    from revintel.core.calendar import month_label
    from revintel.health.service import score_history
    from revintel.pipeline.ports import ACCOUNT_SIGNAL_COLUMNS

    frame = score_history(runtime, start=month_label(lo), end=month_label(hi))
    return frame.select(ACCOUNT_SIGNAL_COLUMNS)


def _expansion_health_months(runtime: Runtime) -> tuple[int, int]:
    from revintel.health.service import coverage

    cov = coverage(runtime)
    return cov.first_month, cov.last_month


# -- attribution: gross margin (metrics) and customer lifetime value (clv) for channel ROI ---------
def _wire_attribution() -> None:
    from revintel.attribution import ports

    ports.plug(
        ports.Providers(
            gross_margin=_attribution_gross_margin,
            customer_values=_attribution_customer_values,
        )
    )


def _attribution_gross_margin(
    runtime: Runtime, *, start: date | None, end: date | None
) -> GrossMargin:
    """Σ gross profit ÷ Σ revenue over the months of ``start``..``end`` (metrics financials)."""
    from revintel.attribution.ports import GrossMargin
    from revintel.metrics import service as metrics

    if not runtime.warehouse.has_table("costs"):
        return GrossMargin(None, reason="no costs table loaded")
    rows = metrics.financials(runtime)
    lo = start.strftime("%Y-%m") if start else None
    hi = end.strftime("%Y-%m") if end else None
    rows = [
        r
        for r in rows
        if (lo is None or str(r["month"]) >= lo) and (hi is None or str(r["month"]) <= hi)
    ]
    revenue = sum(_number(r["revenue"]) for r in rows)
    profit = sum(_number(r["gross_profit"]) for r in rows)
    if not rows or revenue <= 0:
        return GrossMargin(None, reason="no revenue in the months asked for")
    period = f"{rows[0]['month']} to {rows[-1]['month']}"
    return GrossMargin(profit / revenue, period=period)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _attribution_customer_values(runtime: Runtime) -> CustomerLifetimeValues:
    """Each paying customer's CLV (``docs/clv.md``, per customer)."""
    from revintel.attribution.ports import CustomerLifetimeValues
    from revintel.clv.service import customer_values

    frame = customer_values(runtime).drop_nulls("clv")
    values = dict(
        zip(
            frame.get_column("customer_id").to_list(),
            frame.get_column("clv").to_list(),
            strict=True,
        )
    )
    return CustomerLifetimeValues(
        values={str(k): float(v) for k, v in values.items()},
        definition="remaining CLV at the data's last month (docs/clv.md, per customer)",
    )
