"""The attribution report: every model's credit per channel side by side, the difference from last
touch, the Markov removal effects, and optionally the converting journeys with their own credit
(docs/attribution.md, Models and The attribution report).

:func:`report` reads the journeys of the warehouse, :func:`report_from_paths` those of an
aggregated path file. Options left out take the settings' values
(:func:`revintel.attribution.config.load_config`); a bad option raises
:class:`revintel.core.errors.InvalidOption` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from revintel.attribution.config import ModelSettings, load_config
from revintel.attribution.credit import DATA_DRIVEN_MODELS, HEURISTIC_MODELS, MODELS, Credit
from revintel.attribution.journeys import JourneyOptions, Journeys
from revintel.attribution.markov import MAX_ORDER
from revintel.attribution.models import model_credit
from revintel.attribution.paths_file import read_paths
from revintel.attribution.service.cache import cached_journeys
from revintel.core.config import Settings
from revintel.core.errors import InvalidOption
from revintel.core.runtime import Runtime
from revintel.data.schema import CONVERSION_TYPES
from revintel.warehouse.cache import SnapshotCache

DEFINITIONS = "docs/attribution.md"
MAX_JOURNEYS_PAGE = 100
LAST_TOUCH = "last_touch"

_CREDITS: SnapshotCache[Credit] = SnapshotCache("attribution.report_credits", size=64)


@dataclass(frozen=True)
class ReportRequest:
    """What to attribute. ``None`` takes the settings' value; ``models`` None is every model."""

    models: tuple[str, ...] | None = None
    markov_order: int | None = None
    start: date | None = None
    end: date | None = None
    window_days: int | None = None
    conversion_type: str | None = None
    include_journeys: bool = False  # the converting journeys, each with its credit per model
    journeys_offset: int = 0
    journeys_limit: int = 20  # at most MAX_JOURNEYS_PAGE

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": list(self.models or ()),
            "markov_order": self.markov_order,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "window_days": self.window_days,
            "conversion_type": self.conversion_type,
        }


@dataclass(frozen=True)
class ChannelCredit:
    """One channel's credit under one model."""

    model: str
    channel: str
    conversions: float
    value: float
    share: float  # of the model's conversions
    removal_effect: float | None  # Markov only
    difference_from_last_touch: float  # conversions minus last touch's, for this channel


@dataclass(frozen=True)
class JourneyCredit:
    """One converting journey: its path and each model's credit to its channels."""

    journey_id: str
    customer_id: str | None
    path: list[str]
    conversions: float
    value: float
    credit: dict[str, dict[str, float]]  # model -> channel -> conversions credited


@dataclass(frozen=True)
class JourneyPage:
    """A page of the converting journeys, in journey-id order."""

    total: int
    offset: int
    limit: int
    journeys: list[JourneyCredit]


@dataclass(frozen=True)
class AttributionReport:
    """Every requested model's credit per channel, with the totals it shares."""

    request: ReportRequest  # as used: every option filled in
    rows: list[ChannelCredit]
    conversions: float
    value: float
    journeys: int
    converting_journeys: int
    channels: list[str]
    notes: list[str] = field(default_factory=list)
    customer_journeys: JourneyPage | None = None
    definitions: str = DEFINITIONS

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request": self.request.to_dict(),
            "rows": [vars(r) for r in self.rows],
            "totals": {
                "conversions": self.conversions,
                "value": self.value,
                "journeys": self.journeys,
                "converting_journeys": self.converting_journeys,
                "channels": len(self.channels),
            },
            "channels": self.channels,
            "notes": self.notes,
            "definitions": self.definitions,
        }
        if self.customer_journeys is not None:
            page = self.customer_journeys
            out["customer_journeys"] = {
                "total": page.total,
                "offset": page.offset,
                "limit": page.limit,
                "journeys": [vars(j) for j in page.journeys],
            }
        return out


def parse_day(text: str | None, field_name: str) -> date | None:
    """``YYYY-MM-DD`` as a date; :class:`InvalidOption` naming ``field_name`` otherwise."""
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidOption(f"{field_name}: expected a date YYYY-MM-DD, got {text!r}") from None


def parse_models(text: str | None) -> tuple[str, ...] | None:
    """``"all"``/None → None (every model); else comma-separated names, each checked."""
    if text is None or text.strip() in ("", "all"):
        return None
    return resolve_models(tuple(m.strip() for m in text.split(",") if m.strip()))


def resolve_models(models: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """The models in catalogue order, each known; ``None`` or ``("all",)`` → every model."""
    if not models or list(models) == ["all"]:
        return MODELS
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise InvalidOption(
            f"model: unknown model {unknown[0]!r}; expected one of {', '.join(MODELS)} or all"
        )
    return tuple(m for m in MODELS if m in models)


def resolve(request: ReportRequest, settings: ModelSettings) -> ReportRequest:
    """``request`` with every option filled from ``settings`` and validated."""
    order = settings.markov_order if request.markov_order is None else request.markov_order
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise InvalidOption(f"markov_order: expected a whole number from 1 to 4, got {order!r}")
    window = settings.window_days if request.window_days is None else request.window_days
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise InvalidOption(
            f"window_days: expected a whole number of days, 1 or more, got {window!r}"
        )
    kind = request.conversion_type or settings.conversion_type
    if kind not in CONVERSION_TYPES:
        raise InvalidOption(
            f"conversion_type: expected one of {', '.join(CONVERSION_TYPES)}, got {kind!r}"
        )
    if request.start and request.end and request.end < request.start:
        raise InvalidOption(
            f"end_date: {request.end.isoformat()} is before start_date "
            f"{request.start.isoformat()}; expected an end on or after the start"
        )
    if request.journeys_offset < 0:
        raise InvalidOption(f"journeys_offset: expected 0 or more, got {request.journeys_offset}")
    if not 1 <= request.journeys_limit <= MAX_JOURNEYS_PAGE:
        raise InvalidOption(
            f"journeys_limit: expected 1 to {MAX_JOURNEYS_PAGE}, got {request.journeys_limit}"
        )
    return replace(
        request,
        models=resolve_models(request.models),
        markov_order=order,
        window_days=window,
        conversion_type=kind,
    )


def report(rt: Runtime, request: ReportRequest | None = None) -> AttributionReport:
    """Every requested model's credit per channel over the warehouse's journeys."""
    settings = load_config(rt.settings).models
    used = resolve(request or ReportRequest(), settings)
    options = JourneyOptions(
        conversion_type=str(used.conversion_type),
        window_days=int(used.window_days or settings.window_days),
        start=used.start,
        end=used.end,
    )
    warehouse = rt.warehouse
    key = (options.conversion_type, options.window_days, options.start, options.end)
    journeys = cached_journeys(warehouse, options)

    def credit(model: str) -> Credit:
        settings_key = (key, model, used.markov_order, settings.model_dump_json())
        return _CREDITS.get(
            warehouse,
            settings_key,
            lambda: model_credit(journeys, model, settings, order=used.markov_order),
        )

    return _build(journeys, used, settings, credit)


def report_from_paths(
    path: Path, request: ReportRequest | None = None, settings: Settings | None = None
) -> AttributionReport:
    """Every requested model's credit over an aggregated path file. A path file has no touch
    times: time decay is left out with a note, or refused when it is the only model asked for.
    The window, conversion type and dates do not apply to a path file's counts."""
    model_settings = load_config(settings).models if settings else ModelSettings()
    used = resolve(request or ReportRequest(), model_settings)
    journeys = read_paths(path)
    models = tuple(used.models or MODELS)
    notes = []
    if journeys.days_before is None and "time_decay" in models and len(models) > 1:
        models = tuple(m for m in models if m != "time_decay")
        notes.append("time_decay left out: a path file has no touch times")
    used = replace(used, models=models, window_days=None, conversion_type=None)

    def credit(model: str) -> Credit:
        return model_credit(journeys, model, model_settings, order=used.markov_order)

    result = _build(journeys, used, model_settings, credit)
    return replace(result, notes=notes + result.notes)


def _build(
    journeys: Journeys,
    used: ReportRequest,
    settings: ModelSettings,
    credit: Any,
) -> AttributionReport:
    models = tuple(used.models or MODELS)
    credits = {m: credit(m) for m in models}
    last = credits.get(LAST_TOUCH) or credit(LAST_TOUCH)
    rows: list[ChannelCredit] = []
    notes: list[str] = []
    for model in models:
        c = credits[model]
        share = c.share()
        for i, channel in enumerate(c.channels):
            rows.append(
                ChannelCredit(
                    model=model,
                    channel=channel,
                    conversions=float(c.conversions[i]),
                    value=float(c.value[i]),
                    share=float(share[i]),
                    removal_effect=(
                        None if c.removal_effect is None else float(c.removal_effect[i])
                    ),
                    difference_from_last_touch=float(c.conversions[i] - last.conversions[i]),
                )
            )
        if c.note:
            notes.append(f"{model}: {c.note}")
    page = _journey_page(journeys, used, credits, settings) if used.include_journeys else None
    return AttributionReport(
        request=used,
        rows=rows,
        conversions=journeys.total_conversions,
        value=journeys.total_value,
        journeys=int((journeys.conversions + journeys.nulls).sum()),
        converting_journeys=int((journeys.conversions > 0).sum()),
        channels=list(journeys.channels),
        notes=notes,
        customer_journeys=page,
    )


def _journey_page(
    journeys: Journeys, used: ReportRequest, credits: dict[str, Credit], settings: ModelSettings
) -> JourneyPage:
    """The converting journeys ``used.journeys_offset`` onwards, each with its credit per model.

    A heuristic's credit is the model applied to the journey alone. A data-driven model credits
    the whole set, not a journey: its journey credit shares the journey's conversions among the
    distinct channels on its path in proportion to the model's channel weights (Markov: removal
    effects; Shapley: the channels' credit)."""
    converting = np.flatnonzero(journeys.conversions > 0)
    if journeys.journey_ids is not None:
        converting = converting[np.argsort(journeys.journey_ids[converting].astype(str))]
    chosen = converting[used.journeys_offset : used.journeys_offset + used.journeys_limit]
    out = []
    for j in chosen.tolist():
        lo, hi = int(journeys.starts[j]), int(journeys.starts[j + 1])
        codes = journeys.channel[lo:hi]
        path = [journeys.channels[c] for c in codes.tolist()]
        conversions = float(journeys.conversions[j])
        one = Journeys(
            channels=journeys.channels,
            starts=np.array([0, hi - lo], dtype=np.int64),
            channel=codes,
            conversions=journeys.conversions[j : j + 1],
            value=journeys.value[j : j + 1],
            nulls=np.zeros(1),
            days_before=None if journeys.days_before is None else journeys.days_before[lo:hi],
        )
        per_model: dict[str, dict[str, float]] = {}
        for model, c in credits.items():
            if model in HEURISTIC_MODELS:
                mine = model_credit(one, model, settings)
                per_model[model] = {
                    journeys.channels[i]: float(mine.conversions[i])
                    for i in np.unique(codes).tolist()
                }
            elif model in DATA_DRIVEN_MODELS:
                weights = c.removal_effect if c.removal_effect is not None else c.conversions
                present = np.unique(codes)
                w = weights[present]
                shares = w / w.sum() if w.sum() > 0 else np.zeros(len(present))
                per_model[model] = {
                    journeys.channels[i]: float(conversions * s)
                    for i, s in zip(present.tolist(), shares.tolist(), strict=True)
                }
        out.append(
            JourneyCredit(
                journey_id=str(journeys.journey_ids[j])
                if journeys.journey_ids is not None
                else str(j),
                customer_id=(
                    None
                    if journeys.customer_ids is None or journeys.customer_ids[j] is None
                    else str(journeys.customer_ids[j])
                ),
                path=path,
                conversions=conversions,
                value=float(journeys.value[j]),
                credit=per_model,
            )
        )
    return JourneyPage(
        total=len(converting),
        offset=used.journeys_offset,
        limit=used.journeys_limit,
        journeys=out,
    )


def by_channel(result: AttributionReport) -> dict[str, Any]:
    """``result`` turned around: one entry per channel with its credit under each model."""
    channels: dict[str, dict[str, Any]] = {c: {"channel": c, "models": {}} for c in result.channels}
    for row in result.rows:
        entry: dict[str, Any] = {
            "conversions": row.conversions,
            "value": row.value,
            "share": row.share,
            "difference_from_last_touch": row.difference_from_last_touch,
        }
        if row.removal_effect is not None:
            entry["removal_effect"] = row.removal_effect
        channels[row.channel]["models"][row.model] = entry
    return {
        "request": result.request.to_dict(),
        "channels": list(channels.values()),
        "totals": result.to_dict()["totals"],
        "notes": result.notes,
        "definitions": result.definitions,
    }
