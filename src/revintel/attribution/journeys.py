"""Journeys: each converting or non-converting path of touches, the input of every model.

A :class:`Journeys` holds the touches of many journeys in chronological order, CSR-style
(``starts[j]:starts[j + 1]`` are journey ``j``'s touches), with per-journey conversions, value and
null (non-converting) counts. A journey read from the warehouse has one conversion or one null;
a row of an aggregated path file (:mod:`revintel.attribution.paths_file`) carries its counts.

:func:`journey_touches` is the Ibis expression that builds the touches of every journey from the
``touchpoints`` and ``conversions`` tables (docs/attribution.md, Journeys); it runs on every
backend (DuckDB, PostgreSQL, PySpark). :func:`collect` turns its rows into a :class:`Journeys`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pyarrow as pa

from revintel.core.errors import NoDataError

if TYPE_CHECKING:
    from revintel.warehouse import Warehouse

TOUCHPOINTS = "touchpoints"
CONVERSIONS = "conversions"
SECONDS_PER_DAY = 86_400.0


class MissingJourneyData(NoDataError):
    """Attribution needs touchpoints (and conversions) that are not loaded, or none match."""


@dataclass(frozen=True)
class JourneyOptions:
    """Which conversions are attributed and which touches count (docs/attribution.md)."""

    conversion_type: str = "paid"
    window_days: int = 90
    start: date | None = None  # conversions (and non-converting touches) on or after
    end: date | None = None  # ... on or before


@dataclass(frozen=True)
class Journeys:
    """Touches of many journeys (CSR), with conversions, value and nulls per journey."""

    channels: tuple[str, ...]  # channel code -> name
    starts: np.ndarray  # int64, one more than the journeys: offsets into the touch arrays
    channel: np.ndarray  # int32 per touch, chronological within each journey
    conversions: np.ndarray  # float64 per journey (0: did not convert)
    value: np.ndarray  # float64 per journey
    nulls: np.ndarray  # float64 per journey: how many times the path ended without converting
    days_before: np.ndarray | None = None  # float64 per touch: days before the journey's end
    journey_ids: np.ndarray | None = None  # per journey, as loaded (None for a path file)
    customer_ids: np.ndarray | None = field(default=None)  # per journey, None where unknown

    @property
    def n_journeys(self) -> int:
        return len(self.starts) - 1

    @property
    def n_touches(self) -> int:
        return len(self.channel)

    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def journey_of_touch(self) -> np.ndarray:
        """The journey index of every touch."""
        return np.repeat(np.arange(self.n_journeys), self.lengths())

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.value.sum())

    def paths(self) -> list[tuple[int, ...]]:
        """Every journey's channel codes, in order (a Python list: for small inputs and tests)."""
        ch = self.channel.tolist()
        s = self.starts.tolist()
        return [tuple(ch[s[j] : s[j + 1]]) for j in range(self.n_journeys)]


def from_paths(
    paths: list[list[str]],
    conversions: list[float],
    value: list[float] | None = None,
    nulls: list[float] | None = None,
) -> Journeys:
    """A :class:`Journeys` from channel-name paths and their counts (tests, path files)."""
    names = sorted({c for p in paths for c in p})
    code = {c: i for i, c in enumerate(names)}
    lengths = np.array([len(p) for p in paths], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    channel = np.array([code[c] for p in paths for c in p], dtype=np.int32)
    n = len(paths)
    return Journeys(
        channels=tuple(names),
        starts=starts,
        channel=channel,
        conversions=np.asarray(conversions, dtype=np.float64),
        value=np.zeros(n) if value is None else np.asarray(value, dtype=np.float64),
        nulls=np.zeros(n) if nulls is None else np.asarray(nulls, dtype=np.float64),
    )


def _journey_key(table: ibis.Table) -> ibis.Value:
    """The journey a row belongs to: its journey_id, else its customer's own journey."""
    if "journey_id" in table.columns:
        return ibis.coalesce(table.journey_id, table.customer_id)
    return table.customer_id


def journey_touches(touchpoints: ibis.Table, conversions: ibis.Table, options: JourneyOptions):
    """One row per touch of every journey: ``journey`` (a conversion_id, or the journey key of a
    journey that did not convert), ``customer_id``, ``channel``, ``touched_at``, ``days_before``
    (days from the touch to the conversion, or to the journey's last touch), ``converted`` (1/0)
    and ``value`` (the conversion's, repeated on each of its touches).

    A converting journey is one conversion of ``options.conversion_type`` in the date range and the
    touches of its journey in the ``window_days`` before it (at or before the conversion). A
    non-converting journey is the touches, in the date range, of a journey key with no conversion
    of that type at all, within ``window_days`` of its last touch.
    """
    window = ibis.interval(days=options.window_days)
    conv = conversions.filter(conversions.conversion_type == options.conversion_type)
    conv = conv.mutate(_key=_journey_key(conv))
    all_keys = conv.select(_key=conv._key).distinct()
    if options.start is not None:
        conv = conv.filter(conv.converted_at >= _at(options.start))
    if options.end is not None:
        conv = conv.filter(conv.converted_at < _at(options.end + timedelta(days=1)))
    touches = touchpoints.mutate(_key=_journey_key(touchpoints))
    c = conv.select(
        _key=conv._key,
        journey=conv.conversion_id,
        conv_customer=conv.customer_id,
        converted_at=conv.converted_at,
        value=conv.value,
    )
    t = touches.select(
        _key=touches._key,
        touch_customer=touches.customer_id,
        touchpoint_id=touches.touchpoint_id,
        channel=touches.channel,
        touched_at=touches.touched_at,
    )
    joined = t.inner_join(c, t._key == c._key)
    joined = joined.filter(
        (joined.touched_at <= joined.converted_at)
        & (joined.touched_at >= joined.converted_at - window)
    )
    converting = joined.select(
        journey=joined.journey,
        customer_id=ibis.coalesce(joined.conv_customer, joined.touch_customer),
        touchpoint_id=joined.touchpoint_id,
        channel=joined.channel,
        touched_at=joined.touched_at,
        days_before=_days_between(joined.touched_at, joined.converted_at),
        converted=ibis.literal(1),
        value=joined.value.cast("float64"),
    )
    rest = t.anti_join(all_keys, t._key == all_keys._key)
    if options.start is not None:
        rest = rest.filter(rest.touched_at >= _at(options.start))
    if options.end is not None:
        rest = rest.filter(rest.touched_at < _at(options.end + timedelta(days=1)))
    last = rest.group_by("_key").aggregate(ended_at=rest.touched_at.max())
    rest = rest.inner_join(last, "_key")
    rest = rest.filter(rest.touched_at >= rest.ended_at - window)
    lost = rest.select(
        journey=rest._key,
        customer_id=rest.touch_customer,
        touchpoint_id=rest.touchpoint_id,
        channel=rest.channel,
        touched_at=rest.touched_at,
        days_before=_days_between(rest.touched_at, rest.ended_at),
        converted=ibis.literal(0),
        value=ibis.literal(0.0),
    )
    return converting.union(lost)


def _at(day: date) -> ibis.Value:
    return ibis.timestamp(datetime.combine(day, time()))


def _days_between(earlier: ibis.Value, later: ibis.Value) -> ibis.Value:
    seconds = later.epoch_seconds() - earlier.epoch_seconds()
    return seconds.cast("float64") / SECONDS_PER_DAY


def collect(rows: pa.Table) -> Journeys:
    """A :class:`Journeys` from :func:`journey_touches` rows (any order)."""
    if rows.num_rows == 0:
        raise MissingJourneyData("no journey matches: no touch before any conversion in range")
    import polars as pl

    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.sort(["journey", "touched_at", "touchpoint_id"])
    journey = frame.get_column("journey")
    first = np.flatnonzero(
        np.concatenate(
            [[True], (journey.slice(1) != journey.slice(0, len(journey) - 1)).to_numpy()]
        )
    )
    starts = np.concatenate([first, [frame.height]]).astype(np.int64)
    names, codes = np.unique(
        frame.get_column("channel").to_numpy().astype(str), return_inverse=True
    )
    converted = frame.get_column("converted").to_numpy()[first].astype(np.float64)
    return Journeys(
        channels=tuple(str(n) for n in names),
        starts=starts,
        channel=codes.astype(np.int32),
        conversions=converted,
        value=frame.get_column("value").to_numpy()[first].astype(np.float64),
        nulls=1.0 - converted,
        days_before=frame.get_column("days_before").to_numpy().astype(np.float64),
        journey_ids=journey.to_numpy()[first],
        customer_ids=frame.get_column("customer_id").to_numpy()[first],
    )


def load_journeys(warehouse: Warehouse, options: JourneyOptions) -> Journeys:
    """Every journey in the warehouse under ``options``; :class:`MissingJourneyData` without
    touchpoints or conversions."""
    for name in (TOUCHPOINTS, CONVERSIONS):
        if not warehouse.has_table(name):
            raise MissingJourneyData(
                f"attribution needs the {name} table; it is not loaded "
                f"(load {name}.csv, or generate a demo with `revintel demo`)"
            )
    expr = journey_touches(warehouse.table(TOUCHPOINTS), warehouse.table(CONVERSIONS), options)
    return collect(warehouse.to_arrow(expr))
