"""Email over SMTP and signed, retried webhooks, against real servers on loopback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from revintel.core.errors import InvalidOption
from revintel.retention import delivery as dlv
from revintel.retention.config import MailSettings, WebhookSettings
from tests.retention.receivers import http_receiver, self_signed, smtp_server, tls_smtp_server

SECRET = "s3cr3t-signing-key"


def _hooks(**kw: object) -> WebhookSettings:
    return WebhookSettings(**{"signing_secret": SECRET, "backoff_seconds": 0.01, **kw})


def test_an_email_reaches_the_smtp_server_with_text_html_and_attachment() -> None:
    with smtp_server() as (port, received):
        cfg = MailSettings(host="127.0.0.1", port=port, security="none", sender="alerts@acme.test")
        result = dlv.send_mail(
            cfg,
            to=["ann@acme.test", "bob@acme.test"],
            subject="Churn risk rose",
            text="Acme Corp: churn risk rose 22.0 points",
            html="<p>Acme Corp: churn risk rose <b>22.0</b> points</p>",
            attachments=[("alerts.csv", b"alert_id,subject\n1,C001\n", "text/csv")],
        )
    assert (result.status, result.attempts, result.channel) == ("sent", 1, "email")
    (msg,) = received
    assert sorted(msg.rcpt_tos) == ["ann@acme.test", "bob@acme.test"]
    assert msg.mail_from == "alerts@acme.test"
    assert msg.message["Subject"] == "Churn risk rose"
    parts = {p.get_content_type(): p for p in msg.message.walk()}
    assert "rose 22.0 points" in parts["text/plain"].get_payload(decode=True).decode()
    assert "<b>22.0</b>" in parts["text/html"].get_payload(decode=True).decode()
    attachment = parts["text/csv"]
    assert attachment.get_filename() == "alerts.csv"
    assert attachment.get_payload(decode=True) == b"alert_id,subject\n1,C001\n"


def test_a_mail_server_that_is_down_is_retried_then_failed_without_the_password() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = MailSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        username="u",
        password="hunter2-pw",
        retries=2,
        backoff_seconds=0.01,
    )
    waits: list[float] = []
    result = dlv.send_mail(cfg, to=["ann@acme.test"], subject="s", text="t", sleep=waits.append)
    assert (result.status, result.attempts) == ("failed", 3)
    assert waits == [0.01, 0.02]  # exponential backoff
    assert "hunter2-pw" not in json.dumps(result.to_dict())
    assert "refused" in (result.detail or "").lower() or "connect" in (result.detail or "").lower()


def test_no_mail_host_is_a_failed_delivery_saying_so() -> None:
    result = dlv.send_mail(MailSettings(), to=["ann@acme.test"], subject="s", text="t")
    assert result.status == "failed" and "mail.host" in (result.detail or "")


def test_a_bad_email_address_names_the_field() -> None:
    with pytest.raises(InvalidOption, match="to: 'not-an-address'"):
        dlv.send_mail(MailSettings(host="x"), to=["not-an-address"], subject="s", text="t")


def test_a_signed_generic_webhook_is_verifiable_by_the_receiver() -> None:
    with http_receiver([200]) as receiver:
        result = dlv.post_webhook(_hooks(), receiver.url, {"event": "alerts.fired", "count": 2})
    assert (result.status, result.attempts, result.http_status) == ("sent", 1, 200)
    (request,) = receiver.requests
    assert json.loads(request.body) == {"event": "alerts.fired", "count": 2}
    signature = request.headers[dlv.SIGNATURE_HEADER]
    stamp = request.headers[dlv.TIMESTAMP_HEADER]
    assert signature.startswith("sha256=")
    assert dlv.verify_signature(SECRET, request.body, signature, stamp)
    assert not dlv.verify_signature("wrong key", request.body, signature, stamp)
    assert not dlv.verify_signature(SECRET, request.body + b" ", signature, stamp)  # exact bytes
    assert not dlv.verify_signature(SECRET, request.body, signature, str(int(stamp) - 3600))
    # the secret path of the URL is not in the result
    assert "secret-token" not in json.dumps(result.to_dict())
    assert result.target.endswith("/hooks/***")


def test_a_slack_webhook_gets_text_and_blocks() -> None:
    payload = {
        "title": "Churn risk rose",
        "text": "2 new alerts",
        "items": ["Acme +22", "Beta +18"],
    }
    with http_receiver([200]) as receiver:
        result = dlv.post_webhook(_hooks(), receiver.url, payload, style="slack")
    assert result.ok
    body = json.loads(receiver.requests[0].body)
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("Churn risk rose")
    assert body["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Churn risk rose"},
    }
    assert all(b["type"] in ("header", "section", "context") for b in body["blocks"])
    assert "• Acme +22" in body["blocks"][2]["text"]["text"]


def test_a_receiver_failing_once_is_retried_and_sent() -> None:
    with http_receiver([500, 200]) as receiver:
        result = dlv.post_webhook(_hooks(), receiver.url, {"n": 1})
    assert (result.status, result.attempts) == ("sent", 2)
    assert [a.http_status for a in result.attempt_log] == [500, 200]
    assert len(receiver.requests) == 2
    # each attempt is signed afresh over the same body
    assert all(dlv.SIGNATURE_HEADER in r.headers for r in receiver.requests)


def test_a_receiver_always_failing_is_marked_failed_after_the_retries() -> None:
    waits: list[float] = []
    with http_receiver([500]) as receiver:
        result = dlv.post_webhook(_hooks(retries=3), receiver.url, {"n": 1}, sleep=waits.append)
    assert (result.status, result.attempts, result.http_status) == ("failed", 4, 500)
    assert len(receiver.requests) == 4
    assert waits == [0.01, 0.02, 0.04]
    assert [a.http_status for a in result.attempt_log] == [500] * 4
    assert "HTTP 500" in (result.detail or "")


def test_retry_after_is_honoured_on_429() -> None:
    waits: list[float] = []
    with http_receiver([429, 200], retry_after="2") as receiver:
        result = dlv.post_webhook(_hooks(), receiver.url, {}, sleep=waits.append)
    assert result.ok and waits == [2.0]


def test_a_4xx_is_not_retried() -> None:
    with http_receiver([404]) as receiver:
        result = dlv.post_webhook(_hooks(), receiver.url, {})
    assert (result.status, result.attempts, len(receiver.requests)) == ("failed", 1, 1)


def test_a_closed_port_is_a_connection_error_retried_then_failed() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = dlv.post_webhook(
        _hooks(retries=1), f"http://127.0.0.1:{port}/x", {}, sleep=lambda _: None
    )
    assert (result.status, result.attempts, result.http_status) == ("failed", 2, None)
    assert "ConnectError" in (result.detail or "")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://192.168.1.5/",
        "http://[fd00::1]/x",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ],
)
def test_private_link_local_and_reserved_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidOption, match=r"channels.webhooks\[0\].url: .* refused"):
        dlv.check_webhook_url(url, field_name="channels.webhooks[0].url")
    result = dlv.post_webhook(_hooks(), url, {})
    assert result.status == "failed" and result.attempts == 1
    assert (result.detail or "").startswith("refused:")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x", "hook"])
def test_only_http_and_https_urls(url: str) -> None:
    with pytest.raises(InvalidOption, match=r"webhook: .*expected an http:// or https:// URL"):
        dlv.check_webhook_url(url)
    with pytest.raises(InvalidOption):
        dlv.post_webhook(_hooks(), url, {})


def test_loopback_is_allowed_and_a_listed_private_network_too() -> None:
    dlv.check_webhook_url("http://127.0.0.1:8750/x")
    dlv.check_webhook_url("http://localhost/x")
    dlv.check_webhook_url("http://[::1]/x")
    dlv.check_webhook_url("http://10.1.2.3/x", ["10.0.0.0/8"])
    with pytest.raises(InvalidOption, match="allow_private"):
        dlv.check_webhook_url("http://10.1.2.3/x", ["not-a-cidr"])


def test_public_url_hides_credentials_and_path_secrets() -> None:
    assert (
        dlv.public_url("https://user:pw@hooks.slack.com/services/T0/B0/XYZ?token=1")
        == "https://hooks.slack.com/services/***"
    )


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_over_starttls_and_tls_with_a_login(security: str, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    implicit = security == "tls"
    with tls_smtp_server(cert, key, implicit=implicit, user="ri", password="pa55-word") as (
        port,
        received,
        logins,
    ):
        cfg = MailSettings(
            host="127.0.0.1", port=port, security=security, username="ri",  # type: ignore[arg-type]
            password="pa55-word", ca_file=str(cert), retries=0,
        )  # fmt: skip
        result = dlv.send_mail(cfg, to=["ann@acme.test"], subject="over TLS", text="t")
        assert (result.status, logins) == ("sent", ["ri"]), result.detail
        assert received[0].message["Subject"] == "over TLS"
        # the certificate is not trusted without the CA file: failed, not retried (not 4xx)
        untrusted = dlv.send_mail(
            cfg.model_copy(update={"ca_file": None}), to=["ann@acme.test"], subject="s", text="t"
        )
        assert untrusted.status == "failed" and "CERTIFICATE_VERIFY_FAILED" in (
            untrusted.detail or ""
        )


def test_the_connection_goes_to_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A name is resolved once per attempt, checked, and that address is the one connected to
    (the Host header keeps the name): a rebinding DNS answer cannot slip past the check."""
    answers = {"hooks.example.test": ["127.0.0.1"]}
    monkeypatch.setattr(dlv, "_resolve", lambda host, port: answers[host])
    with http_receiver([200]) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        url = f"http://hooks.example.test:{port}/hooks/x"
        result = dlv.post_webhook(_hooks(), url, {"n": 1})
        assert result.ok, result.detail
        assert receiver.requests[0].headers["Host"] == f"hooks.example.test:{port}"
        answers["hooks.example.test"] = ["10.0.0.7"]  # the name now points inside
        refused = dlv.post_webhook(_hooks(), url, {"n": 2})
    assert refused.status == "failed" and "10.0.0.7 is a private address" in (refused.detail or "")
    assert len(receiver.requests) == 1
