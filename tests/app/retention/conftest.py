"""A runtime over a fresh app store (SQLite, or PostgreSQL when marked) and a hand-built features
frame, for the campaigns use case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import text

from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.core.errors import NoDataError
from revintel.store import AppStore, open_store
from tests.conftest import isolated_settings


@dataclass
class StoreRuntime:
    settings: Settings
    store: AppStore

    @property
    def warehouse(self):  # the tests hand the features in; nothing reads the warehouse
        raise NoDataError("no warehouse in this test")


def features_frame(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` customers with the columns :func:`customer_features` gives."""
    rng = np.random.default_rng(seed)
    risk = rng.beta(2, 3, n)
    tiers = np.where(risk >= 0.6, "High", np.where(risk >= 0.3, "Medium", "Low"))
    owners = rng.choice(["ann", "bob", None], n, p=[0.45, 0.45, 0.10])
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "name": [f"Company {i}" for i in range(n)],
            "segment": rng.choice(["SMB", "Mid-Market", "Enterprise"], n),
            "plan": rng.choice(["Basic", "Pro", None], n, p=[0.5, 0.4, 0.1]),
            "country": rng.choice(["US", "DE"], n),
            "industry": rng.choice(["Software", "Retail"], n),
            "owner": owners,
            "mrr": rng.gamma(2, 500, n).round(2),
            "arr": None,
            "tenure_months": rng.integers(1, 60, n),
            "health_score": rng.uniform(10, 95, n),
            "health_tier": rng.choice(["Healthy", "At risk", "Critical"], n),
            "churn_risk": risk,
            "risk_tier": tiers,
            "clv": np.where(rng.uniform(size=n) < 0.2, np.nan, rng.gamma(2, 5000, n)),
            "top_factor_1": rng.choice(["late_payments_3m", "login_trend", None], n),
            "top_factor_2": rng.choice(["tickets_3m", "nps_latest"], n),
        },
        schema_overrides={"arr": pl.Float64},
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreRuntime]:
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_url")
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=database_url)
    store = open_store(settings)
    with store.engine.begin() as connection:  # the PostgreSQL database lives for the session
        for table in ("campaign_tasks", "campaign_members", "campaigns", "campaign_templates"):
            connection.execute(text(f"DELETE FROM {table}"))
    yield StoreRuntime(settings, store)
    store.dispose()


@pytest.fixture(scope="session")
def campaign_demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo company (2,000 customers, 36 months, seed 42) written to HOME/demo (so
    its truth folder is where the app looks) and loaded; no churn model. READ-ONLY."""
    from revintel.app.ingest import load_paths
    from revintel.data.generator import generate_company, write_company

    home = tmp_path_factory.mktemp("campaign-demo") / "home"
    out = home / "demo"
    write_company(generate_company(), out, "parquet")
    ctx = AppContext(isolated_settings(home))
    try:
        load_paths(ctx, [out], source="demo")
    finally:
        ctx.close()
    return home


@pytest.fixture
def campaign_demo(campaign_demo_home: Path, tmp_path: Path):
    """A private copy of ``campaign_demo_home`` (its app store may be written)."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(campaign_demo_home, home, symlinks=True)
    ctx = AppContext(isolated_settings(home))
    yield ctx
    ctx.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_context(
    request: pytest.FixtureRequest, tmp_path: Path, company_csvs: Path
) -> Iterator[AppContext]:
    """The small company loaded (C001..C005), the app store on SQLite or a fresh PostgreSQL
    database (notes and jobs)."""
    from revintel.app.ingest import load_paths

    database_url = None
    if request.param == "postgres":
        create: Callable[[], str] = request.getfixturevalue("postgres_databases")
        database_url = create()
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=database_url)
    ctx = AppContext(settings)
    load_paths(ctx, [company_csvs], source="test")
    yield ctx
    ctx.close()
