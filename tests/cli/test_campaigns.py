"""``revintel campaigns``: templates, the wizard, tasks and the CRM export on a scored company."""

from __future__ import annotations

import csv
import io
import json
import re

from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.cli.app import app
from revintel.retention.templates import TemplateError

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, ["campaigns", *args])
    return result


def test_the_campaign_flow_from_the_command_line(churn_context: AppContext, tmp_path) -> None:
    home = ["--home", str(churn_context.settings.home)]
    listed = _run("templates", *home, "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [t["name"] for t in json.loads(listed.stdout)][:5] == [
        "payment_assistance",
        "support_escalation",
        "product_training",
        "win_back",
        "executive_outreach",
    ]
    shown = _run("templates", "show", "executive_outreach", *home)
    assert shown.exit_code == 0 and "Day 3 · call (if no response)" in shown.stdout

    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"name": "mine", "steps": [{"day": 1, "kind": "call", "title": "Call {{ contact }}"}]}
        )
    )
    refused = _run("template-save", "--file", str(bad), *home)
    assert refused.exit_code != 0 and isinstance(refused.exception, TemplateError)
    assert "'contact'" in str(refused.exception) and "account_name" in str(refused.exception)

    made = _run(
        "create",
        "--name",
        "High risk outreach",
        "--rule",
        "churn_risk > 0.1",
        "--template",
        "executive_outreach",
        "--start",
        "2026-03-02",
        "--owners",
        "sarah,john",
        "--capacity",
        "5000",
        "--holdout",
        "0.15",
        "--seed",
        "3",
        "--cost-per-customer",
        "40",
        "--criteria",
        "risk_below=0.3",
        "--criteria",
        "within_days=60",
        "--author",
        "tester",
        "--format",
        "json",
        *home,
    )
    assert made.exit_code == 0, made.output
    out = json.loads(made.stdout)
    assert out["customers"] > 10 and out["treated"] + out["holdout"] == out["customers"]
    assert out["tasks"] == out["treated"] * 4
    assert set(out["by_owner"]) == {"sarah", "john"}
    cid = out["campaign_id"]

    listed = json.loads(_run("list", "--format", "json", *home).stdout)
    assert listed[0]["campaign_id"] == cid and listed[0]["by_status"]["todo"] == out["tasks"]

    tasks = json.loads(
        _run("tasks", "--campaign", str(cid), "--owner", "sarah", "--format", "json", *home).stdout
    )
    assert tasks and {t["owner"] for t in tasks} == {"sarah"}
    moved = _run(
        "task-update",
        str(tasks[0]["task_id"]),
        "--status",
        "contacted",
        "--outcome",
        "booked a QBR",
        "--author",
        "sarah",
        "--format",
        "json",
        *home,
    )
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout)["status"] == "contacted"

    target = tmp_path / "tasks.csv"
    exported = _run("export", str(cid), "--out", str(target), *home)
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == out["tasks"] and f"wrote {len(rows)} tasks" in exported.stdout
    calls = [r for r in rows if r["kind"] == "call"]
    assert all("Top risk factors:" in r["script"] for r in calls)
    # the churn model's factors, in words, for the scored customers
    assert sum("Top risk factors: (missing)" not in r["script"] for r in calls) > len(calls) / 2
    assert not re.search(r"\b(None|nan)\b", " ".join(r["script"] + r["subject"] for r in rows))

    finished = _run("finish", str(cid), "--end", "2026-06-30", "--format", "json", *home)
    assert json.loads(finished.stdout)["status"] == "finished"

    empty = _run(
        "create",
        "--name",
        "none",
        "--rule",
        "mrr > 100000000",
        "--template",
        "win_back",
        "--start",
        "2026-03-02",
        *home,
    )
    assert empty.exit_code != 0 and "selects no customers" in str(empty.exception)
    badrule = _run(
        "create",
        "--name",
        "x",
        "--rule",
        "mrr >> 3",
        "--template",
        "win_back",
        "--start",
        "2026-03-02",
        *home,
    )
    assert badrule.exit_code != 0 and "position" in str(badrule.exception).lower()
    listed = json.loads(_run("list", "--format", "json", *home).stdout)
    assert len(listed) == 1  # the failed wizards left nothing
