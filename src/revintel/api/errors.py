"""Every error as JSON: ``{"error": class name, "detail": message, ...}`` with its status code.

:data:`ERROR_STATUSES` is the one place an error kind meets an HTTP status; the kinds themselves
(``revintel/core/errors.py`` and the capabilities' subclasses of them) carry none.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from typing import Any

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import Match

from revintel.api.schemas import ErrorResponse, FieldProblem, ProblemOut
from revintel.attribution.config import InvalidAttributionConfig
from revintel.churn.config import InvalidChurnConfig
from revintel.churn.registry import (
    InvalidModelFile,
    ModelFileTooLarge,
    ModelStateError,
    UntrustedModelFile,
)
from revintel.core.errors import (
    BackendUnavailable,
    ConfigError,
    EditConflict,
    InvalidOption,
    NoDataError,
    NotAllowed,
    NotFoundError,
    OutsideTheData,
    PreconditionMissing,
    Problem,
    RevintelError,
    ValidationFailed,
)
from revintel.core.redact import public_text
from revintel.forecast.series import NotEnoughHistoryError
from revintel.health.config import InvalidHealthConfig
from revintel.pipeline.config import InvalidPipelineConfig
from revintel.retention.config import InvalidRetentionConfig

_LOG = logging.getLogger("revintel.api")

ERROR_STATUSES: tuple[tuple[type[RevintelError], int], ...] = (
    (ModelFileTooLarge, 413),  # an InvalidModelFile
    (InvalidModelFile, 422),
    (UntrustedModelFile, 422),
    (ModelStateError, 409),
    (InvalidChurnConfig, 422),  # a ConfigError: settings sent in a request
    (InvalidHealthConfig, 422),  # a ConfigError: settings sent in a request
    (InvalidPipelineConfig, 422),  # a ConfigError: settings sent in a request
    (InvalidAttributionConfig, 422),  # a ConfigError: settings sent in a request
    (InvalidRetentionConfig, 422),  # a ConfigError: settings sent in a request
    (NotEnoughHistoryError, 422),
    (ValidationFailed, 422),
    (NotFoundError, 404),
    (NotAllowed, 403),  # notes: another author's note
    (EditConflict, 409),  # deals: a stale If-Match
    (PreconditionMissing, 428),  # deals: an edit without If-Match
    (NoDataError, 409),
    (OutsideTheData, 409),  # an InvalidOption: well formed, but the data does not reach it
    (InvalidOption, 422),
    (BackendUnavailable, 503),
    (ConfigError, 400),
    (RevintelError, 400),
)
"""The HTTP status of each error kind, the most specific kind first: an error answers with the
status of the first kind it is an instance of."""


def status_of(error: RevintelError) -> int:
    """The HTTP status an error answers with (:data:`ERROR_STATUSES`)."""
    return next(status for kind, status in ERROR_STATUSES if isinstance(error, kind))


def _public(request: Request, text: str) -> str:
    """``text`` without credentials or server paths (core/redact.py): a body names the problem,
    not the server's files."""
    return public_text(text, request.app.state.context.settings.home)


def _public_problem(request: Request, problem: Problem) -> Problem:
    texts = {name: getattr(problem, name) for name in ("file", "message", "expected", "got")}
    return replace(problem, **{k: _public(request, v) for k, v in texts.items() if v is not None})


def _json(
    status_code: int, body: ErrorResponse, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code, headers)


def _revintel_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RevintelError)
    body = ErrorResponse(error=type(exc).__name__, detail=_public(request, str(exc)))
    if isinstance(exc, ValidationFailed):
        body.detail = exc.report().splitlines()[0]
        body.problems = [
            ProblemOut.model_validate(_public_problem(request, p)) for p in exc.problems
        ]
        body.total = exc.total
        body.counts = {_public(request, kind): n for kind, n in exc.counts.items()} or None
    return _json(status_of(exc), body)


def _field_problem(error: dict[str, Any]) -> FieldProblem:
    location, *path = (str(part) for part in error.get("loc", ()))
    return FieldProblem(
        field=".".join(path) or location, location=location, message=str(error.get("msg", ""))
    )


def _request_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [_field_problem(error) for error in exc.errors()]
    detail = "; ".join(f"{f.location} field '{f.field}': {f.message}" for f in fields)
    body = ErrorResponse(error="RequestValidationError", detail=detail, fields=fields)
    return _json(422, body)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path (Starlette's 405 names only the first
    route that matched the path, so ``GET`` alone where ``GET`` and ``POST`` are two routes)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):  # included routers' routes too
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(route.methods or ())
    return ", ".join(sorted(methods))


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    error = HTTPStatus(exc.status_code).phrase.title().replace(" ", "").replace("-", "")
    body = ErrorResponse(error=error, detail=_public(request, str(exc.detail)))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return _json(exc.status_code, body, headers)


def _backend_unavailable(request: Request, exc: Exception) -> JSONResponse:
    reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
    body = ErrorResponse(
        error="ServiceUnavailable",
        detail=_public(
            request, f"A database did not answer ({reason}); GET /health shows which one."
        ),
    )
    return _json(503, body)


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """500 naming only a short id; the server log holds the id with the traceback."""
    error_id = secrets.token_hex(4)
    _LOG.error(
        "Internal error %s in %s %s", error_id, request.method, request.url.path, exc_info=exc
    )
    # Starlette re-raises the exception after this response; the server's log configuration
    # (api/server.py) drops that second copy of the traceback by this mark.
    exc.revintel_error_id = error_id  # type: ignore[attr-defined]
    body = ErrorResponse(
        error="InternalError",
        detail=f"Internal error {error_id}; the server log has the details under this id.",
    )
    return _json(500, body)


_COMPONENTS = "#/components/schemas/"


def _error_bodies_in_openapi(schema: dict[str, Any]) -> None:
    """Document 422s as the :class:`ErrorResponse` they are, in place of FastAPI's default
    ``HTTPValidationError`` (``{"detail": [{"loc", "msg", "type"}]}``), which is never sent."""
    default = f"{_COMPONENTS}HTTPValidationError"
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if media.get("schema", {}).get("$ref") == default:
                        media["schema"] = {"$ref": f"{_COMPONENTS}ErrorResponse"}
    _edge_statuses_in_openapi(schema)
    if "ErrorResponse" not in components:
        own = ErrorResponse.model_json_schema(
            ref_template=f"{_COMPONENTS}{{model}}", mode="serialization"
        )
        components.update(own.pop("$defs", {}))
        components["ErrorResponse"] = own
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)


# What the API's edge (api/edge.py) answers before any route: to every request, and to writes.
_EDGE_STATUSES = {421: "Host header not an allowed host (REVINTEL_ALLOWED_HOSTS)."}
_EDGE_WRITE_STATUSES = {
    403: "A write sent by a browser page of another origin (REVINTEL_ALLOWED_ORIGINS).",
    408: "The request body stopped arriving (REVINTEL_BODY_READ_TIMEOUT_SECONDS).",
    413: "The request body is over its limit (REVINTEL_MAX_JSON_BODY_BYTES, "
    "REVINTEL_MAX_UPLOAD_BODY_BYTES).",
}


def _edge_statuses_in_openapi(schema: dict[str, Any]) -> None:
    """Document the edge's refusals on every operation they can reach, as error bodies."""
    body = {"application/json": {"schema": {"$ref": f"{_COMPONENTS}ErrorResponse"}}}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            statuses = dict(_EDGE_STATUSES)
            if method.lower() in ("post", "put", "patch", "delete"):
                statuses |= _EDGE_WRITE_STATUSES
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                responses.setdefault(str(status), {"description": description, "content": body})


def _openapi_with_error_bodies(app: FastAPI) -> Callable[[], dict[str, Any]]:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _error_bodies_in_openapi(build())
        assert app.openapi_schema is not None
        return app.openapi_schema

    return openapi


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as an :class:`ErrorResponse`, and document it so in the OpenAPI."""
    app.add_exception_handler(RevintelError, _revintel_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    for unavailable in (sqlalchemy.exc.OperationalError, psycopg.OperationalError):
        app.add_exception_handler(unavailable, _backend_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
    app.openapi = _openapi_with_error_bodies(app)  # type: ignore[method-assign]
