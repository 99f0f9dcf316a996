"""The headline figures of the latest complete month (:func:`summary`)."""

from __future__ import annotations

__all__ = ["Headline", "Summary", "summary"]

from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from revintel.core.calendar import month_label
from revintel.metrics.definitions import DEFINITIONS
from revintel.metrics.finance import cash_against_recognised
from revintel.metrics.service.finance import revenue
from revintel.metrics.service.query import (
    MetricQuery,
    Row,
    delinquency_days,
    full_period,
    period,
    warehouse_of,
)
from revintel.metrics.service.recurring import movement_rows
from revintel.metrics.service.retention_cohorts import trailing_rows
from revintel.metrics.service.scope import service

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

# Headline metric -> the result it is read from (and the column, when not the metric's name).
_COLUMNS: dict[str, str] = {"recognised_revenue": "mrr"}
_HEADLINES: dict[str, str] = {
    "mrr": "movements",
    "arr": "movements",
    "customers": "movements",
    "arpa": "movements",
    "revenue": "revenue",
    "recognised_revenue": "movements",
    "new": "movements",
    "expansion": "movements",
    "contraction": "movements",
    "churn": "movements",
    "reactivation": "movements",
    "nrr_monthly": "movements",
    "grr_monthly": "movements",
    "nrr_t12m": "trailing",
    "grr_t12m": "trailing",
    "logo_churn_rate": "movements",
    "gross_mrr_churn_rate": "movements",
    "net_mrr_churn_rate": "movements",
    "quick_ratio": "movements",
}


@dataclass(frozen=True, slots=True)
class Headline:
    """One headline figure: its value, the month before's, the change and its definition.

    ``change_pct`` is given for amounts and counts; ``reason`` says why ``value`` is undefined
    (else None); ``definition`` links ``docs/metrics.md``; ``note`` says what to read beside the
    figure (cash collected: recognised revenue, and whether its change is billing timing).
    """

    label: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None
    change_pct: float | None
    reason: str | None
    definition: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """The latest complete month's headline figures, by metric name."""

    month: str
    as_of: date
    metrics: dict[str, Headline]

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready plain values (``as_of`` stays a date)."""
        return {
            "month": self.month,
            "as_of": self.as_of,
            "metrics": {name: asdict(h) for name, h in self.metrics.items()},
        }


@service
def summary(source: Runtime | Warehouse, query: MetricQuery = MetricQuery()) -> Summary:
    """Headline figures of the latest complete month, with their month-over-month change.

    Reads ``as_of`` and ``delinquency_days`` of ``query``: MRR, ARR, paying customers, ARPA,
    revenue, movements, NRR and GRR monthly and T12M, logo churn, gross and net MRR churn, quick
    ratio. Revenue (cash collected) is None with a reason when no payments are loaded; it comes
    with recognised revenue (MRR) beside it and a note saying how far its change is billing timing.
    """
    wh = warehouse_of(source)
    p = period(wh, MetricQuery(as_of=query.as_of))
    full = full_period(p, wh)
    days = delinquency_days(wh, query.delinquency_days)
    sources: dict[str, dict[str, Row]] = {
        "movements": {str(r["month"]): r for r in movement_rows(wh, full, None, {}, days)},
        "trailing": {str(r["month"]): r for r in trailing_rows(wh, full, None, {}, days)},
    }
    if wh.has_table("payments"):
        recent = MetricQuery(as_of=p.as_of, start=month_label(p.last - 1))
        sources["revenue"] = {str(r["month"]): r for r in revenue(wh, recent)}
    month, previous_month = p.to_month, month_label(p.last - 1)
    metrics: dict[str, Headline] = {}
    for name, result in _HEADLINES.items():
        definition = DEFINITIONS[name]
        rows = sources.get(result)
        now = rows.get(month) if rows else None
        before = rows.get(previous_month) if rows else None
        column = _COLUMNS.get(name, name)
        value: Any = now.get(column) if now else None
        prior: Any = before.get(column) if before else None
        reason: Any = (now or {}).get(f"{column}_reason")
        if rows is None:
            reason = "no payments loaded"
        change = value - prior if value is not None and prior is not None else None
        change_pct = None
        if definition.unit in ("currency", "count") and change is not None and prior:
            change_pct = value / prior - 1.0
        metrics[name] = Headline(
            label=definition.label,
            unit=definition.unit,
            value=value,
            previous=prior,
            change=change,
            change_pct=change_pct,
            reason=reason,
            definition=definition.link,
        )
    cash, recognised = metrics["revenue"], metrics["recognised_revenue"]
    if cash.value is not None:
        note = cash_against_recognised(
            cash.value, cash.previous, recognised.value, recognised.previous
        )
        metrics["revenue"] = replace(cash, note=note)
    return Summary(month=month, as_of=p.as_of, metrics=metrics)
