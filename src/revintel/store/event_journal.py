"""The tracking API's durable event journal: events acknowledged but not yet in the warehouse.

One SQLite file, ``REVINTEL_HOME/ingestion/journal.db``, in WAL mode with ``synchronous=FULL``:
a call to :meth:`EventJournal.append` returns only once its transaction is in the write-ahead log
and the log is fsync'd, so an event it accepted survives a ``kill -9`` of the process (and a power
cut, as far as the disk honours fsync). A background flusher reads the pending events in the order
they were accepted (:meth:`pending`), appends them to the warehouse, and marks them flushed
(:meth:`mark_flushed`). Flushing twice is harmless: the warehouse's append upserts by primary key.

Each event is journalled under its table and event id, unique together: an event id already in the
journal is not stored again (:attr:`Appended.duplicates`). A request's ``Idempotency-Key`` is kept
with a fingerprint of its body and the receipt it was answered with, so a retry of the same request
gets the same receipt and stores nothing. Flushed events and keys older than the retention are
deleted by :meth:`prune`.

The journal stores rows as JSON text; what a row holds is the caller's business.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

JOURNAL_FOLDER = "ingestion"
JOURNAL_FILE = "journal.db"
BUSY_TIMEOUT_MS = 30_000
_CHUNK = 500  # bound parameters per IN (...) query

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    event_id TEXT NOT NULL,
    row TEXT NOT NULL,
    received_at TEXT NOT NULL,
    flushed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tbl, event_id)
);
CREATE INDEX IF NOT EXISTS events_pending ON events (seq) WHERE flushed = 0;
CREATE TABLE IF NOT EXISTS requests (
    idempotency_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    receipt TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class JournalEvent:
    """One journalled event: its place in the journal, table, id and row (decoded JSON)."""

    seq: int
    table: str
    event_id: str
    row: dict[str, Any]


@dataclass(frozen=True)
class Appended:
    """What :meth:`EventJournal.append` did.

    ``conflict``: the idempotency key was used before with another body; nothing was stored and
    ``receipt`` is the earlier request's. ``replayed``: the same request was seen before; nothing
    was stored and ``receipt`` is the one it was answered with.
    """

    receipt: dict[str, Any]
    stored: int
    duplicates: tuple[str, ...]
    replayed: bool = False
    conflict: bool = False


ReceiptBuilder = Callable[[int, Sequence[str]], dict[str, Any]]
"""Makes a request's receipt from the events stored and the ids already in the journal."""


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def journal_exists(home: Path) -> bool:
    """Whether ``home`` has a journal (one is made by the first event stored)."""
    return (Path(home) / JOURNAL_FOLDER / JOURNAL_FILE).exists()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class EventJournal:
    """The journal file under ``home`` (created on first use). Safe to share between threads;
    several processes may use one file (SQLite's own locking, waiting up to 30 s)."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / JOURNAL_FOLDER / JOURNAL_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None
        )
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        with self._lock:
            self._con.executescript(_SCHEMA)
        _fsync_dir(self.path.parent)  # the journal's and its log's names survive a crash too

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def settings(self) -> dict[str, Any]:
        """The SQLite settings durability rests on (``journal_mode``, ``synchronous``: 2 = FULL)."""
        with self._lock:
            mode = self._con.execute("PRAGMA journal_mode").fetchone()[0]
            sync = self._con.execute("PRAGMA synchronous").fetchone()[0]
        return {"journal_mode": mode, "synchronous": sync}

    def seen_request(self, idempotency_key: str) -> tuple[str, dict[str, Any]] | None:
        """The fingerprint and receipt of the request first sent with this key, if any."""
        with self._lock:
            seen = self._con.execute(
                "SELECT fingerprint, receipt FROM requests WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
        return None if seen is None else (str(seen[0]), json.loads(seen[1]))

    # -- writing -----------------------------------------------------------------------------
    def append(
        self,
        table: str,
        events: Sequence[tuple[str, dict[str, Any]]],
        receipt: ReceiptBuilder,
        *,
        idempotency_key: str | None = None,
        fingerprint: str = "",
    ) -> Appended:
        """Store ``events`` (event id, row) of ``table`` in one durable transaction.

        Events whose id is already journalled for ``table`` are not stored again. With an
        ``idempotency_key`` seen before, nothing is stored: the earlier receipt is returned
        (``replayed``), or, if the earlier body's ``fingerprint`` differs, ``conflict``.
        """
        received = _now()
        with self._lock:
            cur = self._con.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                if idempotency_key is not None:
                    seen = cur.execute(
                        "SELECT fingerprint, receipt FROM requests WHERE idempotency_key = ?",
                        (idempotency_key,),
                    ).fetchone()
                    if seen is not None:
                        cur.execute("ROLLBACK")
                        earlier = json.loads(seen[1])
                        if seen[0] != fingerprint:
                            return Appended(earlier, 0, (), conflict=True)
                        return Appended(earlier, 0, (), replayed=True)
                ids = [event_id for event_id, _ in events]
                known = self._known(cur, table, ids)
                fresh = [
                    (table, event_id, json.dumps(row, separators=(",", ":")), received)
                    for event_id, row in events
                    if event_id not in known
                ]
                cur.executemany(
                    "INSERT INTO events (tbl, event_id, row, received_at) VALUES (?, ?, ?, ?)",
                    fresh,
                )
                duplicates = tuple(i for i in ids if i in known)
                answer = receipt(len(fresh), duplicates)
                if idempotency_key is not None:
                    cur.execute(
                        "INSERT INTO requests VALUES (?, ?, ?, ?)",
                        (idempotency_key, fingerprint, json.dumps(answer), received),
                    )
                cur.execute("COMMIT")  # synchronous=FULL: the WAL is fsync'd before this returns
            except BaseException:
                if self._con.in_transaction:
                    cur.execute("ROLLBACK")
                raise
        return Appended(answer, len(fresh), duplicates)

    @staticmethod
    def _known(cur: sqlite3.Cursor, table: str, ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = cur.execute(
                f"SELECT event_id FROM events WHERE tbl = ? AND event_id IN ({marks})",
                (table, *chunk),
            )
            known.update(r[0] for r in rows)
        return known

    # -- flushing ----------------------------------------------------------------------------
    def pending(self, limit: int) -> list[JournalEvent]:
        """Up to ``limit`` events not yet flushed, oldest first."""
        with self._lock:
            rows = self._con.execute(
                "SELECT seq, tbl, event_id, row FROM events WHERE flushed = 0 ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [JournalEvent(seq, tbl, eid, json.loads(row)) for seq, tbl, eid, row in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(
                self._con.execute("SELECT count(*) FROM events WHERE flushed = 0").fetchone()[0]
            )

    def mark_flushed(self, through_seq: int) -> None:
        """Every event up to ``through_seq`` is in the warehouse. (SQLite has one writer at a
        time, so no event numbered below one already read can commit later.)"""
        with self._lock:
            self._con.execute(
                "UPDATE events SET flushed = 1 WHERE flushed = 0 AND seq <= ?", (through_seq,)
            )

    def prune(self, keep_days: float) -> int:
        """Delete flushed events and idempotency keys received over ``keep_days`` ago."""
        cutoff = (datetime.now(UTC) - timedelta(days=keep_days)).isoformat(timespec="microseconds")
        with self._lock:
            gone = self._con.execute(
                "DELETE FROM events WHERE flushed = 1 AND received_at < ?", (cutoff,)
            ).rowcount
            self._con.execute("DELETE FROM requests WHERE received_at < ?", (cutoff,))
        return int(gone)

    def counts(self) -> dict[str, int]:
        """Events journalled per table (flushed or not)."""
        with self._lock:
            rows = self._con.execute("SELECT tbl, count(*) FROM events GROUP BY tbl").fetchall()
        return {str(t): int(n) for t, n in rows}
