"""Reading input files in batches and checking them against their table contracts.

A CSV or Parquet file is read in batches (never whole), so a file of any size fits in memory:

1. :class:`FileReader` checks the file itself (empty, not UTF-8, header-only, missing or unknown
   columns, column types) and then yields batches (:class:`Batch`) whose values are parsed to
   the contract's types. A cell that does not parse (``"2024-13-45"`` in a date column) is a problem
   naming the file, row, column, what was expected and what was found.
2. :class:`TableValidator` checks each batch against the contract's pandera schema (the contract of
   record: allowed values, bounds, blanks, cross-column rules) and checks what one batch cannot see:
   primary keys unique across all batches and files, and foreign keys against the referenced table.
3. :class:`ProblemLog` counts every problem and keeps a few examples of each kind, so a file with a
   million bad rows gives a short report.

Rows are numbered as a spreadsheet user counts them: the header is row 0, the first data row is
row 1 (and is on line 2 of a CSV file).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import IntEnum
from pathlib import Path
from typing import Literal

import numpy as np
import pandera.errors as pandera_errors
import pandera.polars as pandera
import polars as pl
import pyarrow as arrow
import pyarrow.csv as arrow_csv
import pyarrow.parquet as pq

from revintel.core.errors import Problem, ValidationFailed
from revintel.data.schema import (
    MONTH_PATTERN,
    ColumnSpec,
    ColumnType,
    ForeignKey,
    TableContract,
    plausible_dates,
    polars_types,
)

FileFormat = Literal["csv", "parquet"]
FILE_FORMATS: dict[str, FileFormat] = {".csv": "csv", ".parquet": "parquet"}

# A CSV block this size holds ~200k typical rows: big enough to keep per-batch overhead small,
# small enough that a 50 MB file is read in several batches.
CSV_BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 1_000_000
# Default cap on one value's size (Settings.max_cell_bytes): a longer value is a problem, so no
# 20 MB cell reaches the warehouse, a page or an export. The header line is read whole: capped too.
MAX_CELL_BYTES = 64 << 10
HEADER_LINE_BYTES = 1 << 20
# A problem quotes at most this many characters of the value it is about, never more of the file.
QUOTE_CHARS = 80

# Written by SQL and spreadsheet exports for a missing value; read as blank in non-text columns.
NULL_MARKERS = ("NULL", "null", "Null", "NA", "N/A", "n/a", "None", "none", "NaN", "nan", r"\N")
BOOL_TEXT = {
    **dict.fromkeys(("true", "t", "yes", "y", "1"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0"), False),
}
BOOL_FAST = {
    **BOOL_TEXT,
    **{k.capitalize(): v for k, v in BOOL_TEXT.items()},
    **{k.upper(): v for k, v in BOOL_TEXT.items()},
}
UTF8_EXPECTED = "UTF-8 text (in Excel: Save As › 'CSV UTF-8')"
CANNOT_READ: dict[ColumnType, str] = {
    "str": "not text",
    "int": "not a whole number",
    "float": "not a number",
    "bool": "not true/false",
    "date": "not a valid date",
    "datetime": "not a valid date-time",
    "month": "not a valid month",
}
InputKind = Literal["string", "int", "float", "bool", "date", "datetime", "null", "other"]
ACCEPTED_INPUT: dict[ColumnType, tuple[InputKind, ...]] = {
    "str": ("string", "int", "null"),
    "int": ("string", "int", "float", "null"),
    "float": ("string", "int", "float", "null"),
    "bool": ("string", "bool", "int", "null"),
    "date": ("string", "date", "datetime", "null"),
    "datetime": ("string", "date", "datetime", "null"),
    "month": ("string", "null"),
}
HASH_SEED = 0x5EED


# -- problems -------------------------------------------------------------------------------------


class Stage(IntEnum):
    """Where a problem sits in the chain of causes; a report lists earlier stages first.

    One cause often produces many problems: a row that cannot be split into cells, a value
    stored twice. Listing by stage puts the cause before what follows from it.
    """

    FILE = 0  # the file or its header cannot be used (nothing after it is read)
    STRUCTURE = 1  # a row cannot be split into cells, or a cell cannot be stored (bytes, size)
    VALUE = 2  # a cell does not parse, or breaks a rule of its column or row
    KEY = 3  # a key repeats another row's (listed at the row that holds it first)
    REFERENCE = 4  # a reference to another table, or a table this load needs


class ProblemLog:
    """Every problem found in one load: counted all, a few examples of each kind kept.

    A kind is (file, column, message); ``limit`` examples are kept per kind and :meth:`shown` picks
    ``limit`` of them round-robin across kinds (earlier stages first), so one bad column cannot
    hide the others and a root cause is never crowded out by what follows from it.

    Order of :meth:`shown` (the report's order): by file (load order), then by :class:`Stage`,
    then by row. A repeated key is anchored at the row that holds the key first (possibly in an
    earlier file), so the repeats of one key come together, after the problems of that file's
    earlier stages. Also kept: :attr:`warnings`, notes that do not stop the load.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self.counts: dict[str, int] = {}
        self.by_file: Counter[str] = Counter()
        self.warnings: list[Problem] = []  # one per kind of note; its message carries the count
        self._examples: dict[str, list[tuple[Problem, tuple[str, int]]]] = {}
        self._stages: dict[str, Stage] = {}
        self._file_order: dict[str, int] = {}

    def register(self, file: str) -> None:
        """Fix the order in which files are listed in the report."""
        self._file_order.setdefault(file, len(self._file_order))

    @staticmethod
    def kind(file: str, column: str | None, message: str) -> str:
        return f"{file}, column '{column}': {message}" if column else f"{file}: {message}"

    def room(self, kind: str) -> int:
        return self.limit - len(self._examples.get(kind, ()))

    def add(
        self,
        problem: Problem,
        count: int = 1,
        *,
        stage: Stage = Stage.VALUE,
        anchor: tuple[str, int] | None = None,
    ) -> None:
        """Log ``count`` problems of ``problem``'s kind, keeping ``problem`` as an example.

        ``anchor`` (file, row) is where the problem's cause is, when elsewhere (a repeated key's
        first row); the report lists the problem there.
        """
        kind = self.kind(problem.file, problem.column, problem.message)
        self._stages.setdefault(kind, stage)
        if self.room(kind) > 0:
            where = anchor or (problem.file, -1 if problem.row is None else problem.row)
            self._examples.setdefault(kind, []).append((problem, where))
        self.count(kind, problem.file, count)

    def add_rows(
        self,
        file: str,
        message: str,
        *,
        rows: np.ndarray,
        column: str | None = None,
        expected: str | None = None,
        got: Callable[[int], Sequence[str | None]] | None = None,
        stage: Stage = Stage.VALUE,
    ) -> None:
        """Log one problem per row; ``got(k)`` returns the values found in the first ``k`` rows."""
        n = len(rows)
        if n == 0:
            return
        kind = self.kind(file, column, message)
        self._stages.setdefault(kind, stage)
        k = min(n, max(self.room(kind), 0))
        values: Sequence[str | None] = got(k) if got is not None and k else [None] * k
        examples = self._examples.setdefault(kind, [])
        for row, value in zip(rows[:k].tolist(), values, strict=True):
            examples.append(
                (Problem(file, message, int(row), column, expected, value), (file, int(row)))
            )
        self.count(kind, file, n)

    def count(self, kind: str, file: str, n: int) -> None:
        """Count ``n`` more problems of a kind without keeping examples."""
        self.register(file)
        self.total += n
        self.counts[kind] = self.counts.get(kind, 0) + n
        self.by_file[file] += n

    def warn(self, problem: Problem) -> None:
        """Note something the load changed or doubts but does not refuse (trimmed ids, dates)."""
        self.register(problem.file)
        self.warnings.append(problem)

    def shown(self, file: str | None = None) -> list[Problem]:
        """At most ``limit`` examples (of one file, if given), in the report's order (see class)."""
        kinds = sorted(
            (kind for kind, examples in self._examples.items() if examples),
            key=lambda kind: self._stages.get(kind, Stage.VALUE),
        )
        queues = [
            (self._stages.get(kind, Stage.VALUE), self._examples[kind])
            for kind in kinds
            if file is None or self._examples[kind][0][0].file == file
        ]
        picked: list[tuple[Problem, tuple[str, int], Stage]] = []
        depth = 0
        while len(picked) < self.limit and any(depth < len(q) for _, q in queues):
            for stage, queue in queues:
                if depth < len(queue) and len(picked) < self.limit:
                    picked.append((*queue[depth], stage))
            depth += 1
        order = self._file_order
        last = 1 << 30

        def key(entry: tuple[Problem, tuple[str, int], Stage]) -> tuple[int, ...]:
            problem, (anchor_file, anchor_row), stage = entry
            return (
                order.get(anchor_file, last),
                int(stage),
                anchor_row,
                order.get(problem.file, last),
                -1 if problem.row is None else problem.row,
            )

        return [problem for problem, *_ in sorted(picked, key=key)]

    def error(self) -> ValidationFailed:
        return ValidationFailed(self.shown(), self.total, dict(self.counts))


# -- files and batches ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """One input file and the table it holds. ``label`` is how problems name it."""

    path: Path
    contract: TableContract
    format: FileFormat

    @property
    def label(self) -> str:
        return str(self.path)


class _RowNumbers:
    """Maps positions among the rows read to data row numbers, counting skipped malformed rows."""

    def __init__(self) -> None:
        self._skipped: list[int] = []  # 0-based data index of each skipped row, in file order

    def skip(self, data_index: int) -> None:
        self._skipped.append(data_index)

    def rows(self, positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions, dtype=np.int64)
        if not self._skipped:
            return positions + 1
        # The j-th skipped row sits before kept position skipped[j] - j.
        inserted_at = np.asarray(self._skipped, dtype=np.int64) - np.arange(len(self._skipped))
        return positions + np.searchsorted(inserted_at, positions, side="right") + 1


@dataclass
class Batch:
    """Rows of one batch: ``frame`` holds the contract's types, ``raw`` the values as read."""

    source: SourceFile
    number: int  # 0-based batch number within the file
    frame: pl.DataFrame
    raw: pl.DataFrame
    start: int  # position of the first row among the rows read from the file
    failed: dict[str, np.ndarray]  # column -> batch indices of cells that did not parse
    numbers: _RowNumbers = field(repr=False)
    # The file already holds these rows exactly as the warehouse stores them (see FileReader).
    stored_as_is: bool = False

    @property
    def height(self) -> int:
        return self.frame.height

    def rows(self, indices: np.ndarray) -> np.ndarray:
        """1-based data row numbers of batch indices."""
        return self.numbers.rows(np.asarray(indices, dtype=np.int64) + self.start)

    def texts(self, column: str, indices: np.ndarray) -> list[str | None]:
        """The values of ``column`` at ``indices`` as the file holds them (long ones cut short)."""
        values = self.raw.get_column(column).gather(pl.Series(indices, dtype=pl.UInt32))
        return [None if v is None else _shorten(str(v)) for v in values.to_list()]

    def valid_rows(self, columns: Sequence[str]) -> np.ndarray:
        """Mask of rows whose ``columns`` all parsed."""
        mask = np.ones(self.height, dtype=bool)
        for column in columns:
            if column in self.failed:
                mask[self.failed[column]] = False
        return mask


@dataclass
class _Noted:
    """Cells of one column a load warns about: how many, the first few rows, the first value."""

    ROWS = 5

    count: int = 0
    rows: list[int] = field(default_factory=list)
    first: str | None = None


class FileReader:
    """Checks one file's header, then yields its rows in parsed batches (see module docstring).

    After iterating, ``rows`` is the number of data rows read and ``complete`` tells whether the
    whole file could be read (no file-level problem), so its keys can be trusted by other tables.
    """

    def __init__(
        self,
        source: SourceFile,
        log: ProblemLog,
        *,
        columns: Sequence[str] | None = None,
        csv_block_bytes: int | None = None,
        parquet_batch_rows: int | None = None,
        max_cell_bytes: int | None = None,
        today: date | None = None,
    ) -> None:
        self.source = source
        self.log = log
        self.only = tuple(columns) if columns is not None else None
        self.csv_block_bytes = csv_block_bytes or CSV_BLOCK_BYTES
        self.parquet_batch_rows = parquet_batch_rows or PARQUET_BATCH_ROWS
        self.max_cell_bytes = max_cell_bytes or MAX_CELL_BYTES
        self.dates_from, self.dates_to = plausible_dates(today or date.today())
        self.rows = 0
        self.batches_read = 0
        self.complete = False
        self.present: list[str] = []  # canonical columns present in the file, in contract order
        # A Parquet file with exactly the storage schema whose values need no change can be
        # copied into the warehouse as it is instead of being written again.
        self.storage_schema = False
        # Whether a value may hold a NUL: a CSV file is searched for one once (memchr over the
        # bytes costs less than a search of every text column of every batch).
        self._nul_possible = True
        self._numbers = _RowNumbers()
        # Warnings for the load report, per column.
        self._trimmed: dict[str, _Noted] = {}
        self._odd_dates: dict[str, _Noted] = {}
        log.register(source.label)

    @property
    def contract(self) -> TableContract:
        return self.source.contract

    def _problem(self, message: str, stage: Stage = Stage.FILE, **where: object) -> None:
        self.log.add(Problem(self.source.label, message, **where), stage=stage)  # type: ignore[arg-type]

    def batches(self) -> Iterator[Batch]:
        """The file's rows, batch by batch; file-level problems go to the log (and end it)."""
        try:
            size = self.source.path.stat().st_size
        except OSError as exc:
            self._problem(f"cannot open the file ({exc.strerror})")
            return
        if size == 0:
            self._problem(
                "the file is empty (0 bytes)",
                expected="a header line with the column names, then one line per row",
            )
            return
        reader = self._csv_batches if self.source.format == "csv" else self._parquet_batches
        problems_before = self.log.by_file[self.source.label]
        ok = yield from reader()
        if ok and self.rows == 0 and self.log.by_file[self.source.label] == problems_before:
            self._problem(
                "no data rows: the file has a header but no rows",
                expected="at least one row below the header",
            )
            ok = False
        self.complete = bool(ok)
        self._warn()

    # -- columns -------------------------------------------------------------------------------
    def _columns_text(self) -> str:
        contract = self.contract
        optional = [c.name for c in contract.columns if not c.required]
        text = "columns " + ", ".join(contract.required_columns)
        return text + (f" (optional: {', '.join(optional)})" if optional else "")

    def _match_columns(self, names: Sequence[str]) -> dict[str, str] | None:
        """Map the file's column names to the contract's; log missing, unknown and repeated ones."""
        contract = self.contract
        if not any(normalise_column_name(n) in contract.column_names for n in names):
            # Not a header of this table (perhaps not a table at all): none of it is quoted.
            self._problem(
                f"the first line names no column of table '{contract.name}' "
                f"({len(names)} value(s) found): is it the right file?",
                row=0,
                expected="a header line with the " + self._columns_text(),
            )
            return None
        mapping: dict[str, str] = {}
        seen: dict[str, str] = {}
        ok = True
        for name in names:
            canonical = normalise_column_name(name)
            if not canonical:
                self._problem(
                    "a column has no name in the header (a trailing delimiter?)",
                    expected=self._columns_text(),
                    got=f"a blank name at position {len(seen) + 1} of {len(names)}",
                )
                ok = False
            elif canonical in seen:
                self._problem(
                    "column appears twice in the header",
                    column=_shorten(name),
                    expected=self._columns_text(),
                )
                ok = False
            elif canonical in contract.column_names:
                seen[canonical] = name
                mapping[name] = canonical
            else:
                self._problem(
                    f"unknown column for table '{contract.name}'",
                    column=_shorten(name),
                    expected=self._columns_text(),
                )
                ok = False
        for required in contract.required_columns:
            if required not in seen:
                # Only the file's known columns are quoted: the others are problems of their own,
                # and the header line of a file that is not a table is not echoed.
                self._problem(
                    f"missing required column for table '{contract.name}'",
                    column=required,
                    expected=self._columns_text(),
                    got="columns " + (", ".join(seen) or "(none of this table's)"),
                )
                ok = False
        if not ok:
            return None
        wanted = set(self.only) if self.only is not None else None
        self.present = [
            c for c in contract.column_names if c in seen and (wanted is None or c in wanted)
        ]
        return {raw: canonical for raw, canonical in mapping.items() if canonical in self.present}

    # -- CSV -----------------------------------------------------------------------------------
    def _csv_header(self) -> tuple[list[str], str] | None:
        with open(self.source.path, "rb") as fh:
            first = fh.readline(HEADER_LINE_BYTES)
        if len(first) == HEADER_LINE_BYTES and not first.endswith(b"\n"):
            self._problem(
                f"the header line is longer than {HEADER_LINE_BYTES:,} bytes",
                row=0,
                expected="a header line with the " + self._columns_text(),
            )
            return None
        try:
            line = first.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            self._report_not_utf8()
            return None
        if not line.strip():
            self._problem(
                "no header line: the first line is blank",
                expected="a header line with the " + self._columns_text(),
            )
            return None
        known = set(self.contract.column_names)
        best: tuple[int, str, list[str]] | None = None
        for delimiter in (",", ";", "\t", "|"):
            try:
                names = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter))
            except csv.Error as exc:  # a name over 128 KiB, a stray quote: no content in exc
                self._problem(
                    f"cannot read the header line as CSV ({exc})",
                    row=0,
                    expected="a header line with the " + self._columns_text(),
                )
                return None
            score = sum(normalise_column_name(n) in known for n in names)
            if best is None or score > best[0]:
                best = (score, delimiter, names)
        assert best is not None
        return best[2], best[1]

    def _csv_batches(self) -> Generator[Batch, None, bool]:
        header = self._csv_header()
        if header is None:
            return False
        names, delimiter = header
        mapping = self._match_columns(names)
        if mapping is None:
            return False
        label = self.source.label
        self._nul_possible = _holds_byte(self.source.path, b"\x00")

        def on_invalid_row(row: arrow_csv.InvalidRow) -> str:
            line = row.number
            if line is not None:
                self._numbers.skip(line - 2)
            where = f" on line {line}" if line is not None else ""
            # The row's text is not quoted: no single cell is at fault, and a row whose quote
            # is never closed runs on over the lines after it.
            self.log.add(
                Problem(
                    label,
                    "wrong number of values in the row",
                    row=None if line is None else line - 1,
                    expected=f"{row.expected_columns} values, one per header column",
                    got=f"{row.actual_columns} values{where}",
                ),
                stage=Stage.STRUCTURE,
            )
            return "skip"

        try:
            reader = arrow_csv.open_csv(
                self.source.path,
                read_options=arrow_csv.ReadOptions(
                    block_size=self.csv_block_bytes, use_threads=False
                ),
                parse_options=arrow_csv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
                ),
                convert_options=arrow_csv.ConvertOptions(
                    column_types={name: arrow.string() for name in names},
                    include_columns=list(mapping),
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
            for record_batch in reader:
                if record_batch.num_rows == 0:
                    continue
                raw = pl.from_arrow(record_batch)
                assert isinstance(raw, pl.DataFrame)
                yield self._parsed(raw.rename(mapping))
        except (arrow.ArrowException, OSError) as exc:
            if "UTF8" in str(exc) or "UTF-8" in str(exc):
                self._report_not_utf8()
            else:
                row, reason = _arrow_csv_error(exc)
                if "straddl" in reason:  # pyarrow's advice (a bigger block) is not the user's
                    reason = f"a row longer than {self.csv_block_bytes:,} bytes"
                self._problem(
                    f"cannot read the file as CSV ({reason})",
                    Stage.STRUCTURE,
                    row=row,
                    expected="a CSV file with one value per header column on every row",
                )
            return False
        return True

    def _report_not_utf8(self) -> None:
        found = find_invalid_utf8(self.source.path)
        if found is None:  # pragma: no cover - pyarrow and Python disagree on validity
            self._problem("the file is not UTF-8 text", expected=UTF8_EXPECTED)
            return
        line, offset, context = found
        # Only the cell holding the bad byte is quoted, not the rest of its line.
        cells = re.split(r"[,;\t|]", context)
        context = next((c for c in cells if "\\x" in c), context)
        self._problem(
            f"the file is not UTF-8 text: invalid byte at line {line} (byte offset {offset})",
            Stage.STRUCTURE,
            row=line - 1,
            expected=UTF8_EXPECTED,
            got=context,
        )

    # -- Parquet -------------------------------------------------------------------------------
    def _parquet_batches(self) -> Generator[Batch, None, bool]:
        try:
            arrow_schema = pq.ParquetFile(self.source.path).schema_arrow
            schema = pl.read_parquet_schema(self.source.path)
            names = arrow_schema.names
        except (arrow.ArrowInvalid, OSError, pl.exceptions.PolarsError) as exc:
            self._problem(
                "cannot read the file as Parquet (not a Parquet file, or damaged)",
                expected="a Parquet file",
                got=_shorten(str(exc).replace(str(self.source.path), self.source.path.name)),
            )
            return False
        mapping = self._match_columns(names)
        if mapping is None:
            return False
        ok = True
        for raw_name, canonical in mapping.items():
            spec = self.contract.column(canonical)
            dtype = schema[raw_name]
            if input_kind(dtype) not in ACCEPTED_INPUT[spec.type]:
                self._problem(
                    "column has the wrong type",
                    column=canonical,
                    expected=spec.expected(),
                    got=f"{dtype} values",
                )
                ok = False
        if not ok:
            return False
        self.storage_schema = self.only is None and arrow_schema.equals(
            self.contract.arrow_schema(), check_metadata=False
        )
        query = pl.scan_parquet(self.source.path).select(
            pl.col(raw_name).alias(canonical) for raw_name, canonical in mapping.items()
        )
        try:
            # Polars' streaming engine reads row groups in parallel, a batch at a time.
            for raw in query.collect_batches(chunk_size=self.parquet_batch_rows):
                if raw.height:
                    yield self._parsed(raw)
        except (OSError, pl.exceptions.PolarsError) as exc:
            self._problem(
                "cannot read the Parquet file (damaged?)",
                Stage.STRUCTURE,
                got=_shorten(str(exc).replace(str(self.source.path), self.source.path.name)),
            )
            return False
        return True

    # -- values --------------------------------------------------------------------------------
    def _parsed(self, raw: pl.DataFrame) -> Batch:
        raw = raw.select(self.present)
        frame, unread = parse_frame(raw, self.contract)
        batch = Batch(
            source=self.source,
            number=self.batches_read,
            frame=frame,
            raw=raw,
            start=self.rows,
            failed={},
            numbers=self._numbers,
        )
        blocked = self._check_storable(batch)
        failed = dict(blocked)
        for column, indices in unread.items():
            if column in blocked:
                indices = np.setdiff1d(indices, blocked[column], assume_unique=True)
                failed[column] = np.union1d(blocked[column], indices)
            else:
                failed[column] = indices
            spec = self.contract.column(column)
            self.log.add_rows(
                self.source.label,
                CANNOT_READ[spec.type],
                rows=batch.rows(indices),
                column=column,
                expected=spec.expected(),
                got=_texts_of(batch, column, indices),
            )
        batch.failed = failed
        batch.stored_as_is = self.storage_schema and not failed and frame.equals(raw)
        self._note_trimmed(batch)
        self._note_odd_dates(batch)
        self.rows += raw.height
        self.batches_read += 1
        return batch

    def _check_storable(self, batch: Batch) -> dict[str, np.ndarray]:
        """Text cells no warehouse should take: over the size cap, or holding a NUL character
        (PostgreSQL's text type cannot store one). Returns column -> batch indices."""
        blocked: dict[str, np.ndarray] = {}
        raw = batch.raw
        for column in raw.columns:
            if input_kind(raw.schema[column]) != "string":
                continue
            values = raw.get_column(column).cast(pl.String)
            sizes = values.str.len_bytes()
            longest = sizes.max()
            big = (sizes > self.max_cell_bytes).fill_null(False)
            if longest is not None and longest > self.max_cell_bytes:  # type: ignore[operator]
                big_at = big.arg_true().to_numpy().astype(np.int64)
            else:
                big_at = np.empty(0, dtype=np.int64)
            nul_at = np.empty(0, dtype=np.int64)
            if self._nul_possible:
                nul = values.str.contains("\x00", literal=True).fill_null(False)
                if nul.any():
                    nul_at = (nul & ~big).arg_true().to_numpy().astype(np.int64)
            if len(big_at):
                self.log.add_rows(
                    self.source.label,
                    "value too long to store",
                    rows=batch.rows(big_at),
                    column=column,
                    expected=f"at most {self.max_cell_bytes:,} bytes per value "
                    "(setting REVINTEL_MAX_CELL_BYTES)",
                    got=_sizes_of(big_at, sizes),
                    stage=Stage.STRUCTURE,
                )
            if len(nul_at):
                self.log.add_rows(
                    self.source.label,
                    "value holds a NUL character (byte 0), which the warehouse cannot store",
                    rows=batch.rows(nul_at),
                    column=column,
                    expected="text without NUL characters",
                    got=_texts_of(batch, column, nul_at),
                    stage=Stage.STRUCTURE,
                )
            if len(big_at) or len(nul_at):
                blocked[column] = np.union1d(big_at, nul_at)
        return blocked

    def _note_trimmed(self, batch: Batch) -> None:
        """Count key values that had spaces around them (parse_frame trims them)."""
        for column in self.contract.key_columns:
            if column not in batch.raw.columns:
                continue
            raw = batch.raw.get_column(column)
            if input_kind(raw.dtype) != "string":
                continue
            # Trimming shortens a value: comparing lengths is cheaper than comparing text.
            trimmed = batch.frame.get_column(column).str.len_bytes()
            changed = (raw.cast(pl.String).str.len_bytes() != trimmed).fill_null(False)
            if changed.any():
                at = changed.arg_true().to_numpy().astype(np.int64)
                self._note(self._trimmed, column, batch, at)

    def _note_odd_dates(self, batch: Batch) -> None:
        """Count dates outside :func:`plausible_dates` (loaded as they are, with a warning)."""
        for column in batch.frame.columns:
            kind = self.contract.column(column).type
            if kind not in ("date", "datetime"):
                continue
            values = batch.frame.get_column(column)
            low, high = self.dates_from, self.dates_to
            if kind == "datetime":
                values = values.dt.date()
            first, last = values.min(), values.max()
            if first is None or (low <= first and last <= high):  # type: ignore[operator]
                continue
            odd = ((values < low) | (values > high)).fill_null(False)
            if odd.any():
                self._note(self._odd_dates, column, batch, odd.arg_true().to_numpy())

    @staticmethod
    def _note(notes: dict[str, _Noted], column: str, batch: Batch, at: np.ndarray) -> None:
        noted = notes.setdefault(column, _Noted())
        if not noted.rows:
            noted.first = batch.texts(column, at[:1])[0]
        noted.count += len(at)
        noted.rows = (noted.rows + batch.rows(at[: _Noted.ROWS]).tolist())[: _Noted.ROWS]

    def _warn(self) -> None:
        label = self.source.label
        for column, noted in self._trimmed.items():
            self.log.warn(
                Problem(
                    label,
                    f"{noted.count:,} value(s) had spaces around them and were trimmed (ids and "
                    "keys are compared without them)",
                    row=noted.rows[0],
                    column=column,
                    got=noted.first,
                )
            )
        for column, noted in self._odd_dates.items():
            more = ", …" if noted.count > len(noted.rows) else ""
            self.log.warn(
                Problem(
                    label,
                    f"{noted.count:,} implausible date(s), loaded as they are "
                    f"(rows {', '.join(map(str, noted.rows))}{more})",
                    row=noted.rows[0],
                    column=column,
                    expected=f"a date from {self.dates_from} to {self.dates_to}",
                    got=noted.first,
                )
            )


def normalise_column_name(name: str) -> str:
    """``" Customer ID"`` -> ``"customer_id"``: headers match case- and space-insensitively."""
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip().lower())


def find_invalid_utf8(path: Path) -> tuple[int, int, str] | None:
    """(line, byte offset, text around it) of the first byte that is not UTF-8, or None."""
    offset = 0
    lines = 1
    carry = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 20)
            data = carry + chunk
            if not data:
                return None
            try:
                data.decode("utf-8")
                good, carry = data, b""
            except UnicodeDecodeError as exc:
                truncated = exc.reason == "unexpected end of data" and len(data) - exc.start < 4
                if truncated and chunk:  # a character split across two reads
                    # Carry the line it is on too, so an error there can quote the line.
                    cut = data.rfind(b"\n", 0, exc.start) + 1 or max(0, exc.start - 200)
                    good, carry = data[:cut], data[cut:]
                else:
                    line_start = data.rfind(b"\n", 0, exc.start) + 1
                    line_end = data.find(b"\n", exc.start)
                    text = data[line_start : line_end if line_end >= 0 else len(data)]
                    context = text.decode("utf-8", errors="backslashreplace").rstrip("\r")
                    line = lines + data.count(b"\n", 0, exc.start)
                    return line, offset + exc.start, _shorten(context)
            offset += len(good)
            lines += good.count(b"\n")
            if not chunk:
                return None


def _holds_byte(path: Path, byte: bytes) -> bool:
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            if byte in chunk:
                return True
    return False


def _shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arrow_csv_error(exc: Exception) -> tuple[int | None, str]:
    """(data row, reason) of a pyarrow CSV error, without the row text pyarrow quotes."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    found = re.search(r"Row #(\d+)", text)
    row = int(found.group(1)) - 1 if found else None  # pyarrow counts the header as row 1
    reason = re.sub(r"(got \d+)?: .*$", r"\1", text.removeprefix("CSV parse error: "))
    reason = re.sub(r"Row #\d+", "", reason).strip(" :")
    return row, _shorten(reason, 120)


# -- parsing values -------------------------------------------------------------------------------


def input_kind(dtype: pl.DataType) -> InputKind:
    """What kind of values a column of a file holds."""
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Null:
        return "null"
    return "other"


def parse_frame(
    raw: pl.DataFrame, contract: TableContract
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Parse each column to its contract type; return the typed frame and the cells that failed.

    A fast vectorised parse handles the usual formats; only cells it rejects go through a slower,
    more lenient second look (surrounding spaces, ``NULL``-style blanks, ``3.0`` as a whole number,
    ISO date-times with a time zone), and those still rejected are reported.
    """
    specs = {name: contract.column(name) for name in raw.columns}
    kinds = {name: input_kind(raw.schema[name]) for name in raw.columns}
    raw = raw.with_columns(
        pl.col(name).cast(pl.String) for name, kind in kinds.items() if kind == "string"
    )
    # Ids and keys are compared without surrounding spaces (" C1 " is C1), so they are trimmed.
    keys = {name for name in contract.key_columns if kinds.get(name) == "string"}
    parsed = raw.select(
        _fast_parse(
            pl.col(name).str.strip_chars() if name in keys else pl.col(name),
            kinds[name],
            specs[name],
            raw.get_column(name),
        )
        .cast(polars_types()[specs[name].type])
        .alias(name)
        for name in raw.columns
    )
    failed: dict[str, np.ndarray] = {}
    columns: dict[str, pl.Series] = {}
    for name in raw.columns:
        source, result = raw.get_column(name), parsed.get_column(name)
        columns[name] = result
        if specs[name].type == "str":  # any value is text; an empty one is blank
            continue
        if source.dtype.is_float():
            source = source.fill_nan(None)
        bad = source.is_not_null() & result.is_null()
        if bad.any():
            indices = bad.arg_true()
            fixed = _slow_parse(source.gather(indices), kinds[name], specs[name])
            good = fixed.is_not_null()
            if good.any():
                result = result.scatter(indices.filter(good), fixed.filter(good))
            blank = _is_null_marker(source.gather(indices), kinds[name], specs[name])
            still_bad = indices.filter(~good & ~blank)
            if len(still_bad):
                failed[name] = still_bad.to_numpy().astype(np.int64)
            columns[name] = result
    return pl.DataFrame(columns), failed


def _fast_parse(col: pl.Expr, kind: InputKind, spec: ColumnSpec, values: pl.Series) -> pl.Expr:
    target = spec.type
    if kind == "null":
        return col
    if kind == "string":
        text = col
        if target == "str":
            return pl.when(text.str.len_bytes() > 0).then(text)
        if target == "int":
            return text.cast(pl.Int64, strict=False)
        if target == "float":
            number = text.cast(pl.Float64, strict=False)
            return pl.when(number.is_finite()).then(number)
        if target == "bool":
            return text.replace_strict(BOOL_FAST, default=None, return_dtype=pl.Boolean)
        if target == "date":
            return text.str.to_date("%Y-%m-%d", strict=False)
        if target == "datetime":
            first = values.drop_nulls().head(1).to_list()
            sep = "T" if first and "T" in str(first[0]) else " "
            return text.str.to_datetime(f"%Y-%m-%d{sep}%H:%M:%S%.f", strict=False, time_unit="us")
        return pl.when(text.str.contains(MONTH_PATTERN)).then(text)  # month
    if target == "str":
        return col.cast(pl.String)
    if target == "int":
        if kind == "float":
            number = col.cast(pl.Float64).fill_nan(None)
            whole = (number == number.round()) & (number.abs() < 2.0**63)
            return pl.when(whole).then(number.cast(pl.Int64, strict=False))
        return col.cast(pl.Int64, strict=False)
    if target == "float":
        number = col.cast(pl.Float64, strict=False).fill_nan(None)
        return pl.when(number.is_finite()).then(number)
    if target == "bool":
        if kind == "int":
            return pl.when(col.is_in([0, 1])).then(col == 1)
        return col
    if kind == "datetime":
        naive = _naive_utc(col, values.dtype)
        if target == "date":
            return pl.when(naive == naive.dt.truncate("1d")).then(naive.dt.date())
        return naive.cast(pl.Datetime("us"))
    return col  # date -> date or datetime: a plain cast


def _naive_utc(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return col


def _is_null_marker(values: pl.Series, kind: InputKind, spec: ColumnSpec) -> pl.Series:
    if kind != "string" or spec.type == "str":
        return pl.Series([False] * len(values))
    return values.str.strip_chars().is_in(["", *NULL_MARKERS]).fill_null(False)


def _slow_parse(values: pl.Series, kind: InputKind, spec: ColumnSpec) -> pl.Series:
    """Second look at cells the fast parse rejected; null where still unreadable."""
    dtype = polars_types()[spec.type]
    if kind != "string":
        return pl.Series(values.name, [None] * len(values), dtype=dtype)
    text = values.str.strip_chars()
    target = spec.type
    if target == "int":
        number = text.cast(pl.Float64, strict=False)
        whole = (number == number.round()) & (number.abs() < 2.0**63)
        return (
            pl.select(pl.when(whole).then(number.cast(pl.Int64, strict=False)))
            .to_series()
            .cast(dtype)
        )
    if target == "float":
        number = text.cast(pl.Float64, strict=False)
        return pl.select(pl.when(number.is_finite()).then(number)).to_series()
    if target == "bool":
        return text.str.to_lowercase().replace_strict(
            BOOL_TEXT, default=None, return_dtype=pl.Boolean
        )
    if target == "month":
        return pl.select(pl.when(text.str.contains(MONTH_PATTERN)).then(text)).to_series()
    if target in ("date", "datetime"):
        parse = _iso_date if target == "date" else _iso_datetime
        return pl.Series(values.name, [parse(v) for v in text.to_list()], dtype=dtype)
    return pl.Series(values.name, [None] * len(values), dtype=dtype)


def _iso_datetime(text: str | None) -> datetime | None:
    """An ISO 8601 date or date-time (``T`` or space, optional fraction and time zone), as UTC."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _iso_date(text: str | None) -> date | None:
    """A date, also written as a date-time at midnight (``2024-01-31 00:00:00``)."""
    value = _iso_datetime(text)
    if value is None or value.time() != datetime.min.time():
        return None
    return value.date()


# -- table-level checks ---------------------------------------------------------------------------


def key_hashes(values: pl.Series) -> pl.Series:
    """64-bit hashes of key values: how keys are compared across batches, files and tables."""
    return values.hash(seed=HASH_SEED)


@dataclass(frozen=True)
class KnownKeys:
    """The values a foreign key may take, as the distinct :func:`key_hashes` of those values."""

    table: str
    column: str
    hashes: pl.Series
    loaded: bool  # False: the referenced table is in neither this load nor the warehouse


class _DistinctHashes:
    """Distinct key hashes over many batches, compacted as they grow."""

    COMPACT_AT = 4_000_000

    def __init__(self) -> None:
        self._parts: list[pl.Series] = []
        self._size = 0

    def add(self, values: pl.Series) -> None:
        part = key_hashes(values.drop_nulls()).unique()
        self._parts.append(part)
        self._size += len(part)
        if self._size > self.COMPACT_AT and len(self._parts) > 1:
            merged = pl.concat(self._parts).unique()
            self._parts, self._size = [merged], len(merged)

    def result(self) -> pl.Series:
        if not self._parts:
            return pl.Series("hash", [], dtype=pl.UInt64)
        return pl.concat(self._parts).unique()


class TableValidator:
    """Checks every batch of one table and what needs all its rows (keys).

    ``references`` maps a foreign-key column to the keys it may take (None: skip the check because
    the referenced table could not be read). ``keep`` names columns whose distinct values later
    tables refer to (``customers.customer_id``).

    Keys are compared by 64-bit hash. A duplicate found by hash is confirmed on the actual values;
    an orphan found by hash is certain (its hash matches no key), and one could only be missed if
    its hash collided with another key's (odds far below one in a billion per load).
    """

    def __init__(
        self,
        contract: TableContract,
        log: ProblemLog,
        *,
        references: Mapping[str, KnownKeys | None] | None = None,
        keep: Sequence[str] = (),
    ) -> None:
        self.contract = contract
        self.log = log
        self.references = dict(references or {})
        self.rows = 0
        self.complete = True
        self.sources: list[SourceFile] = []
        self._kept = {c: _DistinctHashes() for c in keep}
        self._hashes: dict[tuple[str, ...], list[pl.Series]] = {}
        self._schemas: dict[tuple[str, ...], pandera.DataFrameSchema] = {}

    def key_sets(self, present: Sequence[str]) -> list[tuple[str, ...]]:
        """The primary key and each unique column, as far as they are present in a file."""
        contract = self.contract
        sets = [contract.primary_key] + [
            (c.name,) for c in contract.columns if c.unique and (c.name,) != contract.primary_key
        ]
        found = [tuple(c for c in key if c in present) for key in sets]
        return [key for key in dict.fromkeys(found) if key]

    def add_file(self, reader: FileReader) -> None:
        self.sources.append(reader.source)
        self.complete = self.complete and reader.complete

    def check(self, batch: Batch) -> None:
        """Contract checks on one batch; remember its keys for the checks across batches."""
        self.rows += batch.height
        self._check_contract(batch)
        for key in self.key_sets(batch.frame.columns):
            mask = self._key_rows(batch, key)
            hashes = _row_hashes(batch.frame, key)
            self._hashes.setdefault(key, []).append(hashes if mask.all() else hashes.filter(mask))
        for fk in self.contract.foreign_keys:
            known = self.references.get(fk.column)
            if fk.column in batch.frame.columns and known is not None:
                self._check_foreign_key(batch, fk, known)
        for column, distinct in self._kept.items():
            if column in batch.frame.columns:
                distinct.add(batch.frame.get_column(column))

    def _key_rows(self, batch: Batch, key: tuple[str, ...]) -> np.ndarray:
        # Blank or unreadable key cells are reported already; they are not duplicates.
        mask = batch.valid_rows(key)
        for column in key:
            if not self.contract.column(column).nullable:
                mask &= batch.frame.get_column(column).is_not_null().to_numpy()
        return mask

    def kept_hashes(self, column: str) -> pl.Series:
        """Distinct :func:`key_hashes` of a kept column over all batches."""
        return self._kept[column].result()

    def finish(self) -> None:
        """Report keys repeated across batches and files."""
        for key, parts in self._hashes.items():
            self._check_unique(key, parts)
        self._hashes.clear()

    # -- contract (pandera) ----------------------------------------------------------------------
    def _schema(self, present: tuple[str, ...]) -> pandera.DataFrameSchema:
        if present not in self._schemas:
            schema = self.contract.pandera_schema(list(present))
            # Uniqueness within one batch is a subset of the check across all batches and files
            # (see finish), which also names the other row: don't report it twice.
            unique = [c for c in present if self.contract.column(c).unique]
            self._schemas[present] = schema.update_columns({c: {"unique": False} for c in unique})
        return self._schemas[present]

    def _check_contract(self, batch: Batch) -> None:
        schema = self._schema(tuple(batch.frame.columns))
        try:
            schema.validate(batch.frame, lazy=True)
            return
        except pandera_errors.SchemaErrors as exc:
            failures = exc.failure_cases
        failures = failures.filter(pl.col("index").is_not_null())
        label = batch.source.label
        rules = {rule.message: rule for rule in self.contract.rules}
        groups = failures.group_by(["schema_context", "column", "check"], maintain_order=True)
        for (context, column, check), group in groups:
            indices = group.get_column("index").cast(pl.Int64).unique().sort().to_numpy()
            if context == "Column":
                spec = self.contract.column(str(column))
                if column in batch.failed:  # unreadable cells are reported already
                    indices = np.setdiff1d(indices, batch.failed[str(column)], assume_unique=True)
                self.log.add_rows(
                    label,
                    _check_message(spec, str(check)),
                    rows=batch.rows(indices),
                    column=spec.name,
                    expected=spec.expected(),
                    got=_texts_of(batch, spec.name, indices, missing=""),
                )
            elif check in rules:
                rule = rules[str(check)]
                self.log.add_rows(
                    label,
                    rule.message,
                    rows=batch.rows(indices),
                    column=rule.columns[0],
                    got=_row_texts_of(batch, rule.columns, indices),
                )
            else:  # pragma: no cover - every check of the schema is handled above
                self.log.add_rows(label, str(check), rows=batch.rows(indices))

    # -- checks across batches and files ---------------------------------------------------------
    def _rescan(
        self, columns: tuple[str, ...], pick: Callable[[Batch], np.ndarray]
    ) -> pl.DataFrame | None:
        """Read the table's files again (``columns`` only); the rows ``pick`` selects, in file
        order, with their file (``_file``, index into ``sources``) and row number (``_row``)."""
        quiet = ProblemLog(1)
        found: list[pl.DataFrame] = []
        for order, source in enumerate(self.sources):
            # No cell cap: the cells it blocked were left out of the keys compared already.
            reader = FileReader(source, quiet, columns=columns, max_cell_bytes=(1 << 32) - 1)
            for batch in reader.batches():
                indices = np.flatnonzero(pick(batch))
                if len(indices):
                    found.append(
                        batch.frame.select(columns)
                        .gather(pl.Series(indices, dtype=pl.UInt32))
                        .with_columns(
                            pl.lit(order, dtype=pl.Int64).alias("_file"),
                            pl.Series("_row", batch.rows(indices)),
                        )
                    )
        return pl.concat(found) if found else None

    def _check_unique(self, key: tuple[str, ...], parts: list[pl.Series]) -> None:
        """Rows are compared by a 64-bit hash of their key; only when two hashes agree are the
        files read again (key columns only) to compare the actual values and name the rows."""
        if not parts:
            return
        hashes = pl.concat(parts, rechunk=False)
        if hashes.n_unique() == len(hashes):
            return
        candidates = hashes.filter(hashes.is_duplicated()).unique().implode()

        def pick(batch: Batch) -> np.ndarray:
            hit = _row_hashes(batch.frame, key).is_in(candidates)
            return hit.to_numpy() & self._key_rows(batch, key)

        rows = self._rescan(key, pick)
        if rows is None:  # pragma: no cover - the hashes came from these rows
            return
        first = pl.col("_file", "_row").sort_by("_file", "_row").first().over(list(key))
        rows = rows.with_columns(
            pl.int_range(pl.len()).over(list(key), order_by=["_file", "_row"]).alias("_nth"),
            first.name.prefix("_first"),
        )
        what = ", ".join(key)
        message = f"duplicate {what}"
        repeats = rows.filter(pl.col("_nth") > 0).sort("_file", "_row")
        for (order,), group in repeats.group_by(["_file"], maintain_order=True):
            label = self.sources[int(order)].label
            kind = self.log.kind(label, what, message)
            room = min(group.height, max(self.log.room(kind), 0))
            shown = group.head(room)
            values = shown.select(
                pl.concat_str([pl.col(c).cast(pl.String) for c in key], separator=", ")
            ).to_series()
            for row, value, first_file, first_row in zip(
                shown.get_column("_row").to_list(),
                values.to_list(),
                shown.get_column("_first_file").to_list(),
                shown.get_column("_first_row").to_list(),
                strict=True,
            ):
                first_label = self.sources[first_file].label
                also = f"row {first_row} of {first_label} has it too"
                expected = f"a {what} not used by another row ({also})"
                self.log.add(
                    Problem(label, message, row, what, expected, _shorten(value)),
                    stage=Stage.KEY,
                    anchor=(first_label, first_row),
                )
            if group.height > room:
                self.log.count(kind, label, group.height - room)

    def _check_foreign_key(self, batch: Batch, fk: ForeignKey, known: KnownKeys) -> None:
        values = batch.frame.get_column(fk.column)
        found = key_hashes(values).is_in(known.hashes.implode())
        orphan = (~found & values.is_not_null()).to_numpy()
        if not orphan.any():
            return
        if known.loaded:
            message = f"no {fk.table} row has this {fk.ref_column} (orphan)"
            expected = f"a {fk.ref_column} listed in {fk.table}"
        else:
            message = f"orphan: table {fk.table} is not loaded, so this {fk.column} matches nothing"
            expected = f"a {fk.ref_column} listed in {fk.table} (load {fk.table} with this file)"
        indices = np.flatnonzero(orphan)
        self.log.add_rows(
            batch.source.label,
            message,
            rows=batch.rows(indices),
            column=fk.column,
            expected=expected,
            got=lambda k: batch.texts(fk.column, indices[:k]),
            stage=Stage.REFERENCE,
        )


def _row_hashes(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.Series:
    if len(key) == 1:
        return key_hashes(frame.get_column(key[0]))
    return frame.select(key).hash_rows(seed=HASH_SEED)


def _check_message(spec: ColumnSpec, check: str) -> str:
    if check == "not_nullable":
        return "blank value in a column that must be filled"
    if spec.allowed:
        return "unknown value"
    if spec.type == "month":
        return "not a valid month"
    return "value out of range"


def _texts_of(
    batch: Batch, column: str, indices: np.ndarray, *, missing: str | None = None
) -> Callable[[int], list[str | None]]:
    """The first ``k`` values of ``column`` at ``indices``, read when the log shows them (a
    missing value as ``missing``)."""
    return lambda k: [missing if v is None else v for v in batch.texts(column, indices[:k])]


def _sizes_of(indices: np.ndarray, sizes: pl.Series) -> Callable[[int], list[str | None]]:
    """The first ``k`` byte sizes at ``indices``, as the log shows them."""
    return lambda k: [f"{sizes[int(j)]:,} bytes" for j in indices[:k]]


def _row_texts_of(
    batch: Batch, columns: Sequence[str], indices: np.ndarray
) -> Callable[[int], list[str | None]]:
    """The first ``k`` rows at ``indices`` as ``column=value`` texts, read when shown."""
    return lambda k: _row_texts(batch, columns, indices[:k])


def _row_texts(batch: Batch, columns: Sequence[str], indices: np.ndarray) -> list[str | None]:
    texts = [batch.texts(c, indices) for c in columns]
    return [
        ", ".join(f"{c}={v if v is not None else ''}" for c, v in zip(columns, row, strict=True))
        for row in zip(*texts, strict=True)
    ]
