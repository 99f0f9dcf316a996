"""``revintel data-quality``: missing values, freshness, outliers and duplicate keys of every
loaded table (docs/retention.md, Data quality). Registered in ``cli/app.py``."""

from __future__ import annotations

from typing import Annotated

import typer

from revintel.cli.app import FormatOption, HomeOption, context
from revintel.cli.output import OutputFormat, emit


def data_quality_command(
    iqr_k: Annotated[
        float, typer.Option("--iqr-k", min=0.5, max=10, help="k of the Q1−k·IQR, Q3+k·IQR fences.")
    ] = 3.0,
    stale_days: Annotated[
        int, typer.Option("--stale-days", min=1, max=3650, help="Days after which data is stale.")
    ] = 45,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Missing values, freshness, outliers and duplicate keys of every loaded table."""
    from revintel.app.retention.data_quality import data_quality

    report = data_quality(context(home), iqr_k=iqr_k, stale_days=stale_days)
    if fmt is OutputFormat.json:
        emit(report.to_dict(), fmt)
        return
    missing: dict[str, int] = {}
    for m in report.missing:
        missing[m.table] = missing.get(m.table, 0) + m.missing
    outliers: dict[str, int] = {}
    for o in report.outliers:
        outliers[o.table] = outliers.get(o.table, 0) + o.outliers
    dups = {d.table: d.duplicate_rows for d in report.duplicates}
    emit(
        [
            {
                "table": f.table,
                "rows": f.rows,
                "missing_values": missing.get(f.table, 0),
                "outliers": outliers.get(f.table, 0),
                "duplicate_keys": dups.get(f.table),
                "newest_date": f.newest_date,
                "days_stale": f.days_stale,
                "freshness": f.status,
                "last_loaded": f.last_loaded,
            }
            for f in report.freshness
        ],
        fmt,
    )
    if fmt is OutputFormat.table:
        worst = sorted((m for m in report.missing if m.missing), key=lambda m: -m.missing_share)
        for m in worst[:10]:
            typer.echo(f"  {m.table}.{m.column}: {m.missing:,} missing ({m.missing_share:.1%})")
