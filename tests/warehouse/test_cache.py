"""ResultCache: each key computed once, however many threads ask at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from revintel.warehouse.cache import ResultCache


def test_concurrent_callers_of_one_key_share_one_computation() -> None:
    cache: ResultCache[int] = ResultCache(size=4)
    calls = 0
    lock = threading.Lock()

    def compute() -> int:
        nonlocal calls
        with lock:
            calls += 1
        time.sleep(0.2)
        return 42

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: cache.get(("snap", 1), compute), range(20)))
    assert results == [42] * 20
    assert calls == 1


def test_an_error_reaches_every_waiter_and_the_next_caller_computes_again() -> None:
    cache: ResultCache[int] = ResultCache(size=4)
    started = threading.Event()

    def failing() -> int:
        started.set()
        time.sleep(0.2)
        raise ValueError("boom")

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cache.get, "k", failing)
        started.wait(5)
        second = pool.submit(cache.get, "k", lambda: 1)  # waits for the first computation
        with pytest.raises(ValueError, match="boom"):
            first.result()
        with pytest.raises(ValueError, match="boom"):
            second.result()
    assert cache.get("k", lambda: 7) == 7


def test_a_computation_asking_for_its_own_key_does_not_wait_on_itself() -> None:
    cache: ResultCache[int] = ResultCache(size=4)

    def compute() -> int:
        return cache.get("k", lambda: 5) + 1

    assert cache.get("k", compute) == 6


def test_least_recently_used_keys_go_first() -> None:
    cache: ResultCache[str] = ResultCache(size=2)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    cache.get("a", lambda: "never")  # a is now the most recent
    cache.get("c", lambda: "C")
    assert cache.peek("a") == "A" and cache.peek("b") is None and cache.peek("c") == "C"
