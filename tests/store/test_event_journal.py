"""The tracking journal (store/event_journal.py): fsync'd on commit, one row per event id,
idempotency keys with their receipts, pending events in order, pruning."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from revintel.store.event_journal import EventJournal


def _receipt(stored: int, duplicates: Sequence[str]) -> dict[str, Any]:
    return {"stored": stored, "duplicates": list(duplicates)}


def test_the_journal_commits_durably(tmp_path: Path) -> None:
    journal = EventJournal(tmp_path)
    assert journal.settings() == {"journal_mode": "wal", "synchronous": 2}  # 2: FULL
    journal.close()


def test_an_event_id_is_stored_once_and_pending_events_come_in_order(tmp_path: Path) -> None:
    journal = EventJournal(tmp_path)
    first = journal.append("touchpoints", [("a", {"n": 1}), ("b", {"n": 2})], _receipt)
    again = journal.append("touchpoints", [("b", {"n": 3}), ("c", {"n": 4})], _receipt)
    other_table = journal.append("conversions", [("a", {"n": 5})], _receipt)

    assert (first.stored, again.stored, other_table.stored) == (2, 1, 1)
    assert again.receipt == {"stored": 1, "duplicates": ["b"]}
    pending = journal.pending(10)
    assert [(e.table, e.event_id, e.row["n"]) for e in pending] == [
        ("touchpoints", "a", 1),
        ("touchpoints", "b", 2),
        ("touchpoints", "c", 4),
        ("conversions", "a", 5),
    ]
    journal.mark_flushed(pending[1].seq)
    assert [e.event_id for e in journal.pending(10)] == ["c", "a"]
    assert journal.pending_count() == 2
    journal.close()
    reopened = EventJournal(tmp_path)  # another process, later
    assert reopened.counts() == {"touchpoints": 3, "conversions": 1}
    assert reopened.pending_count() == 2
    reopened.close()


def test_an_idempotency_key_replays_its_receipt_or_reports_a_conflict(tmp_path: Path) -> None:
    journal = EventJournal(tmp_path)
    first = journal.append(
        "touchpoints", [("a", {})], _receipt, idempotency_key="k", fingerprint="f1"
    )
    replay = journal.append(
        "touchpoints", [("z", {})], _receipt, idempotency_key="k", fingerprint="f1"
    )
    conflict = journal.append(
        "touchpoints", [("y", {})], _receipt, idempotency_key="k", fingerprint="f2"
    )

    assert (replay.replayed, replay.receipt, replay.stored) == (True, first.receipt, 0)
    assert (conflict.conflict, conflict.stored) == (True, 0)
    assert journal.seen_request("k") == ("f1", first.receipt)
    assert [e.event_id for e in journal.pending(10)] == ["a"]
    journal.close()


def test_prune_forgets_flushed_events_only(tmp_path: Path) -> None:
    journal = EventJournal(tmp_path)
    journal.append("touchpoints", [("a", {}), ("b", {})], _receipt, idempotency_key="k")
    journal.mark_flushed(journal.pending(1)[0].seq)

    assert journal.prune(keep_days=1) == 0  # received just now
    assert journal.prune(keep_days=-1) == 1  # everything is older than tomorrow
    assert [e.event_id for e in journal.pending(10)] == ["b"]
    assert journal.seen_request("k") is None
    journal.close()
