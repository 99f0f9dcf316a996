"""``revintel churn trends``: portfolio churn risk over months and expected churn next quarter
(docs/retention.md, Risk trends). Registered on the churn group at the end of ``cli/churn.py``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from revintel.cli.app import FormatOption, HomeOption, context
from revintel.cli.churn import churn_app
from revintel.cli.output import OutputFormat, emit


@churn_app.command("trends")
def trends_command(
    months: Annotated[
        int, typer.Option("--months", "-n", min=2, max=60, help="Months of history.")
    ] = 12,
    level: Annotated[
        float, typer.Option("--level", min=0.5, max=0.99, help="Interval coverage.")
    ] = 0.9,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """MRR-weighted churn risk and tiers per month (a backcast with the production model),
    expected churned customers and MRR next quarter with an interval, and the backtest."""
    from revintel.app.retention.risk_trends import risk_trends

    report = risk_trends(context(home), months, level)
    if fmt is OutputFormat.json:
        emit(report.to_dict(), fmt)
        return
    backtest = {pt.month: pt for pt in report.calibration}
    rows: list[dict[str, Any]] = []
    for m in report.series:
        pt = backtest.get(m.month)
        rows.append(
            {
                "month": m.month,
                "customers": m.customers,
                "mrr": m.mrr,
                "mrr_weighted_risk": m.mrr_weighted_risk,
                **{f"{tier.lower()}": n for tier, n in m.tier_counts.items()},
                "expected_churn_3m": m.expected_churned,
                "actual_churn_3m": pt.actual if pt else None,
            }
        )
    emit(rows, fmt, title=report.source)
    if fmt is OutputFormat.table:
        q = report.next_quarter
        typer.echo(
            f"Expected churn {q.quarter}: {q.expected_customers:.1f} customers "
            f"({q.level:.0%} interval {q.customers_low:.0f}–{q.customers_high:.0f}, "
            f"{q.count_method}), MRR {q.expected_mrr:,.0f} "
            f"({q.mrr_low:,.0f}–{q.mrr_high:,.0f}, normal approximation)."
        )
        if report.calibration_coverage is not None:
            typer.echo(
                f"Backtest: the realised count fell inside the interval in "
                f"{report.calibration_coverage:.0%} of {len(report.calibration)} past months."
            )
