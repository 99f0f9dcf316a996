"""Tracking ingestion: events checked, journalled durably, then appended to the warehouse.

:func:`ingest` answers a request: the events are checked (:mod:`revintel.attribution.ingestion`),
then written to the event journal (:mod:`revintel.store.event_journal`, fsync'd SQLite) in one
transaction; only then does it return the receipt the API acknowledges with. A
:class:`JournalFlusher` thread in the API process appends the journalled events to the warehouse
in micro-batches, through :meth:`Warehouse.commit` in ``append`` mode (atomic, an upsert by primary
key, as ``revintel load --append``), every ``ingestion.flush_seconds`` or as soon as
``ingestion.flush_events`` are waiting, and once at start for what a killed process journalled but
did not append. An append that fails is retried at the next flush; one repeated after a crash
changes nothing (the upsert).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Container, Iterator
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from revintel.attribution.config import IngestionSettings, load_config
from revintel.attribution.ingestion import (
    Checked,
    EventKind,
    IdempotencyKeyReused,
    conversion_rows,
    events_of,
    touchpoint_rows,
)
from revintel.core.runtime import Runtime
from revintel.data.schema import CONTRACTS
from revintel.store.event_journal import EventJournal, JournalEvent, journal_exists
from revintel.warehouse import StagedTable
from revintel.warehouse.cache import SnapshotCache

log = logging.getLogger(__name__)

ID_PREFIX = {"touchpoints": "tp", "revenue-events": "cv"}
TABLE_OF = {"touchpoints": "touchpoints", "revenue-events": "conversions"}

_CUSTOMERS: SnapshotCache[frozenset[str]] = SnapshotCache("attribution.known_customers", size=2)
_RATES: SnapshotCache[dict[tuple[str, str], float]] = SnapshotCache("attribution.fx", size=2)


@dataclass(frozen=True)
class Ingested:
    """A request's answer: its receipt, and whether it repeats an earlier request's."""

    receipt: dict[str, Any]
    replayed: bool
    stored: int


@dataclass(frozen=True)
class Flushed:
    """One append of journalled events to the warehouse."""

    events: int
    tables: dict[str, int]
    seconds: float
    through_seq: int


class _Known(Container[str]):
    """Customer ids, read from the warehouse on the first question only."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._ids: frozenset[str] | None = None

    def __contains__(self, value: object) -> bool:
        if self._ids is None:
            self._ids = _CUSTOMERS.get(self.rt.warehouse, (), lambda: _customer_ids(self.rt))
        return value in self._ids


def _customer_ids(rt: Runtime) -> frozenset[str]:
    if not rt.warehouse.has_table("customers"):
        return frozenset()
    ids = rt.warehouse.to_arrow(rt.warehouse.table("customers").select("customer_id"))
    assert isinstance(ids, pa.Table)
    return frozenset(str(v) for v in ids.column(0).to_pylist() if v is not None)


def _fx_rates(rt: Runtime) -> dict[tuple[str, str], float]:
    if not rt.warehouse.has_table("fx_rates"):
        return {}
    table = rt.warehouse.to_arrow(rt.warehouse.table("fx_rates"))
    assert isinstance(table, pa.Table)
    return {
        (str(r["month"]), str(r["currency"]).upper()): float(r["rate"])
        for r in table.to_pylist()
        if r["rate"] is not None
    }


def journal_of(rt: Runtime) -> EventJournal:
    """The home's event journal (opened per call; the caller closes it)."""
    return EventJournal(rt.settings.home)


def _fingerprint(kind: str, events: list[dict[str, Any]]) -> str:
    text = json.dumps([kind, events], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _id_maker(kind: EventKind, key: str | None) -> Callable[[int], str]:
    prefix = ID_PREFIX[kind]
    if key is None:
        return lambda _i: f"{prefix}-{uuid.uuid4().hex}"

    def made(index: int) -> str:
        digest = hashlib.sha256(f"{key}|{index}".encode()).hexdigest()
        return f"{prefix}-{digest[:32]}"

    return made


def check_events(
    rt: Runtime,
    kind: EventKind,
    events: list[dict[str, Any]],
    *,
    settings: IngestionSettings,
    idempotency_key: str | None = None,
) -> Checked:
    """Rows of ``events`` for their table, checked against the loaded customers and rates."""
    now = datetime.now(UTC).replace(tzinfo=None)
    make_id = _id_maker(kind, idempotency_key)
    known = _Known(rt)
    if kind == "touchpoints":
        return touchpoint_rows(events, id_for=make_id, customers=known, now=now)
    reporting = settings.reporting_currency
    wants_rates = any(
        isinstance(e.get("currency"), str) and e["currency"].strip().upper() != reporting
        for e in events
    )
    rates = _RATES.get(rt.warehouse, (), lambda: _fx_rates(rt)) if wants_rates else {}
    return conversion_rows(
        events,
        id_for=make_id,
        customers=known,
        reporting_currency=reporting,
        rates=rates,
        now=now,
    )


def ingest(
    rt: Runtime,
    kind: EventKind,
    body: Any,
    *,
    idempotency_key: str | None = None,
    journal: EventJournal | None = None,
    on_stored: Callable[[int], object] | None = None,
) -> Ingested:
    """Check and durably journal one request's events; the receipt to acknowledge it with.

    Raises :class:`~revintel.attribution.ingestion.InvalidEvents` (nothing stored) or
    :class:`IdempotencyKeyReused`. ``on_stored`` is told how many new events were journalled.
    """
    settings = load_config(rt.settings).ingestion
    events = events_of(body, settings.max_batch)
    fingerprint = _fingerprint(kind, events)
    own = journal is None
    journal = journal_of(rt) if journal is None else journal
    try:
        if idempotency_key is not None:
            seen = journal.seen_request(idempotency_key)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise _reused(idempotency_key)
                ids = _ids_of(events, _id_maker(kind, idempotency_key))
                return Ingested({**seen[1], "ids": ids}, True, 0)
        checked = check_events(rt, kind, events, settings=settings, idempotency_key=idempotency_key)
        ids = checked.ids

        def receipt(stored: int, duplicates: Any) -> dict[str, Any]:
            # Kept with the idempotency key without the ids (10,000 of them in a full batch):
            # a replay has the same body, so its ids are made again from it (_ids_of).
            return {
                "kind": kind,
                "table": checked.table,
                "received": len(ids),
                "stored": stored,
                "duplicates": list(duplicates),
                "durable": True,
                "visible_within_seconds": settings.flush_seconds,
            }

        done = journal.append(
            checked.table,
            list(zip(ids, checked.rows, strict=True)),
            receipt,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
    finally:
        if own:
            journal.close()
    if done.conflict:
        raise _reused(idempotency_key)
    if done.replayed:  # the same request, journalled since the check above
        return Ingested({**done.receipt, "ids": ids}, True, 0)
    if on_stored is not None and done.stored:
        on_stored(done.stored)
    return Ingested({**done.receipt, "ids": ids}, False, done.stored)


def _reused(key: str | None) -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        f"Idempotency-Key {key!r} was used before for a different request body; nothing was "
        "stored. Expected the same body as the first request with this key, or a new key."
    )


def _ids_of(events: list[dict[str, Any]], make_id: Callable[[int], str]) -> list[str]:
    """The ids a valid batch's events were stored under: their ``event_id`` or a made one."""
    ids = []
    for i, event in enumerate(events):
        given = event.get("event_id")
        ids.append(given.strip() if isinstance(given, str) else make_id(i))
    return ids


# -- appending journalled events to the warehouse ------------------------------------------
def _arrow_rows(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = CONTRACTS[table].arrow_schema()
    columns = []
    for f in schema:
        values = [r.get(f.name) for r in rows]
        array = pa.array(values, type=pa.string() if pa.types.is_timestamp(f.type) else None)
        columns.append(array.cast(f.type) if len(values) else pa.nulls(0, f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _staging_dir(home: Path) -> Path:
    # Named as loads name theirs (pid first), so a load removes it if this process died.
    folder = home / "staging" / f"{os.getpid()}-journal-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    return folder


def flush(rt: Runtime, journal: EventJournal, *, limit: int) -> Flushed | None:
    """Append up to ``limit`` journalled events to the warehouse atomically; None if none wait."""
    started = time.perf_counter()
    pending: list[JournalEvent] = journal.pending(limit)
    if not pending:
        return None
    by_table: dict[str, list[dict[str, Any]]] = {}
    for event in pending:
        by_table.setdefault(event.table, []).append(event.row)
    folder = _staging_dir(rt.settings.home)
    try:
        staged: dict[str, StagedTable] = {}
        for name, rows in by_table.items():
            (folder / name).mkdir()
            path = folder / name / "part-00000.parquet"
            pq.write_table(_arrow_rows(name, rows), path)
            staged[name] = StagedTable(name, (path,), len(rows))
        rt.warehouse.commit(staged, "append")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    through = pending[-1].seq
    journal.mark_flushed(through)
    tables = {name: len(rows) for name, rows in by_table.items()}
    return Flushed(len(pending), tables, time.perf_counter() - started, through)


def flush_all(rt: Runtime, journal: EventJournal, *, limit: int) -> list[Flushed]:
    """Append every journalled event not yet in the warehouse, ``limit`` at a time."""
    done: list[Flushed] = []
    while (step := flush(rt, journal, limit=limit)) is not None:
        done.append(step)
    return done


def flush_journal(rt: Runtime) -> list[Flushed]:
    """Append every journalled event the warehouse does not hold yet, now. The API process does
    this every ``ingestion.flush_seconds`` and at start; this is for when no server runs. An
    append is an upsert by key, so a flush racing a server's stores nothing twice."""
    if not journal_exists(rt.settings.home):
        return []
    settings = load_config(rt.settings).ingestion
    journal = EventJournal(rt.settings.home)
    try:
        return flush_all(rt, journal, limit=settings.flush_events)
    finally:
        journal.close()


class JournalFlusher:
    """A thread appending the journal to the warehouse every ``flush_seconds`` (sooner when
    ``flush_events`` wait), first at start. ``runtime()`` opens a runtime that sees the newest
    data for one flush (closed after it)."""

    PRUNE_EVERY_SECONDS = 600.0

    def __init__(
        self,
        runtime: Callable[[], AbstractContextManager[Runtime]],
        home: Path,
        settings: IngestionSettings,
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.home = home
        self._journal: EventJournal | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._waiting = 0
        self._count_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pruned = -math.inf
        self.flushes: list[Flushed] = []  # the last few, newest last
        self.last_error: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="revintel-journal", daemon=True)
        self._thread.start()

    def stored(self, events: int) -> None:
        """``events`` were journalled: flush early once enough wait."""
        with self._count_lock:
            self._waiting += events
            if self._waiting >= self.settings.flush_events:
                self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Flush what waits, then end the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _opened(self) -> EventJournal | None:
        """The journal, once a request has created it: a server that never takes an event
        leaves no journal file in its home (which may be read-only)."""
        if self._journal is None and journal_exists(self.home):
            self._journal = EventJournal(self.home)
        return self._journal

    def flush_now(self) -> list[Flushed]:
        """Append every journalled event now (one flush at a time in this process)."""
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> list[Flushed]:
        with self._count_lock:
            self._waiting = 0
        journal = self._opened()
        if journal is None:
            return []
        done: list[Flushed] = []
        if journal.pending_count():
            with self.runtime() as rt:
                done = flush_all(rt, journal, limit=self.settings.flush_events)
        self.flushes = (self.flushes + done)[-20:]
        for step in done:
            log.info(
                "appended %d journalled events %s in %.3f s",
                step.events,
                step.tables,
                step.seconds,
            )
        now = time.monotonic()
        if now - self._pruned > self.PRUNE_EVERY_SECONDS:
            journal.prune(self.settings.keep_days)
            self._pruned = now
        return done

    def _run(self) -> None:
        for _ in self._ticks():
            try:
                self.flush_now()
                self.last_error = None
            except Exception as exc:  # kept in the journal; the next tick tries again
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("appending journalled events failed; retrying at the next flush")

    def _ticks(self) -> Iterator[None]:
        yield  # at start: what a killed process journalled
        while not self._stop.is_set():
            self._wake.wait(self.settings.flush_seconds)
            self._wake.clear()
            yield
        with suppress(Exception):
            self.flush_now()
