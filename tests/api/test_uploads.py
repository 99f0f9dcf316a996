"""Upload file names: only a safe base name is used; anything else is a 422 naming the field."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.uploads import save_uploads
from revintel.data.names import MAX_NAME_CHARS
from tests.conftest import SMALL_COMPANY_CSVS

BOUNDARY = "revintel-test-boundary"
BAD_NAMES = {
    "dot-dot": b"..",
    "dir-dot-dot": b"a/..",
    "dot": b".",
    "windows dot-dot": b"a\\..",
    "300 characters": b"c" * 296 + b".csv",
    "NUL": b"customers\x00.csv",
    "control character": b"custo\x1bmers.csv",
    "blank": b"   ",
}
# (endpoint, form field)
ENDPOINTS = [("/api/v1/loads", "files"), ("/api/v1/churn/score/file", "file")]


def _multipart(field: str, filename: bytes, content: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body with the file name as raw bytes (clients would escape a NUL)."""
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="'.encode()
        + filename
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return body, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.mark.parametrize("endpoint,field", ENDPOINTS)
@pytest.mark.parametrize("name", list(BAD_NAMES), ids=list(BAD_NAMES))
def test_unsafe_upload_names_are_422_naming_the_field(
    client: TestClient, endpoint: str, field: str, name: str
) -> None:
    content = SMALL_COMPANY_CSVS["customers.csv"].encode()
    body, headers = _multipart(field, BAD_NAMES[name], content)

    response = client.post(endpoint, content=body, headers=headers)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["error"] == "RequestValidationError"
    assert [(f["field"], f["location"]) for f in problem["fields"]] == [(field, "body")]
    assert "expected a file name such as customers.csv" in problem["detail"]
    assert f"at most {MAX_NAME_CHARS} characters" in problem["detail"]
    assert client.get("/api/v1/loads").json()["loads"] == []  # nothing was loaded or recorded


def test_only_the_base_name_of_an_upload_is_used(client: TestClient) -> None:
    content = SMALL_COMPANY_CSVS["customers.csv"].encode()
    body, headers = _multipart("files", b"../../etc/customers.csv", content)

    response = client.post("/api/v1/loads", content=body, headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["files"] == ["customers.csv"]


def test_save_uploads_writes_inside_its_folder_only(tmp_path: Path) -> None:
    folder = tmp_path / "upload"
    folder.mkdir()

    paths = save_uploads(
        [("../x/customers.csv", io.BytesIO(b"1")), ("C:\\a\\customers.csv", io.BytesIO(b"2"))],
        folder,
    )

    assert [p.relative_to(folder).as_posix() for p in paths] == [
        "customers.csv",
        "2/customers.csv",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["upload"]


def test_a_predictions_csv_uploads_alone(client: TestClient) -> None:
    # Refused before: 200 orphan rows and no customers table.
    rows = [f"ACC-{i:04d},{i / 200:.3f},Low,0" for i in range(200)]
    content = ("account_id,churn_risk_score,risk_tier,prediction\n" + "\n".join(rows)).encode()
    body, headers = _multipart("files", b"predictions.csv", content)

    response = client.post("/api/v1/loads", content=body, headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["tables"] == {"predictions": 200}
    overview = client.get("/api/v1/churn/overview")
    assert overview.status_code == 200, overview.text
    assert overview.json()["customers"] == 200 and overview.json()["scored_at"] is None
