"""Mapping files: turn any CRM export into revintel's canonical tables without editing the export.

A mapping is a TOML file (``docs/pipeline.md``, "Importing a CRM export"; example:
``examples/mappings/maven-crm.toml``). It names the export's files, and for each canonical table
the file its rows come from and how: column renames (or the first non-blank of several columns),
value maps (a CRM's stage names to revintel's), date formats, constant fields, blank-filling
defaults and lookups that join columns from other files of the export. ``deal_stage_history`` may
instead be derived from the deals' dated columns (a row per stage reached, dated by a column).

:func:`read_mapping` checks the mapping itself and :func:`apply_mapping` reads the export and
returns each table as text columns named as the contracts name them, ready for the importer,
which still checks every value against the contracts. Every problem names the mapping key to
change (``tables.deals.columns.amount``) and, for a value, the file, row and column it came from.
Nothing is evaluated: the mapping is data (column names, values, strptime formats), never code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from revintel.core.errors import Problem, ValidationFailed
from revintel.data.schema import CONTRACTS, DEAL_STAGES, TableContract

if TYPE_CHECKING:
    import polars as pl

    from revintel.data.touch_mapping import EventMapping

MAPPING_VERSION = 1
SOURCE_FORMATS = (".csv", ".parquet")
ROWS_SHOWN = 5  # problem rows shown per mapping key; the rest are counted
PROBLEMS_SHOWN = 50  # problems shown in all
DERIVED_TABLE = "deal_stage_history"  # the table a mapping may derive from the deals


@dataclass(frozen=True)
class Lookup:
    """Join columns from another file of the export: ``take`` its columns where ``match``es."""

    key: str  # the mapping key, for messages: tables.deals.lookups[0]
    file: str
    match: dict[str, str]  # this table's column -> lookup file's column
    take: dict[str, str]  # new column name -> lookup file's column
    required: bool


@dataclass(frozen=True)
class HistoryEntry:
    """History rows: one per deal whose ``date`` column is filled (and stage is ``when_stage``)."""

    key: str
    stage: str
    date: str
    when_stage: tuple[str, ...]
    date_format: str | None
    amount: str | None = None  # the column of the amount from then on (default: the deal's)


@dataclass(frozen=True)
class Bins:
    """A number column cut into labelled ranges: below ``edges[0]`` is ``labels[0]``, from
    ``edges[i-1]`` (included) to ``edges[i]`` is ``labels[i]``, from the last edge on the last."""

    key: str
    source: str
    edges: tuple[float, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class TableMapping:
    """How one canonical table is made from a file of the export."""

    table: str
    file: str | None = None
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # canonical column -> {export column: values}: the column is blank on other rows
    conditions: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    bins: dict[str, Bins] = field(default_factory=dict)
    keep: Literal["first", "last"] | None = None  # one row per primary key, in file order
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    date_formats: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    lookups: tuple[Lookup, ...] = ()
    from_deals: bool = False
    entries: tuple[HistoryEntry, ...] = ()

    @property
    def contract(self) -> TableContract:
        return CONTRACTS[self.table]

    def format_for(self, column: str) -> str | None:
        return self.date_formats.get(column, self.date_format)


@dataclass(frozen=True)
class Mapping:
    """A checked mapping file."""

    path: Path
    description: str
    files: dict[str, str]  # file name in the mapping -> path relative to the export folder
    tables: dict[str, TableMapping]
    events: EventMapping | None = None  # an analytics export's events (data/touch_mapping.py)

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class MappedTable:
    """One canonical table made by a mapping: text columns, and how problems name its rows."""

    table: str
    frame: pl.DataFrame
    label: str  # "<source file> via <mapping> [tables.<table>]"

    def write_staging(self, folder: Path) -> Path:
        """The table as ``folder/<table>.csv``, a staging file the importer reads back (text
        columns, so the importer parses and checks every value as from any CSV)."""
        path = folder / f"{self.table}.csv"
        self.frame.write_csv(path)
        return path


# -- reading the mapping --------------------------------------------------------------------------


class _Checker:
    """Collects problems with the mapping file, each naming its key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def add(self, key: str, message: str, *, expected: str | None = None, got: Any = None) -> None:
        shown = None if got is None else (got if isinstance(got, str) else repr(got))
        self.problems.append(
            Problem(str(self.path), f"key {key}: {message}", expected=expected, got=shown)
        )

    def table(self, key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        self.add(key, "must be a table", expected="a TOML table", got=type(value).__name__)
        return {}

    def text(self, key: str, value: Any) -> str | None:
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.add(key, "must be non-blank text", expected="a string", got=value)
        return None

    def scalar(self, key: str, value: Any) -> str | None:
        """A constant or default: text, a number or a boolean, kept as text for the importer."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        self.add(key, "must be text, a number or true/false", got=type(value).__name__)
        return None

    def text_map(self, key: str, value: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, item in self.table(key, value).items():
            text = self.text(f"{key}.{name}", item)
            if text is not None:
                out[str(name)] = text
        return out

    def unknown(self, key: str, found: MappingType[str, Any], allowed: tuple[str, ...]) -> None:
        for name in found:
            if name not in allowed:
                self.add(
                    f"{key}.{name}" if key else name,
                    "unknown key",
                    expected="one of " + ", ".join(allowed),
                )


def read_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; :class:`ValidationFailed` lists every problem with it."""
    path = Path(path)
    check = _Checker(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationFailed([Problem(str(path), "mapping file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            [Problem(str(path), f"cannot read the mapping file ({exc})")]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(
            [Problem(str(path), f"not valid TOML ({exc})", expected="a TOML mapping file")]
        ) from None
    check.unknown("", raw, ("version", "description", "files", "tables", "events"))
    version = raw.get("version", MAPPING_VERSION)
    if version != MAPPING_VERSION:
        check.add(
            "version", "unsupported mapping version", expected=str(MAPPING_VERSION), got=version
        )
    description = raw.get("description", "")
    if not isinstance(description, str):
        check.add("description", "must be text", got=description)
        description = ""
    files = check.text_map("files", raw.get("files", {}))
    for name, rel in files.items():
        _check_relative(check, f"files.{name}", rel)
    if "files" not in raw:
        check.add("files", "missing", expected="a [files] table naming the export's files")
    tables: dict[str, TableMapping] = {}
    raw_tables = check.table("tables", raw.get("tables", {}))
    if not raw_tables and "events" not in raw:
        check.add(
            "tables",
            "no table is mapped",
            expected="at least [tables.deals], or [events] for an analytics export",
        )
    events = None
    if "events" in raw:
        from revintel.data.touch_mapping import read_events

        events = read_events(check, raw["events"], files)
        for name in ("touchpoints", "conversions"):
            if name in raw_tables:
                check.add(f"tables.{name}", "also made by [events]; keep one")
    for name, body in raw_tables.items():
        key = f"tables.{name}"
        if name not in CONTRACTS:
            check.add(key, "not a revintel table", expected="one of " + ", ".join(CONTRACTS))
            continue
        mapped = _read_table(check, key, name, check.table(key, body), files)
        if mapped is not None:
            tables[name] = mapped
    if any(t.from_deals for t in tables.values()) and "deals" not in tables:
        check.add(
            f"tables.{DERIVED_TABLE}.from_deals",
            "derives the history from the deals, but no deals are mapped",
            expected="a [tables.deals] section",
        )
    if check.problems:
        raise ValidationFailed(check.problems)
    return Mapping(path, description, files, tables, events)


def _check_relative(check: _Checker, key: str, rel: str) -> None:
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        check.add(key, "must be a path inside the export folder", got=rel)
    elif p.suffix.lower() not in SOURCE_FORMATS:
        check.add(key, "unsupported file type", expected="a .csv or .parquet file", got=rel)


TABLE_KEYS = (
    "file",
    "columns",
    "values",
    "date_format",
    "date_formats",
    "constants",
    "defaults",
    "lookups",
    "from_deals",
    "entries",
    "keep",
    "bins",
)


def _read_table(
    check: _Checker, key: str, name: str, body: dict[str, Any], files: dict[str, str]
) -> TableMapping | None:
    check.unknown(key, body, TABLE_KEYS)
    contract = CONTRACTS[name]
    known = contract.column_names
    from_deals = body.get("from_deals", False)
    if not isinstance(from_deals, bool):
        check.add(f"{key}.from_deals", "must be true or false", got=from_deals)
        from_deals = False
    if from_deals and name != DERIVED_TABLE:
        check.add(f"{key}.from_deals", f"only {DERIVED_TABLE} can be derived from the deals")
        from_deals = False
    file = body.get("file")
    if from_deals:
        if file is not None:
            check.add(f"{key}.file", "a derived table has no file; remove file or from_deals")
        for other in ("columns", "values", "constants", "defaults", "lookups", "keep"):
            if other in body:
                check.add(f"{key}.{other}", "not used when the table is derived from the deals")
        entries = _read_entries(check, key, body.get("entries"))
        date_format = _format(check, f"{key}.date_format", body.get("date_format"))
        return TableMapping(name, from_deals=True, entries=entries, date_format=date_format)
    if "entries" in body:
        check.add(f"{key}.entries", "used only with from_deals = true")
    if file is None:
        check.add(f"{key}.file", "missing", expected="the name of a file under [files]")
        return None
    file = check.text(f"{key}.file", file)
    if file is not None and file not in files:
        check.add(
            f"{key}.file", "not a file named under [files]", expected=_one_of(files), got=file
        )
    columns: dict[str, tuple[str, ...]] = {}
    conditions: dict[str, dict[str, tuple[str, ...]]] = {}
    for canon, src in check.table(f"{key}.columns", body.get("columns", {})).items():
        ckey = f"{key}.columns.{canon}"
        if canon not in known:
            check.add(ckey, f"not a column of {name}", expected=_one_of(known))
            continue
        if isinstance(src, dict):  # { from = ..., when = { column = value(s) } }
            check.unknown(ckey, src, ("from", "when"))
            when = check.table(f"{ckey}.when", src.get("when", {}))
            conditions[canon] = {}
            for column, allowed in when.items():
                allowed = [allowed] if isinstance(allowed, str) else allowed
                if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                    check.add(f"{ckey}.when.{column}", "must be a value or a list of values")
                    continue
                conditions[canon][column] = tuple(allowed)
            src = src.get("from")
        if isinstance(src, str) and src.strip():
            columns[canon] = (src.strip(),)
        elif isinstance(src, list) and src and all(isinstance(s, str) and s.strip() for s in src):
            columns[canon] = tuple(s.strip() for s in src)
        else:
            check.add(
                ckey,
                "must name a source column",
                expected="a column name, a list of them (the first non-blank is taken), or "
                '{ from = "column", when = { column = ["value", …] } }',
                got=src,
            )
    keep: Literal["first", "last"] | None = None
    raw_keep = body.get("keep")
    if raw_keep in ("first", "last"):
        keep = raw_keep
    elif raw_keep is not None:
        check.add(f"{key}.keep", "unknown value", expected="first or last", got=raw_keep)
    values: dict[str, dict[str, str]] = {}
    for src, table in check.table(f"{key}.values", body.get("values", {})).items():
        vkey = f"{key}.values.{src}"
        recode: dict[str, str] = {}
        for old, new in check.table(vkey, table).items():
            text = check.scalar(f"{vkey}.{old}", new)
            if text is not None:
                recode[str(old)] = text
        values[src] = recode
    constants: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for section, target in (("constants", constants), ("defaults", defaults)):
        for canon, value in check.table(f"{key}.{section}", body.get(section, {})).items():
            ckey = f"{key}.{section}.{canon}"
            if canon not in known:
                check.add(ckey, f"not a column of {name}", expected=_one_of(known))
                continue
            text = check.scalar(ckey, value)
            if text is not None:
                target[canon] = text
    for canon in constants:
        if canon in columns:
            check.add(f"{key}.constants.{canon}", "also mapped under columns; keep one")
    date_format = _format(check, f"{key}.date_format", body.get("date_format"))
    date_formats: dict[str, str] = {}
    for canon, fmt in check.table(f"{key}.date_formats", body.get("date_formats", {})).items():
        fkey = f"{key}.date_formats.{canon}"
        if canon not in known or contract.column(canon).type not in ("date", "datetime"):
            dates = [c.name for c in contract.columns if c.type in ("date", "datetime")]
            check.add(fkey, f"not a date column of {name}", expected=_one_of(dates))
            continue
        parsed = _format(check, fkey, fmt)
        if parsed is not None:
            date_formats[canon] = parsed
    lookups = _read_lookups(check, key, body.get("lookups", []), files)
    bins = _read_bins(check, key, body.get("bins", {}), known, {*columns, *constants})
    mapped = {*columns, *constants, *bins}
    for spec in contract.columns:
        if spec.required and not spec.nullable and spec.name not in mapped:
            check.add(
                f"{key}.columns.{spec.name}",
                f"required column of {name} is not mapped",
                expected="a source column under columns, or a value under constants",
            )
    return TableMapping(
        name,
        file=file,
        columns=columns,
        values=values,
        date_format=date_format,
        date_formats=date_formats,
        constants=constants,
        defaults=defaults,
        lookups=lookups,
        conditions=conditions,
        bins=bins,
        keep=keep,
    )


def _read_bins(
    check: _Checker, key: str, raw: Any, known: tuple[str, ...], taken: set[str]
) -> dict[str, Bins]:
    out: dict[str, Bins] = {}
    for canon, body in check.table(f"{key}.bins", raw).items():
        bkey = f"{key}.bins.{canon}"
        if canon not in known:
            check.add(bkey, "not a column of this table", expected=_one_of(known))
            continue
        if canon in taken:
            check.add(bkey, "also mapped under columns or constants; keep one")
            continue
        body = check.table(bkey, body)
        check.unknown(bkey, body, ("from", "edges", "labels"))
        source = check.text(f"{bkey}.from", body.get("from"))
        edges = body.get("edges")
        labels = body.get("labels")
        numbers = isinstance(edges, list) and all(
            isinstance(e, int | float) and not isinstance(e, bool) for e in edges
        )
        if not numbers or not edges or any(a >= b for a, b in pairwise(edges)):
            check.add(f"{bkey}.edges", "must be increasing numbers", got=edges)
            continue
        if (
            not isinstance(labels, list)
            or len(labels) != len(edges) + 1
            or not all(isinstance(x, str) for x in labels)
        ):
            check.add(
                f"{bkey}.labels",
                "must be one label more than there are edges",
                expected=f"{len(edges) + 1} labels",
                got=labels,
            )
            continue
        if source is not None:
            out[canon] = Bins(bkey, source, tuple(float(e) for e in edges), tuple(labels))
    return out


def _cut(work: pl.DataFrame, cut: Bins, label: str, problems: _Problems) -> pl.Expr:
    """The labels of ``cut``'s source column; a value that is not a number is a problem."""
    import polars as pl

    number = pl.col(cut.source).str.replace_all(",", "").cast(pl.Float64, strict=False)
    bad = work.filter(pl.col(cut.source).is_not_null() & number.is_null())
    for row in bad.head(ROWS_SHOWN).iter_rows(named=True):
        problems.add(
            f"{cut.key}, column {cut.source}",
            Problem(
                label,
                f"key {cut.key}: not a number, so it falls in no range",
                row=row["__row"],
                column=cut.source,
                expected="a number",
                got=row[cut.source],
            ),
        )
    if bad.height > ROWS_SHOWN:
        problems.counts[f"{cut.key}, column {cut.source}"] += bad.height - ROWS_SHOWN
    expr: Any = pl.when(number < cut.edges[0]).then(pl.lit(cut.labels[0]))
    for edge, name in zip(cut.edges[1:], cut.labels[1:-1], strict=True):
        expr = expr.when(number < edge).then(pl.lit(name))
    return expr.when(number.is_not_null()).then(pl.lit(cut.labels[-1])).otherwise(None)


def _format(check: _Checker, key: str, value: Any) -> str | None:
    if value is None:
        return None
    text = check.text(key, value)
    if text is not None and "%" not in text:
        check.add(key, "not a date format", expected="a strptime format such as %Y-%m-%d", got=text)
        return None
    return text


def _read_lookups(check: _Checker, key: str, raw: Any, files: dict[str, str]) -> tuple[Lookup, ...]:
    if not isinstance(raw, list):
        check.add(f"{key}.lookups", "must be a list", expected="[[...lookups]] tables", got=raw)
        return ()
    out: list[Lookup] = []
    for i, item in enumerate(raw):
        lkey = f"{key}.lookups[{i}]"
        body = check.table(lkey, item)
        check.unknown(lkey, body, ("file", "match", "take", "required"))
        file = check.text(f"{lkey}.file", body.get("file"))
        if file is not None and file not in files:
            check.add(
                f"{lkey}.file", "not a file named under [files]", expected=_one_of(files), got=file
            )
        match = check.text_map(f"{lkey}.match", body.get("match", {}))
        take = check.text_map(f"{lkey}.take", body.get("take", {}))
        if not match:
            check.add(f"{lkey}.match", "missing", expected='{ this_column = "lookup_column" }')
        if not take:
            check.add(f"{lkey}.take", "missing", expected='{ new_column = "lookup_column" }')
        required = body.get("required", False)
        if not isinstance(required, bool):
            check.add(f"{lkey}.required", "must be true or false", got=required)
            required = False
        if file is not None and match and take:
            out.append(Lookup(lkey, file, match, take, required))
    return tuple(out)


def _read_entries(check: _Checker, key: str, raw: Any) -> tuple[HistoryEntry, ...]:
    if not isinstance(raw, list) or not raw:
        check.add(
            f"{key}.entries",
            "missing",
            expected="[[...entries]] tables: stage, date (a deals column) and optional when_stage",
        )
        return ()
    out: list[HistoryEntry] = []
    for i, item in enumerate(raw):
        ekey = f"{key}.entries[{i}]"
        body = check.table(ekey, item)
        check.unknown(ekey, body, ("stage", "date", "when_stage", "date_format", "amount"))
        stage = check.text(f"{ekey}.stage", body.get("stage"))
        if stage is not None and stage not in DEAL_STAGES:
            check.add(
                f"{ekey}.stage", "not a revintel stage", expected=_one_of(DEAL_STAGES), got=stage
            )
            stage = None
        date = check.text(f"{ekey}.date", body.get("date"))
        when = body.get("when_stage", [])
        when = [when] if isinstance(when, str) else when
        if not isinstance(when, list) or not all(isinstance(w, str) for w in when):
            check.add(f"{ekey}.when_stage", "must be a stage or a list of stages", got=when)
            when = []
        for w in when:
            if w not in DEAL_STAGES:
                check.add(
                    f"{ekey}.when_stage",
                    "not a revintel stage",
                    expected=_one_of(DEAL_STAGES),
                    got=w,
                )
        fmt = _format(check, f"{ekey}.date_format", body.get("date_format"))
        amount = check.text(f"{ekey}.amount", body.get("amount")) if "amount" in body else None
        if stage is not None and date is not None:
            out.append(HistoryEntry(ekey, stage, date, tuple(when), fmt, amount))
    return tuple(out)


def _one_of(names: Any) -> str:
    return "one of " + ", ".join(str(n) for n in names)


# -- applying it ----------------------------------------------------------------------------------


class _Problems:
    """Problems found while applying a mapping, at most ``ROWS_SHOWN`` rows per kind shown."""

    def __init__(self) -> None:
        self.shown: list[Problem] = []
        self.counts: dict[str, int] = {}
        self.structural = 0  # missing files and columns: the table cannot be made at all

    def add(self, kind: str, problem: Problem, n: int = 1) -> None:
        before = self.counts.get(kind, 0)
        self.counts[kind] = before + n
        if before < ROWS_SHOWN and len(self.shown) < PROBLEMS_SHOWN:
            self.shown.append(problem)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def raise_if_any(self) -> None:
        if self.counts:
            raise ValidationFailed(self.shown, self.total, dict(self.counts))


def apply_mapping(mapping: Mapping, folder: Path) -> list[MappedTable]:
    """Read the export in ``folder`` and make each mapped table (text columns, contract names).

    :class:`ValidationFailed` lists every problem: a missing file or column, a lookup key that is
    not unique, a date that does not match its format, a value outside a closed set.
    """

    folder = Path(folder)
    problems = _Problems()
    reader = _Reader(mapping, folder, problems)
    out: list[MappedTable] = []
    working: dict[str, pl.DataFrame] = {}
    for name in CONTRACTS:  # contract order: deals before the history derived from them
        spec = mapping.tables.get(name)
        if spec is None:
            continue
        if spec.from_deals:
            deals = working.get("deals")
            if deals is not None:
                label = reader.label(mapping.tables["deals"].file or "")
                history = _derive_history(mapping, spec, deals, label, problems)
                label = f"{DERIVED_TABLE} derived by {mapping.name} [tables.{name}]"
                out.append(MappedTable(name, history, label))
            continue
        assert spec.file is not None
        source = reader.read(spec.file, f"tables.{name}.file")
        if source is None:
            continue
        work, frame = _map_table(mapping, spec, source, reader, problems)
        if frame is not None:
            working[name] = work
            label = f"{reader.label(spec.file)} via {mapping.name} [tables.{name}]"
            out.append(MappedTable(name, frame, label))
    if mapping.events is not None:
        from revintel.data.touch_mapping import apply_events

        out.extend(apply_events(mapping.events, reader, problems, mapping.name))
    problems.raise_if_any()
    return out


class _Reader:
    """Reads the export's files once each, every column as trimmed text (blank = null)."""

    def __init__(self, mapping: Mapping, folder: Path, problems: _Problems) -> None:
        self.mapping = mapping
        self.folder = folder
        self.problems = problems
        self.cache: dict[str, pl.DataFrame | None] = {}

    def label(self, name: str) -> str:
        return str(self.folder / self.mapping.files[name])

    def read(self, name: str, key: str) -> pl.DataFrame | None:
        import polars as pl

        if name in self.cache:
            return self.cache[name]
        rel = self.mapping.files[name]
        path = self.folder / rel
        frame: pl.DataFrame | None = None
        if not path.resolve().is_relative_to(self.folder.resolve()):
            self._fail(key, name, "is outside the export folder")
        elif not path.is_file():
            self._fail(key, name, "file not found in the export folder")
        else:
            try:
                if path.suffix.lower() == ".csv":
                    frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
                    header = _csv_header(path)
                    if len(header) == frame.width:  # polars keeps "" escapes in header names
                        frame.columns = header
                else:
                    frame = pl.read_parquet(path)
                    frame = frame.with_columns(pl.all().cast(pl.String))
                names = [c.strip() for c in frame.columns]
                if len(set(names)) < len(names):
                    twice = sorted({n for n in names if names.count(n) > 1})
                    raise ValueError(f"column names repeated: {', '.join(twice)}")
                frame.columns = names
                frame = frame.with_columns(pl.all().str.strip_chars().replace("", None))
            except Exception as exc:
                frame = None
                self._fail(key, name, f"cannot be read ({type(exc).__name__}: {exc})")
        self.cache[name] = frame
        return frame

    def _fail(self, key: str, name: str, message: str) -> None:
        self.problems.add(
            f"{key}:{name}",
            Problem(self.label(name), f"{message} (key files.{name}, used by {key})"),
        )


def _csv_header(path: Path) -> list[str]:
    """The column names of a CSV file, unquoted as the csv module reads them."""
    import csv

    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        return next(csv.reader(f), [])


def _missing_column(
    problems: _Problems, key: str, label: str, column: str, frame: pl.DataFrame
) -> None:
    problems.structural += 1
    problems.add(
        f"{key}:{column}",
        Problem(
            label,
            f"key {key}: no column {column!r} in this file",
            expected=_one_of(c for c in frame.columns if not c.startswith("__")),
            got=column,
        ),
    )


def _map_table(
    mapping: Mapping,
    spec: TableMapping,
    source: pl.DataFrame,
    reader: _Reader,
    problems: _Problems,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    import polars as pl

    key = f"tables.{spec.table}"
    assert spec.file is not None
    label = reader.label(spec.file)
    before = problems.structural
    work = source.with_row_index("__row", offset=1)
    for column, table in spec.values.items():
        if column not in work.columns:
            _missing_column(problems, f"{key}.values.{column}", label, column, source)
            continue
        mapped = pl.col(column).replace(table)  # values not in the table are kept
        work = work.with_columns(pl.when(mapped == "").then(None).otherwise(mapped).alias(column))
    for lookup in spec.lookups:
        work = _join(work, lookup, reader, label, problems)
    for canon, sources in spec.columns.items():
        for src in sources:
            if src not in work.columns:
                _missing_column(problems, f"{key}.columns.{canon}", label, src, work)
        for src in spec.conditions.get(canon, {}):
            if src not in work.columns:
                _missing_column(problems, f"{key}.columns.{canon}.when", label, src, work)
    for cut in spec.bins.values():
        if cut.source not in work.columns:
            _missing_column(problems, f"{cut.key}.from", label, cut.source, work)
    if problems.structural > before:
        return work, None
    contract = spec.contract
    exprs: list[pl.Expr] = []
    for c in contract.columns:
        if c.name in spec.columns:
            expr = pl.coalesce([pl.col(s) for s in spec.columns[c.name]])
            for column, allowed in spec.conditions.get(c.name, {}).items():
                expr = pl.when(pl.col(column).is_in(list(allowed))).then(expr)
        elif c.name in spec.constants:
            expr = pl.lit(spec.constants[c.name], dtype=pl.String)
        elif c.name in spec.bins:
            expr = _cut(work, spec.bins[c.name], label, problems)
        elif c.required or c.name in spec.defaults:
            expr = pl.lit(None, dtype=pl.String)  # a required column allowed blank
        else:
            continue
        if c.name in spec.defaults:
            expr = expr.fill_null(pl.lit(spec.defaults[c.name]))
        exprs.append(expr.alias(c.name))
    canonical = work.select("__row", *exprs)
    for c in contract.columns:
        if c.name not in canonical.columns:
            continue
        fmt = spec.format_for(c.name)
        if c.type in ("date", "datetime") and fmt is not None:
            fkey = (
                f"{key}.date_formats.{c.name}"
                if c.name in spec.date_formats
                else f"{key}.date_format"
            )
            src = spec.columns.get(c.name, (c.name,))[0]
            parsed = _parse_dates(canonical, c.name, fmt, c.type, fkey, label, src, problems)
            canonical = canonical.with_columns(parsed)
        if c.allowed:
            _check_allowed(canonical, spec, c.name, c.allowed, label, problems)
    if spec.keep is not None:  # one row per primary key: the first or last in the file
        canonical = canonical.unique(
            list(contract.primary_key),
            keep=spec.keep,
            maintain_order=True,
        )
    work = work.drop([c for c in canonical.columns if c != "__row" and c in work.columns])
    work = work.join(canonical, on="__row", how="inner")
    return work, canonical.drop("__row")


def _join(
    work: pl.DataFrame, lookup: Lookup, reader: _Reader, label: str, problems: _Problems
) -> pl.DataFrame:
    import polars as pl

    # When the lookup cannot be made its columns are blank, so that its problem is not repeated
    # for every column that uses them.
    blank = [pl.lit(None, dtype=pl.String).alias(n) for n in lookup.take if n not in work.columns]
    other = reader.read(lookup.file, f"{lookup.key}.file")
    if other is None:
        return work.with_columns(blank)
    other_label = reader.label(lookup.file)
    ok = True
    for mine, theirs in lookup.match.items():
        if mine not in work.columns:
            _missing_column(problems, f"{lookup.key}.match.{mine}", label, mine, work)
            ok = False
        if theirs not in other.columns:
            _missing_column(problems, f"{lookup.key}.match.{mine}", other_label, theirs, other)
            ok = False
    for new, theirs in lookup.take.items():
        if theirs not in other.columns:
            _missing_column(problems, f"{lookup.key}.take.{new}", other_label, theirs, other)
            ok = False
        if new in work.columns:
            problems.add(
                f"{lookup.key}.take.{new}",
                Problem(
                    label,
                    f"key {lookup.key}.take.{new}: this file already has a column {new!r}",
                    expected="a new column name",
                    got=new,
                ),
            )
            ok = False
    if not ok:
        return work.with_columns(blank)
    on = list(lookup.match.values())
    right = other.select(
        *[pl.col(t).alias(f"__key{i}") for i, t in enumerate(on)],
        *[pl.col(t).alias(n) for n, t in lookup.take.items()],
    )
    keys = [f"__key{i}" for i in range(len(on))]
    dup = right.filter(right.select(keys).is_duplicated()).select(keys).unique()
    if dup.height:
        problems.add(
            f"{lookup.key}:duplicate",
            Problem(
                other_label,
                f"key {lookup.key}.match: {', '.join(on)} is not unique in this file, "
                "so a row would match several",
                expected="one row per key",
                got=", ".join(str(v) for v in dup.row(0)),
            ),
            dup.height,
        )
        return work.with_columns(blank)
    right = right.with_columns(pl.lit(True).alias("__hit"))
    joined = work.join(right, left_on=list(lookup.match), right_on=keys, how="left")
    if lookup.required:
        missing = joined.filter(pl.col("__hit").is_null())
        for row in missing.head(ROWS_SHOWN).iter_rows(named=True):
            problems.add(
                f"{lookup.key}:unmatched",
                Problem(
                    label,
                    f"key {lookup.key} (required = true): no row of {other_label} matches",
                    row=row["__row"],
                    column=", ".join(lookup.match),
                    expected=f"a value of {', '.join(on)} in {other_label}",
                    got=", ".join(str(row[c]) for c in lookup.match),
                ),
            )
        if missing.height > ROWS_SHOWN:
            problems.counts[f"{lookup.key}:unmatched"] += missing.height - ROWS_SHOWN
    return joined.drop("__hit", *[k for k in keys if k in joined.columns])


def _parse_dates(
    frame: pl.DataFrame,
    column: str,
    fmt: str,
    kind: str,
    key: str,
    label: str,
    source_column: str,
    problems: _Problems,
    *,
    report: bool = True,
) -> pl.Expr:
    """``column`` parsed with ``fmt`` and written ISO; values that do not parse are reported
    (with ``report``) as problems of ``source_column`` under mapping ``key``."""
    import polars as pl

    dtype = pl.Date if kind == "date" else pl.Datetime("us")
    parsed = pl.col(column).str.strptime(dtype, fmt, strict=False)
    text = parsed.dt.strftime("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S")
    bad = frame.filter(pl.col(column).is_not_null() & parsed.is_null())
    if not report:
        return text.alias(column)
    kind_key = f"{key}, column {source_column}"
    for row in bad.head(ROWS_SHOWN).iter_rows(named=True):
        problems.add(
            kind_key,
            Problem(
                label,
                f"key {key}: date does not match the format {fmt!r}",
                row=row["__row"],
                column=source_column,
                expected=f"a date like {_example(fmt)}",
                got=row[column],
            ),
        )
    if bad.height > ROWS_SHOWN:
        problems.counts[kind_key] += bad.height - ROWS_SHOWN
    return text.alias(column)


def _example(fmt: str) -> str:
    # chrono's fractional seconds (%.f, %.3f, …) are not Python's: shown as milliseconds.
    import re
    from datetime import datetime

    return datetime(2024, 3, 31, 14, 5, 9).strftime(re.sub(r"%\.\d?f", ".000", fmt))


def _check_allowed(
    frame: pl.DataFrame,
    spec: TableMapping,
    column: str,
    allowed: tuple[str, ...],
    label: str,
    problems: _Problems,
) -> None:
    import polars as pl

    bad = frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(list(allowed)))
    if not bad.height:
        return
    key = f"tables.{spec.table}"
    sources = spec.columns.get(column)
    if sources is not None:
        src = sources[0]
        key = f"{key}.values.{src}"
        where = f"source column {src!r}"
    elif column in spec.bins:
        key = f"{spec.bins[column].key}.labels"
        where = key
    else:
        key = (
            f"{key}.constants.{column}" if column in spec.constants else f"{key}.defaults.{column}"
        )
        where = key
    counts = bad.group_by(column).agg(pl.len(), pl.col("__row").min()).sort(column)
    for value, n, first in counts.iter_rows():
        problems.add(
            f"{key}, value {value!r}",
            Problem(
                label,
                f"key {key}: {where} has {n:,} row(s) with a value {column} cannot take "
                f"(first at row {first}); map it to one of the allowed values",
                column=column,
                expected=_one_of(allowed),
                got=value,
            ),
            n,
        )


def _derive_history(
    mapping: Mapping, spec: TableMapping, deals: pl.DataFrame, label: str, problems: _Problems
) -> pl.DataFrame:
    """A history row per deal and entry whose date is filled (and whose stage matches)."""
    import polars as pl

    key = f"tables.{spec.table}"
    deals_spec = mapping.tables["deals"]
    # Export columns the deals' own date columns already parsed (and reported) with a format.
    parsed_by_deals = {
        (sources[0], deals_spec.format_for(canon))
        for canon, sources in deals_spec.columns.items()
        if deals_spec.contract.column(canon).type == "date"
    }
    parts: list[pl.DataFrame] = []
    for entry in spec.entries:
        if entry.date not in deals.columns:
            _missing_column(problems, f"{entry.key}.date", label, entry.date, deals)
            continue
        if entry.amount is not None and entry.amount not in deals.columns:
            _missing_column(problems, f"{entry.key}.amount", label, entry.amount, deals)
            continue
        amount = entry.amount or ("amount" if "amount" in deals.columns else None)
        frame = deals.select(
            "__row",
            pl.col("deal_id"),
            pl.lit(entry.stage).alias("stage"),
            pl.col(entry.date).alias("entered_at"),
            pl.col("stage").alias("__deal_stage"),
            *([pl.col(amount).alias("amount")] if amount is not None else []),
        )
        if entry.when_stage:
            frame = frame.filter(pl.col("__deal_stage").is_in(list(entry.when_stage)))
        canonical_date = entry.date in deals_spec.contract.column_names and (
            deals_spec.contract.column(entry.date).type == "date"
        )
        fmt = entry.date_format or (
            None if canonical_date else spec.date_format or deals_spec.date_format
        )
        if fmt is not None:
            fkey = (
                f"{entry.key}.date_format"
                if entry.date_format
                else (f"{key}.date_format" if spec.date_format else "tables.deals.date_format")
            )
            report = (entry.date, fmt) not in parsed_by_deals  # each bad cell reported once
            frame = frame.with_columns(
                _parse_dates(
                    frame,
                    "entered_at",
                    fmt,
                    "date",
                    fkey,
                    label,
                    entry.date,
                    problems,
                    report=report,
                )
            )
        parts.append(frame.filter(pl.col("entered_at").is_not_null()))
    if not parts:
        return pl.DataFrame(
            schema={"deal_id": pl.String, "stage": pl.String, "entered_at": pl.String}
        )
    history = pl.concat(parts, how="diagonal_relaxed")
    history = history.unique(["deal_id", "stage", "entered_at"], keep="first", maintain_order=True)
    history = history.sort(["__row", "entered_at"], maintain_order=True)
    return history.drop("__row", "__deal_stage")
