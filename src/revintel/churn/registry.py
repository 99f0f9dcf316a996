"""The churn model registry: versions in the app store, fitted models as skops files under home.

Each registered model is a row of ``churn_models`` (version, training window, data hash,
parameters, features, held-out metrics, importance, drift reference, status) and a file
``REVINTEL_HOME/models/{version}.skops`` holding ``ChurnModel.to_bundle()``.

Status moves ``candidate`` → ``production`` (promote; the previous production model of the same
kind and horizon becomes ``archived``) or ``candidate`` → ``rejected``. A rollback re-promotes the
most recently promoted archived model and marks the production model it replaces ``rejected``, so
a second rollback goes further back instead of returning to the model just rolled back.

Files are only ever loaded after :func:`skops.io.get_untrusted_types` has shown that every type in
them is in :data:`TRUSTED_TYPES` (skops' own defaults trust builtins, numpy and scikit-learn);
anything else raises :class:`UntrustedModelFile` and nothing is loaded.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import skops.io as sio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revintel.errors import NotFoundError, RevintelError
from revintel.store.models import ChurnModelVersion

if TYPE_CHECKING:
    from revintel.context import AppContext

ModelKind = Literal["warehouse", "table"]
KINDS: tuple[ModelKind, ...] = ("warehouse", "table")
ModelStatus = Literal["candidate", "production", "rejected", "archived"]
STATUSES: tuple[ModelStatus, ...] = ("candidate", "production", "rejected", "archived")

#: Types beyond skops' defaults that a churn model bundle holds: a LightGBM classifier (its
#: Booster, and the OrderedDict / numpy dtype in its state). scikit-learn pipelines, numpy arrays,
#: dicts, lists and tuples are trusted by skops itself.
TRUSTED_TYPES: tuple[str, ...] = (
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "numpy.dtype",
)

#: Marks a file written by :func:`export_model` (bump when its layout changes).
EXPORT_FORMAT = 1
MODELS_DIR = "models"
_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TOP_IMPORTANCE = 15


class UntrustedModelFile(RevintelError):
    """A model file holds types that are not trusted; it was not loaded."""

    status_code = 422


class InvalidModelFile(RevintelError):
    """A file is not a revintel model file (not a skops archive, or not the expected layout)."""

    status_code = 422


class ModelStateError(RevintelError):
    """The registry cannot do this to the model in its current state (a 409 in the API)."""

    status_code = 409


@dataclass(frozen=True)
class ModelRecord:
    """One registered model version (a plain copy of its registry row)."""

    version: str
    kind: ModelKind
    horizon_months: int | None
    status: ModelStatus
    created_at: datetime
    promoted_at: datetime | None
    training_from: str | None
    training_to: str | None
    data_hash: str
    source: str
    artifact: str
    params: dict[str, Any] = field(default_factory=dict)
    features: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    importance: dict[str, float] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    notes: str | None = None
    parent_version: str | None = None
    id: int | None = None

    def as_dict(self, *, reference: bool = True) -> dict[str, Any]:
        """JSON-able; ``reference=False`` leaves out the (large) drift reference."""
        data = asdict(self)
        data["created_at"] = _iso(self.created_at)
        data["promoted_at"] = _iso(self.promoted_at)
        if not reference:
            data.pop("reference")
        return data

    def artifact_path(self, home: Path) -> Path:
        """Where the fitted model is, under ``home``."""
        return home / self.artifact


# -- helpers ---------------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite drops the timezone; every timestamp we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _record(row: ChurnModelVersion) -> ModelRecord:
    created = _aware(row.created_at)
    assert created is not None
    return ModelRecord(
        id=row.id,
        version=row.version,
        kind=row.kind,  # type: ignore[arg-type]
        horizon_months=row.horizon_months,
        status=row.status,  # type: ignore[arg-type]
        created_at=created,
        promoted_at=_aware(row.promoted_at),
        training_from=row.training_from,
        training_to=row.training_to,
        data_hash=row.data_hash,
        source=row.source,
        artifact=row.artifact,
        params=dict(row.params or {}),
        features=list(row.features or []),
        metrics=dict(row.metrics or {}),
        importance=dict(row.importance or {}),
        reference=dict(row.reference or {}),
        notes=row.notes,
        parent_version=row.parent_version,
    )


def frame_hash(frame: pl.DataFrame) -> str:
    """sha256 (hex) of a training frame: its column names, types and values, in order."""
    digest = hashlib.sha256()
    digest.update(repr([(name, str(dtype)) for name, dtype in frame.schema.items()]).encode())
    buffer = io.BytesIO()
    frame.rechunk().write_ipc(buffer, compression="uncompressed")
    digest.update(buffer.getvalue())
    return digest.hexdigest()


def version_prefix(kind: ModelKind, horizon: int | None) -> str:
    """``churn-{h}m-v`` for a warehouse model of horizon h; ``custom-v`` for a user table's."""
    _check_kind(kind)
    if kind == "table":
        return "custom-v"
    if horizon is None or horizon < 1:
        raise ModelStateError(f"a warehouse model needs a horizon in months ≥ 1, got {horizon!r}")
    return f"churn-{horizon}m-v"


def _next_version(session: Session, kind: ModelKind, horizon: int | None) -> str:
    prefix = version_prefix(kind, horizon)
    versions = session.scalars(
        select(ChurnModelVersion.version).where(ChurnModelVersion.version.like(f"{prefix}%"))
    ).all()
    numbers = [int(v[len(prefix) :]) for v in versions if v[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def next_version(ctx: AppContext, kind: ModelKind, horizon: int | None) -> str:
    """The next free version: ``churn-1m-v3`` after ``churn-1m-v2``, ``custom-v1`` for a first
    user-table model (one more than the highest number with that prefix)."""
    with ctx.store.session() as s:
        return _next_version(s, kind, horizon)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ModelStateError(f"model kind {kind!r}: expected one of {', '.join(KINDS)}")


def _horizon_clause(horizon: int | None) -> Any:
    column = ChurnModelVersion.horizon_months
    return column.is_(None) if horizon is None else column == horizon


def _row(session: Session, version: str) -> ChurnModelVersion:
    row = session.scalars(
        select(ChurnModelVersion).where(ChurnModelVersion.version == version)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"model version {version!r} is not in the registry")
    return row


def _dump_atomic(obj: Any, path: Path) -> None:
    """skops-dump ``obj`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".skops.tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        sio.dump(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _untrusted(path: Path) -> list[str]:
    try:
        types = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidModelFile(
            f"{path}: not a readable skops model file ({type(exc).__name__}: {exc})"
        ) from exc
    return sorted(set(types) - set(TRUSTED_TYPES))


def load_trusted(path: Path) -> Any:
    """Load a skops file after checking every type in it is trusted.

    Raises :class:`UntrustedModelFile` naming the file and the untrusted types (nothing is
    loaded), or :class:`InvalidModelFile` when the file is not a skops archive.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise InvalidModelFile(
            f"{path}: not a skops model file (expected a zip archive written by skops)"
        )
    untrusted = _untrusted(path)
    if untrusted:
        raise UntrustedModelFile(
            f"{path}: refused to load: it contains untrusted types {', '.join(untrusted)}; "
            f"a churn model may only hold scikit-learn, numpy, LightGBM and plain Python values"
        )
    try:
        return sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # skops raises many kinds on a corrupt archive
        raise InvalidModelFile(f"{path}: cannot be loaded ({type(exc).__name__}: {exc})") from exc


# -- registering -----------------------------------------------------------------------------------


def _insert(
    ctx: AppContext,
    bundle: dict[str, Any],
    *,
    kind: ModelKind,
    horizon: int | None,
    status: ModelStatus,
    fields: dict[str, Any],
    version: str | None = None,
) -> ModelRecord:
    """Write the artifact then the row; on a version clash take the next number and retry."""
    _check_kind(kind)
    if status not in STATUSES:
        raise ModelStateError(f"model status {status!r}: expected one of {', '.join(STATUSES)}")
    for _attempt in range(5):
        with ctx.store.session() as s:
            chosen = version or _next_version(s, kind, horizon)
        artifact = f"{MODELS_DIR}/{chosen}.skops"
        path = ctx.settings.home / artifact
        if path.exists():  # a file left behind without a row: never overwrite a model
            version = None
            with ctx.store.session() as s:
                chosen = _next_version(s, kind, horizon)
            artifact = f"{MODELS_DIR}/{chosen}.skops"
            path = ctx.settings.home / artifact
        _dump_atomic(bundle, path)
        try:
            with ctx.store.session() as s:
                row = ChurnModelVersion(
                    version=chosen,
                    kind=kind,
                    horizon_months=horizon,
                    created_at=_utcnow(),
                    status="candidate",
                    artifact=artifact,
                    **fields,
                )
                s.add(row)
                s.flush()
                if status == "production":
                    _promote(s, row)
                elif status != "candidate":
                    row.status = status
                s.flush()
                return _record(row)
        except IntegrityError:
            path.unlink(missing_ok=True)
            with ctx.store.session() as s:
                clash = s.scalars(
                    select(ChurnModelVersion.id).where(ChurnModelVersion.version == chosen)
                ).first()
            if clash is None:
                raise
            version = None  # somebody registered this version meanwhile: take the next
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    raise ModelStateError(f"could not find a free version for a {kind} model")  # pragma: no cover


def register(
    ctx: AppContext,
    model_bundle: dict[str, Any],
    *,
    kind: ModelKind,
    horizon: int | None,
    metrics: dict[str, Any],
    params: dict[str, Any],
    features: list[dict[str, Any]],
    importance: dict[str, float],
    reference: dict[str, Any],
    training_from: str | None,
    training_to: str | None,
    data_hash: str,
    source: str,
    status: ModelStatus = "candidate",
    notes: str | None = None,
    parent_version: str | None = None,
) -> ModelRecord:
    """Register a fitted model (``ChurnModel.to_bundle()``) under the next version.

    Writes ``home/models/{version}.skops`` atomically, then the registry row; if the row cannot be
    written the file is removed. ``status="production"`` promotes it at once.
    """
    return _insert(
        ctx,
        model_bundle,
        kind=kind,
        horizon=horizon,
        status=status,
        fields={
            "training_from": training_from,
            "training_to": training_to,
            "data_hash": data_hash,
            "source": source,
            "params": params,
            "features": features,
            "metrics": metrics,
            "importance": {k: float(v) for k, v in importance.items()},
            "reference": reference,
            "notes": notes,
            "parent_version": parent_version,
        },
    )


# -- reading ---------------------------------------------------------------------------------------


def list_models(
    ctx: AppContext, kind: ModelKind | None = None, horizon: int | None = None
) -> list[ModelRecord]:
    """Registered models, newest first; optionally of one kind and/or horizon."""
    query = select(ChurnModelVersion).order_by(ChurnModelVersion.id.desc())
    if kind is not None:
        query = query.where(ChurnModelVersion.kind == kind)
    if horizon is not None:
        query = query.where(ChurnModelVersion.horizon_months == horizon)
    with ctx.store.session() as s:
        return [_record(r) for r in s.scalars(query).all()]


def get(ctx: AppContext, version: str) -> ModelRecord:
    """One model version; :class:`NotFoundError` naming it when it is not registered."""
    with ctx.store.session() as s:
        return _record(_row(s, version))


def production(
    ctx: AppContext, kind: ModelKind = "warehouse", horizon: int | None = 1
) -> ModelRecord | None:
    """The production model of this kind and horizon, if any."""
    with ctx.store.session() as s:
        row = s.scalars(
            select(ChurnModelVersion).where(
                ChurnModelVersion.kind == kind,
                _horizon_clause(horizon),
                ChurnModelVersion.status == "production",
            )
        ).first()
        return None if row is None else _record(row)


def load_bundle(ctx: AppContext, version: str) -> dict[str, Any]:
    """The fitted model bundle of a version (for ``ChurnModel.from_bundle``), trusted types only."""
    record = get(ctx, version)
    bundle = load_trusted(record.artifact_path(ctx.settings.home))
    if not isinstance(bundle, dict):
        raise InvalidModelFile(f"{record.artifact}: expected a model bundle (a dict)")
    return bundle


# -- status changes --------------------------------------------------------------------------------


def _append_note(row: ChurnModelVersion, note: str) -> None:
    row.notes = f"{row.notes}\n{note}" if row.notes else note


def _promote(session: Session, row: ChurnModelVersion) -> None:
    current = session.scalars(
        select(ChurnModelVersion).where(
            ChurnModelVersion.kind == row.kind,
            _horizon_clause(row.horizon_months),
            ChurnModelVersion.status == "production",
            ChurnModelVersion.id != row.id,
        )
    ).all()
    for old in current:
        old.status = "archived"
    row.status = "production"
    row.promoted_at = _utcnow()


def promote(ctx: AppContext, version: str) -> ModelRecord:
    """Make ``version`` the production model of its kind and horizon; the previous one is
    archived. Promoting the production model again changes nothing."""
    with ctx.store.session() as s:
        row = _row(s, version)
        if row.status != "production":
            _promote(s, row)
            s.flush()
        return _record(row)


def reject(ctx: AppContext, version: str, reason: str) -> ModelRecord:
    """Mark a model rejected, keeping ``reason`` in its notes. The production model cannot be
    rejected: roll back or promote another first."""
    with ctx.store.session() as s:
        row = _row(s, version)
        if row.status == "production":
            raise ModelStateError(
                f"model {version!r} is in production; roll back or promote another version "
                "before rejecting it"
            )
        row.status = "rejected"
        _append_note(row, f"rejected {_utcnow():%Y-%m-%d}: {reason}" if reason else "rejected")
        s.flush()
        return _record(row)


def rollback(ctx: AppContext, kind: ModelKind, horizon: int | None) -> ModelRecord:
    """Re-promote the most recently promoted archived model of this kind and horizon.

    The production model it replaces is marked ``rejected`` (with a note). Raises
    :class:`ModelStateError` when no earlier production model exists.
    """
    with ctx.store.session() as s:
        previous = s.scalars(
            select(ChurnModelVersion)
            .where(
                ChurnModelVersion.kind == kind,
                _horizon_clause(horizon),
                ChurnModelVersion.status == "archived",
                ChurnModelVersion.promoted_at.is_not(None),
            )
            .order_by(ChurnModelVersion.promoted_at.desc(), ChurnModelVersion.id.desc())
        ).first()
        if previous is None:
            where = f"{kind} models" + ("" if horizon is None else f" of horizon {horizon}m")
            raise ModelStateError(f"no earlier production model among {where} to roll back to")
        current = s.scalars(
            select(ChurnModelVersion).where(
                ChurnModelVersion.kind == kind,
                _horizon_clause(horizon),
                ChurnModelVersion.status == "production",
            )
        ).all()
        for row in current:
            row.status = "rejected"
            _append_note(row, f"rolled back to {previous.version} on {_utcnow():%Y-%m-%d}")
        previous.status = "production"
        previous.promoted_at = _utcnow()
        s.flush()
        return _record(previous)


# -- export / import -------------------------------------------------------------------------------


def export_model(ctx: AppContext, version: str, path: Path) -> Path:
    """Write one ``.skops`` file holding the fitted model and its registry metadata:
    ``{"revintel_model": 1, "meta": {...}, "bundle": {...}}``. Returns the path."""
    record = get(ctx, version)
    bundle = load_bundle(ctx, version)
    meta = record.as_dict()
    meta.pop("id")
    meta.pop("artifact")
    _dump_atomic({"revintel_model": EXPORT_FORMAT, "meta": meta, "bundle": bundle}, Path(path))
    return Path(path)


def _meta_str(meta: dict[str, Any], key: str, path: Path) -> str | None:
    value = meta.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidModelFile(f"{path}: meta.{key} must be text, got {value!r}")
    return value


def import_model(ctx: AppContext, path: Path) -> ModelRecord:
    """Register a file written by :func:`export_model` as a new ``candidate``.

    The file is checked against :data:`TRUSTED_TYPES` before anything is loaded
    (:class:`UntrustedModelFile` otherwise). It keeps its version unless that is taken (then it
    gets the next free one); its notes say where it came from.
    """
    path = Path(path)
    content = load_trusted(path)
    if (
        not isinstance(content, dict)
        or content.get("revintel_model") != EXPORT_FORMAT
        or not isinstance(content.get("meta"), dict)
        or not isinstance(content.get("bundle"), dict)
    ):
        raise InvalidModelFile(
            f"{path}: not a revintel model export (expected a skops file written by "
            f"'revintel churn models export', holding revintel_model={EXPORT_FORMAT}, meta "
            "and bundle)"
        )
    meta: dict[str, Any] = content["meta"]
    kind = meta.get("kind")
    if kind not in KINDS:
        raise InvalidModelFile(f"{path}: meta.kind is {kind!r}; expected one of {KINDS}")
    horizon = meta.get("horizon_months")
    if horizon is not None and (not isinstance(horizon, int) or isinstance(horizon, bool)):
        raise InvalidModelFile(f"{path}: meta.horizon_months must be a whole number of months")
    original = _meta_str(meta, "version", path)
    version: str | None = None
    if original and _VERSION_PATTERN.match(original):
        with ctx.store.session() as s:
            taken = s.scalars(
                select(ChurnModelVersion.id).where(ChurnModelVersion.version == original)
            ).first()
        version = None if taken is not None else original
    note = f"imported from {path.name}" + (f" (exported as {original})" if original else "")
    old_notes = _meta_str(meta, "notes", path)
    fields = {
        "training_from": _meta_str(meta, "training_from", path),
        "training_to": _meta_str(meta, "training_to", path),
        "data_hash": _meta_str(meta, "data_hash", path) or "",
        "source": f"import: {path.name}",
        "params": _json_dict(meta.get("params")),
        "features": list(meta.get("features") or []),
        "metrics": _json_dict(meta.get("metrics")),
        "importance": {str(k): float(v) for k, v in _json_dict(meta.get("importance")).items()},
        "reference": _json_dict(meta.get("reference")),
        "notes": f"{old_notes}\n{note}" if old_notes else note,
        "parent_version": _meta_str(meta, "parent_version", path),
    }
    return _insert(
        ctx,
        content["bundle"],
        kind=kind,
        horizon=horizon,
        status="candidate",
        fields=fields,
        version=version,
    )


def _json_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


# -- comparing -------------------------------------------------------------------------------------


def _scalar_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric metrics, nested dicts flattened with dots (``baseline.roc_auc``)."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            flat[name] = float(value)
        elif isinstance(value, dict) and not prefix:
            flat.update(_scalar_metrics(value, prefix=f"{name}."))
    return flat


def _confusion(metrics: dict[str, Any]) -> Any:
    for key in ("confusion_matrix", "confusion"):
        if key in metrics:
            return metrics[key]
    return None


def compare(ctx: AppContext, a: str, b: str) -> dict[str, Any]:
    """Two versions side by side: metrics with deltas (b − a), importance (top 15 of each, union,
    by the larger of the two) and confusion matrices."""
    ra, rb = get(ctx, a), get(ctx, b)
    ma, mb = _scalar_metrics(ra.metrics), _scalar_metrics(rb.metrics)
    metrics = []
    for name in [*ma, *(k for k in mb if k not in ma)]:
        va, vb = ma.get(name), mb.get(name)
        delta = None if va is None or vb is None else vb - va
        metrics.append({"metric": name, "a": va, "b": vb, "delta": delta})

    def top(importance: dict[str, float]) -> list[str]:
        return sorted(importance, key=lambda f: -importance[f])[:_TOP_IMPORTANCE]

    features = set(top(ra.importance)) | set(top(rb.importance))
    importance = sorted(
        ({"feature": f, "a": ra.importance.get(f), "b": rb.importance.get(f)} for f in features),
        key=lambda row: (-max(row["a"] or 0.0, row["b"] or 0.0), row["feature"]),
    )
    return {
        "a": ra.as_dict(reference=False),
        "b": rb.as_dict(reference=False),
        "metrics": metrics,
        "importance": importance,
        "confusion": {"a": _confusion(ra.metrics), "b": _confusion(rb.metrics)},
    }
