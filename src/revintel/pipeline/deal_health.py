"""Deal health: a 0–100 score per open deal with named risk factors, their points and evidence.

Definitions (``docs/pipeline.md``, Deals → Deal health): every open deal starts at 100 and loses
the points of each risk factor it carries (weights and thresholds in :class:`DealHealthConfig`):

* ``stagnant``: days in its current stage > ``stagnant_ratio`` × that stage's historical median
  days in stage (the median over every spell in the stage that ended, from the stage history);
* ``no_activity``: no sales activity for ``no_activity_days`` days or more (days since the last
  activity, or since the deal was created when it has none; only when activities are loaded);
* ``close_pushed``: the expected close date was moved later at least once (from the history);
* ``amount_reduced``: the amount now is below the highest amount it had in the history;
* ``past_expected_close``: the expected close date is before the as-of date and it is still open;
* ``no_champion`` / ``budget_not_confirmed`` / ``decision_maker_not_engaged``: the flag is false
  (a blank flag is unknown and costs nothing);
* ``competitor``: a competitor is named on the deal.

score = max(0, 100 − Σ points); category ``healthy`` when score ≥ ``healthy_min``, ``at risk``
when score ≥ ``at_risk_min``, else ``critical``.

:func:`deal_signals` and :func:`stage_spells` are Ibis expressions (every backend); the day
arithmetic and the scoring run on the fetched rows (:func:`score_deals`), in polars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from revintel.pipeline.stages import OPEN_STAGES

if TYPE_CHECKING:
    import ibis

FACTORS: tuple[str, ...] = (
    "stagnant",
    "no_activity",
    "close_pushed",
    "amount_reduced",
    "past_expected_close",
    "no_champion",
    "budget_not_confirmed",
    "decision_maker_not_engaged",
    "competitor",
)
CATEGORIES: tuple[str, ...] = ("healthy", "at risk", "critical")


class DealHealthConfig(BaseModel):
    """Weights (points lost) and thresholds of the deal health score and the at-risk alerts."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    stagnant_points: float = Field(default=20, ge=0, le=100)
    stagnant_ratio: float = Field(
        default=1.5,
        gt=0,
        le=20,
        description="Stagnant when days in stage > ratio × the stage median.",
    )
    no_activity_points: float = Field(default=15, ge=0, le=100)
    no_activity_days: int = Field(default=21, ge=1, le=3650)
    close_pushed_points: float = Field(default=10, ge=0, le=100)
    amount_reduced_points: float = Field(default=10, ge=0, le=100)
    past_expected_close_points: float = Field(default=20, ge=0, le=100)
    no_champion_points: float = Field(default=10, ge=0, le=100)
    budget_not_confirmed_points: float = Field(default=10, ge=0, le=100)
    decision_maker_not_engaged_points: float = Field(default=10, ge=0, le=100)
    competitor_points: float = Field(default=5, ge=0, le=100)
    healthy_min: float = Field(default=70, ge=0, le=100, description="Healthy when score ≥ this.")
    at_risk_min: float = Field(default=40, ge=0, le=100, description="At risk when score ≥ this.")
    alert_min_deal_value: float = Field(
        default=0, ge=0, description="Alerts: smallest amount shown."
    )
    alert_factors: list[str] = Field(
        default_factory=lambda: ["past_expected_close", "stagnant"],
        description="Alerts: an open deal carrying any of these factors is listed too.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DealHealthConfig:
        if self.at_risk_min > self.healthy_min:
            raise ValueError(
                f"at_risk_min ({self.at_risk_min}) must not exceed healthy_min ({self.healthy_min})"
            )
        unknown = [f for f in self.alert_factors if f not in FACTORS]
        if unknown:
            raise ValueError(
                f"alert_factors: unknown factor(s) {', '.join(unknown)}; expected any of "
                + ", ".join(FACTORS)
            )
        return self

    def points(self, factor: str) -> float:
        return float(getattr(self, f"{factor}_points"))

    def category(self, score: float) -> str:
        if score >= self.healthy_min:
            return "healthy"
        if score >= self.at_risk_min:
            return "at risk"
        return "critical"


@dataclass(frozen=True)
class Factor:
    """One risk factor a deal carries: its name, the points it costs and the evidence."""

    name: str
    points: float
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "evidence": self.evidence}


@dataclass(frozen=True)
class DealHealth:
    deal_id: str
    score: float
    category: str
    factors: list[Factor] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "deal_id": self.deal_id,
            "health_score": self.score,
            "health_category": self.category,
            "factors": [f.to_dict() for f in self.factors],
        }


SIGNAL_COLUMNS = (
    "deal_id", "account_id", "account_name", "owner", "stage", "amount", "created_date",
    "expected_close_date", "forecast_category", "deal_type", "segment", "competitor",
    "lead_source", "has_champion", "budget_confirmed", "decision_maker_engaged",
    "product", "seats", "discount_pct",
)  # fmt: skip


# -- Ibis: what the score is computed from -------------------------------------------------------


def stage_spells(history: ibis.Table, *, as_of: date) -> ibis.Table:
    """``deal_id``, ``stage``, ``entered``, ``left``: each stage a deal was in (first entry) and
    the first entry of the stage after it (null while it is still there)."""
    import ibis

    h = history.filter(history.entered_at.cast("date") <= as_of)
    firsts = h.group_by(["deal_id", "stage"]).aggregate(entered=h.entered_at.cast("date").min())
    w = ibis.window(group_by=firsts.deal_id, order_by=[firsts.entered, firsts.stage])
    return firsts.mutate(left=firsts.entered.lead().over(w))


def deal_signals(
    deals: ibis.Table,
    history: ibis.Table | None,
    activities: ibis.Table | None,
    *,
    as_of: date,
) -> ibis.Table:
    """One row per open deal created by ``as_of``, with what its health is scored from:
    ``stage_entered`` (first entry into its current stage), ``close_pushes`` (times the expected
    close moved later), ``max_amount`` (highest amount in the history), ``last_activity`` and
    ``activities`` (count), each null/0 when the table it comes from is not loaded."""
    import ibis

    cols = [c for c in SIGNAL_COLUMNS if c in deals.columns]
    d = deals.filter(deals.stage.isin(OPEN_STAGES) & (deals.created_date <= as_of)).select(cols)
    if history is not None:
        h = history.filter(history.entered_at.cast("date") <= as_of)
        w = ibis.window(group_by=h.deal_id, order_by=[h.entered_at, h.stage])
        prev = h.expected_close_date.lag().over(w)
        pushed = ibis.cases(
            (h.expected_close_date.notnull() & prev.notnull() & (h.expected_close_date > prev), 1),
            else_=0,
        )
        marked = h.mutate(_pushed=pushed)
        per_deal = marked.group_by("deal_id").aggregate(
            close_pushes=marked._pushed.sum(), max_amount=marked.amount.max()
        )
        cur = h.join(d.select("deal_id", _cur=d.stage), "deal_id")
        cur = cur.filter(cur.stage == cur._cur)
        entered = cur.group_by("deal_id").aggregate(stage_entered=cur.entered_at.cast("date").min())
        d = d.left_join(per_deal, "deal_id").select(d, per_deal.close_pushes, per_deal.max_amount)
        d = d.left_join(entered, "deal_id").select(d, entered.stage_entered)
    else:
        d = d.mutate(
            close_pushes=ibis.literal(None, "int64"),
            max_amount=ibis.literal(None, "float64"),
            stage_entered=ibis.literal(None, "date"),
        )
    if activities is not None:
        a = activities.filter(activities.activity_at.cast("date") <= as_of)
        acts = a.group_by("deal_id").aggregate(
            last_activity=a.activity_at.cast("date").max(), activities=a.activity_id.count()
        )
        d = d.left_join(acts, "deal_id").select(d, acts.last_activity, acts.activities)
    else:
        d = d.mutate(
            last_activity=ibis.literal(None, "date"), activities=ibis.literal(None, "int64")
        )
    return d


# -- polars: the day arithmetic and the score ----------------------------------------------------


def stage_medians(spells: pl.DataFrame) -> dict[str, float]:
    """Median days in each open stage over the spells that ended (``docs/pipeline.md``)."""
    if spells.height == 0:
        return {}
    done = spells.filter(pl.col("left").is_not_null() & pl.col("stage").is_in(OPEN_STAGES))
    done = done.with_columns(
        days=(pl.col("left").cast(pl.Date) - pl.col("entered").cast(pl.Date)).dt.total_days()
    )
    out = done.group_by("stage").agg(pl.col("days").median().alias("median"))
    return {r["stage"]: float(r["median"]) for r in out.iter_rows(named=True)}


def _days(later: date, earlier: Any) -> int | None:
    if earlier is None:
        return None
    if isinstance(earlier, datetime):
        earlier = earlier.date()
    return (later - earlier).days


def _money(value: float) -> str:
    return f"{value:,.0f}"


def health_of(
    row: dict[str, Any],
    *,
    as_of: date,
    medians: dict[str, float],
    config: DealHealthConfig,
    has_activities: bool,
    has_history: bool,
) -> DealHealth:
    """The health of one open deal from its :func:`deal_signals` row."""
    factors: list[Factor] = []

    def add(name: str, evidence: str) -> None:
        points = config.points(name)
        if points > 0:
            factors.append(Factor(name, points, evidence))

    stage = row["stage"]
    in_stage = _days(as_of, row.get("stage_entered") or row["created_date"])
    median = medians.get(stage)
    if in_stage is not None and median is not None and in_stage > config.stagnant_ratio * median:
        add(
            "stagnant",
            f"{in_stage} days in {stage}, over {config.stagnant_ratio:g} × its median of "
            f"{median:g} days",
        )
    if has_activities:
        idle = _days(as_of, row.get("last_activity") or row["created_date"])
        if idle is not None and idle >= config.no_activity_days:
            since = "last activity" if row.get("last_activity") else "created, no activity since"
            add("no_activity", f"no activity for {idle} days ({since})")
    if has_history:
        pushes = int(row.get("close_pushes") or 0)
        if pushes > 0:
            add("close_pushed", f"expected close date pushed later {pushes} time(s)")
        top = row.get("max_amount")
        if top is not None and row["amount"] is not None and row["amount"] < top - 1e-9:
            add("amount_reduced", f"amount cut from {_money(top)} to {_money(row['amount'])}")
    close = row.get("expected_close_date")
    late = _days(as_of, close)
    if late is not None and late > 0:
        add("past_expected_close", f"expected to close {close}, {late} days ago, still open")
    if row.get("has_champion") is False:
        add("no_champion", "no champion identified")
    if row.get("budget_confirmed") is False:
        add("budget_not_confirmed", "budget not confirmed")
    if row.get("decision_maker_engaged") is False:
        add("decision_maker_not_engaged", "decision maker not engaged")
    competitor = row.get("competitor")
    if competitor:
        add("competitor", f"competing with {competitor}")
    score = max(0.0, 100.0 - sum(f.points for f in factors))
    return DealHealth(str(row["deal_id"]), score, config.category(score), factors)


def score_deals(
    signals: pl.DataFrame,
    medians: dict[str, float],
    *,
    as_of: date,
    config: DealHealthConfig,
    has_activities: bool,
    has_history: bool,
) -> list[DealHealth]:
    """The health of every deal in ``signals`` (rows of :func:`deal_signals`)."""
    return [
        health_of(
            row,
            as_of=as_of,
            medians=medians,
            config=config,
            has_activities=has_activities,
            has_history=has_history,
        )
        for row in signals.iter_rows(named=True)
    ]


FLAG_FACTORS = (
    ("has_champion", "no_champion"),
    ("budget_confirmed", "budget_not_confirmed"),
    ("decision_maker_engaged", "decision_maker_not_engaged"),
)


def score_frame(
    signals: pl.DataFrame,
    medians: dict[str, float],
    *,
    as_of: date,
    config: DealHealthConfig,
    has_activities: bool,
    has_history: bool,
) -> pl.DataFrame:
    """:func:`health_of` for every row at once (vectorised: 1M deals in seconds), adding
    ``f_<factor>`` flags, ``health_score``, ``health_category`` and ``risk_factors`` (the names,
    comma-separated). A test checks both give the same scores."""
    cols = set(signals.columns)
    today = pl.lit(as_of, dtype=pl.Date)

    def days_since(column: pl.Expr) -> pl.Expr:
        return (today - column.cast(pl.Date)).dt.total_days()

    created = pl.col("created_date").cast(pl.Date)
    entered = pl.coalesce(pl.col("stage_entered").cast(pl.Date), created)
    median = pl.col("stage").replace_strict(medians, default=None, return_dtype=pl.Float64)
    conds: dict[str, pl.Expr] = {
        "stagnant": median.is_not_null() & (days_since(entered) > config.stagnant_ratio * median)
    }
    if has_activities:
        idle = days_since(pl.coalesce(pl.col("last_activity").cast(pl.Date), created))
        conds["no_activity"] = idle >= config.no_activity_days
    if has_history:
        conds["close_pushed"] = pl.col("close_pushes").fill_null(0) > 0
        conds["amount_reduced"] = pl.col("amount") < pl.col("max_amount") - 1e-9
    conds["past_expected_close"] = days_since(pl.col("expected_close_date")) > 0
    for flag, name in FLAG_FACTORS:
        if flag in cols:
            conds[name] = pl.col(flag) == False  # noqa: E712 (null = unknown: no points)
    if "competitor" in cols:
        conds["competitor"] = pl.col("competitor").fill_null("") != ""
    active = {n: c for n, c in conds.items() if config.points(n) > 0}
    out = signals.with_columns(
        [c.fill_null(False).alias(f"f_{n}") for n, c in active.items()]
        + [pl.lit(False).alias(f"f_{n}") for n in FACTORS if n not in active]
    )
    lost = pl.sum_horizontal(
        [pl.col(f"f_{n}").cast(pl.Float64) * config.points(n) for n in active] or [pl.lit(0.0)]
    )
    score = pl.max_horizontal(pl.lit(0.0), pl.lit(100.0) - lost)
    names = [pl.when(pl.col(f"f_{n}")).then(pl.lit(n)) for n in FACTORS if n in active]
    out = out.with_columns(health_score=score).with_columns(
        health_category=pl.when(pl.col("health_score") >= config.healthy_min)
        .then(pl.lit("healthy"))
        .when(pl.col("health_score") >= config.at_risk_min)
        .then(pl.lit("at risk"))
        .otherwise(pl.lit("critical")),
        risk_factors=pl.concat_list(names).list.drop_nulls().list.join(", ")
        if names
        else pl.lit(""),
    )
    return out


def alert_filter(config: DealHealthConfig, min_value: float) -> pl.Expr:
    """:func:`is_alert` on a :func:`score_frame`."""
    flagged = pl.any_horizontal([pl.col(f"f_{n}") for n in config.alert_factors] or [pl.lit(False)])
    return (pl.col("amount").fill_null(0.0) >= min_value) & (
        (pl.col("health_category") == "critical") | flagged
    )


def is_alert(health: DealHealth, amount: float, config: DealHealthConfig, min_value: float) -> bool:
    """At-risk alert (``docs/pipeline.md``): amount ≥ ``min_value`` and critical, or carrying
    one of ``config.alert_factors``."""
    if amount < min_value:
        return False
    return health.category == "critical" or any(
        f.name in config.alert_factors for f in health.factors
    )


def risk_value(health: DealHealth, amount: float) -> float:
    """Ranking of alerts: amount × risk, risk = (100 − score) / 100."""
    return amount * (100.0 - health.score) / 100.0
