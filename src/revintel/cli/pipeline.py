"""``revintel pipeline``: pipeline analytics, forecasts, deals, competitors, expansion and
scenarios (docs/pipeline.md).

The group and its shared options live here; the commands of each area are in
``cli/pipeline_*.py`` and register on :data:`pipeline_app` when imported below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revintel.cli.output import OutputFormat

pipeline_app = typer.Typer(
    help="Pipeline and deals: by stage, forecasts and their backtest, deal health, close "
    "probability, win drivers, competitors, expansion and scenarios.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OwnerOption = Annotated[str | None, typer.Option("--owner", help="Only this sales rep's deals.")]
SegmentOption = Annotated[str | None, typer.Option("--segment", help="Only this segment.")]
StageOption = Annotated[str | None, typer.Option("--stage", help="Only deals in this stage.")]
FromOption = Annotated[
    str | None, typer.Option("--from", help="Deals created on or after this date, YYYY-MM-DD.")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Deals created on or before this date, YYYY-MM-DD.")
]

from revintel.cli import (  # noqa: E402,F401  (each module registers its commands)
    pipeline_analytics,
    pipeline_deals,
    pipeline_expansion,
    pipeline_forecast,
)
