"""Forecasts and anomaly detection for the revenue pages, computed in a worker process.

A forecast for a new filter takes seconds (the model search with its backtests), all of it Python
holding the interpreter lock. Run on a thread of the dashboard's server it halves the speed of the
page run a visitor is waiting for; in a process of its own it runs on the other core. The worker is
a single spawned process (not forked: the server runs threads) at a lower priority, started with
the server (:func:`start`) and kept for its life; its own caches (forecasts, metric results, its
own warehouse connection) persist between requests. Without it (not started, or dead), outlooks
are computed on a lower-priority thread of the server, as before.

Everything here is importable without Streamlit: it is what the worker imports.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from revintel.app.outlooks import Outlook

Record = dict[str, Any]
_LOG = logging.getLogger(__name__)
WORKER_NICENESS = 10
"""The worker's priority below the server's (Linux): the page run and the browser drawing it come
first."""


@dataclass(frozen=True)
class DriverSource:
    """Where the worker reads a series' drivers from: the home, data and options."""

    settings: Any  # revintel.core.config.Settings
    version: str
    end: str | None
    filters: str  # JSON of the sidebar's dimension filters


# -- in the worker ---------------------------------------------------------------------------------
_FORKS: dict[tuple[str, str], Any] = {}  # the worker's own AppContext per home and data version


def _driver_rows(source: DriverSource, series: str) -> list[Record]:
    """The series' rows with their drivers, on the worker's own warehouse connection."""
    from revintel.app.context import AppContext
    from revintel.metrics import service

    key = (str(source.settings.home), source.version)
    ctx = _FORKS.get(key)
    if ctx is None:
        for old in list(_FORKS):
            _FORKS.pop(old).close()
        ctx = _FORKS[key] = AppContext(source.settings)
    query = service.MetricQuery(end=source.end, filters=json.loads(source.filters))
    return service.rows_with_drivers(ctx, series, query)  # type: ignore[arg-type]


def compute(
    rows: list[Record], series: str, horizon: int, drivers: DriverSource | None = None
) -> Outlook:
    """The forecast of ``series`` in ``rows`` and its anomalies (:func:`revintel.app.outlooks.
    outlook`), judged by their drivers when ``drivers`` says where to read them."""
    from revintel.app.outlooks import outlook

    detail = None if drivers is None else (lambda: _driver_rows(drivers, series))
    return outlook(rows, series, horizon, detail)


def _lower_priority() -> None:
    """Lower the calling thread's priority (Linux: the worker process's main thread, which
    computes, or the fallback thread); elsewhere the default priority stays."""
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)


def _worker_init() -> None:
    """The worker process: lower priority, and Ctrl-C left to the server. The terminal sends it
    to the whole process group; the server stops the worker as it exits, and the worker would
    otherwise print a KeyboardInterrupt traceback of its own. If the server dies without stopping
    it (killed, out of memory), the worker exits too (:func:`_exit_with_parent`)."""
    from revintel.ui.server import dump_stacks_on_sigusr1

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    dump_stacks_on_sigusr1()
    _lower_priority()
    _exit_with_parent(os.getppid())


PARENT_CHECK_SECONDS = 1.0


def _exit_with_parent(parent: int, every: float = PARENT_CHECK_SECONDS) -> None:
    """Watch, on a daemon thread, that ``parent`` is still this process's parent; once it is not
    (it died and the process was adopted), exit at once: nobody is left to ask for outlooks, and
    the worker would otherwise hold its memory (~0.5 GB) for good."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="revintel-parent-watch", daemon=True).start()


# -- in the server ---------------------------------------------------------------------------------
_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_THREAD = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="revintel-outlook", initializer=_lower_priority
)
"""Where outlooks are computed when the worker was not started, or has died: in this process."""


def _prepare() -> None:
    """The worker's imports (the forecasting stack, Ibis, DuckDB): seconds, done once."""
    import revintel.app.context
    import revintel.app.outlooks
    import revintel.forecast.service
    import revintel.metrics.service  # noqa: F401


def start() -> None:
    """Start the worker process, and its imports, now.

    Call it from the program's main module before anything else runs (the dashboard's server
    does, before Streamlit starts): a spawned process re-imports the parent's ``__main__``, and
    while Streamlit runs a page that is the page script. Without a started worker, or once it has
    died, outlooks are computed on a thread of this process instead.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
            )
            _POOL.submit(_prepare)  # spawns the worker now


def _discard(pool: ProcessPoolExecutor) -> None:
    """Forget a broken pool (its worker died): outlooks are computed in this process from now."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is pool:
            _POOL = None
    pool.shutdown(wait=False, cancel_futures=True)


def submit(
    rows: list[Record], series: str, horizon: int, drivers: DriverSource | None = None
) -> Future[Outlook]:
    """:func:`compute` in the worker (:func:`start`), else on a background thread here. The future
    always ends with an :class:`Outlook`: if the worker dies (out of memory, killed), the outlook
    says so in its errors, and asking again computes it here."""
    with _POOL_LOCK:
        pool = _POOL
    if pool is None:
        return _THREAD.submit(compute, rows, series, horizon, drivers)
    try:
        running = pool.submit(compute, rows, series, horizon, drivers)
    except BrokenProcessPool:
        _discard(pool)
        return _THREAD.submit(compute, rows, series, horizon, drivers)
    done: Future[Outlook] = Future()
    done.set_running_or_notify_cancel()

    def copy(finished: Future[Outlook]) -> None:
        try:
            done.set_result(finished.result())
        except BaseException as exc:  # the worker died or the result could not come back
            if isinstance(exc, BrokenProcessPool):
                _discard(pool)
            why = f"the forecasting worker failed ({type(exc).__name__}: {exc})"
            _LOG.warning("outlook of %s failed", series, exc_info=exc)
            done.set_result(Outlook(forecast_error=why, anomalies_error=why, worker_failed=True))

    running.add_done_callback(copy)
    return done
