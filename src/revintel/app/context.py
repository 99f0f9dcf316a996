"""What every face (CLI, API, dashboard) works with: settings, the warehouse and the app store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from revintel.core.config import Settings, load_settings
from revintel.store import AppStore, open_store
from revintel.warehouse import Warehouse, connect

T = TypeVar("T")


@dataclass
class AppContext:
    """Lazily opened warehouse and app store for one set of settings."""

    settings: Settings = field(default_factory=load_settings)
    # Set on a fork: the context whose app store this one shares.
    parent: AppContext | None = field(default=None, repr=False, compare=False)
    # What per_refresh remembered since the last refresh.
    _per_refresh: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def per_refresh(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, remembered until the next :meth:`refresh` (a dashboard session refreshes
        once per page run: what identifies the loaded data is read once per run)."""
        if key not in self._per_refresh:
            self._per_refresh[key] = compute()
        return self._per_refresh[key]

    @classmethod
    def from_options(cls, **overrides: Any) -> AppContext:
        return cls(load_settings(**overrides))

    @cached_property
    def warehouse(self) -> Warehouse:
        return connect(self.settings)

    @cached_property
    def store(self) -> AppStore:
        if self.parent is not None:
            return self.parent.store
        return open_store(self.settings)

    def fork(self) -> AppContext:
        """A context with its own warehouse connection that shares this context's app store.

        A warehouse connection reads one snapshot for its whole life and is not thread-safe, so each
        API request and each dashboard session works on a fork: it sees the newest load and never
        shares a connection between threads. The app store is a connection pool, safe to share;
        closing a fork leaves it open.
        """
        return AppContext(self.settings, parent=self)

    def refresh(self, *, if_stale: bool = False) -> None:
        """Forget the warehouse connection so the next use sees the newest load; with
        ``if_stale``, only when it does not see it already (:meth:`Warehouse.is_current`: a
        Parquet warehouse's connection, open on the newest snapshot, is kept, with the schemas it
        has read). Either way, what :meth:`per_refresh` remembered is forgotten."""
        self._per_refresh.clear()
        if "warehouse" in self.__dict__ and not (if_stale and self.warehouse.is_current()):
            self.warehouse.close()
            del self.__dict__["warehouse"]

    def close(self) -> None:
        self.refresh()
        if "store" in self.__dict__:
            if self.parent is None:
                self.store.dispose()
            del self.__dict__["store"]
