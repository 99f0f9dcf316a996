"""``revintel serve``: uvicorn with revintel's timeouts, shutdown deadline and logs.

- Keep-alive connections close after ``keep_alive_timeout_seconds`` idle; request bodies are bounded
  by the edge (``api/edge.py``).
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

from revintel.config import Settings

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
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=log_config(),
        access_log=False,
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # type: ignore[arg-type]
    )


def run(app: FastAPI, *, host: str, port: int, settings: Settings) -> None:
    """Serve ``app`` until a stop signal; gone within grace + 1 s of it (module docstring)."""
    config = uvicorn_config(app, host=host, port=port, settings=settings)
    _Server(config, settings.shutdown_grace_seconds + HARD_STOP_AFTER_GRACE).run()
