"""The service keeps its results (``scope.remember``) without holding a lock while computing.

Threads (dashboard sessions, API requests, the dashboard server's warm-up) computing different
results do so at the same time, and a thread reading a remembered result does not wait for
another's computation; a computation asking for its own key finishes. (One key computed once, and
errors reaching every waiter: ``tests/warehouse/test_cache.py``.) On a loaded company, service
calls from several threads at once give what they give one after another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from revintel.app.context import AppContext
from revintel.metrics import service as metrics
from revintel.metrics.service import MetricQuery
from revintel.metrics.service.scope import remember, service
from revintel.warehouse.cache import clear_all
from tests.conftest import generated_company

TIMEOUT = 10.0


class _Warehouse:
    """A warehouse whose data has a version, as a Parquet snapshot has."""

    def data_version(self) -> str:
        return "version-under-test"


@pytest.fixture
def shared() -> Iterator[_Warehouse]:
    clear_all()
    yield _Warehouse()
    clear_all()


def _in_thread(function: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = function()
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_different_keys_are_computed_at_the_same_time(shared: _Warehouse) -> None:
    both_inside = threading.Barrier(2, timeout=TIMEOUT)  # broken unless both compute at once

    def compute(value: str) -> str:
        both_inside.wait()
        return value

    threads = [
        _in_thread(lambda v=v: remember(shared, ("test", v), lambda: compute(v)))
        for v in ("a", "b")
    ]
    for thread, _out in threads:
        thread.join(TIMEOUT)
    assert [out for _t, out in threads] == [{"value": "a"}, {"value": "b"}]


def test_a_remembered_result_is_read_during_another_computation(shared: _Warehouse) -> None:
    remember(shared, ("test", "kept"), lambda: "kept")
    started, release = threading.Event(), threading.Event()

    def slow_compute() -> str:
        started.set()
        release.wait(TIMEOUT)
        return "slow"

    slow, out = _in_thread(lambda: remember(shared, ("test", "slow"), slow_compute))
    started.wait(TIMEOUT)
    assert remember(shared, ("test", "kept"), lambda: "computed again") == "kept"
    assert slow.is_alive()  # still computing: the read did not wait for it
    release.set()
    slow.join(TIMEOUT)
    assert out == {"value": "slow"}


def test_a_computation_asking_for_its_own_key_computes_it(shared: _Warehouse) -> None:
    def outer() -> str:
        return "outer+" + remember(shared, ("test", "self"), lambda: "inner")

    assert remember(shared, ("test", "self"), outer) == "outer+inner"


def test_without_a_data_version_nothing_outlives_a_call() -> None:
    class Database:
        def data_version(self) -> None:
            return None

    wh = Database()
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert remember(wh, ("test", "db"), compute) == 1
    assert remember(wh, ("test", "db"), compute) == 2  # outside a call: computed each time

    @service
    def one_call() -> tuple[int, int]:
        return remember(wh, ("test", "db"), compute), remember(wh, ("test", "db"), compute)

    assert one_call() == (3, 3)  # within a call: computed once


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    root = tmp_path_factory.mktemp("memo_company")
    with generated_company(root, customers=300, months=18, seed=11) as context:
        yield context


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("mrr_movements", {}),
    ("mrr_movements", {"filters": {"segment": ["SMB"]}}),
    ("mrr_movements", {"by": "country"}),
    ("retention", {}),
    ("cohorts", {}),
    ("revenue", {"filters": {"country": ["US", "DE"]}}),
    ("acquisition", {"by": "acquisition_channel"}),
    ("trial_conversion", {}),
]


def test_concurrent_service_calls_give_the_sequential_results(company: AppContext) -> None:
    clear_all()
    # Every call twice, from four threads, each on its own connection (as sessions are).
    jobs = list(enumerate(CALLS * 2))
    results: dict[int, Any] = {}

    def session(mine: list[tuple[int, tuple[str, dict[str, Any]]]]) -> None:
        fork = company.fork()
        try:
            for i, (name, options) in mine:
                results[i] = getattr(metrics, name)(fork, MetricQuery(**options))
        finally:
            fork.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(session, jobs[t::4]) for t in range(4)]:
            done.result()
    together = [results[i] for i in range(len(jobs))]
    clear_all()
    alone = [getattr(metrics, name)(company, MetricQuery(**options)) for name, options in CALLS * 2]
    assert together == alone
