"""One row per customer with every attribute and computed feature, as of the last complete month
(docs/retention.md, Segments → Features).

Segment rules, campaigns (risk tier, script variables), alerts and reports read this frame. Owned
by the segments area.

Where each column comes from:

* ``customers`` (and ``accounts`` when loaded): name, segment, country, industry, acquisition
  channel, signup date, owner, ``has_account_manager`` (an owner is named);
* the warehouse MRR (:func:`revintel.metrics.mrr.customer_mrr`, the metrics' own definition):
  ``mrr`` and ``arr`` (12 × MRR) at the end of the last complete month (0 for a customer who pays
  nothing then), ``plan`` (the main subscription's plan), ``tenure_months``, ``is_active``;
* health (:func:`revintel.health.service.score_month` of that month): ``health_score``, the
  pillar scores, ``health_tier``;
* the churn model (:func:`revintel.churn.service.current_predictions`): ``churn_risk`` (0..1)
  and ``risk_tier``;
* CLV (:func:`revintel.clv.service.customer_values`) and RFM
  (:func:`revintel.clv.service.rfm_analysis`): ``clv``, ``rfm_segment``;
* churn features (:func:`revintel.churn.service.feature_frame`): every feature of the churn
  model at the last complete month's cut-off, named as the churn model names them (those already
  covered above — ``mrr``, ``segment``, ``industry``, ``tenure_months`` — keep the values above;
  the churn feature ``plan_type`` is the same plan as ``plan``).

A source that cannot answer (no model trained, no health tables) leaves its columns null and says
why in ``notes``; nothing else fails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from revintel.core.errors import RevintelError
from revintel.warehouse.cache import SnapshotCache

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

Kind = Literal["number", "text", "bool", "date"]


@dataclass(frozen=True)
class FeatureColumn:
    """One column a rule may name: its kind, its label in words and where it comes from."""

    name: str
    kind: Kind
    label: str
    source: str  # customers | metrics | health | churn model | churn features | clv | rfm

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "label": self.label, "source": self.source}


@dataclass(frozen=True)
class CustomerFeatures:
    """``frame``: one row per row of ``customers`` (``customer_id`` first), every feature column;
    ``as_of``: the last complete month (YYYY-MM) the current values are of."""

    frame: pl.DataFrame
    as_of: str
    columns: dict[str, FeatureColumn]
    notes: list[str] = field(default_factory=list)
    """A source that could not answer, and why (its columns are null)."""
    key: str = ""
    """What identifies this frame (data version and settings): for caches built on it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "customers": self.frame.height,
            "columns": [c.to_dict() for c in self.columns.values()],
            "notes": list(self.notes),
        }


# name -> (kind, label, source); the order is the frame's column order.
BASE_COLUMNS: dict[str, tuple[Kind, str, str]] = {
    "customer_id": ("text", "Customer id", "customers"),
    "name": ("text", "Customer name", "customers"),
    "segment": ("text", "Segment", "customers"),
    "plan": ("text", "Plan (main subscription)", "metrics"),
    "country": ("text", "Country", "customers"),
    "industry": ("text", "Industry", "customers"),
    "acquisition_channel": ("text", "Acquisition channel", "customers"),
    "signup_date": ("date", "Signup date", "customers"),
    "owner": ("text", "Account owner", "accounts"),
    "has_account_manager": ("bool", "Has an account manager", "accounts"),
    "is_active": ("bool", "Pays MRR in the last complete month", "metrics"),
    "mrr": ("number", "MRR", "metrics"),
    "arr": ("number", "ARR (12 × MRR)", "metrics"),
    "tenure_months": ("number", "Tenure (months since first paid month)", "metrics"),
    "health_score": ("number", "Health score (0-100)", "health"),
    "engagement": ("number", "Health pillar: engagement", "health"),
    "sentiment": ("number", "Health pillar: sentiment", "health"),
    "support": ("number", "Health pillar: support", "health"),
    "health_tier": ("text", "Health tier (Healthy, At Risk, Critical)", "health"),
    "churn_risk": ("number", "Churn risk (0-1)", "churn model"),
    "risk_tier": ("text", "Churn risk tier", "churn model"),
    "clv": ("number", "Remaining customer lifetime value", "clv"),
    "rfm_segment": ("text", "RFM segment", "rfm"),
}
DTYPES: dict[Kind, pl.DataType] = {
    "number": pl.Float64(),
    "text": pl.String(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
}

FEATURES: SnapshotCache[CustomerFeatures] = SnapshotCache("retention.customer_features", size=4)
"""Per data snapshot (which includes the scored ``predictions``) and the churn and health settings
the tiers depend on."""


def _cache_key(rt: Runtime) -> tuple[Any, ...]:
    from revintel.churn.config import load_config as churn_config
    from revintel.health.config import load_config as health_config

    churn = churn_config(rt.settings)
    return (
        str(rt.settings.home),
        churn.threshold,
        *churn.tiers.stamp(),
        health_config(rt.settings).model_dump_json(),
    )


def customer_features(rt: Runtime) -> CustomerFeatures:
    """Every customer's attributes and features (cached per data snapshot and model version).

    :class:`~revintel.core.errors.NoDataError` when no ``customers`` table is loaded."""
    key = _cache_key(rt)
    # a warehouse without a version (a database whose rows can change) computes every time: its
    # frame gets a key of its own, so that nothing built on a frame (a DuckDB engine) is reused
    version = rt.warehouse.data_version() or f"unversioned-{uuid.uuid4()}"
    return FEATURES.get(rt.warehouse, key, lambda: _compute(rt, f"{version}|{key!r}"))


def _arrow(expr: Any) -> pl.DataFrame:
    frame = pl.from_arrow(expr.to_pyarrow())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _customers(rt: Runtime) -> pl.DataFrame:
    from revintel.core.errors import NoDataError

    wh = rt.warehouse
    if not wh.has_table("customers"):
        raise NoDataError("Segments need the customers table: load it first (`revintel load`).")
    c = wh.table("customers")
    wanted = {
        "customer_id": c.customer_id.cast("string"),
        "company_name": c.company_name if "company_name" in c.columns else None,
        "segment": c.segment if "segment" in c.columns else None,
        "country": c.country if "country" in c.columns else None,
        "industry": c.industry if "industry" in c.columns else None,
        "acquisition_channel": c.acquisition_channel
        if "acquisition_channel" in c.columns
        else None,
        "signup_date": c.signup_date.cast("date") if "signup_date" in c.columns else None,
    }
    frame = _arrow(c.select(**{k: v for k, v in wanted.items() if v is not None}))
    for name, dtype in (
        ("company_name", pl.String),
        ("segment", pl.String),
        ("country", pl.String),
        ("industry", pl.String),
        ("acquisition_channel", pl.String),
        ("signup_date", pl.Date),
    ):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    frame = frame.unique("customer_id", keep="first", maintain_order=True)
    if wh.has_table("accounts"):
        a = wh.table("accounts")
        cols = {"customer_id": a.account_id.cast("string")}
        for name in ("account_name", "industry", "owner"):
            if name in a.columns:
                cols[f"account_{name}" if name != "account_name" else name] = a[name]
        acc = _arrow(a.select(**cols)).unique("customer_id", keep="first")
        frame = frame.join(acc, on="customer_id", how="left")
    for name in ("account_name", "account_industry", "account_owner"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
    return frame.select(
        "customer_id",
        pl.coalesce("account_name", "company_name").alias("name"),
        pl.col("segment").cast(pl.String),
        pl.col("country").cast(pl.String),
        pl.coalesce(pl.col("industry"), pl.col("account_industry"))
        .cast(pl.String)
        .alias("industry"),
        pl.col("acquisition_channel").cast(pl.String),
        pl.col("signup_date").cast(pl.Date),
        pl.col("account_owner").cast(pl.String).alias("owner"),
    )


def last_complete_month(rt: Runtime) -> str:
    """The data's last complete month (``YYYY-MM``), as the metrics define it."""
    from revintel.metrics import service as metrics

    return metrics.period(rt.warehouse).to_month


def mrr_history(rt: Runtime, from_month: str, to_month: str) -> pl.DataFrame:
    """``customer_id``, ``month`` (YYYY-MM), ``mrr`` (> 0) per customer and month from the
    warehouse (the metrics' MRR definition); empty when no subscriptions are loaded."""
    from revintel.metrics.mrr import customer_mrr

    wh = rt.warehouse
    schema = {"customer_id": pl.String, "month": pl.String, "mrr": pl.Float64}
    if not wh.has_table("subscriptions"):
        return pl.DataFrame(schema=schema)
    payments = wh.table("payments") if wh.has_table("payments") else None
    expr = customer_mrr(
        wh.table("subscriptions"),
        from_month=from_month,
        to_month=to_month,
        payments=payments,
        delinquency_days=wh.settings.delinquency_days,
    )
    frame = _arrow(expr.select("customer_id", "month", "mrr"))
    return frame.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("month").cast(pl.String),
        pl.col("mrr").cast(pl.Float64),
    )


def _revenue(rt: Runtime, as_of: str) -> pl.DataFrame:
    """Per customer who ever paid: MRR in ``as_of``, first paid month (tenure)."""
    from revintel.core.calendar import month_number

    wh = rt.warehouse
    first = "1970-01"
    if wh.has_table("subscriptions"):
        subs = wh.table("subscriptions")
        lo = subs.aggregate(lo=subs.start_date.cast("date").min()).to_pyarrow()
        start = lo.column("lo")[0].as_py()
        if start is not None:
            first = f"{start.year:04d}-{start.month:02d}"
    hist = mrr_history(rt, first, as_of)
    end = month_number(as_of)
    per = hist.group_by("customer_id").agg(
        pl.col("month").min().alias("_first"),
        pl.col("mrr").filter(pl.col("month") == as_of).sum().alias("mrr"),
        (pl.col("month") == as_of).any().alias("is_active"),
    )
    months = per["_first"].map_elements(month_number, return_dtype=pl.Int64)
    per = per.with_columns(tenure_months=(pl.lit(end) - months).cast(pl.Float64))
    # a customer who stopped paying keeps the tenure they had when they last paid
    last = hist.group_by("customer_id").agg(pl.col("month").max().alias("_last"))
    per = per.join(last, on="customer_id", how="left").with_columns(
        tenure_months=pl.when(pl.col("is_active"))
        .then(pl.col("tenure_months"))
        .otherwise(
            pl.col("_last").map_elements(month_number, return_dtype=pl.Int64).cast(pl.Float64)
            - pl.col("_first").map_elements(month_number, return_dtype=pl.Int64).cast(pl.Float64)
        )
    )
    return per.select("customer_id", "mrr", "is_active", "tenure_months")


def _plans(rt: Runtime, as_of: str) -> pl.DataFrame | None:
    """The plan of each customer's main (largest MRR) subscription active at ``as_of``'s end, else
    their latest subscription's plan."""
    from revintel.core.calendar import month_last_day, month_number

    wh = rt.warehouse
    if not wh.has_table("subscriptions"):
        return None
    subs = wh.table("subscriptions")
    if "plan_type" not in subs.columns:
        return None
    end = month_last_day(month_number(as_of))
    cols = {
        "customer_id": subs.customer_id.cast("string"),
        "plan": subs.plan_type.cast("string"),
        "start": subs.start_date.cast("date"),
        "end": subs.end_date.cast("date"),
        "size": subs.mrr.cast("float64") if "mrr" in subs.columns else subs.start_date.isnull(),
    }
    frame = _arrow(subs.select(**cols))
    active = (pl.col("start") <= end) & (pl.col("end").is_null() | (pl.col("end") > end))
    frame = frame.with_columns(_active=active)
    return (
        frame.sort(["customer_id", "_active", "size", "start"], nulls_last=False)
        .group_by("customer_id")
        .last()
        .select("customer_id", "plan")
    )


def _health(rt: Runtime, as_of: str, notes: list[str]) -> pl.DataFrame | None:
    from revintel.health import service as health

    try:
        scores = health.score_month(rt, as_of)
    except RevintelError as exc:
        try:  # the latest month with health data when the month itself has none
            scores = health.score_month(rt)
            notes.append(f"Health: {as_of} has no health data; scores of {scores.month}.")
        except RevintelError:
            notes.append(f"Health: {exc}")
            return None
    f = scores.frame
    notes.extend(f"Health: {n}" for n in scores.notes)
    return f.select(
        pl.col("account_id").cast(pl.String).alias("customer_id"),
        pl.col("health_score").cast(pl.Float64),
        *[pl.col(p).cast(pl.Float64) for p in ("engagement", "sentiment", "support")],
        pl.col("tier").cast(pl.String).alias("health_tier"),
    )


def _churn_model(rt: Runtime, notes: list[str]) -> pl.DataFrame | None:
    from revintel.churn import service as churn

    try:
        pred = churn.current_predictions(rt)
    except RevintelError as exc:
        notes.append(f"Churn risk: {exc}")
        return None
    return pred.select(
        pl.col("account_id").cast(pl.String).alias("customer_id"),
        pl.col("churn_risk_score").cast(pl.Float64).alias("churn_risk"),
        pl.col("risk_tier").cast(pl.String),
    ).unique("customer_id", keep="first")


def _clv(rt: Runtime, notes: list[str]) -> pl.DataFrame | None:
    from revintel.clv import service as clv

    try:
        values = clv.customer_values(rt)
    except RevintelError as exc:
        notes.append(f"CLV: {exc}")
        return None
    return values.select(pl.col("customer_id").cast(pl.String), pl.col("clv").cast(pl.Float64))


def _rfm(rt: Runtime, notes: list[str]) -> pl.DataFrame | None:
    from revintel.clv import service as clv

    try:
        rfm = clv.rfm_analysis(rt)
    except RevintelError as exc:
        notes.append(f"RFM: {exc}")
        return None
    return rfm.customers.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("segment").cast(pl.String).alias("rfm_segment"),
    )


def _churn_features(
    rt: Runtime, as_of: str, notes: list[str]
) -> tuple[pl.DataFrame | None, dict[str, FeatureColumn]]:
    """The churn model's features of each account at the cut-off ``as_of`` (null for a customer
    without MRR then), with their descriptions; columns already in the frame are left out."""
    from revintel.churn import features as F
    from revintel.churn import service as churn
    from revintel.core.calendar import month_number

    described: dict[str, FeatureColumn] = {}
    taken = set(BASE_COLUMNS) | {"plan_type"}
    for name, info in F.FEATURES.items():
        if name in taken:
            continue
        kind: Kind = (
            "text" if name in F.CATEGORICAL else ("bool" if name in F.BOOLEAN else "number")
        )
        unit = f" ({info.unit})" if info.unit and info.unit not in ("$",) else ""
        described[name] = FeatureColumn(name, kind, f"{info.label}{unit}", "churn features")
    try:
        _, frame = churn.feature_frame(rt)
    except RevintelError as exc:
        notes.append(f"Churn features: {exc}")
        return None, described
    cutoff = month_number(as_of)
    at = frame.filter(pl.col("cutoff") == cutoff)
    if at.height == 0 and frame.height:
        latest = int(frame["cutoff"].max())  # type: ignore[arg-type]
        if latest < cutoff:
            at = frame.filter(pl.col("cutoff") == latest)
            notes.append(f"Churn features: as of cut-off month number {latest}, before {as_of}.")
    keep = [n for n in described if n in at.columns]
    return (
        at.select(pl.col("account_id").cast(pl.String).alias("customer_id"), *keep).unique(
            "customer_id", keep="first"
        ),
        described,
    )


def _compute(rt: Runtime, key: str) -> CustomerFeatures:
    notes: list[str] = []
    frame = _customers(rt)
    try:
        as_of = last_complete_month(rt)
    except RevintelError as exc:
        raise type(exc)(f"Segments need MRR data for a last complete month: {exc}") from exc
    revenue = _revenue(rt, as_of)
    frame = frame.join(revenue, on="customer_id", how="left").with_columns(
        pl.col("mrr").fill_null(0.0),
        pl.col("is_active").fill_null(False),
    )
    frame = frame.with_columns(arr=pl.col("mrr") * 12.0)
    plans = _plans(rt, as_of)
    if plans is not None:
        frame = frame.join(plans, on="customer_id", how="left")
    else:
        notes.append("Plan: no subscriptions with a plan_type are loaded.")
    for part in (
        _health(rt, as_of, notes),
        _churn_model(rt, notes),
        _clv(rt, notes),
        _rfm(rt, notes),
    ):
        if part is not None:
            frame = frame.join(part, on="customer_id", how="left")
    features, described = _churn_features(rt, as_of, notes)
    if features is not None:
        frame = frame.join(features, on="customer_id", how="left")
    if frame["owner"].null_count() == frame.height and not rt.warehouse.has_table("accounts"):
        notes.append("Owner: no accounts table is loaded (owner and has_account_manager).")
    frame = frame.with_columns(
        has_account_manager=pl.col("owner").is_not_null()
        & (pl.col("owner").str.strip_chars() != ""),
    )
    columns: dict[str, FeatureColumn] = {
        name: FeatureColumn(name, kind, label, source)
        for name, (kind, label, source) in BASE_COLUMNS.items()
    }
    columns.update(described)
    for name, col in columns.items():
        dtype = DTYPES[col.kind]
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
        elif frame.schema[name] != dtype:
            frame = frame.with_columns(pl.col(name).cast(dtype, strict=False))
    frame = frame.select(list(columns))
    empty = [n for n in columns if n != "customer_id" and frame[n].null_count() == frame.height]
    if empty and frame.height:
        notes.append("No values (source missing): " + ", ".join(empty) + ".")
    return CustomerFeatures(frame=frame, as_of=as_of, columns=columns, notes=notes, key=key)
