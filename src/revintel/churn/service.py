"""Churn prediction as the faces use it: train, evaluate, score, explain, thresholds, lifecycle.

Everything here orchestrates the pure parts (``features``, ``tabular``, ``training``,
``evaluation``, ``explain``, ``drift``) and the registry; the CLI, the API and the dashboard call
these functions and only format their results. See ``docs/churn.md``.

Files under ``REVINTEL_HOME``:

* ``models/<version>.skops`` — the model (registry, ``registry.py``);
* ``models/<version>.holdout.parquet`` — its held-out rows (``y``, ``p``, baseline, oracle,
  ``value``) for threshold and ROI analysis, so a threshold can be chosen again without retraining;
* ``churn/scores/<version>.parquet`` — the latest scoring run: per account and cut-off the score,
  the top factors and the latest features (for explanations, what-if and similar customers).

The scores themselves go to the warehouse ``predictions`` table (its contract), one row per
account and scored month, so every page also works on predictions a user brings (brief 004).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from revintel.churn import features as F
from revintel.churn import registry
from revintel.churn.config import ChurnConfig, config_sources, load_config, update_config
from revintel.churn.drift import (
    data_quality,
    drift_report,
    histogram_reference,
    retraining_due,
    should_promote,
)
from revintel.churn.evaluation import (
    choose_threshold,
    evaluate,
    pr_curve_table,
    risk_tier,
    threshold_table,
)
from revintel.churn.explain import ReferenceStats, explain, explain_many, reference_stats, what_if
from revintel.churn.tabular import ColumnSpec, infer_columns, read_table
from revintel.churn.training import (
    ChurnModel,
    TrainConfig,
    global_importance,
    split_random,
    train_model,
)
from revintel.core.calendar import month_label, month_last_day
from revintel.core.errors import InvalidOption, NoDataError, NotFoundError, RevintelError
from revintel.core.runtime import Runtime
from revintel.core.text import check_text, check_texts
from revintel.core.vocabulary import RISK_TIERS
from revintel.warehouse.cache import ResultCache

Progress = Callable[[float, str], None]


class InvalidChurnRequest(InvalidOption):
    """A churn request names unknown features or an invalid option."""


DriverSegment = Literal[
    "Payment issues", "Support issues", "Declining engagement", "Revenue decline"
]

TREND_MONTHS = 6
"""Months of history scored with each run (the risk trend of Customer Lookup)."""
DRIVER_SEGMENTS: dict[str, tuple[str, str]] = {
    "payment": (
        "Payment issues",
        "Offer a flexible payment plan, update the card on file and call the billing contact.",
    ),
    "support": (
        "Support issues",
        "Escalate open tickets to a senior engineer and schedule a success check-in.",
    ),
    "engagement": (
        "Declining engagement",
        "Run a product training session and re-onboard inactive seats with the champion.",
    ),
    "revenue": (
        "Revenue decline",
        "Review the account's ROI with the economic buyer and propose the right-sized plan.",
    ),
}
"""Driver group → (segment name, recommended action) (brief 004, Customer Segments)."""
FACTOR_ACTIONS: dict[str, str] = {
    "payment": "Call the billing contact: offer a payment plan and update the card on file.",
    "support": "Escalate the open tickets and have the CSM confirm the fix with the customer.",
    "engagement": "Book a training session and show the ROI of the unused key features.",
    "revenue": "Meet the economic buyer: review value delivered and right-size the plan.",
    "profile": "Plan the renewal conversation early with the account owner.",
}


def _now() -> datetime:
    return datetime.now(UTC)


def _ctx_home(ctx: Runtime) -> Path:
    return ctx.settings.home


def truth_dir(ctx: Runtime) -> Path:
    """Where ``revintel demo`` leaves the demo company's ground truth."""
    return _ctx_home(ctx) / "demo" / "truth"


# -- the feature frame, cached per snapshot --------------------------------------------------------
# Computed once per snapshot while other requests wait for it.
_PANELS: ResultCache[tuple[F.Panel, pl.DataFrame]] = ResultCache(size=2)
_LOCK = threading.RLock()


def _snapshot(ctx: Runtime) -> str | None:
    return ctx.warehouse.data_version()


def feature_frame(ctx: Runtime) -> tuple[F.Panel, pl.DataFrame]:
    """The panel and the features at every cut-off month (cached per Parquet snapshot)."""

    def compute() -> tuple[F.Panel, pl.DataFrame]:
        panel = F.monthly_panel(ctx.warehouse)
        return panel, F.features_at(panel)

    snapshot = _snapshot(ctx)
    return compute() if snapshot is None else _PANELS.get((snapshot,), compute)


def clear_caches() -> None:
    _PANELS.clear()
    with _LOCK:
        _PREDICTIONS.clear()
    _MODEL_CACHE.clear()


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


def _report(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(max(0.0, min(1.0, fraction)), message)


def _scaled(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    if progress is None:
        return None
    return lambda f, m: progress(lo + (hi - lo) * f, m)


def _labels(frame: pl.DataFrame, column: str) -> np.ndarray:
    return frame[column].cast(pl.Boolean).to_numpy().astype(bool)


def _holdout_path(ctx: Runtime, version: str) -> Path:
    return _ctx_home(ctx) / "models" / f"{version}.holdout.parquet"


def _write_holdout(ctx: Runtime, version: str, frame: pl.DataFrame) -> None:
    path = _holdout_path(ctx, version)
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
    _report(progress, 0.0, "Building point-in-time features")
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
    _report(progress, 0.15, f"Training LightGBM on {part['train'].height:,} customer-months")
    model = train_model(
        part["train"],
        part["calibration"],
        specs,
        label,
        config or TrainConfig(),
        progress=_scaled(progress, 0.15, 0.8),
    )
    model.horizon_months = horizon
    model.id_column = "account_id"
    _report(progress, 0.8, "Evaluating on the held-out cut-off")
    test = part["test"]
    y = _labels(test, label)
    p = model.predict_proba(test)
    pb = model.baseline_proba(test)
    metrics = evaluate(y, p, threshold=cfg.threshold)
    metrics["threshold"] = cfg.threshold
    baseline = evaluate(y, pb, threshold=cfg.threshold)
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
    _report(progress, 0.9, "Registering the model")
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
    _report(progress, 1.0, f"Done: {record.version}")
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
    _report(progress, 0.0, f"Reading {path.name}")
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
    _report(progress, 0.1, f"Training LightGBM on {train.height:,} rows")
    model = train_model(
        train,
        calib,
        typing.specs,
        "__y",
        config or TrainConfig(),
        progress=_scaled(progress, 0.1, 0.8),
    )
    model.target = target
    model.id_column = id_column
    y = test["__y"].to_numpy().astype(bool)
    p = model.predict_proba(test)
    pb = model.baseline_proba(test)
    metrics = evaluate(y, p, threshold=cfg.threshold)
    metrics["threshold"] = cfg.threshold
    baseline = evaluate(y, pb, threshold=cfg.threshold)
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


# -- models ---------------------------------------------------------------------------------------
def _load_model_uncached(ctx: Runtime, version: str) -> ChurnModel:
    return ChurnModel.from_bundle(registry.load_bundle(ctx, version))


_MODEL_CACHE: OrderedDict[tuple[str, str], ChurnModel] = OrderedDict()


def _load_model(ctx: Runtime, version: str) -> ChurnModel:
    key = (str(_ctx_home(ctx)), version)
    with _LOCK:
        if key in _MODEL_CACHE:
            return _MODEL_CACHE[key]
    model = _load_model_uncached(ctx, version)
    with _LOCK:
        _MODEL_CACHE[key] = model
        while len(_MODEL_CACHE) > 8:
            _MODEL_CACHE.popitem(last=False)
    return model


def resolve_model(
    ctx: Runtime, version: str | None = None, horizon: int | None = None, kind: str = "warehouse"
) -> registry.ModelRecord:
    """The named version, else the production model of ``kind`` and ``horizon``."""
    if version:
        return registry.get(ctx, version)
    cfg = load_config(ctx.settings)
    horizon = horizon or cfg.default_horizon
    record = registry.production(ctx, kind=kind, horizon=horizon if kind == "warehouse" else None)
    if record is None:
        raise NotFoundError(
            f"No {kind} churn model of {horizon} month(s) is in production; train one with "
            "`revintel churn train`"
            + (
                " (or load a predictions table to use your own scores)"
                if kind == "warehouse"
                else ""
            )
        )
    return record


def model(ctx: Runtime, version: str) -> ChurnModel:
    return _load_model(ctx, version)


# -- scoring --------------------------------------------------------------------------------------
def _scores_path(ctx: Runtime, version: str) -> Path:
    return _ctx_home(ctx) / "churn" / "scores" / f"{version}.parquet"


def _tiers(scores: pl.Series | np.ndarray, cfg: ChurnConfig) -> pl.Series:
    bounds = {"High": cfg.tiers.high, "Medium": cfg.tiers.medium, "Low": cfg.tiers.low}
    return risk_tier(np.asarray(scores, dtype=float), bounds)


def _driver_group(factor: str | None) -> str | None:
    if factor is None:
        return None
    info = F.FEATURES.get(factor)
    return info.group if info else None


def _factor_label(name: str | None) -> str | None:
    if name is None:
        return None
    info = F.FEATURES.get(name)
    return info.label if info else name


@dataclass
class ScoreRun:
    version: str
    scored: int
    months: list[str]
    seconds: float
    path: Path


def score_warehouse(
    ctx: Runtime,
    version: str | None = None,
    *,
    months: int = TREND_MONTHS,
    progress: Progress | None = None,
) -> ScoreRun:
    """Score every customer at risk at each of the last ``months`` months into ``predictions``.

    The latest month's rows also get their top risk factors and driver segment; the scores file
    keeps the latest features for explanations. Loading goes through the validated, atomic
    loader (the ``predictions`` contract), so a failure leaves the previous predictions in place.
    """
    started = time.perf_counter()
    record = resolve_model(ctx, version, kind="warehouse")
    if record.kind != "warehouse":
        raise RevintelError(
            f"{record.version} was trained on a file, not the warehouse; score a file with "
            "`revintel churn score --file`"
        )
    mdl = _load_model(ctx, record.version)
    cfg = load_config(ctx.settings)
    _report(progress, 0.0, "Building features")
    panel, frame = feature_frame(ctx)
    last = panel.last_month
    cutoffs = list(range(max(panel.first_month, last - months + 1), last + 1))
    rows = frame.filter(pl.col("cutoff").is_in(cutoffs))
    _report(progress, 0.3, f"Scoring {rows.height:,} customer-months")
    p = mdl.predict_proba(rows)
    scored = rows.select("account_id", "cutoff").with_columns(churn_risk_score=pl.Series(p))
    latest = rows.filter(pl.col("cutoff") == last)
    p_latest = scored.filter(pl.col("cutoff") == last)["churn_risk_score"].to_numpy()
    _report(progress, 0.6, "Explaining the latest scores")
    cache = latest.with_columns(churn_risk_score=pl.Series(p_latest))
    cache = cache.hstack(_top_factors(mdl, cache, cfg.tiers.low))
    path = _scores_path(ctx, record.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    cache.write_parquet(tmp)
    history = scored.with_columns(
        risk_tier=_tiers(scored["churn_risk_score"], cfg),
        prediction=(pl.col("churn_risk_score") >= cfg.threshold).cast(pl.Int64),
        scored_at=pl.col("cutoff").map_elements(month_last_day, return_dtype=pl.Date),
        model_version=pl.lit(record.version),
    ).drop("cutoff")
    _report(progress, 0.8, "Loading predictions")
    _load_predictions(ctx, history)
    tmp.replace(path)
    _report(progress, 1.0, "Done")
    return ScoreRun(
        version=record.version,
        scored=latest.height,
        months=[month_label(c) for c in cutoffs],
        seconds=time.perf_counter() - started,
        path=path,
    )


def _top_factors(mdl: ChurnModel, frame: pl.DataFrame, low: float) -> pl.DataFrame:
    """Top-3 risk factors of the customers above the Safe tier (null for Safe customers).

    TreeSHAP costs O(trees × leaves × depth²) per row, so it runs only where a top risk factor
    is shown or used (High-Risk table, driver segments); a single customer's full explanation is
    computed on demand.
    """
    risky = np.flatnonzero(frame["churn_risk_score"].to_numpy() >= low)
    top = explain_many(mdl, frame[risky.tolist()], top=3) if len(risky) else pl.DataFrame()
    columns = {}
    for i in range(1, 4):
        names = np.full(frame.height, None, dtype=object)
        values = np.full(frame.height, np.nan)
        if f"top_factor_{i}" in top.columns:
            names[risky] = top[f"top_factor_{i}"].to_numpy()
            values[risky] = top[f"top_contribution_{i}"].to_numpy()
        columns[f"top_factor_{i}"] = pl.Series(names.tolist(), dtype=pl.String)
        columns[f"top_contribution_{i}"] = pl.Series(values).fill_nan(None)
    return pl.DataFrame(columns)


def _load_predictions(ctx: Runtime, frame: pl.DataFrame) -> None:
    from revintel.app.ingest import load_paths

    with tempfile.TemporaryDirectory(dir=_ctx_home(ctx)) as tmp:
        path = Path(tmp) / "predictions.parquet"
        frame.select(
            "account_id",
            "churn_risk_score",
            "risk_tier",
            "prediction",
            "scored_at",
            "model_version",
        ).write_parquet(path)
        load_paths(ctx, [path], table="predictions", source="churn")
    ctx.refresh()


def score_file(ctx: Runtime, path: Path, version: str | None = None) -> pl.DataFrame:
    """Score an uploaded feature table with a model (its columns must include the model's)."""
    record = (
        resolve_model(ctx, version, kind="table") if version is None else registry.get(ctx, version)
    )
    mdl = _load_model(ctx, record.version)
    frame = read_table(Path(path))
    cfg = load_config(ctx.settings)
    p = mdl.predict_proba(frame)
    top = explain_many(mdl, frame, top=1)
    ids = (
        frame[mdl.id_column].cast(pl.String)
        if mdl.id_column and mdl.id_column in frame.columns
        else pl.Series("account_id", [str(i + 1) for i in range(frame.height)])
    )
    return pl.DataFrame({"account_id": ids, "churn_risk_score": p}).with_columns(
        risk_tier=_tiers(p, cfg),
        prediction=(pl.col("churn_risk_score") >= cfg.threshold).cast(pl.Int64),
        top_risk_factor=top[top.columns[0]],
        model_version=pl.lit(record.version),
    )


# -- reading predictions (ours or brought) --------------------------------------------------------
def _attributes(ctx: Runtime) -> pl.DataFrame:
    """Per account: name, industry, segment, owner (customers, and accounts when loaded)."""
    from revintel.health.service import account_attributes

    return account_attributes(ctx.warehouse)


_PREDICTIONS: OrderedDict[tuple[Any, ...], pl.DataFrame] = OrderedDict()


def _raw_predictions(ctx: Runtime) -> pl.DataFrame:
    """The whole ``predictions`` table (cached per Parquet snapshot); NoDataError if empty."""
    snapshot = _snapshot(ctx)
    key = ("raw", snapshot)
    if snapshot is not None:
        with _LOCK:
            if key in _PREDICTIONS:
                return _PREDICTIONS[key]
    wh = ctx.warehouse
    raw = None
    if wh.has_table("predictions"):
        raw = pl.from_arrow(wh.table("predictions").to_pyarrow())
    if not isinstance(raw, pl.DataFrame) or raw.height == 0:
        raise NoDataError(
            "No churn predictions yet: train and score a model (`revintel churn train` then "
            "`revintel churn score`) or load your own predictions CSV (account_id, "
            "churn_risk_score, risk_tier, prediction)."
        )
    for name, dtype in (("scored_at", pl.Date), ("model_version", pl.String)):
        if name not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype).alias(name))
    if snapshot is not None:
        with _LOCK:
            _PREDICTIONS[key] = raw
    return raw


def current_predictions(ctx: Runtime) -> pl.DataFrame:
    """The latest prediction per account, tiered and thresholded with the current settings.

    Columns: ``account_id``, ``account_name``, ``segment``, ``industry``, ``owner``,
    ``churn_risk_score``, ``risk_tier``, ``prediction``, ``scored_at``, ``model_version``, and,
    where revintel's own model scored it, ``plan_type``, ``mrr``, ``top_risk_factor``,
    ``top_factor_label``, ``top_factor_contribution``, ``driver_segment``.
    """
    cfg = load_config(ctx.settings)
    snapshot = _snapshot(ctx)
    key = None
    if snapshot is not None:
        sources = tuple((str(p), p.stat().st_mtime_ns) for p in config_sources(ctx.settings))
        key = ("current", snapshot, sources)
        with _LOCK:
            if key in _PREDICTIONS:
                return _PREDICTIONS[key]
    raw = _raw_predictions(ctx)
    # The latest scoring run: rows of the latest scored date (all rows when undated, as
    # imported predictions may be); an account scored before but not then has churned since.
    newest = raw["scored_at"].max()
    if newest is not None:
        raw = raw.filter(pl.col("scored_at") == newest)
    latest = raw.sort(["account_id", "scored_at"]).group_by("account_id").last()
    latest = latest.with_columns(
        risk_tier=_tiers(latest["churn_risk_score"], cfg),
        prediction=(pl.col("churn_risk_score") >= cfg.threshold).cast(pl.Int64),
    )
    latest = latest.join(_attributes(ctx), on="account_id", how="left")
    versions = [v for v in latest["model_version"].drop_nulls().unique().to_list()]
    extra = []
    for version in versions:
        path = _scores_path(ctx, version)
        if path.exists():
            cols = ["account_id", "plan_type", "mrr", "top_factor_1", "top_contribution_1"]
            part = pl.read_parquet(path, columns=cols).with_columns(model_version=pl.lit(version))
            extra.append(part)
    if extra:
        joined = pl.concat(extra, how="vertical_relaxed").rename(
            {"top_factor_1": "top_risk_factor", "top_contribution_1": "top_factor_contribution"}
        )
        latest = latest.join(joined, on=["account_id", "model_version"], how="left")
    for name, dtype in (
        ("plan_type", pl.String),
        ("mrr", pl.Float64),
        ("top_risk_factor", pl.String),
        ("top_factor_contribution", pl.Float64),
    ):
        if name not in latest.columns:
            latest = latest.with_columns(pl.lit(None, dtype).alias(name))
    group = pl.col("top_risk_factor").replace_strict(
        {k: v.group for k, v in F.FEATURES.items()}, default=None, return_dtype=pl.String
    )
    seg_names = {k: v[0] for k, v in DRIVER_SEGMENTS.items()}
    latest = latest.with_columns(
        top_factor_label=pl.col("top_risk_factor").replace_strict(
            {k: v.label for k, v in F.FEATURES.items()}, default=pl.col("top_risk_factor")
        ),
        driver_segment=pl.when(pl.col("top_factor_contribution") > 0).then(
            group.replace_strict(seg_names, default=None, return_dtype=pl.String)
        ),
    )
    latest = latest.sort("churn_risk_score", descending=True)
    if key is not None:
        with _LOCK:
            _PREDICTIONS[key] = latest
            while len(_PREDICTIONS) > 4:
                _PREDICTIONS.popitem(last=False)
    return latest


def filter_predictions(
    frame: pl.DataFrame,
    *,
    tiers: Sequence[str] | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    search: str | None = None,
    segment: Sequence[str] | None = None,
    plan: Sequence[str] | None = None,
    owner: Sequence[str] | None = None,
    driver_segment: str | None = None,
) -> pl.DataFrame:
    """The High-Risk Customers filters (tier, score range, search, segment, plan, owner).

    A text value with a control character (NUL, newline...) is refused with
    :class:`InvalidText` naming the option."""
    check_text("search", search)
    check_text("driver_segment", driver_segment)
    for name, given in (("segment", segment), ("plan", plan), ("owner", owner)):
        check_texts(name, list(given or ()))
    out = frame
    if tiers:
        out = out.filter(pl.col("risk_tier").is_in(list(tiers)))
    if min_score is not None:
        out = out.filter(pl.col("churn_risk_score") >= min_score)
    if max_score is not None:
        out = out.filter(pl.col("churn_risk_score") <= max_score)
    if search:
        needle = search.strip().lower()
        out = out.filter(
            pl.col("account_id").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("account_name")
            .fill_null("")
            .str.to_lowercase()
            .str.contains(needle, literal=True)
        )
    for column, values in (("segment", segment), ("plan_type", plan), ("owner", owner)):
        if values:
            out = out.filter(pl.col(column).is_in(list(values)))
    if driver_segment:
        out = out.filter(pl.col("driver_segment") == driver_segment)
    return out


def overview(ctx: Runtime, frame: pl.DataFrame | None = None) -> dict[str, Any]:
    """Churn Overview: the six KPI cards and the tier distribution."""
    frame = current_predictions(ctx) if frame is None else frame
    cfg = load_config(ctx.settings)
    counts = {t: 0 for t in RISK_TIERS}
    for row in frame.group_by("risk_tier").len().iter_rows():
        counts[row[0]] = row[1]
    mrr_at_risk = None
    if frame["mrr"].null_count() < frame.height:
        mrr_at_risk = float((frame["mrr"].fill_null(0) * frame["churn_risk_score"]).sum())
    return {
        "customers": frame.height,
        "tiers": counts,
        "average_risk": float(frame["churn_risk_score"].mean()) if frame.height else None,
        "predicted_churners": int(frame["prediction"].sum()),
        "threshold": cfg.threshold,
        "expected_churners": float(frame["churn_risk_score"].sum()),
        "expected_mrr_lost": mrr_at_risk,
        "scored_at": str(frame["scored_at"].max()) if frame.height else None,
        "model_versions": sorted(frame["model_version"].drop_nulls().unique().to_list()),
    }


def driver_segments(ctx: Runtime, frame: pl.DataFrame | None = None) -> list[dict[str, Any]]:
    """Payment issues, support issues, declining engagement, revenue decline: customers at risk
    (tier above Safe) whose top risk-raising factor is of that group."""
    frame = current_predictions(ctx) if frame is None else frame
    at_risk = frame.filter(pl.col("risk_tier") != "Safe")
    out = []
    for group, (name, action) in DRIVER_SEGMENTS.items():
        rows = at_risk.filter(pl.col("driver_segment") == name)
        out.append(
            {
                "segment": name,
                "group": group,
                "customers": rows.height,
                "average_risk": float(rows["churn_risk_score"].mean()) if rows.height else None,
                "mrr": float(rows["mrr"].fill_null(0).sum()) if rows.height else 0.0,
                "recommended_action": action,
            }
        )
    return out


# -- one customer ---------------------------------------------------------------------------------
def _scores_frame(ctx: Runtime, version: str) -> pl.DataFrame:
    path = _scores_path(ctx, version)
    if not path.exists():
        raise NotFoundError(
            f"{version} has not scored the warehouse yet; run `revintel churn score`"
        )
    return _read_scores(str(path), path.stat().st_mtime)


@lru_cache(maxsize=4)
def _read_scores(path: str, mtime: float) -> pl.DataFrame:
    return pl.read_parquet(path)


def _stats(record: registry.ModelRecord) -> ReferenceStats:
    return ReferenceStats.from_dict(record.reference["stats"])


def _row(ctx: Runtime, account_id: str) -> tuple[registry.ModelRecord, pl.DataFrame, pl.DataFrame]:
    preds = current_predictions(ctx)
    hit = preds.filter(pl.col("account_id") == account_id)
    if hit.height == 0:
        raise NotFoundError(f"account_id {account_id!r} has no churn prediction")
    version = hit["model_version"][0]
    if version is None:
        raise NotFoundError(
            f"account_id {account_id!r} was scored outside revintel (imported predictions): no "
            "explanation is available"
        )
    try:
        record = registry.get(ctx, version)
    except NotFoundError as exc:
        raise NotFoundError(
            f"account_id {account_id!r} was scored by {version}, which is not in the model registry"
        ) from exc
    scores = _scores_frame(ctx, version)
    row = scores.filter(pl.col("account_id") == account_id)
    if row.height == 0:
        raise NotFoundError(f"account_id {account_id!r} is not in {version}'s latest scoring run")
    return record, hit, row


def customer(ctx: Runtime, account_id: str, top: int = 10) -> dict[str, Any]:
    """Score, tier, explanation (top factors), trend, recommended actions and similar customers."""
    record, hit, row = _row(ctx, account_id)
    mdl = _load_model(ctx, record.version)
    stats = _stats(record)
    labels = {k: v.label for k, v in F.FEATURES.items()}
    explanation = explain(mdl, row, stats, top=top, labels=labels)
    info = hit.row(0, named=True)
    factors = explanation["factors"]
    actions = []
    for factor in factors:
        if factor["contribution"] <= 0:
            continue
        group = _driver_group(factor["feature"]) or "profile"
        action = FACTOR_ACTIONS[group]
        if action not in actions:
            actions.append(action)
        if len(actions) == 3:
            break
    return {
        "account_id": account_id,
        "account_name": info.get("account_name"),
        "segment": info.get("segment"),
        "owner": info.get("owner"),
        "plan_type": info.get("plan_type"),
        "mrr": info.get("mrr"),
        "churn_risk_score": info["churn_risk_score"],
        "risk_tier": info["risk_tier"],
        "prediction": info["prediction"],
        "scored_at": str(info["scored_at"]) if info.get("scored_at") else None,
        "model_version": record.version,
        "horizon_months": record.horizon_months,
        "explanation": explanation,
        "recommended_actions": actions,
        "trend": risk_trend(ctx, account_id),
        "driver_segment": info.get("driver_segment"),
    }


def risk_trend(ctx: Runtime, account_id: str) -> list[dict[str, Any]]:
    """The account's scores over the scored months (``predictions`` history)."""
    raw = _raw_predictions(ctx)
    rows = raw.filter(pl.col("account_id") == account_id).sort("scored_at").to_dicts()
    return [
        {
            "scored_at": str(r["scored_at"]) if r["scored_at"] else None,
            "churn_risk_score": r["churn_risk_score"],
            "model_version": r.get("model_version"),
        }
        for r in rows
    ]


def similar_customers(ctx: Runtime, account_id: str, n: int = 5) -> pl.DataFrame:
    """The ``n`` nearest customers of the same segment in standardised numeric feature space."""
    record, _, row = _row(ctx, account_id)
    scores = _scores_frame(ctx, record.version)
    numeric = [
        s["name"]
        for s in record.features
        if s["kind"] in ("numeric", "boolean") and s["name"] in scores.columns
    ]
    pool = scores
    if "segment" in scores.columns and row["segment"][0] is not None:
        pool = scores.filter(pl.col("segment") == row["segment"][0])
    pool = pool.filter(pl.col("account_id") != account_id)
    if pool.height == 0 or not numeric:
        return pool.select("account_id", "churn_risk_score").head(0)
    x = pool.select([pl.col(c).cast(pl.Float64) for c in numeric]).to_numpy()
    me = row.select([pl.col(c).cast(pl.Float64) for c in numeric]).to_numpy()[0]
    mu, sd = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    sd[~np.isfinite(sd) | (sd == 0)] = 1.0
    z = np.nan_to_num((x - mu) / sd)
    zm = np.nan_to_num((me - mu) / sd)
    dist = np.sqrt(((z - zm) ** 2).sum(axis=1))
    order = np.argsort(dist)[:n]
    picked = pool[order.tolist()].with_columns(distance=pl.Series(dist[order]))
    cols = [
        c
        for c in (
            "account_id",
            "segment",
            "plan_type",
            "mrr",
            "churn_risk_score",
            "top_factor_1",
            "distance",
        )
        if c in picked.columns
    ]
    return picked.select(cols)


def customer_what_if(ctx: Runtime, account_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The account's probability with ``changes`` applied to its latest features."""
    record, _, row = _row(ctx, account_id)
    mdl = _load_model(ctx, record.version)
    names = set(mdl.feature_names)
    unknown = [k for k in changes if k not in names]
    if unknown:
        raise InvalidChurnRequest(
            f"what-if: unknown feature(s) {', '.join(sorted(unknown))}; expected some of "
            f"{', '.join(mdl.feature_names)}"
        )
    labels = {k: v.label for k, v in F.FEATURES.items()}
    return what_if(mdl, row, changes, _stats(record), labels=labels)


def search_accounts(frame: pl.DataFrame, text: str, limit: int = 10) -> list[str]:
    """Suggestions for Customer Lookup: ids or names containing ``text``, riskiest first."""
    return filter_predictions(frame, search=text).head(limit)["account_id"].to_list()


# -- thresholds and ROI ---------------------------------------------------------------------------
def _holdout(ctx: Runtime, version: str) -> pl.DataFrame:
    path = _holdout_path(ctx, version)
    if not path.exists():
        raise NotFoundError(f"{version} has no held-out predictions ({path.name} is missing)")
    return pl.read_parquet(path)


def clv_per_mrr(ctx: Runtime) -> tuple[float, str]:
    """Lifetime value of one dollar of MRR: gross margin × discounted expected lifetime (months)
    of the whole base's shifted-beta-geometric fit (``docs/clv.md``), and how it was derived."""
    from revintel.clv.service import report as clv_report

    overall = clv_report(ctx, by="segment").overall.to_dict()
    if overall.get("del_months") is None:
        raise NoDataError(
            "value_per_save: the customers' CLV cannot be estimated (no retention fit: "
            f"{overall.get('reason')}); give a value per saved customer instead"
        )
    margin = float(overall["gross_margin"])
    months = float(overall["del_months"])
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


def threshold_analysis(
    ctx: Runtime,
    version: str | None = None,
    *,
    cost_per_action: float | None = None,
    value_per_save: float | Literal["clv"] | None = None,
    success_rate: float | None = None,
    min_precision: float | None = None,
) -> dict[str, Any]:
    """Threshold table, the three optimal thresholds and the precision-recall curve on the held-out
    rows of a model, with the ROI inputs of the settings unless given."""
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
    kw = {"cost_per_action": cost, "value_per_save": value, "success_rate": rate}
    choices = {
        "max_f1": choose_threshold(y, p, "max_f1", **kw),
        "max_net_value": choose_threshold(y, p, "max_net_value", **kw),
    }
    if minp is not None:
        choices["recall_at_precision"] = choose_threshold(
            y, p, "recall_at_precision", min_precision=minp, **kw
        )
    table = threshold_table(y, p, **kw)
    return {
        "version": record.version,
        "current_threshold": cfg.threshold,
        "inputs": {
            "cost_per_action": cost,
            "value_per_save": None if not isinstance(value, float) else value,
            "value_basis": value_basis,
            "average_value_per_save": float(np.mean(value))
            if not isinstance(value, float)
            else value,
            "success_rate": rate,
            "min_precision": minp,
        },
        "choices": choices,
        "table": table,
        "pr_curve": pr_curve_table(y, p),
        "held_out_rows": int(hold.height),
        "held_out_churners": int(y.sum()),
    }


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
        )
        if method not in analysis["choices"]:
            raise RevintelError(
                f"method = {method!r}: expected manual, max_f1, max_net_value or "
                "recall_at_precision (with min_precision)"
            )
        picked = analysis["choices"][method]["threshold"]
        if picked is None:
            raise InvalidChurnRequest(
                f"method = {method}: no threshold reaches a precision of "
                f"{analysis['inputs']['min_precision']} on the held-out customers; lower "
                "min_precision or choose another method"
            )
        chosen = float(picked)
        if not 0.0 < chosen < 1.0:
            raise InvalidChurnRequest(
                f"method = {method} chose the threshold {chosen:g}, which flags "
                f"{'no' if chosen >= 1.0 else 'every'} customer; set a threshold between 0 and 1 "
                "or choose another method"
            )
    changes: dict[str, Any] = {"threshold": chosen, "threshold_method": method}
    if min_precision is not None:
        changes["min_precision"] = min_precision
    # Re-read under the settings lock: a concurrent change to another key is kept.
    return update_config(ctx.settings, **changes)


# -- lifecycle ------------------------------------------------------------------------------------
def drift(ctx: Runtime, version: str | None = None) -> dict[str, Any]:
    """PSI per feature (latest month vs training) and the latest month's data-quality report."""
    record = resolve_model(ctx, version)
    panel, frame = feature_frame(ctx)
    current = frame.filter(pl.col("cutoff") == panel.last_month)
    report = drift_report(record.reference["histograms"], current)
    quality = data_quality(current.select([s["name"] for s in record.features]))
    return {
        "version": record.version,
        "month": month_label(panel.last_month),
        "training": f"{record.training_from}..{record.training_to}",
        "drift": report,
        "quality": quality,
        "max_psi": float(report["psi"].max()) if report.height else None,
    }


def retrain(
    ctx: Runtime,
    horizon: int | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Scheduled retraining: retrain when due (monthly or on drift) and promote only if the new
    model beats production by the configured margin."""
    cfg = load_config(ctx.settings)
    horizon = horizon or cfg.default_horizon
    current = registry.production(ctx, kind="warehouse", horizon=horizon)
    max_psi = None
    if current is not None:
        max_psi = drift(ctx, current.version)["max_psi"]
    due, reason = retraining_due(
        current.created_at if current else None,
        _now(),
        cfg.retrain_every_months,
        max_psi,
        cfg.drift_psi_threshold,
    )
    if not (due or force):
        return {
            "retrained": False,
            "reason": reason,
            "production": current.version if current else None,
        }
    report = train_warehouse_model(ctx, horizon, progress=progress, promote="if_better")
    if not report.promoted:
        registry.reject(ctx, report.version, report.decision)
    return {
        "retrained": True,
        "reason": reason if due else "forced",
        "candidate": report.version,
        "promoted": report.promoted,
        "decision": report.decision,
        "production": registry.production(ctx, kind="warehouse", horizon=horizon).version,  # type: ignore[union-attr]
        "metrics": report.summary(),
    }


def model_insights(ctx: Runtime, version: str | None = None) -> dict[str, Any]:
    """Model Insights: metrics, importance, curves, confusion matrix, calibration of a model."""
    record = resolve_model(ctx, version)
    importance = sorted(record.importance.items(), key=lambda kv: -kv[1])
    return {
        "record": record.as_dict(),
        "metrics": record.metrics,
        "importance": [
            {"feature": k, "label": _factor_label(k), "mean_abs_shap": v} for k, v in importance
        ],
    }


def compare_horizons(ctx: Runtime) -> list[dict[str, Any]]:
    """The production 1-month and 3-month models side by side (Churn Overview)."""
    out = []
    for h in F.HORIZONS:
        record = registry.production(ctx, kind="warehouse", horizon=h)
        if record is None:
            continue
        m = record.metrics
        out.append(
            {
                "horizon_months": h,
                "version": record.version,
                **{
                    k: m.get(k) for k in ("roc_auc", "pr_auc", "precision", "recall", "f1", "brier")
                },
                "base_rate": m.get("base_rate"),
                "oracle_roc_auc": m.get("oracle_roc_auc"),
                "baseline_roc_auc": (m.get("baseline") or {}).get("roc_auc"),
            }
        )
    return out


__all__ = [
    "DRIVER_SEGMENTS",
    "ScoreRun",
    "TrainingReport",
    "apply_threshold",
    "clear_caches",
    "compare_horizons",
    "current_predictions",
    "customer",
    "customer_what_if",
    "drift",
    "driver_segments",
    "feature_frame",
    "filter_predictions",
    "model",
    "model_insights",
    "overview",
    "resolve_model",
    "retrain",
    "risk_trend",
    "score_file",
    "score_warehouse",
    "search_accounts",
    "similar_customers",
    "threshold_analysis",
    "train_table_model",
    "train_warehouse_model",
]


def score_records(
    ctx: Runtime, records: Sequence[dict[str, Any]], version: str | None = None
) -> pl.DataFrame:
    """Score feature rows given as dicts (the API's one-customer scoring). Missing features are
    missing values to the model; unknown keys other than ``account_id`` are refused."""
    record = resolve_model(ctx, version)
    mdl = _load_model(ctx, record.version)
    if not records:
        raise InvalidChurnRequest("rows: expected at least one row of features")
    known = set(mdl.feature_names) | {"account_id"}
    for i, row in enumerate(records):
        unknown = sorted(set(row) - known)
        if unknown:
            raise InvalidChurnRequest(
                f"rows[{i}]: unknown feature(s) {', '.join(unknown)}; the model {record.version} "
                f"uses {', '.join(mdl.feature_names)}"
            )
    columns: dict[str, list[Any]] = {}
    for spec in mdl.specs:
        columns[spec.name] = [row.get(spec.name) for row in records]
    frame = pl.DataFrame(
        {
            name: pl.Series(
                name,
                values,
                dtype=pl.String
                if spec.kind == "categorical"
                else (pl.Boolean if spec.kind == "boolean" else pl.Float64),
                strict=False,
            )
            for spec, (name, values) in zip(mdl.specs, columns.items(), strict=True)
        }
    )
    cfg = load_config(ctx.settings)
    p = mdl.predict_proba(frame)
    top = explain_many(mdl, frame, top=1)
    ids = [str(row.get("account_id", i + 1)) for i, row in enumerate(records)]
    return pl.DataFrame({"account_id": ids, "churn_risk_score": p}).with_columns(
        risk_tier=_tiers(p, cfg),
        prediction=(pl.col("churn_risk_score") >= cfg.threshold).cast(pl.Int64),
        top_risk_factor=top[top.columns[0]],
        model_version=pl.lit(record.version),
    )
