"""The measured-impact faces on the demo company: CLI and API give the app's figures."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.app.retention import impact
from revintel.cli.app import app as cli


@pytest.fixture
def client(campaign_demo: AppContext):
    with TestClient(create_app(campaign_demo)) as c:
        yield c


def test_api_results_impact_and_recommendations(client: TestClient, campaign_demo) -> None:
    view = impact.intervention_impact(campaign_demo)
    body = client.get("/api/v1/campaigns/impact").json()
    assert body["truth_available"] is True
    assert [r["campaign_id"] for r in body["campaigns"]] == [c.campaign_id for c in view.campaigns]
    first = view.campaigns[0]
    row = body["campaigns"][0]
    assert first.churn is not None
    assert row["uplift"] == pytest.approx(first.churn.uplift)
    assert row["uplift_low"] == pytest.approx(first.churn.uplift_low)
    got = client.get(f"/api/v1/campaigns/{first.campaign_id}/results")
    assert got.status_code == 200, got.text
    data = got.json()
    assert data["churn"]["p_value"] == pytest.approx(first.churn.p_value)
    assert data["planted"]["inside_interval"] is True
    assert data["source"] == "imported"
    missing = client.get("/api/v1/campaigns/NOPE/results")
    assert missing.status_code == 404 and "campaign_id" in missing.text
    members = campaign_demo.warehouse.table("campaign_members").to_pyarrow()
    customer = members.column("customer_id")[0].as_py()
    rec = client.get(f"/api/v1/accounts/{customer}/recommendations")
    assert rec.status_code == 200, rec.text
    actions = rec.json()["actions"]
    assert actions and all(a["treated"] > 0 for a in actions)
    assert client.get("/api/v1/accounts/NOPE/recommendations").status_code == 404


def test_cli_results_impact_recommend(campaign_demo: AppContext) -> None:
    home = str(campaign_demo.settings.home)
    runner = CliRunner()
    view = impact.intervention_impact(campaign_demo)
    first = view.campaigns[0]
    out = runner.invoke(
        cli, ["campaigns", "results", first.campaign_id, "--home", home, "-f", "json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert first.churn is not None
    assert data["churn"]["uplift"] == pytest.approx(first.churn.uplift)
    table = runner.invoke(cli, ["campaigns", "impact", "--home", home])
    assert table.exit_code == 0, table.output
    assert first.campaign_id in table.output and "planted uplift" in table.output
    assert "Newcombe" in table.output
    missing = runner.invoke(cli, ["campaigns", "results", "NOPE", "--home", home])
    assert missing.exit_code != 0 and "campaign_id" in (missing.output + str(missing.exception))
    members = campaign_demo.warehouse.table("campaign_members").to_pyarrow()
    customer = members.column("customer_id")[0].as_py()
    rec = runner.invoke(cli, ["campaigns", "recommend", customer, "--home", home])
    assert rec.exit_code == 0, rec.output
    assert "treated n" in rec.output and "payment_assistance" in rec.output
