"""Portfolio churn risk over time: MRR-weighted risk by month, expected churn next quarter with an
interval, its backtest on past quarters, risk by signup cohort, the customers whose risk rose most
and feature drift by month (docs/retention.md, Risk trends).

Risk history is a **backcast**: the ``predictions`` table keeps only the months of the latest
scoring run, so every month of the window is scored again with the production churn model on that
month's point-in-time features (:func:`revintel.churn.service.feature_frame`: features at a cut-off
use data up to its month end only). A month's figure therefore reads "scored with model vX at each
month's data"; it is not what was shown at the time. The scores are cached per data snapshot and
model version.

Tiers use one set of cut-offs for every month: those of the latest month's customers under the
churn settings' tiers (``quantile`` tiers recomputed each month would put the same share in High
every month by construction).

Expected churn over a quarter is the sum of the customers' 3-month churn probabilities (a 1-month
model's ``p`` becomes ``1 − (1 − p)³``, a constant-hazard assumption). The number who churn is a
sum of independent Bernoulli draws: a Poisson-binomial variable whose distribution is computed
exactly (dynamic programming, up to :data:`EXACT_LIMIT` customers; the normal approximation with
variance Σp(1−p) beyond). Churned MRR uses the normal approximation with variance Σ mrr²·p(1−p).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from revintel.churn import features as F
from revintel.churn import service as churn
from revintel.churn.config import load_config as load_churn_config
from revintel.churn.drift import drift_report
from revintel.churn.explain import explain_many
from revintel.churn.service.common import factor_label, tier_cutoffs, tiers_of
from revintel.churn.service.models import load_model
from revintel.core.calendar import month_label
from revintel.core.errors import InvalidOption, NoDataError
from revintel.core.runtime import Runtime
from revintel.core.vocabulary import RISK_TIERS
from revintel.warehouse.cache import SnapshotCache

__all__ = [
    "EXACT_LIMIT",
    "CalibrationPoint",
    "CohortRisk",
    "ExpectedChurn",
    "FeatureDriftTrend",
    "PortfolioMonth",
    "RiskHistory",
    "RiskRiser",
    "RiskTrends",
    "cohort_risk",
    "expected_churn",
    "feature_drift",
    "poisson_binomial_pmf",
    "portfolio_series",
    "quarter_probability",
    "risk_history",
    "risk_risers",
    "risk_trends",
]

EXACT_LIMIT = 20_000
"""Most customers whose churned count is computed exactly (O(n²) steps); the normal
approximation beyond."""
QUARTER = 3
MAX_MONTHS = 60

RISK_HISTORIES: SnapshotCache[RiskHistory] = SnapshotCache("retention.risk_history", size=4)


class InvalidTrendRequest(InvalidOption):
    """A risk-trends option out of range (``months``, ``limit``, ``level``, ``by``)."""


# -- the scored history ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskHistory:
    """Every customer at risk at each month of the window, scored with one model.

    ``frame``: account_id, cutoff (month number), month (YYYY-MM), mrr, p (the model's
    probability), p_quarter (3-month probability), risk_tier, churned_quarter (the realised
    3-month outcome; null while unknown).
    """

    version: str
    horizon_months: int
    months: list[str]
    frame: pl.DataFrame
    features: pl.DataFrame
    """The scored rows' model features (same order as ``frame``), for drift and explanations."""
    cutoffs: dict[str, float]
    source: str
    training: tuple[str | None, str | None] = (None, None)


def quarter_probability(p: np.ndarray | pl.Series, horizon_months: int) -> np.ndarray:
    """A ``horizon_months`` churn probability as a 3-month one under a constant hazard:
    ``1 − (1 − p)^(3 / h)`` (the identity for a 3-month model)."""
    values = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    if horizon_months == QUARTER:
        return values
    return 1.0 - (1.0 - values) ** (QUARTER / horizon_months)


def _check_months(months: int) -> None:
    if not 2 <= months <= MAX_MONTHS:
        raise InvalidTrendRequest(f"months: expected 2 to {MAX_MONTHS}, got {months}")


def risk_history(rt: Runtime, months: int = 12) -> RiskHistory:
    """The last ``months`` months (plus one before, for the risers) scored with the production
    model (a backcast, cached per data snapshot and model version)."""
    _check_months(months)
    record = churn.resolve_model(rt)
    if record.kind != "warehouse":  # pragma: no cover - resolve_model asks for a warehouse model
        raise NoDataError(f"{record.version} was trained on a file, not the loaded data")

    def compute() -> RiskHistory:
        mdl = load_model(rt, record.version)
        panel, frame = churn.feature_frame(rt)
        last = panel.last_month
        cutoffs = list(range(max(panel.first_month, last - months), last + 1))
        rows = frame.filter(pl.col("cutoff").is_in(cutoffs))
        if rows.is_empty():
            raise NoDataError("No customer has MRR in the last months: nothing to score")
        p = mdl.predict_proba(rows)
        horizon = int(record.horizon_months or QUARTER)
        latest = rows["cutoff"].to_numpy() == last
        cfg = load_churn_config(rt.settings)
        cut = tier_cutoffs(cfg, p[latest])
        quarter_label = f"churned_{QUARTER}m"
        scored = rows.select(
            "account_id",
            "cutoff",
            pl.col("mrr").fill_null(0.0),
            pl.col(quarter_label).alias("churned_quarter")
            if quarter_label in rows.columns
            else pl.lit(None, pl.Int64).alias("churned_quarter"),
        ).with_columns(
            month=pl.col("cutoff").map_elements(month_label, return_dtype=pl.String),
            p=pl.Series(p),
            p_quarter=pl.Series(quarter_probability(p, horizon)),
            risk_tier=tiers_of(p, cfg, p[latest]),
        )
        shown = [c for c in range(max(panel.first_month, last - months + 1), last + 1)]
        return RiskHistory(
            version=record.version,
            horizon_months=horizon,
            months=[month_label(c) for c in shown],
            frame=scored,
            features=rows.select(mdl.feature_names),
            cutoffs=cut.as_dict(),
            source=f"backcast: scored with model {record.version} at each month's data",
            training=(record.training_from, record.training_to),
        )

    return RISK_HISTORIES.get(rt.warehouse, (record.version, months), compute)


# -- portfolio series ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortfolioMonth:
    """One month end: the customers at risk, their risk weighted by MRR, the tiers."""

    month: str
    customers: int
    mrr: float
    mrr_weighted_risk: float
    """Σ mrr·p ÷ Σ mrr over the customers with MRR at the month end (the model's horizon)."""
    average_risk: float
    tier_counts: dict[str, int]
    tier_mrr: dict[str, float]
    expected_churned: float
    """Σ of the 3-month probabilities: customers expected to churn in the next quarter."""
    expected_churned_mrr: float


def portfolio_series(frame: pl.DataFrame, months: list[str] | None = None) -> list[PortfolioMonth]:
    """Per month of ``frame`` (columns month, mrr, p, p_quarter, risk_tier): the MRR-weighted
    average risk, counts and MRR by tier, expected churned customers and MRR over a quarter.
    ``months`` restricts and orders the months (default every month of the frame)."""
    wanted = months if months is not None else sorted(frame["month"].unique().to_list())
    grouped = (
        frame.filter(pl.col("month").is_in(wanted))
        .group_by("month")
        .agg(
            customers=pl.len(),
            mrr=pl.col("mrr").sum(),
            weighted=(pl.col("mrr") * pl.col("p")).sum(),
            average=pl.col("p").mean(),
            expected=pl.col("p_quarter").sum(),
            expected_mrr=(pl.col("mrr") * pl.col("p_quarter")).sum(),
            **{
                f"n_{tier}": (pl.col("risk_tier") == tier).sum().cast(pl.Int64)
                for tier in RISK_TIERS
            },
            **{
                f"m_{tier}": pl.col("mrr").filter(pl.col("risk_tier") == tier).sum()
                for tier in RISK_TIERS
            },
        )
    )
    by_month = {row["month"]: row for row in grouped.iter_rows(named=True)}
    out = []
    for month in wanted:
        row = by_month.get(month)
        if row is None:
            continue
        mrr = float(row["mrr"])
        out.append(
            PortfolioMonth(
                month=month,
                customers=int(row["customers"]),
                mrr=mrr,
                mrr_weighted_risk=float(row["weighted"]) / mrr if mrr > 0 else float("nan"),
                average_risk=float(row["average"]),
                tier_counts={tier: int(row[f"n_{tier}"]) for tier in RISK_TIERS},
                tier_mrr={tier: float(row[f"m_{tier}"] or 0.0) for tier in RISK_TIERS},
                expected_churned=float(row["expected"]),
                expected_churned_mrr=float(row["expected_mrr"]),
            )
        )
    return out


# -- expected churn and its interval ---------------------------------------------------------------


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """P(K = k), k = 0..n, of K = Σ Bernoulli(p_i) (independent), by the exact recursion
    P_i(k) = P_{i−1}(k)(1 − p_i) + P_{i−1}(k − 1) p_i (O(n²), numerically stable)."""
    probs = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    pmf = np.zeros(len(probs) + 1)
    pmf[0] = 1.0
    for i, pi in enumerate(probs, start=1):
        pmf[1 : i + 1] = pmf[1 : i + 1] * (1.0 - pi) + pmf[0:i] * pi
        pmf[0] *= 1.0 - pi
    return pmf


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2.0)


def count_interval(p: np.ndarray, level: float = 0.9) -> tuple[float, float, str]:
    """The central ``level`` interval of Σ Bernoulli(p_i): exact quantiles of the
    Poisson-binomial distribution up to :data:`EXACT_LIMIT` customers, else the normal
    approximation (mean ± z·√Σp(1−p), rounded outward, clipped to 0..n)."""
    probs = np.asarray(p, dtype=float)
    n = len(probs)
    if n == 0:
        return 0.0, 0.0, "exact"
    tail = (1.0 - level) / 2.0
    if n <= EXACT_LIMIT:
        cdf = np.cumsum(poisson_binomial_pmf(probs))
        lo = int(np.searchsorted(cdf, tail - 1e-12))
        hi = int(np.searchsorted(cdf, 1.0 - tail - 1e-12))
        return float(lo), float(min(hi, n)), "exact"
    mean = probs.sum()
    sd = math.sqrt(float((probs * (1 - probs)).sum()))
    z = _z(level)
    return (
        float(max(0, math.floor(mean - z * sd))),
        float(min(n, math.ceil(mean + z * sd))),
        "normal",
    )


def mrr_interval(p: np.ndarray, mrr: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    """The ``level`` interval of churned MRR Σ mrr_i·B_i by the normal approximation:
    Σ mrr·p ± z·√(Σ mrr²·p(1−p)), clipped at 0 and at the total MRR."""
    probs = np.asarray(p, dtype=float)
    values = np.asarray(mrr, dtype=float)
    mean = float((values * probs).sum())
    sd = math.sqrt(float((values**2 * probs * (1 - probs)).sum()))
    z = _z(level)
    return max(0.0, mean - z * sd), min(float(values.sum()), mean + z * sd)


@dataclass(frozen=True)
class ExpectedChurn:
    """Customers and MRR expected to churn in the next quarter, with ``level`` intervals."""

    as_of: str
    """The month end the customers are scored at; the quarter is the 3 months after it."""
    quarter: str
    """The months predicted, ``YYYY-MM..YYYY-MM``."""
    customers: int
    mrr: float
    expected_customers: float
    customers_low: float
    customers_high: float
    expected_mrr: float
    mrr_low: float
    mrr_high: float
    level: float
    count_method: str
    """``exact`` (Poisson-binomial by dynamic programming) or ``normal``."""
    mrr_method: str = "normal"
    horizon_conversion: str = ""


def expected_churn(
    frame: pl.DataFrame, month: str, horizon_months: int, level: float = 0.9
) -> ExpectedChurn:
    """Expected churn in the 3 months after ``month`` from its rows of ``frame`` (columns month,
    mrr, p_quarter)."""
    rows = frame.filter(pl.col("month") == month)
    p = rows["p_quarter"].to_numpy()
    mrr = rows["mrr"].to_numpy()
    lo, hi, method = count_interval(p, level)
    mlo, mhi = mrr_interval(p, mrr, level)
    year, mon = (int(x) for x in month.split("-"))
    index = year * 12 + mon - 1
    quarter = f"{month_label(index + 1)}..{month_label(index + QUARTER)}"
    return ExpectedChurn(
        as_of=month,
        quarter=quarter,
        customers=rows.height,
        mrr=float(mrr.sum()),
        expected_customers=float(p.sum()),
        customers_low=lo,
        customers_high=hi,
        expected_mrr=float((mrr * p).sum()),
        mrr_low=mlo,
        mrr_high=mhi,
        level=level,
        count_method=method,
        horizon_conversion=(
            "3-month model: p as scored"
            if horizon_months == QUARTER
            else f"{horizon_months}-month model: 1 − (1 − p)^{QUARTER / horizon_months:g}"
        ),
    )


@dataclass(frozen=True)
class CalibrationPoint:
    """A past month whose next quarter is known: expected against realised churn."""

    month: str
    customers: int
    expected: float
    low: float
    high: float
    actual: int
    expected_mrr: float
    actual_mrr: float
    inside: bool
    """Whether the realised count lies in the interval."""
    in_training: bool = False
    """Whether the month's outcomes were among the model's training rows (in-sample)."""


def calibration(
    frame: pl.DataFrame,
    months: list[str],
    level: float = 0.9,
    training: tuple[str | None, str | None] = (None, None),
) -> list[CalibrationPoint]:
    """The backtest: for each month whose 3-month outcome is known for every customer, the
    expected churned count (with its interval) against the realised one. ``training``: the
    model's training window (YYYY-MM), to flag in-sample months."""
    out = []
    for month in months:
        rows = frame.filter(pl.col("month") == month)
        if rows.is_empty() or rows["churned_quarter"].null_count() > 0:
            continue
        p = rows["p_quarter"].to_numpy()
        y = rows["churned_quarter"].cast(pl.Float64).to_numpy()
        mrr = rows["mrr"].to_numpy()
        lo, hi, _ = count_interval(p, level)
        actual = int(y.sum())
        out.append(
            CalibrationPoint(
                month=month,
                customers=rows.height,
                expected=float(p.sum()),
                low=lo,
                high=hi,
                actual=actual,
                expected_mrr=float((mrr * p).sum()),
                actual_mrr=float((mrr * y).sum()),
                inside=lo <= actual <= hi,
                in_training=bool(
                    training[0] and training[1] and training[0] <= month <= training[1]
                ),
            )
        )
    return out


# -- the whole report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskTrends:
    """The portfolio series, expected churn next quarter and the backtest."""

    model_version: str
    horizon_months: int
    source: str
    tier_cutoffs: dict[str, float]
    series: list[PortfolioMonth]
    next_quarter: ExpectedChurn
    calibration: list[CalibrationPoint]
    calibration_coverage: float | None
    """Share of the backtest months whose realised count lies in the interval."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_level(level: float) -> None:
    if not 0.5 <= level < 1.0:
        raise InvalidTrendRequest(f"level: expected a share from 0.5 to 0.99, got {level}")


def risk_trends(rt: Runtime, months: int = 12, level: float = 0.9) -> RiskTrends:
    """Portfolio risk over the last ``months`` months, expected churn next quarter and the
    backtest of past quarters (docs/retention.md, Risk trends)."""
    _check_level(level)
    history = risk_history(rt, months)
    series = portfolio_series(history.frame, history.months)
    points = calibration(history.frame, history.months, level, history.training)
    inside = [pt.inside for pt in points]
    return RiskTrends(
        model_version=history.version,
        horizon_months=history.horizon_months,
        source=history.source,
        tier_cutoffs=history.cutoffs,
        series=series,
        next_quarter=expected_churn(
            history.frame, history.months[-1], history.horizon_months, level
        ),
        calibration=points,
        calibration_coverage=sum(inside) / len(inside) if inside else None,
    )


# -- cohorts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortRisk:
    """The customers of one signup month or quarter at the latest month end."""

    cohort: str
    customers: int
    mrr: float
    average_risk: float
    mrr_weighted_risk: float
    high_share: float
    """Share of the cohort's customers in the High tier."""
    expected_churned: float


@dataclass(frozen=True)
class CohortReport:
    model_version: str
    as_of: str
    by: str
    cohorts: list[CohortRisk] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _signups(rt: Runtime) -> pl.DataFrame:
    wh = rt.warehouse
    if not wh.has_table("customers"):
        raise NoDataError("customers is not loaded: signup cohorts need its signup_date")
    t = wh.table("customers")
    expr = t.select(account_id=t.customer_id.cast("string"), signup_date=t.signup_date)
    return pl.from_arrow(wh.to_arrow(expr))  # type: ignore[return-value]


def cohort_frame(latest: pl.DataFrame, signups: pl.DataFrame, by: str) -> pl.DataFrame:
    """Cohort statistics of the latest month's rows (account_id, mrr, p, p_quarter, risk_tier)
    joined to the signup dates; ``by`` is ``month`` or ``quarter``."""
    dated = latest.join(signups, on="account_id", how="left")
    year = pl.col("signup_date").dt.year().cast(pl.String)
    if by == "quarter":
        label = year + pl.lit("-Q") + pl.col("signup_date").dt.quarter().cast(pl.String)
    else:
        label = pl.col("signup_date").dt.strftime("%Y-%m")
    return (
        dated.with_columns(
            cohort=pl.when(pl.col("signup_date").is_null()).then(pl.lit("unknown")).otherwise(label)
        )
        .group_by("cohort")
        .agg(
            customers=pl.len(),
            mrr=pl.col("mrr").sum(),
            average_risk=pl.col("p").mean(),
            weighted=(pl.col("mrr") * pl.col("p")).sum(),
            high_share=(pl.col("risk_tier") == "High").mean(),
            expected_churned=pl.col("p_quarter").sum(),
        )
        .with_columns(
            mrr_weighted_risk=pl.when(pl.col("mrr") > 0)
            .then(pl.col("weighted") / pl.col("mrr"))
            .otherwise(None)
        )
        .sort("cohort")
    )


def cohort_risk(rt: Runtime, by: str = "quarter", months: int = 12) -> CohortReport:
    """Current risk by signup month or quarter: average and MRR-weighted risk, High share."""
    if by not in ("month", "quarter"):
        raise InvalidTrendRequest(f"by: expected month or quarter, got {by!r}")
    history = risk_history(rt, months)
    as_of = history.months[-1]
    latest = history.frame.filter(pl.col("month") == as_of)
    stats = cohort_frame(latest, _signups(rt), by)
    return CohortReport(
        model_version=history.version,
        as_of=as_of,
        by=by,
        cohorts=[
            CohortRisk(
                cohort=row["cohort"],
                customers=int(row["customers"]),
                mrr=float(row["mrr"]),
                average_risk=float(row["average_risk"]),
                mrr_weighted_risk=float(row["mrr_weighted_risk"] or 0.0),
                high_share=float(row["high_share"]),
                expected_churned=float(row["expected_churned"]),
            )
            for row in stats.iter_rows(named=True)
        ],
    )


# -- risers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskRiser:
    """A customer whose risk rose from the previous month end to the latest."""

    account_id: str
    name: str | None
    mrr: float
    previous_risk: float
    risk: float
    change: float
    """risk − previous_risk (probability points, 0..1)."""
    risk_tier: str
    previous_tier: str
    top_factor: str | None
    top_factor_label: str | None


@dataclass(frozen=True)
class RiserReport:
    model_version: str
    previous: str
    latest: str
    risers: list[RiskRiser]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _names(rt: Runtime, ids: list[str]) -> dict[str, str | None]:
    wh = rt.warehouse
    if not ids or not wh.has_table("customers"):
        return {}
    t = wh.table("customers")
    if "company_name" not in t.columns:
        return {}
    expr = t.filter(t.customer_id.cast("string").isin(ids)).select(
        account_id=t.customer_id.cast("string"), name=t.company_name
    )
    frame: pl.DataFrame = pl.from_arrow(wh.to_arrow(expr))  # type: ignore[assignment]
    return dict(zip(frame["account_id"].to_list(), frame["name"].to_list(), strict=True))


def risk_risers(rt: Runtime, limit: int = 20, months: int = 12) -> RiserReport:
    """The ``limit`` customers whose risk rose most from the previous month end to the latest
    (customers at risk at both), with MRR and the top factor of their latest score."""
    if not 1 <= limit <= 1000:
        raise InvalidTrendRequest(f"limit: expected 1 to 1000, got {limit}")
    history = risk_history(rt, months)
    frame = history.frame
    all_months = sorted(frame["month"].unique().to_list())
    if len(all_months) < 2:
        raise NoDataError("Risers need two scored months; the data holds one")
    previous, latest = all_months[-2], all_months[-1]
    now = frame.with_row_index("_row").filter(pl.col("month") == latest)
    before = frame.filter(pl.col("month") == previous).select(
        "account_id", previous_risk="p", previous_tier="risk_tier"
    )
    joined = (
        now.join(before, on="account_id", how="inner")
        .with_columns(change=pl.col("p") - pl.col("previous_risk"))
        .filter(pl.col("change") > 0)
        .sort(["change", "account_id"], descending=[True, False])
        .head(limit)
    )
    top: list[str | None] = [None] * joined.height
    if joined.height:
        mdl = load_model(rt, history.version)
        rows = history.features[joined["_row"].to_list()]
        explained = explain_many(mdl, rows, top=1)
        top = explained[explained.columns[0]].to_list()
    names = _names(rt, joined["account_id"].to_list())
    return RiserReport(
        model_version=history.version,
        previous=previous,
        latest=latest,
        risers=[
            RiskRiser(
                account_id=row["account_id"],
                name=names.get(row["account_id"]),
                mrr=float(row["mrr"]),
                previous_risk=float(row["previous_risk"]),
                risk=float(row["p"]),
                change=float(row["change"]),
                risk_tier=row["risk_tier"],
                previous_tier=row["previous_tier"],
                top_factor=factor,
                top_factor_label=factor_label(factor),
            )
            for row, factor in zip(joined.iter_rows(named=True), top, strict=True)
        ],
    )


# -- feature drift by month ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureDriftTrend:
    """PSI and the mean and median of each model feature at each month end, against the
    model's training reference (:func:`revintel.churn.drift.drift_report`)."""

    model_version: str
    training: str
    months: list[str]
    rows: pl.DataFrame
    """month, feature, label, kind, psi, status, retrain_trigger, reference_mean, current_mean,
    current_median, current_missing_share."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "training": self.training,
            "months": self.months,
            "rows": self.rows.to_dicts(),
        }


def feature_drift(rt: Runtime, months: int = 12) -> FeatureDriftTrend:
    """Per month and model feature: PSI against the training data, mean and median."""
    history = risk_history(rt, months)
    record = churn.resolve_model(rt, history.version)
    reference = record.reference.get("histograms") or {}
    if not reference.get("features"):
        raise NoDataError(
            f"model {record.version} has no training reference to measure drift against"
        )
    frames = []
    month_col = history.frame["month"]
    for month in history.months:
        current = history.features.filter(month_col == month)
        report = drift_report(reference, current, F.MOVES_WITH_TIME)
        medians = {
            name: float(current[name].cast(pl.Float64).median())  # type: ignore[arg-type]
            if current[name].drop_nulls().len()
            else None
            for name in current.columns
            if current[name].dtype.is_numeric()
        }
        frames.append(
            report.with_columns(
                month=pl.lit(month),
                current_median=pl.col("feature").replace_strict(
                    medians, default=None, return_dtype=pl.Float64
                ),
            )
        )
    rows = pl.concat(frames).with_columns(
        label=pl.col("feature").map_elements(lambda n: factor_label(n) or n, return_dtype=pl.String)
    )
    rows = rows.select(
        "month", "feature", "label", "kind", "psi", "status", "retrain_trigger",
        "reference_mean", "current_mean", "current_median", "current_missing_share",
    ).sort(["feature", "month"])  # fmt: skip
    return FeatureDriftTrend(
        model_version=record.version,
        training=f"{record.training_from}..{record.training_to}",
        months=history.months,
        rows=rows,
    )
