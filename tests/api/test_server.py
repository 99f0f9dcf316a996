"""``revintel serve`` as a user runs it (api/server.py): it stops within 5 s of SIGTERM with
requests in flight, closes connections that stall, refuses an oversized body at once, and logs no
values."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest

from tests.api.serving import revintel_serve, serving
from tests.conftest import generated_company

pytestmark = pytest.mark.chaos

UPLOAD_START = (
    b'--x\r\nContent-Disposition: form-data; name="files"; filename="customers.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\ncustomer_id,signup_date\r\nCUS-1,2024-01-01\r\n"
)


def _stalled_request(
    port: int, method: str, path: str, content_type: str, first: bytes
) -> socket.socket:
    """A request whose body stops after ``first``, of the 100,000 bytes it declares."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: 100000\r\n\r\n"
    )
    sock.sendall(head.encode() + first)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    with suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


@pytest.fixture(scope="module")
def company_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding a small generated company (300 customers over 12 months)."""
    root = tmp_path_factory.mktemp("served")
    with generated_company(root, customers=300, months=12, seed=3) as ctx:
        return ctx.settings.home


def test_sigterm_stops_the_server_within_5_s_with_requests_in_flight(
    company_home: Path, tmp_path: Path
) -> None:
    with serving(revintel_serve(company_home), tmp_path) as served:
        upload = ("POST", "/api/v1/loads", "multipart/form-data; boundary=x", UPLOAD_START)
        json_body = ("PUT", "/api/v1/churn/threshold", "application/json", b'{"thr')
        stalled = [_stalled_request(served.port, *r) for r in (upload, upload, upload, json_body)]
        time.sleep(0.5)  # every request is in the app, waiting for its body
        started = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running 15 s after SIGTERM:\n{served.text()}")
        stopped_after = time.monotonic() - started
        for sock in stalled:
            sock.settimeout(5)
            _answer(sock)  # closed, not left hanging
            sock.close()
    assert stopped_after < 5.0, served.text()
    cancelled = re.findall(r"(?:POST|PUT) /api/v1/\S+ cancelled", served.text())
    assert len(cancelled) == 4, served.text()


def test_a_stuck_shutdown_is_cut_short_with_every_threads_stack(tmp_path: Path) -> None:
    """A request thread or a close that never returns cannot keep the process: the watchdog ends it
    one second after the grace period, writing where each thread was."""
    script = textwrap.dedent(
        """
        import sys, time
        from revintel.api import server
        from revintel.api.app import create_app
        from revintel.core.config import Settings
        from revintel.app.context import AppContext

        settings = Settings(home=sys.argv[2])
        ctx = AppContext(settings)
        ctx.close = lambda: time.sleep(600)  # a shutdown stuck on a lock
        app = create_app(ctx)

        @app.get("/stuck")
        def stuck() -> dict[str, str]:
            time.sleep(600)  # a worker thread nothing can cancel
            return {}

        server.run(app, host="127.0.0.1", port=int(sys.argv[1]), settings=settings)
        """
    )
    command = [sys.executable, "-c", script, "{port}", str(tmp_path / "home")]
    with serving(command, tmp_path, REVINTEL_SHUTDOWN_GRACE_SECONDS="1") as served:
        stuck = socket.create_connection(("127.0.0.1", served.port))
        stuck.sendall(f"GET /stuck HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n\r\n".encode())
        time.sleep(0.5)
        started = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running 15 s after SIGTERM:\n{served.text()}")
        stopped_after = time.monotonic() - started
        stuck.close()
    assert stopped_after < 1 + 1 + 1.0, served.text()  # grace, watchdog, and a busy machine
    assert served.process.returncode == 1
    assert "Timeout" in served.text() and "in stuck" in served.text()


def test_bodies_are_bounded_and_the_access_log_keeps_no_values(
    company_home: Path, tmp_path: Path
) -> None:
    with serving(
        revintel_serve(company_home),
        tmp_path,
        REVINTEL_BODY_READ_TIMEOUT_SECONDS="1",
        REVINTEL_HEAD_READ_TIMEOUT_SECONDS="1",
    ) as served:
        # A connection that sends half a request head, and one that sends nothing: closed.
        half_head = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        half_head.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        silent = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        started = time.monotonic()
        assert _answer(half_head) == b"" and _answer(silent) == b""
        assert time.monotonic() - started < 5.0

        # A body that stops arriving: 408 after the read timeout, and the connection closed.
        stalled = _stalled_request(
            served.port, "POST", "/api/v1/loads", "multipart/form-data; boundary=x", UPLOAD_START
        )
        started = time.monotonic()
        answer = _answer(stalled)
        released_after = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert released_after < 5.0

        # 300 MB declared: refused before a byte of it is sent.
        big = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        big.sendall(
            f"POST /api/v1/loads HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 300000000\r\n"
            "Expect: 100-continue\r\n\r\n".encode()
        )
        started = time.monotonic()
        answer = _answer(big)
        refused_after = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 413 "), answer
        assert b"300,000,000 bytes" in answer and b"REVINTEL_MAX_UPLOAD_BODY_BYTES" in answer
        assert refused_after < 1.0

        # A rebound host name: 421.
        rebound = urllib.request.Request(
            f"http://127.0.0.1:{served.port}/health", headers={"Host": "attacker.example"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebound, timeout=10)
        assert refused.value.code == 421

        url = f"http://127.0.0.1:{served.port}/api/v1/loads?limit=5&q=Secret+Corp"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
        time.sleep(0.3)
    log = served.text()
    assert "GET /api/v1/loads?limit=…&q=… 200" in log
    assert "Secret" not in log
    assert "POST /api/v1/loads 408" in log and "POST /api/v1/loads 413" in log
