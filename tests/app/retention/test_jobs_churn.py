"""The scoring, retraining and export jobs on a trained churn home (3,000 customers)."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from revintel.app.context import AppContext
from revintel.app.retention import jobs, notes
from revintel.churn.service import current_predictions


def test_score_retrain_and_export_run_for_real(churn_context: AppContext, tmp_path: Path) -> None:
    ctx = churn_context
    scored = jobs.run_job(ctx, "score_customers", trigger="schedule")
    assert scored.status == "success", scored.error
    assert scored.summary["customers_scored"] > 500 and scored.summary["model_version"]

    retrain = jobs.run_job(ctx, "retrain")
    assert retrain.status == "success", retrain.error
    # The policy's own verdict (due monthly or on drift), recorded with its reason.
    assert isinstance(retrain.summary["retrained"], bool) and retrain.summary["reason"]
    if retrain.summary["retrained"]:
        assert retrain.summary["candidate"] and "promoted" in retrain.summary

    high = current_predictions(ctx).filter(pl.col("risk_tier") == "High")
    account = high["account_id"][0]
    notes.add_note(ctx, account, text="=HYPERLINK(evil)", author="ana", follow_up="2030-01-02")
    folder = tmp_path / "exports"
    (ctx.settings.home / "retention.toml").write_text(
        f'[jobs]\nexport_folder = "{folder.as_posix()}"\n', encoding="utf-8"
    )

    exported = jobs.run_job(ctx, "export_high_risk")

    assert exported.status == "success", exported.error
    assert (
        exported.summary["rows"] == high.height and exported.summary["source"] == "High risk tier"
    )
    (path,) = folder.glob("high_risk_*.csv")
    assert str(path) == exported.summary["file"]
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == high.height
    assert {r["risk_tier"] for r in rows} == {"High"}
    assert {"account_id", "owner", "churn_risk_score", "last_note", "next_follow_up"} <= set(
        rows[0]
    )
    noted = next(r for r in rows if r["account_id"] == account)
    assert noted["last_note"] == "'=HYPERLINK(evil)"  # escaped for spreadsheets
    assert noted["next_follow_up"] == "2030-01-02"
    assert not list(folder.glob("*.part"))
