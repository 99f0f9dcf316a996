"""The data quality dashboard (brief 004): missing values by table and column, freshness,
outliers, duplicate keys, and the correlations of the churn features (docs/retention.md, Data
quality).

Every loaded warehouse table is measured with Ibis aggregates (one query per table for missing
values and newest dates, one for quartiles, one for outlier counts), so the report runs on every
backend (Parquet/DuckDB, PostgreSQL, Spark). The churn features' own quality (robust z-score
outliers, missing shares, constant columns) is :func:`revintel.churn.drift.data_quality` of the
latest month's features, as the churn drift report computes it.

Outliers in warehouse columns follow Tukey's rule: values below Q1 − k·IQR or above Q3 + k·IQR,
with k = 3 by default ("far out"; 1.5 flags a quarter of a skewed column such as MRR).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import polars as pl

from revintel.churn import features as F
from revintel.churn import service as churn
from revintel.churn.drift import data_quality as feature_quality
from revintel.core.calendar import month_label
from revintel.core.errors import InvalidOption, NoDataError
from revintel.core.runtime import Runtime
from revintel.data.schema import CONTRACTS
from revintel.warehouse.cache import SnapshotCache

__all__ = [
    "ColumnMissing",
    "ColumnOutliers",
    "DataQualityReport",
    "FeatureCorrelations",
    "KeyDuplicates",
    "TableFreshness",
    "correlation_matrix",
    "data_quality",
    "feature_correlations",
    "freshness_status",
]

EXAMPLES = 5
PLANNED_DATES = frozenset(
    {"discount_end_date", "renewal_date", "expected_close_date", "due_date", "trial_end"}
)
"""Date columns that hold planned dates (ahead of the events recorded), not counted for
freshness."""
Freshness = Literal["fresh", "stale", "old", "no dates"]
Method = Literal["pearson", "spearman"]

REPORTS: SnapshotCache[DataQualityReport] = SnapshotCache("retention.data_quality", size=4)
CORRELATIONS: SnapshotCache[FeatureCorrelations] = SnapshotCache(
    "retention.feature_correlations", size=4
)


class InvalidQualityRequest(InvalidOption):
    """A data-quality option out of range (``iqr_k``, ``stale_days``, ``method``)."""


@dataclass(frozen=True)
class ColumnMissing:
    """Missing values of one column (null, or NaN in a floating column)."""

    table: str
    column: str
    dtype: str
    rows: int
    missing: int
    missing_share: float
    required: bool | None
    """Whether the table's contract requires a value (None: not a contract column)."""


@dataclass(frozen=True)
class TableFreshness:
    """When a table was last loaded and how recent its newest date is."""

    table: str
    rows: int
    last_loaded: datetime | None
    newest_date: date | None
    """The newest date on or before today among the table's date columns (planned dates such
    as a renewal date lie ahead and are not counted)."""
    newest_column: str | None
    days_stale: int | None
    """Days from ``newest_date`` to today."""
    status: Freshness


@dataclass(frozen=True)
class ColumnOutliers:
    """Values of a numeric column outside Tukey's fences Q1 − k·IQR, Q3 + k·IQR."""

    table: str
    column: str
    rows: int
    outliers: int
    share: float
    q1: float | None
    median: float | None
    q3: float | None
    lower_fence: float | None
    upper_fence: float | None
    note: str | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    """Up to five outlying rows, farthest from the median first: the key columns and value."""


@dataclass(frozen=True)
class KeyDuplicates:
    """Rows sharing the primary key of the table's contract."""

    table: str
    key: list[str]
    rows: int
    duplicated_keys: int
    """Key values that occur more than once."""
    duplicate_rows: int
    """Rows beyond the first of each duplicated key."""
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DataQualityReport:
    """The whole dashboard's figures, as of ``today``."""

    today: date
    iqr_k: float
    stale_days: int
    missing: list[ColumnMissing]
    freshness: list[TableFreshness]
    outliers: list[ColumnOutliers]
    duplicates: list[KeyDuplicates]
    features_month: str | None
    features: list[dict[str, Any]]
    """:func:`revintel.churn.drift.data_quality` of the latest month's churn features (column,
    dtype, missing, missing_share, outliers (robust z > 5), distinct, min, max, issue)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def freshness_status(days: int | None, stale_days: int) -> Freshness:
    """``fresh`` up to ``stale_days`` days, ``stale`` up to 3×, then ``old``."""
    if days is None:
        return "no dates"
    if days <= stale_days:
        return "fresh"
    if days <= 3 * stale_days:
        return "stale"
    return "old"


def _is_float(dtype: dt.DataType) -> bool:
    return dtype.is_floating() or dtype.is_decimal()


def _is_number(dtype: dt.DataType) -> bool:
    return (dtype.is_integer() or _is_float(dtype)) and not dtype.is_boolean()


def _scalar(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, datetime):
        return value.date()
    return value


def _fetch(rt: Runtime, expr: ibis.Table) -> dict[str, Any]:
    frame: pl.DataFrame = pl.from_arrow(rt.warehouse.to_arrow(expr))  # type: ignore[assignment]
    return frame.row(0, named=True) if frame.height else {}


def _table_report(
    rt: Runtime, name: str, today: date, iqr_k: float, stale_days: int, loaded: datetime | None
) -> tuple[list[ColumnMissing], TableFreshness, list[ColumnOutliers], KeyDuplicates | None]:
    wh = rt.warehouse
    t = wh.table(name)
    schema = t.schema()
    contract = CONTRACTS.get(name)
    specs = {c.name: c for c in contract.columns} if contract else {}
    names = list(schema.names)
    dates = [
        c
        for c in names
        if (schema[c].is_date() or schema[c].is_timestamp()) and c not in PLANNED_DATES
    ]
    months = [c for c in names if c in specs and specs[c].type == "month"]
    numbers = [c for c in names if _is_number(schema[c])]
    today_lit = ibis.literal(today)
    aggs: dict[str, Any] = {"_rows": t.count()}
    for i, c in enumerate(names):
        missing = t[c].isnull()
        if _is_float(schema[c]) and schema[c].is_floating():
            missing = missing | t[c].isnan().fill_null(False)
        aggs[f"m{i}"] = missing.cast("int64").sum()
    for i, c in enumerate(dates):
        day = t[c].cast("date")
        aggs[f"d{i}"] = day.max(where=day <= today_lit)
    this_month = ibis.literal(today.strftime("%Y-%m"))
    for i, c in enumerate(months):
        aggs[f"mo{i}"] = t[c].max(where=t[c] <= this_month)
    for i, c in enumerate(numbers):
        x = t[c].cast("float64")
        aggs[f"q1_{i}"] = x.quantile(0.25)
        aggs[f"q2_{i}"] = x.quantile(0.5)
        aggs[f"q3_{i}"] = x.quantile(0.75)
    first = _fetch(rt, t.aggregate(**aggs))
    rows = int(first.get("_rows") or 0)
    missing_rows = [
        ColumnMissing(
            table=name,
            column=c,
            dtype=str(schema[c]),
            rows=rows,
            missing=int(first.get(f"m{i}") or 0),
            missing_share=(int(first.get(f"m{i}") or 0) / rows) if rows else 0.0,
            required=(not specs[c].nullable) if c in specs else None,
        )
        for i, c in enumerate(names)
    ]
    newest: date | None = None
    newest_column = None
    for i, c in enumerate(dates):
        value = _scalar(first.get(f"d{i}"))
        if value is not None and (newest is None or value > newest):
            newest, newest_column = value, c
    for i, c in enumerate(months):
        value = first.get(f"mo{i}")
        if value:  # a month counts as its last day
            year, mon = (int(x) for x in str(value).split("-"))
            end = date(year + mon // 12, mon % 12 + 1, 1) - timedelta(days=1)
            end = min(end, today)
            if newest is None or end > newest:
                newest, newest_column = end, c
    days = (today - newest).days if newest is not None else None
    fresh = TableFreshness(
        table=name,
        rows=rows,
        last_loaded=loaded,
        newest_date=newest,
        newest_column=newest_column,
        days_stale=days,
        status=freshness_status(days, stale_days),
    )
    # Outlier counts: one more aggregate with every column's fences.
    fences: dict[str, tuple[float, float, float, float, float]] = {}
    skipped: list[tuple[str, float, float, float]] = []
    for i, c in enumerate(numbers):
        q1, q2, q3 = (_scalar(first.get(f"q{k}_{i}")) for k in (1, 2, 3))
        if q1 is None or q3 is None:
            continue
        iqr = float(q3) - float(q1)
        if iqr <= 0:
            skipped.append((c, float(q1), float(q2), float(q3)))
            continue
        fences[c] = (float(q1), float(q2), float(q3), q1 - iqr_k * iqr, q3 + iqr_k * iqr)
    outliers: list[ColumnOutliers] = []
    if fences:
        counts = _fetch(
            rt,
            t.aggregate(
                **{
                    f"o{i}": ((t[c].cast("float64") < lo) | (t[c].cast("float64") > hi))
                    .cast("int64")
                    .sum()
                    for i, (c, (_, _, _, lo, hi)) in enumerate(fences.items())
                }
            ),
        )
        key = [k for k in (contract.primary_key if contract else ()) if k in names]
        for i, (c, (q1, q2, q3, lo, hi)) in enumerate(fences.items()):
            count = int(counts.get(f"o{i}") or 0)
            examples: list[dict[str, Any]] = []
            if count:
                x = t[c].cast("float64")
                expr = (
                    t.filter((x < lo) | (x > hi))
                    .order_by((x - q2).abs().desc())
                    .select(*[t[k] for k in key if k != c], t[c])
                    .limit(EXAMPLES)
                )
                sample: pl.DataFrame = pl.from_arrow(wh.to_arrow(expr))  # type: ignore[assignment]
                examples = [{k: _scalar(v) for k, v in r.items()} for r in sample.to_dicts()]
            outliers.append(
                ColumnOutliers(
                    table=name,
                    column=c,
                    rows=rows,
                    outliers=count,
                    share=count / rows if rows else 0.0,
                    q1=q1,
                    median=q2,
                    q3=q3,
                    lower_fence=lo,
                    upper_fence=hi,
                    examples=examples,
                )
            )
    for c, q1, q2, q3 in skipped:
        outliers.append(
            ColumnOutliers(
                table=name,
                column=c,
                rows=rows,
                outliers=0,
                share=0.0,
                q1=q1,
                median=q2,
                q3=q3,
                lower_fence=None,
                upper_fence=None,
                note="IQR is 0 (half the values or more are equal): no fences",
            )
        )
    duplicates = None
    if contract and contract.primary_key and all(k in names for k in contract.primary_key):
        key = list(contract.primary_key)
        groups = t.group_by(key).aggregate(_n=t.count())
        repeated = groups.filter(groups._n > 1)
        summary = _fetch(
            rt, repeated.aggregate(keys=repeated.count(), extra=(repeated._n - 1).sum())
        )
        n_keys = int(summary.get("keys") or 0)
        examples = []
        if n_keys:
            repeats: pl.DataFrame = pl.from_arrow(  # type: ignore[assignment]
                wh.to_arrow(repeated.order_by(repeated._n.desc()).limit(EXAMPLES))
            )
            examples = [
                {("rows" if k == "_n" else k): _scalar(v) for k, v in r.items()}
                for r in repeats.to_dicts()
            ]
        duplicates = KeyDuplicates(
            table=name,
            key=key,
            rows=rows,
            duplicated_keys=n_keys,
            duplicate_rows=int(summary.get("extra") or 0),
            examples=examples,
        )
    return missing_rows, fresh, outliers, duplicates


def _features_quality(rt: Runtime) -> tuple[str | None, list[dict[str, Any]]]:
    try:
        panel, frame = churn.feature_frame(rt)
    except NoDataError:
        return None, []
    latest = frame.filter(pl.col("cutoff") == panel.last_month)
    columns = [c for c in F.available_features(latest) if c in latest.columns]
    return month_label(panel.last_month), feature_quality(latest.select(columns)).to_dicts()


def data_quality(
    rt: Runtime, *, today: date | None = None, iqr_k: float = 3.0, stale_days: int = 45
) -> DataQualityReport:
    """Missing values, freshness, outliers and duplicate keys of every loaded table, and the
    quality of the latest churn features (cached per data snapshot and options)."""
    if not 0.5 <= iqr_k <= 10:
        raise InvalidQualityRequest(f"iqr_k: expected 0.5 to 10, got {iqr_k}")
    if not 1 <= stale_days <= 3650:
        raise InvalidQualityRequest(f"stale_days: expected 1 to 3650, got {stale_days}")
    day = today or datetime.now(UTC).date()

    def compute() -> DataQualityReport:
        wh = rt.warehouse
        tables = wh.list_tables()
        if not tables:
            raise NoDataError("No table is loaded: load data (revintel load) to measure quality")
        order = [n for n in CONTRACTS if n in tables] + sorted(set(tables) - set(CONTRACTS))
        loaded = wh.loaded_at() or rt.store.last_loaded()
        missing: list[ColumnMissing] = []
        freshness: list[TableFreshness] = []
        outliers: list[ColumnOutliers] = []
        duplicates: list[KeyDuplicates] = []
        for name in order:
            m, f, o, d = _table_report(rt, name, day, iqr_k, stale_days, loaded.get(name))
            missing += m
            freshness.append(f)
            outliers += o
            if d is not None:
                duplicates.append(d)
        month, features = _features_quality(rt)
        return DataQualityReport(
            today=day,
            iqr_k=iqr_k,
            stale_days=stale_days,
            missing=missing,
            freshness=freshness,
            outliers=outliers,
            duplicates=duplicates,
            features_month=month,
            features=features,
        )

    return REPORTS.get(rt.warehouse, (day, iqr_k, stale_days), compute)


# -- correlations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureCorrelations:
    """The correlation matrix of the numeric and boolean churn features at the latest month."""

    month: str
    method: Method
    rows: int
    features: list[str]
    labels: list[str]
    matrix: list[list[float | None]]
    """``matrix[i][j]``: the correlation of features i and j over the rows where both are
    present (None when fewer than 3 rows or a constant column)."""
    top_pairs: list[dict[str, Any]]
    """The 10 strongest pairs by |r|: feature_a, feature_b, r, rows."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rank(values: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return np.asarray(rankdata(values), dtype=float)


def correlation_matrix(
    frame: pl.DataFrame, method: Method = "pearson"
) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete correlations of every column of ``frame`` (numbers or booleans) and the
    rows behind each: Pearson's r, or Spearman's ρ (Pearson's r of the ranks, ties averaged,
    ranked within each pair's complete rows)."""
    if method not in ("pearson", "spearman"):
        raise InvalidQualityRequest(f"method: expected pearson or spearman, got {method!r}")
    data = (
        np.column_stack(
            [
                frame[c].cast(pl.Float64).fill_nan(None).fill_null(np.nan).to_numpy()
                for c in frame.columns
            ]
        )
        if frame.width
        else np.empty((0, 0))
    )
    k = data.shape[1] if data.size else frame.width
    out = np.full((k, k), np.nan)
    counts = np.zeros((k, k), dtype=int)
    present = ~np.isnan(data) if data.size else np.zeros((0, k), dtype=bool)
    for i in range(k):
        for j in range(i, k):
            both = present[:, i] & present[:, j]
            n = int(both.sum())
            counts[i, j] = counts[j, i] = n
            if n < 3:
                continue
            a, b = data[both, i], data[both, j]
            if method == "spearman":
                a, b = _rank(a), _rank(b)
            sa, sb = a.std(), b.std()
            if sa == 0 or sb == 0:
                continue
            r = float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))
            out[i, j] = out[j, i] = max(-1.0, min(1.0, r))
    return out, counts


def feature_correlations(rt: Runtime, method: Method = "pearson") -> FeatureCorrelations:
    """Correlations of the churn features at the latest month (cached per data snapshot)."""
    if method not in ("pearson", "spearman"):
        raise InvalidQualityRequest(f"method: expected pearson or spearman, got {method!r}")

    def compute() -> FeatureCorrelations:
        panel, frame = churn.feature_frame(rt)
        latest = frame.filter(pl.col("cutoff") == panel.last_month)
        names = [
            c
            for c in F.available_features(latest)
            if c not in F.CATEGORICAL and latest[c].drop_nulls().n_unique() > 1
        ]
        matrix, counts = correlation_matrix(latest.select(names), method)
        pairs: list[dict[str, Any]] = [
            {
                "feature_a": names[i],
                "feature_b": names[j],
                "r": float(matrix[i, j]),
                "rows": int(counts[i, j]),
            }
            for i in range(len(names))
            for j in range(i + 1, len(names))
            if np.isfinite(matrix[i, j])
        ]
        pairs.sort(key=lambda p: -abs(p["r"]))
        return FeatureCorrelations(
            month=month_label(panel.last_month),
            method=method,
            rows=latest.height,
            features=names,
            labels=[F.FEATURES[n].label if n in F.FEATURES else n for n in names],
            matrix=[[None if not np.isfinite(v) else float(v) for v in row] for row in matrix],
            top_pairs=pairs[:10],
        )

    return CORRELATIONS.get(rt.warehouse, (method,), compute)
