"""What churn needs of other capabilities, as ports the application layer plugs.

Churn's features use monthly MRR per customer (the metrics' definition), NPS and support ticket
inputs per account and month (health's definitions); its predictions show each account's name,
segment and owner; its ROI analysis values a saved customer by the base's lifetime value (CLV).
Churn never imports those capabilities: ``revintel/app/wiring.py`` plugs adapters for them with
:func:`plug` when ``revintel.app`` is imported, and a test without the app may plug fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import ibis
    import polars as pl

    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

__all__ = [
    "AccountAttributes",
    "BaseLifetime",
    "BaseLifetimeOf",
    "MonthlyInputs",
    "MonthlyMrr",
    "Providers",
    "plug",
    "providers",
]


class MonthlyMrr(Protocol):
    """MRR per customer and month for customers with MRR > 0 (``docs/metrics.md``): a table of
    ``customer_id``, ``month`` (``"YYYY-MM"``) and ``mrr``."""

    def __call__(
        self,
        subscriptions: ibis.Table,
        *,
        payments: ibis.Table | None,
        from_month: str,
        to_month: str,
    ) -> ibis.Table: ...


class MonthlyInputs(Protocol):
    """Per account and month number ``lo``..``hi``: inputs read from one table (``account_id``,
    ``month_idx`` and the input columns)."""

    def __call__(self, table: ibis.Table, lo: int, hi: int) -> ibis.Table: ...


class AccountAttributes(Protocol):
    """Per account: ``account_id``, ``account_name``, ``industry``, ``segment``, ``owner``."""

    def __call__(self, warehouse: Warehouse) -> pl.DataFrame: ...


@dataclass(frozen=True, slots=True)
class BaseLifetime:
    """The whole customer base's gross margin and discounted expected lifetime in months
    (``docs/clv.md``); both None with the ``reason`` when no retention curve can be fitted."""

    gross_margin: float | None
    discounted_lifetime_months: float | None
    reason: str | None = None


class BaseLifetimeOf(Protocol):
    def __call__(self, ctx: Runtime) -> BaseLifetime: ...


@dataclass(frozen=True, slots=True)
class Providers:
    """Everything churn asks of other capabilities."""

    monthly_mrr: MonthlyMrr
    """Features: MRR per customer and month (metrics)."""
    nps_inputs: MonthlyInputs
    """Features: latest NPS score and the one before it per account and month, from
    ``nps_responses`` (columns ``nps_score``, ``nps_previous``; health's sentiment inputs)."""
    ticket_inputs: MonthlyInputs
    """Features: tickets per account and month, from ``support_tickets`` (columns ``tickets``,
    ``tickets_high``, ``tickets_urgent``, ``aged_open_tickets``; health's support inputs)."""
    account_attributes: AccountAttributes
    """Predictions: each account's name, industry, segment and owner."""
    base_lifetime: BaseLifetimeOf
    """Thresholds and ROI: the value of a saved dollar of MRR (CLV)."""


_plugged: Providers | None = None


def plug(plugged: Providers) -> None:
    """Give churn its providers (``revintel/app/wiring.py``; a test may plug fakes)."""
    global _plugged
    _plugged = plugged


def providers() -> Providers:
    """The plugged providers; a RuntimeError when nothing is plugged."""
    if _plugged is None:
        raise RuntimeError(
            "revintel.churn.ports: nothing is plugged; import revintel.app (which calls "
            "revintel/app/wiring.py's wire()) before calling the churn service"
        )
    return _plugged
