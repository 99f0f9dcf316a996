"""Request and response models of the REST API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from revintel.core.calendar import MONTH_PATTERN
from revintel.core.vocabulary import LoadMode
from revintel.data.schema import CONTRACTS

# A closed set (shown as a dropdown in /docs); an unknown name is a 422 naming the field.
TableName = StrEnum("TableName", {name: name for name in CONTRACTS})  # type: ignore[misc]


def _check_month(value: str) -> str:
    if re.fullmatch(MONTH_PATTERN, value) is None:
        raise PydanticCustomError("month", "expected a month YYYY-MM, e.g. 2024-03")
    return value


Month = Annotated[
    str, AfterValidator(_check_month), WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN})
]
"""A month parameter: the spec's pattern, enforced with a 422 that says what a month looks like."""


class ProblemOut(BaseModel):
    """One problem in an uploaded file: where it is and what was expected."""

    model_config = ConfigDict(from_attributes=True)

    file: str
    message: str
    row: int | None = Field(None, description="1-based data row (the header is row 0).")
    column: str | None = None
    expected: str | None = None
    got: str | None = None


class FieldProblem(BaseModel):
    """One invalid request field."""

    field: str = Field(description="The field, e.g. 'mode' or 'limit'.")
    location: str = Field(description="Where the field is: query, path, body, header.")
    message: str


class ErrorResponse(BaseModel):
    """Every error the API returns: the error class, a readable message and the details."""

    error: str = Field(description="Error class, e.g. ValidationFailed or NotFoundError.")
    detail: str = Field(description="What went wrong, naming the file, row, column or field.")
    problems: list[ProblemOut] | None = Field(
        None, description="ValidationFailed: the problems found (at most max_problems)."
    )
    total: int | None = Field(None, description="ValidationFailed: problems found in all.")
    counts: dict[str, int] | None = Field(
        None, description="ValidationFailed: problems by (file, column, message)."
    )
    fields: list[FieldProblem] | None = Field(
        None, description="RequestValidationError: each invalid field."
    )


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "A body that cannot be parsed, or an option this request cannot take (`detail` says "
    "which).",
    404: "The named account, customer or model does not exist.",
    409: "The data does not allow it: a table it needs is not loaded, a month outside the data, "
    "or a model's state.",
    413: "The request body is larger than the server accepts.",
    422: "The request is invalid: an option or field (`detail` says which; `fields` names each "
    "invalid field), or an uploaded file (`problems` lists each problem).",
    503: "A database did not answer; GET /health shows which one.",
}


def error_responses(
    *statuses: int, descriptions: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for error statuses a route can return, each an :class:`ErrorResponse`
    (``descriptions`` overrides the general text of a status for one route)."""
    texts = {**ERROR_DESCRIPTIONS, **(descriptions or {})}
    return {status: {"model": ErrorResponse, "description": texts[status]} for status in statuses}


class ComponentHealth(BaseModel):
    """Status of one component the API depends on."""

    status: Literal["ok", "down"]
    kind: str = Field(
        description="Backend: parquet, duckdb, postgres, pyspark; sqlite, postgresql."
    )
    detail: str | None = Field(None, description="Why the component is down.")


class HealthResponse(BaseModel):
    """Overall status (``ok`` only when every component is), the version and each component."""

    status: Literal["ok", "unavailable"]
    version: str
    components: dict[str, ComponentHealth]


class TableOut(BaseModel):
    """A canonical table: whether it is loaded, its rows and when a load last wrote it."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str
    loaded: bool
    rows: int
    last_loaded: datetime | None


class TablesResponse(BaseModel):
    warehouse: str = Field(description="Warehouse backend kind.")
    tables: list[TableOut]


class LoadRunOut(BaseModel):
    """One load (CLI, upload, API or demo) from the load history."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str = Field(
        description="running, success, failed, or interrupted (its process stopped mid-way)."
    )
    mode: str
    source: str
    files: list[str]
    tables: dict[str, int] = Field(description="Rows loaded per table.")
    message: str | None


class LoadHistoryResponse(BaseModel):
    loads: list[LoadRunOut] = Field(description="Newest first.")


class LoadResultOut(BaseModel):
    """A successful load."""

    run_id: int
    tables: dict[str, int] = Field(description="Rows loaded per table.")
    files: list[str]
    seconds: float
    mode: LoadMode
    warnings: list[ProblemOut] = Field(
        default_factory=list,
        description="What the load changed or doubts but did not refuse: key values trimmed of "
        "spaces, implausible dates (with their rows).",
    )
