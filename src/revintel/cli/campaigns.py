"""``revintel campaigns``: templates, the wizard with a holdout, tasks and the CRM export
(docs/retention.md, Campaigns). The measured-impact commands are in ``cli/campaign_results.py``."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from revintel.cli.app import FormatOption, HomeOption, context
from revintel.cli.output import OutputFormat, emit, percent

campaigns_app = typer.Typer(
    help="Retention campaigns: templates, the wizard with a holdout, tasks and measured impact.",
    no_args_is_help=True,
)

AuthorOption = Annotated[
    str | None, typer.Option("--author", help="Who does this (default: $USER, or 'cli').")
]


def _author(author: str | None) -> str:
    return author or os.environ.get("USER") or "cli"


def _day(text: str | None, option: str) -> date | None:
    from revintel.core.errors import InvalidOption

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidOption(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None


def _read_structured(path: Path, option: str) -> Any:
    """JSON (or TOML, by extension) from a file, or from stdin for ``-``."""
    from revintel.core.errors import InvalidOption

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidOption(f"{option} {path}: cannot read ({exc.strerror})") from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            return tomllib.loads(text)
        return json.loads(text)
    except ValueError as exc:
        raise InvalidOption(f"{option} {path}: expected JSON (or .toml): {exc}") from None


# -- templates ------------------------------------------------------------------------------------
@campaigns_app.command("templates")
def templates_command(
    action: Annotated[str | None, typer.Argument(help="'show' to show one template.")] = None,
    name: Annotated[str | None, typer.Argument(help="The template to show.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Render the scripts for this customer id.")
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the templates (five built-in, then custom), or `templates show NAME` with its timeline
    rendered for a sample customer (or --customer ID)."""
    from revintel.app.retention import campaigns as service
    from revintel.core.errors import InvalidOption

    ctx = context(home)
    if action is None:
        rows = [
            {
                "name": t.name,
                "label": t.label,
                "builtin": t.builtin,
                "steps": " → ".join(f"day {s.day} {s.kind}" for s in t.steps),
                "target": t.target,
            }
            for t in service.list_templates(ctx)
        ]
        emit(rows, fmt, title="Campaign templates")
        return
    if action != "show" or not name:
        raise InvalidOption(f"templates: expected 'show NAME', got {action!r} {name or ''}")
    shown = service.preview_template(ctx, name, customer_id=customer)
    if fmt is OutputFormat.json:
        emit(shown, fmt)
        return
    template = shown["template"]
    typer.echo(f"{template['label']} ({template['name']})\n{template['description']}")
    typer.echo(f"For: {template['target']}\n")
    for step in shown["steps"]:
        when = " (if no response)" if step["condition"] == "no_response" else ""
        typer.echo(f"Day {step['day']} · {step['kind']}{when}: {step['title']}")
        if step["subject"]:
            typer.echo(f"  Subject: {step['subject']}")
        for line in step["script"].splitlines():
            typer.echo(f"  {line}")
        typer.echo("")


@campaigns_app.command("template-save")
def template_save_command(
    file: Annotated[
        Path, typer.Option("--file", help="The template as JSON or TOML ('-': stdin).")
    ],
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Create or replace a custom template: name, label, description, target and steps (day,
    kind, title, subject, body, condition). A script naming an unknown variable is refused."""
    from revintel.app.retention import campaigns as service

    saved = service.save_template(context(home), _read_structured(file, "--file"), _author(author))
    emit({"saved": saved.name, "steps": len(saved.steps)}, fmt)


@campaigns_app.command("template-copy")
def template_copy_command(
    source: Annotated[str, typer.Argument(help="The template to copy (built-in or custom).")],
    name: Annotated[str, typer.Argument(help="The copy's name.")],
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Copy a template under a new name, to edit it (`template-save`)."""
    from revintel.app.retention import campaigns as service

    saved = service.copy_template(context(home), source, name, _author(author))
    emit({"saved": saved.name, "based_on": source, "steps": len(saved.steps)}, fmt)


@campaigns_app.command("template-delete")
def template_delete_command(
    name: Annotated[str, typer.Argument(help="The custom template to delete.")],
    home: HomeOption = None,
) -> None:
    """Delete a custom template (campaigns keep their own copy of its steps)."""
    from revintel.app.retention import campaigns as service

    service.delete_template(context(home), name)
    typer.echo(f"deleted template {name}")


# -- the wizard -----------------------------------------------------------------------------------
@campaigns_app.command("create")
def create_command(
    name: Annotated[str, typer.Option("--name", help="The campaign's name.")],
    template: Annotated[str, typer.Option("--template", help="Template name (see `templates`).")],
    start: Annotated[str, typer.Option("--start", help="Start date YYYY-MM-DD (day 1).")],
    segment: Annotated[int | None, typer.Option("--segment", help="A saved segment's id.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="A segment rule.")] = None,
    customers: Annotated[
        Path | None, typer.Option("--customers", help="A file of customer ids, one a line.")
    ] = None,
    steps: Annotated[
        Path | None, typer.Option("--steps", help="An edited timeline: JSON list of steps.")
    ] = None,
    owners: Annotated[
        str | None,
        typer.Option(
            "--owners",
            help="Round-robin over these people, e.g. 'sarah,john' "
            "(default: each account's owner).",
        ),
    ] = None,
    capacity: Annotated[
        int | None, typer.Option("--capacity", min=1, help="Most customers per person.")
    ] = None,
    unassigned: Annotated[
        bool,
        typer.Option(
            "--leave-unassigned",
            help="Beyond capacity: leave the rest unassigned instead of failing.",
        ),
    ] = False,
    holdout: Annotated[
        float | None, typer.Option("--holdout", help="Holdout share 0.05-0.5 (default settings).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Holdout seed (default random).")
    ] = None,
    cost: Annotated[
        float, typer.Option("--cost-per-customer", help="Cost per treated customer.")
    ] = 0.0,
    criteria: Annotated[
        list[str] | None,
        typer.Option(
            "--criteria",
            help="Success criterion KEY=VALUE (repeat): risk_below=0.3, "
            "within_days=60, no_churn_months=3.",
        ),
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be made; write nothing.")
    ] = False,
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The wizard: audience (--segment, --rule or --customers), template, timeline, owners,
    success criteria and a seeded holdout stratified by risk tier; creates the campaign, its
    members and its tasks with rendered scripts in one transaction."""
    from revintel.app.retention import campaigns as service
    from revintel.core.errors import InvalidOption

    ids = None
    if customers is not None:
        try:
            ids = [
                line.strip().split(",")[0]
                for line in customers.read_text(encoding="utf-8").splitlines()
                if line.strip() and line.strip().lower() not in ("customer_id", "id")
            ]
        except OSError as exc:
            raise InvalidOption(f"--customers {customers}: cannot read ({exc.strerror})") from None
    parsed: dict[str, Any] = {}
    for item in criteria or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidOption(f"--criteria: expected KEY=VALUE, got {item!r}")
        try:
            parsed[key.strip()] = json.loads(value)
        except ValueError:
            raise InvalidOption(f"--criteria {key}: expected a number, got {value!r}") from None
    people = [p.strip() for p in owners.split(",")] if owners else []
    request = service.CampaignRequest(
        name=name,
        template=template,
        start_date=_day(start, "--start") or date.today(),
        segment_id=segment,
        rule=rule,
        customer_ids=ids,
        steps=_read_structured(steps, "--steps") if steps else None,
        owners_mode="round_robin" if people else "account_owner",
        people=people,
        capacity=capacity,
        overflow="unassigned" if unassigned else "error",
        success_criteria=parsed,
        holdout_share=holdout,
        seed=seed,
        cost_per_customer=cost,
        created_by=_author(author),
        description=description,
    )
    ctx = context(home)
    made = (service.preview_campaign if dry_run else service.create_campaign)(ctx, request)
    data = made.to_dict()
    if fmt is OutputFormat.json:
        emit(data, fmt)
        return
    rows = [
        {
            "tier": t,
            "customers": v["customers"],
            "holdout": v["holdout"],
            "treated": v["customers"] - v["holdout"],
        }
        for t, v in made.by_tier.items()
    ]
    head = "Would create" if dry_run else f"Created campaign {made.campaign_id}"
    typer.echo(
        f"{head} '{made.name}' ({made.template}, from {made.start_date}): {made.customers} "
        f"customers, {made.treated} treated, {made.holdout} held out "
        f"({percent(made.holdout / made.customers)}), {made.tasks} tasks, seed {made.seed}."
    )
    emit(rows, fmt, title="Holdout by risk tier")
    emit([{"owner": o, "customers": n} for o, n in made.by_owner.items()], fmt, title="Owners")


# -- campaigns ------------------------------------------------------------------------------------
@campaigns_app.command("list")
def list_command(
    status: Annotated[
        str | None, typer.Option("--status", help="active, finished or cancelled.")
    ] = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Campaigns, newest first, with their treated / holdout counts and task progress."""
    from revintel.app.retention import campaigns as service

    found = service.list_campaigns(context(home), status)
    if fmt is OutputFormat.json:
        emit(found, fmt)
        return
    emit(
        [
            {
                "id": c["campaign_id"],
                "name": c["name"],
                "template": c["template"],
                "status": c["status"],
                "start": c["start_date"],
                "treated": c["treated"],
                "holdout": c["holdout"],
                "tasks": c["tasks"],
                "done": percent(c["done_share"]) if c["done_share"] is not None else "n/a",
            }
            for c in found
        ],
        fmt,
        title="Campaigns",
    )


@campaigns_app.command("show")
def show_command(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One campaign: settings, steps, members by risk tier and progress by owner."""
    from revintel.app.retention import campaigns as service

    c = service.get_campaign(context(home), campaign_id)
    if fmt is OutputFormat.json:
        emit(c, fmt)
        return
    typer.echo(
        f"Campaign {c['campaign_id']} '{c['name']}' ({c['template']}), {c['status']}, from "
        f"{c['start_date']}{' to ' + c['end_date'] if c['end_date'] else ''}; {c['treated']} "
        f"treated, {c['holdout']} held out (share {c['holdout_share']}, seed {c['seed']}); "
        f"criteria {c['success_criteria'] or 'none'}"
    )
    emit(
        [
            {
                "day": s["day"],
                "kind": s["kind"],
                "condition": s.get("condition", "always"),
                "title": s["title"],
            }
            for s in c["steps"]
        ],
        fmt,
        title="Timeline",
    )
    emit(
        [{"owner": o, "tasks": p["tasks"], **p["by_status"]} for o, p in c["by_owner"].items()],
        fmt,
        title="Tasks by owner",
    )


def _set(
    campaign_id: int,
    what: str,
    end: str | None,
    author: str | None,
    home: Path | None,
    fmt: OutputFormat,
) -> None:
    from revintel.app.retention import campaigns as service

    fn = service.finish_campaign if what == "finish" else service.cancel_campaign
    c = fn(context(home), campaign_id, end_date=_day(end, "--end"), by=_author(author))
    emit({"campaign_id": c["campaign_id"], "status": c["status"], "end_date": c["end_date"]}, fmt)


@campaigns_app.command("finish")
def finish_command(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    end: Annotated[str | None, typer.Option("--end", help="End date (default today).")] = None,
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Mark a campaign finished (its impact is then measured: `campaigns results`)."""
    _set(campaign_id, "finish", end, author, home, fmt)


@campaigns_app.command("cancel")
def cancel_command(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    end: Annotated[str | None, typer.Option("--end", help="End date (default today).")] = None,
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Cancel a campaign: its tasks can no longer change."""
    _set(campaign_id, "cancel", end, author, home, fmt)


# -- tasks ----------------------------------------------------------------------------------------
@campaigns_app.command("tasks")
def tasks_command(
    campaign: Annotated[int | None, typer.Option("--campaign", help="A campaign's id.")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="An owner ('unassigned' for none).")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="todo, contacted, responded or done.")
    ] = None,
    due_before: Annotated[
        str | None, typer.Option("--due-before", help="Due on or before YYYY-MM-DD.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most tasks shown.")] = 200,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Tasks by due date, per campaign, owner and status."""
    from revintel.app.retention import campaigns as service

    rows = service.tasks(
        context(home),
        campaign_id=campaign,
        owner=owner,
        status=status,
        due_before=_day(due_before, "--due-before"),
        limit=limit,
    )
    if fmt is OutputFormat.json:
        emit(rows, fmt)
        return
    keep = (
        "task_id",
        "campaign_id",
        "customer_id",
        "customer_name",
        "owner",
        "due_date",
        "kind",
        "title",
        "status",
        "outcome",
    )
    emit([{k: r[k] for k in keep} for r in rows], fmt, title="Tasks")


@campaigns_app.command("task-update")
def task_update_command(
    task_id: Annotated[int, typer.Argument(help="The task's id.")],
    status: Annotated[
        str | None, typer.Option("--status", help="contacted, responded or done (forward only).")
    ] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="What happened.")] = None,
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Move a task along (to do → contacted → responded → done) and record its outcome."""
    from revintel.app.retention import campaigns as service

    task = service.update_task(
        context(home), task_id, status=status, outcome=outcome, updated_by=_author(author)
    )
    emit(
        {
            k: task[k]
            for k in ("task_id", "customer_id", "title", "status", "outcome", "updated_by")
        },
        fmt,
    )


@campaigns_app.command("export")
def export_command(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write ('-': stdout).")],
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's tasks.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only tasks in this status.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """The campaign's tasks as CSV for CRM import: task id, campaign, customer, owner, due date,
    kind, title, condition, status, outcome, subject and script."""
    from revintel.app.retention import campaigns as service

    text = service.export_tasks_csv(
        context(home), campaign_id=campaign_id, owner=owner, status=status
    )
    if str(out) == "-":
        sys.stdout.write(text)
        return
    import csv
    import io

    out.write_text(text, encoding="utf-8")
    rows = sum(1 for _ in csv.reader(io.StringIO(text))) - 1
    typer.echo(f"wrote {rows} tasks to {out}")


from revintel.cli import campaign_results  # noqa: E402,F401  (registers the impact commands)
