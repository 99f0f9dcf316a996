"""``/api/v1/loads``: the load history, and uploads of CSV or Parquet files to load."""

from __future__ import annotations

import os
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status

from revintel.api.deps import ContextDep
from revintel.api.schemas import (
    LoadHistoryResponse,
    LoadResultOut,
    LoadRunOut,
    ProblemOut,
    TableName,
    error_responses,
)
from revintel.api.uploads import save_uploads, without_folder
from revintel.app.ingest import load_mapped, load_paths
from revintel.core.errors import InvalidOption, ValidationFailed
from revintel.core.vocabulary import LoadMode

router = APIRouter(prefix="/loads", tags=["data"], responses=error_responses(422, 503))


@router.get("")
def load_history(
    ctx: ContextDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> LoadHistoryResponse:
    """Recent loads, newest first."""
    runs = ctx.store.load_history(limit=limit)
    return LoadHistoryResponse(loads=[LoadRunOut.model_validate(run) for run in runs])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        400, 413, 422, descriptions={422: "A file broke its table contract, or a field is invalid."}
    ),
)
def upload_and_load(
    ctx: ContextDep,
    files: Annotated[
        list[UploadFile],
        File(description="CSV or Parquet files; a file's name names its table (customers.csv)."),
    ],
    table: Annotated[
        TableName | None, Form(description="Load every file into this table instead.")
    ] = None,
    mode: Annotated[
        LoadMode, Form(description="replace the tables, or append (upsert by primary key).")
    ] = "replace",
    mapping: Annotated[
        UploadFile | None,
        File(
            description="A TOML mapping file: the files are then a CRM export, loaded unedited "
            "through it (docs/pipeline.md, 'Importing a CRM export'); not with table."
        ),
    ] = None,
) -> LoadResultOut:
    """Validate every file against its table contract, then load them all atomically.

    Nothing is written unless every file is valid; a 422 lists every problem with file, row and
    column (with a mapping: the mapping key, or the export's file, row and column).
    """
    with TemporaryDirectory(prefix="revintel-upload-") as tmp:
        folder = Path(tmp)
        try:
            if mapping is not None:
                if table is not None:
                    raise InvalidOption("table: not used with a mapping (the mapping names them)")
                export = folder / "export"
                export.mkdir()
                paths = save_uploads(((f.filename, f.file) for f in files), export)
                (rules,) = save_uploads([(mapping.filename, mapping.file)], folder, field="mapping")
                result = load_mapped(ctx, export, rules, mode=mode, source="api")
            else:
                paths = save_uploads(((f.filename, f.file) for f in files), folder)
                result = load_paths(
                    ctx, paths, table=table.value if table else None, mode=mode, source="api"
                )
        except ValidationFailed as exc:
            raise _uploaded(exc, folder) from None
    warnings = _uploaded(ValidationFailed(result.warnings), folder).problems
    return LoadResultOut(
        run_id=result.run_id,
        tables=dict(result.tables),
        files=[_uploaded_name(f, folder) for f in result.files],
        seconds=result.seconds,
        mode=result.mode,
        warnings=[ProblemOut.model_validate(w) for w in warnings],
    )


def _uploaded(exc: ValidationFailed, folder: Path) -> ValidationFailed:
    """Problems naming the uploaded files (and mapping) by their own names."""
    return without_folder(without_folder(exc, folder / "export"), folder)


def _uploaded_name(label: str, folder: Path) -> str:
    """A loaded file's name as uploaded (a mapped table's label keeps its "via" part)."""
    for prefix in (f"{folder / 'export'}{os.sep}", f"{folder}{os.sep}"):
        label = label.replace(prefix, "")
    return label if " via " in label else Path(label).name
