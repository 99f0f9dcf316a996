"""Account churn risk from the existing churn model and health score, and the revenue health
check (revintel/app/account_risk.py; docs/pipeline.md, Account churn risk)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from revintel.app import account_risk
from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.core.errors import NotFoundError
from tests.conftest import isolated_settings
from tests.pipeline.expansion_company import write_company


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    root = tmp_path_factory.mktemp("account-risk")
    folder = root / "company"
    folder.mkdir()
    write_company(folder)
    ctx = AppContext(isolated_settings(root / "home"))
    load_paths(ctx, [folder], source="test")
    yield ctx
    ctx.close()


def test_without_a_churn_model_the_health_score_gives_the_level(planted: AppContext) -> None:
    risk = account_risk.churn_risk(planted, "A050")
    assert risk.risk_source == "health score"
    assert risk.churn_probability is None and risk.model_version is None
    assert risk.health_score is not None and risk.health_tier is not None
    assert risk.risk_level == account_risk.HEALTH_LEVELS[risk.health_tier]
    assert any("Churn model" in note for note in risk.notes)
    assert any(f.startswith("Health: ") for f in risk.risk_factors)


def test_the_churn_models_prediction_comes_first(
    planted: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from revintel.churn import service as churn

    explanation = SimpleNamespace(
        factors=[
            {"sentence": "Logins fell by half", "direction": "raises risk"},
            {"sentence": "Pays annually", "direction": "lowers risk"},
        ]
    )
    fake = SimpleNamespace(
        account_name="Acme",
        churn_risk_score=0.42,
        risk_tier="High",
        model_version="churn-3m-v1",
        scored_at="2023-12-31",
        horizon_months=3,
        explanation=explanation,
        recommended_actions=["Call the champion"],
    )
    calls: list[str] = []

    def customer(ctx: object, account_id: str, top: int = 10) -> SimpleNamespace:
        calls.append(account_id)
        return fake

    monkeypatch.setattr(churn, "customer", customer)
    risk = account_risk.churn_risk(planted, "A050")
    assert calls == ["A050"]
    assert (risk.risk_level, risk.risk_source) == ("high", "churn model")
    assert risk.churn_probability == 0.42 and risk.account_name == "Acme"
    assert risk.risk_factors[0] == "Logins fell by half"
    assert "Pays annually" not in risk.risk_factors
    assert risk.recommendations[0] == "Call the champion"
    assert risk.health_score is not None  # the health score beside it


def test_an_unknown_account_is_not_found(planted: AppContext) -> None:
    with pytest.raises(NotFoundError, match="'nobody'"):
        account_risk.churn_risk(planted, "nobody")


def test_health_check_names_what_is_missing(planted: AppContext) -> None:
    check = account_risk.health_check(planted)
    assert check.status == "degraded"
    assert check.tables["usage"] == "available" and check.tables["deals"] == "missing"
    assert "deals" in check.missing and check.churn_model == "not trained"


def test_expansion_beside_churn_risk(planted: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl

    from revintel.churn import service as churn

    found = account_risk.expansion_beside_churn_risk(planted, limit=5)
    assert len(found.report.accounts) == 5 and found.churn_risk == {}
    assert found.churn_note is not None and "predictions" in found.churn_note
    top = found.report.accounts[0].account_id
    frame = pl.DataFrame(
        {"account_id": [top, "A119"], "churn_risk_score": [0.8, 0.1], "risk_tier": ["High", "Safe"]}
    )
    monkeypatch.setattr(churn, "current_predictions", lambda ctx: frame)
    found = account_risk.expansion_beside_churn_risk(planted, limit=5)
    assert found.churn_risk == {top: (0.8, "High")} and found.churn_note is None
