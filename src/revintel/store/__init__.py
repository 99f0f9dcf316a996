"""App state (load history, and later notes, segments, campaigns, alerts, model registry) through
SQLAlchemy 2, migrated with Alembic on start. SQLite under REVINTEL_HOME by default, PostgreSQL via
REVINTEL_DATABASE_URL."""

from revintel.store import alerts as _alerts  # noqa: F401  (registers its tables)
from revintel.store import campaigns as _campaigns  # noqa: F401  (registers its tables)
from revintel.store import jobs as _jobs  # noqa: F401  (registers its tables)
from revintel.store import notes as _notes  # noqa: F401  (registers its tables)
from revintel.store import segments as _segments  # noqa: F401  (registers its tables)
from revintel.store.db import AppStore, open_store
from revintel.store.models import Base, LoadRun

__all__ = ["AppStore", "Base", "LoadRun", "open_store"]
