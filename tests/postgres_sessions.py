"""How many sessions a PostgreSQL database holds at most while threads do some work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg


def most_sessions_while(url: str, work: Callable[[], None], threads: int) -> int:
    """Run ``work`` on ``threads`` threads at once; return the most sessions (other than the
    watcher's own) that the database at ``url`` held meanwhile, sampled every 20 ms."""
    most, done = 0, threading.Event()

    def watch() -> None:
        nonlocal most
        with psycopg.connect(url, autocommit=True) as conn:
            while not done.is_set():
                found = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                ).fetchone()
                most = max(most, int(found[0]) if found else 0)
                time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        done.set()
        watcher.join()
    return most
