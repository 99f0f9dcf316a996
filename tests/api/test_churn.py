"""``/api/v1/churn/...`` over the trained demo home (read-only) or a private copy of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from revintel.api.app import create_app
from revintel.app.context import AppContext
from revintel.churn import service as churn_service
from tests.conftest import isolated_settings

API = "/api/v1/churn"


@pytest.fixture
def client(churn_home: Path) -> Iterator[TestClient]:
    """Read-only: only GETs and requests that change nothing."""
    with TestClient(create_app(AppContext(isolated_settings(churn_home)))) as test_client:
        yield test_client


@pytest.fixture
def writable(churn_context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(churn_context)) as test_client:
        yield test_client


def riskiest(client: TestClient) -> str:
    """The riskiest customer of the latest scoring run (one with an explanation)."""
    items = client.get(f"{API}/predictions", params={"limit": 1000}).json()["items"]
    return next(r["account_id"] for r in items if r["top_risk_factor"] is not None)


# -- predictions ----------------------------------------------------------------------------------
def test_predictions_page_and_total(client: TestClient) -> None:
    first = client.get(f"{API}/predictions", params={"limit": 10})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["limit"] == 10 and body["offset"] == 0 and len(body["items"]) == 10
    assert body["total"] > 100
    second = client.get(f"{API}/predictions", params={"limit": 10, "offset": 10}).json()
    assert second["total"] == body["total"]
    ids = [r["account_id"] for r in body["items"] + second["items"]]
    assert len(set(ids)) == 20
    scores = [r["churn_risk_score"] for r in body["items"] + second["items"]]
    assert scores == sorted(scores, reverse=True)
    item = body["items"][0]
    assert {"account_id", "churn_risk_score", "risk_tier", "prediction", "scored_at"} <= set(item)
    assert isinstance(item["scored_at"], str)  # dates as ISO text


def test_predictions_carry_the_dashboards_recommended_action(
    client: TestClient, churn_home: Path
) -> None:
    from revintel.churn.actions import DRIVER_SEGMENTS
    from revintel.ui import churn as churn_ui

    items = client.get(f"{API}/predictions", params={"limit": 1000}).json()["items"]
    ctx = AppContext(isolated_settings(churn_home))
    try:
        export = churn_ui.crm_csv(churn_ui.predictions(ctx)).decode("utf-8")
    finally:
        ctx.close()
    dashboard = {
        r["account_id"]: r["recommended_action"] for r in csv.DictReader(io.StringIO(export))
    }
    assert items and all(r["recommended_action"] == dashboard[r["account_id"]] for r in items)
    segment_actions = {name: action for name, action in DRIVER_SEGMENTS.values()}
    for item in items:
        if item["driver_segment"] is not None:
            assert item["recommended_action"] == segment_actions[item["driver_segment"]]


def test_an_offset_past_the_end_is_an_empty_page(client: TestClient) -> None:
    page = client.get(f"{API}/predictions", params={"offset": 10**22})
    assert page.status_code == 200, page.text
    assert page.json()["items"] == [] and page.json()["total"] > 0


def test_threshold_of_a_horizon(client: TestClient) -> None:
    # Query values are text: a horizon of "1" or "3" is the 1- or 3-month model, not a 422.
    for horizon in (1, 3):
        response = client.get(f"{API}/threshold", params={"horizon": horizon})
        assert response.status_code == 200, response.text
    assert client.get(f"{API}/threshold", params={"horizon": 2}).status_code == 422


def test_predictions_filters(client: TestClient) -> None:
    everyone = client.get(f"{API}/predictions", params={"limit": 1000}).json()
    tiers = client.get(
        f"{API}/predictions", params=[("tier", "High"), ("tier", "Medium"), ("limit", 1000)]
    ).json()
    assert {r["risk_tier"] for r in tiers["items"]} <= {"High", "Medium"}
    assert tiers["total"] == sum(r["risk_tier"] in ("High", "Medium") for r in everyone["items"])

    ranged = client.get(f"{API}/predictions", params={"min_score": 0.2, "max_score": 0.6}).json()
    assert all(0.2 <= r["churn_risk_score"] <= 0.6 for r in ranged["items"])

    account = everyone["items"][0]["account_id"]
    found = client.get(f"{API}/predictions", params={"search": account.lower()}).json()
    assert account in [r["account_id"] for r in found["items"]]

    segment = everyone["items"][0]["segment"]
    same = client.get(f"{API}/predictions", params={"segment": segment}).json()
    assert same["total"] > 0 and {r["segment"] for r in same["items"]} == {segment}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 1001}, "limit"), ({"tier": "Extreme"}, "tier"), ({"min_score": 2}, "min_score")],
)
def test_predictions_bad_query_is_a_422_naming_it(
    client: TestClient, params: dict[str, object], field: str
) -> None:
    response = client.get(f"{API}/predictions", params=params)
    assert response.status_code == 422
    assert any(f["field"].split(".")[0] == field for f in response.json()["fields"])


def test_overview_and_segments(client: TestClient) -> None:
    overview = client.get(f"{API}/overview").json()
    assert set(overview["tiers"]) == {"High", "Medium", "Low", "Safe"}
    assert sum(overview["tiers"].values()) == overview["customers"]
    assert [h["horizon_months"] for h in overview["horizons"]] == [1, 3]
    segments = client.get(f"{API}/segments").json()
    assert len(segments) == 5
    assert all(
        {"segment", "customers", "average_risk", "recommended_action"} <= set(s) for s in segments
    )


# -- one customer ---------------------------------------------------------------------------------
def test_customer_explanation_shape(client: TestClient) -> None:
    account = riskiest(client)
    response = client.get(f"{API}/customers/{account}")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["account_id"] == account
    assert 0 <= data["churn_risk_score"] <= 1
    assert data["risk_tier"] in ("High", "Medium", "Low", "Safe")
    factors = data["explanation"]["factors"]
    assert 0 < len(factors) <= 10
    for key in ("feature", "value", "retained_avg", "churned_avg", "z_score", "contribution"):
        assert key in factors[0], key
    assert isinstance(factors[0]["sentence"], str)
    assert data["recommended_actions"]
    assert data["trend"] and {"scored_at", "churn_risk_score"} <= set(data["trend"][0])

    similar = client.get(f"{API}/customers/{account}/similar", params={"n": 3}).json()
    assert 0 < len(similar) <= 3 and account not in [s["account_id"] for s in similar]


def test_unknown_account_is_a_404(client: TestClient) -> None:
    for path in ("/customers/NOPE", "/customers/NOPE/similar"):
        response = client.get(f"{API}{path}")
        assert response.status_code == 404
        assert response.json()["error"] == "NotFoundError" and "NOPE" in response.json()["detail"]
    response = client.post(f"{API}/what-if", json={"account_id": "NOPE", "changes": {"x": 1}})
    assert response.status_code == 404


def test_what_if(client: TestClient) -> None:
    account = riskiest(client)
    factors = client.get(f"{API}/customers/{account}").json()["explanation"]["factors"]
    feature = next(f["feature"] for f in factors if f["kind"] == "numeric")
    response = client.post(f"{API}/what-if", json={"account_id": account, "changes": {feature: 0}})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["account_id"] == account
    assert 0 <= data["new_probability"] <= 1
    assert data["delta"] == pytest.approx(data["new_probability"] - data["probability"])


def test_what_if_unknown_feature_is_a_422(client: TestClient) -> None:
    account = riskiest(client)
    response = client.post(
        f"{API}/what-if", json={"account_id": account, "changes": {"no_such_feature": 1}}
    )
    assert response.status_code == 422
    assert "no_such_feature" in response.json()["detail"]
    empty = client.post(f"{API}/what-if", json={"account_id": account, "changes": {}})
    assert empty.status_code == 422
    assert "changes" in [f["field"] for f in empty.json()["fields"]]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"tickets_3m": "lots"}, "changes.tickets_3m: expected a number of at least 0, got 'lots'"),
        ({"discount_pct": -50}, "changes.discount_pct: expected a number from 0 to 1, got -50"),
        ({"discount_pct": 50}, "changes.discount_pct: expected a number from 0 to 1, got 50"),
        ({"failed_invoice_2m": "maybe"}, "changes.failed_invoice_2m: expected true or false"),
    ],
)
def test_what_if_value_a_feature_cannot_take_is_a_422(
    client: TestClient, change: dict, expected: str
) -> None:
    body = {"account_id": riskiest(client), "changes": change}
    response = client.post(f"{API}/what-if", json=body)
    assert response.status_code == 422, response.text
    out = response.json()
    assert out["fields"][0]["field"] == "changes"
    assert expected in out["detail"]


def test_what_if_suggests_only_actionable_features(client: TestClient) -> None:
    from revintel.churn.features import ACTIONABLE

    for item in client.get(f"{API}/predictions", params={"limit": 30}).json()["items"]:
        body = {"account_id": item["account_id"], "changes": {"tickets_3m": 0}}
        suggested = [
            s["feature"] for s in client.post(f"{API}/what-if", json=body).json()["suggestions"]
        ]
        assert set(suggested) <= ACTIONABLE, suggested
        assert "tenure_months" not in suggested


# -- scoring --------------------------------------------------------------------------------------
def test_score_rows(client: TestClient) -> None:
    model = client.get("/api/v1/models/churn-1m-v1").json()
    numeric = [f["name"] for f in model["features"] if f["kind"] == "numeric"]
    rows = [{"account_id": "X1", numeric[0]: 1.0}, {"account_id": "X2"}]
    response = client.post(f"{API}/score", json={"version": "churn-1m-v1", "rows": rows})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["version"] == "churn-1m-v1" and data["count"] == 2
    assert [s["account_id"] for s in data["scores"]] == ["X1", "X2"]
    assert all(0 <= s["churn_risk_score"] <= 1 for s in data["scores"])


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"account_id": "X1", "mrr": "abc"}, "rows[0].mrr: expected a number of at least 0"),
        ({"mrr": 100.0}, "rows[0].account_id: expected the customer's account id"),
        ({"account_id": "X1", "segment": 7}, "rows[0].segment: expected one of "),
    ],
)
def test_score_value_a_feature_cannot_take_is_a_422(
    client: TestClient, row: dict, expected: str
) -> None:
    response = client.post(f"{API}/score", json={"version": "churn-1m-v1", "rows": [row]})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["fields"][0]["field"] == "rows" and expected in body["detail"]


def test_score_unknown_feature_is_a_422(client: TestClient) -> None:
    response = client.post(f"{API}/score", json={"rows": [{"bogus": 1}]})
    assert response.status_code == 422
    body = response.json()
    assert "bogus" in body["detail"] and body["fields"][0]["field"] == "rows"
    assert client.post(f"{API}/score", json={"rows": []}).status_code == 422


def test_score_an_uploaded_file(churn_context: AppContext, tmp_path: Path) -> None:
    from revintel.churn import service
    from tests.cli.test_churn import write_customers

    table = write_customers(tmp_path / "customers.csv")
    report = service.train_table_model(churn_context, table, "exited", "customer")
    with TestClient(create_app(churn_context)) as client, table.open("rb") as f:
        response = client.post(
            f"{API}/score/file", files={"file": ("customers.csv", f, "text/csv")}
        )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["version"] == report.version and data["count"] == 400
    assert data["scores"][0]["account_id"] == "K0000"


# -- threshold ------------------------------------------------------------------------------------
def test_threshold_analysis(client: TestClient) -> None:
    response = client.get(f"{API}/threshold", params={"value_per_save": 5000})
    assert response.status_code == 200, response.text
    data = response.json()
    assert {"max_f1", "max_net_value"} <= set(data["choices"])
    assert {"threshold", "churners_caught", "false_alarms", "net_value"} <= set(data["table"][0])


def test_the_api_gives_the_figures_the_table_and_cards_give(client: TestClient) -> None:
    params: dict[str, object] = {"cost_per_action": 150, "success_rate": 0.3}
    data = client.get(f"{API}/threshold", params=params).json()
    thresholds = [row["threshold"] for row in data["table"]]
    thresholds += [c["threshold"] for c in data["choices"].values() if c["threshold"] is not None]
    at = client.get(f"{API}/threshold", params={**params, "at": thresholds}).json()["at"]
    rows = {row["threshold"]: row for row in data["table"]}
    for threshold, figures in zip(thresholds, at, strict=True):
        assert figures["threshold"] == threshold
        assert {k: figures[k] for k in ("flagged", "churners_caught", "net_value")} == {
            k: rows[threshold][k] for k in ("flagged", "churners_caught", "net_value")
        }
    for choice in data["choices"].values():
        if choice["threshold"] is not None:
            row = rows[choice["threshold"]]
            assert (row["flagged"], row["net_value"]) == (choice["flagged"], choice["net_value"])


def test_the_api_recommends_within_a_capacity(client: TestClient) -> None:
    params = {"cost_per_action": 150, "success_rate": 0.3, "max_contacts": 120}
    data = client.get(f"{API}/threshold", params=params).json()
    within = data["choices"]["max_net_value_within_capacity"]
    assert within["flagged"] <= data["capacity"]["max_flagged"]
    assert within["flagged"] < data["choices"]["max_net_value"]["flagged"]
    assert [r["threshold"] for r in data["table"] if r["recommended"]] == [within["threshold"]]
    # A capacity below the riskiest tied group fits no threshold: nothing is recommended.
    tight = client.get(f"{API}/threshold", params={**params, "max_contacts": 5}).json()
    assert tight["choices"]["max_net_value_within_capacity"]["threshold"] is None
    assert not any(r["recommended"] for r in tight["table"])
    bad = client.get(f"{API}/threshold", params={"max_contacts": -3})
    assert bad.status_code == 422 and "max_contacts" in bad.text
    bad = client.get(f"{API}/threshold", params={"at": 2})
    assert bad.status_code == 422 and "at" in bad.text


def test_applying_the_best_threshold_within_a_capacity(writable: TestClient) -> None:
    body = {"method": "max_net_value_within_capacity", "max_contacts": 120}
    response = writable.put(f"{API}/threshold", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["threshold_method"] == "max_net_value_within_capacity"
    missing = writable.put(f"{API}/threshold", json={"method": "max_net_value_within_capacity"})
    assert missing.status_code == 422 and "max_contacts" in missing.text


def test_applying_a_threshold_changes_the_prediction_counts(writable: TestClient) -> None:
    def predicted() -> int:
        return writable.get(f"{API}/overview").json()["predicted_churners"]

    assert writable.put(f"{API}/threshold", json={"threshold": 0.9}).status_code == 200
    strict = predicted()
    response = writable.put(f"{API}/threshold", json={"threshold": 0.05})
    assert response.json()["threshold"] == 0.05
    assert predicted() > strict
    flagged = writable.get(f"{API}/predictions", params={"limit": 1000}).json()["items"]
    assert all(r["prediction"] == (r["churn_risk_score"] >= 0.05) for r in flagged)

    chosen = writable.put(f"{API}/threshold", json={"method": "max_f1"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["threshold_method"] == "max_f1"


@pytest.mark.parametrize(
    "body", [{}, {"threshold": 1.5}, {"method": "max_f1", "threshold": 0.3}, {"method": "best"}]
)
def test_bad_threshold_update_is_a_422(writable: TestClient, body: dict[str, object]) -> None:
    assert writable.put(f"{API}/threshold", json=body).status_code == 422


def test_a_method_choosing_a_threshold_of_1_is_a_422(
    writable: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a small company max_net_value can pick 1.0 (flag nobody), which the settings cannot hold.
    def flag_nobody(*_args: object, **_kwargs: object) -> SimpleNamespace:
        choice = SimpleNamespace(threshold=1.0)
        return SimpleNamespace(choices={"max_net_value": choice}, inputs=None)

    monkeypatch.setattr(churn_service.thresholds, "threshold_analysis", flag_nobody)
    response = writable.put(f"{API}/threshold", json={"method": "max_net_value"})
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "method"
    assert "flags no customer" in response.json()["detail"]
