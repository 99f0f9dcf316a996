"""The service's results cache (``_memo``) computes without holding its lock.

Threads (dashboard sessions, API requests, the dashboard server's warm-up) computing different
results do so at the same time, and a thread reading a remembered result does not wait for
another's computation. A result being computed is computed once: others asking for it wait for it
(or its error). Computations that ask for each other's keys from two threads, or for their own
key, finish instead of waiting forever. Then, on a loaded company, service calls from several
threads at once give what they give one after another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from revintel.app.context import AppContext
from revintel.metrics import service as metrics
from tests.conftest import generated_company

TIMEOUT = 10.0


class _Connection:
    """Stands for a backend connection (the per-connection cache keys on it, weakly)."""


class _Warehouse:
    def __init__(self) -> None:
        self.con = _Connection()


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Warehouse]:
    """A warehouse whose results are shared by snapshot, as a Parquet snapshot's are."""
    monkeypatch.setattr(metrics, "_reusable", lambda wh: True)
    monkeypatch.setattr(metrics, "_snapshot", lambda wh: "snapshot-under-test")
    yield _Warehouse()
    for key in [k for k in metrics._SNAPSHOT_RESULTS if k[0] == "snapshot-under-test"]:
        del metrics._SNAPSHOT_RESULTS[key]


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


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_different_keys_are_computed_at_the_same_time(shared: _Warehouse) -> None:
    both_inside = threading.Barrier(2, timeout=TIMEOUT)  # broken unless both compute at once

    def compute(value: str) -> str:
        both_inside.wait()
        return value

    threads = [
        _in_thread(lambda v=v: metrics._memo(shared, ("test", v), lambda: compute(v)))
        for v in ("a", "b")
    ]
    for thread, _out in threads:
        thread.join(TIMEOUT)
    assert [out for _t, out in threads] == [{"value": "a"}, {"value": "b"}]


def test_a_remembered_result_is_read_during_another_computation(shared: _Warehouse) -> None:
    metrics._memo(shared, ("test", "kept"), lambda: "kept")
    started, release = threading.Event(), threading.Event()

    def slow_compute() -> str:
        started.set()
        release.wait(TIMEOUT)
        return "slow"

    slow, out = _in_thread(lambda: metrics._memo(shared, ("test", "slow"), slow_compute))
    started.wait(TIMEOUT)
    assert metrics._memo(shared, ("test", "kept"), lambda: "computed again") == "kept"
    assert slow.is_alive()  # still computing: the read did not wait for it
    release.set()
    slow.join(TIMEOUT)
    assert out == {"value": "slow"}


def test_a_key_being_computed_is_computed_once(shared: _Warehouse) -> None:
    calls: list[int] = []
    release = threading.Event()

    def compute() -> object:
        calls.append(threading.get_ident())
        release.wait(TIMEOUT)
        return object()

    first, first_out = _in_thread(lambda: metrics._memo(shared, ("test", "once"), compute))
    _wait_until(lambda: len(calls) == 1)
    second, second_out = _in_thread(lambda: metrics._memo(shared, ("test", "once"), compute))
    _wait_until(lambda: second.ident in metrics._WAITING)
    release.set()
    first.join(TIMEOUT)
    second.join(TIMEOUT)
    assert len(calls) == 1
    assert first_out["value"] is second_out["value"]
    assert not metrics._COMPUTING and not metrics._WAITING


def test_an_error_reaches_the_waiting_thread_and_is_not_kept(shared: _Warehouse) -> None:
    started, release = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        release.wait(TIMEOUT)
        raise ValueError("the warehouse went away")

    first, first_out = _in_thread(lambda: metrics._memo(shared, ("test", "fails"), failing))
    started.wait(TIMEOUT)
    second, second_out = _in_thread(lambda: metrics._memo(shared, ("test", "fails"), failing))
    _wait_until(lambda: second.ident in metrics._WAITING)
    release.set()
    first.join(TIMEOUT)
    second.join(TIMEOUT)
    assert isinstance(first_out["error"], ValueError)
    assert second_out["error"] is first_out["error"]
    assert metrics._memo(shared, ("test", "fails"), lambda: "now it works") == "now it works"


def test_threads_asking_for_each_others_keys_both_finish(shared: _Warehouse) -> None:
    a_started, b_started = threading.Event(), threading.Event()
    computed: list[str] = []

    def one() -> str:  # thread A: "one" needs "two"
        computed.append("one")
        a_started.set()
        b_started.wait(TIMEOUT)
        return "one+" + metrics._memo(shared, ("test", "two"), two)

    def two() -> str:  # thread B: "two" needs "one", asked once A waits for "two"
        computed.append("two")
        b_started.set()
        a_started.wait(TIMEOUT)
        _wait_until(lambda: a.ident in metrics._WAITING)
        return "two+" + metrics._memo(shared, ("test", "one"), lambda: "one(by B)")

    a, a_out = _in_thread(lambda: metrics._memo(shared, ("test", "one"), one))
    b, b_out = _in_thread(lambda: metrics._memo(shared, ("test", "two"), two))
    a.join(TIMEOUT)
    b.join(TIMEOUT)
    assert not a.is_alive() and not b.is_alive()
    assert b_out == {"value": "two+one(by B)"}  # B computed "one" itself instead of waiting
    assert a_out == {"value": "one+two+one(by B)"}
    assert computed == ["one", "two"]


def test_a_computation_asking_for_its_own_key_computes_it(shared: _Warehouse) -> None:
    def outer() -> str:
        return "outer+" + metrics._memo(shared, ("test", "self"), lambda: "inner")

    assert metrics._memo(shared, ("test", "self"), outer) == "outer+inner"


def test_per_connection_results_are_single_flight_too(
    shared: _Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "_snapshot", lambda wh: None)  # kept per connection
    both_inside = threading.Barrier(2, timeout=TIMEOUT)
    other = _Warehouse()

    def compute(value: str) -> str:
        both_inside.wait()
        return value

    threads = [
        _in_thread(lambda w=w, v=v: metrics._memo(w, ("test", "table"), lambda: compute(v)))
        for w, v in ((shared, "mine"), (other, "theirs"))
    ]
    for thread, _out in threads:
        thread.join(TIMEOUT)
    assert [out for _t, out in threads] == [{"value": "mine"}, {"value": "theirs"}]
    assert metrics._memo(other, ("test", "table"), lambda: "again") == "theirs"


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
    metrics._SNAPSHOT_RESULTS.clear()
    # Every call twice, from four threads, each on its own connection (as sessions are).
    jobs = list(enumerate(CALLS * 2))
    results: dict[int, Any] = {}

    def session(mine: list[tuple[int, tuple[str, dict[str, Any]]]]) -> None:
        fork = company.fork()
        try:
            for i, (name, options) in mine:
                results[i] = getattr(metrics, name)(fork, **options)
        finally:
            fork.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(session, jobs[t::4]) for t in range(4)]:
            done.result()
    together = [results[i] for i in range(len(jobs))]
    metrics._SNAPSHOT_RESULTS.clear()
    alone = [getattr(metrics, name)(company, **options) for name, options in CALLS * 2]
    assert together == alone
    assert not metrics._COMPUTING and not metrics._WAITING
