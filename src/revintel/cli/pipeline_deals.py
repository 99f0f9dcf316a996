"""``revintel pipeline`` commands: deals, one deal, at-risk alerts (docs/pipeline.md, Deals)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit
from revintel.cli.pipeline import (
    FormatOption,
    FromOption,
    HomeOption,
    OwnerOption,
    SegmentOption,
    StageOption,
    ToOption,
    pipeline_app,
)
from revintel.core.errors import InvalidOption


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidOption(f"{option}: expected a date YYYY-MM-DD, got {value!r}") from None


@pipeline_app.command("deals")
def deals_command(
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    stage: StageOption = None,
    category: Annotated[
        str | None, typer.Option("--category", help="healthy, at risk or critical.")
    ] = None,
    created_from: FromOption = None,
    created_to: ToOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Open deals with their health score, category and risk factors, lowest score first."""
    from revintel.pipeline.service.deals import DealFilters, list_deals

    filters = DealFilters(
        owner=owner,
        segment=segment,
        stage=stage,
        category=category,
        created_from=_date("--from", created_from),
        created_to=_date("--to", created_to),
    )
    result = list_deals(context(home), filters).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    emit(result, fmt, rows_key="deals", title=f"Open deals as of {result['as_of']}")
    for note in result["notes"]:
        typer.echo(f"note: {note}", err=True)


@pipeline_app.command("deal")
def deal_command(
    deal_id: Annotated[str, typer.Argument(help="The deal's deal_id.")],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One deal: its fields, health and factors with evidence, stage timeline and activities."""
    from revintel.pipeline.service.deals import deal_detail

    result = deal_detail(context(home), deal_id).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    deal: dict[str, Any] = result["deal"]
    health = result["health"]
    fields = [{"field": k, "value": v} for k, v in deal.items()]
    fields.append({"field": "etag", "value": result["etag"]})
    if health is not None:
        fields.append({"field": "health_score", "value": health["health_score"]})
        fields.append({"field": "health_category", "value": health["health_category"]})
    else:
        fields.append({"field": "health", "value": result["health_note"]})
    probability = result["close_probability"]
    if probability is not None:
        fields.append(
            {"field": "close_probability_rule", "value": probability["close_probability"]}
        )
        model = probability["model"]
        if model is not None:
            fields.append({"field": "close_probability_model", "value": model["close_probability"]})
            fields.append({"field": "model_roc_auc_held_out", "value": model["roc_auc"]})
    else:
        fields.append({"field": "close_probability", "value": result["close_probability_note"]})
    emit(fields, fmt, title=f"Deal {deal['deal_id']} (as of {result['as_of']})")
    if fmt is OutputFormat.csv:
        return
    if health is not None and health["factors"]:
        emit(health["factors"], fmt, title="Risk factors")
    if result["timeline"]:
        emit(result["timeline"], fmt, title="Stage timeline")
    if result["activities"]:
        emit(result["activities"], fmt, title="Activities")
    elif result["activities"] is None:
        typer.echo("note: deal_activities is not loaded", err=True)


@pipeline_app.command("at-risk")
def at_risk_command(
    min_deal_value: Annotated[
        float | None,
        typer.Option(
            "--min-deal-value", min=0, help="Smallest amount listed (default: the settings')."
        ),
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """At-risk deals: open, at least the minimum value, critical or carrying an alert factor,
    ranked by value × risk."""
    from revintel.pipeline.service.deals import at_risk

    result = at_risk(context(home), min_deal_value).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    rows = [
        {
            "id": d["id"],
            "company": d["company"],
            "owner": d["owner"],
            "stage": d["stage"],
            "deal_value": d["deal_value"],
            "health_score": d["health_score"],
            "health_category": d["health_category"],
            "risk_value": d["risk_value"],
            "risk_factors": "; ".join(d["risk_factors"]),
        }
        for d in result["deals"]
    ]
    if not rows:
        typer.echo(f"No at-risk deals of at least {result['min_deal_value']:,.0f}.")
        return
    emit(
        rows,
        fmt,
        title=f"{result['count']} at-risk deals ≥ {result['min_deal_value']:,.0f} "
        f"(as of {result['as_of']})",
    )


@pipeline_app.command("deal-value")
def deal_value_command(
    users: Annotated[int, typer.Option("--users", min=1, help="Users (seats) planned.")],
    price: Annotated[
        float | None,
        typer.Option(
            "--price",
            min=0,
            help="List price per user per month (default: the settings' price of --product).",
        ),
    ] = None,
    discount: Annotated[
        float, typer.Option("--discount", min=0, max=0.999, help="Discount, a fraction.")
    ] = 0.0,
    billing: Annotated[str, typer.Option("--billing", help="Billing cycle.")] = "annual",
    term: Annotated[
        int, typer.Option("--term", min=1, max=120, help="Contract term in months.")
    ] = 12,
    industry: Annotated[str | None, typer.Option("--industry")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Open stage of the deal.")] = None,
    expansion: Annotated[
        float, typer.Option("--expansion", min=0.001, help="Expansion potential factor.")
    ] = 1.0,
    product: Annotated[str | None, typer.Option("--product", help="Product or plan.")] = None,
    segment: SegmentOption = None,
    lead_source: Annotated[str | None, typer.Option("--lead-source")] = None,
    deal_type: Annotated[str | None, typer.Option("--deal-type")] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Predict a deal's value: the seat-price formula with its breakdown, and the model learned from
    closed-won deals with its 80% interval and held-out MAPE."""
    from revintel.pipeline.deal_value import DealInputs
    from revintel.pipeline.service.deals import predict_deal_value

    inputs = DealInputs(
        num_users_planned=users,
        base_list_price_per_user=price,
        discount_pct=discount,
        billing_cycle=billing,
        contract_term_months=term,
        industry=industry,
        deal_stage=stage,
        expansion_potential_factor=expansion,
        product_plan=product,
        segment=segment,
        lead_source=lead_source,
        deal_type=deal_type,
    )
    result = predict_deal_value(context(home), inputs).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    rows: list[dict[str, Any]] = [
        {"measure": "formula: predicted_deal_value", "value": result["predicted_deal_value"]}
    ]
    rows += [{"measure": f"formula: {k}", "value": v} for k, v in result["breakdown"].items()]
    model = result["model"]
    if model is not None:
        low, high = model["interval_80"]
        rows += [
            {"measure": "model: predicted_deal_value", "value": model["predicted_deal_value"]},
            {"measure": "model: 80% interval", "value": f"{low:,.0f} – {high:,.0f}"},
            {"measure": "model: held-out MAPE", "value": model["held_out_mape"]},
            {"measure": "model: baseline MAPE", "value": model["baseline_mape"]},
            {"measure": "model: 80% interval coverage", "value": model["interval_coverage_80"]},
        ]
    emit(rows, fmt, title="Deal value")
    notes = result["notes"] + ([] if model is None else model["notes"])
    for note in notes:
        typer.echo(f"note: {note}", err=True)
