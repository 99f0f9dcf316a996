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
