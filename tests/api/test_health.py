"""GET /health: 200 with every component listed when healthy, 503 naming the component down."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel import __version__
from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.warehouse import ParquetWarehouse

UNREACHABLE_POSTGRES = "postgresql://revintel@127.0.0.1:1/revintel"  # nothing listens on port 1


def test_healthy(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["components"] == {
        "warehouse": {"status": "ok", "kind": "parquet", "detail": None},
        "app_db": {"status": "ok", "kind": "sqlite", "detail": None},
    }


def test_app_database_down_is_503(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, warehouse_url=None, database_url=UNREACHABLE_POSTGRES)
    with TestClient(create_app(AppContext(settings))) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["components"]["warehouse"]["status"] == "ok"
    app_db = body["components"]["app_db"]
    assert app_db["status"] == "down"
    assert app_db["kind"] == "postgresql"
    assert "OperationalError" in app_db["detail"]


def test_warehouse_down_is_503(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, warehouse_url=UNREACHABLE_POSTGRES, database_url=None)
    with TestClient(create_app(AppContext(settings))) as client:
        response = client.get("/health")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["warehouse"]["status"] == "down"
    assert components["warehouse"]["kind"] == "postgres"
    assert components["app_db"]["status"] == "ok"


def test_warehouse_query_failure_is_503(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_ping(self: ParquetWarehouse) -> None:
        raise OSError("warehouse folder is not readable")

    monkeypatch.setattr(ParquetWarehouse, "ping", broken_ping)
    response = client.get("/health")
    assert response.status_code == 503
    warehouse = response.json()["components"]["warehouse"]
    assert warehouse == {
        "status": "down",
        "kind": "parquet",
        "detail": "OSError: warehouse folder is not readable",
    }


def test_other_routes_answer_503_json_when_the_app_database_is_down(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, warehouse_url=None, database_url=UNREACHABLE_POSTGRES)
    with TestClient(create_app(AppContext(settings))) as client:
        response = client.get("/api/v1/loads")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "ServiceUnavailable"
    assert "port 1" in body["detail"]
    assert "/health" in body["detail"]
