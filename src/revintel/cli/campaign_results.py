"""``revintel campaigns results|impact|recommend``: measured impact of campaigns
(docs/retention.md, Measured impact). Registers on :data:`revintel.cli.campaigns.campaigns_app`."""

from __future__ import annotations

from typing import Any

import typer

from revintel.cli.app import FormatOption, HomeOption, context
from revintel.cli.campaigns import campaigns_app
from revintel.cli.output import OutputFormat, emit, percent


def _interval(value: float | None, low: float | None, high: float | None, *, pct: bool) -> str:
    if value is None:
        return "n/a"
    if pct:
        return f"{percent(value)} [{percent(low)}, {percent(high)}]"
    return f"{value:,.1f} [{low:,.1f}, {high:,.1f}]"


def _money(value: float | None, low: float | None = None, high: float | None = None) -> str:
    if value is None:
        return "n/a"
    if low is None or high is None:
        return f"{value:,.0f}"
    return f"{value:,.0f} [{low:,.0f}, {high:,.0f}]"


def _p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


@campaigns_app.command("results")
def results_command(
    campaign_id: str = typer.Argument(
        ..., help="Campaign id: a number (app campaign) or an imported campaign's id."
    ),
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One campaign's treated versus holdout churn, uplift with its 95% interval, p-value, saves,
    cost and ROI (or "in progress" with the months remaining)."""
    from revintel.app.retention.impact import campaign_results

    r = campaign_results(context(home), campaign_id)
    if fmt is not OutputFormat.table:
        emit(r.to_dict(), fmt if fmt is OutputFormat.json else OutputFormat.json)
        return
    c = r.churn
    rows: list[dict[str, Any]] = [
        {"figure": "campaign", "value": f"{r.campaign_id} · {r.name} ({r.source})"},
        {"figure": "template", "value": r.template},
        {"figure": "status", "value": r.status},
        {"figure": "start", "value": r.start_date.isoformat()},
        {"figure": "outcome window", "value": f"{r.outcome_months} months, to {r.outcome_end}"},
        {"figure": "members", "value": f"{r.members:,}"},
    ]
    if r.status == "in progress":
        rows.append({"figure": "months remaining", "value": str(r.months_remaining)})
    if c is not None:
        rows += [
            {"figure": "treated", "value": f"{c.treated:,} ({c.treated_churned:,} churned)"},
            {"figure": "holdout", "value": f"{c.holdout:,} ({c.holdout_churned:,} churned)"},
            {"figure": "treated churn", "value": percent(c.treated_rate)},
            {"figure": "holdout churn", "value": percent(c.holdout_rate)},
            {
                "figure": "uplift [95%]",
                "value": _interval(c.uplift, c.uplift_low, c.uplift_high, pct=True),
            },
            {"figure": f"p-value ({c.test})", "value": _p(c.p_value)},
        ]
        if r.stratified is not None:
            s = r.stratified
            rows.append(
                {
                    "figure": "uplift by risk tier (CMH)",
                    "value": _interval(s.uplift, s.uplift_low, s.uplift_high, pct=True),
                }
            )
        if r.risk_change is not None:
            d = r.risk_change
            rows.append(
                {
                    "figure": "risk change, treated − holdout",
                    "value": _interval(d.difference, d.low, d.high, pct=True),
                }
            )
        sv = r.saves
        rows.append(
            {
                "figure": "saves [95%]",
                "value": _interval(sv.value, sv.low, sv.high, pct=False) if sv else "n/a",
            }
        )
        rows.append({"figure": "cost", "value": _money(r.cost)})
        rows.append({"figure": "average CLV", "value": _money(r.average_clv)})
        roi = r.roi
        rows.append(
            {"figure": "ROI [95%]", "value": _money(roi.value, roi.low, roi.high) if roi else "n/a"}
        )
    if r.planted is not None:
        rows.append(
            {
                "figure": "planted (demo truth)",
                "value": f"uplift {percent(r.planted.true_uplift)}, "
                + ("inside" if r.planted.inside_interval else "OUTSIDE")
                + " the interval",
            }
        )
    for note in r.notes:
        rows.append({"figure": "note", "value": note})
    emit(rows, fmt, title="Campaign results")
    typer.echo(r.method)


@campaigns_app.command("impact")
def impact_command(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Every campaign side by side: treated versus holdout churn, uplift [95%], p, saves, cost,
    ROI (brief 004's intervention impact)."""
    from revintel.app.retention.impact import intervention_impact

    view = intervention_impact(context(home))
    if fmt is OutputFormat.json:
        emit(view.to_dict(), fmt)
        return
    if fmt is OutputFormat.csv:
        emit(view.rows(), fmt)
        return
    if not view.campaigns:
        typer.echo("No campaign yet: create one with the wizard or load a campaigns table.")
        return
    rows = [
        {
            "campaign": r["campaign_id"],
            "template": r["template"],
            "status": r["status"],
            "customers": r["customers"],
            "treated churn": percent(r["treated_churn"]),
            "holdout churn": percent(r["holdout_churn"]),
            "uplift [95%]": _interval(r["uplift"], r["uplift_low"], r["uplift_high"], pct=True),
            "p": _p(r["p_value"]),
            "saves": _interval(r["saves"], r["saves_low"], r["saves_high"], pct=False),
            "cost": _money(r["cost"]),
            "ROI": _money(r["roi"]),
            **({"planted uplift": percent(r["true_uplift"])} if view.truth_available else {}),
        }
        for r in view.rows()
    ]
    emit(rows, fmt, title=f"Intervention impact (data to {view.last_data_month})")
    typer.echo(view.method)


@campaigns_app.command("recommend")
def recommend_command(
    account_id: str = typer.Argument(..., help="The customer (customers.customer_id)."),
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Which plays worked for similar past customers: each play's retention rate among treated
    members like this account, beside the holdout's, with sample sizes."""
    from revintel.app.retention.impact import recommendations

    rec = recommendations(context(home), account_id)
    if fmt is OutputFormat.json:
        emit(rec.to_dict(), fmt)
        return
    rows = [
        {
            "play": a.template,
            "treated n": a.treated,
            "retained (treated)": f"{percent(a.retention_treated)} "
            f"[{percent(a.retention_treated_low)}, {percent(a.retention_treated_high)}]",
            "holdout n": a.holdout,
            "retained (holdout)": percent(a.retention_holdout),
            "uplift [95%]": _interval(a.uplift, a.uplift_low, a.uplift_high, pct=True),
            "p": _p(a.p_value),
            "campaigns": a.campaigns,
        }
        for a in rec.actions
    ]
    if fmt is OutputFormat.csv:
        emit(rows, fmt)
        return
    head = f"Plays for {rec.account_id} (risk tier {rec.risk_tier or 'unknown'}"
    head += f", segment {rec.segment or 'unknown'})"
    if not rows:
        typer.echo(head + ": no finished campaign to learn from yet.")
    else:
        emit(rows, fmt, title=head)
    typer.echo(rec.definition)
    for note in rec.notes:
        typer.echo(note)
