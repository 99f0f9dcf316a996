"""``revintel segments``: the command group (docs/retention.md, Segments).

Each command parses its options, calls one function of :mod:`revintel.app.retention.segments`
and prints the result (``--format table|json|csv``). A rule that does not parse is an error that
names its position (exit code 1).
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import context
from revintel.cli.output import OutputFormat, emit

segments_app = typer.Typer(
    help="Customer segments: preview a rule, save, compare, discover clusters, track over time.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Data folder (default: $REVINTEL_HOME or a per-user data dir)."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
RuleOption = Annotated[
    str | None,
    typer.Option(
        "--rule",
        "-r",
        help="A segment rule, e.g. 'mrr > 10k and churn_risk > 0.7 and not has_account_manager'.",
    ),
]
BuilderOption = Annotated[
    Path | None,
    typer.Option("--builder", help="A JSON file holding the builder form of the rule instead."),
]


def _author() -> str:
    try:
        return getpass.getuser() or "cli"
    except Exception:  # no user name in this environment
        return "cli"


def _builder(path: Path | None) -> Any:
    if path is None:
        return None
    from revintel.retention.rules import RuleError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuleError(f"--builder {path}: expected a readable JSON file ({exc})") from exc


def _money(x: float | None) -> str:
    return "" if x is None else f"{x:,.2f}"


def _share(x: float | None) -> str:
    return "" if x is None else f"{x:.1%}"


@segments_app.command()
def preview(
    rule: RuleOption = None,
    builder: BuilderOption = None,
    sample: Annotated[int, typer.Option(min=0, max=1000, help="Sample rows to show.")] = 10,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """How many customers a rule selects, their MRR, ARR and average churn risk, and a sample."""
    from revintel.app.retention import segments

    result = segments.preview(context(home), rule, builder=_builder(builder), sample=sample)
    if fmt is not OutputFormat.table:
        emit(result.to_dict(), fmt, rows_key="sample" if fmt is OutputFormat.csv else None)
        return
    typer.echo(f"Rule: {result.rule}")
    typer.echo(
        f"As of {result.as_of}: {result.count:,} of {result.total_customers:,} customers "
        f"({_share(result.share_of_customers)}), MRR {_money(result.mrr)} "
        f"({_share(result.share_of_mrr)} of MRR), ARR {_money(result.arr)}, average churn risk "
        f"{'n/a' if result.avg_risk is None else f'{result.avg_risk:.1%}'}"
    )
    for note in result.notes:
        typer.secho(f"Note: {note}", fg="yellow", err=True)
    if result.sample:
        emit(result.sample, fmt, title=f"Largest {len(result.sample)} by MRR")


@segments_app.command()
def features(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """The features a rule may name, with their kind, label and source."""
    from revintel.app.retention import segments

    result = segments.feature_columns(context(home))
    if fmt is OutputFormat.json:
        emit(result, fmt)
        return
    rows = [
        {
            "name": c["name"],
            "kind": c["kind"],
            "label": c["label"],
            "source": c["source"],
            "missing": c["missing"],
            "values": ", ".join(map(str, c.get("values", [])))[:60],
        }
        for c in result["columns"]
    ]
    emit(rows, fmt, title=f"Segment features as of {result['as_of']}")


@segments_app.command()
def save(
    name: Annotated[str, typer.Argument(help="The segment's name (unique).")],
    rule: RuleOption = None,
    builder: BuilderOption = None,
    description: Annotated[str | None, typer.Option(help="What the segment is for.")] = None,
    private: Annotated[bool, typer.Option("--private", help="Not shared with others.")] = False,
    author: Annotated[str | None, typer.Option(help="Who saves it (default: $USER).")] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Save a rule as a named segment (a bad rule saves nothing)."""
    from revintel.app.retention import segments

    seg = segments.create_segment(
        context(home),
        name,
        rule=rule,
        builder=_builder(builder),
        description=description,
        shared=not private,
        created_by=author or _author(),
    )
    if fmt is OutputFormat.table:
        typer.echo(f"Saved segment {seg.id}: {seg.name} ({seg.rule})")
        return
    emit(seg.to_dict(), fmt)


@segments_app.command("list")
def list_command(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Saved segments with their current count, MRR and average churn risk."""
    from revintel.app.retention import segments

    rows = [s.to_dict() for s in segments.list_segments(context(home))]
    if fmt is OutputFormat.json:
        emit(rows, fmt)
        return
    cols = ("id", "name", "count", "mrr", "avg_risk", "rule", "created_by", "shared", "error")
    emit([{c: r[c] for c in cols} for r in rows], fmt, title="Saved segments")


@segments_app.command()
def show(
    segment_id: Annotated[int, typer.Argument(help="The segment's id.")],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One saved segment: its rule and what it selects now."""
    from revintel.app.retention import segments

    ctx = context(home)
    seg = segments.get_segment(ctx, segment_id)
    result = segments.preview(ctx, seg.rule, sample=10)
    if fmt is OutputFormat.json:
        emit({"segment": seg.to_dict(), "preview": result.to_dict()}, fmt)
        return
    typer.echo(f"Segment {seg.id}: {seg.name} (by {seg.created_by}, {seg.created_at[:10]})")
    if seg.description:
        typer.echo(seg.description)
    typer.echo(f"Rule: {seg.rule}")
    typer.echo(
        f"As of {result.as_of}: {result.count:,} customers, MRR {_money(result.mrr)}, "
        f"average churn risk {'n/a' if result.avg_risk is None else f'{result.avg_risk:.1%}'}"
    )
    if result.sample:
        emit(result.sample, fmt, title="Largest by MRR")


@segments_app.command()
def delete(
    segment_id: Annotated[int, typer.Argument(help="The segment's id.")],
    home: HomeOption = None,
) -> None:
    """Delete a saved segment."""
    from revintel.app.retention import segments

    gone = segments.delete_segment(context(home), segment_id)
    typer.echo(f"Deleted segment {gone.id}: {gone.name}")


@segments_app.command()
def compare(
    segments_: Annotated[
        list[str], typer.Argument(metavar="ID_OR_RULE...", help="2 or 3 segment ids or rules.")
    ],
    top: Annotated[int, typer.Option(min=1, max=100, help="Features that differ most.")] = 10,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """2-3 segments side by side: size, MRR, risk, churn by month, features that differ most."""
    from revintel.app.retention import segments

    result = segments.compare(context(home), segments_, top=top)
    data = result.to_dict()
    if fmt is OutputFormat.json:
        emit(data, fmt)
        return
    summary = [
        {
            "segment": s["label"],
            "customers": s["count"],
            "mrr": s["mrr"],
            "avg_risk": s["avg_risk"],
            "avg_monthly_churn": s["average_monthly_churn"],
            "rule": s["rule"],
        }
        for s in data["segments"]
    ]
    emit(summary, fmt, title=f"Segments as of {result.as_of}")
    months = [m["month"] for m in data["segments"][0]["churn_by_month"]]
    churn = [
        {
            "month": m,
            **{s["label"]: s["churn_by_month"][i]["churn_rate"] for s in data["segments"]},
        }
        for i, m in enumerate(months)
    ]
    emit(churn, fmt, title="Monthly logo churn of current members")
    diffs = [
        {
            "feature": d["feature"],
            "measure": d["measure"],
            "effect": d["effect"],
            "between": " vs ".join(d["between"]),
            **{k: (v if not isinstance(v, dict) else f"{v['top']} {v['share']:.0%}")
               for k, v in d["values"].items()},
        }
        for d in data["differences"]
    ]  # fmt: skip
    if diffs:
        emit(diffs, fmt, title="Features that differ most")


@segments_app.command()
def discover(
    k: Annotated[
        int | None, typer.Option("--k", min=2, max=20, help="Clusters (default: best silhouette).")
    ] = None,
    save_cluster: Annotated[
        int | None, typer.Option("--save", help="Save this cluster as a segment (with --name).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name of the saved cluster segment.")] = None,
    author: Annotated[str | None, typer.Option(help="Who saves it (default: $USER).")] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Cluster the paying customers (KMeans on standardised features, k by silhouette)."""
    from revintel.app.retention import segments
    from revintel.core.errors import InvalidOption

    ctx = context(home)
    if save_cluster is not None:
        if not name:
            raise InvalidOption("--name: expected a name for the saved cluster")
        seg = segments.save_cluster(ctx, save_cluster, name, k=k, created_by=author or _author())
        typer.echo(f"Saved cluster {save_cluster} as segment {seg.id}: {seg.name} ({seg.rule})")
        return
    result = segments.discover(ctx, k)
    data = result.to_dict()
    if fmt is OutputFormat.json:
        emit(data, fmt)
        return
    typer.echo(
        f"{result.population:,} paying customers as of {result.as_of} in k = {result.k} clusters; "
        f"criterion: {result.criterion}"
    )
    typer.echo("Silhouette by k: " + ", ".join(f"{kk}: {s:.3f}" for kk, s in result.scores.items()))
    typer.echo(f"Churn rate = {result.churn_rate_definition}")
    rows = [
        {
            "cluster": c.cluster,
            "customers": c.size,
            "share": c.share,
            "mrr": c.mrr,
            "churn_rate": c.churn_rate,
            "description": c.description,
            "rule": c.rule,
            "rule_precision": c.rule_precision,
            "rule_recall": c.rule_recall,
        }
        for c in result.clusters
    ]
    emit(rows, fmt, title="Clusters")


@segments_app.command()
def track(
    segment_id: Annotated[int, typer.Argument(help="The segment's id.")],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A saved segment by month: count, MRR, churn rate and average risk (records a snapshot)."""
    from revintel.app.retention import segments

    result = segments.track(context(home), segment_id)
    data = result.to_dict()
    if fmt is OutputFormat.json:
        emit(data, fmt)
        return
    typer.echo(f"Segment {result.segment.id}: {result.segment.name} ({result.segment.rule})")
    typer.echo(f"Method: {result.method}")
    emit(data["months"], fmt, title="Current members by month")
    emit(
        [{k: v for k, v in s.items() if k != "rule"} for s in data["snapshots"]],
        fmt,
        title="Recorded snapshots of the rule",
    )


@segments_app.command()
def members(
    segment_id: Annotated[int, typer.Argument(help="The segment's id.")],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.csv,
) -> None:
    """The customers of a saved segment with every feature (CSV for a CRM by default)."""
    from revintel.app.retention import segments

    frame = segments.resolve_customers(context(home), segment_id=segment_id)
    if fmt is OutputFormat.csv:
        from revintel.core.csv_export import to_csv

        sys.stdout.write(to_csv(frame.to_dicts(), frame.columns))
        return
    emit(frame.to_dicts(), fmt, title=f"Members of segment {segment_id}")
