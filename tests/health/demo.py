"""A small demo company loaded once per test session, shared by the health, API and UI tests.

``demo_home()`` generates (seeded) and loads it the first time; ``copy_home()`` gives a private
copy for tests that write settings. ``without`` loads the same company minus some tables.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa

from revintel.app.context import AppContext
from revintel.core.config import Settings
from revintel.data.generator import GeneratedCompany, generate_company, write_company

CUSTOMERS = 400
MONTHS = 18
SEED = 7

_ROOT = Path(tempfile.mkdtemp(prefix="revintel-health-tests-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
_HOMES: dict[tuple[str, ...], Path] = {}
_COMPANY: list[GeneratedCompany] = []


def settings_for(home: Path) -> Settings:
    return Settings(home=home, warehouse_url=None, database_url=None)


def company() -> GeneratedCompany:
    """The generated company (tables and truth), generated once."""
    if not _COMPANY:
        _COMPANY.append(generate_company(customers=CUSTOMERS, months=MONTHS, seed=SEED))
    return _COMPANY[0]


def demo_home(without: tuple[str, ...] = ()) -> Path:
    """A home with the demo company loaded, minus the tables in ``without``. Do not write to it."""
    key = tuple(sorted(without))
    if key not in _HOMES:
        from revintel.app.ingest import load_paths

        data = company()
        name = "full" if not key else "without-" + "-".join(key)
        out = _ROOT / f"{name}-files"
        tables: dict[str, pa.Table] = {
            n: t for n, t in data.tables.items() if t.num_rows and n not in key
        }
        write_company(GeneratedCompany(tables=tables, truth={}), out, "parquet")
        home = _ROOT / name
        ctx = AppContext(settings_for(home))
        try:
            load_paths(ctx, [out / f"{n}.parquet" for n in tables], source="test")
        finally:
            ctx.close()
        _HOMES[key] = home
    return _HOMES[key]


def copy_home(target: Path, without: tuple[str, ...] = ()) -> Path:
    """A private copy of a demo home (for tests that save settings into it)."""
    shutil.copytree(demo_home(without), target)
    return target
