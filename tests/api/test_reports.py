"""``GET /api/v1/reports/executive`` on the trained demo home (``churn_home``, read-only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.core.calendar import month_label, month_number
from tests.conftest import isolated_settings

URL = "/api/v1/reports/executive"


@pytest.fixture(scope="module")
def client(churn_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(AppContext(isolated_settings(churn_home)))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def figures(client: TestClient) -> dict:
    answer = client.get(URL, params={"format": "json"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    return answer.json()


def test_each_format_with_its_media_type_and_file_name(client: TestClient, figures: dict) -> None:
    month = figures["month"]
    expected = {
        "pdf": ("application/pdf", "attachment", b"%PDF"),
        "pptx": (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "attachment",
            b"PK",
        ),
        "html": ("text/html; charset=utf-8", "inline", b"<!DOCTYPE html>"),
    }
    for fmt, (media, disposition, start) in expected.items():
        answer = client.get(URL, params={"month": month, "format": fmt})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == media
        assert answer.headers["content-disposition"] == (
            f'{disposition}; filename="executive-report-{month}.{fmt}"'
        )
        assert answer.content.startswith(start)
    assert client.get(URL).headers["content-type"].startswith("text/html")  # the default


def test_json_figures(figures: dict) -> None:
    assert set(figures["kpis"]) >= {"mrr", "arr", "customers", "arpa", "nrr_monthly"}
    assert figures["narrative"] and figures["forecast"]["points"]
    assert figures["risk"]["top_accounts"]


def test_a_month_outside_the_data(client: TestClient, figures: dict) -> None:
    after = month_label(month_number(figures["data_to"]) + 1)
    answer = client.get(URL, params={"month": after})
    assert answer.status_code == 409
    detail = answer.json()["detail"]
    assert after in detail and f"from {figures['data_from']} to {figures['data_to']}" in detail


@pytest.mark.parametrize(
    ("params", "field"), [({"month": "2025-13"}, "month"), ({"format": "docx"}, "format")]
)
def test_invalid_options_are_422(client: TestClient, params: dict, field: str) -> None:
    answer = client.get(URL, params=params)
    assert answer.status_code == 422
    assert field in answer.text


def test_an_empty_home_is_409(empty_context: AppContext) -> None:
    with TestClient(create_app(empty_context)) as empty:
        answer = empty.get(URL, params={"format": "pdf"})
    assert answer.status_code == 409
    assert "subscriptions table" in answer.json()["detail"]
