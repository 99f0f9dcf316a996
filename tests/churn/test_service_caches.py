"""Churn keeps its results in named snapshot caches, and forgets them all on request."""

from __future__ import annotations

from revintel.churn import service
from revintel.warehouse.cache import SnapshotCache


class _Version:
    def data_version(self) -> str:
        return "v1"


def test_clear_caches_empties_every_churn_cache() -> None:
    caches = [
        service.FEATURE_FRAMES,
        service.RAW_PREDICTIONS,
        service.CURRENT_PREDICTIONS,
        service.SCORES_FILES,
        service.LOADED_MODELS,
    ]
    assert all(isinstance(cache, SnapshotCache) for cache in caches)
    for cache in caches:
        cache.clear()  # what earlier tests of this process kept
    for cache in caches:
        cache.get(_Version(), "a key", lambda: object())  # type: ignore[arg-type]
        assert len(cache) == 1
    service.clear_caches()
    assert [len(cache) for cache in caches] == [0] * len(caches)
