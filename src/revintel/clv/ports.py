"""What CLV needs of another capability, and where the application plugs it in.

CLV turns MRR per customer and month into lifetimes and prices them with the month's ARPA and
gross margin: all three are metrics (``docs/metrics.md``). It does not import the metrics
package: :mod:`revintel.app.wiring` plugs an implementation of :class:`RevenueMetrics` with
:func:`plug_revenue_metrics`, and a test may plug a fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    import polars as pl

    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

LtvBasis = Literal["gross_margin", "arpa"]


@dataclass(frozen=True, slots=True)
class ReportMonth:
    """The last complete month of the data (``YYYY-MM``) and the date the data is as of."""

    month: str
    as_of: date


@dataclass(frozen=True, slots=True)
class LtvFigures:
    """The simple LTV of one month (``docs/metrics.md``, LTV), for one group or the whole base.

    ``group`` is the group's value as text when the figures are broken down, else None.
    """

    group: str | None
    arpa: float | None
    gross_margin: float | None
    ltv: float | None
    ltv_reason: str | None
    average_logo_churn_6m: float | None


class RevenueMetrics(Protocol):
    """The revenue metrics CLV reads."""

    def report_month(
        self, source: Runtime | Warehouse, *, as_of: date | str | None
    ) -> ReportMonth: ...

    def customer_mrr(self, source: Runtime | Warehouse, *, as_of: date) -> pl.DataFrame:
        """``customer_id``, ``month`` (``YYYY-MM``), ``mrr`` (Float64) of customers with MRR > 0
        in each month up to ``as_of``; empty (with those columns) when nobody paid."""
        ...

    def ltv(
        self,
        source: Runtime | Warehouse,
        *,
        month: str,
        as_of: date,
        basis: LtvBasis,
        by: str | None = None,
    ) -> list[LtvFigures]:
        """The month's LTV figures, one per group of the dimension ``by`` (None: one row)."""
        ...


_revenue: RevenueMetrics | None = None


def plug_revenue_metrics(implementation: RevenueMetrics) -> None:
    """Use ``implementation`` wherever CLV needs revenue metrics."""
    global _revenue
    _revenue = implementation


def revenue_metrics() -> RevenueMetrics:
    """The plugged revenue metrics; :class:`RuntimeError` when nothing is plugged."""
    if _revenue is None:
        raise RuntimeError(
            "CLV needs revenue metrics (MRR per customer, ARPA, gross margin), but nothing is "
            "plugged: import revintel.app (revintel/app/wiring.py plugs them) or call "
            "revintel.clv.ports.plug_revenue_metrics"
        )
    return _revenue
