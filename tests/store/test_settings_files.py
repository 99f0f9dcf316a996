"""Settings files under concurrent writers: locked, atomic, no lost update, last good copy kept."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.churn import config as churn_config
from revintel.churn.config import ChurnConfig, InvalidChurnConfig, update_config
from revintel.core.config import Settings
from revintel.health import config as health_config
from revintel.health.config import HealthConfig
from revintel.store.settings_files import SettingsFile
from tests.conftest import isolated_settings

WRITES = 60  # of each kind: the race the issue measured (28 × 500, a corrupted churn.toml)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "revintel.toml"))
    return isolated_settings(tmp_path / "home")


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """A client that answers a server error as a 500 instead of raising it in the test."""
    monkeypatch.setenv("REVINTEL_CONFIG", str(tmp_path / "revintel.toml"))
    ctx = AppContext(isolated_settings(tmp_path / "home"))
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        yield client
    ctx.close()


def health_body(i: int) -> dict[str, Any]:
    engagement = 20.0 + i % 40
    return {
        "weights": {"engagement": engagement, "sentiment": 70.0 - engagement, "support": 30.0},
        "no_contact_days": 30 + i,
    }


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.name.endswith(".tmp"))


def test_concurrent_puts_through_the_api_all_succeed_and_leave_valid_files(
    api: TestClient, tmp_path: Path
) -> None:
    def put(job: tuple[str, int]) -> tuple[int, str]:
        kind, i = job
        if kind == "health":
            response = api.put("/api/v1/health/config", json=health_body(i))
        elif kind == "churn":
            response = api.put("/api/v1/churn/threshold", json={"threshold": (i + 1) / 100})
        else:
            response = api.get("/api/v1/health/config")
        return response.status_code, response.text

    jobs = [(kind, i) for i in range(WRITES) for kind in ("health", "churn", "read")]
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(put, jobs))

    failures = [
        (job, status, text[:200])
        for job, (status, text) in zip(jobs, results, strict=True)
        if status != 200
    ]
    assert failures == []
    home = tmp_path / "home"
    churn = tomllib.loads((home / "churn.toml").read_text())
    health = tomllib.loads((home / "health.toml").read_text())
    assert churn["threshold"] in {(i + 1) / 100 for i in range(WRITES)}
    assert health["no_contact_days"] in {30 + i for i in range(WRITES)}
    written = health_body(health["no_contact_days"] - 30)
    assert health["weights"] == written["weights"]  # one request's settings, not a mixture
    assert leftovers(home) == []


def test_a_reader_never_sees_part_of_a_file(settings: Settings) -> None:
    # Long action lists make each write big enough for a torn read to show.
    big = HealthConfig.model_validate(
        {"actions": {"Executive Sponsor Call": [f"step {n} " + "x" * 200 for n in range(100)]}}
    )
    small = HealthConfig()
    health_config.save_config(settings, small)
    path = health_config.health_file(settings)
    stop = threading.Event()
    errors: list[str] = []

    def write() -> None:
        for n in range(12):
            health_config.save_config(settings, big if n % 2 else small)

    def read() -> None:
        while not stop.is_set():
            try:
                health_config.validate_config(tomllib.loads(path.read_text()))
            except Exception as exc:  # any failure is the finding
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            writes = [pool.submit(write) for _ in range(3)]
        failed = [str(w.exception()) for w in writes if w.exception() is not None]
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert failed == []
    assert errors == []
    assert leftovers(settings.home) == []


def test_a_read_modify_write_loses_no_concurrent_update(settings: Settings) -> None:
    def bump(_: int) -> None:
        for _ in range(10):
            config = churn_config.FILE.update(
                settings,
                churn_config.validate_config,
                lambda c: c.model_copy(update={"cost_per_action": c.cost_per_action + 1}),
                churn_config.to_toml,
            )
            assert config.cost_per_action >= 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(bump, range(8)))
    assert churn_config.load_config(settings).cost_per_action == 500.0 + 80


_COUNTER = """
import sys
from revintel.churn import config
from revintel.core.config import Settings
settings = Settings(home=sys.argv[1], warehouse_url=None, database_url=None)
for _ in range(int(sys.argv[2])):
    config.FILE.update(
        settings,
        config.validate_config,
        lambda c: c.model_copy(update={"retrain_every_months": c.retrain_every_months + 1}),
        config.to_toml,
    )
"""


def test_processes_take_turns_through_the_os_lock(settings: Settings, tmp_path: Path) -> None:
    churn_config.save_config(settings, ChurnConfig(retrain_every_months=0))
    env = {**os.environ, "REVINTEL_CONFIG": str(tmp_path / "revintel.toml")}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _COUNTER, str(settings.home), "12"],
            cwd=Path(__file__).parents[1],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
    assert churn_config.load_config(settings).retrain_every_months == 36


def test_a_truncated_file_falls_back_to_the_last_good_copy(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    saved = ChurnConfig.model_validate({"threshold": 0.42, "tiers": {"high": 0.8}})
    churn_config.save_config(settings, saved)
    path = churn_config.churn_file(settings)
    text = path.read_text()
    path.write_text(text[: text.index("0.42") + 2])  # "threshold = 0." : not valid TOML

    with caplog.at_level(logging.WARNING, logger="revintel.store.settings_files"):
        assert churn_config.load_config(settings) == saved
        assert churn_config.load_config(settings) == saved

    (warning,) = [r.getMessage() for r in caplog.records]  # once per version of the bad file
    assert str(path) in warning and "not valid TOML" in warning
    assert str(churn_config.FILE.last_good_file(settings)) in warning

    # A cut that is still valid TOML but fails validation: "high = 0" (tiers must be > 0).
    path.write_text(text[: text.index("high = 0.8") + len("high = 0")])
    assert churn_config.load_config(settings) == saved

    # The next write repairs the file; a read-modify-write starts from the last good values.
    assert update_config(settings, threshold=0.3).tiers.high == 0.8
    assert tomllib.loads(path.read_text())["threshold"] == 0.3


def test_a_bad_file_without_a_last_good_copy_is_refused_naming_it(settings: Settings) -> None:
    path = churn_config.churn_file(settings)
    path.parent.mkdir(parents=True)
    path.write_text("threshold = 0.\n")
    with pytest.raises(InvalidChurnConfig, match=rf"{path}: not valid TOML"):
        churn_config.load_config(settings)

    path.write_bytes(b"threshold = \xff\n")
    with pytest.raises(InvalidChurnConfig, match=rf"{path}: not valid TOML \(not UTF-8"):
        churn_config.load_config(settings)


def test_a_bad_project_file_is_refused_even_with_a_last_good_copy(
    settings: Settings, tmp_path: Path
) -> None:
    churn_config.save_config(settings, ChurnConfig(threshold=0.4))
    project = tmp_path / "revintel.toml"
    project.write_text("[churn]\nthreshold = \n")
    with pytest.raises(InvalidChurnConfig, match=rf"{project}: not valid TOML"):
        churn_config.load_config(settings)


def test_the_api_recovers_from_a_corrupted_churn_file(api: TestClient, tmp_path: Path) -> None:
    assert api.put("/api/v1/churn/threshold", json={"threshold": 0.35}).status_code == 200
    path = tmp_path / "home" / "churn.toml"
    text = path.read_text()
    path.write_text(text[: text.index("threshold = 0.35") + len("threshold = 0.")])
    assert api.get("/api/v1/health/config").status_code == 200  # another capability's file

    response = api.put("/api/v1/churn/threshold", json={"threshold": 0.45})

    assert response.status_code == 200, response.text
    assert tomllib.loads(path.read_text())["threshold"] == 0.45


def test_a_failed_write_leaves_the_previous_file(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    churn_config.save_config(settings, ChurnConfig(threshold=0.4))
    path = churn_config.churn_file(settings)
    before = path.read_text()

    def full_disk(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        churn_config.save_config(settings, ChurnConfig(threshold=0.6))
    monkeypatch.undo()

    assert path.read_text() == before
    assert leftovers(settings.home) == []


def test_temporary_files_of_a_dead_writer_are_swept(settings: Settings) -> None:
    settings.home.mkdir(parents=True)
    stale = settings.home / ".churn.toml.k1ll3d.tmp"
    stale.write_text("threshold = 0.")
    churn_config.save_config(settings, ChurnConfig())
    assert leftovers(settings.home) == []


def test_reset_forgets_the_file_and_its_copy(settings: Settings) -> None:
    churn_config.save_config(settings, ChurnConfig(threshold=0.4))
    churn_config.reset_config(settings)
    assert not churn_config.churn_file(settings).exists()
    assert not churn_config.FILE.last_good_file(settings).exists()
    assert churn_config.load_config(settings) == ChurnConfig()


def test_the_lock_is_reentrant_within_a_thread(settings: Settings) -> None:
    file: SettingsFile[ChurnConfig] = churn_config.FILE
    with file.locked(settings), file.locked(settings):
        churn_config.save_config(settings, ChurnConfig(threshold=0.4))
    assert churn_config.load_config(settings).threshold == 0.4


def test_the_api_shows_which_copy_is_in_use(api: TestClient, tmp_path: Path) -> None:
    body = health_body(7)
    assert api.put("/api/v1/health/config", json=body).status_code == 200
    path = tmp_path / "home" / "health.toml"
    path.write_text(path.read_text()[:-3])  # cut inside the last action's text

    response = api.get("/api/v1/health/config")

    assert response.status_code == 200, response.text
    assert response.json()["sources"] == [f"{path}.last-good"]
    assert response.json()["config"]["no_contact_days"] == body["no_contact_days"]
