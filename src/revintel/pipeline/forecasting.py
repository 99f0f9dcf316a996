"""Bookings forecasts from the pipeline as it stood on a date, with intervals.

Definitions: ``docs/pipeline.md``, Forecasts. For a snapshot day *D* and a window (the next *H*
days, or a calendar month after *D*), with the open deals of *D* whose expected close date falls in
the window (a deal already past its expected close counts in the first window):

* ``stage_weighted``  = Σ amount × p(stage)        + new-deal bookings
* ``probability_weighted`` = Σ amount × p(deal)     + new-deal bookings
* ``categories``      = Σ amount of Commit deals    + new-deal bookings (``best_case`` adds the
  Best Case deals), when the forecast categories are known on *D*
* ``time_series``     = AutoETS (statsforecast) on monthly won bookings up to *D*, summed over the
  window's months (30 days ≈ 1 month)
* ``naive``           = the bookings won in the *H* days before *D* (backtest baseline)

New-deal bookings: bookings won inside a window from deals created after its start. Estimated as
the mean over the last ``new_deal_lookback_months`` month-starts *D'* whose same-length window ended
by *D*; the stage- and probability-weighted intervals simulate each deal's outcome (won with its
probability) and add a new-deal amount drawn from those past windows; 80 % and 95 % are the
10–90 and 2.5–97.5 percentiles of ``simulations`` draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from revintel.pipeline.stages import WON_STAGE

METHODS: tuple[str, ...] = (
    "stage_weighted",
    "probability_weighted",
    "categories",
    "time_series",
    "naive",
)
HORIZONS: tuple[int, ...] = (30, 60, 90)
Z80, Z95 = 1.2816, 1.96


@dataclass(frozen=True)
class Estimate:
    """A forecast with its 80 % and 95 % intervals (None when the method has none)."""

    value: float | None
    low_80: float | None = None
    high_80: float | None = None
    low_95: float | None = None
    high_95: float | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        r = _r
        return {
            "value": r(self.value),
            "low_80": r(self.low_80),
            "high_80": r(self.high_80),
            "low_95": r(self.low_95),
            "high_95": r(self.high_95),
            "note": self.note,
        }


def _r(v: float | None) -> float | None:
    return None if v is None else round(float(v), 2)


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def month_starts(first: date, last: date) -> list[date]:
    """Every first-of-month on or after ``first`` and on or before ``last``."""
    d = first if first.day == 1 else add_months(first, 1)
    out = []
    while d <= last:
        out.append(d)
        d = add_months(d, 1)
    return out


def won_amount(
    deals: pl.DataFrame, start: date, end: date, *, created_after: date | None = None
) -> float:
    """Σ amount of deals won with ``start`` < closed_date ≤ ``end`` (created after a date)."""
    f = deals.filter(
        (pl.col("stage") == WON_STAGE)
        & (pl.col("closed_date") > start)
        & (pl.col("closed_date") <= end)
    )
    if created_after is not None:
        f = f.filter(pl.col("created_date") > created_after)
    return float(f["amount"].sum() or 0.0)


def new_deal_samples(
    deals: pl.DataFrame, as_of: date, days: int, lookback: int, *, offset_days: int = 0
) -> list[float]:
    """Bookings from deals created after *D'* and won in (*D'* + offset, *D'* + offset + days],
    for the last ``lookback`` month-starts *D'* whose window ended by ``as_of``."""
    out: list[float] = []
    d = month_start(as_of)
    earliest = deals["created_date"].min() if deals.height else None
    floor = earliest if isinstance(earliest, date) else date(1970, 1, 1)
    while len(out) < lookback:
        if d + timedelta(days=offset_days + days) <= as_of:
            lo = d + timedelta(days=offset_days)
            out.append(won_amount(deals, lo, lo + timedelta(days=days), created_after=d))
        d = add_months(d, -1)
        if d < floor:
            break
    return out


def simulate(
    amounts: np.ndarray,
    probs: np.ndarray,
    extra: list[float],
    rng: np.random.Generator,
    n: int,
) -> Estimate:
    """Point = Σ amount × p + mean(extra); intervals from ``n`` simulated outcomes."""
    point = float(amounts @ probs) + (float(np.mean(extra)) if extra else 0.0)
    draws = (rng.random((n, len(amounts))) < probs) @ amounts if len(amounts) else np.zeros(n)
    if extra:
        draws = draws + rng.choice(np.asarray(extra, dtype=float), size=n)
    q = [float(v) for v in np.quantile(draws, [0.1, 0.9, 0.025, 0.975])]
    return Estimate(point, q[0], q[1], q[2], q[3])


def timing_probability(
    stage: list[str],
    days_in_stage: np.ndarray,
    durations: dict[str, np.ndarray],
    lo: int,
    hi: int,
) -> np.ndarray:
    """P(a deal that is won closes between ``lo`` and ``hi`` days from now | open now), from the
    days won deals took from entering the same stage to closing (``durations``, sorted):
    #{t + lo < x ≤ t + hi} ÷ #{x > t} for a deal ``t`` days into its stage; 0 when no won deal
    stayed longer. A stage with fewer than 5 won deals uses every stage's durations."""
    pooled = np.sort(np.concatenate(list(durations.values()))) if durations else np.zeros(0)
    out = np.zeros(len(stage))
    for i, (s, t) in enumerate(zip(stage, days_in_stage, strict=True)):
        x = durations.get(s)
        if x is None or len(x) < 5:
            x = pooled
        above = len(x) - np.searchsorted(x, t, side="right")
        if above <= 0:
            continue
        inside = np.searchsorted(x, t + hi, side="right") - np.searchsorted(x, t + lo, side="right")
        out[i] = inside / above
    return out


def window_weights(
    snap: pl.DataFrame,
    *,
    day: date,
    start: date,
    end: date,
    first_window: bool,
    durations: dict[str, np.ndarray],
) -> np.ndarray:
    """The share of each open deal's win expected inside (start, end]: 1 or 0 by its expected
    close date (an overdue deal counts in the first window), or, when the expected close was
    estimated, :func:`timing_probability`."""
    ec = snap["expected_close_date"].to_numpy()
    s64, e64 = np.datetime64(start), np.datetime64(end)
    inside = (ec <= e64) if first_window else (ec > s64) & (ec <= e64)
    w = inside.astype(float)
    est = (snap["expected_close_source"] == "estimated").to_numpy()
    if est.any():
        t = snap["days_in_stage"].fill_null(0).to_numpy()[est]
        st = snap["stage"].to_numpy()[est].tolist()
        w[est] = timing_probability(st, t, durations, (start - day).days, (end - day).days)
    return w


def pipeline_estimates(
    snap: pl.DataFrame,
    *,
    day: date,
    start: date,
    end: date,
    first_window: bool,
    extra: list[float],
    rng: np.random.Generator,
    simulations: int,
    categories_known: bool,
    durations: dict[str, np.ndarray],
) -> dict[str, Estimate]:
    """Stage-weighted, probability-weighted and categories forecasts of the bookings won in
    (start, end] from ``snap``'s deals (``amount``, ``expected_close_date``,
    ``expected_close_source``, ``p_stage``, ``p_model``, ``forecast_category``) plus new deals."""
    w = window_weights(
        snap, day=day, start=start, end=end, first_window=first_window, durations=durations
    )
    amounts = snap["amount"].fill_null(0).to_numpy().astype(float)
    p_stage = snap["p_stage"].fill_null(0).to_numpy() * w
    p_model = snap["p_model"].fill_null(0).to_numpy() * w
    out = {
        "stage_weighted": simulate(amounts, p_stage, extra, rng, simulations),
        "probability_weighted": simulate(amounts, p_model, extra, rng, simulations),
    }
    new = float(np.mean(extra)) if extra else 0.0
    if categories_known:
        cat = snap["forecast_category"].fill_null("").to_numpy()
        commit = float((amounts * w)[cat == "Commit"].sum())
        best = float((amounts * w)[np.isin(cat, ["Commit", "Best Case"])].sum())
        out["categories"] = Estimate(
            commit + new, commit + new, best + new, note="low = commit, high = best case"
        )
    else:
        out["categories"] = Estimate(
            None, note="the forecast categories are not known on this date (not in the history)"
        )
    return out


def time_series(monthly: list[float], months: int) -> list[Estimate]:
    """AutoETS forecasts of the next ``months`` monthly bookings with 80/95 % intervals
    (statsforecast); a series shorter than 6 months gives its mean with no interval."""
    y = np.asarray(monthly, dtype=float)
    if len(y) < 6:
        mean = float(y.mean()) if len(y) else 0.0
        return [Estimate(mean, note="fewer than 6 months of bookings") for _ in range(months)]
    from statsforecast.models import AutoETS

    try:
        fc = AutoETS(season_length=1, model="ZZN").forecast(y=y, h=months, level=[80, 95])
    except (NotImplementedError, ValueError):  # statsforecast refuses series too short to fit
        mean = float(y.mean())
        return [Estimate(mean, note="too few months of bookings to fit ETS") for _ in range(months)]
    return [
        Estimate(
            max(0.0, float(fc["mean"][i])),
            max(0.0, float(fc["lo-80"][i])),
            float(fc["hi-80"][i]),
            max(0.0, float(fc["lo-95"][i])),
            float(fc["hi-95"][i]),
        )
        for i in range(months)
    ]


def sum_months(parts: list[Estimate]) -> Estimate:
    """The sum of monthly forecasts; the interval adds the monthly variances (as independent)."""
    value = sum(p.value or 0.0 for p in parts)
    if any(p.high_80 is None for p in parts):
        return Estimate(value, note=parts[0].note if parts else None)
    spread = [((p.high_80 or 0.0) - (p.value or 0.0)) / Z80 for p in parts]
    sd = float(np.sqrt(sum(s**2 for s in spread)))
    return Estimate(
        value,
        max(0.0, value - Z80 * sd),
        value + Z80 * sd,
        max(0.0, value - Z95 * sd),
        value + Z95 * sd,
    )


def monthly_bookings(deals: pl.DataFrame, first: date, as_of: date) -> list[float]:
    """Won bookings per complete calendar month from ``first``'s month to the month before the
    month containing ``as_of`` + 1 day (only months complete by ``as_of``)."""
    out = []
    d = month_start(first)
    while add_months(d, 1) - timedelta(days=1) <= as_of:
        out.append(won_amount(deals, d - timedelta(days=1), add_months(d, 1) - timedelta(days=1)))
        d = add_months(d, 1)
    return out
