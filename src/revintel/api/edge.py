"""The API's edge: which hosts and browser origins it answers, how much request body it reads and
for how long, and the access log (docs/operations.md, "The API's edge" and "Limits").

Pure ASGI middleware, outermost first:

- :class:`AccessLog`: one line per request (method, path, status, duration), query-string values
  and id path parameters redacted unless ``access_log_values`` is set;
- :class:`HostGuard`: a ``Host`` that is not an allowed host gets 421 (DNS rebinding);
- CORS (Starlette's ``CORSMiddleware``) for the allowed origins only, no credentials;
- :class:`OriginGuard`: a POST, PUT, PATCH or DELETE from a browser page of another origin gets 403;
- :class:`BodyLimits`: a declared ``Content-Length`` over the limit gets 413 before the body is
  read, a longer (chunked) body 413 once it passes the limit, a body that stops arriving 408.

Every refusal is JSON, ``{"error": ..., "detail": ...}``, as every other error of the API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revintel.core.config import Settings, normalise_origin

if TYPE_CHECKING:
    from fastapi import FastAPI

ACCESS_LOG = logging.getLogger("revintel.access")

WILDCARD_BINDS = ("", "0.0.0.0", "::", "[::]")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REDACTED = "…"
# The tracking API takes batches of up to 10,000 events (ingestion.max_batch) of a few hundred
# bytes each (benchmarks/ingestion.py's are about 230): bodies over the general JSON limit.
TRACKING_PATHS = frozenset({"/api/v1/touchpoints", "/api/v1/revenue-events"})
TRACKING_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class EdgePolicy:
    """What the edge lets through, from the settings (and the address ``revintel serve`` binds)."""

    allowed_hosts: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    max_json_body_bytes: int
    max_upload_body_bytes: int
    body_read_timeout_seconds: float
    access_log_values: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, *, bind_host: str | None = None) -> EdgePolicy:
        hosts = dict.fromkeys(settings.allowed_hosts)
        hosts.update(dict.fromkeys(served_names(bind_host)))
        return cls(
            allowed_hosts=tuple(hosts),
            allowed_origins=tuple(settings.allowed_origins),
            max_json_body_bytes=settings.max_json_body_bytes,
            max_upload_body_bytes=settings.max_upload_body_bytes,
            body_read_timeout_seconds=settings.body_read_timeout_seconds,
            access_log_values=settings.access_log_values,
        )

    def host_allowed(self, host: str) -> bool:
        for allowed in self.allowed_hosts:
            if allowed == "*" or host == allowed:
                return True
            if allowed.startswith("*.") and host.endswith(allowed[1:]):
                return True
        return False


def served_names(bind_host: str | None) -> list[str]:
    """The names a client may use for the address ``revintel serve`` binds: the address itself, and
    for a wildcard bind (0.0.0.0, ::) this machine's name and its addresses."""
    if bind_host is None:
        return []
    host = bind_host.strip().lower().removeprefix("[").removesuffix("]")
    if host not in WILDCARD_BINDS:
        return [host]
    names = [socket.gethostname().lower(), socket.getfqdn().lower()]
    with suppress(OSError):  # a machine whose own name does not resolve
        names += [str(info[4][0]) for info in socket.getaddrinfo(names[0], None)]
    return list(dict.fromkeys(names))


def host_name(host_header: str) -> str:
    """The host of a ``Host`` header, lower-cased, without port or IPv6 brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def error_name(status: int) -> str:
    """The ``error`` of a refusal: the status phrase as one word, as ``api/errors.py`` names it."""
    return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")


async def refuse(send: Send, status: int, detail: str, *, close: bool = False) -> None:
    """Answer ``{"error", "detail"}`` with ``status``; ``close`` ends the connection after it (the
    client may still be sending a body nobody will read)."""
    body = json.dumps({"error": error_name(status), "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _listing(values: Iterable[str]) -> str:
    return ", ".join(values) or "none"


class HostGuard:
    """421 Misdirected Request for a ``Host`` that is not an allowed host: a page that rebinds its
    own name to this machine's address gets nothing, not even a read."""

    def __init__(self, app: ASGIApp, policy: EdgePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host")
            if host is None or not self.policy.host_allowed(host_name(host)):
                shown = "missing" if host is None else repr(host)
                await refuse(
                    send,
                    421,
                    f"Host header {shown} is not a name this API answers to; allowed hosts: "
                    f"{_listing(self.policy.allowed_hosts)} (setting REVINTEL_ALLOWED_HOSTS).",
                )
                return
        await self.app(scope, receive, send)


class OriginGuard:
    """403 for a state-changing request sent by a browser page of another origin.

    A browser names the page's origin in ``Origin`` on every POST, PUT, PATCH and DELETE; without
    ``Origin``, a ``Referer`` of another origin or ``Sec-Fetch-Site: cross-site`` betrays one too.
    The API's own origin is its scheme and ``Host`` (already checked by :class:`HostGuard`).
    Requests with none of these headers (curl, scripts, CRMs) pass.
    """

    def __init__(self, app: ASGIApp, policy: EdgePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in STATE_CHANGING:
            problem = self.cross_site(scope, Headers(scope=scope))
            if problem is not None:
                await refuse(send, 403, problem)
                return
        await self.app(scope, receive, send)

    def cross_site(self, scope: Scope, headers: Headers) -> str | None:
        """Why the request comes from another site, or None when it does not."""
        own = normalise_origin(f"{scope.get('scheme', 'http')}://{headers.get('host', '')}")
        allowed = {own, *self.policy.allowed_origins}
        what = (
            f"this API's own origin ({own}) and REVINTEL_ALLOWED_ORIGINS "
            f"({_listing(self.policy.allowed_origins)})"
        )
        origin = headers.get("origin")
        if origin is not None:
            if normalise_origin(origin) in allowed - {None}:
                return None
            return f"Origin {origin!r} may not change data here; allowed origins: {what}."
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return (
                "Sec-Fetch-Site 'cross-site': a page of another site may not change data here; "
                f"allowed origins: {what}."
            )
        referer = headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            referer_origin = normalise_origin(f"{parts.scheme}://{parts.netloc}")
            if referer_origin not in allowed - {None}:
                return (
                    f"Referer from {referer_origin or 'an unknown origin'}: a page of another "
                    f"origin may not change data here; allowed origins: {what}."
                )
        return None


class BodyRefused(HTTPException):
    """A request body over its limit (413) or that stopped arriving (408). Raised from ``receive``
    inside the app, so FastAPI answers it like any HTTP error; the connection is then closed."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(status_code, detail, headers={"Connection": "close"})


class BodyLimits:
    """Bounds on request bodies: size by kind (multipart uploads, everything else) and the wait for
    each part of the body."""

    def __init__(self, app: ASGIApp, policy: EdgePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").lower().startswith("multipart/form-data"):
            limit, setting, kind = (
                self.policy.max_upload_body_bytes,
                "REVINTEL_MAX_UPLOAD_BODY_BYTES",
                "an upload (multipart/form-data)",
            )
        elif scope.get("path", "") in TRACKING_PATHS:
            limit, setting, kind = (
                max(self.policy.max_json_body_bytes, TRACKING_BODY_BYTES),
                "REVINTEL_MAX_JSON_BODY_BYTES, at least 16 MiB here",
                "a batch of tracking events",
            )
        else:
            limit, setting, kind = (
                self.policy.max_json_body_bytes,
                "REVINTEL_MAX_JSON_BODY_BYTES",
                "a request body other than an upload",
            )

        def too_large(size: str) -> str:
            return (
                f"Request body {size} is over the limit of {limit:,} bytes for {kind} ({setting})."
            )

        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await refuse(send, 413, too_large(f"of {int(declared):,} bytes"), close=True)
            return

        timeout = self.policy.body_read_timeout_seconds
        received = 0
        body_done = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # after the body: waiting for a disconnect may take as long as it takes
                return await receive()
            with anyio.move_on_after(timeout) as waited:
                message = await receive()
            if waited.cancelled_caught:
                raise BodyRefused(
                    408,
                    f"The request body stopped arriving: nothing for {timeout:g} s after "
                    f"{received:,} bytes"
                    + (f" of the {int(declared):,} declared" if declared.isdigit() else "")
                    + " (REVINTEL_BODY_READ_TIMEOUT_SECONDS).",
                )
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyRefused(413, too_large(f"passed {received:,} bytes"))
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyRefused as exc:  # raised where nothing turned it into a response
            if started:
                raise
            await refuse(send, exc.status_code, str(exc.detail), close=True)


def logged_target(scope: Scope, *, values: bool) -> str:
    """The path and query as the access log shows them: without ``values``, each query value is
    ``…`` and each id path parameter (``account_id``, ``customer_id``) its name in braces."""
    path = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    if values:
        return f"{path}?{query}" if query else path
    ids = {str(v): k for k, v in (scope.get("path_params") or {}).items() if _is_id(k)}
    if ids:
        path = "/".join(f"{{{ids[s]}}}" if s in ids else s for s in path.split("/"))
    if not query:
        return path
    fields = (field.split("=", 1) for field in query.split("&") if field)
    return path + "?" + "&".join(f"{f[0]}={REDACTED}" if len(f) == 2 else f[0] for f in fields)


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


class AccessLog:
    """One ``revintel.access`` line per request: ``GET /api/v1/accounts?q=… 200 12 ms``."""

    def __init__(self, app: ASGIApp, policy: EdgePolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: int | str = "-"

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:  # at shutdown, after the grace period
            status = "cancelled" if status == "-" else status
            raise
        except Exception:
            status = 500 if status == "-" else status
            raise
        finally:
            if ACCESS_LOG.isEnabledFor(logging.INFO):
                ACCESS_LOG.info(
                    "%s %s %s %.0f ms",
                    scope["method"],
                    logged_target(scope, values=self.policy.access_log_values),
                    status,
                    (time.perf_counter() - start) * 1000,
                )


def install_edge(app: FastAPI, policy: EdgePolicy) -> None:
    """Add the edge's middleware to ``app`` (the last added runs first)."""
    app.add_middleware(BodyLimits, policy=policy)
    app.add_middleware(OriginGuard, policy=policy)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(policy.allowed_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Content-Type", "Authorization"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(HostGuard, policy=policy)
    app.add_middleware(AccessLog, policy=policy)
