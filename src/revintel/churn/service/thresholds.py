"""The decision threshold: the held-out threshold table, ROI inputs and saving a threshold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
import polars as pl

from revintel.churn import registry
from revintel.churn.config import ChurnConfig, load_config, update_config
from revintel.churn.evaluation import (
    DEFAULT_GRID,
    ThresholdChoice,
    ThresholdStats,
    choose_threshold,
    evaluate,
    pr_curve_table,
    threshold_stats,
    threshold_table,
)
from revintel.churn.ports import providers
from revintel.churn.service.common import InvalidChurnRequest, holdout_path
from revintel.churn.service.models import resolve_model
from revintel.core.errors import NoDataError, NotFoundError, RevintelError
from revintel.core.runtime import Runtime


# -- thresholds and ROI ---------------------------------------------------------------------------
def _holdout(ctx: Runtime, version: str) -> pl.DataFrame:
    path = holdout_path(ctx, version)
    if not path.exists():
        raise NotFoundError(f"{version} has no held-out predictions ({path.name} is missing)")
    return pl.read_parquet(path)


def clv_per_mrr(ctx: Runtime) -> tuple[float, str]:
    """Lifetime value of one dollar of MRR: gross margin × discounted expected lifetime (months)
    of the whole base's shifted-beta-geometric fit (``docs/clv.md``), and how it was derived."""
    base = providers().base_lifetime(ctx)
    if base.discounted_lifetime_months is None or base.gross_margin is None:
        raise NoDataError(
            "value_per_save: the customers' CLV cannot be estimated (no retention fit: "
            f"{base.reason}); give a value per saved customer instead"
        )
    margin = float(base.gross_margin)
    months = float(base.discounted_lifetime_months)
    how = f"MRR × gross margin {margin:.0%} × discounted lifetime {months:.1f} months"
    return margin * months, how


def _values(
    ctx: Runtime, holdout: pl.DataFrame, value_per_save: float | None
) -> tuple[np.ndarray | float, str]:
    """The value of saving each held-out customer: a fixed amount, or their own CLV (their MRR
    at the cut-off × gross margin × the base's discounted expected lifetime)."""
    if value_per_save is not None:
        return float(value_per_save), "fixed value per saved customer"
    if holdout["mrr"].null_count() == holdout.height:
        raise RevintelError(
            "value_per_save is required for a model trained on a file (no MRR to derive CLV from)"
        )
    factor, how = clv_per_mrr(ctx)
    return holdout["mrr"].fill_null(0.0).to_numpy() * factor, f"each customer's CLV: {how}"


@dataclass(frozen=True, slots=True)
class RoiInputs:
    """What a flagged customer costs and a saved one is worth, as the analysis used them."""

    cost_per_action: float
    value_per_save: float | None
    """The fixed value per saved customer; None when each customer's own CLV was used."""
    value_basis: str
    """How the value was derived, in words."""
    average_value_per_save: float
    success_rate: float
    min_precision: float | None
    max_contacts: int | None = None
    """The most customers the retention team can contact (a capacity); None: no limit."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Capacity:
    """The retention team's capacity carried over to the held-out customers.

    The held-out customers are the whole base at the test cut-off; a team that can contact
    ``max_contacts`` of the ``customers`` it scores can contact the same share of them:
    ``max_flagged`` = ⌊max_contacts × held-out customers ÷ customers⌋ (at most all of them).
    """

    max_contacts: int
    customers: int
    """The customers the capacity is a share of: those the model scored last, else the
    held-out customers themselves."""
    basis: str
    max_flagged: int
    """The most held-out customers a threshold may flag."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class ThresholdAnalysis:
    """A model's held-out threshold table, its optimal thresholds and precision-recall curve.

    Every figure at a threshold (the choices, the table rows and ``at``) is
    :func:`revintel.churn.evaluation.threshold_stats` of the same held-out customers and values at
    that exact threshold, so the same threshold always shows the same figures."""

    version: str
    current_threshold: float
    inputs: RoiInputs
    choices: dict[str, ThresholdChoice]
    """Method (max_f1, max_net_value, recall_at_precision, and with a capacity
    max_net_value_within_capacity) → its choice (threshold None when none qualifies)."""
    table: pl.DataFrame
    pr_curve: pl.DataFrame
    held_out_rows: int
    held_out_churners: int
    at: list[ThresholdStats]
    """The figures at each threshold asked for (``at=``), in the order asked."""
    capacity: Capacity | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["inputs"] = self.inputs.to_dict()
        out["choices"] = {method: choice.to_dict() for method, choice in self.choices.items()}
        out["at"] = [s.to_dict() for s in self.at]
        out["capacity"] = None if self.capacity is None else self.capacity.to_dict()
        return out


TABLE_NOTES = {
    "max_f1": "max F1",
    "recall_at_precision": "max recall at precision ≥ {min_precision:g}",
    "max_net_value": "max net value",
    "max_net_value_within_capacity": "max net value within capacity",
}


def _capacity(ctx: Runtime, version: str, max_contacts: int, held_out: int) -> Capacity:
    if max_contacts < 0:
        raise InvalidChurnRequest(
            f"max_contacts = {max_contacts}: expected a number of customers of 0 or more"
        )
    from revintel.churn.service.predictions import current_predictions

    try:
        scored = current_predictions(ctx).filter(pl.col("model_version") == version).height
    except RevintelError:
        scored = 0
    if scored:
        customers, basis = scored, f"the {scored:,} customers {version} scored last"
    else:
        customers, basis = held_out, f"the {held_out:,} held-out customers (none scored yet)"
    share = min(1.0, max_contacts / customers) if customers else 0.0
    return Capacity(
        max_contacts=max_contacts,
        customers=customers,
        basis=basis,
        max_flagged=int(np.floor(share * held_out + 1e-9)),
    )


def threshold_analysis(
    ctx: Runtime,
    version: str | None = None,
    *,
    cost_per_action: float | None = None,
    value_per_save: float | Literal["clv"] | None = None,
    success_rate: float | None = None,
    min_precision: float | None = None,
    max_contacts: int | None = None,
    at: Sequence[float] = (),
) -> ThresholdAnalysis:
    """Threshold table, the optimal thresholds (the best net value within ``max_contacts`` too)
    and the precision-recall curve on the held-out rows of a model, with the ROI inputs of the
    settings unless given, and the figures at each threshold of ``at``."""
    for t in at:
        if not (isinstance(t, int | float) and 0.0 <= float(t) <= 1.0):
            raise InvalidChurnRequest(f"at = {t!r}: expected thresholds between 0 and 1")
    record = resolve_model(ctx, version)
    cfg = load_config(ctx.settings)
    hold = _holdout(ctx, record.version)
    y = hold["y"].to_numpy().astype(bool)
    p = hold["p"].to_numpy()
    cost = cfg.cost_per_action if cost_per_action is None else cost_per_action
    rate = cfg.success_rate if success_rate is None else success_rate
    # None: the saved setting; "clv": each customer's own CLV whatever the setting says.
    wanted = cfg.value_per_save if value_per_save is None else value_per_save
    value, value_basis = _values(ctx, hold, None if wanted == "clv" else wanted)
    minp = cfg.min_precision if min_precision is None else min_precision
    kw: dict[str, Any] = {"cost_per_action": cost, "value_per_save": value, "success_rate": rate}

    def stats(threshold: float) -> ThresholdStats:
        """Every figure at one threshold: the one computation the choices, table and ``at``
        share."""
        return threshold_stats(y, p, threshold, **kw)

    def choice(method: str, **extra: Any) -> ThresholdChoice:
        chosen = choose_threshold(y, p, method.removesuffix("_within_capacity"), **kw, **extra)  # type: ignore[arg-type]
        if chosen.threshold is None:
            return ThresholdChoice(**chosen.to_dict() | {"method": method})
        return ThresholdChoice(**stats(chosen.threshold).to_dict(), method=method)

    choices = {"max_f1": choice("max_f1"), "max_net_value": choice("max_net_value")}
    if minp is not None:
        choices["recall_at_precision"] = choice("recall_at_precision", min_precision=minp)
    capacity = None
    if max_contacts is not None:
        capacity = _capacity(ctx, record.version, int(max_contacts), hold.height)
        choices["max_net_value_within_capacity"] = choice(
            "max_net_value_within_capacity", max_flagged=capacity.max_flagged
        )
    notes: dict[float, str] = {}
    for method, c in choices.items():
        if c.threshold is not None:
            label = TABLE_NOTES[method].format(min_precision=minp or 0)
            notes[c.threshold] = f"{notes[c.threshold]}; {label}" if c.threshold in notes else label
    applied = float(cfg.threshold)
    notes[applied] = f"{notes[applied]}; applied" if applied in notes else "applied"
    # With a capacity, the recommendation is the best threshold within it, or none at all when
    # no threshold fits it (never the uncapped best instead).
    recommended = choices.get("max_net_value_within_capacity", choices["max_net_value"]).threshold
    table = threshold_table(
        y,
        p,
        thresholds=[*DEFAULT_GRID, *notes],
        notes=notes,
        recommended=recommended,
        recommend=recommended is not None or max_contacts is None,
        **kw,
    )
    return ThresholdAnalysis(
        version=record.version,
        current_threshold=cfg.threshold,
        inputs=RoiInputs(
            cost_per_action=cost,
            value_per_save=None if not isinstance(value, float) else value,
            value_basis=value_basis,
            average_value_per_save=float(np.mean(value)) if not isinstance(value, float) else value,
            success_rate=rate,
            min_precision=minp,
            max_contacts=None if max_contacts is None else int(max_contacts),
        ),
        choices=choices,
        table=table,
        pr_curve=pr_curve_table(y, p),
        held_out_rows=int(hold.height),
        held_out_churners=int(y.sum()),
        at=[stats(float(t)) for t in at],
        capacity=capacity,
    )


def apply_threshold(
    ctx: Runtime,
    threshold: float | None = None,
    *,
    method: str = "manual",
    version: str | None = None,
    min_precision: float | None = None,
    cost_per_action: float | None = None,
    value_per_save: float | Literal["clv"] | None = None,
    success_rate: float | None = None,
    max_contacts: int | None = None,
) -> ChurnConfig:
    """Save the decision threshold (a number, or chosen by a method on the held-out rows); every
    page and endpoint reads it from the settings."""
    if method == "manual":
        if threshold is None or not (0.0 < threshold < 1.0):
            raise RevintelError(f"threshold = {threshold!r}: expected a number between 0 and 1")
        chosen = float(threshold)
    else:
        analysis = threshold_analysis(
            ctx,
            version,
            min_precision=min_precision,
            cost_per_action=cost_per_action,
            value_per_save=value_per_save,
            success_rate=success_rate,
            max_contacts=max_contacts,
        )
        if method not in analysis.choices:
            raise RevintelError(
                f"method = {method!r}: expected manual, max_f1, max_net_value, "
                "recall_at_precision (with min_precision) or max_net_value_within_capacity "
                "(with max_contacts)"
            )
        picked = analysis.choices[method].threshold
        if picked is None and method == "max_net_value_within_capacity":
            raise InvalidChurnRequest(
                f"max_contacts = {max_contacts}: no threshold flags that few held-out customers; "
                "raise max_contacts or choose another method"
            )
        if picked is None:
            raise InvalidChurnRequest(
                f"method = {method}: no threshold reaches a precision of "
                f"{analysis.inputs.min_precision} on the held-out customers; lower "
                "min_precision or choose another method"
            )
        chosen = float(picked)
        if not 0.0 < chosen < 1.0:
            raise InvalidChurnRequest(
                f"method = {method} chose the threshold {chosen:g}, which flags "
                f"{'no' if chosen >= 1.0 else 'every'} customer; set a threshold between 0 and 1 "
                "or choose another method"
            )
    try:
        owner: str | None = resolve_model(ctx, version).version
    except NotFoundError:
        owner = None  # no model yet: the threshold is for the one trained next
    changes: dict[str, Any] = {
        "threshold": chosen,
        "threshold_method": method,
        "threshold_version": owner,
    }
    if min_precision is not None:
        changes["min_precision"] = min_precision
    # Re-read under the settings lock: a concurrent change to another key is kept.
    return update_config(ctx.settings, **changes)


# -- a model's own threshold ---------------------------------------------------------------------
ThresholdPolicy = Literal["own", "max_f1"]


@dataclass(frozen=True, slots=True)
class ModelThreshold:
    """The threshold a model version is judged at, and why."""

    version: str
    threshold: float
    basis: Literal["applied", "max_f1", "as trained"]
    """``applied``: the threshold applied for this model; ``max_f1``: the one maximising F1 on
    its held-out customers; ``as trained``: the one stored with it (no held-out rows kept)."""

    @property
    def label(self) -> str:
        """In words, for captions: "the applied threshold 0.255"."""
        return {
            "applied": "the applied threshold",
            "max_f1": "its max-F1 threshold",
            "as trained": "the threshold stored with it",
        }[self.basis] + f" {self.threshold:.3f}"

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "threshold": self.threshold, "basis": self.basis}


def _applied_to(ctx: Runtime, cfg: ChurnConfig) -> str | None:
    """The version the applied threshold belongs to: the one it was applied for, else the
    production model of the default horizon."""
    if cfg.threshold_version:
        return cfg.threshold_version
    record = registry.production(ctx, kind="warehouse", horizon=cfg.default_horizon)
    return None if record is None else record.version


def model_threshold(
    ctx: Runtime, version: str | None = None, policy: ThresholdPolicy = "own"
) -> ModelThreshold:
    """The threshold a model is judged at: ``own`` is the applied threshold for the model it was
    applied for and its max-F1 threshold for any other; ``max_f1`` is its max-F1 threshold
    (so two models compare at the same policy). Thresholds belong to a model version: another
    model's applied threshold says nothing about this one's scores."""
    record = resolve_model(ctx, version)
    cfg = load_config(ctx.settings)
    if policy == "own" and _applied_to(ctx, cfg) == record.version:
        return ModelThreshold(record.version, float(cfg.threshold), "applied")
    path = holdout_path(ctx, record.version)
    if not path.exists():
        stored = record.metrics.get("threshold")
        return ModelThreshold(
            record.version, float(cfg.threshold if stored is None else stored), "as trained"
        )
    hold = pl.read_parquet(path, columns=["y", "p"])
    best = choose_threshold(hold["y"].to_numpy().astype(bool), hold["p"].to_numpy(), "max_f1")
    if best.threshold is None:  # no churners held out
        return ModelThreshold(record.version, float(cfg.threshold), "as trained")
    return ModelThreshold(record.version, float(best.threshold), "max_f1")


def held_out_metrics(
    ctx: Runtime, version: str | None = None, policy: ThresholdPolicy = "own"
) -> dict[str, Any]:
    """A model's held-out evaluation (:func:`revintel.churn.evaluation.evaluate`) with
    precision, recall, F1, accuracy and the confusion matrix at :func:`model_threshold`;
    ``threshold`` and ``threshold_basis`` say which. The logistic baseline is evaluated at its
    own max-F1 threshold. Threshold-free figures (ROC AUC, PR AUC, Brier) do not change."""
    record = resolve_model(ctx, version)
    metrics = dict(record.metrics)
    chosen = model_threshold(ctx, record.version, policy)
    metrics["threshold_basis"] = chosen.basis
    if chosen.basis == "as trained":
        return metrics
    hold = pl.read_parquet(holdout_path(ctx, record.version))
    y = hold["y"].to_numpy().astype(bool)
    metrics.update(evaluate(y, hold["p"].to_numpy(), threshold=chosen.threshold))
    if "baseline_p" in hold.columns and hold["baseline_p"].null_count() == 0:
        pb = hold["baseline_p"].to_numpy()
        own = choose_threshold(y, pb, "max_f1").threshold
        if own is not None:
            metrics["baseline"] = {
                **evaluate(y, pb, threshold=own),
                "threshold_basis": "max_f1",
            }
    return metrics
