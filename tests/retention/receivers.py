"""Real servers on loopback for the delivery tests: an SMTP server (aiosmtpd) that keeps every
message, and an HTTP receiver that answers a scripted list of statuses and keeps every request."""

from __future__ import annotations

import email
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message


class _Keeper:
    def __init__(self) -> None:
        self.messages: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Received]]]:
    """A local SMTP server on a free loopback port: (port, the messages it received)."""
    keeper = _Keeper()
    port = free_port()
    controller = Controller(keeper, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, keeper.messages
    finally:
        controller.stop()


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    """Statuses to answer in order; the last one repeats."""
    retry_after: str | None = None


@contextmanager
def http_receiver(
    statuses: list[int] | None = None, retry_after: str | None = None
) -> Iterator[Receiver]:
    """A local HTTP server on a free loopback port answering POSTs with ``statuses``."""
    receiver = Receiver("", statuses=list(statuses or [200]), retry_after=retry_after)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append(Request(self.path, dict(self.headers.items()), body))
            n = len(receiver.requests) - 1
            status = receiver.statuses[min(n, len(receiver.statuses) - 1)]
            self.send_response(status)
            if receiver.retry_after and status in (429, 503):
                self.send_header("Retry-After", receiver.retry_after)
            reply = b"ok" if status < 300 else b"receiver failed"
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T0001/secret-token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (openssl), and its key."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def tls_smtp_server(
    cert: Path, key: Path, *, implicit: bool, user: str, password: str
) -> Iterator[tuple[int, list[Received], list[str]]]:
    """An SMTP server that needs TLS (STARTTLS, or TLS from the start when ``implicit``) and a
    login: (port, messages, the logins it accepted)."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    keeper = _Keeper()
    logins: list[str] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        if ok:
            logins.append(user)
        return AuthResult(success=ok)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    port = free_port()
    options: dict[str, Any] = {"authenticator": authenticator, "auth_require_tls": True}
    if implicit:
        # the whole connection is TLS, which aiosmtpd's auth_require_tls does not see
        options["auth_require_tls"] = False
        controller = Controller(
            keeper, hostname="127.0.0.1", port=port, ssl_context=context,
            server_kwargs=options,
        )  # fmt: skip
    else:
        controller = Controller(
            keeper, hostname="127.0.0.1", port=port, tls_context=context,
            require_starttls=True, **options,
        )  # fmt: skip
    controller.start()
    try:
        yield port, keeper.messages, logins
    finally:
        controller.stop()
