"""Health backtest: did past scores predict churn? And which weights would have predicted it best?

``docs/health.md`` (Backtest) gives every formula. In short, for each past month M:

* label: the account (MRR > 0 at the end of M) churns within the next ``horizon`` (3) months,
  i.e. its MRR is 0 at the end of at least one of M+1..M+3 (logo churn, ``metric-definitions.md``);
  months whose window runs past the data are not scored;
* ROC AUC of the risk ``100 − health`` against the label (Mann–Whitney, ties count one half);
* churn rate per tier and the lift of Critical over Healthy (churn rate ratio);
* suggested weights: an L2-regularised logistic regression of the label on the three pillar
  scores (a missing pillar imputed with the mean of the account's present pillars, which is what
  renormalisation does), fitted by L-BFGS; weight_p ∝ max(−coefficient_p, 0), in whole percent.
  Its AUC is cross-validated: 5 folds grouped by account, weights fitted on 4 folds, health
  recomputed with them on the fifth, out-of-fold scores pooled.

Pure functions over a scored history frame (``service.score_history``); numpy and scipy only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from revintel.health.config import PILLARS, TIERS, HealthConfig, Pillar
from revintel.health.pillars import month_label
from revintel.health.scoring import weighted_score

DEFAULT_HORIZON = 3
FOLDS = 5
L2_PENALTY = 1.0  # on coefficients per unit pillar score / 100, summed over rows ÷ n


def churn_labels(history: pl.DataFrame, horizon: int = DEFAULT_HORIZON) -> pl.DataFrame:
    """``history`` rows whose next ``horizon`` months are in the data, with ``churned_next``.

    ``history`` holds one row per account and month in which the account had MRR > 0; an account
    missing from month M+k (k = 1..horizon) had MRR = 0 at its end.
    """
    last = int(history["month_idx"].max())
    present = history.select("account_id", "month_idx").unique()
    out = history.filter(pl.col("month_idx") + horizon <= last)
    gone = pl.lit(False)
    for k in range(1, horizon + 1):
        shifted = present.with_columns(
            month_idx=pl.col("month_idx") - k, **{f"_in_{k}": pl.lit(True)}
        )
        out = out.join(shifted, on=["account_id", "month_idx"], how="left")
        gone = gone | pl.col(f"_in_{k}").is_null()
    return out.with_columns(churned_next=gone).drop([f"_in_{k}" for k in range(1, horizon + 1)])


def roc_auc(score: np.ndarray, churned: np.ndarray) -> float | None:
    """AUC of ``100 − score`` (risk) for ``churned``: P(a churner scores lower than a stayer).

    None when there are no churners or no stayers (undefined).
    """
    score = np.asarray(score, dtype=np.float64)
    y = np.asarray(churned, dtype=bool)
    keep = ~np.isnan(score)
    score, y = score[keep], y[keep]
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return None
    from scipy.stats import rankdata  # lazy: scipy costs ~1 s of import (the dashboard's)

    ranks = rankdata(-score)  # higher risk, higher rank
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _impute(x: np.ndarray) -> np.ndarray:
    """Missing pillar → mean of the row's present pillars (rows with none are dropped earlier)."""
    row_mean = np.nanmean(x, axis=1, keepdims=True)
    return np.where(np.isnan(x), row_mean, x)


def fit_logistic(x: np.ndarray, y: np.ndarray, penalty: float = L2_PENALTY) -> np.ndarray:
    """Intercept and coefficients of an L2-penalised logistic regression (intercept unpenalised).

    Minimises mean(log(1 + e^η) − y η) + penalty/2 × |β|² ÷ n with η = b0 + x β (L-BFGS).
    """
    n, k = x.shape
    design = np.column_stack([np.ones(n), x])
    yf = y.astype(np.float64)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = design @ theta
        nll = np.mean(np.logaddexp(0.0, eta) - yf * eta)
        p = 0.5 * (1.0 + np.tanh(eta / 2.0))  # stable sigmoid
        grad = design.T @ (p - yf) / n
        reg = penalty / n
        nll += 0.5 * reg * float(theta[1:] @ theta[1:])
        grad[1:] += reg * theta[1:]
        return float(nll), grad

    prior = np.clip(yf.mean(), 1e-6, 1 - 1e-6)
    start = np.zeros(k + 1)
    start[0] = np.log(prior / (1 - prior))
    from scipy.optimize import minimize  # lazy, see above

    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def weights_from_coefficients(coef: np.ndarray) -> dict[Pillar, float] | None:
    """Whole-percent weights ∝ max(−coefficient, 0), summing to 100; None if none lowers risk."""
    raw = np.maximum(-np.asarray(coef, dtype=np.float64), 0.0)
    if raw.sum() <= 0:
        return None
    pct = raw / raw.sum() * 100.0
    whole = np.floor(pct)
    # Largest remainders get the missing points, so the weights sum to exactly 100.
    for i in np.argsort(-(pct - whole))[: int(100 - whole.sum())]:
        whole[i] += 1
    return {p: float(w) for p, w in zip(PILLARS, whole, strict=True)}


def _fold_of(account_ids: pl.Series, folds: int) -> np.ndarray:
    """A stable fold per account (hash of its id), so one account's months share a fold."""
    return np.array(
        [int(hashlib.md5(a.encode()).hexdigest()[:8], 16) % folds for a in account_ids.to_list()]
    )


def _rescore(frame: pl.DataFrame, weights: dict[Pillar, float]) -> np.ndarray:
    return weighted_score(frame.select(PILLARS), weights)["health_score"].to_numpy()


@dataclass
class BacktestResult:
    """Per-month AUCs, churn by tier, lift and suggested weights (``docs/health.md``, Backtest)."""

    horizon: int
    months: list[dict[str, Any]]
    tiers: list[dict[str, Any]]
    lift_critical_over_healthy: float | None
    auc_current: float | None
    auc_suggested_cv: float | None
    current_weights: dict[Pillar, float]
    suggested_weights: dict[Pillar, float] | None
    coefficients: dict[str, float]
    rows: int
    churners: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "horizon_months": self.horizon,
            "rows": self.rows,
            "churners": self.churners,
            "auc_current": self.auc_current,
            "auc_suggested_cv": self.auc_suggested_cv,
            "current_weights": self.current_weights,
            "suggested_weights": self.suggested_weights,
            "coefficients": self.coefficients,
            "lift_critical_over_healthy": self.lift_critical_over_healthy,
            "tiers": self.tiers,
            "months": self.months,
            "notes": self.notes,
        }


def backtest(
    history: pl.DataFrame, config: HealthConfig, horizon: int = DEFAULT_HORIZON
) -> BacktestResult:
    """Backtest the scores of ``history`` (``score_history`` output) against churn."""
    labelled = churn_labels(history, horizon).filter(pl.col("health_score").is_not_null())
    notes: list[str] = []
    if labelled.is_empty():
        notes.append(f"No month has {horizon} later months of data: nothing to backtest.")
    y = labelled["churned_next"].to_numpy().astype(bool)
    score = labelled["health_score"].to_numpy()
    current = config.weights.as_dict()

    months = []
    for (m,), part in labelled.group_by(["month_idx"], maintain_order=False):
        py = part["churned_next"].to_numpy().astype(bool)
        months.append(
            {
                "month": month_label(int(m)),
                "accounts": part.height,
                "churners": int(py.sum()),
                "churn_rate": float(py.mean()) if part.height else None,
                "auc": roc_auc(part["health_score"].to_numpy(), py),
            }
        )
    months.sort(key=lambda r: r["month"])

    tiers = []
    rate: dict[str, float | None] = {}
    for t in TIERS:
        part = labelled.filter(pl.col("tier") == t)
        churners = int(part["churned_next"].sum())
        rate[t] = churners / part.height if part.height else None
        tiers.append(
            {"tier": t, "accounts": part.height, "churners": churners, "churn_rate": rate[t]}
        )
    lift = None
    if rate["Critical"] is not None and rate["Healthy"]:
        lift = rate["Critical"] / rate["Healthy"]

    suggested: dict[Pillar, float] | None = None
    coefficients: dict[str, float] = {}
    auc_cv: float | None = None
    if labelled.height and 0 < y.sum() < len(y):
        x = _impute(labelled.select(PILLARS).to_numpy().astype(np.float64) / 100.0)
        theta = fit_logistic(x, y)
        coefficients = {"intercept": float(theta[0])}
        coefficients.update({p: float(b) for p, b in zip(PILLARS, theta[1:], strict=True)})
        suggested = weights_from_coefficients(theta[1:])
        folds = _fold_of(labelled["account_id"], FOLDS)
        oof = np.full(len(y), np.nan)
        for f in range(FOLDS):
            test = folds == f
            train = ~test
            if not test.any() or not 0 < y[train].sum() < train.sum():
                continue
            w = weights_from_coefficients(fit_logistic(x[train], y[train])[1:])
            if w is None:
                continue
            oof[test] = _rescore(labelled.filter(pl.Series(test)), w)
        auc_cv = roc_auc(oof, y)
        if suggested is None:
            notes.append("No pillar lowered churn risk in the fit: no weights to suggest.")
    else:
        notes.append("Churners and stayers are both needed to fit weights.")
    return BacktestResult(
        horizon=horizon,
        months=months,
        tiers=tiers,
        lift_critical_over_healthy=lift,
        auc_current=roc_auc(score, y),
        auc_suggested_cv=auc_cv,
        current_weights=current,
        suggested_weights=suggested,
        coefficients=coefficients,
        rows=labelled.height,
        churners=int(y.sum()),
        notes=notes,
    )
