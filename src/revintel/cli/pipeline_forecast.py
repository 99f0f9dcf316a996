"""``revintel pipeline`` commands: forecast, backtest, train (docs/pipeline.md: Forecasts, Forecast
accuracy backtest, Close probability)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit
from revintel.cli.pipeline import (
    FormatOption,
    HomeOption,
    OwnerOption,
    SegmentOption,
    pipeline_app,
)

FORECAST_METHODS = ("stage_weighted", "probability_weighted", "categories", "time_series")


def _money(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def _range(e: dict[str, Any], level: int) -> str:
    lo, hi = e.get(f"low_{level}"), e.get(f"high_{level}")
    return "" if lo is None or hi is None else f"{lo:,.0f} – {hi:,.0f}"


def _share(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def _flat(row: dict[str, Any], key: str, value: Any) -> list[dict[str, Any]]:
    out = []
    for method in FORECAST_METHODS:
        e = row[method]
        out.append(
            {
                key: value,
                "method": method,
                "forecast": e["value"],
                "low_80": e["low_80"],
                "high_80": e["high_80"],
                "low_95": e["low_95"],
                "high_95": e["high_95"],
            }
        )
    return out


@pipeline_app.command()
def forecast(
    months: Annotated[
        int, typer.Option("--months", min=1, max=6, help="Calendar months ahead, 1-6.")
    ] = 6,
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Bookings forecast by method for the next months and 30/60/90 days, with 80%/95% intervals."""
    from revintel.pipeline.service import forecasts

    result = forecasts.monthly_forecast(
        context(home), months=months, owner=owner, segment=segment
    ).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    rows = [r for m in result["months"] for r in _flat(m, "period", m["month"])]
    rows += [r for w in result["windows"] for r in _flat(w, "period", f"{w['horizon_days']} days")]
    if fmt is OutputFormat.csv:
        emit(rows, fmt)
        return
    table = [
        {
            "period": r["period"],
            "method": r["method"],
            "forecast": _money(r["forecast"]),
            "80% interval": _range(r, 80),
            "95% interval": _range(r, 95),
        }
        for r in rows
    ]
    emit(
        table,
        fmt,
        keys=2,
        title=f"Bookings forecast as of {result['as_of']} ({result['open_deals']} open deals)",
    )
    model = result["model"]
    if model:
        typer.echo(
            f"Close-probability model: {model['method']}, held-out ROC AUC {model['roc_auc']}, "
            f"Brier {model['brier']}"
            + (f", oracle AUC {model['oracle_auc']}" if model.get("oracle_auc") else "")
        )
    for note in result["notes"]:
        typer.echo(f"Note: {note}")


@pipeline_app.command()
def backtest(
    detail: Annotated[
        bool, typer.Option("--detail", help="Print every snapshot's forecast and actual.")
    ] = False,
    owner: OwnerOption = None,
    segment: SegmentOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Forecast accuracy at every past month-start: MAPE, bias and coverage per method vs naive."""
    from revintel.pipeline.service import forecasts

    result = forecasts.backtest(context(home), owner=owner, segment=segment).to_dict()
    rows = result["points"] if detail else result["accuracy"]
    if fmt is not OutputFormat.table:
        emit(rows, fmt)
        return
    if detail:
        emit(rows, fmt, title="Backtest: forecast and actual per snapshot")
        return
    emit(
        [
            {
                "method": r["method"],
                "days": r["horizon_days"],
                "MAPE %": "n/a" if r["mape"] is None else r["mape"],
                "bias %": "n/a" if r["bias"] is None else r["bias"],
                "cover 80/95": f"{_share(r['coverage_80'])}/{_share(r['coverage_95'])}",
                "n": r["snapshots"],
            }
            for r in rows
        ],
        fmt,
        title=f"Forecast accuracy backtest ({result['snapshots']} month-starts, data as of "
        f"{result['as_of']})",
    )
    for note in result["notes"]:
        typer.echo(f"Note: {note}")


@pipeline_app.command()
def train(
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth", help="The generator's truth folder (default: HOME/demo/truth if present)."
        ),
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Train the close-probability model (time split, calibrated); print held-out AUC and Brier."""
    from revintel.pipeline.service import forecasts

    result = forecasts.train(context(home), truth_dir=truth).to_dict()
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    if fmt is OutputFormat.csv:
        emit(result["calibration"], fmt)
        return
    emit(
        [
            {"measure": "method (lower calibration Brier)", "value": result["method"]},
            {"measure": "held-out ROC AUC", "value": result["roc_auc"]},
            {"measure": "held-out Brier", "value": result["brier"]},
            {"measure": "oracle AUC (true win probabilities)", "value": result["oracle_auc"]},
            {
                "measure": "static-feature model AUC (like for like)",
                "value": result["static_roc_auc"],
            },
            {
                "measure": "train / calibration / test deals",
                "value": f"{result['train_deals']} / {result['calibration_deals']} / "
                f"{result['test_deals']}",
            },
            {"measure": "test rows (deal × month-start)", "value": result["test_rows"]},
            {"measure": "test deals closed from", "value": result["test_from"]},
            {"measure": "saved to", "value": result["model_path"]},
        ],
        fmt,
        title="Close-probability model",
    )
    emit(result["calibration"], fmt, title="Calibration on held-out deals")
