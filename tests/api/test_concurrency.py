"""A real `revintel serve` under concurrent requests: cold, and while a load replaces the data.

Eight concurrent ``GET /api/v1/accounts?page=1`` on a fresh server once hung the whole process for
good (request threads blocked each other inside Ibis's process-wide default DuckDB connection), and
any load during reads did the same. These tests drive a real server over loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.api.serving import Served, revintel_serve, serving

pytestmark = pytest.mark.chaos

# GET endpoints whose answer is a pure function of the loaded data (one snapshot, one answer).
SNAPSHOT_ENDPOINTS = [
    "/api/v1/tables",
    "/api/v1/accounts?page=1",
    "/api/v1/accounts?page=2&tier=At%20Risk",
    "/api/v1/health/summary",
    "/api/v1/metrics/summary",
    "/api/v1/metrics/mrr",
    "/api/v1/metrics/movements?segment=SMB",
    "/api/v1/metrics/churn?by=plan",
    "/api/v1/metrics/retention",
    "/api/v1/clv/segments?by=segment",
    "/api/v1/anomalies",
]
REQUEST_TIMEOUT = 60.0


def _revintel(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "revintel", *args],
        env={**os.environ, "REVINTEL_HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def companies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("companies")
    for name, seed in (("old", "1"), ("new", "2")):
        _revintel(
            "generate", "--out", str(root / name), "--customers", "1500", "--months", "24",
            "--seed", seed, home=root / "scratch",
        )  # fmt: skip
    return root / "old", root / "new"


@pytest.fixture
def home(tmp_path: Path, companies: tuple[Path, Path]) -> Path:
    _revintel("load", str(companies[0]), home=tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def server(home: Path, tmp_path: Path) -> Iterator[Served]:
    with serving(revintel_serve(home), tmp_path) as served:
        yield served


@dataclass
class Answers:
    bodies: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ask(self, client: httpx.Client, path: str) -> None:
        try:
            response = client.get(path)
        except httpx.HTTPError as exc:
            with self.lock:
                self.failures.append(f"{path}: {type(exc).__name__} {exc}")
            return
        with self.lock:
            if response.status_code != 200:
                self.failures.append(f"{path}: {response.status_code} {response.text[:300]}")
            else:
                self.bodies[path].append(_canonical(response.json()))


def _canonical(payload: object) -> str:
    return json.dumps(payload, sort_keys=True)


def _hammer(server: Served, answers: Answers, rounds: int, threads: int = 50) -> None:
    paths = [SNAPSHOT_ENDPOINTS[i % len(SNAPSHOT_ENDPOINTS)] for i in range(rounds)]
    limits = httpx.Limits(max_connections=threads, max_keepalive_connections=threads)
    with (
        httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT, limits=limits) as client,
        ThreadPoolExecutor(threads) as pool,
    ):
        list(pool.map(lambda p: answers.ask(client, p), paths))


class HealthWatch(threading.Thread):
    """Asks /health every 0.25 s; records any answer slower than 5 s or not 200."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.asked = 0
        self.problems: list[str] = []

    def run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while not self.stop.is_set():
                try:
                    status = client.get(self.url + "/health").status_code
                    if status != 200:
                        self.problems.append(f"/health answered {status}")
                except httpx.HTTPError as exc:
                    self.problems.append(f"/health: {type(exc).__name__}")
                self.asked += 1
                self.stop.wait(0.25)


def test_cold_server_answers_eight_concurrent_account_pages(server: Served) -> None:
    answers = Answers()
    with (
        httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as client,
        ThreadPoolExecutor(8) as pool,
    ):
        list(pool.map(lambda _: answers.ask(client, "/api/v1/accounts?page=1"), range(8)))
    assert answers.failures == []
    assert len(set(answers.bodies["/api/v1/accounts?page=1"])) == 1
    assert httpx.get(server.url + "/health", timeout=5).status_code == 200


def test_concurrent_reads_on_a_cold_server_and_during_a_load(
    server: Served, companies: tuple[Path, Path], home: Path
) -> None:
    watch = HealthWatch(server.url)
    watch.start()
    try:
        # Cold: 110 requests from 50 threads, every one computing on an empty cache at first.
        before = Answers()
        _hammer(server, before, rounds=110)
        assert before.failures == []
        assert sum(len(v) for v in before.bodies.values()) == 110
        for path, bodies in before.bodies.items():
            assert len(set(bodies)) == 1, f"{path} gave {len(set(bodies))} different answers"
        old = {path: bodies[0] for path, bodies in before.bodies.items()}

        # A load replacing every table while 50 threads keep reading.
        loading = subprocess.Popen(
            [sys.executable, "-m", "revintel", "load", str(companies[1])],
            env={**os.environ, "REVINTEL_HOME": str(home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        during = Answers()
        rounds = 0
        while loading.poll() is None or rounds < 2:
            _hammer(server, during, rounds=110)
            rounds += 1
        assert loading.returncode == 0, loading.stdout.read() if loading.stdout else ""

        after = Answers()
        _hammer(server, after, rounds=len(SNAPSHOT_ENDPOINTS))
        assert after.failures == []
        new = {path: bodies[0] for path, bodies in after.bodies.items()}
    finally:
        watch.stop.set()
        watch.join(timeout=10)

    assert during.failures == []
    assert sum(len(v) for v in during.bodies.values()) == 110 * rounds
    assert old != new  # the load changed what every endpoint answers
    for path, bodies in during.bodies.items():
        mixed = [b for b in bodies if b not in (old[path], new[path])]
        assert mixed == [], f"{path}: {len(mixed)} answers from neither the old nor the new load"
    assert watch.problems == []
    assert watch.asked > 0
