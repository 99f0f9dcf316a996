"""Held-out evaluation of churn probabilities, threshold choice with ROI, and risk tiers.

Definitions (a customer is *flagged* when its probability is ≥ the threshold):

* precision = TP / flagged, recall = TP / churners, F1 = their harmonic mean;
* ROC AUC (Hanley & McNeil 1982) and PR AUC as average precision (sklearn's
  ``average_precision_score``: Σ (Rₙ − Rₙ₋₁) Pₙ over thresholds);
* Brier score = mean (p − y)² (Brier 1950); log loss = −mean(y log p + (1 − y) log(1 − p));
* top decile: the ⌈n/10⌉ highest scores; capture = share of all churners found there, lift = the
  churn rate there ÷ the overall churn rate;
* calibration curve: 10 bins of equal count by predicted probability, mean predicted vs observed;
* ROI at a threshold: expected saves = success_rate × churners flagged; saved value =
  success_rate × Σ value of the churners flagged; cost = cost_per_action × flagged;
  net value = saved value − cost.

Degenerate inputs (one class only, nobody flagged) give None for the undefined figures instead of
raising.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import polars as pl

ThresholdMethod = Literal["max_f1", "recall_at_precision", "max_net_value"]

DEFAULT_TIER_BOUNDS: dict[str, float] = {"High": 0.7, "Medium": 0.4, "Low": 0.2}  # brief 004
DEFAULT_GRID: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9)  # + 3 optimal ≤ 10 rows
MAX_CURVE_POINTS = 200


def _arrays(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=bool)
    p = np.asarray(p, dtype=np.float64)
    if y.shape != p.shape:
        raise ValueError(f"{len(y)} labels but {len(p)} scores")
    return y, p


def _ratio(a: float, b: float) -> float | None:
    return float(a / b) if b else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _thin(n: int, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spread points, first and last included."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


def roc_auc(y: Any, p: Any) -> float | None:
    """ROC AUC of scores ``p`` for labels ``y`` (ties count one half); None with one class."""
    y, p = _arrays(y, p)
    if y.all() or not y.any():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def pr_auc(y: Any, p: Any) -> float | None:
    """Average precision of scores ``p`` for labels ``y``; None without churners."""
    y, p = _arrays(y, p)
    if not y.any():
        return None
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, p))


def confusion(y: Any, p: Any, threshold: float = 0.5) -> dict[str, int]:
    """{tp, fp, tn, fn} when customers with p ≥ threshold are flagged as churners."""
    y, p = _arrays(y, p)
    flagged = p >= threshold
    return {
        "tp": int((flagged & y).sum()),
        "fp": int((flagged & ~y).sum()),
        "tn": int((~flagged & ~y).sum()),
        "fn": int((~flagged & y).sum()),
    }


def calibration_curve(y: Any, p: Any, bins: int = 10) -> list[dict[str, float | int]]:
    """Equal-count bins by predicted probability: mean predicted, observed rate, count."""
    y, p = _arrays(y, p)
    order = np.argsort(p, kind="stable")
    out: list[dict[str, float | int]] = []
    for idx in np.array_split(order, min(bins, len(p))):
        if len(idx) == 0:
            continue
        out.append(
            {
                "mean_predicted": float(p[idx].mean()),
                "observed_rate": float(y[idx].mean()),
                "count": len(idx),
            }
        )
    return out


def evaluate(y_true: Any, p: Any, threshold: float = 0.5) -> dict[str, Any]:
    """Every held-out figure the reports show (see the module docstring for definitions)."""
    y, p = _arrays(y_true, p)
    n = len(y)
    positives = int(y.sum())
    both = 0 < positives < n
    cm = confusion(y, p, threshold)
    precision = _ratio(cm["tp"], cm["tp"] + cm["fp"])
    recall = _ratio(cm["tp"], positives)
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    top_k = math.ceil(n / 10)
    top = np.argsort(-p, kind="stable")[:top_k]
    base_rate = positives / n if n else None
    top_rate = float(y[top].mean()) if top_k else None

    roc_points: list[dict[str, float]] = []
    pr_points: list[dict[str, float]] = []
    if both:
        from sklearn.metrics import precision_recall_curve, roc_curve

        fpr, tpr, thr = roc_curve(y, p)
        thr = np.minimum(thr, 1.0)  # sklearn's first threshold is +inf (flag nobody)
        roc_points = [
            {"fpr": float(fpr[i]), "tpr": float(tpr[i]), "threshold": float(thr[i])}
            for i in _thin(len(fpr))
        ]
        prec, rec, thr = precision_recall_curve(y, p)
        thr = np.append(thr, 1.0)  # the last (precision 1, recall 0) point has no threshold
        pr_points = [
            {"recall": float(rec[i]), "precision": float(prec[i]), "threshold": float(thr[i])}
            for i in _thin(len(prec))
        ]
    return {
        "n": n,
        "positives": positives,
        "base_rate": base_rate,
        "threshold": float(threshold),
        "roc_auc": roc_auc(y, p),
        "pr_auc": pr_auc(y, p),
        "accuracy": _ratio(cm["tp"] + cm["tn"], n),
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "brier": float(np.mean((p - y) ** 2)) if n else None,
        "log_loss": float(-np.mean(y * np.log(clipped) + (~y) * np.log1p(-clipped))) if n else None,
        "confusion": cm,
        "lift_top_decile": (top_rate / base_rate) if base_rate and top_rate is not None else None,
        "capture_top_decile": _ratio(float(y[top].sum()), positives),
        "calibration": calibration_curve(y, p) if n else [],
        "roc_curve": roc_points,
        "pr_curve": pr_points,
    }


# -- thresholds and ROI ----------------------------------------------------------------------------


def _values(value_per_save: float | Any, n: int) -> np.ndarray:
    v = np.asarray(value_per_save, dtype=np.float64)
    if v.ndim == 0:
        return np.full(n, float(v))
    if len(v) != n:
        raise ValueError(f"{len(v)} customer values for {n} customers")
    return np.nan_to_num(v, nan=0.0)


def _sweep(y: np.ndarray, p: np.ndarray, values: np.ndarray) -> dict[str, np.ndarray]:
    """Cumulative counts at every distinct score used as threshold (highest first)."""
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    ys = y[order]
    last_of_group = np.r_[ps[1:] != ps[:-1], True] if len(ps) else np.array([], dtype=bool)
    flagged = np.arange(1, len(ps) + 1)[last_of_group]
    tp = np.cumsum(ys)[last_of_group]
    value_tp = np.cumsum(values[order] * ys)[last_of_group]
    return {"threshold": ps[last_of_group], "flagged": flagged, "tp": tp, "value_tp": value_tp}


@dataclass(frozen=True, slots=True)
class ThresholdStats:
    """Counts, precision/recall/F1 and ROI when flagging every customer scoring ≥ ``threshold``."""

    threshold: float | None
    flagged: int
    churners_caught: int
    false_alarms: int
    missed: int
    precision: float | None
    recall: float | None
    f1: float | None
    cost: float
    expected_saves: float
    saved_value: float
    net_value: float

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class ThresholdChoice(ThresholdStats):
    """The threshold a method chose (``threshold`` None when none qualifies), and its figures."""

    method: str


def _stats(
    threshold: float | None,
    flagged: int,
    tp: int,
    positives: int,
    value_tp: float,
    cost_per_action: float,
    success_rate: float,
) -> ThresholdStats:
    precision = _ratio(tp, flagged)
    recall = _ratio(tp, positives)
    cost = cost_per_action * flagged
    saved_value = success_rate * value_tp
    return ThresholdStats(
        threshold=threshold,
        flagged=int(flagged),
        churners_caught=int(tp),
        false_alarms=int(flagged - tp),
        missed=int(positives - tp),
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        cost=float(cost),
        expected_saves=float(success_rate * tp),
        saved_value=float(saved_value),
        net_value=float(saved_value - cost),
    )


def _chosen(stats: ThresholdStats, method: str) -> ThresholdChoice:
    return ThresholdChoice(**stats.to_dict(), method=method)


def threshold_stats(
    y: Any,
    p: Any,
    threshold: float,
    cost_per_action: float = 0.0,
    value_per_save: float | Any = 0.0,
    success_rate: float = 1.0,
) -> ThresholdStats:
    """Counts, precision/recall/F1 and ROI when flagging every customer with p ≥ ``threshold``."""
    y, p = _arrays(y, p)
    values = _values(value_per_save, len(y))
    flagged = p >= threshold
    return _stats(
        float(threshold),
        int(flagged.sum()),
        int((flagged & y).sum()),
        int(y.sum()),
        float(values[flagged & y].sum()),
        cost_per_action,
        success_rate,
    )


def choose_threshold(
    y: Any,
    p: Any,
    method: ThresholdMethod = "max_f1",
    min_precision: float | None = None,
    cost_per_action: float = 0.0,
    value_per_save: float | Any = 0.0,
    success_rate: float = 1.0,
    max_flagged: int | None = None,
) -> ThresholdChoice:
    """The threshold maximising F1, recall subject to precision ≥ ``min_precision``, or net value.

    Candidates are the distinct scores (flag everyone scoring at least that much); with
    ``max_flagged`` (a capacity: how many customers can be contacted), only those flagging at most
    that many. Returns the :func:`threshold_stats` at the choice plus ``method``; ``threshold`` is
    None when no candidate qualifies (no churners, or no threshold reaches ``min_precision``). For
    max net value, when no threshold pays, the answer flags nobody (threshold 1.0 above every
    score, net value 0).
    """
    y, p = _arrays(y, p)
    values = _values(value_per_save, len(y))
    positives = int(y.sum())
    s = _sweep(y, p, values)
    if max_flagged is not None:
        keep = s["flagged"] <= max_flagged
        s = {k: v[keep] for k, v in s.items()}
    stats_at: ThresholdStats
    best: int | None = None
    if method == "max_f1":
        if positives and len(s["tp"]):
            f1 = 2 * s["tp"] / (s["flagged"] + positives)
            best = int(np.argmax(f1))
    elif method == "recall_at_precision":
        if min_precision is None:
            raise ValueError("recall_at_precision needs min_precision")
        if positives and len(s["tp"]):
            ok = np.flatnonzero(s["tp"] / s["flagged"] >= min_precision)
            if len(ok):
                best = int(ok[np.argmax(s["tp"][ok])])  # first = highest threshold on ties
    elif method == "max_net_value":
        if len(s["tp"]):
            net = success_rate * s["value_tp"] - cost_per_action * s["flagged"]
            i = int(np.argmax(net))
            if net[i] > 0:
                best = i
            else:
                top = float(p.max())
                nobody = 1.0 if top < 1.0 else float(np.nextafter(top, np.inf))
                stats_at = _stats(nobody, 0, 0, positives, 0.0, cost_per_action, success_rate)
                return _chosen(stats_at, method)
    else:
        raise ValueError(f"unknown threshold method {method!r}")
    if best is None:
        stats_at = _stats(None, 0, 0, positives, 0.0, cost_per_action, success_rate)
    else:
        stats_at = _stats(
            float(s["threshold"][best]),
            int(s["flagged"][best]),
            int(s["tp"][best]),
            positives,
            float(s["value_tp"][best]),
            cost_per_action,
            success_rate,
        )
    return _chosen(stats_at, method)


def threshold_table(
    y: Any,
    p: Any,
    thresholds: list[float] | None = None,
    cost_per_action: float = 0.0,
    value_per_save: float | Any = 0.0,
    success_rate: float = 1.0,
    min_precision: float = 0.5,
    notes: dict[float, str] | None = None,
    recommended: float | None = None,
    recommend: bool = True,
) -> pl.DataFrame:
    """One row per threshold with counts, precision/recall/F1 and ROI; ``recommended`` marks the
    row of the ``recommended`` threshold (default: the highest net value; no row when
    ``recommend`` is false: a capacity no threshold fits), ``note`` names the
    optimal thresholds (given as ``notes`` with explicit thresholds).

    Default thresholds: :data:`DEFAULT_GRID` plus the max-F1, recall-at-``min_precision`` and
    max-net-value choices, sorted and deduplicated (at most 10 rows).
    """
    y, p = _arrays(y, p)
    notes = dict(notes or {})
    if thresholds is None:
        grid = [float(t) for t in DEFAULT_GRID]
        for method, label in (
            ("max_f1", "max F1"),
            ("recall_at_precision", f"max recall at precision ≥ {min_precision:g}"),
            ("max_net_value", "max net value"),
        ):
            choice = choose_threshold(
                y,
                p,
                method,  # type: ignore[arg-type]
                min_precision=min_precision,
                cost_per_action=cost_per_action,
                value_per_save=value_per_save,
                success_rate=success_rate,
            )
            if choice.threshold is not None:
                t = float(choice.threshold)
                notes[t] = f"{notes[t]}; {label}" if t in notes else label
                grid.append(t)
        thresholds = grid
    # Exact thresholds: a rounded one can flag a different set of customers than the choice it
    # stands for (a score between the two).
    ts = sorted({float(t) for t in thresholds})
    rows = [
        {
            **threshold_stats(y, p, t, cost_per_action, value_per_save, success_rate).to_dict(),
            "note": notes.get(t),
        }
        for t in ts
    ]
    schema = {
        "threshold": pl.Float64,
        "flagged": pl.Int64,
        "churners_caught": pl.Int64,
        "false_alarms": pl.Int64,
        "missed": pl.Int64,
        "precision": pl.Float64,
        "recall": pl.Float64,
        "f1": pl.Float64,
        "cost": pl.Float64,
        "expected_saves": pl.Float64,
        "saved_value": pl.Float64,
        "net_value": pl.Float64,
        "note": pl.String,
    }
    table = pl.DataFrame(rows, schema=schema)
    if table.height == 0 or not recommend:
        return table.with_columns(recommended=pl.lit(False))
    if recommended is not None:
        return table.with_columns(recommended=pl.col("threshold") == float(recommended))
    best = int(table["net_value"].arg_max() or 0)
    return table.with_columns(recommended=pl.int_range(pl.len()) == best)


def pr_curve_table(y: Any, p: Any, max_points: int = MAX_CURVE_POINTS) -> pl.DataFrame:
    """Points of the precision–recall curve (threshold, precision, recall, flagged), at most
    ``max_points`` of them, highest threshold first."""
    y, p = _arrays(y, p)
    positives = int(y.sum())
    s = _sweep(y, p, np.zeros(len(y)))
    keep = _thin(len(s["tp"]), max_points)
    flagged = s["flagged"][keep]
    tp = s["tp"][keep]
    return pl.DataFrame(
        {
            "threshold": s["threshold"][keep].astype(np.float64),
            "precision": tp / np.maximum(flagged, 1),
            "recall": tp / positives if positives else np.full(len(tp), np.nan),
            "flagged": flagged.astype(np.int64),
        }
    )


# -- tiers -----------------------------------------------------------------------------------------


def risk_tier(scores: Any, bounds: dict[str, float] | None = None) -> pl.Series:
    """The risk tier of each score: "High", "Medium", "Low" or "Safe".

    With the brief 004 bounds: High > 0.7, Medium 0.4–0.7, Low 0.2–0.4, Safe < 0.2; a score
    exactly on a bound goes to the lower tier for High (0.7 is Medium) and to the upper tier
    otherwise (0.4 is Medium, 0.2 is Low). Missing scores give null.
    """
    b = {**DEFAULT_TIER_BOUNDS, **(bounds or {})}
    p = pl.Series("p", np.asarray(scores, dtype=np.float64)).fill_nan(None)
    return (
        pl.DataFrame({"p": p})
        .select(
            pl.when(pl.col("p").is_null())
            .then(None)
            .when(pl.col("p") > b["High"])
            .then(pl.lit("High"))
            .when(pl.col("p") >= b["Medium"])
            .then(pl.lit("Medium"))
            .when(pl.col("p") >= b["Low"])
            .then(pl.lit("Low"))
            .otherwise(pl.lit("Safe"))
            .alias("risk_tier")
        )
        .to_series()
    )
