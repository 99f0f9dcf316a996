"""Training a churn model on the warehouse or on a feature table, and registering it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from revintel.churn import features as F
from revintel.churn import registry
from revintel.churn.config import ChurnConfig, load_config
from revintel.churn.drift import (
    histogram_reference,
    should_promote,
)
from revintel.churn.evaluation import choose_threshold, evaluate
from revintel.churn.explain import reference_stats
from revintel.churn.service.common import (
    Progress,
    feature_frame,
    holdout_path,
    report_progress,
    scaled,
    truth_dir,
)
from revintel.churn.tabular import ColumnSpec, infer_columns, read_table
from revintel.churn.training import (
    ChurnModel,
    TrainConfig,
    global_importance,
    split_random,
    train_model,
)
from revintel.core.calendar import month_label
from revintel.core.errors import NoDataError, RevintelError
from revintel.core.runtime import Runtime


def _warehouse_specs(frame: pl.DataFrame, names: Sequence[str]) -> list[ColumnSpec]:
    specs = []
    for name in names:
        if name in F.CATEGORICAL:
            levels = sorted(v for v in frame[name].drop_nulls().unique().to_list())
            specs.append(ColumnSpec(name=name, kind="categorical", categories=levels))
        elif name in F.BOOLEAN:
            specs.append(ColumnSpec(name=name, kind="boolean"))
        else:
            specs.append(ColumnSpec(name=name, kind="numeric"))
    return specs


# -- training -------------------------------------------------------------------------------------
@dataclass
class TrainingReport:
    """What a training run produced: the registered version and its held-out evaluation."""

    version: str
    kind: str
    horizon: int | None
    status: str
    metrics: dict[str, Any]
    baseline: dict[str, Any]
    oracle_roc_auc: float | None
    rows: dict[str, int]
    cutoffs: dict[str, list[str]]
    features: list[str]
    dropped: dict[str, str]
    importance: list[tuple[str, float]]
    seconds: float
    promoted: bool = False
    decision: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["importance"] = [{"feature": f, "mean_abs_shap": v} for f, v in self.importance]
        return out

    def summary(self) -> dict[str, Any]:
        """The headline held-out figures (``revintel churn train --format json``)."""
        keys = ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "brier")
        out: dict[str, Any] = {"version": self.version, "horizon_months": self.horizon}
        out.update({k: self.metrics.get(k) for k in keys})
        out["lift_top_decile"] = self.metrics.get("lift_top_decile")
        out["baseline_roc_auc"] = self.baseline.get("roc_auc")
        out["oracle_roc_auc"] = self.oracle_roc_auc
        out["threshold"] = self.metrics.get("threshold")
        out["rows"] = self.rows
        out["status"] = self.status
        out["seconds"] = round(self.seconds, 2)
        return out


def _own_threshold_metrics(
    y: np.ndarray, p: np.ndarray, pb: np.ndarray, fallback: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Held-out metrics of the model and of its logistic baseline, each with precision, recall
    and F1 at its own max-F1 threshold (``threshold_basis`` "max_f1"): a threshold belongs to the
    model it was chosen on, not to whatever model the applied threshold was tuned for."""
    out = []
    for scores in (p, pb):
        best = choose_threshold(y, scores, "max_f1").threshold
        threshold = fallback if best is None else float(best)
        metrics = evaluate(y, scores, threshold=threshold)
        metrics["threshold_basis"] = "as trained" if best is None else "max_f1"
        out.append(metrics)
    return out[0], out[1]


def _labels(frame: pl.DataFrame, column: str) -> np.ndarray:
    return frame[column].cast(pl.Boolean).to_numpy().astype(bool)


def _write_holdout(ctx: Runtime, version: str, frame: pl.DataFrame) -> None:
    path = holdout_path(ctx, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp)
    tmp.replace(path)


def _finish_registration(
    ctx: Runtime,
    model: ChurnModel,
    *,
    kind: str,
    horizon: int | None,
    metrics: dict[str, Any],
    importance: list[tuple[str, float]],
    reference: dict[str, Any],
    training_from: str | None,
    training_to: str | None,
    data_hash: str,
    source: str,
    promote: Literal["auto", "always", "never", "if_better"],
    cfg: ChurnConfig,
) -> tuple[registry.ModelRecord, bool, str]:
    record = registry.register(
        ctx,
        model.to_bundle(),
        kind=kind,
        horizon=horizon,
        metrics=metrics,
        params=model.params,
        features=[s.as_dict() for s in model.specs],
        importance=dict(importance),
        reference=reference,
        training_from=training_from,
        training_to=training_to,
        data_hash=data_hash,
        source=source,
    )
    current = registry.production(ctx, kind=kind, horizon=horizon)
    promoted, decision = (
        False,
        "kept as a candidate: promote it with `revintel churn models promote`",
    )
    if promote == "always" or (promote == "auto" and current is None):
        promoted = True
        decision = "promoted: no model was in production" if current is None else "promoted"
    elif promote == "if_better":
        if current is None:
            promoted, decision = True, "promoted: no model was in production"
        else:
            promoted, decision = should_promote(metrics, current.metrics, cfg.promote_margin)
    if promoted:
        record = registry.promote(ctx, record.version)
    return record, promoted, decision


def train_warehouse_model(
    ctx: Runtime,
    horizon: int = 1,
    *,
    config: TrainConfig | None = None,
    train_months: int = 12,
    progress: Progress | None = None,
    promote: Literal["auto", "always", "never", "if_better"] = "auto",
) -> TrainingReport:
    """Train the churn model of ``horizon`` months on the loaded warehouse and register it.

    Time-based split (``features.plan_cutoffs``): train on up to ``train_months`` earlier cut-offs,
    calibrate on the next one, test on the latest cut-off whose label is complete. On the demo
    company the held-out rows are also scored by the planted true probabilities (the oracle).
    """
    if horizon not in F.HORIZONS:
        raise RevintelError(
            f"horizon = {horizon}: expected one of {', '.join(map(str, F.HORIZONS))} months"
        )
    started = time.perf_counter()
    cfg = load_config(ctx.settings)
    report_progress(progress, 0.0, "Building point-in-time features")
    panel, frame = feature_frame(ctx)
    split = F.plan_cutoffs(panel.first_month, panel.last_month, horizon, train_months)
    label = f"churned_{horizon}m"
    part = {
        name: frame.filter(pl.col("cutoff").is_in(cutoffs) & pl.col(label).is_not_null())
        for name, cutoffs in split.items()
    }
    for name, rows in part.items():
        if rows.height == 0 or rows[label].n_unique() < 2:
            raise NoDataError(
                f"The {name} cut-offs ({', '.join(month_label(c) for c in split[name])}) have "
                f"{rows.height} customers at risk and {'no' if rows.height == 0 else 'one'} label "
                "class; expected churners and retained customers. Load more history."
            )
    names = F.available_features(part["train"])
    specs = _warehouse_specs(part["train"], names)
    report_progress(
        progress, 0.15, f"Training LightGBM on {part['train'].height:,} customer-months"
    )
    model = train_model(
        part["train"],
        part["calibration"],
        specs,
        label,
        config or TrainConfig(),
        progress=scaled(progress, 0.15, 0.8),
    )
    model.horizon_months = horizon
    model.id_column = "account_id"
    report_progress(progress, 0.8, "Evaluating on the held-out cut-off")
    test = part["test"]
    y = _labels(test, label)
    p = model.predict_proba(test)
    pb = model.baseline_proba(test)
    metrics, baseline = _own_threshold_metrics(y, p, pb, cfg.threshold)
    holdout = test.select("account_id", "cutoff", "mrr").with_columns(
        y=pl.Series(y), p=pl.Series(p), baseline_p=pl.Series(pb)
    )
    oracle_auc = None
    oracle = F.oracle_scores(truth_dir(ctx), split["test"])
    if oracle is not None:
        holdout = holdout.join(
            oracle.select(
                "account_id",
                "cutoff",
                pl.col(f"oracle_{horizon}m").alias("oracle_p"),
                pl.col(f"true_churned_{horizon}m").alias("planted_churn"),
            ),
            on=["account_id", "cutoff"],
            how="left",
        )
        known = holdout.filter(pl.col("oracle_p").is_not_null())
        if known.height:
            from revintel.churn.evaluation import roc_auc

            oracle_auc = roc_auc(known["y"].to_numpy(), known["oracle_p"].to_numpy())
            metrics["oracle_coverage"] = known.height / holdout.height
            # Against the generator's own churn event (without the delinquency rule's MRR
            # losses, which the model can see coming in failed payments and the oracle cannot).
            planted = known["planted_churn"].fill_null(False).to_numpy()
            metrics["planted_churn"] = {
                "rows": known.height,
                "churners": int(planted.sum()),
                "model_roc_auc": roc_auc(planted, known["p"].to_numpy()),
                "oracle_roc_auc": roc_auc(planted, known["oracle_p"].to_numpy()),
            }
    metrics["oracle_roc_auc"] = oracle_auc
    metrics["baseline"] = baseline
    importance = global_importance(model, test, max_rows=5_000)
    stats = reference_stats(part["train"], specs, _labels(part["train"], label))
    reference = {
        "stats": stats.as_dict(),
        "histograms": histogram_reference(part["train"], names),
    }
    report_progress(progress, 0.9, "Registering the model")
    record, promoted, decision = _finish_registration(
        ctx,
        model,
        kind="warehouse",
        horizon=horizon,
        metrics=metrics,
        importance=importance,
        reference=reference,
        training_from=month_label(min(split["train"])),
        training_to=month_label(max(split["train"])),
        data_hash=F.frame_hash(part["train"].select("account_id", "cutoff", *names, label)),
        source="warehouse",
        promote=promote,
        cfg=cfg,
    )
    _write_holdout(ctx, record.version, holdout)
    report_progress(progress, 1.0, f"Done: {record.version}")
    return TrainingReport(
        version=record.version,
        kind="warehouse",
        horizon=horizon,
        status=record.status,
        metrics=metrics,
        baseline=baseline,
        oracle_roc_auc=oracle_auc,
        rows={k: v.height for k, v in part.items()},
        cutoffs={k: [month_label(c) for c in v] for k, v in split.items()},
        features=names,
        dropped={},
        importance=importance,
        seconds=time.perf_counter() - started,
        promoted=promoted,
        decision=decision,
    )


def train_table_model(
    ctx: Runtime,
    path: Path,
    target: str,
    id_column: str | None = None,
    *,
    config: TrainConfig | None = None,
    test_share: float = 0.2,
    progress: Progress | None = None,
    promote: Literal["auto", "always", "never", "if_better"] = "auto",
) -> TrainingReport:
    """Train on any customer feature table (CSV or Parquet): one row per customer, a target column.

    Columns are typed automatically (``tabular.infer_columns``); the split is random and
    stratified (``test_share`` held out, a calibration share carved from the rest), seeded.
    """
    started = time.perf_counter()
    cfg = load_config(ctx.settings)
    path = Path(path)
    report_progress(progress, 0.0, f"Reading {path.name}")
    frame = read_table(path)
    for name, column in (("--target", target), ("--id", id_column)):
        if column is not None and column not in frame.columns:
            raise RevintelError(
                f"{path.name}: {name} column {column!r} not found; the columns are "
                f"{', '.join(frame.columns)}"
            )
    exclude = [target] + ([id_column] if id_column else [])
    typing = infer_columns(frame, exclude=exclude)
    from revintel.churn.tabular import parse_target

    y_all = parse_target(frame[target], target)
    frame = frame.with_columns(pl.Series("__y", y_all))
    seed = (config or TrainConfig()).seed
    rest, test = split_random(frame, "__y", test_share=test_share, seed=seed)
    train, calib = split_random(rest, "__y", test_share=0.2, seed=seed + 1)
    report_progress(progress, 0.1, f"Training LightGBM on {train.height:,} rows")
    model = train_model(
        train,
        calib,
        typing.specs,
        "__y",
        config or TrainConfig(),
        progress=scaled(progress, 0.1, 0.8),
    )
    model.target = target
    model.id_column = id_column
    y = test["__y"].to_numpy().astype(bool)
    p = model.predict_proba(test)
    pb = model.baseline_proba(test)
    metrics, baseline = _own_threshold_metrics(y, p, pb, cfg.threshold)
    metrics["baseline"] = baseline
    metrics["oracle_roc_auc"] = None
    importance = global_importance(model, test, max_rows=5_000)
    stats = reference_stats(train, typing.specs, train["__y"].to_numpy().astype(bool))
    names = [s.name for s in typing.specs]
    reference = {"stats": stats.as_dict(), "histograms": histogram_reference(train, names)}
    record, promoted, decision = _finish_registration(
        ctx,
        model,
        kind="table",
        horizon=None,
        metrics=metrics,
        importance=importance,
        reference=reference,
        training_from=None,
        training_to=None,
        data_hash=F.frame_hash(frame.drop("__y")),
        source=path.name,
        promote=promote,
        cfg=cfg,
    )
    ids = (
        test[id_column].cast(pl.String)
        if id_column
        else pl.Series(range(test.height)).cast(pl.String)
    )
    holdout = pl.DataFrame(
        {"account_id": ids, "y": y, "p": p, "baseline_p": pb, "mrr": [None] * test.height},
        schema_overrides={"mrr": pl.Float64},
    )
    _write_holdout(ctx, record.version, holdout)
    return TrainingReport(
        version=record.version,
        kind="table",
        horizon=None,
        status=record.status,
        metrics=metrics,
        baseline=baseline,
        oracle_roc_auc=None,
        rows={"train": train.height, "calibration": calib.height, "test": test.height},
        cutoffs={},
        features=names,
        dropped=dict(typing.dropped),
        importance=importance,
        seconds=time.perf_counter() - started,
        promoted=promoted,
        decision=decision,
    )
