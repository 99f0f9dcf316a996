"""Churn asks other capabilities through its ports (churn/ports.py); revintel.app plugs them."""

from __future__ import annotations

import pytest

import revintel.app  # noqa: F401  (wires the ports, as every face does)
from revintel.churn import ports


def test_the_app_plugs_every_port() -> None:
    plugged = ports.providers()
    assert all(
        callable(getattr(plugged, name))
        for name in (
            "monthly_mrr",
            "nps_inputs",
            "ticket_inputs",
            "account_attributes",
            "base_lifetime",
        )
    )


def test_an_unplugged_port_names_the_wiring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_plugged", None)
    with pytest.raises(RuntimeError, match=r"revintel/app/wiring\.py"):
        ports.providers()
