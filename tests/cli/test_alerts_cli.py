"""``revintel alerts``: rules, evaluate, inbox, ack, history, deliveries, digest, test-delivery."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from revintel.app.context import AppContext
from revintel.app.retention import alerts
from revintel.app.retention.alerts import AlertInputs
from revintel.cli.app import app
from revintel.core.config import Settings
from revintel.core.errors import InvalidOption
from tests.retention.conftest import CUSTOMERS, configure, risk
from tests.retention.receivers import http_receiver, smtp_server

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, ["alerts", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_rules_inbox_ack_and_deliveries_from_the_command_line(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    ctx = AppContext(Settings(home=Path(home), warehouse_url=None, database_url=None))
    with smtp_server() as (port, received), http_receiver([200]) as hook:
        configure(ctx, mail={"host": "127.0.0.1", "port": port, "security": "none", "retries": 0})
        added = json.loads(
            _run(
                "rule-add",
                "--name",
                "Risk up",
                "--kind",
                "risk_rise",
                "--threshold",
                "10",
                "--scope",
                "segment=Enterprise",
                "--email",
                "cs@acme.test",
                "--slack",
                hook.url,
                "--author",
                "ann",
                "--home",
                home,
                "-f",
                "json",
            )
        )
        assert added["thresholds"] == {"points": 10.0} and added["created_by"] == "ann"
        assert added["scope"] == {"segment": ["Enterprise"]}
        rid = str(added["id"])
        bad = runner.invoke(
            app,
            [
                "alerts",
                "rule-add",
                "--name",
                "x",
                "--kind",
                "risk_rise",
                "--threshold",
                "500",
                "--home",
                home,
            ],
        )
        assert isinstance(bad.exception, InvalidOption) and "points: 500" in str(bad.exception)
        bad = runner.invoke(
            app,
            [
                "alerts",
                "rule-add",
                "--name",
                "x",
                "--kind",
                "risk_rise",
                "--threshold",
                "5",
                "--webhook",
                "http://169.254.169.254/x",
                "--home",
                home,
            ],
        )
        assert "link-local" in str(bad.exception)
        rules = json.loads(_run("rules", "--home", home, "-f", "json"))
        assert [r["name"] for r in rules] == ["Risk up"]
        _run("rule-edit", rid, "--threshold", "points=12", "--home", home)
        assert alerts.get_rule(ctx, int(rid)).thresholds == {"points": 12.0}
        # the evaluation's data: no predictions are loaded in this home, so say why it skipped
        out = json.loads(_run("evaluate", "--home", home, "-f", "json"))
        assert out["fired"] == 0 and out["rules"][0]["skipped"]
        # fire one through the app with hand-made inputs, then work it from the CLI
        alerts.evaluate(
            ctx,
            inputs=AlertInputs(
                customers=CUSTOMERS,
                risk=risk({"2026-04": [0.1] * 4, "2026-05": [0.5, 0.5, 0.1, 0.1]}),
            ),
        )
        assert len(received) == 1 and len(hook.requests) == 1
        inbox = json.loads(_run("inbox", "--home", home, "-f", "json"))
        assert inbox["total"] == 1 and inbox["alerts"][0]["subject"] == "C1"
        alert_id = str(inbox["alerts"][0]["id"])
        assert "acknowledged by bob" in _run("ack", alert_id, "--author", "bob", "--home", home)
        assert json.loads(_run("inbox", "--home", home, "-f", "json"))["total"] == 0
        assert json.loads(_run("inbox", "--all", "--home", home, "-f", "json"))["total"] == 1
        assert json.loads(_run("history", "--home", home, "-f", "json"))["total"] == 1
        log = json.loads(_run("deliveries", "--home", home, "-f", "json"))
        assert sorted(d["channel"] for d in log) == ["email", "webhook"]
        assert all(d["status"] == "sent" for d in log)
        # test messages and a digest
        out = _run(
            "test-delivery", "--email", "me@acme.test", "--webhook", hook.url, "--home", home
        )
        assert "email to me@acme.test: sent" in out and "webhook to" in out
        assert received[-1].message["Subject"] == "[revintel] Test message"
        nobody = runner.invoke(app, ["alerts", "digest", "daily", "--home", home])
        assert nobody.exit_code != 0 and "digest_recipients" in str(nobody.exception)
        configure(ctx, alerts={"digest_recipients": ["boss@acme.test"]})
        assert "1 alert(s)" in _run("digest", "weekly", "--home", home)
        assert received[-1].rcpt_tos == ["boss@acme.test"]
    failed = runner.invoke(
        app, ["alerts", "test-delivery", "--email", "me@acme.test", "--home", home]
    )
    assert failed.exit_code == 1 and "failed" in failed.stdout  # the SMTP server is gone
    _run("rule-disable", rid, "--home", home)
    assert json.loads(_run("rules", "--home", home, "-f", "json"))[0]["enabled"] is False
    _run("rule-delete", rid, "--home", home)
    assert json.loads(_run("rules", "--home", home, "-f", "json")) == []
    assert "risk_rise" in _run("kinds")
