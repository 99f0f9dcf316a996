"""The application shell: OpenAPI docs, and every error answered as JSON."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.api.routes import tables as tables_route
from revintel.app.context import AppContext
from revintel.core.errors import NoDataError


def test_docs_and_openapi(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "revintel"
    assert {"/health", "/api/v1/tables", "/api/v1/loads"} <= set(spec["paths"])
    assert set(spec["paths"]["/api/v1/loads"]) == {"get", "post"}
    assert "503" in spec["paths"]["/health"]["get"]["responses"]
    assert "422" in spec["paths"]["/api/v1/loads"]["post"]["responses"]


def test_unknown_route_is_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "detail": "Not Found"}


def test_revintel_error_keeps_its_status_and_message(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_data(*_args: object, **_kwargs: object) -> None:
        raise NoDataError("Table 'customers' has not been loaded.")

    monkeypatch.setattr(tables_route, "table_catalog", no_data)
    response = client.get("/api/v1/tables")
    assert response.status_code == 409
    assert response.json() == {
        "error": "NoDataError",
        "detail": "Table 'customers' has not been loaded.",
    }


def test_unexpected_error_is_json_500_with_an_id_in_the_log(
    empty_context: AppContext, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(tables_route, "table_catalog", crash)
    with TestClient(create_app(empty_context), raise_server_exceptions=False) as client:
        response = client.get("/api/v1/tables")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "InternalError"
    match = re.fullmatch(
        r"Internal error ([0-9a-f]{8}); the server log has the details under this id\.",
        body["detail"],
    )
    assert match, body
    logged = [r for r in caplog.records if match[1] in r.getMessage()]
    assert logged and logged[0].exc_info and "boom" in str(logged[0].exc_info[1])


def test_create_app_without_context_reads_the_environment(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVINTEL_HOME", str(tmp_path))
    monkeypatch.delenv("REVINTEL_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("REVINTEL_DATABASE_URL", raising=False)
    app = create_app()
    assert app.state.context.settings.home == tmp_path
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200


def test_the_server_reconciles_interrupted_loads_at_start(empty_context: AppContext) -> None:
    from sqlalchemy import select

    from revintel.store.models import LoadRun

    store = empty_context.store
    run_id = store.start_load(["customers.csv"], "replace")
    with store.session() as s:  # a load from a process that no longer exists
        run = s.get(LoadRun, run_id)
        assert run is not None
        run.pid, run.host, run.process_started = None, None, None
    # read directly: reading the history would reconcile too
    with TestClient(create_app(empty_context)), store.session() as s:
        status = s.scalar(select(LoadRun.status).where(LoadRun.id == run_id))
    assert status == "interrupted"
