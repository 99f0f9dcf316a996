"""``/api/v1/campaigns``: templates CRUD, the wizard, tasks, the CSV export, finish and cancel,
on an empty home whose customer features are a hand-built frame."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from revintel.app.retention import features as features_module
from revintel.app.retention.features import CustomerFeatures
from tests.app.retention.conftest import features_frame

BASE = "/api/v1/campaigns"


@pytest.fixture
def api(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    frame = CustomerFeatures(frame=features_frame(300), as_of="2026-02", columns={})
    monkeypatch.setattr(features_module, "customer_features", lambda rt: frame)
    return client


def _wizard(**over):
    body = {
        "name": "Win them back",
        "template": "win_back",
        "start_date": "2026-03-02",
        "customer_ids": [f"C{i:06d}" for i in range(120)],
        "owners_mode": "round_robin",
        "people": ["sarah", "john"],
        "capacity": 200,
        "holdout_share": 0.2,
        "seed": 5,
        "cost_per_customer": 30,
        "success_criteria": {"no_churn_months": 3},
        "created_by": "api-test",
    }
    body.update(over)
    return body


def test_templates_crud_and_refusal_of_unknown_variables(api: TestClient) -> None:
    listed = api.get(f"{BASE}/templates").json()
    assert len([t for t in listed["templates"] if t["builtin"]]) == 5
    assert "churn_risk" in listed["variables"] and listed["missing"] == "(missing)"
    shown = api.get(f"{BASE}/templates/payment_assistance", params={"customer_id": "C000002"})
    assert shown.status_code == 200 and shown.json()["steps"][0]["script"].count("Company 2")
    assert api.get(f"{BASE}/templates/nope").status_code == 404

    copy = api.post(f"{BASE}/templates/win_back/copy", json={"name": "win_back_short"})
    assert copy.status_code == 201 and copy.json()["based_on"] == "win_back"
    body = {"name": "win_back_short", "label": "Short", "steps": copy.json()["steps"][:2]}
    body["steps"][0]["body"] = "Hi {{ decision_maker }}"
    bad = api.put(f"{BASE}/templates/win_back_short", json=body)
    assert bad.status_code == 422 and "'decision_maker'" in bad.json()["detail"]
    body["steps"][0]["body"] = "Hi {{ account_name }}"
    assert api.put(f"{BASE}/templates/win_back_short", json=body).status_code == 200
    assert api.post(f"{BASE}/templates", json={**body, "name": "win_back"}).status_code == 422
    assert api.delete(f"{BASE}/templates/win_back_short").status_code == 204
    assert api.delete(f"{BASE}/templates/win_back_short").status_code == 404


def test_the_wizard_tasks_export_and_finish(api: TestClient) -> None:
    preview = api.post(BASE, json=_wizard(dry_run=True))
    assert preview.status_code == 200 and preview.json()["campaign_id"] is None
    assert api.get(BASE).json() == []

    made = api.post(BASE, json=_wizard())
    assert made.status_code == 201, made.text
    out = made.json()
    assert out["treated"] + out["holdout"] == 120 and out["tasks"] == out["treated"] * 4
    assert out == {
        **out,
        "holdout": preview.json()["holdout"],
        "by_tier": preview.json()["by_tier"],
    }
    cid = out["campaign_id"]

    detail = api.get(f"{BASE}/{cid}").json()
    assert detail["by_status"]["todo"] == out["tasks"] and set(detail["by_owner"]) == {
        "sarah",
        "john",
    }
    tasks = api.get(f"{BASE}/{cid}/tasks", params={"owner": "john", "status": "todo"}).json()
    assert tasks and {t["owner"] for t in tasks} == {"john"}
    patched = api.patch(
        f"{BASE}/tasks/{tasks[0]['task_id']}",
        json={"status": "responded", "outcome": "accepted the offer"},
    )
    assert patched.status_code == 200 and patched.json()["updated_by"] == "api"
    back = api.patch(f"{BASE}/tasks/{tasks[0]['task_id']}", json={"status": "contacted"})
    assert back.status_code == 422 and "forward" in back.json()["detail"]
    assert (
        api.get(f"{BASE}/tasks", params={"status": "responded"}).json()[0]["task_id"]
        == (tasks[0]["task_id"])
    )

    exported = api.get(f"{BASE}/{cid}/tasks.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == out["tasks"] and rows[0]["campaign"] == "Win them back"
    assert not re.search(r"\b(None|nan)\b", exported.text)

    assert (
        api.post(f"{BASE}/{cid}/finish", json={"end_date": "2026-05-01"}).json()["status"]
        == "finished"
    )
    assert api.post(f"{BASE}/{cid}/cancel").status_code == 422
    assert api.get(f"{BASE}/9999").status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        ({"customer_ids": ["C000001", "ZZZ"]}, 404, "'ZZZ'"),
        ({"holdout_share": 0.8}, 422, "holdout_share"),
        ({"capacity": 10}, 422, "short"),
        ({"template": "nope"}, 404, "template 'nope'"),
        ({"steps": [{"day": 1, "kind": "call", "title": "{{ x }}"}]}, 422, "'x'"),
        ({"success_criteria": {"risk_below": 5}}, 422, "risk_below"),
        ({"customer_ids": None}, 422, "exactly one"),
    ],
)
def test_a_bad_wizard_answers_with_the_field_and_creates_nothing(
    api: TestClient, change, status, text
) -> None:
    answer = api.post(BASE, json=_wizard(**change))
    assert answer.status_code == status, answer.text
    assert text in answer.json()["detail"]
    assert api.get(BASE).json() == []
