"""The load history in the app store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from revintel.core.config import Settings
from revintel.store import AppStore, open_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppStore]:
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_url")
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=database_url)
    app_store = open_store(settings)
    with app_store.engine.begin() as connection:  # the PostgreSQL database lives for the session
        connection.execute(text("DELETE FROM load_runs"))
    yield app_store
    app_store.dispose()


def test_a_load_is_recorded_from_start_to_finish(store: AppStore) -> None:
    run_id = store.start_load(["data/customers.csv"], "replace", source="upload")
    running = store.load_history()[0]
    assert (running["id"], running["status"], running["finished_at"]) == (run_id, "running", None)

    store.finish_load(run_id, status="success", tables={"customers": 3})

    (run,) = store.load_history()
    assert run["status"] == "success" and run["source"] == "upload" and run["mode"] == "replace"
    assert run["files"] == ["data/customers.csv"] and run["tables"] == {"customers": 3}
    started, finished = (datetime.fromisoformat(run[k]) for k in ("started_at", "finished_at"))
    assert started.utcoffset() is not None and finished.utcoffset() is not None  # UTC, not naive
    assert started <= finished
    json.dumps(run)  # JSON-able for the API and the CLI


def test_a_failed_load_keeps_its_message(store: AppStore) -> None:
    run_id = store.start_load(["payments.csv"], "append")
    message = "Validation failed: 1 problem(s) found; nothing was loaded.\n  - payments.csv, row 2"

    store.finish_load(run_id, status="failed", message=message)

    (run,) = store.load_history()
    assert (run["status"], run["message"], run["tables"]) == ("failed", message, {})


def test_history_is_newest_first_and_limited(store: AppStore) -> None:
    ids = [store.start_load([f"f{i}.csv"], "replace") for i in range(5)]

    history = store.load_history(limit=3)

    assert [r["id"] for r in history] == ids[::-1][:3]


def test_last_loaded_counts_only_successful_loads(store: AppStore) -> None:
    first = store.start_load(["a"], "replace")
    store.finish_load(first, status="success", tables={"customers": 3, "payments": 4})
    second = store.start_load(["b"], "append")
    store.finish_load(second, status="success", tables={"payments": 1})
    failed = store.start_load(["c"], "replace")
    store.finish_load(failed, status="failed", message="bad")
    history = {r["id"]: r for r in store.load_history()}

    last = store.last_loaded()

    assert set(last) == {"customers", "payments"}
    assert last["customers"] == datetime.fromisoformat(history[first]["finished_at"])
    assert last["payments"] == datetime.fromisoformat(history[second]["finished_at"])


def test_migrating_again_is_harmless(store: AppStore) -> None:
    store.start_load(["a"], "replace")
    store.migrate()
    assert len(store.load_history()) == 1


@pytest.mark.postgres
def test_load_paths_records_in_postgres(
    tmp_path: Path, postgres_databases: Callable[[], str]
) -> None:
    from revintel.app.context import AppContext
    from revintel.app.ingest import load_paths
    from revintel.core.errors import ValidationFailed

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "customers.csv").write_text(
        "customer_id,signup_date,segment,country,acquisition_channel\nC1,2024-01-05,SMB,US,Organic\n"
    )
    (folder / "costs.csv").write_text(
        "month,infra_cost,marketing_cost,support_cost\n2024-13,1,2,3\n"
    )
    url = postgres_databases()
    ctx = AppContext(Settings(home=tmp_path / "home", warehouse_url=None, database_url=url))

    result = load_paths(ctx, [folder / "customers.csv"])
    with pytest.raises(ValidationFailed):
        load_paths(ctx, [folder / "costs.csv"])

    history = ctx.store.load_history()
    assert ctx.store.engine.dialect.name == "postgresql"
    assert [(r["id"], r["status"]) for r in history] == [
        (result.run_id + 1, "failed"),
        (result.run_id, "success"),
    ]
    assert "costs.csv, row 1, column 'month': not a valid month" in history[0]["message"]
    ctx.close()


def test_the_head_revision_is_alembics_and_a_store_behind_it_is_migrated(
    store: AppStore,
) -> None:
    """``migrate`` skips Alembic only for a store at HEAD_REVISION, which must be Alembic's head
    (a new migration without raising it would otherwise never run on existing stores)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from revintel.store.db import HEAD_REVISION, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
    assert store.revision() == HEAD_REVISION

    # A store one migration behind (its newest table dropped) is brought up to date again.
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE churn_models"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert store.revision() == "0001"
    store.migrate()
    assert store.revision() == HEAD_REVISION
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM churn_models")).scalar_one() == 0


def _set_process(store: AppStore, run_id: int, **values: object) -> None:
    from revintel.store.models import LoadRun

    with store.session() as s:
        run = s.get(LoadRun, run_id)
        assert run is not None
        for name, value in values.items():
            setattr(run, name, value)


def test_loads_whose_process_is_gone_are_reconciled_as_interrupted(store: AppStore) -> None:
    import socket
    import subprocess
    import sys
    from datetime import UTC, timedelta

    import psutil

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # its pid no longer runs
    time_ago = datetime.now(UTC)
    ended_started = time_ago
    alive = store.start_load(["alive.csv"], "replace")  # this very process: still running
    dead = store.start_load(["dead.csv"], "replace")
    _set_process(store, dead, pid=ended.pid, process_started=ended_started.timestamp())
    reused = store.start_load(["reused.csv"], "replace")  # our pid, but another process start
    _set_process(store, reused, process_started=psutil.Process().create_time() - 3600)
    legacy = store.start_load(["legacy.csv"], "replace")  # before revintel recorded processes
    _set_process(store, legacy, pid=None, host=None, process_started=None)
    elsewhere = store.start_load(["elsewhere.csv"], "replace")  # another host: cannot check
    _set_process(store, elsewhere, host="another-" + socket.gethostname())
    stale = store.start_load(["stale.csv"], "replace")  # another host, started two days ago
    _set_process(store, stale, host="another-host", started_at=time_ago - timedelta(days=2))
    done = store.start_load(["done.csv"], "replace")
    store.finish_load(done, status="success", tables={"customers": 1})

    found = store.reconcile_loads()

    assert sorted(found) == sorted([dead, reused, legacy, stale])
    runs = {r["id"]: r for r in store.load_history()}
    assert {i: runs[i]["status"] for i in runs} == {
        alive: "running",
        dead: "interrupted",
        reused: "interrupted",
        legacy: "interrupted",
        elsewhere: "running",
        stale: "interrupted",
        done: "success",
    }
    assert f"process {ended.pid} on {socket.gethostname()} stopped" in runs[dead]["message"]
    noticed = datetime.fromisoformat(runs[dead]["finished_at"])
    assert noticed >= datetime.fromisoformat(runs[dead]["started_at"])
    assert store.reconcile_loads() == []  # once only
