"""Foundation commands: generate, load, info, demo, serve, scheduler, dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from revintel import __version__
from revintel.cli.output import OutputFormat, emit

if TYPE_CHECKING:  # the context imports Ibis, SQLAlchemy and PyArrow: not for --help
    from revintel.app.context import AppContext

app = typer.Typer(
    name="revintel",
    help="Revenue intelligence for B2B SaaS: metrics, health, churn, pipeline, attribution.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


def context(home: Path | None) -> AppContext:
    """The context of ``--home`` (or the configured home), for a command that reads data. Imported
    here, not with the CLI: ``revintel --help`` needs none of the data stack."""
    from revintel.app.context import AppContext

    return AppContext.from_options(home=home)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"revintel {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """revintel: exact SaaS metrics, predictions you can act on, one command to see it all."""


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the tables to.")],
    customers: Annotated[
        int, typer.Option(min=10, help="Customers acquired over the window.")
    ] = 2000,
    months: Annotated[int, typer.Option(min=3, max=240, help="Months simulated.")] = 36,
    start: Annotated[str, typer.Option(help="First simulated month, YYYY-MM.")] = "2023-01",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 42,
    fmt: Annotated[
        Literal["parquet", "csv"], typer.Option("--format", help="File format.")
    ] = "parquet",
) -> None:
    """Simulate a demo SaaS company and write every canonical table plus its ground truth."""
    from revintel.data.generator import generate_company, write_company

    _check_month(start, "--start")
    company = generate_company(customers=customers, months=months, start=start, seed=seed)
    paths = write_company(company, out, fmt)
    rows = {name: table.num_rows for name, table in company.tables.items()}
    typer.echo(f"Wrote {len(paths)} files to {out} ({sum(rows.values()):,} rows).")
    for name, n in rows.items():
        typer.echo(f"  {name:<20} {n:>12,}")


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="CSV or Parquet files, or folders of them.")],
    table: Annotated[
        str | None, typer.Option("--table", "-t", help="Table for every file (else by file name).")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            "-m",
            help="A TOML mapping file: load the CRM export in the one folder given through it "
            "(docs/pipeline.md, 'Importing a CRM export').",
        ),
    ] = None,
    append: Annotated[
        bool, typer.Option("--append", help="Upsert rows by primary key instead of replacing.")
    ] = False,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Validate files against their table contracts, then load them atomically."""
    from revintel.app.ingest import load_mapped, load_paths

    mode: Literal["append", "replace"] = "append" if append else "replace"
    if mapping is not None:
        if table is not None or len(paths) != 1:
            from revintel.core.errors import InvalidOption

            raise InvalidOption(
                "--mapping: give exactly one folder (the CRM export) and no --table; "
                f"got {len(paths)} path(s)" + (f" and --table {table}" if table else "")
            )
        ctx = context(home)
        result = load_mapped(ctx, paths[0], mapping, mode=mode)
    else:
        ctx = context(home)
        result = load_paths(ctx, paths, table=table, mode=mode)
    emit(result.as_dict(), fmt, title="Loaded", rows_key="tables_rows")
    for warning in result.warnings:  # also in the JSON output and the load history
        typer.echo(f"warning: {warning}", err=True)


@app.command()
def info(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Each table with its row count and last load time."""
    from revintel.app.catalog import table_catalog

    ctx = context(home)
    tables = table_catalog(ctx)
    if fmt is OutputFormat.json:
        emit(
            {
                "home": str(ctx.settings.home),
                "warehouse": ctx.warehouse.kind,
                "tables": {t.name: t.as_dict() for t in tables if t.loaded},
                "missing": [t.name for t in tables if not t.loaded],
            },
            fmt,
        )
        return
    emit(
        [
            {"table": t.name, "rows": t.rows, "last_loaded": t.last_loaded, "loaded": t.loaded}
            for t in tables
        ],
        fmt,
        title=f"revintel warehouse ({ctx.warehouse.kind}) at {ctx.settings.home}",
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    scheduler: Annotated[
        bool,
        typer.Option("--scheduler", help="Also run the scheduled jobs in this process."),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Run the REST API (OpenAPI docs at /docs).

    It answers the loopback names, the address it binds and REVINTEL_ALLOWED_HOSTS; on SIGTERM it
    is gone within REVINTEL_SHUTDOWN_GRACE_SECONDS + 1 s (docs/operations.md). With --scheduler
    the scheduled jobs run inside it (docs/retention.md, Scheduled jobs).
    """
    from revintel.api import server
    from revintel.api.app import create_app

    ctx = context(home)
    if scheduler:
        _check_schedules(ctx)
    app = create_app(ctx, bind_host=host, scheduler=scheduler)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"revintel API on http://{shown}:{port} (docs: http://{shown}:{port}/docs)")
    typer.echo(f"Answers Host: {', '.join(app.state.edge.allowed_hosts)}")
    server.run(app, host=host, port=port, settings=ctx.settings)


def _check_schedules(ctx: AppContext) -> None:
    """Refuse to start on invalid job schedules (the message names the job and the form)."""
    from revintel.retention.config import load_config

    load_config(ctx.settings)


@app.command()
def scheduler(home: HomeOption = None) -> None:
    """Run the scheduled jobs in the foreground until Ctrl-C or SIGTERM.

    `revintel jobs list` shows the schedules; docs/retention.md, Scheduled jobs.
    """
    import signal
    import threading

    from revintel.app.retention.jobs import JobScheduler

    ctx = context(home)
    jobs = JobScheduler(ctx)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    jobs.start()
    typer.echo(f"revintel scheduler at {ctx.settings.home} (UTC); Ctrl-C stops it.")
    upcoming = jobs.next_runs()
    for name, line in jobs.schedules.items():
        when = upcoming.get(name)
        typer.echo(f"  {name:<18} {line:<16} next {f'{when:%Y-%m-%d %H:%M}' if when else '—'}")
    while not stop.wait(1.0):
        pass
    typer.echo("Stopping: waiting for the runs under way…")
    jobs.shutdown(wait=True)
    ctx.close()
    typer.echo("Scheduler stopped.")


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="Port.")] = 8501,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Run the Streamlit dashboard."""
    from revintel.ui.launch import run_dashboard

    ctx = context(home)
    raise typer.Exit(run_dashboard(ctx.settings, host=host, port=port, open_browser=not no_browser))


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=10, help="Demo customers.")] = 2000,
    months: Annotated[int, typer.Option(min=3, max=240, help="Months simulated.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    port: Annotated[int, typer.Option(help="Dashboard port.")] = 8501,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser.")
    ] = False,
    regenerate: Annotated[
        bool, typer.Option("--regenerate", help="Generate and load even if data is loaded.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Generate a demo company (if none is loaded), load it and open the dashboard."""
    from revintel.app.demo import ensure_demo_data
    from revintel.ui.launch import run_dashboard

    ctx = context(home)
    summary = ensure_demo_data(
        ctx, customers=customers, months=months, seed=seed, force=regenerate, echo=typer.echo
    )
    typer.echo(summary)
    raise typer.Exit(run_dashboard(ctx.settings, host=host, port=port, open_browser=not no_browser))


def _check_month(value: str, option: str) -> None:
    from revintel.core.calendar import MONTH_RE
    from revintel.core.errors import RevintelError

    if not MONTH_RE.fullmatch(value):
        raise RevintelError(f"{option} {value!r}: expected a month YYYY-MM, e.g. 2023-01")


from revintel.cli.health import health_app  # noqa: E402  (command groups register last)

app.add_typer(health_app, name="health")
from revintel.cli.churn import churn_app  # noqa: E402

app.add_typer(churn_app, name="churn")
from revintel.cli.clv import clv_app  # noqa: E402

app.add_typer(clv_app, name="clv")
from revintel.cli.pipeline import pipeline_app  # noqa: E402

app.add_typer(pipeline_app, name="pipeline")

from revintel.cli.attribution import attribution_app  # noqa: E402

app.add_typer(attribution_app, name="attribution")
from revintel.cli.notes import notes_app  # noqa: E402

app.add_typer(notes_app, name="notes")
from revintel.cli.segments import segments_app  # noqa: E402

app.add_typer(segments_app, name="segments")
from revintel.cli.campaigns import campaigns_app  # noqa: E402

app.add_typer(campaigns_app, name="campaigns")
from revintel.cli.alerts import alerts_app  # noqa: E402

app.add_typer(alerts_app, name="alerts")
from revintel.cli.jobs import jobs_app  # noqa: E402

app.add_typer(jobs_app, name="jobs")
from revintel.cli.report import report_app  # noqa: E402

app.add_typer(report_app, name="report")
from revintel.cli.data_quality import data_quality_command  # noqa: E402

app.command("data-quality")(data_quality_command)
from revintel.cli.metrics import anomalies_command, forecast_command, metrics_app  # noqa: E402

app.add_typer(metrics_app, name="metrics")
app.command("forecast")(forecast_command)
app.command("anomalies")(anomalies_command)
