"""``revintel churn``: train, evaluate, score, explain, thresholds and the model registry
(docs/churn.md). Every command only formats what ``revintel.churn.service`` returns."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit
from revintel.core.csv_export import to_csv_bytes
from revintel.core.errors import RevintelError
from revintel.core.vocabulary import RISK_TIERS

churn_app = typer.Typer(
    help="Churn prediction: train, evaluate, score, explain, thresholds and ROI, model registry.",
    no_args_is_help=True,
)
models_app = typer.Typer(
    help="The churn model registry: list, compare, promote, reject, roll back, export, import.",
    no_args_is_help=True,
)
churn_app.add_typer(models_app, name="models")

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
VersionOption = Annotated[
    str | None,
    typer.Option("--version", "-v", help="Model version (default: the production model)."),
]
HorizonOption = Annotated[
    int | None,
    typer.Option(
        "--horizon", min=1, max=3, help="Horizon in months, 1 or 3 (default: the settings')."
    ),
]


class HorizonChoice(StrEnum):
    one = "1"
    three = "3"
    both = "both"


class PromoteChoice(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"
    if_better = "if-better"


class ThresholdChoice(StrEnum):
    manual = "manual"
    max_f1 = "max-f1"
    max_net_value = "max-net-value"
    recall_at_precision = "recall-at-precision"
    max_net_value_within_capacity = "max-net-value-within-capacity"


class KindChoice(StrEnum):
    warehouse = "warehouse"
    table = "table"


KEY_METRICS = ("roc_auc", "pr_auc", "accuracy", "precision", "recall", "f1", "brier")


def _plain(value: Any) -> Any:
    """JSON-able (``revintel.core.jsonable``), imported when a command prints."""
    from revintel.core.jsonable import jsonable

    return jsonable(value)


def _round(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (round(v, 1) if abs(v) >= 100 else round(v, 4)) if isinstance(v, float) else v
        for k, v in row.items()
    }


def _rows(data: Any) -> list[dict[str, Any]]:
    return [_round(r) for r in _plain(data)]


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[float, str], None] | None]:
    """A rich progress bar on stderr fed by the service's ``progress(fraction, message)``."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task("Starting", total=1.0)

        def update(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message)

        yield update


def _metric_rows(
    metrics: Mapping[str, Any], baseline: Mapping[str, Any] | None, oracle: float | None
) -> list[dict[str, Any]]:
    rows = [
        {
            "metric": k,
            "model": metrics.get(k),
            "logistic baseline": (baseline or {}).get(k),
        }
        for k in (*KEY_METRICS, "lift_top_decile", "capture_top_decile")
    ]
    if oracle is not None:
        rows.append({"metric": "oracle roc_auc", "model": oracle, "logistic baseline": None})
    return [_round(r) for r in rows]


# -- train and evaluate ---------------------------------------------------------------------------
def _print_report(report: Any) -> None:
    title = f"{report.version}: held-out metrics ({report.rows.get('test', 0):,} rows)"
    rows = _metric_rows(report.metrics, report.baseline, report.oracle_roc_auc)
    emit(rows, OutputFormat.table, title=title)
    top = [{"feature": f, "mean |SHAP|": v} for f, v in report.importance[:10]]
    emit(_rows(top), OutputFormat.table, title="Top features")
    if report.dropped:
        for column, reason in report.dropped.items():
            typer.secho(f"Note: dropped {column}: {reason}", fg="yellow", err=True)
    typer.echo(f"{report.version} ({report.status}): {report.decision}")


@churn_app.command()
def train(
    horizon: Annotated[
        HorizonChoice, typer.Option("--horizon", help="Months ahead: 1, 3 or both.")
    ] = HorizonChoice.both,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="Train on this customer table (CSV or Parquet) instead."),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="The --table column that says who churned.")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id", help="The --table column identifying customers.")
    ] = None,
    promote: Annotated[
        PromoteChoice,
        typer.Option(
            "--promote",
            help="auto: promote when nothing is in production; if-better: when it beats it.",
        ),
    ] = PromoteChoice.auto,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Train LightGBM (and the logistic baseline) on the warehouse or on a customer table."""
    from revintel.churn import service

    ctx = context(home)
    mode = promote.value.replace("-", "_")
    if table is not None and target is None:
        raise RevintelError("--table needs --target COLUMN (the column that says who churned)")
    with _progress(fmt is not OutputFormat.json) as progress:
        if table is not None:
            assert target is not None
            reports = {
                "table": service.train_table_model(
                    ctx, table, target, id_column, progress=progress, promote=mode
                )
            }
        else:
            horizons = [1, 3] if horizon is HorizonChoice.both else [int(horizon.value)]
            reports = {
                f"{h}m": service.train_warehouse_model(ctx, h, progress=progress, promote=mode)
                for h in horizons
            }
    if fmt is OutputFormat.json:
        summaries = {k: _plain(r.summary()) for k, r in reports.items()}
        emit(summaries["table"] if table is not None else summaries, fmt)
        return
    if fmt is OutputFormat.csv:
        emit([_plain(r.summary()) | {"rows": None} for r in reports.values()], fmt)
        return
    for report in reports.values():
        _print_report(report)


@churn_app.command()
def evaluate(
    version: VersionOption = None,
    horizon: HorizonOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Held-out metrics of a model beside the baseline and the oracle, confusion matrix,
    top-decile lift and capture, calibration table."""
    from revintel.churn import service

    ctx = context(home)
    record = service.resolve_model(ctx, version, horizon)
    insights = service.model_insights(ctx, record.version)
    metrics = insights.metrics
    if fmt is OutputFormat.json:
        emit(_plain({"version": record.version, **insights.to_dict()}), fmt)
        return
    if fmt is OutputFormat.csv:
        emit(_metric_rows(metrics, metrics.get("baseline"), metrics.get("oracle_roc_auc")), fmt)
        return
    title = f"{record.version} ({record.status}): held-out metrics ({metrics.get('n', 0):,} rows)"
    rows = _metric_rows(metrics, metrics.get("baseline"), metrics.get("oracle_roc_auc"))
    emit(rows, fmt, title=title)
    cm = metrics.get("confusion") or {}
    if cm:
        emit(
            [
                {
                    "actual": "churn",
                    "predicted churn": cm.get("tp"),
                    "predicted stay": cm.get("fn"),
                },
                {"actual": "stay", "predicted churn": cm.get("fp"), "predicted stay": cm.get("tn")},
            ],
            fmt,
            title=f"Confusion matrix at threshold {metrics.get('threshold')}",
        )
    if metrics.get("calibration"):
        emit(_rows(metrics["calibration"]), fmt, title="Calibration (deciles of predicted risk)")
    top = [i.to_row() for i in insights.importance[:10]]
    emit(_rows(top), fmt, title="Top features")


# -- scoring and predictions ----------------------------------------------------------------------
@churn_app.command()
def score(
    version: VersionOption = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Score this feature table (CSV or Parquet).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="With --file: write the scores to this CSV.")
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Score every customer into the predictions table, or score a feature file."""
    from revintel.app import churn as app_churn
    from revintel.churn import service

    ctx = context(home)
    if file is None:
        if out is not None:
            raise RevintelError("--out needs --file (warehouse scores go to `predictions`)")
        with _progress(fmt is OutputFormat.table) as progress:
            run = app_churn.score_warehouse(ctx, version, progress=progress)
        result = {
            "version": run.version,
            "scored": run.scored,
            "months": run.months,
            "seconds": round(run.seconds, 2),
        }
        if fmt is OutputFormat.json:
            emit(result, fmt)
            return
        typer.echo(
            f"Scored {run.scored:,} customers with {run.version} into `predictions` "
            f"({len(run.months)} months: {', '.join(run.months)}) in {run.seconds:.1f} s."
        )
        return
    scores = service.score_file(ctx, file, version)
    if out is not None:
        out.write_bytes(to_csv_bytes(scores))  # formula-like text escaped for spreadsheets
        typer.echo(f"Wrote {scores.height:,} scores to {out}.")
        return
    emit(_rows(scores), fmt, title=f"{file.name}: {scores.height:,} customers scored")


@churn_app.command()
def predictions(
    tier: Annotated[
        list[str] | None,
        typer.Option(
            "--tier", help=f"{', '.join(RISK_TIERS[:-1])} or {RISK_TIERS[-1]} (repeatable)."
        ),
    ] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", min=0, max=1)] = None,
    max_score: Annotated[float | None, typer.Option("--max-score", min=0, max=1)] = None,
    search: Annotated[
        str | None, typer.Option("--search", help="Text in the account id or name.")
    ] = None,
    segment: Annotated[
        list[str] | None, typer.Option("--segment", help="Customer segment (repeatable).")
    ] = None,
    plan: Annotated[list[str] | None, typer.Option("--plan", help="Plan (repeatable).")] = None,
    owner: Annotated[
        list[str] | None, typer.Option("--owner", help="Account owner (repeatable).")
    ] = None,
    driver: Annotated[
        str | None, typer.Option("--driver-segment", help="e.g. 'Payment issues'.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="At most this many rows.")
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The latest prediction per customer, riskiest first: the CRM export (--format csv)."""
    from revintel.churn import service

    ctx = context(home)
    latest = service.current_predictions(ctx)
    frame = service.filter_predictions(
        latest,
        tiers=tier,
        min_score=min_score,
        max_score=max_score,
        search=search,
        segment=segment,
        plan=plan,
        owner=owner,
        driver_segment=driver,
    )
    total = frame.height
    if limit is None and fmt is OutputFormat.table and total > 50:
        limit = 50
        typer.secho(
            f"Note: showing the 50 riskiest of {total:,}; use --limit or --format csv.",
            fg="yellow",
            err=True,
        )
    if limit is not None:
        frame = frame.head(limit)
    if fmt is OutputFormat.table:
        typer.secho(service.overview(ctx, latest).tier_rule, dim=True, err=True)
        columns = (
            "account_id", "account_name", "segment", "plan_type", "owner", "churn_risk_score",
            "risk_tier", "prediction", "top_factor_label", "driver_segment",
        )  # fmt: skip
        frame = frame.select([c for c in columns if c in frame.columns])
    emit(_rows(frame), fmt, title=f"Churn predictions ({frame.height:,} of {total:,})")


@churn_app.command()
def segments(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Driver segments (payment, support, engagement, revenue, renewal due): customers, risk,
    action."""
    from revintel.churn import service

    rows = [s.to_dict() for s in service.driver_segments(context(home))]
    emit(_rows(rows), fmt, title="Churn driver segments")


def _parse_changes(pairs: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise RevintelError(f"--set {pair!r}: expected feature=value, e.g. late_payments_3m=0")
        raw = text.strip()
        value: Any
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            try:
                value = float(raw)
            except ValueError:
                value = raw
        changes[name.strip()] = value
    return changes


@churn_app.command()
def explain(
    account_id: Annotated[str, typer.Argument(help="The customer's account_id.")],
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="Factors shown.")] = 10,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="What-if: feature=value (repeatable)."),
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Why a customer is at risk: top factors, plain-words sentences, recommended actions;
    with --set, the probability after those changes."""
    from revintel.churn import service

    ctx = context(home)
    if set_:
        result = service.customer_what_if(ctx, account_id, _parse_changes(set_))
        if fmt is OutputFormat.json:
            emit(_plain(result.to_dict()), fmt)
            return
        emit(
            [
                _round(
                    {
                        "account_id": account_id,
                        "probability": result.probability,
                        "new_probability": result.new_probability,
                        "delta": result.delta,
                    }
                )
            ],
            fmt,
            title="What-if: " + ", ".join(f"{k} = {v}" for k, v in result.changes.items()),
        )
        if result.suggestions and fmt is OutputFormat.table:
            emit(_rows(result.suggestions), fmt, title="Changes that lower the risk most")
        return
    detail = service.customer(ctx, account_id, top=top)
    if fmt is OutputFormat.json:
        emit(_plain(detail.to_dict()), fmt)
        return
    factors = detail.explanation.factors
    columns = ("label", "value", "retained_avg", "churned_avg", "z_score", "contribution")
    rows = [{c: f.get(c) for c in columns} for f in factors]
    if fmt is OutputFormat.csv:
        emit(_rows(rows), fmt)
        return
    typer.echo(
        f"{account_id}"
        + (f" ({detail.account_name})" if detail.account_name else "")
        + f": churn risk {detail.churn_risk_score:.1%}, tier {detail.risk_tier}, "
        f"model {detail.model_version}"
    )
    emit(_rows(rows), fmt, title="Top risk factors (contribution in log-odds)")
    for factor in factors:
        if factor.get("sentence"):
            typer.echo(f"  • {factor['sentence']}")
    if detail.recommended_actions:
        typer.echo("Recommended actions:")
        for action in detail.recommended_actions:
            typer.echo(f"  → {action}")


# -- thresholds -----------------------------------------------------------------------------------
@churn_app.command()
def threshold(
    version: VersionOption = None,
    horizon: HorizonOption = None,
    cost: Annotated[
        float | None, typer.Option("--cost", min=0, help="Cost of one retention action.")
    ] = None,
    value: Annotated[
        float | None,
        typer.Option("--value", min=0, help="Value of a saved customer (default: their CLV)."),
    ] = None,
    success_rate: Annotated[
        float | None, typer.Option("--success-rate", min=0, max=1, help="Share of churners saved.")
    ] = None,
    min_precision: Annotated[
        float | None,
        typer.Option("--min-precision", min=0, max=1, help="For recall-at-precision."),
    ] = None,
    max_contacts: Annotated[
        int | None,
        typer.Option(
            "--max-contacts",
            min=0,
            help="The most customers the retention team can contact: adds the max net value "
            "within that capacity (and recommends it).",
        ),
    ] = None,
    at: Annotated[
        list[float] | None,
        typer.Option("--at", min=0, max=1, help="Also give every figure at this threshold."),
    ] = None,
    apply: Annotated[
        ThresholdChoice | None,
        typer.Option(
            "--apply", help="Save a threshold: manual (with --value-threshold) or chosen."
        ),
    ] = None,
    value_threshold: Annotated[
        float | None,
        typer.Option("--value-threshold", min=0, max=1, help="The threshold for --apply manual."),
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Thresholds with churners caught, false alarms, cost, expected saves and net value; the
    max-F1, max-net-value and recall-at-precision choices; --apply saves one."""
    from revintel.churn import service

    ctx = context(home)
    record = service.resolve_model(ctx, version, horizon)
    if apply is not None:
        method = apply.value.replace("-", "_")
        if method == "manual" and value_threshold is None:
            raise RevintelError("--apply manual needs --value-threshold T (between 0 and 1)")
        config = service.apply_threshold(
            ctx,
            value_threshold if method == "manual" else None,
            method=method,
            version=record.version,
            min_precision=min_precision,
            cost_per_action=cost,
            value_per_save=value,
            success_rate=success_rate,
            max_contacts=max_contacts,
        )
        if fmt is OutputFormat.json:
            emit({"threshold": config.threshold, "method": config.threshold_method}, fmt)
        else:
            typer.echo(f"Applied threshold {config.threshold:.4f} ({config.threshold_method}).")
        return
    analysis = service.threshold_analysis(
        ctx,
        record.version,
        cost_per_action=cost,
        value_per_save=value,
        success_rate=success_rate,
        min_precision=min_precision,
        max_contacts=max_contacts,
        at=at or (),
    )
    if fmt is OutputFormat.json:
        emit(_plain(analysis.to_dict()), fmt)
        return
    if fmt is OutputFormat.csv:
        emit(_rows(analysis.table), fmt)
        return
    emit(
        _rows(analysis.table),
        fmt,
        title=f"{analysis.version}: thresholds on {analysis.held_out_rows:,} held-out "
        f"rows ({analysis.held_out_churners:,} churners)",
    )
    if analysis.at:
        emit(_rows([s.to_dict() for s in analysis.at]), fmt, title="At the thresholds asked for")
    choices = [{"choice": k, **v.to_dict()} for k, v in analysis.choices.items()]
    emit(_rows(choices), fmt, title=f"Optimal thresholds (current: {analysis.current_threshold})")
    if analysis.capacity is not None:
        cap = analysis.capacity
        typer.echo(
            f"Capacity: {cap.max_contacts:,} contacts of {cap.basis} → at most "
            f"{cap.max_flagged:,} of the {analysis.held_out_rows:,} held-out customers flagged."
        )
    emit(
        _rows([{"input": k, "value": v} for k, v in analysis.inputs.to_dict().items()]),
        fmt,
        title="ROI inputs",
    )


# -- the registry ---------------------------------------------------------------------------------
def _record_row(record: Any) -> dict[str, Any]:
    m = record.metrics
    return _round(
        {
            "version": record.version,
            "kind": record.kind,
            "horizon": record.horizon_months,
            "status": record.status,
            "created_at": record.created_at.strftime("%Y-%m-%d %H:%M"),
            "training": f"{record.training_from}..{record.training_to}"
            if record.training_from
            else None,
            "source": record.source,
            "roc_auc": m.get("roc_auc"),
            "pr_auc": m.get("pr_auc"),
            "brier": m.get("brier"),
        }
    )


@models_app.command("list")
def list_command(
    kind: Annotated[KindChoice | None, typer.Option("--kind")] = None,
    horizon: HorizonOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Registered models, newest first."""
    from revintel.churn import registry

    records = registry.list_models(
        context(home), kind=kind.value if kind else None, horizon=horizon
    )
    if fmt is OutputFormat.json:
        emit(_plain([r.as_dict(reference=False) for r in records]), fmt)
        return
    emit([_record_row(r) for r in records], fmt, title=f"Churn models ({len(records)})")


@models_app.command("show")
def show_command(
    version: Annotated[str, typer.Argument()],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One model: status, training window, data hash, parameters, features, metrics."""
    from revintel.churn import registry

    record = registry.get(context(home), version)
    if fmt is OutputFormat.json:
        emit(_plain(record.as_dict(reference=False)), fmt)
        return
    rows = [{"field": k, "value": v} for k, v in _record_row(record).items()]
    rows += [
        {"field": "promoted_at", "value": record.promoted_at},
        {"field": "data_hash", "value": record.data_hash},
        {"field": "features", "value": len(record.features)},
        {"field": "params", "value": ", ".join(f"{k}={v}" for k, v in record.params.items())},
        {"field": "notes", "value": record.notes},
    ]
    rows += [{"field": k, "value": record.metrics.get(k)} for k in KEY_METRICS]
    emit(_rows(rows), fmt, title=f"Model {version}")


@models_app.command("compare")
def compare_command(
    a: Annotated[str, typer.Argument()],
    b: Annotated[str, typer.Argument()],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Two versions side by side: metrics with deltas (b − a), importance, confusion matrices.
    Threshold-free measures first; precision, recall, F1 and the confusion matrices of each at
    its own max-F1 threshold."""
    from revintel.churn import service

    result = service.compare_models(context(home), a, b)
    if fmt is OutputFormat.json:
        emit(_plain(result.to_dict()), fmt)
        return
    emit(
        _rows(result.metrics),
        fmt,
        title=f"Metrics: a = {a}, b = {b} (precision, recall, F1 at each one's max-F1 threshold)",
    )
    if fmt is OutputFormat.table:
        emit(_rows(result.importance), fmt, title="Importance (mean |SHAP|)")
        confusion = result.confusion
        emit(
            _rows([{"model": a, **(confusion["a"] or {})}, {"model": b, **(confusion["b"] or {})}]),
            fmt,
            title="Confusion matrices",
        )


@models_app.command("promote")
def promote_command(version: Annotated[str, typer.Argument()], home: HomeOption = None) -> None:
    """Make a version the production model of its kind and horizon (the previous is archived)."""
    from revintel.churn import registry

    record = registry.promote(context(home), version)
    typer.echo(f"{record.version} is now {record.status}.")


@models_app.command("reject")
def reject_command(
    version: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason", help="Why it is rejected (kept in notes).")],
    home: HomeOption = None,
) -> None:
    """Reject a candidate model, with a reason."""
    from revintel.churn import registry

    record = registry.reject(context(home), version, reason)
    typer.echo(f"{record.version} is now {record.status}.")


@models_app.command("rollback")
def rollback_command(
    horizon: HorizonOption = None,
    kind: Annotated[KindChoice, typer.Option("--kind")] = KindChoice.warehouse,
    home: HomeOption = None,
) -> None:
    """Re-promote the previous production model (the current one is marked rejected)."""
    from revintel.app import settings as app_settings
    from revintel.churn import registry

    ctx = context(home)
    if kind is KindChoice.table:
        horizon = None
    elif horizon is None:
        horizon = app_settings.load(ctx.settings, app_settings.CHURN).default_horizon
    record = registry.rollback(ctx, kind.value, horizon)
    typer.echo(f"Rolled back: {record.version} is {record.status} again.")


@models_app.command("export")
def export_command(
    version: Annotated[str, typer.Argument()],
    path: Annotated[Path, typer.Argument(help="The .skops file to write.")],
    home: HomeOption = None,
) -> None:
    """Write a model and its registry metadata to one .skops file."""
    from revintel.churn import registry

    written = registry.export_model(context(home), version, path)
    typer.echo(f"Exported {version} to {written}.")


@models_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="A .skops file written by `models export`.")],
    home: HomeOption = None,
) -> None:
    """Register an exported model file as a candidate (only trusted types are loaded)."""
    from revintel.churn import registry

    record = registry.import_model(context(home), path)
    typer.echo(f"Imported {path.name} as {record.version} ({record.status}).")


@models_app.command("drift")
def drift_command(
    version: Annotated[str | None, typer.Argument(help="Default: the production model.")] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """PSI per feature (latest month vs training) and the data-quality report."""
    from revintel.churn import service

    result = service.drift(context(home), version)
    if fmt is OutputFormat.json:
        emit(_plain(result.to_dict()), fmt)
        return
    title = f"{result.version}: drift, {result.month} vs training {result.training}"
    emit(_rows(result.drift), fmt, title=title)
    if fmt is OutputFormat.table:
        emit(_rows(result.quality), fmt, title=f"Data quality, {result.month}")


@models_app.command("retrain")
def retrain_command(
    horizon: HorizonOption = None,
    force: Annotated[bool, typer.Option("--force", help="Retrain even when not due.")] = False,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Retrain when due (monthly or on drift); promote only when better by the margin."""
    from revintel.churn import service

    with _progress(fmt is not OutputFormat.json) as progress:
        result = service.retrain(context(home), horizon, force=force, progress=progress)
    if fmt is OutputFormat.json:
        emit(_plain(result.to_dict()), fmt)
        return
    if not result.retrained:
        typer.echo(f"Not retrained: {result.reason} (production: {result.production}).")
        return
    typer.echo(
        f"Retrained ({result.reason}): {result.candidate} — {result.decision}; "
        f"production is {result.production}."
    )


from revintel.cli import churn_trends as _churn_trends  # noqa: E402,F401  (registers `trends`)
