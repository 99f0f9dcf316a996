"""The campaign wizard, tasks and export on the app store (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from revintel.app.retention import campaigns as C
from revintel.app.retention.features import CustomerFeatures
from revintel.core.errors import InvalidOption, NotFoundError
from revintel.retention.holdout import CapacityShortfall
from revintel.retention.templates import TemplateError
from revintel.store.campaigns import Campaign, CampaignMember, CampaignTask
from tests.app.retention.conftest import features_frame

START = date(2026, 3, 2)


@pytest.fixture
def feats() -> CustomerFeatures:
    return CustomerFeatures(frame=features_frame(400), as_of="2026-02", columns={})


def _req(**over) -> C.CampaignRequest:
    base = dict(
        name="Save the highs",
        template="executive_outreach",
        start_date=START,
        customer_ids=[f"C{i:06d}" for i in range(200)],
        holdout_share=0.15,
        seed=11,
        created_by="tester",
    )
    base.update(over)
    return C.CampaignRequest(**base)


def _counts(rt) -> tuple[int, int, int]:
    with rt.store.session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m))
            for m in (Campaign, CampaignMember, CampaignTask)
        )


def test_the_wizard_writes_members_with_a_stratified_holdout_and_tasks_for_treated_only(
    store_rt, feats
) -> None:
    made = C.create_campaign(
        store_rt,
        _req(
            owners_mode="round_robin",
            people=["sarah", "john"],
            capacity=100,
            success_criteria={"risk_below": 0.3, "within_days": 60},
            cost_per_customer=25,
        ),
        features=feats,
    )
    assert made.customers == 200 and made.treated + made.holdout == 200
    tiers = made.by_tier
    for tier in tiers.values():
        assert tier["holdout"] == min(int(tier["customers"] * 0.15 + 0.5), tier["customers"] - 1)
    assert made.tasks == made.treated * 4
    assert made.by_owner["sarah"] + made.by_owner["john"] == made.treated
    assert abs(made.by_owner["sarah"] - made.by_owner["john"]) <= 1

    detail = C.get_campaign(store_rt, made.campaign_id)
    assert detail["treated"] == made.treated and detail["holdout"] == made.holdout
    assert detail["tasks"] == made.tasks and detail["by_status"]["todo"] == made.tasks
    assert detail["success_criteria"] == {"risk_below": 0.3, "within_days": 60}
    assert detail["as_of_month"] == "2026-02" and len(detail["steps"]) == 4

    with store_rt.store.session() as s:
        members = s.scalars(
            select(CampaignMember).where(CampaignMember.campaign_id == made.campaign_id)
        ).all()
        held = {m.customer_id for m in members if m.group == "holdout"}
        task_customers = set(s.scalars(select(CampaignTask.customer_id).distinct()).all())
        frame = feats.frame.to_pandas().set_index("customer_id")
        for m in members[:20]:
            assert m.risk_at_start == pytest.approx(frame.loc[m.customer_id, "churn_risk"])
            assert m.mrr_at_start == pytest.approx(frame.loc[m.customer_id, "mrr"])
            assert m.risk_tier == frame.loc[m.customer_id, "risk_tier"]
    assert held and not (held & task_customers)
    assert len(task_customers) == made.treated

    rows = C.tasks(store_rt, campaign_id=made.campaign_id, owner="sarah")
    assert {r["owner"] for r in rows} == {"sarah"}
    first = min(rows, key=lambda r: r["step"])
    assert first["due_date"] == "2026-03-02" and first["kind"] == "email"
    assert first["customer_name"].startswith("Company ")
    assert first["customer_name"] in first["script"] or first["customer_name"] in first["title"]
    assert {r["due_date"] for r in rows if r["step"] == 3} == {"2026-03-15"}  # day 14


def test_the_same_seed_gives_the_same_holdout(store_rt, feats) -> None:
    a = C.create_campaign(store_rt, _req(), features=feats)
    b = C.create_campaign(store_rt, _req(customer_ids=_req().customer_ids[::-1]), features=feats)

    def held(cid):
        with store_rt.store.session() as s:
            return set(
                s.scalars(
                    select(CampaignMember.customer_id).where(
                        CampaignMember.campaign_id == cid, CampaignMember.group == "holdout"
                    )
                ).all()
            )

    assert held(a.campaign_id) == held(b.campaign_id)


def test_scripts_show_missing_values_as_missing_never_none(store_rt, feats) -> None:
    made = C.create_campaign(store_rt, _req(template="payment_assistance"), features=feats)
    text = C.export_tasks_csv(store_rt, campaign_id=made.campaign_id)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == made.tasks
    assert list(rows[0]) == list(C.CSV_COLUMNS)
    scripts = " ".join(r["script"] + r["subject"] for r in rows)
    assert not re.search(r"\b(None|nan|NaN|null)\b", scripts)
    assert "(missing)" in scripts  # some plans and CLVs are missing
    assert "Late payments" in scripts or "Login trend" in scripts.lower().title()  # labels
    assert {r["condition"] for r in rows} == {"always", "no_response"}


@pytest.mark.parametrize(
    ("change", "kind", "match"),
    [
        (
            {"customer_ids": ["C000001", "X-9", "Y-1"]},
            NotFoundError,
            "2 unknown customer id.*'X-9'",
        ),
        ({"customer_ids": []}, InvalidOption, "customer_ids"),
        ({"customer_ids": None}, InvalidOption, "exactly one of segment_id, rule or customer_ids"),
        ({"rule": "mrr > 1"}, InvalidOption, "got rule, customer_ids"),
        ({"template": "nope"}, NotFoundError, "template 'nope'"),
        ({"steps": [{"day": 1, "kind": "call", "title": "{{ secret }}"}]}, TemplateError, "secret"),
        ({"holdout_share": 0.9}, InvalidOption, "holdout_share"),
        ({"name": " "}, InvalidOption, "name"),
        ({"success_criteria": {"risk_below": 2}}, InvalidOption, "risk_below"),
        ({"success_criteria": {"churned": 1}}, InvalidOption, "unknown field churned"),
        ({"cost_per_customer": -1}, InvalidOption, "cost_per_customer"),
        (
            {"owners_mode": "round_robin", "people": ["a"], "capacity": 10},
            CapacityShortfall,
            "short",
        ),
        ({"owners_mode": "round_robin", "people": []}, InvalidOption, "owners.people"),
        ({"created_by": ""}, InvalidOption, "created_by"),
    ],
)
def test_a_bad_request_is_refused_and_leaves_nothing(store_rt, feats, change, kind, match) -> None:
    with pytest.raises(kind, match=match):
        C.create_campaign(store_rt, _req(**change), features=feats)
    assert _counts(store_rt) == (0, 0, 0)


def test_a_failure_while_writing_leaves_nothing(store_rt, feats, monkeypatch) -> None:
    written: list[str] = []
    real = C._bulk_insert

    def failing(session, table, rows):
        if table.name == "campaign_tasks":
            raise RuntimeError("disk full")
        real(session, table, rows)
        written.append(table.name)

    monkeypatch.setattr(C, "_bulk_insert", failing)
    with pytest.raises(RuntimeError):
        C.create_campaign(store_rt, _req(), features=feats)
    assert written == ["campaign_members"]  # the members were written, then rolled back
    assert _counts(store_rt) == (0, 0, 0)


def test_overflow_unassigned_leaves_the_lowest_risk_without_an_owner(store_rt, feats) -> None:
    made = C.create_campaign(
        store_rt,
        _req(owners_mode="round_robin", people=["a", "b"], capacity=50, overflow="unassigned"),
        features=feats,
    )
    assert made.unassigned == made.treated - 100
    assert C.tasks(store_rt, campaign_id=made.campaign_id, owner="unassigned")
    assert "unassigned" in C.task_owners(store_rt, made.campaign_id)


def test_task_status_moves_forward_with_an_outcome(store_rt, feats) -> None:
    made = C.create_campaign(store_rt, _req(), features=feats)
    task = C.tasks(store_rt, campaign_id=made.campaign_id, limit=1)[0]
    moved = C.update_task(
        store_rt, task["task_id"], status="contacted", outcome="left voicemail", updated_by="sarah"
    )
    assert moved["status"] == "contacted" and moved["outcome"] == "left voicemail"
    assert moved["updated_by"] == "sarah"
    with pytest.raises(InvalidOption, match="only move forward"):
        C.update_task(store_rt, task["task_id"], status="todo", updated_by="sarah")
    assert (
        C.update_task(store_rt, task["task_id"], status="done", updated_by="s")["status"] == "done"
    )
    with pytest.raises(InvalidOption, match="status: expected one of todo"):
        C.update_task(store_rt, task["task_id"], status="won", updated_by="s")
    with pytest.raises(NotFoundError, match="task 999999"):
        C.update_task(store_rt, 999999, status="done", updated_by="s")
    progress = C.get_campaign(store_rt, made.campaign_id)
    assert progress["by_status"]["done"] == 1
    listed = C.list_campaigns(store_rt)
    assert listed[0]["campaign_id"] == made.campaign_id and listed[0]["by_status"]["done"] == 1
    assert C.tasks(store_rt, status="done")[0]["task_id"] == task["task_id"]
    assert C.tasks(store_rt, due_before=date(2026, 3, 1)) == []


def test_finish_and_cancel(store_rt, feats) -> None:
    made = C.create_campaign(store_rt, _req(), features=feats)
    with pytest.raises(InvalidOption, match="end_date"):
        C.finish_campaign(store_rt, made.campaign_id, end_date=date(2026, 1, 1), by="x")
    done = C.finish_campaign(store_rt, made.campaign_id, end_date=date(2026, 6, 1), by="x")
    assert done["status"] == "finished" and done["end_date"] == "2026-06-01"
    with pytest.raises(InvalidOption, match="is finished"):
        C.cancel_campaign(store_rt, made.campaign_id, by="x")
    other = C.create_campaign(store_rt, _req(), features=feats)
    C.cancel_campaign(store_rt, other.campaign_id, by="x")
    task = C.tasks(store_rt, campaign_id=other.campaign_id, limit=1)[0]
    with pytest.raises(InvalidOption, match="cancelled"):
        C.update_task(store_rt, task["task_id"], status="done", updated_by="x")
    assert [c["status"] for c in C.list_campaigns(store_rt, status="finished")] == ["finished"]
    with pytest.raises(NotFoundError):
        C.get_campaign(store_rt, 424242)


def test_custom_templates_are_saved_copied_used_and_deleted(store_rt, feats) -> None:
    copy = C.copy_template(store_rt, "win_back", "win_back_soft", "tester")
    assert copy.meta["based_on"] == "win_back" and not copy.builtin
    data = copy.to_dict()
    data["steps"][0]["body"] = "Hello {{ account_name }}, {{ unknown_var }}"
    with pytest.raises(TemplateError, match="unknown_var"):
        C.save_template(store_rt, {k: data[k] for k in ("name", "label", "steps")}, "tester")
    data["steps"] = data["steps"][:2]
    data["steps"][0]["body"] = "Hello {{ account_name }} ({{ health_tier }})"
    saved = C.save_template(store_rt, {k: data[k] for k in ("name", "label", "steps")}, "ed")
    assert len(saved.steps) == 2 and saved.meta["updated_by"] == "ed"
    names = [t.name for t in C.list_templates(store_rt)]
    assert names[:5] == list(C.T.BUILTIN) and "win_back_soft" in names
    made = C.create_campaign(store_rt, _req(template="win_back_soft"), features=feats)
    assert made.tasks == made.treated * 2
    preview = C.preview_template(store_rt, "win_back_soft", customer_id="C000003", features=feats)
    assert preview["steps"][0]["script"].startswith("Hello Company 3 (")
    C.delete_template(store_rt, "win_back_soft")
    with pytest.raises(NotFoundError):
        C.get_template(store_rt, "win_back_soft")
    with pytest.raises(InvalidOption, match="built-in"):
        C.delete_template(store_rt, "win_back")
    # the campaign kept its own copy of the steps
    assert len(C.get_campaign(store_rt, made.campaign_id)["steps"]) == 2


def test_preview_writes_nothing_and_renders_one_customer(store_rt, feats) -> None:
    shown = C.preview_campaign(store_rt, _req(), features=feats)
    assert shown.campaign_id is None and shown.tasks == shown.treated * 4
    assert len(shown.sample) == 4 and shown.sample[0]["script"]
    assert _counts(store_rt) == (0, 0, 0)


def test_migration_0007_creates_every_column_the_models_name(store_rt) -> None:
    from sqlalchemy import inspect

    from revintel.store.campaigns import CampaignTemplate

    found = inspect(store_rt.store.engine)
    for model in (Campaign, CampaignMember, CampaignTask, CampaignTemplate):
        columns = {c["name"] for c in found.get_columns(model.__tablename__)}
        assert columns == set(model.__table__.columns.keys()), model.__tablename__
