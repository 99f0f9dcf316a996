"""Churn use cases that write to the warehouse: scoring every customer into ``predictions``.

The churn capability computes the scores; this module writes them through the validated,
atomic loader (``revintel.app.ingest``, the ``predictions`` contract) and refreshes the context
so the next read sees them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from revintel.app.context import AppContext
from revintel.churn import service as churn
from revintel.churn.service import TREND_MONTHS, Progress, ScoreRun

__all__ = ["load_predictions", "score_warehouse"]


def score_warehouse(
    ctx: AppContext,
    version: str | None = None,
    *,
    months: int = TREND_MONTHS,
    progress: Progress | None = None,
) -> ScoreRun:
    """Score every customer at each of the last ``months`` months into ``predictions``
    (:func:`revintel.churn.service.score_warehouse`) and refresh ``ctx`` to read them."""
    return churn.score_warehouse(
        ctx,
        version,
        load=lambda frame: load_predictions(ctx, frame),
        months=months,
        progress=progress,
    )


def load_predictions(ctx: AppContext, frame: pl.DataFrame) -> None:
    """Replace the ``predictions`` table with ``frame`` (validated, atomic) and refresh ``ctx``."""
    from revintel.app.ingest import load_paths

    with tempfile.TemporaryDirectory(dir=ctx.settings.home) as tmp:
        path = Path(tmp) / "predictions.parquet"
        frame.write_parquet(path)
        load_paths(ctx, [path], table="predictions", source="churn")
    ctx.refresh()
