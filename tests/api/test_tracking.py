"""``POST /api/v1/touchpoints`` and ``POST /api/v1/revenue-events``: checked per event, stored once,
acknowledged only once journalled, visible in the warehouse and ``revintel info`` after a flush;
and, against a real server, nothing acknowledged is lost to a ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.cli import app as cli_app
from revintel.store.event_journal import EventJournal
from tests.api.serving import revintel_serve, serving
from tests.conftest import isolated_settings

TOUCH = {"customer_id": "C001", "channel": "Email", "timestamp": "2025-03-01T10:00:00Z"}


@pytest.fixture
def tracked(loaded_context: AppContext, tmp_path: Path) -> Iterator[TestClient]:
    """A client over the small company plus fx_rates for EUR in 2025-03."""
    rates = tmp_path / "rates"
    rates.mkdir()
    (rates / "fx_rates.csv").write_text("month,currency,rate\n2025-03,EUR,1.1\n")
    load_paths(loaded_context, [rates], mode="append", source="test")
    with TestClient(create_app(loaded_context)) as client:
        yield client


def _flush(client: TestClient) -> None:
    client.app.state.journal_flusher.flush_now()  # type: ignore[attr-defined]


def _rows(client: TestClient, table: str) -> list[dict[str, Any]]:
    ctx: AppContext = client.app.state.context  # type: ignore[attr-defined]
    ctx.refresh()
    if not ctx.warehouse.has_table(table):
        return []
    return ctx.warehouse.to_arrow(ctx.warehouse.table(table)).to_pylist()  # type: ignore[union-attr]


def test_one_event_a_list_and_an_events_object_are_stored_and_visible_after_a_flush(
    tracked: TestClient,
) -> None:
    one = tracked.post("/api/v1/touchpoints", json={**TOUCH, "event_id": "a"})
    listed = tracked.post(
        "/api/v1/touchpoints",
        json=[{**TOUCH, "event_id": "b"}, {"visitor_id": "v9", **_no_customer(TOUCH)}],
    )
    wrapped = tracked.post(
        "/api/v1/touchpoints",
        json={"events": [{"lead_id": "L1", **_no_customer(TOUCH), "campaign_id": "spring"}]},
    )
    assert [r.status_code for r in (one, listed, wrapped)] == [202, 202, 202]
    assert one.json()["ids"] == ["a"] and one.json()["durable"] is True
    assert listed.json()["stored"] == 2
    assert _rows(tracked, "touchpoints") == []  # journalled, not yet appended

    _flush(tracked)
    rows = {r["touchpoint_id"]: r for r in _rows(tracked, "touchpoints")}
    assert len(rows) == 4
    assert rows["a"]["customer_id"] == "C001" and rows["a"]["journey_id"] is None
    visitor = rows[listed.json()["ids"][1]]
    assert (visitor["journey_id"], visitor["customer_id"]) == ("v9", None)
    lead = rows[wrapped.json()["ids"][0]]
    assert (lead["journey_id"], lead["campaign"]) == ("L1", "spring")


def _no_customer(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "customer_id"}


def test_a_bad_event_refuses_the_whole_batch_naming_its_index_and_field(
    tracked: TestClient,
) -> None:
    answer = tracked.post(
        "/api/v1/touchpoints",
        json=[TOUCH, TOUCH, TOUCH, {**TOUCH, "channel": 7}, {**TOUCH, "customer_id": "C999"}],
    )

    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "InvalidEvents"
    by_field = {p["file"]: p for p in body["problems"]}
    assert by_field["events[3].channel"]["message"] == "not text"
    assert "marketing channel" in by_field["events[3].channel"]["expected"]
    assert by_field["events[4].customer_id"]["got"] == "C999"
    assert "visitor_id" in by_field["events[4].customer_id"]["expected"]
    _flush(tracked)
    assert _rows(tracked, "touchpoints") == []


def test_a_body_that_is_not_json_or_too_large_a_batch_is_refused(tracked: TestClient) -> None:
    bad = tracked.post(
        "/api/v1/touchpoints", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 422 and bad.json()["problems"][0]["message"] == "not JSON"
    big = tracked.post("/api/v1/touchpoints", json=[TOUCH] * 10_001)
    assert big.status_code == 422
    assert "at most 10,000" in big.json()["problems"][0]["expected"]


def test_a_retry_with_the_same_key_gets_the_same_receipt_and_stores_nothing(
    tracked: TestClient,
) -> None:
    body = [TOUCH, {**TOUCH, "channel": "Social"}]
    first = tracked.post("/api/v1/touchpoints", json=body, headers={"Idempotency-Key": "k-1"})
    again = tracked.post("/api/v1/touchpoints", json=body, headers={"Idempotency-Key": "k-1"})
    other = tracked.post("/api/v1/touchpoints", json=[TOUCH], headers={"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert other.json()["error"] == "IdempotencyKeyReused"
    assert "k-1" in other.json()["detail"]
    _flush(tracked)
    assert len(_rows(tracked, "touchpoints")) == 2


def test_an_event_id_already_stored_is_not_stored_twice(tracked: TestClient) -> None:
    tracked.post("/api/v1/touchpoints", json=[{**TOUCH, "event_id": "e-1"}])
    _flush(tracked)
    again = tracked.post(
        "/api/v1/touchpoints", json=[{**TOUCH, "event_id": "e-1"}, {**TOUCH, "event_id": "e-2"}]
    )

    assert again.json()["stored"] == 1 and again.json()["duplicates"] == ["e-1"]
    _flush(tracked)
    ids = sorted(r["touchpoint_id"] for r in _rows(tracked, "touchpoints"))
    assert ids == ["e-1", "e-2"]


def test_revenue_events_are_converted_through_fx_rates_and_keep_the_original(
    tracked: TestClient,
) -> None:
    event = {
        "customer_id": "C002",
        "event_type": "subscription_started",
        "revenue_amount": 100,
        "currency": "EUR",
        "timestamp": "2025-03-15T09:00:00+01:00",
        "event_id": "r-1",
    }
    trial = {"visitor_id": "v1", "event_type": "trial_started", "timestamp": "2025-03-02"}
    answer = tracked.post("/api/v1/revenue-events", json=[event, trial])
    assert answer.status_code == 202, answer.text

    _flush(tracked)
    rows = {r["conversion_id"]: r for r in _rows(tracked, "conversions")}
    paid = rows["r-1"]
    assert paid["conversion_type"] == "paid"
    assert paid["value"] == pytest.approx(110.0)
    assert (paid["currency"], paid["original_value"]) == ("EUR", 100.0)
    assert paid["converted_at"].isoformat() == "2025-03-15T08:00:00"
    other = rows[answer.json()["ids"][1]]
    assert (other["conversion_type"], other["value"], other["currency"]) == ("trial", 0.0, "USD")


def test_a_currency_without_a_rate_for_the_month_is_refused_naming_index_currency_month(
    tracked: TestClient,
) -> None:
    ok = {"customer_id": "C001", "event_type": "signup", "timestamp": "2025-03-01T00:00:00Z"}
    april = {
        "customer_id": "C001",
        "event_type": "subscription_started",
        "revenue_amount": 50,
        "currency": "EUR",
        "timestamp": "2025-04-01T00:00:00Z",
    }
    answer = tracked.post("/api/v1/revenue-events", json=[ok, april])

    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert problem["file"] == "events[1].currency"
    assert problem["message"] == "no exchange rate for EUR in 2025-04"


def test_unknown_event_types_are_refused(tracked: TestClient) -> None:
    answer = tracked.post(
        "/api/v1/revenue-events",
        json={"customer_id": "C001", "event_type": "churned", "timestamp": "2025-03-01"},
    )
    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert problem["file"] == "events[0].event_type"
    assert "subscription_started" in problem["expected"]


def test_flushed_events_are_counted_by_revintel_info(tracked: TestClient) -> None:
    tracked.post("/api/v1/touchpoints", json=[TOUCH] * 3)
    tracked.post(
        "/api/v1/revenue-events",
        json={"customer_id": "C001", "event_type": "signed_up", "timestamp": "2025-03-01"},
    )
    _flush(tracked)
    home = tracked.app.state.context.settings.home  # type: ignore[attr-defined]

    result = CliRunner().invoke(cli_app, ["info", "--home", str(home), "--format", "json"])
    tables = json.loads(result.stdout)["tables"]
    assert tables["touchpoints"]["rows"] == 3
    assert tables["conversions"]["rows"] == 1


def test_the_flusher_appends_within_its_interval_without_being_asked(
    tracked: TestClient,
) -> None:
    sent = time.monotonic()
    tracked.post("/api/v1/touchpoints", json=[TOUCH])
    while not _rows(tracked, "touchpoints"):
        assert time.monotonic() - sent < 10, "not visible 10 s after the acknowledgement"
        time.sleep(0.05)
    # ingestion.flush_seconds is 1 s: visible within it plus one append
    assert time.monotonic() - sent < 5


# -- a real server killed with SIGKILL ----------------------------------------------------------


def _post(url: str, events: list[dict[str, Any]], key: str) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(events).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 202
        return dict(json.loads(answer.read()))


@pytest.mark.chaos
def test_kill_9_after_the_acknowledgements_loses_no_acknowledged_event(
    company_csvs: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ctx = AppContext(isolated_settings(home))
    load_paths(ctx, [company_csvs], source="test")
    ctx.close()
    # The flusher waits a minute: what was acknowledged lives only in the journal at the kill.
    (home / "attribution.toml").write_text("[ingestion]\nflush_seconds = 60\n")
    acknowledged: list[str] = []
    lock = threading.Lock()

    with serving(revintel_serve(home), tmp_path) as served:

        def client(worker: int) -> None:
            for n in range(100):
                batch = [
                    {"visitor_id": f"v{worker}-{n}-{j}", **_no_customer(TOUCH)} for j in range(50)
                ]
                try:
                    receipt = _post(f"{served.url}/api/v1/touchpoints", batch, f"w{worker}-{n}")
                except OSError:
                    return  # the server is gone
                with lock:
                    acknowledged.extend(receipt["ids"])

        threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        while True:
            with lock:
                if len(acknowledged) >= 2_000:
                    break
            time.sleep(0.001)
        os.killpg(served.process.pid, signal.SIGKILL)  # requests still in flight
        for t in threads:
            t.join()
        served.process.wait()
    with lock:
        acked = list(acknowledged)
    journal = EventJournal(home)
    pending = journal.pending_count()
    assert pending >= len(acked)  # nothing was appended before the kill
    journal.close()

    with serving(revintel_serve(home), tmp_path):
        deadline = time.monotonic() + 60
        while True:
            restarted = AppContext(isolated_settings(home))
            try:
                ids: list[str] = []
                if restarted.warehouse.has_table("touchpoints"):
                    table = restarted.warehouse.table("touchpoints").select("touchpoint_id")
                    ids = restarted.warehouse.to_arrow(table).column(0).to_pylist()  # type: ignore[union-attr]
            finally:
                restarted.close()
            if len(ids) >= len(acked) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    print(f"acknowledged {len(acked)}, journalled {pending}, in the warehouse {len(ids)}")
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(acked) <= set(ids)  # every acknowledged event is there


def test_a_batch_of_10000_events_fits_the_body_limit(tracked: TestClient) -> None:
    batch = [
        {**_no_customer(TOUCH), "visitor_id": f"visitor-{i:06d}", "source": "newsletter"}
        for i in range(10_000)
    ]
    answer = tracked.post("/api/v1/touchpoints", json=batch)

    assert answer.status_code == 202, answer.text[:300]
    assert answer.json()["stored"] == 10_000


def test_a_server_that_takes_no_event_leaves_no_journal(loaded_context: AppContext) -> None:
    with TestClient(create_app(loaded_context)) as client:
        assert client.get("/api/v1/tables").status_code == 200
        client.app.state.journal_flusher.flush_now()  # type: ignore[attr-defined]
    assert not (loaded_context.settings.home / "ingestion").exists()
