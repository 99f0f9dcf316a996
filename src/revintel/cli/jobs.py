"""``revintel jobs``: list the scheduled jobs, run one now, see their history (docs/retention.md,
Scheduled jobs). ``revintel scheduler`` (in ``cli/app.py``) runs them on their schedules."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit

jobs_app = typer.Typer(
    help="Scheduled jobs: list them, run one now, see their history.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


def _when(text: str | None) -> str:
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M") if text else ""


def _run_row(run: dict[str, Any]) -> dict[str, Any]:
    seconds = run["duration_seconds"]
    return {
        "run_id": run["run_id"],
        "job": run["job"],
        "trigger": run["trigger"],
        "started": _when(run["started_at"]),
        "status": run["status"],
        "seconds": "" if seconds is None else f"{seconds:.1f}",
        "error": run["error"] or "",
    }


@jobs_app.command("list")
def list_command(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Each job: its schedule (UTC), next run and last run."""
    from revintel.app.retention import jobs

    found = jobs.list_jobs(context(home)).to_dict()
    if fmt is OutputFormat.json:
        emit(found, fmt)
        return
    rows = []
    for job in found["jobs"]:
        last = job["last_run"] or {}
        rows.append(
            {
                "job": job["name"],
                "schedule": job["schedule"]
                + (" (settings)" if job["schedule_source"] == "settings" else ""),
                "next_run": _when(job["next_run"]),
                "last_run": _when(last.get("started_at")),
                "last_status": ("running" if job["running"] else last.get("status")) or "never",
            }
        )
    emit(rows, fmt, title="Scheduled jobs (UTC)")


@jobs_app.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="The job, e.g. score_customers.")],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run a job now (skipped if another process runs it); exits 1 if it failed."""
    from revintel.app.retention import jobs

    run = jobs.run_job(context(home), name, trigger="manual").to_dict()
    if fmt is OutputFormat.json:
        emit(run, fmt)
    else:
        emit({**_run_row(run), "summary": run["summary"] or ""}, fmt)
    if run["status"] == "failed":
        raise typer.Exit(1)


@jobs_app.command("history")
def history_command(
    job: Annotated[str | None, typer.Option("--job", help="Only this job's runs.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 20,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Recorded runs, newest first."""
    from revintel.app.retention import jobs

    found = jobs.job_history(context(home), job, limit).to_dict()
    if fmt is OutputFormat.json:
        emit(found, fmt)
        return
    if not found["runs"]:
        typer.echo("No job has run yet.")
        return
    emit([_run_row(r) for r in found["runs"]], fmt, title="Job runs")
