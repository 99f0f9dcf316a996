"""What attribution needs of other capabilities, as ports the application layer plugs.

Channel ROI (``docs/attribution.md``, Spend, ROI and budget) values a converted customer at their
lifetime value (the CLV capability, ``docs/clv.md``) and turns attributed revenue into profit with
the company's gross margin (the metrics' definition, ``docs/metrics.md``). Attribution never
imports those capabilities: ``revintel/app/wiring.py`` plugs adapters with :func:`plug` when
``revintel.app`` is imported, and a test may plug fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime


@dataclass(frozen=True, slots=True)
class GrossMargin:
    """The company's gross margin over a period, or None with the ``reason``."""

    value: float | None
    period: str | None = None  # e.g. "2023-01 to 2024-12"
    reason: str | None = None


class GrossMarginOf(Protocol):
    """Gross margin = Σ gross profit ÷ Σ revenue over the months from ``start`` to ``end`` (all
    months when None)."""

    def __call__(
        self, runtime: Runtime, *, start: date | None, end: date | None
    ) -> GrossMargin: ...


@dataclass(frozen=True, slots=True)
class CustomerLifetimeValues:
    """Each paying customer's lifetime value (``values``), or empty with the ``reason``."""

    values: dict[str, float]
    definition: str | None = None  # what the value is, for the report's notes
    reason: str | None = None


class CustomerLifetimeValuesOf(Protocol):
    def __call__(self, runtime: Runtime) -> CustomerLifetimeValues: ...


@dataclass(frozen=True, slots=True)
class Providers:
    """Everything attribution asks of other capabilities."""

    gross_margin: GrossMarginOf
    """ROI: the company's gross margin (metrics)."""
    customer_values: CustomerLifetimeValuesOf
    """ROI on lifetime value: each customer's CLV (clv)."""


_plugged: Providers | None = None


def plug(plugged: Providers) -> None:
    """Give attribution its providers (``revintel/app/wiring.py``; a test may plug fakes)."""
    global _plugged
    _plugged = plugged


def providers() -> Providers | None:
    """The plugged providers, or None when nothing is plugged (ROI then uses the settings' gross
    margin and no CLV)."""
    return _plugged
