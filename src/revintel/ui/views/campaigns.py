"""Campaigns: the wizard (audience → template → timeline → owners → success criteria → holdout →
create), the list with progress, tasks by owner, and each campaign's measured results.

Thin: reads the answers, calls :mod:`revintel.app.retention.campaigns`, draws. Definitions:
``docs/retention.md``, Campaigns.
"""

from __future__ import annotations

import getpass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention import campaigns as service
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.ui.components import current_context

KINDS = ["email", "call", "meeting", "offer", "escalate", "task"]


def _me() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "dashboard"


def render(ctx: AppContext) -> None:
    st.title("Campaigns")
    st.caption(
        "Retention plays with a seeded holdout control: choose who, what and when; owners work "
        "their tasks; results compare treated with held-out customers."
    )
    wizard, listing, work, results = st.tabs(["Wizard", "Campaigns", "Tasks by owner", "Results"])
    with wizard:
        _wizard(ctx)
    with listing:
        _listing(ctx)
    with work:
        _tasks(ctx)
    with results:
        _results(ctx)


# -- the wizard -----------------------------------------------------------------------------------
def _wizard(ctx: AppContext) -> None:
    try:
        options = service.wizard_options(ctx)
    except RevintelError as exc:
        st.error(str(exc))
        return
    st.subheader("1 · Audience")
    source = st.radio(
        "Customers", ["Saved segment", "Rule", "Customer ids"], horizontal=True, key="cw_source"
    )
    audience: dict[str, Any] = {}
    if source == "Saved segment":
        segments = options["segments"]
        if not segments:
            st.info("No saved segments yet: save one on the Segments page, or write a rule.")
        else:
            labels = {f"{s['name']} (#{s['id']})": s for s in segments}
            chosen = st.selectbox("Segment", list(labels), key="cw_segment")
            audience["segment_id"] = labels[chosen]["id"]
            st.caption(f"Rule: `{labels[chosen]['rule']}`")
    elif source == "Rule":
        audience["rule"] = st.text_input(
            "Rule", value="churn_risk > 0.6 and mrr > 1000", key="cw_rule"
        )
    else:
        text = st.text_area("Customer ids (one a line, or comma-separated)", key="cw_ids")
        audience["customer_ids"] = [
            c.strip() for c in text.replace(",", "\n").split("\n") if c.strip()
        ]

    st.subheader("2 · Template")
    templates = {t["label"]: t["name"] for t in options["templates"]}
    label = st.selectbox("Template", list(templates), key="cw_template")
    template_name = templates[label]
    start = st.date_input("Start date (day 1)", value=date.today(), key="cw_start")
    try:
        template = service.get_template(ctx, template_name)
    except RevintelError as exc:
        st.error(str(exc))
        return
    st.caption(f"{template.description} **For:** {template.target}")

    st.subheader("3 · Timeline")
    steps_frame = pd.DataFrame([s.to_dict() for s in template.steps])
    edited = st.data_editor(
        steps_frame[["day", "kind", "condition", "title", "subject", "body"]],
        num_rows="dynamic",
        hide_index=True,
        key=f"cw_steps_{template_name}",
        column_config={
            "day": st.column_config.NumberColumn("day", min_value=1, max_value=365, step=1),
            "kind": st.column_config.SelectboxColumn("kind", options=KINDS),
            "condition": st.column_config.SelectboxColumn(
                "condition", options=["always", "no_response"]
            ),
            "body": st.column_config.TextColumn("script / email body", width="large"),
        },
    )
    steps = [
        {k: (None if pd.isna(v) else (int(v) if k == "day" else str(v))) for k, v in row.items()}
        for row in edited.to_dict("records")
    ]
    with st.expander("Variables a script may use"):
        st.table(
            pd.DataFrame(
                [
                    {"variable": "{{ " + k + " }}", "meaning": v}
                    for k, v in options["variables"].items()
                ]
            )
        )

    st.subheader("4 · Owners")
    mode = st.radio(
        "Who runs the tasks",
        ["Account owner", "Round-robin"],
        horizontal=True,
        key="cw_owner_mode",
    )
    people: list[str] = []
    capacity = options["owner_capacity"]
    overflow = "error"
    if mode == "Round-robin":
        people = [
            p.strip()
            for p in st.text_input(
                "People (comma-separated)", value="sarah, john", key="cw_people"
            ).split(",")
            if p.strip()
        ]
        capacity = st.number_input(
            "Capacity per person (customers)", min_value=1, value=int(capacity), key="cw_capacity"
        )
        if st.checkbox("Leave customers beyond capacity unassigned", key="cw_overflow"):
            overflow = "unassigned"

    st.subheader("5 · Success criteria")
    c1, c2, c3 = st.columns(3)
    criteria: dict[str, Any] = {}
    if c1.checkbox("Risk below a level", value=True, key="cw_use_risk"):
        criteria["risk_below"] = c1.number_input("Risk below", 0.01, 0.99, 0.3, 0.05, key="cw_risk")
        criteria["within_days"] = int(c2.number_input("within days", 1, 365, 60, key="cw_days"))
    if c3.checkbox("No churn", value=True, key="cw_use_churn"):
        criteria["no_churn_months"] = int(c3.number_input("for months", 1, 24, 3, key="cw_months"))

    st.subheader("6 · Holdout control")
    h1, h2, h3 = st.columns(3)
    share = h1.slider(
        "Held-out share (per risk tier)",
        0.05,
        0.5,
        float(options["holdout_share"]),
        0.01,
        key="cw_share",
    )
    seed = int(h2.number_input("Seed", 0, 2**31 - 1, 42, key="cw_seed"))
    cost = float(h3.number_input("Cost per customer ($)", 0.0, 1e6, 0.0, 10.0, key="cw_cost"))
    st.caption("Held-out customers receive nothing; their outcome is the comparison.")

    st.subheader("7 · Create")
    name = st.text_input("Campaign name", value=f"{label} {date.today():%Y-%m}", key="cw_name")
    author = st.text_input("Created by", value=_me(), key="cw_author")
    request = service.CampaignRequest(
        name=name,
        template=template_name,
        start_date=start,
        steps=steps,
        owners_mode="round_robin" if mode == "Round-robin" else "account_owner",
        people=people,
        capacity=int(capacity),
        overflow=overflow,
        success_criteria=criteria,
        holdout_share=share,
        seed=seed,
        cost_per_customer=cost,
        created_by=author,
        **audience,
    )
    left, right = st.columns(2)
    if left.button("Preview", key="cw_preview"):
        try:
            shown = service.preview_campaign(ctx, request)
        except RevintelError as exc:
            st.error(str(exc))
        else:
            _made(shown, preview=True)
    if right.button("Create campaign", type="primary", key="cw_create"):
        try:
            made = service.create_campaign(ctx, request)
        except RevintelError as exc:
            st.error(str(exc))
        else:
            st.session_state["cw_created"] = made.to_dict()
    created = st.session_state.get("cw_created")
    if created:
        st.success(
            f"Created campaign {created['campaign_id']} '{created['name']}': "
            f"{created['treated']} treated, {created['holdout']} held out, "
            f"{created['tasks']} tasks."
        )


def _made(made: service.CampaignCreated, *, preview: bool) -> None:
    st.markdown(
        f"**{made.customers}** customers ({money(made.mrr)} MRR): **{made.treated}** treated, "
        f"**{made.holdout}** held out ({percent(made.holdout / made.customers)}), "
        f"**{made.tasks}** tasks."
    )
    tiers = pd.DataFrame(
        [
            {"tier": t, **v, "treated": v["customers"] - v["holdout"]}
            for t, v in made.by_tier.items()
        ]
    )
    c1, c2 = st.columns(2)
    c1.dataframe(tiers, hide_index=True)
    c2.dataframe(
        pd.DataFrame([{"owner": o, "customers": n} for o, n in made.by_owner.items()]),
        hide_index=True,
    )
    if preview and made.sample:
        first = made.sample[0]
        st.markdown(f"**Scripts for {first['customer_id']}** (the first treated customer)")
        for step in made.sample:
            with st.expander(f"{step['due_date']} · {step['kind']} · {step['title']}"):
                if step["subject"]:
                    st.markdown(f"**Subject:** {step['subject']}")
                st.text(step["script"])


# -- campaigns ------------------------------------------------------------------------------------
def _listing(ctx: AppContext) -> None:
    try:
        found = service.list_campaigns(ctx)
    except RevintelError as exc:
        st.error(str(exc))
        return
    if not found:
        st.info("No campaigns yet: create one in the Wizard tab.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": c["campaign_id"],
                    "name": c["name"],
                    "template": c["template"],
                    "status": c["status"],
                    "start": c["start_date"],
                    "end": c["end_date"],
                    "treated": c["treated"],
                    "holdout": c["holdout"],
                    "tasks": c["tasks"],
                    **c["by_status"],
                    "done": c["done_share"] or 0.0,
                }
                for c in found
            ]
        ),
        hide_index=True,
        column_config={
            "done": st.column_config.ProgressColumn(
                "done", min_value=0.0, max_value=1.0, format="percent"
            ),
        },
    )
    active = {
        f"#{c['campaign_id']} {c['name']}": c["campaign_id"]
        for c in found
        if c["status"] == "active"
    }
    if active:
        c1, c2, c3 = st.columns([3, 1, 1])
        chosen = c1.selectbox("Active campaign", list(active), key="cl_active")
        try:
            if c2.button("Finish", key="cl_finish"):
                service.finish_campaign(ctx, active[chosen], by=_me())
                st.rerun()
            if c3.button("Cancel", key="cl_cancel"):
                service.cancel_campaign(ctx, active[chosen], by=_me())
                st.rerun()
        except RevintelError as exc:
            st.error(str(exc))


# -- tasks by owner -------------------------------------------------------------------------------
def _tasks(ctx: AppContext) -> None:
    try:
        found = service.list_campaigns(ctx)
    except RevintelError as exc:
        st.error(str(exc))
        return
    if not found:
        st.info("No tasks yet: create a campaign in the Wizard tab.")
        return
    campaigns = {f"#{c['campaign_id']} {c['name']}": c["campaign_id"] for c in found}
    f1, f2, f3 = st.columns(3)
    chosen = f1.selectbox("Campaign", list(campaigns), key="ct_campaign")
    campaign_id = campaigns[chosen]
    owners = service.task_owners(ctx, campaign_id)
    owner = f2.selectbox("Owner", ["everyone", *owners], key="ct_owner")
    status = f3.selectbox("Status", ["any", *service.STATUSES], key="ct_status")
    filters = {
        "campaign_id": campaign_id,
        "owner": None if owner == "everyone" else owner,
        "status": None if status == "any" else status,
    }
    try:
        rows = service.tasks(ctx, **filters, limit=2000)
    except RevintelError as exc:
        st.error(str(exc))
        return
    st.caption(f"{len(rows)} tasks shown (at most 2,000; the CSV has them all).")
    st.download_button(
        "Download CSV for CRM import",
        data=service.export_tasks_csv(ctx, **filters).encode("utf-8"),
        file_name=f"campaign-{campaign_id}-tasks.csv",
        mime="text/csv",
        key="ct_csv",
    )
    if not rows:
        return
    table = pd.DataFrame(rows)[
        [
            "task_id",
            "due_date",
            "owner",
            "customer_id",
            "customer_name",
            "kind",
            "title",
            "condition",
            "status",
            "outcome",
        ]
    ]
    st.dataframe(table, hide_index=True, height=420)

    st.markdown("**Update a task**")
    u1, u2, u3 = st.columns([1, 1, 2])
    ids = [r["task_id"] for r in rows]
    task_id = u1.selectbox("Task", ids, key="ct_task")
    task = next(r for r in rows if r["task_id"] == task_id)
    new_status = u2.selectbox(
        "Status", service.STATUSES, index=service.STATUSES.index(task["status"]), key="ct_new"
    )
    outcome = u3.text_input("Outcome", value=task["outcome"] or "", key="ct_outcome")
    with st.expander(f"Script: {task['title']}"):
        if task["subject"]:
            st.markdown(f"**Subject:** {task['subject']}")
        st.text(task["script"] or "")
    if st.button("Save task", key="ct_save"):
        try:
            service.update_task(ctx, task_id, status=new_status, outcome=outcome, updated_by=_me())
        except RevintelError as exc:
            st.error(str(exc))
        else:
            st.success(f"Task {task_id}: {new_status}")
            st.rerun()


# -- results --------------------------------------------------------------------------------------
def _results(ctx: AppContext) -> None:
    try:
        found = service.list_campaigns(ctx)
    except RevintelError as exc:
        st.error(str(exc))
        return
    if not found:
        st.info("No campaigns yet.")
        return
    campaigns = {
        f"#{c['campaign_id']} {c['name']} ({c['status']})": c["campaign_id"] for c in found
    }
    chosen = st.selectbox("Campaign", list(campaigns), key="cr_campaign")
    from revintel.ui import campaign_results

    try:
        campaign_results.render(ctx, campaigns[chosen])
    except RevintelError as exc:
        st.error(str(exc))


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
