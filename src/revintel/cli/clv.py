"""``revintel clv``: sBG retention fits, CLV by group and RFM segments (docs/clv.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit

clv_app = typer.Typer(
    help="Customer lifetime value: sBG retention model, CLV by cohort or segment, RFM.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Date the data is as of, YYYY-MM-DD (default: latest)."),
]
DiscountOption = Annotated[
    float, typer.Option("--discount-rate", min=0.0, max=9.99, help="Annual discount rate.")
]


def _round(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (round(v, 2) if abs(v) >= 10 else round(v, 4)) if isinstance(v, float) else v
        for k, v in row.items()
    }


def _money(value: float | None, reason: str | None) -> str:
    return f"{value:,.0f}" if value is not None else f"undefined ({reason})"


def _parse_survivors(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@clv_app.command("fit-sbg")
def fit_sbg_command(
    survivors: Annotated[
        str, typer.Option("--survivors", "-s", help="Survivors per period: N0,N1,N2,…")
    ],
    horizon: Annotated[
        int | None,
        typer.Option(min=1, max=1000, help="Periods to project (default: observed + 5)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Fit the shifted-beta-geometric model to survivor counts; print α, β, LL and projections."""
    from revintel.clv.sbg import check_survivors, fit_sbg

    counts = check_survivors(_parse_survivors(survivors), field="--survivors")
    result = fit_sbg(counts).as_dict(horizon)
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    rows = [
        {
            "period": t,
            "observed": result["observed_survivors"][t]
            if t < len(result["observed_survivors"])
            else None,
            "projected": round(n, 1),
            "survival": round(s, 4),
            "retention": None if t == 0 else round(result["retention"][t - 1], 4),
        }
        for t, (n, s) in enumerate(
            zip(result["projected_survivors"], result["survival"], strict=True)
        )
    ]
    if fmt is OutputFormat.csv:
        emit(rows, fmt)
        return
    life = result["expected_lifetime"]
    emit(
        [
            {"measure": "alpha", "value": round(result["alpha"], 4)},
            {"measure": "beta", "value": round(result["beta"], 4)},
            {"measure": "log_likelihood", "value": f"{result['log_likelihood']:.2f}"},
            {"measure": "periods observed", "value": result["n_periods"]},
            {"measure": "mean churn α/(α+β)", "value": round(result["mean_churn_probability"], 4)},
            {"measure": "expected lifetime", "value": "infinite (α ≤ 1)" if life is None else life},
        ],
        fmt,
        title="Shifted-beta-geometric fit (Fader & Hardie 2007)",
    )
    emit(rows, fmt, title="Observed and projected survivors")


@clv_app.command()
def report(
    by: Annotated[
        str, typer.Option("--by", help="cohort (signup month), quarter, segment, plan or channel.")
    ] = "cohort",
    as_of: AsOfOption = None,
    discount_rate: DiscountOption = 0.10,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """CLV per group: sBG α/β, discounted expected lifetime, ARPA × margin × DEL, simple LTV."""
    from revintel.clv import service

    result = service.report(
        context(home), by=service._check_by(by), as_of=as_of, discount_rate=discount_rate
    ).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    columns = (
        "group", "customers", "churned", "alpha", "beta", "mean_monthly_churn",
        "retention_12m", "del_months", "arpa", "gross_margin", "clv", "simple_ltv", "reason",
    )  # fmt: skip
    rows = [{c: r.get(c) for c in columns} for r in [result["overall"], *result["groups"]]]
    rows = [_round(r) for r in rows]
    if fmt is OutputFormat.table:
        for note in result["notes"]:
            typer.secho(f"Note: {note}", fg="yellow", err=True)
        p = result["pricing"]
        typer.echo(
            f"Month {result['month']}; discount {result['discount_rate']['annual']:.0%}/yr "
            f"({result['discount_rate']['monthly']:.4%}/month); simple LTV (ARPA × margin ÷ "
            f"6-month logo churn) = {_money(p['simple_ltv'], p['simple_ltv_reason'])}"
        )
    emit(rows, fmt, title=f"Customer lifetime value by {by}, {result['month']}")


@clv_app.command()
def customer(
    customer_id: Annotated[str, typer.Argument(help="The customer's id.")],
    by: Annotated[str, typer.Option("--by", help="Group whose sBG curve is used.")] = "segment",
    as_of: AsOfOption = None,
    discount_rate: DiscountOption = 0.10,
    horizon: Annotated[
        int, typer.Option("--prediction-horizon", min=1, help="Months the churn scores cover.")
    ] = 3,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One customer's remaining CLV, from their churn score or their group's sBG curve."""
    from revintel.clv import service

    row = service.customer_value(
        context(home),
        customer_id,
        by=service._check_by(by),
        as_of=as_of,
        discount_rate=discount_rate,
        prediction_horizon=horizon,
    ).to_dict()
    if fmt is OutputFormat.json:
        emit(row, fmt)
        return
    emit([{"measure": k, "value": v} for k, v in _round(row).items()], fmt, title=customer_id)


@clv_app.command()
def rfm(
    as_of: AsOfOption = None,
    customers: Annotated[
        bool, typer.Option("--customers", help="List every customer instead of the segments.")
    ] = False,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """RFM segments from successful payments, with count, monetary share and strategy."""
    from revintel.clv import service

    result = service.rfm_analysis(context(home), as_of=as_of)
    frame = result.customers if customers else result.segments
    rows = [_round(r) for r in frame.to_dicts()]
    if fmt is OutputFormat.json:
        emit({"as_of": result.as_of, "customers" if customers else "segments": rows}, fmt)
        return
    emit(rows, fmt, title=f"RFM {'customers' if customers else 'segments'} as of {result.as_of}")
