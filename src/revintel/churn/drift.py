"""Feature drift (PSI), a data-quality report, and the retraining and promotion rules.

Pure functions on polars frames and plain dicts; nothing here reads the warehouse or the registry.

Drift is the population stability index of each feature between the training data (summarised by
:func:`histogram_reference` and stored with the model) and current data:

    PSI = Σ_i (c_i − r_i) · ln(c_i / r_i)

over bins i with reference shares r_i and current shares c_i (Siddiqi, *Credit Risk Scorecards*,
Wiley 2006, ch. 8; Yurdakul, "Statistical properties of the population stability index", 2018).
The usual reading, used here: < 0.1 stable, 0.1–0.25 moderate shift, ≥ 0.25 significant drift.
Numeric features are binned at the training data's deciles; categorical features by level.
Missing values are a bin of their own, so a feed that starts sending blanks shows as drift.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import numpy as np
import polars as pl

DriftStatus = Literal["stable", "moderate", "drift", "missing"]
MODERATE_PSI = 0.1
DRIFT_PSI = 0.25
OTHER_LEVEL = "__other__"
MAX_LEVELS = 50  # categorical levels kept in a reference; rarer ones are pooled as OTHER_LEVEL
ROBUST_Z_LIMIT = 5.0
REFERENCE_FORMAT = 1
LOWER_IS_BETTER = frozenset({"brier", "log_loss", "ece"})

# The consistency constant of the MAD (1/Φ⁻¹(3/4)): 1.4826 × MAD estimates σ for normal data
# (Iglewicz & Hoaglin, *How to Detect and Handle Outliers*, 1993).
_MAD_TO_SIGMA = 1.4826


# -- reference histograms --------------------------------------------------------------------------


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype.is_temporal()


def _as_float(series: pl.Series) -> np.ndarray:
    """Values as float64 with nulls and NaN as NaN; dates and times as days since 1970-01-01."""
    if series.dtype == pl.Date:
        series = series.cast(pl.Int32)
    elif series.dtype == pl.Datetime or series.dtype == pl.Duration:
        series = series.dt.epoch("d") if series.dtype == pl.Datetime else series.dt.total_days()
    elif series.dtype.is_temporal():
        series = series.to_physical()
    return series.cast(pl.Float64).fill_null(float("nan")).to_numpy()


def _as_text(series: pl.Series) -> pl.Series:
    if series.dtype == pl.Boolean:
        return series.map_elements(lambda v: "true" if v else "false", return_dtype=pl.String)
    return series.cast(pl.String)


def _bin_shares(values: np.ndarray, edges: Sequence[float]) -> list[float]:
    """Shares of the non-missing ``values`` in the bins (−∞, e₁], (e₁, e₂], …, (e_k, ∞)."""
    present = values[~np.isnan(values)]
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype=float), present, side="left"),
        minlength=len(edges) + 1,
    )
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]


def _level_shares(text: pl.Series, levels: Sequence[str]) -> list[float]:
    """Shares of the non-missing values among ``levels`` + OTHER_LEVEL (unseen levels)."""
    present = text.rename("level").drop_nulls()
    total = len(present)
    if not total:
        return [0.0] * (len(levels) + 1)
    counts = present.value_counts()
    by_level = dict(zip(counts[:, 0].to_list(), counts["count"].to_list(), strict=True))
    shares = [by_level.pop(level, 0) / total for level in levels]
    return [*shares, sum(by_level.values()) / total]


def _missing_share(series: pl.Series) -> float:
    if not len(series):
        return 0.0
    missing = series.null_count()
    if series.dtype.is_float():
        missing += int(series.is_nan().fill_null(False).sum())
    return missing / len(series)


def histogram_reference(
    frame: pl.DataFrame, columns: Iterable[str], bins: int = 10
) -> dict[str, Any]:
    """What drift is measured against, JSON-able, to store with a model.

    Per numeric (and date) column: the inner quantile bin edges of the training values
    (``bins`` quantile bins, tied edges merged), the share in each bin, mean, std and missing
    share. Per categorical or boolean column: the level shares (the ``MAX_LEVELS`` most common;
    the rest pooled as ``__other__``) and the missing share.
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    features: dict[str, Any] = {}
    for name in columns:
        series = frame.get_column(name)
        missing = _missing_share(series)
        if _is_numeric(series.dtype):
            values = _as_float(series)
            present = values[~np.isnan(values)]
            if len(present):
                quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
                edges = [float(e) for e in np.unique(quantiles)]
                mean, std = float(present.mean()), float(present.std())
            else:
                edges, mean, std = [], None, None
            features[name] = {
                "kind": "numeric",
                "edges": edges,
                "shares": _bin_shares(values, edges),
                "mean": mean,
                "std": std,
                "missing_share": missing,
            }
        else:
            text = _as_text(series)
            counts = text.rename("level").drop_nulls().value_counts(sort=True)
            levels = [str(v) for v in counts[:, 0].to_list()[:MAX_LEVELS]]
            features[name] = {
                "kind": "categorical",
                "levels": levels,
                "shares": _level_shares(text, levels),
                "missing_share": missing,
            }
    return {"format": REFERENCE_FORMAT, "bins": bins, "rows": frame.height, "features": features}


# -- PSI ---------------------------------------------------------------------------------------


def psi(
    reference_shares: Sequence[float], current_shares: Sequence[float], eps: float = 1e-4
) -> float:
    """Population stability index of two share vectors over the same bins.

    Shares are floored at ``eps`` so an empty bin on either side gives a large but finite term.
    """
    r = np.maximum(np.asarray(reference_shares, dtype=float), eps)
    c = np.maximum(np.asarray(current_shares, dtype=float), eps)
    if r.shape != c.shape:
        raise ValueError(f"PSI needs the same bins on both sides, got {r.size} and {c.size}")
    return float(np.sum((c - r) * np.log(c / r)))


def psi_status(value: float | None) -> DriftStatus:
    """``stable`` below 0.1, ``moderate`` below 0.25, else ``drift``; ``missing`` for None."""
    if value is None or math.isnan(value):
        return "missing"
    if value < MODERATE_PSI:
        return "stable"
    if value < DRIFT_PSI:
        return "moderate"
    return "drift"


def _with_missing(shares: Sequence[float], missing: float) -> list[float]:
    return [s * (1.0 - missing) for s in shares] + [missing]


def drift_report(
    reference: Mapping[str, Any], current: pl.DataFrame, moves_with_time: Collection[str] = ()
) -> pl.DataFrame:
    """PSI per feature of ``current`` against a :func:`histogram_reference`, worst first.

    Columns: feature, kind, psi, status (stable / moderate / drift; ``missing`` when the current
    data lacks the column), retrain_trigger, reference_mean, current_mean (numeric features),
    reference_missing_share, current_missing_share.

    ``retrain_trigger`` is false for the features in ``moves_with_time``: those that shift every
    month by construction (a customer's tenure grows by one each month, so the latest month is
    always "older" than the training months). Their PSI is shown but never calls for retraining
    (:func:`max_drift`).
    """
    rows = []
    for name, ref in (reference.get("features") or {}).items():
        row: dict[str, Any] = {
            "feature": name,
            "kind": ref["kind"],
            "psi": None,
            "status": "missing",
            "retrain_trigger": name not in moves_with_time,
            "reference_mean": ref.get("mean"),
            "current_mean": None,
            "reference_missing_share": ref["missing_share"],
            "current_missing_share": None,
        }
        if name in current.columns:
            series = current.get_column(name)
            missing = _missing_share(series)
            if ref["kind"] == "numeric":
                values = _as_float(series)
                shares = _bin_shares(values, ref["edges"])
                present = values[~np.isnan(values)]
                row["current_mean"] = float(present.mean()) if len(present) else None
            else:
                shares = _level_shares(_as_text(series), ref["levels"])
            value = psi(
                _with_missing(ref["shares"], ref["missing_share"]), _with_missing(shares, missing)
            )
            row.update(psi=value, status=psi_status(value), current_missing_share=missing)
        rows.append(row)
    schema = {
        "feature": pl.String,
        "kind": pl.String,
        "psi": pl.Float64,
        "status": pl.String,
        "retrain_trigger": pl.Boolean,
        "reference_mean": pl.Float64,
        "current_mean": pl.Float64,
        "reference_missing_share": pl.Float64,
        "current_missing_share": pl.Float64,
    }
    report = (
        pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    )
    return report.sort(["psi", "feature"], descending=[True, False], nulls_last=False)


# -- data quality ----------------------------------------------------------------------------------


def _outliers(values: np.ndarray) -> int:
    """How many values have a robust z-score |x − median| / σ̂ above ``ROBUST_Z_LIMIT``.

    σ̂ is 1.4826 × the median absolute deviation (Iglewicz & Hoaglin's modified z-score). When
    more than half the values are equal (MAD = 0, as for counts that are mostly zero) it is the
    standard deviation instead, so only values far from the bulk count, not every non-zero one;
    a constant column has no outliers.
    """
    present = values[~np.isnan(values)]
    if len(present) < 3:
        return 0
    median = np.median(present)
    deviation = np.abs(present - median)
    scale = _MAD_TO_SIGMA * np.median(deviation)
    if scale == 0:
        scale = present.std()
    if scale == 0:
        return 0
    return int(np.sum(deviation / scale > ROBUST_Z_LIMIT))


def _fmt(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def data_quality(
    frame: pl.DataFrame, *, missing_warn: float = 0.2, outlier_warn: float = 0.01
) -> pl.DataFrame:
    """Per column: dtype, missing count and share, outliers, distinct values, min, max, issue.

    Outliers are numeric values with a robust z-score above 5 (see :func:`_outliers`; robust so
    that a skewed column such as MRR is not all "outliers", as 1.5×IQR whiskers would make it).
    ``issue`` is null when nothing is wrong, else a short text: all missing, a missing share above
    ``missing_warn``, a constant column, or outliers above ``outlier_warn`` of the values.
    """
    rows = []
    for name in frame.columns:
        series = frame.get_column(name)
        missing_share = _missing_share(series)
        missing = round(missing_share * len(series))
        numeric = _is_numeric(series.dtype)
        present = series.drop_nulls()
        if series.dtype.is_float():
            present = present.filter(~present.is_nan())
        distinct = present.n_unique() if len(present) else 0
        outliers = _outliers(_as_float(series)) if numeric and series.dtype != pl.Boolean else 0
        lo = hi = None
        if len(present) and (numeric or series.dtype == pl.String):
            lo, hi = present.min(), present.max()
        issues = []
        if len(series) and missing == len(series):
            issues.append("all values missing")
        else:
            if missing_share > missing_warn:
                issues.append(f"{missing_share:.0%} missing")
            if distinct == 1 and len(series) > 1:
                issues.append("constant (one distinct value)")
            if len(present) and outliers / len(present) > outlier_warn:
                issues.append(f"{outliers} outliers (|robust z| > {ROBUST_Z_LIMIT:g})")
        rows.append(
            {
                "column": name,
                "dtype": str(series.dtype),
                "missing": missing,
                "missing_share": missing_share,
                "outliers": outliers,
                "distinct": distinct,
                "min": _fmt(lo),
                "max": _fmt(hi),
                "issue": "; ".join(issues) or None,
            }
        )
    schema = {
        "column": pl.String,
        "dtype": pl.String,
        "missing": pl.Int64,
        "missing_share": pl.Float64,
        "outliers": pl.Int64,
        "distinct": pl.Int64,
        "min": pl.String,
        "max": pl.String,
        "issue": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


# -- retraining and promotion ----------------------------------------------------------------------


def _month_number(when: datetime) -> int:
    return when.year * 12 + when.month - 1


def retraining_due(
    last_trained_at: datetime | None,
    now: datetime,
    every_months: int,
    max_psi: float | None,
    psi_threshold: float,
    *,
    drift_feature: str | None = None,
) -> tuple[bool, str]:
    """Whether to retrain now, and why.

    Due when there is no model; when the largest feature PSI reaches ``psi_threshold``
    (``drift_feature`` names that feature in the reason); or when ``every_months`` calendar months
    have begun since the last training (monthly data arrives by calendar month, so a model trained
    on 30 September is due on 1 October). ``every_months=0`` retrains on drift only.
    """
    if last_trained_at is None:
        return True, "no model"
    if max_psi is not None and not math.isnan(max_psi) and max_psi >= psi_threshold:
        on = f" on {drift_feature}" if drift_feature else ""
        return True, f"drift: PSI {max_psi:.2f}{on} ≥ {psi_threshold:g}"
    if every_months > 0 and _month_number(now) - _month_number(last_trained_at) >= every_months:
        schedule = "monthly schedule" if every_months == 1 else f"every {every_months} months"
        return True, f"{schedule}: last trained {last_trained_at:%Y-%m-%d}"
    return False, "not due"


def max_drift(report: pl.DataFrame) -> tuple[float | None, str | None]:
    """The largest PSI in a :func:`drift_report` among the features that can trigger retraining,
    and its feature (None, None if there is none)."""
    scored = report.filter(pl.col("psi").is_not_null())
    if "retrain_trigger" in scored.columns:
        scored = scored.filter(pl.col("retrain_trigger"))
    if scored.is_empty():
        return None, None
    top = scored.sort("psi", descending=True).row(0, named=True)
    return float(top["psi"]), str(top["feature"])


def _metric(metrics: Mapping[str, Any] | None, name: str) -> float | None:
    if not metrics:
        return None
    value = metrics.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def should_promote(
    candidate_metrics: Mapping[str, Any],
    production_metrics: Mapping[str, Any] | None,
    margin: float,
    metric: str = "roc_auc",
) -> tuple[bool, str]:
    """Promote a retrained model only when it beats production by at least ``margin`` on the
    held-out ``metric`` (higher is better, except Brier score, log loss and ECE)."""
    candidate = _metric(candidate_metrics, metric)
    if candidate is None:
        return False, f"the candidate has no held-out {metric}"
    if production_metrics is None:
        return True, f"no production model ({metric} {candidate:.4f})"
    current = _metric(production_metrics, metric)
    if current is None:
        return True, f"the production model has no {metric} to compare ({candidate:.4f})"
    gain = current - candidate if metric in LOWER_IS_BETTER else candidate - current
    verdict = gain >= margin - 1e-12
    sign = "≥" if verdict else "<"
    return verdict, (
        f"{metric} {candidate:.4f} vs production {current:.4f}: "
        f"improvement {gain:+.4f} {sign} margin {margin:g}"
    )
