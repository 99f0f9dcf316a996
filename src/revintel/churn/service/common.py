"""What the churn service modules share: progress reports, the request error, file paths under
``REVINTEL_HOME``, the feature frame cached per data snapshot, tiers and factor labels.

Files under ``REVINTEL_HOME``:

* ``models/<version>.skops``: the model (``revintel/churn/registry.py``);
* ``models/<version>.holdout.parquet``: its held-out rows (``y``, ``p``, baseline, oracle,
  ``value``) for threshold and ROI analysis, so a threshold can be chosen again without retraining;
* ``churn/scores/<version>.parquet``: the latest scoring run: per account and cut-off the score,
  the top factors and the latest features (for explanations, what-if and similar customers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from revintel.churn import features as F
from revintel.churn.config import ChurnConfig, TierCutoffs
from revintel.churn.evaluation import risk_tier
from revintel.churn.tabular import ColumnSpec
from revintel.core.errors import InvalidOption
from revintel.core.runtime import Runtime
from revintel.warehouse.cache import SnapshotCache

__all__ = [
    "TREND_MONTHS",
    "DriverSegment",
    "FileVersion",
    "InvalidChurnRequest",
    "Progress",
    "check_feature_values",
    "factor_group",
    "factor_label",
    "feature_frame",
    "holdout_path",
    "now",
    "report_progress",
    "scaled",
    "scores_path",
    "tier_cutoffs",
    "tiers_of",
    "truth_dir",
]

Progress = Callable[[float, str], None]
"""``progress(fraction, message)``: how a long run reports how far it is."""


class InvalidChurnRequest(InvalidOption):
    """A churn request names unknown features, gives a feature a value it cannot take, or an
    invalid option. ``field`` is the request field it names (``rows``, ``changes``), when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _expected_of(spec: ColumnSpec, bounds: tuple[float | None, float | None]) -> str:
    if spec.kind == "boolean":
        return "true or false"
    if spec.kind == "categorical":
        levels = spec.categories or []
        shown = ", ".join(levels[:12]) + (", …" if len(levels) > 12 else "")
        return f"one of {shown}" if levels else "text"
    if spec.kind == "date":
        return "a number (days since 1970-01-01)"
    lo, hi = bounds
    if lo is not None and hi is not None:
        return f"a number from {lo:g} to {hi:g}"
    if lo is not None:
        return f"a number of at least {lo:g}"
    if hi is not None:
        return f"a number of at most {hi:g}"
    return "a number"


def check_feature_values(
    specs: Sequence[ColumnSpec], values: Mapping[str, Any], where: str, *, ranges: bool
) -> None:
    """Refuse a feature value the model cannot take: text for a number ("lots"), a number for a
    category, a share outside 0–1 or a negative count (``ranges``: the warehouse features'
    :func:`revintel.churn.features.value_range`). None is a missing value and always allowed.
    :class:`InvalidChurnRequest` names ``where.feature`` and what was expected."""
    by_name = {spec.name: spec for spec in specs}
    for name, value in values.items():
        spec = by_name.get(name)
        if spec is None or value is None:
            continue
        bounds = F.value_range(name) if ranges and spec.kind == "numeric" else (None, None)
        if spec.kind == "boolean":
            ok = isinstance(value, bool) or (isinstance(value, int | float) and value in (0, 1))
        elif spec.kind == "categorical":
            ok = isinstance(value, str) and (not spec.categories or value in spec.categories)
        else:
            number = isinstance(value, int | float) and not isinstance(value, bool)
            ok = number and math.isfinite(value)
            lo, hi = bounds
            ok = ok and (lo is None or value >= lo) and (hi is None or value <= hi)
        if not ok:
            raise InvalidChurnRequest(
                f"{where}.{name}: expected {_expected_of(spec, bounds)}, got {value!r}",
                field=where.split("[", 1)[0],
            )


DriverSegment = Literal[
    "Payment issues", "Support issues", "Declining engagement", "Revenue decline", "Renewal due"
]

TREND_MONTHS = 6
"""Months of history scored with each run (the risk trend of Customer Lookup)."""

FEATURE_FRAMES: SnapshotCache[tuple[F.Panel, pl.DataFrame]] = SnapshotCache(
    "churn.feature_frame", size=2
)
"""The panel and features of a data snapshot; they depend on the data only."""


@dataclass(frozen=True, slots=True)
class FileVersion:
    """A file as a :class:`~revintel.warehouse.cache.SnapshotCache` data version: its size and
    modification time, so a result read from it is kept until the file is replaced."""

    path: Path

    def data_version(self) -> str | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None  # missing: the reader raises its own error and nothing is kept
        return f"{stat.st_size}:{stat.st_mtime_ns}"


def now() -> datetime:
    return datetime.now(UTC)


def truth_dir(ctx: Runtime) -> Path:
    """Where ``revintel demo`` leaves the demo company's ground truth."""
    return ctx.settings.home / "demo" / "truth"


def holdout_path(ctx: Runtime, version: str) -> Path:
    return ctx.settings.home / "models" / f"{version}.holdout.parquet"


def scores_path(ctx: Runtime, version: str) -> Path:
    return ctx.settings.home / "churn" / "scores" / f"{version}.parquet"


def feature_frame(ctx: Runtime) -> tuple[F.Panel, pl.DataFrame]:
    """The panel and the features at every cut-off month (computed once per data snapshot)."""

    def compute() -> tuple[F.Panel, pl.DataFrame]:
        panel = F.monthly_panel(ctx.warehouse)
        return panel, F.features_at(panel)

    return FEATURE_FRAMES.get(ctx.warehouse, (), compute)


def report_progress(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(max(0.0, min(1.0, fraction)), message)


def scaled(progress: Progress | None, lo: float, hi: float) -> Progress | None:
    """``progress`` for a step that covers ``lo``..``hi`` of the whole run."""
    if progress is None:
        return None
    return lambda f, m: progress(lo + (hi - lo) * f, m)


def tier_cutoffs(cfg: ChurnConfig, reference: pl.Series | np.ndarray | None) -> TierCutoffs:
    """The tier cut-offs of the settings for the customers scored ``reference`` (shares and
    multiples of the average are of them); None gives the fixed cut-offs."""
    return cfg.tiers.cutoffs(None if reference is None else np.asarray(reference, dtype=float))


def tiers_of(
    scores: pl.Series | np.ndarray,
    cfg: ChurnConfig,
    reference: pl.Series | np.ndarray | None = None,
) -> pl.Series:
    """The risk tier of each score under the settings' tiers, among the customers scored
    ``reference`` (the scores themselves when not given)."""
    cut = tier_cutoffs(cfg, scores if reference is None else reference)
    return risk_tier(np.asarray(scores, dtype=float), cut.as_dict())


def factor_group(factor: str | None) -> str | None:
    if factor is None:
        return None
    info = F.FEATURES.get(factor)
    return info.group if info else None


def factor_label(name: str | None) -> str | None:
    if name is None:
        return None
    info = F.FEATURES.get(name)
    return info.label if info else name
