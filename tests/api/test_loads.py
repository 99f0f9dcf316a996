"""/api/v1/loads: upload CSV or Parquet files to load, and the load history."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from tests.conftest import SMALL_COMPANY_CSVS, SMALL_COMPANY_ROWS

BAD_CUSTOMERS = b"""\
customer_id,signup_date,segment,country,acquisition_channel
C001,2024-13-01,SMB,US,Organic
C002,2024-01-20,Tiny,DE,Referral
C001,2024-02-11,Enterprise,FR,Partner
"""


def _files(*named: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, content, "text/csv")) for name, content in named]


def _company_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return _files(*((name, text.encode()) for name, text in SMALL_COMPANY_CSVS.items()))


def _loaded(client: TestClient) -> dict[str, int]:
    tables = client.get("/api/v1/tables", params={"loaded_only": True}).json()["tables"]
    return {t["name"]: t["rows"] for t in tables}


def test_upload_loads_every_file(client: TestClient) -> None:
    response = client.post("/api/v1/loads", files=_company_files())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["tables"] == SMALL_COMPANY_ROWS
    assert sorted(body["files"]) == sorted(SMALL_COMPANY_CSVS)
    assert body["mode"] == "replace"
    assert body["seconds"] > 0
    assert _loaded(client) == SMALL_COMPANY_ROWS

    history = client.get("/api/v1/loads").json()["loads"]
    assert history[0]["id"] == body["run_id"]
    assert history[0]["status"] == "success"
    assert history[0]["source"] == "api"
    assert history[0]["tables"] == SMALL_COMPANY_ROWS


def test_upload_parquet_with_table_override_and_append(loaded_client: TestClient) -> None:
    more = pa.table(
        {
            "customer_id": ["C006", "C007"],
            "signup_date": pa.array([19900, 19910], pa.int32()).cast(pa.date32()),
            "segment": ["SMB", "Enterprise"],
            "country": ["US", "JP"],
            "acquisition_channel": ["Organic", "Partner"],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(more, buffer)
    response = loaded_client.post(
        "/api/v1/loads",
        files=[("files", ("crm-export.parquet", buffer.getvalue(), "application/octet-stream"))],
        data={"table": "customers", "mode": "append"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["tables"] == {"customers": 2}
    assert response.json()["mode"] == "append"
    assert _loaded(loaded_client)["customers"] == 7


def test_bad_file_is_422_with_every_problem_and_loads_nothing(client: TestClient) -> None:
    response = client.post("/api/v1/loads", files=_files(("customers.csv", BAD_CUSTOMERS)))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ValidationFailed"
    assert body["detail"].startswith("Validation failed: 3 problem(s) found")
    assert body["total"] == 3
    found = {(p["file"], p["row"], p["column"], p["got"]) for p in body["problems"]}
    assert found == {
        ("customers.csv", 1, "signup_date", "2024-13-01"),
        ("customers.csv", 2, "segment", "Tiny"),
        ("customers.csv", 3, "customer_id", "C001"),
    }
    by_column = {p["column"]: p for p in body["problems"]}
    assert by_column["signup_date"]["expected"] == "a date YYYY-MM-DD"
    assert by_column["segment"]["expected"] == "one of SMB, Mid-Market, Enterprise"
    # The server's temporary folder never shows.
    assert "/tmp" not in response.text and "revintel-upload" not in response.text
    assert _loaded(client) == {}
    assert client.get("/api/v1/loads").json()["loads"][0]["status"] == "failed"


def test_file_that_names_no_table_is_422(client: TestClient) -> None:
    response = client.post("/api/v1/loads", files=_files(("export.csv", b"a,b\n1,2\n")))
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["file"] == "export.csv"
    assert "cannot tell which table" in problem["message"]


def test_unsupported_file_type_is_422(client: TestClient) -> None:
    response = client.post("/api/v1/loads", files=_files(("customers.xlsx", b"PK\x03\x04")))
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["message"] == "unsupported file type"
    assert problem["got"] == ".xlsx"


def test_request_errors_name_the_field(client: TestClient) -> None:
    files = _files(("customers.csv", SMALL_COMPANY_CSVS["customers.csv"].encode()))
    cases = {
        "mode": client.post("/api/v1/loads", files=files, data={"mode": "merge"}),
        "table": client.post("/api/v1/loads", files=files, data={"table": "clients"}),
        "files": client.post("/api/v1/loads", data={"mode": "replace"}),
    }
    for field, response in cases.items():
        assert response.status_code == 422, field
        body = response.json()
        assert body["error"] == "RequestValidationError"
        assert [f["field"] for f in body["fields"]] == [field]
        assert f"'{field}'" in body["detail"]
    assert _loaded(client) == {}


def test_history_is_newest_first_and_limited(client: TestClient, company_csvs: Path) -> None:
    assert client.get("/api/v1/loads").json() == {"loads": []}
    client.post("/api/v1/loads", files=_company_files())
    client.post("/api/v1/loads", files=_files(("customers.csv", BAD_CUSTOMERS)))
    loads = client.get("/api/v1/loads").json()["loads"]
    assert [run["status"] for run in loads] == ["failed", "success"]
    assert loads[0]["id"] > loads[1]["id"]
    assert len(client.get("/api/v1/loads", params={"limit": 1}).json()["loads"]) == 1
    bad_limit = client.get("/api/v1/loads", params={"limit": 0})
    assert bad_limit.status_code == 422
    assert bad_limit.json()["fields"][0] == {
        "field": "limit",
        "location": "query",
        "message": "Input should be greater than or equal to 1",
    }


def test_two_files_with_the_same_name_are_both_loaded(client: TestClient) -> None:
    header, *rows = SMALL_COMPANY_CSVS["customers.csv"].splitlines(keepends=True)
    first = "".join([header, *rows[:3]]).encode()
    second = "".join([header, *rows[3:]]).encode()
    response = client.post(
        "/api/v1/loads", files=_files(("customers.csv", first), ("customers.csv", second))
    )
    assert response.status_code == 201, response.text
    assert response.json()["tables"] == {"customers": 5}
    assert response.json()["files"] == ["customers.csv", "customers.csv"]


def test_a_header_field_over_128_kib_is_422_not_500(client: TestClient) -> None:
    header = "customer_id,signup_date,segment,country,acquisition_channel," + "x" * (200 << 10)
    content = f"{header}\nC1,2024-01-05,SMB,US,Organic,1\n".encode()

    response = client.post("/api/v1/loads", files=_files(("customers.csv", content)))

    assert response.status_code == 422, response.text
    (problem,) = response.json()["problems"]
    assert (problem["file"], problem["row"]) == ("customers.csv", 0)
    assert problem["message"].startswith("cannot read the header line as CSV")
    assert client.get("/api/v1/loads").json()["loads"][0]["status"] == "failed"


def test_trimmed_ids_are_warnings_in_the_load_result(client: TestClient) -> None:
    customers = SMALL_COMPANY_CSVS["customers.csv"].replace("C005,", " C005 ,")

    response = client.post("/api/v1/loads", files=_files(("customers.csv", customers.encode())))

    assert response.status_code == 201, response.text
    (warning,) = response.json()["warnings"]
    assert (warning["file"], warning["row"], warning["column"], warning["got"]) == (
        "customers.csv",
        5,
        "customer_id",
        " C005 ",
    )
    assert "trimmed" in warning["message"]
