"""Notes and logged actions on accounts, follow-up reminders and the account export
(docs/retention.md, Notes and action history).

``GET``/``POST /accounts/{id}/notes``, ``PATCH``/``DELETE /notes/{note_id}`` (only the note's
author: 403 for another), ``GET /notes/follow-ups`` and ``GET /accounts/{id}/export`` (the
account's ``customers`` row with every note).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.retention import notes as service

router = APIRouter(tags=["notes"])

Kind = Literal["note", "call", "email", "meeting", "offer"]
AccountId = Annotated[str, Path(min_length=1, max_length=255, description="The customer_id.")]
NoteId = Annotated[int, Path(ge=1, description="The note's id (note_id).")]
Author = Field(
    default="api",
    min_length=1,
    max_length=service.MAX_AUTHOR,
    description="Who writes (recorded); only a note's author may change it.",
)

ON_ACCOUNT = error_responses(
    400,
    404,
    409,
    422,
    503,
    descriptions={
        404: "No such account in the customers table.",
        409: "The customers table is not loaded.",
    },
)
ON_NOTE = error_responses(
    403,
    404,
    422,
    503,
    descriptions={
        403: "The note was written by another author: only its author may change it.",
        404: "No such note.",
    },
)


class NoteOut(BaseModel):
    """A note or logged action on an account."""

    note_id: int
    account_id: str = Field(description="The customer_id it is about.")
    kind: Kind = Field(description="note, or a logged call, email, meeting or offer.")
    text: str
    outcome: str | None = Field(None, description="What came of it.")
    follow_up: date | None = Field(None, description="When to follow up, if ever.")
    follow_up_done: bool = Field(description="Whether the follow-up was marked done.")
    author: str
    created_at: datetime
    updated_at: datetime | None = Field(None, description="Last edit; null if never edited.")


class NotesOut(BaseModel):
    """An account's notes, newest first."""

    account_id: str
    total: int = Field(description="Notes on the account (of the kind asked for).")
    notes: list[NoteOut]


class NoteCreate(BaseModel):
    """A new note or logged action."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=service.MAX_TEXT, description="What happened.")
    kind: Kind = Field("note", description="note, call, email, meeting or offer.")
    outcome: str | None = Field(None, max_length=service.MAX_OUTCOME, description="The result.")
    follow_up: date | None = Field(None, description="Follow-up date, YYYY-MM-DD.")
    author: str = Author


class NotePatch(BaseModel):
    """The fields to change (at least one); ``follow_up: null`` clears the date."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, min_length=1, max_length=service.MAX_TEXT)
    kind: Kind | None = None
    outcome: str | None = Field(None, max_length=service.MAX_OUTCOME)
    follow_up: date | None = Field(None, description="A new follow-up date (reopens it).")
    follow_up_done: bool | None = Field(None, description="Mark the follow-up done (or open).")
    author: str = Author


class FollowUpOut(NoteOut):
    """An open follow-up: the note, its account's name, and the days it is overdue."""

    account_name: str | None
    days_overdue: int = Field(description="Days past the follow-up date (0: due, not late).")
    overdue: bool


class FollowUpsOut(BaseModel):
    """Open follow-ups due by ``due_before``, overdue first."""

    today: date
    due_before: date
    owner: str | None
    count: int
    overdue: int = Field(description="How many are past their date.")
    follow_ups: list[FollowUpOut]


class AccountExportOut(BaseModel):
    """An account exported with its notes (oldest first)."""

    account_id: str
    exported_at: datetime
    account: dict[str, Any] = Field(description="The account's row of the customers table.")
    notes: list[NoteOut]


@router.get("/accounts/{account_id}/notes", responses=ON_ACCOUNT)
def account_notes(
    ctx: ContextDep,
    account_id: AccountId,
    kind: Annotated[Kind | None, Query(description="Only this kind.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many.")] = 500,
) -> NotesOut:
    """The account's notes and logged actions, newest first."""
    found = service.list_notes(ctx, account_id, kind=kind, limit=limit)
    return NotesOut.model_validate(found.to_dict())


@router.post("/accounts/{account_id}/notes", status_code=201, responses=ON_ACCOUNT)
def add_note(ctx: ContextDep, account_id: AccountId, body: NoteCreate) -> NoteOut:
    """Record a note or logged action on the account."""
    note = service.add_note(ctx, account_id, **body.model_dump())
    return NoteOut.model_validate(note.to_dict())


@router.patch("/notes/{note_id}", responses=ON_NOTE)
def edit_note(ctx: ContextDep, note_id: NoteId, body: NotePatch) -> NoteOut:
    """Change a note (only its author may: 403 otherwise)."""
    changes = body.model_dump(exclude_unset=True, exclude={"author"})
    for name in ("text", "kind", "follow_up_done"):
        if name in changes and changes[name] is None:
            changes.pop(name)  # null means "unchanged" where a value cannot be cleared
    note = service.edit_note(ctx, note_id, author=body.author, changes=changes)
    return NoteOut.model_validate(note.to_dict())


@router.delete("/notes/{note_id}", status_code=204, responses=ON_NOTE)
def delete_note(
    ctx: ContextDep,
    note_id: NoteId,
    author: Annotated[
        str,
        Query(min_length=1, max_length=service.MAX_AUTHOR, description="Who deletes it."),
    ] = "api",
) -> Response:
    """Delete a note (only its author may: 403 otherwise)."""
    service.delete_note(ctx, note_id, author=author)
    return Response(status_code=204)


@router.get("/notes/follow-ups", responses=error_responses(422, 503))
def follow_ups(
    ctx: ContextDep,
    owner: Annotated[
        str | None,
        Query(max_length=service.MAX_AUTHOR, description="Only follow-ups this author set."),
    ] = None,
    due_before: Annotated[
        date | None, Query(description="Due on or before this date; default a week from today.")
    ] = None,
    account_id: Annotated[str | None, Query(max_length=255, description="One account.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> FollowUpsOut:
    """Follow-up reminders: open follow-ups due by ``due_before``, overdue first."""
    found = service.follow_ups(
        ctx, owner=owner, due_before=due_before, account_id=account_id, limit=limit
    )
    return FollowUpsOut.model_validate(found.to_dict())


@router.get("/accounts/{account_id}/export", responses=ON_ACCOUNT)
def export_account(ctx: ContextDep, account_id: AccountId) -> AccountExportOut:
    """The account's customers row with every note and logged action on it, oldest first."""
    return AccountExportOut.model_validate(service.export_account(ctx, account_id).to_dict())
