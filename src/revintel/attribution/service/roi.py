"""Channel ROI and the budget suggestion (docs/attribution.md, Spend, ROI and budget).

:func:`channel_roi` joins every requested model's credit per channel to the channel's spend
(``channel_spend``): CAC, ROAS and ROI, on first-year value and, where the CLV capability knows
the customer, on lifetime value; and how each channel's credit differs from last touch.

:func:`budget_suggestion` attributes each month's journeys (by the month the journey converted,
or ended without converting) under one model, fits each paid channel's response curve of monthly
attributed conversions against its monthly spend (:mod:`revintel.attribution.budget`) and
allocates a monthly total within per-channel bounds to maximise expected attributed revenue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from revintel.attribution import budget as curves
from revintel.attribution import ports
from revintel.attribution.config import AttributionConfig, load_config
from revintel.attribution.credit import MODELS, Credit
from revintel.attribution.journeys import (
    CONVERSIONS,
    TOUCHPOINTS,
    JourneyOptions,
    Journeys,
    journey_touches,
)
from revintel.attribution.models import UnknownModel, model_credit
from revintel.attribution.roi import ChannelRoi
from revintel.attribution.roi import channel_roi as roi_rows
from revintel.attribution.service.cache import cached_journeys
from revintel.core.errors import InvalidOption, NoDataError, RevintelError

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

SPEND = "channel_spend"
LABEL = "Model-based suggestion"


class MissingSpendData(NoDataError):
    """Channel ROI and the budget need the channel_spend table, or spend in the period."""


class InvalidBudgetRequest(InvalidOption):
    """A budget or ROI request with an invalid field."""


# -- requests and results -------------------------------------------------------------------------
@dataclass(frozen=True)
class RoiRequest:
    """Which models, conversions and period channel ROI covers (None: the settings')."""

    models: tuple[str, ...] = MODELS
    start: date | None = None
    end: date | None = None
    window_days: int | None = None
    conversion_type: str | None = None
    include_clv: bool = True


@dataclass(frozen=True)
class ChannelRoiReport:
    rows: tuple[ChannelRoi, ...]
    models: tuple[str, ...]
    spend_months: tuple[str, ...]  # the months of channel_spend the spend covers
    gross_margin: float
    gross_margin_source: str  # where the margin comes from
    clv_note: str | None  # what the CLV columns are, or why they are empty
    conversions: float  # attributed (every model's total)
    revenue: float  # attributed first-year value
    spend: float
    definitions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows"] = [asdict(r) for r in self.rows]
        return out


@dataclass(frozen=True)
class BudgetRequest:
    """A monthly total to allocate (None: the current monthly spend) and its bounds."""

    total: float | None = None
    bound: float | None = None  # None: the settings' (default 0.3)
    model: str | None = None  # None: the settings' (default markov)
    start: date | None = None
    end: date | None = None
    window_days: int | None = None
    conversion_type: str | None = None
    bootstrap: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class BudgetChannel:
    """One paid channel: its curve, current and suggested monthly spend and expected revenue."""

    channel: str
    fitted: bool  # False: kept at its current spend (``reason``)
    reason: str | None
    a: float | None
    b: float | None
    r_squared: float | None
    months: tuple[str, ...]  # the months the curve rests on
    points_spend: tuple[float, ...]  # per month in ``months``
    points_conversions: tuple[float, ...]
    value_per_conversion: float | None
    current: float
    lower: float
    upper: float
    suggested: float
    change: float  # suggested − current
    expected_revenue_current: float | None
    expected_revenue_suggested: float | None


@dataclass(frozen=True)
class BudgetSuggestion:
    label: str
    rests_on: str
    model: str
    curve: str
    bound: float
    total: float
    current_total: float
    current_months: tuple[str, ...]  # the months whose mean is the current spend
    channels: tuple[BudgetChannel, ...]
    expected_revenue_current: float  # at the current spend
    expected_revenue_baseline: float  # the current mix scaled to the total
    expected_revenue_suggested: float
    gain: float  # suggested − baseline
    gain_low: float  # 5th percentile of the bootstrap
    gain_high: float  # 95th percentile
    bootstrap: int
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["channels"] = [asdict(c) for c in self.channels]
        return out


DEFINITIONS = {
    "conversions": "the model's attributed conversions",
    "revenue": "the model's attributed conversion value (first-year value)",
    "clv": "the model's attributed customer lifetime value (CLV capability), where known",
    "cac": "spend ÷ attributed conversions",
    "roas": "attributed revenue ÷ spend",
    "roi": "(attributed revenue × gross margin − spend) ÷ spend",
    "clv_roi": "(attributed CLV × gross margin − spend) ÷ spend",
    "difference_from_last_touch": "conversions − last touch's conversions for the channel",
}


# -- channel ROI ----------------------------------------------------------------------------------
def channel_roi(rt: Runtime, request: RoiRequest = RoiRequest()) -> ChannelRoiReport:
    """CAC, ROAS and ROI per channel and model over the request's conversions and spend."""
    config = load_config(rt.settings)
    models = _check_models(request.models)
    options = _options(
        config, request.start, request.end, request.window_days, request.conversion_type
    )
    spend_by_month = _spend(rt.warehouse, request.start, request.end)
    journeys = cached_journeys(rt.warehouse, options)
    months = tuple(sorted({m for m, _ in spend_by_month}))
    spend: dict[str, float] = {}
    for (_, channel), amount in spend_by_month.items():
        spend[channel] = spend.get(channel, 0.0) + amount
    margin, margin_source = _gross_margin(rt, config, request.start, request.end)
    values, clv_note = _clv_values(rt, journeys) if request.include_clv else (None, None)
    settings = config.models
    last_touch = model_credit(journeys, "last_touch", settings)
    rows: list[ChannelRoi] = []
    for model in models:
        credit = last_touch if model == "last_touch" else model_credit(journeys, model, settings)
        clv_credit = None
        if values is not None:
            clv_credit = model_credit(replace(journeys, value=values), model, settings)
        rows += roi_rows(credit, spend, margin, clv=clv_credit, last_touch=last_touch)
    return ChannelRoiReport(
        rows=tuple(rows),
        models=models,
        spend_months=months,
        gross_margin=margin,
        gross_margin_source=margin_source,
        clv_note=clv_note,
        conversions=journeys.total_conversions,
        revenue=journeys.total_value,
        spend=float(sum(spend.values())),
        definitions=DEFINITIONS,
    )


def _check_models(models: tuple[str, ...]) -> tuple[str, ...]:
    if not models:
        raise InvalidBudgetRequest(f"models: expected one or more of {', '.join(MODELS)}")
    for m in models:
        if m not in MODELS:
            raise UnknownModel(f"model: unknown model {m!r}; expected one of {', '.join(MODELS)}")
    return tuple(dict.fromkeys(models))


def _options(
    config: AttributionConfig,
    start: date | None,
    end: date | None,
    window_days: int | None,
    conversion_type: str | None,
) -> JourneyOptions:
    if start is not None and end is not None and start > end:
        raise InvalidBudgetRequest(f"start: {start} is after end {end}")
    kind = conversion_type or config.models.conversion_type
    if kind not in ("signup", "trial", "paid"):
        raise InvalidBudgetRequest(f"conversion_type: expected signup, trial or paid, got {kind!r}")
    if window_days is not None and not 1 <= window_days <= 3650:
        raise InvalidBudgetRequest(f"window_days: expected 1-3650, got {window_days}")
    return JourneyOptions(
        conversion_type=kind,
        window_days=window_days or config.models.window_days,
        start=start,
        end=end,
    )


def _spend(wh: Warehouse, start: date | None, end: date | None) -> dict[tuple[str, str], float]:
    """Spend per (month, channel) in ``channel_spend``, months from ``start``'s to ``end``'s."""
    if not wh.has_table(SPEND):
        raise MissingSpendData(
            f"channel ROI needs the {SPEND} table (month, channel, spend); it is not loaded "
            f"(load {SPEND}.csv, or generate a demo with `revintel demo`)"
        )
    t = wh.table(SPEND)
    t = t.group_by(["month", "channel"]).aggregate(spend=t.spend.sum())
    if start is not None:
        t = t.filter(t.month >= start.strftime("%Y-%m"))
    if end is not None:
        t = t.filter(t.month <= end.strftime("%Y-%m"))
    rows = wh.to_arrow(t).to_pylist()
    out = {(str(r["month"]), str(r["channel"])): float(r["spend"] or 0.0) for r in rows}
    if not out:
        raise MissingSpendData(f"{SPEND}: no spend in the months asked for")
    return out


def _gross_margin(
    rt: Runtime, config: AttributionConfig, start: date | None, end: date | None
) -> tuple[float, str]:
    fallback = config.budget.gross_margin
    plugged = ports.providers()
    if plugged is None:
        return fallback, f"settings budget.gross_margin ({fallback:.0%})"
    try:
        margin = plugged.gross_margin(rt, start=start, end=end)
    except RevintelError as exc:
        return fallback, f"settings budget.gross_margin ({fallback:.0%}); metrics: {exc}"
    if margin.value is None or not 0 <= margin.value <= 1:
        why = margin.reason or f"gross margin {margin.value} is not between 0 and 1"
        return fallback, f"settings budget.gross_margin ({fallback:.0%}); metrics: {why}"
    return float(margin.value), f"metrics gross margin, {margin.period or 'all months'}"


def _clv_values(rt: Runtime, journeys: Journeys) -> tuple[np.ndarray | None, str]:
    """Each journey's customer CLV (0 when unknown or not converting), and what it is."""
    plugged = ports.providers()
    if plugged is None or journeys.customer_ids is None:
        return None, "no CLV: journeys without customers or no CLV provider"
    try:
        clv = plugged.customer_values(rt)
    except RevintelError as exc:
        return None, f"no CLV: {exc}"
    if not clv.values:
        return None, f"no CLV: {clv.reason or 'no customer has a lifetime value'}"
    converted = journeys.conversions > 0
    values = np.array(
        [
            clv.values.get(str(c), np.nan) if c is not None else np.nan
            for c in journeys.customer_ids.tolist()
        ],
        dtype=np.float64,
    )
    known = converted & ~np.isnan(values)
    n = int(converted.sum())
    values = np.where(known, values, 0.0) * journeys.conversions
    what = clv.definition or "customer lifetime value"
    return values, f"{what}; known for {int(known.sum())} of {n} converting journeys (others 0)"


# -- budget ---------------------------------------------------------------------------------------
def budget_suggestion(rt: Runtime, request: BudgetRequest = BudgetRequest()) -> BudgetSuggestion:
    """Fit each paid channel's response curve and allocate the monthly total within the bounds."""
    config = load_config(rt.settings)
    settings = config.budget
    bound = settings.bound if request.bound is None else request.bound
    if not 0 <= bound <= 1:
        raise InvalidBudgetRequest(f"bound: expected a share between 0 and 1, got {bound}")
    if request.total is not None and not request.total > 0:
        raise InvalidBudgetRequest(f"total: expected an amount above 0, got {request.total}")
    model = request.model or settings.model
    _check_models((model,))
    replicates = request.bootstrap or settings.bootstrap
    options = _options(
        config, request.start, request.end, request.window_days, request.conversion_type
    )
    spend = _spend(rt.warehouse, request.start, request.end)
    months = sorted({m for m, _ in spend})
    paid = sorted({c for (_, c), s in spend.items() if s > 0})
    current_months = tuple(months[-settings.current_months :])
    current = {
        c: sum(spend.get((m, c), 0.0) for m in current_months) / len(current_months) for c in paid
    }
    paid = [c for c in paid if current[c] > 0]
    if not paid:
        raise MissingSpendData(f"{SPEND}: no channel has spend in {', '.join(current_months)}")
    journeys = cached_journeys(rt.warehouse, options)
    monthly = _monthly_credit(rt.warehouse, options, journeys, model, config, months)
    notes: list[str] = []
    fitted: list[curves.ResponseCurve] = []
    rows: dict[str, dict[str, Any]] = {}
    for c in paid:
        x = np.array([spend.get((m, c), 0.0) for m in months])
        y = np.array([monthly.get(m, {}).get(c, (0.0, 0.0))[0] for m in months])
        v = np.array([monthly.get(m, {}).get(c, (0.0, 0.0))[1] for m in months])
        usable = int(((x > 0) & (y > 0)).sum())
        if usable < settings.min_months:
            rows[c] = {
                "reason": f"{usable} months with spend and conversions; "
                f"a curve needs {settings.min_months}"
            }
            continue
        curve = curves.fit_curve(c, months, x, y, v)
        fitted.append(curve)
        if curve.b <= 0 or curve.b >= 1:
            notes.append(
                f"{c}: fitted b = {curve.b:.2f} is outside (0, 1): no diminishing returns "
                "measured, so the suggestion pushes it to a bound"
            )
    fixed = sum(current[c] for c in paid if c in rows)
    cur = np.array([current[cv.channel] for cv in fitted])
    lo, hi = curves.bounds(cur, bound)
    current_total = float(sum(current.values()))
    total = round(current_total if request.total is None else float(request.total), 2)
    floor, ceiling = float(lo.sum()) + fixed, float(hi.sum()) + fixed
    if not floor - 0.005 <= total <= ceiling + 0.005:
        raise curves.InfeasibleBudget(
            f"total: {total:,.2f} a month cannot be allocated with every channel within "
            f"±{bound:.0%} of its current spend; expected between {floor:,.2f} and "
            f"{ceiling:,.2f}"
        )
    weights = np.array([cv.value_per_conversion * cv.a for cv in fitted])
    exponents = np.array([cv.b for cv in fitted])
    suggested = curves.allocate(weights, exponents, total - fixed, lo, hi)
    baseline = cur * (total - fixed) / cur.sum() if cur.sum() > 0 else cur
    r_cur = curves.expected_revenue(fitted, cur)
    r_base = curves.expected_revenue(fitted, baseline)
    r_new = curves.expected_revenue(fitted, suggested)
    gains = (
        curves.bootstrap_gains(
            fitted, suggested, baseline, replicates=replicates, seed=request.seed
        )
        if fitted
        else np.zeros(1)
    )
    low, high = (float(q) for q in np.percentile(gains, [5, 95]))
    by_channel = {cv.channel: i for i, cv in enumerate(fitted)}
    channels = []
    for c in paid:
        if c in by_channel:
            i = by_channel[c]
            cv = fitted[i]
            channels.append(
                BudgetChannel(
                    channel=c,
                    fitted=True,
                    reason=None,
                    a=cv.a,
                    b=cv.b,
                    r_squared=cv.r_squared,
                    months=cv.months,
                    points_spend=tuple(cv.spend.tolist()),
                    points_conversions=tuple(cv.conversions.tolist()),
                    value_per_conversion=cv.value_per_conversion,
                    current=current[c],
                    lower=float(lo[i]),
                    upper=float(hi[i]),
                    suggested=float(suggested[i]),
                    change=float(suggested[i]) - current[c],
                    expected_revenue_current=float(cv.revenue_at(current[c])),
                    expected_revenue_suggested=float(cv.revenue_at(float(suggested[i]))),
                )
            )
        else:
            amount = round(current[c], 2)
            channels.append(
                BudgetChannel(
                    channel=c,
                    fitted=False,
                    reason=rows[c]["reason"],
                    a=None,
                    b=None,
                    r_squared=None,
                    months=(),
                    points_spend=(),
                    points_conversions=(),
                    value_per_conversion=None,
                    current=current[c],
                    lower=amount,
                    upper=amount,
                    suggested=amount,
                    change=0.0,
                    expected_revenue_current=None,
                    expected_revenue_suggested=None,
                )
            )
    if rows:
        notes.append("kept at their current spend (no curve): " + ", ".join(sorted(rows)))
    rests_on = (
        f"{model} credit of {options.conversion_type} conversions per month, {SPEND} "
        f"{months[0]} to {months[-1]} ({len(months)} months); current spend is the mean of "
        f"{', '.join(current_months)}; curves fitted per channel on the months listed with it"
    )
    return BudgetSuggestion(
        label=LABEL,
        rests_on=rests_on,
        model=model,
        curve=curves.CURVE,
        bound=bound,
        total=total,
        current_total=current_total,
        current_months=current_months,
        channels=tuple(channels),
        expected_revenue_current=r_cur,
        expected_revenue_baseline=r_base,
        expected_revenue_suggested=r_new,
        gain=r_new - r_base,
        gain_low=low,
        gain_high=high,
        bootstrap=replicates,
        notes=tuple(notes),
    )


def _journey_months(wh: Warehouse, options: JourneyOptions) -> dict[Any, str]:
    """The month (``YYYY-MM``) each journey converted, or ended without converting: its touches'
    latest ``touched_at + days_before``."""
    import polars as pl

    expr = journey_touches(wh.table(TOUCHPOINTS), wh.table(CONVERSIONS), options)
    ended = expr.touched_at.epoch_seconds() + (expr.days_before * 86_400.0).round().cast("int64")
    agg = expr.group_by("journey").aggregate(ended=ended.max())
    frame = pl.from_arrow(wh.to_arrow(agg))
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(
        month=pl.from_epoch(pl.col("ended").cast(pl.Int64), time_unit="s").dt.strftime("%Y-%m")
    )
    return dict(
        zip(frame.get_column("journey").to_list(), frame.get_column("month").to_list(), strict=True)
    )


def subset(journeys: Journeys, mask: np.ndarray) -> Journeys:
    """The journeys where ``mask`` is true, their channels re-coded to the ones they touch."""
    lengths = journeys.lengths()
    keep = np.flatnonzero(mask)
    touch = np.repeat(mask, lengths)
    codes = journeys.channel[touch]
    present, recoded = np.unique(codes, return_inverse=True)
    return Journeys(
        channels=tuple(journeys.channels[i] for i in present.tolist()),
        starts=np.concatenate([[0], np.cumsum(lengths[keep])]).astype(np.int64),
        channel=recoded.astype(np.int32),
        conversions=journeys.conversions[keep],
        value=journeys.value[keep],
        nulls=journeys.nulls[keep],
        days_before=None if journeys.days_before is None else journeys.days_before[touch],
        journey_ids=None if journeys.journey_ids is None else journeys.journey_ids[keep],
        customer_ids=None if journeys.customer_ids is None else journeys.customer_ids[keep],
    )


def _monthly_credit(
    wh: Warehouse,
    options: JourneyOptions,
    journeys: Journeys,
    model: str,
    config: AttributionConfig,
    months: list[str],
) -> dict[str, dict[str, tuple[float, float]]]:
    """Per month: each channel's (attributed conversions, value) over the month's journeys."""
    if journeys.journey_ids is None:
        raise MissingJourneyMonths("journeys without ids cannot be placed in months")
    month_of = _journey_months(wh, options)
    labels = np.array([month_of.get(j, "") for j in journeys.journey_ids.tolist()])
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for m in months:
        mask = labels == m
        if not (journeys.conversions[mask] > 0).any():
            continue
        credit: Credit = model_credit(subset(journeys, mask), model, config.models)
        out[m] = {
            c: (float(n), float(v))
            for c, n, v in zip(
                credit.channels, credit.conversions.tolist(), credit.value.tolist(), strict=True
            )
        }
    return out


class MissingJourneyMonths(NoDataError):
    """Journeys that cannot be placed in months (a path file has no dates)."""
