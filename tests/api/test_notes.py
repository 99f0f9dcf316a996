"""``/api/v1/accounts/{id}/notes``, ``/api/v1/notes/...`` and the account export over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_notes_crud_over_http(loaded_client: TestClient) -> None:
    created = loaded_client.post(
        "/api/v1/accounts/C002/notes",
        json={
            "text": "Called the CFO",
            "kind": "call",
            "outcome": "Asked for a discount",
            "follow_up": "2026-02-01",
            "author": "ana",
        },
    )
    assert created.status_code == 201, created.text
    note = created.json()
    for key in ("note_id", "account_id", "text", "kind", "created_at", "author"):
        assert key in note
    assert (note["account_id"], note["kind"], note["author"]) == ("C002", "call", "ana")
    assert note["follow_up"] == "2026-02-01" and note["updated_at"] is None

    listed = loaded_client.get("/api/v1/accounts/C002/notes").json()
    assert listed["total"] == 1 and listed["notes"][0]["note_id"] == note["note_id"]

    path = f"/api/v1/notes/{note['note_id']}"
    refused = loaded_client.patch(path, json={"text": "hijack", "author": "ben"})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "NotAllowed" and "'ana'" in refused.json()["detail"]

    edited = loaded_client.patch(path, json={"outcome": "Discount approved", "author": "ana"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["outcome"] == "Discount approved"
    assert edited.json()["text"] == "Called the CFO" and edited.json()["updated_at"]
    cleared = loaded_client.patch(path, json={"follow_up": None, "author": "ana"}).json()
    assert cleared["follow_up"] is None

    assert loaded_client.delete(path, params={"author": "ben"}).status_code == 403
    assert loaded_client.delete(path, params={"author": "ana"}).status_code == 204
    assert loaded_client.delete(path, params={"author": "ana"}).status_code == 404
    assert loaded_client.get("/api/v1/accounts/C002/notes").json()["total"] == 0


def test_bad_notes_answer_with_the_field(loaded_client: TestClient) -> None:
    unknown = loaded_client.post("/api/v1/accounts/NOPE/notes", json={"text": "hi"})
    assert unknown.status_code == 404 and "NOPE" in unknown.json()["detail"]
    blank = loaded_client.post("/api/v1/accounts/C001/notes", json={"text": "   "})
    assert blank.status_code == 422 and "'text'" in blank.json()["detail"]
    kind = loaded_client.post("/api/v1/accounts/C001/notes", json={"text": "a", "kind": "visit"})
    assert kind.status_code == 422 and kind.json()["fields"][0]["field"] == "kind"
    day = loaded_client.post(
        "/api/v1/accounts/C001/notes", json={"text": "a", "follow_up": "tomorrow"}
    )
    assert day.status_code == 422 and day.json()["fields"][0]["field"] == "follow_up"
    extra = loaded_client.post("/api/v1/accounts/C001/notes", json={"text": "a", "x": 1})
    assert extra.status_code == 422
    nothing = loaded_client.patch("/api/v1/notes/1", json={"author": "api"})
    assert nothing.status_code in (404, 422)


def test_follow_ups_and_export(loaded_client: TestClient) -> None:
    for account, due in (("C001", "2020-01-01"), ("C003", "2020-02-01")):
        loaded_client.post(
            f"/api/v1/accounts/{account}/notes",
            json={"text": f"Follow {account}", "follow_up": due, "author": "ana"},
        )
    loaded_client.post("/api/v1/accounts/C003/notes", json={"text": "No date"})

    found = loaded_client.get("/api/v1/notes/follow-ups", params={"owner": "ana"}).json()
    assert [f["account_id"] for f in found["follow_ups"]] == ["C001", "C003"]
    assert found["overdue"] == 2 and found["follow_ups"][0]["days_overdue"] > 0
    none = loaded_client.get("/api/v1/notes/follow-ups", params={"owner": "zed"}).json()
    assert none["count"] == 0

    exported = loaded_client.get("/api/v1/accounts/C003/export")
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert body["account"]["customer_id"] == "C003" and body["account"]["country"] == "FR"
    assert [n["text"] for n in body["notes"]] == ["Follow C003", "No date"]
    assert [n["author"] for n in body["notes"]] == ["ana", "api"]
