"""Journeys as a service: the journey analytics of the warehouse and one customer's journey.
What the CLI, the API and the Journeys page call; definitions in ``docs/attribution.md``
(Journeys, Journey analytics).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import ibis

from revintel.attribution import analytics as A
from revintel.attribution.config import load_config
from revintel.attribution.journeys import (
    CONVERSIONS,
    TOUCHPOINTS,
    JourneyOptions,
    MissingJourneyData,
    journey_key,
)
from revintel.attribution.service.cache import cached_journeys
from revintel.core.errors import InvalidOption, NotFoundError
from revintel.data.schema import CONVERSION_TYPES

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

MAX_TOP = 1000
SECONDS_PER_DAY = 86_400.0


class InvalidJourneyOption(InvalidOption):
    """A journeys request option (a date, the window, the conversion type, top) is invalid."""


class UnknownCustomer(NotFoundError):
    """No customer, touch or conversion has this customer id."""


# -- the request's options ----------------------------------------------------------------------
def _date(value: str | date | None, name: str) -> date | None:
    if isinstance(value, date):
        return value
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidJourneyOption(f"{name} {value!r}: expected a date YYYY-MM-DD") from None


def journey_options(
    rt: Runtime,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    window_days: int | None = None,
    conversion_type: str | None = None,
) -> JourneyOptions:
    """The options of a request; unset ones from the attribution settings. Raises
    :class:`InvalidJourneyOption` naming the option when one is not valid."""
    models = load_config(rt.settings).models
    f, t = _date(start, "from"), _date(end, "to")
    if f is not None and t is not None and f > t:
        raise InvalidJourneyOption(f"from {f} is after to {t}: expected from ≤ to")
    window = models.window_days if window_days is None else window_days
    if not 1 <= window <= 3650:
        raise InvalidJourneyOption(f"window {window}: expected 1 to 3650 days")
    kind = conversion_type or models.conversion_type
    if kind not in CONVERSION_TYPES:
        raise InvalidJourneyOption(
            f"conversion type {kind!r}: expected one of {', '.join(CONVERSION_TYPES)}"
        )
    return JourneyOptions(conversion_type=kind, window_days=window, start=f, end=t)


# -- journey analytics --------------------------------------------------------------------------
@dataclass(frozen=True)
class PathReport:
    """Top paths, path lengths, time to convert and first-to-last flows under ``options``."""

    options: JourneyOptions
    collapse_repeats: bool
    journeys: float
    converting_journeys: int
    conversions: float
    value: float
    conversion_rate: float
    top_paths: list[A.PathStat]
    path_lengths: list[A.LengthBin]
    time_to_convert: A.TimeToConvert
    flows: list[A.Flow]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["options"] = {
            "conversion_type": self.options.conversion_type,
            "window_days": self.options.window_days,
            "from": self.options.start.isoformat() if self.options.start else None,
            "to": self.options.end.isoformat() if self.options.end else None,
        }
        for row, stat in zip(out["top_paths"], self.top_paths, strict=True):
            row["path"] = list(stat.path)
            row["label"] = stat.label
        for row, b in zip(out["time_to_convert"]["bins"], self.time_to_convert.bins, strict=True):
            row["label"] = b.label
        return out


def path_report(
    rt: Runtime,
    *,
    top: int = 20,
    collapse_repeats: bool = False,
    start: str | date | None = None,
    end: str | date | None = None,
    window_days: int | None = None,
    conversion_type: str | None = None,
) -> PathReport:
    """The journey analytics of the warehouse's journeys (docs/attribution.md, Journey
    analytics). :class:`MissingJourneyData` without touchpoints or matching journeys."""
    if not 1 <= top <= MAX_TOP:
        raise InvalidJourneyOption(f"top {top}: expected 1 to {MAX_TOP}")
    options = journey_options(
        rt, start=start, end=end, window_days=window_days, conversion_type=conversion_type
    )
    j = cached_journeys(rt.warehouse, options)
    weights = float((j.conversions + j.nulls).sum())
    return PathReport(
        options=options,
        collapse_repeats=collapse_repeats,
        journeys=weights,
        converting_journeys=int((j.conversions > 0).sum()),
        conversions=j.total_conversions,
        value=j.total_value,
        conversion_rate=j.total_conversions / weights if weights else 0.0,
        top_paths=A.top_paths(j, top=top, collapse_repeats=collapse_repeats),
        path_lengths=A.path_lengths(j),
        time_to_convert=A.time_to_convert(j),
        flows=A.flows(j),
    )


# -- one customer's journey ---------------------------------------------------------------------
@dataclass(frozen=True)
class JourneyEvent:
    """A touch or a conversion on a customer's timeline."""

    at: datetime
    kind: str  # "touch" or "conversion"
    journey_id: str | None
    channel: str | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    touchpoint_id: str | None = None
    conversion_id: str | None = None
    conversion_type: str | None = None
    value: float | None = None
    days_since_previous: float | None = None  # None for the first event
    days_since_first_touch: float | None = None  # None before the first touch


@dataclass(frozen=True)
class CustomerJourney:
    """Every touch and conversion of one customer, in time order, and the days between."""

    customer_id: str
    journey_ids: list[str]
    events: list[JourneyEvent]
    touches: int
    conversions: int
    first_touch_at: datetime | None
    days_to_first_conversion: float | None  # first touch to first conversion (any type)
    channels: list[str]  # the touches' channels, in order

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(rt: Runtime, expr: Any) -> list[dict[str, Any]]:
    return rt.warehouse.to_arrow(expr).to_pylist()


def _optional(table: ibis.Table, name: str) -> ibis.Value:
    return table[name] if name in table.columns else ibis.null(str)


def customer_journey(rt: Runtime, customer_id: str) -> CustomerJourney:
    """Every touch and conversion on the journeys of ``customer_id``: rows with that customer and
    every row of a journey (journey_id) one of them belongs to, so a visitor's touches before the
    customer was known are included. :class:`UnknownCustomer` when no customer, touch or
    conversion has the id; :class:`MissingJourneyData` without touchpoints."""
    wh = rt.warehouse
    if not wh.has_table(TOUCHPOINTS):
        raise MissingJourneyData(
            "a customer's journey needs the touchpoints table; it is not loaded "
            "(load touchpoints.csv, or generate a demo with `revintel demo`)"
        )
    who = ibis.literal(customer_id, "string")
    tp = wh.table(TOUCHPOINTS)
    tp = tp.mutate(_key=journey_key(tp))
    keys = tp.filter(tp.customer_id == who).select("_key")
    conv: ibis.Table | None = None
    if wh.has_table(CONVERSIONS):
        conv = wh.table(CONVERSIONS)
        conv = conv.mutate(_key=journey_key(conv))
        keys = keys.union(conv.filter(conv.customer_id == who).select("_key"))
    key_list = [r["_key"] for r in _rows(rt, keys.distinct()) if r["_key"] is not None]
    if not key_list:
        known = wh.has_table("customers") and bool(
            _rows(rt, wh.table("customers").filter(lambda c: c.customer_id == who).limit(1))
        )
        if not known:
            raise UnknownCustomer(f"customer {customer_id!r}: no customer, touch or conversion")
    touches = _rows(
        rt,
        tp.filter(tp._key.isin(key_list) | (tp.customer_id == who)).select(
            touchpoint_id=tp.touchpoint_id,
            journey_id=tp._key,
            at=tp.touched_at,
            channel=tp.channel,
            source=_optional(tp, "source"),
            medium=_optional(tp, "medium"),
            campaign=_optional(tp, "campaign"),
        ),
    )
    conversions: list[dict[str, Any]] = []
    if conv is not None:
        conversions = _rows(
            rt,
            conv.filter(conv._key.isin(key_list) | (conv.customer_id == who)).select(
                conversion_id=conv.conversion_id,
                journey_id=conv._key,
                at=conv.converted_at,
                conversion_type=conv.conversion_type,
                value=conv.value.cast("float64"),
            ),
        )
    # One customer's rows: few, ordered and differenced in Python.
    timeline = [("touch", r) for r in touches] + [("conversion", r) for r in conversions]
    timeline.sort(key=lambda e: (e[1]["at"], e[0] == "conversion", _id(e)))
    first_touch = min((r["at"] for r in touches), default=None)
    events: list[JourneyEvent] = []
    previous: datetime | None = None
    for kind, r in timeline:
        at = r["at"]
        events.append(
            JourneyEvent(
                at=at,
                kind=kind,
                journey_id=r["journey_id"],
                channel=r.get("channel"),
                source=r.get("source"),
                medium=r.get("medium"),
                campaign=r.get("campaign"),
                touchpoint_id=r.get("touchpoint_id"),
                conversion_id=r.get("conversion_id"),
                conversion_type=r.get("conversion_type"),
                value=r.get("value"),
                days_since_previous=None if previous is None else _days(previous, at),
                days_since_first_touch=(
                    None if first_touch is None or at < first_touch else _days(first_touch, at)
                ),
            )
        )
        previous = at
    first_conversion = min((r["at"] for r in conversions), default=None)
    ordered_touches = [e for e in events if e.kind == "touch"]
    return CustomerJourney(
        customer_id=customer_id,
        journey_ids=sorted({e.journey_id for e in events if e.journey_id is not None}),
        events=events,
        touches=len(touches),
        conversions=len(conversions),
        first_touch_at=first_touch,
        days_to_first_conversion=(
            _days(first_touch, first_conversion)
            if first_touch is not None and first_conversion is not None
            else None
        ),
        channels=[str(e.channel) for e in ordered_touches],
    )


def _id(event: tuple[str, dict[str, Any]]) -> str:
    row = event[1]
    return str(row.get("touchpoint_id") or row.get("conversion_id") or "")


def _days(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / SECONDS_PER_DAY
