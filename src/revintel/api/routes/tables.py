"""``GET /api/v1/tables``: every canonical table with its rows and last load time."""

from __future__ import annotations

from fastapi import APIRouter

from revintel.api.deps import ContextDep
from revintel.api.schemas import TableOut, TablesResponse, error_responses
from revintel.app.catalog import table_catalog

router = APIRouter(prefix="/tables", tags=["data"], responses=error_responses(422, 503))


@router.get("")
def list_tables(ctx: ContextDep, loaded_only: bool = False) -> TablesResponse:
    """Loaded tables first, in load order; ``loaded_only`` leaves out tables never loaded."""
    tables = table_catalog(ctx, include_missing=not loaded_only)
    return TablesResponse(
        warehouse=ctx.warehouse.kind, tables=[TableOut.model_validate(t) for t in tables]
    )
