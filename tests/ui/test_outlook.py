"""The revenue pages' forecasting worker (revintel.ui.outlook): a separate process once started,
a thread of this process otherwise, and a dead worker is said, then replaced by the thread."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest

from revintel.ui import outlook

ROWS = [{"month": f"2024-{m:02d}", "mrr": 1000.0 + 25 * m + (m % 3) * 7} for m in range(1, 13)]


@pytest.fixture
def fresh() -> Iterator[None]:
    """No worker before the test; any started by it is stopped after."""
    with outlook._POOL_LOCK:
        assert outlook._POOL is None, "another test left a worker running"
    try:
        yield
    finally:
        with outlook._POOL_LOCK:
            pool, outlook._POOL = outlook._POOL, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def test_without_a_worker_outlooks_are_computed_here(fresh: None) -> None:
    result = outlook.submit(ROWS, "mrr", 6).result(timeout=120)
    assert result.forecast is not None and not result.worker_failed
    assert len(result.forecast.forecast) == 6


def test_a_started_worker_is_another_process_and_gives_the_same_outlook(fresh: None) -> None:
    outlook.start()
    pool = outlook._POOL
    assert pool is not None
    assert pool.submit(os.getpid).result(timeout=120) != os.getpid()
    there = outlook.submit(ROWS, "mrr", 6).result(timeout=120)
    here = outlook.compute(ROWS, "mrr", 6)
    assert not there.worker_failed
    assert [f.mean for f in there.forecast.forecast] == [f.mean for f in here.forecast.forecast]
    assert there.forecast.model == here.forecast.model


def test_a_dead_worker_is_said_and_the_next_outlook_is_computed_here(fresh: None) -> None:
    outlook.start()
    pool = outlook._POOL
    worker = pool.submit(os.getpid).result(timeout=120)
    long = [
        {"month": f"{2021 + m // 12}-{m % 12 + 1:02d}", "mrr": 1000.0 + 9 * m} for m in range(36)
    ]
    pending = outlook.submit(long, "mrr", 6)  # seconds of model search: killed while running
    os.kill(worker, signal.SIGKILL)
    failed = pending.result(timeout=120)
    assert failed.worker_failed and failed.forecast is None
    assert "forecasting worker failed" in (failed.forecast_error or "")
    with outlook._POOL_LOCK:
        assert outlook._POOL is None  # forgotten: not spawned again from a page run
    again = outlook.submit(ROWS, "mrr", 6).result(timeout=120)
    assert again.forecast is not None and not again.worker_failed


def _ctrl_c_ignored() -> bool:
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_the_worker_leaves_ctrl_c_to_the_server(fresh: None) -> None:
    """Ctrl-C reaches the whole process group; the server stops the worker as it exits."""
    outlook.start()
    pool = outlook._POOL
    assert pool is not None
    assert pool.submit(_ctrl_c_ignored).result(timeout=120)
    assert not _ctrl_c_ignored()  # the server itself still stops on Ctrl-C


def test_the_no_runtime_warning_of_the_warm_up_is_dropped(caplog) -> None:
    import logging

    from revintel.ui.server import _quiet_runtime_warnings

    name = "streamlit.runtime.caching.cache_data_api"
    logger = logging.getLogger(name)
    before = list(logger.filters)
    try:
        _quiet_runtime_warnings()
        with caplog.at_level(logging.WARNING, logger=name):
            logger.warning("No runtime found, using MemoryCacheStorageManager")
            logger.warning("something else")
        assert [r.getMessage() for r in caplog.records] == ["something else"]
    finally:
        logger.filters[:] = before


def _alive(pid: int) -> bool:
    """Running (a zombie, not yet reaped by whoever adopted it, has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_worker_exits_when_the_server_dies_without_stopping_it() -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_THAT_DIES],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        worker = int(server.stdout.readline())
        assert _alive(worker)
        os.kill(server.pid, signal.SIGKILL)  # no clean-up of its own
        server.wait(timeout=10)
        deadline = time.monotonic() + 10  # it checks every PARENT_CHECK_SECONDS
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the worker outlived its server"
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)


SERVER_THAT_DIES = """
import time
from revintel.ui import outlook

if __name__ == "__main__":
    outlook.start()
    outlook._POOL.submit(outlook._prepare).result(timeout=120)  # the worker is up
    print(next(iter(outlook._POOL._processes)), flush=True)
    time.sleep(600)
"""
