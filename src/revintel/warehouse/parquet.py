"""The default warehouse: immutable Parquet snapshots under ``REVINTEL_HOME/warehouse/`` read
through an in-memory DuckDB, so any number of processes can read at once.

A load builds a new snapshot in a temporary folder (unchanged tables are hard-linked, not
copied), renames it into place and then replaces the ``CURRENT`` file naming the live one with
``os.replace``; a load that fails or is interrupted at any point leaves ``CURRENT`` and the
snapshot it names untouched. One load commits at a time across processes (``.commit.lock``);
a reader holds a shared lease on the snapshot it reads, so no load deletes it under the reader;
open connections on the newest snapshot are kept for its next reader (:class:`_IdleConnections`).
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import ibis
import pyarrow.parquet as pq

from revintel.core.config import Settings
from revintel.data.schema import CONTRACTS, TABLE_ORDER, contract_for
from revintel.warehouse.base import LoadMode, StagedTable, Warehouse, upsert_expr

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

SNAPSHOTS_KEPT = 3  # older snapshots are deleted; readers still on one of the last 3 keep working
LOADED_FILE = "LOADED.json"


@functools.lru_cache(maxsize=64)
def _snapshot_loaded_at(snapshot: Path) -> dict[str, datetime]:
    """Each table's load time in a snapshot (empty for snapshots written before it was kept)."""
    try:
        raw = json.loads((snapshot / LOADED_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {name: datetime.fromisoformat(when) for name, when in raw.items()}


class _Lease:
    """A shared OS lock on a snapshot's lease file, held while a reader reads the snapshot; a load
    deletes an old snapshot only when it can lock the file exclusively (no reader left)."""

    def __init__(self, path: Path) -> None:
        self._handle: BinaryIO | None = open(path, "a+b")  # noqa: SIM115 (held until release)
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_SH)

    def release(self) -> None:
        if self._handle is not None:
            with suppress(OSError):
                self._handle.close()  # closing the file releases its lock
            self._handle = None

    def __del__(self) -> None:
        self.release()


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive OS lock on ``lock_file`` (waits for another process holding it)."""
    with open(lock_file, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@functools.lru_cache(maxsize=64)
def _snapshot_files(snapshot: Path) -> dict[str, tuple[Path, ...]]:
    """Each table's Parquet files in a snapshot, listed once per process: a snapshot is written
    under a temporary name, renamed when complete and never changed after (its name is unique to
    the nanosecond), and pages ask which tables exist several times a run."""
    return {name: tuple(sorted((snapshot / name).glob("*.parquet"))) for name in TABLE_ORDER}


class ParquetWarehouse(Warehouse):
    """Parquet snapshots under ``home/warehouse`` read through in-memory DuckDB."""

    kind = "parquet"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.root = settings.warehouse_dir
        self._snapshot: Path | None = None
        self._pinned = False
        self._lease: _Lease | None = None
        self._tables: dict[str, tuple[BaseBackend, ibis.Table]] = {}

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "snapshots"

    def current_snapshot(self) -> Path | None:
        pointer = self.root / "CURRENT"
        if not pointer.exists():
            return None
        snapshot = self.snapshots_dir / pointer.read_text().strip()
        return snapshot if snapshot.is_dir() else None

    def _pinned_snapshot(self) -> Path | None:
        # Read once, then kept until refresh(): the connection opened later reads this same
        # snapshot, so what is cached under its name and what a query reads never come from two
        # loads (a load landing between the two reads once put new data under the old name).
        if not self._pinned:
            self._snapshot, self._lease = self._lease_current()
            self._pinned = True
        return self._snapshot

    def _lease_file(self, snapshot: Path) -> Path:
        """The file whose lock marks ``snapshot`` as being read (``warehouse/leases/<id>``)."""
        folder = self.root / "leases"
        folder.mkdir(exist_ok=True)
        return folder / snapshot.name

    def _lease_current(self) -> tuple[Path | None, _Lease | None]:
        """The newest snapshot, with a shared lock that keeps a load from deleting it while this
        reader reads it (a reader slower than three loads once found its files gone)."""
        for _ in range(5):
            snapshot = self.current_snapshot()
            if snapshot is None:
                return None, None
            lease = _Lease(self._lease_file(snapshot))
            if snapshot.is_dir():
                return snapshot, lease
            lease.release()  # deleted between reading CURRENT and taking the lock: read again
        return self.current_snapshot(), None

    def data_version(self) -> str | None:
        snapshot = self._pinned_snapshot()
        return None if snapshot is None else str(snapshot)

    def is_current(self) -> bool:
        # A connection reads its pinned snapshot; the CURRENT pointer names the newest load.
        return self._con is not None and self._snapshot == self.current_snapshot()

    def table(self, name: str) -> ibis.Table:
        # The snapshot is pinned and immutable while the connection is open, so its table
        # expressions (and their schemas, which DuckDB reads with a query each time) are too.
        canonical = contract_for(name).name
        con = self.con
        cached = self._tables.get(canonical)
        if cached is None or cached[0] is not con:
            cached = self._tables[canonical] = (con, super().table(canonical))
        return cached[1]

    def close(self) -> None:
        con, snapshot = self._con, self._snapshot
        self._con = None
        if con is not None and not _IDLE.give_back(self, snapshot, con, self._tables):
            with suppress(Exception):
                con.disconnect()
        self._tables = {}
        self._pinned = False
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    def table_files(self, name: str, snapshot: Path | None = None) -> list[Path]:
        snapshot = snapshot or self._pinned_snapshot()
        if snapshot is None:
            return []
        return list(_snapshot_files(snapshot)[name])

    def list_tables(self) -> list[str]:
        snapshot = self._pinned_snapshot()
        if snapshot is None:
            return []
        files = _snapshot_files(snapshot)
        return [t for t in TABLE_ORDER if files[t]]

    def _connect(self) -> BaseBackend:
        snapshot = self._pinned_snapshot()
        reused = _IDLE.take(self, snapshot)
        if reused is not None:
            con, self._tables = reused
            return con
        con = ibis.duckdb.connect()
        self._tables = {}
        if snapshot is not None:
            # One statement for all views (what ``con.read_parquet`` does one table at a time,
            # reading each schema at once); a schema is read when its table is first used.
            views = [
                f'CREATE TEMPORARY VIEW "{name}" AS SELECT * FROM read_parquet({_sql_list(files)})'
                for name in TABLE_ORDER
                if (files := self.table_files(name, snapshot))
            ]
            if views:
                con.raw_sql(";\n".join(views))
        return con

    def row_counts(self) -> dict[str, int]:
        # Parquet footers hold row counts: no scan needed.
        return {
            name: sum(pq.ParquetFile(f).metadata.num_rows for f in self.table_files(name))
            for name in self.list_tables()
        }

    def refresh(self) -> None:
        """Re-read CURRENT (after another process loaded data)."""
        self.close()
        self._snapshot = None

    def loaded_at(self) -> dict[str, datetime] | None:
        snapshot = self._pinned_snapshot()
        return None if snapshot is None else _snapshot_loaded_at(snapshot)

    def commit(self, staged: Mapping[str, StagedTable], mode: LoadMode = "replace") -> None:
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)
        # One commit at a time across processes: a second load waits for the first, so it
        # neither sweeps the first's folder in progress as stale nor builds on a snapshot the
        # first is replacing (two appends would each keep only their own rows).
        with _exclusive(self.root / ".commit.lock"):
            self._commit(staged, mode)
            self.refresh()
            self._collect_garbage()

    def _commit(self, staged: Mapping[str, StagedTable], mode: LoadMode) -> None:
        self._remove_stale_temporaries()
        old = self.current_snapshot()
        # Names sort in commit order (to the nanosecond), which _collect_garbage relies on.
        now = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9)) + f"{now % 10**9:09d}"
        new_id = stamp + "-" + uuid.uuid4().hex[:8]
        tmp = self.snapshots_dir / f".tmp-{new_id}"
        tmp.mkdir()
        try:
            for name in TABLE_ORDER:
                target = tmp / name
                if name in staged and mode == "replace":
                    self._place(staged[name].files, target, move=True)
                elif name in staged:
                    self._append(name, old, staged[name], target)
                elif old is not None and self.table_files(name, old):
                    self._place(self.table_files(name, old), target, move=False)
            # When each table was last written, kept with the data it describes (a reader sees
            # the rows and their load time of one snapshot, never a mix of two loads).
            loaded = {} if old is None else dict(_snapshot_loaded_at(old))
            when = datetime.fromtimestamp(now / 10**9, tz=UTC)
            loaded.update({name: when for name in staged})
            present = {n: t.isoformat() for n, t in loaded.items() if any((tmp / n).glob("*"))}
            (tmp / LOADED_FILE).write_text(json.dumps(present, sort_keys=True))
            _fsync_tree(tmp)
            final = self.snapshots_dir / new_id
            os.rename(tmp, final)
            pointer_tmp = self.root / f".CURRENT-{new_id}"
            pointer_tmp.write_text(new_id)
            _fsync_file(pointer_tmp)
            os.replace(pointer_tmp, self.root / "CURRENT")
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def _place(files: Sequence[Path], target: Path, *, move: bool) -> None:
        target.mkdir(parents=True, exist_ok=True)
        for i, src in enumerate(files):
            dst = target / f"part-{i:05d}.parquet"
            if move:
                shutil.move(src, dst)
            else:
                try:
                    os.link(src, dst)  # snapshots are immutable, so sharing the inode is safe
                except OSError:
                    shutil.copy2(src, dst)

    def _append(self, name: str, old: Path | None, staged: StagedTable, target: Path) -> None:
        old_files = self.table_files(name, old) if old is not None else []
        if not old_files:
            self._place(staged.files, target, move=True)
            return
        key = CONTRACTS[name].primary_key
        con = ibis.duckdb.connect()
        try:
            old_t = con.read_parquet([str(f) for f in old_files], table_name="old_rows")
            new_t = con.read_parquet([str(f) for f in staged.files], table_name="new_rows")
            target.mkdir(parents=True, exist_ok=True)
            con.to_parquet(upsert_expr(old_t, new_t, key), target / "part-00000.parquet")
        finally:
            con.disconnect()

    def _remove_stale_temporaries(self) -> None:
        # Left by a load that was killed: never referenced by CURRENT, safe to delete.
        for tmp in self.snapshots_dir.glob(".tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)
        for tmp in self.root.glob(".CURRENT-*"):
            tmp.unlink(missing_ok=True)

    def _collect_garbage(self) -> None:
        snapshots = sorted(p for p in self.snapshots_dir.iterdir() if not p.name.startswith("."))
        current = self.current_snapshot()
        for old in snapshots[:-SNAPSHOTS_KEPT]:
            if old == current:
                continue
            lease = self._lease_file(old)
            with open(lease, "a+b") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a reader still reads it: a later load deletes it
                shutil.rmtree(old, ignore_errors=True)
                lease.unlink(missing_ok=True)


class _IdleConnections:
    """Open DuckDB connections on the newest snapshot, kept for the next reader of it.

    Opening one (a database and a view per table) and reading its tables' schemas cost a request
    20-50 ms of CPU that a cached answer does not otherwise need. A snapshot never changes, so a
    connection on it serves any later reader of the same snapshot; each is used by one reader at
    a time (taken out while in use). Only the newest snapshot's connections are kept, at most
    ``size``: older ones are closed when given back.
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._snapshot: Path | None = None
        self._idle: list[tuple[BaseBackend, dict[str, tuple[BaseBackend, ibis.Table]]]] = []

    def take(
        self, wh: ParquetWarehouse, snapshot: Path | None
    ) -> tuple[BaseBackend, dict[str, tuple[BaseBackend, ibis.Table]]] | None:
        if wh.kind != "parquet" or snapshot is None:
            return None
        with self._lock:
            if self._snapshot == snapshot and self._idle:
                return self._idle.pop()
        return None

    def give_back(
        self,
        wh: ParquetWarehouse,
        snapshot: Path | None,
        con: BaseBackend,
        tables: dict[str, tuple[BaseBackend, ibis.Table]],
    ) -> bool:
        """Keep ``con`` for the next reader; False when it should be closed instead."""
        if wh.kind != "parquet" or snapshot is None or snapshot != wh.current_snapshot():
            return False
        stale: list[BaseBackend] = []
        with self._lock:
            if self._snapshot != snapshot:
                stale = [c for c, _ in self._idle]
                self._idle, self._snapshot = [], snapshot
            kept = len(self._idle) < self.size
            if kept:
                self._idle.append((con, tables))
        for old in stale:
            with suppress(Exception):
                old.disconnect()
        return kept

    def clear(self) -> None:
        with self._lock:
            idle, self._idle, self._snapshot = self._idle, [], None
        for con, _ in idle:
            with suppress(Exception):
                con.disconnect()


_IDLE = _IdleConnections()


def _sql_list(paths: Sequence[Path]) -> str:
    """A DuckDB list literal of file paths (quotes doubled)."""
    quoted = ("'" + str(p).replace("'", "''") + "'" for p in paths)
    return "[" + ", ".join(quoted) + "]"


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            _fsync_file(Path(dirpath) / f)
        _fsync_dir(Path(dirpath))
