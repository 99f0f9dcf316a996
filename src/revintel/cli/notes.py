"""``revintel notes``: the command group (docs/retention.md)."""

from __future__ import annotations

import typer

notes_app = typer.Typer(
    help="Notes and logged actions on accounts (calls, emails, meetings, offers) with follow-ups.",
    no_args_is_help=True,
)
