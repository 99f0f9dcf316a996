"""Error bodies name the problem, not the server's files or secrets (api/errors.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.api.routes import tables as tables_route
from revintel.app.context import AppContext
from revintel.core.errors import NotFoundError, Problem, ValidationFailed
from revintel.warehouse import ParquetWarehouse

UPLOAD = Path(tempfile.gettempdir()) / "revintel-upload-k2j4h1" / "customers.csv"


def _raising(exc: Exception) -> object:
    def raise_it(*_args: object, **_kwargs: object) -> None:
        raise exc

    return raise_it


def test_a_user_error_names_home_files_relative_to_home_and_uploads_by_name(
    empty_context: AppContext, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = empty_context.settings.home
    message = f"Model file {home}/models/churn-3m.skops is missing; it came from {UPLOAD}"
    monkeypatch.setattr(tables_route, "table_catalog", _raising(NotFoundError(message)))
    response = client.get("/api/v1/tables")
    assert response.status_code == 404
    assert response.json()["detail"] == (
        "Model file <home>/models/churn-3m.skops is missing; it came from customers.csv"
    )


def test_validation_problems_name_files_not_server_folders(
    empty_context: AppContext, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = empty_context.settings.home
    problem = Problem(
        file=str(UPLOAD), message=f"could not read {home}/staging/x", row=3, column="mrr"
    )
    error = ValidationFailed([problem], counts={f"{UPLOAD}, column 'mrr': bad": 1})
    monkeypatch.setattr(tables_route, "table_catalog", _raising(error))
    body = client.get("/api/v1/tables").json()
    assert body["problems"][0]["file"] == "customers.csv"
    assert body["problems"][0]["message"] == "could not read <home>/staging/x"
    assert body["counts"] == {"customers.csv, column 'mrr': bad": 1}
    assert str(home) not in str(body) and tempfile.gettempdir() not in str(body)


def test_a_database_outage_names_neither_password_nor_path(
    empty_context: AppContext, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = empty_context.settings.home
    outage = psycopg.OperationalError(
        f"connection to postgres://revintel:hunter2@db:5432/w failed; socket {home}/.s.PGSQL"
    )
    monkeypatch.setattr(tables_route, "table_catalog", _raising(outage))
    response = client.get("/api/v1/tables")
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "hunter2" not in detail and str(home) not in detail
    assert "postgres://revintel:***@db:5432/w" in detail and "<home>/.s.PGSQL" in detail


def test_an_internal_error_body_holds_only_an_id(
    empty_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = empty_context.settings.home
    crash = RuntimeError(f"boom in {home}/warehouse with password=hunter2")
    monkeypatch.setattr(tables_route, "table_catalog", _raising(crash))
    with TestClient(create_app(empty_context), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/tables")
    assert response.status_code == 500
    text = response.text
    assert "Internal error" in text
    for leak in (str(home), "hunter2", "Traceback", "RuntimeError", "boom", ".py"):
        assert leak not in text


def test_health_details_name_neither_password_nor_path(  # api/routes/health.py
    empty_context: AppContext, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = empty_context.settings.home
    home.mkdir(parents=True, exist_ok=True)

    def broken_ping(_self: ParquetWarehouse) -> None:
        raise OSError(f"cannot open {home}/warehouse via postgres://u:hunter2@db/w")

    monkeypatch.setattr(ParquetWarehouse, "ping", broken_ping)
    detail = client.get("/health").json()["components"]["warehouse"]["detail"]
    assert "hunter2" not in detail and str(home) not in detail
    assert detail == "OSError: cannot open warehouse via postgres://u:***@db/w"
