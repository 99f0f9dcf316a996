"""`revintel load`: validate CSV and Parquet files against the table contracts, then load them.

Every file is checked before anything is written; a load with any problem changes nothing and raises
:class:`~revintel.core.errors.ValidationFailed` listing the problems (file, row, column, expected,
got). Valid rows are written batch by batch to staging Parquet files under ``REVINTEL_HOME`` and
handed to :meth:`Warehouse.commit`, which makes them live all at once (a failed or interrupted load
leaves the previous data exactly as it was). Each load, good or bad, is recorded in the app store's
load history.

Files name their table (``customers.csv``, ``Payments.parquet``) unless ``table`` says otherwise; a
folder means the ``.csv`` and ``.parquet`` files directly in it (not in its subfolders). Two files
of one table are concatenated. ``mode="append"`` upserts rows by primary key, so loading the same
file twice leaves the same rows.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as arrow
import pyarrow.parquet as pq

from revintel.app.context import AppContext
from revintel.core.errors import NotFoundError, Problem, RevintelError, ValidationFailed
from revintel.core.vocabulary import LOAD_MODES, LoadMode
from revintel.data.importer import (
    FILE_FORMATS,
    Batch,
    FileReader,
    KnownKeys,
    ProblemLog,
    SourceFile,
    Stage,
    TableValidator,
    key_hashes,
)
from revintel.data.schema import CONTRACTS, TABLE_ORDER, TableContract, contract_for, polars_types
from revintel.warehouse import StagedTable

REQUIRED_TABLE = "customers"
NOT_FILES = ("--table", "(no files)")  # what a problem names when no file is to blame
# A CRM export's deal tables load without customers (CRM accounts are prospects, not customers): a
# deal's account_id, when given, must still name a loaded customer.
CRM_TABLES = ("deals", "deal_stage_history", "deal_activities")


@dataclass(frozen=True)
class LoadProgress:
    """Reported after each batch: ``rows`` read so far from ``file``."""

    file: str
    table: str
    batch: int
    rows: int


ProgressCallback = Callable[[LoadProgress], object]


@dataclass
class LoadResult:
    """A successful load: its id in the load history, rows per table, files, duration, mode."""

    run_id: int
    tables: dict[str, int]
    files: list[str]
    seconds: float
    mode: str
    # What the load changed or doubts but did not refuse (trimmed ids, implausible dates).
    warnings: list[Problem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "seconds": round(self.seconds, 3),
            "rows": self.rows,
            "files": list(self.files),
            "tables": dict(self.tables),
            "tables_rows": [{"table": name, "rows": rows} for name, rows in self.tables.items()],
            "warnings": [str(w) for w in self.warnings],
        }


@dataclass(frozen=True)
class FileReport:
    """One input file: the table it holds, its data rows and its problems (the first few)."""

    file: str
    table: str | None
    format: str | None
    rows: int
    problem_count: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [asdict(p) for p in self.problems]
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class ValidationReport:
    """What a load would do: every file with its table, rows and problems."""

    files: list[FileReport]
    problems: list[Problem]
    total: int
    counts: dict[str, int]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.total == 0

    @property
    def tables(self) -> dict[str, int]:
        rows: dict[str, int] = {}
        for report in self.files:
            if report.table is not None:
                rows[report.table] = rows.get(report.table, 0) + report.rows
        return {name: rows[name] for name in TABLE_ORDER if name in rows}

    def error(self) -> ValidationFailed:
        return ValidationFailed(list(self.problems), self.total, dict(self.counts))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "total": self.total,
            "tables": self.tables,
            "files": [f.as_dict() for f in self.files],
            "problems": [asdict(p) for p in self.problems],
            "counts": dict(self.counts),
            "warnings": [asdict(w) for w in self.warnings],
        }


# -- public API -----------------------------------------------------------------------------------


def validate_paths(
    ctx: AppContext,
    paths: Sequence[Path],
    *,
    table: str | None = None,
    mode: LoadMode = "replace",
) -> ValidationReport:
    """Check files as a load would, writing nothing (for the dashboard's upload form)."""
    _check_mode(mode)
    sources, problems = resolve_sources(paths, table=table)
    return _validate(ctx, sources, problems, mode=mode, staging=None)


def load_paths(
    ctx: AppContext,
    paths: Sequence[Path],
    *,
    table: str | None = None,
    mode: LoadMode = "replace",
    source: str = "cli",
    progress: ProgressCallback | None = None,
) -> LoadResult:
    """Validate every file, then load them all atomically; record the load in the history.

    Raises :class:`ValidationFailed` (nothing written; the failed run is in the load history).
    """
    _check_mode(mode)
    started = time.perf_counter()
    sources, problems = resolve_sources(paths, table=table)
    # Every file named, including those that could not be used (their problems say why).
    files = [s.label for s in sources]
    files += [p.file for p in problems if p.file not in (*files, *NOT_FILES)]
    return _load(ctx, sources, problems, files, mode, source, progress, started)


def _load(
    ctx: AppContext,
    sources: Sequence[SourceFile],
    problems: Sequence[Problem],
    files: list[str],
    mode: LoadMode,
    source: str,
    progress: ProgressCallback | None,
    started: float,
    emptied: Sequence[str] = (),
    emptied_notes: Sequence[Problem] = (),
) -> LoadResult:
    """Validate and load ``sources``; ``emptied`` tables are replaced by empty ones
    (``emptied_notes`` say why, as warnings)."""
    ctx.store.reconcile_loads()  # loads killed before this one show as interrupted
    run_id = ctx.store.start_load(files, mode, source)
    staging = Staging(ctx.settings.home)
    try:
        report = _validate(
            ctx,
            sources,
            problems,
            mode=mode,
            staging=staging,
            progress=progress,
            emptied=emptied,
        )
        if not report.ok:
            raise report.error()
        for name in emptied:
            staging.add_empty(CONTRACTS[name])
        report.warnings.extend(emptied_notes)
        staged = staging.staged()
        ctx.warehouse.commit(staged, mode)
    except BaseException as exc:
        with suppress(Exception):
            ctx.store.finish_load(run_id, status="failed", message=_failure_message(exc))
        raise
    finally:
        staging.discard()
    ctx.refresh()
    tables = {name: staged[name].rows for name in TABLE_ORDER if name in staged}
    notes = "\n".join(f"warning: {w}" for w in report.warnings) or None
    ctx.store.finish_load(run_id, status="success", tables=tables, message=notes)
    return LoadResult(
        run_id=run_id,
        tables=tables,
        files=files,
        seconds=time.perf_counter() - started,
        mode=mode,
        warnings=list(report.warnings),
    )


# -- loading a CRM export through a mapping file (docs/pipeline.md, "Importing a CRM export") ----


@dataclass(frozen=True)
class MappedSource(SourceFile):
    """A table made by a mapping, staged as a CSV; problems name its source file and mapping."""

    shown_as: str = ""

    @property
    def label(self) -> str:
        return self.shown_as or str(self.path)


def _mapped_sources(
    ctx: AppContext, folder: Path, mapping_path: Path
) -> tuple[list[SourceFile], Path]:
    """Apply the mapping to the export in ``folder``; each table written as a CSV to a folder
    under ``REVINTEL_HOME/staging`` (the caller removes it). Raises :class:`ValidationFailed`."""
    from revintel.data.mapping import apply_mapping, read_mapping

    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationFailed(
            [Problem(str(folder), "not a folder", expected="the folder of the CRM export")]
        )
    mapping = read_mapping(mapping_path)
    tables = apply_mapping(mapping, folder)
    root = ctx.settings.home / "staging"
    _remove_abandoned(root)
    out = root / f"{os.getpid()}-mapped-{uuid.uuid4().hex[:12]}"
    out.mkdir(parents=True)
    sources: list[SourceFile] = []
    for mapped in tables:
        path = mapped.write_staging(out)
        sources.append(MappedSource(path, CONTRACTS[mapped.table], "csv", shown_as=mapped.label))
    sources.sort(key=lambda s: TABLE_ORDER.index(s.contract.name))
    return sources, out


def validate_mapped(
    ctx: AppContext, folder: Path, mapping: Path, *, mode: LoadMode = "replace"
) -> ValidationReport:
    """Check a CRM export through its mapping as :func:`load_mapped` would, writing nothing."""
    _check_mode(mode)
    sources, out = _mapped_sources(ctx, folder, mapping)
    try:
        return _validate(ctx, sources, [], mode=mode, staging=None)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def load_mapped(
    ctx: AppContext,
    folder: Path,
    mapping: Path,
    *,
    mode: LoadMode = "replace",
    source: str = "cli",
    progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load a CRM export (a folder of files, unedited) through a mapping file, atomically.

    The mapping makes canonical tables (:mod:`revintel.data.mapping`); they are then validated and
    loaded like any other files. Raises :class:`ValidationFailed` naming the mapping key, or the
    source file, row and column, of each problem; nothing is written then.
    """
    _check_mode(mode)
    started = time.perf_counter()
    try:
        sources, out = _mapped_sources(ctx, folder, mapping)
    except ValidationFailed as exc:  # the mapping or the export: a failed load, in the history
        ctx.store.reconcile_loads()
        run_id = ctx.store.start_load([str(folder), str(mapping)], mode, source)
        ctx.store.finish_load(run_id, status="failed", message=_failure_message(exc))
        raise
    try:
        files = [s.label for s in sources]
        emptied = _emptied_deal_tables(ctx, sources, mode)
        notes = [
            Problem(
                str(mapping),
                f"table {name} emptied: its rows belong to the deals this load replaces, and the "
                "mapping does not make it",
                expected=f"[tables.{name}] in the mapping to load it from the export",
            )
            for name in emptied
        ]
        return _load(ctx, sources, [], files, mode, source, progress, started, emptied, notes)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _emptied_deal_tables(
    ctx: AppContext, sources: Sequence[SourceFile], mode: LoadMode
) -> list[str]:
    """The loaded deal tables a mapped load replacing their parent leaves out: they are emptied.

    A CRM export replaces the deal tables together: history or activities of the deals it
    replaces (from the demo, or another CRM) would otherwise be orphans, and the export cannot
    load them again.
    """
    if mode != "replace":
        return []
    made = {s.contract.name for s in sources}
    loaded = set(ctx.warehouse.list_tables())
    return [
        name
        for name in CRM_TABLES
        if name not in made
        and name in loaded
        and any(fk.table in made for fk in CONTRACTS[name].foreign_keys)
    ]


def resolve_sources(
    paths: Sequence[Path], *, table: str | None = None
) -> tuple[list[SourceFile], list[Problem]]:
    """The files to read (folders expanded, one level) and the table of each, in load order."""
    problems: list[Problem] = []
    forced: TableContract | None = None
    if table is not None:
        try:
            forced = contract_for(table)
        except NotFoundError:
            problems.append(
                Problem(
                    NOT_FILES[0],
                    "unknown table",
                    expected="one of " + ", ".join(CONTRACTS),
                    got=table,
                )
            )
            return [], problems
    if not paths:
        problems.append(Problem(NOT_FILES[1], "nothing to load", expected="CSV or Parquet files"))
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(_folder_files(path, problems))
        elif path.is_symlink():
            # A link given as a file could point anywhere (/etc/passwd): only files named by
            # their own path are read. (A folder given as a link is the folder the user named.)
            problems.append(
                Problem(
                    str(path),
                    "a symbolic link; revintel reads a file only by its own path",
                    expected="the path of the file itself, not of a link to it",
                )
            )
        elif path.is_file():
            if path.suffix.lower() not in FILE_FORMATS:
                problems.append(
                    Problem(
                        str(path),
                        "unsupported file type",
                        expected="a .csv or .parquet file",
                        got=path.suffix or "(no extension)",
                    )
                )
            else:
                files.append(path)
        elif path.exists():
            problems.append(_not_a_regular_file(path))
        else:
            problems.append(Problem(str(path), "file or folder not found"))
    sources: list[SourceFile] = []
    seen: set[Path] = set()
    for path in files:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        contract = forced
        if contract is None:
            try:
                contract = contract_for(path.stem)
            except NotFoundError:
                problems.append(
                    Problem(
                        str(path),
                        "cannot tell which table this file holds from its name",
                        expected="a file named after its table ("
                        + ", ".join(CONTRACTS)
                        + "), or --table NAME",
                        got=path.stem,
                    )
                )
                continue
        sources.append(SourceFile(path, contract, FILE_FORMATS[path.suffix.lower()]))
    sources.sort(key=lambda s: TABLE_ORDER.index(s.contract.name))  # stable: keeps file order
    return sources, problems


def _folder_files(folder: Path, problems: list[Problem]) -> list[Path]:
    """The .csv and .parquet files directly in ``folder``. A link in it is followed only to a file
    inside the folder; one pointing outside it is refused (a problem), never read."""
    inside = folder.resolve()
    refused = len(problems)
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.suffix.lower() not in FILE_FORMATS:
            continue
        if entry.is_symlink() and not entry.resolve().is_relative_to(inside):
            problems.append(
                Problem(
                    str(entry),
                    f"a symbolic link to a file outside {folder}; it is not read",
                    expected="files inside the folder given (copy the file in instead)",
                )
            )
        elif entry.is_file():
            found.append(entry)
        elif entry.exists() and not entry.is_dir():
            problems.append(_not_a_regular_file(entry))
    if not found and len(problems) == refused:
        problems.append(
            Problem(
                str(folder),
                "no .csv or .parquet files in this folder (subfolders are not read)",
                expected="a folder holding customers.csv, payments.parquet, …",
            )
        )
    return found


def _not_a_regular_file(path: Path) -> Problem:
    return Problem(
        str(path),
        "not a regular file (a device, pipe or socket); it is not read",
        expected="a .csv or .parquet file",
    )


# -- validation -----------------------------------------------------------------------------------


def _validate(
    ctx: AppContext,
    sources: Sequence[SourceFile],
    problems: Sequence[Problem],
    *,
    mode: LoadMode,
    staging: Staging | None,
    progress: ProgressCallback | None = None,
    emptied: Sequence[str] = (),
) -> ValidationReport:
    log = ProblemLog(ctx.settings.max_problems)
    for problem in problems:
        log.add(problem, stage=Stage.FILE)
    tables: dict[str, list[SourceFile]] = {}
    for source in sources:
        log.register(source.label)
        tables.setdefault(source.contract.name, []).append(source)
    # Keys other tables refer to (in this load, or already loaded) are kept while reading.
    referenced = {(fk.table, fk.ref_column) for c in CONTRACTS.values() for fk in c.foreign_keys}
    warehouse_keys = _WarehouseKeys(ctx)
    validators: dict[str, TableValidator] = {}
    file_rows: dict[str, int] = {}
    for name, table_sources in tables.items():
        contract = CONTRACTS[name]
        validator = TableValidator(
            contract,
            log,
            references=_references(contract, validators, warehouse_keys, mode),
            keep=sorted({column for (t, column) in referenced if t == name}),
        )
        for source in table_sources:
            reader = FileReader(source, log, max_cell_bytes=ctx.settings.max_cell_bytes)
            for batch in reader.batches():
                validator.check(batch)
                if staging is not None and log.total == 0:
                    staging.add(contract, batch)
                if progress is not None:
                    progress(LoadProgress(source.label, name, batch.number, reader.rows))
            if staging is not None and log.total == 0:
                staging.end_file(contract, source)
            validator.add_file(reader)
            file_rows[source.label] = reader.rows
        validator.finish()
        validators[name] = validator
    if sources:
        _check_required_table(validators, warehouse_keys, sources, log)
        if mode == "replace":
            _check_loaded_children(validators, warehouse_keys, log, emptied)
    files = [
        FileReport(
            file=s.label,
            table=s.contract.name,
            format=s.format,
            rows=file_rows.get(s.label, 0),
            problem_count=log.by_file[s.label],
            problems=log.shown(s.label),
        )
        for s in sources
    ]
    labels = {s.label for s in sources}
    files += [
        FileReport(p.file, None, None, 0, log.by_file[p.file], log.shown(p.file))
        for p in dict.fromkeys(problems)
        if p.file not in labels
    ]
    return ValidationReport(files, log.shown(), log.total, dict(log.counts), list(log.warnings))


class _WarehouseKeys:
    """Reads what validation needs from the live warehouse, once."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._tables: list[str] | None = None

    @property
    def tables(self) -> list[str]:
        if self._tables is None:
            self._tables = list(self.ctx.warehouse.list_tables())
        return self._tables

    def hashes(self, table: str, column: str) -> pl.Series | None:
        """:func:`key_hashes` of a column's distinct non-blank values; None if not loaded."""
        if table not in self.tables:
            return None
        values = self.ctx.warehouse.table(table).select(column).distinct().to_pyarrow()
        frame = pl.from_arrow(values)
        assert isinstance(frame, pl.DataFrame)
        dtype = polars_types()[CONTRACTS[table].column(column).type]
        return key_hashes(frame.get_column(column).cast(dtype).drop_nulls())

    def distinct(self, table: str, column: str) -> pl.Series | None:
        """Distinct non-blank values of a column; None if the table is not loaded."""
        if table not in self.tables:
            return None
        values = self.ctx.warehouse.table(table).select(column).distinct().to_pyarrow()
        frame = pl.from_arrow(values)
        assert isinstance(frame, pl.DataFrame)
        return frame.get_column(column).drop_nulls()


def _references(
    contract: TableContract,
    validators: Mapping[str, TableValidator],
    warehouse: _WarehouseKeys,
    mode: LoadMode,
) -> dict[str, KnownKeys | None]:
    """For each foreign key: the keys it may take (this load's, the warehouse's, or both)."""
    references: dict[str, KnownKeys | None] = {}
    for fk in contract.foreign_keys:
        parent = validators.get(fk.table)
        if parent is not None and not parent.complete:
            references[fk.column] = None  # its problems are reported; don't pile orphans on them
            continue
        parts: list[pl.Series] = []
        if parent is not None:
            parts.append(parent.kept_hashes(fk.ref_column))
        if parent is None or mode == "append":
            live = warehouse.hashes(fk.table, fk.ref_column)
            if live is not None:
                parts.append(live)
        loaded = parent is not None or fk.table in warehouse.tables
        if fk.when_loaded and not loaded:
            references[fk.column] = None  # the values stand alone until the table is loaded
            continue
        hashes = pl.concat(parts).unique() if parts else pl.Series([], dtype=pl.UInt64)
        references[fk.column] = KnownKeys(fk.table, fk.ref_column, hashes, loaded)
    return references


def _check_required_table(
    validators: Mapping[str, TableValidator],
    warehouse: _WarehouseKeys,
    sources: Sequence[SourceFile],
    log: ProblemLog,
) -> None:
    if REQUIRED_TABLE in validators or REQUIRED_TABLE in warehouse.tables:
        return
    if validators and all(CONTRACTS[name].standalone or name in CRM_TABLES for name in validators):
        return  # bring-your-own predictions, or a CRM's deals: they stand without customers
    log.add(
        Problem(
            sources[0].label,
            f"table {REQUIRED_TABLE} is not loaded: it is the one table every load needs",
            expected=f"{REQUIRED_TABLE}.csv (or .parquet) in this load, or loaded before",
        ),
        stage=Stage.REFERENCE,
    )


def _check_loaded_children(
    validators: Mapping[str, TableValidator],
    warehouse: _WarehouseKeys,
    log: ProblemLog,
    emptied: Sequence[str] = (),
) -> None:
    """Replacing a table must not orphan rows of a loaded table that this load leaves in place."""
    for child in warehouse.tables:
        if child in validators or child in emptied:
            continue
        for fk in CONTRACTS[child].foreign_keys:
            parent = validators.get(fk.table)
            if parent is None or not parent.complete:
                continue
            used = warehouse.distinct(child, fk.column)
            if used is None or len(used) == 0:
                continue
            missing = used.filter(
                ~key_hashes(used).is_in(parent.kept_hashes(fk.ref_column).implode())
            )
            if len(missing) == 0:
                continue
            values = [str(v) for v in missing.sort().head(log.limit).to_list()]
            label = parent.sources[0].label
            message = (
                f"table {child}, already loaded and not in this load, uses {fk.ref_column} "
                f"values missing from the new {fk.table}"
            )
            expected = f"load {child} again with this file, or load with --append"
            for value in values:
                log.add(
                    Problem(label, message, column=fk.ref_column, expected=expected, got=value),
                    stage=Stage.REFERENCE,
                )
            if len(missing) > len(values):
                kind = log.kind(label, fk.ref_column, message)
                log.count(kind, label, len(missing) - len(values))


# -- staging --------------------------------------------------------------------------------------


class Staging:
    """Validated batches written as Parquet under ``home/staging/<load>/<table>/``.

    The folder is inside ``REVINTEL_HOME``, on the warehouse's filesystem, so the commit moves the
    files with a rename. Batches are written by a background thread (Parquet encoding releases the
    GIL) while the next batch is read and checked; at most ``PENDING`` wait. Folders left by a
    killed load are removed by the next load.
    """

    PENDING = 2

    def __init__(self, home: Path) -> None:
        root = home / "staging"
        _remove_abandoned(root)
        self.dir = root / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._files: dict[str, list[Path]] = {}
        self._rows: dict[str, int] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="revintel-staging")
        self._pending: deque[Future[None]] = deque()
        self._deferred: dict[SourceFile, int] = {}  # file -> rows of batches stored as they are

    def add(self, contract: TableContract, batch: Batch) -> None:
        """Stage a validated batch: write it, or note it if its file can be copied as it is."""
        deferred = self._deferred.pop(batch.source, None)
        if batch.stored_as_is and (deferred is not None or batch.number == 0):
            self._deferred[batch.source] = (deferred or 0) + batch.height
            return
        if deferred:  # the earlier batches of this file were not written: write them now
            earlier = pl.scan_parquet(batch.source.path).head(deferred).collect()
            self._write(contract, earlier.select(contract.column_names))
        self._write(contract, batch.frame)

    def add_empty(self, contract: TableContract) -> None:
        """Stage ``contract``'s table with no rows (it replaces the loaded one)."""
        path = self._next_path(contract)
        pq.write_table(contract.arrow_schema().empty_table(), path)
        self._files[contract.name].append(path)
        self._rows[contract.name] = self._rows.get(contract.name, 0)

    def end_file(self, contract: TableContract, source: SourceFile) -> None:
        """After a file's last batch: copy it if every batch could be stored as it is."""
        rows = self._deferred.pop(source, None)
        if rows is None:
            return
        path = self._next_path(contract)
        shutil.copyfile(source.path, path)  # a kernel copy; never a link to the user's file
        self._files[contract.name].append(path)
        self._rows[contract.name] = self._rows.get(contract.name, 0) + rows

    def _next_path(self, contract: TableContract) -> Path:
        files = self._files.setdefault(contract.name, [])
        folder = self.dir / contract.name
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"part-{len(files):05d}.parquet"

    def _write(self, contract: TableContract, frame: pl.DataFrame) -> None:
        path = self._next_path(contract)
        self._pending.append(self._writer.submit(_write_part, contract, frame, path))
        self._files[contract.name].append(path)
        self._rows[contract.name] = self._rows.get(contract.name, 0) + frame.height
        while len(self._pending) > self.PENDING:
            self._pending.popleft().result()

    def staged(self) -> dict[str, StagedTable]:
        """The staged tables, once every pending batch is written."""
        while self._pending:
            self._pending.popleft().result()
        return {
            name: StagedTable(name, tuple(self._files[name]), self._rows[name])
            for name in TABLE_ORDER
            if name in self._files
        }

    def discard(self) -> None:
        for future in self._pending:
            future.cancel()
        self._writer.shutdown(wait=True)
        self._pending.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


# DuckDB parallelises a scan by row group; pyarrow's default (1M rows) left most tables in one
# group, read by one thread. DuckDB's own default size lets every core work.
ROW_GROUP_ROWS = 122_880


def _write_part(contract: TableContract, frame: pl.DataFrame, path: Path) -> None:
    pq.write_table(storage_table(contract, frame), path, row_group_size=ROW_GROUP_ROWS)


def storage_table(contract: TableContract, frame: pl.DataFrame) -> arrow.Table:
    """Rows in the warehouse's storage schema: every contract column, absent ones as nulls."""
    missing = [c for c in contract.columns if c.name not in frame.columns]
    full = frame.with_columns(
        pl.lit(None, dtype=polars_types()[c.type]).alias(c.name) for c in missing
    ).select(contract.column_names)
    return full.to_arrow().cast(contract.arrow_schema())


def _remove_abandoned(root: Path) -> None:
    if not root.is_dir():
        return
    import psutil

    for folder in root.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


# -- helpers --------------------------------------------------------------------------------------


def _check_mode(mode: str) -> None:
    if mode not in LOAD_MODES:
        raise RevintelError(f"load mode {mode!r}: expected one of {', '.join(LOAD_MODES)}")


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, RevintelError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted; nothing was loaded"
    return f"{type(exc).__name__}: {exc}; nothing was loaded"
