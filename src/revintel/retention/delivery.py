"""Delivery of alerts, digests and reports: email over SMTP and webhooks (generic JSON or a
Slack-compatible payload, signed with HMAC-SHA256, retried with backoff), each attempt recorded
(docs/retention.md, Alerts). Owned by the alerts area.

Neither function raises for a receiver that fails: the result is a :class:`Delivery` whose
``status`` is ``failed`` and whose ``attempt_log`` holds every try. A webhook URL that is not an
``http(s)://host`` URL raises :class:`~revintel.core.errors.InvalidOption` (the caller's mistake).

Signing (webhooks): with ``webhooks.signing_secret`` set, every request carries

* ``X-Revintel-Timestamp``: the Unix time (seconds) the attempt was made;
* ``X-Revintel-Signature``: ``sha256=`` + hex HMAC-SHA256 with the secret over the bytes
  ``timestamp + "." + body``, the body being the exact bytes sent.

A receiver recomputes the HMAC over ``f"{timestamp}.".encode() + raw_body`` and compares with
:func:`hmac.compare_digest`, and rejects a timestamp older than a few minutes (replay);
:func:`verify_signature` does exactly that and is what the tests use.

SSRF policy: only ``http`` and ``https``; the host is resolved and every address it resolves to
must be public, or loopback (local receivers), or inside a network of ``webhooks.allow_private``.
Private, link-local (169.254.0.0/16, the cloud metadata address), shared, reserved, multicast and
unspecified addresses are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from revintel.core.errors import InvalidOption
from revintel.core.redact import redact_credentials
from revintel.retention.config import MailSettings, WebhookSettings

SIGNATURE_HEADER = "X-Revintel-Signature"
TIMESTAMP_HEADER = "X-Revintel-Timestamp"
MAX_RETRY_AFTER_SECONDS = 300.0
"""A receiver's ``Retry-After`` is honoured up to this long; longer waits count as failure."""
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$|^[^@\s]+@localhost$")

Style = Literal["generic", "slack"]


@dataclass(frozen=True)
class Attempt:
    """One try: when, what came back (``http_status``/``smtp_code``), the error, the wait after."""

    at: str
    ok: bool
    http_status: int | None = None
    error: str | None = None
    wait_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Delivery:
    """The result of one delivery: ``status`` is ``sent`` or ``failed``; ``attempts`` the tries."""

    channel: Literal["email", "webhook"]
    target: str
    status: Literal["sent", "failed"]
    attempts: int
    detail: str | None = None
    http_status: int | None = None
    attempt_log: tuple[Attempt, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status == "sent"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["attempt_log"] = [a.to_dict() for a in self.attempt_log]
        return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _clean(text: str, secrets: Sequence[str | None] = ()) -> str:
    """``text`` without credentials: URL passwords and the given secret values masked."""
    text = redact_credentials(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:1000]


# -- addresses -------------------------------------------------------------------------------------
def check_email(address: str, field_name: str = "email") -> str:
    """``address`` stripped, or InvalidOption naming ``field_name`` and the expected form."""
    value = address.strip()
    if not EMAIL_PATTERN.match(value):
        raise InvalidOption(
            f"{field_name}: {address!r} is not an email address; expected name@example.com"
        )
    return value


def public_url(url: str) -> str:
    """``url`` fit for a log or a page: no user info, no query, and the path after its first
    segment masked (a Slack or Teams webhook URL carries its secret in the path)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid url>"
    segments = [s for s in parts.path.split("/") if s]
    path = ""
    if segments:
        path = "/" + segments[0] + ("/***" if len(segments) > 1 else "")
    return f"{parts.scheme}://{host}{port}{path}"


def parse_webhook_url(url: str, field_name: str = "webhook") -> tuple[str, int]:
    """(host, port) of an ``http(s)://host[:port]/...`` URL; InvalidOption naming the field."""
    expected = "expected an http:// or https:// URL with a host, such as https://example.com/hook"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidOption(f"{field_name}: {public_url(url)!r} is not a URL; {expected}") from exc
    if parts.scheme not in ("http", "https"):
        scheme = parts.scheme or "no scheme"
        raise InvalidOption(f"{field_name}: scheme {scheme!r} is not allowed; {expected}")
    if not parts.hostname:
        raise InvalidOption(f"{field_name}: the URL has no host; {expected}")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _networks(allow_private: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for cidr in allow_private:
        try:
            out.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError as exc:
            raise InvalidOption(
                f"webhooks.allow_private: {cidr!r} is not a network; expected CIDR like 10.0.0.0/8"
            ) from exc
    return out


def address_refusal(address: str, allow_private: Sequence[str] = ()) -> str | None:
    """Why a webhook may not reach ``address`` (an IP), or None when it may."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None
    if any(ip in net for net in _networks(allow_private)):
        return None
    for test, label in (
        (ip.is_link_local, "link-local"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (not ip.is_global, "non-public"),
    ):
        if test:
            return (
                f"{ip} is a {label} address; webhooks reach only public addresses, loopback, "
                "or a network listed in webhooks.allow_private"
            )
    return None


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_webhook_url(
    url: str,
    allow_private: Sequence[str] = (),
    *,
    field_name: str = "webhook",
    resolve: bool = True,
) -> None:
    """InvalidOption naming ``field_name`` when ``url`` is not http(s) or reaches a refused
    address. A host that does not resolve now is accepted when ``resolve`` is False or the name
    cannot be looked up (it is checked again before every delivery)."""
    host, port = parse_webhook_url(url, field_name)
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        if not resolve:
            return
        try:
            addresses = _resolve(host, port)
        except OSError:
            return
    for address in addresses:
        why = address_refusal(address, allow_private)
        if why:
            raise InvalidOption(f"{field_name}: {public_url(url)} refused: {why}")


# -- email -----------------------------------------------------------------------------------------
def _message(
    cfg: MailSettings,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None,
    attachments: Sequence[tuple[str, bytes, str]],
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rsplit("@", 1)[-1] or "localhost")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, content, mime in attachments:
        maintype, _, subtype = (mime or "application/octet-stream").partition("/")
        msg.add_attachment(
            content, maintype=maintype, subtype=subtype or "octet-stream", filename=name
        )
    return msg


def _smtp(cfg: MailSettings) -> smtplib.SMTP:
    """A connected client: plain, upgraded with STARTTLS, or TLS from the start; certificates
    are verified against the system's store (and ``mail.ca_file``)."""
    assert cfg.host is not None
    if cfg.security == "tls":
        return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=_tls(cfg))
    server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
    if cfg.security == "starttls":
        try:
            server.starttls(context=_tls(cfg))
        except BaseException:
            server.close()
            raise
    return server


def _tls(cfg: MailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if cfg.ca_file:
        context.load_verify_locations(cafile=cfg.ca_file)
    return context


def _transient(exc: BaseException) -> bool:
    """An SMTP failure worth another try: no connection, or a 4xx (temporary) reply."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, OSError | smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError)


def send_mail(
    cfg: MailSettings,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send one message (attachments: file name, content, MIME type).

    A connection failure or a temporary (4xx) reply is retried ``mail.retries`` times, waiting
    ``mail.backoff_seconds`` doubled each time; a permanent refusal is not. The password never
    appears in the result."""
    recipients = [check_email(a, "to") for a in to]
    target = ", ".join(recipients)
    if not recipients:
        raise InvalidOption("to: no recipient; expected at least one email address")
    if not cfg.host:
        return Delivery(
            "email", target, "failed", 0, "mail.host is not set: no SMTP server to send through"
        )
    msg = _message(cfg, recipients, subject, text, html, attachments)
    log: list[Attempt] = []
    wait = cfg.backoff_seconds
    for attempt in range(cfg.retries + 1):
        at = _now()
        try:
            with _smtp(cfg) as server:
                if cfg.username:
                    server.login(cfg.username, cfg.password or "")
                refused = server.send_message(msg, from_addr=cfg.sender, to_addrs=recipients)
            detail = None
            if refused:
                detail = "refused: " + ", ".join(sorted(refused))
            log.append(Attempt(at, True, error=detail))
            return Delivery("email", target, "sent", attempt + 1, detail, attempt_log=tuple(log))
        except (smtplib.SMTPException, OSError) as exc:
            error = _clean(f"{type(exc).__name__}: {exc}", [cfg.password])
            code = getattr(exc, "smtp_code", None)
            retry = _transient(exc) and attempt < cfg.retries
            log.append(Attempt(at, False, code, error, wait if retry else None))
            if not retry:
                break
            sleep(wait)
            wait *= 2
    return Delivery(
        "email", target, "failed", len(log), log[-1].error, log[-1].http_status, tuple(log)
    )


# -- webhooks --------------------------------------------------------------------------------------
def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` over ``timestamp + "." + body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver does: the signature matches the exact body and the timestamp is recent."""
    if not signature or not timestamp:
        return False
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    if age > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def slack_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack-compatible body (``text`` plus ``blocks``) from a generic payload's ``title``,
    ``text`` and ``items`` (lines; at most 20 shown), unless it already has ``blocks``."""
    if "blocks" in payload and "text" in payload:
        return payload
    title = str(payload.get("title") or "revintel")
    text = str(payload.get("text") or title)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
    ]
    items = [str(i) for i in payload.get("items") or []]
    if items:
        shown = "\n".join(f"• {i}" for i in items[:20])
        if len(items) > 20:
            shown += f"\n… and {len(items) - 20} more"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": shown[:3000]}})
    link = payload.get("url")
    if link:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open>"}]}
        )
    return {"text": f"{title}: {text}"[:3000], "blocks": blocks}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


def post_webhook(
    cfg: WebhookSettings,
    url: str,
    payload: dict[str, Any],
    *,
    style: Style = "generic",
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> Delivery:
    """POST ``payload`` (signed, retried with backoff); never raises for a failed receiver.

    Retried ``webhooks.retries`` times on a connection error, a timeout, a 5xx or a 429, waiting
    ``webhooks.backoff_seconds`` doubled each time, or the receiver's ``Retry-After`` when it
    sends one (up to :data:`MAX_RETRY_AFTER_SECONDS`). Any other 4xx is final. The address is
    checked (SSRF policy above) before each attempt."""
    if style not in ("generic", "slack"):
        raise InvalidOption(f"style: {style!r}; expected generic or slack")
    host, port = parse_webhook_url(url)
    target = public_url(url)
    body_obj = slack_payload(payload) if style == "slack" else payload
    body = json.dumps(body_obj, default=str, separators=(",", ":")).encode()
    log: list[Attempt] = []
    wait = cfg.backoff_seconds
    secrets = [cfg.signing_secret, url if url != target else None]
    with httpx.Client(
        timeout=cfg.timeout_seconds, follow_redirects=False, transport=transport
    ) as client:
        for attempt in range(cfg.retries + 1):
            at = _now()
            status: int | None = None
            retryable = False
            pause: float | None = None
            address: str | None = None
            try:
                refusal, address = _refusal(host, port, cfg.allow_private)
            except OSError as exc:
                refusal = None
                error: str | None = f"cannot resolve {host}: {exc}"
                retryable = True
            else:
                error = None
            if refusal:
                log.append(Attempt(at, False, None, f"refused: {refusal}"))
                break
            if error is None:
                headers = {"Content-Type": "application/json", "User-Agent": "revintel-webhook"}
                if cfg.signing_secret:
                    stamp = str(int(time.time()))
                    headers[TIMESTAMP_HEADER] = stamp
                    headers[SIGNATURE_HEADER] = sign(cfg.signing_secret, stamp, body)
                try:
                    response = client.send(_pinned(client, url, address, body, headers))
                    status = response.status_code
                    if 200 <= status < 300:
                        log.append(Attempt(at, True, status))
                        return Delivery(
                            "webhook", target, "sent", attempt + 1, None, status, tuple(log)
                        )
                    error = f"HTTP {status}: {_clean(response.text[:200], secrets)}".strip()
                    retryable = status >= 500 or status == 429
                    pause = _retry_after(response) if retryable else None
                except httpx.HTTPError as exc:
                    error = _clean(f"{type(exc).__name__}: {exc}", secrets)
                    retryable = True
            if pause is not None and pause > MAX_RETRY_AFTER_SECONDS:
                error = f"{error}; Retry-After {pause:.0f} s is longer than we wait"
                retryable = False
            go_on = retryable and attempt < cfg.retries
            delay = (pause if pause is not None else wait) if go_on else None
            log.append(Attempt(at, False, status, error, delay))
            if not go_on:
                break
            sleep(delay or 0.0)
            wait *= 2
    last = log[-1]
    return Delivery("webhook", target, "failed", len(log), last.error, last.http_status, tuple(log))


def _refusal(host: str, port: int, allow_private: Sequence[str]) -> tuple[str | None, str]:
    """(why the host may not be reached or None, the address to connect to)."""
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        addresses = _resolve(host, port)
    for address in addresses:
        why = address_refusal(address, allow_private)
        if why:
            return why, address
    return None, addresses[0]


def _pinned(
    client: httpx.Client, url: str, address: str | None, body: bytes, headers: dict[str, str]
) -> httpx.Request:
    """The POST to ``url`` sent to ``address``, the address that was checked: the name is not
    resolved again (no DNS rebinding between the check and the connection). The ``Host`` header
    and, for https, the TLS server name (so the certificate is checked against it) stay the
    URL's host."""
    request = client.build_request("POST", url, content=body, headers=headers)
    if address is None:
        return request
    original = request.url
    ip = ipaddress.ip_address(address)
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    request.url = original.copy_with(host=literal.strip("[]") if ip.version == 6 else literal)
    request.headers["Host"] = original.netloc.decode("ascii").rsplit("@", 1)[-1]
    if original.scheme == "https":
        request.extensions["sni_hostname"] = original.host
    return request
