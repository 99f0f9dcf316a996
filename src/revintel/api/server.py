"""``revintel serve``: uvicorn with revintel's timeouts, shutdown deadline and logs.

- A connection must send a request's head (request line and headers) within
  ``head_read_timeout_seconds`` (:class:`HeadTimeoutProtocol`; uvicorn itself waits for ever), and
  closes after ``keep_alive_timeout_seconds`` idle; request bodies are bounded by the edge
  (``api/edge.py``).
- On SIGTERM or Ctrl+C the server stops accepting connections, gives in-flight requests
  ``shutdown_grace_seconds`` to finish, cancels the rest and exits. A request stuck in a worker
  thread cannot be cancelled, so a watchdog (:mod:`faulthandler`, a C thread that needs no Python
  lock) ends the process :data:`HARD_STOP_AFTER_GRACE` second later if it is still there, after
  writing every thread's stack to stderr: what was stuck is in the log.
- uvicorn's access log (the full query string) is replaced by revintel's own (``revintel.access``,
  values redacted); an internal error is logged once, with its id (``api/errors.py``).
"""

from __future__ import annotations

import asyncio
import copy
import faulthandler
import logging
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from revintel.core.config import Settings

HARD_STOP_AFTER_GRACE = 1.0


class AlreadyLogged(logging.Filter):
    """Drops uvicorn's tracebacks that say nothing new: a copy of one ``api/errors.py`` logged
    with its id, and one per request cancelled at shutdown (uvicorn logs how many it cancels, the
    access log has each one as ``cancelled``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError):
            return False
        return getattr(exc, "revintel_error_id", None) is None


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus revintel's loggers: ``revintel.access`` on stdout (as uvicorn's
    access log was), the rest (``revintel.api``: internal errors with their ids) on stderr."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"already_logged": {"()": AlreadyLogged}}
    config["formatters"]["revintel"] = {
        "()": "uvicorn.logging.DefaultFormatter",
        "fmt": "%(asctime)s %(levelprefix)s %(message)s",
        "use_colors": None,
    }
    config["handlers"]["revintel"] = {
        "formatter": "revintel",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["handlers"]["revintel_access"] = {
        "formatter": "revintel",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["uvicorn.error"]["filters"] = ["already_logged"]
    config["loggers"]["revintel"] = {"handlers": ["revintel"], "level": "INFO", "propagate": False}
    config["loggers"]["revintel.access"] = {
        "handlers": ["revintel_access"],
        "level": "INFO",
        "propagate": False,
    }
    return config


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head.

    uvicorn holds a connection that sent nothing, or half a request line, for as long as the client
    likes. Here the clock starts when the connection opens, or when data of a next request arrives
    after a response, and a connection whose head is not complete :attr:`head_timeout_seconds`
    later is closed. Once the head is in, the edge's body timeout and the keep-alive timeout apply.
    """

    head_timeout_seconds: float = 10.0  # set per server by :func:`uvicorn_config`

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_awaited_after: object = None
        self._expect_head()

    def _expect_head(self) -> None:
        if self._head_timer is None:
            self._head_awaited_after = self.cycle
            self._head_timer = self.loop.call_later(self.head_timeout_seconds, self._head_late)

    def _head_late(self) -> None:
        self._head_timer = None
        # No new request since the clock started: the head is still incomplete.
        if self.cycle is self._head_awaited_after and not self.transport.is_closing():
            self.transport.close()

    def _head_arrived(self) -> None:
        if self._head_timer is not None and self.cycle is not self._head_awaited_after:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self._expect_head()
        super().data_received(data)
        self._head_arrived()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)


class _Server(uvicorn.Server):
    """uvicorn's server, with a hard deadline armed by the first stop signal."""

    def __init__(self, config: uvicorn.Config, hard_stop_seconds: float) -> None:
        super().__init__(config)
        self.hard_stop_seconds = hard_stop_seconds
        self._hard_stop_armed = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self._hard_stop_armed:
            self._hard_stop_armed = True
            faulthandler.dump_traceback_later(self.hard_stop_seconds, exit=True)
        super().handle_exit(sig, frame)


def uvicorn_config(app: FastAPI, *, host: str, port: int, settings: Settings) -> uvicorn.Config:
    protocol = type(
        "HeadTimeoutProtocol",
        (HeadTimeoutProtocol,),
        {"head_timeout_seconds": settings.head_read_timeout_seconds},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        log_config=log_config(),
        access_log=False,
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # type: ignore[arg-type]
    )


def run(app: FastAPI, *, host: str, port: int, settings: Settings) -> None:
    """Serve ``app`` until a stop signal; gone within grace + 1 s of it (module docstring)."""
    config = uvicorn_config(app, host=host, port=port, settings=settings)
    _Server(config, settings.shutdown_grace_seconds + HARD_STOP_AFTER_GRACE).run()
