"""Scoring: every customer of the warehouse (rows for ``predictions``), a feature file, rows."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from revintel.churn import registry
from revintel.churn.config import load_config
from revintel.churn.evaluation import risk_tier
from revintel.churn.explain import explain_many
from revintel.churn.service.common import (
    TREND_MONTHS,
    InvalidChurnRequest,
    Progress,
    check_feature_values,
    feature_frame,
    report_progress,
    scores_path,
    tier_cutoffs,
    tiers_of,
)
from revintel.churn.service.models import load_model, resolve_model
from revintel.churn.service.predictions import scored_risks
from revintel.churn.tabular import read_table
from revintel.churn.training import (
    ChurnModel,
)
from revintel.core.calendar import month_label, month_last_day
from revintel.core.errors import RevintelError
from revintel.core.runtime import Runtime

# -- scoring --------------------------------------------------------------------------------------

PredictionsLoader = Callable[[pl.DataFrame], None]
"""Writes scored rows to the ``predictions`` table (and makes them visible to the next read)."""

PREDICTION_COLUMNS = (
    "account_id", "churn_risk_score", "risk_tier", "prediction", "scored_at", "model_version"
)  # fmt: skip
"""The columns a scoring run writes to ``predictions`` (the table's contract)."""


@dataclass(frozen=True, slots=True)
class ScoreRun:
    """A warehouse scoring run: the model, customers scored at the latest month, the months."""

    version: str
    scored: int
    months: list[str]
    seconds: float
    path: Path


def score_warehouse(
    ctx: Runtime,
    version: str | None = None,
    *,
    load: PredictionsLoader,
    months: int = TREND_MONTHS,
    progress: Progress | None = None,
) -> ScoreRun:
    """Score every customer at risk at each of the last ``months`` months into ``predictions``.

    The latest month's rows also get their top risk factors and driver segment; the scores file
    keeps the latest features for explanations. ``load`` writes the rows (columns
    :data:`PREDICTION_COLUMNS`) to the ``predictions`` table; ``revintel.app.churn`` passes the
    validated, atomic loader (the ``predictions`` contract), so a failure leaves the previous
    predictions and scores file in place.
    """
    started = time.perf_counter()
    record = resolve_model(ctx, version, kind="warehouse")
    if record.kind != "warehouse":
        raise RevintelError(
            f"{record.version} was trained on a file, not the warehouse; score a file with "
            "`revintel churn score --file`"
        )
    mdl = load_model(ctx, record.version)
    cfg = load_config(ctx.settings)
    report_progress(progress, 0.0, "Building features")
    panel, frame = feature_frame(ctx)
    last = panel.last_month
    cutoffs = list(range(max(panel.first_month, last - months + 1), last + 1))
    rows = frame.filter(pl.col("cutoff").is_in(cutoffs))
    report_progress(progress, 0.3, f"Scoring {rows.height:,} customer-months")
    p = mdl.predict_proba(rows)
    scored = rows.select("account_id", "cutoff").with_columns(churn_risk_score=pl.Series(p))
    latest = rows.filter(pl.col("cutoff") == last)
    p_latest = scored.filter(pl.col("cutoff") == last)["churn_risk_score"].to_numpy()
    report_progress(progress, 0.6, "Explaining the latest scores")
    cache = latest.with_columns(churn_risk_score=pl.Series(p_latest))
    cut = tier_cutoffs(cfg, p_latest)
    cache = cache.hstack(_top_factors(mdl, cache, cut.low))
    path = scores_path(ctx, record.version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    cache.write_parquet(tmp)
    history = scored.with_columns(
        risk_tier=tiers_of(scored["churn_risk_score"], cfg, p_latest),
        prediction=(pl.col("churn_risk_score") >= cfg.threshold).cast(pl.Int64),
        scored_at=pl.col("cutoff").map_elements(month_last_day, return_dtype=pl.Date),
        model_version=pl.lit(record.version),
    ).drop("cutoff")
    report_progress(progress, 0.8, "Loading predictions")
    load(history.select(PREDICTION_COLUMNS))
    tmp.replace(path)
    report_progress(progress, 1.0, "Done")
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


def score_file(ctx: Runtime, path: Path, version: str | None = None) -> pl.DataFrame:
    """Score an uploaded feature table with a model (its columns must include the model's)."""
    record = (
        resolve_model(ctx, version, kind="table") if version is None else registry.get(ctx, version)
    )
    mdl = load_model(ctx, record.version)
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
        risk_tier=tiers_of(p, cfg),
        prediction=(pl.col("churn_risk_score") >= cfg.threshold).cast(pl.Int64),
        top_risk_factor=top[top.columns[0]],
        model_version=pl.lit(record.version),
    )


def score_records(
    ctx: Runtime, records: Sequence[dict[str, Any]], version: str | None = None
) -> pl.DataFrame:
    """Score feature rows given as dicts (the API's one-customer scoring). Missing features are
    missing values to the model; unknown keys other than ``account_id`` are refused."""
    record = resolve_model(ctx, version)
    mdl = load_model(ctx, record.version)
    if not records:
        raise InvalidChurnRequest("rows: expected at least one row of features")
    known = set(mdl.feature_names) | {"account_id"}
    for i, row in enumerate(records):
        unknown = sorted(set(row) - known)
        if unknown:
            raise InvalidChurnRequest(
                f"rows[{i}]: unknown feature(s) {', '.join(unknown)}; the model {record.version} "
                f"uses {', '.join(mdl.feature_names)}",
                field="rows",
            )
        account = row.get("account_id")
        if not isinstance(account, str | int) or isinstance(account, bool) or not str(account):
            raise InvalidChurnRequest(
                f"rows[{i}].account_id: expected the customer's account id (text), got {account!r}",
                field="rows",
            )
        check_feature_values(mdl.specs, row, f"rows[{i}]", ranges=record.kind == "warehouse")
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
    ids = [str(row["account_id"]) for row in records]
    # A few rows are no population: they are tiered among the customers scored last (the
    # fixed cut-offs when no customer is scored yet).
    cut = cfg.tiers.cutoffs(scored_risks(ctx))
    return pl.DataFrame({"account_id": ids, "churn_risk_score": p}).with_columns(
        risk_tier=risk_tier(p, cut.as_dict()),
        prediction=(pl.col("churn_risk_score") >= cfg.threshold).cast(pl.Int64),
        top_risk_factor=top[top.columns[0]],
        model_version=pl.lit(record.version),
    )
