"""``revintel campaigns``: the command group (docs/retention.md)."""

from __future__ import annotations

import typer

campaigns_app = typer.Typer(
    help="Retention campaigns: templates, the wizard with a holdout, tasks and measured impact.",
    no_args_is_help=True,
)

from revintel.cli import campaign_results  # noqa: E402,F401  (registers the impact commands)
