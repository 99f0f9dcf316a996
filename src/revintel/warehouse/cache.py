"""Results computed once per immutable state of the data (:meth:`Warehouse.data_version`).

A server answers many requests at once. When a load lands, every request that arrives next
finds the caches empty; without coordination each of them computed the same health scores or
CLV base at the same time (a hundred copies of one computation, on two cores). A
:class:`ResultCache` computes a key once: the first caller computes it, later callers of the
same key wait for its value (or its error, after which the next caller tries again).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")


class ResultCache(Generic[T]):
    """A bounded, thread-safe, least-recently-used map of results, each computed once.

    Keys must start with what names the data (a warehouse's ``data_version()``); a caller whose
    warehouse has no version (a database whose rows can change) computes without the cache.
    A computation may use other caches, and a thread asking again for a key it is computing
    itself computes it directly instead of waiting on itself.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, T] = OrderedDict()
        self._running: dict[Hashable, tuple[int, Future[T]]] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        me = threading.get_ident()
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            running = self._running.get(key)
            if running is None:
                future: Future[T] = Future()
                self._running[key] = (me, future)
        if running is not None:
            owner, pending = running
            if owner == me:  # asked again while computing it: no waiting on oneself
                return compute()
            return pending.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._running.pop(key, None)
            future.set_exception(exc)
            raise
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
            self._running.pop(key, None)
        future.set_result(value)
        return value

    def peek(self, key: Hashable) -> T | None:
        """The value if it is cached, without computing or waiting."""
        with self._lock:
            return self._values.get(key)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)


_REGISTRY: list[SnapshotCache[object]] = []
_REGISTRY_LOCK = threading.Lock()


class _Versioned(Protocol):
    def data_version(self) -> str | None: ...


class SnapshotCache(Generic[T]):
    """The one way a service keeps a result for the data a warehouse reads.

    A result is keyed by the warehouse's :meth:`~revintel.warehouse.Warehouse.data_version`
    and the caller's own key (the options and settings the result depends on); a warehouse
    without a version (a database whose rows can change) computes every time. Each cache is
    named and registered, so :func:`clear_all` forgets every result at once (after a settings
    change, or between tests). Concurrent callers of one key compute it once
    (:class:`ResultCache`).

    >>> SCORES: SnapshotCache[pl.DataFrame] = SnapshotCache("health.scores", size=16)
    >>> SCORES.get(ctx.warehouse, ("2024-03", weights), lambda: compute_scores(...))
    """

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self._results: ResultCache[T] = ResultCache(size)
        with _REGISTRY_LOCK:
            _REGISTRY.append(self)  # type: ignore[arg-type]

    def get(self, warehouse: _Versioned, key: Hashable, compute: Callable[[], T]) -> T:
        version = warehouse.data_version()
        if version is None:
            return compute()
        return self._results.get((version, key), compute)

    def peek(self, warehouse: _Versioned, key: Hashable) -> T | None:
        """The cached value, without computing or waiting; None if absent or uncacheable."""
        version = warehouse.data_version()
        return None if version is None else self._results.peek((version, key))

    def clear(self) -> None:
        self._results.clear()

    def __len__(self) -> int:
        return len(self._results)


def clear_all() -> None:
    """Forget every result of every :class:`SnapshotCache`."""
    with _REGISTRY_LOCK:
        caches = list(_REGISTRY)
    for cache in caches:
        cache.clear()
