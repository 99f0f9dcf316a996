"""The upload form's workflow, without Streamlit: save, validate, load."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from revintel.app.context import AppContext
from revintel.core.errors import ValidationFailed
from revintel.data.names import InvalidFileName
from revintel.ui.uploads import UPLOAD_PREFIX, load_upload, save_uploads, validate_uploads
from tests.conftest import SMALL_COMPANY_CSVS, SMALL_COMPANY_ROWS


def test_save_uploads_keeps_names_drops_directories_and_keeps_repeats(tmp_path: Path) -> None:
    paths = save_uploads(
        [
            ("customers.csv", b"a"),
            ("../../etc/payments.csv", b"b"),
            ("C:\\exports\\costs.csv", b"c"),
            ("customers.csv", b"d"),
        ],
        tmp_path,
    )
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "customers.csv",
        "payments.csv",
        "costs.csv",
        "4/customers.csv",
    ]
    assert [p.read_bytes() for p in paths] == [b"a", b"b", b"c", b"d"]


def test_validate_then_load(empty_context: AppContext) -> None:
    files = [(name, text.encode()) for name, text in SMALL_COMPANY_CSVS.items()]
    pending = validate_uploads(empty_context, files)
    assert pending.report.ok
    assert pending.report.tables == SMALL_COMPANY_ROWS
    assert empty_context.warehouse.list_tables() == []  # validating writes nothing
    assert pending.display_name(str(pending.paths[0])) == "customers.csv"

    result = load_upload(empty_context, pending)
    assert result.tables == SMALL_COMPANY_ROWS
    assert not pending.folder.exists()  # the uploaded copies are gone
    assert empty_context.warehouse.row_counts() == SMALL_COMPANY_ROWS
    assert empty_context.store.load_history(1)[0]["source"] == "upload"


def test_invalid_upload_reports_problems_and_cannot_load(empty_context: AppContext) -> None:
    bad = SMALL_COMPANY_CSVS["customers.csv"].replace("C003,2024-02-11", "C003,2024-02-31")
    pending = validate_uploads(empty_context, [("customers.csv", bad.encode())], mode="append")
    assert not pending.report.ok
    assert pending.mode == "append"
    [problem] = pending.report.problems
    assert (pending.display_name(problem.file), problem.row, problem.column, problem.got) == (
        "customers.csv",
        3,
        "signup_date",
        "2024-02-31",
    )
    with pytest.raises(ValidationFailed):
        load_upload(empty_context, pending)
    assert empty_context.warehouse.list_tables() == []


def test_validating_removes_uploads_abandoned_for_a_day(
    empty_context: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old = tmp_path / f"{UPLOAD_PREFIX}old"
    recent = tmp_path / f"{UPLOAD_PREFIX}recent"
    for folder in (old, recent):
        folder.mkdir()
        (folder / "customers.csv").write_text("x")
    day_and_a_bit = time.time() - 25 * 3600
    os.utime(old, (day_and_a_bit, day_and_a_bit))
    pending = validate_uploads(empty_context, [("customers.csv", b"customer_id\n")])
    assert not old.exists()
    assert recent.exists()
    assert pending.folder.parent == tmp_path


@pytest.mark.parametrize("name", ["..", "a/..", "", "cust\x00omers.csv", "x" * 300 + ".csv"])
def test_a_name_that_cannot_be_a_file_is_refused_before_anything_is_written(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(InvalidFileName, match=r"expected a file name such as customers\.csv"):
        save_uploads([("customers.csv", b"a\n"), (name, b"b\n")], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_crm_export_validates_and_loads_through_its_mapping(empty_context: AppContext) -> None:
    from tests.data.test_mapping import MAPPING, PIPELINE, PRODUCTS

    files = [("sales_pipeline.csv", PIPELINE.encode()), ("products.csv", PRODUCTS.encode())]
    pending = validate_uploads(empty_context, files, mapping=("crm.toml", MAPPING.encode()))
    assert pending.report.ok, pending.report.problems
    assert pending.report.tables == {"deals": 4, "deal_stage_history": 9}
    assert pending.display_name(pending.report.files[0].file) == (
        "sales_pipeline.csv via crm.toml [tables.deals]"
    )

    result = load_upload(empty_context, pending)
    assert result.tables == {"deals": 4, "deal_stage_history": 9}
    assert not pending.folder.exists()


def test_a_bad_mapping_upload_reports_its_key(empty_context: AppContext) -> None:
    from tests.data.test_mapping import MAPPING, PIPELINE, PRODUCTS

    files = [("sales_pipeline.csv", PIPELINE.encode()), ("products.csv", PRODUCTS.encode())]
    bad = MAPPING.replace('owner = "sales_agent"', 'owner = "agent"').encode()
    pending = validate_uploads(empty_context, files, mapping=("crm.toml", bad))
    assert not pending.report.ok
    [problem] = pending.report.problems
    assert pending.display_name(problem.file) == "sales_pipeline.csv"
    assert "key tables.deals.columns.owner: no column 'agent'" in problem.message
    pending.discard()
