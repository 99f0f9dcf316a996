"""The API's edge (api/edge.py): allowed hosts, cross-site writes, CORS, body limits and timeouts,
and the access log, through the whole application."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.api.edge import BodyLimits, EdgePolicy, logged_target
from revintel.app.context import AppContext
from revintel.core.config import Settings

EVIL = "http://evil.example"
CRM = "https://crm.example.com"


def _settings(home: Path, **overrides: Any) -> Settings:
    return Settings(home=home, warehouse_url=None, database_url=None, **overrides)


@pytest.fixture
def default_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped defaults, not the test session's (tests/conftest.py adds ``testserver``)."""
    monkeypatch.delenv("REVINTEL_ALLOWED_HOSTS", raising=False)


@pytest.fixture
def edge_app(tmp_path: Path) -> Iterator[FastAPI]:
    """The API over an empty home with small limits, CRM allowed as an origin."""
    ctx = AppContext(
        _settings(
            tmp_path / "home",
            allowed_hosts=["127.0.0.1", "localhost", "::1", "testserver"],
            allowed_origins=[CRM],
            max_json_body_bytes=1000,
            max_upload_body_bytes=5000,
            body_read_timeout_seconds=0.3,
        )
    )
    yield create_app(ctx)
    ctx.close()


@pytest.fixture
def edge_client(edge_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(edge_app) as client:
        yield client


# -- hosts ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("default_hosts")
@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]
)
def test_loopback_names_are_answered_by_default(tmp_path: Path, base_url: str) -> None:
    app = create_app(AppContext(_settings(tmp_path / "home")))
    with TestClient(app, base_url=base_url) as client:
        assert client.get("/health").status_code == 200


@pytest.mark.usefixtures("default_hosts")
def test_a_rebound_host_is_refused_with_421_naming_the_allowed_hosts(tmp_path: Path) -> None:
    app = create_app(AppContext(_settings(tmp_path / "home")))
    with TestClient(app, base_url="http://attacker.example:8000") as client:
        read = client.get("/api/v1/tables")
        write = client.post("/api/v1/loads", files={"files": ("customers.csv", b"x")})
    for response in (read, write):
        assert response.status_code == 421
        body = response.json()
        assert body["error"] == "MisdirectedRequest"
        assert "Host header 'attacker.example:8000'" in body["detail"]
        assert "127.0.0.1, localhost, ::1" in body["detail"]
        assert "REVINTEL_ALLOWED_HOSTS" in body["detail"]


@pytest.mark.usefixtures("default_hosts")
def test_the_bound_address_and_configured_hosts_are_answered(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home", allowed_hosts=["api.example.com", "*.corp.example"])
    app = create_app(AppContext(settings), bind_host="10.1.2.3")
    for base_url, status in [
        ("http://10.1.2.3:8000", 200),
        ("https://api.example.com", 200),
        ("http://eu.corp.example", 200),
        ("http://corp.example.evil", 421),
        ("http://localhost", 421),  # the configured list replaces the defaults
    ]:
        with TestClient(app, base_url=base_url) as client:
            assert client.get("/health").status_code == status, base_url


@pytest.mark.usefixtures("default_hosts")
def test_a_wildcard_bind_answers_this_machines_name(tmp_path: Path) -> None:
    app = create_app(AppContext(_settings(tmp_path / "home")), bind_host="0.0.0.0")
    with TestClient(app, base_url=f"http://{socket.gethostname()}:8000") as client:
        assert client.get("/health").status_code == 200


# -- cross-site writes and CORS -------------------------------------------------------------------

WRITES = [
    ("post", "/api/v1/loads", {"files": {"files": ("customers.csv", b"customer_id\n")}}),
    ("put", "/api/v1/churn/threshold", {"json": {"threshold": 0.5}}),
    ("put", "/api/v1/health/config", {"json": {}}),
    ("post", "/api/v1/models/churn-3m-v1/promote", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_write_from_another_origin_is_refused_with_403(
    edge_client: TestClient, method: str, path: str, body: dict[str, Any]
) -> None:
    response = edge_client.request(method, path, headers={"Origin": EVIL}, **body)
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert f"Origin '{EVIL}'" in detail
    assert "http://testserver" in detail and CRM in detail and "REVINTEL_ALLOWED_ORIGINS" in detail
    assert edge_client.get("/api/v1/loads").json()["loads"] == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},  # another scheme is another origin
        {"Referer": f"{EVIL}/page.html"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_other_signs_of_a_cross_site_write_are_refused(
    edge_client: TestClient, headers: dict[str, str]
) -> None:
    response = edge_client.post("/api/v1/loads", headers=headers, files={"files": ("a.csv", b"")})
    assert response.status_code == 403
    assert next(iter(headers)) in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts, CRMs: no Origin
        {"Origin": "http://testserver"},  # the API's own pages (/docs)
        {"Origin": "http://TestServer:80/"},
        {"Origin": CRM},  # listed in the settings
        {"Referer": "http://testserver/docs", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_writes_without_a_foreign_origin_pass(
    edge_client: TestClient, headers: dict[str, str]
) -> None:
    response = edge_client.put(
        "/api/v1/churn/threshold", headers=headers, json={"method": "manual"}
    )
    assert response.status_code == 422  # reached the route, which wants a threshold
    assert response.json()["error"] != "Forbidden"


def test_reads_from_another_origin_are_answered_but_not_shared(edge_client: TestClient) -> None:
    evil = edge_client.get("/api/v1/tables", headers={"Origin": EVIL})
    assert evil.status_code == 200
    assert "access-control-allow-origin" not in evil.headers
    crm = edge_client.get("/api/v1/tables", headers={"Origin": CRM})
    assert crm.headers["access-control-allow-origin"] == CRM
    assert "access-control-allow-credentials" not in crm.headers


def test_preflight_is_granted_to_allowed_origins_only(edge_client: TestClient) -> None:
    def preflight(origin: str) -> Any:
        return edge_client.options(
            "/api/v1/loads",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )

    assert preflight(EVIL).status_code == 400
    granted = preflight(CRM)
    assert granted.status_code == 200
    assert granted.headers["access-control-allow-origin"] == CRM
    assert "POST" in granted.headers["access-control-allow-methods"]


def test_wildcard_and_null_origins_cannot_be_configured(tmp_path: Path) -> None:
    for origin in ("*", "null", "https://crm.example.com/path"):
        with pytest.raises(ValueError, match="REVINTEL_ALLOWED_ORIGINS"):
            _settings(tmp_path, allowed_origins=[origin])


def test_hosts_and_origins_read_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REVINTEL_ALLOWED_HOSTS", "api.example.com, [::1],LOCALHOST")
    monkeypatch.setenv("REVINTEL_ALLOWED_ORIGINS", "https://CRM.example.com:443/")
    settings = _settings(tmp_path)
    assert settings.allowed_hosts == ["api.example.com", "::1", "localhost"]
    assert settings.allowed_origins == [CRM]


# -- body limits and timeouts ---------------------------------------------------------------------


def _scope(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def _call(app: Any, scope: dict[str, Any], chunks: list[bytes], *, then_stall: bool) -> Any:
    """Run one request straight through the ASGI app: ``chunks`` of body, then either the end of
    the body or a client that sends nothing more. Returns (status, headers, body, chunks read)."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            more = then_stall or read < len(chunks)
            return {"type": "http.request", "body": chunks[read - 1], "more_body": more}
        if then_stall:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=10)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), json.loads(body), read


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(edge_app: FastAPI) -> None:
    for content_type, size, kind in [
        ("application/json", 1001, "other than an upload"),
        ("multipart/form-data; boundary=x", 5001, "an upload"),
    ]:
        scope = _scope(
            "POST", "/api/v1/loads", {"content-type": content_type, "content-length": str(size)}
        )
        status, headers, body, read = _call(edge_app, scope, [b"x" * size], then_stall=True)
        assert (status, read) == (413, 0)
        assert headers[b"connection"] == b"close"
        assert f"{size:,} bytes" in body["detail"] and kind in body["detail"]


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(edge_app: FastAPI) -> None:
    scope = _scope(
        "PUT",
        "/api/v1/churn/threshold",
        {"content-type": "application/json", "transfer-encoding": "chunked"},
    )
    chunks = [b" " * 400] * 100  # 40 kB in all; the limit is 1,000 bytes
    status, headers, body, read = _call(edge_app, scope, chunks, then_stall=False)
    assert status == 413
    assert read == 3  # 1,200 bytes: the first chunk past the limit
    assert headers[b"connection"] == b"close"
    assert "REVINTEL_MAX_JSON_BODY_BYTES" in body["detail"]


@pytest.mark.parametrize(
    ("path", "content_type", "first"),
    [
        ("/api/v1/churn/threshold", "application/json", b'{"thresh'),
        (
            "/api/v1/loads",
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="files"; filename="customers.csv"\r\n'
            b"\r\ncustomer_id\r\n",
        ),
    ],
)
def test_a_body_that_stops_arriving_gets_408(
    edge_app: FastAPI, path: str, content_type: str, first: bytes
) -> None:
    scope = _scope(
        "POST" if "loads" in path else "PUT",
        path,
        {"content-type": content_type, "content-length": "900"},
    )
    status, headers, body, _read = _call(edge_app, scope, [first], then_stall=True)
    assert status == 408
    assert headers[b"connection"] == b"close"
    assert f"after {len(first)} bytes of the 900 declared" in body["detail"]
    assert "REVINTEL_BODY_READ_TIMEOUT_SECONDS" in body["detail"]


def test_the_timeout_covers_the_body_only_not_the_wait_for_a_disconnect() -> None:
    """A streaming response listens for the client's disconnect after the body: no 408 there."""
    messages = [(0.0, {"type": "http.request", "body": b"{}"}), (0.3, {"type": "http.disconnect"})]

    async def receive() -> dict[str, Any]:
        delay, message = messages.pop(0)
        await asyncio.sleep(delay)
        return message

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"
        assert (await receive())["type"] == "http.disconnect"  # 0.3 s: longer than the timeout
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    policy = EdgePolicy((), (), 1000, 1000, body_read_timeout_seconds=0.05)
    asyncio.run(BodyLimits(app, policy)(_scope("POST", "/", {}), receive, send))
    assert sent[0]["status"] == 200


def test_small_bodies_pass(edge_client: TestClient) -> None:
    response = edge_client.put("/api/v1/churn/threshold", json={"threshold": 0.5})
    assert response.status_code != 413


# -- access log -----------------------------------------------------------------------------------


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "revintel.access"]


def test_the_access_log_redacts_query_values_and_ids(
    edge_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="revintel.access")
    edge_client.get("/api/v1/accounts", params={"q": "Secret Corp", "page": 2, "flag": ""})
    edge_client.get("/api/v1/accounts/CUS-0000042")
    edge_client.post("/api/v1/loads", headers={"Origin": EVIL}, files={"files": ("a.csv", b"")})
    lines = _access_lines(caplog)
    assert len(lines) == 3, lines
    assert lines[0].startswith("GET /api/v1/accounts?q=…&page=…&flag=… ")
    assert lines[1].startswith("GET /api/v1/accounts/{account_id} ")
    assert lines[2].startswith("POST /api/v1/loads 403 ")
    assert all(line.endswith(" ms") for line in lines)
    assert not any("Secret" in line or "CUS-" in line for line in lines)


def test_the_access_log_shows_values_when_the_setting_says_so(tmp_path: Path) -> None:
    scope = _scope("GET", "/api/v1/accounts/CUS-1", {})
    scope.update(query_string=b"q=Secret+Corp", path_params={"account_id": "CUS-1"})
    assert logged_target(scope, values=True) == "/api/v1/accounts/CUS-1?q=Secret+Corp"
    assert logged_target(scope, values=False) == "/api/v1/accounts/{account_id}?q=…"
    assert _settings(tmp_path, access_log_values=True).access_log_values


def test_the_edges_refusals_are_in_the_openapi_spec(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "421" in paths["/health"]["get"]["responses"]
    assert {"403", "408", "413", "421"} <= set(paths["/api/v1/churn/threshold"]["put"]["responses"])
    assert "403" not in paths["/api/v1/tables"]["get"]["responses"]
    refused = paths["/api/v1/loads"]["post"]["responses"]["403"]
    assert refused["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
