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

An imported file (:func:`import_model`) passes three gates before anything is registered
(docs/operations.md, Model bundles):

1. the archive, before any member is read: its size, its member count, its total expanded size
   and its compression ratio, within :class:`BundleLimits` (from the settings);
2. the trusted types, then the content: the export's structure and metadata, a bundle that is
   what revintel's training produces (a fitted LightGBM classifier and logistic baseline over the
   bundle's own feature list; a warehouse model's features are the warehouse features of their
   kinds, its target the churn label of its horizon);
3. a trial: the model scores, explains and measures drift on a few synthetic rows built from its
   feature list, and every probability must be a number in [0, 1].
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import struct
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl
import skops.io as sio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revintel.core.errors import NotFoundError, RevintelError
from revintel.store.models import ChurnModelVersion

if TYPE_CHECKING:
    from revintel.churn.tabular import ColumnSpec
    from revintel.core.config import Settings
    from revintel.core.runtime import Runtime

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


class InvalidModelFile(RevintelError):
    """A file is not a revintel model file (not a skops archive, or not the expected layout)."""


class ModelFileTooLarge(InvalidModelFile):
    """A model file, or what its archive expands to, is over a limit; nothing was read."""


class ModelStateError(RevintelError):
    """The registry cannot do this to the model in its current state."""


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


def next_version(ctx: Runtime, kind: ModelKind, horizon: int | None) -> str:
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


def _untrusted(path: Path, label: str) -> list[str]:
    try:
        types = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidModelFile(
            f"{label}: not a readable skops model file ({type(exc).__name__}: {exc})"
        ) from exc
    return sorted(set(types) - set(TRUSTED_TYPES))


def load_trusted(
    path: Path, *, limits: BundleLimits | None = None, label: str | None = None
) -> Any:
    """Load a skops file after checking every type in it is trusted.

    With ``limits`` the archive is first checked against them (:func:`check_archive`). Raises
    :class:`UntrustedModelFile` naming the file and the untrusted types (nothing is loaded),
    :class:`ModelFileTooLarge` over a limit, or :class:`InvalidModelFile` when the file is not a
    skops archive. Messages name the file as ``label`` (default: its path).
    """
    path = Path(path)
    label = label or str(path)
    if not path.is_file():
        raise NotFoundError(f"{label}: no such model file")
    if limits is not None:
        check_archive(path, limits, label)
    elif not zipfile.is_zipfile(path):
        raise InvalidModelFile(
            f"{label}: not a skops model file (expected a zip archive written by skops)"
        )
    untrusted = _untrusted(path, label)
    if untrusted:
        raise UntrustedModelFile(
            f"{label}: refused to load: it contains untrusted types {', '.join(untrusted)}; "
            f"a churn model may only hold scikit-learn, numpy, LightGBM and plain Python values"
        )
    try:
        return sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # skops raises many kinds on a corrupt archive
        raise InvalidModelFile(f"{label}: cannot be loaded ({type(exc).__name__}: {exc})") from exc


# -- archive limits --------------------------------------------------------------------------------

#: Below this expanded size a member (or a whole archive) is not held to the compression ratio: a
#: small, very regular member (an array of zeros) legitimately compresses far, and is harmless.
RATIO_FLOOR_BYTES = 1024 * 1024
_EOCD = struct.Struct("<4s4H2LH")  # zip end-of-central-directory record (APPNOTE 4.3.16)
_EOCD_SIGNATURE = b"PK\x05\x06"
_MAX_COMMENT = 0xFFFF


@dataclass(frozen=True)
class BundleLimits:
    """What an imported model file may be (settings ``model_upload_max_bytes``,
    ``model_bundle_max_expanded_bytes``, ``model_bundle_max_members``, ``model_bundle_max_ratio``).
    """

    max_bytes: int
    max_expanded_bytes: int
    max_members: int
    max_ratio: float

    @classmethod
    def from_settings(cls, settings: Settings) -> BundleLimits:
        return cls(
            max_bytes=settings.model_upload_max_bytes,
            max_expanded_bytes=settings.model_bundle_max_expanded_bytes,
            max_members=settings.model_bundle_max_members,
            max_ratio=settings.model_bundle_max_ratio,
        )


def _declared_members(path: Path, label: str) -> int:
    """The member count of the end-of-central-directory record, read before the directory."""
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        start = max(0, end - _EOCD.size - _MAX_COMMENT)
        handle.seek(start)
        tail = handle.read(end - start)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < _EOCD.size:
        raise InvalidModelFile(
            f"{label}: not a skops model file (expected a zip archive written by skops)"
        )
    _, _, _, _, members, directory_size, directory_offset, _ = _EOCD.unpack_from(tail, at)
    if members == 0xFFFF or 0xFFFFFFFF in (directory_size, directory_offset):
        raise ModelFileTooLarge(
            f"{label}: a ZIP64 archive (over 65,535 members or 4 GiB); a model file is far "
            "smaller, so it was not read"
        )
    return int(members)


def check_archive(path: Path, limits: BundleLimits, label: str | None = None) -> None:
    """Refuse a model file over ``limits`` before any member is read or decompressed.

    Checks the file size, the member count (from the archive's end record, before the central
    directory is parsed), the total expanded size (the sum of the members' declared sizes, which
    Python's zip reader also enforces when it reads) and the compression ratio of the archive
    and of each member over :data:`RATIO_FLOOR_BYTES`. Raises :class:`ModelFileTooLarge` (413)
    over a size or count, :class:`InvalidModelFile` (422) for a ratio or a file that is not a
    zip archive.
    """
    label = label or str(path)
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ModelFileTooLarge(
            f"{label}: {size:,} bytes; a model file may be at most {limits.max_bytes:,} bytes "
            "(setting model_upload_max_bytes)"
        )
    members = _declared_members(path, label)
    if members > limits.max_members:
        raise ModelFileTooLarge(
            f"{label}: the archive holds {members:,} files; a model file may hold at most "
            f"{limits.max_members:,} (setting model_bundle_max_members)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidModelFile(
            f"{label}: not a skops model file (not a readable zip archive: {exc})"
        ) from exc
    if len(infos) > limits.max_members:
        raise ModelFileTooLarge(
            f"{label}: the archive holds {len(infos):,} files; a model file may hold at most "
            f"{limits.max_members:,} (setting model_bundle_max_members)"
        )
    expanded = sum(info.file_size for info in infos)
    if expanded > limits.max_expanded_bytes:
        raise ModelFileTooLarge(
            f"{label}: the archive expands to {expanded:,} bytes; a model file may expand to at "
            f"most {limits.max_expanded_bytes:,} bytes (setting model_bundle_max_expanded_bytes)"
        )
    compressed = sum(info.compress_size for info in infos)
    suspects = [(label, expanded, compressed)] + [
        (f"{label}, member {info.filename!r}", info.file_size, info.compress_size) for info in infos
    ]
    for where, big, small in suspects:
        ratio = big / max(small, 1)
        if big > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
            raise InvalidModelFile(
                f"{where}: compressed {ratio:,.0f} to 1 ({big:,} bytes from {small:,}); a model "
                f"file's ratio may be at most {limits.max_ratio:g} (setting "
                "model_bundle_max_ratio), so it was not read"
            )


# -- registering -----------------------------------------------------------------------------------


def _insert(
    ctx: Runtime,
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
    ctx: Runtime,
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
    ctx: Runtime, kind: ModelKind | None = None, horizon: int | None = None
) -> list[ModelRecord]:
    """Registered models, newest first; optionally of one kind and/or horizon."""
    query = select(ChurnModelVersion).order_by(ChurnModelVersion.id.desc())
    if kind is not None:
        query = query.where(ChurnModelVersion.kind == kind)
    if horizon is not None:
        query = query.where(ChurnModelVersion.horizon_months == horizon)
    with ctx.store.session() as s:
        return [_record(r) for r in s.scalars(query).all()]


def get(ctx: Runtime, version: str) -> ModelRecord:
    """One model version; :class:`NotFoundError` naming it when it is not registered."""
    with ctx.store.session() as s:
        return _record(_row(s, version))


def production(
    ctx: Runtime, kind: ModelKind = "warehouse", horizon: int | None = 1
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


def load_bundle(ctx: Runtime, version: str) -> dict[str, Any]:
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


def promote(ctx: Runtime, version: str) -> ModelRecord:
    """Make ``version`` the production model of its kind and horizon; the previous one is
    archived. Promoting the production model again changes nothing."""
    with ctx.store.session() as s:
        row = _row(s, version)
        if row.status != "production":
            _promote(s, row)
            s.flush()
        return _record(row)


def reject(ctx: Runtime, version: str, reason: str) -> ModelRecord:
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


def rollback(ctx: Runtime, kind: ModelKind, horizon: int | None) -> ModelRecord:
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


def export_model(ctx: Runtime, version: str, path: Path) -> Path:
    """Write one ``.skops`` file holding the fitted model and its registry metadata:
    ``{"revintel_model": 1, "meta": {...}, "bundle": {...}}``. Returns the path."""
    record = get(ctx, version)
    bundle = load_bundle(ctx, version)
    meta = record.as_dict()
    meta.pop("id")
    meta.pop("artifact")
    _dump_atomic({"revintel_model": EXPORT_FORMAT, "meta": meta, "bundle": bundle}, Path(path))
    return Path(path)


def import_model(ctx: Runtime, path: Path, *, name: str | None = None) -> ModelRecord:
    """Register a file written by :func:`export_model` as a new ``candidate``.

    Before anything is registered the file passes the archive limits, the trusted types, the
    content checks and a trial scoring (module docstring); a refused file raises
    :class:`ModelFileTooLarge` (413), :class:`UntrustedModelFile` or :class:`InvalidModelFile`
    (422) naming every problem found, and nothing is written. ``name`` is how messages and notes
    name the file (default: its path; the API passes the uploaded file's name). The model keeps its
    version unless that is taken (then it gets the next free one); its notes say where it came
    from.
    """
    path = Path(path)
    label = name or str(path)
    content = load_trusted(path, limits=BundleLimits.from_settings(ctx.settings), label=label)
    if (
        not isinstance(content, dict)
        or content.get("revintel_model") != EXPORT_FORMAT
        or not isinstance(content.get("meta"), dict)
        or not isinstance(content.get("bundle"), dict)
    ):
        raise InvalidModelFile(
            f"{label}: not a revintel model export (expected a skops file written by "
            f"'revintel churn models export', holding revintel_model={EXPORT_FORMAT}, meta "
            "and bundle)"
        )
    meta: dict[str, Any] = content["meta"]
    bundle: dict[str, Any] = content["bundle"]
    kind, horizon, fields = check_export(meta, bundle, label)
    original = meta.get("version")
    version: str | None = None
    if original and _VERSION_PATTERN.match(original):
        with ctx.store.session() as s:
            taken = s.scalars(
                select(ChurnModelVersion.id).where(ChurnModelVersion.version == original)
            ).first()
        version = None if taken is not None else original
    file_name = Path(label).name
    note = f"imported from {file_name}" + (f" (exported as {original})" if original else "")
    old_notes = meta.get("notes")
    fields.update(
        source=f"import: {file_name}",
        notes=f"{old_notes}\n{note}" if old_notes else note,
    )
    return _insert(
        ctx,
        bundle,
        kind=kind,
        horizon=horizon,
        status="candidate",
        fields=fields,
        version=version,
    )


# -- checking an imported file ---------------------------------------------------------------------

_TEXT_META = ("version", "training_from", "training_to", "data_hash", "parent_version", "notes")
_TRIAL_ROWS = 6


class _Problems(list[str]):
    def need(self, ok: bool, problem: str) -> bool:
        if not ok:
            self.append(problem)
        return ok


def _type_name(value: Any) -> str:
    kind = type(value)
    return "None" if value is None else f"{kind.__module__}.{kind.__qualname__}"


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_specs(raw: Any, problems: _Problems) -> list[ColumnSpec]:
    from revintel.churn.tabular import ColumnKind, ColumnSpec

    kinds = ColumnKind.__args__  # type: ignore[attr-defined]
    if not problems.need(
        isinstance(raw, list) and len(raw) > 0 and all(isinstance(d, dict) for d in raw),
        "bundle.specs must be a non-empty list of feature specs ({name, kind, categories})",
    ):
        return []
    specs: list[ColumnSpec] = []
    for i, spec in enumerate(raw):
        where = f"bundle.specs[{i}]"
        name, kind, categories = spec.get("name"), spec.get("kind"), spec.get("categories")
        ok = problems.need(
            isinstance(name, str) and name != "", f"{where}.name must be text, got {name!r}"
        )
        ok &= problems.need(kind in kinds, f"{where}.kind is {kind!r}; expected one of {kinds}")
        wanted = kind == "categorical"
        ok &= problems.need(
            (categories is None and not wanted)
            or (isinstance(categories, list) and all(isinstance(c, str) for c in categories)),
            f"{where}.categories must be a list of text for a categorical feature, else null; "
            f"got {categories!r}",
        )
        if ok:
            specs.append(ColumnSpec.from_dict(spec))
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    problems.need(not dupes, f"bundle.specs names features twice: {', '.join(dupes)}")
    return specs if len(specs) == len(raw) and not dupes else []


def _check_estimators(bundle: dict[str, Any], width: int, problems: _Problems) -> None:
    problems.extend(_lgbm_problems(bundle, width))
    problems.extend(_baseline_problems(bundle.get("baseline"), width))


def _lgbm_problems(bundle: dict[str, Any], width: int) -> list[str]:
    import lightgbm

    lgbm = bundle.get("lgbm")
    if not isinstance(lgbm, lightgbm.LGBMClassifier):
        return [f"bundle.lgbm is {_type_name(lgbm)}; expected a fitted lightgbm.LGBMClassifier"]
    if not lgbm.__sklearn_is_fitted__():
        return ["bundle.lgbm is not fitted"]
    problems = _Problems()
    got = getattr(lgbm, "n_features_in_", None)
    problems.need(
        got == width and lgbm.booster_.num_feature() == width,
        f"bundle.lgbm takes {got} features; bundle.specs lists {width}",
    )
    problems.need(
        len(getattr(lgbm, "classes_", ())) == 2 and lgbm.objective_ == "binary",
        f"bundle.lgbm is not a binary classifier (objective {lgbm.objective_!r})",
    )
    params = bundle.get("params")
    best = params.get("best_iteration") if isinstance(params, dict) else None
    problems.need(
        best is None or (_is_whole(best) and 0 <= best <= lgbm.booster_.num_trees()),
        f"bundle.params.best_iteration is {best!r}; expected a round of the model",
    )
    return problems


def _baseline_problems(baseline: Any, width: int) -> list[str]:
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(baseline, Pipeline) or not hasattr(baseline, "decision_function"):
        return [
            f"bundle.baseline is {_type_name(baseline)}; expected a fitted scikit-learn "
            "Pipeline ending in a logistic regression"
        ]
    try:
        check_is_fitted(baseline)
    except NotFittedError:
        return ["bundle.baseline is not fitted"]
    problems = _Problems()
    got = getattr(baseline, "n_features_in_", None)
    problems.need(got == width, f"bundle.baseline takes {got} features; bundle.specs lists {width}")
    problems.need(
        len(getattr(baseline, "classes_", ())) == 2, "bundle.baseline is not a binary classifier"
    )
    return problems


def _check_reference(reference: Any, names: list[str], problems: _Problems) -> None:
    if not problems.need(
        isinstance(reference, dict)
        and isinstance(reference.get("stats"), dict)
        and isinstance(reference.get("histograms"), dict),
        "meta.reference must hold 'stats' and 'histograms' (what explanations and drift use)",
    ):
        return
    stats = reference["stats"].get("features")
    histograms = reference["histograms"].get("features")
    for key, table in (("stats", stats), ("histograms", histograms)):
        if problems.need(isinstance(table, dict), f"meta.reference.{key}.features must be a map"):
            missing = [n for n in names if n not in table]
            problems.need(
                not missing, f"meta.reference.{key} lacks the features {', '.join(missing)}"
            )
    if not isinstance(histograms, dict):
        return
    for feature, ref in histograms.items():
        where = f"meta.reference.histograms.features[{feature!r}]"
        if not problems.need(isinstance(ref, dict), f"{where} must be a map"):
            continue
        bins = ref.get("edges") if ref.get("kind") == "numeric" else ref.get("levels")
        shares = ref.get("shares")
        problems.need(
            ref.get("kind") in ("numeric", "categorical")
            and isinstance(bins, list)
            and isinstance(shares, list)
            and len(shares) == len(bins) + 1
            and all(_is_number(v) for v in shares)
            and _is_number(ref.get("missing_share")),
            f"{where} must have kind, edges or levels, one more share than those, and "
            "missing_share",
        )


def check_export(
    meta: dict[str, Any], bundle: dict[str, Any], label: str
) -> tuple[ModelKind, int | None, dict[str, Any]]:
    """The kind, horizon and registry fields of an exported model that passes the content checks
    and the trial scoring; otherwise :class:`InvalidModelFile` listing every problem found."""
    from revintel.churn import features as warehouse_features
    from revintel.churn.training import BUNDLE_FORMAT

    problems = _Problems()
    kind = meta.get("kind")
    horizon = meta.get("horizon_months")
    problems.need(kind in KINDS, f"meta.kind is {kind!r}; expected one of {KINDS}")
    if kind == "warehouse":
        problems.need(
            horizon in warehouse_features.HORIZONS and _is_whole(horizon),
            f"meta.horizon_months is {horizon!r}; a warehouse model's horizon is one of "
            f"{warehouse_features.HORIZONS} months",
        )
    elif kind == "table":
        problems.need(
            horizon is None, f"meta.horizon_months is {horizon!r}; a table model has none"
        )
    for key in _TEXT_META:
        value = meta.get(key)
        problems.need(value is None or isinstance(value, str), f"meta.{key} must be text")
    for key in ("params", "metrics"):
        value = meta.get(key)
        problems.need(value is None or isinstance(value, dict), f"meta.{key} must be a map")
    importance = meta.get("importance") or {}
    problems.need(
        isinstance(importance, dict) and all(_is_number(v) for v in importance.values()),
        "meta.importance must map features to numbers",
    )

    fmt = bundle.get("format")
    problems.need(fmt == BUNDLE_FORMAT, f"bundle.format is {fmt!r}; expected {BUNDLE_FORMAT!r}")
    specs = _check_specs(bundle.get("specs"), problems)
    names = [s.name for s in specs]
    target = bundle.get("target")
    problems.need(isinstance(target, str) and target != "", "bundle.target must be text")
    for key in ("platt", "baseline_platt"):
        pair = bundle.get(key)
        problems.need(
            isinstance(pair, list | tuple) and len(pair) == 2 and all(map(_is_number, pair)),
            f"bundle.{key} must be two numbers, got {pair!r}",
        )
    problems.need(isinstance(bundle.get("params", {}), dict), "bundle.params must be a map")
    problems.need(
        bundle.get("horizon_months") == horizon,
        f"bundle.horizon_months is {bundle.get('horizon_months')!r} but meta.horizon_months is "
        f"{horizon!r}",
    )
    if specs:
        _check_estimators(bundle, len(specs), problems)
        features = meta.get("features")
        problems.need(
            isinstance(features, list)
            and [f.get("name") if isinstance(f, dict) else f for f in features] == names,
            f"meta.features must list the bundle's features in order ({', '.join(names)})",
        )
        _check_reference(meta.get("reference"), names, problems)
        if isinstance(importance, dict):
            unknown = sorted(set(importance) - set(names))
            problems.need(not unknown, f"meta.importance names unknown features {unknown}")
    if kind == "warehouse" and specs:
        expected = {
            name: "categorical"
            if name in warehouse_features.CATEGORICAL
            else "boolean"
            if name in warehouse_features.BOOLEAN
            else "numeric"
            for name in warehouse_features.FEATURES
        }
        wrong = [
            f"{s.name} ({s.kind})" if s.name in expected else f"{s.name} (not a warehouse feature)"
            for s in specs
            if expected.get(s.name) != s.kind
        ]
        problems.need(
            not wrong,
            "a warehouse model's features must be warehouse features of their kind; "
            f"not so: {', '.join(wrong)}",
        )
        problems.need(
            target == f"churned_{horizon}m",
            f"bundle.target is {target!r}; a warehouse model of {horizon} month(s) predicts "
            f"churned_{horizon}m",
        )
    if problems:
        raise InvalidModelFile(f"{label}: not a revintel churn model: " + "; ".join(problems))
    _trial(bundle, specs, meta["reference"], label)
    assert kind in KINDS
    fields = {
        **{key: meta.get(key) for key in ("training_from", "training_to", "parent_version")},
        "data_hash": meta.get("data_hash") or "",
        "params": dict(meta.get("params") or {}),
        "features": [s.as_dict() for s in specs],
        "metrics": dict(meta.get("metrics") or {}),
        "importance": {str(k): float(v) for k, v in importance.items()},
        "reference": dict(meta["reference"]),
    }
    return kind, horizon, fields  # type: ignore[return-value]


def _trial_rows(specs: list[ColumnSpec]) -> pl.DataFrame:
    """A few rows over every feature: ordinary, extreme, missing and unseen values."""
    from datetime import date

    n = _TRIAL_ROWS
    columns: dict[str, pl.Series] = {}
    for spec in specs:
        if spec.kind == "numeric":
            values: list[Any] = [0.0, 1.0, -1.0, 1e6, None, 0.5]
            series = pl.Series(spec.name, values, dtype=pl.Float64)
        elif spec.kind == "boolean":
            series = pl.Series(spec.name, [True, False, None, True, False, True], dtype=pl.Boolean)
        elif spec.kind == "date":
            days = [date(2024, 1, 31), date(2020, 6, 1), None, date(2026, 12, 31)]
            series = pl.Series(spec.name, (days * n)[:n], dtype=pl.Date)
        else:
            levels = [*(spec.categories or [])[:3], None, "__unseen__"]
            series = pl.Series(spec.name, (levels * n)[:n], dtype=pl.String)
        columns[spec.name] = series
    return pl.DataFrame(columns)


def _trial(
    bundle: dict[str, Any], specs: list[ColumnSpec], reference: dict[str, Any], label: str
) -> None:
    """Score, explain and measure drift on :func:`_trial_rows`, as scoring and drift will."""
    from revintel.churn.drift import data_quality, drift_report
    from revintel.churn.explain import ReferenceStats, explain, explain_many
    from revintel.churn.training import ChurnModel

    rows = _trial_rows(specs)
    try:
        model = ChurnModel.from_bundle(bundle)
        scores = {
            "probabilities": model.predict_proba(rows),
            "baseline probabilities": model.baseline_proba(rows),
        }
        contributions = model.contributions(rows)
        explain_many(model, rows, top=3, contributions=contributions)
        explain(model, rows.head(1), ReferenceStats.from_dict(reference["stats"]))
        drift_report(reference["histograms"], rows)
        data_quality(rows)
    except Exception as exc:  # anything a model file can make scoring raise
        raise InvalidModelFile(
            f"{label}: not a usable churn model: scoring {rows.height} trial rows failed "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    for what, p in scores.items():
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (rows.height,) or not np.all((p >= 0.0) & (p <= 1.0)):
            raise InvalidModelFile(
                f"{label}: not a usable churn model: trial {what} {p.tolist()!r}; expected "
                f"{rows.height} numbers in [0, 1]"
            )
    if contributions.shape != (rows.height, len(specs) + 1):
        raise InvalidModelFile(
            f"{label}: not a usable churn model: contributions of shape {contributions.shape}; "
            f"expected ({rows.height}, {len(specs) + 1})"
        )


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


@dataclass(frozen=True, slots=True)
class ModelComparison:
    """Two registered versions side by side (:func:`compare`)."""

    a: ModelRecord
    b: ModelRecord
    metrics: list[dict[str, Any]]
    """Rows of ``metric``, ``a``, ``b``, ``delta`` (b − a; None when either is missing)."""
    importance: list[dict[str, Any]]
    """Rows of ``feature``, ``a``, ``b`` (mean |SHAP|), most important first."""
    confusion: dict[str, Any]
    """``a`` and ``b``: each version's confusion matrix as registered (None if absent)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.as_dict(reference=False),
            "b": self.b.as_dict(reference=False),
            "metrics": self.metrics,
            "importance": self.importance,
            "confusion": self.confusion,
        }


def compare(ctx: Runtime, a: str, b: str) -> ModelComparison:
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
    return ModelComparison(
        a=ra,
        b=rb,
        metrics=metrics,
        importance=importance,
        confusion={"a": _confusion(ra.metrics), "b": _confusion(rb.metrics)},
    )
