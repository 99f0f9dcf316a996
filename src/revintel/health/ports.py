"""What health scoring needs of another capability, and where the application plugs it in.

Health scores the accounts paying in a month, so it needs MRR per customer and month (the
metrics definition, ``docs/metrics.md``, Recurring revenue). It does not import the metrics
package: :mod:`revintel.app.wiring` plugs an implementation with :func:`plug_customer_mrr`, and a
test may plug a fake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import ibis


class CustomerMrr(Protocol):
    """MRR per customer and month, for customers with MRR > 0 that month.

    Returns an Ibis table with ``customer_id``, ``month`` (``"YYYY-MM"``) and ``mrr``.
    """

    def __call__(
        self,
        subscriptions: ibis.Table,
        *,
        from_month: str,
        to_month: str,
        payments: ibis.Table | None,
    ) -> ibis.Table: ...


_customer_mrr: CustomerMrr | None = None


def plug_customer_mrr(implementation: CustomerMrr) -> None:
    """Use ``implementation`` wherever health needs MRR per customer and month."""
    global _customer_mrr
    _customer_mrr = implementation


def customer_mrr() -> CustomerMrr:
    """The plugged MRR source; :class:`RuntimeError` when nothing is plugged."""
    if _customer_mrr is None:
        raise RuntimeError(
            "health needs MRR per customer and month, but nothing is plugged: import "
            "revintel.app (revintel/app/wiring.py plugs it) or call "
            "revintel.health.ports.plug_customer_mrr"
        )
    return _customer_mrr
