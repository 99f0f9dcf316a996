"""GET /api/v1/tables: every canonical table, loaded ones with their rows and load time."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.data.schema import CONTRACTS
from tests.conftest import SMALL_COMPANY_ROWS


def test_empty_warehouse_lists_every_table_unloaded(client: TestClient) -> None:
    response = client.get("/api/v1/tables")
    assert response.status_code == 200
    body = response.json()
    assert body["warehouse"] == "parquet"
    assert [t["name"] for t in body["tables"]] == list(CONTRACTS)
    assert all(not t["loaded"] and t["rows"] == 0 for t in body["tables"])
    assert all(t["last_loaded"] is None for t in body["tables"])


def test_loaded_tables_have_rows_and_load_time(loaded_client: TestClient) -> None:
    tables = {t["name"]: t for t in loaded_client.get("/api/v1/tables").json()["tables"]}
    for name, rows in SMALL_COMPANY_ROWS.items():
        assert tables[name]["loaded"] is True
        assert tables[name]["rows"] == rows
        assert tables[name]["last_loaded"] is not None
    assert tables["deals"]["loaded"] is False
    assert tables["customers"]["description"] == CONTRACTS["customers"].description


def test_loaded_only(loaded_client: TestClient) -> None:
    body = loaded_client.get("/api/v1/tables", params={"loaded_only": True}).json()
    assert {t["name"]: t["rows"] for t in body["tables"]} == SMALL_COMPANY_ROWS


def test_sees_a_load_made_after_the_app_started(
    client: TestClient, empty_context: AppContext, company_csvs: Path
) -> None:
    assert client.get("/api/v1/tables", params={"loaded_only": True}).json()["tables"] == []
    # Another process (here: another context on the same home) loads data.
    other = AppContext(empty_context.settings)
    try:
        load_paths(other, [company_csvs / "customers.csv"])
    finally:
        other.close()
    tables = client.get("/api/v1/tables", params={"loaded_only": True}).json()["tables"]
    assert [(t["name"], t["rows"]) for t in tables] == [("customers", 5)]
