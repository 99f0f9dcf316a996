"""Bring your own predictions (brief 004's prototype): a predictions CSV drives every churn view."""

from __future__ import annotations

from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.app.ingest import load_paths
from revintel.churn import service
from revintel.core.errors import NotFoundError, ValidationFailed

PREDICTIONS = """\
account_id,churn_risk_score,risk_tier,prediction
C001,0.91,High,1
C002,0.55,Medium,1
C003,0.25,Low,0
C004,0.05,Safe,0
"""


def load_own_predictions(ctx: AppContext, folder: Path, text: str = PREDICTIONS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "predictions.csv"
    path.write_text(text)
    load_paths(ctx, [path], table="predictions", source="test")
    ctx.refresh()


def test_every_view_works_on_imported_predictions(loaded_context: AppContext, tmp_path: Path):
    load_own_predictions(loaded_context, tmp_path / "own")
    frame = service.current_predictions(loaded_context)
    assert frame.height == 4
    assert frame["account_id"].to_list() == ["C001", "C002", "C003", "C004"]  # riskiest first
    assert frame["risk_tier"].to_list() == ["High", "Medium", "Low", "Safe"]
    info = service.overview(loaded_context, frame)
    assert info.tiers == {"High": 1, "Medium": 1, "Low": 1, "Safe": 1}
    assert info.predicted_churners == 2  # threshold 0.5
    assert info.model_versions == []
    high = service.filter_predictions(frame, tiers=["High", "Medium"], search="c00")
    assert high["account_id"].to_list() == ["C001", "C002"]
    assert all(s.customers == 0 for s in service.driver_segments(loaded_context, frame))
    with pytest.raises(NotFoundError, match="imported predictions"):
        service.customer(loaded_context, "C001")


def test_bad_predictions_are_refused_and_nothing_changes(
    loaded_context: AppContext, tmp_path: Path
) -> None:
    load_own_predictions(loaded_context, tmp_path / "good")
    bad = PREDICTIONS.replace("C004,0.05", "C999,1.5")
    with pytest.raises(ValidationFailed) as failed:
        load_own_predictions(loaded_context, tmp_path / "bad", bad)
    report = str(failed.value)
    assert "churn_risk_score" in report and "C999" in report
    assert service.current_predictions(loaded_context).height == 4


def prototype_predictions(n: int = 200) -> str:
    """The prototype's predictions.csv: ``n`` accounts no customers table lists, undated."""
    rows = ["account_id,churn_risk_score,risk_tier,prediction"]
    for i in range(n):
        score = round((i * 37 % 100) / 100, 2)
        tier = (
            "High" if score > 0.7 else "Medium" if score > 0.4 else "Low" if score > 0.2 else "Safe"
        )
        rows.append(f"ACC-{i:04d},{score},{tier},{int(score >= 0.5)}")
    return "\n".join(rows) + "\n"


def test_predictions_load_alone_without_a_customers_table(
    empty_context: AppContext, tmp_path: Path
) -> None:
    # Refused before for 200 orphan rows and "customers ... the one table every load needs".
    load_own_predictions(empty_context, tmp_path / "own", prototype_predictions())
    assert not empty_context.warehouse.has_table("customers")
    frame = service.current_predictions(empty_context)
    assert frame.height == 200
    info = service.overview(empty_context, frame)
    assert info.customers == 200 and sum(info.tiers.values()) == 200
    assert info.scored_at is None  # undated: no "None" date
    assert info.model_versions == []
    # One undated score per account is no trend.
    assert service.risk_trend(empty_context, "ACC-0001") == []


def test_dated_predictions_alone_give_a_trend(empty_context: AppContext, tmp_path: Path) -> None:
    text = (
        "account_id,churn_risk_score,scored_at\n"
        "ACC-1,0.2,2025-01-31\nACC-1,0.6,2025-02-28\nACC-2,0.1,2025-02-28\n"
    )
    load_own_predictions(empty_context, tmp_path / "own", text)
    assert service.overview(empty_context).scored_at == "2025-02-28"
    trend = service.risk_trend(empty_context, "ACC-1")
    assert [(p.scored_at, p.churn_risk_score) for p in trend] == [
        ("2025-01-31", 0.2),
        ("2025-02-28", 0.6),
    ]


def test_orphan_predictions_are_refused_once_customers_are_loaded(
    loaded_context: AppContext, tmp_path: Path
) -> None:
    orphan = PREDICTIONS.replace("C004,0.05", "C999,0.05")
    with pytest.raises(ValidationFailed) as failed:
        load_own_predictions(loaded_context, tmp_path / "orphan", orphan)
    report = str(failed.value)
    assert "account_id" in report and "C999" in report and "orphan" in report


def test_customers_loaded_after_predictions_must_list_their_accounts(
    empty_context: AppContext, company_csvs: Path, tmp_path: Path
) -> None:
    load_own_predictions(empty_context, tmp_path / "own", prototype_predictions(5))
    with pytest.raises(ValidationFailed) as failed:
        load_paths(empty_context, [company_csvs / "customers.csv"], source="test")
    assert "predictions" in str(failed.value) and "ACC-0000" in str(failed.value)
