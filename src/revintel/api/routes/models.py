"""``/api/v1/models/...``: the churn model registry (list, compare, promote, reject, roll back,
drift, download and import of ``.skops`` files). Calls ``revintel.churn.registry`` / ``service``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from revintel.api.deps import ContextDep
from revintel.api.routes.churn import plain
from revintel.api.schemas import error_responses
from revintel.api.uploads import save_uploads
from revintel.churn import registry, service

router = APIRouter(prefix="/models", tags=["churn models"], responses=error_responses(422, 503))

NOT_FOUND = error_responses(404, descriptions={404: "No such model version."})
CONFLICT = error_responses(409, descriptions={409: "Not possible in the model's state."})


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def _record(record: registry.ModelRecord) -> dict[str, Any]:
    return plain(record.as_dict(reference=False))


@router.get("")
def list_models(
    ctx: ContextDep,
    kind: Annotated[Literal["warehouse", "table"] | None, Query()] = None,
    horizon: Annotated[int | None, Query(ge=1, le=36)] = None,
) -> list[dict[str, Any]]:
    """Registered models, newest first."""
    return [_record(r) for r in registry.list_models(ctx, kind=kind, horizon=horizon)]


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        400,
        413,
        422,
        descriptions={
            413: "Model file or its archive over a limit.",
            422: "An untrusted or invalid model file, or an invalid field.",
        },
    ),
)
def import_model(
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="A .skops file written by a model export.")],
) -> dict[str, Any]:
    """Register an exported model as a candidate once it passes the archive limits, the trusted
    types, the content checks and a trial scoring; otherwise nothing is registered."""
    with tempfile.TemporaryDirectory(prefix="revintel-upload-") as tmp:
        (path,) = save_uploads([(file.filename, file.file)], Path(tmp), field="file")
        return _record(registry.import_model(ctx, path, name=path.name))


@router.get("/{version}", responses=NOT_FOUND)
def get_model(ctx: ContextDep, version: str) -> dict[str, Any]:
    """One model: training window, data hash, parameters, features, metrics, status."""
    return _record(registry.get(ctx, version))


@router.get("/{a}/compare/{b}", responses=NOT_FOUND)
def compare(ctx: ContextDep, a: str, b: str) -> dict[str, Any]:
    """Metrics with deltas (b − a), importance and confusion matrices of two versions: the
    threshold-free measures first, then precision, recall, F1 and the confusion matrices of each
    at its own max-F1 threshold (the ``threshold`` row)."""
    return plain(service.compare_models(ctx, a, b).to_dict())


@router.post("/{version}/promote", responses=NOT_FOUND)
def promote(ctx: ContextDep, version: str) -> dict[str, Any]:
    """Make the version production for its kind and horizon; the previous one is archived."""
    return _record(registry.promote(ctx, version))


@router.post("/{version}/reject", responses={**NOT_FOUND, **CONFLICT, **error_responses(400, 413)})
def reject(ctx: ContextDep, version: str, body: RejectRequest) -> dict[str, Any]:
    """Reject a model that is not in production, keeping the reason in its notes."""
    return _record(registry.reject(ctx, version, body.reason))


@router.post("/{version}/rollback", responses={**NOT_FOUND, **CONFLICT})
def rollback(ctx: ContextDep, version: str) -> dict[str, Any]:
    """Roll the production model ``version`` back: the previous production model returns."""
    record = registry.get(ctx, version)
    if record.status != "production":
        raise registry.ModelStateError(
            f"model {version!r} is {record.status}, not in production; only the production "
            "model can be rolled back"
        )
    restored = registry.rollback(ctx, record.kind, record.horizon_months)
    return {"rolled_back": version, "production": _record(restored)}


@router.get("/{version}/drift", responses=NOT_FOUND)
def drift(ctx: ContextDep, version: str) -> dict[str, Any]:
    """PSI per feature (latest month vs training) and the data-quality report; tenure and
    subscription age, which grow every month, are shown but never trigger retraining. A model
    trained on an uploaded table is a 422 (its drift is measured against a new table)."""
    return plain(service.drift(ctx, version).to_dict())


@router.get(
    "/{version}/download",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"content": {"application/octet-stream": {}}}},
)
def download(ctx: ContextDep, version: str) -> FileResponse:
    """The model and its registry metadata as one ``.skops`` file (for ``models import``)."""
    folder = Path(tempfile.mkdtemp(prefix="revintel-export-"))
    try:
        path = registry.export_model(ctx, version, folder / f"{version}.skops")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
