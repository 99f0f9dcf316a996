"""Fitted models: the production model of a kind and horizon, and a loaded model per version."""

from __future__ import annotations

from revintel.churn import registry
from revintel.churn.config import load_config
from revintel.churn.explain import ReferenceStats
from revintel.churn.service.common import FileVersion
from revintel.churn.training import ChurnModel
from revintel.core.errors import NotFoundError
from revintel.core.runtime import Runtime
from revintel.warehouse.cache import SnapshotCache

__all__ = ["load_model", "model", "reference_of", "resolve_model"]

LOADED_MODELS: SnapshotCache[ChurnModel] = SnapshotCache("churn.loaded_models", size=8)
"""Loaded models, keyed by the model file's identity (path, size, modification time) and the
version it is registered as: a file replaced under the same version (an import) is loaded again."""


def load_model(ctx: Runtime, version: str) -> ChurnModel:
    """The fitted model of ``version``, loaded once per model file."""
    # Where the registry writes every version's file (registry.register, registry.import_model);
    # known without a registry query, so a cached model costs no query at all.
    path = ctx.settings.home / registry.MODELS_DIR / f"{version}.skops"
    return LOADED_MODELS.get(
        FileVersion(path),
        (str(path), version),
        lambda: ChurnModel.from_bundle(registry.load_bundle(ctx, version)),
    )


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
    """The fitted model of ``version`` (loaded once per model file)."""
    return load_model(ctx, version)


def reference_of(record: registry.ModelRecord) -> ReferenceStats:
    """The training data's reference statistics of a model (for explanations and what-if)."""
    return ReferenceStats.from_dict(record.reference["stats"])
