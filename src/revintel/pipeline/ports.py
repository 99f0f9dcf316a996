"""What the pipeline capability needs of other capabilities, as ports the application plugs.

Expansion scoring (``docs/pipeline.md``, Expansion opportunity) reads each account's health
score and its usage and NPS inputs month by month (health's definitions) and, for its backtest,
MRR per customer and month (the metrics' definition). The pipeline never imports those
capabilities: ``revintel/app/wiring.py`` plugs adapters with :func:`plug_expansion` when
``revintel.app`` is imported, and a test may plug fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import ibis
    import polars as pl

    from revintel.core.runtime import Runtime


# -- expansion (area 6) ---------------------------------------------------------------------------
ACCOUNT_SIGNAL_COLUMNS = (
    "account_id",
    "account_name",
    "segment",
    "owner",
    "month",
    "month_idx",
    "arr",
    "health_score",
    "active_users",
    "licensed_seats",
    "key_feature_adoption",
    "nps_score",
)
"""The columns :class:`AccountSignals` returns."""


class AccountSignals(Protocol):
    """One row per account paying in a month and month number ``lo``..``hi`` (``year × 12 +
    month − 1``), with the columns of :data:`ACCOUNT_SIGNAL_COLUMNS`: the account's name, segment
    and owner, its ARR (12 × MRR), its health score (0–100, null without health data) and the
    usage and NPS inputs of that month (null when the account has no such row)."""

    def __call__(self, runtime: Runtime, *, lo: int, hi: int) -> pl.DataFrame: ...


class MonthlyMrr(Protocol):
    """MRR per customer and month for customers with MRR > 0: an Ibis table of ``customer_id``,
    ``month`` (``"YYYY-MM"``) and ``mrr`` (``docs/metrics.md``, Recurring revenue)."""

    def __call__(
        self,
        subscriptions: ibis.Table,
        *,
        payments: ibis.Table | None,
        from_month: str,
        to_month: str,
    ) -> ibis.Table: ...


class HealthMonths(Protocol):
    """The first and last month numbers with health data (usage, NPS or tickets)."""

    def __call__(self, runtime: Runtime) -> tuple[int, int]: ...


@dataclass(frozen=True, slots=True)
class ExpansionProviders:
    """Everything expansion scoring asks of other capabilities."""

    account_signals: AccountSignals
    """Health score and its usage and NPS inputs per account and month (health)."""
    monthly_mrr: MonthlyMrr
    """MRR per customer and month, for the backtest's outcome (metrics)."""
    health_months: HealthMonths
    """The months health data covers (health)."""


_expansion: ExpansionProviders | None = None


def plug_expansion(plugged: ExpansionProviders) -> None:
    """Give expansion scoring its providers (``revintel/app/wiring.py``; a test may plug fakes)."""
    global _expansion
    _expansion = plugged


def expansion_providers() -> ExpansionProviders:
    """The plugged providers; a RuntimeError when nothing is plugged."""
    if _expansion is None:
        raise RuntimeError(
            "revintel.pipeline.ports: nothing is plugged for expansion; import revintel.app "
            "(which calls revintel/app/wiring.py's wire()) or call plug_expansion"
        )
    return _expansion


# -- end expansion --------------------------------------------------------------------------------
