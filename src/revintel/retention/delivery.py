"""Delivery of alerts, digests and reports: email over SMTP and webhooks (generic JSON or a
Slack-compatible payload, signed with HMAC-SHA256, retried with backoff), each attempt recorded
(docs/retention.md, Alerts). Owned by the alerts area."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from revintel.retention.config import MailSettings, WebhookSettings


@dataclass(frozen=True)
class Delivery:
    """The result of one delivery: ``status`` is ``sent`` or ``failed``; ``attempts`` the tries."""

    channel: Literal["email", "webhook"]
    target: str
    status: Literal["sent", "failed"]
    attempts: int
    detail: str | None = None
    http_status: int | None = None


def send_mail(
    cfg: MailSettings,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> Delivery:
    """Send one message (attachments: file name, content, MIME type)."""
    raise NotImplementedError("alerts area")


def post_webhook(
    cfg: WebhookSettings,
    url: str,
    payload: dict[str, Any],
    *,
    style: Literal["generic", "slack"] = "generic",
) -> Delivery:
    """POST ``payload`` (signed, retried with backoff); never raises for a failed receiver."""
    raise NotImplementedError("alerts area")
