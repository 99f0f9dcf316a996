"""``revintel alerts``: the command group (docs/retention.md)."""

from __future__ import annotations

import typer

alerts_app = typer.Typer(
    help="Alert rules, evaluation, the inbox, acknowledgement, history and digests.",
    no_args_is_help=True,
)
