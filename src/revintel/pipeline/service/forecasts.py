"""Forecasts, their backtest and close probability as a service (docs/pipeline.md: Point-in-time
pipeline, Forecasts, Forecast accuracy backtest, Close probability).

Reads the deal tables, rebuilds the pipeline at each date (:mod:`revintel.pipeline.snapshot`,
Ibis), and does the model math in polars/numpy (:mod:`revintel.pipeline.forecasting`,
:mod:`revintel.pipeline.probability`, :mod:`revintel.pipeline.backtest`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from revintel.core.errors import InvalidOption, NoDataError, NotFoundError
from revintel.pipeline import backtest as bt
from revintel.pipeline import forecasting as fc
from revintel.pipeline import probability as prob
from revintel.pipeline.config import PipelineConfig, load_config
from revintel.pipeline.frames import DealTables, data_as_of, deal_tables, demo_truth_dir
from revintel.pipeline.snapshot import snapshot, with_activity
from revintel.pipeline.stages import (
    CLOSED_STAGES,
    OPEN_STAGES,
    WON_STAGE,
    learned_stage_probabilities,
)
from revintel.warehouse.cache import SnapshotCache

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

MODEL_FILE = "close_probability.json"
MAX_MONTHS = 6
_BASE: SnapshotCache[_Base] = SnapshotCache("pipeline.forecast.base", size=4)
_NOW: SnapshotCache[_Now] = SnapshotCache("pipeline.forecast.now", size=4)
_MODEL: SnapshotCache[prob.CloseModel | None] = SnapshotCache("pipeline.forecast.model", size=4)
_BACKTEST: SnapshotCache[BacktestResult] = SnapshotCache("pipeline.forecast.backtest", size=4)


class InvalidForecastOption(InvalidOption):
    """A forecast request option is invalid."""


# -- data ----------------------------------------------------------------------------------------
@dataclass
class _Base:
    tables: DealTables
    as_of: date
    first: date
    deals: pl.DataFrame
    snaps: dict[date, pl.DataFrame]
    categories_in_history: bool
    entries: pl.DataFrame  # deal_id, stage, entered, closed_date of won deals


def _won_entries(ctx: Runtime, tables: DealTables, deals: pl.DataFrame) -> pl.DataFrame:
    """When each won deal first entered each open stage, and when it closed."""
    if tables.history is None:
        return pl.DataFrame(schema={"stage": pl.String, "entered": pl.Date, "closed_date": pl.Date})
    h = tables.history
    h = h.filter(h.stage.isin(OPEN_STAGES))
    expr = h.group_by(["deal_id", "stage"]).aggregate(entered=h.entered_at.cast("date").min())
    frame = pl.from_arrow(ctx.warehouse.to_arrow(expr))
    assert isinstance(frame, pl.DataFrame)
    won = deals.filter(pl.col("stage") == WON_STAGE).select("deal_id", "closed_date")
    return (
        frame.with_columns(pl.col("entered").cast(pl.Date)).join(won, on="deal_id").drop("deal_id")
    )


TIMING_COHORT_DAYS = 180
"""Only deals that entered a stage this many days before the snapshot give its timing: younger
ones are mostly still open, and those already closed are the quick ones (right censoring)."""


def durations(base: _Base, day: date) -> dict[str, np.ndarray]:
    """Days from entering each stage to the close, of deals won by ``day`` that entered the
    stage at least :data:`TIMING_COHORT_DAYS` before it (sorted)."""
    e = base.entries.filter(
        (pl.col("closed_date") <= day)
        & (pl.col("entered") <= day - timedelta(days=TIMING_COHORT_DAYS))
    ).with_columns(days=(pl.col("closed_date") - pl.col("entered")).dt.total_days())
    return {str(s): np.sort(g["days"].to_numpy().astype(float)) for (s,), g in e.group_by("stage")}


def _deals_frame(ctx: Runtime, tables: DealTables) -> pl.DataFrame:
    d = tables.deals
    cols = [
        c
        for c in (
            "deal_id",
            "stage",
            "amount",
            "created_date",
            "closed_date",
            "owner",
            "segment",
            "deal_type",
            "competitor",
            "has_champion",
            "budget_confirmed",
            "decision_maker_engaged",
        )
        if c in d.columns
    ]
    frame = pl.from_arrow(ctx.warehouse.to_arrow(d.select(*cols)))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(
        pl.col("created_date").cast(pl.Date),
        pl.col("closed_date").cast(pl.Date),
        pl.col("amount").cast(pl.Float64),
    )


def _snapshot_frame(ctx: Runtime, tables: DealTables, day: date, current: bool) -> pl.DataFrame:
    expr = with_activity(snapshot(tables, day, current=current), tables, day)
    frame = pl.from_arrow(ctx.warehouse.to_arrow(expr))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.col("expected_close_date").cast(pl.Date))


def _load_base(ctx: Runtime) -> _Base:
    tables = deal_tables(ctx.warehouse)
    as_of = data_as_of(ctx.warehouse, tables)
    deals = _deals_frame(ctx, tables)
    first = deals["created_date"].min()
    assert isinstance(first, date)
    snaps: dict[date, pl.DataFrame] = {}
    if tables.history is not None:
        for day in fc.month_starts(first, as_of):
            snaps[day] = _snapshot_frame(ctx, tables, day, current=False)
    snaps[as_of] = _snapshot_frame(ctx, tables, as_of, current=True)
    known = (
        tables.history is not None
        and "forecast_category" in tables.history.columns
        and ctx.warehouse.to_arrow(tables.history.forecast_category.notnull().any()).as_py()
    )
    entries = _won_entries(ctx, tables, deals)
    return _Base(tables, as_of, first, deals, snaps, bool(known), entries)


def _base(ctx: Runtime) -> _Base:
    return _BASE.get(ctx.warehouse, "base", lambda: _load_base(ctx))


@dataclass(frozen=True)
class _Now:
    """The open pipeline as it stands now: one snapshot, not the month-start history."""

    tables: DealTables
    as_of: date
    snap: pl.DataFrame


def _load_now(ctx: Runtime) -> _Now:
    tables = deal_tables(ctx.warehouse)
    as_of = data_as_of(ctx.warehouse, tables)
    return _Now(tables, as_of, _snapshot_frame(ctx, tables, as_of, current=True))


def _now(ctx: Runtime) -> _Now:
    """The current snapshot (the one of :func:`_base` when that is already built)."""
    built = _BASE.peek(ctx.warehouse, "base")
    if built is not None:
        return _Now(built.tables, built.as_of, built.snaps[built.as_of])
    return _NOW.get(ctx.warehouse, "now", lambda: _load_now(ctx))


def _config(ctx: Runtime) -> PipelineConfig:
    return load_config(ctx.settings)


def stage_probabilities(
    ctx: Runtime, tables: DealTables, day: date, cfg: PipelineConfig
) -> dict[str, float]:
    """Learned stage probabilities as of ``day``, replaced by those set in the settings."""
    out: dict[str, float] = {}
    if tables.history is not None:
        learned = pl.from_arrow(
            ctx.warehouse.to_arrow(
                learned_stage_probabilities(tables.deals, tables.history, as_of=day)
            )
        )
        assert isinstance(learned, pl.DataFrame)
        out = {
            s: float(p)
            for s, p in zip(learned["stage"], learned["probability"], strict=True)
            if p is not None
        }
    out.update(cfg.stage_probabilities)
    return out


def training_rows(base: _Base, before: date, label_by: date) -> pl.DataFrame:
    """Snapshot rows at month-starts before ``before`` for deals closed by ``label_by``, with
    ``won`` and ``closed_date``."""
    closed = base.deals.filter(
        pl.col("stage").is_in(CLOSED_STAGES)
        & pl.col("closed_date").is_not_null()
        & (pl.col("closed_date") <= label_by)
    ).select("deal_id", "closed_date", won=(pl.col("stage") == WON_STAGE))
    parts = [s for d, s in base.snaps.items() if d < before and d.day == 1 and s.height]
    if not parts:
        return pl.DataFrame()
    rows = pl.concat(parts, how="diagonal_relaxed").join(closed, on="deal_id", how="inner")
    return rows.filter(pl.col("closed_date") > pl.col("as_of"))


def _model_path(ctx: Runtime) -> Path:
    return ctx.settings.home / "models" / MODEL_FILE


def _with_probabilities(
    snap: pl.DataFrame, stage_p: dict[str, float], model: prob.CloseModel | None
) -> pl.DataFrame:
    out = snap.with_columns(
        p_stage=pl.col("stage").replace_strict(stage_p, default=None, return_dtype=pl.Float64)
    )
    if model is None or snap.height == 0:
        return out.with_columns(p_model=pl.col("p_stage"))
    return out.with_columns(p_model=pl.Series(model.predict(prob.feature_frame(snap))))


# -- close-probability model -------------------------------------------------------------------
@dataclass(frozen=True)
class TrainResult:
    method: str
    roc_auc: float | None
    brier: float
    oracle_auc: float | None
    static_roc_auc: float | None
    candidates: dict[str, Any]
    calibration: list[dict[str, Any]]
    train_deals: int
    calibration_deals: int
    test_deals: int
    test_rows: int
    test_from: str
    test_win_rate: float
    model_path: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _fit(ctx: Runtime, base: _Base, truth_dir: Path | None) -> prob.CloseModel:
    if base.tables.history is None:
        raise NoDataError(
            "the close-probability model needs the deal_stage_history table (deals as they stood "
            "before they closed); it is not loaded"
        )
    rows = training_rows(base, base.as_of + timedelta(days=1), base.as_of)
    model = prob.fit_close_model(rows, seed=_config(ctx).forecast.seed)
    test = prob.split_by_close(rows)["test"]
    truth = truth_dir if truth_dir is not None else demo_truth_dir(ctx)
    model.metrics["oracle_auc"] = prob.oracle_auc(test, truth) if truth.exists() else None
    return model


def train(ctx: Runtime, *, truth_dir: Path | None = None) -> TrainResult:
    """Fit, calibrate and hold out the close-probability model; save it; compare with the oracle
    AUC of the generator's true win probabilities when the truth folder is there."""
    base = _base(ctx)
    model = _fit(ctx, base, truth_dir)
    path = _model_path(ctx)
    model.save(path)
    _MODEL.clear()
    m = model.metrics
    return TrainResult(
        method=model.method,
        roc_auc=m["roc_auc"],
        brier=m["brier"],
        oracle_auc=m["oracle_auc"],
        static_roc_auc=m["static_roc_auc"],
        candidates=m["candidates"],
        calibration=m["calibration"],
        train_deals=m["train_deals"],
        calibration_deals=m["calibration_deals"],
        test_deals=m["test_deals"],
        test_rows=m["test_rows"],
        test_from=m["test_from"],
        test_win_rate=m["test_win_rate"],
        model_path=str(path),
    )


def load_model(ctx: Runtime) -> prob.CloseModel | None:
    path = _model_path(ctx)
    if not path.exists():
        return None
    return prob.CloseModel.from_json(path.read_text(encoding="utf-8"))


def _current_model(ctx: Runtime, base: _Base | None = None) -> prob.CloseModel | None:
    """The saved model (``revintel pipeline train``), else one fitted now the same way (held out
    and calibrated, not saved); None when there are too few closed deals."""
    model = load_model(ctx)
    if model is not None:
        return model

    def fit() -> prob.CloseModel | None:
        try:
            return _fit(ctx, base or _base(ctx), None)
        except NoDataError:
            return None

    return _MODEL.get(ctx.warehouse, "model", fit)


# -- forecasts -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ForecastResult:
    as_of: str
    months: list[dict[str, Any]]
    windows: list[dict[str, Any]]
    stage_probabilities: dict[str, float]
    model: dict[str, Any] | None
    open_deals: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _forecast_at(
    base: _Base,
    snap: pl.DataFrame,
    day: date,
    windows: list[tuple[str, date, date, int, bool]],
    cfg: PipelineConfig,
    rng: np.random.Generator,
    categories_known: bool,
) -> dict[str, dict[str, fc.Estimate]]:
    """Each method's estimate for each window (label, start, end, days or months, first?)."""
    s = cfg.forecast
    monthly = fc.monthly_bookings(base.deals, base.first, day)
    need = max(w[3] if w[0].startswith("month") else max(1, round(w[3] / 30)) for w in windows)
    ts = fc.time_series(monthly, need)
    dur = durations(base, day)
    out: dict[str, dict[str, fc.Estimate]] = {}
    for label, start, end, span, first in windows:
        if label.startswith("month"):
            k = span  # months ahead (1-based)
            offset = (start - day).days
            extra = fc.new_deal_samples(
                base.deals, day, (end - start).days, s.new_deal_lookback_months, offset_days=offset
            )
            ts_est = ts[k - 1]
        else:
            extra = fc.new_deal_samples(
                base.deals, day, (end - start).days, s.new_deal_lookback_months
            )
            ts_est = fc.sum_months(ts[: max(1, round(span / 30))])
        est = fc.pipeline_estimates(
            snap,
            day=day,
            start=start,
            end=end,
            first_window=first,
            durations=dur,
            extra=extra,
            rng=rng,
            simulations=s.simulations,
            categories_known=categories_known,
        )
        est["time_series"] = ts_est
        out[label] = est
    return out


def _filtered(base: _Base, owner: str | None, segment: str | None) -> _Base:
    """``base`` restricted to one owner's and/or one segment's deals (the pipeline, the bookings
    history and the actuals alike); the models still learn from every deal."""
    out = base
    for column, value in (("owner", owner), ("segment", segment)):
        if value is None:
            continue
        if column not in base.deals.columns:
            raise InvalidForecastOption(f"{column}: the deals have no {column} column")
        known = base.deals[column].drop_nulls().unique().sort().to_list()
        if value not in known:
            shown = ", ".join(map(str, known[:10])) + (" …" if len(known) > 10 else "")
            raise InvalidForecastOption(
                f"{column}: unknown {column} {value!r}; expected one of {shown}"
            )
        keep = pl.col(column) == value
        out = replace(
            out,
            deals=out.deals.filter(keep),
            snaps={d: f.filter(keep) if column in f.columns else f for d, f in out.snaps.items()},
        )
    return out


def monthly_forecast(
    ctx: Runtime,
    *,
    months: int = MAX_MONTHS,
    owner: str | None = None,
    segment: str | None = None,
) -> ForecastResult:
    """Every method for each of the next ``months`` calendar months and the next 30/60/90 days
    (of one owner's or one segment's deals when given)."""
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidForecastOption(f"months: expected 1-{MAX_MONTHS}, got {months}")
    full = _base(ctx)
    base = _filtered(full, owner, segment)
    cfg = _config(ctx)
    day = base.as_of
    stage_p = stage_probabilities(ctx, base.tables, day, cfg)
    model = _current_model(ctx, full)
    snap = _with_probabilities(base.snaps[day], stage_p, model)
    rng = np.random.default_rng(cfg.forecast.seed)
    wins: list[tuple[str, date, date, int, bool]] = []
    m0 = fc.add_months(day, 1) if day.day != 1 else day
    for k in range(1, months + 1):
        start = fc.add_months(m0, k - 1)
        wins.append(
            (
                f"month {start:%Y-%m}",
                start - timedelta(days=1),
                fc.add_months(start, 1) - timedelta(days=1),
                k,
                k == 1,
            )
        )
    for h in fc.HORIZONS:
        wins.append((f"{h} days", day, day + timedelta(days=h), h, True))
    cats = base.categories_in_history or snap["forecast_category"].is_not_null().any()
    est = _forecast_at(base, snap, day, wins, cfg, rng, bool(cats))
    month_rows, window_rows = [], []
    for label, start, end, span, _ in wins:
        row: dict[str, Any] = {"start": str(start + timedelta(days=1)), "end": str(end)}
        row.update({m: e.to_dict() for m, e in est[label].items()})
        if label.startswith("month"):
            month_rows.append({"month": label.split()[1], **row})
        else:
            window_rows.append({"horizon_days": span, **row})
    notes = []
    missing = [st for st in OPEN_STAGES if st not in stage_p]
    if missing:
        notes.append(
            "no stage probability for "
            + ", ".join(missing)
            + " (learned from deal_stage_history, or set in the pipeline settings): those deals "
            "count 0 in the stage-weighted forecast"
        )
    if model is None:
        notes.append(
            "too few closed deals for the close-probability model: stage probabilities used"
        )
    estimated = int((snap["expected_close_source"] == "estimated").sum())
    if estimated:
        notes.append(
            f"{estimated} open deals have no expected close date: estimated from stage timing"
        )
    return ForecastResult(
        as_of=str(day),
        months=month_rows,
        windows=window_rows,
        stage_probabilities={k: round(v, 4) for k, v in stage_p.items()},
        model=None
        if model is None
        else {k: model.metrics.get(k) for k in ("method", "roc_auc", "brier", "oracle_auc")},
        open_deals=snap.height,
        notes=notes,
    )


# -- backtest ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BacktestResult:
    as_of: str
    accuracy: list[bt.AccuracyRow]
    points: list[bt.BacktestPoint]
    snapshots: int
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "accuracy": [r.to_dict() for r in self.accuracy],
            "points": [p.to_dict() for p in self.points],
            "snapshots": self.snapshots,
            "notes": self.notes,
        }


def backtest(
    ctx: Runtime, *, owner: str | None = None, segment: str | None = None
) -> BacktestResult:
    """Every method at every month-start whose 90-day window has ended (module docs)."""
    return _BACKTEST.get(
        ctx.warehouse, ("backtest", owner, segment), lambda: _backtest(ctx, owner, segment)
    )


def _backtest(ctx: Runtime, owner: str | None, segment: str | None) -> BacktestResult:
    full = _base(ctx)
    base = _filtered(full, owner, segment)
    if base.tables.history is None:
        raise NoDataError(
            "the backtest rebuilds past pipelines from deal_stage_history; it is not loaded"
        )
    cfg = _config(ctx)
    rng = np.random.default_rng(cfg.forecast.seed)
    points: list[bt.BacktestPoint] = []
    used = 0
    for day in sorted(base.snaps):
        if day.day != 1 or day + timedelta(days=max(fc.HORIZONS)) > base.as_of:
            continue
        closed = full.deals.filter(pl.col("closed_date") <= day)
        if closed.height < cfg.forecast.backtest_min_closed_deals:
            continue
        used += 1
        stage_p = stage_probabilities(ctx, base.tables, day, cfg)
        model = prob.fit_quick(training_rows(full, day, day))
        snap = _with_probabilities(base.snaps[day], stage_p, model)
        wins = [(f"{h} days", day, day + timedelta(days=h), h, True) for h in fc.HORIZONS]
        est = _forecast_at(base, snap, day, wins, cfg, rng, base.categories_in_history)
        for label, start, end, h, _ in wins:
            actual = fc.won_amount(base.deals, start, end)
            naive = fc.won_amount(base.deals, day - timedelta(days=h), day)
            est[label]["naive"] = fc.Estimate(naive)
            for method, e in est[label].items():
                points.append(
                    bt.BacktestPoint(
                        snapshot=str(day),
                        horizon_days=h,
                        method=method,
                        forecast=None if e.value is None else round(e.value, 2),
                        actual=round(actual, 2),
                        low_80=e.low_80,
                        high_80=e.high_80,
                        low_95=e.low_95,
                        high_95=e.high_95,
                    )
                )
    if used == 0:
        raise NoDataError(
            "no month-start has both a complete 90-day window and "
            f"{cfg.forecast.backtest_min_closed_deals} deals closed before it"
        )
    notes = []
    if not base.categories_in_history:
        notes.append(
            "categories: the history has no forecast categories, so past pipelines lack them"
        )
    return BacktestResult(
        as_of=str(base.as_of),
        accuracy=bt.accuracy(points, fc.METHODS, fc.HORIZONS),
        points=points,
        snapshots=used,
        notes=notes,
    )


# -- close probability for one deal ---------------------------------------------------------------
@dataclass(frozen=True)
class CloseProbabilityResult:
    rule: prob.RuleResult
    model: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.rule.to_dict(), "model": self.model}


def close_probability(
    ctx: Runtime,
    inp: prob.RuleInput,
    *,
    deal_id: str | None = None,
    deal: dict[str, Any] | None = None,
) -> CloseProbabilityResult:
    """Brief 003's rule on the request, and the model's probability for the open deal ``deal_id``
    as it stands now (or for the deal attributes given), with the model's held-out accuracy."""
    cfg = _config(ctx).forecast
    rule = prob.rule_probability(inp, cfg)
    try:
        now = _now(ctx)
    except NoDataError:
        return CloseProbabilityResult(rule, None)
    model = _current_model(ctx)
    if model is None:
        return CloseProbabilityResult(rule, None)
    if deal_id is not None:
        row = now.snap.filter(pl.col("deal_id") == deal_id)
        if row.height == 0:
            raise NotFoundError(f"deal_id: no open deal {deal_id!r}")
    else:
        fields = {
            "deal_id": "request",
            "stage": prob.stage_named(inp.deal_stage),
            "amount": 0.0,
            "first_amount": 0.0,
            "age_days": inp.days_in_stage,
            "days_in_stage": inp.days_in_stage,
            "close_pushes": 0,
            "has_champion": inp.champion_identified,
            "budget_confirmed": inp.budget_confirmed,
            "decision_maker_engaged": inp.decision_maker_engaged,
            "activities_30d": inp.num_interactions,
        }
        fields.update(deal or {})
        row = pl.DataFrame([fields])
    p = float(model.predict(prob.feature_frame(row))[0])
    return CloseProbabilityResult(
        rule,
        {
            "close_probability": round(p * 100, 1),
            "method": model.method,
            "roc_auc": model.metrics.get("roc_auc"),
            "brier": model.metrics.get("brier"),
            "oracle_auc": model.metrics.get("oracle_auc"),
            "deal_id": deal_id,
        },
    )


def open_deal_probabilities(ctx: Runtime) -> pl.DataFrame:
    """Every open deal now with its stage and model probabilities (for the deals table)."""
    now = _now(ctx)
    cfg = _config(ctx)
    stage_p = stage_probabilities(ctx, now.tables, now.as_of, cfg)
    snap = _with_probabilities(now.snap, stage_p, _current_model(ctx))
    return snap.select("deal_id", "stage", "amount", "expected_close_date", "p_stage", "p_model")


__all__ = [
    "BacktestResult",
    "CloseProbabilityResult",
    "ForecastResult",
    "TrainResult",
    "backtest",
    "close_probability",
    "deal_close_probability",
    "monthly_forecast",
    "open_deal_probabilities",
    "probability_weighted_90d",
    "train",
]


def deal_close_probability(ctx: Runtime, deal_id: str) -> CloseProbabilityResult:
    """Both methods for an open deal as it stands now (for the deal page): the rule reads the
    deal's stage, days in stage, qualification flags, activities in the last 30 days as its
    interactions and 1 competitor when one is named (no lead score or objections in the data: 0);
    the model scores the deal's snapshot row."""
    row = _now(ctx).snap.filter(pl.col("deal_id") == deal_id)
    if row.height == 0:
        raise NotFoundError(f"deal_id: no open deal {deal_id!r}")
    r = row.row(0, named=True)
    inp = prob.RuleInput(
        deal_stage=r["stage"],
        days_in_stage=max(0, int(r["days_in_stage"] or 0)),
        num_interactions=int(r.get("activities_30d") or 0),
        champion_identified=bool(r.get("has_champion")),
        budget_confirmed=bool(r.get("budget_confirmed")),
        decision_maker_engaged=bool(r.get("decision_maker_engaged")),
        competitors_mentioned=1 if r.get("competitor") else 0,
    )
    return close_probability(ctx, inp, deal_id=deal_id)


def probability_weighted_90d(ctx: Runtime) -> float:
    """The probability-weighted forecast of the next 90 days (docs/pipeline.md, Forecasts), for a
    KPI such as the dashboard's ``weighted_forecast_90d``."""
    result = monthly_forecast(ctx, months=1)
    window = next(w for w in result.windows if w["horizon_days"] == 90)
    return float(window["probability_weighted"]["value"])
