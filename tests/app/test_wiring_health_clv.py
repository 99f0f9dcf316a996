"""Health and CLV get what they need of metrics through their ports, plugged by app/wiring.py."""

from __future__ import annotations

import pytest

import revintel.app  # noqa: F401  (importing the application layer wires the ports)
from revintel.clv import ports as clv_ports
from revintel.health import ports as health_ports


def test_importing_the_app_plugs_health_and_clv() -> None:
    assert callable(health_ports.customer_mrr())
    revenue = clv_ports.revenue_metrics()
    assert all(callable(getattr(revenue, name)) for name in ("report_month", "customer_mrr", "ltv"))


def test_an_unplugged_port_names_the_wiring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health_ports, "_customer_mrr", None)
    monkeypatch.setattr(clv_ports, "_revenue", None)
    with pytest.raises(RuntimeError, match=r"revintel/app/wiring\.py"):
        health_ports.customer_mrr()
    with pytest.raises(RuntimeError, match=r"revintel/app/wiring\.py"):
        clv_ports.revenue_metrics()
