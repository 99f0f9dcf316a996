"""What a capability's service works with: the settings, the warehouse and the app store.

:class:`revintel.app.context.AppContext` is the implementation the faces hand in. Capabilities name
this protocol instead, so they never import the application layer above them; the storage types
are named for the type checker only (a type-only import is not an edge in ``tests/architecture``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from revintel.core.config import Settings

if TYPE_CHECKING:
    from revintel.store import AppStore
    from revintel.warehouse import Warehouse


class Runtime(Protocol):
    """Settings, a warehouse connection and the app store, opened lazily by the implementation."""

    @property
    def settings(self) -> Settings: ...

    @property
    def warehouse(self) -> Warehouse: ...

    @property
    def store(self) -> AppStore: ...
