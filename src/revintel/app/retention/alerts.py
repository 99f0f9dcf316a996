"""Alerts: rules, evaluation (an alert fires once per condition until it clears), delivery by
email, webhook and the in-app inbox, acknowledgement, history and digests (docs/retention.md,
Alerts). Owned by the alerts area."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime


def evaluate(rt: Runtime) -> Any:
    """Evaluate every enabled rule, fire new alerts, clear resolved ones, deliver; the result
    says what fired, cleared and was delivered."""
    raise NotImplementedError("alerts area")


def send_digests(rt: Runtime, period: Literal["daily", "weekly"]) -> Any:
    """Send the daily or weekly digest of alerts to the configured recipients."""
    raise NotImplementedError("alerts area")
