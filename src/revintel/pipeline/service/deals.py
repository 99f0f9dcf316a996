"""Deals: health of open deals, at-risk alerts, one deal's page, deal value, and editing a deal.

Definitions: ``docs/pipeline.md`` (Deals). Health comes from :mod:`revintel.pipeline.deal_health`,
value from :mod:`revintel.pipeline.deal_value`. An edit (:func:`edit_deal`) writes the new deal
row and one appended ``deal_stage_history`` row in one warehouse commit (all or nothing), records
who and when in the app store, and refuses a stale edit (:class:`EditConflict`): the caller sends
the ETag it read (``If-Match``), and the edit goes through only if the deal still has that ETag.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from revintel.core.errors import (
    EditConflict,
    InvalidOption,
    NoDataError,
    NotFoundError,
    PreconditionMissing,
    RevintelError,
)
from revintel.core.text import check_text
from revintel.data.schema import (
    BILLING_PERIODS,
    DEAL_STAGE_HISTORY,
    DEAL_STAGES,
    DEALS,
    FORECAST_CATEGORIES,
)
from revintel.pipeline.config import load_config
from revintel.pipeline.deal_health import (
    CATEGORIES,
    DealHealth,
    DealHealthConfig,
    alert_filter,
    deal_signals,
    health_of,
    risk_value,
    score_frame,
    stage_medians,
    stage_spells,
)
from revintel.pipeline.deal_value import (
    DealInputs,
    ValueModel,
    fit_value_model,
    formula,
    won_frame_columns,
)
from revintel.pipeline.frames import DealTables, data_as_of, deal_tables
from revintel.pipeline.stages import (
    CLOSED_STAGES,
    OPEN_STAGES,
    WON_STAGE,
    learned_stage_probabilities,
)
from revintel.warehouse.cache import SnapshotCache

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse


# -- health of the open deals ----------------------------------------------------------------------


@dataclass
class HealthBase:
    """Every open deal's signals and health as of ``as_of`` (cached per snapshot and settings)."""

    as_of: date
    deals: pl.DataFrame  # deal_signals rows with score_frame's columns
    medians: dict[str, float]
    has_activities: bool
    has_history: bool
    config: DealHealthConfig

    def health(self, deal_id: str) -> DealHealth | None:
        """One deal's health with each factor's evidence (None: not an open deal)."""
        rows = self.deals.filter(pl.col("deal_id") == deal_id).to_dicts()
        return self.health_of_row(rows[0]) if rows else None

    def health_of_row(self, row: dict[str, Any]) -> DealHealth:
        return health_of(
            row,
            as_of=self.as_of,
            medians=self.medians,
            config=self.config,
            has_activities=self.has_activities,
            has_history=self.has_history,
        )


_BASES: SnapshotCache[HealthBase] = SnapshotCache("pipeline.deal_health", size=8)


def _health_base(rt: Runtime, config: DealHealthConfig) -> HealthBase:
    wh = rt.warehouse
    overrides = json.dumps(load_config(rt.settings).stage_probabilities, sort_keys=True)
    key = (config.model_dump_json(), overrides)
    return _BASES.get(wh, key, lambda: _compute_base(wh, config))


def _compute_base(wh: Warehouse, config: DealHealthConfig) -> HealthBase:
    t = deal_tables(wh)
    as_of = data_as_of(wh, t)
    expr = deal_signals(t.deals, t.history, t.activities, as_of=as_of)
    signals = pl.from_arrow(wh.to_arrow(expr))
    assert isinstance(signals, pl.DataFrame)
    medians: dict[str, float] = {}
    if t.history is not None:
        spells = pl.from_arrow(wh.to_arrow(stage_spells(t.history, as_of=as_of)))
        assert isinstance(spells, pl.DataFrame)
        medians = stage_medians(spells)
    has_activities, has_history = t.activities is not None, t.history is not None
    scored = score_frame(
        signals,
        medians,
        as_of=as_of,
        config=config,
        has_activities=has_activities,
        has_history=has_history,
    )
    scored = scored.join(_stage_probabilities(wh, t, as_of), on="stage", how="left")
    scored = scored.with_columns(weighted_amount=pl.col("amount") * pl.col("stage_probability"))
    return HealthBase(as_of, scored, medians, has_activities, has_history, config)


def _stage_probabilities(wh: Warehouse, t: DealTables, as_of: date) -> pl.DataFrame:
    """``stage``, ``stage_probability``: learned from the closed deals by ``as_of``
    (``docs/pipeline.md``, Stage probabilities), a value of the settings replacing it."""
    overrides = load_config(wh.settings).stage_probabilities
    learned: dict[str, float | None] = {s: None for s in OPEN_STAGES}
    if t.history is not None:
        rows = wh.to_arrow(learned_stage_probabilities(t.deals, t.history, as_of=as_of))
        learned.update({r["stage"]: r["probability"] for r in rows.to_pylist()})
    learned.update(overrides)
    return pl.DataFrame(
        {"stage": list(learned), "stage_probability": list(learned.values())},
        schema={"stage": pl.Utf8, "stage_probability": pl.Float64},
    )


@dataclass(frozen=True)
class DealFilters:
    owner: str | None = None
    segment: str | None = None
    stage: str | None = None
    category: str | None = None
    created_from: date | None = None
    created_to: date | None = None

    def check(self) -> DealFilters:
        check_text("owner", self.owner)
        check_text("segment", self.segment)
        if self.stage is not None and self.stage not in OPEN_STAGES:
            raise InvalidOption(
                f"stage: unknown open stage {self.stage!r}; expected one of "
                + ", ".join(OPEN_STAGES)
            )
        if self.category is not None and self.category not in CATEGORIES:
            raise InvalidOption(
                f"category: unknown {self.category!r}; expected one of {', '.join(CATEGORIES)}"
            )
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise InvalidOption("from: expected a date on or before 'to'")
        return self


@dataclass
class DealList:
    """Open deals with their health (``docs/pipeline.md``, Deal health)."""

    as_of: date
    deals: pl.DataFrame
    stage_medians: dict[str, float]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "count": self.deals.height,
            "stage_median_days": self.stage_medians,
            "deals": self.deals.to_dicts(),
            "notes": self.notes,
        }


LIST_COLUMNS = (
    "deal_id", "account_name", "owner", "segment", "stage", "amount", "created_date",
    "expected_close_date", "forecast_category", "competitor", "health_score", "health_category",
    "risk_factors", "stage_probability", "weighted_amount", "close_probability",
)  # fmt: skip


def _notes(base: HealthBase) -> list[str]:
    notes = []
    if not base.has_activities:
        notes.append("deal_activities is not loaded: the no_activity factor is not evaluated")
    if not base.has_history:
        notes.append(
            "deal_stage_history is not loaded: stagnant, close_pushed and amount_reduced are not "
            "evaluated"
        )
    return notes


def _with_model_probability(rt: Runtime, deals: pl.DataFrame) -> pl.DataFrame:
    """``close_probability``: the close-probability model's calibrated probability of each open
    deal (docs/pipeline.md, Close probability); left out when no model can be had."""
    from revintel.pipeline.service.forecasts import open_deal_probabilities

    try:
        model = open_deal_probabilities(rt).select("deal_id", close_probability=pl.col("p_model"))
    except RevintelError:
        return deals
    return deals.join(model, on="deal_id", how="left")


def list_deals(rt: Runtime, filters: DealFilters | None = None) -> DealList:
    """Open deals with health, filtered, lowest score first."""
    f = (filters or DealFilters()).check()
    base = _health_base(rt, load_config(rt.settings).deal_health)
    d = base.deals
    for column, value in (("owner", f.owner), ("segment", f.segment), ("stage", f.stage)):
        if value is not None and column in d.columns:
            d = d.filter(pl.col(column) == value)
    if f.category is not None:
        d = d.filter(pl.col("health_category") == f.category)
    if f.created_from is not None:
        d = d.filter(pl.col("created_date") >= f.created_from)
    if f.created_to is not None:
        d = d.filter(pl.col("created_date") <= f.created_to)
    d = d.sort(["health_score", "amount"], descending=[False, True])
    d = _with_model_probability(rt, d)
    d = d.select([c for c in LIST_COLUMNS if c in d.columns])
    dates = [c for c in ("created_date", "expected_close_date") if c in d.columns]
    d = d.with_columns(pl.col(c).cast(pl.Date) for c in dates)
    return DealList(base.as_of, d, base.medians, _notes(base))


# -- at-risk alerts --------------------------------------------------------------------------------


@dataclass
class AtRiskDeals:
    as_of: date
    min_deal_value: float
    deals: list[dict[str, Any]]
    alert_factors: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "min_deal_value": self.min_deal_value,
            "alert_factors": self.alert_factors,
            "count": len(self.deals),
            "deals": self.deals,
            "notes": self.notes,
        }


def alerting_deals(rt: Runtime) -> pl.DataFrame:
    """The open deals the at-risk alerts list at the settings' minimum value: one row each, with
    ``deal_id``, ``owner``, ``segment``, ``stage``, ``created_date`` and ``amount`` (the
    pipeline summary counts these, so its "at-risk deals" is the alert list's length)."""
    config = load_config(rt.settings).deal_health
    base = _health_base(rt, config)
    return base.deals.filter(alert_filter(config, config.alert_min_deal_value))


def at_risk(rt: Runtime, min_deal_value: float | None = None) -> AtRiskDeals:
    """Open deals ≥ ``min_deal_value`` that are critical or carry an alert factor, ranked by
    amount × risk (``docs/pipeline.md``, At-risk alerts)."""
    config = load_config(rt.settings).deal_health
    if min_deal_value is not None and not (math.isfinite(min_deal_value) and min_deal_value >= 0):
        raise InvalidOption(f"min_deal_value: expected an amount ≥ 0, got {min_deal_value}")
    floor = config.alert_min_deal_value if min_deal_value is None else min_deal_value
    base = _health_base(rt, config)
    out = []
    for row in base.deals.filter(alert_filter(config, floor)).iter_rows(named=True):
        h = base.health_of_row(row)
        amount = float(row["amount"] or 0.0)
        out.append(
            {
                "id": row["deal_id"],
                "name": row.get("account_name") or row["deal_id"],
                "company": row.get("account_name"),
                "owner": row.get("owner"),
                "stage": row["stage"],
                "deal_value": amount,
                "health_score": h.score,
                "health_category": h.category,
                "risk_value": round(risk_value(h, amount), 2),
                "risk_factors": [f.evidence for f in h.factors],
                "factors": [f.to_dict() for f in h.factors],
            }
        )
    out.sort(key=lambda r: (-r["risk_value"], r["id"]))
    return AtRiskDeals(base.as_of, floor, out, list(config.alert_factors), _notes(base))


# -- one deal --------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def etag_of(row: dict[str, Any]) -> str:
    """The deal's version: a hash of every column of its row (any change makes a new ETag)."""
    text = json.dumps({k: _jsonable(v) for k, v in row.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _deal_row(wh: Warehouse, t: DealTables, deal_id: str) -> dict[str, Any]:
    check_text("deal_id", deal_id)
    rows = wh.to_arrow(t.deals.filter(t.deals.deal_id == deal_id)).to_pylist()
    if not rows:
        raise NotFoundError(f"deal_id: no deal {deal_id!r} in the loaded deals")
    return dict(rows[0])


@dataclass
class DealDetail:
    """One deal: its fields and ETag, health and factors, stage timeline, activities, edits."""

    deal: dict[str, Any]
    etag: str
    as_of: date
    health: DealHealth | None
    health_note: str | None
    timeline: list[dict[str, Any]]
    activities: list[dict[str, Any]] | None
    edits: list[dict[str, Any]]
    close_probability: dict[str, Any] | None = None
    close_probability_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "deal": {k: _jsonable(v) for k, v in self.deal.items()},
            "etag": self.etag,
            "as_of": self.as_of.isoformat(),
            "health": None if self.health is None else self.health.to_dict(),
            "health_note": self.health_note,
            "close_probability": self.close_probability,
            "close_probability_note": self.close_probability_note,
            "timeline": [{k: _jsonable(v) for k, v in r.items()} for r in self.timeline],
            "activities": None
            if self.activities is None
            else [{k: _jsonable(v) for k, v in r.items()} for r in self.activities],
            "edits": self.edits,
        }


def deal_detail(rt: Runtime, deal_id: str) -> DealDetail:
    """One deal's page (``GET /deals/{id}``, ``revintel pipeline deal ID``)."""
    wh = rt.warehouse
    t = deal_tables(wh)
    row = _deal_row(wh, t, deal_id)
    base = _health_base(rt, load_config(rt.settings).deal_health)
    health = base.health(deal_id)
    note = None
    if health is None:
        note = (
            f"closed ({row['stage']}): health applies to open deals"
            if row["stage"] in CLOSED_STAGES
            else f"created after the data's as-of date {base.as_of}"
        )
    timeline: list[dict[str, Any]] = []
    if t.history is not None:
        h = t.history.filter(t.history.deal_id == deal_id).order_by("entered_at")
        timeline = wh.to_arrow(h).to_pylist()
    activities = None
    if t.activities is not None:
        a = t.activities.filter(t.activities.deal_id == deal_id).order_by("activity_at")
        activities = wh.to_arrow(a).to_pylist()
    probability, probability_note = _close_probability(rt, deal_id, row, health)
    return DealDetail(
        deal=row,
        etag=etag_of(row),
        as_of=base.as_of,
        health=health,
        health_note=note,
        timeline=timeline,
        activities=activities,
        edits=rt.store.deal_edits(deal_id),
        close_probability=probability,
        close_probability_note=probability_note,
    )


def _close_probability(
    rt: Runtime, deal_id: str, row: dict[str, Any], health: DealHealth | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Both close-probability methods for an open deal (docs/pipeline.md, Close probability), or
    why there are none."""
    from revintel.pipeline.service.forecasts import deal_close_probability

    if row["stage"] in CLOSED_STAGES:
        return None, f"closed ({row['stage']}): close probability applies to open deals"
    if health is None:
        return None, "created after the data's as-of date: not scored yet"
    try:
        return deal_close_probability(rt, deal_id).to_dict(), None
    except RevintelError as exc:
        return None, str(exc)


# -- deal value ------------------------------------------------------------------------------------


_MODELS: SnapshotCache[ValueModel | None] = SnapshotCache("pipeline.deal_value", size=4)


def value_model(rt: Runtime) -> ValueModel | None:
    """The value model fitted on the loaded closed-won deals (cached per snapshot)."""
    wh = rt.warehouse
    return _MODELS.get(wh, "model", lambda: _fit(wh))


def _fit(wh: Warehouse) -> ValueModel | None:
    t = deal_tables(wh)
    d = t.deals.filter(
        (t.deals.stage == WON_STAGE) & t.deals.closed_date.notnull() & (t.deals.amount > 0)
    )
    cols = [c for c in won_frame_columns() if c in d.columns and c != "industry"]
    d = d.select(cols)
    if "account_id" in t.deals.columns and wh.has_table("customers"):
        c = wh.table("customers")
        if "industry" in c.columns:
            ids = t.deals.select("deal_id", "account_id")
            ind = ids.join(c.select("customer_id", "industry"), ids.account_id == c.customer_id)
            ind = ind.select("deal_id", "industry")
            d = d.left_join(ind, "deal_id").select(d, ind.industry)
    frame = pl.from_arrow(wh.to_arrow(d))
    assert isinstance(frame, pl.DataFrame)
    return fit_value_model(frame)


@dataclass
class DealValuePrediction:
    predicted_deal_value: float
    breakdown: dict[str, Any]
    model: dict[str, Any] | None
    confidence_score: float | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "predicted_deal_value": self.predicted_deal_value,
            "confidence_score": self.confidence_score,
            "breakdown": self.breakdown,
            "model": self.model,
            "notes": self.notes,
        }


def check_inputs(inputs: DealInputs) -> DealInputs:
    """:class:`InvalidOption` naming the first invalid field."""
    if inputs.num_users_planned < 1:
        raise InvalidOption(f"num_users_planned: expected ≥ 1, got {inputs.num_users_planned}")
    price = inputs.base_list_price_per_user
    if price is not None and not (math.isfinite(price) and price >= 0):
        raise InvalidOption(f"base_list_price_per_user: expected ≥ 0, got {price}")
    if not 0 <= inputs.discount_pct < 1:
        raise InvalidOption(
            f"discount_pct: expected a fraction in [0, 1), got {inputs.discount_pct}"
        )
    if inputs.billing_cycle not in BILLING_PERIODS:
        raise InvalidOption(
            f"billing_cycle: expected one of {', '.join(BILLING_PERIODS)}, got "
            f"{inputs.billing_cycle!r}"
        )
    if not 1 <= inputs.contract_term_months <= 120:
        raise InvalidOption(
            f"contract_term_months: expected 1 to 120, got {inputs.contract_term_months}"
        )
    if inputs.deal_stage is not None and inputs.deal_stage not in OPEN_STAGES:
        raise InvalidOption(
            f"deal_stage: unknown stage {inputs.deal_stage!r}; expected one of "
            + ", ".join(OPEN_STAGES)
        )
    factor = inputs.expansion_potential_factor
    if not (math.isfinite(factor) and factor > 0):
        raise InvalidOption("expansion_potential_factor: expected a number > 0")
    for name in ("industry", "product_plan", "segment", "lead_source", "deal_type"):
        check_text(name, getattr(inputs, name))
    return inputs


def predict_deal_value(rt: Runtime, inputs: DealInputs) -> DealValuePrediction:
    """The seat-price formula with its breakdown, and the learned model with its interval and
    held-out accuracy beside it (``docs/pipeline.md``, Deal value)."""
    check_inputs(inputs)
    config = load_config(rt.settings).deal_value
    value, breakdown = formula(inputs, config)
    notes: list[str] = []
    try:
        model = value_model(rt)
    except NoDataError as exc:  # no deals loaded: the formula still answers
        model = None
        notes.append(f"model unavailable: {exc}")
    model_out = None
    confidence = None
    if model is None and not notes:
        notes.append("model unavailable: fewer than 30 closed-won deals with an amount")
    if model is not None:
        row = {
            "segment": inputs.segment,
            "product": inputs.product_plan,
            "lead_source": inputs.lead_source,
            "industry": inputs.industry,
            "deal_type": inputs.deal_type,
            "seats": inputs.num_users_planned,
            "discount_pct": inputs.discount_pct,
        }
        point, low, high = model.predict(pl.DataFrame([row]))
        model_out = {
            "predicted_deal_value": round(float(point[0]), 2),
            "interval_80": [round(float(low[0]), 2), round(float(high[0]), 2)],
            **model.metrics(),
        }
        confidence = round(100.0 * model.within_20pct, 1)
    return DealValuePrediction(value, breakdown, model_out, confidence, notes)


# -- editing a deal --------------------------------------------------------------------------------

EDITABLE = (
    "stage", "amount", "expected_close_date", "forecast_category", "has_champion",
    "budget_confirmed", "decision_maker_engaged",
)  # fmt: skip


@dataclass(frozen=True)
class DealChanges:
    """The fields an edit sets (None = unchanged)."""

    stage: str | None = None
    amount: float | None = None
    expected_close_date: date | None = None
    forecast_category: str | None = None
    has_champion: bool | None = None
    budget_confirmed: bool | None = None
    decision_maker_engaged: bool | None = None

    def given(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in EDITABLE if getattr(self, k) is not None}


def check_changes(changes: DealChanges, deal: dict[str, Any]) -> dict[str, Any]:
    """The validated changes; :class:`InvalidOption` naming the field and what was expected."""
    given = changes.given()
    if not given:
        raise InvalidOption("body: expected at least one of " + ", ".join(EDITABLE))
    if "stage" in given and given["stage"] not in DEAL_STAGES:
        raise InvalidOption(
            f"stage: unknown stage {given['stage']!r}; expected one of {', '.join(DEAL_STAGES)}"
        )
    if "amount" in given and not (math.isfinite(given["amount"]) and given["amount"] >= 0):
        raise InvalidOption(f"amount: expected an amount ≥ 0, got {given['amount']}")
    if "forecast_category" in given and given["forecast_category"] not in FORECAST_CATEGORIES:
        raise InvalidOption(
            f"forecast_category: expected one of {', '.join(FORECAST_CATEGORIES)}, got "
            f"{given['forecast_category']!r}"
        )
    created = deal.get("created_date")
    close = given.get("expected_close_date")
    if close is not None and created is not None and close < _as_date(created):
        raise InvalidOption(
            f"expected_close_date: expected a date on or after the deal's created_date {created}"
        )
    for flag in ("has_champion", "budget_confirmed", "decision_maker_engaged"):
        if flag in given and flag not in deal:
            raise InvalidOption(f"{flag}: the loaded deals have no such column")
    if "forecast_category" in given and "forecast_category" not in deal:
        raise InvalidOption("forecast_category: the loaded deals have no such column")
    return given


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


_EDIT_LOCK = threading.Lock()


@contextmanager
def _edit_lock(rt: Runtime) -> Iterator[None]:
    """One edit at a time across threads and processes sharing this home: the check of the ETag
    and the commit happen under it, so two edits of one version cannot both pass."""
    home = rt.settings.home
    home.mkdir(parents=True, exist_ok=True)
    with _EDIT_LOCK, open(home / ".deal-edits.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _normalise_etag(value: str) -> str:
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    return text.strip('"')


def edit_deal(
    rt: Runtime,
    deal_id: str,
    changes: DealChanges,
    *,
    if_match: str | None,
    edited_by: str,
    today: date | None = None,
) -> DealDetail:
    """Apply ``changes`` to a deal if it still has the ETag ``if_match`` (``docs/pipeline.md``,
    Editing a deal): the deal row and an appended history row in one warehouse commit, then the
    edit recorded in the app store with who and when. :class:`EditConflict` when the deal changed
    since the caller read it (nothing is written)."""
    from revintel.store.models import DealEdit
    from revintel.warehouse.base import StagedTable

    if if_match is None or not if_match.strip():
        raise PreconditionMissing(
            "If-Match: expected the deal's ETag (from GET /deals/{id}); an edit without it could "
            "overwrite a change made since it was read"
        )
    check_text("edited_by", edited_by)
    when = datetime.now(UTC)
    day = today or when.date()
    with _edit_lock(rt):
        rt_wh = rt.warehouse
        refresh = getattr(rt, "refresh", None)
        if callable(refresh):  # read the newest snapshot: another process may have edited
            refresh()
            rt_wh = rt.warehouse
        t = deal_tables(rt_wh)
        row = _deal_row(rt_wh, t, deal_id)
        before = etag_of(row)
        if _normalise_etag(if_match) != before:
            raise EditConflict(
                f"If-Match: deal {deal_id!r} changed since it was read (ETag now {before}); "
                "read it again and reapply your edit"
            )
        given = check_changes(changes, row)
        new = dict(row)
        new.update(given)
        stage = new["stage"]
        if stage in CLOSED_STAGES:
            new["closed_date"] = row.get("closed_date") or day
            if "forecast_category" in new and "forecast_category" not in given:
                new["forecast_category"] = "Closed" if stage == WON_STAGE else "Omitted"
        else:
            new["closed_date"] = None
        if new["closed_date"] is not None and _as_date(new["closed_date"]) < _as_date(
            new["created_date"]
        ):
            raise InvalidOption("stage: the deal cannot close before its created_date")
        changed = {
            k: [_jsonable(row.get(k)), _jsonable(v)]
            for k, v in new.items()
            if _jsonable(row.get(k)) != _jsonable(v)
        }
        after = etag_of(new)
        if not changed:
            return deal_detail(rt, deal_id)
        history = {
            "deal_id": deal_id,
            "stage": stage,
            "entered_at": day,
            "amount": new.get("amount"),
            "expected_close_date": new.get("expected_close_date"),
            "forecast_category": new.get("forecast_category"),
        }
        folder = rt.settings.home / "staging" / f"deal-edit-{uuid.uuid4().hex[:12]}"
        try:
            staged = {
                DEALS.name: _stage(folder, DEALS, new),
                DEAL_STAGE_HISTORY.name: _stage(folder, DEAL_STAGE_HISTORY, history),
            }
            # The audit row and the warehouse commit: the session commits after the warehouse
            # does, and rolls back if the warehouse commit fails.
            with rt.store.session() as s:
                s.add(
                    DealEdit(
                        deal_id=deal_id,
                        edited_by=edited_by,
                        edited_at=when,
                        etag_before=before,
                        etag_after=after,
                        changes=changed,
                    )
                )
                s.flush()
                rt_wh.commit({k: StagedTable(k, (p,), 1) for k, p in staged.items()}, mode="append")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if callable(refresh):
            refresh()
    return deal_detail(rt, deal_id)


def _stage(folder: Any, contract: Any, row: dict[str, Any]) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    schema = contract.arrow_schema()
    record = {name: row.get(name) for name in schema.names}
    path = folder / f"{contract.name}.parquet"
    pq.write_table(pa.Table.from_pylist([record], schema=schema), path)
    return path


__all__ = [
    "AtRiskDeals",
    "DealChanges",
    "DealDetail",
    "DealFilters",
    "DealList",
    "DealValuePrediction",
    "at_risk",
    "deal_detail",
    "edit_deal",
    "list_deals",
    "predict_deal_value",
]
