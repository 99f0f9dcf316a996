"""``revintel report``: the command group (docs/retention.md)."""

from __future__ import annotations

import typer

report_app = typer.Typer(
    help="Reports: the executive report as HTML, PDF or PowerPoint.",
    no_args_is_help=True,
)
