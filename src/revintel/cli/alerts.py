"""``revintel alerts``: rules, evaluation, the inbox, acknowledgement, history, deliveries and
digests (docs/retention.md, Alerts)."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

alerts_app: typer.Typer = typer.Typer(
    help="Alert rules, evaluation, the inbox, acknowledgement, history and digests.",
    no_args_is_help=True,
)

from revintel.cli.app import FormatOption, HomeOption, context  # noqa: E402
from revintel.cli.output import OutputFormat, emit  # noqa: E402


def _user() -> str:
    try:
        return getpass.getuser() or "cli"
    except (KeyError, OSError):
        return "cli"


AuthorOption = Annotated[
    str | None, typer.Option("--author", help="Who does it (default: $USER, else 'cli').")
]
RuleId = Annotated[int, typer.Argument(help="The rule's id (revintel alerts rules).")]


def _rule_rows(rules: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "rule": r.description,
            "channels": _channels_text(r.channels),
            "enabled": r.enabled,
            "firing": r.firing,
        }
        for r in rules
    ]


def _channels_text(channels: dict[str, Any]) -> str:
    parts = [*channels.get("email", [])]
    parts += [f"{h['style']} {h['url']}" for h in channels.get("webhooks", [])]
    if channels.get("inbox"):
        parts.append("inbox")
    return ", ".join(parts)


def _channels(
    email: list[str] | None, webhook: list[str] | None, slack: list[str] | None, inbox: bool
) -> dict[str, Any]:
    hooks = [{"url": u, "style": "generic"} for u in webhook or []]
    hooks += [{"url": u, "style": "slack"} for u in slack or []]
    return {"email": list(email or []), "webhooks": hooks, "inbox": inbox}


EmailOption = Annotated[
    list[str] | None, typer.Option("--email", help="Send new alerts to this address (repeat).")
]
WebhookOption = Annotated[
    list[str] | None, typer.Option("--webhook", help="POST generic JSON to this URL (repeat).")
]
SlackOption = Annotated[
    list[str] | None,
    typer.Option("--slack", help="POST a Slack-compatible payload to this URL (repeat)."),
]
ThresholdOption = Annotated[
    str | None,
    typer.Option(
        "--threshold",
        help="points=10 (risk_rise, segment_risk_rise), mrr=5000 or arr=60000 "
        "(high_tier_value), min_mrr=0 (health_critical), amount=50000 (deal_at_risk), "
        "metrics=mrr|revenue,min_size=0.1 (metric_anomaly); a bare number is the first one.",
    ),
]
ScopeOption = Annotated[
    str | None,
    typer.Option(
        "--scope",
        help="all (default), segment_id=3, or filters such as "
        "segment=Enterprise|Mid-Market,plan=Pro,owner=ann.",
    ),
]


@alerts_app.command("rules")
def rules_command(home: HomeOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Every alert rule with its condition, channels and how many alerts it has firing."""
    from revintel.app.retention import alerts

    rules = alerts.list_rules(context(home))
    if fmt is OutputFormat.json:
        emit([r.to_dict() for r in rules], fmt)
        return
    emit(_rule_rows(rules), fmt, title="Alert rules")


@alerts_app.command("kinds")
def kinds_command(fmt: FormatOption = OutputFormat.table) -> None:
    """The rule kinds, their thresholds and exact conditions."""
    from revintel.app.retention.alerts import KINDS

    emit(
        [
            {
                "kind": k,
                "label": s.label,
                "thresholds": ", ".join(s.thresholds),
                "condition": s.condition,
            }
            for k, s in KINDS.items()
        ],
        fmt,
        title="Alert rule kinds",
    )


@alerts_app.command("rule-add")
def rule_add_command(
    name: Annotated[str, typer.Option("--name", help="The rule's name.")],
    kind: Annotated[str, typer.Option("--kind", help="See `revintel alerts kinds`.")],
    threshold: ThresholdOption = None,
    scope: ScopeOption = None,
    email: EmailOption = None,
    webhook: WebhookOption = None,
    slack: SlackOption = None,
    no_inbox: Annotated[
        bool, typer.Option("--no-inbox", help="Do not keep the alerts in the in-app inbox.")
    ] = False,
    disabled: Annotated[bool, typer.Option("--disabled", help="Save it disabled.")] = False,
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add an alert rule (validated: kind, threshold range, scope, addresses, webhook URLs)."""
    from revintel.app.retention import alerts

    rule = alerts.create_rule(
        context(home),
        name=name,
        kind=kind,
        thresholds=alerts.parse_thresholds(kind, threshold),
        scope=alerts.parse_scope(scope),
        channels=_channels(email, webhook, slack, not no_inbox),
        enabled=not disabled,
        created_by=author or _user(),
    )
    emit(rule.to_dict() if fmt is OutputFormat.json else _rule_rows([rule]), fmt, title="Added")


@alerts_app.command("rule-edit")
def rule_edit_command(
    rule_id: RuleId,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    threshold: ThresholdOption = None,
    scope: ScopeOption = None,
    email: EmailOption = None,
    webhook: WebhookOption = None,
    slack: SlackOption = None,
    no_inbox: Annotated[bool, typer.Option("--no-inbox", help="With new channels.")] = False,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Enable or disable it.")
    ] = None,
    author: AuthorOption = None,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change a rule: the options given replace those parts (channels as a whole)."""
    from revintel.app.retention import alerts

    ctx = context(home)
    current = alerts.get_rule(ctx, rule_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if threshold is not None:
        changes["thresholds"] = alerts.parse_thresholds(current.kind, threshold)
    if scope is not None:
        changes["scope"] = alerts.parse_scope(scope)
    if email or webhook or slack or no_inbox:
        changes["channels"] = _channels(email, webhook, slack, not no_inbox)
    if enable is not None:
        changes["enabled"] = enable
    rule = alerts.update_rule(ctx, rule_id, changes, author or _user())
    emit(rule.to_dict() if fmt is OutputFormat.json else _rule_rows([rule]), fmt, title="Changed")


@alerts_app.command("rule-disable")
def rule_disable_command(
    rule_id: RuleId, author: AuthorOption = None, home: HomeOption = None
) -> None:
    """Disable a rule (its alerts stay; evaluation skips it)."""
    from revintel.app.retention import alerts

    alerts.update_rule(context(home), rule_id, {"enabled": False}, author or _user())
    typer.echo(f"Rule {rule_id} disabled.")


@alerts_app.command("rule-enable")
def rule_enable_command(
    rule_id: RuleId, author: AuthorOption = None, home: HomeOption = None
) -> None:
    """Enable a disabled rule."""
    from revintel.app.retention import alerts

    alerts.update_rule(context(home), rule_id, {"enabled": True}, author or _user())
    typer.echo(f"Rule {rule_id} enabled.")


@alerts_app.command("rule-delete")
def rule_delete_command(rule_id: RuleId, home: HomeOption = None) -> None:
    """Delete a rule and its alerts (the delivery log stays)."""
    from revintel.app.retention import alerts

    alerts.delete_rule(context(home), rule_id)
    typer.echo(f"Rule {rule_id} deleted.")


@alerts_app.command("evaluate")
def evaluate_command(
    no_deliver: Annotated[
        bool, typer.Option("--no-deliver", help="Fire and clear, but send nothing.")
    ] = False,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Evaluate every enabled rule: fire new alerts, clear resolved ones, deliver the new."""
    from revintel.app.retention import alerts

    summary = alerts.evaluate(context(home), deliver=not no_deliver)
    if fmt is OutputFormat.json:
        emit(summary.to_dict(), fmt)
        return
    rows = [
        {
            "rule": o.rule_id,
            "name": o.name,
            "kind": o.kind,
            "fired": o.fired,
            "still_firing": o.still_firing,
            "cleared": o.cleared,
            "skipped": o.skipped or "",
        }
        for o in summary.rules
    ]
    emit(rows, fmt, title=f"Alert evaluation at {summary.evaluated_at}")
    typer.echo(
        f"{summary.fired} fired, {summary.still_firing} still firing, {summary.cleared} cleared; "
        f"deliveries: {summary.deliveries_sent} sent, {summary.deliveries_failed} failed "
        f"({summary.seconds:.2f} s)"
    )


def _alert_rows(items: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": a.id,
            "rule": a.rule_name,
            "subject": a.subject,
            "state": a.state,
            "message": a.message,
            "fired": a.first_fired_at,
            "last_seen": a.last_seen_at,
            "acknowledged_by": a.acknowledged_by or "",
        }
        for a in items
    ]


@alerts_app.command("inbox")
def inbox_command(
    show_all: Annotated[
        bool, typer.Option("--all", help="Acknowledged alerts too (default: unacknowledged).")
    ] = False,
    rule: Annotated[int | None, typer.Option("--rule", help="Only this rule's alerts.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Firing alerts, newest first."""
    from revintel.app.retention import alerts

    found = alerts.list_alerts(
        context(home),
        state="firing",
        acknowledged=None if show_all else False,
        rule_id=rule,
        limit=limit,
    )
    if fmt is OutputFormat.json:
        emit(found.to_dict(), fmt)
        return
    emit(_alert_rows(found.alerts), fmt, title=f"Inbox: {found.total} firing")


@alerts_app.command("ack")
def ack_command(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (revintel alerts inbox).")],
    author: AuthorOption = None,
    home: HomeOption = None,
) -> None:
    """Acknowledge an alert."""
    from revintel.app.retention import alerts

    alert = alerts.acknowledge(context(home), alert_id, author or _user())
    typer.echo(f"Alert {alert.id} acknowledged by {alert.acknowledged_by} ({alert.message}).")


@alerts_app.command("history")
def history_command(
    rule: Annotated[int | None, typer.Option("--rule", help="Only this rule's alerts.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Every alert, firing or cleared, newest first."""
    from revintel.app.retention import alerts

    found = alerts.history(context(home), rule_id=rule, limit=limit)
    if fmt is OutputFormat.json:
        emit(found.to_dict(), fmt)
        return
    emit(_alert_rows(found.alerts), fmt, title=f"Alert history: {found.total}")


@alerts_app.command("deliveries")
def deliveries_command(
    status: Annotated[str | None, typer.Option("--status", help="sent or failed.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The delivery log: each email and webhook with its status and attempts."""
    from revintel.app.retention import alerts

    log = alerts.list_deliveries(context(home), status=status, limit=limit)  # type: ignore[arg-type]
    if fmt is OutputFormat.json:
        emit([d.to_dict() for d in log], fmt)
        return
    rows = [{k: v for k, v in d.to_dict().items() if k != "attempt_log"} for d in log]
    emit(rows, fmt, title="Deliveries")


@alerts_app.command("digest")
def digest_command(
    period: Annotated[str, typer.Argument(help="daily or weekly.")],
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Send the daily or weekly digest to alerts.digest_recipients (and digest_webhook)."""
    from revintel.app.retention import alerts

    result = alerts.send_digests(context(home), period)  # type: ignore[arg-type]
    if fmt is OutputFormat.json:
        emit(result.to_dict(), fmt)
        return
    typer.echo(f"{period} digest: {result.alerts} alert(s) from {result.since} to {result.until}")
    _print_deliveries(result.deliveries)
    if any(d.status == "failed" for d in result.deliveries):
        raise typer.Exit(1)


def _print_deliveries(records: list[Any]) -> None:
    for d in records:
        line = f"{d.channel} to {d.target}: {d.status} after {d.attempts} attempt(s)"
        typer.echo(line + (f" ({d.detail})" if d.detail else ""))


@alerts_app.command("test-delivery")
def test_delivery_command(
    email: Annotated[str | None, typer.Option("--email", help="Send a test email here.")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="POST a test here.")] = None,
    slack: Annotated[bool, typer.Option("--slack", help="Slack-compatible payload.")] = False,
    home: HomeOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Send a test message with the current mail and webhook settings; exit 1 if it failed."""
    from revintel.app.retention import alerts

    records = alerts.test_delivery(
        context(home), email=email, webhook=webhook, style="slack" if slack else "generic"
    )
    if fmt is OutputFormat.json:
        emit([r.to_dict() for r in records], fmt)
    else:
        _print_deliveries(records)
    if any(r.status == "failed" for r in records):
        raise typer.Exit(1)
