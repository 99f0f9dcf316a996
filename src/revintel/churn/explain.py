"""Explaining churn scores: per-customer factors, batch top factors, what-if, waterfall data.

Contributions are exact TreeSHAP values (Lundberg et al. 2020; LightGBM ``pred_contrib``) in
*calibrated log-odds* (see :mod:`revintel.churn.training`): for every customer
``bias + Σ contributions = logit(P(churn))``. Each factor is set against reference statistics of
the training data (:func:`reference_stats`): the feature's mean and standard deviation over all
customers, and its mean among retained and among churned customers; the z-score is
``(value − mean) / std``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import polars as pl

from revintel.churn.tabular import ColumnSpec, encode
from revintel.churn.training import ChurnModel, sigmoid
from revintel.core.errors import Problem, ValidationFailed

_EPOCH = date(1970, 1, 1)


def _num(v: Any) -> float | None:
    """JSON-able float: NaN and None become None."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


@dataclass
class FeatureStats:
    """Reference figures for one feature, on the encoded scale (days for dates, 0/1 booleans)."""

    kind: str
    mean: float | None = None
    std: float | None = None
    retained_mean: float | None = None
    churned_mean: float | None = None
    # categoricals: the most common level overall, among retained and among churned customers
    common: str | None = None
    retained_common: str | None = None
    churned_common: str | None = None


@dataclass
class ReferenceStats:
    """Per-feature reference statistics of the training data; stored with the model as JSON."""

    features: dict[str, FeatureStats] = field(default_factory=dict)
    n: int = 0
    churn_rate: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "n": self.n,
            "churn_rate": self.churn_rate,
            "features": {name: vars(fs).copy() for name, fs in self.features.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferenceStats:
        """Inverse of :meth:`as_dict`."""
        return cls(
            features={name: FeatureStats(**fs) for name, fs in d["features"].items()},
            n=int(d.get("n", 0)),
            churn_rate=d.get("churn_rate"),
        )


def _mode_level(codes: np.ndarray, categories: list[str]) -> str | None:
    codes = codes[~np.isnan(codes)].astype(np.int64)
    if len(codes) == 0 or not categories:
        return None
    return categories[int(np.bincount(codes, minlength=len(categories)).argmax())]


def reference_stats(frame: pl.DataFrame, specs: list[ColumnSpec], y: np.ndarray) -> ReferenceStats:
    """Mean, std, retained and churned means (most common levels for categoricals) per feature."""
    x = encode(frame, specs)
    y = np.asarray(y, dtype=bool)
    features: dict[str, FeatureStats] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups → NaN → None
        for j, spec in enumerate(specs):
            col = x[:, j]
            if spec.kind == "categorical":
                cats = spec.categories or []
                features[spec.name] = FeatureStats(
                    kind=spec.kind,
                    common=_mode_level(col, cats),
                    retained_common=_mode_level(col[~y], cats),
                    churned_common=_mode_level(col[y], cats),
                )
            else:
                features[spec.name] = FeatureStats(
                    kind=spec.kind,
                    mean=_num(np.nanmean(col)) if len(col) else None,
                    std=_num(np.nanstd(col)) if len(col) else None,
                    retained_mean=_num(np.nanmean(col[~y])) if (~y).any() else None,
                    churned_mean=_num(np.nanmean(col[y])) if y.any() else None,
                )
    return ReferenceStats(
        features=features, n=len(y), churn_rate=float(y.mean()) if len(y) else None
    )


# -- formatting ------------------------------------------------------------------------------------


def _fmt(v: float | None, kind: str = "numeric") -> str:
    """A number as a person would write it (dates as ISO dates)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "missing"
    if kind == "date":
        return (_EPOCH + timedelta(days=round(v))).isoformat()
    if kind == "boolean":
        return "yes" if v >= 0.5 else "no"
    if float(v).is_integer() or abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2g}" if abs(v) < 0.1 else f"{v:.2f}".rstrip("0").rstrip(".")


def _display_value(v: float, spec: ColumnSpec) -> Any:
    """The customer's value as shown: level text, ISO date, bool or number; None if missing."""
    if math.isnan(v):
        return None
    if spec.kind == "categorical":
        cats = spec.categories or []
        return cats[int(v)] if 0 <= int(v) < len(cats) else None
    if spec.kind == "date":
        return (_EPOCH + timedelta(days=round(v))).isoformat()
    if spec.kind == "boolean":
        return bool(v >= 0.5)
    return float(v)


def _sentence(
    label: str, v: float, spec: ColumnSpec, fs: FeatureStats | None, z: float | None, raises: bool
) -> str:
    effect = "raises risk" if raises else "lowers risk"
    if math.isnan(v):
        return f"{label} is missing, which {effect}"
    if spec.kind == "categorical":
        level = _display_value(v, spec)
        text = f"{label} is {level}"
        if fs is not None and fs.retained_common is not None:
            text += (
                f" (most retained customers: {fs.retained_common}; "
                f"most churned: {fs.churned_common})"
            )
        return f"{text}, which {effect}"
    if spec.kind == "boolean":
        text = f"{label} is {_fmt(v, 'boolean')}"
        if fs is not None and fs.retained_mean is not None and fs.churned_mean is not None:
            text += (
                f" (yes for {fs.retained_mean:.0%} of retained and "
                f"{fs.churned_mean:.0%} of churned customers)"
            )
        return f"{text}, which {effect}"
    retained = fs.retained_mean if fs is not None else None
    compare = f" ({_fmt(v, spec.kind)} vs {_fmt(retained, spec.kind)} for retained customers)"
    if z is None:
        text = f"{label} is {_fmt(v, spec.kind)}"
    elif abs(z) < 0.05:
        text = f"{label} is about average{compare}"
    else:
        text = f"{label} is {abs(z):.1f}σ {'above' if z > 0 else 'below'} average{compare}"
    return f"{text}, which {effect}"


def _z(v: float, fs: FeatureStats | None) -> float | None:
    if fs is None or fs.mean is None or not fs.std or math.isnan(v):
        return None
    return (v - fs.mean) / fs.std


def _one_row(model: ChurnModel, row_frame: pl.DataFrame) -> np.ndarray:
    if row_frame.height != 1:
        raise ValidationFailed(
            [
                Problem(
                    file="customer",
                    message=f"expected exactly one customer row, got {row_frame.height}",
                )
            ]
        )
    return model.encode(row_frame, source="customer")


# -- explanations ----------------------------------------------------------------------------------


def _fields(result: object) -> dict[str, Any]:
    return {f.name: getattr(result, f.name) for f in fields(result)}  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Explanation:
    """One customer's probability and its top factors (:func:`explain`)."""

    probability: float
    log_odds: float
    bias: float
    """The average customer's log-odds."""
    other_contribution: float
    """The contribution of the factors not shown."""
    scale: str
    """``"log-odds"``: contributions add up on this scale."""
    factors: list[dict[str, Any]]
    """Each with ``feature``, ``label``, ``kind``, ``value``, ``retained_avg``, ``churned_avg``,
    ``z_score``, ``contribution``, ``direction`` and ``sentence``."""

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A customer's probability before and after some changes, and changes that lower it."""

    probability: float
    new_probability: float
    delta: float
    changes: dict[str, Any]
    suggestions: list[dict[str, Any]]
    """Each with ``feature``, ``label``, ``from``, ``to``, ``new_probability``, ``delta``."""

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


@dataclass(frozen=True, slots=True)
class Waterfall:
    """Steps from the average customer's log-odds to one customer's (:func:`waterfall`)."""

    scale: str
    base: float
    base_probability: float
    steps: list[dict[str, Any]]
    """Each with ``feature``, ``label``, ``contribution``, ``start``, ``end`` and both ends as
    probabilities."""
    final: float
    final_probability: float

    def to_dict(self) -> dict[str, Any]:
        return _fields(self)


def explain(
    model: ChurnModel,
    row_frame: pl.DataFrame,
    stats: ReferenceStats,
    top: int = 10,
    labels: dict[str, str] | None = None,
) -> Explanation:
    """One customer's probability and its ``top`` factors by |contribution|.

    Returns ``probability``, ``log_odds``, ``bias`` (the average log-odds), ``other_contribution``
    (the factors not shown), ``scale`` ("log-odds") and ``factors``: each with ``feature``,
    ``label``, ``value``, ``retained_avg``, ``churned_avg``, ``z_score``, ``contribution``,
    ``direction`` and a plain-words ``sentence``. For categoricals the averages are the most
    common levels; for booleans the share of "yes".
    """
    labels = labels or {}
    x = _one_row(model, row_frame)
    contrib = model.contributions_from_matrix(x)[0]
    log_odds = float(contrib.sum())
    k = len(model.specs)
    order = np.argsort(-np.abs(contrib[:k]), kind="stable")[: max(top, 0)]
    factors: list[dict[str, Any]] = []
    for j in order:
        spec = model.specs[j]
        fs = stats.features.get(spec.name)
        v = float(x[0, j])
        z = _z(v, fs) if spec.kind != "categorical" else None
        c = float(contrib[j])
        label = labels.get(spec.name, spec.name)
        if spec.kind == "categorical":
            retained_avg: Any = fs.retained_common if fs else None
            churned_avg: Any = fs.churned_common if fs else None
        else:
            retained_avg = fs.retained_mean if fs else None
            churned_avg = fs.churned_mean if fs else None
        factors.append(
            {
                "feature": spec.name,
                "label": label,
                "kind": spec.kind,
                "value": _display_value(v, spec),
                "retained_avg": retained_avg,
                "churned_avg": churned_avg,
                "z_score": z,
                "contribution": c,
                "direction": "raises risk" if c > 0 else "lowers risk",
                "sentence": _sentence(label, v, spec, fs, z, c > 0),
            }
        )
    shown = sum(f["contribution"] for f in factors)
    bias = float(contrib[-1])
    return Explanation(
        probability=float(sigmoid(np.array([log_odds]))[0]),
        log_odds=log_odds,
        bias=bias,
        other_contribution=log_odds - bias - shown,
        scale="log-odds",
        factors=factors,
    )


def explain_many(
    model: ChurnModel,
    frame: pl.DataFrame,
    top: int = 3,
    *,
    by: Literal["risk", "abs"] = "risk",
    contributions: np.ndarray | None = None,
    labels: dict[str, str] | None = None,
) -> pl.DataFrame:
    """The ``top`` factors of every row: ``top_factor_1``, ``top_contribution_1``, … .

    ``by="risk"`` ranks by contribution (most risk-raising first, the customer's "top risk
    factor"); ``by="abs"`` by |contribution|. Pass ``contributions`` (from
    ``model.contributions``) to skip recomputing them. Vectorised: numpy partial sorts.
    """
    contrib = model.contributions(frame) if contributions is None else contributions
    k = len(model.specs)
    phi = contrib[:, :k]
    key = -phi if by == "risk" else -np.abs(phi)
    top = max(0, min(top, k))
    if top == 0 or len(phi) == 0:
        return pl.DataFrame()
    if top < k:
        part = np.argpartition(key, top - 1, axis=1)[:, :top]
    else:
        part = np.tile(np.arange(k), (len(phi), 1))
    order = np.take_along_axis(part, np.argsort(np.take_along_axis(key, part, 1), 1), 1)
    names = pl.Series([(labels or {}).get(n, n) for n in model.feature_names], dtype=pl.String)
    columns: dict[str, pl.Series] = {}
    for i in range(top):
        idx = order[:, i]
        columns[f"top_factor_{i + 1}"] = names.gather(pl.Series(idx, dtype=pl.UInt32))
        columns[f"top_contribution_{i + 1}"] = pl.Series(
            np.take_along_axis(phi, idx[:, None], 1)[:, 0]
        )
    return pl.DataFrame(columns)


def what_if(
    model: ChurnModel,
    row_frame: pl.DataFrame,
    changes: dict[str, Any],
    stats: ReferenceStats,
    labels: dict[str, str] | None = None,
    actionable: Collection[str] | None = None,
) -> WhatIf:
    """The customer's probability after ``changes`` (feature → new raw value), and the single
    changes that would lower it most.

    ``suggestions`` tries, on top of ``changes``, moving each numeric feature to the retained
    customers' average and each boolean to the retained customers' majority (only the features in
    ``actionable``, when given: never tenure, which no action moves), and lists those that
    lower the probability (``feature``, ``label``, ``from``, ``to``, ``new_probability``,
    ``delta`` against the changed probability), largest drop first.
    """
    labels = labels or {}
    unknown = [name for name in changes if name not in model.feature_names]
    if unknown:
        raise ValidationFailed(
            [
                Problem(
                    file="what-if",
                    column=name,
                    message="not a model feature",
                    expected="one of " + ", ".join(model.feature_names),
                )
                for name in unknown
            ]
        )
    x0 = _one_row(model, row_frame)
    changed = row_frame.with_columns([pl.lit(value).alias(name) for name, value in changes.items()])
    x1 = model.encode(changed, source="what-if")
    p0 = float(model.proba_from_matrix(x0)[0])
    p1 = float(model.proba_from_matrix(x1)[0])

    candidates: list[tuple[int, float]] = []
    for j, spec in enumerate(model.specs):
        fs = stats.features.get(spec.name)
        if fs is None or fs.retained_mean is None or spec.kind not in ("numeric", "boolean"):
            continue
        if actionable is not None and spec.name not in actionable:
            continue
        goal = float(round(fs.retained_mean)) if spec.kind == "boolean" else fs.retained_mean
        if x1[0, j] == goal:
            continue
        candidates.append((j, goal))
    suggestions: list[dict[str, Any]] = []
    if candidates:
        trial = np.repeat(x1, len(candidates), axis=0)
        for row, (j, goal) in enumerate(candidates):
            trial[row, j] = goal
        probs = model.proba_from_matrix(trial)
        for (j, goal), p in zip(candidates, probs, strict=True):
            if p >= p1:
                continue
            spec = model.specs[j]
            suggestions.append(
                {
                    "feature": spec.name,
                    "label": labels.get(spec.name, spec.name),
                    "from": _display_value(float(x1[0, j]), spec),
                    "to": _display_value(goal, spec),
                    "new_probability": float(p),
                    "delta": float(p - p1),
                }
            )
        suggestions.sort(key=lambda s: s["delta"])
    return WhatIf(
        probability=p0,
        new_probability=p1,
        delta=p1 - p0,
        changes=dict(changes),
        suggestions=suggestions,
    )


def waterfall(explanation: Explanation) -> Waterfall:
    """Steps from the average customer's log-odds (``base``) to this customer's, one per factor
    in the explanation's order, then "other factors"; each step also in probability.

    ``scale`` is "log-odds": contributions add up there (probabilities do not).
    """
    start = float(explanation.bias)
    steps: list[dict[str, Any]] = []
    pairs = [
        (f["feature"], f.get("label", f["feature"]), f["contribution"]) for f in explanation.factors
    ]
    other = float(explanation.other_contribution)
    if abs(other) > 1e-12:
        pairs.append(("other factors", "Other factors", other))
    for feature, label, c in pairs:
        end = start + float(c)
        steps.append(
            {
                "feature": feature,
                "label": label,
                "contribution": float(c),
                "start": start,
                "end": end,
                "start_probability": float(sigmoid(np.array([start]))[0]),
                "end_probability": float(sigmoid(np.array([end]))[0]),
            }
        )
        start = end
    return Waterfall(
        scale="log-odds",
        base=float(explanation.bias),
        base_probability=float(sigmoid(np.array([float(explanation.bias)]))[0]),
        steps=steps,
        final=float(explanation.log_odds),
        final_probability=float(explanation.probability),
    )
