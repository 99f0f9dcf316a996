"""``revintel notes``: notes and logged actions on accounts, follow-ups and the account export
(docs/retention.md, Notes and action history)."""

from __future__ import annotations

import getpass
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit

notes_app = typer.Typer(
    help="Notes and logged actions on accounts (calls, emails, meetings, offers) with follow-ups.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
KINDS_HELP = "note, call, email, meeting or offer."


def default_author() -> str:
    """$USER (or the login name), else "cli"."""
    try:
        return os.environ.get("USER") or getpass.getuser() or "cli"
    except (KeyError, OSError):
        return "cli"


AuthorOption = Annotated[
    str | None,
    typer.Option("--author", help="Who writes (default: $USER, else 'cli')."),
]


def _row(note: dict[str, Any]) -> dict[str, Any]:
    when = datetime.fromisoformat(note["created_at"]).strftime("%Y-%m-%d %H:%M")
    follow = note["follow_up"] or ""
    if follow and note["follow_up_done"]:
        follow += " (done)"
    return {
        "note_id": note["note_id"],
        "created": when,
        "kind": note["kind"],
        "author": note["author"],
        "text": note["text"],
        "outcome": note["outcome"] or "",
        "follow_up": follow,
    }


@notes_app.command("list")
def list_command(
    account: Annotated[str, typer.Argument(help="The account (customer_id).")],
    kind: Annotated[str | None, typer.Option(help=f"Only this kind: {KINDS_HELP}")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 500,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The account's notes and logged actions, newest first."""
    from revintel.app.retention import notes

    found = notes.list_notes(context(home), account, kind=kind, limit=limit).to_dict()
    if fmt is OutputFormat.json:
        emit(found, fmt)
        return
    if not found["notes"]:
        typer.echo(f"No notes on {account} yet.")
        return
    emit([_row(n) for n in found["notes"]], fmt, title=f"Notes on {account}")


@notes_app.command("add")
def add_command(
    account: Annotated[str, typer.Argument(help="The account (customer_id).")],
    text: Annotated[str, typer.Option("--text", help="What happened (1-5,000 characters).")],
    kind: Annotated[str, typer.Option("--kind", help=KINDS_HELP)] = "note",
    outcome: Annotated[str | None, typer.Option("--outcome", help="What came of it.")] = None,
    follow_up: Annotated[
        str | None, typer.Option("--follow-up", help="Follow-up date, YYYY-MM-DD.")
    ] = None,
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record a note or logged action on an account."""
    from revintel.app.retention import notes

    note = notes.add_note(
        context(home),
        account,
        text=text,
        kind=kind,
        outcome=outcome,
        follow_up=follow_up,
        author=author or default_author(),
    )
    emit(note.to_dict() if fmt is OutputFormat.json else _row(note.to_dict()), fmt)


@notes_app.command("edit")
def edit_command(
    note_id: Annotated[int, typer.Argument(help="The note's id (see `notes list`).")],
    text: Annotated[str | None, typer.Option("--text", help="New text.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help=KINDS_HELP)] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="New outcome.")] = None,
    follow_up: Annotated[
        str | None,
        typer.Option("--follow-up", help="New follow-up date YYYY-MM-DD ('none' clears it)."),
    ] = None,
    done: Annotated[
        bool | None,
        typer.Option("--done/--not-done", help="Mark the follow-up done (or open again)."),
    ] = None,
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change a note (only its author may)."""
    from revintel.app.retention import notes

    changes: dict[str, Any] = {}
    for name, value in (("text", text), ("kind", kind), ("outcome", outcome)):
        if value is not None:
            changes[name] = value
    if follow_up is not None:
        changes["follow_up"] = None if follow_up.strip().lower() == "none" else follow_up
    if done is not None:
        changes["follow_up_done"] = done
    note = notes.edit_note(
        context(home), note_id, author=author or default_author(), changes=changes
    )
    emit(note.to_dict() if fmt is OutputFormat.json else _row(note.to_dict()), fmt)


@notes_app.command("delete")
def delete_command(
    note_id: Annotated[int, typer.Argument(help="The note's id (see `notes list`).")],
    author: AuthorOption = None,
    home: HomeOption = None,
) -> None:
    """Delete a note (only its author may)."""
    from revintel.app.retention import notes

    note = notes.delete_note(context(home), note_id, author=author or default_author())
    typer.echo(f"Deleted note {note.note_id} on {note.account_id}.")


@notes_app.command("follow-ups")
def follow_ups_command(
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only follow-ups this author set.")
    ] = None,
    due_before: Annotated[
        str | None,
        typer.Option("--due-before", help="Due on or before, YYYY-MM-DD (default: in a week)."),
    ] = None,
    account: Annotated[str | None, typer.Option("--account", help="One account.")] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Follow-up reminders: open follow-ups due, overdue first."""
    from revintel.app.retention import notes

    found = notes.follow_ups(
        context(home), owner=owner, due_before=due_before, account_id=account
    ).to_dict()
    if fmt is OutputFormat.json:
        emit(found, fmt)
        return
    if not found["follow_ups"]:
        typer.echo(f"No open follow-up due by {found['due_before']}.")
        return
    rows = [
        {
            "due": f["follow_up"],
            "overdue_days": f["days_overdue"],
            "account": f["account_id"],
            "name": f["account_name"] or "",
            "kind": f["kind"],
            "text": f["text"],
            "author": f["author"],
            "note_id": f["note_id"],
        }
        for f in found["follow_ups"]
    ]
    title = f"Follow-ups due by {found['due_before']} ({found['overdue']} overdue)"
    emit(rows, fmt, title=title)


@notes_app.command("export")
def export_command(
    account: Annotated[str, typer.Argument(help="The account (customer_id).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JSON here (default: print).")
    ] = None,
    home: HomeOption = None,
) -> None:
    """The account exported with its notes: its customers row and every note, as JSON."""
    from revintel.app.retention import notes

    document = json.dumps(notes.export_account(context(home), account).to_dict(), indent=2)
    if out is None:
        typer.echo(document)
        return
    out.write_text(document + "\n", encoding="utf-8")
    typer.echo(f"Wrote {account} with its notes to {out}.")
