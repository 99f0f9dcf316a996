"""What the Data page draws, from service results: pure shaping, no Streamlit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from revintel.app.catalog import TableInfo
from revintel.app.ingest import FileReport
from revintel.core.errors import Problem
from revintel.data.schema import CONTRACTS
from revintel.ui import frames
from revintel.ui.components import age_text

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_age_text() -> None:
    assert age_text(None) == "never"
    assert age_text(NOW - timedelta(seconds=20), NOW) == "just now"
    assert age_text(NOW - timedelta(minutes=5, seconds=59), NOW) == "5 min ago"
    assert age_text(NOW - timedelta(hours=3), NOW) == "3 h ago"
    assert age_text(NOW - timedelta(days=1, hours=2), NOW) == "1 day ago"
    assert age_text(NOW - timedelta(days=12), NOW) == "12 days ago"
    assert age_text(NOW + timedelta(seconds=5), NOW) == "just now"  # clock skew


def test_catalog_frame() -> None:
    tables = [
        TableInfo("customers", "Customers.", True, 1200, NOW),
        TableInfo("deals", "Deals.", False, 0, None),
    ]
    frame = frames.catalog_frame(tables)
    assert list(frame.columns) == ["table", "loaded", "rows", "last_loaded", "description"]
    assert frame["rows"].tolist() == [1200, pd.NA]
    assert frame["last_loaded"][0] == pd.Timestamp(NOW)
    assert pd.isna(frame["last_loaded"][1])


def test_contract_frame_lists_every_column() -> None:
    contract = CONTRACTS["subscriptions"]
    frame = frames.contract_frame(contract).set_index("column")
    assert list(frame.index) == list(contract.column_names)
    assert frame.loc["plan_type", "values"] == "one of Basic, Pro, Enterprise"
    assert frame.loc["monthly_price", "type"] == "float"
    assert bool(frame.loc["monthly_price", "required"])
    assert not bool(frame.loc["seats", "required"])
    assert bool(frame.loc["end_date", "blank_ok"])
    assert frames.contract_summary(contract) == (
        "6 required, 4 optional columns · key subscription_id"
    )


def test_history_frame() -> None:
    runs = [
        {
            "id": 2,
            "started_at": "2025-06-01T10:00:00+00:00",
            "finished_at": None,
            "status": "failed",
            "mode": "replace",
            "source": "upload",
            "files": ["/tmp/x/customers.csv"],
            "tables": {},
            "message": "Validation failed: 2 problem(s) found; nothing was loaded.\n  - …",
        },
        {
            "id": 1,
            "started_at": "2025-05-31T09:00:00+00:00",
            "finished_at": "2025-05-31T09:00:02+00:00",
            "status": "success",
            "mode": "replace",
            "source": "cli",
            "files": ["a.csv", "b.csv"],
            "tables": {"customers": 1000, "payments": 12345},
            "message": None,
        },
    ]
    frame = frames.history_frame(runs)
    assert frame["run"].tolist() == [2, 1]
    assert frame["rows"].tolist() == [0, 13345]
    assert frame["tables"].tolist() == ["", "customers 1,000 · payments 12,345"]
    assert frame["files"].tolist() == [1, 2]
    assert frame["message"][0] == "Validation failed: 2 problem(s) found; nothing was loaded."
    assert frame["started"][1] == pd.Timestamp("2025-05-31T09:00:00+00:00")
    assert frames.history_frame([]).empty


def test_problem_and_file_frames_rename_files() -> None:
    def name(text: str) -> str:
        return text.replace("/tmp/up/", "")

    problems = [
        Problem(
            "/tmp/up/customers.csv",
            "duplicate customer_id",
            3,
            "customer_id",
            "a customer_id not used by another row (row 1 of /tmp/up/customers.csv has it too)",
            "C001",
        ),
        Problem(
            "/tmp/up/notes.txt", "unsupported file type", None, None, "a .csv or .parquet file"
        ),
    ]
    frame = frames.problems_frame(problems, name)
    assert frame["file"].tolist() == ["customers.csv", "notes.txt"]
    assert frame["row"].tolist() == [3, pd.NA]
    assert "row 1 of customers.csv" in frame["expected"][0]
    assert frame["got"][0] == "C001"
    assert pd.isna(frame["got"][1])

    files = [FileReport("/tmp/up/customers.csv", "customers", "csv", 3, 1, problems[:1])]
    report = frames.file_reports_frame(files, name)
    assert report.to_dict("records") == [
        {"file": "customers.csv", "table": "customers", "format": "csv", "rows": 3, "problems": 1}
    ]
