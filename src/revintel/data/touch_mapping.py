"""Event-level analytics exports (GA4, Segment, Mixpanel, a warehouse table of events) mapped to
``touchpoints`` and ``conversions``: the ``[events]`` section of a mapping file.

One file of the export holds every event, one row each. The mapping names the columns that hold
the journey (a visitor or lead id), the customer, the time, the event name, the channel or the
source, medium and campaign it is derived from, the conversion's value and optional ids; it says
which rows are conversions (event names with their conversion type, or a flag column with its
true and false values) and which rows are touches (every other row, or only some event names).
A rule table may derive the channel from source, medium and campaign (first rule that matches;
patterns with ``*``, compared without case). docs/attribution.md, "Importing journeys", has the
format; ``examples/mappings/ga4-touches.toml`` is an example.

:func:`read_events` checks the section (problems name its keys, like the rest of
:mod:`revintel.data.mapping`) and :func:`apply_events` makes the two tables as text columns for
the importer, which then checks every value against the contracts. The values whose problems only
the source can name (a time that does not parse, a value that is not a number, a flag that is
neither true nor false, a row with no journey, a touch with no channel) are checked here, naming
the export's file, row (1 = first data row) and column. Nothing is evaluated: patterns are
matched as text, and ``*`` is the only wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from revintel.core.errors import Problem
from revintel.data.schema import CONVERSION_TYPES

if TYPE_CHECKING:
    import polars as pl

    from revintel.data.mapping import MappedTable, _Checker, _Problems, _Reader

SECTION = "events"
ROLES = (
    "journey",
    "customer",
    "time",
    "event",
    "channel",
    "source",
    "medium",
    "campaign",
    "value",
    "touchpoint_id",
    "conversion_id",
)
"""What a column of the export may be mapped to, under ``[events.columns]``."""
EPOCH_FORMATS = {"epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1}
"""Times given as a number since 1970-01-01 UTC (GA4's ``event_timestamp`` is in microseconds)."""
TRUTHY = ("true", "1", "yes", "y", "t")
FALSY = ("false", "0", "no", "n", "f")
RULE_FIELDS = ("source", "medium", "campaign")
OUT_FORMAT = "%Y-%m-%d %H:%M:%S%.6f"


@dataclass(frozen=True)
class ChannelRule:
    """A channel for touches whose source, medium and campaign match (empty: any value)."""

    key: str  # events.channels[2], for messages
    channel: str
    patterns: dict[str, tuple[str, ...]]  # field -> patterns, lower case, ``*`` any text


@dataclass(frozen=True)
class EventMapping:
    """A checked ``[events]`` section."""

    file: str
    columns: dict[str, str]  # role -> export column
    time_format: str | None = None  # a strptime format or one of EPOCH_FORMATS; None: ISO
    conversion_events: dict[str, str] = field(default_factory=dict)  # event name -> type
    flag: str | None = None  # a column: true on conversion rows
    truthy: tuple[str, ...] = TRUTHY
    falsy: tuple[str, ...] = FALSY
    conversion_type: str | None = None  # with a flag: the type of every conversion
    touch_events: tuple[str, ...] = ()  # only these events are touches (empty: every other row)
    rules: tuple[ChannelRule, ...] = ()


# -- reading the section ---------------------------------------------------------------------------

SECTION_KEYS = ("file", "columns", "time_format", "conversions", "touches", "channels")


def read_events(check: _Checker, raw: Any, files: dict[str, str]) -> EventMapping | None:
    """The ``[events]`` section, checked; problems go to ``check`` naming their keys."""
    from revintel.data.mapping import _format, _one_of

    body = check.table(SECTION, raw)
    check.unknown(SECTION, body, SECTION_KEYS)
    file = check.text(f"{SECTION}.file", body.get("file"))
    if file is not None and file not in files:
        check.add(
            f"{SECTION}.file", "not a file named under [files]", expected=_one_of(files), got=file
        )
    columns: dict[str, str] = {}
    for role, src in check.table(f"{SECTION}.columns", body.get("columns", {})).items():
        ckey = f"{SECTION}.columns.{role}"
        if role not in ROLES:
            check.add(ckey, "not something an event column can be", expected=_one_of(ROLES))
            continue
        text = check.text(ckey, src)
        if text is not None:
            columns[role] = text
    if "time" not in columns:
        check.add(f"{SECTION}.columns.time", "missing", expected="the column of each event's time")
    if "journey" not in columns and "customer" not in columns:
        check.add(
            f"{SECTION}.columns.journey",
            "missing",
            expected="the column of the visitor or lead id (journey), or of the customer id",
        )
    time_format = body.get("time_format")
    if time_format is not None and time_format not in EPOCH_FORMATS:
        time_format = _format(check, f"{SECTION}.time_format", time_format)
    conversions = check.table(f"{SECTION}.conversions", body.get("conversions", {}))
    ckey = f"{SECTION}.conversions"
    check.unknown(ckey, conversions, ("events", "flag", "truthy", "falsy", "type"))
    events = _read_conversion_events(check, conversions.get("events"))
    flag = None
    if "flag" in conversions:
        flag = check.text(f"{ckey}.flag", conversions["flag"])
    if events and flag is not None:
        check.add(f"{ckey}.flag", "give conversion events or a flag column, not both")
    if not events and flag is None:
        check.add(
            ckey,
            "says no row is a conversion",
            expected='events = { purchase = "paid", … } (with columns.event), '
            'or flag = "<column>" with type = "paid"',
        )
    if events and "event" not in columns:
        check.add(
            f"{SECTION}.columns.event",
            "missing: conversions are chosen by event name",
            expected="the column of each event's name",
        )
    truthy = _read_words(check, f"{ckey}.truthy", conversions.get("truthy"), TRUTHY)
    falsy = _read_words(check, f"{ckey}.falsy", conversions.get("falsy"), FALSY)
    if set(truthy) & set(falsy):
        check.add(
            f"{ckey}.falsy", "shares values with truthy", got=sorted(set(truthy) & set(falsy))
        )
    conversion_type = None
    if "type" in conversions:
        conversion_type = check.text(f"{ckey}.type", conversions["type"])
        if conversion_type is not None and conversion_type not in CONVERSION_TYPES:
            check.add(
                f"{ckey}.type",
                "not a conversion type",
                expected=_one_of(CONVERSION_TYPES),
                got=conversion_type,
            )
        if events:
            check.add(f"{ckey}.type", "used with flag only; events give each event's type")
    if flag is not None and conversion_type is None:
        check.add(f"{ckey}.type", "missing", expected="the type of every flagged conversion")
    touches = check.table(f"{SECTION}.touches", body.get("touches", {}))
    check.unknown(f"{SECTION}.touches", touches, ("events",))
    touch_events = _read_words(check, f"{SECTION}.touches.events", touches.get("events"), ())
    if touch_events and "event" not in columns:
        check.add(
            f"{SECTION}.columns.event",
            "missing: touches are chosen by event name",
            expected="the column of each event's name",
        )
    both = sorted(set(touch_events) & set(events))
    if both:
        check.add(f"{SECTION}.touches.events", "names conversion events too", got=both)
    rules = _read_rules(check, body.get("channels", []), columns)
    if "channel" not in columns and not rules:
        check.add(
            f"{SECTION}.columns.channel",
            "missing",
            expected="the channel column, or [[events.channels]] rules on source and medium",
        )
    if file is None or "time" not in columns:
        return None
    return EventMapping(
        file=file,
        columns=columns,
        time_format=time_format,
        conversion_events=events,
        flag=flag,
        truthy=truthy,
        falsy=falsy,
        conversion_type=conversion_type,
        touch_events=touch_events,
        rules=rules,
    )


def _read_conversion_events(check: _Checker, raw: Any) -> dict[str, str]:
    from revintel.data.mapping import _one_of

    if raw is None:
        return {}
    key = f"{SECTION}.conversions.events"
    out: dict[str, str] = {}
    for name, kind in check.table(key, raw).items():
        text = check.text(f"{key}.{name}", kind)
        if text is not None and text not in CONVERSION_TYPES:
            check.add(
                f"{key}.{name}",
                "not a conversion type",
                expected=_one_of(CONVERSION_TYPES),
                got=text,
            )
        elif text is not None:
            out[str(name)] = text
    return out


def _read_words(check: _Checker, key: str, raw: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if raw is None:
        return default
    raw = [raw] if isinstance(raw, str) else raw
    if not isinstance(raw, list) or not all(isinstance(w, str) and w.strip() for w in raw):
        check.add(key, "must be a value or a list of values", got=raw)
        return default
    return tuple(w.strip() for w in raw)


def _read_rules(check: _Checker, raw: Any, columns: dict[str, str]) -> tuple[ChannelRule, ...]:
    key = f"{SECTION}.channels"
    if not isinstance(raw, list):
        check.add(key, "must be a list", expected="[[events.channels]] tables", got=raw)
        return ()
    out: list[ChannelRule] = []
    for i, item in enumerate(raw):
        rkey = f"{key}[{i}]"
        body = check.table(rkey, item)
        check.unknown(rkey, body, ("channel", *RULE_FIELDS))
        channel = check.text(f"{rkey}.channel", body.get("channel"))
        patterns: dict[str, tuple[str, ...]] = {}
        for name in RULE_FIELDS:
            if name not in body:
                continue
            words = _read_words(check, f"{rkey}.{name}", body[name], ())
            if name not in columns:
                check.add(
                    f"{rkey}.{name}",
                    f"matches on {name}, but no column is mapped to it",
                    expected=f"columns.{name}",
                )
            patterns[name] = tuple(w.lower() for w in words)
        if channel is not None:
            out.append(ChannelRule(rkey, channel, patterns))
    return tuple(out)


# -- applying it -----------------------------------------------------------------------------------


def apply_events(
    spec: EventMapping, reader: _Reader, problems: _Problems, mapping_name: str
) -> list[MappedTable]:
    """The ``touchpoints`` and ``conversions`` of the export's event file (none when the file or
    a column is missing; every problem goes to ``problems``)."""
    import polars as pl

    from revintel.data.mapping import MappedTable, _missing_column

    source = reader.read(spec.file, f"{SECTION}.file")
    if source is None:
        return []
    label = reader.label(spec.file)
    before = problems.structural
    for role, column in spec.columns.items():
        if column not in source.columns:
            _missing_column(problems, f"{SECTION}.columns.{role}", label, column, source)
    if spec.flag is not None and spec.flag not in source.columns:
        _missing_column(problems, f"{SECTION}.conversions.flag", label, spec.flag, source)
    if problems.structural > before:
        return []
    work = source.with_row_index("__row", offset=1)
    col = spec.columns
    is_conversion = _conversion_rows(work, spec, label, problems)
    if spec.touch_events:
        is_touch = ~is_conversion & pl.col(col["event"]).is_in(list(spec.touch_events))
    else:
        is_touch = ~is_conversion
    work = work.with_columns(is_conversion.alias("__conversion"), is_touch.alias("__touch"))
    work = work.filter(pl.col("__conversion") | pl.col("__touch"))
    at = _times(work, spec, label, problems)
    journey = pl.col(col["journey"]) if "journey" in col else pl.lit(None, pl.String)
    customer = pl.col(col["customer"]) if "customer" in col else pl.lit(None, pl.String)
    work = work.with_columns(
        at.alias("__at"), journey.alias("__journey"), customer.alias("__customer")
    )
    _report(
        work.filter(pl.col("__journey").is_null() & pl.col("__customer").is_null()),
        problems,
        f"{SECTION}.columns.journey",
        label,
        col.get("journey") or col["customer"],
        "no journey: both the journey and the customer are blank",
        "a visitor or lead id, or a customer id",
        lambda row: "",
    )
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", spec.file)
    row_id = pl.format("{}-{}", pl.lit(stem), pl.col("__row").cast(pl.String).str.zfill(9))
    touches = work.filter(pl.col("__touch"))
    channel = _channel(touches, spec, label, problems)
    touch_id = (
        pl.coalesce(pl.col(col["touchpoint_id"]), row_id) if "touchpoint_id" in col else row_id
    )
    _duplicates(touches, touch_id, problems, "touchpoint_id", spec, label)
    touch_frame = touches.select(
        touch_id.alias("touchpoint_id"),
        pl.col("__journey").alias("journey_id"),
        pl.col("__customer").alias("customer_id"),
        pl.col("__at").dt.strftime(OUT_FORMAT).alias("touched_at"),
        channel.alias("channel"),
        *[_optional(col, name).alias(name) for name in ("source", "medium", "campaign")],
        _optional(col, "event").alias("touchpoint_type"),
    )
    conversions = work.filter(pl.col("__conversion"))
    value = _values(conversions, spec, label, problems)
    conv_id = (
        pl.coalesce(pl.col(col["conversion_id"]), row_id) if "conversion_id" in col else row_id
    )
    _duplicates(conversions, conv_id, problems, "conversion_id", spec, label)
    if spec.conversion_events:
        kind = pl.col(col["event"]).replace_strict(spec.conversion_events, default=None)
    else:
        kind = pl.lit(spec.conversion_type, pl.String)
    conv_frame = conversions.select(
        conv_id.alias("conversion_id"),
        pl.col("__journey").alias("journey_id"),
        pl.col("__customer").alias("customer_id"),
        pl.col("__at").dt.strftime(OUT_FORMAT).alias("converted_at"),
        kind.alias("conversion_type"),
        value.alias("value"),
    )
    return [
        MappedTable("touchpoints", touch_frame, f"{label} via {mapping_name} [events: touches]"),
        MappedTable("conversions", conv_frame, f"{label} via {mapping_name} [events: conversions]"),
    ]


def _duplicates(
    frame: pl.DataFrame,
    ids: pl.Expr,
    problems: _Problems,
    role: str,
    spec: EventMapping,
    label: str,
) -> None:
    """A touch or conversion id given to two rows is reported at the later row, naming the first
    (the same purchase sent twice, say)."""
    import polars as pl

    if role not in spec.columns:
        return  # ids made from the row numbers are unique
    keyed = frame.select(pl.col("__row"), ids.alias("__id"))
    first = keyed.group_by("__id").agg(pl.col("__row").min().alias("__first"))
    again = keyed.join(first, on="__id").filter(pl.col("__row") != pl.col("__first"))
    _report(
        again.sort("__row"),
        problems,
        f"{SECTION}.columns.{role}",
        label,
        spec.columns[role],
        f"this {role.removesuffix('_id')} id is used by an earlier row",
        "an id used once (drop the repeated event from the export)",
        lambda row: f"{row['__id']} (also at row {row['__first']})",
    )


def _optional(columns: dict[str, str], role: str) -> pl.Expr:
    import polars as pl

    return pl.col(columns[role]) if role in columns else pl.lit(None, pl.String)


def _conversion_rows(
    work: pl.DataFrame, spec: EventMapping, label: str, problems: _Problems
) -> pl.Expr:
    """True on the rows that are conversions; a flag that is neither true nor false is reported."""
    import polars as pl

    if spec.conversion_events:
        return pl.col(spec.columns["event"]).is_in(list(spec.conversion_events)).fill_null(False)
    assert spec.flag is not None
    flag = pl.col(spec.flag).str.to_lowercase()
    truthy = [w.lower() for w in spec.truthy]
    falsy = [w.lower() for w in spec.falsy]
    bad = work.filter(flag.is_not_null() & ~flag.is_in(truthy) & ~flag.is_in(falsy))
    _report(
        bad,
        problems,
        f"{SECTION}.conversions.flag",
        label,
        spec.flag,
        "neither a true nor a false value (add it to truthy or falsy)",
        f"one of {', '.join([*spec.truthy, *spec.falsy])}, or blank (false)",
        lambda row: row[spec.flag],
    )
    return flag.is_in(truthy).fill_null(False)


def _times(work: pl.DataFrame, spec: EventMapping, label: str, problems: _Problems) -> pl.Expr:
    """Each row's time (UTC when the source says a zone); a time that does not parse, or a blank
    one, is reported."""
    import polars as pl

    column = spec.columns["time"]
    fmt = spec.time_format
    if fmt in EPOCH_FORMATS:
        number = pl.col(column).cast(pl.Float64, strict=False)
        micros = (number * EPOCH_FORMATS[fmt]).round(0).cast(pl.Int64, strict=False)
        parsed = micros.cast(pl.Datetime("us"))
        expected = f"a number of {fmt.removeprefix('epoch_')} since 1970-01-01 UTC"
    elif fmt is not None:
        parsed = pl.col(column).str.to_datetime(fmt, strict=False, time_unit="us")
        from revintel.data.mapping import _example

        expected = f"a time like {_example(fmt)} (time_format {fmt!r})"
    else:
        parsed = pl.coalesce(
            pl.col(column).str.to_datetime(
                f"%Y-%m-%d{sep}%H:%M:%S%.f", strict=False, time_unit="us"
            )
            for sep in (" ", "T")
        )
        parsed = pl.coalesce(parsed, pl.col(column).str.to_date("%Y-%m-%d", strict=False))
        expected = "an ISO time like 2024-03-31 14:05:09 (or give events.time_format)"
    probe = work.select(parsed.alias("at"))
    dtype = probe.schema["at"]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        parsed = parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    parsed = parsed.cast(pl.Datetime("us"))
    bad = work.with_columns(parsed.alias("__parsed")).filter(pl.col("__parsed").is_null())
    _report(
        bad,
        problems,
        f"{SECTION}.time_format" if fmt else f"{SECTION}.columns.time",
        label,
        column,
        "no time" if fmt is None else f"time does not match the format {fmt!r}",
        expected,
        lambda row: row[column],
    )
    return parsed


def _values(
    conversions: pl.DataFrame, spec: EventMapping, label: str, problems: _Problems
) -> pl.Expr:
    """Each conversion's value as text: blank is 0; one that is not a number ≥ 0 is reported."""
    import polars as pl

    if "value" not in spec.columns:
        return pl.lit("0")
    column = spec.columns["value"]
    number = pl.col(column).cast(pl.Float64, strict=False)
    bad = conversions.filter(pl.col(column).is_not_null() & (number.is_null() | (number < 0)))
    _report(
        bad,
        problems,
        f"{SECTION}.columns.value",
        label,
        column,
        "a conversion's value is not a number of at least 0",
        "a number ≥ 0 in the reporting currency (blank: 0)",
        lambda row: row[column],
    )
    return pl.col(column).fill_null("0")


def _channel(touches: pl.DataFrame, spec: EventMapping, label: str, problems: _Problems) -> pl.Expr:
    """Each touch's channel: the channel column, else the first rule that matches; a touch left
    without one is reported with its source and medium."""
    import polars as pl

    col = spec.columns
    derived: Any = None
    for rule in spec.rules:
        cond = pl.lit(True)
        for name, patterns in rule.patterns.items():
            text = pl.col(col[name]).str.to_lowercase()
            cond = cond & pl.any_horizontal(
                [_matches(text, p) for p in patterns] or [pl.lit(False)]
            ).fill_null(False)
        derived = (pl.when(cond) if derived is None else derived.when(cond)).then(
            pl.lit(rule.channel)
        )
    rules = pl.lit(None, pl.String) if derived is None else derived.otherwise(None)
    channel = pl.coalesce(pl.col(col["channel"]), rules) if "channel" in col else rules
    missing = touches.with_columns(channel.alias("__channel")).filter(pl.col("__channel").is_null())
    shown = [n for n in RULE_FIELDS if n in col]
    _report(
        missing,
        problems,
        f"{SECTION}.channels",
        label,
        col.get("channel") or ", ".join(col[n] for n in shown),
        "a touch with no channel: "
        + ("blank, and " if "channel" in col else "")
        + "no rule of events.channels matches it",
        "a channel, or a rule under [[events.channels]] that matches (one without conditions "
        "catches the rest)",
        lambda row: ", ".join(f"{n}={row[col[n]]}" for n in shown) or "blank",
    )
    return channel


def _matches(text: pl.Expr, pattern: str) -> pl.Expr:
    """``text`` (lower case) matches ``pattern``: ``*`` any text, everything else literally."""
    if "*" not in pattern:
        return text == pattern
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return text.str.contains(regex)


def _report(
    bad: pl.DataFrame,
    problems: _Problems,
    key: str,
    label: str,
    column: str,
    message: str,
    expected: str,
    got: Any,
) -> None:
    """One problem per bad row (the first few shown, the rest counted)."""
    from revintel.data.mapping import ROWS_SHOWN

    if not bad.height:
        return
    kind = f"{key}, column {column}: {message}"
    for row in bad.head(ROWS_SHOWN).iter_rows(named=True):
        problems.add(
            kind,
            Problem(
                label,
                f"key {key}: {message}",
                row=row["__row"],
                column=column,
                expected=expected,
                got=got(row),
            ),
        )
    if bad.height > ROWS_SHOWN:
        problems.counts[kind] += bad.height - ROWS_SHOWN
