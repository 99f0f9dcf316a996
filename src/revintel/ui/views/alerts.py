"""Alerts: the rules (list, add with validation), the inbox of firing alerts (acknowledge,
evaluate now), the history and the delivery log with every attempt.

Thin: reads the form, calls :mod:`revintel.app.retention.alerts`, draws. Definitions:
docs/retention.md, Alerts.
"""

from __future__ import annotations

import getpass
from typing import Any

import pandas as pd
import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention import alerts
from revintel.core.errors import RevintelError
from revintel.ui.components import current_context, flash

SCOPES = ("All customers", "A saved segment", "Filters")
LAST_EVALUATION = "al_last_evaluation"  # session state: the last evaluation, in words


def _user() -> str:
    try:
        return getpass.getuser() or "dashboard"
    except (KeyError, OSError):
        return "dashboard"


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Alerts", anchor=False)
    st.caption(
        "Rules watch churn risk, health, deals, metrics and segments; an alert fires once per "
        "condition until it clears, goes to the inbox and to the rule's email and webhook "
        "channels, and every delivery is logged. Definitions: docs/retention.md, Alerts."
    )
    rules_tab, inbox_tab, history_tab, deliveries_tab = st.tabs(
        ["Rules", "Inbox", "History", "Deliveries"]
    )
    with rules_tab:
        _rules(ctx)
    with inbox_tab:
        _inbox(ctx)
    with history_tab:
        _history(ctx)
    with deliveries_tab:
        _deliveries(ctx)


def _channels_text(channels: dict[str, Any]) -> str:
    parts = [*channels.get("email", [])]
    parts += [f"{h['style']}: {h['url']}" for h in channels.get("webhooks", [])]
    if channels.get("inbox"):
        parts.append("inbox")
    return ", ".join(parts)


def _rules(ctx: AppContext) -> None:
    rules = alerts.list_rules(ctx)
    if rules:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "ID": r.id,
                        "Name": r.name,
                        "Rule": r.description,
                        "Channels": _channels_text(r.channels),
                        "Enabled": r.enabled,
                        "Firing": r.firing,
                        "Created by": r.created_by,
                    }
                    for r in rules
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        left, mid, right = st.columns([2, 1, 1], vertical_alignment="bottom")
        chosen = left.selectbox(
            "Rule",
            [r.id for r in rules],
            format_func=lambda i: f"{i}: " + next(r.name for r in rules if r.id == i),
            key="al_rule_pick",
        )
        rule = next(r for r in rules if r.id == chosen)
        if mid.button("Disable" if rule.enabled else "Enable", key="al_toggle"):
            alerts.update_rule(ctx, rule.id, {"enabled": not rule.enabled}, _user())
            flash(f"Rule {rule.id} {'disabled' if rule.enabled else 'enabled'}.")
            st.rerun()
        if right.button("Delete", key="al_delete"):
            alerts.delete_rule(ctx, rule.id)
            flash(f"Rule {rule.id} deleted with its alerts.")
            st.rerun()
    else:
        st.info("No alert rule yet: add one below.", icon=":material/info:")
    st.subheader("Add a rule", anchor=False)
    kind = st.selectbox(
        "Kind",
        list(alerts.KINDS),
        format_func=lambda k: alerts.KINDS[k].label,
        key="al_kind",
    )
    spec = alerts.KINDS[kind]
    st.caption(f"Fires when {spec.condition}.")
    with st.form("al_add", clear_on_submit=False):
        name = st.text_input("Name", key="al_name")
        thresholds: dict[str, Any] = {}
        keys = list(spec.thresholds)
        if kind == "high_tier_value":
            which = st.radio("Value", ["mrr", "arr"], horizontal=True, key="al_value_kind")
            keys = [which]
        cols = st.columns(max(1, len(keys)))
        for col, key in zip(cols, keys, strict=False):
            _low, high, default, meaning = spec.thresholds[key]
            thresholds[key] = col.number_input(
                f"{key} ({meaning})",
                value=float(default if default is not None else (10.0 if high <= 100 else 0.0)),
                key=f"al_th_{kind}_{key}",
            )
        if kind == "metric_anomaly":
            thresholds["metrics"] = st.multiselect(
                "Metrics", list(alerts.ANOMALY_METRICS), default=list(alerts.ANOMALY_METRICS)
            )
        scope_kind = st.radio("Scope", SCOPES, horizontal=True, key="al_scope_kind")
        segment_id = st.text_input("Saved segment id (for a saved segment)", key="al_segment")
        filters = st.text_input(
            "Filters (for filters): segment=Enterprise|SMB,plan=Pro,owner=ann", key="al_filters"
        )
        emails = st.text_input("Email recipients (comma-separated)", key="al_emails")
        hook = st.text_input("Webhook URL (http or https)", key="al_webhook")
        style = st.radio("Webhook payload", ["generic", "slack"], horizontal=True, key="al_style")
        inbox = st.checkbox("Keep in the in-app inbox", value=True, key="al_inbox")
        author = st.text_input("Created by", value=_user(), key="al_author")
        submitted = st.form_submit_button("Add rule", type="primary")
    if submitted:
        try:
            if scope_kind == SCOPES[1]:
                scope = alerts.parse_scope(f"segment_id={segment_id.strip()}")
            elif scope_kind == SCOPES[2]:
                scope = alerts.parse_scope(filters)
            else:
                scope = {}
            rule = alerts.create_rule(
                ctx,
                name=name,
                kind=kind,
                thresholds=thresholds,
                scope=scope,
                channels={
                    "email": [e.strip() for e in emails.split(",") if e.strip()],
                    "webhooks": [{"url": hook.strip(), "style": style}] if hook.strip() else [],
                    "inbox": inbox,
                },
                created_by=author,
            )
        except RevintelError as exc:
            st.error(f"Not added. {exc}", icon=":material/error:")
        else:
            flash(f"Rule {rule.id} added: {rule.description}.")
            st.rerun()


def _inbox(ctx: AppContext) -> None:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    show_acked = left.checkbox("Show acknowledged", key="al_show_acked")
    if right.button("Evaluate now", type="primary", key="al_evaluate"):
        try:
            summary = alerts.evaluate(ctx)
        except RevintelError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            skipped = [f"{o.name}: {o.skipped}" for o in summary.rules if o.skipped]
            st.session_state[LAST_EVALUATION] = (
                f"Evaluated at {summary.evaluated_at}: {summary.fired} fired, "
                f"{summary.still_firing} still firing, {summary.cleared} cleared; deliveries "
                f"{summary.deliveries_sent} sent, {summary.deliveries_failed} failed."
                + (" Skipped: " + "; ".join(skipped) if skipped else "")
            )
            st.rerun()
    if LAST_EVALUATION in st.session_state:
        st.info(st.session_state[LAST_EVALUATION], icon=":material/rule:")
    found = alerts.list_alerts(
        ctx, state="firing", acknowledged=None if show_acked else False, limit=200
    )
    st.caption(f"{found.total} firing alert(s){'' if show_acked else ' not acknowledged'}.")
    if not found.alerts:
        st.info("Nothing firing.", icon=":material/notifications_off:")
        return
    who = st.text_input("Acknowledge as", value=_user(), key="al_ack_by")
    for a in found.alerts:
        with st.container(border=True):
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"**{a.rule_name}** · {a.message}")
            text.caption(
                f"Alert {a.id} · fired {a.first_fired_at} · last seen {a.last_seen_at}"
                + (f" · acknowledged by {a.acknowledged_by}" if a.acknowledged_by else "")
            )
            if a.acknowledged_at is None and button.button("Acknowledge", key=f"al_ack_{a.id}"):
                alerts.acknowledge(ctx, a.id, who)
                flash(f"Alert {a.id} acknowledged.")
                st.rerun()


def _history(ctx: AppContext) -> None:
    found = alerts.history(ctx, limit=500)
    st.caption(f"{found.total} alert(s), newest first.")
    if found.alerts:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "ID": a.id,
                        "Rule": a.rule_name,
                        "Subject": a.subject_name or a.subject,
                        "State": a.state,
                        "Message": a.message,
                        "Fired": a.first_fired_at,
                        "Last seen": a.last_seen_at,
                        "Cleared": a.cleared_at,
                        "Acknowledged by": a.acknowledged_by,
                    }
                    for a in found.alerts
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def _deliveries(ctx: AppContext) -> None:
    log = alerts.list_deliveries(ctx, limit=200)
    if not log:
        st.info("No delivery yet.", icon=":material/outbox:")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "ID": d.id,
                    "Kind": d.kind,
                    "Channel": d.channel,
                    "Target": d.target,
                    "Status": d.status,
                    "Attempts": d.attempts,
                    "HTTP": d.http_status,
                    "Alerts": d.alert_count,
                    "Detail": d.detail,
                    "At": d.at,
                }
                for d in log
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.subheader("Attempts", anchor=False)
    rows = [
        {"Delivery": d.id, "Attempt": i + 1, **{k.replace("_", " "): v for k, v in a.items()}}
        for d in log
        for i, a in enumerate(d.attempt_log)
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
