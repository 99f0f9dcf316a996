"""``revintel report``: the executive report as HTML, PDF, PowerPoint or its figures as JSON
(docs/retention.md, Executive report)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from revintel.cli.app import context

report_app = typer.Typer(
    help="Reports: the executive report as HTML, PDF or PowerPoint.",
    no_args_is_help=True,
)


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"
    pptx = "pptx"
    json = "json"


@report_app.command("executive")
def executive(
    month: Annotated[
        str | None,
        typer.Option("--month", help="YYYY-MM (default: the last complete month)."),
    ] = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="html, pdf, pptx, or json (the figures)."),
    ] = ReportFormat.html,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="File to write (default: print JSON, or executive-report-M.FMT)."
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user dir)."),
    ] = None,
) -> None:
    """Headline KPIs with changes, MRR movements, forecast, anomalies, churn risk and capital at
    risk, top at-risk accounts, campaigns, pipeline, attribution and a narrative, for one month."""
    from revintel.app.retention.executive import executive_report, file_name, render

    report = executive_report(context(home), month)
    data = render(report, fmt.value)
    if fmt is ReportFormat.json and out is None:
        sys.stdout.write(data.decode("utf-8") + "\n")
        return
    target = out or Path(file_name(report, fmt.value))
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    partial.replace(target)  # no half-written report under the asked name
    typer.echo(
        f"Executive report, {report.month} ({fmt.value}, {len(data):,} bytes): {target}",
        err=True,
    )
    for missing in report.missing:
        typer.echo(f"— {missing.section}: {missing.reason}", err=True)
