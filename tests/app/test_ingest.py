"""`load_paths` / `validate_paths`: every bad input gets a clear error and changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revintel.app import ingest as loading
from revintel.app.context import AppContext
from revintel.app.ingest import LoadProgress, load_paths, storage_table, validate_paths
from revintel.core.config import Settings
from revintel.core.errors import ValidationFailed
from revintel.data import importer
from revintel.data.schema import contract_for

# Brief 001's four CSVs, with exactly its columns.
BRIEF_001 = {
    "customers.csv": """\
customer_id,signup_date,segment,country,acquisition_channel,is_active
C1,2023-01-05,SMB,US,Paid Ads,True
C2,2023-02-10,Enterprise,DE,Referral,False
C3,2023-03-01,Mid-Market,FR,Organic,True
""",
    "subscriptions.csv": """\
subscription_id,customer_id,plan_type,start_date,end_date,monthly_price
S1,C1,Basic,2023-01-05,,49.0
S2,C2,Enterprise,2023-02-10,2023-08-10,999.0
S3,C3,Pro,2023-03-01,,199.5
""",
    "payments.csv": """\
payment_id,customer_id,payment_date,amount,payment_status
P1,C1,2023-01-05,49.0,Success
P2,C2,2023-02-10,999.0,Success
P3,C3,2023-03-01,199.5,Failed
P4,C3,2023-03-04,199.5,Success
""",
    "costs.csv": """\
month,infra_cost,marketing_cost,support_cost
2023-01,1000,2000,500
2023-02,1100,2100,510.5
""",
}
BRIEF_001_ROWS = {"customers": 3, "subscriptions": 3, "payments": 4, "costs": 2}


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def warehouse_state(ctx: AppContext) -> dict[str, Any]:
    """Everything a load could change: the CURRENT pointer and every row of every table."""
    ctx.refresh()
    pointer = ctx.settings.warehouse_dir / "CURRENT"
    tables = {
        name: sorted(map(repr, ctx.warehouse.table(name).to_pyarrow().to_pylist()))
        for name in ctx.warehouse.list_tables()
    }
    return {"current": pointer.read_text() if pointer.exists() else None, "tables": tables}


@pytest.fixture
def ctx(empty_context: AppContext) -> AppContext:
    return empty_context


@pytest.fixture
def brief(tmp_path: Path) -> Path:
    return write_files(tmp_path / "brief001", dict(BRIEF_001))


@pytest.fixture
def loaded(ctx: AppContext, brief: Path) -> AppContext:
    """A home holding brief 001's data."""
    load_paths(ctx, [brief], source="test")
    return ctx


# -- good loads -----------------------------------------------------------------------------------


def test_brief_001_csvs_load_alone(ctx: AppContext, brief: Path) -> None:
    result = load_paths(ctx, [brief])

    assert result.tables == BRIEF_001_ROWS
    assert ctx.warehouse.row_counts() == BRIEF_001_ROWS
    assert sorted(Path(f).name for f in result.files) == sorted(BRIEF_001)
    subs = ctx.warehouse.table("subscriptions").to_pyarrow().to_pylist()
    s1 = next(r for r in subs if r["subscription_id"] == "S1")
    assert s1["end_date"] is None and s1["monthly_price"] == 49.0
    assert s1["seats"] is None  # optional column absent from the file: stored as null
    customers = ctx.warehouse.table("customers").to_pyarrow()
    assert customers.schema.field("is_active").type == pa.bool_()
    assert dict(
        zip(customers["customer_id"].to_pylist(), customers["is_active"].to_pylist(), strict=True)
    ) == {
        "C1": True,
        "C2": False,
        "C3": True,
    }
    history = ctx.store.load_history()
    assert history[0]["status"] == "success" and history[0]["tables"] == BRIEF_001_ROWS
    assert result.as_dict()["tables_rows"][0] == {"table": "customers", "rows": 3}


def test_each_load_is_recorded(loaded: AppContext, brief: Path) -> None:
    result = load_paths(loaded, [brief / "payments.csv"], mode="append", source="upload")

    last = loaded.store.load_history()[0]
    assert last["id"] == result.run_id
    assert (last["status"], last["mode"], last["source"]) == ("success", "append", "upload")
    assert last["files"] == [str(brief / "payments.csv")]
    assert last["tables"] == {"payments": 4}
    assert last["started_at"] <= last["finished_at"]


def test_append_is_idempotent_and_upserts(loaded: AppContext, tmp_path: Path) -> None:
    extra = write_files(
        tmp_path / "extra",
        {
            "customers.csv": "customer_id,signup_date,segment,country,acquisition_channel\n"
            "C3,2023-03-01,Enterprise,FR,Organic\n"  # C3 moves to Enterprise
            "C4,2023-04-01,SMB,GB,Partner\n"
        },
    )
    load_paths(loaded, [extra], mode="append")
    once = warehouse_state(loaded)["tables"]
    load_paths(loaded, [extra], mode="append")
    twice = warehouse_state(loaded)["tables"]

    assert once == twice
    rows = loaded.warehouse.table("customers").to_pyarrow().to_pylist()
    assert len(rows) == 4
    assert {r["customer_id"]: r["segment"] for r in rows}["C3"] == "Enterprise"
    assert loaded.warehouse.row_counts()["payments"] == BRIEF_001_ROWS["payments"]


def test_replace_swaps_only_the_tables_loaded(loaded: AppContext, tmp_path: Path) -> None:
    costs = write_files(
        tmp_path / "new",
        {"costs.csv": "month,infra_cost,marketing_cost,support_cost\n2024-01,1,2,3\n"},
    )

    load_paths(loaded, [costs])

    assert loaded.warehouse.row_counts() == {**BRIEF_001_ROWS, "costs": 1}


def test_table_detected_from_file_name_case_insensitively(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "in", {"Customers.CSV": BRIEF_001["customers.csv"]})

    assert load_paths(ctx, [folder / "Customers.CSV"]).tables == {"customers": 3}


def test_table_option_names_the_table(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "in", {"crm_export_2024.csv": BRIEF_001["customers.csv"]})

    assert load_paths(ctx, [folder / "crm_export_2024.csv"], table="Customers").tables == {
        "customers": 3
    }


def test_unknown_file_name_is_a_clear_error(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "in", {"crm_export.csv": BRIEF_001["customers.csv"]})

    with pytest.raises(ValidationFailed) as info:
        load_paths(ctx, [folder / "crm_export.csv"])

    text = str(info.value)
    assert "crm_export.csv" in text and "cannot tell which table" in text
    assert "customers, subscriptions, payments, costs" in text and "--table" in text
    assert ctx.store.load_history()[0]["status"] == "failed"


def test_unknown_table_option_is_a_clear_error(ctx: AppContext, brief: Path) -> None:
    with pytest.raises(
        ValidationFailed, match=r"--table: unknown table; expected one of customers"
    ):
        load_paths(ctx, [brief], table="clients")


def test_folder_reads_only_its_own_csv_and_parquet_files(ctx: AppContext, brief: Path) -> None:
    # The demo folder has a truth/ subfolder and other files: they are not tables.
    write_files(brief / "truth", {"customers.csv": "not,a,customer,file\n1,2,3,4\n"})
    (brief / "README.txt").write_text("hello")
    (brief / ".~lock.customers.csv#").write_text("lock")

    assert load_paths(ctx, [brief]).tables == BRIEF_001_ROWS


def test_two_files_of_one_table_are_concatenated(loaded: AppContext, tmp_path: Path) -> None:
    a = write_files(
        tmp_path / "a",
        {"payments.csv": csv(PAYMENTS, "P10,C1,2023-05-01,5,Success")},
    )
    b = write_files(
        tmp_path / "b",
        {
            "payments.csv": csv(
                PAYMENTS, "P11,C2,2023-05-01,6,Success", "P12,C2,2023-06-01,6,Success"
            )
        },
    )

    result = load_paths(loaded, [a / "payments.csv", b / "payments.csv"])

    assert result.tables == {"payments": 3}
    ids = loaded.warehouse.table("payments").payment_id.to_pyarrow().to_pylist()
    assert sorted(ids) == ["P10", "P11", "P12"]


def test_parquet_input_casts_compatible_types(ctx: AppContext, tmp_path: Path) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    customers = pa.table(
        {
            "customer_id": ["C1", "C2"],
            "signup_date": pa.array(
                [datetime(2023, 1, 5), datetime(2023, 2, 1)], pa.timestamp("us")
            ),  # midnight: a date
            "segment": pa.array(["SMB", "Enterprise"]).dictionary_encode(),
            "country": ["US", "DE"],
            "acquisition_channel": ["Organic", "Referral"],
            "is_active": pa.array([1, 0], pa.int8()),
        }
    )
    payments = pa.table(
        {
            "payment_id": ["P1", "P2"],
            "customer_id": ["C1", "C2"],
            "payment_date": ["2024-01-05", "2024-02-05"],  # text dates parse as in a CSV
            "amount": pa.array([49, 99], pa.int32()),  # whole numbers into a float column
            "payment_status": ["Success", "Failed"],
        }
    )
    pq.write_table(customers, folder / "customers.parquet")
    pq.write_table(payments, folder / "payments.parquet")

    assert load_paths(ctx, [folder]).tables == {"customers": 2, "payments": 2}
    stored = ctx.warehouse.table("payments").to_pyarrow()
    assert stored.schema.field("amount").type == pa.float64()
    assert stored.schema.field("payment_date").type == pa.date32()
    assert sorted(stored["amount"].to_pylist()) == [49.0, 99.0]
    active = ctx.warehouse.table("customers").is_active.to_pyarrow().to_pylist()
    assert sorted(active) == [False, True]


def _storage_subscriptions(path: Path, discounts: list[float | None]) -> None:
    """A subscriptions file in exactly the warehouse's storage schema, row groups of 2 rows."""
    contract = contract_for("subscriptions")
    n = len(discounts)
    frame = pl.DataFrame(
        {
            "subscription_id": [f"S{i}" for i in range(n)],
            "customer_id": [f"C{i % 3 + 1}" for i in range(n)],
            "plan_type": ["Pro"] * n,
            "start_date": [date(2024, 1, 1)] * n,
            "monthly_price": [100.0] * n,
            "discount_pct": discounts,
        }
    )
    pq.write_table(storage_table(contract, frame), path, row_group_size=2)


def test_a_parquet_file_in_the_storage_schema_is_copied_as_it_is(
    loaded: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "PARQUET_BATCH_ROWS", 2)
    path = tmp_path / "subscriptions.parquet"
    _storage_subscriptions(path, [0.1, None, 0.2, 0.3, 0.0])

    assert load_paths(loaded, [path]).tables == {"subscriptions": 5}

    (stored,) = loaded.warehouse.table_files("subscriptions")
    assert stored.read_bytes() == path.read_bytes()


def test_a_storage_schema_file_whose_values_change_is_written(
    loaded: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NaN reads as blank, so the last batch differs from the file: every batch is written.
    monkeypatch.setattr(importer, "PARQUET_BATCH_ROWS", 2)
    path = tmp_path / "subscriptions.parquet"
    _storage_subscriptions(path, [0.1, None, 0.2, 0.3, float("nan")])

    assert load_paths(loaded, [path]).tables == {"subscriptions": 5}

    assert len(loaded.warehouse.table_files("subscriptions")) > 1
    rows = loaded.warehouse.table("subscriptions").to_pyarrow().to_pylist()
    discounts = {r["subscription_id"]: r["discount_pct"] for r in rows}
    assert discounts == {"S0": 0.1, "S1": None, "S2": 0.2, "S3": 0.3, "S4": None}


def test_progress_reports_each_batch(ctx: AppContext, brief: Path) -> None:
    seen: list[LoadProgress] = []

    load_paths(ctx, [brief], progress=seen.append)

    assert [(p.table, p.rows) for p in seen] == [
        ("customers", 3),
        ("subscriptions", 3),
        ("payments", 4),
        ("costs", 2),
    ]


def test_validate_paths_reports_every_file_and_writes_nothing(
    ctx: AppContext, tmp_path: Path
) -> None:
    folder = write_files(
        tmp_path / "upload",
        {
            **BRIEF_001,
            "payments.csv": BRIEF_001["payments.csv"] + "P5,C1,2023-04-01,-3,Success\n",
        },
    )

    report = validate_paths(ctx, [folder])

    assert not report.ok and report.total == 1
    by_file = {Path(f.file).name: f for f in report.files}
    assert {name: (f.table, f.rows, f.problem_count) for name, f in by_file.items()} == {
        "customers.csv": ("customers", 3, 0),
        "subscriptions.csv": ("subscriptions", 3, 0),
        "payments.csv": ("payments", 5, 1),
        "costs.csv": ("costs", 2, 0),
    }
    assert by_file["payments.csv"].problems[0].row == 5
    assert report.as_dict()["files"][2]["problems"][0]["column"] == "amount"
    assert not (ctx.settings.warehouse_dir / "CURRENT").exists()
    assert ctx.store.load_history() == []
    assert validate_paths(ctx, [tmp_path / "upload" / "customers.csv"]).ok


def test_no_staging_files_are_left_behind(loaded: AppContext, brief: Path, tmp_path: Path) -> None:
    bad = write_files(
        tmp_path / "bad",
        {"customers.csv": BRIEF_001["customers.csv"] + "C1,2023-01-05,SMB,US,Paid Ads,True\n"},
    )
    with pytest.raises(ValidationFailed):
        load_paths(loaded, [bad])
    load_paths(loaded, [brief])

    staging = loaded.settings.home / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []


# -- bad input: a clear error, and the previous warehouse exactly as it was ----------------------


def csv(header: str, *rows: str) -> str:
    """CSV text from a header line and data lines."""
    return "".join(f"{line}\n" for line in (header, *rows))


CUSTOMERS = "customer_id,signup_date,segment,country,acquisition_channel,is_active"
PAYMENTS = "payment_id,customer_id,payment_date,amount,payment_status"
SUBSCRIPTIONS = "subscription_id,customer_id,plan_type,start_date,end_date,monthly_price"
LATIN_1_ROW = "C2,2023-01-05,SMB,Curaçao,Paid Ads,true\n".encode("latin-1")
BAD_BYTE_OFFSET = len(csv(CUSTOMERS, "C1,2023-01-05,SMB,US,Paid Ads,true")) + len(
    "C2,2023-01-05,SMB,Cura"
)

# case -> (files, fragments the error message must contain)
BAD_INPUTS: dict[str, tuple[dict[str, str | bytes], tuple[str, ...]]] = {
    "missing column": (
        {"customers.csv": csv("customer_id,signup_date,country", "C9,2023-01-01,US")},
        (
            "customers.csv, column 'segment': missing required column for table 'customers'",
            "customers.csv, column 'acquisition_channel': missing required column",
            "expected columns customer_id, signup_date, segment, country, acquisition_channel",
        ),
    ),
    "extra column": (
        {"customers.csv": csv(CUSTOMERS + ",colour", "C9,2023-01-01,SMB,US,Organic,true,blue")},
        (
            "customers.csv, column 'colour': unknown column for table 'customers'",
            "(optional: is_active, company_name, industry)",
        ),
    ),
    "wrong type": (
        {
            "subscriptions.csv": csv(
                SUBSCRIPTIONS, "S1,C1,Basic,2023-01-05,,49", "S2,C2,Pro,2023-02-10,,forty-nine"
            )
        },
        (
            "subscriptions.csv, row 2, column 'monthly_price': not a number; "
            "expected a number ≥ 0, got 'forty-nine'",
        ),
    ),
    "wrong boolean": (
        {"customers.csv": csv(CUSTOMERS, "C1,2023-01-05,SMB,US,Paid Ads,perhaps")},
        (
            "customers.csv, row 1, column 'is_active': not true/false; "
            "expected true/false (also 1/0, yes/no), got 'perhaps'",
        ),
    ),
    "unparseable date": (
        {
            "customers.csv": csv(
                CUSTOMERS,
                "C1,2023-01-05,SMB,US,Paid Ads,true",
                "C2,05/02/2023,SMB,US,Paid Ads,true",
                "C3,2023-02-30,SMB,US,Paid Ads,true",
            )
        },
        (
            "customers.csv, row 2, column 'signup_date': not a valid date; "
            "expected a date YYYY-MM-DD, got '05/02/2023'",
            "row 3, column 'signup_date': not a valid date; expected a date YYYY-MM-DD, "
            "got '2023-02-30'",
        ),
    ),
    "negative amount": (
        {
            "payments.csv": csv(
                PAYMENTS, "P1,C1,2023-01-05,49,Success", "P2,C1,2023-02-05,-49,Success"
            )
        },
        (
            "payments.csv, row 2, column 'amount': value out of range; expected a number ≥ 0, "
            "got '-49'",
        ),
    ),
    "duplicate ids": (
        {
            "payments.csv": csv(
                PAYMENTS,
                "P1,C1,2023-01-05,49,Success",
                "P2,C1,2023-02-05,49,Success",
                "P1,C2,2023-03-05,49,Success",
            )
        },
        (
            "payments.csv, row 3, column 'payment_id': duplicate payment_id; "
            "expected a payment_id not used by another row (row 1 of",
            "got 'P1'",
        ),
    ),
    "orphan payment": (
        {
            "payments.csv": csv(
                PAYMENTS, "P1,C1,2023-01-05,49,Success", "P2,C999,2023-02-05,1,Success"
            )
        },
        (
            "payments.csv, row 2, column 'customer_id': no customers row has this customer_id "
            "(orphan); expected a customer_id listed in customers, got 'C999'",
        ),
    ),
    "end before start": (
        {"subscriptions.csv": csv(SUBSCRIPTIONS, "S1,C1,Basic,2023-05-01,2023-04-30,49")},
        (
            "subscriptions.csv, row 1, column 'end_date': a subscription cannot end before it "
            "starts",
            "got 'end_date=2023-04-30, start_date=2023-05-01'",
        ),
    ),
    "unknown category": (
        {"customers.csv": csv(CUSTOMERS, "C1,2023-01-05,Startup,US,Paid Ads,true")},
        (
            "customers.csv, row 1, column 'segment': unknown value; "
            "expected one of SMB, Mid-Market, Enterprise, got 'Startup'",
        ),
    ),
    "blank required value": (
        {"customers.csv": csv(CUSTOMERS, "C1,,SMB,US,Paid Ads,true")},
        (
            "customers.csv, row 1, column 'signup_date': "
            "blank value in a column that must be filled",
        ),
    ),
    "empty file": (
        {"customers.csv": b""},
        ("customers.csv: the file is empty (0 bytes)",),
    ),
    "non-UTF-8 bytes": (
        {
            "customers.csv": csv(CUSTOMERS, "C1,2023-01-05,SMB,US,Paid Ads,true").encode()
            + LATIN_1_ROW
        },
        (
            "customers.csv, row 2: the file is not UTF-8 text: invalid byte at line 3 "
            f"(byte offset {BAD_BYTE_OFFSET}); expected UTF-8 text",
            r"got 'Cura\\xe7ao'",  # the cell holding the bad byte, not its whole line
        ),
    ),
    "header only": (
        {"customers.csv": csv(CUSTOMERS)},
        ("customers.csv: no data rows: the file has a header but no rows",),
    ),
    "wrong number of values": (
        {
            "payments.csv": csv(
                PAYMENTS, "P1,C1,2023-01-05,49,Success,extra", "P2,C1,2023-02-05,-1,Success"
            )
        },
        (
            "payments.csv, row 1: wrong number of values in the row; expected 5 values, one per "
            "header column, got '6 values on line 2'",  # the row's text is not echoed
            # the skipped row still counts, so the next row keeps its number
            "payments.csv, row 2, column 'amount': value out of range",
        ),
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_changes_nothing(loaded: AppContext, tmp_path: Path, case: str) -> None:
    files, expected = BAD_INPUTS[case]
    folder = write_files(tmp_path / "bad", files)
    before = warehouse_state(loaded)
    runs_before = len(loaded.store.load_history())

    with pytest.raises(ValidationFailed) as info:
        load_paths(loaded, [folder], mode="append" if case == "duplicate ids" else "replace")

    text = str(info.value)
    for fragment in expected:
        assert fragment in text, f"{fragment!r} not in:\n{text}"
    assert str(folder) in text  # the file is named with its path
    assert warehouse_state(loaded) == before
    history = loaded.store.load_history()
    assert len(history) == runs_before + 1
    assert history[0]["status"] == "failed"
    assert history[0]["message"] == info.value.report()


def test_every_problem_of_a_file_is_listed(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "bad",
        {
            "customers.csv": csv(CUSTOMERS)
            + "C1,2023-13-01,SMB,US,Paid Ads,true\n"
            + "C2,2023-01-01,Startup,US,Paid Ads,true\n"
            + "C3,2023-01-01,SMB,US,Billboard,maybe\n"
        },
    )

    with pytest.raises(ValidationFailed) as info:
        load_paths(ctx, [folder])

    found = {(p.row, p.column) for p in info.value.problems}
    assert found >= {
        (1, "signup_date"),
        (2, "segment"),
        (3, "acquisition_channel"),
        (3, "is_active"),
    }
    assert info.value.total == 4


def test_problems_are_capped_with_total_and_counts(tmp_path: Path) -> None:
    ctx = AppContext(
        Settings(home=tmp_path / "home", warehouse_url=None, database_url=None, max_problems=5)
    )
    rows = "".join(f"C{i},2023-01-01,Startup,US,Organic,true\n" for i in range(40))
    rows += "".join(f"D{i},not-a-date,SMB,US,Organic,true\n" for i in range(30))
    folder = write_files(tmp_path / "bad", {"customers.csv": csv(CUSTOMERS) + rows})

    with pytest.raises(ValidationFailed) as info:
        load_paths(ctx, [folder])
    ctx.close()

    error = info.value
    assert error.total == 70 and len(error.problems) == 5
    # Both kinds are shown although the first has more rows than the cap.
    assert {p.column for p in error.problems} == {"segment", "signup_date"}
    file = folder / "customers.csv"
    assert error.counts == {
        f"{file}, column 'segment': unknown value": 40,
        f"{file}, column 'signup_date': not a valid date": 30,
    }
    report = error.report()
    assert "… and 65 more." in report and "Problems by kind:" in report


def test_foreign_keys_are_checked_against_the_warehouse(loaded: AppContext, tmp_path: Path) -> None:
    # deals.account_id may be blank (a prospect); C1 is a customer loaded before.
    header = "deal_id,owner,stage,amount,created_date,account_id,expected_close_date,closed_date\n"
    deals = write_files(
        tmp_path / "deals",
        {
            "deals.csv": header
            + "D1,ann,Prospecting,100,2023-01-01,C1,,\nD2,bob,Proposal,50,2023-01-01,,,\n"
        },
    )

    assert load_paths(loaded, [deals]).tables == {"deals": 2}


def test_customers_table_is_required(ctx: AppContext, brief: Path) -> None:
    with pytest.raises(ValidationFailed) as info:
        load_paths(ctx, [brief / "costs.csv"])

    assert "table customers is not loaded: it is the one table every load needs" in str(info.value)


def test_orphan_when_referenced_table_is_not_loaded(ctx: AppContext, brief: Path) -> None:
    # Subscriptions arrive before any customers exist anywhere: every row is an orphan.
    with pytest.raises(ValidationFailed) as info:
        load_paths(ctx, [brief / "subscriptions.csv"])

    problems = [p for p in info.value.problems if p.column == "customer_id"]
    assert [p.row for p in problems] == [1, 2, 3]
    assert "table customers is not loaded" in problems[0].message


def test_replacing_a_table_cannot_orphan_loaded_rows(loaded: AppContext, tmp_path: Path) -> None:
    fewer = write_files(
        tmp_path / "fewer",
        {"customers.csv": csv(CUSTOMERS) + "C1,2023-01-05,SMB,US,Paid Ads,true\n"},
    )
    before = warehouse_state(loaded)

    with pytest.raises(ValidationFailed) as info:
        load_paths(loaded, [fewer])

    text = str(info.value)
    assert "table subscriptions, already loaded and not in this load" in text
    assert "got 'C2'" in text and "got 'C3'" in text
    assert warehouse_state(loaded) == before
    # Appending the same file keeps the other customers, so nothing is orphaned.
    load_paths(loaded, [fewer], mode="append")


def test_a_parent_with_problems_does_not_flood_its_children(
    ctx: AppContext, brief: Path, tmp_path: Path
) -> None:
    folder = write_files(tmp_path / "in", {**BRIEF_001, "customers.csv": csv(CUSTOMERS)})

    with pytest.raises(ValidationFailed) as info:
        load_paths(ctx, [folder])

    assert info.value.total == 1  # header-only customers; its children are not all orphans


def test_parquet_problems_name_file_row_column(
    ctx: AppContext, brief: Path, tmp_path: Path
) -> None:
    load_paths(ctx, [brief])
    folder = tmp_path / "pq"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "payment_id": ["P8", "P9"],
                "customer_id": ["C1", "C2"],
                "payment_date": pa.array([0, 86_400_000_000 + 3_600_000_000], pa.timestamp("us")),
                "amount": [1.5, -2.0],
                "payment_status": ["Success", "Success"],
            }
        ),
        folder / "payments.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "month": [1, 2],
                "infra_cost": [1.0, 2.0],
                "marketing_cost": [1.0, 2.0],
                "support_cost": [True, False],
            }
        ),
        folder / "costs.parquet",
    )

    with pytest.raises(ValidationFailed) as info:
        load_paths(ctx, [folder])

    text = str(info.value)
    assert (
        "payments.parquet, row 2, column 'payment_date': not a valid date; "
        "expected a date YYYY-MM-DD, got '1970-01-02 01:00:00'" in text
    )
    assert (
        "payments.parquet, row 2, column 'amount': value out of range; "
        "expected a number ≥ 0, got '-2.0'" in text
    )
    assert (
        "costs.parquet, column 'month': column has the wrong type; "
        "expected a month YYYY-MM, got 'Int64 values'" in text
    )
    assert "costs.parquet, column 'support_cost': column has the wrong type" in text


def test_not_a_parquet_file(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "in", {"customers.parquet": b"PAR1 this is not really parquet"})

    with pytest.raises(
        ValidationFailed, match=r"customers.parquet: cannot read the file as Parquet"
    ):
        load_paths(ctx, [folder])


def test_missing_path_is_reported(ctx: AppContext, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match=r"nowhere.csv: file or folder not found"):
        load_paths(ctx, [tmp_path / "nowhere.csv"])
    assert ctx.store.load_history()[0]["files"] == [str(tmp_path / "nowhere.csv")]


# -- atomicity ------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["place", "fsync", "pointer"])
def test_interrupted_commit_leaves_current_untouched(
    loaded: AppContext, brief: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    import revintel.warehouse.parquet as warehouse_module

    before = warehouse_state(loaded)
    snapshots_before = sorted(
        p.name for p in (loaded.settings.warehouse_dir / "snapshots").iterdir()
    )

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    if step == "place":  # after the first table is in the new snapshot
        real_place = warehouse_module.ParquetWarehouse._place
        calls: list[int] = []

        def place_then_interrupt(files: Any, target: Path, *, move: bool) -> None:
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            real_place(files, target, move=move)

        monkeypatch.setattr(
            warehouse_module.ParquetWarehouse, "_place", staticmethod(place_then_interrupt)
        )
    elif step == "fsync":
        monkeypatch.setattr(warehouse_module, "_fsync_tree", interrupt)
    else:  # after the new snapshot is renamed into place, before CURRENT is replaced
        real_fsync_file = warehouse_module._fsync_file

        def fsync_then_interrupt(path: Path) -> None:
            if path.name.startswith(".CURRENT-"):
                raise KeyboardInterrupt
            real_fsync_file(path)

        monkeypatch.setattr(warehouse_module, "_fsync_file", fsync_then_interrupt)

    with pytest.raises(KeyboardInterrupt):
        load_paths(loaded, [brief])

    monkeypatch.undo()
    assert warehouse_state(loaded) == before
    snapshots = loaded.settings.warehouse_dir / "snapshots"
    assert sorted(p.name for p in snapshots.iterdir() if p.name.startswith(".")) == []
    assert set(snapshots_before) <= {p.name for p in snapshots.iterdir()}
    last = loaded.store.load_history()[0]
    assert last["status"] == "failed" and "interrupted" in last["message"]
    # The next load works and sees the same data.
    load_paths(loaded, [brief])
    assert warehouse_state(loaded)["tables"] == before["tables"]


def test_a_failing_commit_is_recorded(
    loaded: AppContext, brief: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, staged: object, mode: str = "replace") -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(loaded.warehouse), "commit", broken)
    with pytest.raises(OSError):
        load_paths(loaded, [brief])

    last = loaded.store.load_history()[0]
    assert last["status"] == "failed" and "No space left on device" in last["message"]


# -- size -----------------------------------------------------------------------------------------


def _write_big_payments(path: Path, rows: int, customers: int) -> None:
    rng = np.random.default_rng(7)
    frame = pl.DataFrame(
        {
            "payment_id": [f"PAY-{i:09d}" for i in range(rows)],
            "customer_id": [f"C{i % customers}" for i in range(rows)],
            "payment_date": (np.datetime64("2023-01-01") + rng.integers(0, 900, rows)).astype(
                "datetime64[D]"
            ),
            "amount": np.round(rng.random(rows) * 1000, 2),
            "payment_status": np.where(rng.random(rows) < 0.05, "Failed", "Success"),
            "invoice_id": [f"INV-{i // 2:09d}" for i in range(rows)],
            "due_date": (np.datetime64("2023-01-01") + rng.integers(0, 900, rows)).astype(
                "datetime64[D]"
            ),
        }
    )
    # Two planted problems far apart: a negative amount near the end, and a payment id that
    # repeats one from the first rows (only a check across batches can see it).
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == rows - 3)
        .then(-5.0)
        .otherwise(pl.col("amount"))
        .alias("amount"),
        pl.when(pl.int_range(pl.len()) == rows - 1)
        .then(pl.lit("PAY-000000004"))
        .otherwise(pl.col("payment_id"))
        .alias("payment_id"),
    )
    frame.write_csv(path)


def test_a_50_mb_csv_is_streamed_in_batches(loaded: AppContext, tmp_path: Path) -> None:
    customers = write_files(
        tmp_path / "c",
        {
            "customers.csv": csv(CUSTOMERS)
            + "".join(f"C{i},2023-01-01,SMB,US,Organic,true\n" for i in range(500))
        },
    )
    load_paths(loaded, [customers], mode="append")
    big = tmp_path / "big" / "payments.csv"
    big.parent.mkdir()
    rows = 760_000
    _write_big_payments(big, rows, customers=500)
    assert big.stat().st_size > 50_000_000
    batches: list[LoadProgress] = []

    with pytest.raises(ValidationFailed) as info:
        load_paths(loaded, [big], progress=batches.append)

    # Read in several batches, never whole; row numbers stay right across batch boundaries.
    assert len(batches) >= 3
    assert batches[-1].rows == rows
    text = str(info.value)
    assert info.value.total == 2
    assert f"row {rows - 2}, column 'amount': value out of range" in text
    assert (
        f"row {rows}, column 'payment_id': duplicate payment_id; expected a payment_id not "
        f"used by another row (row 5 of {big} has it too), got 'PAY-000000004'" in text
    )


def test_a_large_clean_csv_loads(
    loaded: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small block size makes a modest file span many batches and staging parts.
    monkeypatch.setattr(importer, "CSV_BLOCK_BYTES", 64 << 10)
    path = tmp_path / "big" / "payments.csv"
    path.parent.mkdir()
    rows = 20_000
    frame = pl.DataFrame(
        {
            "payment_id": [f"P{i}" for i in range(rows)],
            "customer_id": ["C1", "C2", "C3"] * (rows // 3) + ["C1"] * (rows % 3),
            "payment_date": ["2023-01-05"] * rows,
            "amount": [1.25] * rows,
            "payment_status": ["Success"] * rows,
        }
    )
    frame.write_csv(path)
    seen: list[LoadProgress] = []

    result = load_paths(loaded, [path], progress=seen.append)

    assert len(seen) > 5
    assert result.tables == {"payments": rows}
    assert loaded.warehouse.row_counts()["payments"] == rows
    total = loaded.warehouse.table("payments").amount.sum().execute()
    assert total == pytest.approx(1.25 * rows)


def test_loading_module_exposes_required_api() -> None:
    import inspect

    params = inspect.signature(loading.load_paths).parameters
    assert list(params)[:5] == ["ctx", "paths", "table", "mode", "source"]
    assert params["mode"].default == "replace" and params["source"].default == "cli"
    assert list(inspect.signature(loading.validate_paths).parameters)[:3] == [
        "ctx",
        "paths",
        "table",
    ]


# -- hostile and odd input (issue 25) -------------------------------------------------------------


def _problems(ctx: AppContext, paths: list[Path], **options: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        load_paths(ctx, paths, **options)
    return info.value


def test_a_header_field_over_128_kib_is_a_problem(loaded: AppContext, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "in",
        {"customers.csv": csv(CUSTOMERS + ",x" + "y" * (200 << 10), "C1,2023-01-05,SMB,US,x,1,2")},
    )
    before = warehouse_state(loaded)

    error = _problems(loaded, [folder])

    (problem,) = error.problems
    assert (problem.file, problem.row) == (str(folder / "customers.csv"), 0)
    assert problem.message.startswith("cannot read the header line as CSV (field larger than")
    assert "y" * 100 not in str(error)
    assert warehouse_state(loaded) == before


def test_a_header_line_over_1_mib_is_a_problem(ctx: AppContext, tmp_path: Path) -> None:
    names = ",".join(f"c{i:07d}" for i in range(120_000))  # 1.08 MB of short names
    folder = write_files(tmp_path / "in", {"customers.csv": csv(CUSTOMERS + "," + names)})

    (problem,) = _problems(ctx, [folder]).problems

    assert problem.message == "the header line is longer than 1,048,576 bytes" and problem.row == 0


def test_a_csv_pyarrow_cannot_parse_is_a_problem(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CSV_BLOCK_BYTES", 1024)  # a row longer than a block
    row = f'C2,2023-01-05,SMB,US,Paid Ads,true,"{"x" * 5000}"'
    folder = write_files(
        tmp_path / "in",
        {
            "customers.csv": csv(
                CUSTOMERS + ",company_name", "C1,2023-01-05,SMB,US,Paid Ads,true,", row
            )
        },
    )

    (problem,) = _problems(ctx, [folder]).problems

    assert problem.file == str(folder / "customers.csv")
    assert problem.message == "cannot read the file as CSV (a row longer than 1,024 bytes)"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_nul_in_a_text_value_is_refused_with_row_and_column(
    ctx: AppContext, tmp_path: Path, fmt: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    frame = pl.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "signup_date": ["2023-01-05", "2023-01-06"],
            "segment": ["SMB", "SMB"],
            "country": ["US", "D\x00E"],
            "acquisition_channel": ["Organic", "Organic"],
        }
    )
    path = folder / f"customers.{fmt}"
    frame.write_csv(path) if fmt == "csv" else frame.write_parquet(path)

    error = _problems(ctx, [folder])

    (problem,) = error.problems
    assert (problem.file, problem.row, problem.column, problem.got) == (
        str(path),
        2,
        "country",
        "D\x00E",
    )
    assert "NUL character" in problem.message
    assert ctx.warehouse.list_tables() == []


def test_a_cell_over_the_size_cap_is_refused(ctx: AppContext, tmp_path: Path) -> None:
    big = "x" * (100 << 10)  # over the 64 KiB default
    folder = write_files(
        tmp_path / "in",
        {
            "customers.csv": csv(
                CUSTOMERS,
                "C1,2023-01-05,SMB,US,Paid Ads,true",
                f'C2,2023-01-05,SMB,"{big}",Organic,true',
            )
        },
    )

    (problem,) = _problems(ctx, [folder]).problems

    assert (problem.row, problem.column, problem.got) == (2, "country", "102,400 bytes")
    assert problem.message == "value too long to store"
    assert problem.expected == ("at most 65,536 bytes per value (setting REVINTEL_MAX_CELL_BYTES)")


def test_the_cell_size_cap_is_a_setting(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", warehouse_url=None, database_url=None, max_cell_bytes=2048
    )
    ctx = AppContext(settings)
    folder = write_files(
        tmp_path / "in",
        {
            "customers.csv": csv(
                CUSTOMERS + ",company_name", f"C1,2023-01-05,SMB,US,Paid Ads,true,{'x' * 3000}"
            )
        },
    )

    (problem,) = _problems(ctx, [folder]).problems
    ctx.close()

    assert (problem.column, problem.got) == ("company_name", "3,000 bytes")


def test_ids_are_trimmed_so_padded_duplicates_are_found(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "in",
        {
            "customers.csv": csv(
                CUSTOMERS,
                "CUS-0000001,2023-01-05,SMB,US,Paid Ads,true",
                " CUS-0000001 ,2023-01-05,SMB,US,Paid Ads,true",
            )
        },
    )

    (problem,) = _problems(ctx, [folder]).problems

    assert (problem.row, problem.column, problem.message) == (
        2,
        "customer_id",
        "duplicate customer_id",
    )


def test_trimmed_ids_load_with_a_warning_in_the_report(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "in",
        {
            "customers.csv": csv(
                CUSTOMERS,
                "C1,2023-01-05,SMB,US,Paid Ads,true",
                "\tC2 ,2023-01-05,SMB, DE ,Paid Ads,true",
            ),
            "payments.csv": csv(PAYMENTS, " P1,C2  ,2023-01-05,49,Success"),
        },
    )

    result = load_paths(ctx, [folder])

    ids = ctx.warehouse.table("customers").customer_id.to_pyarrow().to_pylist()
    assert sorted(ids) == ["C1", "C2"]
    countries = sorted(ctx.warehouse.table("customers").country.to_pyarrow().to_pylist())
    assert countries == [" DE ", "US"]  # only ids and keys are trimmed
    payment = ctx.warehouse.table("payments").to_pyarrow().to_pylist()[0]
    assert (payment["payment_id"], payment["customer_id"]) == ("P1", "C2")
    notes = {(Path(w.file).name, w.column, w.row, w.got) for w in result.warnings}
    assert notes == {
        ("customers.csv", "customer_id", 2, "\tC2 "),
        ("payments.csv", "payment_id", 1, " P1"),
        ("payments.csv", "customer_id", 1, "C2  "),
    }
    assert all(
        "1 value(s) had spaces around them and were trimmed" in w.message for w in result.warnings
    )
    assert result.as_dict()["warnings"][0].startswith(f"{folder / 'customers.csv'}, row 2")
    message = ctx.store.load_history()[0]["message"]
    assert message.count("warning: ") == 3 and "were trimmed" in message


def test_implausible_dates_load_with_a_warning_naming_rows(ctx: AppContext, tmp_path: Path) -> None:
    rows = [f"C{i},2023-01-05,SMB,US,Paid Ads,true" for i in range(1, 9)]
    rows[1] = "C2,9999-01-05,SMB,US,Paid Ads,true"
    rows[4] = "C5,1900-01-01,SMB,US,Paid Ads,true"
    folder = write_files(tmp_path / "in", {"customers.csv": csv(CUSTOMERS, *rows)})

    result = load_paths(ctx, [folder])

    assert result.tables == {"customers": 8}
    (warning,) = result.warnings
    assert (warning.column, warning.row, warning.got) == ("signup_date", 2, "9999-01-05")
    assert warning.message == "2 implausible date(s), loaded as they are (rows 2, 5)"
    assert warning.expected is not None and warning.expected.startswith("a date from 1990-01-01")


def test_the_root_cause_is_listed_first(tmp_path: Path) -> None:
    """Order: by file, then stage (file, structure, value, key, reference), then row; repeats
    of a key at the row that holds it first."""
    settings = Settings(home=tmp_path / "home", warehouse_url=None, database_url=None)
    ctx = AppContext(settings.model_copy(update={"max_problems": 12}))
    rows = [f"C{i},2023-01-05,Startup,US,Paid Ads,true" for i in range(1, 11)]  # bad segments
    rows += ["C11,2023-01-05,SMB,US"]  # row 11: ragged
    rows += ["C5,2023-01-05,SMB,US,Paid Ads,true", "C1,2023-01-05,SMB,US,Paid Ads,true"]
    folder = write_files(
        tmp_path / "in",
        {
            "customers.csv": csv(CUSTOMERS, *rows),
            "payments.csv": csv(PAYMENTS, "P1,C11,2023-01-05,1,Success"),
        },
    )

    error = _problems(ctx, [folder])
    ctx.close()

    shown = [(Path(p.file).name, p.row, p.message.split(";")[0]) for p in error.problems]
    assert shown[0] == ("customers.csv", 11, "wrong number of values in the row")
    assert shown[1:9] == [("customers.csv", r, "unknown value") for r in range(1, 9)]
    assert shown[9:11] == [
        ("customers.csv", 13, "duplicate customer_id"),  # C1, first held by row 1
        ("customers.csv", 12, "duplicate customer_id"),  # C5, first held by row 5
    ]
    assert shown[11][0] == "payments.csv" and "orphan" in shown[11][2]


def test_a_symlink_to_a_file_outside_the_folder_is_refused(ctx: AppContext, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = write_files(tmp_path / "in", {"payments.csv": csv(PAYMENTS)})
    (folder / "customers.csv").symlink_to(secret)

    error = _problems(ctx, [folder])

    assert "root:x" not in str(error)
    assert error.problems[0].file == str(folder / "customers.csv")
    assert "a symbolic link to a file outside" in error.problems[0].message


def test_a_symlink_given_as_a_file_is_refused(ctx: AppContext, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    link = tmp_path / "customers.csv"
    link.symlink_to(secret)

    (problem,) = _problems(ctx, [link]).problems

    assert problem.file == str(link) and "a symbolic link" in problem.message
    assert "root:x" not in str(problem)


def test_a_symlink_inside_the_folder_is_followed(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "in", {"data/customers-2024.csv": BRIEF_001["customers.csv"]})
    (folder / "customers.csv").symlink_to(folder / "data" / "customers-2024.csv")

    assert load_paths(ctx, [folder]).tables == {"customers": 3}


def test_a_file_that_is_not_a_table_is_not_echoed(ctx: AppContext, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "in",
        {"customers.csv": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin\n"},
    )

    error = _problems(ctx, [folder])

    (problem,) = error.problems
    assert "names no column of table 'customers'" in problem.message
    assert "root:x" not in str(error) and "daemon" not in str(error)


@pytest.mark.postgres
def test_a_nul_is_refused_before_the_postgres_warehouse_is_touched(
    tmp_path: Path, postgres_databases: Any
) -> None:
    url = postgres_databases()
    settings = Settings(home=tmp_path / "home", warehouse_url=url, database_url=None)
    ctx = AppContext(settings)
    brief = write_files(tmp_path / "brief", dict(BRIEF_001))
    load_paths(ctx, [brief])
    before = warehouse_state(ctx)
    folder = write_files(
        tmp_path / "in", {"customers.csv": csv(CUSTOMERS, "C1,2023-01-05,SMB,U\x00S,Paid Ads,true")}
    )

    (problem,) = _problems(ctx, [folder], mode="append").problems

    assert (problem.row, problem.column, problem.got) == (1, "country", "U\x00S")
    assert warehouse_state(ctx) == before
    ctx.close()
