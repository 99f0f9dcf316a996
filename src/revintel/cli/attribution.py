"""``revintel attribution``: attribution models, journeys, channel ROI and the budget suggestion
(docs/attribution.md).

The group and its shared options live here; the commands of each area are in
``cli/attribution_*.py`` and register on :data:`attribution_app` when imported below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revintel.cli.output import OutputFormat

attribution_app = typer.Typer(
    help="Marketing attribution: every model's credit per channel, journeys, channel ROI and a "
    "budget suggestion.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
FromOption = Annotated[
    str | None, typer.Option("--from", help="Conversions on or after this date, YYYY-MM-DD.")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Conversions on or before this date, YYYY-MM-DD.")
]
WindowOption = Annotated[
    int | None,
    typer.Option("--window", min=1, help="Look-back window in days (default: the settings')."),
]
ConversionTypeOption = Annotated[
    str | None,
    typer.Option("--conversion-type", help="signup, trial or paid (default: the settings' type)."),
]

from revintel.cli import (  # noqa: E402,F401  (each module registers its commands)
    attribution_ingest,
    attribution_journeys,
    attribution_report,
    attribution_roi,
)
