"""Pipeline analytics as a service: summary, by stage, won deals, win drivers, competitors and the
scenario calculator. What the CLI, the API and the dashboard call; definitions in
``docs/pipeline.md`` (Pipeline analytics, Win drivers, Scenario calculator, Competitive
intelligence). The Ibis expressions are in :mod:`revintel.pipeline.analytics`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from revintel.core.errors import InvalidOption
from revintel.data.schema import DEAL_STAGES
from revintel.pipeline import analytics as A
from revintel.pipeline import competitors as C
from revintel.pipeline.config import PipelineConfig, load_config
from revintel.pipeline.frames import (
    DealTables,
    MissingDealData,
    data_as_of,
    deal_tables,
    demo_truth_dir,
)
from revintel.pipeline.scenario import ScenarioInputs, ScenarioResult, check_inputs, run_scenario
from revintel.pipeline.stages import OPEN_STAGES, learned_stage_probabilities
from revintel.pipeline.win_drivers import WinDrivers, fit_win_drivers

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

TRUTH_FILE = "deal_win_drivers.parquet"
MONTHLY_FORECAST_MONTHS = 6


class InvalidPipelineOption(InvalidOption):
    """A pipeline request option (a filter, a dimension, a scenario input) is invalid."""


# -- the request's data ---------------------------------------------------------------------------
def parse_date(value: str | date | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidPipelineOption(f"{name} {value!r}: expected a date YYYY-MM-DD") from None


def make_filter(
    *,
    owner: str | None = None,
    segment: str | None = None,
    stage: str | None = None,
    created_from: str | date | None = None,
    created_to: str | date | None = None,
) -> A.DealFilter:
    """A :class:`DealFilter` from the faces' options; :class:`InvalidPipelineOption` naming the
    option when a stage or date is not valid."""
    if stage is not None and stage not in DEAL_STAGES:
        raise InvalidPipelineOption(f"stage {stage!r}: expected one of {', '.join(DEAL_STAGES)}")
    f = parse_date(created_from, "from")
    t = parse_date(created_to, "to")
    if f is not None and t is not None and f > t:
        raise InvalidPipelineOption(f"from {f} is after to {t}: expected from ≤ to")
    return A.DealFilter(owner or None, segment or None, stage, f, t)


@dataclass(frozen=True)
class Scope:
    """The filtered deal tables of one request, the as-of date and the stage probabilities."""

    warehouse: Warehouse
    tables: DealTables
    deals: Any  # ibis.Table, filtered
    as_of: date
    probabilities: dict[str, float]
    probability_source: dict[str, str]
    config: PipelineConfig
    filters: A.DealFilter


def _rows(wh: Warehouse, expr: Any) -> list[dict[str, Any]]:
    return wh.to_arrow(expr).to_pylist()


def _check_values(wh: Warehouse, deals: Any, column: str, value: str | None) -> None:
    if value is None or column not in deals.columns:
        if value is not None:
            raise MissingDealData(f"filter --{column} needs the deals column {column!r}")
        return
    known = [r[column] for r in _rows(wh, deals.select(column).distinct()) if r[column]]
    if value not in known:
        shown = ", ".join(sorted(known)[:12]) + (" …" if len(known) > 12 else "")
        raise InvalidPipelineOption(f"{column} {value!r}: no deal has it; expected one of {shown}")


def stage_probabilities(
    wh: Warehouse, tables: DealTables, config: PipelineConfig, as_of: date
) -> tuple[dict[str, float], dict[str, str]]:
    """The probability of each open stage (settings first, else learned) and where it came from."""
    probs: dict[str, float] = {}
    source: dict[str, str] = {}
    if tables.history is not None:
        for r in _rows(wh, learned_stage_probabilities(tables.deals, tables.history, as_of=as_of)):
            if r["probability"] is not None:
                probs[r["stage"]] = float(r["probability"])
                source[r["stage"]] = "learned"
    for stage, p in config.stage_probabilities.items():
        probs[stage] = float(p)
        source[stage] = "settings"
    missing = [s for s in OPEN_STAGES if s not in probs]
    if missing and tables.history is None and not config.stage_probabilities:
        raise MissingDealData(
            "stage probabilities need the deal_stage_history table or stage_probabilities in "
            "the pipeline settings; neither is there"
        )
    for s in missing:
        probs[s] = 0.0
        source[s] = "none (no closed deal reached it)"
    return probs, source


def scope(ctx: Runtime, filters: A.DealFilter | None = None) -> Scope:
    wh = ctx.warehouse
    tables = deal_tables(wh)
    filters = filters or A.DealFilter()
    _check_values(wh, tables.deals, "owner", filters.owner)
    _check_values(wh, tables.deals, "segment", filters.segment)
    config = load_config(ctx.settings)
    as_of = data_as_of(wh, tables)
    probs, source = stage_probabilities(wh, tables, config, as_of)
    return Scope(wh, tables, filters.apply(tables.deals), as_of, probs, source, config, filters)


# -- summary --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PipelineSummary:
    """The headline figures (docs/pipeline.md, Pipeline analytics)."""

    as_of: date
    open_pipeline: float
    deal_count: int
    avg_deal_size: float | None
    win_rate: float | None
    win_rate_amount: float | None
    closed_deals: int
    won_deals: int
    avg_won_deal_size: float | None
    median_cycle_days: float | None
    weighted_forecast_90d: float | None
    forecast_days: int
    past_expected_close: int
    slipped_deals: int | None
    at_risk_deals: int
    filters: dict[str, str | None]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def weighted_forecast_90d(s: Scope) -> float | None:
    """Stage probability × amount over open deals expected to close within ``forecast_days``
    (docs/pipeline.md, Pipeline analytics); None when no open deal has an expected close date
    (a CRM export without one: the Forecast page estimates close dates from stage timing)."""
    days = s.config.analytics.forecast_days
    d = A.open_deals(s.deals)
    dated = _rows(s.warehouse, d.aggregate(n=d.expected_close_date.count()))
    if not dated or not dated[0]["n"]:
        return None
    row = _rows(
        s.warehouse, A.weighted_forecast(s.deals, s.probabilities, as_of=s.as_of, days=days)
    )
    return float(row[0]["weighted"] or 0.0) if row else 0.0


def _slipped(s: Scope) -> Any | None:
    h = s.tables.history
    if h is None or "expected_close_date" not in h.columns:
        return None
    return A.slipped_deals(s.deals, h)


def at_risk_count(ctx: Runtime, s: Scope) -> int:
    """The at-risk deal alerts (docs/pipeline.md, At-risk deals) among the deals in scope: the
    same deals ``revintel pipeline at-risk`` lists."""
    from revintel.pipeline.service.deals import alerting_deals

    return s.filters.apply_frame(alerting_deals(ctx)).height


def summary(ctx: Runtime, filters: A.DealFilter | None = None) -> PipelineSummary:
    s = scope(ctx, filters)
    tot = _rows(s.warehouse, A.open_totals(s.deals, as_of=s.as_of))[0]
    wr = _rows(s.warehouse, A.win_rates(s.deals, None))
    won = _rows(s.warehouse, A.won_summary(s.deals))[0]
    slipped = _slipped(s)
    slipped_count = None
    if slipped is not None:
        n = _rows(s.warehouse, slipped.aggregate(n=slipped.deal_id.count()))
        slipped_count = int(n[0]["n"] or 0) if n else 0
    deals = int(tot["deals"] or 0)
    pipeline = float(tot["pipeline"] or 0.0)
    return PipelineSummary(
        as_of=s.as_of,
        open_pipeline=pipeline,
        deal_count=deals,
        avg_deal_size=pipeline / deals if deals else None,
        win_rate=wr[0]["win_rate"] if wr else None,
        win_rate_amount=wr[0]["win_rate_amount"] if wr else None,
        closed_deals=int(wr[0]["closed"]) if wr else 0,
        won_deals=int(wr[0]["won"]) if wr else 0,
        avg_won_deal_size=won["avg_deal_size"],
        median_cycle_days=won["median_cycle_days"],
        weighted_forecast_90d=weighted_forecast_90d(s),
        forecast_days=s.config.analytics.forecast_days,
        past_expected_close=int(tot["past_close"] or 0),
        slipped_deals=slipped_count,
        at_risk_deals=at_risk_count(ctx, s),
        filters=s.filters.as_dict(),
    )


# -- by stage -------------------------------------------------------------------------------------
def by_stage(ctx: Runtime, filters: A.DealFilter | None = None) -> list[dict[str, Any]]:
    """One row per open stage: ``stage``, ``deals``, ``amount``, ``probability``,
    ``weighted_amount``, ``avg_age_days``, ``conversion_to_next``, ``median_days_in_stage``."""
    s = scope(ctx, filters)
    return _by_stage(s)


def _by_stage(s: Scope) -> list[dict[str, Any]]:
    base = {
        r["stage"]: r
        for r in _rows(s.warehouse, A.open_by_stage(s.deals, s.probabilities, as_of=s.as_of))
    }
    conv: dict[str, Any] = {}
    days: dict[str, Any] = {}
    if s.tables.history is not None:
        wide = _rows(s.warehouse, A.stage_conversion_wide(s.deals, s.tables.history))
        conv = {str(r["stage"]): r for r in A.conversion_rows(wide[0] if wide else {})}
        days = {
            r["stage"]: r for r in _rows(s.warehouse, A.days_in_stage(s.deals, s.tables.history))
        }
    out = []
    for stage in OPEN_STAGES:
        b = base.get(stage, {})
        out.append(
            {
                "stage": stage,
                "deals": int(b.get("deals") or 0),
                "amount": float(b.get("amount") or 0.0),
                "probability": s.probabilities.get(stage),
                "weighted_amount": float(b.get("weighted_amount") or 0.0),
                "avg_age_days": b.get("avg_age_days"),
                "conversion_to_next": conv.get(stage, {}).get("conversion"),
                "median_days_in_stage": days.get(stage, {}).get("median_days_in_stage"),
            }
        )
    return out


# -- pipeline page: created, coverage, aging, slipped ---------------------------------------------
def _months_from(start: date, n: int) -> list[str]:
    y, m = start.year, start.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


def created_per_month(ctx: Runtime, filters: A.DealFilter | None = None) -> list[dict[str, Any]]:
    s = scope(ctx, filters)
    return sorted(_rows(s.warehouse, A.created_per_month(s.deals)), key=lambda r: r["month"])


def coverage(s: Scope, months: list[str] | None = None) -> list[dict[str, Any]]:
    """Per month: open pipeline expected to close in it, the target and pipeline ÷ target.

    The months are those with a target in the settings, else the next six from the as-of date."""
    targets = s.config.targets
    months = months or (
        sorted(targets) if targets else _months_from(s.as_of, MONTHLY_FORECAST_MONTHS)
    )
    found = {
        r["month"]: r
        for r in _rows(s.warehouse, A.open_by_close_month(s.deals, s.probabilities, months))
    }
    out = []
    for month in months:
        r = found.get(month, {})
        pipeline = float(r.get("pipeline") or 0.0)
        target = targets.get(month)
        out.append(
            {
                "month": month,
                "deals": int(r.get("deals") or 0),
                "pipeline": pipeline,
                "weighted": float(r.get("weighted") or 0.0),
                "target": target,
                "coverage": pipeline / target if target else None,
            }
        )
    return out


@dataclass
class PipelineOverview:
    """Everything the Pipeline page draws."""

    summary: PipelineSummary
    by_stage: list[dict[str, Any]]
    created: list[dict[str, Any]]
    coverage: list[dict[str, Any]]
    aging: list[dict[str, Any]]
    slipped: list[dict[str, Any]]
    probabilities: dict[str, float]
    probability_source: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return out


def overview(ctx: Runtime, filters: A.DealFilter | None = None) -> PipelineOverview:
    s = scope(ctx, filters)
    aging = sorted(_rows(s.warehouse, A.aging(s.deals, as_of=s.as_of)), key=lambda r: r["order"])
    slipped: list[dict[str, Any]] = []
    h = s.tables.history
    if h is not None and "expected_close_date" in h.columns:
        sl = A.slipped_deals(s.deals, h)
        j = sl.join(s.deals.select("deal_id", "owner", "stage", "amount"), "deal_id")
        slipped = sorted(_rows(s.warehouse, j), key=lambda r: -(r["days_pushed"] or 0))
    return PipelineOverview(
        summary=summary(ctx, filters),
        by_stage=_by_stage(s),
        created=sorted(_rows(s.warehouse, A.created_per_month(s.deals)), key=lambda r: r["month"]),
        coverage=coverage(s),
        aging=[{k: r[k] for k in ("bucket", "deals", "amount", "past_close")} for r in aging],
        slipped=slipped,
        probabilities=s.probabilities,
        probability_source=s.probability_source,
    )


# -- dashboard (GET /dashboard) ------------------------------------------------------------------
def dashboard(ctx: Runtime, filters: A.DealFilter | None = None) -> dict[str, Any]:
    """``kpis`` (total_pipeline, deal_count, avg_deal_size, weighted_forecast_90d,
    at_risk_deals), ``pipeline_by_stage`` and ``monthly_forecast`` (stage-weighted, next six
    months of expected close)."""
    s = scope(ctx, filters)
    sm = summary(ctx, filters)
    months = _months_from(s.as_of, MONTHLY_FORECAST_MONTHS)
    monthly = [
        {"month": r["month"], "deals": r["deals"], "pipeline": r["pipeline"],
         "weighted_forecast": r["weighted"]}
        for r in coverage(s, months)
    ]  # fmt: skip
    return {
        "as_of": s.as_of.isoformat(),
        "kpis": {
            "total_pipeline": sm.open_pipeline,
            "deal_count": sm.deal_count,
            "avg_deal_size": sm.avg_deal_size,
            "weighted_forecast_90d": sm.weighted_forecast_90d,
            "at_risk_deals": sm.at_risk_deals,
            "win_rate": sm.win_rate,
        },
        "pipeline_by_stage": _by_stage(s),
        "monthly_forecast": monthly,
    }


# -- won deals ------------------------------------------------------------------------------------
def won_summary(ctx: Runtime, filters: A.DealFilter | None = None) -> dict[str, Any]:
    """Won deals: totals (count, amount, average and median size, cycle), per month, and the win
    rate by count and amount overall and by each dimension the data holds."""
    s = scope(ctx, filters)
    totals = _rows(s.warehouse, A.won_summary(s.deals))[0]
    overall = _rows(s.warehouse, A.win_rates(s.deals, None))
    by: dict[str, list[dict[str, Any]]] = {}
    for dim in A.DIMENSIONS:
        if dim in s.deals.columns:
            rows = _rows(s.warehouse, A.win_rates(s.deals, dim))
            by[dim] = sorted(rows, key=lambda r: (-r["closed"], r["value"]))
    return {
        "as_of": s.as_of.isoformat(),
        "totals": totals,
        "win_rate": overall[0] if overall else None,
        "per_month": sorted(_rows(s.warehouse, A.won_per_month(s.deals)), key=lambda r: r["month"]),
        "win_rates": by,
        "filters": s.filters.as_dict(),
    }


def win_rates(
    ctx: Runtime, dimension: str, filters: A.DealFilter | None = None
) -> list[dict[str, Any]]:
    if dimension not in A.DIMENSIONS:
        raise InvalidPipelineOption(f"by {dimension!r}: expected one of {', '.join(A.DIMENSIONS)}")
    s = scope(ctx, filters)
    if dimension not in s.deals.columns:
        raise MissingDealData(f"win rate by {dimension} needs the deals column {dimension!r}")
    return sorted(_rows(s.warehouse, A.win_rates(s.deals, dimension)), key=lambda r: -r["closed"])


# -- win drivers ----------------------------------------------------------------------------------
def win_drivers(
    ctx: Runtime, filters: A.DealFilter | None = None, *, truth: Path | None = None
) -> WinDrivers:
    """Odds ratios with 95% intervals per qualification flag and competitor, controlling for
    deal type and segment; beside the planted ones when the truth folder is there."""
    s = scope(ctx, filters)
    d = A.closed_deals(s.deals)
    d = d.filter(d.closed_date.notnull())
    cols = [c for c in (*_FLAG_COLUMNS, "competitor", "deal_type", "segment") if c in d.columns]
    d = d.select("deal_id", "closed_date", *cols, won=A._flag(d.stage == "Closed Won"))
    frame = pl.from_arrow(s.warehouse.to_arrow(d))
    assert isinstance(frame, pl.DataFrame)
    path = (truth or demo_truth_dir(ctx)) / TRUTH_FILE
    planted = pl.read_parquet(path) if path.is_file() else None
    return fit_win_drivers(frame, planted)


_FLAG_COLUMNS = ("has_champion", "budget_confirmed", "decision_maker_engaged")


# -- scenario -------------------------------------------------------------------------------------
def scenario(
    ctx: Runtime,
    inputs: ScenarioInputs,
    *,
    segments: dict[str, dict[str, float]] | None = None,
    filters: A.DealFilter | None = None,
    seed: int = 0,
) -> ScenarioResult:
    """The scenario calculator over the open pipeline and the closed win rate (docs/pipeline.md).

    ``segments`` maps a segment to its own inputs (any not given use ``inputs``); each segment is
    then computed on its own pipeline and win rate and listed in ``by_segment``.
    """
    s = scope(ctx, filters)
    cfg = s.config.analytics

    def run(deals: Any, inp: ScenarioInputs) -> ScenarioResult:
        wr = _rows(s.warehouse, A.win_rates(deals, None))
        rate = float(wr[0]["win_rate"]) if wr else 0.0
        o = A.open_deals(deals)
        rows = _rows(s.warehouse, o.select("amount", "expected_close_date"))
        amounts = np.array([float(r["amount"] or 0.0) for r in rows])
        days = np.array(
            [
                math.nan
                if r["expected_close_date"] is None
                else (r["expected_close_date"] - s.as_of).days
                for r in rows
            ],
            dtype=float,
        )
        return run_scenario(
            amounts, days, rate, inp,
            horizon_days=cfg.scenario_horizon_days, simulations=cfg.scenario_simulations,
            seed=seed,
        )  # fmt: skip

    result = run(s.deals, inputs)
    if segments:
        if "segment" not in s.deals.columns:
            raise MissingDealData("a scenario per segment needs the deals column 'segment'")
        known = {r["segment"] for r in _rows(s.warehouse, s.deals.select("segment").distinct())}
        for seg, values in segments.items():
            if seg not in known:
                raise InvalidPipelineOption(
                    f"segments.{seg}: no deal has this segment; expected one of "
                    f"{', '.join(sorted(k for k in known if k))}"
                )
            unknown = set(values) - set(asdict(inputs))
            if unknown:
                raise InvalidPipelineOption(
                    f"segments.{seg}.{sorted(unknown)[0]}: unknown input; expected "
                    f"{', '.join(asdict(inputs))}"
                )
            check_inputs(values, where=f"segments.{seg}.")
        for seg in sorted(k for k in known if k):
            inp = ScenarioInputs(**{**asdict(inputs), **segments.get(seg, {})})
            r = run(s.deals.filter(s.deals.segment == seg), inp)
            result.by_segment.append(
                {"segment": seg, "inputs": r.inputs, "baseline": r.baseline,
                 "projected": r.projected, "delta": r.delta}
            )  # fmt: skip
    return result


# -- competitors ----------------------------------------------------------------------------------
def competitors(ctx: Runtime, filters: A.DealFilter | None = None) -> C.CompetitorReport:
    """Per competitor: deals, win rate with its 95% interval beside the overall rate, trend by
    quarter, size and discount, stage where lost, loss reasons; threats and opportunities."""
    s = scope(ctx, filters)
    if "competitor" not in s.deals.columns:
        raise MissingDealData("competitive intelligence needs the deals column 'competitor'")
    cfg = s.config.analytics
    wh, deals = s.warehouse, s.deals
    notes: list[str] = []
    discount = "discount_pct" in deals.columns
    counts = _rows(wh, C.competitor_counts(deals, discount=discount))
    overall = _rows(wh, A.win_rates(deals, None))
    closed_all = int(overall[0]["closed"]) if overall else 0
    won_all = int(overall[0]["won"]) if overall else 0
    overall_rate = won_all / closed_all if closed_all else None
    lo, hi = C.wilson(won_all, closed_all)
    rows = []
    for r in sorted(counts, key=lambda r: -r["deals"]):
        low, high = C.wilson(int(r["won"]), int(r["closed"]))
        rate = r["won"] / r["closed"] if r["closed"] else None
        row = {
            "competitor": r["rival"],
            "deals": int(r["deals"]),
            "closed": int(r["closed"]),
            "won": int(r["won"]),
            "win_rate": rate,
            "ci_low": low,
            "ci_high": high,
            "vs_overall": None if rate is None or overall_rate is None else rate - overall_rate,
            "significantly_different": (
                None if low is None or overall_rate is None
                else bool(high is not None and (high < overall_rate or low > overall_rate))
            ),
            "avg_amount": r["avg_amount"],
            "avg_won_amount": r["avg_won_amount"],
        }  # fmt: skip
        if discount:
            row["avg_discount"] = r["avg_discount"]
        rows.append(row)
    if not discount:
        notes.append("discount is not in the data (deals column discount_pct)")
    if all(r["competitor"] == A.NONE_LABEL for r in rows):
        notes.append("no deal names a competitor (deals column competitor is blank)")
    closed_q = _rows(wh, C.closed_by_quarter(deals))
    created_q = _rows(wh, C.created_by_quarter(deals))
    created_tot: dict[str, int] = {}
    for r in created_q:
        created_tot[r["quarter"]] = created_tot.get(r["quarter"], 0) + int(r["deals"])
    trend: dict[tuple[str, str], dict[str, Any]] = {}
    for r in closed_q:
        t = trend.setdefault(
            (r["rival"], r["quarter"]), {"competitor": r["rival"], "quarter": r["quarter"]}
        )
        t.update(closed=int(r["closed"]), won=int(r["won"]), win_rate=r["won"] / r["closed"])
    for r in created_q:
        t = trend.setdefault(
            (r["rival"], r["quarter"]), {"competitor": r["rival"], "quarter": r["quarter"]}
        )
        t.update(created=int(r["deals"]), share=int(r["deals"]) / created_tot[r["quarter"]])
    trend_rows = [
        {
            "competitor": k[0],
            "quarter": k[1],
            "closed": v.get("closed", 0),
            "won": v.get("won", 0),
            "win_rate": v.get("win_rate"),
            "created": v.get("created", 0),
            "share": v.get("share", 0.0),
        }
        for k, v in sorted(trend.items())
    ]
    lost_stage: list[dict[str, Any]] = []
    if s.tables.history is not None:
        lost_stage = [
            {"competitor": r["rival"], "stage": r["stage"], "lost": int(r["lost"])}
            for r in _rows(wh, C.lost_at_stage(deals, s.tables.history))
        ]
        order = {st: i for i, st in enumerate(OPEN_STAGES)}
        lost_stage.sort(key=lambda r: (r["competitor"], order.get(r["stage"], 99)))
    else:
        notes.append("stage where lost needs the deal_stage_history table")
    reasons: list[dict[str, Any]] = []
    if "loss_reason" in deals.columns:
        reasons = sorted(
            ({"competitor": r["rival"], "reason": r["reason"], "lost": int(r["lost"])}
             for r in _rows(wh, C.loss_reasons(deals))),
            key=lambda r: (r["competitor"], -r["lost"]),
        )  # fmt: skip
    else:
        notes.append("loss reasons are not in the data (deals column loss_reason)")
    threats: list[C.Threat] = []
    names = [r["competitor"] for r in rows if r["competitor"] != A.NONE_LABEL]
    for name in names:
        cq = {
            t["quarter"]: (t["closed"], t["won"])
            for t in trend_rows
            if t["competitor"] == name and t["closed"]
        }
        sq = {
            q: (
                next(
                    (
                        t["created"]
                        for t in trend_rows
                        if t["competitor"] == name and t["quarter"] == q
                    ),
                    0,
                ),
                n,
            )
            for q, n in created_tot.items()
        }
        threats += C.find_threats(
            name, cq, sq, recent=cfg.recent_quarters, significance=cfg.significance
        )
    opportunities: list[C.Opportunity] = []
    if overall_rate is not None:
        for dim in ("segment", "product"):
            if dim not in deals.columns:
                continue
            for r in _rows(wh, C.closed_by(deals, dim)):
                if r["rival"] == A.NONE_LABEL or r["value"] == A.NONE_LABEL:
                    continue
                n, w = int(r["closed"]), int(r["won"])
                low, _ = C.wilson(w, n)
                if n >= cfg.min_competitor_deals and low is not None and low > overall_rate:
                    opportunities.append(
                        C.Opportunity(
                            r["rival"], dim, r["value"], n, w, w / n, low, overall_rate,
                            f"won {w}/{n} ({w / n:.0%}) against {r['rival']} in {dim} "
                            f"{r['value']}; 95% lower bound {low:.0%} above the overall "
                            f"{overall_rate:.0%}",
                        )
                    )  # fmt: skip
        opportunities.sort(key=lambda o: -o.ci_low)
    test = (
        f"Threats: one-sided pooled two-proportion z-test at level {cfg.significance}, the last "
        f"{cfg.recent_quarters} quarters against every quarter before (share of deals created; "
        "win rate of deals closed). Opportunities: Wilson 95% lower bound of the win rate "
        f"against the competitor in a segment or product above the overall win rate, with at "
        f"least {cfg.min_competitor_deals} closed deals."
    )
    return C.CompetitorReport(
        overall={"closed": closed_all, "won": won_all, "win_rate": overall_rate, "ci_low": lo,
                 "ci_high": hi, "as_of": s.as_of.isoformat()},
        competitors=rows,
        trend=trend_rows,
        lost_at_stage=lost_stage,
        loss_reasons=reasons,
        threats=threats,
        opportunities=opportunities,
        test=test,
        notes=notes,
    )  # fmt: skip


def filter_values(ctx: Runtime) -> dict[str, list[str]]:
    """The owners and segments the deals hold (for the pages' filters)."""
    wh = ctx.warehouse
    d = deal_tables(wh).deals
    out: dict[str, list[str]] = {}
    for column in ("owner", "segment"):
        if column in d.columns:
            rows = _rows(wh, d.select(column).distinct())
            out[column] = sorted(str(r[column]) for r in rows if r[column])
    return out
