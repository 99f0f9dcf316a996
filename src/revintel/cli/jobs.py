"""``revintel jobs``: the command group (docs/retention.md)."""

from __future__ import annotations

import typer

jobs_app = typer.Typer(
    help="Scheduled jobs: list them, run one now, see their history.",
    no_args_is_help=True,
)
