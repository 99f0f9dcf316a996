"""Customer lifetime value as a service: what the CLI, the API and the dashboard call.

Reads MRR per customer and month (the revenue metrics plugged into :mod:`revintel.clv.ports`),
turns it into lifetimes, fits the sBG model (:mod:`revintel.clv.sbg`) per group and prices the
lifetimes with the month's ARPA and gross margin (the metrics ``ltv`` figures). RFM comes from
payments (:mod:`revintel.clv.rfm`). Every definition: ``docs/clv.md``.

Lifetimes. Month 0 of a customer is their first month with MRR > 0; they survive month t while
they have MRR > 0 in every month 0 … t (a later reactivation does not revive the lifetime, as the
sBG model has no return). ``M`` is the last complete month of the data (metrics ``period``). A
customer with MRR > 0 in M is alive, right-censored at age M − month 0; any other churned in the
period after their last paid month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import polars as pl

from revintel.clv import rfm, sbg
from revintel.clv.ports import LtvBasis, revenue_metrics
from revintel.core.errors import InvalidOption, NoDataError, NotFoundError, OutsideTheData
from revintel.core.vocabulary import dimension_named
from revintel.warehouse.cache import SnapshotCache

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

GroupBy = Literal["cohort", "quarter", "segment", "plan", "channel"]
GROUP_BYS: tuple[str, ...] = get_args(GroupBy)
METRIC_DIMENSION: dict[str, str] = {g: dimension_named(g) for g in ("segment", "plan", "channel")}
DEFAULT_ANNUAL_DISCOUNT = 0.10
DEFAULT_PREDICTION_HORIZON = 3
"""Months over which ``predictions.churn_risk_score`` is a churn probability (the churn model's
3-month horizon), unless told otherwise."""
CURVE_MONTHS = 36
"""Months of fitted survival drawn and returned per group (observed months are fewer)."""
MIN_GROUP_CUSTOMERS = 5
"""Groups with fewer customers are not fitted (reported with a reason)."""


class InvalidClvOption(InvalidOption):
    """A CLV request option is invalid."""


def monthly_discount_rate(annual: float) -> float:
    """d_month = (1 + d_year)^(1/12) − 1 (the same value of money a year out)."""
    if not math.isfinite(annual) or annual < 0 or annual >= 10:
        raise InvalidClvOption(f"discount_rate: expected an annual rate in [0, 10), got {annual!r}")
    return (1.0 + annual) ** (1.0 / 12.0) - 1.0


def monthly_churn_probability(p: float | pl.Expr, horizon_months: int) -> Any:
    """p_month = 1 − (1 − p)^(1/h): the constant monthly churn with the same h-month survival."""
    if horizon_months == 1:
        return p
    if isinstance(p, pl.Expr):
        return 1.0 - (1.0 - p) ** (1.0 / horizon_months)
    return 1.0 - (1.0 - p) ** (1.0 / horizon_months)


def _warehouse(source: Runtime | Warehouse) -> Warehouse:
    return getattr(source, "warehouse", source)


def _month_index(label: pl.Expr) -> pl.Expr:
    return label.str.slice(0, 4).cast(pl.Int32) * 12 + label.str.slice(5, 2).cast(pl.Int32) - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# -- lifetimes ------------------------------------------------------------------------------------
def lifetimes(customer_months: pl.DataFrame, last_month: str) -> pl.DataFrame:
    """Per customer: first paid month, age, whether churned, and MRR in ``last_month``.

    ``customer_months`` has ``customer_id``, ``month`` (``YYYY-MM``) and ``mrr`` (> 0 rows only).
    Columns: ``customer_id``, ``first_month``, ``months_alive`` (the initial unbroken run),
    ``churned`` (bool), ``age`` (churned: the period they churned in, = months_alive; alive: the
    censoring age, months_alive − 1), ``current_mrr`` (0 when churned).
    """
    last = int(last_month[:4]) * 12 + int(last_month[5:7]) - 1
    frame = (
        customer_months.filter(pl.col("mrr") > 0)
        .with_columns(idx=_month_index(pl.col("month")))
        .filter(pl.col("idx") <= last)
        .sort(["customer_id", "idx"])
        .with_columns(
            first=pl.col("idx").min().over("customer_id"),
            pos=pl.int_range(pl.len()).over("customer_id"),
        )
    )
    run = frame.filter(pl.col("idx") - pl.col("first") == pl.col("pos"))
    out = run.group_by("customer_id").agg(
        first=pl.col("first").first(),
        months_alive=pl.len(),
        current_mrr=pl.col("mrr").filter(pl.col("idx") == last).sum(),
    )
    alive = pl.col("first") + pl.col("months_alive") - 1 == last
    return (
        out.with_columns(
            churned=~alive,
            age=pl.when(alive)
            .then(pl.col("months_alive") - 1)
            .otherwise(pl.col("months_alive"))
            .cast(pl.Int64),
            current_mrr=pl.when(alive).then(pl.col("current_mrr")).otherwise(0.0),
            first_month=pl.format(
                "{}-{}",
                (pl.col("first") // 12).cast(pl.String).str.zfill(4),
                (pl.col("first") % 12 + 1).cast(pl.String).str.zfill(2),
            ),
        )
        .select("customer_id", "first_month", "months_alive", "churned", "age", "current_mrr")
        .sort("customer_id")
    )


def survival_counts(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(churned per period, censored per age) of a :func:`lifetimes` frame, for sBG fitting."""
    size = int(frame["age"].max() or 0) + 1
    size = max(size, 2)
    churned = np.zeros(size)
    censored = np.zeros(size)
    for age, is_churned, n in frame.group_by(["age", "churned"]).agg(n=pl.len()).iter_rows():
        (churned if is_churned else censored)[int(age)] += n
    return churned, censored


def survivors_table(frame: pl.DataFrame) -> list[int] | None:
    """N0, N1, … when every customer is observed to the same age (one cohort), else None."""
    churned, censored = survival_counts(frame)
    if censored[:-1].sum() > 0:
        return None
    n0 = churned[1:].sum() + censored.sum()
    return [int(n0 - churned[1 : t + 1].sum()) for t in range(len(churned))]


# -- data from the warehouse ----------------------------------------------------------------------
@dataclass(frozen=True)
class Pricing:
    """ARPA and gross margin of month ``month`` (metrics ``ltv``) and the simple LTV beside them."""

    month: str
    arpa: float | None
    gross_margin: float | None
    margin_used: float
    simple_ltv: float | None
    simple_ltv_reason: str | None
    average_logo_churn_6m: float | None
    basis: LtvBasis
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The pricing as the CLV report's JSON shows it (``basis`` as ``simple_ltv_basis``)."""
        return {
            "month": self.month,
            "arpa": self.arpa,
            "gross_margin": self.gross_margin,
            "margin_used": self.margin_used,
            "simple_ltv": self.simple_ltv,
            "simple_ltv_reason": self.simple_ltv_reason,
            "simple_ltv_basis": self.basis,
            "average_logo_churn_6m": self.average_logo_churn_6m,
        }


def _pricing(ctx: Runtime | Warehouse, month: str, as_of: date) -> Pricing:
    wh = _warehouse(ctx)
    has_costs = wh.has_table("costs")
    basis: LtvBasis = "gross_margin" if has_costs else "arpa"
    figures = revenue_metrics().ltv(ctx, month=month, as_of=as_of, basis=basis)
    row = figures[0] if figures else None
    margin = row.gross_margin if has_costs and row is not None else None
    notes: list[str] = []
    if margin is None:
        notes.append(
            "No gross margin (table 'costs' not loaded or no revenue): CLV uses a 100% margin, "
            "i.e. revenue lifetime value, and the simple LTV is ARPA ÷ churn."
        )
    return Pricing(
        month=month,
        arpa=row.arpa if row is not None else None,
        gross_margin=margin,
        margin_used=1.0 if margin is None else float(margin),
        simple_ltv=row.ltv if row is not None else None,
        simple_ltv_reason=row.ltv_reason if row is not None else None,
        average_logo_churn_6m=row.average_logo_churn_6m if row is not None else None,
        basis=basis,
        notes=tuple(notes),
    )


def _attributes(wh: Warehouse) -> pl.DataFrame:
    """customer_id → cohort, quarter, segment, channel, plan (of the first subscription)."""
    customers = pl.from_arrow(
        wh.table("customers")
        .select("customer_id", "signup_date", "segment", "acquisition_channel")
        .to_pyarrow()
    )
    assert isinstance(customers, pl.DataFrame)
    signup = pl.col("signup_date").cast(pl.Date)
    customers = customers.with_columns(
        cohort=signup.dt.strftime("%Y-%m"),
        quarter=pl.format("{}-Q{}", signup.dt.year(), signup.dt.quarter()),
        channel=pl.col("acquisition_channel"),
    )
    subs = pl.from_arrow(
        wh.table("subscriptions").select("customer_id", "plan_type", "start_date").to_pyarrow()
    )
    assert isinstance(subs, pl.DataFrame)
    plans = (
        subs.sort(["customer_id", "start_date"])
        .group_by("customer_id", maintain_order=True)
        .agg(plan=pl.col("plan_type").first())
    )
    return customers.join(plans, on="customer_id", how="left").select(
        "customer_id", "cohort", "quarter", "segment", "channel", "plan"
    )


@dataclass
class ClvBase:
    """Lifetimes of every customer who ever paid, their groups, and the month's pricing."""

    month: str
    as_of: date
    lifetimes: pl.DataFrame
    pricing: Pricing
    monthly_discount: float
    annual_discount: float
    predictions: pl.DataFrame | None
    notes: list[str] = field(default_factory=list)
    # sBG fits per grouping, made once per base (a cached base serves every request on its
    # snapshot; refitting took most of a CLV report's time, ~0.8 s of 0.8 s at 2,000 customers)
    fits: dict[str, list[GroupFit]] = field(default_factory=dict, repr=False, compare=False)


# One base per snapshot, date and rate, computed once while other requests wait for it.
_BASES: SnapshotCache[ClvBase] = SnapshotCache("clv.bases", size=8)


def snapshot_key(source: Runtime | Warehouse) -> str | None:
    """The warehouse's immutable snapshot name (Parquet), None when the data can change."""
    return _warehouse(source).data_version()


def load_base(
    ctx: Runtime | Warehouse,
    *,
    as_of: date | str | None = None,
    discount_rate: float = DEFAULT_ANNUAL_DISCOUNT,
) -> ClvBase:
    """Lifetimes, groups, pricing and predictions, cached per Parquet snapshot."""
    return _BASES.get(
        _warehouse(ctx),
        (str(as_of), discount_rate),
        lambda: _load_base(ctx, as_of=as_of, discount_rate=discount_rate),
    )


def _load_base(
    ctx: Runtime | Warehouse, *, as_of: date | str | None, discount_rate: float
) -> ClvBase:
    d_month = monthly_discount_rate(discount_rate)
    wh = _warehouse(ctx)
    if not wh.has_table("subscriptions"):
        wh.table("subscriptions")  # NoDataError naming the table
    revenue = revenue_metrics()
    p = revenue.report_month(ctx, as_of=as_of)
    months = revenue.customer_mrr(ctx, as_of=p.as_of)
    if months.height == 0:
        raise NoDataError("CLV needs paying customers: no customer has MRR > 0 in the data.")
    life = lifetimes(months, p.month).join(_attributes(wh), on="customer_id", how="left")
    base = ClvBase(
        month=p.month,
        as_of=p.as_of,
        lifetimes=life,
        pricing=_pricing(ctx, p.month, p.as_of),
        monthly_discount=d_month,
        annual_discount=discount_rate,
        predictions=_predictions(wh),
    )
    base.notes.extend(base.pricing.notes)
    return base


def _predictions(wh: Warehouse) -> pl.DataFrame | None:
    """Latest churn_risk_score per account (by scored_at), or None when none are loaded."""
    if not wh.has_table("predictions"):
        return None
    table = wh.table("predictions")
    columns = ["account_id", "churn_risk_score"] + (
        ["scored_at"] if "scored_at" in table.columns else []
    )
    frame = pl.from_arrow(table.select(*columns).to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    if frame.height == 0:
        return None
    if "scored_at" in frame.columns:
        frame = frame.sort("scored_at", nulls_last=False)
    return frame.group_by("account_id", maintain_order=True).agg(
        churn_risk_score=pl.col("churn_risk_score").last().cast(pl.Float64)
    )


# -- per group ------------------------------------------------------------------------------------
def _check_by(by: str) -> GroupBy:
    if by not in GROUP_BYS:
        raise InvalidClvOption(
            f"by: {by!r} is not supported; expected one of {', '.join(GROUP_BYS)}"
        )
    return by  # type: ignore[return-value]


@dataclass(frozen=True)
class GroupFit:
    """One group's fit, curves and value."""

    group: str
    customers: int
    churned: int
    alive: int
    fit: sbg.SbgFit | None
    reason: str | None
    observed: list[float]
    arpa: float | None


def fit_groups(base: ClvBase, by: GroupBy | Literal["all"]) -> list[GroupFit]:
    """An sBG fit per group (``"all"``: the whole base as one group), made once per base."""
    fits = base.fits.get(by)
    if fits is None:
        fits = base.fits[by] = _fit_groups(base, by)
    return list(fits)


def _fit_groups(base: ClvBase, by: GroupBy | Literal["all"]) -> list[GroupFit]:
    frame = base.lifetimes
    column = pl.lit("All customers") if by == "all" else pl.col(by).fill_null("(none)")
    frame = frame.with_columns(_group=column.cast(pl.String))
    out: list[GroupFit] = []
    for (name,), part in sorted(frame.group_by(["_group"]), key=lambda kv: str(kv[0][0])):
        churned_n = int(part["churned"].sum())
        alive = part.filter(~pl.col("churned"))
        arpa = float(alive["current_mrr"].mean()) if alive.height else None  # type: ignore[arg-type]
        churned, censored = survival_counts(part)
        observed = sbg.kaplan_meier(churned, censored).tolist()
        fit, reason = None, None
        if part.height < MIN_GROUP_CUSTOMERS:
            reason = f"fewer than {MIN_GROUP_CUSTOMERS} customers"
        elif len(churned) < 2 or churned[1:].sum() + censored[1:].sum() == 0:
            reason = "no customer observed beyond their first month"
        else:
            fit = sbg.fit_counts(
                churned, censored, survivors=tuple(o * part.height for o in observed)
            )
        out.append(
            GroupFit(str(name), part.height, churned_n, alive.height, fit, reason, observed, arpa)
        )
    return out


@dataclass(frozen=True, slots=True)
class GroupValue:
    """One group's sBG fit and value (``docs/clv.md``); fit fields are None when not fitted, and
    ``reason`` says why (or why the value is not to be trusted)."""

    group: str
    customers: int
    churned: int
    alive: int
    alpha: float | None
    beta: float | None
    log_likelihood: float | None
    mean_monthly_churn: float | None
    retention_12m: float | None
    expected_lifetime_months: float | None  # None: infinite (α ≤ 1) or not fitted
    del_months: float | None
    arpa: float | None
    gross_margin: float
    clv: float | None
    at_bound: bool | None
    reason: str | None
    simple_ltv: float | None = None  # the metrics LTV of the group (segment, plan, channel)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _group_row(g: GroupFit, base: ClvBase) -> GroupValue:
    margin = base.pricing.margin_used
    row = GroupValue(
        group=g.group,
        customers=g.customers,
        churned=g.churned,
        alive=g.alive,
        alpha=None,
        beta=None,
        log_likelihood=None,
        mean_monthly_churn=None,
        retention_12m=None,
        expected_lifetime_months=None,
        del_months=None,
        arpa=g.arpa,
        gross_margin=margin,
        clv=None,
        at_bound=None,
        reason=g.reason,
    )
    if g.fit is None:
        return row
    f = g.fit
    life = f.expected_lifetime()
    del_months = f.discounted_expected_lifetime(base.monthly_discount)
    reason = g.reason
    if g.arpa is None:
        reason = "no customer of the group is paying in the month (no ARPA)"
    elif f.at_bound:
        reason = "α, β at the search bound: churn looks alike across customers (geometric limit)"
    return replace(
        row,
        alpha=f.alpha,
        beta=f.beta,
        log_likelihood=f.log_likelihood,
        mean_monthly_churn=f.alpha / (f.alpha + f.beta),
        retention_12m=f.survival(12)[12],
        expected_lifetime_months=None if math.isinf(life) else life,
        del_months=del_months,
        clv=None if g.arpa is None else g.arpa * margin * del_months,
        at_bound=f.at_bound,
        reason=reason,
    )


@dataclass(frozen=True, slots=True)
class DiscountRate:
    """The annual discount rate asked for and the monthly rate worth the same."""

    annual: float
    monthly: float


CURVE_SCHEMA = {"group": pl.String, "month": pl.Int64, "observed": pl.Float64, "fitted": pl.Float64}


@dataclass(frozen=True, slots=True)
class ClvReport:
    """CLV per group and for the whole base (:func:`report`).

    ``curves`` has one row per group and month: ``group``, ``month`` (age), ``observed``
    (Kaplan–Meier) and ``fitted`` (sBG) survival, each None past its own length.
    """

    month: str
    as_of: date
    by: GroupBy
    discount_rate: DiscountRate
    pricing: Pricing
    overall: GroupValue
    groups: list[GroupValue]
    curves: pl.DataFrame
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The report as the CLI's and the API's JSON (the whole base has no ``simple_ltv`` of
        its own: it is ``pricing.simple_ltv``)."""
        overall = self.overall.to_dict()
        del overall["simple_ltv"]
        return {
            "month": self.month,
            "as_of": self.as_of.isoformat(),
            "by": self.by,
            "discount_rate": {
                "annual": self.discount_rate.annual,
                "monthly": self.discount_rate.monthly,
            },
            "pricing": self.pricing.to_dict(),
            "overall": overall,
            "groups": [g.to_dict() for g in self.groups],
            "curves": self.curves.to_dicts(),
            "notes": self.notes,
        }


def report(
    ctx: Runtime | Warehouse,
    *,
    by: GroupBy = "cohort",
    as_of: date | str | None = None,
    discount_rate: float = DEFAULT_ANNUAL_DISCOUNT,
    curve_months: int = CURVE_MONTHS,
) -> ClvReport:
    """CLV per group and for the whole base, with curves and the simple metric LTV beside it."""
    by = _check_by(by)
    base = load_base(ctx, as_of=as_of, discount_rate=discount_rate)
    overall_fit = fit_groups(base, "all")[0]
    # The whole base's simple LTV is the month's (pricing): the table's all-customers row shows it
    overall = replace(_group_row(overall_fit, base), simple_ltv=base.pricing.simple_ltv)
    if base.pricing.arpa is not None:
        overall = replace(overall, arpa=base.pricing.arpa)
    if overall.del_months is not None and overall.arpa is not None:
        overall = replace(overall, clv=overall.arpa * base.pricing.margin_used * overall.del_months)
    groups = fit_groups(base, by)
    simple = _simple_ltv_by_group(ctx, base, by)
    rows = [replace(_group_row(g, base), simple_ltv=simple.get(g.group)) for g in groups]
    curves: list[dict[str, Any]] = []
    for g in [overall_fit, *groups]:
        fitted = g.fit.survival(curve_months) if g.fit is not None else []
        for t in range(max(len(g.observed), len(fitted))):
            curves.append(
                {
                    "group": g.group,
                    "month": t,
                    "observed": g.observed[t] if t < len(g.observed) else None,
                    "fitted": fitted[t] if t < len(fitted) else None,
                }
            )
    return ClvReport(
        month=base.month,
        as_of=base.as_of,
        by=by,
        discount_rate=DiscountRate(base.annual_discount, base.monthly_discount),
        pricing=base.pricing,
        overall=overall,
        groups=rows,
        curves=pl.DataFrame(curves, schema=CURVE_SCHEMA),
        notes=list(base.notes),
    )


def _simple_ltv_by_group(
    ctx: Runtime | Warehouse, base: ClvBase, by: str
) -> dict[str, float | None]:
    dimension = METRIC_DIMENSION.get(by)
    if dimension is None:
        return {}
    figures = revenue_metrics().ltv(
        ctx,
        month=base.month,
        as_of=base.as_of,
        basis=base.pricing.basis,
        by=dimension,
    )
    return {str(f.group): f.ltv for f in figures}


# -- per customer ---------------------------------------------------------------------------------
def customer_values(
    ctx: Runtime | Warehouse,
    *,
    by: GroupBy = "segment",
    as_of: date | str | None = None,
    discount_rate: float = DEFAULT_ANNUAL_DISCOUNT,
    prediction_horizon: int = DEFAULT_PREDICTION_HORIZON,
) -> pl.DataFrame:
    """Remaining CLV of every customer who ever paid (0 for churned customers).

    With a churn probability p (``predictions``, latest per account) over ``prediction_horizon``
    months: p_month = 1 − (1 − p)^(1/h), and DEL = Σ_{t≥0} ((1 − p_month)/(1 + d))^t
    = (1 + d) / (d + p_month). Otherwise the residual DEL of the customer's group sBG curve at
    their age. CLV = current MRR × gross margin × DEL.
    """
    by = _check_by(by)
    if prediction_horizon < 1:
        raise InvalidClvOption(
            f"prediction_horizon: expected a whole number of months ≥ 1, got {prediction_horizon}"
        )
    base = load_base(ctx, as_of=as_of, discount_rate=discount_rate)
    d = base.monthly_discount
    fits = {g.group: g.fit for g in fit_groups(base, by)}
    overall = fit_groups(base, "all")[0].fit
    frame = base.lifetimes.with_columns(group=pl.col(by).fill_null("(none)").cast(pl.String))
    residual: list[float | None] = []
    alphas: list[float | None] = []
    betas: list[float | None] = []
    cache: dict[tuple[str, int], float] = {}
    for group, age, churned in frame.select("group", "age", "churned").iter_rows():
        fit = fits.get(group) or overall
        alphas.append(fit.alpha if fit else None)
        betas.append(fit.beta if fit else None)
        if churned or fit is None:
            residual.append(0.0 if churned else None)
            continue
        k = (group if fits.get(group) else "_all", int(age))
        if k not in cache:
            cache[k] = sbg.residual_discounted_lifetime(fit.alpha, fit.beta, d, int(age))
        residual.append(cache[k])
    frame = frame.with_columns(
        sbg_alpha=pl.Series(alphas, dtype=pl.Float64),
        sbg_beta=pl.Series(betas, dtype=pl.Float64),
        sbg_del=pl.Series(residual, dtype=pl.Float64),
    )
    if base.predictions is not None:
        frame = frame.join(
            base.predictions.rename({"account_id": "customer_id"}), on="customer_id", how="left"
        )
    else:
        frame = frame.with_columns(churn_risk_score=pl.lit(None, dtype=pl.Float64))
    p_month = monthly_churn_probability(pl.col("churn_risk_score"), prediction_horizon)
    use_model = pl.col("churn_risk_score").is_not_null() & ~pl.col("churned")
    frame = frame.with_columns(monthly_churn_probability=p_month).with_columns(
        method=pl.when(pl.col("churned"))
        .then(pl.lit("churned"))
        .when(use_model)
        .then(pl.lit("churn model"))
        .otherwise(pl.lit("sBG")),
        del_months=pl.when(pl.col("churned"))
        .then(0.0)
        .when(use_model)
        .then((1.0 + d) / (d + pl.col("monthly_churn_probability")))
        .otherwise(pl.col("sbg_del")),
    )
    margin = base.pricing.margin_used
    frame = frame.with_columns(
        gross_margin=pl.lit(margin),
        clv=pl.col("current_mrr") * margin * pl.col("del_months"),
    )
    return frame.select(
        "customer_id", "group", "first_month", "age", "churned", "current_mrr",
        "churn_risk_score", "monthly_churn_probability", "method", "sbg_alpha", "sbg_beta",
        "del_months", "gross_margin", "clv",
    ).sort("clv", descending=True, nulls_last=True)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CustomerValue:
    """One customer's remaining CLV: a row of :func:`customer_values` and what it was asked for."""

    customer_id: str
    group: str
    first_month: str
    age: int
    churned: bool
    current_mrr: float
    churn_risk_score: float | None
    monthly_churn_probability: float | None
    method: Literal["churned", "churn model", "sBG"]
    sbg_alpha: float | None
    sbg_beta: float | None
    del_months: float | None
    gross_margin: float
    clv: float | None
    month: str
    by: GroupBy
    prediction_horizon_months: int

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def customer_value(
    ctx: Runtime | Warehouse,
    customer_id: str,
    *,
    by: GroupBy = "segment",
    as_of: date | str | None = None,
    discount_rate: float = DEFAULT_ANNUAL_DISCOUNT,
    prediction_horizon: int = DEFAULT_PREDICTION_HORIZON,
) -> CustomerValue:
    """One customer's row of :func:`customer_values`; :class:`NotFoundError` if they never paid."""
    frame = customer_values(
        ctx, by=by, as_of=as_of, discount_rate=discount_rate, prediction_horizon=prediction_horizon
    ).filter(pl.col("customer_id") == customer_id)
    if frame.height == 0:
        raise NotFoundError(
            f"customer_id {customer_id!r}: no such customer with MRR > 0 in the data"
        )
    base = load_base(ctx, as_of=as_of, discount_rate=discount_rate)
    return CustomerValue(
        **frame.row(0, named=True),
        month=base.month,
        by=by,
        prediction_horizon_months=prediction_horizon,
    )


# -- RFM ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RfmAnalysis:
    """RFM scores per customer and the segment summary (:mod:`revintel.clv.rfm`), as of a day."""

    as_of: str  # YYYY-MM-DD
    customers: pl.DataFrame
    segments: pl.DataFrame


def _billing_terms(wh: Warehouse) -> pl.DataFrame | None:
    """What RFM needs of ``subscriptions`` to spread a payment over the period it pays for (None
    when the table or its ``billing_period`` is not loaded: each payment is then one month)."""
    if not wh.has_table("subscriptions"):
        return None
    table = wh.table("subscriptions")
    columns = ["subscription_id", "customer_id", "start_date", "end_date", "billing_period"]
    if not set(columns) <= set(table.columns):
        return None
    columns += ["monthly_price"] if "monthly_price" in table.columns else []
    frame = pl.from_arrow(table.select(*columns).to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    return frame


class RfmDayOutsideTheData(InvalidClvOption, OutsideTheData):
    """An RFM ``as_of`` day before the first or after the last month of the loaded payments."""


def _check_rfm_day(when: date, first: date, last: date) -> None:
    """Refuse a day the payments do not reach: recency and frequency would be invented (every
    customer lapsed after the data ends, none existing before it starts)."""
    end = date(last.year + last.month // 12, last.month % 12 + 1, 1) - timedelta(days=1)
    if when < first or when > end:
        raise RfmDayOutsideTheData(
            f"as_of: expected a day from {first.isoformat()} (the first successful payment) to "
            f"{end.isoformat()} (the end of the month of the last one), got {when.isoformat()}"
        )


def rfm_analysis(ctx: Runtime | Warehouse, *, as_of: date | str | None = None) -> RfmAnalysis:
    """RFM scores per customer and the segment summary, from ``payments`` (spread over the billing
    periods of ``subscriptions`` when it is loaded)."""
    wh = _warehouse(ctx)
    table = wh.table("payments")
    columns = ["customer_id", "payment_date", "amount", "payment_status"]
    columns += ["subscription_id"] if "subscription_id" in table.columns else []
    payments = pl.from_arrow(table.select(*columns).to_pyarrow())
    assert isinstance(payments, pl.DataFrame)
    when: date | None
    if isinstance(as_of, str):
        try:
            when = date.fromisoformat(as_of)
        except ValueError:
            raise InvalidClvOption(f"as_of: expected a date YYYY-MM-DD, got {as_of!r}") from None
    else:
        when = as_of
    paid = payments.filter(pl.col("payment_status") == "Success")["payment_date"].cast(pl.Date)
    if when is not None and paid.len():
        _check_rfm_day(when, paid.min(), paid.max())  # type: ignore[arg-type]
    scores = rfm.rfm_scores(payments, when, _billing_terms(wh))
    as_of_date = when or paid.max()
    return RfmAnalysis(as_of=str(as_of_date), customers=scores, segments=rfm.rfm_segments(scores))


def month_label(index: int) -> str:
    """``YYYY-MM`` of a month index (year × 12 + month − 1)."""
    return _month_label(index)
