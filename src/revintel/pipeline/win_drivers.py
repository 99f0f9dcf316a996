"""Win drivers: what raises or lowers the odds of winning a deal (docs/pipeline.md, Win drivers).

A logistic regression of ``won`` (closed deals: Closed Won = 1, Closed Lost = 0) on the
qualification flags (``has_champion``, ``budget_confirmed``, ``decision_maker_engaged``) and one
indicator per competitor (baseline: no competitor), with deal type and segment as controls (one
indicator per value beside the most common one). Each flag's and competitor's odds ratio is
exp(coefficient) with the 95% interval exp(coefficient ± 1.96 × standard error) (Wald). Rows with
a blank flag are left out (and counted). When the planted truth is there (a generated company),
each recovered odds ratio is shown beside the planted one and whether the interval holds it.

Held-out accuracy: the same model fitted on the earliest 75% of closed deals (by close date) and
scored on the latest 25%: ROC AUC and Brier score.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from revintel.pipeline.frames import MissingDealData

FLAGS: tuple[str, ...] = ("has_champion", "budget_confirmed", "decision_maker_engaged")
CONTROLS: tuple[str, ...] = ("deal_type", "segment")
Z95 = 1.959963984540054
HOLDOUT_SHARE = 0.25
MIN_DEALS = 30


@dataclass(frozen=True)
class Driver:
    """One feature's effect on the odds of winning."""

    feature: str
    odds_ratio: float
    ci_low: float
    ci_high: float
    coefficient: float
    std_error: float
    p_value: float
    deals_with: int
    planted_odds_ratio: float | None = None
    planted_within_ci: bool | None = None


@dataclass(frozen=True)
class WinDrivers:
    """The fitted drivers, the controls used and the held-out accuracy."""

    drivers: list[Driver]
    deals: int
    won: int
    left_out: int
    controls: list[str]
    holdout_auc: float | None
    holdout_brier: float | None
    holdout_deals: int
    truth_compared: bool
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["drivers"] = [asdict(d) for d in self.drivers]
        return out


def _design(
    frame: pl.DataFrame, flags: list[str], competitors: list[str], controls: dict[str, list[str]]
) -> tuple[np.ndarray, list[str]]:
    cols: list[np.ndarray] = [np.ones(frame.height)]
    names = ["const"]
    for flag in flags:
        cols.append(frame[flag].cast(pl.Float64).to_numpy())
        names.append(flag)
    comp = frame["competitor"].to_numpy() if competitors else None
    for c in competitors:
        cols.append(np.asarray(comp == c, dtype=float))
        names.append(f"competitor={c}")
    for control, levels in controls.items():
        values = frame[control].to_numpy()
        for level in levels:
            cols.append(np.asarray(values == level, dtype=float))
            names.append(f"{control}={level}")
    return np.column_stack(cols), names


def _fit(x: np.ndarray, y: np.ndarray) -> Any:
    import statsmodels.api as sm

    model = sm.Logit(y, x)
    try:
        return model.fit(disp=0, maxiter=200)
    except np.linalg.LinAlgError:
        return model.fit_regularized(disp=0, alpha=1e-6, maxiter=200)


def _holdout(
    frame: pl.DataFrame, flags: list[str], competitors: list[str], controls: dict[str, list[str]]
) -> tuple[float | None, float | None, int]:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    ordered = frame.sort("closed_date")
    cut = round(ordered.height * (1.0 - HOLDOUT_SHARE))
    train, test = ordered[:cut], ordered[cut:]
    if train.height < MIN_DEALS or test.height < 10:
        return None, None, test.height
    y_train, y_test = train["won"].to_numpy(), test["won"].to_numpy()
    if len(set(y_train)) < 2 or len(set(y_test)) < 2:
        return None, None, test.height
    x_train, _ = _design(train, flags, competitors, controls)
    x_test, _ = _design(test, flags, competitors, controls)
    try:
        fitted = _fit(x_train, y_train)
    except Exception:  # a degenerate split (perfect separation): report no held-out figure
        return None, None, test.height
    p = np.clip(np.asarray(fitted.predict(x_test)), 1e-9, 1 - 1e-9)
    return float(roc_auc_score(y_test, p)), float(brier_score_loss(y_test, p)), test.height


def fit_win_drivers(closed: pl.DataFrame, truth: pl.DataFrame | None = None) -> WinDrivers:
    """Fit the win-drivers regression on ``closed`` deals.

    ``closed`` has ``won`` (0/1), ``closed_date`` and whichever of :data:`FLAGS`, ``competitor``
    and :data:`CONTROLS` the data holds. ``truth`` (``feature``, ``odds_ratio``) is the planted
    ``deal_win_drivers`` table of a generated company.
    """
    notes: list[str] = []
    flags = [f for f in FLAGS if f in closed.columns and closed[f].null_count() < closed.height]
    missing = [f for f in FLAGS if f not in flags]
    if missing:
        notes.append(f"not in the data: {', '.join(missing)}")
    has_competitor = "competitor" in closed.columns
    if not flags and not has_competitor:
        raise MissingDealData(
            "win drivers need the qualification flags (has_champion, budget_confirmed, "
            "decision_maker_engaged) or the competitor column; the loaded deals have neither"
        )
    frame = closed
    if has_competitor:
        frame = frame.with_columns(
            competitor=pl.when(pl.col("competitor").str.strip_chars().fill_null("") == "")
            .then(None)
            .otherwise(pl.col("competitor").str.strip_chars())
        )
    total = frame.height
    frame = frame.drop_nulls(subset=flags) if flags else frame
    left_out = total - frame.height
    if left_out:
        notes.append(f"{left_out} closed deals with a blank qualification flag are left out")
    if frame.height < MIN_DEALS:
        raise MissingDealData(
            f"win drivers need at least {MIN_DEALS} closed deals with every flag filled; "
            f"the data has {frame.height}"
        )
    competitors: list[str] = []
    if has_competitor:
        counts = (
            frame.filter(pl.col("competitor").is_not_null())
            .group_by("competitor")
            .len()
            .sort(["len", "competitor"], descending=[True, False])
        )
        competitors = [c for c, n in counts.iter_rows() if n >= 5]
        rare = [c for c, n in counts.iter_rows() if n < 5]
        if rare:
            notes.append(f"competitors in fewer than 5 closed deals not estimated: {rare}")
    if not flags and not competitors:
        raise MissingDealData(
            "win drivers need the qualification flags or at least one competitor in 5 closed "
            "deals; the loaded deals have neither filled"
        )
    controls: dict[str, list[str]] = {}
    for control in CONTROLS:
        if control not in frame.columns:
            notes.append(f"control {control} not in the data")
            continue
        frame = frame.with_columns(pl.col(control).fill_null("(none)"))
        counts = frame.group_by(control).len().sort(["len", control], descending=[True, False])
        levels = [v for v, _ in counts.iter_rows()]
        controls[control] = levels[1:]  # the most common value is the baseline
    y = frame["won"].cast(pl.Float64).to_numpy()
    if len(set(y)) < 2:
        raise MissingDealData("win drivers need both won and lost closed deals")
    x, names = _design(frame, flags, competitors, controls)
    fitted = _fit(x, y)
    params = np.asarray(fitted.params)
    bse = np.asarray(fitted.bse)
    pvalues = np.asarray(fitted.pvalues)
    planted: dict[str, float] = {}
    if truth is not None and {"feature", "odds_ratio"} <= set(truth.columns):
        planted = {str(f): float(o) for f, o in truth.select("feature", "odds_ratio").iter_rows()}
    drivers = []
    for i, name in enumerate(names):
        if name == "const" or name.split("=")[0] in CONTROLS:
            continue
        coef, se = float(params[i]), float(bse[i])
        low, high = math.exp(coef - Z95 * se), math.exp(coef + Z95 * se)
        if name in flags:
            deals_with = int(frame[name].sum())
        else:
            deals_with = int((frame["competitor"] == name.split("=", 1)[1]).sum())
        truth_or = planted.get(name)
        drivers.append(
            Driver(
                feature=name,
                odds_ratio=math.exp(coef),
                ci_low=low,
                ci_high=high,
                coefficient=coef,
                std_error=se,
                p_value=float(pvalues[i]),
                deals_with=deals_with,
                planted_odds_ratio=truth_or,
                planted_within_ci=None if truth_or is None else bool(low <= truth_or <= high),
            )
        )
    auc, brier, n_test = _holdout(frame, flags, competitors, controls)
    return WinDrivers(
        drivers=drivers,
        deals=frame.height,
        won=int(y.sum()),
        left_out=left_out,
        controls=[f"{c}={v}" for c, levels in controls.items() for v in levels],
        holdout_auc=auc,
        holdout_brier=brier,
        holdout_deals=n_test,
        truth_compared=bool(planted),
        notes=notes,
    )
