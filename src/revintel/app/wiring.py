"""Plugs each capability's ports with what other capabilities provide.

Capabilities never import each other; one that needs another's result declares a port (a
``ports.py`` of its own) and this module plugs an adapter into it. :func:`wire` runs when
``revintel.app`` is imported, so every face has wired the capabilities before it calls one.
The adapters import their provider when first called, so ``revintel --help`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis
    import polars as pl

    from revintel.churn.ports import BaseLifetime
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse


def wire() -> None:
    """Plug every capability's ports."""
    _wire_churn()


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


def _churn_nps_inputs(nps: ibis.Table, lo: int, hi: int) -> ibis.Table:
    from revintel.health.pillars import sentiment_inputs

    return sentiment_inputs(nps, lo, hi)


def _churn_ticket_inputs(tickets: ibis.Table, lo: int, hi: int) -> ibis.Table:
    from revintel.health.pillars import support_inputs

    return support_inputs(tickets, lo, hi)


def _churn_account_attributes(warehouse: Warehouse) -> pl.DataFrame:
    from revintel.health.service import account_attributes

    return account_attributes(warehouse)


def _churn_base_lifetime(ctx: Runtime) -> BaseLifetime:
    from revintel.churn.ports import BaseLifetime
    from revintel.clv.service import report

    overall = report(ctx, by="segment")["overall"]
    return BaseLifetime(
        gross_margin=overall.get("gross_margin"),
        discounted_lifetime_months=overall.get("del_months"),
        reason=overall.get("reason"),
    )
