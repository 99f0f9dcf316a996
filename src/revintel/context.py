"""What every face (CLI, API, dashboard) works with: settings, the warehouse and the app store."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from revintel.config import Settings, load_settings
from revintel.store import AppStore, open_store
from revintel.warehouse import Warehouse, connect


@dataclass
class AppContext:
    """Lazily opened warehouse and app store for one set of settings."""

    settings: Settings = field(default_factory=load_settings)

    @classmethod
    def from_options(cls, **overrides: Any) -> AppContext:
        return cls(load_settings(**overrides))

    @cached_property
    def warehouse(self) -> Warehouse:
        return connect(self.settings)

    @cached_property
    def store(self) -> AppStore:
        return open_store(self.settings)

    def refresh(self) -> None:
        """Forget the warehouse connection so the next use sees the newest load."""
        if "warehouse" in self.__dict__:
            self.warehouse.close()
            del self.__dict__["warehouse"]

    def close(self) -> None:
        self.refresh()
        if "store" in self.__dict__:
            self.store.dispose()
            del self.__dict__["store"]
