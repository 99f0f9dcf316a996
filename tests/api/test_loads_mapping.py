"""POST /api/v1/loads with a mapping: a CRM export uploaded with its TOML mapping file."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.data.test_mapping import MAPPING, PIPELINE, PRODUCTS


def _upload(mapping: str, **data: str) -> dict[str, object]:
    return {
        "files": [
            ("files", ("sales_pipeline.csv", PIPELINE.encode(), "text/csv")),
            ("files", ("products.csv", PRODUCTS.encode(), "text/csv")),
            ("mapping", ("crm.toml", mapping.encode(), "application/toml")),
        ],
        "data": data,
    }


def test_an_export_uploads_with_its_mapping(client: TestClient) -> None:
    response = client.post("/api/v1/loads", **_upload(MAPPING))  # type: ignore[arg-type]

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["tables"] == {"deals": 4, "deal_stage_history": 9}
    assert body["files"][0] == "sales_pipeline.csv via crm.toml [tables.deals]"


def test_a_bad_mapping_is_a_422_naming_its_key(client: TestClient) -> None:
    bad = MAPPING.replace('owner = "sales_agent"', 'owner = "agent"')

    response = client.post("/api/v1/loads", **_upload(bad))  # type: ignore[arg-type]

    assert response.status_code == 422
    text = response.text
    assert "key tables.deals.columns.owner: no column 'agent' in this file" in text
    assert "/tmp" not in text and "revintel-upload-" not in text  # uploaded names only


def test_a_mapping_with_a_table_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/loads", **_upload(MAPPING, table="deals"))  # type: ignore[arg-type]

    assert response.status_code == 422
    assert "not used with a mapping" in response.text
