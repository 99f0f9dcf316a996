"""The segments CLI and API on the churn demo company."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.cli.app import app
from revintel.retention.rules import RuleError
from tests.conftest import isolated_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def home(churn_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("segments-faces") / "home"
    shutil.copytree(churn_home, copy, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(AppContext(isolated_settings(home)))) as test_client:
        yield test_client


def test_cli_preview_json_prints_count_and_mrr(home: Path) -> None:
    result = runner.invoke(
        app,
        ["segments", "preview", "--rule", 'segment = "SMB" and mrr > 0', "--home", str(home),
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["count"] > 0 and data["mrr"] > 0 and data["as_of"]


def test_cli_bad_rule_exits_non_zero_with_the_position(home: Path) -> None:
    result = runner.invoke(
        app, ["segments", "preview", "--rule", "mrr > 10000 and", "--home", str(home)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, RuleError)
    assert "position 16" in str(result.exception)
    # the installed command: exit code 1 and the message on stderr
    env = {**os.environ, "REVINTEL_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "revintel", "segments", "preview", "--rule", "mrr >> 1",
         "--format", "json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "position 6" in proc.stderr and proc.stdout == ""


def test_cli_save_list_show_track_members_delete(home: Path) -> None:
    base = ["--home", str(home)]
    saved = runner.invoke(
        app, ["segments", "save", "Enterprise", "--rule", 'segment = "Enterprise"',
              "--author", "ana", *base, "--format", "json"],
    )  # fmt: skip
    assert saved.exit_code == 0, saved.output
    seg = json.loads(saved.stdout)
    assert seg["created_by"] == "ana"
    listed = json.loads(runner.invoke(app, ["segments", "list", *base, "-f", "json"]).stdout)
    assert any(s["id"] == seg["id"] and s["count"] > 0 for s in listed)
    shown = runner.invoke(app, ["segments", "show", str(seg["id"]), *base])
    assert shown.exit_code == 0 and 'segment = "Enterprise"' in shown.stdout
    tracked = runner.invoke(app, ["segments", "track", str(seg["id"]), *base, "-f", "json"])
    assert tracked.exit_code == 0 and len(json.loads(tracked.stdout)["months"]) == 12
    members = runner.invoke(app, ["segments", "members", str(seg["id"]), *base])
    lines = members.stdout.strip().splitlines()
    assert (
        lines[0].startswith("customer_id,")
        and len(lines) - 1 == next(s for s in listed if s["id"] == seg["id"])["count"]
    )
    compared = runner.invoke(
        app, ["segments", "compare", str(seg["id"]), 'segment = "SMB"', *base, "-f", "json"]
    )
    assert compared.exit_code == 0 and len(json.loads(compared.stdout)["segments"]) == 2
    gone = runner.invoke(app, ["segments", "delete", str(seg["id"]), *base])
    assert gone.exit_code == 0 and "Deleted segment" in gone.stdout


def test_api_preview_and_errors(client: TestClient) -> None:
    r = client.post("/api/v1/segments/preview", json={"rule": "mrr > 1k", "sample": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] > 0 and len(body["sample"]) == 3
    same = client.post("/api/v1/segments/preview", json={"builder": body["builder"]})
    assert same.json()["count"] == body["count"]
    bad = client.post("/api/v1/segments/preview", json={"rule": "mrr > 10000 and churn_risk >"})
    assert bad.status_code == 422
    assert bad.json()["error"] == "RuleError"
    assert "position 29" in bad.json()["detail"]
    unknown = client.post("/api/v1/segments/preview", json={"rule": "mrrr > 1"})
    assert unknown.status_code == 422 and "did you mean mrr" in unknown.json()["detail"]
    neither = client.post("/api/v1/segments/preview", json={})
    assert neither.status_code == 422


def test_api_crud_compare_discover_track_members(client: TestClient) -> None:
    features = client.get("/api/v1/segments/features").json()
    kinds = {c["name"]: c["kind"] for c in features["columns"]}
    assert kinds["mrr"] == "number" and kinds["has_account_manager"] == "bool"
    assert "SMB" in next(c for c in features["columns"] if c["name"] == "segment")["values"]
    made = client.post(
        "/api/v1/segments", json={"name": "API SMB", "rule": 'segment = "SMB"', "created_by": "bo"}
    )
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    dup = client.post("/api/v1/segments", json={"name": "API SMB", "rule": "mrr > 1"})
    assert dup.status_code == 422 and "name" in dup.json()["detail"]
    bad = client.post("/api/v1/segments", json={"name": "Bad", "rule": "mrr >"})
    assert bad.status_code == 422
    assert all(s["name"] != "Bad" for s in client.get("/api/v1/segments").json())
    patched = client.patch(f"/api/v1/segments/{sid}", json={"description": "small ones"})
    assert patched.json()["description"] == "small ones"
    assert client.get(f"/api/v1/segments/{sid}").json()["rule"] == 'segment = "SMB"'
    compared = client.post(
        "/api/v1/segments/compare", json={"segments": [sid, 'segment = "Enterprise"']}
    )
    assert compared.status_code == 200 and compared.json()["differences"]
    tracked = client.get(f"/api/v1/segments/{sid}/track").json()
    assert tracked["snapshots"][0]["month"] == tracked["as_of"]
    members = client.get(f"/api/v1/segments/{sid}/members", params={"limit": 5}).json()
    assert len(members["customers"]) == 5 and members["count"] == 5
    csv = client.get(f"/api/v1/segments/{sid}/members", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("customer_id,")
    found = client.get("/api/v1/segments/discover", params={"k": 2}).json()
    assert found["k"] == 2 and len(found["clusters"]) == 2
    saved = client.post(
        "/api/v1/segments/discover/save",
        json={"cluster": found["clusters"][0]["cluster"], "name": "Cluster", "k": 2},
    )
    assert saved.status_code == 201 and saved.json()["source"] == "discovery"
    assert client.delete(f"/api/v1/segments/{sid}").status_code == 200
    assert client.get(f"/api/v1/segments/{sid}").status_code == 404
