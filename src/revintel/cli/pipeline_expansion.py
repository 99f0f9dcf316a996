"""``revintel pipeline`` commands: expansion (docs/pipeline.md, Expansion opportunity)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit, percent
from revintel.cli.pipeline import FormatOption, HomeOption, OwnerOption, SegmentOption, pipeline_app


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


@pipeline_app.command("expansion")
def expansion_command(
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
    segment: SegmentOption = None,
    owner: OwnerOption = None,
    month: Annotated[
        str | None, typer.Option("--month", help="Month scored, YYYY-MM (default: the latest).")
    ] = None,
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Accounts listed.")] = 20,
) -> None:
    """Accounts ranked by expansion opportunity: score, reasons, expected expansion ARR, and the
    backtest lift of the top decile over the base rate of expansion."""
    from revintel.pipeline.service.expansion import expansion_scores

    report = expansion_scores(
        context(home), month=month, segment=segment, owner=owner, account_id=account, limit=limit
    )
    if fmt is OutputFormat.json:
        emit(report.to_dict(), fmt)
        return
    rows: list[dict[str, Any]] = [
        {
            "account_id": a.account_id,
            "account_name": a.account_name,
            "segment": a.segment,
            "plan": a.plan,
            "arr": round(a.arr, 2) if a.arr is not None else None,
            "score": a.expansion_score,
            "decile": a.decile,
            "p_expand": a.expansion_probability,
            "expected_expansion_arr": a.expected_expansion_arr,
            "reasons": "; ".join(f"{r.signal}: {r.evidence}" for r in a.reasons),
        }
        for a in report.accounts
    ]
    if fmt is OutputFormat.csv:
        emit(rows, fmt)
        return
    for row in rows:
        row["arr"] = _money(row["arr"])
        row["expected_expansion_arr"] = _money(row["expected_expansion_arr"])
        row["p_expand"] = percent(row["p_expand"])
    emit(
        rows,
        fmt,
        title=f"Expansion opportunities, {report.month} "
        f"({report.accounts_scored:,} accounts scored)",
    )
    b = report.backtest
    if b is None:
        for note in report.notes:
            typer.echo(note)
        return
    lift = "n/a" if b.lift is None else f"{b.lift:.2f}×"
    ci = (
        ""
        if b.lift_ci_low is None or b.lift_ci_high is None
        else f" (95% interval {b.lift_ci_low:.2f}–{b.lift_ci_high:.2f})"
    )
    auc = "n/a" if b.roc_auc is None else f"{b.roc_auc:.3f}"
    typer.echo(
        f"Backtest {b.first_month}–{b.last_month} ({b.account_months:,} account-months, "
        f"expansion within {b.horizon_months} months): top decile {percent(b.top_decile_rate)} "
        f"vs base rate {percent(b.base_rate)}, lift {lift}{ci}; ROC AUC {auc}."
    )
    f = b.fitted
    if f is not None:
        weights = ", ".join(f"{k} {v:.2f}" for k, v in f.suggested_weights.items())
        typer.echo(
            f"Held out from {f.first_holdout_month} ({f.holdout_account_months:,} account-months): "
            f"the rule's lift {_x(f.rule_lift)}, weights fitted on the months before "
            f"{_x(f.fitted_lift)}; fitted weights: {weights}."
        )
    for note in report.notes:
        typer.echo(note)


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"
