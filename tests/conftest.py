"""Shared test fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.core.config import Settings

# -- Ibis's default backend is off limits -------------------------------------------------------


def _caller_outside_ibis() -> str:
    """The file of the innermost frame that is neither Ibis's nor this module's."""
    import traceback

    for frame in reversed(traceback.extract_stack()):
        path = frame.filename.replace("\\", "/")
        if "/ibis/" not in path and path != __file__.replace("\\", "/"):
            return f"{frame.filename}:{frame.lineno}"
    return ""


@pytest.fixture(autouse=True, scope="session")
def _no_default_ibis_backend() -> Iterator[None]:
    """Fail any test in which revintel's own code falls back on Ibis's default backend.

    That backend is one DuckDB connection shared by every thread of the process: concurrent API
    requests that executed an unbound expression (an ``ibis.memtable`` alone) on it blocked each
    other inside DuckDB while holding the GIL, and the server hung for good. Test code itself
    may still use it (it runs on one thread).
    """
    import ibis.config
    import ibis.expr.types.core

    original = ibis.config._default_backend

    def guarded() -> object:
        caller = _caller_outside_ibis()
        if "/src/revintel/" in caller.replace("\\", "/"):
            raise AssertionError(
                f"An Ibis expression ran on Ibis's process-wide default DuckDB backend (at "
                f"{caller}). Every query must run on a connection its caller owns: execute "
                "through the warehouse (Warehouse.to_arrow) or on "
                "revintel.warehouse.local_engine()."
            )
        return original()

    saved = ibis.config._default_backend, ibis.expr.types.core._default_backend
    ibis.config._default_backend = guarded  # type: ignore[assignment]
    ibis.expr.types.core._default_backend = guarded  # type: ignore[assignment]
    yield
    ibis.config._default_backend, ibis.expr.types.core._default_backend = saved


# -- PostgreSQL: fresh databases for this test session (tests marked `postgres`) -------------------

# The server the `postgres` tests use (trust auth); the session creates its own databases on it.
POSTGRES_SERVER = os.environ.get("REVINTEL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Callable[[], str]]:
    """Creates databases (revintel_test_<random>), returning their URLs; drops them at the end."""
    import psycopg
    from psycopg import sql

    created: list[str] = []

    def create() -> str:
        name = f"revintel_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"{POSTGRES_SERVER}/test", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return f"{POSTGRES_SERVER}/{name}"

    yield create
    with psycopg.connect(f"{POSTGRES_SERVER}/test", autocommit=True) as conn:
        for name in created:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_url(postgres_databases: Callable[[], str]) -> str:
    """URL of a new PostgreSQL database for this test session."""
    return postgres_databases()


# -- a small hand-made company and isolated homes (tests/api, tests/ui) ------------------------

# TestClient sends `Host: testserver`; the API answers only the hosts it is configured for
# (docs/operations.md), so the tests add that name to the default loopback names.
os.environ.setdefault("REVINTEL_ALLOWED_HOSTS", "127.0.0.1,localhost,::1,testserver")

SMALL_COMPANY_CSVS: dict[str, str] = {
    "customers.csv": """\
customer_id,signup_date,segment,country,acquisition_channel
C001,2024-01-05,SMB,US,Organic
C002,2024-01-20,Mid-Market,DE,Referral
C003,2024-02-11,Enterprise,FR,Partner
C004,2024-03-02,SMB,GB,Paid Ads
C005,2024-03-28,SMB,US,Organic
""",
    "subscriptions.csv": """\
subscription_id,customer_id,plan_type,start_date,end_date,monthly_price
S001,C001,Basic,2024-01-05,,49
S002,C002,Pro,2024-01-20,2024-06-20,299
S003,C003,Enterprise,2024-02-11,,2500
S004,C004,Basic,2024-03-02,,79
""",
    "payments.csv": """\
payment_id,customer_id,payment_date,amount,payment_status
P001,C001,2024-01-05,49,Success
P002,C002,2024-01-20,299,Success
P003,C003,2024-02-11,2500,Success
P004,C004,2024-03-02,79,Failed
P005,C004,2024-03-05,79,Success
P006,C001,2024-02-05,49,Success
""",
}
SMALL_COMPANY_ROWS = {"customers": 5, "subscriptions": 4, "payments": 6}


def isolated_settings(home: Path) -> Settings:
    """Settings for a fresh home, ignoring any REVINTEL_* variables of the machine."""
    return Settings(home=home, warehouse_url=None, database_url=None)


@pytest.fixture
def company_csvs(tmp_path: Path) -> Path:
    """A folder holding the small company's customers, subscriptions and payments CSVs."""
    folder = tmp_path / "company"
    folder.mkdir()
    for name, text in SMALL_COMPANY_CSVS.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def empty_context(tmp_path: Path) -> Iterator[AppContext]:
    """An AppContext over a new, empty home."""
    ctx = AppContext(isolated_settings(tmp_path / "home"))
    yield ctx
    ctx.close()


@pytest.fixture
def loaded_context(empty_context: AppContext, company_csvs: Path) -> AppContext:
    """An AppContext whose warehouse holds the small company."""
    from revintel.app.ingest import load_paths

    load_paths(empty_context, [company_csvs], source="test")
    return empty_context


@contextmanager
def generated_company(
    root: Path, *, customers: int, months: int, seed: int
) -> Iterator[AppContext]:
    """An AppContext over a new home under ``root`` holding a generated company (Parquet)."""
    from revintel.app.ingest import load_paths
    from revintel.data.generator import generate_company, write_company

    folder = root / "company"
    folder.mkdir()
    write_company(
        generate_company(customers=customers, months=months, seed=seed), folder, "parquet"
    )
    ctx = AppContext(isolated_settings(root / "home"))
    load_paths(ctx, [folder], source="test")
    try:
        yield ctx
    finally:
        ctx.close()


# -- churn: a small demo company with trained and scored models --------------------------------
CHURN_DEMO = {"customers": 3000, "months": 30, "seed": 7}


@pytest.fixture(scope="session")
def churn_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding a loaded demo company (3,000 customers over 30 months) with its truth, the
    1- and 3-month churn models trained and promoted, and the warehouse scored by the default
    (3-month) one. Seed 7 plants its anomalies (billing outage, price increase) early, so no
    one-off mass churn falls in the calibration or test months.

    Session-scoped and READ-ONLY: a test that changes anything uses ``churn_context`` (a copy).
    """
    from revintel.app import churn as app_churn
    from revintel.app.ingest import load_paths
    from revintel.churn import service as churn
    from revintel.data.generator import generate_company, write_company

    home = tmp_path_factory.mktemp("churn") / "home"
    demo = home / "demo"
    company = generate_company(**CHURN_DEMO)
    write_company(company, demo, fmt="parquet")
    ctx = AppContext(isolated_settings(home))
    try:
        load_paths(ctx, [demo], source="demo")
        ctx.refresh()
        for horizon in (1, 3):
            churn.train_warehouse_model(ctx, horizon)
        app_churn.score_warehouse(ctx)
    finally:
        ctx.close()
    return home


@pytest.fixture
def churn_context(churn_home: Path, tmp_path: Path) -> Iterator[AppContext]:
    """An AppContext over a private copy of ``churn_home`` (safe to promote, score, retrain)."""
    import shutil

    home = tmp_path / "churn-home"
    shutil.copytree(churn_home, home, symlinks=True)
    ctx = AppContext(isolated_settings(home))
    yield ctx
    ctx.close()


# -- churn: the demo company exactly as `revintel demo` makes it ---------------------------------
@pytest.fixture(scope="session")
def demo_churn_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding the default demo company (2,000 customers, 36 months, seed 42) as
    ``revintel demo`` leaves it: loaded, both churn models trained, the max-F1 threshold of the
    3-month model applied and every customer scored by it. Takes minutes; READ-ONLY (copy it
    for a test that changes anything)."""
    from revintel.app.demo import ensure_demo_data

    home = tmp_path_factory.mktemp("demo") / "home"
    ctx = AppContext(isolated_settings(home))
    try:
        ensure_demo_data(ctx, echo=lambda _message: None)
    finally:
        ctx.close()
    return home
