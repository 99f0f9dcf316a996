"""The importer's parts: parsing cells, reading files in batches, problems, keys across batches."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from revintel.core.errors import Problem
from revintel.data import importer
from revintel.data.importer import (
    FileReader,
    ProblemLog,
    SourceFile,
    TableValidator,
    find_invalid_utf8,
    normalise_column_name,
    parse_frame,
)
from revintel.data.schema import contract_for


def parse(table: str, **columns: list[object]) -> tuple[pl.DataFrame, dict[str, list[int]]]:
    """Parse text cells of ``table``'s columns; failed cells as column -> row indices."""
    raw = pl.DataFrame(
        {name: pl.Series(values, dtype=pl.String) for name, values in columns.items()}
    )
    frame, failed = parse_frame(raw, contract_for(table))
    return frame, {name: indices.tolist() for name, indices in failed.items()}


def read_all(path: Path, table: str, log: ProblemLog | None = None) -> list[importer.Batch]:
    reader = FileReader(SourceFile(path, contract_for(table), "csv"), log or ProblemLog(50))
    return list(reader.batches())


# -- parsing cells --------------------------------------------------------------------------------


def test_numbers_parse_leniently_and_report_the_rest() -> None:
    frame, failed = parse(
        "subscriptions",
        seats=["3", " 4 ", "5.0", "5.5", "", "NULL", "seven", None],
        monthly_price=["49", "49.90", " 1e3", "-0", "inf", "nan", "1,5", "$4"],
    )

    assert frame["seats"].to_list() == [3, 4, 5, None, None, None, None, None]
    assert frame["monthly_price"].to_list()[:4] == [49.0, 49.9, 1000.0, -0.0]
    # "nan" reads as blank (as pandas writes it); infinity, decimal commas and currency don't parse
    assert failed == {"seats": [3, 6], "monthly_price": [4, 6, 7]}
    assert frame.schema["seats"] == pl.Int64 and frame.schema["monthly_price"] == pl.Float64


def test_booleans_accept_common_spellings() -> None:
    frame, failed = parse(
        "customers", is_active=["true", "False", "TRUE", "1", "0", "yes", " No ", "Y", "maybe"]
    )

    assert frame["is_active"].to_list() == [True, False, True, True, False, True, False, True, None]
    assert failed == {"is_active": [8]}


def test_dates_are_iso_only() -> None:
    frame, failed = parse(
        "customers",
        signup_date=[
            "2024-01-31",
            " 2024-02-01",
            "2024-03-01 00:00:00",
            "2024-02-30",
            "01/02/2024",
            "2024-03-01 10:30:00",
            "20240301",
        ],
    )

    assert frame["signup_date"].to_list() == [
        date(2024, 1, 31),
        date(2024, 2, 1),
        date(2024, 3, 1),  # a date-time at midnight is a date
        None,
        None,  # day-first or month-first: ambiguous, never guessed
        None,  # a time of day is not a date
        date(2024, 3, 1),  # ISO basic format
    ]
    assert failed == {"signup_date": [3, 4, 5]}


def test_date_times_are_iso_and_stored_in_utc() -> None:
    frame, failed = parse(
        "support_tickets",
        opened_at=[
            "2024-01-05 10:00:00",
            "2024-01-05T10:00",
            "2024-01-05T10:00:00Z",
            "2024-01-05T12:00:00+02:00",
            "2024-01-05",
            "5 Jan 2024",
            "2024-01-05 10:00:00.250",
        ],
    )

    assert frame["opened_at"].to_list() == [
        datetime(2024, 1, 5, 10),
        datetime(2024, 1, 5, 10),
        datetime(2024, 1, 5, 10),
        datetime(2024, 1, 5, 10),
        datetime(2024, 1, 5),
        None,
        datetime(2024, 1, 5, 10, 0, 0, 250_000),
    ]
    assert failed == {"opened_at": [5]}
    assert frame.schema["opened_at"] == pl.Datetime("us")


def test_months_and_text() -> None:
    frame, failed = parse(
        "costs",
        month=["2024-01", "2024-12", "2024-13", "2024-1", "Jan 2024", ""],
    )

    assert frame["month"].to_list() == ["2024-01", "2024-12", None, None, None, None]
    assert failed == {"month": [2, 3, 4]}
    text, failed_text = parse("customers", country=["US", "", "NULL"])
    assert text["country"].to_list() == ["US", None, "NULL"]  # text is kept as written
    assert failed_text == {}


def test_typed_parquet_columns_are_cast_or_reported() -> None:
    raw = pl.DataFrame(
        {
            "seats": pl.Series([1.0, 2.5, None, float("nan")], dtype=pl.Float64),
            "monthly_price": pl.Series([1, 2, 3, 4], dtype=pl.Int16),
            "start_date": pl.Series(
                [datetime(2024, 1, 1), datetime(2024, 1, 1, 5), None, datetime(2024, 2, 1)],
                dtype=pl.Datetime("ns", "Europe/Paris"),
            ),
        }
    )

    frame, failed = parse_frame(raw, contract_for("subscriptions"))

    assert frame["seats"].to_list() == [1, None, None, None]
    assert frame["monthly_price"].to_list() == [1.0, 2.0, 3.0, 4.0]
    # Wall-clock dates: a timestamp at local midnight is that date; 05:00 is not a date.
    assert frame["start_date"].to_list() == [date(2024, 1, 1), None, None, date(2024, 2, 1)]
    assert {k: v.tolist() for k, v in failed.items()} == {"seats": [1], "start_date": [1]}


def test_column_names_match_loosely() -> None:
    assert normalise_column_name("\ufeff Customer ID ") == "customer_id"
    assert normalise_column_name("Payment-Status") == "payment_status"


# -- reading files --------------------------------------------------------------------------------


def test_header_is_matched_loosely_and_delimiter_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(
        "\ufeffCustomer ID;Signup Date;Segment;Country;Acquisition Channel\r\n"
        'C1;2024-01-05;SMB;"US";Organic\r\n'.encode()
    )

    (batch,) = read_all(path, "customers")

    assert batch.frame.columns == [
        "customer_id",
        "signup_date",
        "segment",
        "country",
        "acquisition_channel",
    ]
    assert batch.frame.row(0) == ("C1", date(2024, 1, 5), "SMB", "US", "Organic")


def test_quoted_values_may_hold_commas_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "nps_responses.csv"
    path.write_text(
        "response_id,account_id,response_date,score,comment\n"
        'R1,C1,2024-01-05,9,"Great, really\ngreat"\n'
        "R2,C1,2024-01-06,11,\n"
    )
    log = ProblemLog(10)
    validator = TableValidator(contract_for("nps_responses"), log)

    for batch in read_all(path, "nps_responses", log):
        validator.check(batch)

    assert batch.frame["comment"].to_list() == ["Great, really\ngreat", None]
    assert [(p.row, p.column, p.got) for p in log.shown()] == [(2, "score", "11")]


def test_a_file_is_read_in_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "CSV_BLOCK_BYTES", 4096)
    path = tmp_path / "costs.csv"
    months = [f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(2400)]
    path.write_text(
        "month,infra_cost,marketing_cost,support_cost\n" + "".join(f"{m},1,2,3\n" for m in months)
    )

    batches = read_all(path, "costs")

    assert len(batches) > 3
    assert sum(b.height for b in batches) == 2400
    assert [b.start for b in batches] == list(np.cumsum([0] + [b.height for b in batches[:-1]]))
    assert pl.concat([b.frame for b in batches])["month"].to_list() == months


def test_row_numbers_count_skipped_malformed_rows(tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_text(
        "payment_id,customer_id,payment_date,amount,payment_status\n"
        "P1,C1,2024-01-01,1,Success\n"
        "P2,C1,2024-01-01,1\n"  # row 2: a value short
        "P3,C1,2024-01-01,1,Success,x\n"  # row 3: a value too many
        "P4,C1,2024-01-01,-1,Success\n"  # row 4
    )
    log = ProblemLog(10)

    (batch,) = read_all(path, "payments", log)

    assert batch.height == 2
    assert batch.rows(np.array([0, 1])).tolist() == [1, 4]
    # The row's text is not quoted (no content beyond an offending cell is echoed).
    assert [(p.row, p.expected, p.got) for p in log.shown()] == [
        (2, "5 values, one per header column", "4 values on line 3"),
        (3, "5 values, one per header column", "6 values on line 4"),
    ]


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    # A valid 3-byte character straddles the 1 MiB read boundary; the bad byte comes later.
    prefix = b"a" * ((1 << 20) - 1) + "€".encode() + b"\nline two\nbad \xff here\n"
    path.write_bytes(prefix)

    assert find_invalid_utf8(path) == (3, (1 << 20) - 1 + 3 + 1 + 9 + 4, r"bad \xff here")
    path.write_bytes(b"fine\n" + "é".encode())
    assert find_invalid_utf8(path) is None
    path.write_bytes(b"ends mid-character \xe2\x82")
    assert find_invalid_utf8(path) == (1, 19, r"ends mid-character \xe2\x82")


# -- problems -------------------------------------------------------------------------------------


def test_problem_log_caps_examples_but_counts_everything() -> None:
    log = ProblemLog(4)
    log.register("b.csv")
    log.add_rows(
        "a.csv", "unknown value", rows=np.arange(1, 101), column="segment", got=lambda k: ["x"] * k
    )
    log.add_rows("a.csv", "not a valid date", rows=np.array([7, 9]), column="signup_date")
    log.add(Problem("b.csv", "the file is empty (0 bytes)"))

    shown = log.shown()
    assert log.total == 103 and len(shown) == 4
    # Round-robin across kinds; files in registration order, then by row.
    assert [(p.file, p.row, p.column) for p in shown] == [
        ("b.csv", None, None),
        ("a.csv", 1, "segment"),
        ("a.csv", 2, "segment"),
        ("a.csv", 7, "signup_date"),
    ]
    assert log.counts == {
        "a.csv, column 'segment': unknown value": 100,
        "a.csv, column 'signup_date': not a valid date": 2,
        "b.csv: the file is empty (0 bytes)": 1,
    }
    assert log.by_file == {"a.csv": 102, "b.csv": 1}
    assert [p.row for p in log.shown("a.csv")] == [1, 2, 7, 9]
    error = log.error()
    assert error.total == 103 and "… and 99 more." in error.report()


# -- keys across batches and files ----------------------------------------------------------------


def test_composite_key_duplicates_across_files_name_both_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "CSV_BLOCK_BYTES", 1024)
    header = "account_id,month,active_users,licensed_seats,logins,key_feature_adoption\n"
    first = tmp_path / "a" / "usage.csv"
    second = tmp_path / "b" / "usage.csv"
    first.parent.mkdir()
    second.parent.mkdir()
    rows = [f"C{i},2024-01,1,2,3,0.5\n" for i in range(200)]
    first.write_text(header + "".join(rows))
    # Same account, other month: fine. Same account and month as a row of the first file: not.
    second.write_text(header + "C1,2024-02,1,2,3,0.5\n" + "C150,2024-01,1,2,3,0.5\n")
    log = ProblemLog(10)
    validator = TableValidator(contract_for("usage"), log)

    for path in (first, second):
        reader = FileReader(SourceFile(path, contract_for("usage"), "csv"), log)
        for batch in reader.batches():
            validator.check(batch)
        validator.add_file(reader)
    validator.finish()

    assert log.total == 1
    (problem,) = log.shown()
    assert (problem.file, problem.row, problem.column, problem.got) == (
        str(second),
        2,
        "account_id, month",
        "C150, 2024-01",
    )
    assert problem.expected == (
        f"a account_id, month not used by another row (row 151 of {first} has it too)"
    )


def test_foreign_keys_are_checked_against_known_keys(tmp_path: Path) -> None:
    path = tmp_path / "payments.csv"
    path.write_text(
        "payment_id,customer_id,payment_date,amount,payment_status,subscription_id\n"
        "P1,C1,2024-01-01,1,Success,S1\n"
        "P2,C2,2024-01-01,1,Success,\n"  # blank subscription: allowed
        "P3,C3,2024-01-01,1,Success,S9\n"
    )
    customers = importer.KnownKeys(
        "customers", "customer_id", importer.key_hashes(pl.Series(["C1", "C2"])), loaded=True
    )
    subscriptions = importer.KnownKeys(
        "subscriptions", "subscription_id", importer.key_hashes(pl.Series(["S1"])), loaded=True
    )
    log = ProblemLog(10)
    validator = TableValidator(
        contract_for("payments"),
        log,
        references={"customer_id": customers, "subscription_id": subscriptions},
    )

    for batch in read_all(path, "payments", log):
        validator.check(batch)

    assert [(p.row, p.column, p.got) for p in log.shown()] == [
        (3, "customer_id", "C3"),
        (3, "subscription_id", "S9"),
    ]


def test_header_problems_are_all_listed(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,Customer ID,signup_date,segment,country,notes,\nC1,C1,,,,,\n")
    log = ProblemLog(10)

    assert read_all(path, "customers", log) == []

    assert [(p.column, p.message) for p in log.shown()] == [
        ("Customer ID", "column appears twice in the header"),
        ("notes", "unknown column for table 'customers'"),
        (None, "a column has no name in the header (a trailing delimiter?)"),
        ("acquisition_channel", "missing required column for table 'customers'"),
    ]


def test_problem_log_lists_causes_before_what_follows_from_them() -> None:
    log = ProblemLog(4)
    for row, column in enumerate(["segment", "country", "signup_date", "is_active"], start=1):
        log.add(Problem("a.csv", "unknown value", row=row, column=column))
    log.add(
        Problem("a.csv", "duplicate customer_id", 9, "customer_id"),
        stage=importer.Stage.KEY,
        anchor=("a.csv", 2),
    )
    log.add(
        Problem("a.csv", "wrong number of values in the row", row=7), stage=importer.Stage.STRUCTURE
    )

    shown = [(p.row, p.message) for p in log.shown()]

    # More kinds than room: the earliest stages are picked, and listed first.
    assert shown == [
        (7, "wrong number of values in the row"),
        (1, "unknown value"),
        (2, "unknown value"),
        (3, "unknown value"),
    ]
    log.limit = 10
    assert [p.row for p in log.shown()] == [7, 1, 2, 3, 4, 9]
