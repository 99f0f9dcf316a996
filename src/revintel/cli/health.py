"""``revintel health``: score accounts, summarise the portfolio, backtest (docs/health.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit

health_app = typer.Typer(
    help="Account health scores, playbooks, capital at risk and the health backtest.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
MonthOption = Annotated[
    str | None, typer.Option("--month", "-m", help="Month to score, YYYY-MM (default: latest).")
]
OwnerOption = Annotated[
    str | None, typer.Option("--owner", help="Only this account owner's accounts.")
]


def _round(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (round(v, 1) if abs(v) >= 10 else round(v, 3)) if isinstance(v, float) else v
        for k, v in row.items()
    }


def _notes(notes: list[str], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.table:
        for note in notes:
            typer.secho(f"Note: {note}", fg="yellow", err=True)


@health_app.command()
def score(
    month: MonthOption = None,
    owner: OwnerOption = None,
    tier: Annotated[
        str | None, typer.Option("--tier", help="Only Healthy, At Risk or Critical accounts.")
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Score every account for a month: health, tier, playbook and its reason, pillars, ARR."""
    from revintel.health import service

    scores = service.score_month(context(home), month)
    frame = service.filter_scores(scores.frame, owner=owner, tier=tier)
    frame = frame.sort(["health_score", "account_id"], nulls_last=True)
    rows = [_round(r.to_dict()) for r in service.account_rows(frame)]
    if fmt is OutputFormat.table:
        columns = (
            "account_id", "health_score", "health_change", "tier", "playbook",
            "reason", "engagement", "sentiment", "support", "arr", "partial",
        )  # fmt: skip
        rows = [{c: r[c] for c in columns} for r in rows]
    _notes(scores.notes, fmt)
    emit(rows, fmt, title=f"Account health, {scores.month} ({len(rows):,} accounts)")


@health_app.command()
def summary(
    month: MonthOption = None,
    owner: OwnerOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Portfolio KPIs: ARR, capital at risk, ARR by tier, accounts per playbook, average health."""
    from revintel.health import service

    scores = service.score_month(context(home), month)
    result = service.portfolio_summary(scores, owner=owner)
    if fmt is OutputFormat.json:
        emit(result.to_dict(), fmt)
        return
    rows: list[dict[str, Any]] = [
        {"measure": "month", "value": result.month},
        {"measure": "accounts", "value": result.accounts},
        {"measure": "partial accounts", "value": result.partial_accounts},
        {"measure": "total ARR", "value": result.total_arr},
        {"measure": "capital at risk (At Risk + Critical ARR)", "value": result.capital_at_risk},
        {"measure": "average health", "value": result.average_health},
        {"measure": "average health change", "value": result.average_health_change},
        {"measure": "accounts dropped ≥ 20 points", "value": result.dropped_accounts},
        {"measure": "silent accounts (no contact)", "value": result.silent_accounts},
    ]
    for t, arr in result.arr_by_tier.items():
        share = result.arr_share_by_tier[t]
        rows.append({"measure": f"{t}: accounts", "value": result.accounts_by_tier[t]})
        rows.append({"measure": f"{t}: ARR", "value": arr})
        rows.append(
            {"measure": f"{t}: ARR share %", "value": None if share is None else 100 * share}
        )
    for p, n in result.accounts_by_playbook.items():
        rows.append({"measure": f"{p}: accounts", "value": n})
    _notes(result.notes, fmt)
    title = f"Portfolio health, {result.month}" + (f" ({owner})" if owner else "")
    emit([_round(r) for r in rows], fmt, title=title)


@health_app.command()
def backtest(
    horizon: Annotated[int, typer.Option(min=1, max=12, help="Churn window, months.")] = 3,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """How well each past month's scores predicted churn, and suggested pillar weights."""
    from revintel.health import service

    result = service.run_backtest(context(home), horizon=horizon).as_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    if fmt is OutputFormat.csv:
        emit([_round(r) for r in result["months"]], fmt)
        return
    _notes(result["notes"], fmt)

    def weights(w: dict[str, float] | None) -> str:
        return "—" if w is None else " / ".join(f"{k} {v:g}%" for k, v in w.items())

    emit(
        [
            {"measure": "account-months backtested", "value": result["rows"]},
            {"measure": f"churned within {horizon} months", "value": result["churners"]},
            {"measure": "AUC, current weights", "value": result["auc_current"]},
            {"measure": "AUC, suggested weights (5-fold CV)", "value": result["auc_suggested_cv"]},
            {"measure": "current weights", "value": weights(result["current_weights"])},
            {"measure": "suggested weights", "value": weights(result["suggested_weights"])},
            {
                "measure": "lift, Critical over Healthy",
                "value": result["lift_critical_over_healthy"],
            },
        ],
        fmt,
        title=f"Health backtest (churn within {horizon} months)",
    )
    emit([_round(r) for r in result["tiers"]], fmt, title="Churn rate by tier")
    emit([_round(r) for r in result["months"]], fmt, title="ROC AUC by month")


@health_app.command("config")
def show_config(home: HomeOption = None) -> None:
    """The health settings in effect (defaults, revintel.toml, REVINTEL_HOME/health.toml)."""
    from revintel.app import settings as app_settings

    in_effect = app_settings.read(context(home).settings, app_settings.HEALTH)
    typer.echo(f"# sources: {', '.join(map(str, in_effect.sources)) or 'defaults only'}")
    typer.echo(app_settings.HEALTH.render(in_effect.value), nl=False)
