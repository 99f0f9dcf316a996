"""API test clients over an empty or a loaded home."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext


@pytest.fixture
def client(empty_context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(empty_context)) as test_client:
        yield test_client


@pytest.fixture
def loaded_client(loaded_context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(loaded_context)) as test_client:
        yield test_client
