"""``/api/v1/jobs``: the list, running a job now, the history; and ``create_app(scheduler=True)``
starting and stopping the scheduler with the app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext


def test_list_run_and_history(loaded_client: TestClient) -> None:
    listed = loaded_client.get("/api/v1/jobs")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    names = [j["name"] for j in body["jobs"]]
    assert names[:2] == ["score_customers", "retrain"] and "executive_report" in names
    first = body["jobs"][0]
    assert first["schedule"] == "0 2 * * *" and first["next_run"] and first["last_run"] is None
    assert body["scheduler_running"] is False

    # No churn model is trained on the small company: the run fails, recorded with the reason.
    run = loaded_client.post("/api/v1/jobs/score_customers/run")
    assert run.status_code == 200, run.text
    assert run.json()["status"] == "failed" and run.json()["trigger"] == "api"
    assert run.json()["error"]

    runs = loaded_client.get("/api/v1/jobs/runs", params={"job": "score_customers"}).json()
    assert [r["run_id"] for r in runs["runs"]] == [run.json()["run_id"]]
    last = loaded_client.get("/api/v1/jobs").json()["jobs"][0]["last_run"]
    assert last["status"] == "failed"


def test_unknown_jobs_are_404_and_bad_filters_422(loaded_client: TestClient) -> None:
    missing = loaded_client.post("/api/v1/jobs/nightly/run")
    assert missing.status_code == 404 and "score_customers" in missing.json()["detail"]
    bad = loaded_client.get("/api/v1/jobs/runs", params={"job": "nightly"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "job"
    assert loaded_client.get("/api/v1/jobs/runs", params={"limit": 0}).status_code == 422


def test_the_scheduler_starts_and_stops_with_the_app(loaded_context: AppContext) -> None:
    app = create_app(loaded_context, scheduler=True)
    with TestClient(app) as client:
        assert client.get("/api/v1/jobs").json()["scheduler_running"] is True
        scheduler = app.state.scheduler
        assert scheduler.running and "score_customers" in scheduler.next_runs()
    assert not scheduler.running
