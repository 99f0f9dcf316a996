"""Notes and logged actions on accounts: validation, the author-only rule, follow-ups, export;
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.retention import notes
from revintel.core.errors import InvalidOption, NoDataError, NotAllowed, NotFoundError
from tests.conftest import isolated_settings


def test_a_note_is_kept_and_listed_newest_first(store_context: AppContext) -> None:
    ctx = store_context
    first = notes.add_note(ctx, "C001", text="Intro call booked", author="ana", kind="call")
    second = notes.add_note(
        ctx,
        "C001",
        text="  Offered 2 months at 20% off  ",
        author="ben",
        kind="offer",
        outcome="Thinking about it",
        follow_up="2026-01-15",
    )
    notes.add_note(ctx, "C002", text="Other account", author="ana")

    listed = notes.list_notes(ctx, "C001")

    assert listed.total == 2
    assert [n.note_id for n in listed.notes] == [second.note_id, first.note_id]
    got = listed.notes[0]
    assert got.text == "Offered 2 months at 20% off"  # stripped
    assert (got.kind, got.outcome, got.follow_up, got.author) == (
        "offer",
        "Thinking about it",
        date(2026, 1, 15),
        "ben",
    )
    assert got.created_at.utcoffset() is not None and got.updated_at is None
    as_json = got.to_dict()
    for key in ("note_id", "account_id", "text", "kind", "created_at", "author"):
        assert key in as_json
    assert as_json["follow_up"] == "2026-01-15"
    assert [n.kind for n in notes.list_notes(ctx, "C001", kind="call").notes] == ["call"]


def test_only_the_author_edits_or_deletes(store_context: AppContext) -> None:
    ctx = store_context
    note = notes.add_note(ctx, "C003", text="QBR scheduled", author="ana", kind="meeting")

    with pytest.raises(NotAllowed, match="written by 'ana'; only its author may edit"):
        notes.edit_note(ctx, note.note_id, author="ben", changes={"text": "mine now"})
    with pytest.raises(NotAllowed, match="only its author may delete"):
        notes.delete_note(ctx, note.note_id, author="ben")
    assert notes.get_note(ctx, note.note_id).text == "QBR scheduled"  # nothing changed

    edited = notes.edit_note(
        ctx, note.note_id, author="ana", changes={"text": "QBR moved", "outcome": "Agreed"}
    )
    assert (edited.text, edited.outcome, edited.kind) == ("QBR moved", "Agreed", "meeting")
    assert edited.updated_at is not None and edited.updated_at >= edited.created_at

    notes.delete_note(ctx, note.note_id, author="ana")
    with pytest.raises(NotFoundError, match=f"Note {note.note_id} does not exist"):
        notes.get_note(ctx, note.note_id)
    with pytest.raises(NotFoundError):
        notes.edit_note(ctx, note.note_id, author="ana", changes={"text": "x"})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "   "}, "'text': expected text of 1 to 5,000 characters, got blank"),
        ({"text": "x" * 5001}, "'text': expected at most 5,000 characters, got 5,001"),
        ({"text": "a\x00b"}, "'text' contains the control character U\\+0000"),
        ({"text": "ok", "kind": "visit"}, "'kind' = 'visit': expected one of note, call"),
        ({"text": "ok", "follow_up": "next week"}, "'follow_up' = 'next week': expected a date"),
        ({"text": "ok", "author": ""}, "'author': expected text"),
        ({"text": "ok", "outcome": "y" * 1001}, "'outcome': expected at most 1,000"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    loaded_context: AppContext, fields: dict[str, str], message: str
) -> None:
    args = {"author": "ana", **fields}
    with pytest.raises(InvalidOption, match=message):
        notes.add_note(loaded_context, "C001", **args)  # type: ignore[arg-type]
    assert notes.list_notes(loaded_context, "C001").total == 0


def test_an_unknown_account_or_an_empty_warehouse_is_refused(
    loaded_context: AppContext, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="Account 'C999' is not in the customers table"):
        notes.add_note(loaded_context, "C999", text="hi", author="ana")
    with pytest.raises(NotFoundError):
        notes.list_notes(loaded_context, "C999")
    empty = AppContext(isolated_settings(tmp_path / "empty"))
    with pytest.raises(NoDataError):
        notes.add_note(empty, "C001", text="hi", author="ana")
    empty.close()


def test_edit_refuses_unknown_fields_and_empty_changes(loaded_context: AppContext) -> None:
    note = notes.add_note(loaded_context, "C001", text="hi", author="ana")
    with pytest.raises(InvalidOption, match="cannot change author"):
        notes.edit_note(loaded_context, note.note_id, author="ana", changes={"author": "ben"})
    with pytest.raises(InvalidOption, match="nothing to change"):
        notes.edit_note(loaded_context, note.note_id, author="ana", changes={})
    with pytest.raises(InvalidOption, match="has no follow-up date to mark done"):
        notes.edit_note(
            loaded_context, note.note_id, author="ana", changes={"follow_up_done": True}
        )


def test_follow_ups_are_open_ones_due_overdue_first(store_context: AppContext) -> None:
    ctx = store_context
    today = date(2026, 3, 10)
    late = notes.add_note(ctx, "C002", text="Call back", author="ana", follow_up="2026-03-01")
    due = notes.add_note(ctx, "C001", text="Send deck", author="ben", follow_up="2026-03-12")
    notes.add_note(ctx, "C003", text="Far away", author="ana", follow_up="2026-06-01")
    notes.add_note(ctx, "C004", text="No follow-up", author="ana")
    done = notes.add_note(ctx, "C005", text="Done one", author="ana", follow_up="2026-03-02")
    notes.edit_note(ctx, done.note_id, author="ana", changes={"follow_up_done": True})

    found = notes.follow_ups(ctx, today=today)  # default: due within a week

    assert found.due_before == date(2026, 3, 17)
    assert [i.note.note_id for i in found.items] == [late.note_id, due.note_id]
    assert [i.days_overdue for i in found.items] == [9, 0]
    assert found.overdue == 1 and found.items[0].overdue
    mine = notes.follow_ups(ctx, owner="ana", due_before="2026-12-31", today=today)
    assert [i.note.text for i in mine.items] == ["Call back", "Far away"]
    assert found.to_dict()["follow_ups"][0]["overdue"] is True

    # A new date opens a done follow-up again.
    notes.edit_note(ctx, done.note_id, author="ana", changes={"follow_up": "2026-03-09"})
    again = notes.follow_ups(ctx, today=today)
    assert done.note_id in [i.note.note_id for i in again.items]


def test_the_account_export_holds_its_notes(store_context: AppContext) -> None:
    ctx = store_context
    notes.add_note(ctx, "C003", text="First", author="ana", kind="email")
    notes.add_note(ctx, "C003", text="Second", author="ana", follow_up=date(2026, 2, 1))

    exported = notes.export_account(ctx, "C003").to_dict()

    assert exported["account"]["customer_id"] == "C003"
    assert exported["account"]["segment"] == "Enterprise"
    assert exported["account"]["signup_date"] == "2024-02-11"
    assert [n["text"] for n in exported["notes"]] == ["First", "Second"]  # oldest first
    latest = notes.latest_notes(ctx, ["C003", "C001"])
    assert latest.last_note == {"C003": "Second"}
    assert latest.next_follow_up == {"C003": date(2026, 2, 1)}
