"""``revintel segments``: the command group (docs/retention.md)."""

from __future__ import annotations

import typer

segments_app = typer.Typer(
    help="Customer segments: preview a rule, save, compare, discover clusters, track over time.",
    no_args_is_help=True,
)
