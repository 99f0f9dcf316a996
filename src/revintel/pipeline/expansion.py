"""Expansion opportunity score per customer, and its backtest (``docs/pipeline.md``,
Expansion opportunity).

Two layers, as elsewhere:

* Ibis expressions over the warehouse (they run on DuckDB, PostgreSQL and PySpark):
  :func:`plan_ranks` (the highest plan a customer holds at each month's end),
  :func:`user_growth` (active users ``lookback`` months before) and :func:`expansion_outcomes`
  (whether MRR rose within the next ``horizon`` months, and by how much).
* Pure polars / numpy: :func:`score_signals` (six signals, each 0–1, weighted into a 0–100 score
  whose points per signal add up to it), :func:`backtest` (top decile's expansion rate against the
  base rate = lift, with a bootstrap interval and the ROC AUC) and :func:`reasons_of`.

The health score and the usage and NPS inputs come from the health capability, MRR from the
metrics capability, both through :mod:`revintel.pipeline.ports`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from revintel.core.calendar import month_last_day, month_of_text
from revintel.core.errors import NoDataError

if TYPE_CHECKING:
    import ibis

    from revintel.pipeline.config import ExpansionConfig

SIGNALS: tuple[str, ...] = (
    "seat_utilisation",
    "usage_growth",
    "feature_adoption",
    "plan_headroom",
    "health",
    "nps",
)
SIGNAL_LABELS: dict[str, str] = {
    "seat_utilisation": "Seat utilisation",
    "usage_growth": "Usage growth",
    "feature_adoption": "Feature adoption",
    "plan_headroom": "Plan headroom",
    "health": "Health",
    "nps": "NPS",
}
PLAN_ORDER: tuple[str, ...] = ("Basic", "Pro", "Enterprise")
"""Plans from the lowest to the highest (``data/schema.py``, ``PLANS``)."""
GROWTH_LOOKBACK_MONTHS = 3
EXPANSION_TOLERANCE = 0.01
"""MRR must rise by more than 1% to count as an expansion (a rounding cent is not one)."""
DECILES = 10
BOOTSTRAP_SAMPLES = 400


class MissingAccountData(NoDataError):
    """Expansion scoring needs a table that is not loaded."""


# -- inputs (Ibis) --------------------------------------------------------------------------------
def _month_ends(lo: int, hi: int) -> ibis.Table:
    import ibis

    numbers = list(range(lo, hi + 1))
    return ibis.memtable(
        {"month_idx": numbers, "month_end": [month_last_day(n) for n in numbers]},
        schema={"month_idx": "int64", "month_end": "date"},
    )


def plan_ranks(subscriptions: ibis.Table, lo: int, hi: int) -> ibis.Table:
    """``account_id``, ``month_idx``, ``plan_rank``, ``seats``: the highest plan (0 = Basic … 2 =
    Enterprise) among the customer's subscriptions active at the end of each month ``lo``..``hi``
    (active: started on or before the month's end and not ended by it, as for MRR) and their
    licensed seats (null without the optional ``seats`` column)."""
    import ibis

    spine = _month_ends(lo, hi)
    start = subscriptions.start_date.cast("date")
    end = subscriptions.end_date.cast("date")
    active = subscriptions.join(
        spine, (start <= spine.month_end) & (end.isnull() | (end > spine.month_end))
    )
    rank = ibis.cases(*[(active.plan_type == p, i) for i, p in enumerate(PLAN_ORDER)], else_=None)
    seats = (
        active.seats.cast("int64").sum()
        if "seats" in subscriptions.columns
        else ibis.null("int64").max()
    )
    return active.group_by(account_id=active.customer_id, month_idx=active.month_idx).aggregate(
        plan_rank=rank.max(), seats=seats
    )


def user_growth(usage: ibis.Table, lo: int, hi: int, lookback: int = GROWTH_LOOKBACK_MONTHS):
    """``account_id``, ``month_idx``, ``users_before``: active users in month M − ``lookback``
    for every usage row of months ``lo``..``hi`` (null when that month has no usage row)."""
    rows = usage.mutate(month_idx=month_of_text(usage.month))
    rows = rows.filter((rows.month_idx >= lo - lookback) & (rows.month_idx <= hi))
    current = rows.filter(rows.month_idx >= lo).select("account_id", "month_idx")
    prior = rows.select(_a="account_id", _m="month_idx", users_before="active_users")
    joined = current.left_join(
        prior,
        [current.account_id == prior._a, prior._m == current.month_idx - lookback],
    )
    return joined.select("account_id", "month_idx", "users_before")


def expansion_outcomes(
    mrr: ibis.Table, holdings: ibis.Table | None, lo: int, hi: int, horizon: int
) -> ibis.Table:
    """Per customer paying in month M (``lo``..``hi``): ``account_id``, ``month_idx``, ``mrr``,
    ``future_mrr`` (the highest MRR in months M+1..M+``horizon``, null if it paid in none),
    ``expanded`` and ``expansion_mrr`` (``future_mrr`` − MRR when expanded, else 0).

    Expanded (``docs/pipeline.md``, Expansion backtest) = 1 when ``future_mrr`` > MRR × (1 +
    :data:`EXPANSION_TOLERANCE`) and, when ``holdings`` (:func:`plan_ranks`) is given, the
    customer also held more seats or a higher plan in one of those months than in M: an upsell
    or cross-sell, not a list-price rise or a discount ending. Without seat data, a higher plan
    or (no plan either) the MRR rise alone counts.

    ``mrr`` has ``customer_id``, ``month`` (``YYYY-MM``) and ``mrr`` for months with MRR > 0 up to
    ``hi`` + ``horizon`` at least; ``holdings`` covers the same months.
    """
    import ibis

    m = mrr.mutate(month_idx=month_of_text(mrr.month), mrr=mrr.mrr.cast("float64"))
    m = m.select(account_id=m.customer_id, month_idx=m.month_idx, mrr=m.mrr)
    if holdings is not None:
        h = holdings.select(_ha="account_id", _hm="month_idx", plan_rank="plan_rank", seats="seats")
        m = m.left_join(h, [m.account_id == h._ha, m.month_idx == h._hm]).select(
            "account_id", "month_idx", "mrr", "plan_rank", "seats"
        )
    else:
        m = m.mutate(plan_rank=ibis.null("int64"), seats=ibis.null("int64"))
    current = m.filter((m.month_idx >= lo) & (m.month_idx <= hi))
    future = m.select(_c="account_id", _m="month_idx", _mrr="mrr", _p="plan_rank", _s="seats")
    joined = current.left_join(
        future,
        [
            current.account_id == future._c,
            future._m > current.month_idx,
            future._m <= current.month_idx + horizon,
        ],
    )
    agg = joined.group_by(
        account_id=joined.account_id,
        month_idx=joined.month_idx,
        mrr=joined.mrr,
        plan_rank=joined.plan_rank,
        seats=joined.seats,
    ).aggregate(
        future_mrr=joined._mrr.max(), future_plan=joined._p.max(), future_seats=joined._s.max()
    )
    grew = agg.future_mrr.notnull() & (agg.future_mrr > agg.mrr * (1.0 + EXPANSION_TOLERANCE))
    more_seats = agg.seats.notnull() & (agg.future_seats > agg.seats)
    higher_plan = agg.plan_rank.notnull() & (agg.future_plan > agg.plan_rank)
    bought = ibis.cases(
        (agg.seats.notnull(), more_seats | higher_plan),
        (agg.plan_rank.notnull(), higher_plan),
        else_=True,
    )
    up = grew & bought.fill_null(False)
    return agg.select(
        "account_id",
        "month_idx",
        "mrr",
        "future_mrr",
        expanded=ibis.cases((up, 1), else_=0),
        expansion_mrr=ibis.cases((up, agg.future_mrr - agg.mrr), else_=0.0),
    )


# -- the score (pure) -----------------------------------------------------------------------------
def weights_of(config: ExpansionConfig) -> dict[str, float]:
    return {s: float(getattr(config, f"weight_{s}")) for s in SIGNALS}


def _clip01(expr: pl.Expr) -> pl.Expr:
    """``expr`` clipped to 0–1; null (a missing signal) stays null."""
    return expr.clip(0.0, 1.0)


def score_signals(frame: pl.DataFrame, config: ExpansionConfig) -> pl.DataFrame:
    """Add the raw signals, their 0–1 levels (``level_<signal>``), the points each adds
    (``points_<signal>``) and ``expansion_score`` (0–100, their sum).

    ``frame`` has ``active_users``, ``licensed_seats``, ``users_before``,
    ``key_feature_adoption``, ``plan_rank``, ``health_score`` and ``nps_score`` (any may be
    null). Levels (``docs/pipeline.md``, Expansion opportunity):

    * seat utilisation u = active users ÷ licensed seats: (u − floor) ÷ (full − floor), clipped;
    * usage growth g = active users ÷ active users 3 months before − 1: g ÷ growth_full, clipped;
    * feature adoption a: (a − floor) ÷ (full − floor), clipped;
    * plan headroom: plans above the current one ÷ plans above the lowest (Basic 1, Pro 0.5,
      Enterprise 0);
    * health: health score ÷ 100;
    * NPS n: (n − nps_floor) ÷ (10 − nps_floor), clipped.

    score = 100 × Σ weight × level ÷ Σ weight over the signals the account has (a missing signal
    is left out and the others renormalised); ``points_<signal>`` = 100 × weight × level ÷ that
    same sum, so the points add up to the score.
    """
    c = config
    seats = pl.col("licensed_seats").cast(pl.Float64)
    users = pl.col("active_users").cast(pl.Float64)
    before = pl.col("users_before").cast(pl.Float64)
    top = float(len(PLAN_ORDER) - 1)
    out = frame.with_columns(
        seat_utilisation=pl.when(seats > 0).then(users / seats).otherwise(None),
        usage_growth=pl.when(before > 0).then(users / before - 1.0).otherwise(None),
        feature_adoption=pl.col("key_feature_adoption").cast(pl.Float64),
        plan_headroom=(top - pl.col("plan_rank").cast(pl.Float64)) / top,
        health=pl.col("health_score").cast(pl.Float64),
        nps=pl.col("nps_score").cast(pl.Float64),
    )
    span_u = c.utilisation_full - c.utilisation_floor
    span_a = c.adoption_full - c.adoption_floor
    out = out.with_columns(
        level_seat_utilisation=_clip01((pl.col("seat_utilisation") - c.utilisation_floor) / span_u),
        level_usage_growth=_clip01(pl.col("usage_growth") / c.growth_full),
        level_feature_adoption=_clip01((pl.col("feature_adoption") - c.adoption_floor) / span_a),
        level_plan_headroom=_clip01(pl.col("plan_headroom")),
        level_health=_clip01(pl.col("health") / 100.0),
        level_nps=_clip01((pl.col("nps") - c.nps_floor) / (10.0 - c.nps_floor)),
    )
    weights = {s: w for s, w in weights_of(config).items() if w > 0}
    den = pl.sum_horizontal(
        [pl.col(f"level_{s}").is_not_null().cast(pl.Float64) * w for s, w in weights.items()]
    )
    points = [
        pl.when(den > 0)
        .then(100.0 * pl.col(f"level_{s}") * weights.get(s, 0.0) / den)
        .otherwise(None)
        .alias(f"points_{s}")
        for s in SIGNALS
    ]
    out = out.with_columns(points)
    total = pl.sum_horizontal([pl.col(f"points_{s}").fill_null(0.0) for s in SIGNALS])
    return out.with_columns(
        expansion_score=pl.when(den > 0).then(total.round(1)).otherwise(None),
        signals_used=pl.sum_horizontal(
            [pl.col(f"level_{s}").is_not_null().cast(pl.Int64) for s in weights]
        ),
    )


def with_deciles(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``decile`` (1 = the highest scores) within each ``month_idx``, over scored rows.

    Rows are ranked by score, ties broken by ``account_id`` so the split is reproducible; decile
    = ⌈rank × 10 ÷ accounts scored that month⌉.
    """
    scored = frame.filter(pl.col("expansion_score").is_not_null())
    scored = scored.sort(
        ["month_idx", "expansion_score", "account_id"], descending=[False, True, False]
    )
    scored = scored.with_columns(
        _rank=pl.int_range(1, pl.len() + 1).over("month_idx"),
        _n=pl.len().over("month_idx"),
    )
    return scored.with_columns(
        decile=((pl.col("_rank") * DECILES + pl.col("_n") - 1) // pl.col("_n")).cast(pl.Int64)
    ).drop("_rank", "_n")


# -- the backtest (pure) --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DecileRow:
    """One score decile over every backtest month: how often and by how much its accounts grew."""

    decile: int
    accounts: int
    """Account-months in the decile."""
    expansion_rate: float
    """Share that expanded in the following months."""
    mean_score: float
    uplift_ratio: float
    """Mean of expansion ARR ÷ ARR (0 for those that did not expand): the expected expansion ARR
    per unit of ARR of an account in this decile."""


@dataclass(frozen=True, slots=True)
class ExpansionBacktest:
    """The score's backtest over history (``docs/pipeline.md``, Expansion backtest)."""

    first_month: str
    last_month: str
    months: int
    horizon_months: int
    account_months: int
    base_rate: float
    top_decile_rate: float
    lift: float | None
    lift_ci_low: float | None
    lift_ci_high: float | None
    roc_auc: float | None
    signal_auc: dict[str, float | None]
    """Each signal's own ROC AUC against expansion, over the rows that have it (0.5: no
    information; below 0.5: it ranks the wrong way on this data)."""
    deciles: list[DecileRow]
    fitted: FittedComparison | None = None
    """The rule against weights fitted on the earlier months, both on the later months."""

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        out["deciles"] = [{k: getattr(d, k) for k in DecileRow.__slots__} for d in self.deciles]
        out["fitted"] = None if self.fitted is None else self.fitted.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class FittedComparison:
    """A logistic regression of expansion on the six signal levels, fitted on the earlier
    backtest months, against the rule, both measured on the later (held-out) months
    (``docs/pipeline.md``, Expansion opportunity)."""

    first_holdout_month: str
    train_account_months: int
    holdout_account_months: int
    rule_lift: float | None
    fitted_lift: float | None
    rule_auc: float | None
    fitted_auc: float | None
    coefficients: dict[str, float]
    """Log-odds per unit of each level (0–1)."""
    suggested_weights: dict[str, float]
    """The positive coefficients, scaled to sum to 1 (a negative one gets weight 0)."""

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def roc_auc(score: np.ndarray, label: np.ndarray) -> float | None:
    """Mann–Whitney ROC AUC (ties count half); None when one class is absent."""
    pos, neg = int(label.sum()), int(len(label) - label.sum())
    if pos == 0 or neg == 0:
        return None
    ranks = pl.Series(score).rank("average").to_numpy()
    return float((ranks[label == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _signal_auc(rows: pl.DataFrame, signal: str) -> float | None:
    have = rows.filter(pl.col(signal).is_not_null() & pl.col(signal).is_not_nan())
    if have.is_empty():
        return None
    value = roc_auc(have[signal].to_numpy(), have["expanded"].to_numpy().astype(np.int64))
    return None if value is None else round(value, 4)


def _lift_interval(
    frame: pl.DataFrame, samples: int, seed: int = 0
) -> tuple[float | None, float | None]:
    """95% percentile interval of the lift, resampling accounts (all their months together,
    since one account's months are not independent)."""
    per = (
        frame.group_by("account_id")
        .agg(
            n=pl.len(),
            e=pl.col("expanded").sum(),
            t=(pl.col("decile") == 1).sum(),
            te=((pl.col("decile") == 1) & (pl.col("expanded") == 1)).sum(),
        )
        .sort("account_id")
    )
    k = per.height
    if k < 2:
        return None, None
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(k, np.full(k, 1.0 / k), size=samples).astype(np.float64)
    cols = {c: per[c].to_numpy().astype(np.float64) for c in ("n", "e", "t", "te")}
    n, e, t, te = (counts @ cols[c] for c in ("n", "e", "t", "te"))
    with np.errstate(divide="ignore", invalid="ignore"):
        lifts = (te / t) / (e / n)
    lifts = lifts[np.isfinite(lifts)]
    if len(lifts) < samples // 2:
        return None, None
    return float(np.quantile(lifts, 0.025)), float(np.quantile(lifts, 0.975))


def backtest(
    frame: pl.DataFrame, horizon_months: int, samples: int = BOOTSTRAP_SAMPLES
) -> ExpansionBacktest:
    """Lift of the top decile: ``frame`` has one row per account and month with
    ``expansion_score``, ``decile`` (:func:`with_deciles`), ``expanded``, ``expansion_mrr``,
    ``arr``, ``month`` and ``month_idx``, for the months whose following ``horizon_months`` the data
    covers.

    base rate = expanded account-months ÷ account-months; top-decile rate = the same over decile
    1; lift = top-decile rate ÷ base rate. :class:`MissingAccountData` when no row is left.
    """
    rows = frame.filter(pl.col("expansion_score").is_not_null() & pl.col("expanded").is_not_null())
    if rows.is_empty():
        raise MissingAccountData(
            f"the expansion backtest needs accounts scored in months followed by {horizon_months} "
            "months of MRR data; none are"
        )
    base = float(rows["expanded"].mean())  # type: ignore[arg-type]
    top = rows.filter(pl.col("decile") == 1)
    top_rate = float(top["expanded"].mean()) if top.height else 0.0  # type: ignore[arg-type]
    lift = top_rate / base if base > 0 else None
    low, high = _lift_interval(rows, samples) if lift is not None else (None, None)
    arr = pl.col("arr").cast(pl.Float64)
    ratio = pl.when(arr > 0).then(pl.col("expansion_mrr") * 12.0 / arr).otherwise(0.0)
    by = (
        rows.group_by("decile")
        .agg(
            accounts=pl.len(),
            expansion_rate=pl.col("expanded").mean(),
            mean_score=pl.col("expansion_score").mean(),
            uplift_ratio=ratio.mean(),
        )
        .sort("decile")
    )
    months = rows.select("month_idx", "month").unique().sort("month_idx")
    return ExpansionBacktest(
        first_month=months["month"][0],
        last_month=months["month"][-1],
        months=months.height,
        horizon_months=horizon_months,
        account_months=rows.height,
        base_rate=base,
        top_decile_rate=top_rate,
        lift=lift,
        lift_ci_low=low,
        lift_ci_high=high,
        roc_auc=roc_auc(
            rows["expansion_score"].to_numpy(), rows["expanded"].to_numpy().astype(np.int64)
        ),
        signal_auc={s: _signal_auc(rows, s) for s in SIGNALS if s in rows.columns},
        deciles=[
            DecileRow(
                decile=int(r["decile"]),
                accounts=int(r["accounts"]),
                expansion_rate=float(r["expansion_rate"]),
                mean_score=float(r["mean_score"]),
                uplift_ratio=float(r["uplift_ratio"]),
            )
            for r in by.iter_rows(named=True)
        ],
    )


TRAIN_SHARE = 2 / 3
"""Share of the backtest months (the earliest) the comparison's regression is fitted on."""


def _top_lift(frame: pl.DataFrame, score: str) -> tuple[float | None, float | None]:
    """Lift of the top decile by ``score`` (deciles within each month) and its ROC AUC."""
    ranked = with_deciles(frame.with_columns(pl.col(score).alias("expansion_score")))
    base = float(ranked["expanded"].mean())  # type: ignore[arg-type]
    top = ranked.filter(pl.col("decile") == 1)["expanded"]
    lift = float(top.mean()) / base if base > 0 and top.len() else None  # type: ignore[arg-type]
    auc = roc_auc(ranked[score].to_numpy(), ranked["expanded"].to_numpy().astype(np.int64))
    return lift, auc


def compare_fitted(rows: pl.DataFrame, train_share: float = TRAIN_SHARE) -> FittedComparison | None:
    """Fit expansion on the signal levels over the earliest ``train_share`` of the months of
    ``rows`` (scored, with ``expanded``) and compare its top-decile lift with the rule's on the
    remaining months; None with fewer than 3 months or one class missing in either part."""
    from sklearn.linear_model import LogisticRegression

    rows = rows.filter(pl.col("expansion_score").is_not_null() & pl.col("expanded").is_not_null())
    months = sorted(rows["month_idx"].unique().to_list())
    if len(months) < 3:
        return None
    cut = months[max(1, int(len(months) * train_share))]
    train = rows.filter(pl.col("month_idx") < cut)
    test = rows.filter(pl.col("month_idx") >= cut)
    if train["expanded"].n_unique() < 2 or test["expanded"].n_unique() < 2:
        return None
    levels = [f"level_{s}" for s in SIGNALS]
    means = {c: train[c].mean() for c in levels}
    fill = [
        pl.col(c).fill_nan(None).fill_null(means[c] if means[c] is not None else 0.5)
        for c in levels
    ]
    x_train = train.select(fill).to_numpy()
    x_test = test.select(fill).to_numpy()
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x_train, train["expanded"].to_numpy())
    test = test.with_columns(_fitted=pl.Series(model.predict_proba(x_test)[:, 1]))
    rule_lift, rule_auc = _top_lift(test, "expansion_score")
    fitted_lift, fitted_auc = _top_lift(test, "_fitted")
    coef = {s: round(float(c), 4) for s, c in zip(SIGNALS, model.coef_[0], strict=True)}
    positive = {s: max(c, 0.0) for s, c in coef.items()}
    total = sum(positive.values())
    suggested = {s: round(c / total, 3) if total > 0 else 0.0 for s, c in positive.items()}
    label = test.filter(pl.col("month_idx") == cut)["month"][0]
    return FittedComparison(
        first_holdout_month=label,
        train_account_months=train.height,
        holdout_account_months=test.height,
        rule_lift=rule_lift,
        fitted_lift=fitted_lift,
        rule_auc=rule_auc,
        fitted_auc=fitted_auc,
        coefficients=coef,
        suggested_weights=suggested,
    )


# -- reasons (pure) -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reason:
    """One signal behind a score: its points (of the 0–100 score) and the evidence."""

    signal: str
    points: float
    evidence: str


def _evidence(signal: str, row: dict[str, Any]) -> str:
    if signal == "seat_utilisation":
        return (
            f"{row['active_users']} of {row['licensed_seats']} licensed seats in use "
            f"({row['seat_utilisation']:.0%})"
        )
    if signal == "usage_growth":
        return (
            f"active users {row['usage_growth']:+.0%} in {GROWTH_LOOKBACK_MONTHS} months "
            f"({row['users_before']} → {row['active_users']})"
        )
    if signal == "feature_adoption":
        return f"{row['feature_adoption']:.0%} of key features adopted"
    if signal == "plan_headroom":
        rank = int(row["plan_rank"])
        above = len(PLAN_ORDER) - 1 - rank
        return f"on the {PLAN_ORDER[rank]} plan, {above} plan{'s' if above != 1 else ''} above it"
    if signal == "health":
        return f"health score {row['health']:.0f} of 100"
    return f"latest NPS answer {row['nps']:.0f} of 10"


def reasons_of(row: dict[str, Any], reason_min: float) -> list[Reason]:
    """The signals at or above ``reason_min`` (0–1), most points first, with their evidence."""
    found = []
    for s in SIGNALS:
        level, points = row.get(f"level_{s}"), row.get(f"points_{s}")
        if level is None or points is None or (isinstance(level, float) and math.isnan(level)):
            continue
        if level >= reason_min and points > 0:
            found.append(Reason(SIGNAL_LABELS[s], round(float(points), 1), _evidence(s, row)))
    return sorted(found, key=lambda r: -r.points)
